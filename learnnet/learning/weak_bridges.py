"""Bridges that weaken: the member facilities a facilitator should reach out to now.

Pure: plain values in, plain values out; no Flask, no database.

A learning network lives from its members coming to each other's sessions and opening
their own doors. A facility that stops coming, or never hosts, slowly drops out; a short
mail or a call at the right time keeps it in. This module names those facilities.

The rule, exactly
-----------------
Only **current members** are named: a facility with a membership that covers ``today``.
(A facility may have several memberships of one network, left and joined again: it is a
member on a day when any of them covers that day, ``joined_on <= day <= left_on``, an
open ``left_on`` running on.)

A session **counts** when it is not cancelled, its day is not after ``today`` and its
attendance was recorded (anybody at all, present, absent or excused). A session whose
attendance nobody recorded says nothing about who came: it is left out (the dashboard
asks for it to be recorded). A facility **was there** at a counted session when one of
its people was recorded present, or when it hosted the session (its people are at
home). A counted session is **its** session when the facility was a member on that
day: a facility that joined recently is never judged on sessions before it joined.

Three reasons, each on its own:

* ``missed_last_two`` — the network's **last two** counted sessions (by day, then id)
  are both its sessions, and it was at neither. With fewer than two counted sessions,
  nobody is named for this; nor is a facility that joined after the first of the two.
* ``not_come`` — at least one counted session of the **current werkjaar** (the
  werkjaar of ``today``, 1 September – 31 August) is its session, and it was at none of
  them.
* ``not_hosted`` — the facility says it can host, it was a member on the first day of
  the **previous** werkjaar (a newcomer is not asked to host in its first full year),
  and it hosts no session (not cancelled; held, recorded or not, or still planned) from
  the first day of the previous werkjaar to the last day of the current one. One
  werkjaar without hosting is normal in a network with more members than sessions;
  more than a werkjaar, with no turn coming, is a bridge that weakens.

A facility is named once, with every reason that holds, in this order: missed the last
two, not come, not hosted; the list is sorted by the number of reasons (most first),
then by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from learnnet.attendance.rules import werkjaar_of

MISSED_LAST_TWO = "missed_last_two"
NOT_COME = "not_come"
NOT_HOSTED = "not_hosted"
REASONS = (MISSED_LAST_TWO, NOT_COME, NOT_HOSTED)


@dataclass(frozen=True)
class Stay:
    """One membership of a facility: from ``joined_on`` to ``left_on`` (open: None)."""

    joined_on: date
    left_on: date | None = None

    def covers(self, day: date) -> bool:
        """True when the facility was a member on ``day``."""
        return self.joined_on <= day and (self.left_on is None or day <= self.left_on)


@dataclass(frozen=True)
class Member:
    """A facility with its memberships of the network."""

    id: int
    name: str
    stays: tuple[Stay, ...]
    can_host: bool = True

    def member_on(self, day: date) -> bool:
        """True when one of its memberships covers ``day``."""
        for stay in self.stays:  # a loop, not any(): asked for every member and session
            if stay.joined_on <= day and (stay.left_on is None or day <= stay.left_on):
                return True
        return False


@dataclass(frozen=True)
class Meeting:
    """A session of the network: when, who hosted, whether it was cancelled, whether
    attendance was recorded, and the facilities with someone recorded present."""

    id: int
    day: date
    host_id: int
    cancelled: bool = False
    recorded: bool = False
    present_facility_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class WeakBridge:
    """A member to reach out to, with why (codes of :data:`REASONS`), the day it was
    last there (counted sessions) and the day it last hosted (sessions not cancelled up
    to today); None: never."""

    facility_id: int
    name: str
    reasons: tuple[str, ...]
    last_there: date | None
    last_hosted: date | None


def counts(meeting: Meeting, today: date) -> bool:
    """A session counts: not cancelled, not later than today, attendance recorded."""
    return not meeting.cancelled and meeting.day <= today and meeting.recorded


def was_there(meeting: Meeting, facility_id: int) -> bool:
    """Someone of the facility was recorded present, or it hosted the session."""
    return meeting.host_id == facility_id or facility_id in meeting.present_facility_ids


def weak_bridges(
    members: Iterable[Member], meetings: Sequence[Meeting], today: date
) -> list[WeakBridge]:
    """The current members to reach out to, and why (see the module docstring)."""
    start, end = werkjaar_of(today)
    previous_start = date(start.year - 1, 9, 1)
    counted = sorted((m for m in meetings if counts(m, today)), key=lambda m: (m.day, m.id))
    last_two = counted[-2:] if len(counted) >= 2 else []
    this_year = [m for m in counted if start <= m.day <= end]
    recent_hosts = {
        m.host_id for m in meetings if not m.cancelled and previous_start <= m.day <= end
    }
    # The last day each facility was there and last hosted, once for all members.
    last_there: dict[int, date] = {}
    for m in counted:  # by day: the last one written wins
        last_there[m.host_id] = m.day
        for fid in m.present_facility_ids:
            last_there[fid] = m.day
    last_hosted: dict[int, date] = {}
    for m in meetings:
        if not m.cancelled and m.day <= today and last_hosted.get(m.host_id, m.day) <= m.day:
            last_hosted[m.host_id] = m.day
    found = []
    for member in members:
        if not member.member_on(today):
            continue
        reasons = []
        if last_two and all(
            member.member_on(m.day) and not was_there(m, member.id) for m in last_two
        ):
            reasons.append(MISSED_LAST_TWO)
        mine = [m for m in this_year if member.member_on(m.day)]
        if mine and not any(was_there(m, member.id) for m in mine):
            reasons.append(NOT_COME)
        if member.can_host and member.member_on(previous_start) and member.id not in recent_hosts:
            reasons.append(NOT_HOSTED)
        if reasons:
            found.append(
                WeakBridge(
                    facility_id=member.id,
                    name=member.name,
                    reasons=tuple(reasons),
                    last_there=last_there.get(member.id),
                    last_hosted=last_hosted.get(member.id),
                )
            )
    found.sort(key=lambda w: (-len(w.reasons), w.name.casefold(), w.name, w.facility_id))
    return found
