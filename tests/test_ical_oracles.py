"""The iCalendar test oracles (tests/ical_oracles.py) read hand-written samples right.

Each sample is parsed by Mozilla's ical.js (node) and by vobject; both must agree on
every field and match the values worked out by hand here. The UTC instants come
from the VTIMEZONE inside each sample, never from Python's zoneinfo.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event

from tests import ical_oracles
from tests.ical_oracles import EVENT_KEYS, ICalOracleError, parse_icaljs, parse_vobject

PARSERS = [parse_icaljs, parse_vobject]


def ics(text: str) -> bytes:
    """A sample written with "\\n" line ends -> the CRLF bytes of a real .ics."""
    return text.replace("\n", "\r\n").encode("utf-8")


# Europe/Brussels as RRULEs, the way most calendar servers write it.
BRUSSELS_RRULE = r"""BEGIN:VTIMEZONE
TZID:Europe/Brussels
BEGIN:DAYLIGHT
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
END:DAYLIGHT
BEGIN:STANDARD
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
END:STANDARD
END:VTIMEZONE"""

# The folds split the escape "\n" (line 3 -> 4) and fall right before "Ë" and
# inside a run of spaces; unfolding must come before unescaping.
LONG_DESCRIPTION = (
    'Welkom op het lerend netwerk van de kinderopvang in Gent-Sint-Amandsberg; we bespreken het thema "naïeve vragen", café-gesprekken en coördinatie.\n'
    "Agenda: 1) kennismaking, 2) casussen; 3) afspraken.\n"
    "Locatie: zaal Ëlla, 1e verdieping – pad C:\\opvang\\nieuw"
)

FEED = ics(
    r"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//learnnet//oracle samples//NL
CALSCALE:GREGORIAN
METHOD:PUBLISH
X-WR-CALNAME:Lerend netwerk Gent\, kinderopvang
"""
    + BRUSSELS_RRULE
    + r"""
BEGIN:VEVENT
UID:sessie-4@learnnet.example
DTSTAMP:20270101T090000Z
DTSTART;TZID=Europe/Brussels:20271102T190000
DTEND;TZID=Europe/Brussels:20271102T210000
SUMMARY:Sessie 4: winteruur
STATUS:TENTATIVE
END:VEVENT
BEGIN:VEVENT
UID:sessie-1@learnnet.example
DTSTAMP:20270101T090000Z
LAST-MODIFIED:20261215T101530Z
SEQUENCE:1
DTSTART;TZID=Europe/Brussels:20270323T190000
DTEND;TZID=Europe/Brussels:20270323T210000
SUMMARY:Sessie 1: kennismaking
DESCRIPTION:Welkom op het lerend netwerk van de kinderopvang in Gent-Sint-A
 mandsberg\; we bespreken het thema "naïeve vragen"\, café-gesprekken en
  coördinatie.\nAgenda: 1) kennismaking\, 2) casussen\; 3) afspraken.\
 nLocatie: zaal
  Ëlla\, 1e verdieping – pad C:\\opvang\\nieuw
LOCATION:Kinderdagverblijf Het Vlindertje\, Gent
URL:https://learnnet.example/sessies/1?taal=nl&x=1
GEO:51.0543;3.7174
STATUS:CONFIRMED
END:VEVENT
BEGIN:VEVENT
UID:sessie-2@learnnet.example
DTSTAMP:20270101T090000Z
DTSTART;TZID=Europe/Brussels:20270330T190000
DTEND;TZID=Europe/Brussels:20270330T213000
SUMMARY:Sessie 2: zomeruur
END:VEVENT
BEGIN:VEVENT
UID:sessie-3@learnnet.example
DTSTAMP:20270101T090000Z
DTSTART;TZID=Europe/Brussels:20271026T190000
DURATION:PT2H
SUMMARY:Sessie 3: nog zomeruur
END:VEVENT
END:VCALENDAR
"""
)

CANCEL = ics(
    r"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//learnnet//oracle samples//NL
METHOD:CANCEL
"""
    + BRUSSELS_RRULE
    + r"""
BEGIN:VEVENT
UID:sessie-2@learnnet.example
DTSTAMP:20270320T080000Z
SEQUENCE:3
STATUS:CANCELLED
DTSTART;TZID=Europe/Brussels:20270330T190000
DTEND;TZID=Europe/Brussels:20270330T213000
SUMMARY:Geannuleerd: Sessie 2
ORGANIZER;CN=Begeleider:mailto:Begeleider@Example.org
ATTENDEE;CN="De Smet, An";ROLE=REQ-PARTICIPANT:mailto:an.desmet@example.be
END:VEVENT
END:VCALENDAR
"""
)

REQUEST = ics(
    r"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//learnnet//oracle samples//NL
METHOD:REQUEST
"""
    + BRUSSELS_RRULE
    + r"""
BEGIN:VEVENT
UID:sessie-3@learnnet.example
DTSTAMP:20270901T120000Z
SEQUENCE:0
DTSTART;TZID=Europe/Brussels:20271026T190000
DTEND;TZID=Europe/Brussels:20271026T210000
SUMMARY:Sessie 3
ORGANIZER;CN="Begeleider, Gent":MAILTO:begeleider@example.org
ATTENDEE;CN="Peeters, Jan";PARTSTAT=ACCEPTED;RSVP=TRUE:mailto:Jan.Peeters@Example.be
ATTENDEE;PARTSTAT=declined:mailto:els@example.be
ATTENDEE;RSVP=TRUE:mailto:noor@example.be
END:VEVENT
END:VCALENDAR
"""
)

# No METHOD, RFC 7986 NAME, a UTC event and an all-day event.
SINGLE = ics(
    r"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//learnnet//oracle samples//NL
NAME:Eén sessie\; apart
BEGIN:VEVENT
UID:utc@learnnet.example
DTSTAMP:20270101T090000Z
DTSTART:20270328T170000Z
DTEND:20270328T190000Z
SUMMARY:In UTC
END:VEVENT
BEGIN:VEVENT
UID:allday@learnnet.example
DTSTAMP:20270101T090000Z
DTSTART;VALUE=DATE:20270328
SUMMARY:Hele dag
END:VEVENT
END:VCALENDAR
"""
)

# TZID "Europe/Brussels" but a made-up VTIMEZONE (fixed UTC+3): a parser that
# used its own time zone database instead of the file would say 18:00Z/17:00Z.
FAKE_BRUSSELS = ics(
    r"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//learnnet//oracle samples//NL
BEGIN:VTIMEZONE
TZID:Europe/Brussels
BEGIN:STANDARD
DTSTART:19700101T000000
TZOFFSETFROM:+0300
TZOFFSETTO:+0300
TZNAME:FAKE
END:STANDARD
END:VTIMEZONE
BEGIN:VEVENT
UID:fake-winter@learnnet.example
DTSTAMP:20270101T090000Z
DTSTART;TZID=Europe/Brussels:20270323T190000
DTEND;TZID=Europe/Brussels:20270323T210000
END:VEVENT
BEGIN:VEVENT
UID:fake-summer@learnnet.example
DTSTAMP:20270101T090000Z
DTSTART;TZID=Europe/Brussels:20270330T190000
DTEND;TZID=Europe/Brussels:20270330T210000
END:VEVENT
END:VCALENDAR
"""
)

SAMPLES = {"feed": FEED, "cancel": CANCEL, "request": REQUEST, "single": SINGLE}


def _event(**fields):
    """An expected event: the defaults of a bare VEVENT, overridden by fields."""
    event = {
        "sequence": 0,
        "status": None,
        "summary": "",
        "description": "",
        "location": "",
        "url": None,
        "tzid": "Europe/Brussels",
        "organizer": None,
        "attendees": [],
        "last_modified_utc": None,
        "dtstamp_utc": "2027-01-01T09:00:00Z",
        "geo": None,
    }
    event.update(fields)
    return event


EXPECTED_FEED = {
    "method": "PUBLISH",
    "name": "Lerend netwerk Gent, kinderopvang",
    "events": [
        _event(
            uid="sessie-1@learnnet.example",
            sequence=1,
            status="CONFIRMED",
            summary="Sessie 1: kennismaking",
            description=LONG_DESCRIPTION,
            location="Kinderdagverblijf Het Vlindertje, Gent",
            url="https://learnnet.example/sessies/1?taal=nl&x=1",
            start_utc="2027-03-23T18:00:00Z",  # winter: UTC+1
            end_utc="2027-03-23T20:00:00Z",
            last_modified_utc="2026-12-15T10:15:30Z",
            geo=[51.0543, 3.7174],
        ),
        _event(
            uid="sessie-2@learnnet.example",
            summary="Sessie 2: zomeruur",
            start_utc="2027-03-30T17:00:00Z",  # summer: UTC+2
            end_utc="2027-03-30T19:30:00Z",
        ),
        _event(
            uid="sessie-3@learnnet.example",
            summary="Sessie 3: nog zomeruur",
            start_utc="2027-10-26T17:00:00Z",  # still summer time
            end_utc="2027-10-26T19:00:00Z",  # DURATION:PT2H
        ),
        _event(
            uid="sessie-4@learnnet.example",
            status="TENTATIVE",
            summary="Sessie 4: winteruur",
            start_utc="2027-11-02T18:00:00Z",  # winter again
            end_utc="2027-11-02T20:00:00Z",
        ),
    ],
}

EXPECTED_CANCEL = {
    "method": "CANCEL",
    "name": None,
    "events": [
        _event(
            uid="sessie-2@learnnet.example",
            sequence=3,
            status="CANCELLED",
            summary="Geannuleerd: Sessie 2",
            start_utc="2027-03-30T17:00:00Z",
            end_utc="2027-03-30T19:30:00Z",
            organizer="begeleider@example.org",
            attendees=[{"email": "an.desmet@example.be", "partstat": None}],
            dtstamp_utc="2027-03-20T08:00:00Z",
        )
    ],
}

EXPECTED_REQUEST = {
    "method": "REQUEST",
    "name": None,
    "events": [
        _event(
            uid="sessie-3@learnnet.example",
            summary="Sessie 3",
            start_utc="2027-10-26T17:00:00Z",
            end_utc="2027-10-26T19:00:00Z",
            organizer="begeleider@example.org",
            attendees=[
                {"email": "jan.peeters@example.be", "partstat": "ACCEPTED"},
                {"email": "els@example.be", "partstat": "DECLINED"},
                {"email": "noor@example.be", "partstat": None},
            ],
            dtstamp_utc="2027-09-01T12:00:00Z",
        )
    ],
}

EXPECTED_SINGLE = {
    "method": None,
    "name": "Eén sessie; apart",
    "events": [
        _event(
            uid="allday@learnnet.example",
            summary="Hele dag",
            start_utc="2027-03-28",
            end_utc="2027-03-29",  # no DTEND on a DATE: one day
            tzid=None,
        ),
        _event(
            uid="utc@learnnet.example",
            summary="In UTC",
            start_utc="2027-03-28T17:00:00Z",
            end_utc="2027-03-28T19:00:00Z",
            tzid=None,
        ),
    ],
}

EXPECTED = {
    "feed": EXPECTED_FEED,
    "cancel": EXPECTED_CANCEL,
    "request": EXPECTED_REQUEST,
    "single": EXPECTED_SINGLE,
}


@pytest.mark.parametrize("parse", PARSERS)
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_parser_reads_the_sample(parse, name):
    result = parse(SAMPLES[name])
    assert set(result) == {"method", "name", "events"}
    for event in result["events"]:
        assert set(event) == EVENT_KEYS
    assert result == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_both_parsers_agree_on_every_field(name):
    assert parse_icaljs(SAMPLES[name]) == parse_vobject(SAMPLES[name])


def test_folded_escaped_description_comes_back_identical():
    for parse in PARSERS:
        description = parse(FEED)["events"][0]["description"]
        assert description == LONG_DESCRIPTION
        assert "\\" not in description.replace("C:\\opvang\\nieuw", "")


def test_offsets_come_from_the_files_vtimezone_not_a_tz_database():
    """A made-up "Europe/Brussels" (UTC+3) wins over any built-in idea of Brussels.

    vobject keeps a process-wide TZID registry (first VTIMEZONE seen wins) and falls
    back to pytz: parsing the real zone, the fake one and the real one again shows
    the harness gives each file its own VTIMEZONE.
    """
    for parse in PARSERS:
        assert [e["start_utc"] for e in parse(FEED)["events"]][:2] == [
            "2027-03-23T18:00:00Z",
            "2027-03-30T17:00:00Z",
        ]
        fake = parse(FAKE_BRUSSELS)["events"]
        assert [(e["start_utc"], e["end_utc"]) for e in fake] == [
            ("2027-03-23T16:00:00Z", "2027-03-23T18:00:00Z"),
            ("2027-03-30T16:00:00Z", "2027-03-30T18:00:00Z"),
        ]
        assert parse(FEED) == EXPECTED_FEED


def test_icaljs_ignores_the_machines_time_zone(monkeypatch):
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14: any leak would show
    assert parse_icaljs(FEED) == EXPECTED_FEED
    assert parse_icaljs(SINGLE) == EXPECTED_SINGLE


# --- calendars the oracles refuse -------------------------------------------------

NO_VTIMEZONE = ics(
    """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//learnnet//oracle samples//NL
BEGIN:VEVENT
UID:x@learnnet.example
DTSTAMP:20270101T090000Z
DTSTART;TZID=Europe/Brussels:20270330T190000
END:VEVENT
END:VCALENDAR
"""
)

FLOATING = ics(
    """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//learnnet//oracle samples//NL
BEGIN:VEVENT
UID:x@learnnet.example
DTSTAMP:20270101T090000Z
DTSTART:20270330T190000
END:VEVENT
END:VCALENDAR
"""
)


@pytest.mark.parametrize("parse", PARSERS)
@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (NO_VTIMEZONE, "VTIMEZONE"),
        (FLOATING, "floating"),
        (SINGLE + SINGLE, "VCALENDAR"),
        (SINGLE.replace("Eén".encode(), "E\xe9n".encode("latin-1")), "UTF-8"),
    ],
    ids=["tzid-without-vtimezone", "floating-time", "two-calendars", "latin-1"],
)
def test_refuses_what_a_feed_must_never_contain(parse, data, reason):
    with pytest.raises(ICalOracleError, match=reason):
        parse(data)


# --- VTIMEZONEs written by icalendar's add_missing_timezones() ---------------------

BRUSSELS = ZoneInfo("Europe/Brussels")
LOCAL_TIMES = [
    datetime(2027, 3, 23, 19),
    datetime(2027, 3, 30, 19),
    datetime(2027, 10, 26, 19),
    datetime(2027, 11, 2, 19),
]
RIGHT_UTC = [
    "2027-03-23T18:00:00Z",
    "2027-03-30T17:00:00Z",
    "2027-10-26T17:00:00Z",
    "2027-11-02T18:00:00Z",
]


def generated_calendar() -> Calendar:
    """Four 19:00 sessions; icalendar writes the VTIMEZONE (RDATE lists, 1970-2038)."""
    calendar = Calendar()
    calendar.add("prodid", "-//learnnet//oracle samples//NL")
    calendar.add("version", "2.0")
    for number, local in enumerate(LOCAL_TIMES, start=1):
        event = Event()
        event.add("uid", f"gen-{number}@learnnet.example")
        event.add("dtstamp", datetime(2027, 1, 1, 9, tzinfo=ZoneInfo("UTC")))
        event.add("dtstart", local.replace(tzinfo=BRUSSELS))
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar


def one_rdate_per_line(calendar: Calendar) -> Calendar:
    for observance in calendar.walk("STANDARD") + calendar.walk("DAYLIGHT"):
        rdates = observance.pop("RDATE", None)
        if rdates is None:
            continue
        for value in rdates if isinstance(rdates, list) else [rdates]:
            for item in value.dts:
                observance.add("RDATE", item.dt)
    return calendar


def starts(result):
    return [event["start_utc"] for event in result["events"]]


def test_generated_vtimezone_has_rdate_lists():
    data = generated_calendar().to_ical()
    assert b"RRULE" not in data.split(b"END:VTIMEZONE")[0]
    assert b"RDATE:19780402T030000,19790401T030000," in data


@pytest.mark.parametrize("parse", PARSERS)
def test_rdate_lists_in_a_vtimezone_are_refused(parse):
    with pytest.raises(ICalOracleError, match="RDATE"):
        parse(generated_calendar().to_ical())


@pytest.mark.parametrize("parse", PARSERS)
def test_both_parsers_misread_rdate_lists(parse):
    """Why the oracles refuse them: ical.js 2.2.1 and vobject 0.9.9 keep only the
    first value of a multi-valued RDATE (1978), so from 1979 on Brussels stays at
    UTC+1 all year and every summer session comes out an hour late.

    If this test starts failing after an upgrade, the parser got fixed: drop the
    RDATE-list check from tests/ical_oracles.py and tests/js/parse_ics.mjs.
    """
    result = parse(generated_calendar().to_ical(), allow_rdate_lists=True)
    assert starts(result) == [
        "2027-03-23T18:00:00Z",
        "2027-03-30T18:00:00Z",  # should be 17:00Z
        "2027-10-26T18:00:00Z",  # should be 17:00Z
        "2027-11-02T18:00:00Z",
    ]


def test_one_rdate_per_line_is_read_right_by_both():
    data = one_rdate_per_line(generated_calendar()).to_ical()
    assert b"RDATE:20270328T030000\r\n" in data
    icaljs, vobj = parse_icaljs(data), parse_vobject(data)
    assert starts(icaljs) == RIGHT_UTC
    assert icaljs == vobj


# --- the harness fails (never skips) when node or ical.js are missing ---------------


def test_missing_node_fails_with_the_fix(monkeypatch):
    monkeypatch.setattr(ical_oracles.shutil, "which", lambda name: None)
    with pytest.raises(pytest.fail.Exception, match="make test"):
        parse_icaljs(SINGLE)


def test_missing_node_modules_fails_with_the_fix(monkeypatch, tmp_path: Path):
    shutil.copy(ical_oracles.JS_DIR / "package.json", tmp_path / "package.json")
    monkeypatch.setattr(ical_oracles, "JS_DIR", tmp_path)
    with pytest.raises(pytest.fail.Exception, match="make test"):
        parse_icaljs(SINGLE)


def test_stale_node_modules_fails_with_the_fix(monkeypatch, tmp_path: Path):
    installed = tmp_path / "node_modules" / "ical.js"
    installed.mkdir(parents=True)
    (installed / "package.json").write_text(json.dumps({"version": "0.0.1"}))
    shutil.copy(ical_oracles.JS_DIR / "package.json", tmp_path / "package.json")
    monkeypatch.setattr(ical_oracles, "JS_DIR", tmp_path)
    with pytest.raises(pytest.fail.Exception, match="make test"):
        parse_icaljs(SINGLE)


def test_pinned_icaljs_version_is_exact():
    manifest = json.loads((ical_oracles.JS_DIR / "package.json").read_text())
    lock = json.loads((ical_oracles.JS_DIR / "package-lock.json").read_text())
    pinned = manifest["dependencies"]["ical.js"]
    assert pinned[0].isdigit(), "pin an exact version, no range"
    assert lock["packages"]["node_modules/ical.js"]["version"] == pinned
