"""The planner against a brute-force search, rounds with members joining and leaving, the
members a plan passes over, and the conflicts a change causes (issue 9)."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from learnnet.planning.recurrence import DATES, MONTHLY, Pattern
from learnnet.planning.rotation import (
    CONFLICT_BLACKOUT,
    CONFLICT_NO_CONTACT,
    CONFLICT_NOT_MEMBER,
    CONFLICT_NOT_WILLING,
    CONFLICT_TOO_SMALL,
    CONFLICT_UNAVAILABLE,
    CONSECUTIVE,
    FAIRNESS,
    NOT_WILLING,
    PASSED_CLOSED,
    PASSED_HAD_TURN,
    PASSED_LATER,
    PASSED_LEAVES,
    PASSED_NO_CONTACT,
    PASSED_NOT_WILLING,
    PASSED_TOO_SMALL,
    SKIP_NO_HOST,
    UNAVAILABLE,
    Booking,
    Hosting,
    Member,
    Period,
    Request,
    broken_rules,
    conflicts,
    passed_over,
    plan,
    rounds_on,
)
from tests.planner_oracle import (
    PRIORITY,
    best_plan,
    brute_force,
    cost,
    evaluate,
    offered,
    queue_positions,
)

TODAY = date(2026, 11, 27)
FIRST = date(2027, 1, 5)


@st.composite
def small_requests(draw) -> Request:
    """Up to 6 members and 6 dates, with closures, joins, leaves, small rooms, members
    without contact, history before and sessions already planned between the dates, and
    in most cases a season poll: per member the dates it offers to host and the dates it
    cannot come (now and then both, and now and then from a facility that is no member)."""
    days = sorted(draw(st.sets(st.integers(0, 120), min_size=1, max_size=6)).__iter__())
    dates = tuple(FIRST + timedelta(days=7 * d) for d in days)
    span = (dates[0] - timedelta(days=30), dates[-1] + timedelta(days=30))

    def some_day():
        return st.integers(0, (span[1] - span[0]).days).map(lambda n: span[0] + timedelta(days=n))

    n = draw(st.integers(1, 6))
    members = []
    for i in range(n):
        closed = draw(st.lists(some_day(), max_size=3))
        members.append(
            Member(
                id=i + 1,
                name="ABCDEF"[i],
                capacity=draw(st.sampled_from([None, 8, 20])),
                willing=draw(st.booleans()) if i else True,
                joined_on=draw(st.one_of(st.none(), some_day())),
                left_on=draw(st.one_of(st.none(), some_day())),
                unavailable=tuple(
                    Period(d, d + timedelta(days=draw(st.integers(0, 20)))) for d in closed
                ),
                has_contact=draw(st.booleans()) or i == 0,
            )
        )
    ids = [m.id for m in members]
    past = draw(st.lists(st.integers(1, 400), max_size=8, unique=True))
    history = [Hosting(draw(st.sampled_from(ids)), TODAY - timedelta(days=d)) for d in past]
    # Sessions already planned between the new dates (never on one of them).
    ahead = draw(st.lists(st.integers(1, 120 * 7 + 30), max_size=3, unique=True))
    history += [
        Hosting(draw(st.sampled_from(ids)), FIRST + timedelta(days=d))
        for d in ahead
        if FIRST + timedelta(days=d) not in dates
    ]
    offers: dict[int, frozenset[date]] = {}
    cannot_come: dict[int, frozenset[date]] = {}
    if draw(st.integers(0, 3)):
        answers = st.sets(st.sampled_from(dates), max_size=len(dates)).map(frozenset)
        for i in [*ids, len(ids) + 1]:
            offers[i] = draw(answers)
            cannot_come[i] = draw(st.sets(st.sampled_from(dates), max_size=2).map(frozenset))
    return Request(
        members=tuple(members),
        pattern=Pattern(DATES, TODAY, dates=dates),
        today=TODAY,
        count=len(dates),
        history=tuple(history),
        expected_attendance=draw(st.sampled_from([None, 12])),
        cannot_come=cannot_come,
        offers=offers,
    )


SMALL = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))


@SMALL
@given(small_requests())
def test_the_planner_finds_the_best_plan_a_brute_force_search_finds(request):
    """The same plan, not only as good: the cost order ends with the queue, date by date,
    so exactly one plan is best. The poll's offers weigh after the rules: they are in the
    cost, never among the broken rules."""
    result = plan(request)
    days = [a.day for a in result.assignments]
    chosen = [(a.day, a.facility_id) for a in result.assignments]
    marks = evaluate(request, chosen)
    assert [a.broken for a in result.assignments] == marks
    assert [a.offered for a in result.assignments] == offered(request, chosen)
    assert [a.queue_position for a in result.assignments] == queue_positions(request, chosen)
    assert [a.facility_id for a in result.assignments] == best_plan(request, days)
    best = brute_force(request, days)
    assert cost(marks, offered(request, chosen)) == best == result.cost
    assert result.complete == (not any(best[: len(PRIORITY)]))


def test_two_members_one_closed_on_the_second_date_gives_b_then_a():
    a = Member(1, "A")
    b = Member(2, "B", unavailable=(Period(date(2027, 2, 1), date(2027, 2, 28)),))
    result = plan(
        Request(
            members=(a, b),
            pattern=Pattern(DATES, TODAY, dates=(date(2027, 1, 12), date(2027, 2, 9))),
            today=TODAY,
            count=2,
        )
    )
    assert [(x.facility_id, x.broken) for x in result.assignments] == [(2, ()), (1, ())]


def test_a_newcomer_takes_part_in_the_running_round_and_does_not_catch_up():
    veterans = [Member(i, f"Veteraan {i}", joined_on=date(2023, 9, 1)) for i in range(1, 7)]
    history = tuple(
        Hosting(veterans[k % 6].id, date(2023, 9, 14) + timedelta(days=60 * k)) for k in range(18)
    )
    newcomer = Member(7, "Nieuwkomer", joined_on=date(2026, 11, 1))
    result = plan(
        Request(
            members=(*veterans, newcomer),
            pattern=Pattern(MONTHLY, date(2027, 1, 1), weekday=3, nth=-1),
            today=TODAY,
            count=10,
            history=history,
        )
    )
    turns = Counter(a.facility_id for a in result.assignments)
    assert turns[7] <= 2  # once per round of seven, not four times
    assert max(turns.values()) - min(turns[m.id] for m in (*veterans, newcomer)) <= 1
    assert all(not a.broken for a in result.assignments)  # the veterans are not "unfair"


def test_a_member_joining_mid_series_gets_one_turn_in_the_running_round():
    members = (
        Member(1, "A"),
        Member(2, "B"),
        Member(3, "C"),
        Member(4, "Later", joined_on=date(2027, 2, 20)),
    )
    dates = tuple(date(2027, 1, 12) + timedelta(weeks=4 * k) for k in range(8))
    result = plan(
        Request(members=members, pattern=Pattern(DATES, TODAY, dates=dates), today=TODAY, count=8)
    )
    hosts = [a.facility_id for a in result.assignments]
    assert result.complete
    # Round one: A, B and then (joined) Later and C; Later hosts once per round after it.
    first_round = hosts[:4]
    assert sorted(first_round) == [1, 2, 3, 4]
    assert hosts.count(4) == 2


def test_rounds_say_who_hosted_and_who_is_still_to_come():
    members = (Member(1, "A"), Member(2, "B"), Member(3, "C"), Member(4, "Weg", left_on=TODAY))
    history = (
        Hosting(1, date(2026, 1, 10)),
        Hosting(2, date(2026, 2, 10)),
        Hosting(3, date(2026, 3, 10)),
        Hosting(1, date(2026, 4, 10)),
    )
    state = rounds_on(members, history, TODAY + timedelta(days=1), None)
    assert state.hosted == {1}
    assert state.to_come == {2, 3}
    # Weg left before it hosted: the first round ended without waiting for it.
    assert state.completed == 1


def test_passed_over_members_are_listed_with_their_reason():
    members = (
        Member(1, "Groot", 30),
        Member(2, "Klein", 8),
        Member(3, "Wil niet", 30, willing=False),
        Member(4, "Zonder contact", 30, has_contact=False),
        Member(5, "Dicht", 30, unavailable=(Period(date(2027, 1, 1), date(2027, 12, 31)),)),
        Member(6, "Ander", 30),
        Member(7, "Nog", 30),
    )
    request = Request(
        members=members,
        pattern=Pattern(DATES, TODAY, dates=(date(2027, 1, 12),)),
        today=TODAY,
        count=1,
        history=(Hosting(6, date(2026, 5, 1)),),
        expected_attendance=14,
    )
    result = plan(request)
    assert [a.facility_id for a in result.assignments] == [1]
    found = {p.facility_id: p.code for p in passed_over(request, result)}
    assert found == {
        2: PASSED_TOO_SMALL,
        3: PASSED_NOT_WILLING,
        4: PASSED_NO_CONTACT,
        5: PASSED_CLOSED,
        6: PASSED_HAD_TURN,
        7: PASSED_LATER,
    }
    # Problems come first.
    assert [p.is_problem for p in passed_over(request, result)] == [True] * 4 + [False] * 2


def test_the_kempen_example_small_rooms_are_named_not_passed_over_in_silence():
    """Expected attendance 10 and rooms of 8 and 9: they are listed, and a plan that gives
    Hummeltjes a third turn while De Rakkers never hosted is not "every member in turn"."""
    members = (
        Member(1, "De Rakkers", 9),
        Member(2, "Hummeltjes", 20),
        Member(3, "Kabouterhuis", 8),
        Member(4, "Zonnekind", 16),
    )
    request = Request(
        members=members,
        pattern=Pattern(MONTHLY, date(2027, 1, 1), weekday=3, nth=-1),
        today=TODAY,
        count=3,
        expected_attendance=10,
    )
    result = plan(request)
    codes = {p.facility_id: p.code for p in passed_over(request, result)}
    assert codes[1] == PASSED_TOO_SMALL and codes[3] == PASSED_TOO_SMALL
    # With the expected attendance set to what the network really gets, everyone fits.
    fitting = Request(**{**request.__dict__, "expected_attendance": 8})
    assert not [p for p in passed_over(fitting, plan(fitting)) if p.is_problem]


def test_consecutive_compares_with_the_new_sessions_between():
    """X is planned on 10 Feb; new dates 3 Feb and 17 Feb sit around it and 27 Jan before."""
    members = (Member(1, "A"), Member(2, "B"), Member(3, "X"))
    history = (Hosting(3, date(2027, 2, 10)),)
    dates = (date(2027, 1, 27), date(2027, 2, 3), date(2027, 2, 17))
    request = Request(
        members=members,
        pattern=Pattern(DATES, TODAY, dates=dates),
        today=TODAY,
        count=3,
        history=history,
    )
    result = plan(request)
    marks = evaluate(request, [(a.day, a.facility_id) for a in result.assignments])
    assert [a.broken for a in result.assignments] == marks
    by_day = {a.day: a.facility_id for a in result.assignments}
    assert by_day[date(2027, 2, 3)] != 3 and by_day[date(2027, 2, 17)] != 3
    # X hosting 27 Jan is not "two in a row": 3 Feb sits between it and 10 Feb.
    fixed = Request(**{**request.__dict__, "fixed_hosts": {date(2027, 1, 27): 3}})
    first = plan(fixed).assignments[0]
    assert first.facility_id == 3 and CONSECUTIVE not in first.broken


def test_conflicts_name_what_is_wrong_with_a_planned_host():
    day = date(2027, 3, 9)
    members = {
        1: Member(1, "Dicht", 20, unavailable=(Period(day, day),)),
        2: Member(2, "Wil niet", 20, willing=False),
        3: Member(3, "Weg", 20, left_on=date(2027, 1, 31)),
        4: Member(4, "Zonder contact", 20, has_contact=False),
        5: Member(5, "Klein", 8),
        6: Member(6, "Goed", 20),
    }
    bookings = [Booking(i, day, i) for i in range(1, 8)]
    found = conflicts(bookings, members, [], 12)
    assert found == {
        1: (CONFLICT_UNAVAILABLE,),
        2: (CONFLICT_NOT_WILLING,),
        3: (CONFLICT_NOT_MEMBER,),
        4: (CONFLICT_NO_CONTACT,),
        5: (CONFLICT_TOO_SMALL,),
        7: (CONFLICT_NOT_MEMBER,),  # facility 7 is no member at all
    }
    blackout = Period(day - timedelta(days=2), day + timedelta(days=2), "Krokusvakantie")
    assert conflicts([Booking(6, day, 6)], members, [blackout], 12) == {6: (CONFLICT_BLACKOUT,)}


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 60), st.integers(1, 4)), max_size=8),
    st.lists(st.tuples(st.integers(1, 4), st.integers(0, 60), st.integers(0, 10)), max_size=4),
    st.sampled_from([None, 10, 25]),
)
def test_conflicts_flag_exactly_the_bookings_whose_host_is_no_longer_valid(raw, closed, expected):
    start = date(2027, 1, 1)
    members = {
        i: Member(
            i,
            str(i),
            capacity=10 * i,
            unavailable=tuple(
                Period(start + timedelta(days=d), start + timedelta(days=d + n))
                for f, d, n in closed
                if f == i
            ),
        )
        for i in range(1, 5)
    }
    bookings = [Booking(n, start + timedelta(days=d), f) for n, (d, f) in enumerate(raw)]
    found = conflicts(bookings, members, [], expected)
    for b in bookings:
        m = members[b.facility_id]
        valid = m.is_free_on(b.day) and (expected is None or m.capacity >= expected)
        assert (b.session_id in found) == (not valid)


def test_fairness_is_broken_only_when_someone_owed_a_turn_waits():
    members = (Member(1, "A"), Member(2, "B"))
    # B is closed for the whole series: A hosts every time, marked for it after the first.
    closed_b = Member(2, "B", unavailable=(Period(date(2027, 1, 1), date(2027, 12, 31)),))
    request = Request(
        members=(members[0], closed_b),
        pattern=Pattern(DATES, TODAY, dates=(date(2027, 1, 12), date(2027, 2, 9))),
        today=TODAY,
        count=2,
    )
    result = plan(request)
    assert [a.broken for a in result.assignments] == [(), (FAIRNESS, CONSECUTIVE)]


@SMALL
@given(small_requests())
def test_every_current_member_either_hosts_or_is_listed_with_a_true_reason(request):
    result = plan(request)
    hosting = {a.facility_id for a in result.assignments}
    listed = {p.facility_id: p.code for p in passed_over(request, result)}
    days = [a.day for a in result.assignments]
    current = [m for m in request.members if m.is_member_on(request.today)]
    assert set(listed) == {m.id for m in current} - hosting
    expected = request.expected_attendance
    state = rounds_on(request.members, request.history, request.today, expected)
    for m in current:
        code = listed.get(m.id)
        if code == PASSED_NOT_WILLING:
            assert not m.willing
        elif code == PASSED_NO_CONTACT:
            assert m.willing and not m.has_contact
        elif code == PASSED_TOO_SMALL:
            assert m.willing and m.has_contact and not m.fits(expected)
        elif code == PASSED_CLOSED:
            assert m.takes_turns(expected)
            cannot = request.cannot_come.get(m.id, frozenset())
            assert not any(m.is_free_on(d) and d not in cannot for d in days if m.is_member_on(d))
        elif code == PASSED_HAD_TURN:
            assert state.turns.get(m.id, 0) > 0
        elif code == PASSED_LEAVES:
            assert state.turns.get(m.id, 0) == 0
            assert m.left_on is not None and m.left_on <= days[-1]
        elif code == PASSED_LATER:
            assert state.turns.get(m.id, 0) == 0
            assert not days or m.is_member_on(days[-1] + timedelta(days=1))


# --- issue 22: defects found by an independent check ------------------------------------------


def _dates(*days: date) -> Pattern:
    return Pattern(DATES, TODAY, dates=days)


def test_a_round_ended_by_a_leave_stays_ended_when_someone_joins():
    """From 7 Jan (X left) everyone still taking turns, only B, has hosted: the round ends
    then and Y joins the next one. On 12 Jan only B is free: two in a row, but not unfair."""
    b = Member(1, "B")
    x = Member(2, "X", left_on=date(2027, 1, 6))
    y = Member(
        3,
        "Y",
        joined_on=date(2027, 1, 9),
        unavailable=(Period(date(2027, 1, 12), date(2027, 1, 12)),),
    )
    request = Request(
        members=(b, x, y),
        pattern=_dates(date(2027, 1, 12)),
        today=TODAY,
        count=1,
        history=(Hosting(1, date(2026, 12, 15)),),
    )
    result = plan(request)
    assert [(a.facility_id, a.broken) for a in result.assignments] == [(1, (CONSECUTIVE,))]
    assert evaluate(request, [(date(2027, 1, 12), 1)]) == [(CONSECUTIVE,)]
    state = rounds_on(request.members, request.history, date(2027, 1, 7), None)
    assert state.completed == 1 and state.to_come == {1}


def test_a_fixed_host_that_is_not_willing_is_marked():
    request = Request(
        members=(Member(1, "A", willing=False), Member(2, "B")),
        pattern=_dates(date(2027, 1, 5)),
        today=TODAY,
        count=1,
        fixed_hosts={date(2027, 1, 5): 1},
    )
    result = plan(request)
    assert [(a.facility_id, a.broken) for a in result.assignments] == [(1, (NOT_WILLING,))]
    assert not result.complete
    assert evaluate(request, [(date(2027, 1, 5), 1)]) == [(NOT_WILLING,)]


def test_fairness_is_not_marked_when_nobody_takes_turns():
    a = Member(1, "A", joined_on=date(2027, 2, 1))
    z = Member(2, "Z", willing=False)
    request = Request(
        members=(a, z),
        pattern=_dates(date(2027, 1, 12)),
        today=TODAY,
        count=1,
        history=(Hosting(2, date(2026, 12, 1)),),
        fixed_hosts={date(2027, 1, 12): 2},
    )
    marks = [a.broken for a in plan(request).assignments]
    assert marks == evaluate(request, [(date(2027, 1, 12), 2)])
    assert FAIRNESS not in marks[0]
    assert FAIRNESS not in broken_rules(z, date(2027, 1, 12), {2: 1}, frozenset(), None, None)


def test_a_member_whose_membership_ends_first_is_not_told_its_turn_comes_later():
    request = Request(
        members=(Member(1, "Een"), Member(2, "Twee", left_on=TODAY)),
        pattern=_dates(date(2026, 11, 30)),
        today=TODAY,
        count=1,
    )
    result = plan(request)
    assert [a.facility_id for a in result.assignments] == [1]
    assert [(p.facility_id, p.code) for p in passed_over(request, result)] == [(2, PASSED_LEAVES)]


def test_among_equally_good_plans_the_queue_is_followed_date_by_date():
    """The queue gives A, C, A, A, C (two in a row on 26 Jan, which cannot be avoided);
    A, A, C, A, C costs as much but has A twice in a row on 12 Jan already."""
    a = Member(1, "A", unavailable=(Period(date(2027, 2, 2), date(2027, 2, 2)),))
    c = Member(2, "C")
    days = tuple(date(2027, 1, 5) + timedelta(weeks=k) for k in range(5))
    request = Request(
        members=(a, c),
        pattern=_dates(*days),
        today=TODAY,
        count=5,
        history=(
            Hosting(1, date(2026, 11, 30)),
            Hosting(2, date(2026, 12, 21)),
            Hosting(2, date(2026, 12, 28)),
        ),
    )
    result = plan(request)
    assert [a.facility_id for a in result.assignments] == [1, 2, 1, 1, 2]
    assert [a.broken for a in result.assignments] == [(), (), (), (CONSECUTIVE,), ()]
    assert best_plan(request, days) == [1, 2, 1, 1, 2]


# --- issue 22: the season poll's answers ------------------------------------------------------


def test_a_facility_that_cannot_come_is_not_planned_there_like_a_closed_day():
    """Without the poll the queue gives A then B; A cannot come on 12 Jan, so B hosts then."""
    days = (date(2027, 1, 12), date(2027, 2, 9))
    request = Request(
        members=(Member(1, "A"), Member(2, "B")),
        pattern=_dates(*days),
        today=TODAY,
        count=2,
        cannot_come={1: frozenset({date(2027, 1, 12)})},
    )
    result = plan(request)
    assert [(a.facility_id, a.broken) for a in result.assignments] == [(2, ()), (1, ())]
    without = plan(Request(**{**request.__dict__, "cannot_come": {}}))
    assert [a.facility_id for a in without.assignments] == [1, 2]
    assert best_plan(request, list(days)) == [2, 1]


def test_cannot_come_on_every_date_is_passed_over_as_closed_and_a_fixed_host_is_marked():
    days = (date(2027, 1, 12), date(2027, 2, 9))
    request = Request(
        members=(Member(1, "A"), Member(2, "B"), Member(3, "C")),
        pattern=_dates(*days),
        today=TODAY,
        count=2,
        cannot_come={3: frozenset(days)},
    )
    result = plan(request)
    assert [a.facility_id for a in result.assignments] == [1, 2]
    assert [(p.facility_id, p.code) for p in passed_over(request, result)] == [(3, PASSED_CLOSED)]
    # The facilitator fixes C on 12 Jan anyway: kept, marked as on a closed day.
    fixed = plan(Request(**{**request.__dict__, "fixed_hosts": {days[0]: 3}}))
    assert (fixed.assignments[0].facility_id, fixed.assignments[0].broken) == (3, (UNAVAILABLE,))
    assert not fixed.complete


def test_a_date_nobody_can_come_to_host_is_skipped():
    day = date(2027, 1, 12)
    result = plan(
        Request(
            members=(Member(1, "A"), Member(2, "B")),
            pattern=_dates(day, date(2027, 2, 9)),
            today=TODAY,
            count=2,
            cannot_come={1: frozenset({day}), 2: frozenset({day})},
        )
    )
    assert [(s.day, s.code) for s in result.skipped] == [(day, SKIP_NO_HOST)]
    assert [a.day for a in result.assignments] == [date(2027, 2, 9)]


def test_offers_pick_the_host_within_the_rules_and_nobody_offering_leaves_the_queue():
    """A new network A, B, C: the queue gives A, B, C. C offered on the first date, B on
    the second, nobody on the third: C, B, A, everyone once, no rule broken."""
    d1, d2, d3 = date(2027, 1, 12), date(2027, 2, 9), date(2027, 3, 9)
    request = Request(
        members=(Member(1, "A"), Member(2, "B"), Member(3, "C")),
        pattern=_dates(d1, d2, d3),
        today=TODAY,
        count=3,
        offers={3: frozenset({d1}), 2: frozenset({d2})},
    )
    result = plan(request)
    assert [a.facility_id for a in result.assignments] == [3, 2, 1]
    assert [a.offered for a in result.assignments] == [True, True, None]
    assert [a.queue_position for a in result.assignments] == [2, 1, 0]
    assert result.complete and result.cost == (0,) * 7
    assert best_plan(request, [d1, d2, d3]) == [3, 2, 1]
    no_poll = plan(Request(**{**request.__dict__, "offers": {}}))
    assert [a.facility_id for a in no_poll.assignments] == [1, 2, 3]
    assert [a.offered for a in no_poll.assignments] == [None, None, None]


def test_one_turn_out_of_order_weighs_more_than_any_number_of_hosts_that_did_not_offer():
    """B hosted last; B offers on all three dates, A on none. A is owed its turn first
    (fairness), then B, then A again: two hosts that did not offer, but no rule broken.
    B on every date would follow every offer but break fairness and "two in a row"."""
    days = (date(2027, 1, 12), date(2027, 2, 9), date(2027, 3, 9))
    request = Request(
        members=(Member(1, "A"), Member(2, "B")),
        pattern=_dates(*days),
        today=TODAY,
        count=3,
        history=(Hosting(2, date(2026, 11, 3)),),
        offers={2: frozenset(days)},
    )
    result = plan(request)
    assert [a.facility_id for a in result.assignments] == [1, 2, 1]
    assert [a.offered for a in result.assignments] == [False, True, False]
    # A preference, not a rule: nothing is marked and the plan is complete.
    assert [a.broken for a in result.assignments] == [(), (), ()]
    assert result.complete and result.broken_count == 0
    assert result.cost == (0, 0, 0, 0, 0, 0, 2)
    assert result.cost == brute_force(request, list(days))
    everything_offered = [(d, 2) for d in days]
    assert cost(evaluate(request, everything_offered), [True] * 3) > result.cost


def test_a_fixed_host_that_did_not_offer_is_no_broken_rule_but_counts_in_the_cost():
    day = date(2027, 1, 12)
    request = Request(
        members=(Member(1, "A"), Member(2, "B")),
        pattern=_dates(day),
        today=TODAY,
        count=1,
        offers={2: frozenset({day})},
        fixed_hosts={day: 1},
    )
    result = plan(request)
    only = result.assignments[0]
    assert (only.facility_id, only.fixed, only.offered, only.broken) == (1, True, False, ())
    assert result.complete and result.cost[-1] == 1


def test_two_members_that_differ_only_in_their_offers_are_not_interchangeable():
    """A and B are alike, A offered on the second date: B, A follows the offer (A first in
    the queue on the first date, but A, B would have B host where A offered)."""
    d1, d2 = date(2027, 1, 12), date(2027, 2, 9)
    request = Request(
        members=(Member(1, "A"), Member(2, "B")),
        pattern=_dates(d1, d2),
        today=TODAY,
        count=2,
        offers={1: frozenset({d2})},
    )
    result = plan(request)
    assert [a.facility_id for a in result.assignments] == [2, 1]
    assert [a.offered for a in result.assignments] == [None, True]
    assert best_plan(request, [d1, d2]) == [2, 1]


def test_an_offer_from_a_facility_that_cannot_come_still_marks_the_date_as_offered():
    """Contradictory answers: "kan niet" wins (it is not planned there), and the date still
    has an offer, so the host that did not offer is told so."""
    day = date(2027, 1, 12)
    request = Request(
        members=(Member(1, "A"), Member(2, "B")),
        pattern=_dates(day),
        today=TODAY,
        count=1,
        offers={2: frozenset({day})},
        cannot_come={2: frozenset({day})},
    )
    result = plan(request)
    assert [(a.facility_id, a.offered) for a in result.assignments] == [(1, False)]
    assert offered(request, [(day, 1)]) == [False]


def test_offers_are_matched_over_the_round_not_taken_greedily():
    """A offered on the first two dates, B on the first only: A first (the queue and an
    offer) would leave the second date to a host that did not offer; B, A, C follows
    every offer, with everyone once in the round."""
    d1, d2, d3 = date(2027, 1, 12), date(2027, 2, 9), date(2027, 3, 9)
    request = Request(
        members=(Member(1, "A"), Member(2, "B"), Member(3, "C")),
        pattern=_dates(d1, d2, d3),
        today=TODAY,
        count=3,
        offers={1: frozenset({d1, d2}), 2: frozenset({d1})},
    )
    result = plan(request)
    assert [a.facility_id for a in result.assignments] == [2, 1, 3]
    assert [a.offered for a in result.assignments] == [True, True, None]
    assert result.complete and result.cost == (0,) * 7
    assert best_plan(request, [d1, d2, d3]) == [2, 1, 3]
