"""Export everything learnnet holds about a contact; erase it while keeping the counts."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from learnnet import signals
from learnnet.attendance.models import Attendance
from learnnet.audit.models import AuditEvent
from learnnet.calendar.models import CalendarFeed
from learnnet.extensions import db
from learnnet.learning import evaluation_services, material_services
from learnnet.learning import services as learning
from learnnet.learning.material_store import store_for
from learnnet.learning.models import LearningQuestion
from learnnet.mail.models import SENT, OutboxAttachment, OutboxMessage
from learnnet.models import utcnow
from learnnet.networks.models import Contact, Membership
from learnnet.rsvp.models import MemberMessage, PersonalLink, Rsvp, RsvpChange
from learnnet.sessions.models import Session

ERASED_NAME = "verwijderde contactpersoon"


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value else None


def _session(session: Session) -> dict[str, Any]:
    return {
        "network": session.network.name,
        "starts_at": _when(session.starts_at),
        "host": session.host.name,
        "title": session.title,
    }


def export(contact: Contact) -> dict[str, Any]:
    """Everything about the contact, as plain JSON-ready values."""
    facility = contact.facility
    memberships = db.session.scalars(
        select(Membership)
        .where(Membership.facility_id == facility.id)
        .options(joinedload(Membership.network))
    )
    rsvps = list(
        db.session.scalars(
            select(Rsvp)
            .where(Rsvp.contact_id == contact.id)
            .options(joinedload(Rsvp.session).joinedload(Session.network))
            .options(joinedload(Rsvp.session).joinedload(Session.host))
        )
    )
    changes = db.session.scalars(
        select(RsvpChange).where(RsvpChange.rsvp_id.in_([r.id for r in rsvps]))
    )
    attendance = list(
        db.session.scalars(
            select(Attendance)
            .where(Attendance.contact_id == contact.id)
            .options(joinedload(Attendance.session).joinedload(Session.network))
            .options(joinedload(Attendance.session).joinedload(Session.host))
        )
    )
    messages = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.contact_id == contact.id)
        .order_by(OutboxMessage.created_at)
    )
    links = db.session.scalars(select(PersonalLink).where(PersonalLink.contact_id == contact.id))
    feeds = db.session.scalars(select(CalendarFeed).where(CalendarFeed.contact_id == contact.id))
    confirmed = db.session.scalars(
        select(Session).where(Session.host_confirmed_by_id == contact.id)
    )
    from learnnet.learning import minutes_services

    return {
        **minutes_services.export_contact(contact),
        "contact": {
            "name": contact.name,
            "email": contact.email,
            "phone": contact.phone,
            "function": contact.function,
            "preferred_language": contact.preferred_language,
            "listed_in_directory": contact.share_details,
            "works_there": contact.active,
            "created_at": _when(contact.created_at),
            "updated_at": _when(contact.updated_at),
        },
        "facility": {
            "name": facility.name,
            "address": facility.address,
            "memberships": [
                {
                    "network": m.network.name,
                    "joined_on": _when(m.joined_on),
                    "left_on": _when(m.left_on),
                }
                for m in memberships
            ],
        },
        "answers": [
            {
                "session": _session(r.session),
                "answer": r.answer,
                "waitlisted": r.waitlisted,
                "note": r.note,
                "updated_at": _when(r.updated_at),
            }
            for r in rsvps
        ],
        "answer_changes": [
            {
                "changed_at": _when(c.changed_at),
                "from": c.old_answer,
                "to": c.new_answer,
                "note": c.new_note,
                "by": "self or colleague"
                if c.by_contact_id
                else ("facilitator" if c.by_user_id else c.by_system),
            }
            for c in changes
        ],
        "attendance": [
            {"session": _session(a.session), "status": a.status, "walk_in": a.walk_in}
            for a in attendance
        ],
        "host_confirmations": [_session(s) for s in confirmed],
        "messages": [
            {
                "kind": m.kind,
                "to": m.recipient,
                "subject": m.subject,
                "queued_at": _when(m.created_at),
                "status": m.status,
                "sent_at": _when(m.sent_at),
            }
            for m in messages
        ],
        "personal_links": [
            {"made_at": _when(link.created_at), "revoked_at": _when(link.revoked_at)}
            for link in links
        ],
        "calendar_feeds": [
            {"made_at": _when(f.created_at), "revoked_at": _when(f.revoked_at)} for f in feeds
        ],
        "evaluations": evaluation_services.export_for(contact),
        "learning_questions": learning.export_for(contact),
        "materials": material_services.export(contact),
    }


def erase(contact: Contact) -> None:
    """Replace the person by "verwijderde contactpersoon"; keep what the counts need.

    Answers and attendance stay (without notes) so that reports still add up; links and
    feeds stop working; messages to them lose address and content. Commits.
    """
    was_active = contact.active
    contact.name = ERASED_NAME
    contact.email = None
    contact.phone = ""
    contact.function = ""
    contact.share_details = False
    contact.active = False
    now = utcnow()
    db.session.execute(
        update(PersonalLink)
        .where(PersonalLink.contact_id == contact.id, PersonalLink.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    db.session.execute(
        update(CalendarFeed)
        .where(CalendarFeed.contact_id == contact.id, CalendarFeed.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    db.session.execute(update(Rsvp).where(Rsvp.contact_id == contact.id).values(note=""))
    from learnnet.learning import minutes_services

    minutes_services.erase_contact(contact)  # her lines on action points, her name on them
    # What they wrote to the facilitators goes with them, their learning questions too.
    learning.erase_for(contact)
    db.session.execute(
        MemberMessage.__table__.delete().where(MemberMessage.contact_id == contact.id)
    )
    rsvp_ids = select(Rsvp.id).where(Rsvp.contact_id == contact.id)
    db.session.execute(
        update(RsvpChange)
        .where(RsvpChange.rsvp_id.in_(rsvp_ids))
        .values(old_note=None, new_note="")
    )
    db.session.execute(
        update(Attendance)
        .where(Attendance.contact_id == contact.id)
        .values(person_name=ERASED_NAME)
    )
    message_ids = select(OutboxMessage.id).where(OutboxMessage.contact_id == contact.id)
    db.session.execute(
        OutboxAttachment.__table__.delete().where(OutboxAttachment.message_id.in_(message_ids))
    )
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.contact_id == contact.id)
        .values(recipient="", recipient_name="", subject="", text_body="", html_body="")
    )
    # Messages not yet sent to them never will be.
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.contact_id == contact.id, OutboxMessage.status != SENT)
        .values(status="failed", last_error="erased")
    )
    # The trail keeps that something happened, not who it was about or what they wrote.
    # Each entity by its own key: an attendance or answer event's entity_id is the id of
    # that row, not of the contact (attendance row N belongs to whoever it belongs to).
    own_rows = (
        ("contact", select(Contact.id).where(Contact.id == contact.id)),
        ("attendance", select(Attendance.id).where(Attendance.contact_id == contact.id)),
        ("answer", select(Rsvp.id).where(Rsvp.contact_id == contact.id)),
    )
    for entity, ids in own_rows:
        db.session.execute(
            update(AuditEvent)
            .where(AuditEvent.entity == entity, AuditEvent.entity_id.in_(ids))
            .values(changes={})
        )
    db.session.execute(
        update(AuditEvent).where(AuditEvent.contact_id == contact.id).values(actor_name=ERASED_NAME)
    )
    evaluation_services.erase_for(contact)  # scores stay for the averages; texts go
    # The files they added go (with the trail's record of their names).
    material_services.erase(store_for(current_app.config), contact)
    db.session.flush()
    if was_active:
        signals.contact_left.send(contact)  # their seats for sessions to come are freed
    signals.contact_erased.send(contact)
    db.session.commit()


def prune_outbox(older_than_days: int) -> int:
    """Empty the content of sent messages older than this (they hold personal links)."""
    cutoff = utcnow() - timedelta(days=older_than_days)
    old = select(OutboxMessage.id).where(
        OutboxMessage.status == SENT, OutboxMessage.sent_at < cutoff, OutboxMessage.text_body != ""
    )
    ids = list(db.session.scalars(old))
    if ids:
        db.session.execute(
            OutboxAttachment.__table__.delete().where(OutboxAttachment.message_id.in_(ids))
        )
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(text_body="", html_body="")
        )
    db.session.commit()
    return len(ids)


# --- one person once (issue 21.6) ---------------------------------------------------------------


class CannotMerge(Exception):
    """Two contacts cannot be merged: not two of one facility."""


def merge_contacts(duplicate: Contact, keeper: Contact) -> None:
    """The facilitator found one person listed twice at a facility: ``duplicate``'s
    answers, attendance, messages and what they did through their link move to
    ``keeper``, who takes over details it lacks; the duplicate stays (no longer active,
    its links revoked) so that the trail keeps both names, and the trail records the
    merge. Where both answered or were recorded for the same session, the keeper's row
    stays (attendance: "present" wins) and the duplicate's history joins it. Commits."""
    from learnnet.attendance.models import AttendanceChange
    from learnnet.networks.models import MembershipRequest

    if duplicate.id == keeper.id or duplicate.facility_id != keeper.facility_id:
        raise CannotMerge("facility")
    now = utcnow()
    # Answers: one per session.
    kept_rsvps = {
        r.session_id: r
        for r in db.session.scalars(select(Rsvp).where(Rsvp.contact_id == keeper.id))
    }
    for rsvp in list(db.session.scalars(select(Rsvp).where(Rsvp.contact_id == duplicate.id))):
        kept = kept_rsvps.get(rsvp.session_id)
        if kept is None:
            rsvp.contact_id = keeper.id
            continue
        db.session.execute(
            update(RsvpChange).where(RsvpChange.rsvp_id == rsvp.id).values(rsvp_id=kept.id)
        )
        db.session.delete(rsvp)
    # Attendance: one per session; present wins.
    kept_attendance = {
        a.session_id: a
        for a in db.session.scalars(select(Attendance).where(Attendance.contact_id == keeper.id))
    }
    for row in list(
        db.session.scalars(select(Attendance).where(Attendance.contact_id == duplicate.id))
    ):
        kept = kept_attendance.get(row.session_id)
        if kept is None:
            row.contact_id = keeper.id
            row.person_name = keeper.name
            continue
        if row.status == "present":
            kept.status = "present"
        db.session.execute(
            update(AttendanceChange)
            .where(AttendanceChange.attendance_id == row.id)
            .values(attendance_id=kept.id)
        )
        db.session.delete(row)
    db.session.flush()
    evaluation_services.merge_for(duplicate, keeper)
    # What they wrote and did, and what was sent to them.
    for model, column in (
        (MemberMessage, MemberMessage.contact_id),
        (OutboxMessage, OutboxMessage.contact_id),
        (RsvpChange, RsvpChange.by_contact_id),
        (AttendanceChange, AttendanceChange.by_contact_id),
        (Session, Session.host_confirmed_by_id),
        (Session, Session.host_declined_by_id),
        (MembershipRequest, MembershipRequest.decided_by_contact_id),
        (LearningQuestion, LearningQuestion.contact_id),
    ):
        db.session.execute(
            update(model)
            .where(column == duplicate.id)
            .values({column.key: keeper.id})
            .execution_options(synchronize_session=False)
        )
    from learnnet.learning import minutes_services

    minutes_services.merge_contact(duplicate, keeper)  # her agreements and lines
    # The duplicate's links stop working; its page would be empty.
    for model in (PersonalLink, CalendarFeed):
        db.session.execute(
            update(model)
            .where(model.contact_id == duplicate.id, model.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    email = duplicate.email
    duplicate.email = None
    duplicate.active = False
    db.session.flush()
    if not keeper.email and email:
        keeper.email = email
    for key in ("phone", "function"):
        if not getattr(keeper, key) and getattr(duplicate, key):
            setattr(keeper, key, getattr(duplicate, key))
    db.session.flush()
    from learnnet.audit.trail import _actor

    user_id, contact_id, name = _actor()
    db.session.add(
        AuditEvent(
            user_id=user_id,
            contact_id=contact_id,
            actor_name=name,
            entity="contact",
            entity_id=duplicate.id,
            action="merge",
            changes={"merged_into": [duplicate.name, keeper.name]},
            facility_id=keeper.facility_id,
        )
    )
    db.session.commit()
    db.session.expire_all()
