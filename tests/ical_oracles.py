"""Two iCalendar parsers, independent of the `icalendar` library, used as test oracles.

learnnet writes its feeds, single-event files and iTIP messages with `icalendar`;
tests check that output by reading it back with two other parsers:

* ``parse_icaljs(data)``: Mozilla's ical.js (Thunderbird's parser), run with node
  (``tests/js/parse_ics.mjs``, pinned in ``tests/js/package.json``);
* ``parse_vobject(data)``: the ``vobject`` package.

Both take the bytes of a whole .ics and return the same normalised shape::

    {"method": str | None, "name": str | None (X-WR-CALNAME, else NAME),
     "events": [event, ...]}  # sorted by (start_utc, uid)

with each event a dict with exactly the keys of ``EVENT_KEYS``. ``start_utc`` and
``end_utc`` are computed by that parser from the TZID local time and the VTIMEZONE
of the same file (never by Python's zoneinfo): "2027-03-28T17:00:00Z". All-day
(DATE) values come back as "2027-03-28". Input the feeds must never contain
(floating times, a TZID without VTIMEZONE, several VCALENDARs, invalid UTF-8) raises
``ICalOracleError``, an ``AssertionError``, so the test fails with the reason.

Both also refuse a VTIMEZONE observance with several values on one RDATE line, as
icalendar's ``add_missing_timezones()`` / ``Timezone.from_tzinfo()`` write them:
ical.js 2.2.1 and vobject 0.9.9 both keep only the first value of such a line and
then compute offsets that are an hour off for most of the year (see
tests/test_ical_oracles.py). ``allow_rdate_lists=True`` lifts that check.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

JS_DIR = Path(__file__).resolve().parent / "js"
ICALJS_SCRIPT = JS_DIR / "parse_ics.mjs"
NODE_TIMEOUT_SECONDS = 60
SETUP_HINT = "Run `make test` (it installs node and the npm packages of tests/js)."

EVENT_KEYS = frozenset(
    {
        "uid",
        "sequence",
        "status",
        "summary",
        "description",
        "location",
        "url",
        "start_utc",
        "end_utc",
        "tzid",
        "organizer",
        "attendees",
        "last_modified_utc",
        "dtstamp_utc",
        "geo",
    }
)


class ICalOracleError(AssertionError):
    """The data is not a calendar the oracles accept; the message says why."""


def _as_bytes(data: bytes | str) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def _sorted_result(result: dict[str, Any]) -> dict[str, Any]:
    result["events"].sort(key=lambda event: (event["start_utc"], event["uid"]))
    return result


# --------------------------------------------------------------------------- ical.js


def _pinned_icaljs_version() -> str:
    manifest = json.loads((JS_DIR / "package.json").read_text(encoding="utf-8"))
    return manifest["dependencies"]["ical.js"]


def _node_command() -> list[str]:
    """node and the pinned ical.js, or fail the test (never skip) with the fix."""
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            f"node is not installed: the ical.js oracle needs it. {SETUP_HINT}", pytrace=False
        )
    installed = JS_DIR / "node_modules" / "ical.js" / "package.json"
    if not installed.is_file():
        pytest.fail(
            f"tests/js/node_modules is missing (ical.js not installed). {SETUP_HINT}",
            pytrace=False,
        )
    version = json.loads(installed.read_text(encoding="utf-8")).get("version")
    pinned = _pinned_icaljs_version()
    if version != pinned:
        pytest.fail(
            f"tests/js/node_modules has ical.js {version}, tests/js/package.json pins {pinned}. "
            f"{SETUP_HINT}",
            pytrace=False,
        )
    return [node, str(ICALJS_SCRIPT)]


def parse_icaljs(data: bytes | str, *, allow_rdate_lists: bool = False) -> dict[str, Any]:
    """Parse a whole .ics with Mozilla's ical.js (node) and return the normalised dict."""
    command = _node_command()
    if allow_rdate_lists:
        command.append("--allow-rdate-lists")
    try:
        proc = subprocess.run(
            command,
            input=_as_bytes(data),
            capture_output=True,
            cwd=JS_DIR,
            timeout=NODE_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(
            f"ical.js oracle: node did not answer within {NODE_TIMEOUT_SECONDS}s", pytrace=False
        )
    stderr = proc.stderr.decode("utf-8", "replace").strip()
    if proc.returncode != 0:
        raise ICalOracleError(f"ical.js rejected the calendar: {stderr or proc.returncode}")
    return _sorted_result(json.loads(proc.stdout))


# --------------------------------------------------------------------------- vobject

# vobject keeps one process-wide TZID -> tzinfo registry, fills it on a first come,
# first served basis (a VTIMEZONE whose TZID is already registered is ignored) and,
# for a TZID it has never seen, falls back to pytz's database. To make sure each
# file is read with its own VTIMEZONE, parse_vobject parses without transforming,
# turns the file's VTIMEZONEs into tzinfo objects (vobject -> dateutil's tzical),
# registers them over any earlier entry, refuses TZIDs the file does not define,
# then lets vobject transform the events. The lock keeps that sequence atomic.
_VOBJECT_LOCK = threading.Lock()


def _utc_string(value: dt.date | dt.datetime, what: str) -> str:
    if not isinstance(value, dt.datetime):
        return value.isoformat()  # all-day DATE value
    if value.tzinfo is None or value.utcoffset() is None:
        raise ICalOracleError(f"{what} is a floating time (neither 'Z' nor TZID): no instant")
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _mail_address(value: str | None) -> str | None:
    if value is None:
        return None
    value = str(value)
    if value[:7].lower() == "mailto:":
        value = value[7:]
    return value.lower()


def _first(component: Any, name: str) -> Any:
    lines = component.contents.get(name)
    return lines[0] if lines else None


def _first_value(component: Any, name: str, default: Any = None) -> Any:
    line = _first(component, name)
    return default if line is None else line.value


def _tzid_param(component: Any, name: str) -> str | None:
    line = _first(component, name)
    return None if line is None else line.params.get("TZID", [None])[0]


def _used_tzids(component: Any) -> set[str]:
    """TZID parameters of every property outside the VTIMEZONEs, at any depth."""
    found: set[str] = set()
    for line in component.lines():
        found.update(line.params.get("TZID", []))
    for child in component.components():
        if child.name != "VTIMEZONE":
            found |= _used_tzids(child)
    return found


def _rdate_lists(text: str) -> list[str]:
    """VTIMEZONE RDATE lines holding several values, read before vobject's behaviours.

    vobject decodes RDATE inside STANDARD/DAYLIGHT as TEXT and keeps only the first
    comma-separated value, so this looks at the raw content lines instead.
    """
    from vobject.base import getLogicalLines, textLineToContentLine

    found = []
    depth = 0
    for line, number in getLogicalLines(io.StringIO(text), allowQP=False):
        content = textLineToContentLine(line, number)
        if content.name in ("BEGIN", "END") and content.value.upper() == "VTIMEZONE":
            depth = 1 if content.name == "BEGIN" else 0
        elif depth and content.name == "RDATE" and "," in content.value:
            found.append(f"line {number}: {content.value.count(',') + 1} values")
    return found


def parse_vobject(data: bytes | str, *, allow_rdate_lists: bool = False) -> dict[str, Any]:
    """Parse a whole .ics with vobject and return the normalised dict."""
    import vobject
    import vobject.icalendar
    from vobject.base import VObjectError

    try:
        text = _as_bytes(data).decode("utf-8")
    except UnicodeDecodeError as error:
        raise ICalOracleError(f"the calendar is not valid UTF-8: {error}") from None

    with _VOBJECT_LOCK:
        try:
            rdate_lists = [] if allow_rdate_lists else _rdate_lists(text)
            components = list(vobject.readComponents(text, transform=False))
        except (VObjectError, ValueError) as error:
            raise ICalOracleError(f"vobject rejected the calendar: {error}") from None
        if rdate_lists:
            raise ICalOracleError(
                "a VTIMEZONE has RDATE lines with several values "
                f"({'; '.join(rdate_lists)}); vobject keeps only the first value of each "
                "RDATE line, so its offsets would be wrong (write one RDATE per line, or RRULEs)"
            )
        if len(components) != 1 or components[0].name != "VCALENDAR":
            names = [c.name for c in components]
            raise ICalOracleError(f"expected exactly one VCALENDAR, got {names}")
        calendar = components[0]

        zones: dict[str, Any] = {}
        raw_tzids: dict[int, tuple[str | None, str | None]] = {}
        for vtimezone in calendar.contents.get("vtimezone", []):
            try:
                native = vtimezone.transformToNative()
            except (VObjectError, ValueError) as error:
                raise ICalOracleError(f"vobject could not read a VTIMEZONE: {error}") from None
            tzid = native.tzid.value
            if tzid in zones:
                raise ICalOracleError(f"two VTIMEZONEs with TZID={tzid}")
            tzinfo = native.tzinfo  # dateutil tzical built from this very component
            if tzinfo is None:
                raise ICalOracleError(f"vobject could not read the VTIMEZONE {tzid}")
            zones[tzid] = tzinfo
            vobject.icalendar.registerTzid(tzid, tzinfo)
        missing = _used_tzids(calendar) - set(zones)
        if missing:
            raise ICalOracleError(f"TZID without VTIMEZONE in the file: {sorted(missing)}")
        for vevent in calendar.contents.get("vevent", []):
            # Read before the transformation, which renames the TZID parameter.
            raw_tzids[id(vevent)] = (_tzid_param(vevent, "dtstart"), _tzid_param(vevent, "dtend"))

        try:
            calendar.transformChildrenToNative()
        except (VObjectError, ValueError) as error:
            raise ICalOracleError(f"vobject rejected the calendar: {error}") from None

        events = [
            _vobject_event(vevent, *raw_tzids[id(vevent)], zones)
            for vevent in calendar.contents.get("vevent", [])
        ]

    method = _first_value(calendar, "method")
    name = _first_value(calendar, "x-wr-calname", _first_value(calendar, "name"))
    return _sorted_result(
        {
            "method": None if method is None else str(method).upper(),
            "name": None if name is None else str(name),
            "events": events,
        }
    )


def _vobject_instant(value: Any, tzid: str | None, zones: dict[str, Any], what: str) -> str:
    if tzid is not None and getattr(value, "tzinfo", None) is not zones[tzid]:
        raise ICalOracleError(f"vobject did not use the file's VTIMEZONE {tzid} for {what}")
    return _utc_string(value, what)


def _vobject_event(
    vevent: Any, tzid: str | None, end_tzid: str | None, zones: dict[str, Any]
) -> dict[str, Any]:
    uid = _first_value(vevent, "uid")
    if not uid:
        raise ICalOracleError("a VEVENT has no UID")
    dtstart = _first(vevent, "dtstart")
    if dtstart is None:
        raise ICalOracleError(f"VEVENT {uid} has no DTSTART")
    start = dtstart.value
    start_utc = _vobject_instant(start, tzid, zones, f"DTSTART of {uid}")

    # RFC 5545: DTEND, else DTSTART + DURATION, else DTSTART (date-time) or the next day.
    dtend = _first(vevent, "dtend")
    if dtend is not None:
        end_utc = _vobject_instant(dtend.value, end_tzid, zones, f"DTEND of {uid}")
    else:
        duration = _first_value(vevent, "duration")
        if duration is not None:
            end = start + duration
        elif isinstance(start, dt.datetime):
            end = start
        else:
            end = start + dt.timedelta(days=1)
        end_utc = _vobject_instant(end, tzid, zones, f"end of {uid}")

    geo = _first_value(vevent, "geo")
    if geo is not None:
        latitude, longitude = str(geo).split(";")
        geo = [float(latitude), float(longitude)]
    status = _first_value(vevent, "status")
    last_modified = _first_value(vevent, "last-modified")
    dtstamp = _first_value(vevent, "dtstamp")
    return {
        "uid": str(uid),
        "sequence": int(_first_value(vevent, "sequence", 0)),
        "status": None if status is None else str(status).upper(),
        "summary": str(_first_value(vevent, "summary", "")),
        "description": str(_first_value(vevent, "description", "")),
        "location": str(_first_value(vevent, "location", "")),
        "url": _first_value(vevent, "url"),
        "start_utc": start_utc,
        "end_utc": end_utc,
        "tzid": tzid,
        "organizer": _mail_address(_first_value(vevent, "organizer")),
        "attendees": [
            {
                "email": _mail_address(line.value),
                "partstat": line.params["PARTSTAT"][0].upper()
                if "PARTSTAT" in line.params
                else None,
            }
            for line in vevent.contents.get("attendee", [])
        ],
        "last_modified_utc": (
            None if last_modified is None else _utc_string(last_modified, f"LAST-MODIFIED of {uid}")
        ),
        "dtstamp_utc": None if dtstamp is None else _utc_string(dtstamp, f"DTSTAMP of {uid}"),
        "geo": geo,
    }


__all__ = ["EVENT_KEYS", "ICalOracleError", "parse_icaljs", "parse_vobject"]
