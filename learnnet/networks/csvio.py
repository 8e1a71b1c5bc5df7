"""Read and write the member-list CSV: decoding, columns, row validation. No Flask, no database.

One row per contact; the facility columns repeat on each of its contacts' rows, and a
facility without contacts has one row with the contact columns empty. UTF-8 (with or
without BOM), Excel's semicolon exports in Windows-1252 and UTF-16 "Unicode text" are
accepted; the delimiter (``;``, ``,`` or tab) is read from the header line.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from learnnet.names import is_one_line
from learnnet.networks import checks
from learnnet.networks.rules import (
    CAPACITY_RANGE,
    LIMITS,
    collapse_spaces,
    complete_web_address,
    is_ascii_number,
    is_belgian_postcode,
    is_web_address,
    name_key,
    parse_yes_no,
)

# Canonical column -> accepted header spellings (compared lower-case, spaces as _).
COLUMNS: dict[str, tuple[str, ...]] = {
    "facility_name": (
        "facility_name",
        "naam",
        "voorziening",
        "naam_voorziening",
        "naam van de voorziening",
        "opvang",
        "name",
    ),
    "street": ("street", "straat", "adres", "straat en nummer", "address"),
    "postcode": ("postcode", "postal_code", "zip", "post code"),
    "city": ("city", "gemeente", "plaats", "stad", "woonplaats", "municipality"),
    "phone": ("phone", "telefoon", "telefoonnummer", "tel", "tel."),
    "email": ("email", "e-mail", "e-mailadres", "mail", "e-mail voorziening"),
    "website": ("website", "webadres", "site"),
    "room_capacity": (
        "room_capacity",
        "capaciteit",
        "capaciteit zaal",
        "maximum_aantal_deelnemers",
        "aantal plaatsen",
        "capacity",
    ),
    "willing_to_host": (
        "willing_to_host",
        "kan ontvangen",
        "wil ontvangen",
        "ontvangt",
        "gastvoorziening",
        "can host",
    ),
    "accessibility": ("accessibility", "toegankelijkheid"),
    "parking": ("parking", "parkeren", "bereikbaarheid"),
    "contact_name": ("contact_name", "contactpersoon", "naam contactpersoon", "contact"),
    "contact_email": (
        "contact_email",
        "e-mail contactpersoon",
        "e-mailadres contactpersoon",
        "mail contactpersoon",
    ),
    "contact_phone": ("contact_phone", "telefoon contactpersoon", "gsm contactpersoon", "gsm"),
    "contact_function": ("contact_function", "functie", "functie contactpersoon"),
    "contact_language": ("contact_language", "taal", "taal contactpersoon"),
    "contact_share": (
        "contact_share",
        "zichtbaar in contactlijst",
        "zichtbaar_in_contactlijst",
        "delen",
        "gegevens delen",
    ),
}
# The headers of an export (and of the template) in Dutch; English uses the keys.
DUTCH_HEADERS = {
    "facility_name": "naam",
    "street": "straat",
    "postcode": "postcode",
    "city": "gemeente",
    "phone": "telefoon",
    "email": "e-mail",
    "website": "website",
    "room_capacity": "capaciteit",
    "willing_to_host": "kan ontvangen",
    "accessibility": "toegankelijkheid",
    "parking": "parkeren",
    "contact_name": "contactpersoon",
    "contact_email": "e-mail contactpersoon",
    "contact_phone": "telefoon contactpersoon",
    "contact_function": "functie",
    "contact_language": "taal",
    "contact_share": "zichtbaar in contactlijst",
}
REQUIRED_COLUMNS = ("facility_name", "postcode", "city")
FACILITY_FIELDS = (
    "street",
    "city",
    "phone",
    "email",
    "website",
    "room_capacity",
    "willing_to_host",
    "accessibility",
    "parking",
)
MAX_ROWS = 5000
LANGUAGES = ("nl", "en")


class CsvFileError(ValueError):
    """The file as a whole cannot be read (encoding, columns, size); nothing is imported."""


@dataclass
class ContactRow:
    """A contact as read from one row."""

    name: str
    email: str | None
    phone: str
    function: str
    language: str
    share: bool


@dataclass
class FacilityRow:
    """A facility as read from the file, with the contacts of all its rows."""

    name: str
    key: str
    street: str
    postcode: str
    city: str
    phone: str
    email: str
    website: str
    room_capacity: int | None
    willing_to_host: bool
    accessibility: str
    parking: str
    first_line: int
    contacts: list[ContactRow] = field(default_factory=list)


@dataclass
class RowProblem:
    """One line's errors, as shown in the preview (line 1 is the header)."""

    line: int
    values: dict[str, str]
    errors: list[str]


@dataclass
class ParsedFile:
    """The outcome of reading a file: facilities when valid, else the problems per line."""

    facilities: list[FacilityRow]
    rows: list[RowProblem]
    delimiter: str
    encoding: str
    columns: frozenset[str] = frozenset(COLUMNS)
    # Each column's header as the file wrote it, for messages.
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        """True when no line has an error."""
        return all(not r.errors for r in self.rows)

    @property
    def error_count(self) -> int:
        """Number of lines with at least one error."""
        return sum(1 for r in self.rows if r.errors)


def decode(data: bytes) -> tuple[str, str]:
    """Bytes to text: UTF-16 with BOM, UTF-8 (BOM optional), or Windows-1252 (Excel)."""
    if not data.strip():
        raise CsvFileError("empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise CsvFileError("encoding") from exc
        if "\x00" in text:  # a NUL cell: no database stores it, no spreadsheet means it
            raise CsvFileError("binary")
        return text, "utf-16"
    if b"\x00" in data:
        raise CsvFileError("binary")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise CsvFileError("encoding") from exc
    return text, "windows-1252"


def _header_key(value: str) -> str:
    return collapse_spaces(value).lower().replace(" ", "_")


def _map_header(header: list[str]) -> dict[str, int]:
    aliases = {_header_key(alias): column for column, names in COLUMNS.items() for alias in names}
    mapping: dict[str, int] = {}
    unknown: list[str] = []
    for index, raw in enumerate(header):
        key = _header_key(raw)
        if not key:
            continue
        column = aliases.get(key)
        if column is None:
            unknown.append(raw.strip())
        elif column in mapping:
            raise CsvFileError(f"duplicate:{raw.strip()}")
        else:
            mapping[column] = index
    missing = [c for c in REQUIRED_COLUMNS if c not in mapping]
    if missing:
        raise CsvFileError("missing:" + ",".join(missing))
    if unknown:
        raise CsvFileError("unknown:" + ",".join(unknown))
    return mapping


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _email(value: str) -> tuple[str | None, str | None]:
    """(normalised email or None, error message key or None): the rule of
    :func:`learnnet.networks.checks.email`, which the forms and the API apply too."""
    return checks.email(value)


Messages = dict[str, str]


class _Say:
    """One line's error texts: the column named as the file wrote it, the value shown."""

    def __init__(self, messages: Messages, headers: dict[str, str], values: dict[str, str]):
        self.messages = messages
        self.headers = headers
        self.values = values

    def __call__(self, key: str, column: str = "", **extra: object) -> str:
        header = self.headers.get(column, column)
        return self.messages[key] % {
            "column": header,
            "value": self.values.get(column, ""),
            "max": LIMITS.get(column, 0),
            **extra,
        }


def parse(data: bytes, messages: Messages, max_bytes: int = 1024 * 1024) -> ParsedFile:
    """Read a member-list file; raises CsvFileError when the file itself is unusable.

    ``messages`` holds the (translated) texts for row errors, keyed as in
    :data:`ERROR_KEYS`, so this module stays free of the web layer.
    """
    if len(data) > max_bytes:
        raise CsvFileError("size")
    text, encoding = decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = _sniff_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        lines = list(reader)
    except csv.Error as exc:
        raise CsvFileError("syntax") from exc
    if not lines:
        raise CsvFileError("empty")
    mapping = _map_header(lines[0])
    headers = {column: lines[0][i].strip() for column, i in mapping.items()}
    body = [(n, row) for n, row in enumerate(lines[1:], start=2) if any(c.strip() for c in row)]
    if not body:
        raise CsvFileError("norows")
    if len(body) > MAX_ROWS:
        raise CsvFileError("rows")

    facilities: dict[tuple[str, str], FacilityRow] = {}
    problems: list[RowProblem] = []
    seen_contacts: dict[tuple[str, str, str], int] = {}
    for line, row in body:
        values = {
            col: undefuse(collapse_spaces(row[i])) if i < len(row) else ""
            for col, i in mapping.items()
        }
        errors: list[str] = []
        say = _Say(messages, headers, values)
        if len(row) > len(lines[0]):
            errors.append(say("extra_cells"))
        # Checked before spaces are collapsed: a line break in a name is refused, as in
        # the forms, not quietly turned into a space.
        errors.extend(
            say("one_line", column)
            for column, i in mapping.items()
            if column in ONE_LINE_COLUMNS and i < len(row) and not is_one_line(row[i].strip())
        )
        facility = _read_facility(values, line, say, errors)
        contact = _read_contact(values, say, errors)
        if facility is not None:
            ident = (facility.key, facility.postcode)
            known = facilities.get(ident)
            if known is None:
                facilities[ident] = facility
                known = facility
            else:
                for name in FACILITY_FIELDS:
                    if values.get(name) and getattr(facility, name) != getattr(known, name):
                        errors.append(say("conflict", name, line=known.first_line))
            if contact is not None and not errors:
                contact_id = (contact.email or "", contact.name.casefold())
                dup_key = (ident[0], ident[1], contact.email or "name:" + contact_id[1])
                if dup_key in seen_contacts:
                    errors.append(
                        say("duplicate_contact", "contact_name", line=seen_contacts[dup_key])
                    )
                else:
                    seen_contacts[dup_key] = line
                    known.contacts.append(contact)
        problems.append(RowProblem(line=line, values=values, errors=errors))
    return ParsedFile(
        facilities=list(facilities.values()),
        rows=problems,
        delimiter=delimiter,
        encoding=encoding,
        columns=frozenset(mapping),
        headers=headers,
    )


def _read_facility(
    values: dict[str, str], line: int, say: _Say, errors: list[str]
) -> FacilityRow | None:
    name = values.get("facility_name", "")
    postcode = values.get("postcode", "")
    city = values.get("city", "")
    ok = True
    if not name:
        errors.append(say("name_required", "facility_name"))
        ok = False
    elif len(name) > LIMITS["facility_name"]:
        errors.append(say("too_long", "facility_name"))
        ok = False
    if not is_belgian_postcode(postcode):
        errors.append(say("postcode", "postcode"))
        ok = False
    if not city:
        errors.append(say("city_required", "city"))
        ok = False
    email, problem = _email(values.get("email", ""))
    if problem:
        errors.append(say("facility_email", "email"))
        ok = False
    capacity: int | None = None
    raw_capacity = values.get("room_capacity", "")
    if raw_capacity:
        low, high = CAPACITY_RANGE
        if is_ascii_number(raw_capacity) and low <= int(raw_capacity) <= high:
            capacity = int(raw_capacity)
        else:
            errors.append(say("capacity", "room_capacity"))
            ok = False
    host = parse_yes_no(values.get("willing_to_host", ""), default=True)
    if host is None:
        errors.append(say("yes_no", "willing_to_host"))
        ok = False
    website = complete_web_address(values.get("website", ""))
    values["website"] = website
    if website and not is_web_address(website):
        errors.append(say("website", "website"))
        ok = False
    for column in ("street", "phone", "website", "city", "email", "accessibility", "parking"):
        if len(values.get(column, "")) > LIMITS[column]:
            errors.append(say("too_long", column))
            ok = False
    if not ok:
        return None
    return FacilityRow(
        name=name,
        key=name_key(name),
        street=values.get("street", ""),
        postcode=postcode,
        city=city,
        phone=values.get("phone", ""),
        email=email or "",
        website=values.get("website", ""),
        room_capacity=capacity,
        willing_to_host=bool(host),
        accessibility=values.get("accessibility", ""),
        parking=values.get("parking", ""),
        first_line=line,
    )


def _read_contact(values: dict[str, str], say: _Say, errors: list[str]) -> ContactRow | None:
    name = values.get("contact_name", "")
    other = any(
        values.get(c)
        for c in ("contact_email", "contact_phone", "contact_function", "contact_language")
    )
    if not name:
        if other:
            errors.append(say("contact_name_required", "contact_name"))
        return None
    email, problem = _email(values.get("contact_email", ""))
    if problem:
        errors.append(say("contact_email", "contact_email"))
    language = values.get("contact_language", "").lower() or "nl"
    if language not in LANGUAGES:
        errors.append(say("language", "contact_language"))
    share = parse_yes_no(values.get("contact_share", ""), default=False)
    if share is None:
        errors.append(say("yes_no", "contact_share"))
    too_long = [
        column
        for column in ("contact_name", "contact_phone", "contact_function")
        if len(values.get(column, "")) > LIMITS[column]
    ]
    for column in too_long:
        errors.append(say("too_long", column))
    if problem or language not in LANGUAGES or share is None or too_long:
        return None
    return ContactRow(
        name=name,
        email=email,
        phone=values.get("contact_phone", ""),
        function=values.get("contact_function", ""),
        language=language,
        share=bool(share),
    )


# Names, address lines, phone numbers and functions: one line, the rule of learnnet.names
# (the forms and the API apply it too, through learnnet.networks.checks).
ONE_LINE_COLUMNS = frozenset(
    {"facility_name", "street", "city", "phone"}
    | {"contact_name", "contact_phone", "contact_function"}
)

ERROR_KEYS = (
    "extra_cells",
    "one_line",
    "conflict",
    "duplicate_contact",
    "name_required",
    "too_long",
    "postcode",
    "city_required",
    "facility_email",
    "capacity",
    "yes_no",
    "contact_name_required",
    "contact_email",
    "language",
    "website",
)

EXPORT_COLUMNS = tuple(COLUMNS)


def write(rows: list[dict[str, str]], dutch: bool = False) -> bytes:
    """The member list as Excel-friendly CSV: UTF-8 with BOM, semicolons, CRLF.

    ``dutch``: the headers in Dutch (the import reads both languages)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([DUTCH_HEADERS[c] if dutch else c for c in EXPORT_COLUMNS])
    for row in rows:
        writer.writerow([_defuse(row.get(c, "")) for c in EXPORT_COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


_PHONE_CHARS = frozenset("0123456789 +-/.()")


def _defuse(value: str) -> str:
    """Keep spreadsheet apps from running a cell as a formula (CSV injection).

    Phone numbers such as ``+32 9 123 45 67`` are left as they are.
    """
    if not value or value[0] not in "=+-@\t\r":
        return value
    if value[0] in "+-" and set(value) <= _PHONE_CHARS:
        return value
    return "'" + value


def undefuse(value: str) -> str:
    """Reverse :func:`_defuse` on import, so an export re-imports unchanged."""
    if len(value) > 1 and value[0] == "'" and value[1] in "=+-@":
        return value[1:]
    return value


def valid_lines(parsed: ParsedFile) -> bytes:
    """The file again with only its lines without errors (for "import the valid lines"):
    parsed anew, these give exactly the facilities and contacts the preview counted."""
    columns = [c for c in COLUMNS if c in parsed.columns]
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(columns)
    for row in parsed.rows:
        if not row.errors:
            writer.writerow([_defuse(row.values.get(c, "")) for c in columns])
    return out.getvalue().encode("utf-8")
