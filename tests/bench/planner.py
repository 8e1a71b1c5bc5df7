"""Benchmark: plan 100 sessions for a network of 200 members.

Two kinds of input: random unavailability (a plan without breaks exists: the search
stops early), and one where breaks cannot be avoided (every tenth date only one member
is free: the search runs until its budget). Target (issues 3 and 9): under 1 second on
the 2-core development machine.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import date, timedelta

from learnnet.planning.recurrence import WEEKLY, Pattern
from learnnet.planning.rotation import Hosting, Member, Period, Request, plan


def make_request(seed: int) -> Request:
    rnd = random.Random(seed)
    today = date(2026, 11, 27)
    members = []
    for i in range(200):
        periods = []
        for _ in range(rnd.randint(0, 6)):
            start = today + timedelta(days=rnd.randint(0, 800))
            periods.append(Period(start, start + timedelta(days=rnd.randint(0, 30))))
        members.append(
            Member(
                id=i + 1,
                name=f"Voorziening {i:03d}",
                capacity=rnd.choice([None, 8, 12, 16, 20, 30]),
                willing=rnd.random() > 0.1,
                unavailable=tuple(periods),
            )
        )
    history = tuple(
        Hosting(rnd.randint(1, 200), today - timedelta(days=7 * n)) for n in range(1, 80)
    )
    return Request(
        members=tuple(members),
        pattern=Pattern(WEEKLY, today + timedelta(days=3), weekday=1, interval_weeks=1),
        today=today,
        count=100,
        history=history,
        expected_attendance=12,
    )


def unavoidable_request() -> Request:
    today = date(2026, 11, 27)
    start = today + timedelta(days=3)
    dates = [start + timedelta(days=7 * i) for i in range(100)]
    members = tuple(
        Member(
            i + 1,
            f"Voorziening {i:03d}",
            unavailable=tuple(Period(d, d) for k, d in enumerate(dates) if k % 10 == 9 and i),
        )
        for i in range(200)
    )
    return Request(
        members=members,
        pattern=Pattern(WEEKLY, start, weekday=start.weekday(), interval_weeks=1),
        today=today,
        count=100,
        expected_attendance=12,
    )


def main() -> None:
    timings = []
    for seed in range(5):
        request = make_request(seed)
        start = time.perf_counter()
        result = plan(request)
        timings.append(time.perf_counter() - start)
        assert len(result.assignments) == 100
    print(
        "planner: 100 sessions, 200 members, random unavailability: "
        f"median {statistics.median(timings) * 1000:.0f} ms, worst {max(timings) * 1000:.0f} ms "
        "(target < 1000 ms)"
    )
    request = unavoidable_request()
    start = time.perf_counter()
    result = plan(request)
    elapsed = time.perf_counter() - start
    print(
        "planner: 100 sessions, 200 members, breaks unavoidable (search until its budget): "
        f"{elapsed * 1000:.0f} ms, {result.broken_count} breaks (optimum 9; target < 1000 ms)"
    )


if __name__ == "__main__":
    main()
