"""Who has visited whom: worked examples, and a brute-force oracle for any input."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from learnnet.attendance.bridges import (
    Bridges,
    Edge,
    HeldSession,
    Member,
    Reach,
    Step,
    bridges,
)

D0 = date(2026, 9, 8)


def day(n: int) -> date:
    return D0 + timedelta(days=n)


def held(sid: int, n: int, host: int, *present: int) -> HeldSession:
    return HeldSession(id=sid, day=day(n), host_id=host, present_facility_ids=frozenset(present))


A, B, C, D = (
    Member(1, "Anemoon"),
    Member(2, "Boomhut"),
    Member(3, "Citroentje"),
    Member(4, "Dikkie"),
)


def reach(result: Bridges, member_id: int) -> Reach:
    (found,) = [r for r in result.per_member if r.member_id == member_id]
    return found


# ------------------------------------------------------------------ worked examples


def test_the_hosts_own_people_are_not_visitors():
    result = bridges([A, B], [held(1, 0, 1, 1)])  # only the host's own people
    assert result.edges == ()
    assert reach(result, 1) == Reach(1, "Anemoon", visited=0, of=1, hosted=1, visitors=0)
    assert result.growth == (Step(1, day(0), 1, new_pairs=0, pairs_total=0, connected_members=0),)
    assert result.density == 0.0


def test_a_visit_makes_an_edge_from_visitor_to_host():
    result = bridges([A, B], [held(1, 0, 1, 1, 2)])
    assert result.edges == (Edge(visitor_id=2, host_id=1, visits=1, first_day=day(0)),)
    assert reach(result, 2) == Reach(2, "Boomhut", visited=1, of=1, hosted=0, visitors=0)
    assert reach(result, 1) == Reach(1, "Anemoon", visited=0, of=1, hosted=1, visitors=1)
    assert result.density == 1.0


def test_repeat_visits_count_once_in_visited_and_fully_in_visits():
    sessions = [held(1, 0, 1, 2), held(2, 30, 1, 1, 2), held(3, 60, 1, 2, 3)]
    result = bridges([A, B, C], sessions)
    assert result.edges == (Edge(2, 1, visits=3, first_day=day(0)), Edge(3, 1, 1, day(60)))
    assert reach(result, 2).visited == 1
    assert reach(result, 1).visitors == 2
    assert reach(result, 1).hosted == 3
    assert [s.new_pairs for s in result.growth] == [1, 0, 1]


def test_first_day_is_the_earliest_visit_whatever_the_input_order():
    sessions = [held(9, 40, 1, 2), held(3, 10, 1, 2), held(5, 20, 1, 2)]
    (edge,) = bridges([A, B], sessions).edges
    assert edge == Edge(2, 1, 3, day(10))


def test_a_session_hosted_by_a_former_member_is_ignored():
    # Facility 9 left the network; its sessions give no visits, no hosting, no step.
    sessions = [held(1, 0, 9, 1, 2, 9), held(2, 10, 2, 1, 2)]
    result = bridges([A, B], sessions)
    assert result.edges == (Edge(1, 2, 1, day(10)),)
    assert [s.session_id for s in result.growth] == [2]
    assert reach(result, 1).visited == 1  # only Boomhut, not the former member


def test_a_visitor_that_is_not_a_member_is_ignored_but_the_session_counts():
    result = bridges([A, B], [held(1, 0, 1, 1, 2, 77)])
    assert result.edges == (Edge(2, 1, 1, day(0)),)
    assert reach(result, 1).visitors == 1
    assert result.growth[0].pairs_total == 1


def test_a_session_nobody_visited_still_counts_as_hosted_and_as_a_step():
    result = bridges([A, B], [held(1, 0, 2)])
    assert reach(result, 2).hosted == 1
    assert result.growth == (Step(1, day(0), 2, 0, 0, 0),)


def test_growth_is_cumulative_in_date_order_then_by_id():
    sessions = [
        held(7, 20, 3, 1, 2),  # later: Anemoon and Boomhut visit Citroentje
        held(5, 0, 1, 2),  # same day as id 2, after it
        held(2, 0, 2, 1),  # Anemoon visits Boomhut: the pair {1, 2}
        held(9, 30, 4),  # nobody came to Dikkie
    ]
    result = bridges([A, B, C, D], sessions)
    assert result.growth == (
        Step(2, day(0), 2, new_pairs=1, pairs_total=1, connected_members=2),
        Step(5, day(0), 1, new_pairs=0, pairs_total=1, connected_members=2),  # same pair
        Step(7, day(20), 3, new_pairs=2, pairs_total=3, connected_members=3),
        Step(9, day(30), 4, new_pairs=0, pairs_total=3, connected_members=3),
    )
    assert result.pairs_total == 3
    assert result.connected_members == 3
    assert result.density == pytest.approx(3 / 6)


def test_a_pair_met_in_both_directions_is_one_pair_and_two_edges():
    result = bridges([A, B], [held(1, 0, 1, 2), held(2, 5, 2, 1)])
    assert [(e.visitor_id, e.host_id) for e in result.edges] == [(2, 1), (1, 2)]
    assert result.pairs_total == 1
    assert result.density == 1.0


def test_density_counts_unordered_pairs_among_members():
    four = [A, B, C, D]
    everyone = [held(i, i, h, *[m.id for m in four]) for i, h in enumerate([1, 2, 3], start=1)]
    assert bridges(four, everyone).density == 1.0  # every pair met at one of the three
    assert bridges(four, everyone[:1]).density == pytest.approx(3 / 6)
    assert bridges([A], [held(1, 0, 1, 1)]).density == 0.0
    assert bridges([], [held(1, 0, 1, 1, 2)]) == Bridges((), (), (), 0.0)


def test_edges_are_sorted_by_first_day_then_visitor_then_host():
    sessions = [held(1, 10, 3, 2, 1), held(2, 0, 4, 3), held(3, 10, 1, 2)]
    result = bridges([A, B, C, D], sessions)
    assert [(e.first_day, e.visitor_id, e.host_id) for e in result.edges] == [
        (day(0), 3, 4),
        (day(10), 1, 3),
        (day(10), 2, 1),
        (day(10), 2, 3),
    ]


def test_per_member_is_sorted_by_name_regardless_of_case():
    members = [Member(1, "zonnestraal"), Member(2, "Anemoon"), Member(3, "boomhut")]
    result = bridges(members, [])
    assert [r.name for r in result.per_member] == ["Anemoon", "boomhut", "zonnestraal"]
    assert all(r.of == 2 and r.visited == r.visitors == r.hosted == 0 for r in result.per_member)


def test_duplicate_member_ids_are_refused():
    with pytest.raises(ValueError, match="duplicate"):
        bridges([A, Member(1, "Again")], [])


# --------------------------------------------------------- property-based, with oracle


def oracle(members: list[Member], sessions: list[HeldSession]) -> Bridges:
    """The same definitions, computed the slow, obvious way."""
    ids = [m.id for m in members]
    counted = sorted([s for s in sessions if s.host_id in ids], key=lambda s: (s.day, s.id))

    def came(visitor: int, host: int, upto: list[HeldSession]) -> list[HeldSession]:
        return [
            s
            for s in upto
            if s.host_id == host and visitor != host and visitor in s.present_facility_ids
        ]

    edges = []
    for v in ids:
        for h in ids:
            visits = came(v, h, counted)
            if visits:
                edges.append(Edge(v, h, len(visits), min(s.day for s in visits)))
    edges.sort(key=lambda e: (e.first_day, e.visitor_id, e.host_id))

    per_member = []
    for m in members:
        others = [o for o in ids if o != m.id]
        per_member.append(
            Reach(
                member_id=m.id,
                name=m.name,
                visited=sum(1 for o in others if came(m.id, o, counted)),
                of=len(others),
                hosted=sum(1 for s in counted if s.host_id == m.id),
                visitors=sum(1 for o in others if came(o, m.id, counted)),
            )
        )
    per_member.sort(key=lambda r: (r.name.casefold(), r.name, r.member_id))

    def met(upto: list[HeldSession]) -> list[tuple[int, int]]:
        return [
            (a, b)
            for a, b in itertools.combinations(ids, 2)
            if came(a, b, upto) or came(b, a, upto)
        ]

    growth = []
    before = 0
    for k, s in enumerate(counted):
        pairs = met(counted[: k + 1])
        connected = {x for pair in pairs for x in pair}
        growth.append(Step(s.id, s.day, s.host_id, len(pairs) - before, len(pairs), len(connected)))
        before = len(pairs)

    n = len(ids)
    possible = n * (n - 1) / 2
    density = len(met(counted)) / possible if n >= 2 else 0.0
    return Bridges(tuple(edges), tuple(per_member), tuple(growth), density)


NAMES = st.sampled_from(["Anemoon", "anemoon", "Boomhut", "Citroen", "de Knuffel", "Ödipus"])


@st.composite
def networks(draw):
    ids = draw(st.lists(st.integers(1, 8), unique=True, max_size=7))
    members = [Member(i, draw(NAMES)) for i in ids]
    session_ids = draw(st.lists(st.integers(1, 60), unique=True, max_size=14))
    sessions = [
        HeldSession(
            id=sid,
            day=day(draw(st.integers(0, 6))),  # few days: many ties, ordered by id
            host_id=draw(st.integers(1, 10)),  # 9 and 10 are never members
            present_facility_ids=frozenset(draw(st.sets(st.integers(1, 10), max_size=8))),
        )
        for sid in session_ids
    ]
    return members, sessions


@settings(max_examples=300, deadline=None)
@given(networks())
def test_bridges_agree_with_a_brute_force_oracle(network):
    members, sessions = network
    result = bridges(members, sessions)
    expected = oracle(members, sessions)
    assert result.edges == expected.edges
    assert result.per_member == expected.per_member
    assert result.growth == expected.growth
    assert result.density == pytest.approx(expected.density)
    assert 0.0 <= result.density <= 1.0
    # Shuffled input, same answer.
    assert bridges(members[::-1], sessions[::-1]) == result
