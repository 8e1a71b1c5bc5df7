"""The messages of answering: invitations, changes, cancellations, promotions, reminders.

Each function queues messages (rows in the outbox) in the caller's transaction, in each
recipient's own language, with their personal link. Nothing here commits (the
``send_*`` functions, which the views call, do).

One send, one invitation per person: inviting to several sessions at once gives each
contact one mail with every date (time, host, address, answer buttons per date), not a
mail per session. Its calendar arrangement, because a mail's inline calendar part carries
one METHOD and Gmail and Outlook act on one event per invitation (Outlook imports only the
first UID of a multi-event REQUEST, Thunderbird treats it as PUBLISH):

- one session: the inline ``text/calendar; method=REQUEST`` part (RFC 6047), Accept in
  Gmail, Outlook and Apple Mail answers through iTIP;
- several sessions: no inline part, one attached ``.ics`` per session, each a complete
  one-event REQUEST with its own UID and SEQUENCE (Outlook and Apple open each as an
  invitation, Gmail offers to add each), and a call to subscribe to the personal feed,
  which follows every later change by itself.

Every later change or cancellation is its own one-event REQUEST/CANCEL mail with the same
UID and a higher SEQUENCE, which updates the event wherever it was added.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote_plus

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from learnnet.extensions import db
from learnnet.mail import services as mail
from learnnet.mail.message import Part
from learnnet.mail.models import BULK, FAILED, NORMAL, URGENT, OutboxMessage
from learnnet.models import utcnow
from learnnet.networks.models import Contact
from learnnet.rsvp import rules
from learnnet.rsvp.contacts import Expected, ensure_link, expected_contacts, token_of
from learnnet.rsvp.models import MAYBE, NO, WITHDRAWN, YES, Invitation, Rsvp
from learnnet.rsvp.services import lock_session
from learnnet.sessions.before import Before, compare, snapshot
from learnnet.sessions.models import CANCELLED, Session
from learnnet.timefmt import format_day, format_moment, format_span, local_date

WAITLISTED = "waitlisted"
INVITATION = "invitation"
CHANGE = "change"
CANCELLATION = "cancellation"
PROMOTION = "promotion"
HOST_REQUEST = "host_request"
REMINDER = "reminder"
NUDGE = "nudge"
CONFIRMATION = "confirmation"

#: Which messages go first: what changed or was cancelled never waits behind invitations.
PRIORITY = {
    CHANGE: URGENT,
    CANCELLATION: URGENT,
    PROMOTION: URGENT,
    WAITLISTED: URGENT,
    HOST_REQUEST: NORMAL,
    CONFIRMATION: URGENT,
    INVITATION: BULK,
    REMINDER: BULK,
    NUDGE: BULK,
}


#: Functions that add parts to a message: (kind, session, contact) -> parts. The calendar
#: room, which sits above this one, registers the iMIP invitation (text/calendar) here.
PartsProvider = Callable[[str, Session, Contact], list[Part]]
part_providers: list[PartsProvider] = []


def member_url(contact: Contact, anchor: str = "") -> str:
    """The contact's personal link (created when missing), as a full URL."""
    url = url_for("rsvp.member", token=token_of(ensure_link(contact)), _external=True)
    return f"{url}#{anchor}" if anchor else url


def map_url(session: Session) -> str:
    """An OpenStreetMap search for the host's address."""
    host = session.host
    return "https://www.openstreetmap.org/search?query=" + quote_plus(host.address)


def _context(session: Session, contact: Contact, locale: str) -> dict[str, Any]:
    tz = session.network.timezone
    return {
        "session": session,
        "network": session.network,
        "contact": contact,
        "when": format_span(session.starts_at, session.ends_at, tz, locale),
        "deadline": format_moment(session.rsvp_deadline, tz, locale)
        if session.rsvp_deadline
        else "",
        "map_url": map_url(session),
        "link": member_url(contact, f"session-{session.id}"),
        "answers_open": answers_open(session),
        "answer_links": answer_links(contact, session),
    }


def _queue(
    kind: str,
    session: Session,
    contact: Contact,
    subject: Any,
    key: str | None = None,
    **extra: Any,
) -> OutboxMessage | None:
    if not contact.email:
        return None
    locale = contact.preferred_language
    context = {**_context(session, contact, locale), "kind": kind, **extra}
    rendered = mail.render("session_message", locale, subject, **context)
    return mail.queue(
        kind,
        contact.email,
        rendered,
        recipient_name=contact.name,
        contact_id=contact.id,
        session_id=session.id,
        dedupe_key=key,
        parts=[part for provider in part_providers for part in provider(kind, session, contact)],
        priority=PRIORITY.get(kind, NORMAL),
    )


def _short_date(session: Session) -> str:
    """'di 12 jan.' in the current (the recipient's) language, where the network is."""
    from flask_babel import get_locale

    day = format_day(local_date(session.starts_at, session.network.timezone), str(get_locale()))
    return day.rsplit(" ", 1)[0]  # without the year: the subject stays short


def _title(session: Session) -> str:
    """The network and the date, for subjects: 'Lerend netwerk Gent, di 12 jan.'."""
    return f"{session.network.name}, {_short_date(session)}"


def _dates(sessions: list[Session]) -> str:
    """The dates of a send for its subject: all of them up to three, else first – last."""
    if len(sessions) <= 3:
        return ", ".join(_short_date(s) for s in sessions)
    return _(
        "%(num)d sessions, %(first)s – %(last)s",
        num=len(sessions),
        first=_short_date(sessions[0]),
        last=_short_date(sessions[-1]),
    )


def invitation(session: Session, contact: Contact) -> OutboxMessage | None:
    """Invite one contact to a session."""
    return invitation_for([session], contact)


def invitation_for(sessions: list[Session], contact: Contact) -> OutboxMessage | None:
    """One invitation mail inviting the contact to these sessions (in time order), each
    remembered as an :class:`Invitation`; the calendar arrangement is the module's."""
    if not contact.email or not sessions:
        return None
    sessions = sorted(sessions, key=lambda s: (s.starts_at, s.id))
    network = sessions[0].network
    locale = contact.preferred_language
    ids = ",".join(str(s.id) for s in sessions)
    key = f"invitation:{contact.id}:{ids}"
    if len(key) > 200:
        key = f"invitation:{contact.id}:{hashlib.sha256(ids.encode()).hexdigest()}"
    blocks = [_context(s, contact, locale) for s in sessions]
    for block in blocks:
        block["answer_links"] = answer_links(contact, block["session"])
    rendered = mail.render(
        "invitation",
        locale,
        lambda: _(
            "Invitation: %(network)s, %(dates)s", network=network.name, dates=_dates(sessions)
        ),
        network=network,
        contact=contact,
        blocks=blocks,
        kind=INVITATION,
        any_open=any(b["answers_open"] for b in blocks),
        calendar_link=member_url(contact, "calendar"),
        link=member_url(contact),
    )
    parts: list[Part] = []
    for s in sessions:
        for part in (p for provider in part_providers for p in provider(INVITATION, s, contact)):
            if len(sessions) == 1:
                parts.append(part)
            else:  # one attached one-event REQUEST per session (see the module's docstring)
                day = local_date(s.starts_at, s.network.timezone).isoformat()
                parts.append(Part(f"{day}-{s.id}.ics", part.content_type, part.data, inline=False))
    message = mail.queue(
        INVITATION,
        contact.email,
        rendered,
        recipient_name=contact.name,
        contact_id=contact.id,
        session_id=sessions[0].id,
        dedupe_key=key,
        parts=parts,
        priority=PRIORITY[INVITATION],
    )
    if message is not None:
        for s in sessions:
            db.session.add(Invitation(message=message, session_id=s.id, contact_id=contact.id))
    return message


def answer_links(contact: Contact, session: Session) -> dict[str, str]:
    """The answer buttons of a mail: each opens the member's page with that answer ready
    to confirm (a GET never changes an answer: mail scanners open every link)."""
    base = url_for("rsvp.member", token=token_of(ensure_link(contact)), _external=True)
    return {
        value: f"{base}?session={session.id}&answer={value}#session-{session.id}"
        for value in (YES, MAYBE, NO)
    }


def promoted(rsvp: Rsvp) -> OutboxMessage | None:
    """Tell a contact that a seat came free and they are now registered."""
    session = rsvp.session
    return _queue(
        PROMOTION,
        session,
        rsvp.contact,
        lambda: _("A seat came free: you are registered (%(title)s)", title=_title(session)),
    )


def confirmation(rsvp: Rsvp) -> OutboxMessage | None:
    """The member asked for it: their answer confirmed, with the event for the calendar
    (a REQUEST with their PARTSTAT, so the calendar shows what they answered)."""
    session = rsvp.session
    return _queue(
        CONFIRMATION,
        session,
        rsvp.contact,
        lambda: _("Your answer: %(title)s", title=_title(session)),
        rsvp=rsvp,
    )


def waitlisted(rsvp: Rsvp) -> OutboxMessage | None:
    """An answer that came in through the calendar app found the session full."""
    session = rsvp.session
    return _queue(
        WAITLISTED,
        session,
        rsvp.contact,
        lambda: _(
            "The session is full: you are on the waitlist (%(title)s)", title=_title(session)
        ),
    )


def change_notice(
    session: Session,
    contact: Contact,
    changes: frozenset[str],
    before: Before | None = None,
) -> Any:
    """The session moved (time or place): old and new side by side when ``before`` is
    known; a restored session (``"restored"`` in ``changes``) goes ahead after all."""
    from flask import current_app

    restored = "restored" in changes
    locale = contact.preferred_language
    if locale not in current_app.config["LANGUAGES"]:  # as the mail itself (mail.render)
        locale = current_app.config["BABEL_DEFAULT_LOCALE"]
    facts = compare(before, snapshot(session), locale) if before and not restored else []
    return _queue(
        CHANGE,
        session,
        contact,
        (lambda: _("Goes ahead after all: %(title)s", title=_title(session)))
        if restored
        else (lambda: _("Changed: %(title)s", title=_title(session))),
        key=f"change:{session.id}:{contact.id}:{session.revision}",
        changes=changes,
        restored=restored,
        facts=facts,
    )


def cancellation(session: Session, contact: Contact) -> OutboxMessage | None:
    """The session is cancelled, with the facilitator's reason when they gave one."""
    return _queue(
        CANCELLATION,
        session,
        contact,
        lambda: _("Cancelled: %(title)s", title=_title(session)),
        key=f"cancellation:{session.id}:{session.revision}:{contact.id}",
        reason=session.cancel_reason,
    )


def host_request(session: Session, contact: Contact) -> OutboxMessage | None:
    """Ask a host contact to confirm that their facility hosts the session."""
    day = utcnow().date().isoformat()
    return _queue(
        HOST_REQUEST,
        session,
        contact,
        lambda: _("Can you host? %(title)s", title=_title(session)),
        key=f"host-request:{session.id}:{session.host_facility_id}:{contact.id}:{day}",
    )


def reminder(session: Session, contact: Contact, days: int, rsvp: Rsvp | None) -> Any:
    """A reminder ``days`` before the session; at most one per window and start time."""
    return _queue(
        REMINDER,
        session,
        contact,
        lambda: _("Reminder: %(title)s", title=_title(session)),
        key=f"reminder:{session.id}:{contact.id}:{days}:{session.starts_at:%Y%m%dT%H%M}",
        rsvp=rsvp,
        days=days,
    )


def nudge(session: Session, contact: Contact) -> OutboxMessage | None:
    """Ask someone who has not answered yet (at most once a day)."""
    day = utcnow().date().isoformat()
    return _queue(
        NUDGE,
        session,
        contact,
        lambda: _("Will you come? %(title)s", title=_title(session)),
        key=f"nudge:{session.id}:{contact.id}:{day}",
    )


# --- who gets what ----------------------------------------------------------------------------


def invited_contacts(session: Session) -> list[Contact]:
    """Contacts who were sent an invitation for the session and still take part."""
    invited = set(
        db.session.scalars(
            select(Invitation.contact_id)
            .join(OutboxMessage, OutboxMessage.id == Invitation.message_id)
            .where(Invitation.session_id == session.id, OutboxMessage.status != FAILED)
        )
    )
    return [c for c in expected_contacts(session) if c.id in invited]


def to_invite(
    session: Session, expected: list[Contact] | list[Expected] | None = None
) -> list[Any]:
    """Contacts with an email address who have not been invited to the session yet
    (of ``expected``, when the caller has the session's expected contacts already, as
    objects or as rows: the same kind comes back)."""
    done = set(
        db.session.scalars(select(Invitation.contact_id).where(Invitation.session_id == session.id))
    )
    expected = expected if expected is not None else expected_contacts(session)
    return [c for c in expected if c.email and c.id not in done]


def pending_invitations(network: Any) -> list[tuple[Session, list[Contact]]]:
    """Upcoming sessions of the network that are not cancelled, with who is still to invite."""
    sessions = db.session.scalars(
        select(Session)
        .where(
            Session.network_id == network.id,
            Session.status != CANCELLED,
            Session.starts_at > utcnow(),
        )
        .options(joinedload(Session.host), joinedload(Session.network))
        .order_by(Session.starts_at)
    )
    return [(s, to_invite(s)) for s in sessions]


def answers_open(session: Session, now: datetime | None = None) -> bool:
    """Whether members can still answer (not cancelled, not started, deadline not passed).

    No message asks for an answer (answer buttons, "will you come?", a calendar REQUEST
    with RSVP=TRUE) unless this holds: a closed session would refuse the answer.
    """
    reason = rules.closed_reason(
        session.is_cancelled, session.starts_at, session.rsvp_deadline, now or utcnow()
    )
    return reason is None


class AnswersClosed(Exception):
    """Answers for the session are closed: an invitation would ask what cannot be done."""


def send_invitations(session: Session, information: bool = False) -> list[OutboxMessage]:
    """Invite everyone not invited yet; from now on changes are announced (commits).

    For a session whose answers are closed only an information mail (``information``:
    no answer asked, the facilitator chose it) can be sent; else :class:`AnswersClosed`.
    """
    return send_season_invitations([session], information)


def send_season_invitations(
    sessions: list[Session], information: bool = False
) -> list[OutboxMessage]:
    """Invite to several sessions at once: each contact gets one mail with the sessions
    they were not invited to yet (commits). Closed sessions: as :func:`send_invitations`."""
    if not information and any(not answers_open(s) for s in sessions):
        raise AnswersClosed([s.id for s in sessions if not answers_open(s)])
    wanted: dict[int, tuple[Contact, list[Session]]] = {}
    for session in sorted(sessions, key=lambda s: (s.starts_at, s.id)):
        for contact in to_invite(session):
            wanted.setdefault(contact.id, (contact, []))[1].append(session)
    queued = [
        m
        for contact, theirs in wanted.values()
        if (m := invitation_for(theirs, contact)) is not None
    ]
    for session in sessions:
        if session.invited_at is None:
            session.invited_at = utcnow()
    db.session.commit()
    return queued


def unanswered_with_email(
    session: Session, expected: list[Contact] | list[Expected] | None = None
) -> list[Any]:
    """Expected contacts with an email address and no answer for the session (of
    ``expected`` as objects or as rows: the same kind comes back)."""
    answered = set(
        db.session.scalars(
            select(Rsvp.contact_id).where(Rsvp.session_id == session.id, Rsvp.answer != WITHDRAWN)
        )
    )
    expected = expected if expected is not None else expected_contacts(session)
    return [c for c in expected if c.email and c.id not in answered]


def send_nudges(session: Session) -> list[OutboxMessage]:
    """Remind those who have not answered (commits); :class:`AnswersClosed` when they
    can no longer answer."""
    if not answers_open(session):
        raise AnswersClosed(session.id)
    queued = [m for c in unanswered_with_email(session) if (m := nudge(session, c)) is not None]
    db.session.commit()
    return queued


def host_contacts(session: Session) -> list[Contact]:
    """Active contacts of the host facility."""
    return [c for c in session.host.contacts if c.active]


def send_host_requests(session: Session) -> int:
    """Ask the host's contacts to confirm (commits)."""
    count = sum(
        1 for c in host_contacts(session) if c.email and host_request(session, c) is not None
    )
    db.session.commit()
    return count


def announce_change(session: Session, changes: Iterable[str], before: Before | None = None) -> int:
    """Queue a change notice or a cancellation for everyone invited (no commit);
    ``before``: the session's time and place before the change, for the comparison."""
    changes = frozenset(changes)
    if session.invited_at is None or not changes & {"time", "place", "cancelled"}:
        return 0
    count = 0
    for contact in invited_contacts(session):
        if session.status == CANCELLED:
            sent = cancellation(session, contact)
        else:
            sent = change_notice(session, contact, changes, before)
        count += sent is not None
    return count


def send_due_reminders(days: list[int], now: datetime | None = None) -> int:
    """Queue the reminders that are due now (commits); each is sent at most once.

    Session by session under the session's lock, one transaction each: two runs at the
    same moment (cron on two servers) take turns per session, and the second finds the
    first one's reminders instead of failing on their keys.
    """
    now = now or utcnow()
    horizon = max([d for d in days if d > 0], default=0)
    if not horizon:
        return 0
    sessions = list(
        db.session.scalars(
            select(Session)
            .where(
                Session.status != CANCELLED,
                Session.invited_at.is_not(None),
                Session.starts_at > now,
                Session.starts_at <= now + timedelta(days=horizon),
            )
            .options(joinedload(Session.network), joinedload(Session.host))
            .order_by(Session.id)
        )
    )
    count = 0
    for session in sessions:
        due = rules.reminder_due(session.starts_at, days, now)
        if due is None:
            continue
        lock_session(session.id)
        answers = {
            r.contact_id: r
            for r in db.session.scalars(select(Rsvp).where(Rsvp.session_id == session.id))
        }
        open_ = answers_open(session, now)
        for contact in invited_contacts(session):
            rsvp = answers.get(contact.id)
            if rsvp is not None and rsvp.answer in (NO, WITHDRAWN):
                continue
            if not open_ and (rsvp is None or rsvp.answer != YES):
                continue  # "will you come?" when answers are closed: nothing to act on
            count += reminder(session, contact, due, rsvp) is not None
        db.session.commit()
    return count


# --- messages to the facilitators (issue 21) ---------------------------------------------------

HOST_DECLINED = "host_declined"
MEMBER_MESSAGE = "member_message"


def _to_facilitators(
    kind: str,
    session: Session,
    template: str,
    subject: Callable[[], str],
    about: Contact | None = None,
    reply_to: str | None = None,
    **extra: Any,
) -> int:
    """Queue one message per facilitator of the session's network (with an email
    address), each in their own language; ``about``: the contact it concerns (erasing
    that contact empties the message). No commit."""
    from flask import current_app

    count = 0
    tz = session.network.timezone
    for user in session.network.facilitators:
        if not user.active or not user.email:
            continue
        locale = user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
        rendered = mail.render(
            template,
            locale,
            subject,
            session=session,
            network=session.network,
            user=user,
            contact=about,
            when=format_span(session.starts_at, session.ends_at, tz, locale),
            session_url=url_for("pages.session_view", session_id=session.id, _external=True),
            **extra,
        )
        mail.queue(
            kind,
            user.email,
            rendered,
            recipient_name=user.name,
            contact_id=about.id if about is not None else None,
            session_id=session.id,
            reply_to=reply_to,
        )
        count += 1
    return count


def host_declined(session: Session, contact: Contact) -> int:
    """Tell the facilitators that the host cannot host the session (no commit)."""
    return _to_facilitators(
        HOST_DECLINED,
        session,
        "host_declined",
        lambda: _("%(host)s cannot host: %(title)s", host=session.host.name, title=_title(session)),
        about=contact,
        reason=session.host_declined_reason,
    )


def member_message(message: Any) -> int:
    """Mail a member's message to the facilitators; a reply goes to the member (no commit)."""
    session, contact = message.session, message.contact
    return _to_facilitators(
        MEMBER_MESSAGE,
        session,
        "member_message",
        lambda: _("Message from %(name)s: %(title)s", name=contact.name, title=_title(session)),
        about=contact,
        reply_to=contact.email or None,
        body=message.body,
    )


def send_member_message(message: Any) -> int:
    """Mail a member's message (just stored) to the facilitators and commit both."""
    count = member_message(message)
    db.session.commit()
    return count


LINK_AGAIN = "link_again"


def link_again(email: str) -> int:
    """ "I lost my link": mail each active contact with this address (a person may work at
    two facilities) their personal link, in their own language (no commit)."""
    from sqlalchemy import func

    address = email.strip().lower()
    if not address:
        return 0
    people = db.session.scalars(
        select(Contact)
        .where(func.lower(Contact.email) == address, Contact.active.is_(True))
        .options(joinedload(Contact.facility))
        .order_by(Contact.id)
    )
    count = 0
    for contact in people:
        rendered = mail.render(
            "link_again",
            contact.preferred_language,
            lambda: _("Your personal link"),
            contact=contact,
            link=member_url(contact),
        )
        mail.queue(
            LINK_AGAIN,
            contact.email or "",
            rendered,
            recipient_name=contact.name,
            contact_id=contact.id,
        )
        count += 1
    return count


def send_link_again(email: str) -> None:
    """Queue the link mails for an address and commit (run after the response)."""
    link_again(email)
    db.session.commit()


# --- a network asks a facility to join (issue 19, item 2) -------------------------------------

MEMBERSHIP_REQUEST = "membership_request"


def membership_request(request: Any) -> int:
    """Ask the facility's active contacts (with an email address) whether their facility
    joins the network; they answer on their personal page, which the mail links to.
    Each contact once per request. No commit."""
    network, facility = request.network, request.facility
    asker = request.requested_by
    count = 0
    for contact in facility.contacts:
        if not contact.active or not contact.email:
            continue
        locale = contact.preferred_language
        rendered = mail.render(
            "membership_request",
            locale,
            lambda network=network: _(
                "%(network)s asks your facility to join", network=network.name
            ),
            contact=contact,
            network=network,
            facility=facility,
            asker=asker,
            link=member_url(contact, "requests"),
        )
        sent = mail.queue(
            MEMBERSHIP_REQUEST,
            contact.email,
            rendered,
            recipient_name=contact.name,
            contact_id=contact.id,
            dedupe_key=f"membership-request:{request.id}:{contact.id}",
        )
        count += sent is not None
    return count


# --- the season poll (issue 22) ----------------------------------------------------------------

POLL_INVITATION = "poll_invitation"
POLL_REMINDER = "poll_reminder"


def poll_url(contact: Contact, poll: Any) -> str:
    """The contact's answer page of the poll, through their personal link, as a full URL."""
    token = token_of(ensure_link(contact))
    return url_for("planning.member_poll", token=token, poll_id=poll.id, _external=True)


def poll_mail(poll: Any, contact: Contact, reminder: bool, today: Any) -> OutboxMessage | None:
    """The poll's invitation, or a reminder to answer it, to one contact in their language,
    linking to their answer page. The invitation goes once per contact, a reminder at most
    once a day; None when already sent or the contact has no address. No commit."""
    from learnnet.planning import poll as poll_rules

    if not contact.email or not contact.active:
        return None
    network = poll.network
    key = (
        poll_rules.reminder_key(poll.id, contact.id, today)
        if reminder
        else poll_rules.invitation_key(poll.id, contact.id)
    )
    if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)):
        return None  # checked first: no personal link is made for a mail not sent
    locale = contact.preferred_language

    def subject() -> str:
        if reminder:
            return _("Reminder: which dates suit you? (%(network)s)", network=network.name)
        return _("Which dates suit you? %(network)s asks", network=network.name)

    rendered = mail.render(
        "poll_invitation",
        locale,
        subject,
        contact=contact,
        network=network,
        poll=poll,
        reminder=reminder,
        days=[format_day(d.day, locale) for d in poll.dates],
        closes_on=format_day(poll.closes_on, locale),
        link=poll_url(contact, poll),
    )
    return mail.queue(
        POLL_REMINDER if reminder else POLL_INVITATION,
        contact.email,
        rendered,
        recipient_name=contact.name,
        contact_id=contact.id,
        dedupe_key=key,
        priority=BULK,
    )


def poll_mails(poll: Any, contacts: Iterable[Contact], reminder: bool, today: Any) -> int:
    """Queue the poll's invitation or reminder for each contact; how many were queued."""
    return sum(poll_mail(poll, c, reminder, today) is not None for c in contacts)
