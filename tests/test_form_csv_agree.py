"""The CSV import, the forms and the API apply the same rules (issues 10 and 26): for
random values of each field, the form refuses exactly what the import and the API refuse,
and what they accept they store as the same row."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from learnnet.api.models import READ_WRITE
from learnnet.extensions import db
from learnnet.networks import checks, csvio
from learnnet.networks import services as network_services
from learnnet.networks.forms import ContactForm, FacilityForm
from learnnet.networks.models import Contact, Facility, Membership
from learnnet.networks.rules import LIMITS, collapse_spaces
from learnnet.networks.views import _contact_data, _facility_data
from learnnet.timefmt import local_today
from tests import factories
from tests.api_helpers import bearer, make_token

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

plain_words = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="'"),
    max_size=12,
)
# Control characters inside a value (a tab or a vertical tab becomes a space: the values
# are collapsed as a spreadsheet's cells are; ESC, DEL and NUL stay).
controls = st.sampled_from(["\x1b", "\x7f", "\x00", "\x0b", "\x85", "\u2028"])
words = st.one_of(
    plain_words, st.builds(lambda a, c, b: a + c + b, plain_words, controls, plain_words)
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
                "Info@Example.ORG",
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


BASE = {"facility_name": "Kinderopvang Test", "postcode": "9000", "city": "Gent"}
# What the three ways in store, compared.
STORED = checks.FACILITY_FIELDS
CONTACT_STORED = tuple(f for f in checks.CONTACT_FIELDS if f != "active")


def _csv(row: dict[str, str]) -> csvio.ParsedFile | None:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(list(row))
    writer.writerow(list(row.values()))
    try:
        return csvio.parse(out.getvalue().encode(), MESSAGES)
    except csvio.CsvFileError:
        return None


def _csv_refuses(column: str, value: str) -> bool:
    return _csv_row(column, value) is None


def _csv_row(column: str, value: str) -> dict[str, Any] | None:
    """The facility row the import would insert, or None when it refuses the line."""
    parsed = _csv(BASE | {column: value})
    if parsed is None or not parsed.valid:
        return None
    values = network_services._facility_values(parsed.facilities[0])
    return {k: values[k] for k in STORED}


def _form(app, form_class: type, data: dict[str, str]) -> Any:
    with app.test_request_context(method="POST", data=MultiDict(data)):
        form = form_class(meta={"csrf": False})
        form.validate()
        return form


def _form_refuses(app, field: str, value: str) -> bool:
    data = {"name": "Kinderopvang Test", "postcode": "9000", "city": "Gent", "willing_to_host": "1"}
    data[field] = value
    if "\x00" in value:  # refused for every form before any sees it (learnnet._refuse_nul)
        return True
    return bool(_form(app, FacilityForm, data).errors)


def _stored(row: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {k: getattr(row, k) for k in fields}


def _form_row(app, field: str, value: str) -> dict[str, Any] | None:
    """The facility the form stores (through the view's data and the service), or None."""
    if _form_refuses(app, field, value):
        return None
    data = {"name": "Kinderopvang Test", "postcode": "9000", "city": "Gent", "willing_to_host": "1"}
    form = _form(app, FacilityForm, data | {field: value})
    facility = network_services.create_facility(_facility_data(form), None, local_today())
    row = _stored(facility, STORED)
    db.session.delete(facility)
    db.session.commit()
    return row


def _world(app) -> dict[str, Any]:
    """A network with a member, and a read/write token of it (once per test)."""
    world = app.extensions.get("agree-world")
    if world is None:
        owner = factories.user(email="agree@example.org")
        network = factories.network(facilitators=[owner], name="Gelijk netwerk")
        facility = factories.facility(name="Opvang Gelijk", postcode="9000", city="Gent")
        factories.member(network, facility)
        db.session.commit()
        _, secret = make_token(owner, [network], people=True, scope=READ_WRITE)
        world = {"network_id": network.id, "facility_id": facility.id, "headers": bearer(secret)}
        app.extensions["agree-world"] = world
    return world


def _json_value(field: str, value: str) -> Any:
    """A value as a CRM would send it in JSON: a capacity of digits as a number."""
    if field == "room_capacity":
        if value == "":
            return None
        if value.isascii() and re.fullmatch(r"-?[0-9]+", value):
            return int(value)
    return value


def _api_row(app, field: str, value: str) -> dict[str, Any] | None:
    """The facility the API stores (read back from the database), or None when refused."""
    world = _world(app)
    body = {"name": "Kinderopvang Test", "postcode": "9000", "city": "Gent"}
    body |= {field: _json_value(field, value), "network_id": world["network_id"]}
    response = app.test_client().post("/api/v1/facilities", json=body, headers=world["headers"])
    if response.status_code == 422:
        assert response.mimetype == "application/problem+json"
        assert list(response.get_json()["errors"]) == [field], response.get_json()
        return None
    assert response.status_code == 201, response.get_data(as_text=True)
    facility = db.session.get(Facility, response.get_json()["id"])
    row = _stored(facility, STORED)
    db.session.execute(db.delete(Membership).where(Membership.facility_id == facility.id))
    db.session.delete(facility)
    db.session.commit()
    return row


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


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_the_form_the_import_and_the_api_store_the_same_facility(app, data):
    """Issue 26: the same value through the form, the CSV import and the API gives the
    same verdict, and when accepted the same stored row (the import writes its rows with
    a bulk insert: its row is the one it would insert)."""
    column = data.draw(st.sampled_from(sorted(values)))
    value = collapse_spaces(data.draw(values[column]))
    field = FIELDS[column]
    by_csv = _csv_row(column, value)
    by_form = _form_row(app, field, value)
    by_api = _api_row(app, field, value)
    if column in ("facility_name", "city", "postcode") and not value:
        assert by_csv is by_form is by_api is None
        return
    assert by_form == by_csv == by_api, (column, value)


CONTACT_FIELDS = {
    "contact_name": "name",
    "contact_email": "email",
    "contact_phone": "phone",
    "contact_function": "function",
}
contact_values = {
    "contact_name": st.one_of(_long("contact_name"), words),
    "contact_email": values["email"],
    "contact_phone": st.one_of(_long("contact_phone"), words),
    "contact_function": st.one_of(_long("contact_function"), words),
}


def _csv_contact(column: str, value: str) -> dict[str, Any] | None:
    row = BASE | {"contact_name": "Lies Maes", column: value}
    parsed = _csv(row)
    if parsed is None or not parsed.valid:
        return None
    values = network_services._contact_values(parsed.facilities[0].contacts[0])
    return {k: values[k] for k in CONTACT_STORED}


def _form_contact(app, field: str, value: str) -> dict[str, Any] | None:
    if "\x00" in value:  # refused for every form (learnnet._refuse_nul)
        return None
    data = {"name": "Lies Maes", "preferred_language": "nl", field: value}
    form = _form(app, ContactForm, data)
    if form.errors:
        return None
    facility = db.session.get(Facility, _world(app)["facility_id"])
    contact = network_services.create_contact(facility, _contact_data(form) | {"active": True})
    row = _stored(contact, CONTACT_STORED)
    db.session.delete(contact)
    db.session.commit()
    return row


def _api_contact(app, field: str, value: str) -> dict[str, Any] | None:
    world = _world(app)
    body = {"name": "Lies Maes", field: value, "facility_id": world["facility_id"]}
    response = app.test_client().post("/api/v1/contacts", json=body, headers=world["headers"])
    if response.status_code == 422:
        assert list(response.get_json()["errors"]) == [field], response.get_json()
        return None
    assert response.status_code == 201, response.get_data(as_text=True)
    contact = db.session.get(Contact, response.get_json()["id"])
    row = _stored(contact, CONTACT_STORED)
    db.session.delete(contact)
    db.session.commit()
    return row


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_the_form_the_import_and_the_api_store_the_same_contact(app, data):
    column = data.draw(st.sampled_from(sorted(contact_values)))
    value = collapse_spaces(data.draw(contact_values[column]))
    field = CONTACT_FIELDS[column]
    by_form = _form_contact(app, field, value)
    by_api = _api_contact(app, field, value)
    if column == "contact_name" and not value:
        # Required in both; a CSV line without a contact name is a facility without one.
        assert by_form is by_api is None
        return
    assert by_form == _csv_contact(column, value) == by_api, (column, value)


@pytest.mark.parametrize(
    "char", ["\r\n", "\n", "\r", "\u2028", "\u2029", "\x0b", "\x0c", "\x85", "\x00", "\x1b", "\x7f"]
)
@pytest.mark.parametrize("column", ["facility_name", "street", "city", "phone"])
def test_all_refuse_a_line_break_or_control_character_in_a_name(app, column, char):
    """Issue 19, item 6: one rule for names (learnnet.names), not a space in one place and
    a broken mail header in the other; the API too (issue 26), and phone numbers."""
    value = f"Kinderopvang{char}Bcc: x@evil.example"
    assert _form_refuses(app, FIELDS[column], value)
    assert _csv_refuses(column, value)
    assert _api_row(app, FIELDS[column], value) is None
