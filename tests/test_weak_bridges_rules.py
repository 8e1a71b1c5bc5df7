"""Bridges that weaken (learnnet/learning/weak_bridges.py), without an app: cases worked
by hand, and a property test against a brute-force recount from the raw rows."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from learnnet.learning.weak_bridges import (
    MISSED_LAST_TWO,
    NOT_COME,
    NOT_HOSTED,
    Meeting,
    Member,
    Stay,
    weak_bridges,
)

TODAY = date(2027, 2, 10)  # werkjaar 2026-2027; the previous one began 1 Sep 2025
OLD = Stay(date(2024, 9, 1))


def held(sid, day, host, present=(), recorded=True, cancelled=False):
    return Meeting(sid, day, host, cancelled, recorded, frozenset(present))


def reasons(found):
    return {w.facility_id: w.reasons for w in found}


def test_missed_the_last_two_and_not_come():
    members = [
        Member(1, "Host A", (OLD,)),
        Member(2, "Beweeg", (OLD,)),
        Member(3, "Cirkel", (OLD,)),
    ]
    meetings = [
        held(10, date(2026, 10, 5), 1, present={2, 3}),  # everyone there
        held(11, date(2026, 12, 7), 2, present={1}),  # 3 missed
        held(12, date(2027, 1, 18), 1, present={2}),  # 3 missed again
    ]
    found = reasons(weak_bridges(members, meetings, TODAY))
    # 1 and 2 hosted this werkjaar; 3 came in October; 1 and 2 came to the last ones.
    assert found == {3: (MISSED_LAST_TWO, NOT_HOSTED)}


def test_the_host_is_there_at_its_own_session_and_cancelled_or_unrecorded_do_not_count():
    members = [Member(1, "A", (OLD,), can_host=False), Member(2, "B", (OLD,), can_host=False)]
    meetings = [
        held(10, date(2026, 11, 5), 1, present=set()),  # 1 hosted: there; 2 missed
        held(11, date(2026, 12, 5), 2, present=set()),  # 2 hosted: there
        held(12, date(2027, 1, 5), 1, cancelled=True),  # cancelled: nobody missed it
        held(13, date(2027, 2, 1), 1, recorded=False),  # nobody recorded: says nothing
    ]
    assert reasons(weak_bridges(members, meetings, TODAY)) == {}


def test_a_facility_that_joined_recently_is_not_judged_on_sessions_before():
    newcomer = Member(3, "Nieuw", (Stay(date(2027, 1, 1)),))
    members = [Member(1, "A", (OLD,), can_host=False), newcomer]
    meetings = [held(10, date(2026, 11, 5), 1), held(11, date(2027, 1, 20), 1)]
    found = reasons(weak_bridges(members, meetings, TODAY))
    # One of the last two was before it joined; it did miss the one since: not come.
    assert found == {3: (NOT_COME,)}
    meetings.append(held(12, date(2027, 2, 3), 1, present={3}))
    assert reasons(weak_bridges(members, meetings, TODAY)) == {}


def test_former_members_are_not_named_and_hosting_turns_to_come_count():
    gone = Member(2, "Weg", (Stay(date(2024, 9, 1), date(2026, 12, 31)),))
    host_soon = Member(3, "Straks", (OLD,))
    members = [Member(1, "A", (OLD,)), gone, host_soon]
    meetings = [
        held(10, date(2026, 11, 5), 1, present={3}),
        held(11, date(2027, 5, 5), 3, recorded=False),  # its turn later this werkjaar
    ]
    assert reasons(weak_bridges(members, meetings, TODAY)) == {}


def test_not_hosted_looks_at_the_previous_werkjaar_too():
    members = [
        Member(1, "A", (OLD,)),
        Member(2, "B", (OLD,)),
        Member(4, "D", (Stay(date(2025, 9, 2)),)),
    ]
    meetings = [
        held(9, date(2025, 10, 1), 2, present={1, 4}),  # B hosted last werkjaar
        held(10, date(2026, 11, 5), 1, present={2, 4}),
    ]
    found = weak_bridges(members, meetings, TODAY)
    # D joined a day after the previous werkjaar began: not asked to host yet.
    assert reasons(found) == {}
    assert weak_bridges(members, meetings, date(2027, 9, 10)) != []  # a werkjaar later


def test_order_and_last_days():
    members = [
        Member(1, "b", (OLD,)),
        Member(2, "A", (OLD,)),
        Member(3, "c", (OLD,), can_host=False),
    ]
    meetings = [
        held(10, date(2026, 9, 20), 3, present={1}),
        held(11, date(2026, 10, 20), 3),
        held(12, date(2026, 11, 20), 3),
    ]
    found = weak_bridges(members, meetings, TODAY)
    assert [w.facility_id for w in found] == [2, 1]  # three reasons before two
    assert found[0].reasons == (MISSED_LAST_TWO, NOT_COME, NOT_HOSTED)
    assert found[1].last_there == date(2026, 9, 20) and found[1].last_hosted is None


# --- property test against a brute-force recount ------------------------------------------------

DAY0 = date(2024, 6, 1)
days = st.integers(0, 1300).map(lambda n: DAY0 + timedelta(days=n))


@st.composite
def worlds(draw):
    n = draw(st.integers(0, 6))
    members = []
    for fid in range(1, n + 1):
        stays = []
        for _ in range(draw(st.integers(1, 2))):
            joined = draw(days)
            left = draw(st.one_of(st.none(), days.filter(lambda d, j=joined: d >= j)))
            stays.append(Stay(joined, left))
        members.append(
            Member(
                fid,
                draw(st.sampled_from(["An", "an", "Bo", "Cas"])),
                tuple(stays),
                draw(st.booleans()),
            )
        )
    meetings = []
    for sid in draw(st.lists(st.integers(1, 40), unique=True, max_size=12)):
        meetings.append(
            Meeting(
                sid,
                draw(days),
                draw(st.integers(1, 8)),
                draw(st.booleans()),
                draw(st.booleans()),
                frozenset(draw(st.sets(st.integers(1, 8), max_size=5))),
            )
        )
    return members, meetings, draw(days)


def oracle(members, meetings, today):
    """The rule recounted the slow way, from the docstring, for each facility alone."""
    sy = today.year if today.month >= 9 else today.year - 1
    ws, we, prev = date(sy, 9, 1), date(sy + 1, 8, 31), date(sy - 1, 9, 1)

    def member(m, day):
        return any(s.joined_on <= day and (s.left_on is None or day <= s.left_on) for s in m.stays)

    counted = [x for x in meetings if not x.cancelled and x.recorded and x.day <= today]
    later = lambda a, b: (a.day, a.id) > (b.day, b.id)  # noqa: E731
    last_two = [x for x in counted if sum(1 for y in counted if later(y, x)) < 2]
    result = []
    for m in members:
        if not member(m, today):
            continue
        there = lambda x: x.host_id == m.id or m.id in x.present_facility_ids  # noqa: E731,B023
        why = []
        if len(counted) >= 2 and all(member(m, x.day) and not there(x) for x in last_two):
            why.append(MISSED_LAST_TWO)
        mine = [x for x in counted if ws <= x.day <= we and member(m, x.day)]
        if mine and not any(there(x) for x in mine):
            why.append(NOT_COME)
        hosts = [
            x for x in meetings if x.host_id == m.id and not x.cancelled and prev <= x.day <= we
        ]
        if m.can_host and member(m, prev) and not hosts:
            why.append(NOT_HOSTED)
        if why:
            seen = [x.day for x in counted if there(x)]
            hosted = [
                x.day for x in meetings if x.host_id == m.id and not x.cancelled and x.day <= today
            ]
            result.append(
                (m.id, m.name, tuple(why), max(seen, default=None), max(hosted, default=None))
            )
    result.sort(key=lambda r: (-len(r[2]), r[1].lower(), r[1], r[0]))
    return result


@settings(max_examples=150, deadline=None)
@given(worlds())
def test_weak_bridges_agree_with_a_brute_force_recount(world):
    members, meetings, today = world
    found = weak_bridges(members, meetings, today)
    assert [
        (w.facility_id, w.name, w.reasons, w.last_there, w.last_hosted) for w in found
    ] == oracle(members, meetings, today)
