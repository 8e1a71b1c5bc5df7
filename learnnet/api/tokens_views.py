"""The account's API tokens: make one (shown once), see them with their last use,
revoke one. Every change is in the audit trail (the token is a tracked model)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from learnnet.access import USER, requires
from learnnet.api import services
from learnnet.api.forms import TokenForm
from learnnet.models import utcnow

bp = Blueprint("api_tokens", __name__)


def _expiry_message(code: str) -> str:
    return {
        "past": _("Choose a day after today."),
        "too_far": _("A key works at most a year; choose an earlier day."),
    }.get(code, _("Choose another day."))


def _networks_message(code: str) -> str:
    if code == "none":
        return _("Choose at least one network.")
    return _("Choose only networks you facilitate.")


@bp.route("/account/api-tokens", methods=["GET", "POST"])
@requires(USER)
def tokens() -> Any:
    """The list of the account's tokens and the form for a new one."""
    user = current_user._get_current_object()
    form = TokenForm()
    choosable = services.choosable_networks(user)
    form.networks.choices = [(n.id, n.name) for n in choosable]
    secret = None
    created = None
    if request.method == "POST" and form.validate_on_submit():
        try:
            token, secret = services.create_token(
                user,
                name=form.name.data or "",
                scope=form.scope.data or "",
                network_ids=form.networks.data or [],
                may_see_people=bool(form.may_see_people.data),
                expires_on=form.expires_on.data,
            )
        except services.TokenError as error:
            field = getattr(form, error.field)
            field.errors = [
                _expiry_message(error.code)
                if error.field == "expires_on"
                else _networks_message(error.code)
            ]
        else:
            form = TokenForm(formdata=None)
            form.networks.choices = [(n.id, n.name) for n in choosable]
            created = token
    elif request.method == "POST" and not form.networks.errors and not form.networks.data:
        form.networks.errors = [_networks_message("none")]
    mine = services.tokens_of(user)
    return render_template(
        "api/tokens.html",
        form=form,
        tokens=mine,
        last_days={t.id: services.last_day(t) for t in mine},
        secret=secret,
        created=created,
        now=utcnow(),
        has_networks=bool(choosable),
    )


@bp.route("/account/api-tokens/<int:token_id>/revoke", methods=["POST"])
@requires(USER)
def revoke(token_id: int) -> Any:
    """Revoke one of the account's own tokens; it stops working at once."""
    token = services.revoke_token(current_user._get_current_object(), token_id)
    if token is None:
        flash(_("This key is not one of yours."), "error")
    else:
        flash(_("The key '%(name)s' is revoked: it no longer works.", name=token.name), "success")
    return redirect(url_for("api_tokens.tokens"), code=303)
