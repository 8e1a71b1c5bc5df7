"""Forms as people fill them in on a phone (issue 12, item 7): the right keyboards and
autofill, a time zone to choose, a website without https:// completed, and a message
(never a silent cut) for names that are too long."""

from __future__ import annotations

import io
import re

from sqlalchemy import select

from learnnet.extensions import db
from learnnet.networks.models import Facility


def test_phone_and_postcode_fields_bring_the_right_keyboard(logged_in, network):
    html = logged_in.get(f"/networks/{network.slug}/members/new").get_data(as_text=True)
    assert re.search(
        r'<input[^>]*id="phone"[^>]*type="tel"|<input[^>]*type="tel"[^>]*id="phone"', html
    )
    assert 'inputmode="numeric"' in html and 'autocomplete="postal-code"' in html
    assert 'inputmode="url"' in html
    assert "maxlength" not in html  # the browser would cut silently


def test_login_fields_let_password_managers_fill_in(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'autocomplete="username"' in html and 'autocomplete="current-password"' in html


def test_the_time_zone_is_chosen_from_zone_names(logged_in, network):
    html = logged_in.get(f"/networks/{network.slug}/edit").get_data(as_text=True)
    select_html = html.split('id="timezone"')[1].split("</select>")[0]
    assert '<option selected value="Europe/Brussels">' in select_html or (
        'value="Europe/Brussels" selected' in select_html
    )
    assert 'value="America/New_York"' in select_html


def test_a_website_without_https_is_completed_in_the_form_and_the_import(logged_in, network):
    data = {
        "name": "Kinderopvang Zonder Schema",
        "postcode": "9000",
        "city": "Gent",
        "website": "www.zonderschema.be",
        "willing_to_host": "1",
        "joined_on": "2026-09-01",
    }
    logged_in.post(f"/networks/{network.slug}/members/new", data=data)
    facility = db.session.scalar(select(Facility).where(Facility.name == data["name"]))
    assert facility is not None and facility.website == "https://www.zonderschema.be"
    body = (
        b"facility_name;postcode;city;website\r\n"
        b"Kinderopvang Ook Zonder;9000;Gent;www.ookzonder.be\r\n"
    )
    preview = logged_in.post(
        f"/networks/{network.slug}/import",
        data={"file": (io.BytesIO(body), "leden.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    payload = re.search(r'name="payload"[^>]*value="([^"]+)"', preview).group(1)
    logged_in.post(f"/networks/{network.slug}/import/confirm", data={"payload": payload})
    imported = db.session.scalar(select(Facility).where(Facility.name == "Kinderopvang Ook Zonder"))
    assert imported.website == "https://www.ookzonder.be"


def test_a_name_that_is_too_long_gets_a_message_not_a_cut(logged_in, network):
    name = "Kinderopvang " + "x" * 160
    html = logged_in.post(
        f"/networks/{network.slug}/members/new",
        data={"name": name, "postcode": "9000", "city": "Gent", "willing_to_host": "1"},
    ).get_data(as_text=True)
    assert 'id="name-error"' in html
    error = html.split('id="name-error"')[1].split("</p>")[0]
    assert "160" in error and str(len(name)) in error
    assert name in html  # what was typed stays
