"""The member's own history (issue 21.3): past sessions in every network with their
attendance, hours per werkjaar, and the certificate as PDF and print page through the
personal link, the same document the facilitator makes; never another contact's."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from pypdf import PdfReader

from learnnet.attendance.models import Attendance
from learnnet.attendance.services import werkjaar_label
from learnnet.extensions import db
from learnnet.models import utcnow
from tests import factories
from tests.rsvp_helpers import token_for


def _attend(session, contact, status):
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


@pytest.fixture
def past(network, facilitator):
    """Sofie attended two sessions (two networks), missed one, was excused for one;
    Hanne, her colleague, attended one."""
    zonnebloem, ukkepuk = (m.facility for m in network.memberships)
    sofie = next(c for c in zonnebloem.contacts if c.name == "Sofie Claes")
    hanne = next(c for c in zonnebloem.contacts if c.name == "Hanne De Smet")
    other_facilitator = factories.user(email="els@example.org", name="Els Janssens")
    second = factories.network(facilitators=[other_facilitator], name="Netwerk Buitenspelen")
    factories.member(second, zonnebloem)
    # All in the same werkjaar: a day in the past, a week apart.
    base = utcnow() - timedelta(days=3)
    sessions = []
    for n, (net, host) in enumerate(
        [(network, ukkepuk), (second, zonnebloem), (network, zonnebloem), (network, ukkepuk)]
    ):
        start = base - timedelta(days=7 * n)
        sessions.append(
            factories.session(
                net, host, starts_at=start, ends_at=start + timedelta(hours=2, minutes=30)
            )
        )
    _attend(sessions[0], sofie, "present")
    _attend(sessions[1], sofie, "present")
    _attend(sessions[2], sofie, "absent")
    _attend(sessions[3], sofie, "excused")
    _attend(sessions[3], hanne, "present")
    db.session.commit()
    return {
        "sofie": sofie,
        "hanne": hanne,
        "sessions": sessions,
        "label": werkjaar_label((base - timedelta(days=21)).date()),
    }


def test_the_history_lists_every_past_session_with_attendance_and_hours(client, past):
    html = client.get(f"/m/{token_for(past['sofie'])}/history").get_data(as_text=True)
    assert html.count('class="mrow"') >= 4
    for word in ("Aanwezig", "Afwezig", "Verontschuldigd"):
        assert word in html
    assert "Netwerk Buitenspelen" in html and "Lerend netwerk Gent" in html
    label = past["label"].replace("-", "–")
    assert f"werkjaar {label}" in html
    assert "5 uur" in html  # two sessions of 2,5 hours present; absent and excused count 0
    # Their facility hosted two of them.
    assert 'id="hosted"' in html


def test_the_member_page_links_to_the_history(client, past):
    token = token_for(past["sofie"])
    html = client.get(f"/m/{token}").get_data(as_text=True)
    assert f'href="/m/{token}/history"' in html


def test_the_certificate_pdf_names_the_member_and_her_hours(client, past):
    token = token_for(past["sofie"])
    response = client.get(f"/m/{token}/certificate?period={past['label']}&format=pdf")
    assert response.status_code == 200
    assert response.content_type == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    assert "Sofie Claes" in text
    assert "5 uur" in text
    assert "Hanne" not in text
    # Signed by the facilitators of the networks it lists.
    assert "An Peeters" in text and "Els Janssens" in text


def test_the_print_page_is_the_facilitators_certificate(client, past, facilitator):
    from tests.conftest import login

    token = token_for(past["sofie"])
    mine = client.get(f"/m/{token}/certificate?period={past['label']}").get_data(as_text=True)
    assert "Sofie Claes" in mine and "5 uur" in mine
    login(client, facilitator.email)
    theirs = client.get(
        f"/contacts/{past['sofie'].id}/certificate?period={past['label']}"
    ).get_data(as_text=True)
    # Same reference: one certificate, whoever fetches it.
    import re

    ref = re.compile(r"ATT-\d{4}-\d{6}-[0-9A-F]{4}")
    assert ref.search(mine).group(0) == ref.search(theirs).group(0)


def test_a_colleagues_link_shows_only_her_own_history(client, past):
    token = token_for(past["hanne"])
    html = client.get(f"/m/{token}/history").get_data(as_text=True)
    assert "Afwezig" not in html and "Verontschuldigd" not in html
    assert "Sofie" not in html
    pdf = client.get(f"/m/{token}/certificate?period={past['label']}&format=pdf")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Hanne De Smet" in text and "Sofie" not in text
    assert "2,5 uur" in text
