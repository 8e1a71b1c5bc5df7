"""Use cases of answering: personal links, answers with capacity and waitlist, leaving.

Every answer takes a lock on its session row before it counts the seats, so two
answers for the same session, from any number of worker processes, are decided one
after the other: on PostgreSQL with ``SELECT … FOR UPDATE``; on SQLite, where that
clause does nothing, with a no-op ``UPDATE`` of the row as the transaction's first
write, which takes SQLite's single write lock (other writers wait up to busy_timeout).

Nothing here queues mail (``notify`` sits above this module and imports it): a use case
returns or announces what happened, and the caller queues the message. A seat given to
the waitlist is announced with ``signals.answer_changed`` (``by="promoted"``) before the
commit, and the room's receiver queues the promotion mail in the same transaction.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, text
from sqlalchemy.orm import joinedload, selectinload

from learnnet import signals
from learnnet.auth.models import User
from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.networks import services as network_services
from learnnet.networks.models import Contact, Facility, Membership, Network
from learnnet.rsvp import rules
from learnnet.rsvp.contacts import (
    Expected,
    ExpectedFacility,
    expected_contacts,
    is_member_on,
    member_networks,
)
from learnnet.rsvp.models import (
    MAYBE,
    NO,
    WITHDRAWN,
    YES,
    MemberMessage,
    Rsvp,
    RsvpChange,
)
from learnnet.sessions.models import CANCELLED, Session
from learnnet.timefmt import to_local


class AnswerError(ValueError):
    """An answer a rule refuses; ``code`` says which (the view words it)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# --- answering --------------------------------------------------------------------------------


def lock_session(session_id: int) -> None:
    """Serialise everything that counts or changes the seats of one session."""
    if not current_app.config["RSVP_LOCKING"]:
        return
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(  # takes the write lock; changes nothing a page shows
            text("UPDATE network_session SET id = id WHERE id = :id"),
            {"id": session_id},
            execution_options={"changes_nothing": True},
        )
    else:
        db.session.execute(select(Session.id).where(Session.id == session_id).with_for_update())


def _confirmed_count(session_id: int, exclude_rsvp: int | None = None) -> int:
    query = select(func.count(Rsvp.id)).where(
        Rsvp.session_id == session_id, Rsvp.answer == YES, Rsvp.waitlisted.is_(False)
    )
    if exclude_rsvp is not None:
        query = query.where(Rsvp.id != exclude_rsvp)
    return int(db.session.scalar(query) or 0)


def _record(
    rsvp: Rsvp,
    old: tuple[str | None, bool | None, str | None],
    by_contact: Contact | None = None,
    by_user: User | None = None,
    by_system: str = "",
) -> None:
    db.session.add(
        RsvpChange(
            rsvp=rsvp,
            by_contact_id=by_contact.id if by_contact else None,
            by_user_id=by_user.id if by_user else None,
            by_system=by_system,
            old_answer=old[0],
            new_answer=rsvp.answer,
            old_waitlisted=old[1],
            new_waitlisted=rsvp.waitlisted,
            old_note=old[2],
            new_note=rsvp.note,
        )
    )
    by = by_system or ("facilitator" if by_user is not None else "contact")
    signals.answer_changed.send(rsvp, by=by)


@dataclass
class Outcome:
    """What an answer did."""

    rsvp: Rsvp
    changed: bool
    promoted: list[Rsvp] = field(default_factory=list)

    @property
    def waitlisted(self) -> bool:
        return self.rsvp.waitlisted


def answer(
    session_id: int,
    contact: Contact,
    value: str,
    note: str = "",
    *,
    by_contact: Contact | None = None,
    by_user: User | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Give or change ``contact``'s answer; commits. Raises :class:`AnswerError`.

    ``by_contact`` answers through a personal link (for themselves or a colleague);
    ``by_user`` is a facilitator answering on someone's behalf, who may do so after
    the RSVP deadline (the phone call that comes a day late).
    """
    if value not in (YES, MAYBE, NO):
        raise AnswerError("answer")
    note = (note or "").strip()
    if len(note) > 500:
        raise AnswerError("note")
    now = now or utcnow()
    lock_session(session_id)
    session = db.session.get(Session, session_id, populate_existing=True)
    if session is None:
        raise AnswerError("session")
    day = to_local(session.starts_at, session.network.timezone).date()
    if not contact.active or not is_member_on(contact.facility_id, session.network_id, day):
        raise AnswerError("not_member")
    closed = rules.closed_reason(
        session.status == CANCELLED,
        session.starts_at,
        None if by_user is not None else session.rsvp_deadline,
        now,
    )
    if closed:
        raise AnswerError(closed)
    rsvp = db.session.scalar(
        select(Rsvp).where(Rsvp.session_id == session.id, Rsvp.contact_id == contact.id)
    )
    old = (rsvp.answer, rsvp.waitlisted, rsvp.note) if rsvp else (None, None, None)
    had_seat = rsvp is not None and rsvp.confirmed
    waitlisted = False
    if value == YES:
        confirmed = _confirmed_count(session.id, rsvp.id if rsvp else None)
        pause = float(current_app.config["RSVP_TEST_PAUSE"] or 0)
        if pause:
            time.sleep(pause)  # test-only: widen the window between counting and writing
        waitlisted = not rules.gets_seat(session.capacity, confirmed, had_seat)
    if rsvp is not None and old == (value, waitlisted, note):
        db.session.commit()  # the same answer again (a double click): nothing changes
        return Outcome(rsvp, changed=False)
    if rsvp is None:
        rsvp = Rsvp(session=session, contact=contact)
        db.session.add(rsvp)
    was_waiting = bool(rsvp.waitlisted)
    rsvp.answer, rsvp.waitlisted, rsvp.note = value, waitlisted, note
    if waitlisted and not was_waiting:
        rsvp.queued_at = now
    elif not waitlisted:
        rsvp.queued_at = None
    _record(rsvp, old, by_contact=by_contact, by_user=by_user)
    db.session.flush()
    promoted = _promote(session, now) if had_seat and not rsvp.confirmed else []
    db.session.commit()
    return Outcome(rsvp, changed=True, promoted=promoted)


def waitlist(session_id: int) -> list[Rsvp]:
    """The waiting "yes" answers of a session, first come first served."""
    return list(
        db.session.scalars(
            select(Rsvp)
            .where(Rsvp.session_id == session_id, Rsvp.answer == YES, Rsvp.waitlisted.is_(True))
            .order_by(Rsvp.queued_at, Rsvp.id)
            .options(joinedload(Rsvp.contact).joinedload(Contact.facility))
        )
    )


def _promote(session: Session, now: datetime) -> list[Rsvp]:
    """Give free seats to the waitlist, in order (no commit); each promotion is announced
    (``answer_changed``, by "promoted"), which queues its mail."""
    if session.status == CANCELLED or session.starts_at <= now:
        return []
    free = rules.free_seats(session.capacity, _confirmed_count(session.id))
    waiting = waitlist(session.id)
    chosen = waiting if free is None else waiting[:free]
    for rsvp in chosen:
        old = (rsvp.answer, rsvp.waitlisted, rsvp.note)
        rsvp.waitlisted = False
        rsvp.queued_at = None
        _record(rsvp, old, by_system="promoted")
    db.session.flush()
    return chosen


def promote_waitlist(session: Session) -> list[Rsvp]:
    """After a capacity change: promote as many as now fit (no commit: the caller's)."""
    lock_session(session.id)
    return _promote(session, utcnow())


def _withdraw(rsvps: list[Rsvp], now: datetime) -> None:
    freed: dict[int, Session] = {}
    for rsvp in rsvps:
        if rsvp.answer == WITHDRAWN:
            continue
        if rsvp.confirmed:
            freed[rsvp.session_id] = rsvp.session
        old = (rsvp.answer, rsvp.waitlisted, rsvp.note)
        rsvp.answer, rsvp.waitlisted, rsvp.queued_at = WITHDRAWN, False, None
        _record(rsvp, old, by_system="left")
    db.session.flush()
    for session_id in sorted(freed):
        lock_session(session_id)
        _promote(freed[session_id], now)


def withdraw_for_membership(membership: Membership) -> None:
    """A facility left: its contacts' answers for later sessions of that network go."""
    now = utcnow()
    network = membership.network
    after = max(now, _start_of_day_after(membership.left_on, network.timezone))
    rsvps = list(
        db.session.scalars(
            select(Rsvp)
            .join(Session, Session.id == Rsvp.session_id)
            .join(Contact, Contact.id == Rsvp.contact_id)
            .where(
                Session.network_id == membership.network_id,
                Session.starts_at >= after,
                Contact.facility_id == membership.facility_id,
            )
        )
    )
    _withdraw(rsvps, now)


def withdraw_for_contact(contact: Contact) -> None:
    """A person left their facility: their answers for sessions still to come go."""
    now = utcnow()
    rsvps = list(
        db.session.scalars(
            select(Rsvp)
            .join(Session, Session.id == Rsvp.session_id)
            .where(Rsvp.contact_id == contact.id, Session.starts_at > now)
        )
    )
    _withdraw(rsvps, now)


def _start_of_day_after(day: date | None, tz: str) -> datetime:
    from learnnet.planning.recurrence import local_to_utc

    if day is None:
        return utcnow()
    return local_to_utc(day + timedelta(days=1), datetime.min.time(), tz)


# --- colleagues -------------------------------------------------------------------------------


def colleagues(contact: Contact) -> list[Contact]:
    """The other active contacts of the contact's facility, by name."""
    return list(
        db.session.scalars(
            select(Contact)
            .where(
                Contact.facility_id == contact.facility_id,
                Contact.active.is_(True),
                Contact.id != contact.id,
            )
            .order_by(func.lower(Contact.name))
        )
    )


def same_colleague(contact: Contact, name: str, email: str | None) -> Contact | None:
    """A contact of the member's facility who may be the person being added: the same
    email address, or the same name with case, accents and spacing ignored (the active
    ones first, then by id)."""
    from learnnet.networks.rules import name_key

    address = (email or "").strip().lower()
    key = name_key(name)
    people = db.session.scalars(
        select(Contact)
        .where(Contact.facility_id == contact.facility_id)
        .order_by(Contact.active.desc(), Contact.id)
    )
    for person in people:
        if (address and (person.email or "").lower() == address) or name_key(person.name) == key:
            return person
    return None


def use_colleague(person: Contact) -> bool:
    """ "Yes, that is them": a former colleague works here again (active once more);
    True when something changed. Commits."""
    if person.active:
        return False
    person.active = True
    db.session.commit()
    return True


def add_colleague(contact: Contact, name: str, email: str | None) -> Contact:
    """A contact adds a colleague at their own facility (same language as the adder)."""
    return network_services.create_contact(
        contact.facility,
        {"name": name, "email": email, "preferred_language": contact.preferred_language},
    )


# --- the member's page ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answered:
    """An answer as the member's page shows it: one row of columns, not ORM objects."""

    session_id: int
    contact_id: int
    answer: str
    waitlisted: bool
    note: str
    facility_id: int
    name: str
    share_details: bool
    facility_name: str

    @property
    def confirmed(self) -> bool:
        """A "yes" with a seat."""
        return self.answer == YES and not self.waitlisted


@dataclass
class MemberSession:
    """One upcoming session as a member sees it."""

    session: Session
    own: Answered | None
    is_host: bool
    closed: str | None
    confirmed: int
    free: int | None
    coming_facilities: list[str]
    coming_people: list[str]
    colleague_answers: dict[int, Answered]
    waitlist_position: int | None


@dataclass(frozen=True, slots=True)
class Upcoming:
    """A coming session of the member as a few columns: enough to count it, offer it in
    the message form and find it again, without building the ORM object."""

    id: int
    network_id: int
    starts_at: datetime
    ends_at: datetime
    is_cancelled: bool


@dataclass
class MemberPage:
    """Everything the personal-link page shows, in a fixed number of statements.

    ``upcoming`` holds every coming session as columns; ``sessions`` the ones worked out
    in full (all of them, or those :func:`member_page` was asked for), in the same order.
    """

    contact: Contact
    networks: list[Network]
    sessions: list[MemberSession]
    colleagues: list[Contact]
    upcoming: list[Upcoming] = field(default_factory=list)


def member_page(
    contact: Contact,
    now: datetime | None = None,
    first: int | None = None,
    also: Collection[int] = (),
) -> MemberPage:
    """Upcoming sessions of the contact's networks, with answers and who comes.

    Every coming session is read as columns; only the ``first`` ones (all when None) and
    those whose id is in ``also`` are worked out in full (the session object, its answers):
    the page shows 35 of 200, and building the others cost half of its time.
    """
    now = now or utcnow()
    today = now.date()
    periods = member_networks(contact.facility_id, today)
    networks = list(
        db.session.scalars(
            select(Network).where(Network.id.in_(periods)).order_by(func.lower(Network.name))
        )
    )
    zones = {n.id: n.timezone for n in networks}
    upcoming = [
        Upcoming(ident, network_id, starts_at, ends_at, status == CANCELLED)
        for ident, network_id, starts_at, ends_at, status in db.session.execute(
            select(
                Session.id, Session.network_id, Session.starts_at, Session.ends_at, Session.status
            )
            .where(Session.network_id.in_(periods), Session.ends_at > now)
            .order_by(Session.starts_at, Session.id)
        )
        if periods[network_id] is None
        or to_local(starts_at, zones[network_id]).date() <= periods[network_id]
    ]
    wanted = [u.id for i, u in enumerate(upcoming) if first is None or i < first or u.id in also]
    # The networks are in the session already: a session's network comes from there.
    loaded = {
        s.id: s
        for s in db.session.scalars(
            select(Session).where(Session.id.in_(wanted)).options(selectinload(Session.host))
        )
    }
    sessions = [loaded[ident] for ident in wanted if ident in loaded]
    # Thousands of answers for 200 sessions: the columns shown, not Rsvp, Contact and
    # Facility objects for each (a third of the page's time went into building those).
    answered = db.session.execute(
        select(
            Rsvp.session_id,
            Rsvp.contact_id,
            Rsvp.answer,
            Rsvp.waitlisted,
            Rsvp.note,
            Contact.facility_id,
            Contact.name,
            Contact.share_details,
            Facility.name,
        )
        .join(Contact, Contact.id == Rsvp.contact_id)
        .join(Facility, Facility.id == Contact.facility_id)
        .where(
            Rsvp.session_id.in_([s.id for s in sessions]),
            Rsvp.answer.in_((YES, MAYBE, NO)),
        )
        .order_by(Rsvp.queued_at, Rsvp.id)
    )
    mates = colleagues(contact)
    by_session: dict[int, list[Answered]] = defaultdict(list)
    for row in answered:
        by_session[row[0]].append(Answered(*row))
    rows = []
    for s in sessions:
        answers = by_session.get(s.id, [])
        confirmed = [r for r in answers if r.confirmed]
        waiting = [r for r in answers if r.answer == YES and r.waitlisted]
        own = next((r for r in answers if r.contact_id == contact.id), None)
        facilities = sorted({r.facility_name for r in confirmed}, key=str.casefold)
        people = sorted({r.name for r in confirmed if r.share_details}, key=str.casefold)
        rows.append(
            MemberSession(
                session=s,
                own=own,
                is_host=s.host_facility_id == contact.facility_id,
                closed=rules.closed_reason(
                    s.status == CANCELLED, s.starts_at, s.rsvp_deadline, now
                ),
                confirmed=len(confirmed),
                free=rules.free_seats(s.capacity, len(confirmed)),
                coming_facilities=facilities,
                coming_people=people,
                colleague_answers={
                    r.contact_id: r
                    for r in answers
                    if r.facility_id == contact.facility_id and r.contact_id != contact.id
                },
                waitlist_position=next(
                    (n for n, r in enumerate(waiting, 1) if r.contact_id == contact.id), None
                ),
            )
        )
    return MemberPage(
        contact=contact, networks=networks, sessions=rows, colleagues=mates, upcoming=upcoming
    )


# --- the facilitator's view of a session -----------------------------------------------------


@dataclass
class FacilityAnswers:
    """One member facility's people and their answers for a session."""

    facility: Facility | ExpectedFacility
    rows: list[tuple[Contact | Expected, Rsvp | None]]


@dataclass
class SessionAnswers:
    """Counts, answers per facility, the waitlist and who has not answered."""

    facilities: list[FacilityAnswers]
    waitlist: list[Rsvp]
    unanswered: list[Contact | Expected]
    counts: dict[str, int]
    free: int | None
    history: list[RsvpChange]

    @property
    def answered_facilities(self) -> list[FacilityAnswers]:
        """The facilities where someone answered: what the session page shows first (the
        others, who only have people without an answer, are one link away)."""
        return [g for g in self.facilities if any(r is not None for _c, r in g.rows)]


def session_answers(
    session: Session, expected: list[Contact] | list[Expected] | None = None
) -> SessionAnswers:
    """What the facilitator sees of a session's answers (``expected``: the session's
    expected contacts, when the caller has them already, as objects or as rows)."""
    contacts = expected if expected is not None else expected_contacts(session)
    rsvps = list(
        db.session.scalars(
            select(Rsvp)
            .where(Rsvp.session_id == session.id)
            .options(joinedload(Rsvp.contact).joinedload(Contact.facility))
            .order_by(Rsvp.queued_at, Rsvp.id)
        )
    )
    by_contact = {r.contact_id: r for r in rsvps if r.answer != WITHDRAWN}
    groups: dict[int, FacilityAnswers] = {}
    for c in contacts:
        group = groups.setdefault(c.facility_id, FacilityAnswers(c.facility, []))
        group.rows.append((c, by_contact.get(c.id)))
    live = [r for r in rsvps if r.answer != WITHDRAWN]
    confirmed = sum(1 for r in live if r.confirmed)
    counts = {
        "yes": confirmed,
        "waitlist": sum(1 for r in live if r.answer == YES and r.waitlisted),
        "maybe": sum(1 for r in live if r.answer == MAYBE),
        "no": sum(1 for r in live if r.answer == NO),
        "unanswered": sum(1 for c in contacts if c.id not in by_contact),
    }
    history = list(
        db.session.scalars(
            select(RsvpChange)
            .join(Rsvp, Rsvp.id == RsvpChange.rsvp_id)
            .where(Rsvp.session_id == session.id)
            .options(
                joinedload(RsvpChange.rsvp).joinedload(Rsvp.contact),
                joinedload(RsvpChange.by_contact),
                joinedload(RsvpChange.by_user),
            )
            .order_by(RsvpChange.changed_at.desc(), RsvpChange.id.desc())
            .limit(50)
        )
    )
    return SessionAnswers(
        facilities=sorted(groups.values(), key=lambda g: g.facility.name.casefold()),
        waitlist=[r for r in live if r.answer == YES and r.waitlisted],
        unanswered=[c for c in contacts if c.id not in by_contact],
        counts=counts,
        free=rules.free_seats(session.capacity, confirmed),
        history=history,
    )


def confirmed_counts(session_ids: list[int]) -> dict[int, int]:
    """Confirmed "yes" answers per session, in one statement."""
    if not session_ids:
        return {}
    rows = db.session.execute(
        select(Rsvp.session_id, func.count(Rsvp.id))
        .where(Rsvp.session_id.in_(session_ids), Rsvp.answer == YES, Rsvp.waitlisted.is_(False))
        .group_by(Rsvp.session_id)
    )
    return {sid: n for sid, n in rows}


# --- a member's message to the facilitators (issue 21.1) -------------------------------------


class MessageError(Exception):
    """The message cannot be sent: ``code`` says why (the session is not theirs)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def add_member_message(contact: Contact, session_id: int, body: str) -> MemberMessage:
    """Store a member's message about one of their sessions (not ended, of a network their
    facility belongs to); no commit: the caller mails it to the facilitators
    (``notify.send_member_message``). Raises :class:`MessageError`."""
    session = db.session.get(Session, session_id)
    now = utcnow()
    if session is None or session.ends_at <= now or not contact.active:
        raise MessageError("session")
    if session.network_id not in member_networks(contact.facility_id, now.date()):
        raise MessageError("session")
    message = MemberMessage(session=session, contact=contact, body=body.strip())
    db.session.add(message)
    return message


def member_messages(session_id: int) -> list[MemberMessage]:
    """The members' messages about a session, newest first, with their senders."""
    return list(
        db.session.scalars(
            select(MemberMessage)
            .where(MemberMessage.session_id == session_id)
            .options(joinedload(MemberMessage.contact).joinedload(Contact.facility))
            .order_by(MemberMessage.created_at.desc(), MemberMessage.id.desc())
        )
    )


def remember_confirm_choice(contact: Contact, wanted: bool) -> None:
    """The member's choice: a confirmation mail after each answer on the web, or not
    (commits)."""
    if contact.confirm_by_mail != wanted:
        contact.confirm_by_mail = wanted
        db.session.commit()
