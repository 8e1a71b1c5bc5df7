"""The pure iCalendar builder: folding, escaping, time zones, checked by independent parsers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from learnnet.calendar import ical
from tests.ical_oracles import parse_icaljs, parse_vobject

STAMP = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LONG_DUTCH = (
    "Onthaal; rondleiding, koffie — daarna: 'Wat werkt bij ons?'\n"
    "Crèche, kinderdagverblijf én gezinsopvang: ë, ï, ü, é, à, ç, "
    "zóveel ideeën; back\\slash\\\\ en een lange regel " + "ëé" * 60
)


def event(day: datetime, **kw) -> ical.Event:
    return ical.Event(
        uid=kw.pop("uid", f"uid-{day:%Y%m%d}@learnnet"),
        sequence=kw.pop("sequence", 0),
        start=day,
        end=day + timedelta(hours=2, minutes=30),
        tz="Europe/Brussels",
        summary=kw.pop("summary", "Lerend netwerk Gent: Netwerkbijeenkomst"),
        last_modified=STAMP,
        **kw,
    )


# 19:00 Brussels on both sides of the March and October changes of 2027.
DATES = {
    datetime(2027, 3, 23, 18, 0, tzinfo=UTC): "2027-03-23T18:00:00Z",  # winter, UTC+1
    datetime(2027, 3, 30, 17, 0, tzinfo=UTC): "2027-03-30T17:00:00Z",  # summer, UTC+2
    datetime(2027, 10, 26, 17, 0, tzinfo=UTC): "2027-10-26T17:00:00Z",  # summer
    datetime(2027, 11, 2, 18, 0, tzinfo=UTC): "2027-11-02T18:00:00Z",  # winter
}


@pytest.mark.parametrize("parse", [parse_icaljs, parse_vobject], ids=["ical.js", "vobject"])
def test_local_times_across_summer_time_read_the_same_in_independent_parsers(parse):
    data = ical.build(
        ical.Calendar(events=tuple(event(d) for d in DATES), name="Lerend netwerk Gent")
    )
    assert b"TZID=Europe/Brussels:20270330T190000" in data
    assert b"TZID=Europe/Brussels:20270323T190000" in data
    parsed = parse(data)
    assert parsed["name"] == "Lerend netwerk Gent"
    assert [e["start_utc"] for e in parsed["events"]] == sorted(DATES.values())
    assert all(e["tzid"] == "Europe/Brussels" for e in parsed["events"])


@pytest.mark.parametrize("parse", [parse_icaljs, parse_vobject], ids=["ical.js", "vobject"])
def test_long_dutch_text_with_escapes_survives(parse):
    data = ical.build(
        ical.Calendar(
            events=(
                event(
                    datetime(2027, 3, 30, 17, tzinfo=UTC),
                    summary="Geannuleerd: ’t Kriebeltje, Gent; één",
                    description=LONG_DUTCH,
                    location="Kinderopvang ’t Kriebeltje, Wondelgemstraat 45, 9000 Gent",
                ),
            )
        )
    )
    for line in data.split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")  # no line ends inside a character
    [parsed] = parse(data)["events"]
    assert parsed["description"] == LONG_DUTCH
    assert parsed["summary"] == "Geannuleerd: ’t Kriebeltje, Gent; één"
    assert parsed["location"] == "Kinderopvang ’t Kriebeltje, Wondelgemstraat 45, 9000 Gent"


def test_itip_request_and_cancel_carry_organizer_attendee_and_sequence():
    organizer = ical.Person("antwoord+7.abc@example.org", "An Peeters")
    attendee = ical.Person("ilse@example.org", "Ilse Vermeulen", partstat="NEEDS-ACTION")
    base = event(
        datetime(2027, 3, 30, 17, tzinfo=UTC),
        sequence=3,
        organizer=organizer,
        attendees=(attendee,),
    )
    request = ical.build(ical.Calendar(events=(base,), method="REQUEST", sent_at=STAMP))
    cancel = ical.build(
        ical.Calendar(
            events=(ical.Event(**{**base.__dict__, "status": ical.CANCELLED, "sequence": 4}),),
            method="CANCEL",
            sent_at=STAMP,
        )
    )
    for parse in (parse_icaljs, parse_vobject):
        r = parse(request)
        assert r["method"] == "REQUEST"
        [e] = r["events"]
        assert e["organizer"] == "antwoord+7.abc@example.org"
        assert e["attendees"] == [{"email": "ilse@example.org", "partstat": "NEEDS-ACTION"}]
        assert e["sequence"] == 3
        c = parse(cancel)
        assert c["method"] == "CANCEL"
        assert c["events"][0]["status"] == "CANCELLED" and c["events"][0]["sequence"] == 4
        assert c["events"][0]["uid"] == e["uid"]


def test_a_feed_is_byte_for_byte_the_same_for_the_same_data():
    calendar = ical.Calendar(events=tuple(event(d) for d in DATES), name="x")
    assert ical.build(calendar) == ical.build(calendar)


@pytest.mark.parametrize(
    ("tz", "daylight", "standard"),
    [
        ("Europe/Brussels", "DTSTART:19700329T020000", "DTSTART:19701025T030000"),
        ("Europe/London", "DTSTART:19700329T010000", "DTSTART:19701025T020000"),
    ],
)
def test_eu_zones_get_a_two_rule_vtimezone(tz, daylight, standard):
    block = ical.vtimezone(tz, 2026, 2028)
    assert daylight in block and standard in block
    assert block.count("RRULE:FREQ=YEARLY") == 2 and "RDATE" not in block


def test_a_zone_without_summer_time_gets_one_fixed_offset():
    block = ical.vtimezone("Asia/Kolkata", 2026, 2027)
    assert "TZOFFSETTO:+0530" in block and "RRULE" not in block


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400))
def test_folding_never_splits_a_character_or_an_escape_and_unfolds_to_the_same(text):
    line = ("DESCRIPTION:" + text.replace("\\", "\\\\").replace("\n", "\\n")).encode()
    line = line.replace(b"\r", b"")
    folded = ical.fold(line)
    pieces = folded.split(b"\r\n ")
    assert b"".join(pieces) == line
    for piece in pieces:
        assert len(piece) <= 75
        piece.decode("utf-8")  # whole characters only
    for piece in pieces[:-1]:
        trailing = len(piece) - len(piece.rstrip(b"\\"))
        assert trailing % 2 == 0, "a fold between a backslash and what it escapes"
