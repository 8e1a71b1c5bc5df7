"""Pages of the minutes: the facilitator writes and publishes them; a member reads them
and, for her own action points, says they are done or how it went (personal link, no
password, no script needed)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from learnnet.access import PERSONAL_LINK, SESSION, requires
from learnnet.extensions import db
from learnnet.learning import minutes_services as services
from learnnet.learning.minutes_forms import EMPTY_ROWS, MinutesForm, NoteForm
from learnnet.networks.models import Contact
from learnnet.networks.rules import parse_id
from learnnet.pagecache import cached
from learnnet.sessions.models import Session

bp = Blueprint("minutes", __name__)


def _problems() -> dict[str, str]:
    """Why saving was refused, in words (for the field it concerns)."""
    return {
        "what": _("Write what was agreed."),
        "owner": _("Choose a member facility or one of its contact persons."),
        "due_on": _("That is no date; write e.g. 12/01/2027."),
        "unknown_action": _("This agreement no longer exists. Reload the page."),
        "not_held": _("Minutes can be written once the session has taken place."),
        "conflict": _(
            "Someone saved these minutes at the same moment. Check what is there now "
            "and save again."
        ),
        "text_long": _("At most %(max)d characters, please.", max=services.MAX_TEXT),
        "note_empty": _("Write a line first."),
        "note_long": _("At most %(max)d characters, please.", max=services.MAX_NOTE),
    }


def _fill(form: MinutesForm, minutes: Any) -> None:
    """The editor on first opening: the saved points, then empty rows for new ones."""
    form.general_text.data = minutes.general_text if minutes else ""
    while form.actions.entries:
        form.actions.pop_entry()
    for point in minutes.actions if minutes else []:
        entry = form.actions.append_entry()
        entry.action_id.data = str(point.id)
        entry.what.data = point.what
        entry.owner.data = services.owner_value(point)
        entry.due_on.data = point.due_on.isoformat()
    for _i in range(EMPTY_ROWS):
        form.actions.append_entry()


def _editor(
    session: Session, form: MinutesForm, minutes: Any, typed: dict[str, str] | None = None
) -> Any:
    rows = services.section_rows(session, minutes)
    if typed is not None:
        for row in rows:
            row.text = typed.get(row.key, row.text)
    return render_template(
        "learning/minutes_edit.html",
        session=session,
        network=session.network,
        minutes=minutes,
        form=form,
        rows=rows,
        groups=services.owner_groups(session),
        text_errors=getattr(form, "text_errors", {}),
        held=services.is_held(session),
    )


@bp.route("/sessions/<int:session_id>/minutes", methods=["GET", "POST"])
@requires(SESSION)
def edit(session: Session) -> Any:
    """Write the minutes of a held session: a text per agenda item, a general text, the
    action points; save as draft, or publish (members see it and get one mail). Saving
    after publishing changes what members see without mailing again."""
    minutes = services.minutes_of(session.id)
    form = MinutesForm()
    if request.method == "GET":
        _fill(form, minutes)
        return _editor(session, form, minutes)
    if not services.is_held(session):
        flash(_problems()["not_held"], "error")
        return redirect(url_for("minutes.edit", session_id=session.id), 303)
    rows = services.section_rows(session, minutes)
    typed = {row.key: request.form.get(f"text-{row.key}", "") for row in rows}
    good = form.validate_on_submit()
    form.text_errors = {  # type: ignore[attr-defined]
        key: _problems()["text_long"]
        for key, text in typed.items()
        if len(text) > services.MAX_TEXT
    }
    owners = {
        value
        for g in services.owner_groups(session)
        for value in [f"f-{g.facility.id}", *(f"c-{c.id}" for c in g.contacts)]
    }
    points: list[services.ActionInput] = []
    entries = []
    for entry in form.actions.entries:
        row = entry.form
        if row.is_blank():
            continue
        if not row.check(owners):
            good = False
            continue
        entries.append(row)
        points.append(
            services.ActionInput(
                action_id=parse_id(row.action_id.data or ""),
                what=row.what.data or "",
                owner=row.owner.data or "",
                due_on=row.parsed_due,
                remove=bool(row.remove.data and row.action_id.data),
            )
        )
    if not good or form.text_errors:  # type: ignore[attr-defined]
        return _editor(session, form, minutes, typed), 400
    publish = request.form.get("publish") == "1"
    try:
        saved = services.save_minutes(
            session, current_user, form.general_text.data or "", typed, points, publish
        )
    except IntegrityError:  # a double click, or two facilitators: the first one saved
        db.session.rollback()
        flash(_problems()["conflict"], "error")
        return redirect(url_for("minutes.edit", session_id=session.id), 303)
    except services.MinutesError as exc:
        db.session.rollback()
        message = _problems().get(exc.code, exc.code)
        if exc.row is not None and exc.row < len(entries):
            row = entries[exc.row]
            field = {"owner": row.owner, "due_on": row.due_on}.get(exc.code, row.what)
            field.errors = [message]
        else:
            flash(message, "error")
        return _editor(session, form, services.minutes_of(session.id), typed), 400
    if saved.published_now:
        flash(
            ngettext(
                "The minutes are published. %(num)d member got them by mail.",
                "The minutes are published. %(num)d members got them by mail.",
                saved.mailed,
            ),
            "success",
        )
        return redirect(url_for("pages.session_view", session_id=session.id) + "#minutes", 303)
    if saved.minutes.is_published:
        flash(_("Saved. Members see the new version; nobody was mailed again."), "success")
    else:
        flash(_("Draft saved. Members do not see it until you publish it."), "success")
    return redirect(url_for("minutes.edit", session_id=session.id), 303)


# --- the member's side --------------------------------------------------------------------------


def _token() -> str:
    return request.view_args["token"]  # type: ignore[index]


@bp.route("/m/<token>/minutes/<int:session_id>")
@requires(PERSONAL_LINK)
def member_minutes(contact: Contact, session_id: int) -> Any:
    """The published minutes of a session of one of her networks (never a draft)."""
    session = db.session.get(Session, session_id)
    if session is None or not services.may_read(contact, session):
        abort(404)
    minutes = services.published_minutes(session.id)
    if minutes is None:
        abort(404)

    def page() -> str:
        points = sorted(
            minutes.actions, key=lambda p: (p.owner_facility_id != contact.facility_id, p.position)
        )
        return render_template(
            "learning/minutes_member.html",
            contact=contact,
            session=session,
            network=session.network,
            minutes=minutes,
            points=points,
            token=_token(),
        )

    body, status, headers = cached(page)
    return body, status, headers


def _member_point(contact: Contact, action_id: int) -> Any:
    point = services.published_point(action_id)
    if point is None or not services.owns(point, contact) or not contact.active:
        abort(404)
    return point


@bp.route("/m/<token>/actions/<int:action_id>", methods=["GET", "POST"])
@requires(PERSONAL_LINK)
def member_action(contact: Contact, action_id: int) -> Any:
    """Her action point: mark it done, write a line on how it went, or open it again."""
    point = _member_point(contact, action_id)
    form = NoteForm()
    back = request.form.get("back") == "member"
    if request.method == "POST" and form.validate_on_submit():
        choice = request.form.get("choice", "note")
        text = form.text.data or ""
        if choice == "note" and not text:
            form.text.errors = [_problems()["note_empty"]]
        else:
            if text:
                services.add_note(point, contact, text)
            if choice == "done" and services.mark_done(point, contact=contact):
                flash(_("Marked as done. Thank you!"), "success")
            elif choice == "reopen" and services.reopen(point):
                flash(_("Open again: it comes back at the next session."), "success")
            elif text:
                flash(
                    _("Your line is saved. The facilitator sees it at the next session."), "success"
                )
            if back:
                return redirect(url_for("rsvp.member", token=_token()) + "#afspraken", 303)
            return redirect(
                url_for("minutes.member_action", token=_token(), action_id=point.id), 303
            )
    status = 400 if request.method == "POST" else 200
    session = point.minutes.session
    return render_template(
        "learning/minutes_action.html",
        contact=contact,
        point=point,
        session=session,
        network=session.network,
        form=form,
        token=_token(),
    ), status


# --- the parts on shared pages ------------------------------------------------------------------


@bp.app_template_global()
def minutes_session_part(session: Session) -> services.SessionMinutes:
    """The minutes section of the facilitator's session page."""
    return services.session_part(session)


@bp.app_template_global()
def minutes_member_part(contact: Contact) -> services.MemberMinutes:
    """The minutes section of the member's page: her agreements, the look-back, minutes."""
    return services.member_part(contact)
