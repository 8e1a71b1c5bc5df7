"""Kept parts (learnnet.sections) without an app: the limits of what a worker holds."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from learnnet.sections import Sections, size_of


def test_a_newer_count_of_a_scope_lets_go_of_the_parts_kept_under_an_older_one():
    parts = Sections(seconds=60, max_bytes=10**6)
    parts.put(("a",), "network 1, old", 0, (("ns:1", 5), ("shared", 1)))
    parts.put(("b",), "network 2", 0, (("ns:2", 7), ("shared", 1)))
    parts.put(("c",), "network 1, new", 0, (("ns:1", 6), ("shared", 1)))
    assert parts.get(("a",), 1) == (False, None)  # can never be used again: gone
    assert parts.get(("b",), 1) == (True, "network 2")  # another network's part stays
    assert parts.get(("c",), 1) == (True, "network 1, new")
    assert len(parts) == 2


def test_the_size_limit_lets_the_least_recently_used_parts_go_and_refuses_a_huge_one():
    parts = Sections(seconds=60, max_bytes=1000)
    for n in range(5):
        parts.put((n,), "x" * 200, 0, (("shared", 1),))
    assert parts.size <= 1000
    assert parts.get((0,), 1) == (False, None)  # the oldest went first
    assert parts.get((4,), 1)[0]
    parts.put(("huge",), "x" * 5000, 0, (("shared", 1),))
    assert parts.get(("huge",), 1) == (False, None)
    parts.clear()
    assert parts.size == 0 and len(parts) == 0


def test_a_part_is_used_for_at_most_its_age_limit():
    parts = Sections(seconds=60, max_bytes=10**6)
    parts.put(("a",), "kept", 100, (("shared", 1),))
    assert parts.get(("a",), 160) == (True, "kept")
    assert parts.get(("a",), 161) == (False, None)
    assert parts.size == 0


def test_the_size_of_a_part_counts_its_text():
    @dataclass(frozen=True)
    class Lists:
        count: int
        html: Markup

    small, large = Lists(3, Markup("<p>a</p>")), Lists(3, Markup("<tr></tr>" * 10_000))
    assert size_of(large) - size_of(small) >= 89_000
    assert size_of({1: ((2, ("unavailable",)),)}) < 1000
