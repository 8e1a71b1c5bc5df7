"""Invitations by email as iMIP (RFC 6047) and answers that come back from calendar apps.

Outgoing: the rsvp room's messages get a ``text/calendar; method=…`` part beside their
text and HTML: REQUEST for an invitation, a change or a promotion (same UID, SEQUENCE =
the session's revision), CANCEL for a cancellation. The ORGANIZER is the reply address
with a per-contact tag (``antwoord+<contact>.<mac>@…``), never the recipient; the
recipient is the only ATTENDEE, with their current answer as PARTSTAT.

Who gets a CANCEL: everyone invited to a session that is cancelled (the rsvp room's
cancellation), and a contact who is taken off a session that still takes place
(:func:`uninvite`): their facility's membership of the network ends (every session
after the day it leaves), or they no longer work at the facility (every session still
to come). Such a CANCEL carries the session's current SEQUENCE and a newer DTSTAMP
(RFC 5546 §2.1.5 orders them so): the revision is not raised, so the other invitees'
answers stay current, and an invitation sent again later (the facility rejoins) is
again newer than the CANCEL. Only contacts who were sent the invitation get one.

Incoming: a REPLY proves who sent it by the tag in its ORGANIZER (an HMAC over the
contact and their personal link's nonce, so renewing the link also retires the old
reply address) and must name that contact's own address as ATTENDEE. Its PARTSTAT
becomes the contact's answer, with the usual capacity and waitlist rules, unless it is
out of date (:func:`learnnet.calendar.itip.stale_reason`: a SEQUENCE lower than the
session's revision, or a DTSTAMP older than the contact's last answer given elsewhere)
or answers are closed (cancelled, started, past the deadline, no longer a member).
Such a REPLY is discarded, and the contact (a verified one, still working at the
facility) gets a short mail saying their calendar answer was not applied, why, and
their personal link to answer there.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from learnnet.calendar import ical, itip
from learnnet.calendar.services import event_for, words_for
from learnnet.extensions import db
from learnnet.mail import services as mail
from learnnet.mail.message import Part
from learnnet.mail.models import FAILED, URGENT, OutboxMessage
from learnnet.models import utcnow
from learnnet.networks.models import Contact, Membership
from learnnet.rsvp import notify
from learnnet.rsvp import services as rsvp_services
from learnnet.rsvp.contacts import current_link, ensure_link
from learnnet.rsvp.models import MAYBE, NO, YES, Invitation, Rsvp, RsvpChange
from learnnet.sessions.models import CANCELLED, Session
from learnnet.timefmt import format_span, to_local

log = logging.getLogger(__name__)

REQUEST_KINDS = {
    notify.INVITATION,
    notify.CHANGE,
    notify.PROMOTION,
    notify.WAITLISTED,
    notify.CONFIRMATION,
}
REFUSED = "calendar_refused"  # mail kind: a calendar answer that was not applied
REMOVED = "calendar_removed"  # mail kind: taken off a session, with a CANCEL
LEFT_NETWORK = "left_network"  # the facility's membership of the network ended
LEFT_FACILITY = "left_facility"  # the contact no longer works at the facility
PARTSTAT = {YES: "ACCEPTED", MAYBE: "TENTATIVE", NO: "DECLINED"}
ANSWER = {"ACCEPTED": YES, "TENTATIVE": MAYBE, "DECLINED": NO}


def reply_base() -> str:
    """The address replies go to: CALENDAR_REPLY_ADDRESS, else the sender's address."""
    configured = current_app.config.get("CALENDAR_REPLY_ADDRESS") or ""
    return configured or parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]


def reply_address(contact: Contact) -> str:
    """The contact's own ORGANIZER address: the reply address with their tag."""
    link = ensure_link(contact)
    tag = itip.reply_tag(str(current_app.config["SECRET_KEY"]), contact.id, link.nonce)
    return itip.tagged_address(reply_base(), tag)


def partstat(rsvp: Rsvp | None) -> str:
    """The attendee's PARTSTAT for their current answer."""
    if rsvp is None or rsvp.answer not in PARTSTAT:
        return "NEEDS-ACTION"
    if rsvp.answer == YES and rsvp.waitlisted:
        return "TENTATIVE"
    return PARTSTAT[rsvp.answer]


def message_calendar(kind: str, session: Session, contact: Contact) -> bytes | None:
    """The iTIP calendar for one message, or None when the message carries none."""
    if kind == notify.CANCELLATION:
        return method_calendar("CANCEL", session, contact)
    if kind in REQUEST_KINDS:
        return method_calendar("REQUEST", session, contact)
    return None


def method_calendar(method: str, session: Session, contact: Contact) -> bytes | None:
    """The iTIP calendar (REQUEST or CANCEL) of ``session`` for ``contact``, stamped now."""
    if not contact.email:
        return None
    rsvp = db.session.scalar(
        select(Rsvp).where(Rsvp.session_id == session.id, Rsvp.contact_id == contact.id)
    )
    organizer_name = ", ".join(f.name for f in session.network.facilitators) or session.network.name
    event = event_for(
        session,
        words_for(contact.preferred_language),
        url=notify.member_url(contact, f"session-{session.id}"),
        organizer=ical.Person(email=reply_address(contact), name=organizer_name),
        attendee=ical.Person(
            email=contact.email,
            name=contact.name,
            partstat=partstat(rsvp),
            # Closed answers: the calendar app must not offer an "Accept" we would refuse.
            rsvp=method == "REQUEST" and notify.answers_open(session),
        ),
    )
    return ical.build(ical.Calendar(events=(event,), method=method, sent_at=utcnow(), refresh=None))


def parts(kind: str, session: Session, contact: Contact) -> list[Part]:
    """notify's part provider: the inline text/calendar part of an iMIP message."""
    data = message_calendar(kind, session, contact)
    if data is None:
        return []
    method = "CANCEL" if kind == notify.CANCELLATION else "REQUEST"
    return [Part("invite.ics", f"text/calendar; charset=UTF-8; method={method}", data, inline=True)]


@dataclass(frozen=True)
class Outcome:
    """What became of one REPLY."""

    uid: str
    attendee: str
    result: str  # "recorded", "waitlisted", "unchanged", or why it was ignored


def apply_replies(raw: bytes) -> list[Outcome]:
    """Record the answers in an incoming mail; ignore (and log) what cannot be matched."""
    try:
        replies = itip.read_replies(raw, int(current_app.config["CALENDAR_REPLY_MAX_BYTES"]))
    except itip.ReplyError as exc:
        log.info("incoming mail ignored: %s", exc.reason)
        return [Outcome("", "", f"ignored: {exc.reason}")]
    return [_apply(reply) for reply in replies]


def _apply(reply: itip.Reply) -> Outcome:
    def ignored(reason: str) -> Outcome:
        log.info("REPLY for %s from %s ignored: %s", reply.uid, reply.attendee, reason)
        return Outcome(reply.uid, reply.attendee, f"ignored: {reason}")

    parsed = itip.parse_tag(reply.organizer, reply_base())
    if parsed is None:
        return ignored("organizer is not our reply address")
    contact_id, mac = parsed
    contact = db.session.get(Contact, contact_id)
    link = current_link(contact) if contact is not None else None
    secret = str(current_app.config["SECRET_KEY"])
    if contact is None or link is None or not itip.verify_tag(secret, contact_id, link.nonce, mac):
        return ignored("tag does not verify")
    if not contact.email or contact.email.lower() != reply.attendee:
        return ignored("attendee is not the contact the reply address belongs to")
    session = db.session.scalar(select(Session).where(Session.uid == reply.uid))
    if session is None:
        return ignored("unknown UID")
    value = ANSWER.get(reply.partstat)
    if value is None:
        return ignored(f"PARTSTAT {reply.partstat}")

    def refused(reason: str) -> Outcome:
        refusal_notice(session, contact, reply, reason)
        db.session.commit()
        log.info("REPLY for %s from %s discarded: %s", reply.uid, reply.attendee, reason)
        return Outcome(reply.uid, reply.attendee, f"discarded: {reason}")

    if session.status == CANCELLED:
        return refused(CANCELLED)  # before the SEQUENCE: cancelling raised it
    stale = itip.stale_reason(reply, session.revision, last_answer_at(session, contact))
    if stale is not None:
        return refused(stale)
    existing = db.session.scalar(
        select(Rsvp).where(Rsvp.session_id == session.id, Rsvp.contact_id == contact.id)
    )
    try:
        outcome = rsvp_services.answer(
            session.id, contact, value, existing.note if existing else "", by_contact=contact
        )
    except rsvp_services.AnswerError as exc:
        db.session.rollback()
        return refused(exc.code)
    if not outcome.changed:
        return Outcome(reply.uid, reply.attendee, "unchanged")
    if outcome.waitlisted:
        notify.waitlisted(outcome.rsvp)
        db.session.commit()
        return Outcome(reply.uid, reply.attendee, "waitlisted")
    log.info("REPLY recorded: contact %s answers %s for session %s", contact.id, value, session.id)
    return Outcome(reply.uid, reply.attendee, "recorded")


def last_answer_at(session: Session, contact: Contact) -> datetime | None:
    """When the contact's answer for the session was last given by a person (the contact,
    a colleague, a facilitator, or a calendar REPLY); learnnet's own changes (promoted
    from the waitlist, withdrawn on leaving) are no answer."""
    return db.session.scalar(
        select(func.max(RsvpChange.changed_at))
        .join(Rsvp, Rsvp.id == RsvpChange.rsvp_id)
        .where(
            Rsvp.session_id == session.id,
            Rsvp.contact_id == contact.id,
            RsvpChange.by_system == "",
        )
    )


def _mail_context(session: Session, contact: Contact) -> dict[str, object]:
    return {
        "session": session,
        "network": session.network,
        "contact": contact,
        "when": format_span(
            session.starts_at, session.ends_at, session.network.timezone, contact.preferred_language
        ),
        "link": notify.member_url(contact, f"session-{session.id}"),
    }


def refusal_notice(
    session: Session, contact: Contact, reply: itip.Reply, reason: str
) -> OutboxMessage | None:
    """Tell the contact that their calendar answer was not applied, why, and where to
    answer instead (no commit). Not for a contact who no longer works at the facility;
    the same REPLY delivered twice gives one notice."""
    if not contact.email or not contact.active:
        return None
    stamp = reply.dtstamp.strftime("%Y%m%dT%H%M%SZ") if reply.dtstamp else "-"
    key = f"{REFUSED}:{session.id}:{contact.id}:{reason}:{reply.partstat}:{reply.sequence}:{stamp}"
    network = session.network.name
    rendered = mail.render(
        "calendar_refused",
        contact.preferred_language,
        lambda: _("Your calendar answer was not applied (%(title)s)", title=network),
        **_mail_context(session, contact),
        reason=reason,
        answer=ANSWER[reply.partstat],
    )
    return mail.queue(
        REFUSED,
        contact.email,
        rendered,
        recipient_name=contact.name,
        contact_id=contact.id,
        session_id=session.id,
        dedupe_key=key[:255],
        priority=URGENT,
    )


# --- taken off a session ----------------------------------------------------------------------


def _invited(contact_ids: Iterable[int], where: object) -> list[tuple[Session, Contact]]:
    """(session, contact) pairs of sessions that still take place (``where``) to which
    one of these contacts was sent the invitation, in a fixed order."""
    pairs = list(
        db.session.execute(
            select(Invitation.session_id, Invitation.contact_id)
            .join(OutboxMessage, OutboxMessage.id == Invitation.message_id)
            .join(Session, Session.id == Invitation.session_id)
            .where(
                OutboxMessage.status != FAILED,
                Invitation.contact_id.in_(list(contact_ids)),
                Session.status != CANCELLED,
                Session.starts_at > utcnow(),
                where,  # type: ignore[arg-type]
            )
            .distinct()
        )
    )
    if not pairs:
        return []
    sessions = {
        s.id: s
        for s in db.session.scalars(
            select(Session)
            .where(Session.id.in_({p[0] for p in pairs}))
            .options(joinedload(Session.network), joinedload(Session.host))
        )
    }
    people = select(Contact).where(Contact.id.in_({p[1] for p in pairs}))
    contacts = {c.id: c for c in db.session.scalars(people)}
    rows = sorted(
        ((sessions[s], contacts[c]) for s, c in pairs),
        key=lambda pair: (pair[0].starts_at, pair[0].id, pair[1].id),
    )
    return [(session, contact) for session, contact in rows]


def uninvite(pairs: Iterable[tuple[Session, Contact]], reason: str) -> int:
    """Send each contact a CANCEL for the session they were taken off, in a mail that
    says why (no commit). Returns how many were queued."""
    count = 0
    for session, contact in pairs:
        data = method_calendar("CANCEL", session, contact)
        if data is None:
            continue
        network = session.network.name
        rendered = mail.render(
            "calendar_removed",
            contact.preferred_language,
            lambda network=network: _("No longer in your calendar: %(title)s", title=network),
            **_mail_context(session, contact),
            reason=reason,
            facility=contact.facility,
        )
        queued = mail.queue(
            REMOVED,
            contact.email or "",
            rendered,
            recipient_name=contact.name,
            contact_id=contact.id,
            session_id=session.id,
            parts=[
                Part("invite.ics", "text/calendar; charset=UTF-8; method=CANCEL", data, inline=True)
            ],
            priority=URGENT,
        )
        count += queued is not None
    return count


def uninvite_after_membership(membership: Membership) -> int:
    """The facility left the network: its contacts get a CANCEL for every session they
    were invited to after the day it left (no commit)."""
    if membership.left_on is None:
        return 0
    contact_ids = db.session.scalars(
        select(Contact.id).where(Contact.facility_id == membership.facility_id)
    )
    pairs = [
        (session, contact)
        for session, contact in _invited(contact_ids, Session.network_id == membership.network_id)
        if to_local(session.starts_at, session.network.timezone).date() > membership.left_on
    ]
    return uninvite(pairs, LEFT_NETWORK)


def uninvite_contact(contact: Contact) -> int:
    """The contact no longer works at the facility: a CANCEL for every session still to
    come that they were invited to (no commit)."""
    return uninvite(_invited([contact.id], Session.id.is_not(None)), LEFT_FACILITY)


def register() -> None:
    """Attach iMIP parts to the rsvp room's messages (once per process)."""
    if parts not in notify.part_providers:
        notify.part_providers.append(parts)
