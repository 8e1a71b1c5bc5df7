"""The member-list CSV: the pure reader, the preview, the import and the export."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from learnnet.extensions import db
from learnnet.networks import csvio
from learnnet.networks.models import Contact, Facility, Membership
from learnnet.networks.views import csv_messages

HEADER = "facility_name;street;postcode;city;room_capacity;willing_to_host;contact_name;contact_email;contact_language;contact_share"
GOOD = "\n".join(
    [
        HEADER,
        "Kinderopvang Tuimeling;Drongensesteenweg 150;9030;Mariakerke;16;ja;Veerle De Wilde;veerle@example.org;nl;ja",
        "Kinderopvang Tuimeling;Drongensesteenweg 150;9030;Mariakerke;16;ja;Jonas Claeys;jonas@example.org;nl;nee",
        "Crèche Kleine Stapjes;Sleepstraat 88;9000;Gent;10;nee;;;;",
    ]
)


def messages():
    return {
        key: key + (" %(column)s %(line)s" if key in ("conflict",) else "")
        for key in csvio.ERROR_KEYS
    } | {
        "too_long": "too_long %(column)s",
        "yes_no": "yes_no %(column)s",
        "duplicate_contact": "duplicate_contact %(line)s",
    }


def parse(text: str | bytes, **kw):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return csvio.parse(data, messages(), **kw)


def test_every_error_key_has_a_translated_message(app):
    with app.test_request_context():
        assert set(csv_messages()) == set(csvio.ERROR_KEYS)


def test_reads_facilities_with_their_contacts():
    parsed = parse(GOOD)
    assert parsed.valid
    assert parsed.delimiter == ";"
    tuimeling, stapjes = parsed.facilities
    assert (tuimeling.name, tuimeling.postcode, tuimeling.room_capacity) == (
        "Kinderopvang Tuimeling",
        "9030",
        16,
    )
    assert [c.name for c in tuimeling.contacts] == ["Veerle De Wilde", "Jonas Claeys"]
    assert tuimeling.contacts[0].share and not tuimeling.contacts[1].share
    assert stapjes.willing_to_host is False
    assert stapjes.contacts == []


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8"), ("cp1252", "windows-1252"), ("utf-16", "utf-16")],
)
def test_accepts_utf8_excel_semicolon_and_unicode_text(encoding, expected):
    text = GOOD.replace(";", "\t") if encoding == "utf-16" else GOOD
    parsed = parse(text.replace("\n", "\r\n").encode(encoding))
    assert parsed.valid, [r.errors for r in parsed.rows]
    assert parsed.encoding == expected
    assert parsed.facilities[1].name == "Crèche Kleine Stapjes"


def test_accepts_commas_and_dutch_headers():
    text = "Voorziening,Postcode,Gemeente,Contactpersoon,Functie\nKDV Het Nest,2300,Turnhout,Marleen,Onthaalouder\n"
    parsed = parse(text)
    assert parsed.valid
    assert parsed.facilities[0].contacts[0].function == "Onthaalouder"


def test_lists_every_rows_errors():
    text = "\n".join(
        [
            HEADER,
            ";Straat 1;12;;veel;misschien;;bad@;fr;",
            "Goed;Straat 2;9000;Gent;10;ja;An;an@example.org;nl;ja",
            "Goed;Straat 2;9000;Gent;12;ja;Bert;bert@example.org;nl;ja",
            "Goed;Straat 2;9000;Gent;10;ja;An bis;an@example.org;nl;ja",
        ]
    )
    parsed = parse(text)
    assert not parsed.valid
    assert parsed.error_count == 3
    first, ok, conflict, dup = parsed.rows
    assert (first.line, ok.line) == (2, 3)
    assert {
        "name_required",
        "postcode",
        "city_required",
        "capacity",
        "yes_no willing_to_host",
        "contact_name_required",
    } <= set(first.errors)
    assert ok.errors == []
    assert conflict.errors == ["conflict room_capacity 3"]
    assert dup.errors == ["duplicate_contact 3"]


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02junk" * 100, "binary"),
        (b"facility_name;postcode;city\n", "norows"),
        (b"name;zip\nA;9000\n", "missing"),
        (b"facility_name;postcode;city;favourite_colour\nA;9000;Gent;blue\n", "unknown"),
        (b"facility_name;postcode;city;city\nA;9000;Gent;Gent\n", "duplicate"),
        (b"\x81\x8d\x8f\x90\x9d" * 10, "encoding"),
        (b"x" * 2000, "size"),
    ],
)
def test_unusable_files_are_refused_as_a_whole(data, kind):
    with pytest.raises(csvio.CsvFileError) as info:
        csvio.parse(data, messages(), max_bytes=1000)
    assert str(info.value).split(":")[0] == kind


def _email_by_validator(value: str) -> tuple[str | None, str | None]:
    """The address check as it was before the fast path: email_validator on every value."""
    from email_validator import EmailNotValidError, validate_email

    value = value.strip()
    if not value:
        return None, None
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return None, "email"
    return result.normalized.lower(), None


def test_the_email_fast_path_agrees_with_email_validator():
    """Plain addresses skip a second check of a domain already seen; the outcome is the
    same as email_validator's for every address."""
    import random

    domains = [
        "example.org",
        "EXAMPLE.org",
        "kinderopvang.gent.be",
        "localhost",
        "example.local",
        "a.test",
        "x.invalid",
        "123.45",
        "a..b",
        "-a.be",
        "a-.be",
        "a.be.",
        ".a.be",
        "xn--bcher-kva.example",
        "bücher.example",
        "a_b.be",
        "[127.0.0.1]",
        "a.b",
        "a.b1",
        "a" * 63 + ".be",
        "a" * 64 + ".be",
        ("b" * 60 + ".") * 4 + "be",
        "exa mple.org",
        "",
    ]
    locals_ = [
        "jan",
        "Jan.Peeters",
        "j+nieuwsbrief",
        "a_b-c",
        ".jan",
        "jan.",
        "j..an",
        "o'brien",
        '"jan peeters"',
        "jan peeters",
        "jöns",
        "jan@x",
        "",
        "postmaster",
        "x" * 64,
        "x" * 65,
        "x" * 200,
        "=cmd",
    ]
    cases = [f"{lp}@{d}" for lp in locals_ for d in domains]
    cases += ["", "  ", "jan", "@example.org", "jan@", " jan@example.org ", "Jan <jan@example.org>"]
    rng = random.Random(10)
    alphabet = "aZ09._+-'@ éß"
    for _ in range(3000):
        local = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        cases.append(f"{local}@{rng.choice(domains)}")
    for value in cases:
        assert csvio._email(value) == _email_by_validator(value), value


def test_formula_cells_are_defused_on_export_and_restored_on_import():
    body = csvio.write(
        [
            {
                "facility_name": "=HYPERLINK(1)",
                "postcode": "9000",
                "city": "Gent",
                "phone": "+32 9 123 45 67",
            }
        ]
    )
    text = body.decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text
    assert ";+32 9 123 45 67;" in text
    parsed = parse(body)
    assert parsed.facilities[0].name == "=HYPERLINK(1)"


# --- through the web -------------------------------------------------------------------------


def upload(client, network, data: bytes, name="leden.csv"):
    return client.post(
        f"/networks/{network.slug}/import",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def counts():
    return tuple(
        db.session.scalar(select(func.count(m.id))) for m in (Facility, Membership, Contact)
    )


def test_preview_then_import_then_reimport_updates_instead_of_duplicating(logged_in, network):
    before = counts()
    preview = upload(logged_in, network, GOOD.encode("cp1252"))
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Het bestand is in orde" in html
    assert "2 nieuwe voorzieningen" in html
    assert counts() == before  # the preview wrote nothing
    payload = html.split('name="payload"')[1].split('value="')[1].split('"')[0]
    done = logged_in.post(f"/networks/{network.slug}/import/confirm", data={"payload": payload})
    assert done.status_code == 302
    after = counts()
    assert after == (before[0] + 2, before[1] + 2, before[2] + 2)
    changed = GOOD.replace("Drongensesteenweg 150", "Drongensesteenweg 152")
    html = upload(logged_in, network, changed.encode()).get_data(as_text=True)
    assert "1 bestaande voorziening bijgewerkt" in html
    payload = html.split('name="payload"')[1].split('value="')[1].split('"')[0]
    logged_in.post(f"/networks/{network.slug}/import/confirm", data={"payload": payload})
    assert counts() == after
    tuimeling = db.session.scalar(select(Facility).where(Facility.name == "Kinderopvang Tuimeling"))
    assert tuimeling.street == "Drongensesteenweg 152"


def test_invalid_file_shows_all_errors_and_writes_nothing(logged_in, network):
    before = counts()
    bad = GOOD + "\n;;12;;;;;;;\nOk;X;9000;Gent;abc;ja;;;;"
    response = upload(logged_in, network, bad.encode())
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2 regels bevatten fouten" in html
    assert "Nu importeren" not in html  # only "import the correct lines", which says so
    assert 'name="valid_only"' in html
    assert counts() == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00junk" * 1000, "geen tekstbestand"),
        (b"name;zip\nA;9000\n", "ontbreken"),
    ],
)
def test_malformed_file_gets_a_message_beside_the_field(logged_in, network, data, message):
    before = counts()
    response = upload(logged_in, network, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="file-error"' in html
    assert message in html
    assert counts() == before


def test_ten_megabytes_of_junk_is_refused_with_a_message(logged_in, network):
    before = counts()
    # A hand-made multipart body: the test client would otherwise spool it to a temp file.
    boundary = "----learnnet"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="junk.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + b"\xde\xad\xbe\xef" * (10 * 1024 * 1024 // 4)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = logged_in.post(
        f"/networks/{network.slug}/import",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 303
    follow = logged_in.get(response.location).get_data(as_text=True)
    assert "te groot (maximaal 1 MB)" in follow
    assert counts() == before


def test_tampered_confirmation_is_refused(logged_in, network):
    before = counts()
    assert (
        logged_in.post(
            f"/networks/{network.slug}/import/confirm", data={"payload": "%%%"}
        ).status_code
        == 400
    )
    assert counts() == before


def payload_of(html: str) -> str:
    return html.split('name="payload"')[1].split('value="')[1].split('"')[0]


def test_a_large_correct_file_previews_as_counts_and_a_sample(logged_in, network):
    rows = ["facility_name;postcode;city;contact_name;contact_email"]
    rows += [f"Opvang {n // 4};9000;Gent;Persoon {n};p{n}@example.org" for n in range(2000)]
    data = ("\n".join(rows) + "\n").encode()
    before = counts()
    html = upload(logged_in, network, data).get_data(as_text=True)
    assert "500 nieuwe voorzieningen" in html and "2000 nieuwe contactpersonen" in html
    assert html.count('class="row-ok"') == 20
    assert "nog 1980 correcte regels" in html
    assert counts() == before
    # The file goes back compressed and signed, not as base64 of every byte.
    payload = payload_of(html)
    assert len(payload) < len(data) / 3
    done = logged_in.post(f"/networks/{network.slug}/import/confirm", data={"payload": payload})
    assert done.status_code == 302
    assert counts() == (before[0] + 500, before[1] + 500, before[2] + 2000)


def test_a_changed_or_borrowed_confirmation_is_refused(logged_in, network, facilitator):
    from tests import factories

    other = factories.network(facilitators=[facilitator], name="Ander netwerk")
    db.session.commit()
    html = upload(logged_in, network, GOOD.encode()).get_data(as_text=True)
    payload = payload_of(html)
    signed, _dot, signature = payload.rpartition(".")
    changed = [
        signed[:-2] + ("AA" if not signed.endswith("AA") else "BB") + "." + signature,
        signed + "." + signature[::-1],
        payload + "x",
        "é" + payload,
    ]
    before = counts()
    for value in changed:
        response = logged_in.post(
            f"/networks/{network.slug}/import/confirm", data={"payload": value}
        )
        assert response.status_code == 400
    # Made for this network's preview: another network's confirmation refuses it.
    response = logged_in.post(f"/networks/{other.slug}/import/confirm", data={"payload": payload})
    assert response.status_code == 400
    assert counts() == before


def test_a_payload_never_unpacks_beyond_the_upload_limit(app, network):
    from learnnet.networks.views import import_payload, read_import_payload

    limit = app.config["CSV_MAX_BYTES"]
    with app.test_request_context():
        assert read_import_payload(network, import_payload(network, b"a;b\n")) == b"a;b\n"
        assert read_import_payload(network, import_payload(network, b"x" * (limit + 1))) is None
        assert read_import_payload(network, import_payload(network, b"x" * limit)) is not None


def test_export_round_trips_through_import(logged_in, network):
    response = logged_in.get(f"/networks/{network.slug}/members.csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    body = response.data
    assert body.startswith(b"\xef\xbb\xbf")
    parsed = csvio.parse(body, messages())
    assert parsed.valid
    names = sorted(f.name for f in parsed.facilities)
    assert names == ["KDV De Zonnebloem", "Kinderopvang Ukkepuk"]
    zonnebloem = next(f for f in parsed.facilities if f.name == "KDV De Zonnebloem")
    assert {c.email for c in zonnebloem.contacts} == {"sofie@example.org", "hanne@example.org"}
    before = counts()
    html = upload(logged_in, network, body).get_data(as_text=True)
    assert "0 nieuwe voorzieningen" in html
    assert counts() == before


@pytest.mark.parametrize(
    "website",
    [
        "javascript:alert(1)",
        "data:text/html,<b>x</b>",
        "ftp://example.org",
        "https://",
        "https://exa mple.org",
    ],
)
def test_a_website_the_form_would_refuse_is_refused(logged_in, network, website):
    """Issue 10: `javascript:` got in through the CSV; the form's rule applies to imports too."""
    data = (
        f"facility_name;postcode;city;website\r\nKinderopvang Nieuw;9000;Gent;{website}\r\n"
    ).encode()
    response = logged_in.post(
        f"/networks/{network.slug}/import",
        data={"file": (io.BytesIO(data), "leden.csv")},
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert "is geen webadres" in html and "Kinderopvang Nieuw" in html
    from learnnet.networks.models import Facility

    assert db.session.scalar(select(Facility).where(Facility.name == "Kinderopvang Nieuw")) is None


def test_a_good_website_and_long_notes_like_the_form(logged_in, network):
    from learnnet.networks import rules

    assert rules.is_web_address("https://www.kinderopvang.be/gent")
    assert rules.is_web_address("http://example.org")
    assert not rules.is_web_address("javascript://example.org/%0aalert(1)")


def test_a_facility_of_another_network_is_asked_and_never_overwritten(
    logged_in, network, facilitator
):
    """Issue 10: a row matching a facility outside this network keeps its details and people.
    Issue 19: when that network is someone else's, the facility is only asked to join."""
    from learnnet.networks.models import MembershipRequest
    from tests import factories

    other_owner = factories.user(email="other@example.org")
    elsewhere = factories.network(facilitators=[other_owner], name="Ander netwerk")
    theirs = factories.facility(
        name="Kinderopvang Elders", postcode="9050", city="Gentbrugge", phone="09 111 11 11"
    )
    factories.member(elsewhere, theirs)
    factories.contact(theirs, name="Greet Elders", email="greet@example.org")
    db.session.commit()
    data = (
        b"facility_name;postcode;city;phone;contact_name;contact_email;contact_phone\r\n"
        b"Kinderopvang Elders;9050;Gentbrugge;09 999 99 99;Greet Elders;greet@example.org;0470 00 00 00\r\n"
        b"Kinderopvang Elders;9050;Gentbrugge;09 999 99 99;Nieuwe Naam;nieuw@example.org;\r\n"
    )
    preview = logged_in.post(
        f"/networks/{network.slug}/import",
        data={"file": (io.BytesIO(data), "leden.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "lid van een ander netwerk" in preview and "Kinderopvang Elders" in preview
    import re

    token = re.search(r'name="payload"[^>]*value="([^"]+)"', preview)
    fields = {"payload": token.group(1)} if token else {}
    logged_in.post(f"/networks/{network.slug}/import/confirm", data=fields)
    db.session.expire_all()
    theirs = db.session.get(Facility, theirs.id)
    assert theirs.phone == "09 111 11 11"
    assert {c.name for c in theirs.contacts} == {"Greet Elders"}
    assert next(c for c in theirs.contacts).phone == ""
    assert not any(m.network_id == network.id for m in theirs.memberships)
    asked = db.session.scalar(
        select(MembershipRequest).where(MembershipRequest.facility_id == theirs.id)
    )
    assert asked.network_id == network.id and asked.status == "pending"
    assert asked.requested_by_id == facilitator.id
    contact = theirs.contacts[0]
    assert logged_in.get(f"/contacts/{contact.id}/edit").status_code == 403
    export = logged_in.get(f"/networks/{network.slug}/members.csv").get_data(as_text=True)
    assert "Greet" not in export and "greet@example.org" not in export


# --- one-line names (issue 19, item 6) -------------------------------------------------------

# NUL is not among them: a file holding one is refused as a whole ("binary").
HEADER_BREAKERS = ["\r\n", "\n", "\r", "\u2028", "\u2029", "\x0b", "\x0c", "\x85", "\x1b", "\x7f"]


@pytest.mark.parametrize("char", HEADER_BREAKERS)
@pytest.mark.parametrize("column", ["facility_name", "street", "city", "contact_name"])
def test_a_name_with_a_line_break_or_control_character_is_refused(column, char):
    row = {
        "facility_name": "Kinderopvang Tuimeling",
        "street": "Drongensesteenweg 150",
        "postcode": "9030",
        "city": "Mariakerke",
        "contact_name": "Veerle De Wilde",
        "contact_email": "veerle@example.org",
    }
    row[column] += f"{char}Bcc: x@evil.example"
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerows([list(row), list(row.values())])
    parsed = parse(out.getvalue())
    assert not parsed.valid
    assert parsed.rows[0].errors == ["one_line"], parsed.rows[0].errors
    assert csvio.valid_lines(parsed).count(b"\n") == 1  # the header only


def test_other_columns_still_collapse_their_line_breaks():
    text = 'facility_name;postcode;city;accessibility\nCrèche;9000;Gent;"Lift\nen ramp"\n'
    parsed = parse(text)
    assert parsed.valid, parsed.rows[0].errors
    assert parsed.facilities[0].accessibility == "Lift en ramp"


def test_the_import_names_the_column_and_writes_nothing(logged_in, network):
    before = counts()
    body = (
        "Naam;Postcode;Gemeente;Contactpersoon\r\n"
        '"Kinderopvang\u2028Tuimeling";9030;Mariakerke;Veerle\r\n'
        'Crèche;9000;Gent;"Jonas\rBcc: x@evil.example"\r\n'
    ).encode()
    html = upload(logged_in, network, body).get_data(as_text=True)
    assert "Naam bevat een regeleinde of een ander onzichtbaar stuurteken." in html
    assert "Contactpersoon bevat een regeleinde" in html
    assert counts() == before
