"""An independent reading of the planner's rules, for the tests: no code shared with rotation.py.

``evaluate`` marks the rules each new session breaks over the final timeline (history and
plan together), walking the rounds as the README defines them. ``brute_force`` tries every
choice of host for every date and returns the lowest cost.
"""

from __future__ import annotations

import itertools
from datetime import date

# Most important first: plans compare rule by rule.
PRIORITY = ("unavailable", "contact", "capacity", "consecutive", "fairness")


def _takes_turns(member, day: date, expected: int | None) -> bool:
    in_network = (member.joined_on is None or member.joined_on <= day) and (
        member.left_on is None or day <= member.left_on
    )
    fits = expected is None or member.capacity is None or member.capacity >= expected
    return in_network and member.willing and member.has_contact and fits


def _owed(members, day: date, expected: int | None) -> set[int]:
    owed = {m.id for m in members if _takes_turns(m, day, expected)}
    if owed:
        return owed
    return {
        m.id
        for m in members
        if m.willing
        and (m.joined_on is None or m.joined_on <= day)
        and (m.left_on is None or day <= m.left_on)
    }


def evaluate(request, plan: list[tuple[date, int]]) -> list[tuple[str, ...]]:
    """The rules each planned session breaks, in plan order."""
    by_id = {m.id: m for m in request.members}
    expected = request.expected_attendance
    timeline = sorted(
        [(h.day, h.facility_id, False) for h in request.history] + [(d, f, True) for d, f in plan],
        key=lambda row: row[0],
    )
    hosted_this_round: dict[int, int] = {}
    marks: dict[date, tuple[str, ...]] = {}

    def end_rounds(day: date) -> None:
        owed = _owed(request.members, day, expected)
        while owed and all(hosted_this_round.get(i, 0) > 0 for i in owed):
            for key in hosted_this_round:
                hosted_this_round[key] = max(0, hosted_this_round[key] - 1)

    for index, (day, host, new) in enumerate(timeline):
        end_rounds(day)
        if new:
            member = by_id[host]
            broken = []
            if hosted_this_round.get(host, 0) > 0:
                broken.append("fairness")
            before = timeline[index - 1] if index else None
            after = timeline[index + 1] if index + 1 < len(timeline) else None
            if (before is not None and before[1] == host) or (
                after is not None and not after[2] and after[1] == host
            ):
                broken.append("consecutive")
            if not (expected is None or member.capacity is None or member.capacity >= expected):
                broken.append("capacity")
            if not member.has_contact:
                broken.append("contact")
            if any(p.start <= day <= p.end for p in member.unavailable):
                broken.append("unavailable")
            marks[day] = tuple(broken)
        hosted_this_round[host] = hosted_this_round.get(host, 0) + 1
        end_rounds(day)
    return [marks[d] for d, _ in plan]


def cost(marks: list[tuple[str, ...]]) -> tuple[int, ...]:
    """Breaks of each rule, most important first: what the planner minimises."""
    return tuple(sum(rule in m for m in marks) for rule in PRIORITY)


def candidates(request, day: date) -> list[int]:
    """Who may host on a date: the facilitator's fixed host, else free willing members."""
    by_id = {m.id: m for m in request.members}
    fixed = by_id.get(request.fixed_hosts.get(day, -1))

    def member_on(m) -> bool:
        return (m.joined_on is None or m.joined_on <= day) and (
            m.left_on is None or day <= m.left_on
        )

    if fixed is not None and member_on(fixed):
        return [fixed.id]
    return [
        m.id
        for m in request.members
        if m.willing and member_on(m) and not any(p.start <= day <= p.end for p in m.unavailable)
    ]


def brute_force(request, days: list[date]) -> tuple[int, ...]:
    """The lowest cost over every possible choice of hosts for the given dates."""
    options = [candidates(request, d) for d in days]
    best = None
    for hosts in itertools.product(*options):
        found = cost(evaluate(request, list(zip(days, hosts, strict=True))))
        if best is None or found < best:
            best = found
            if not any(best):
                break
    return best if best is not None else (0,) * len(PRIORITY)
