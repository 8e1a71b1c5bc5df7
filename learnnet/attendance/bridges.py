"""Who has visited whom: the bridges a learning network builds between its members.

Pure: plain values in, plain values out; no Flask, no database.

The point of a learning network is that facilities which work on their own get to see
each other's practice. A member hosts a session in its own rooms; people of other
members come and look. This module counts those visits.

Definitions
-----------
* Only **members** count: the facilities in ``members`` (the network's members now).
* A **session counts** when its host is a member. A session hosted by a facility that is
  not (or no longer) a member is ignored completely: no visits, no hosting, no step in
  ``growth``. Its guests did not see a *member's* practice.
* A **visit** is one counted session at which facility V had at least one person
  present, where V is a member and V is not the host. People of the host facility are
  at home, not visiting. A present facility that is not a member (a former member, a
  guest organisation) is ignored; the session still counts for the members present.
* One session gives at most one visit per facility, however many of its people came.
* An **edge** V -> H exists when V visited H at least once: ``visits`` is the number of
  H's sessions V attended, ``first_day`` the day of the first of them.
* Per member (``Reach``): ``visited`` is the number of *distinct* other members whose
  session it attended (repeat visits count once), out of ``of`` = the number of other
  members; ``hosted`` the counted sessions it hosted (also those nobody visited);
  ``visitors`` the number of distinct other members that came to its sessions.
* A **pair** is an unordered pair of members {A, B} that have met at one of them: A
  visited B or B visited A (or both; it is still one pair).
* ``growth`` has one ``Step`` per counted session, in date order (same day: by session
  id): the pairs new at that session, the pairs so far, and the members that belong to
  at least one pair so far (``connected_members``).
* ``density`` is pairs / possible pairs, n·(n−1)/2 for n members: 0.0 with fewer than
  two members, 1.0 when every member has met every other at one of their places.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Member:
    """A member facility of the network."""

    id: int
    name: str


@dataclass(frozen=True)
class HeldSession:
    """A session that took place, with the facilities that had someone present.

    ``present_facility_ids`` may include the host itself and facilities that are not
    (any longer) members: both are left out of the visits.
    """

    id: int
    day: date
    host_id: int
    present_facility_ids: frozenset[int]


@dataclass(frozen=True)
class Edge:
    """People of ``visitor_id`` came to ``host_id``'s sessions ``visits`` times."""

    visitor_id: int
    host_id: int
    visits: int
    first_day: date


@dataclass(frozen=True)
class Reach:
    """How far one member reaches into the network, and the network into it."""

    member_id: int
    name: str
    visited: int  # distinct other members whose session it attended
    of: int  # number of other members
    hosted: int  # counted sessions it hosted
    visitors: int  # distinct other members that came to its sessions


@dataclass(frozen=True)
class Step:
    """The network after one more session."""

    session_id: int
    day: date
    host_id: int
    new_pairs: int
    pairs_total: int
    connected_members: int


@dataclass(frozen=True)
class Bridges:
    """Everything :func:`bridges` computes; see the module docstring."""

    edges: tuple[Edge, ...]
    per_member: tuple[Reach, ...]
    growth: tuple[Step, ...]
    density: float

    @property
    def pairs_total(self) -> int:
        """Distinct pairs of members that have met at one of their places."""
        return self.growth[-1].pairs_total if self.growth else 0

    @property
    def connected_members(self) -> int:
        """Members that belong to at least one pair."""
        return self.growth[-1].connected_members if self.growth else 0


def possible_pairs(n: int) -> int:
    """Unordered pairs among ``n`` members."""
    return n * (n - 1) // 2 if n > 1 else 0


def bridges(members: Sequence[Member], sessions: Sequence[HeldSession]) -> Bridges:
    """Visits between ``members`` at the ``sessions`` they hosted.

    Raises ``ValueError`` when two members share an id.
    """
    names: dict[int, str] = {}
    for member in members:
        if member.id in names:
            raise ValueError(f"duplicate member id {member.id}")
        names[member.id] = member.name

    counted = sorted((s for s in sessions if s.host_id in names), key=lambda s: (s.day, s.id))

    visits: dict[tuple[int, int], int] = {}
    first_day: dict[tuple[int, int], date] = {}
    hosted: dict[int, int] = dict.fromkeys(names, 0)
    pairs: set[frozenset[int]] = set()
    connected: set[int] = set()
    growth: list[Step] = []

    for session in counted:
        host = session.host_id
        hosted[host] += 1
        new_pairs = 0
        for visitor in sorted(session.present_facility_ids):
            if visitor == host or visitor not in names:
                continue
            key = (visitor, host)
            visits[key] = visits.get(key, 0) + 1
            first_day.setdefault(key, session.day)
            pair = frozenset(key)
            if pair not in pairs:
                pairs.add(pair)
                connected.update(key)
                new_pairs += 1
        growth.append(
            Step(
                session_id=session.id,
                day=session.day,
                host_id=host,
                new_pairs=new_pairs,
                pairs_total=len(pairs),
                connected_members=len(connected),
            )
        )

    edges = sorted(
        (Edge(v, h, count, first_day[(v, h)]) for (v, h), count in visits.items()),
        key=lambda e: (e.first_day, e.visitor_id, e.host_id),
    )

    visited: dict[int, int] = dict.fromkeys(names, 0)
    visitors: dict[int, int] = dict.fromkeys(names, 0)
    for v, h in visits:
        visited[v] += 1
        visitors[h] += 1

    others = max(len(names) - 1, 0)
    per_member = sorted(
        (
            Reach(
                member_id=mid,
                name=name,
                visited=visited[mid],
                of=others,
                hosted=hosted[mid],
                visitors=visitors[mid],
            )
            for mid, name in names.items()
        ),
        key=lambda r: (r.name.casefold(), r.name, r.member_id),
    )

    possible = possible_pairs(len(names))
    density = len(pairs) / possible if possible else 0.0

    return Bridges(
        edges=tuple(edges),
        per_member=tuple(per_member),
        growth=tuple(growth),
        density=density,
    )
