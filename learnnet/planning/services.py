"""Use cases for planning: load what the pure planner needs (members, history, holidays,
blackouts) in a few statements, and write a planned season in one transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from learnnet import signals
from learnnet.extensions import db
from learnnet.networks.models import Contact, Facility, Membership, Network
from learnnet.planning import rotation
from learnnet.planning.recurrence import local_to_utc, utc_to_local
from learnnet.sessions.models import (
    CANCELLED,
    PLANNED,
    Blackout,
    Series,
    Session,
    Unavailability,
)
from learnnet.timefmt import to_local

DEFAULT_TITLE = "Netwerkbijeenkomst"


@functools.cache
def _belgian_holidays(year: int, language: str) -> dict[date, str]:
    import holidays as holidays_lib  # 3.5 MB, for the planner only: not in every worker

    return dict(holidays_lib.country_holidays("BE", years=year, language=language))


def public_holidays(start: date, end: date, language: str = "nl") -> dict[date, str]:
    """Belgian public holidays between two dates, named in the given language."""
    found: dict[date, str] = {}
    lang = "nl" if language.startswith("nl") else "en_US"
    for year in range(start.year, end.year + 1):
        found.update({d: n for d, n in _belgian_holidays(year, lang).items() if start <= d <= end})
    return found


def members_by_network(
    network_ids: Iterable[int], facility_ids: Iterable[int] | None = None
) -> dict[int, dict[int, rotation.Member]]:
    """The planner's facts of every facility that is or was a member, per network and by
    facility id: membership dates, room, willingness, unavailable periods and whether it
    has an active contact person. Three statements whatever the number of networks and
    members; the planner, the hosting tally and the conflict check all read them here.

    ``facility_ids`` keeps only those facilities (the conflict check needs the hosts). A
    facility that left and rejoined is one member, with its current (else latest) period.
    """
    # The columns the planner reads, not Membership and Facility objects (the timeline's
    # tally asks this for every member on every view).
    query = (
        select(
            Membership.facility_id,
            Membership.joined_on,
            Membership.left_on,
            Facility.name,
            Facility.room_capacity,
            Facility.willing_to_host,
            Membership.network_id,
        )
        .join(Facility, Facility.id == Membership.facility_id)
        .where(Membership.network_id.in_(set(network_ids)))
    )
    if facility_ids is not None:
        query = query.where(Membership.facility_id.in_(set(facility_ids)))
    memberships = db.session.execute(query).all()
    facilities = {m.facility_id for m in memberships}
    with_contact = set(
        db.session.scalars(
            select(Contact.facility_id)
            .where(Contact.facility_id.in_(facilities), Contact.active.is_(True))
            .distinct()
        )
    )
    periods: dict[int, list[rotation.Period]] = {}
    for u in db.session.scalars(
        select(Unavailability).where(Unavailability.facility_id.in_(facilities))
    ):
        periods.setdefault(u.facility_id, []).append(
            rotation.Period(u.starts_on, u.ends_on, u.reason)
        )
    # One planner member per network and facility; the current period, else the latest.
    counting: dict[int, dict[int, Any]] = {}
    for m in sorted(memberships, key=lambda m: (m.left_on is None, m.joined_on)):
        counting.setdefault(m.network_id, {})[m.facility_id] = m

    def member(m: Any) -> rotation.Member:
        return rotation.Member(
            id=m.facility_id,
            name=m.name,
            capacity=m.room_capacity,
            willing=m.willing_to_host,
            joined_on=m.joined_on,
            left_on=m.left_on,
            unavailable=tuple(periods.get(m.facility_id, ())),
            has_contact=m.facility_id in with_contact,
        )

    return {
        network_id: {facility_id: member(m) for facility_id, m in by_facility.items()}
        for network_id, by_facility in counting.items()
    }


def planner_members(network: Network) -> list[rotation.Member]:
    """Every facility that is or was a member, with membership dates and unavailability."""
    return list(members_by_network([network.id]).get(network.id, {}).values())


def hosting_history(network: Network) -> list[rotation.Hosting]:
    """Every session of the network that was not cancelled, as (host, local date)."""
    rows = db.session.execute(
        select(Session.host_facility_id, Session.starts_at).where(
            Session.network_id == network.id, Session.status != CANCELLED
        )
    )
    return [rotation.Hosting(fid, to_local(start, network.timezone).date()) for fid, start in rows]


def network_blackouts(network: Network) -> list[Blackout]:
    """The network's blackout periods, in date order."""
    return list(
        db.session.scalars(
            select(Blackout).where(Blackout.network_id == network.id).order_by(Blackout.starts_on)
        )
    )


@dataclass
class SeriesDetails:
    """What every session of a planned series shares."""

    start_time: time
    duration_minutes: int
    title: str
    rsvp_days: int | None


def build_request(
    network: Network,
    pattern: Any,
    today: date,
    count: int | None,
    until: date | None,
    expected: int | None,
    fixed_hosts: dict[date, int] | None = None,
    dropped: set[date] | None = None,
    extra_dates: list[date] | None = None,
    language: str = "nl",
) -> rotation.Request:
    """Load members, history, blackouts and holidays into a planner request."""
    horizon = (until or pattern.start + timedelta(days=3 * 366)) + timedelta(days=1)
    # Extra or listed dates may lie before the series' start: holidays cover them too.
    first = min([pattern.start, *pattern.dates, *(extra_dates or ())])
    horizon = max([horizon, *pattern.dates, *(extra_dates or ())])
    return rotation.Request(
        members=tuple(planner_members(network)),
        pattern=pattern,
        today=today,
        count=count,
        until=until,
        history=tuple(hosting_history(network)),
        expected_attendance=expected,
        holidays=public_holidays(first, horizon, language),
        blackouts=tuple(
            rotation.Period(b.starts_on, b.ends_on, b.label) for b in network_blackouts(network)
        ),
        fixed_hosts=fixed_hosts or {},
        dropped=frozenset(dropped or ()),
        extra_dates=tuple(extra_dates or ()),
    )


def session_times(network: Network, day: date, details: SeriesDetails) -> tuple[datetime, datetime]:
    """Start and end (UTC) of a series' session on a local day."""
    start = local_to_utc(day, details.start_time, network.timezone)
    local_start = utc_to_local(start, network.timezone)
    # The end is a wall-clock time too: add the duration in local time.
    local_end = local_start.replace(tzinfo=None) + timedelta(minutes=details.duration_minutes)
    end = local_to_utc(local_end.date(), local_end.time(), network.timezone)
    return start, end


def save_plan(
    network: Network,
    plan: rotation.Plan,
    details: SeriesDetails,
    series: Series | None = None,
) -> list[Session]:
    """Create the planned sessions (of a series, when given) in one transaction."""
    hosts = {
        f.id: f
        for f in db.session.scalars(
            select(Facility).where(Facility.id.in_({a.facility_id for a in plan.assignments}))
        )
    }
    sessions = []
    for a in plan.assignments:
        start, end = session_times(network, a.day, details)
        host = hosts[a.facility_id]
        session = Session(
            network=network,
            host=host,
            starts_at=start,
            ends_at=end,
            title=details.title or DEFAULT_TITLE,
            capacity=host.room_capacity,
            practical_info=practical_from(host),
            rsvp_deadline=_deadline(network, a.day, details),
            status=PLANNED,
            series=series,
        )
        db.session.add(session)
        sessions.append(session)
    db.session.flush()
    signals.sessions_planned.send(tuple(sessions))
    db.session.commit()
    return sessions


def _deadline(network: Network, day: date, details: SeriesDetails) -> datetime | None:
    """Answers close N days before, at the same wall-clock time (summer time included)."""
    if not details.rsvp_days:
        return None
    return local_to_utc(
        day - timedelta(days=details.rsvp_days), details.start_time, network.timezone
    )


def practical_from(host: Facility) -> str:
    """A new session's practical information, from its host's address and notes."""
    parts = [host.address]
    if host.parking_notes:
        parts.append(host.parking_notes)
    if host.accessibility_notes:
        parts.append(host.accessibility_notes)
    return "\n".join(p for p in parts if p)
