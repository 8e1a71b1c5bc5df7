"""The yearly record's sums (learnnet/learning/record.py), without an app.

The property tests recompute every sum by brute force from the raw rows with an
independent rule for the werkjaar: a session belongs to it when its UTC start lies
between local midnight of 1 September in Brussels and local midnight a year later
(converted to UTC here, not by taking a local date as the module does).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from learnnet.attendance import rules as attendance_rules
from learnnet.learning import record
from learnnet.learning.record import (
    ActionPointRow,
    AnswerRow,
    GoalRow,
    MembershipRow,
    PresenceRow,
    SessionRow,
)

TZ = "Europe/Brussels"
FACILITY = 1
YEAR = 2026


def local_midnight_utc(day: date) -> datetime:
    """Midnight at the start of ``day`` in Brussels, as a UTC moment."""
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(TZ)).astimezone(UTC)


# --- strategies ------------------------------------------------------------------------------

# Moments around both werkjaar boundaries (summer time: 22:00 UTC is local midnight) and
# in mid-winter (23:00 UTC), a few hours either side, a few days either side.
ANCHORS = (
    datetime(2026, 8, 31, 22, 0, tzinfo=UTC),
    datetime(2027, 8, 31, 22, 0, tzinfo=UTC),
    datetime(2027, 1, 14, 23, 0, tzinfo=UTC),
    datetime(2027, 3, 27, 23, 0, tzinfo=UTC),  # the night summer time starts
)


@st.composite
def session_rows(draw, ident: int) -> SessionRow:
    anchor = draw(st.sampled_from(ANCHORS))
    start = anchor + timedelta(days=draw(st.integers(-3, 3)), minutes=draw(st.integers(-240, 240)))
    minutes = draw(st.integers(0, 300))  # whole minutes: never exactly half a quarter
    return SessionRow(
        id=ident,
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
        title=f"Bijeenkomst {ident}",
        host_facility_id=draw(st.integers(1, 3)),
        host_name="Host",
        cancelled=draw(st.booleans()),
        has_attendance=draw(st.booleans()),
    )


@st.composite
def worlds(draw):
    n = draw(st.integers(0, 7))
    sessions = [draw(session_rows(i + 1)) for i in range(n)]
    ids = [s.id for s in sessions] + [99]  # 99: a session of another network / werkjaar
    presence = []
    for sid in ids:
        contacts = draw(st.lists(st.integers(1, 5), unique=True, max_size=4))
        for cid in contacts:
            presence.append(
                PresenceRow(
                    session_id=sid,
                    facility_id=draw(st.sampled_from([1, 1, 2, None])),
                    contact_id=cid,
                    person_name=f"Persoon {cid}",
                    status=draw(st.sampled_from(["present", "present", "absent", "excused"])),
                )
            )
        for name in draw(st.lists(st.sampled_from(["Gast A", "Gast B"]), unique=True)):
            presence.append(PresenceRow(sid, draw(st.sampled_from([1, 2])), None, name, "present"))
    joined = date(2026, 6, 1) + timedelta(days=draw(st.integers(0, 400)))
    left = draw(st.none() | st.integers(0, 400).map(lambda d: joined + timedelta(days=d)))
    memberships = [MembershipRow(joined, left)]
    if draw(st.booleans()):  # left, and came back later
        again = (left or joined) + timedelta(days=draw(st.integers(1, 200)))
        memberships.append(MembershipRow(again, None))
    goals = [
        GoalRow(sid, gid, "Thema", gid, f"Doel {gid}")
        for sid in ids
        for gid in draw(st.lists(st.integers(1, 4), unique=True, max_size=3))
    ]
    points = [
        ActionPointRow(
            id=i,
            session_id=draw(st.sampled_from(ids)),
            what=f"Actie {i}",
            owner_facility_id=draw(st.sampled_from([1, 2, None])),
            owner_name="Iemand",
            due_on=draw(st.none() | st.just(date(2027, 1, 1))),
            done=draw(st.booleans()),
            notes=draw(st.sampled_from([(), ("Goed gegaan",)])),
        )
        for i in range(draw(st.integers(0, 5)))
    ]
    answers = [
        AnswerRow(
            session_id=draw(st.sampled_from(ids)),
            facility_id=draw(st.sampled_from([1, 2, None])),
            question=draw(st.sampled_from(["take_away", "try_out"])),
            text=draw(st.sampled_from(["", "  ", "Mooi", "Ik probeer het"])),
            share=draw(st.booleans()),
        )
        for _ in range(draw(st.integers(0, 6)))
    ]
    now = draw(st.sampled_from(ANCHORS)) + timedelta(hours=draw(st.integers(-6, 6)))
    return sessions, presence, memberships, goals, points, answers, now


# --- the oracle --------------------------------------------------------------------------------


def quarter_hours(s: SessionRow) -> float:
    minutes = (s.ends_at - s.starts_at).total_seconds() / 60
    return max(math.floor(minutes / 15 + 0.5), 0) / 4


def brute_force(sessions, presence, memberships, goals, points, answers, now):
    lower = local_midnight_utc(date(YEAR, 9, 1))
    upper = local_midnight_utc(date(YEAR + 1, 9, 1))
    held = {}
    for s in sessions:
        if s.cancelled or not (lower <= s.starts_at < upper):
            continue
        if not (s.has_attendance or s.ends_at <= now):
            continue
        held[s.id] = s
    present = [
        p for p in presence if p.session_id in held and p.status == "present" and p.facility_id == 1
    ]
    attended = {p.session_id for p in present}
    hours = defaultdict(float)
    sessions_of = defaultdict(set)
    for p in present:
        who = p.person_name  # names are unique per person in these worlds
        hours[who] += quarter_hours(held[p.session_id])
        sessions_of[who].add(p.session_id)

    def local_day(s):
        return s.starts_at.astimezone(ZoneInfo(TZ)).date()

    as_member = 0
    for s in held.values():
        day = local_day(s)
        if any(m.joined_on <= day and (m.left_on is None or m.left_on >= day) for m in memberships):
            as_member += 1
    goal_counts = Counter()
    for sid in attended:
        for gid in {g.goal_id for g in goals if g.session_id == sid}:
            goal_counts[gid] += 1
    return {
        "attended": attended,
        "people": {w: (len(sessions_of[w]), round(h, 2)) for w, h in hours.items()},
        "total": round(sum(hours.values()), 2),
        "as_member": as_member,
        "hosted": {s.id for s in held.values() if s.host_facility_id == 1},
        "goals": dict(goal_counts),
        "points": sorted(p.id for p in points if p.session_id in held and p.owner_facility_id == 1),
        "quotes": Counter(
            a.text.strip()
            for a in answers
            if a.share and a.facility_id == 1 and a.session_id in held and a.text.strip()
        ),
    }


def compute(sessions, presence, memberships, goals, points, answers, now):
    return record.year_record(
        facility_id=FACILITY,
        start_year=YEAR,
        timezone=TZ,
        now=now,
        sessions=sessions,
        presence=presence,
        memberships=memberships,
        goals=goals,
        action_points=points,
        answers=answers,
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_the_sums_match_a_recount_from_the_raw_rows(world):
    expected = brute_force(*world)
    got = compute(*world)
    assert {a.session_id for a in got.attended} == expected["attended"]
    assert {p.name: (p.sessions, p.hours) for p in got.people} == expected["people"]
    assert got.total_hours == expected["total"]
    assert math.isclose(got.total_hours, sum(a.person_hours for a in got.attended), abs_tol=0.005)
    assert got.held_as_member == expected["as_member"]
    assert {h.session_id for h in got.hosted} == expected["hosted"]
    assert {g.goal_id: g.sessions for g in got.goals} == expected["goals"]
    assert sorted(a.id for a in got.action_points) == expected["points"]
    assert Counter(q.text for q in got.quotes) == expected["quotes"]
    # Every day shown lies in the werkjaar, and the lists are in date order.
    days = [a.day for a in got.attended]
    assert days == sorted(days)
    assert all(date(YEAR, 9, 1) <= d <= date(YEAR + 1, 8, 31) for d in days)


@settings(max_examples=60, deadline=None)
@given(worlds())
def test_a_persons_hours_are_the_certificates_hours(world):
    """One rule: each person's hours are the sum of attendance_rules.hours over the
    sessions they were present at (the certificate's rule)."""
    sessions = {s.id: s for s in world[0]}
    got = compute(*world)
    for person in got.people:
        ids = [a.session_id for a in got.attended if person.name in a.people]
        assert person.hours == round(
            sum(attendance_rules.hours(sessions[i].starts_at, sessions[i].ends_at) for i in ids), 2
        )


# --- worked examples ----------------------------------------------------------------------------


def one_session(start: datetime, **kw) -> SessionRow:
    return SessionRow(
        id=kw.pop("id", 1),
        starts_at=start,
        ends_at=start + timedelta(hours=2, minutes=30),
        title="Bijeenkomst",
        host_facility_id=kw.pop("host", 2),
        host_name="Host",
        cancelled=kw.pop("cancelled", False),
        has_attendance=True,
    )


def here(session_id: int = 1, name: str = "Sofie", contact_id: int | None = 7) -> PresenceRow:
    return PresenceRow(session_id, FACILITY, contact_id, name, "present")


MEMBER = [MembershipRow(date(2020, 9, 1), None)]
NOW = datetime(2028, 1, 1, tzinfo=UTC)


def year_of(sessions, presence, start_year=YEAR, memberships=MEMBER, **kw):
    return record.year_record(
        facility_id=FACILITY,
        start_year=start_year,
        timezone=TZ,
        now=kw.pop("now", NOW),
        sessions=sessions,
        presence=presence,
        memberships=memberships,
        **kw,
    )


def test_a_session_just_after_local_midnight_on_1_september_opens_the_new_werkjaar():
    # 00:30 in Brussels on 1 September 2026 is 22:30 UTC on 31 August.
    s = one_session(datetime(2026, 8, 31, 22, 30, tzinfo=UTC))
    assert len(year_of([s], [here()]).attended) == 1
    assert year_of([s], [here()], start_year=2025).attended == ()


def test_a_session_late_on_31_august_closes_the_old_werkjaar():
    # 23:30 in Brussels on 31 August 2027 is 21:30 UTC: still werkjaar 2026-2027.
    s = one_session(datetime(2027, 8, 31, 21, 30, tzinfo=UTC))
    assert [a.day for a in year_of([s], [here()]).attended] == [date(2027, 8, 31)]
    assert year_of([s], [here()], start_year=2027).attended == ()


def test_a_cancelled_session_counts_nowhere():
    s = one_session(datetime(2026, 10, 6, 17, tzinfo=UTC), cancelled=True, host=FACILITY)
    got = year_of(
        [s],
        [here()],
        goals=[GoalRow(1, 1, "Thema", 1, "Doel")],
        action_points=[ActionPointRow(1, 1, "X", FACILITY, "KDV", None, False)],
        answers=[AnswerRow(1, FACILITY, "take_away", "Mooi", True)],
    )
    assert got.attended == got.hosted == got.goals == got.action_points == got.quotes == ()
    assert got.people == () and got.total_hours == 0 and got.held_as_member == 0


def test_a_facility_that_left_mid_year_keeps_its_record_up_to_then():
    sessions = [
        one_session(datetime(2026, 10, 6, 17, tzinfo=UTC), id=1),
        one_session(datetime(2026, 12, 1, 18, tzinfo=UTC), id=2),
        one_session(datetime(2027, 3, 2, 18, tzinfo=UTC), id=3),
    ]
    left = [MembershipRow(date(2024, 9, 1), date(2027, 1, 31))]
    got = year_of(sessions, [here(1), here(2)], memberships=left)
    assert got.held_as_member == 2  # the March session came after it left
    assert [a.session_id for a in got.attended] == [1, 2]
    assert got.member_until == date(2027, 1, 31) and got.member_from == date(2026, 9, 1)
    assert got.people == (record.Person("Sofie", 2, 5.0),)
    assert record.werkjaren(left, date(2028, 5, 1)) == [2026, 2025, 2024]


def test_a_session_not_yet_held_is_not_counted():
    start = datetime(2026, 11, 3, 18, tzinfo=UTC)
    s = dataclass_replace(one_session(start), has_attendance=False)
    assert year_of([s], [], now=start).attended == ()
    assert year_of([s], [], now=start + timedelta(hours=3)).held_as_member == 1


def dataclass_replace(row, **kw):
    from dataclasses import replace

    return replace(row, **kw)


def test_people_counted_once_per_session_and_guests_by_name():
    s = one_session(datetime(2026, 10, 6, 17, tzinfo=UTC))
    rows = [here(), here(name="Sofie"), here(name="Gast", contact_id=None)]
    got = year_of([s], rows)
    assert got.attended[0].people == ("Gast", "Sofie")
    assert got.total_hours == 5.0


def test_werkjaar_labels_round_trip():
    assert record.parse_werkjaar(record.werkjaar_label(2026)) == 2026
    for bad in ("", "2026", "2026-2028", "abc", None):
        assert record.parse_werkjaar(bad) is None
