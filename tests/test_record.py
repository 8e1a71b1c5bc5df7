"""The yearly record (jaaroverzicht) pages: facilitator and personal link, PDF and CSV,
who sees what, and a fixed number of statements."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from learnnet.attendance.models import Attendance
from learnnet.extensions import db
from learnnet.learning.models import LearningGoal, WerkjaarTheme
from learnnet.rsvp.contacts import ensure_link, token_of
from tests import factories
from tests.conftest import login


def present(session, contact, status="present"):
    db.session.add(
        Attendance(
            session=session,
            contact=contact,
            facility_id=contact.facility_id,
            person_name=contact.name,
            facility_name=contact.facility.name,
            status=status,
        )
    )


def at(day: date, hour: int = 18, minutes: int = 150, **kw):
    start = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
    return {"starts_at": start, "ends_at": start + timedelta(minutes=minutes), **kw}


@pytest.fixture
def year(app, network):
    """Werkjaar 2025-2026 of the network: a theme with two goals, three held sessions (one
    hosted by the first facility, one cancelled), Sofie at two, Hanne at one."""
    first, second = (m.facility for m in network.memberships)
    sofie = next(c for c in first.contacts if c.name == "Sofie Claes")
    hanne = next(c for c in first.contacts if c.name == "Hanne De Smet")
    other = factories.contact(second, name="Bart Peeters")
    theme = WerkjaarTheme(network=network, start_year=2025, title="Taal in de kinderopvang")
    theme.goals = [
        LearningGoal(position=1, text="Voorlezen aan baby's"),
        LearningGoal(position=2, text="Meertaligheid verwelkomen"),
    ]
    db.session.add(theme)
    s1 = factories.session(network, first, title="Voorlezen", **at(date(2025, 10, 7)))
    s2 = factories.session(
        network, second, title="=Meertalig", **at(date(2026, 1, 13), minutes=125)
    )
    s3 = factories.session(
        network, second, title="Afgelast", status="cancelled", **at(date(2026, 3, 3))
    )
    theme.goals[0].sessions = [s1, s2]
    theme.goals[1].sessions = [s2]
    present(s1, sofie)
    present(s1, hanne)
    present(s2, sofie)
    present(s2, other)
    present(s3, hanne)
    db.session.commit()
    return {"first": first, "second": second, "sofie": sofie, "other": other}


def test_the_facilitator_sees_the_record_page_pdf_and_csv(app, network, year, logged_in):
    first = year["first"]
    base = f"/networks/{network.slug}/facilities/{first.id}/jaaroverzicht"
    for where in (f"/networks/{network.slug}", f"/facilities/{first.id}"):
        assert f'href="{base}' in logged_in.get(where).get_data(as_text=True), where
    page = logged_in.get(base + "?werkjaar=2025-2026")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Jaaroverzicht" in html and "Opgroeien" in html
    assert "Taal in de kinderopvang" in html and "Voorlezen aan baby" in html
    assert "2 van de 2 leerdoelen van het werkjaar kwamen aan bod" in html
    assert "Sofie Claes" in html and "Hanne De Smet" in html
    assert "Bart Peeters" not in html  # another facility's person
    assert "Afgelast" not in html  # cancelled: not counted
    # Sofie 2,5 + 2 h, Hanne 2,5 h (125 minutes round to 2 hours).
    assert "7 uur" in html

    pdf = logged_in.get(base + ".pdf?werkjaar=2025-2026")
    assert pdf.status_code == 200 and pdf.content_type == "application/pdf"
    from pypdf import PdfReader

    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert first.name in text and "Opgroeien" in text and "Sofie Claes" in text
    assert "Bart Peeters" not in text

    data = logged_in.get(base + ".csv?werkjaar=2025-2026")
    assert data.status_code == 200
    body = data.data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body), delimiter=";"))
    assert rows[0][0] == "Onderdeel"
    present_rows = [r for r in rows if r[0] == "aanwezig"]
    assert sorted(r[3] for r in present_rows) == ["Hanne De Smet", "Sofie Claes", "Sofie Claes"]
    assert "'=Meertalig" in [r[2] for r in present_rows]  # no formula in a spreadsheet
    assert [r[2] for r in rows if r[0] == "ontvangen"] == ["Voorlezen"]


def test_the_personal_link_shows_only_the_own_facility(app, network, year):
    client = app.test_client()
    token = token_of(ensure_link(year["sofie"]))
    other_token = token_of(ensure_link(year["other"]))
    lonely = factories.network(name="Ander netwerk")
    db.session.commit()
    mine = client.get(f"/m/{token}/networks/{network.id}/jaaroverzicht?werkjaar=2025-2026")
    assert mine.status_code == 200
    assert "Hanne De Smet" in mine.get_data(as_text=True)
    # Bart's link opens Bart's own facility's record: never Sofie's colleagues.
    theirs = client.get(f"/m/{other_token}/networks/{network.id}/jaaroverzicht?werkjaar=2025-2026")
    assert theirs.status_code == 200
    html = theirs.get_data(as_text=True)
    assert "Bart Peeters" in html and "Sofie" not in html and "Hanne" not in html
    # A network the facility never belonged to: nothing.
    for suffix in ("", ".pdf", ".csv"):
        assert (
            client.get(f"/m/{token}/networks/{lonely.id}/jaaroverzicht{suffix}").status_code == 404
        )
    pdf = client.get(f"/m/{token}/networks/{network.id}/jaaroverzicht.pdf?werkjaar=2025-2026")
    assert pdf.content_type == "application/pdf"


def test_a_facility_never_in_the_network_has_no_record(app, network, logged_in):
    stranger = factories.facility(name="Elders")
    db.session.commit()
    url = f"/networks/{network.slug}/facilities/{stranger.id}/jaaroverzicht"
    assert logged_in.get(url).status_code == 404
    assert (
        logged_in.get(f"/networks/{network.slug}/facilities/999999/jaaroverzicht").status_code
        == 404
    )


def test_after_leaving_the_record_stays_without_names(app, network, year, facilitator):
    membership = next(m for m in network.memberships if m.facility_id == year["first"].id)
    membership.left_on = date(2026, 2, 1)
    db.session.commit()
    client = app.test_client()
    login(client, facilitator.email)
    html = client.get(
        f"/networks/{network.slug}/facilities/{year['first'].id}/jaaroverzicht?werkjaar=2025-2026"
    ).get_data(as_text=True)
    assert year["first"].name in html and "Voorlezen" in html
    assert "Sofie" not in html and "Hanne" not in html
    data = client.get(
        f"/networks/{network.slug}/facilities/{year['first'].id}/jaaroverzicht.csv?werkjaar=2025-2026"
    ).data.decode("utf-8-sig")
    assert "Sofie" not in data and "Hanne" not in data


def statements(client, count_queries, url):
    client.get(url)
    db.session.expire_all()
    before = count_queries.count
    assert client.get(url).status_code == 200
    return count_queries.count - before


def test_the_page_costs_the_same_statements_however_many_sessions(
    app, network, year, logged_in, count_queries
):
    first = year["first"]
    token = token_of(ensure_link(year["sofie"]))
    db.session.commit()
    url = f"/networks/{network.slug}/facilities/{first.id}/jaaroverzicht?werkjaar=2025-2026"
    member_url = f"/m/{token}/networks/{network.id}/jaaroverzicht?werkjaar=2025-2026"
    small = (
        statements(logged_in, count_queries, url),
        statements(app.test_client(), count_queries, member_url),
    )
    goal = db.session.scalars(db.select(LearningGoal)).first()
    for n in range(8):
        s = factories.session(network, first, title=f"Extra {n}", **at(date(2025, 11, 3 + n)))
        goal.sessions.append(s)
        for k in range(3):
            present(s, factories.contact(first, name=f"Collega {n}-{k}"))
    db.session.commit()
    large = (
        statements(logged_in, count_queries, url),
        statements(app.test_client(), count_queries, member_url),
    )
    assert large == small


def test_the_werkjaar_turns_at_local_midnight_on_both_engines(app, network, logged_in):
    """00:30 in Brussels on 1 September is 22:30 UTC the day before: the database's window
    must not cut it off, and the record puts it in the new werkjaar."""
    first = network.memberships[0].facility
    sofie = next(c for c in first.contacts if c.name == "Sofie Claes")
    late = factories.session(
        network, first, title="Nachtbijeenkomst", **at(date(2026, 8, 31), hour=22, minutes=60)
    )
    late.starts_at = late.starts_at.replace(minute=30)
    present(late, sofie)
    db.session.commit()
    base = f"/networks/{network.slug}/facilities/{first.id}/jaaroverzicht"
    new = logged_in.get(base + "?werkjaar=2026-2027").get_data(as_text=True)
    old = logged_in.get(base + "?werkjaar=2025-2026").get_data(as_text=True)
    assert "Nachtbijeenkomst" in new and "di 1 sep. 2026" in new
    assert "Nachtbijeenkomst" not in old


def test_an_unknown_werkjaar_shows_the_current_one_and_csv_has_a_comma_variant(
    app, network, year, logged_in
):
    base = f"/networks/{network.slug}/facilities/{year['first'].id}/jaaroverzicht"
    for bad in ("2019-2020", "abc", "2025-2027", "2025-2026\r\n"):
        response = logged_in.get(base, query_string={"werkjaar": bad})
        assert response.status_code == 200
    plain = logged_in.get(base + ".csv?werkjaar=2025-2026&variant=comma").data
    assert not plain.startswith(b"\xef\xbb\xbf")
    assert next(csv.reader(io.StringIO(plain.decode())))[0] == "Onderdeel"


def test_only_the_facilitys_own_shared_answers_are_quoted_without_names(
    app, network, year, logged_in
):
    from learnnet.learning.evaluation_models import EvaluationAnswer, EvaluationResponse
    from learnnet.sessions.models import Session

    held = db.session.scalar(db.select(Session).where(Session.title == "Voorlezen"))
    cancelled = db.session.scalar(db.select(Session).where(Session.title == "Afgelast"))

    def answer(session, contact, text, share):
        response = EvaluationResponse(
            session=session, contact_id=contact.id, facility_id=contact.facility_id
        )
        response.answers = [
            EvaluationAnswer(question="useful", score=5),
            EvaluationAnswer(question="take_away", text=text, share=share),
        ]
        db.session.add(response)

    answer(held, year["sofie"], "We lezen nu elke ochtend voor", True)
    hanne = next(c for c in year["first"].contacts if c.name == "Hanne De Smet")
    answer(held, hanne, "Niet voor het jaaroverzicht", False)
    answer(held, year["other"], "Bij ons werkt het ook", True)  # another facility
    answer(cancelled, hanne, "Uit een afgelaste bijeenkomst", True)
    db.session.commit()
    base = f"/networks/{network.slug}/facilities/{year['first'].id}/jaaroverzicht"
    html = logged_in.get(base + "?werkjaar=2025-2026").get_data(as_text=True)
    quotes = html[html.index('id="rec-shared"') :]
    assert "We lezen nu elke ochtend voor" in quotes and "Wat neem je mee?" in quotes
    for hidden in ("Niet voor het", "Bij ons werkt", "afgelaste", "Sofie", "Hanne", "Bart"):
        assert hidden not in quotes
    rows = list(
        csv.reader(
            io.StringIO(logged_in.get(base + ".csv?werkjaar=2025-2026").data.decode("utf-8-sig")),
            delimiter=";",
        )
    )
    shared = [r for r in rows if r[0] == "wat we deelden"]
    assert [(r[5], r[3]) for r in shared] == [("We lezen nu elke ochtend voor", "")]


def test_the_facilitys_agreements_from_published_minutes_and_how_they_went(
    app, network, year, logged_in
):
    from learnnet.learning.minutes_models import (
        DRAFT,
        PUBLISHED,
        ActionNote,
        ActionPoint,
        Minutes,
    )
    from learnnet.models import utcnow
    from learnnet.sessions.models import Session

    first, second = year["first"], year["second"]
    held = db.session.scalar(db.select(Session).where(Session.title == "Voorlezen"))
    later = db.session.scalar(db.select(Session).where(Session.title == "=Meertalig"))
    db.session.add_all(
        [Minutes(session_id=held.id, status=PUBLISHED), Minutes(session_id=later.id, status=DRAFT)]
    )
    db.session.flush()

    def point(session, what, facility, contact=None, done=False):
        p = ActionPoint(
            session_id=session.id,
            network_id=network.id,
            what=what,
            owner_facility_id=facility.id,
            owner_contact_id=contact.id if contact else None,
            due_on=date(2025, 12, 1),
            done_at=utcnow() if done else None,
        )
        db.session.add(p)
        db.session.flush()
        return p

    done = point(held, "Voorleesmand in elke leefgroep", first, year["sofie"], done=True)
    db.session.add(
        ActionNote(action_id=done.id, contact_id=year["sofie"].id, text="De mand is een succes")
    )
    point(held, "Boekenlijst delen", first)
    point(held, "Iets van een ander", second)
    point(later, "Uit een ontwerpverslag", first)
    db.session.commit()
    base = f"/networks/{network.slug}/facilities/{first.id}/jaaroverzicht"
    html = logged_in.get(base + "?werkjaar=2025-2026").get_data(as_text=True)
    part = html[html.index('id="rec-agreements"') : html.index('id="rec-shared"')]
    assert "Voorleesmand in elke leefgroep" in part and "De mand is een succes" in part
    assert "Boekenlijst delen" in part and "Sofie Claes" in part
    assert "Iets van een ander" not in part and "ontwerpverslag" not in part
    assert part.count("rec-state rec-done") == 1 and part.count("rec-state rec-open") == 1
    facts = html[html.index('class="rec-facts"') : html.index('id="rec-theme"')]
    assert "<strong>1</strong> van de 2 gedaan" in facts
    rows = list(
        csv.reader(
            io.StringIO(logged_in.get(base + ".csv?werkjaar=2025-2026").data.decode("utf-8-sig")),
            delimiter=";",
        )
    )
    agreed = sorted((r[5], r[6]) for r in rows if r[0] == "afspraak")
    assert agreed == [
        ("Boekenlijst delen", "open"),
        ("Voorleesmand in elke leefgroep — De mand is een succes", "gedaan"),
    ]


def test_the_demo_members_yearly_record_pdf_tells_the_werkjaar(app, client):
    """The demo's member opens her facility's jaaroverzicht PDF through her link: it names
    the werkjaar, her colleagues' hours, the agreement done and how it went, and quotes
    what they shared; nothing of another facility's people."""
    from pypdf import PdfReader

    from learnnet import demo
    from learnnet.learning.minutes_models import ActionNote, ActionPoint
    from learnnet.networks.models import Contact, Network

    demo.load()
    db.session.commit()
    contact = db.session.scalar(db.select(Contact).where(Contact.email == demo.demo_member_email()))
    network = db.session.scalar(db.select(Network).where(Network.slug == "gent-baby-peuter"))
    token = token_of(ensure_link(contact))
    db.session.commit()
    response = client.get(f"/m/{token}/networks/{network.id}/jaaroverzicht.pdf")
    assert response.status_code == 200
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages).replace(
        "\n", " "
    )
    assert contact.facility.name in text and "Opgroeien" in text and contact.name in text
    done = db.session.scalar(
        db.select(ActionPoint).where(
            ActionPoint.owner_facility_id == contact.facility_id, ActionPoint.done_at.is_not(None)
        )
    )
    note = db.session.scalar(db.select(ActionNote.text).where(ActionNote.action_id == done.id))
    assert done.what[:30] in text and note[:30] in text
    from learnnet.learning.evaluation_models import EvaluationAnswer, EvaluationResponse

    shared = db.session.scalars(
        db.select(EvaluationAnswer.text)
        .join(EvaluationResponse)
        .where(
            EvaluationResponse.facility_id == contact.facility_id, EvaluationAnswer.share.is_(True)
        )
    ).all()
    assert shared and all(quote[:25] in text for quote in shared)
    others = db.session.scalars(
        db.select(Contact.name).where(Contact.facility_id != contact.facility_id)
    ).all()
    assert not [name for name in others if name in text]
