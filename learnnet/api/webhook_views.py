"""The admin's webhook page: register endpoints (the secret shown once), pause or resume
them, read each one's delivery log and send a delivery again. Admins only: a webhook
carries events of every network. Every change is in the audit trail (the endpoint is a
tracked model, its secret left out)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from learnnet.access import ADMIN, requires
from learnnet.api import webhooks
from learnnet.api.forms import WebhookForm
from learnnet.api.models import WebhookDelivery, WebhookEndpoint
from learnnet.extensions import db

bp = Blueprint("api_webhooks", __name__)


def _production() -> bool:
    return current_app.config.get("ENV") == "production"


def _message(field: str, code: str) -> str:
    return {
        ("url", "malformed"): _("Give a full address that starts with https://."),
        ("url", "credentials"): _("Leave the user name and password out of the address."),
        ("url", "not_https"): _("Only https addresses: the events travel encrypted."),
        ("url", "unresolved"): _("This address cannot be found; check it for typing errors."),
        ("url", "private_address"): _(
            "This address points into a private network; learnnet only sends to public ones."
        ),
        ("events", "none"): _("Choose at least one event."),
    }.get(
        (field, code),
        _("A secret starts with whsec_ followed by 24 to 64 bytes in base64; or leave it empty."),
    )


@bp.route("/admin/webhooks", methods=["GET", "POST"])
@requires(ADMIN)
def endpoints() -> Any:
    """The endpoints, and the form for a new one."""
    form = WebhookForm()
    secret = created = None
    if form.validate_on_submit():
        try:
            created, secret = webhooks.create_endpoint(
                form.url.data or "",
                list(form.events.data or []),
                form.secret.data or "",
                current_user.id,
                _production(),
            )
        except webhooks.EndpointError as error:
            getattr(form, error.field).errors = [_message(error.field, error.code)]
        else:
            form = WebhookForm(formdata=None)
    return render_template(
        "api/webhooks.html",
        form=form,
        endpoints=webhooks.endpoints(),
        secret=secret,
        created=created,
        production=_production(),
    )


def _endpoint(webhook_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, webhook_id)
    if endpoint is None:
        abort(404)
    return endpoint


@bp.route("/admin/webhooks/<int:webhook_id>")
@requires(ADMIN)
def log(webhook_id: int) -> Any:
    """One endpoint's delivery log: status, response code, attempts."""
    endpoint = _endpoint(webhook_id)
    return render_template(
        "api/webhook_log.html", endpoint=endpoint, deliveries=webhooks.delivery_log(endpoint)
    )


@bp.route("/admin/webhooks/<int:webhook_id>/active", methods=["POST"])
@requires(ADMIN)
def toggle(webhook_id: int) -> Any:
    """Pause an endpoint (it gets no new events) or resume it."""
    endpoint = _endpoint(webhook_id)
    webhooks.set_active(endpoint, not endpoint.active)
    if endpoint.active:
        flash(_("The endpoint gets events again."), "success")
    else:
        flash(_("The endpoint is paused: it gets no new events."), "success")
    return redirect(url_for("api_webhooks.endpoints"), code=303)


@bp.route("/admin/webhooks/deliveries/<int:delivery_id>/send-again", methods=["POST"])
@requires(ADMIN)
def send_again(delivery_id: int) -> Any:
    """Queue a delivery anew, with its event id (the receiver can drop a duplicate)."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        abort(404)
    webhooks.send_again(delivery)
    flash(_("The event is queued again; it goes out within a minute."), "success")
    return redirect(url_for("api_webhooks.log", webhook_id=delivery.endpoint_id), code=303)
