"""Plan a season: one call for the preview, one for the save. The view parses and renders.

``PlanInput`` is what the plan form holds once parsed; ``preview`` turns it into a plain
``PlanPreview`` (rows in date order, members passed over, rooms too small, the Flemish
school holidays over the plan's dates — applied unless the facilitator unticked one); ``save``
checks the preview the facilitator saw is still what the planner proposes and writes the
series, its sessions and the network's expected attendance in one transaction.

A plan made from a season poll (``PlanInput.poll_id``) hands the planner the poll's
answers given before closing: "kan niet" as a closed day, offers to host as the
preferred host; its rows show the "kan" count and who offered.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from learnnet import sections
from learnnet.auth.models import User
from learnnet.changes import network_scope
from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.networks.models import Contact, Membership, Network
from learnnet.planning import poll_services, rotation, schoolholidays
from learnnet.planning.poll_models import Poll
from learnnet.planning.recurrence import DATES, MONTHLY, Pattern, utc_to_local
from learnnet.planning.services import (
    SeriesDetails,
    build_request,
    hosting_history,
    members_by_network,
    planner_members,
    save_plan,
    session_times,
)
from learnnet.sessions.models import CANCELLED, Blackout, Series, Session
from learnnet.timefmt import to_local

# A facility rarely sends more than two people to a session.
PER_FACILITY = 2


class PlanProblem(ValueError):
    """Saving is refused; ``code``: ``changed``, ``empty`` or ``past``."""

    def __init__(self, code: str, day: date | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.day = day


@dataclass
class PlanInput:
    """The plan form, parsed. With ``on`` set (after a first preview) the dates are fixed:
    unticking one gives one session fewer, adding one gives one more."""

    kind: str
    start_on: date
    weekday: int = 1
    interval_weeks: int = 4
    nth: int = 2
    dates: tuple[date, ...] = ()
    count: int | None = None
    until: date | None = None
    start_time: time = time(19, 0)
    duration: int = 150
    title: str = ""
    rsvp_days: int | None = 7
    expected: int | None = None
    on: tuple[date, ...] = ()
    dropped: frozenset[date] = frozenset()
    fixed: dict[date, int] = field(default_factory=dict)
    # School holidays (by their first day) the facilitator unticked: sessions allowed in them.
    allowed: frozenset[date] = frozenset()
    # A plan from a season poll: its answers feed the planner; ``poll_dropped``: the dates
    # dropped on the poll's grid (too few can come), shown with that reason.
    poll_id: int | None = None
    poll_dropped: frozenset[date] = frozenset()

    def pattern(self, today: date) -> Pattern:
        """The dates to plan: the fixed list once adjusted, else the chosen pattern."""
        if self.on:
            return Pattern(DATES, today, dates=self.on)
        return Pattern(
            kind=self.kind,
            # A list of dates starts today: dates before it are shown as passed.
            start=today if self.kind == DATES else self.start_on,
            weekday=self.weekday,
            interval_weeks=self.interval_weeks,
            nth=self.nth,
            dates=self.dates if self.kind == DATES else (),
        )

    @property
    def details(self) -> SeriesDetails:
        """What every session of the series shares."""
        return SeriesDetails(self.start_time, self.duration, self.title, self.rsvp_days)


@dataclass
class PreviewRow:
    """One date of the preview: a planned session or a date without one (and why)."""

    day: date
    starts: datetime
    ends: datetime
    assignment: rotation.Assignment | None = None
    skip: rotation.Skip | None = None
    poll_can: int | None = None  # contacts that said "kan" in the poll (None: not polled)
    poll_offers: list[str] = field(default_factory=list)  # facilities that offered to host
    poll_dropped: bool = False  # dropped on the poll's grid: too few can come


@dataclass
class SchoolHoliday:
    """A Flemish school holiday over the plan's dates; ``applied``: no sessions in it.
    ``network_period``: the network has a period without sessions on the same days (added
    on the timeline), which applies whatever the plan says."""

    holiday: schoolholidays.Holiday
    applied: bool
    network_period: bool = False

    @property
    def school_year(self) -> int:
        return schoolholidays.school_year_of(self.holiday.start)


@dataclass
class PlanPreview:
    """Everything the preview page shows."""

    plan: rotation.Plan
    rows: list[PreviewRow]
    passed_over: list[tuple[rotation.PassedOver, str]]
    too_small: list[rotation.Member]
    expected: int | None
    expected_estimated: bool
    names: dict[int, str]
    choices: list[rotation.Member]
    signature: str
    first_in_past: date | None
    school_holidays: list[SchoolHoliday] = field(default_factory=list)
    poll: Poll | None = None  # the season poll the plan was made from

    @property
    def all_in_turn(self) -> bool:
        """True only when no rule breaks and no member is left out for a problem."""
        return (
            bool(self.plan.assignments)
            and self.plan.complete
            and not any(p.is_problem for p, _name in self.passed_over)
        )


def estimated_attendance(network: Network) -> int | None:
    """How many usually come, when nobody said: the current members' active contacts,
    at most two per facility (None for a network without contacts)."""
    return _estimates([network.id]).get(network.id)


def _estimates(network_ids: list[int]) -> dict[int, int]:
    """The estimate of :func:`estimated_attendance` for several networks, in one statement."""
    if not network_ids:
        return {}
    per_facility = (
        select(
            Membership.network_id.label("network_id"),
            func.count(Contact.id).label("n"),
        )
        .join(Contact, Contact.facility_id == Membership.facility_id)
        .where(
            Membership.network_id.in_(network_ids),
            Membership.left_on.is_(None),
            Contact.active.is_(True),
        )
        .group_by(Membership.network_id, Contact.facility_id)
        .subquery()
    )
    capped = case((per_facility.c.n > PER_FACILITY, PER_FACILITY), else_=per_facility.c.n)
    rows = db.session.execute(
        select(per_facility.c.network_id, func.sum(capped)).group_by(per_facility.c.network_id)
    )
    return {network_id: int(total) for network_id, total in rows if total}


def expected_attendance(network: Network) -> tuple[int | None, bool]:
    """The network's expected attendance and whether it is an estimate."""
    if network.expected_attendance:
        return network.expected_attendance, False
    return estimated_attendance(network), True


def signature(plan: rotation.Plan) -> str:
    """What the facilitator saw: dates and hosts. Saving refuses when the plan changed."""
    return ",".join(f"{a.day.isoformat()}:{a.facility_id}" for a in plan.assignments)


def preview(network: Network, data: PlanInput, today: date, language: str) -> PlanPreview:
    """The plan the planner proposes for the input; raises rotation.PlanningError."""
    request = build_request(
        network,
        data.pattern(today),
        today,
        len(data.on) if data.on else (data.count if data.kind != DATES else None),
        None if data.on else data.until,
        data.expected,
        data.fixed,
        set(data.dropped),
        [],
        language,
    )
    # The school holidays of every school year the plan may reach, applied by default.
    pattern = request.pattern
    reach = max([request.until or pattern.start + timedelta(days=3 * 366), *pattern.dates])
    holidays = schoolholidays.holidays_between(min([pattern.start, *pattern.dates]), reach)
    request = replace(
        request,
        school_holidays=tuple(
            rotation.Period(h.start, h.end, h.key) for h in holidays if h.start not in data.allowed
        ),
    )
    feed = _poll_feed(network, data.poll_id)
    if feed is not None:
        request = replace(request, cannot_come=feed.cannot_come, offers=feed.offers)
    plan = rotation.plan(request)
    details = data.details
    rows = []
    for assignment in plan.assignments:
        rows.append(_row(network, assignment.day, details, assignment=assignment))
    for skip in plan.skipped:
        rows.append(_row(network, skip.day, details, skip=skip))
    rows.sort(key=lambda r: r.day)
    names = {m.id: m.name for m in request.members}
    if feed is not None:
        for row in rows:
            if row.day in feed.can:
                row.poll_can = feed.can[row.day]
                row.poll_offers = [names[i] for i in feed.offered[row.day] if i in names]
            row.poll_dropped = (
                row.skip is not None
                and row.skip.code == rotation.SKIP_DROPPED
                and row.day in data.poll_dropped
            )
    # Shown: the holidays over the plan's dates, and any the facilitator unticked.
    span = (rows[0].day, rows[-1].day) if rows else None
    own = {(b.start, b.end) for b in request.blackouts}
    shown = [
        SchoolHoliday(h, h.start not in data.allowed, (h.start, h.end) in own)
        for h in holidays
        if h.start in data.allowed or (span and h.start <= span[1] and span[0] <= h.end)
    ]
    current = [m for m in request.members if m.is_member_on(today)]
    first = plan.assignments[0].day if plan.assignments else None
    return PlanPreview(
        plan=plan,
        rows=rows,
        passed_over=[(p, names[p.facility_id]) for p in rotation.passed_over(request, plan)],
        too_small=rotation.too_small(request.members, today, data.expected),
        expected=data.expected,
        expected_estimated=False,
        names=names,
        choices=sorted((m for m in current if m.willing), key=lambda m: m.name.casefold()),
        signature=signature(plan),
        first_in_past=first
        if first and session_times(network, first, details)[0] <= utcnow()
        else None,
        school_holidays=shown,
        poll=feed.poll if feed is not None else None,
    )


def _poll_feed(network: Network, poll_id: int | None) -> poll_services.PlannerFeed | None:
    """The answers of the network's poll the plan is made from (None: no such poll)."""
    if poll_id is None:
        return None
    poll = db.session.get(Poll, poll_id)
    if poll is None or poll.network_id != network.id:
        return None
    return poll_services.planner_feed(poll)


def _row(
    network: Network,
    day: date,
    details: SeriesDetails,
    assignment: rotation.Assignment | None = None,
    skip: rotation.Skip | None = None,
) -> PreviewRow:
    starts, ends = session_times(network, day, details)
    return PreviewRow(
        day=day,
        starts=utc_to_local(starts, network.timezone),
        ends=utc_to_local(ends, network.timezone),
        assignment=assignment,
        skip=skip,
    )


def save(
    network: Network,
    data: PlanInput,
    seen: str,
    user: User | None,
    today: date,
    language: str,
) -> list[Session]:
    """Save the series the facilitator saw; raises PlanProblem or rotation.PlanningError."""
    result = preview(network, data, today, language)
    if not result.plan.assignments:
        raise PlanProblem("empty")
    if result.first_in_past:
        raise PlanProblem("past", result.first_in_past)
    if seen != result.signature:
        raise PlanProblem("changed")
    series = Series(
        network=network,
        kind=data.kind,
        weekday=data.weekday,
        interval_weeks=data.interval_weeks,
        nth=data.nth,
        start_time=data.start_time,
        duration_minutes=data.duration,
        title=data.title,
        rsvp_days=data.rsvp_days,
        created_by=user,
    )
    db.session.add(series)
    if data.expected and data.expected != network.expected_attendance:
        estimate = estimated_attendance(network)
        if network.expected_attendance or data.expected != estimate:
            network.expected_attendance = data.expected  # remembered for the next plan
    return save_plan(network, result.plan, data.details, series)


@dataclass
class PlanDefaults:
    """Where a new plan starts: the previous series' pattern and the first free date."""

    kind: str = MONTHLY
    weekday: int = 1
    interval_weeks: int = 4
    nth: int = 2
    start_time: time = time(19, 0)
    duration: int = 150
    title: str = ""
    rsvp_days: int | None = 7
    start_on: date | None = None
    expected: int | None = None
    expected_estimated: bool = True


def defaults(network: Network, today: date) -> PlanDefaults:
    """The previous series of the network (if any) and the day after its last session."""
    found = PlanDefaults()
    last_series = db.session.scalar(
        select(Series)
        .where(Series.network_id == network.id)
        .order_by(Series.created_at.desc(), Series.id.desc())
        .limit(1)
    )
    if last_series is not None:
        found.kind = last_series.kind
        found.weekday = last_series.weekday
        found.interval_weeks = last_series.interval_weeks
        found.nth = last_series.nth
        found.start_time = last_series.start_time
        found.duration = last_series.duration_minutes
        found.title = last_series.title
        found.rsvp_days = last_series.rsvp_days
    last_start = db.session.scalar(
        select(func.max(Session.starts_at)).where(
            Session.network_id == network.id, Session.status != CANCELLED
        )
    )
    start = today
    if last_start is not None:
        start = max(today, to_local(last_start, network.timezone).date() + timedelta(days=1))
    found.start_on = start
    found.expected, found.expected_estimated = expected_attendance(network)
    return found


# --- conflicts after a change ------------------------------------------------------------------


@dataclass
class Flag:
    """A planned session whose host is no longer a valid choice, and what is wrong."""

    session: Session
    codes: tuple[str, ...]


def upcoming_sessions(network_ids: list[int], now: datetime) -> list[Session]:
    """The coming sessions (not cancelled) of these networks with their hosts, in time
    order, in two statements (the dashboard and the conflict check read the same)."""
    return _coming(Session.network_id.in_(network_ids), now) if network_ids else []


def sessions_by_id(ids: tuple[int, ...] | list[int], now: datetime) -> list[Session]:
    """Those of these sessions still to come (not cancelled), with their hosts, in time
    order, in two statements."""
    return _coming(Session.id.in_(ids), now) if ids else []


def _coming(which: Any, now: datetime) -> list[Session]:
    return list(
        db.session.scalars(
            select(Session)
            .where(which, Session.status != CANCELLED, Session.starts_at > now)
            .options(selectinload(Session.host))
            .order_by(Session.starts_at, Session.id)
        )
    )


def conflicts(network: Network, now: datetime | None = None) -> list[Flag]:
    """The network's upcoming sessions (not cancelled) whose host has a problem now."""
    return conflicts_for_networks([network], now).get(network.id, [])


def conflict_codes_of(session: Session, now: datetime | None = None) -> tuple[str, ...]:
    """What is wrong with a coming session's host (nothing: an empty tuple), from the
    network's kept check: the session page reads no other session for its flag."""
    now = now or utcnow()
    if session.is_cancelled or session.starts_at <= now:
        return ()
    codes = _kept_codes({session.network_id: session.network}, now, [])
    return dict(codes.get(session.network_id, ())).get(session.id, ())


def conflicts_for_networks(
    networks: list[Network], now: datetime | None = None, upcoming: list[Session] | None = None
) -> dict[int, list[Flag]]:
    """Flagged upcoming sessions per network, in a fixed number of statements (dashboard).

    ``upcoming``: the networks' sessions after ``now`` that are not cancelled, in time
    order, when the caller has them already (the dashboard does: two statements fewer).

    The check reads sessions, memberships, closures and blackouts, never an answer: it is
    kept under the networks' settled versions (:mod:`learnnet.sections`), so a page
    rendered anew after an answer takes it as it was and loads only the flagged sessions.
    """
    now = now or utcnow()
    by_id = {n.id: n for n in networks}
    if not by_id:
        return {}
    loaded: list[Session] = []  # the sessions read when the check runs here and now
    codes = _kept_codes(by_id, now, loaded, upcoming)
    flagged = {sid: found for per_network in codes.values() for sid, found in per_network}
    if not flagged:
        return {}
    if upcoming is None:
        upcoming = loaded or sessions_by_id(list(flagged), now)
    found: dict[int, list[Flag]] = {}
    for s in upcoming:
        if s.id in flagged and s.starts_at > now:
            found.setdefault(s.network_id, []).append(Flag(s, flagged[s.id]))
    return found


ConflictCodes = dict[int, tuple[tuple[int, tuple[str, ...]], ...]]


def _kept_codes(
    by_id: dict[int, Network],
    now: datetime,
    loaded: list[Session],
    upcoming: list[Session] | None = None,
) -> ConflictCodes:
    """The networks' conflict codes, kept between requests; when the check runs, the
    coming sessions it read are added to ``loaded``."""

    def check() -> ConflictCodes:
        loaded.extend(upcoming if upcoming is not None else upcoming_sessions(list(by_id), now))
        return _conflict_codes(by_id, loaded)

    return sections.kept(
        "conflicts", [network_scope(n) for n in by_id], check, key=tuple(sorted(by_id))
    )


def _conflict_codes(by_id: dict[int, Network], sessions: list[Session]) -> ConflictCodes:
    """Per network, (session id, codes) of its flagged upcoming ``sessions`` in time
    order: plain values, kept between requests."""
    if not sessions:
        return {}
    hosts = {s.host_facility_id for s in sessions}
    members = members_by_network(by_id, hosts)  # per network and host
    blackouts: dict[int, list[rotation.Period]] = {}
    for b in db.session.scalars(select(Blackout).where(Blackout.network_id.in_(by_id))):
        blackouts.setdefault(b.network_id, []).append(
            rotation.Period(b.starts_on, b.ends_on, b.label)
        )
    expected = _expected_for(list(by_id.values()))
    found: ConflictCodes = {}
    for network_id, network in by_id.items():
        mine = [s for s in sessions if s.network_id == network_id]
        if not mine:
            continue
        bookings = [
            rotation.Booking(
                s.id,
                to_local(s.starts_at, network.timezone).date(),
                s.host_facility_id,
                declined=s.host_declined_at is not None,
            )
            for s in mine
        ]
        flagged = rotation.conflicts(
            bookings,
            members.get(network_id, {}),
            blackouts.get(network_id, []),
            expected[network_id],
        )
        flags = tuple((s.id, tuple(flagged[s.id])) for s in mine if s.id in flagged)
        if flags:
            found[network_id] = flags
    return found


def _expected_for(networks: list[Network]) -> dict[int, int | None]:
    """Each network's expected attendance: its setting, else the estimate (one statement)."""
    found: dict[int, int | None] = {
        n.id: n.expected_attendance for n in networks if n.expected_attendance
    }
    rest = [n.id for n in networks if n.id not in found]
    estimates = _estimates(rest)
    for network_id in rest:
        found[network_id] = estimates.get(network_id)
    return found


def conflicts_for_facilities(
    facility_ids: tuple[int, ...] | list[int], now: datetime | None = None
) -> list[Flag]:
    """Flagged upcoming sessions hosted by any of these facilities, over all their
    networks, in a fixed number of statements (after a CSV import changed many)."""
    if not facility_ids:
        return []
    ids = set(facility_ids)
    networks = list(
        db.session.scalars(
            select(Network)
            .join(Session, Session.network_id == Network.id)
            .where(Session.host_facility_id.in_(ids))
            .distinct()
        )
    )
    flags = conflicts_for_networks(networks, now)
    found = [f for n in networks for f in flags.get(n.id, []) if f.session.host_facility_id in ids]
    return sorted(found, key=lambda f: f.session.starts_at)


def conflicts_for_facility(facility_id: int, now: datetime | None = None) -> list[Flag]:
    """Flagged upcoming sessions hosted by a facility, over all its networks."""
    networks = db.session.scalars(
        select(Network)
        .join(Session, Session.network_id == Network.id)
        .where(Session.host_facility_id == facility_id)
        .distinct()
    )
    return [
        flag
        for network in networks
        for flag in conflicts(network, now)
        if flag.session.host_facility_id == facility_id
    ]


@dataclass
class Proposal:
    """The planner's choice of another host for a flagged session, and why."""

    member: rotation.Member
    reason: rotation.Reason
    broken: tuple[str, ...]


def propose_host(session: Session, today: date) -> Proposal | None:
    """Who the planner would choose on this session's date, the session itself left out."""
    network = session.network
    day = to_local(session.starts_at, network.timezone).date()
    members = [m for m in planner_members(network) if m.id != session.host_facility_id or m.willing]
    history = [
        h
        for h in hosting_history(network)
        if not (h.day == day and h.facility_id == session.host_facility_id)
    ]
    current = [m for m in members if m.is_member_on(day) and m.willing and m.is_free_on(day)]
    candidates = [m for m in current if m.id != session.host_facility_id]
    if not candidates:
        return None
    request = rotation.Request(
        members=tuple(m for m in members if m.id != session.host_facility_id),
        pattern=Pattern(DATES, min(today, day), dates=(day,)),
        today=min(today, day),
        count=1,
        history=tuple(history),
        expected_attendance=expected_attendance(network)[0],
    )
    try:
        result = rotation.plan(request)
    except rotation.PlanningError:
        return None
    if not result.assignments:
        return None
    chosen = result.assignments[0]
    member = next(m for m in candidates if m.id == chosen.facility_id)
    return Proposal(member, chosen.reason, chosen.broken)
