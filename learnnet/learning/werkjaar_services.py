"""Use cases across a network's werkjaar: the werkjaar view (theme, goals, sessions, who
came, agreements done, the year's bridges) and the bridges that weaken on the
facilitator's dashboard.

Every loader reads plain rows in a fixed number of statements, whatever the number of
sessions, members or people; the rules live in :mod:`learnnet.learning.werkjaar` and
:mod:`learnnet.learning.weak_bridges`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy import func, select

from learnnet.attendance import bridges as bridges_module
from learnnet.attendance.models import PRESENT, Attendance
from learnnet.extensions import db
from learnnet.learning import weak_bridges as weak_rules
from learnnet.learning import werkjaar as rules
from learnnet.learning.minutes_models import PUBLISHED, ActionPoint, Minutes
from learnnet.learning.models import LearningGoal, WerkjaarTheme, session_goal
from learnnet.models import utcnow
from learnnet.networks.models import Contact, Facility, Membership, Network
from learnnet.sessions.models import CANCELLED, Session
from learnnet.timefmt import local_date, local_today


def _utc_window(first: date, last: date) -> tuple[datetime, datetime]:
    """A UTC window a day wider than [first, last] on each side: the local day of each
    session is checked afterwards, in the network's own zone."""
    return (
        datetime.combine(first - timedelta(days=1), time(), tzinfo=UTC),
        datetime.combine(last + timedelta(days=2), time(), tzinfo=UTC),
    )


def _stays(rows: Sequence[Any]) -> dict[int, list[weak_rules.Stay]]:
    stays: dict[int, list[weak_rules.Stay]] = defaultdict(list)
    for row in rows:
        stays[row.facility_id].append(weak_rules.Stay(row.joined_on, row.left_on))
    return stays


# --- the werkjaar view --------------------------------------------------------------------------


@dataclass
class NetworkYear:
    """What the werkjaar view shows: the year, its theme, the summary and the bridges
    among the members of that year."""

    start_year: int
    years: list[int]
    theme: WerkjaarTheme | None
    summary: rules.YearSummary
    members: list[bridges_module.Member]
    bridges: bridges_module.Bridges
    statuses: dict[int, str] = field(default_factory=dict)  # session id -> status


def current_year(network: Network) -> int:
    """The start year of the werkjaar today is in, where the network is."""
    return rules.start_year_of(local_today(network.timezone))


def _agreements(session_ids: list[int]) -> list[rules.Agreement]:
    """The agreements (action points) made at these sessions, from published minutes
    only: a draft's points are not agreed yet."""
    rows = db.session.execute(
        select(ActionPoint.session_id, ActionPoint.done_at.is_not(None))
        .join(Minutes, Minutes.session_id == ActionPoint.session_id)
        .where(ActionPoint.session_id.in_(session_ids), Minutes.status == PUBLISHED)
    )
    return [rules.Agreement(session_id=sid, done=bool(done)) for sid, done in rows]


def network_year(network: Network, start_year: int, now: datetime | None = None) -> NetworkYear:
    """The werkjaar view of one network, in a fixed number of statements (nine at
    most), whatever its sessions, members and people."""
    now = now or utcnow()
    first, last = rules.bounds(start_year)
    zone = network.timezone
    theme = db.session.scalar(
        select(WerkjaarTheme).where(
            WerkjaarTheme.network_id == network.id, WerkjaarTheme.start_year == start_year
        )
    )
    goals = (
        list(
            db.session.scalars(
                select(LearningGoal)
                .where(LearningGoal.theme_id == theme.id)
                .order_by(LearningGoal.position, LearningGoal.id)
            )
        )
        if theme is not None
        else []
    )
    # Which werkjaren exist at all: the days of every session and every theme.
    known_days = db.session.execute(
        select(Session.starts_at).where(Session.network_id == network.id)
    ).scalars()
    years = {rules.start_year_of(local_date(d, zone)) for d in known_days}
    years |= set(
        db.session.scalars(
            select(WerkjaarTheme.start_year).where(WerkjaarTheme.network_id == network.id)
        )
    )
    low, high = _utc_window(first, last)
    sessions = [
        row
        for row in db.session.execute(
            select(
                Session.id,
                Session.starts_at,
                Session.ends_at,
                Session.status,
                Session.host_facility_id,
                Facility.name,
            )
            .join(Facility, Facility.id == Session.host_facility_id)
            .where(
                Session.network_id == network.id,
                Session.starts_at >= low,
                Session.starts_at < high,
            )
        )
        if first <= local_date(row.starts_at, zone) <= last
    ]
    ids = [s.id for s in sessions]
    goal_ids: dict[int, list[int]] = defaultdict(list)
    for sid, gid in db.session.execute(
        select(session_goal.c.session_id, session_goal.c.goal_id).where(
            session_goal.c.session_id.in_(ids)
        )
    ):
        goal_ids[sid].append(gid)
    # The attendance room's counting: present rows per (session, facility), guests too.
    recorded: set[int] = set()
    people: dict[int, int] = defaultdict(int)
    present: dict[int, set[int]] = defaultdict(set)
    for sid, fid, status, n in db.session.execute(
        select(
            Attendance.session_id,
            Attendance.facility_id,
            Attendance.status,
            func.count(Attendance.id),
        )
        .where(Attendance.session_id.in_(ids))
        .group_by(Attendance.session_id, Attendance.facility_id, Attendance.status)
    ):
        recorded.add(sid)
        if status == PRESENT:
            people[sid] += n
            if fid is not None:
                present[sid].add(fid)
    memberships = db.session.execute(
        select(Membership.facility_id, Membership.joined_on, Membership.left_on, Facility.name)
        .join(Facility, Facility.id == Membership.facility_id)
        .where(Membership.network_id == network.id)
    ).all()
    stays = _stays(memberships)
    names = {row.facility_id: row.name for row in memberships}

    def members_on(day: date) -> frozenset[int]:
        return frozenset(fid for fid, ss in stays.items() if any(s.covers(day) for s in ss))

    year_sessions = []
    for s in sessions:
        day = local_date(s.starts_at, zone)
        cancelled = s.status == CANCELLED
        year_sessions.append(
            rules.YearSession(
                id=s.id,
                day=day,
                host_name=s.name,
                cancelled=cancelled,
                held=not cancelled and (s.id in recorded or s.ends_at <= now),
                goal_ids=tuple(goal_ids.get(s.id, ())),
                present_people=people.get(s.id, 0),
                present_facility_ids=frozenset(present.get(s.id, ())),
                member_ids=members_on(day),
            )
        )
    summary = rules.summarise(
        year_sessions,
        [rules.Goal(g.id, g.text) for g in goals],
        _agreements(ids),
    )
    # The bridges of that year: the facilities that were members at some day of it, and
    # the year's held sessions (the bridges module leaves hosts that were no member out).
    year_members = sorted(
        (
            bridges_module.Member(fid, names[fid])
            for fid, ss in stays.items()
            if any(s.joined_on <= last and (s.left_on is None or s.left_on >= first) for s in ss)
        ),
        key=lambda m: (m.name.casefold(), m.id),
    )
    hosts = {s.id: s.host_facility_id for s in sessions}
    held = [
        bridges_module.HeldSession(
            id=ys.id,
            day=ys.day,
            host_id=hosts[ys.id],
            present_facility_ids=ys.present_facility_ids,
        )
        for ys in year_sessions
        if ys.held
    ]
    return NetworkYear(
        start_year=start_year,
        years=rules.year_choices(years, current_year(network)),
        theme=theme,
        summary=summary,
        members=year_members,
        bridges=bridges_module.bridges(year_members, held),
        statuses={s.id: s.status for s in sessions},
    )


# --- bridges that weaken ------------------------------------------------------------------------


@dataclass(frozen=True)
class Reachable:
    """A contact of a named facility: how to reach her."""

    name: str
    function: str
    phone: str
    email: str


@dataclass
class WeakLine:
    """A facility to reach out to, with its contacts (active ones) and its phone."""

    bridge: weak_rules.WeakBridge
    facility_phone: str
    facility_email: str
    contacts: list[Reachable]

    @property
    def emails(self) -> list[str]:
        """Where a mail goes: the contacts' addresses, else the facility's."""
        found = [c.email for c in self.contacts if c.email]
        return found or ([self.facility_email] if self.facility_email else [])

    def mailto(self, subject: str) -> str | None:
        """A ``mailto:`` link to the facility's contacts with ``subject``; None without
        any address."""
        if not self.emails:
            return None
        to = ",".join(quote(e, safe="@.+-_") for e in self.emails)
        return f"mailto:{to}?subject={quote(subject, safe='')}"

    @property
    def phones(self) -> list[tuple[str, str]]:
        """(who, number) to call: the contacts with a number, else the facility."""
        found = [(c.name, c.phone) for c in self.contacts if c.phone]
        return found or ([("", self.facility_phone)] if self.facility_phone else [])


def weak_bridges(
    networks: Sequence[Network], today: date | None = None, detailed: int | None = None
) -> dict[int, list[WeakLine]]:
    """Per network: the members to reach out to (see :mod:`weak_bridges`), with their
    contacts, in three statements however many networks, sessions and people.

    ``detailed``: only the first lines of each network carry their contacts (the
    dashboard shows two and counts the rest; the call list wants them all: None). A
    regional network of 500 members names hundreds, and reading every contact of 2,000
    facilities to show a few was most of the dashboard's time.

    Sessions before the previous werkjaar are not read: a bridge that weakens is about
    this year and the last.
    """
    if not networks:
        return {}
    ids = [n.id for n in networks]
    todays = {n.id: today or local_today(n.timezone) for n in networks}
    earliest = min(todays.values())
    latest = max(todays.values())
    first = date(rules.start_year_of(earliest) - 1, 9, 1)
    last = rules.bounds(rules.start_year_of(latest))[1]
    low, high = _utc_window(first, last)
    # The memberships as plain columns (a facility may have several stays).
    members = db.session.execute(
        select(
            Membership.network_id,
            Membership.facility_id,
            Membership.joined_on,
            Membership.left_on,
            Facility.name,
            Facility.willing_to_host,
            Facility.phone,
            Facility.email,
        )
        .join(Facility, Facility.id == Membership.facility_id)
        .where(Membership.network_id.in_(ids))
        .order_by(Membership.id)
    ).all()
    # Sessions with every (facility, present?) pair recorded: one row per session without
    # attendance, one per facility and status otherwise.
    rows = db.session.execute(
        select(
            Session.id,
            Session.network_id,
            Session.starts_at,
            Session.status,
            Session.host_facility_id,
            Attendance.facility_id,
            Attendance.status,
        )
        .outerjoin(Attendance, Attendance.session_id == Session.id)
        .where(Session.network_id.in_(ids), Session.starts_at >= low, Session.starts_at < high)
        .distinct()
    ).all()
    zones = {n.id: n.timezone for n in networks}
    meetings: dict[int, dict[str, Any]] = {}
    for sid, nid, starts_at, status, host_id, fid, att_status in rows:
        m = meetings.setdefault(
            sid,
            {
                "network_id": nid,
                "day": local_date(starts_at, zones[nid]),
                "host_id": host_id,
                "cancelled": status == CANCELLED,
                "recorded": False,
                "present": set(),
            },
        )
        if att_status is not None:
            m["recorded"] = True
            if att_status == PRESENT and fid is not None:
                m["present"].add(fid)
    per_network: dict[int, list[weak_rules.Meeting]] = defaultdict(list)
    for sid, m in meetings.items():
        per_network[m["network_id"]].append(
            weak_rules.Meeting(
                id=sid,
                day=m["day"],
                host_id=m["host_id"],
                cancelled=m["cancelled"],
                recorded=m["recorded"],
                present_facility_ids=frozenset(m["present"]),
            )
        )
    # Rows unpacked as tuples: a Row's attribute access by name costs about as much as
    # the rule itself, for 2,000 memberships.
    grouped: dict[int, dict[int, tuple[str, bool, list[weak_rules.Stay]]]] = defaultdict(dict)
    facts: dict[tuple[int, int], tuple[str, str]] = {}
    for nid, fid, joined_on, left_on, name, willing, phone, email in members:
        known = grouped[nid].get(fid)
        if known is None:
            grouped[nid][fid] = (name, bool(willing), [weak_rules.Stay(joined_on, left_on)])
            facts[(nid, fid)] = (phone or "", email or "")
        else:
            known[2].append(weak_rules.Stay(joined_on, left_on))
    found: dict[int, list[weak_rules.WeakBridge]] = {}
    for nid in ids:
        found[nid] = weak_rules.weak_bridges(
            [
                weak_rules.Member(id=fid, name=name, stays=tuple(stays), can_host=can_host)
                for fid, (name, can_host, stays) in grouped.get(nid, {}).items()
            ],
            per_network.get(nid, []),
            todays[nid],
        )
    wanted = {w.facility_id for ws in found.values() for w in ws[:detailed]}
    # The named facilities' active contacts (the call list's numbers, the mail's addresses).
    contacts: dict[int, list[Reachable]] = defaultdict(list)
    for r in db.session.execute(
        select(Contact.facility_id, Contact.name, Contact.function, Contact.phone, Contact.email)
        .where(Contact.facility_id.in_(sorted(wanted)), Contact.active.is_(True))
        .order_by(Contact.name, Contact.id)
    ):
        contacts[r.facility_id].append(
            Reachable(r.name, r.function or "", r.phone or "", r.email or "")
        )
    return {
        nid: [
            WeakLine(w, *facts[(nid, w.facility_id)], contacts.get(w.facility_id, [])) for w in ws
        ]
        for nid, ws in found.items()
    }
