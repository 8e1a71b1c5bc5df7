"""Invitations by email as iMIP (RFC 6047) and answers that come back from calendar apps.

Outgoing: the rsvp room's messages get a ``text/calendar; method=…`` part beside their
text and HTML: REQUEST for an invitation, a change or a promotion (same UID, SEQUENCE =
the session's revision), CANCEL for a cancellation. The ORGANIZER is the reply address
with a per-contact tag (``antwoord+<contact>.<mac>@…``), never the recipient; the
recipient is the only ATTENDEE, with their current answer as PARTSTAT.

Incoming: a REPLY proves who sent it by the tag in its ORGANIZER (an HMAC over the
contact and their personal link's nonce, so renewing the link also retires the old
reply address) and must name that contact's own address as ATTENDEE. Its PARTSTAT
becomes the contact's answer, with the usual capacity and waitlist rules.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.utils import parseaddr

from flask import current_app
from sqlalchemy import select

from learnnet.calendar import ical, itip
from learnnet.calendar.services import event_for, words_for
from learnnet.extensions import db
from learnnet.mail.message import Part
from learnnet.models import utcnow
from learnnet.networks.models import Contact
from learnnet.rsvp import notify
from learnnet.rsvp import services as rsvp_services
from learnnet.rsvp.contacts import current_link, ensure_link
from learnnet.rsvp.models import MAYBE, NO, YES, Rsvp
from learnnet.scheduling.models import Session

log = logging.getLogger(__name__)

REQUEST_KINDS = {notify.INVITATION, notify.CHANGE, notify.PROMOTION, notify.WAITLISTED}
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
        method = "CANCEL"
    elif kind in REQUEST_KINDS:
        method = "REQUEST"
    else:
        return None
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
            rsvp=method == "REQUEST",
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
    existing = db.session.scalar(
        select(Rsvp).where(Rsvp.session_id == session.id, Rsvp.contact_id == contact.id)
    )
    try:
        outcome = rsvp_services.answer(
            session.id, contact, value, existing.note if existing else "", by_contact=contact
        )
    except rsvp_services.AnswerError as exc:
        db.session.rollback()
        return ignored(f"answer refused ({exc.code})")
    if not outcome.changed:
        return Outcome(reply.uid, reply.attendee, "unchanged")
    if outcome.waitlisted:
        notify.waitlisted(outcome.rsvp)
        db.session.commit()
        return Outcome(reply.uid, reply.attendee, "waitlisted")
    log.info("REPLY recorded: contact %s answers %s for session %s", contact.id, value, session.id)
    return Outcome(reply.uid, reply.attendee, "recorded")


def register() -> None:
    """Attach iMIP parts to the rsvp room's messages (once per process)."""
    if parts not in notify.part_providers:
        notify.part_providers.append(parts)
