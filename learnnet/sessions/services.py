"""Use cases for sessions after planning: move, swap, cancel, add; the tally; blackouts and
unavailability. The web layer passes plain values; each change is one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import selectinload

from learnnet import signals
from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.networks.models import Facility, Membership, Network
from learnnet.planning import rotation, schoolholidays
from learnnet.planning.recurrence import local_to_utc
from learnnet.planning.services import (
    DEFAULT_TITLE,
    hosting_history,
    network_blackouts,
    planner_members,
    practical_from,
    public_holidays,
)
from learnnet.sessions.before import Before, snapshot
from learnnet.sessions.models import (
    CANCELLED,
    CONFIRMED,
    PLANNED,
    Blackout,
    Session,
    Unavailability,
)
from learnnet.timefmt import to_local


class SchedulingError(ValueError):
    """A change that a rule forbids; ``field`` names the form field for the message."""

    def __init__(self, field: str, code: str) -> None:
        super().__init__(code)
        self.field = field
        self.code = code


# --- sessions after planning ------------------------------------------------------------------


def sessions_of(network: Network) -> list[Session]:
    """All sessions of the network with their hosts, in time order."""
    return list(
        db.session.scalars(
            select(Session)
            .where(Session.network_id == network.id)
            .options(selectinload(Session.host), selectinload(Session.host_confirmed_by))
            .order_by(Session.starts_at)
        )
    )


@dataclass
class TimelineSessions:
    """What the timeline lists: the coming sessions, the latest past ones (newest first),
    how many older ones are one link away, and every session's title (for the usual one)."""

    upcoming: list[Session]
    past: list[Session]
    older: int
    titles: list[str]


def timeline_sessions(network: Network, now: datetime, past_shown: int | None) -> TimelineSessions:
    """The sessions the timeline shows as objects with their hosts, the others as columns.

    A network with years of history has hundreds of past sessions; the timeline shows
    ``past_shown`` of them (all when None), and building the rest with their hosts cost
    more than rendering the page's rows.
    """
    outline = db.session.execute(
        select(Session.id, Session.title, Session.ends_at)
        .where(Session.network_id == network.id)
        .order_by(Session.starts_at)
    ).all()
    coming = [ident for ident, _title, ends_at in outline if ends_at > now]
    past = [ident for ident, _title, ends_at in reversed(outline) if ends_at <= now]
    shown = past if past_shown is None else past[:past_shown]
    loaded = {
        s.id: s
        for s in db.session.scalars(
            select(Session)
            .where(Session.id.in_(coming + shown))
            .options(selectinload(Session.host), selectinload(Session.host_confirmed_by))
        )
    }
    return TimelineSessions(
        upcoming=[loaded[i] for i in coming],
        past=[loaded[i] for i in shown],
        older=len(past) - len(shown),
        titles=[title for _ident, title, _ends_at in outline],
    )


def current_member_names(network: Network) -> list[tuple[int, str]]:
    """(facility id, name) of the current members, by name: the hosts one can choose."""
    rows = db.session.execute(
        select(Facility.id, Facility.name)
        .join(Membership, Membership.facility_id == Facility.id)
        .where(Membership.network_id == network.id, Membership.left_on.is_(None))
        .order_by(Facility.name_key)
    )
    return [(fid, name) for fid, name in rows]


def unavailability_of(facility: Facility) -> list[Unavailability]:
    """The facility's unavailable periods, in date order."""
    return list(
        db.session.scalars(
            select(Unavailability)
            .where(Unavailability.facility_id == facility.id)
            .order_by(Unavailability.starts_on)
        )
    )


def _check_host(network: Network, facility_id: int, day: date) -> Facility:
    membership = db.session.scalar(
        select(Membership).where(
            Membership.network_id == network.id,
            Membership.facility_id == facility_id,
            Membership.joined_on <= day,
            (Membership.left_on.is_(None)) | (Membership.left_on >= day),
        )
    )
    if membership is None:
        raise SchedulingError("host_id", "not_member")
    return db.session.get(Facility, facility_id)  # type: ignore[return-value]


def _check_times(start: datetime, end: datetime, now: datetime) -> None:
    if end <= start:
        raise SchedulingError("end_time", "end_before_start")
    if start < now:
        raise SchedulingError("day", "in_past")


def _check_overlap(
    network: Network, start: datetime, end: datetime, exclude_id: int | None
) -> None:
    query = select(Session.id).where(
        Session.network_id == network.id,
        Session.status != CANCELLED,
        Session.starts_at < end,
        Session.ends_at > start,
    )
    if exclude_id is not None:
        query = query.where(Session.id != exclude_id)
    if db.session.scalar(query.limit(1)) is not None:
        raise SchedulingError("day", "overlap")


def _check_changeable(session: Session, now: datetime, field: str = "day") -> None:
    """Held and cancelled sessions are history: they are not moved, swapped or cancelled."""
    if session.is_cancelled:
        raise SchedulingError(field, "cancelled")
    if session.ends_at <= now:
        raise SchedulingError(field, "ended")


def _capacity_raised(old: int | None, new: int | None) -> bool:
    """True when a session can seat more people than before (None: no limit)."""
    return old is not None and (new is None or new > old)


def _changed_host(session: Session, host: Facility) -> None:
    """Another host: its room, its practical information; what the old host was going
    to show is not the new host's (the new host fills it in), so it goes."""
    if host.id != session.host_facility_id:
        session.host = host
        session.capacity = host.room_capacity
        session.practical_info = practical_from(host)
        session.host_showcase = ""
        _reset_confirmation(session)  # a new host has to confirm again


def _reset_confirmation(session: Session) -> None:
    """The host's answer (yes or no) was for another host or date: ask again."""
    if session.status == CONFIRMED:
        session.status = PLANNED
    session.host_confirmed_at = None
    session.host_confirmed_by_id = None
    _clear_decline(session)


def _clear_decline(session: Session) -> None:
    session.host_declined_at = None
    session.host_declined_by_id = None
    session.host_declined_reason = ""


def move_session(
    session: Session, day: date, start: time, end: time, host_id: int, now: datetime | None = None
) -> bool:
    """Change date, times and host; True when something that matters to calendars changed."""
    now = now or utcnow()
    _check_changeable(session, now)
    network = session.network
    starts_at = local_to_utc(day, start, network.timezone)
    ends_at = local_to_utc(day, end, network.timezone)
    _check_times(starts_at, ends_at, now)
    _check_overlap(network, starts_at, ends_at, session.id)
    host = _check_host(network, host_id, day)
    changed = (
        starts_at != session.starts_at
        or ends_at != session.ends_at
        or host.id != session.host_facility_id
    )
    old_host, old_capacity = session.host_facility_id, session.capacity
    was = snapshot(session)
    if session.rsvp_deadline is not None and starts_at != session.starts_at:
        session.rsvp_deadline = session.rsvp_deadline + (starts_at - session.starts_at)
    moved = starts_at != session.starts_at
    session.starts_at, session.ends_at = starts_at, ends_at
    _changed_host(session, host)
    if moved:
        _reset_confirmation(session)  # the host agreed to the old date
    if changed:
        session.revision += 1
        what = set()
        if moved or ends_at != session.ends_at:
            what.add("time")
        if host.id != old_host:
            what.add("place")
        if _capacity_raised(old_capacity, session.capacity):
            what.add("capacity")  # a bigger room: the waitlist moves up
        signals.session_changed.send(session, changes=frozenset(what or {"time"}), before=was)
    db.session.commit()
    return changed


#: A facility's attributes that make up a session's place (the calendar's LOCATION).
PLACE_FIELDS = frozenset({"name", "street", "postcode", "city"})


def host_relocated(facility: Facility, changed: frozenset[str], now: datetime | None = None) -> int:
    """The host's name or address changed: each of its sessions still to come (not
    cancelled) is in a new place, a change that matters to calendars like a new host:
    a new revision (SEQUENCE, LAST-MODIFIED) and an update to everyone invited (no
    commit: the caller's). Returns how many sessions changed."""
    if not changed & PLACE_FIELDS:
        return 0
    old_place = _old_place(facility)  # before the query below flushes the new values
    now = now or utcnow()
    sessions = list(
        db.session.scalars(
            select(Session)
            .where(
                Session.host_facility_id == facility.id,
                Session.status != CANCELLED,
                Session.ends_at > now,
            )
            .order_by(Session.id)
        )
    )
    count = 0
    for session in sessions:
        session.revision += 1
        was = Before(session.starts_at, session.ends_at, session.network.timezone, *old_place)
        _readdress_practical(session, old_place[1], facility.address)
        signals.session_changed.send(session, changes=frozenset({"place"}), before=was)
        count += 1
    return count


def _old_place(facility: Facility) -> tuple[str, str]:
    """The facility's name and address before the changes not yet flushed (read from the
    attributes' history, so call it before any query autoflushes them)."""
    state = inspect(facility)

    def old(name: str) -> str:
        history = state.attrs[name].history
        return str(history.deleted[0]) if history.deleted else str(getattr(facility, name))

    address = ", ".join(p for p in (old("street"), f"{old('postcode')} {old('city')}".strip()) if p)
    return old("name"), address


def _readdress_practical(session: Session, old_address: str, new_address: str) -> None:
    """The practical information starts with the host's address (see
    :func:`practical_from`): a moved host's old address there would send people to the
    wrong door. Only that line is replaced; what the host wrote stays."""
    if not old_address or old_address == new_address:
        return
    lines = session.practical_info.split("\n")
    if lines and lines[0] == old_address:
        session.practical_info = "\n".join([new_address, *lines[1:]])


def swap_hosts(first: Session, second: Session) -> None:
    """Exchange the hosts of two sessions of the same network."""
    if first.network_id != second.network_id or first.id == second.id:
        raise SchedulingError("other_id", "same")
    now = utcnow()
    _check_changeable(first, now, "other_id")
    _check_changeable(second, now, "other_id")
    a_host, b_host = first.host, second.host
    capacities = (first.capacity, second.capacity)
    befores = (snapshot(first), snapshot(second))
    _check_host(first.network, b_host.id, to_local(first.starts_at, first.network.timezone).date())
    _check_host(first.network, a_host.id, to_local(second.starts_at, first.network.timezone).date())
    _changed_host(first, b_host)
    _changed_host(second, a_host)
    first.revision += 1
    second.revision += 1
    for session, old_capacity, was in zip((first, second), capacities, befores, strict=True):
        changes = {"place"}
        if _capacity_raised(old_capacity, session.capacity):
            changes.add("capacity")
        signals.session_changed.send(session, changes=frozenset(changes), before=was)
    db.session.commit()


def cancel_session(session: Session, reason: str = "") -> None:
    """Cancel: the session stays, shown as cancelled; calendars get the change. The
    facilitator's ``reason`` (optional) goes into the cancellation mail."""
    if session.is_cancelled:
        return
    _check_changeable(session, utcnow())
    session.status = CANCELLED
    session.cancel_reason = reason.strip()
    session.revision += 1
    signals.session_changed.send(session, changes=frozenset({"cancelled"}))
    db.session.commit()


def add_session(
    network: Network,
    day: date,
    start: time,
    end: time,
    host_id: int,
    title: str,
    now: datetime | None = None,
) -> Session:
    """One extra session outside a series."""
    starts_at = local_to_utc(day, start, network.timezone)
    ends_at = local_to_utc(day, end, network.timezone)
    _check_times(starts_at, ends_at, now or utcnow())
    _check_overlap(network, starts_at, ends_at, None)
    host = _check_host(network, host_id, day)
    session = Session(
        network=network,
        host=host,
        starts_at=starts_at,
        ends_at=ends_at,
        title=title or DEFAULT_TITLE,
        capacity=host.room_capacity,
        practical_info=practical_from(host),
        status=PLANNED,
    )
    db.session.add(session)
    db.session.flush()
    signals.sessions_planned.send((session,))
    db.session.commit()
    return session


def update_details(session: Session, data: dict[str, Any]) -> None:
    """Title, agenda, what the host shows, practical information, capacity, deadline."""
    old_capacity = session.capacity
    for key, value in data.items():
        setattr(session, key, value)
    if _capacity_raised(
        old_capacity, session.capacity
    ):  # seats came free: the waitlist moves up (in the same transaction)
        signals.session_changed.send(session, changes=frozenset({"capacity"}))
    db.session.commit()


def confirm_host(session: Session, contact_id: int) -> None:
    """A contact of the host facility confirms that they host (also after a "no")."""
    session.status = CONFIRMED
    session.host_confirmed_at = utcnow()
    session.host_confirmed_by_id = contact_id
    _clear_decline(session)
    db.session.commit()


def decline_host(session: Session, contact_id: int, reason: str) -> None:
    """A contact of the host facility says it cannot host: the session is flagged (the
    planner's conflict check reads ``host_declined_at``) until the facilitator chooses
    another host or the host confirms after all. No commit: the caller queues the
    facilitator's message in the same transaction."""
    if session.status == CONFIRMED:
        session.status = PLANNED
    session.host_confirmed_at = None
    session.host_confirmed_by_id = None
    session.host_declined_at = utcnow()
    session.host_declined_by_id = contact_id
    session.host_declined_reason = reason.strip()


def update_host_details(session: Session, showcase: str, practical: str) -> None:
    """The host fills in what it will show and the practical information (parking,
    entrance); the audit trail records the change with the contact as its author."""
    session.host_showcase = showcase.strip()
    session.practical_info = practical.strip()
    db.session.commit()


def next_sessions(network_ids: list[int], now: datetime) -> dict[int, Session]:
    """The next session (not cancelled) of each network, in two statements."""
    if not network_ids:
        return {}
    first = (
        select(Session.network_id, func.min(Session.starts_at).label("starts_at"))
        .where(
            Session.network_id.in_(network_ids),
            Session.status != CANCELLED,
            Session.starts_at > now,
        )
        .group_by(Session.network_id)
        .subquery()
    )
    rows = db.session.scalars(
        select(Session)
        .join(
            first,
            (first.c.network_id == Session.network_id) & (first.c.starts_at == Session.starts_at),
        )
        .where(Session.status != CANCELLED)
        .options(selectinload(Session.host))
    )
    return {s.network_id: s for s in rows}


def date_warnings(
    network: Network, facility_id: int, day: date, language: str = "nl"
) -> list[rotation.Skip]:
    """Why the planner would not have chosen this host on this day (for a single change).

    Moving or adding one session is the facilitator's decision, so these are warnings,
    not refusals: the host's unavailability, a public holiday, a period without sessions.
    """
    found: list[rotation.Skip] = []
    unavailable = db.session.scalar(
        select(Unavailability).where(
            Unavailability.facility_id == facility_id,
            Unavailability.starts_on <= day,
            Unavailability.ends_on >= day,
        )
    )
    if unavailable is not None:
        found.append(rotation.Skip(day, "host_unavailable", unavailable.reason))
    holiday = public_holidays(day, day, language).get(day)
    if holiday:
        found.append(rotation.Skip(day, rotation.SKIP_HOLIDAY, holiday))
    for blackout in network_blackouts(network):
        if blackout.starts_on <= day <= blackout.ends_on:
            found.append(rotation.Skip(day, rotation.SKIP_BLACKOUT, blackout.label))
    return found


def future_hosting(facility_id: int, network: Network, after: datetime) -> int:
    """How many sessions of the network, not cancelled, the facility hosts after a moment."""
    return int(
        db.session.scalar(
            select(func.count(Session.id)).where(
                Session.network_id == network.id,
                Session.host_facility_id == facility_id,
                Session.status != CANCELLED,
                Session.starts_at > after,
            )
        )
        or 0
    )


# --- tally ------------------------------------------------------------------------------------


@dataclass
class TallyRow:
    """How often a current member hosted, when last, its turn in this round, its place in line.

    ``turn``: ``hosted`` (had its turn this round, on ``turn_day``), ``planned`` (its turn
    is planned on ``turn_day``), ``to_come`` (still owed a turn), or ``none`` (takes no
    turns: does not host, no contact person, or a room too small, see ``why``).
    """

    facility: Facility
    count: int
    planned: int
    last: date | None
    next_planned: date | None
    position: int | None
    willing: bool
    turn: str = "to_come"
    turn_day: date | None = None
    why: str = ""


@dataclass
class Tally:
    """The hosting tally of a network: the rows, the running round and the attendance used."""

    rows: list[TallyRow]
    round_number: int
    expected: int | None


def hosting_tally(
    network: Network,
    today: date,
    expected: int | None = None,
    members: list[rotation.Member] | None = None,
    history: list[rotation.Hosting] | None = None,
) -> Tally:
    """Current members: turns in the running round, counts, and their place in the queue.

    The round is the one running today (held sessions); the queue counts planned sessions
    too: it is the order in which the planner would pick hosts after those already planned.
    """
    members = members if members is not None else planner_members(network)
    history = history if history is not None else hosting_history(network)
    current = {m.id for m in members if m.is_member_on(today)}
    past = [h for h in history if h.day <= today]
    state = rotation.rounds_on(members, past, today, expected)
    # The queue after the sessions already planned: as on the day after the last one.
    after = max([today, *(h.day for h in history)]) + timedelta(days=1)
    order = [
        m.id for m in rotation.next_in_line(members, history, after, expected) if m.id in current
    ]
    places = {ident: n for n, ident in enumerate(order, 1)}  # not order.index() per row
    facilities = {
        f.id: f for f in db.session.scalars(select(Facility).where(Facility.id.in_(current)))
    }
    mine_past: dict[int, list[date]] = {}
    mine_future: dict[int, list[date]] = {}
    for h in history:
        (mine_past if h.day <= today else mine_future).setdefault(h.facility_id, []).append(h.day)
    rows = []
    hosted = state.hosted  # a property that walks every member: once, not once per row
    for m in members:
        if m.id not in current:
            continue
        held = mine_past.get(m.id, [])
        upcoming = sorted(mine_future.get(m.id, []))
        row = TallyRow(
            facility=facilities[m.id],
            count=len(held),
            planned=len(upcoming),
            last=max(held) if held else None,
            next_planned=upcoming[0] if upcoming else None,
            position=places.get(m.id),
            willing=m.willing,
        )
        if m.id not in state.takers:
            row.turn = "none"
            row.why = (
                "not_willing"
                if not m.willing
                else "no_contact"
                if not m.has_contact
                else "too_small"
            )
        elif m.id in hosted:
            row.turn, row.turn_day = "hosted", state.last.get(m.id)
        elif upcoming:
            row.turn, row.turn_day = "planned", upcoming[0]
        rows.append(row)
    rows.sort(key=lambda r: (r.position is None, r.position or 0, r.facility.name.casefold()))
    return Tally(rows=rows, round_number=state.completed + 1, expected=expected)


# --- blackouts and unavailability -------------------------------------------------------------


def _add_period(period: Blackout | Unavailability) -> None:
    if period.ends_on < period.starts_on:
        raise SchedulingError("ends_on", "end_before_start")
    db.session.add(period)
    db.session.commit()


def add_blackout(network: Network, start: date, end: date, label: str) -> Blackout:
    """A period without sessions for the network."""
    blackout = Blackout(network=network, starts_on=start, ends_on=end, label=label)
    _add_period(blackout)
    return blackout


def add_school_holidays(
    network: Network, school_year: int, labels: dict[str, str]
) -> list[Blackout]:
    """The Flemish school holidays of a school year as periods without sessions.

    Holidays the network already has (same first and last day) are not added twice;
    ``labels`` names each holiday key in the facilitator's language.
    """
    existing = {(b.starts_on, b.ends_on) for b in network_blackouts(network)}
    added = []
    for holiday in schoolholidays.school_holidays(school_year):
        if (holiday.start, holiday.end) in existing:
            continue
        blackout = Blackout(
            network=network,
            starts_on=holiday.start,
            ends_on=holiday.end,
            label=labels[holiday.key],
        )
        db.session.add(blackout)
        added.append(blackout)
    db.session.commit()
    return added


def add_unavailability(facility: Facility, start: date, end: date, reason: str) -> Unavailability:
    """Days a facility cannot host."""
    period = Unavailability(facility=facility, starts_on=start, ends_on=end, reason=reason)
    _add_period(period)
    return period


def remove_period(period: Blackout | Unavailability) -> None:
    """Delete a blackout or unavailable period (no history depends on them)."""
    db.session.delete(period)
    db.session.commit()
