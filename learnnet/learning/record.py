"""A facility's yearly record (*jaaroverzicht*) in one network, from plain rows.

Pure: no Flask, no database. :mod:`learnnet.learning.record_services` loads the rows;
this module decides what counts. Facilities put the record in their quality dossier for
Opgroeien, so every sum follows one stated rule:

- The werkjaar runs from 1 September ``start_year`` to 31 August ``start_year + 1``
  (:func:`learnnet.attendance.rules.werkjaar_of`); a session belongs to the werkjaar of
  its *local* start date in the network's time zone (a session at 00:30 on 1 September
  in Brussels is 22:30 UTC on 31 August, and belongs to the new werkjaar).
- A session counts when it was *held*: not cancelled, and either ended by ``now`` or with
  attendance recorded (like the attendance report). A cancelled session counts nowhere:
  not as attended, not as hosted, not for its goals, action points or answers.
- *Attended*: a held session at which at least one person of the facility (the facility
  recorded on the attendance row) was present. *By whom*: each person present, with
  their sessions and hours.
- *Hours*: a person's learning hours at a session are the session's length rounded to a
  quarter of an hour (:func:`learnnet.attendance.rules.hours`, the rule the certificate
  uses), counted only when present. The facility's total is the sum over its people, so
  it equals the sum of its contacts' certificates for the networks' sessions.
- *Held while a member*: held sessions on a day the facility was a member (joined on or
  before, left on or after). A facility that left mid-year keeps its record up to then.
- *Hosted*: held sessions at the facility.
- *Goals covered*: the learning goals the attended sessions served, in the theme's order,
  with how many attended sessions served each.
- *Action points*: those made at the werkjaar's held sessions and owned by the facility
  (or one of its people), with whether they were done and the line on how it went.
- *What we shared*: text answers of the facility's own people to the evaluations of the
  werkjaar's held sessions that they chose to share (``share``), without names.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from learnnet.attendance import rules as attendance_rules
from learnnet.timefmt import local_date

PRESENT = "present"


# --- the rows in ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionRow:
    """A session of the network (cancelled ones too: the rules drop them)."""

    id: int
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC
    title: str
    host_facility_id: int
    host_name: str
    cancelled: bool
    has_attendance: bool = False  # any attendance recorded (of anyone)


@dataclass(frozen=True)
class PresenceRow:
    """One attendance row: who, of which facility (as recorded), with which status."""

    session_id: int
    facility_id: int | None
    contact_id: int | None
    person_name: str
    status: str


@dataclass(frozen=True)
class MembershipRow:
    """One membership of the facility in the network."""

    joined_on: date
    left_on: date | None


@dataclass(frozen=True)
class GoalRow:
    """A learning goal a session served (one row per session and goal)."""

    session_id: int
    goal_id: int
    theme: str
    position: int
    text: str


@dataclass(frozen=True)
class ActionPointRow:
    """An action point from a session's minutes, with its owner resolved to a facility."""

    id: int
    session_id: int
    what: str
    owner_facility_id: int | None  # the owning facility, or the owning contact's
    owner_name: str  # the facility's or the contact's name
    due_on: date | None
    done: bool
    notes: tuple[str, ...] = ()  # the owner's lines on how it went, oldest first


@dataclass(frozen=True)
class AnswerRow:
    """A text answer to a session's evaluation."""

    session_id: int
    facility_id: int | None
    question: str
    text: str
    share: bool


# --- the record out --------------------------------------------------------------------------


@dataclass(frozen=True)
class AttendedSession:
    """A held session the facility attended: who was there, hours per person."""

    session_id: int
    day: date
    title: str
    host_name: str
    hours: float  # per person present
    people: tuple[str, ...]

    @property
    def person_hours(self) -> float:
        """The hours of everyone of the facility present at it."""
        return self.hours * len(self.people)


@dataclass(frozen=True)
class Person:
    """Someone of the facility who was present at least once."""

    name: str
    sessions: int
    hours: float


@dataclass(frozen=True)
class HostedSession:
    """A held session at the facility."""

    session_id: int
    day: date
    title: str


@dataclass(frozen=True)
class GoalCovered:
    """A learning goal the attended sessions served, and how many of them."""

    goal_id: int
    theme: str
    text: str
    sessions: int


@dataclass(frozen=True)
class ActionPoint:
    """The facility's action point, with the day of the session that made it."""

    id: int
    session_day: date
    what: str
    owner_name: str
    due_on: date | None
    done: bool
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Quote:
    """A shared evaluation answer, without a name."""

    day: date
    question: str
    text: str


@dataclass(frozen=True)
class YearRecord:
    """The facility's jaaroverzicht in one network for one werkjaar."""

    start_year: int
    first_day: date
    last_day: date
    member_from: date | None  # within the werkjaar; None when never a member in it
    member_until: date | None  # the day it left, when within the werkjaar
    held_as_member: int
    attended: tuple[AttendedSession, ...]
    people: tuple[Person, ...]
    hosted: tuple[HostedSession, ...]
    goals: tuple[GoalCovered, ...]
    action_points: tuple[ActionPoint, ...]
    quotes: tuple[Quote, ...]

    @property
    def label(self) -> str:
        """'2026-2027', as ``?werkjaar=`` takes it."""
        return werkjaar_label(self.start_year)

    @property
    def total_hours(self) -> float:
        """Learning hours of all the facility's people together, rounded to hundredths."""
        return round(sum(p.hours for p in self.people), 2)

    @property
    def action_points_done(self) -> int:
        """How many of its action points are done."""
        return sum(1 for a in self.action_points if a.done)

    @property
    def themes(self) -> tuple[str, ...]:
        """The themes of the goals covered, in order of first appearance."""
        return tuple(dict.fromkeys(g.theme for g in self.goals))


# --- rules -----------------------------------------------------------------------------------


def werkjaar_bounds(start_year: int) -> tuple[date, date]:
    """First and last day of the werkjaar starting in September ``start_year``."""
    return attendance_rules.werkjaar_of(date(start_year, 9, 1))


def werkjaar_label(start_year: int) -> str:
    """'2026-2027'."""
    return f"{start_year}-{start_year + 1}"


def parse_werkjaar(value: str | None) -> int | None:
    """'2026-2027' → 2026; anything else None."""
    bounds = attendance_rules.period(value or "")
    if bounds is None or bounds[0].month != 9:
        return None
    return bounds[0].year


def start_year_of(day: date) -> int:
    """The start year of the werkjaar that holds ``day``."""
    return attendance_rules.werkjaar_of(day)[0].year


def werkjaren(memberships: Iterable[MembershipRow], today: date) -> list[int]:
    """The werkjaren in which the facility was a member at some day up to ``today``,
    newest first: the years a record can be asked for."""
    years: set[int] = set()
    for m in memberships:
        last = min(m.left_on, today) if m.left_on else today
        if last < m.joined_on:
            continue
        years.update(range(start_year_of(m.joined_on), start_year_of(last) + 1))
    return sorted(years, reverse=True)


def _is_member(day: date, memberships: Sequence[MembershipRow]) -> bool:
    return any(m.joined_on <= day and (m.left_on is None or day <= m.left_on) for m in memberships)


def year_record(
    *,
    facility_id: int,
    start_year: int,
    timezone: str,
    now: datetime,
    sessions: Iterable[SessionRow],
    presence: Iterable[PresenceRow],
    memberships: Iterable[MembershipRow],
    goals: Iterable[GoalRow] = (),
    action_points: Iterable[ActionPointRow] = (),
    answers: Iterable[AnswerRow] = (),
) -> YearRecord:
    """The facility's yearly record from the network's rows (see the module docstring)."""
    first, last = werkjaar_bounds(start_year)
    member_rows = list(memberships)
    held: dict[int, tuple[SessionRow, date]] = {}
    for s in sessions:
        day = local_date(s.starts_at, timezone)
        if s.cancelled or not (first <= day <= last):
            continue
        if s.has_attendance or s.ends_at <= now:
            held[s.id] = (s, day)

    people_at: dict[int, dict[tuple[str, object], str]] = defaultdict(dict)
    for p in presence:
        if p.status == PRESENT and p.facility_id == facility_id and p.session_id in held:
            key = ("c", p.contact_id) if p.contact_id is not None else ("n", p.person_name)
            people_at[p.session_id][key] = p.person_name

    attended: list[AttendedSession] = []
    per_person: dict[tuple[str, object], list[float]] = defaultdict(list)
    names: dict[tuple[str, object], str] = {}
    for session_id, who in people_at.items():
        s, day = held[session_id]
        hours = attendance_rules.hours(s.starts_at, s.ends_at)
        attended.append(
            AttendedSession(
                session_id=s.id,
                day=day,
                title=s.title,
                host_name=s.host_name,
                hours=hours,
                people=tuple(sorted(who.values(), key=str.casefold)),
            )
        )
        for key, name in who.items():
            per_person[key].append(hours)
            names[key] = name
    attended.sort(key=lambda a: (a.day, a.session_id))
    people = sorted(
        (Person(names[k], len(h), round(sum(h), 2)) for k, h in per_person.items()),
        key=lambda p: (p.name.casefold(), p.name),
    )

    hosted = sorted(
        (
            HostedSession(s.id, day, s.title)
            for s, day in held.values()
            if s.host_facility_id == facility_id
        ),
        key=lambda h: (h.day, h.session_id),
    )

    served: dict[int, GoalRow] = {}
    counts: dict[int, int] = defaultdict(int)
    seen: set[tuple[int, int]] = set()
    for g in goals:
        if g.session_id in people_at and (g.session_id, g.goal_id) not in seen:
            seen.add((g.session_id, g.goal_id))
            served[g.goal_id] = g
            counts[g.goal_id] += 1
    covered = sorted(
        (GoalCovered(g.goal_id, g.theme, g.text, counts[g.goal_id]) for g in served.values()),
        key=lambda g: (served[g.goal_id].theme.casefold(), served[g.goal_id].position, g.goal_id),
    )

    points = sorted(
        (
            ActionPoint(
                a.id, held[a.session_id][1], a.what, a.owner_name, a.due_on, a.done, a.notes
            )
            for a in action_points
            if a.owner_facility_id == facility_id and a.session_id in held
        ),
        key=lambda a: (a.session_day, a.due_on or a.session_day, a.id),
    )

    quotes = sorted(
        (
            Quote(held[a.session_id][1], a.question, a.text.strip())
            for a in answers
            if a.share and a.facility_id == facility_id and a.session_id in held and a.text.strip()
        ),
        key=lambda q: (q.day, q.question, q.text),
    )

    spans = [
        (max(m.joined_on, first), min(m.left_on, last) if m.left_on else last) for m in member_rows
    ]
    spans = [(a, b) for a, b in spans if a <= b]
    member_from = min((a for a, _b in spans), default=None)
    ends = [m.left_on for m in member_rows if m.left_on and first <= m.left_on <= last]
    still = any(
        m.joined_on <= last and (m.left_on is None or m.left_on > last) for m in member_rows
    )
    member_until = None if still or not ends else max(ends)

    return YearRecord(
        start_year=start_year,
        first_day=first,
        last_day=last,
        member_from=member_from,
        member_until=member_until,
        held_as_member=sum(1 for _s, day in held.values() if _is_member(day, member_rows)),
        attended=tuple(attended),
        people=tuple(people),
        hosted=tuple(hosted),
        goals=tuple(covered),
        action_points=tuple(points),
        quotes=tuple(quotes),
    )
