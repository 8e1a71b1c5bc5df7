"""Every time zone the network form offers reads right in ical.js and vobject (issue 20).

One test per zone family (Europe, America, Asia, ...): a calendar with events in each of
the family's offered zones, winter and summer and the days around each change of offset,
is parsed by both oracles, and each event's start must be the instant it was built from
(worked out by the parser from the file's own VTIMEZONE, never by Python's zoneinfo).
"""

from __future__ import annotations

import functools
import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from learnnet.calendar import ical
from learnnet.models import utcnow
from learnnet.networks.forms import _timezone_choices
from tests.ical_oracles import parse_icaljs, parse_vobject

OFFERED = [zone for zone, _label in _timezone_choices("nl")]
FAMILIES = sorted({zone.split("/")[0] for zone in OFFERED})


def _unambiguous(moment: datetime, zone: ZoneInfo) -> bool:
    """The local time of ``moment`` names one instant (not in a gap or an overlap)."""
    local = moment.astimezone(zone).replace(tzinfo=None)
    first, second = local.replace(tzinfo=zone), local.replace(tzinfo=zone, fold=1)
    return first.utcoffset() == second.utcoffset()


def _changes(zone: ZoneInfo, years: range) -> list[datetime]:
    """The hours (UTC) in which the zone's offset changes, found without learnnet's code."""
    found = []
    day = datetime(years[0], 1, 1, tzinfo=UTC)
    while day.year <= years[-1]:
        following = day + timedelta(days=1)
        if day.astimezone(zone).utcoffset() != following.astimezone(zone).utcoffset():
            hours = [day + timedelta(hours=h) for h in range(25)]
            found += [
                b
                for a, b in itertools.pairwise(hours)
                if a.astimezone(zone).utcoffset() != b.astimezone(zone).utcoffset()
            ]
        day = following
    return found


def _instants(tz: str, years: range) -> list[datetime]:
    zone = ZoneInfo(tz)
    moments = [datetime(y, m, 15, 11, 0, tzinfo=UTC) for y in years for m in (1, 4, 7, 10)]
    for change in _changes(zone, years):
        moments += [change - timedelta(days=1), change + timedelta(days=1)]
        moments += [change - timedelta(hours=3), change + timedelta(hours=3)]
    return sorted(m for m in set(moments) if _unambiguous(m, zone))


@functools.cache
def _calendar(zones: tuple[str, ...]) -> tuple[bytes, dict[str, str]]:
    """The family's calendar, built once for both parsers."""
    year = utcnow().year
    events, expected = [], {}
    for tz in zones:
        for n, start in enumerate(_instants(tz, range(year, year + 3))):
            uid = f"{tz}-{n}@test"
            events.append(
                ical.Event(
                    uid=uid,
                    sequence=0,
                    start=start,
                    end=start + timedelta(hours=2),
                    tz=tz,
                    summary=tz,
                    last_modified=datetime(year, 1, 1, tzinfo=UTC),
                )
            )
            expected[uid] = start.strftime("%Y-%m-%dT%H:%M:%SZ")
    return ical.build(ical.Calendar(events=tuple(events), name="zones")), expected


def test_the_form_offers_zones_of_every_family():
    assert "Europe/Brussels" in OFFERED and len(FAMILIES) >= 8


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("parse", [parse_icaljs, parse_vobject], ids=["icaljs", "vobject"])
def test_every_offered_zone_reads_right(family, parse):
    zones = tuple(z for z in OFFERED if z.split("/")[0] == family)
    data, expected = _calendar(zones)
    assert b"RDATE" not in data
    parsed = parse(data)
    found = {e["uid"]: e["start_utc"] for e in parsed["events"]}
    wrong = {
        uid: (found.get(uid), want) for uid, want in expected.items() if found.get(uid) != want
    }
    assert not wrong, (
        f"{len(wrong)} of {len(expected)} events off, e.g. {sorted(wrong.items())[:5]}"
    )


@pytest.mark.parametrize(
    ("tz", "rules"),
    [
        ("America/New_York", ["BYMONTH=3;BYDAY=2SU", "BYMONTH=11;BYDAY=1SU"]),
        ("Australia/Sydney", ["BYMONTH=4;BYDAY=1SU", "BYMONTH=10;BYDAY=1SU"]),
        ("America/Santiago", ["BYMONTH=4;BYDAY=1SU", "BYMONTH=9;BYDAY=1SU"]),
    ],
)
def test_zones_with_a_yearly_rule_get_rrules(tz, rules):
    block = ical.vtimezone(tz, 2026, 2028)
    for rule in rules:
        assert f"RRULE:FREQ=YEARLY;{rule}" in block
    assert "RDATE" not in block


def test_a_zone_without_a_yearly_rule_gets_one_observance_per_change():
    block = ical.vtimezone("Africa/Casablanca", 2026, 2028)  # Ramadan moves each year
    assert "RRULE" not in block and "RDATE" not in block
    assert block.count("DTSTART:") == 1 + 6
