"""The CSV import and the facility form apply the same rules (issue 10): for random values
of each field, the form refuses exactly what the import refuses."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from learnnet.networks import csvio
from learnnet.networks.forms import FacilityForm
from learnnet.networks.rules import LIMITS, collapse_spaces

MESSAGES = {
    key: key + ("%(column)s%(line)s" if key == "conflict" else "") for key in csvio.ERROR_KEYS
}
MESSAGES["too_long"] = "too_long:%(column)s"
MESSAGES["yes_no"] = "yes_no:%(column)s"
MESSAGES["conflict"] = "conflict:%(column)s:%(line)s"
MESSAGES["duplicate_contact"] = "duplicate:%(line)s"

# CSV column -> form field.
FIELDS = {
    "facility_name": "name",
    "street": "street",
    "city": "city",
    "phone": "phone",
    "email": "email",
    "website": "website",
    "room_capacity": "room_capacity",
    "accessibility": "accessibility_notes",
    "parking": "parking_notes",
    "postcode": "postcode",
}

words = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="'"),
    max_size=12,
)


@st.composite
def websites(draw) -> str:
    scheme = draw(
        st.sampled_from(
            ["https://", "http://", "ftp://", "javascript:", "data:", "", "HTTPS://", "https:/"]
        )
    )
    host = draw(
        st.sampled_from(
            [
                "example.org",
                "www.kinderopvang.be",
                "localhost",
                "exa mple.org",
                "",
                ".be",
                "a..b",
                "xn--bcher-kva.example",
            ]
        )
    )
    path = draw(st.sampled_from(["", "/", "/gent", "?a=1", "#x", " /x", "/%0aalert(1)"]))
    return scheme + host + path


def _long(column: str):
    limit = LIMITS[column]
    return st.integers(limit - 2, limit + 2).map(lambda n: "x" * n)


values = {
    "website": st.one_of(websites(), words),
    "facility_name": st.one_of(_long("facility_name"), words),
    "street": st.one_of(_long("street"), words),
    "city": st.one_of(_long("city"), words),
    "phone": st.one_of(_long("phone"), words),
    "email": st.one_of(
        st.sampled_from(
            [
                "info@example.org",
                "a@b",
                "x@kinderopvang.be",
                "no-at",
                "é@example.org",
                "a b@example.org",
            ]
        ),
        words,
    ),
    "room_capacity": st.one_of(
        st.integers(-5, 1005).map(str), st.sampled_from(["", "12a", "²", "１２"])
    ),
    "accessibility": st.one_of(_long("accessibility"), words),
    "parking": st.one_of(_long("parking"), words),
    "postcode": st.sampled_from(["9000", "0999", "1000", "99999", "9 00", "", "٩٠٠٠"]),
}


def _csv_refuses(column: str, value: str) -> bool:
    row = {"facility_name": "Kinderopvang Test", "postcode": "9000", "city": "Gent"}
    row[column] = value
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(list(row))
    writer.writerow(list(row.values()))
    try:
        parsed = csvio.parse(out.getvalue().encode(), MESSAGES)
    except csvio.CsvFileError:
        return True
    return not parsed.valid


def _form_refuses(app, field: str, value: str) -> bool:
    data = {"name": "Kinderopvang Test", "postcode": "9000", "city": "Gent", "willing_to_host": "1"}
    data[field] = value
    with app.test_request_context(method="POST", data=MultiDict(data)):
        form = FacilityForm(meta={"csrf": False})
        form.validate()
        return bool(form.errors)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_the_form_and_the_import_refuse_the_same_values(app, data):
    column = data.draw(st.sampled_from(sorted(values)))
    value = data.draw(values[column])
    # Both trim; the import also collapses inner spaces (spreadsheets pad cells).
    value = collapse_spaces(value)
    if column in ("facility_name", "city", "postcode") and not value:
        return  # required in both; the CSV names the line, the form the field
    assert _form_refuses(app, FIELDS[column], value) == _csv_refuses(column, value), (column, value)


@pytest.mark.parametrize(
    "char", ["\r\n", "\n", "\r", "\u2028", "\u2029", "\x0b", "\x0c", "\x85", "\x00", "\x1b", "\x7f"]
)
@pytest.mark.parametrize("column", ["facility_name", "street", "city"])
def test_both_refuse_a_line_break_or_control_character_in_a_name(app, column, char):
    """Issue 19, item 6: one rule for names (learnnet.names), not a space in one place and
    a broken mail header in the other."""
    value = f"Kinderopvang{char}Bcc: x@evil.example"
    assert _form_refuses(app, FIELDS[column], value)
    assert _csv_refuses(column, value)
