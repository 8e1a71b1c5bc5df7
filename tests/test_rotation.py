"""The rotation planner: property-based tests for every rule, and worked examples."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, date, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from learnnet.planning.recurrence import (
    DATES,
    MONTHLY,
    WEEKLY,
    Pattern,
    candidate_dates,
    local_to_utc,
    nth_weekday,
)
from learnnet.planning.rotation import (
    CAPACITY,
    CONSECUTIVE,
    FAIRNESS,
    REASON_LAST,
    REASON_NEVER,
    SKIP_BLACKOUT,
    SKIP_HOLIDAY,
    SKIP_NO_HOST,
    SKIP_SCHOOL_HOLIDAY,
    SKIP_TAKEN,
    UNAVAILABLE,
    Hosting,
    Member,
    Period,
    PlanningError,
    Request,
    next_in_line,
    plan,
)
from tests.planner_oracle import evaluate

TODAY = date(2026, 11, 27)
START = date(2026, 12, 1)

# --- strategies -------------------------------------------------------------------------------

days = st.integers(min_value=0, max_value=400).map(lambda n: START + timedelta(days=n))
past_days = st.integers(min_value=1, max_value=900).map(lambda n: TODAY - timedelta(days=n))


@st.composite
def periods(draw) -> Period:
    start = draw(days)
    return Period(start, start + timedelta(days=draw(st.integers(0, 40))), "closed")


@st.composite
def members(draw) -> tuple[Member, ...]:
    n = draw(st.integers(min_value=1, max_value=9))
    out = []
    for i in range(n):
        out.append(
            Member(
                id=i + 1,
                name=draw(st.sampled_from(["Ark", "Bij", "Ceder", "Duif", "Eik", "Fee"])) + str(i),
                capacity=draw(st.one_of(st.none(), st.integers(4, 30))),
                willing=draw(st.booleans()) if i else True,
                joined_on=draw(st.one_of(st.none(), days)),
                left_on=draw(st.one_of(st.none(), days)),
                unavailable=tuple(draw(st.lists(periods(), max_size=3))),
            )
        )
    return tuple(out)


@st.composite
def patterns(draw) -> Pattern:
    kind = draw(st.sampled_from([WEEKLY, MONTHLY, DATES]))
    return Pattern(
        kind=kind,
        start=draw(days),
        weekday=draw(st.integers(0, 6)),
        interval_weeks=draw(st.integers(1, 8)),
        nth=draw(st.sampled_from([1, 2, 3, 4, -1])),
        dates=tuple(draw(st.lists(days, min_size=1, max_size=15))),
    )


@st.composite
def requests(draw) -> Request:
    ms = draw(members())
    history = tuple(
        Hosting(draw(st.sampled_from([m.id for m in ms])), d)
        for d in draw(st.lists(past_days, max_size=12, unique=True))
    )
    pattern = draw(patterns())
    holidays = {d: "feestdag" for d in draw(st.lists(days, max_size=5))}
    # The season poll, on some of the pattern's dates: offers to host and "kan niet".
    offers: dict[int, frozenset[date]] = {}
    cannot_come: dict[int, frozenset[date]] = {}
    polled = list(itertools.islice(candidate_dates(pattern), 25))
    if polled and draw(st.booleans()):
        answers = st.sets(st.sampled_from(polled), max_size=8).map(frozenset)
        for m in ms:
            offers[m.id] = draw(answers)
            cannot_come[m.id] = draw(answers)
    return Request(
        members=ms,
        pattern=pattern,
        today=TODAY,
        count=draw(st.integers(1, 25)),
        history=history,
        expected_attendance=draw(st.one_of(st.none(), st.integers(5, 25))),
        holidays=holidays,
        blackouts=tuple(draw(st.lists(periods(), max_size=2))),
        cannot_come=cannot_come,
        offers=offers,
    )


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- properties -------------------------------------------------------------------------------


@PROPERTY
@given(requests())
def test_a_host_is_a_willing_member_on_the_day_and_free_unless_the_facilitator_forced_it(request):
    by_id = {m.id: m for m in request.members}
    for a in plan(request).assignments:
        host = by_id[a.facility_id]
        assert host.willing and host.is_member_on(a.day)
        assert host.is_free_on(a.day)
        assert a.day not in request.cannot_come.get(host.id, frozenset())
        assert UNAVAILABLE not in a.broken


@PROPERTY
@given(requests())
def test_broken_rules_are_marked_truthfully(request):
    """The marks agree with an independent reading of the rules over the final timeline."""
    result = plan(request)
    marks = evaluate(request, [(a.day, a.facility_id) for a in result.assignments])
    assert [a.broken for a in result.assignments] == marks


@PROPERTY
@given(requests())
def test_nobody_hosts_twice_before_every_eligible_member_hosted_once_when_all_are_free(request):
    """A new network with everyone free, rooms large enough and nobody joining or leaving:
    fairness is exact and nobody hosts twice in a row."""
    simple = Request(
        members=tuple(Member(m.id, m.name, None, m.willing) for m in request.members),
        pattern=request.pattern,
        today=request.today,
        count=request.count,
    )
    willing = [m.id for m in simple.members if m.willing]
    counts = Counter()
    for a in plan(simple).assignments:
        assert counts.get(a.facility_id, 0) == min(counts.get(i, 0) for i in willing)
        if len(willing) > 1:
            assert CONSECUTIVE not in a.broken
        assert FAIRNESS not in a.broken
        counts[a.facility_id] += 1


@PROPERTY
@given(requests())
def test_skipped_dates_say_why_and_nothing_lands_on_holidays_blackouts_or_taken_days(request):
    result = plan(request)
    planned = {a.day for a in result.assignments}
    taken = {h.day for h in request.history}
    assert len(planned) == len(result.assignments)
    assert len(result.assignments) <= 100
    for a in result.assignments:
        assert a.day not in request.holidays
        assert not any(a.day in p for p in request.blackouts)
        assert a.day not in taken
        assert a.day >= request.today
    for skip in result.skipped:
        assert skip.day not in planned
        if skip.code == SKIP_HOLIDAY:
            assert skip.day in request.holidays
        elif skip.code == SKIP_BLACKOUT:
            assert any(skip.day in p for p in request.blackouts)
        elif skip.code == SKIP_TAKEN:
            assert skip.day in taken
        elif skip.code == SKIP_NO_HOST:
            assert not any(
                m.willing
                and m.is_member_on(skip.day)
                and m.is_free_on(skip.day)
                and skip.day not in request.cannot_come.get(m.id, frozenset())
                for m in request.members
            )
    assert len(result.assignments) <= request.count
    assert [a.day for a in result.assignments] == sorted(planned)


@PROPERTY
@given(requests(), st.randoms(use_true_random=False))
def test_same_input_same_plan_whatever_the_order_of_members(request, rnd):
    shuffled = list(request.members)
    rnd.shuffle(shuffled)
    history = list(request.history)
    rnd.shuffle(history)
    again = Request(**{**request.__dict__, "members": tuple(shuffled), "history": tuple(history)})
    assert plan(again) == plan(request)


@PROPERTY
@given(requests(), st.data())
def test_fixed_hosts_and_dropped_dates_are_honoured(request, data):
    first = plan(request)
    if not first.assignments:
        return
    chosen = data.draw(st.sampled_from(first.assignments))
    other = data.draw(
        st.sampled_from([m.id for m in request.members if m.is_member_on(chosen.day)])
    )
    dropped = data.draw(st.sampled_from(first.assignments)).day
    adjusted = Request(
        **{
            **request.__dict__,
            "fixed_hosts": {chosen.day: other},
            "dropped": frozenset({dropped}) - {chosen.day},
        }
    )
    result = plan(adjusted)
    by_day = {a.day: a for a in result.assignments}
    if chosen.day != dropped:
        assert by_day[chosen.day].facility_id == other
        assert by_day[chosen.day].fixed
    assert dropped not in by_day or dropped == chosen.day


@PROPERTY
@given(patterns())
def test_candidate_dates_follow_the_pattern(pattern):
    dates = list(candidate_dates(pattern))[:30]
    assert dates == sorted(set(dates))
    if pattern.kind != DATES:
        assert all(d >= pattern.start for d in dates)
    if pattern.kind == WEEKLY:
        assert all(d.weekday() == pattern.weekday for d in dates)
        assert all((b - a).days == 7 * pattern.interval_weeks for a, b in itertools.pairwise(dates))
    if pattern.kind == MONTHLY:
        assert all(d.weekday() == pattern.weekday for d in dates)
        for d in dates:
            if pattern.nth == -1:
                assert (d + timedelta(days=7)).month != d.month
            else:
                assert (d.day - 1) // 7 + 1 == pattern.nth


# --- worked examples --------------------------------------------------------------------------

GENT = (
    Member(1, "Buurtcrèche De Toren", 12),
    Member(2, "Crèche Kleine Stapjes", 10),
    Member(3, "KDV De Zonnebloem", 16),
    Member(4, "Kinderopvang Ukkepuk", 15),
)


def test_everyone_hosts_once_before_anyone_hosts_twice_counting_last_season():
    history = (
        Hosting(3, date(2026, 3, 10)),
        Hosting(1, date(2026, 5, 12)),
        Hosting(4, date(2026, 6, 9)),
    )
    result = plan(
        Request(
            members=GENT,
            pattern=Pattern(MONTHLY, START, weekday=1, nth=2),
            today=TODAY,
            count=5,
            history=history,
        )
    )
    hosts = [a.facility_id for a in result.assignments]
    # Kleine Stapjes never hosted: first. Then the one who hosted longest ago (De Zonnebloem, March).
    assert hosts == [2, 3, 1, 4, 2]
    first, second = result.assignments[:2]
    assert first.reason.code == REASON_NEVER
    assert second.reason.code == REASON_LAST and second.reason.day == date(2026, 3, 10)
    assert result.complete


def test_a_closed_facility_is_skipped_and_the_next_in_line_hosts():
    closed = Member(
        2, "Crèche Kleine Stapjes", 10, unavailable=(Period(date(2026, 12, 1), date(2027, 1, 31)),)
    )
    result = plan(
        Request(
            members=(GENT[0], closed, GENT[2], GENT[3]),
            pattern=Pattern(MONTHLY, START, weekday=1, nth=2),
            today=TODAY,
            count=4,
        )
    )
    by_day = {a.day: a.facility_id for a in result.assignments}
    assert by_day[date(2026, 12, 8)] != 2 and by_day[date(2027, 1, 12)] != 2
    assert 2 in by_day.values()


def test_holidays_and_school_holidays_are_skipped_with_their_names():
    result = plan(
        Request(
            members=GENT,
            pattern=Pattern(
                DATES, START, dates=(date(2026, 12, 22), date(2026, 12, 25), date(2027, 1, 12))
            ),
            today=TODAY,
            count=3,
            holidays={date(2026, 12, 25): "Kerstmis"},
            blackouts=(Period(date(2026, 12, 19), date(2027, 1, 3), "Kerstvakantie"),),
        )
    )
    assert [a.day for a in result.assignments] == [date(2027, 1, 12)]
    assert {(s.day, s.code, s.detail) for s in result.skipped} == {
        (date(2026, 12, 22), SKIP_BLACKOUT, "Kerstvakantie"),
        (date(2026, 12, 25), SKIP_HOLIDAY, "Kerstmis"),
    }


def test_school_holidays_the_request_applies_are_skipped_with_their_key():
    """The caller passes the school holidays it applies (learnnet.planning.planning: all
    of them, unless the facilitator unticked one); a network's own period comes after."""
    request = Request(
        members=GENT,
        pattern=Pattern(DATES, START, dates=(date(2027, 2, 9), date(2027, 2, 16))),
        today=TODAY,
        count=2,
        school_holidays=(Period(date(2027, 2, 8), date(2027, 2, 14), "spring"),),
        blackouts=(Period(date(2027, 2, 8), date(2027, 2, 14), "Krokusvakantie"),),
    )
    result = plan(request)
    assert [a.day for a in result.assignments] == [date(2027, 2, 16)]
    assert [(s.day, s.code, s.detail) for s in result.skipped] == [
        (date(2027, 2, 9), SKIP_SCHOOL_HOLIDAY, "spring")
    ]


def test_too_small_rooms_host_only_when_nobody_else_can_and_it_is_marked():
    result = plan(
        Request(
            members=(Member(1, "Klein", 8), Member(2, "Groot", 30)),
            pattern=Pattern(WEEKLY, START, weekday=1, interval_weeks=4),
            today=TODAY,
            count=3,
            expected_attendance=20,
        )
    )
    # Hosting twice in a row is the lesser evil than a room that is too small.
    assert [a.facility_id for a in result.assignments] == [2, 2, 2]
    assert result.assignments[1].broken == (CONSECUTIVE,)
    closed = Member(2, "Groot", 30, unavailable=(Period(date(2026, 12, 28), date(2027, 1, 3)),))
    result = plan(
        Request(
            members=(Member(1, "Klein", 8), closed),
            pattern=Pattern(WEEKLY, START, weekday=1, interval_weeks=4),
            today=TODAY,
            count=2,
            expected_attendance=20,
        )
    )
    assert [(a.facility_id, a.broken) for a in result.assignments] == [(2, ()), (1, (CAPACITY,))]


def test_a_single_willing_member_hosts_every_time_with_the_break_marked():
    result = plan(
        Request(
            members=(Member(1, "Enige", 20), Member(2, "Wil niet", 20, willing=False)),
            pattern=Pattern(WEEKLY, START, weekday=3),
            today=TODAY,
            count=2,
        )
    )
    assert [a.facility_id for a in result.assignments] == [1, 1]
    assert result.assignments[1].broken == (CONSECUTIVE,)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"count": None, "until": None}, "no_limit"),
        ({"count": 1000}, "count_range"),
        ({"count": 0}, "count_range"),
        ({"until": date(2026, 11, 30)}, "until_before_start"),
        ({"today": date(2027, 1, 1)}, "start_in_past"),
        ({"members": (Member(1, "X", 10, willing=False),)}, "no_host"),
    ],
)
def test_invalid_requests_are_refused(change, code):
    base = {"members": GENT, "pattern": Pattern(WEEKLY, START), "today": TODAY, "count": 3}
    with pytest.raises(PlanningError) as info:
        plan(Request(**(base | change)))
    assert info.value.code == code


def test_next_in_line_orders_by_count_then_least_recent():
    history = (
        Hosting(1, date(2026, 1, 1)),
        Hosting(2, date(2026, 2, 1)),
        Hosting(1, date(2026, 3, 1)),
    )
    order = [m.id for m in next_in_line(GENT, history, START)]
    assert order == [3, 4, 2, 1]


def test_nth_and_last_weekday():
    assert nth_weekday(2027, 3, 3, -1) == date(2027, 3, 25)  # last Thursday
    assert nth_weekday(2027, 1, 1, 2) == date(2027, 1, 12)  # second Tuesday
    assert nth_weekday(2026, 2, 0, 5) is None


def test_a_series_keeps_its_local_time_across_both_summer_time_changes():
    pattern = Pattern(WEEKLY, date(2027, 3, 16), weekday=1, interval_weeks=1)
    spring = [
        local_to_utc(d, time(19, 0), "Europe/Brussels") for d in list(candidate_dates(pattern))[:3]
    ]
    assert [m.astimezone(UTC).hour for m in spring] == [18, 18, 17]  # 28 March 2027
    autumn = Pattern(WEEKLY, date(2027, 10, 19), weekday=1, interval_weeks=1)
    moments = [
        local_to_utc(d, time(19, 0), "Europe/Brussels") for d in list(candidate_dates(autumn))[:3]
    ]
    assert [m.hour for m in moments] == [17, 17, 18]  # 31 October 2027
    from zoneinfo import ZoneInfo

    assert {m.astimezone(ZoneInfo("Europe/Brussels")).hour for m in spring + moments} == {19}


def test_nonexistent_local_time_moves_forward():
    moment = local_to_utc(date(2027, 3, 28), time(2, 30), "Europe/Brussels")
    assert moment.astimezone(UTC).hour == 1  # 03:30 CEST


def test_a_season_between_planned_sessions_avoids_hosting_twice_in_a_row():
    """A and B hosted twice; X is already planned on 10 Feb: planning 3 Feb must not pick X."""
    history = (
        Hosting(1, date(2026, 9, 1)),
        Hosting(2, date(2026, 10, 1)),
        Hosting(1, date(2026, 11, 1)),
        Hosting(2, date(2026, 11, 20)),
        Hosting(3, date(2027, 2, 10)),
    )
    members = (Member(1, "A"), Member(2, "B"), Member(3, "X"), Member(4, "Y"))
    result = plan(
        Request(
            members=members,
            pattern=Pattern(DATES, START, dates=(date(2027, 2, 3),)),
            today=TODAY,
            count=1,
            history=history,
        )
    )
    (only,) = result.assignments
    assert only.facility_id == 4
    assert result.complete


def test_a_fixed_host_that_is_no_member_on_the_date_is_ignored():
    former = Member(9, "Vroeger lid", left_on=date(2025, 6, 30))
    result = plan(
        Request(
            members=(*GENT, former),
            pattern=Pattern(WEEKLY, START, weekday=1),
            today=TODAY,
            count=1,
            fixed_hosts={date(2026, 12, 1): 9},
        )
    )
    assert result.assignments[0].facility_id != 9
    assert not result.assignments[0].fixed


def test_at_most_100_sessions_even_with_a_far_last_date():
    result = plan(
        Request(
            members=GENT,
            pattern=Pattern(WEEKLY, START, weekday=1, interval_weeks=1),
            today=TODAY,
            until=START + timedelta(days=3 * 365),
        )
    )
    assert len(result.assignments) == 100
    assert result.truncated


def test_explicit_dates_in_the_past_or_too_far_ahead_get_a_reason():
    far = TODAY + timedelta(days=4 * 366)
    result = plan(
        Request(
            members=GENT,
            pattern=Pattern(DATES, START, dates=(date(2026, 1, 6), date(2027, 1, 5), far)),
            today=TODAY,
            count=3,
        )
    )
    assert [a.day for a in result.assignments] == [date(2027, 1, 5)]
    assert {(s.day, s.code) for s in result.skipped} == {
        (date(2026, 1, 6), "past"),
        (far, "too_far"),
    }
