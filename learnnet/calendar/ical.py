"""Build iCalendar data (RFC 5545, 5546, 7986) from plain values: no Flask, no database.

- Every event carries its session's permanent UID, SEQUENCE, DTSTAMP (UTC), LAST-MODIFIED,
  STATUS, SUMMARY, DESCRIPTION, LOCATION and, when given, GEO and URL.
- Times are local wall-clock times with a TZID and a VTIMEZONE in the same object; for
  zones that follow the EU summer-time rule (Europe/Brussels and most of Europe) the
  VTIMEZONE is written with two yearly RRULEs, which every client reads alike. Any other
  zone's VTIMEZONE is made from its own changes of offset (zoneinfo) in the years the
  events need: one fixed offset when there are none, RRULEs when the changes keep to a
  yearly nth or last weekday, else one observance per change. Never RDATE lists (ical.js
  and vobject read only their first value, and were an hour off for most of the year)
  and never floating times. tests/test_ical_zones.py reads every zone the network form
  offers with ical.js and vobject.
- A published feed (no METHOD) stamps each event with its own last change, so unchanged
  data gives the same bytes; an iTIP message (METHOD:REQUEST or CANCEL) stamps the
  moment of sending.
- Lines are folded at 75 octets without splitting a UTF-8 character or an escape
  sequence (``\\,``, ``\\;``, ``\\n``, ``\\\\``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar

PRODID = "-//learnnet//learnnet 1.0//NL"
FOLD_AT = 75

CONFIRMED = "CONFIRMED"
TENTATIVE = "TENTATIVE"
CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class Person:
    """An ORGANIZER or ATTENDEE."""

    email: str
    name: str = ""
    partstat: str = "NEEDS-ACTION"  # ACCEPTED, TENTATIVE, DECLINED (attendees only)
    rsvp: bool = True


@dataclass(frozen=True)
class Event:
    """One session as a calendar event."""

    uid: str
    sequence: int
    start: datetime  # aware
    end: datetime  # aware
    tz: str
    summary: str
    last_modified: datetime  # aware
    description: str = ""
    location: str = ""
    geo: tuple[float, float] | None = None
    url: str = ""
    status: str = CONFIRMED
    created: datetime | None = None
    organizer: Person | None = None
    attendees: tuple[Person, ...] = ()


@dataclass(frozen=True)
class Calendar:
    """A feed (method None), or an iTIP message (METHOD:REQUEST, CANCEL)."""

    events: tuple[Event, ...]
    name: str = ""
    description: str = ""
    method: str | None = None
    refresh: timedelta | None = field(default_factory=lambda: timedelta(hours=1))
    sent_at: datetime | None = None  # DTSTAMP of an iTIP message
    timezone: str = "Europe/Brussels"  # X-WR-TIMEZONE of a feed
    prodid: str = PRODID


# --- time zones -------------------------------------------------------------------------------


def _last_sunday(year: int, month: int) -> date:
    day = date(year, month, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def _offset(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}{minutes % 60:02d}"


def _eu_rule(zone: ZoneInfo, years: range) -> tuple[timedelta, timedelta, str, str] | None:
    """(standard, daylight offset, names) when the zone switches at 01:00 UTC on the
    last Sundays of March and October in every one of these years; else None."""
    found = None
    for year in years:
        spring = datetime.combine(_last_sunday(year, 3), datetime.min.time(), UTC) + timedelta(
            hours=1
        )
        autumn = datetime.combine(_last_sunday(year, 10), datetime.min.time(), UTC) + timedelta(
            hours=1
        )
        before = (spring - timedelta(seconds=1)).astimezone(zone)
        summer = spring.astimezone(zone)
        still = (autumn - timedelta(seconds=1)).astimezone(zone)
        after = autumn.astimezone(zone)
        mid_winter = datetime(year, 1, 15, tzinfo=UTC).astimezone(zone)
        mid_summer = datetime(year, 7, 15, tzinfo=UTC).astimezone(zone)
        std, dst = before.utcoffset(), summer.utcoffset()
        if std is None or dst is None or std == dst:
            return None
        # The RRULEs name the local day: west of UTC-1 (Greenland) the change falls on the
        # Saturday evening before, which these rules cannot say.
        if (spring + std).date() != spring.date() or (autumn + dst).date() != autumn.date():
            return None
        if (still.utcoffset(), after.utcoffset()) != (dst, std):
            return None
        if (mid_winter.utcoffset(), mid_summer.utcoffset()) != (std, dst):
            return None
        this = (std, dst, before.tzname() or "", summer.tzname() or "")
        if found is not None and found != this:
            return None
        found = this
    return found


@functools.lru_cache(maxsize=256)
def vtimezone(tz: str, first_year: int, last_year: int) -> str:
    """The VTIMEZONE block (CRLF lines) for ``tz``, right for every moment of these years."""
    zone = ZoneInfo(tz)
    years = range(first_year, last_year + 1)
    rule = _eu_rule(zone, years)
    if rule is not None:
        std, dst, std_name, dst_name = rule
        spring = (datetime(1970, 3, 29, 1, 0) + std).strftime("%Y%m%dT%H%M%S")
        autumn = (datetime(1970, 10, 25, 1, 0) + dst).strftime("%Y%m%dT%H%M%S")
        lines = [
            "BEGIN:VTIMEZONE",
            f"TZID:{tz}",
            f"X-LIC-LOCATION:{tz}",
            "BEGIN:DAYLIGHT",
            f"TZOFFSETFROM:{_offset(std)}",
            f"TZOFFSETTO:{_offset(dst)}",
            f"TZNAME:{dst_name}",
            f"DTSTART:{spring}",
            "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
            "END:DAYLIGHT",
            "BEGIN:STANDARD",
            f"TZOFFSETFROM:{_offset(dst)}",
            f"TZOFFSETTO:{_offset(std)}",
            f"TZNAME:{std_name}",
            f"DTSTART:{autumn}",
            "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
            "END:STANDARD",
            "END:VTIMEZONE",
        ]
        return "\r\n".join(lines) + "\r\n"
    changes = _transitions(zone, first_year, last_year)
    if not changes:
        start = datetime(first_year, 1, 1, tzinfo=UTC).astimezone(zone)
        only = _offset(start.utcoffset() or timedelta())
        lines = [
            "BEGIN:VTIMEZONE",
            f"TZID:{tz}",
            "BEGIN:STANDARD",
            f"TZOFFSETFROM:{only}",
            f"TZOFFSETTO:{only}",
            f"TZNAME:{start.tzname() or tz}",
            "DTSTART:19700101T000000",
            "END:STANDARD",
            "END:VTIMEZONE",
        ]
        return "\r\n".join(lines) + "\r\n"
    return _observances(tz, zone, first_year, last_year, changes)


@dataclass(frozen=True)
class _Change:
    """One change of a zone's UTC offset: when (UTC), from and to what, and its name."""

    at: datetime
    before: timedelta
    after: timedelta
    daylight: bool
    name: str

    @property
    def onset(self) -> datetime:
        """The local wall-clock time it happens at, in the offset before (RFC 5545 DTSTART)."""
        return (self.at + self.before).replace(tzinfo=None)


def _transitions(zone: ZoneInfo, first_year: int, last_year: int) -> list[_Change]:
    """Every change of the zone's UTC offset from the start of ``first_year`` to the end of
    ``last_year``, found day by day and then to the second (zoneinfo has no public list)."""
    found = []
    moment = datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC)
    before = moment.astimezone(zone).utcoffset() or timedelta()
    while moment < end:
        following = min(moment + timedelta(days=1), end)
        if following.astimezone(zone).utcoffset() == before:
            moment = following
            continue
        # The first change lies in (low, high], in whole seconds.
        low, high = int(moment.timestamp()), int(following.timestamp())
        while high - low > 1:
            middle = (low + high) // 2
            if datetime.fromtimestamp(middle, UTC).astimezone(zone).utcoffset() == before:
                low = middle
            else:
                high = middle
        at = datetime.fromtimestamp(high, UTC)
        local = at.astimezone(zone)
        after = local.utcoffset() or timedelta()
        found.append(_Change(at, before, after, bool(local.dst()), local.tzname() or ""))
        before, moment = after, at  # and look for another change the same day
    return found


_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _yearly_rule(changes: list[_Change], years: range) -> str | None:
    """An RRULE for these changes (one a year, every year) when they all fall on the same
    nth or last weekday of the same month at the same wall-clock time; else None."""
    if [c.onset.year for c in changes] != list(years):
        return None
    days = [c.onset for c in changes]
    if len({(d.month, d.weekday(), d.time()) for d in days}) != 1:
        return None
    weekday = _WEEKDAYS[days[0].weekday()]
    nths = {(d.day - 1) // 7 + 1 for d in days}
    if len(nths) == 1 and (nth := nths.pop()) <= 4:
        return f"RRULE:FREQ=YEARLY;BYMONTH={days[0].month};BYDAY={nth}{weekday}"
    if all((d + timedelta(days=7)).month != d.month for d in days):
        return f"RRULE:FREQ=YEARLY;BYMONTH={days[0].month};BYDAY=-1{weekday}"
    return None


def _observance(change: _Change, dtstart: datetime, rule: str | None) -> list[str]:
    kind = "DAYLIGHT" if change.daylight else "STANDARD"
    lines = [
        f"BEGIN:{kind}",
        f"TZOFFSETFROM:{_offset(change.before)}",
        f"TZOFFSETTO:{_offset(change.after)}",
    ]
    if change.name:
        lines.append(f"TZNAME:{change.name}")
    lines.append(f"DTSTART:{dtstart:%Y%m%dT%H%M%S}")
    if rule:
        lines.append(rule)
    lines.append(f"END:{kind}")
    return lines


def _observances(
    tz: str, zone: ZoneInfo, first_year: int, last_year: int, changes: list[_Change]
) -> str:
    """A VTIMEZONE from the zone's own changes in these years.

    First an observance for the offset at the start of ``first_year`` (so that every
    moment of the years has one); then, when the changes form yearly rules (as in the
    Americas, Oceania, most zones with summer time), one observance per rule with an
    RRULE; else one observance per change, each with its own DTSTART. Never RDATE lists,
    which ical.js and vobject read only the first value of.
    """
    years = range(first_year, last_year + 1)
    start = datetime(first_year, 1, 1, tzinfo=UTC)
    local = start.astimezone(zone)
    offset = local.utcoffset() or timedelta()
    initial = _Change(start, offset, offset, bool(local.dst()), local.tzname() or "")
    lines = ["BEGIN:VTIMEZONE", f"TZID:{tz}", f"X-LIC-LOCATION:{tz}"]
    lines += _observance(initial, initial.onset, None)
    groups: dict[tuple[timedelta, timedelta, bool, str], list[_Change]] = {}
    for change in changes:
        groups.setdefault((change.before, change.after, change.daylight, change.name), []).append(
            change
        )
    rules = {key: _yearly_rule(group, years) for key, group in groups.items()}
    if all(rules.values()):
        for key, group in groups.items():
            lines += _observance(group[0], group[0].onset, rules[key])
    else:
        for change in changes:
            lines += _observance(change, change.onset, None)
    lines.append("END:VTIMEZONE")
    return "\r\n".join(lines) + "\r\n"


# --- text and folding -------------------------------------------------------------------------


def fold(line: bytes) -> bytes:
    """Fold one content line at 75 octets, never inside a character or an escape."""
    if len(line) <= FOLD_AT:
        return line
    parts = []
    start = 0
    limit = FOLD_AT
    while len(line) - start > limit:
        cut = start + limit
        # Back off to a character boundary (UTF-8 continuation bytes are 0b10xxxxxx).
        while cut > start and (line[cut] & 0xC0) == 0x80:
            cut -= 1
        # Never separate a backslash from the character it escapes.
        backslashes = 0
        while cut - 1 - backslashes >= start and line[cut - 1 - backslashes] == 0x5C:
            backslashes += 1
        if backslashes % 2 == 1:
            cut -= 1
        parts.append(line[start:cut])
        start = cut
        limit = FOLD_AT - 1  # continuation lines start with a space
    parts.append(line[start:])
    return b"\r\n ".join(parts)


def refold(data: bytes) -> bytes:
    """Unfold what a writer folded and fold again with :func:`fold`."""
    unfolded = data.replace(b"\r\n ", b"").replace(b"\r\n\t", b"")
    lines = unfolded.split(b"\r\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return b"".join(fold(line) + b"\r\n" for line in lines)


# --- building ---------------------------------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _person(prop: str, person: Person, organizer: bool) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{person.email}")
    if person.name:
        address.params["CN"] = person.name
    if not organizer:
        address.params["CUTYPE"] = "INDIVIDUAL"
        address.params["ROLE"] = "REQ-PARTICIPANT"
        address.params["PARTSTAT"] = person.partstat
        if person.rsvp:
            address.params["RSVP"] = "TRUE"
    return address


def _event(event: Event, stamp: datetime | None) -> icalendar.Event:
    zone = ZoneInfo(event.tz)
    component = icalendar.Event()
    component.add("uid", event.uid)
    component.add("dtstamp", _utc(stamp or event.last_modified))
    component.add("sequence", event.sequence)
    if event.created is not None:
        component.add("created", _utc(event.created))
    component.add("last-modified", _utc(event.last_modified))
    component.add("dtstart", event.start.astimezone(zone))
    component.add("dtend", event.end.astimezone(zone))
    component.add("status", event.status)
    component.add("summary", event.summary)
    if event.description:
        component.add("description", event.description)
    if event.location:
        component.add("location", event.location)
    if event.geo is not None:
        component.add("geo", event.geo)
    if event.url:
        component.add("url", event.url)
    component.add("transp", "TRANSPARENT" if event.status == CANCELLED else "OPAQUE")
    if event.organizer is not None:
        component.add("organizer", _person("organizer", event.organizer, True))
    for attendee in event.attendees:
        component.add("attendee", _person("attendee", attendee, False))
    return component


def build(calendar: Calendar) -> bytes:
    """The calendar as bytes (UTF-8, CRLF line ends, folded)."""
    cal = icalendar.Calendar()
    cal.add("prodid", calendar.prodid)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if calendar.method:
        cal.add("method", calendar.method)
    if calendar.name:
        cal.add("name", calendar.name)
        cal.add("x-wr-calname", calendar.name)
    if calendar.description:
        cal.add("x-wr-caldesc", calendar.description)
    if calendar.method is None:
        cal.add("x-wr-timezone", calendar.timezone)
        if calendar.refresh is not None:
            cal.add("refresh-interval", calendar.refresh, parameters={"VALUE": "DURATION"})
            cal.add("x-published-ttl", icalendar.vDuration(calendar.refresh))
    zones: dict[str, set[int]] = {}
    for event in calendar.events:
        years = zones.setdefault(event.tz, set())
        years.update({event.start.year, event.end.year})
    # Written piece by piece: the calendar's own properties, the VTIMEZONEs, then each event
    # built, written and let go before the next. The same bytes as one icalendar tree
    # written at once, but a feed of 1,000 sessions peaks at a fraction of the memory
    # (a worker keeps the high-water mark of its heap).
    end = b"END:VCALENDAR\r\n"
    head = cal.to_ical()
    if not head.endswith(end):  # icalendar's own framing; never cut bytes blindly
        raise ValueError("icalendar wrote a calendar that does not end with END:VCALENDAR")
    parts = [refold(head.removesuffix(end))]
    blocks = "".join(
        vtimezone(tz, min(years) - 1, max(years) + 1) for tz, years in sorted(zones.items())
    )
    if blocks:
        parts.append(refold(blocks.encode()))
    stamp = calendar.sent_at if calendar.method else None
    for event in calendar.events:
        parts.append(refold(_event(event, stamp).to_ical()))
    parts.append(end)
    return b"".join(parts)
