"""The member list in Dutch (issue 12, item 8): Dutch headers in and out, messages that
name the column as the file wrote it with the wrong value, a template, and importing only
the correct lines."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from learnnet.extensions import db
from learnnet.networks import csvio
from learnnet.networks.models import Contact, Facility


def upload(client, network, body: bytes):
    return client.post(
        f"/networks/{network.slug}/import",
        data={"file": (io.BytesIO(body), "leden.csv")},
        content_type="multipart/form-data",
    )


DUTCH = (
    "Naam;Straat;Postcode;Gemeente;Telefoon;E-mail;Capaciteit;Kan ontvangen;Contactpersoon;"
    "E-mail contactpersoon\r\n"
    "Kinderopvang Het Anker;Kaai 1;9000;Gent;09 222 33 44;info@anker.be;14;ja;Els Maes;"
    "els@anker.be\r\n"
)


def test_dutch_headers_are_read(logged_in, network):
    parsed = csvio.parse(DUTCH.encode(), {k: k for k in csvio.ERROR_KEYS})
    assert parsed.valid
    (facility,) = parsed.facilities
    assert (facility.name, facility.room_capacity, facility.willing_to_host) == (
        "Kinderopvang Het Anker",
        14,
        True,
    )
    assert facility.contacts[0].email == "els@anker.be"


def test_errors_name_the_column_as_written_start_with_a_capital_and_show_the_value(
    logged_in, network
):
    body = b"Naam;Postcode;Gemeente;Capaciteit\r\nKinderopvang Fout;99999;Gent;veel\r\n"
    html = upload(logged_in, network, body).get_data(as_text=True)
    assert "Postcode “99999” is geen Belgische postcode van vier cijfers." in html
    assert "Capaciteit “veel” is geen geheel getal van 1 tot 1000." in html


def test_export_and_template_speak_the_interface_language(logged_in, network):
    export = logged_in.get(f"/networks/{network.slug}/members.csv").data.decode("utf-8-sig")
    assert export.splitlines()[0].startswith("naam;straat;postcode;gemeente")
    template = logged_in.get(f"/networks/{network.slug}/import/template.csv")
    assert "ledenlijst-sjabloon.csv" in template.headers["Content-Disposition"]
    assert template.data.decode("utf-8-sig").strip().split(";")[-1] == "zichtbaar in contactlijst"
    logged_in.post("/language", data={"lang": "en"})
    english = logged_in.get(f"/networks/{network.slug}/import/template.csv")
    assert english.data.decode("utf-8-sig").startswith("facility_name;street")
    # Both re-import: an export's headers are accepted in either language.
    assert csvio.parse(export.encode(), {k: k for k in csvio.ERROR_KEYS}).valid


def test_import_only_the_correct_lines_says_what_it_skips(logged_in, network):
    body = (
        b"naam;postcode;gemeente;contactpersoon;e-mail contactpersoon\r\n"
        b"Kinderopvang Goed;9000;Gent;An Goed;an@goed.be\r\n"
        b"Kinderopvang Slecht;12;Gent;Bert Slecht;bert@slecht.be\r\n"
        b"Kinderopvang Ook Goed;9050;Gent;Cis;niet-een-adres\r\n"
        b"Kinderopvang Ook Goed;9050;Gent;Dirk;dirk@ookgoed.be\r\n"
    )
    html = upload(logged_in, network, body).get_data(as_text=True)
    assert "Importeer de 2 correcte regels" in html
    assert "Dit slaat regel 3, 4 over" in html or "Dit slaat regels 3, 4 over" in html
    form = html.split('name="valid_only"')[0].rsplit("<form", 1)[1]
    payload = re.search(r'name="payload"[^>]*value="([^"]+)"', form).group(1)
    before = db.session.scalar(select(func.count(Facility.id)))
    logged_in.post(
        f"/networks/{network.slug}/import/confirm", data={"payload": payload, "valid_only": "1"}
    )
    names = set(db.session.scalars(select(Facility.name)))
    assert {"Kinderopvang Goed", "Kinderopvang Ook Goed"} <= names
    assert "Kinderopvang Slecht" not in names
    assert db.session.scalar(select(func.count(Facility.id))) == before + 2
    people = set(db.session.scalars(select(Contact.name)))
    assert {"An Goed", "Dirk"} <= people and "Cis" not in people
    # The same payload without the choice still refuses the whole file.
    again = logged_in.post(
        f"/networks/{network.slug}/import/confirm", data={"payload": payload}
    ).get_data(as_text=True)
    assert "Importeer de" in again
