// Test oracle: parse one iCalendar stream (stdin) with Mozilla's ical.js and
// print a normalised JSON summary (stdout). Used by tests/ical_oracles.py.
//
// Every instant is computed by ical.js itself from the TZID local time and the
// VTIMEZONE found in the same file: each TZID used by an event must have a
// VTIMEZONE in the file, and the zone ical.js resolved is checked to be that
// very component (ical.js ships no time zone database of its own, so there is
// nothing else it could silently fall back to except UTC or floating time).
//
// Exits 1 with a one-line message on stderr when the input is not something
// the learnnet feeds may emit (several VCALENDARs, floating times, a TZID
// without VTIMEZONE, invalid UTF-8...).
//
// A VTIMEZONE observance with several values on one RDATE line (what
// icalendar's add_missing_timezones() writes) is refused: ical.js 2.2.1 reads
// only the first value of each RDATE property (Timezone#_expandComponent uses
// getFirstValue), so every later transition is lost and the offsets are wrong.
// `--allow-rdate-lists` turns that check off (used to document the bug).

import ICAL from "ical.js";

const ALLOW_RDATE_LISTS = process.argv.includes("--allow-rdate-lists");

// RFC 7986 NAME and the de-facto X-WR-CALNAME are TEXT; ical.js's design set
// does not know them and would keep their backslash escapes.
ICAL.design.icalendar.property["name"] ??= { defaultType: "text" };
ICAL.design.icalendar.property["x-wr-calname"] ??= { defaultType: "text" };

class OracleError extends Error {}

function fail(message) {
  throw new OracleError(message);
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  // fatal: invalid UTF-8 (e.g. a fold that split a multi-byte character and
  // was then decoded on its own) must not turn into U+FFFD silently.
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    fail("the calendar is not valid UTF-8");
  }
}

// "2027-03-28T17:00:00.000Z" -> "2027-03-28T17:00:00Z"
function isoUtc(date) {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function pad(n, width = 2) {
  return String(n).padStart(width, "0");
}

// An ICAL.Time -> ISO UTC string (date-times) or "YYYY-MM-DD" (all-day dates).
function timeToString(time, prop, what, uid, calendar, zoneComponents) {
  if (time.isDate) {
    return `${pad(time.year, 4)}-${pad(time.month)}-${pad(time.day)}`;
  }
  const tzid = prop.getParameter("tzid");
  if (time.zone === ICAL.Timezone.utcTimezone) {
    if (tzid) {
      fail(`${what} of ${uid} is UTC ("Z") and also has TZID=${tzid}`);
    }
    return isoUtc(time.toJSDate());
  }
  if (!tzid) {
    fail(`${what} of ${uid} is a floating time (neither "Z" nor TZID): no instant`);
  }
  const component = zoneComponents.get(tzid);
  if (!component) {
    fail(`${what} of ${uid} has TZID=${tzid} but the file has no VTIMEZONE for it`);
  }
  // Make sure ical.js resolved the zone from this file's VTIMEZONE component.
  const zone = time.zone;
  if (!zone || zone.tzid !== tzid || zone.component !== component) {
    fail(`ical.js did not resolve TZID=${tzid} of ${uid} to the file's VTIMEZONE`);
  }
  if (calendar.getTimeZoneByID(tzid) !== zone) {
    fail(`ical.js resolved TZID=${tzid} of ${uid} to an unexpected zone object`);
  }
  return isoUtc(time.toJSDate());
}

function mailAddress(value) {
  if (value === null || value === undefined) {
    return null;
  }
  return String(value).replace(/^mailto:/i, "").toLowerCase();
}

function textOr(component, name, fallback) {
  const value = component.getFirstPropertyValue(name);
  return value === null || value === undefined ? fallback : String(value);
}

function utcOrNull(component, name, uid, calendar, zoneComponents) {
  const prop = component.getFirstProperty(name);
  if (!prop) {
    return null;
  }
  return timeToString(prop.getFirstValue(), prop, name.toUpperCase(), uid, calendar, zoneComponents);
}

// TZID parameters of every property outside the VTIMEZONEs, at any depth.
function usedTzids(component, found = new Set()) {
  for (const prop of component.getAllProperties()) {
    const tzid = prop.getParameter("tzid");
    if (tzid) {
      found.add(tzid);
    }
  }
  for (const child of component.getAllSubcomponents()) {
    if (child.name !== "vtimezone") {
      usedTzids(child, found);
    }
  }
  return found;
}

function parse(text) {
  const jcal = ICAL.parse(text);
  // ICAL.parse returns an array of components when the stream holds several.
  if (!Array.isArray(jcal) || typeof jcal[0] !== "string") {
    fail("expected exactly one VCALENDAR in the stream");
  }
  const calendar = new ICAL.Component(jcal);
  if (calendar.name !== "vcalendar") {
    fail(`top-level component is ${calendar.name.toUpperCase()}, not VCALENDAR`);
  }

  // Register every VTIMEZONE of the file. ical.js 2.x already prefers the
  // VTIMEZONE of the component tree (Component#getTimeZoneByID); registering
  // with the TimezoneService as well covers lookups that do not go through
  // the tree. The process is fresh for each file, so nothing leaks.
  const zoneComponents = new Map();
  for (const vtimezone of calendar.getAllSubcomponents("vtimezone")) {
    const tzid = vtimezone.getFirstPropertyValue("tzid");
    if (!tzid) {
      fail("a VTIMEZONE has no TZID");
    }
    if (zoneComponents.has(tzid)) {
      fail(`two VTIMEZONEs with TZID=${tzid}`);
    }
    if (!ALLOW_RDATE_LISTS) {
      for (const observance of vtimezone.getAllSubcomponents()) {
        for (const rdate of observance.getAllProperties("rdate")) {
          const count = rdate.getValues().length;
          if (count > 1) {
            fail(
              `VTIMEZONE ${tzid} has an RDATE line with ${count} values; ical.js uses only ` +
                "the first value of each RDATE line, so its offsets would be wrong " +
                "(write one RDATE per line, or RRULEs)",
            );
          }
        }
      }
    }
    zoneComponents.set(tzid, vtimezone);
    ICAL.TimezoneService.register(new ICAL.Timezone({ component: vtimezone, tzid }));
  }

  const missing = [...usedTzids(calendar)].filter((tzid) => !zoneComponents.has(tzid));
  if (missing.length) {
    fail(`TZID without VTIMEZONE in the file: ${missing.sort().join(", ")}`);
  }

  const events = [];
  for (const vevent of calendar.getAllSubcomponents("vevent")) {
    const event = new ICAL.Event(vevent);
    const uid = event.uid;
    if (!uid) {
      fail("a VEVENT has no UID");
    }
    const dtstart = vevent.getFirstProperty("dtstart");
    if (!dtstart) {
      fail(`VEVENT ${uid} has no DTSTART`);
    }
    const startUtc = timeToString(event.startDate, dtstart, "DTSTART", uid, calendar, zoneComponents);
    // Event#endDate follows RFC 5545: DTEND, else DTSTART + DURATION, else
    // DTSTART (date-time) or the next day (date).
    const dtend = vevent.getFirstProperty("dtend") || dtstart;
    const endUtc = timeToString(event.endDate, dtend, "DTEND", uid, calendar, zoneComponents);

    const status = vevent.getFirstPropertyValue("status");
    const sequence = vevent.getFirstPropertyValue("sequence");
    const url = vevent.getFirstPropertyValue("url");
    const geo = vevent.getFirstPropertyValue("geo");

    events.push({
      uid: String(uid),
      sequence: sequence === null || sequence === undefined ? 0 : Number(sequence),
      status: status === null || status === undefined ? null : String(status).toUpperCase(),
      summary: textOr(vevent, "summary", ""),
      description: textOr(vevent, "description", ""),
      location: textOr(vevent, "location", ""),
      url: url === null || url === undefined ? null : String(url),
      start_utc: startUtc,
      end_utc: endUtc,
      tzid: dtstart.getParameter("tzid") ?? null,
      organizer: mailAddress(vevent.getFirstPropertyValue("organizer")),
      attendees: vevent.getAllProperties("attendee").map((prop) => {
        const partstat = prop.getParameter("partstat");
        return {
          email: mailAddress(prop.getFirstValue()),
          partstat: partstat ? String(partstat).toUpperCase() : null,
        };
      }),
      last_modified_utc: utcOrNull(vevent, "last-modified", uid, calendar, zoneComponents),
      dtstamp_utc: utcOrNull(vevent, "dtstamp", uid, calendar, zoneComponents),
      geo: geo === null || geo === undefined ? null : geo.map(Number),
    });
  }

  events.sort((a, b) => {
    if (a.start_utc !== b.start_utc) {
      return a.start_utc < b.start_utc ? -1 : 1;
    }
    return a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0;
  });

  const method = calendar.getFirstPropertyValue("method");
  const name =
    calendar.getFirstPropertyValue("x-wr-calname") ?? calendar.getFirstPropertyValue("name");
  return {
    method: method === null || method === undefined ? null : String(method).toUpperCase(),
    name: name === null || name === undefined ? null : String(name),
    events,
  };
}

try {
  const result = parse(await readStdin());
  process.stdout.write(JSON.stringify(result) + "\n");
} catch (error) {
  const kind = error instanceof OracleError ? "parse_ics.mjs" : `ical.js ${error.name}`;
  process.stderr.write(`${kind}: ${error.message}\n`);
  process.exitCode = 1;
}
