"""The personal check-in code's rules (learnnet.attendance.checkin_code), without an app."""

from __future__ import annotations

import pytest

from learnnet.attendance import checkin_code as cc

SECRET = b"a secret of the app"
PEOPLE = range(1, 400)  # the contact ids a session's check-in list holds


def test_the_long_code_names_its_contact_for_its_session_only():
    code = cc.long_code(SECRET, 7, 42)
    assert code.startswith("42.") and len(code) == 3 + cc.LONG_LENGTH
    assert cc.contact_of(SECRET, 7, code, PEOPLE) == 42
    assert cc.contact_of(SECRET, 8, code, PEOPLE) is None  # another session
    assert cc.contact_of(b"another app", 7, code, PEOPLE) is None  # another secret
    assert cc.contact_of(SECRET, 7, code, [1, 2, 3]) is None  # not on this list


def test_an_altered_code_checks_nobody_in():
    code = cc.long_code(SECRET, 7, 42)
    signature = code.split(".")[1]
    assert cc.contact_of(SECRET, 7, f"43.{signature}", PEOPLE) is None  # a colleague's id
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    assert cc.contact_of(SECRET, 7, f"42.{flipped}", PEOPLE) is None
    assert cc.contact_of(SECRET, 7, f"42.{signature[:-1]}", PEOPLE) is None


def test_a_scanned_link_gives_its_code():
    code = cc.long_code(SECRET, 7, 42)
    link = f"https://learnnet.example/sessions/7/checkin?code={code}"
    assert cc.contact_of(SECRET, 7, link, PEOPLE) == 42
    assert cc.contact_of(SECRET, 7, "https://learnnet.example/?code=", PEOPLE) is None


@pytest.mark.parametrize(
    "typed",
    [
        lambda s: s,
        lambda s: s.lower(),
        lambda s: f"  {s[:3]}-{s[3:]} ",
        lambda s: f"{s[:3]} {s[3:]}",
    ],
)
def test_the_short_code_is_forgiving_to_type(typed):
    short = cc.short_code(SECRET, 7, 42)
    assert len(short) == cc.SHORT_LENGTH
    assert set(short) <= set(cc.ALPHABET)
    assert cc.contact_of(SECRET, 7, typed(short), PEOPLE) == 42


def test_look_alike_letters_read_as_digits():
    assert cc.from_scanned("o1-lI0") == "01110"


def test_the_short_code_is_shown_in_two_halves():
    assert cc.shown("K7Q4MX") == "K7Q-4MX"


def test_a_short_code_of_another_session_or_a_wrong_one_checks_nobody_in():
    short = cc.short_code(SECRET, 7, 42)
    assert cc.contact_of(SECRET, 8, short, [42]) is None
    assert cc.contact_of(SECRET, 7, "", PEOPLE) is None
    assert cc.contact_of(SECRET, 7, short[:-1], PEOPLE) is None
    assert cc.contact_of(SECRET, 7, "x" * 5000, PEOPLE) is None


def test_short_codes_of_one_session_differ():
    codes = {cc.short_code(SECRET, 7, cid) for cid in PEOPLE}
    assert len(codes) == len(PEOPLE)
