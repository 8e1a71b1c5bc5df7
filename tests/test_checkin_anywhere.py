"""Check-in on any phone (issue 21.4): "Ik ben er" on the member's own page during the
check-in window, whatever browser opens the link; the shared QR page offers a way out
when the browser does not know the person."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from learnnet.attendance import services as attendance
from learnnet.attendance.models import Attendance
from learnnet.extensions import db
from learnnet.models import utcnow
from tests import factories
from tests.rsvp_helpers import token_for


@pytest.fixture
def soon(network):
    zonnebloem, ukkepuk = (m.facility for m in network.memberships)
    start = utcnow() + timedelta(minutes=30)
    session = factories.session(
        network, ukkepuk, starts_at=start, ends_at=start + timedelta(hours=2)
    )
    later = factories.session(network, ukkepuk, days_ahead=10)
    db.session.commit()
    sofie = next(c for c in zonnebloem.contacts if c.name == "Sofie Claes")
    return {"session": session, "later": later, "sofie": sofie}


def present(session, contact):
    db.session.expire_all()
    return db.session.scalar(
        select(Attendance.status).where(
            Attendance.session_id == session.id, Attendance.contact_id == contact.id
        )
    )


def test_im_here_on_the_members_page_checks_in_from_any_browser(app, soon):
    token = token_for(soon["sofie"])
    phone = app.test_client()  # a browser that never opened the link before: no cookie
    html = phone.get(f"/m/{token}").get_data(as_text=True)
    assert f'action="/m/{token}/sessions/{soon["session"].id}/here"' in html
    assert f'action="/m/{token}/sessions/{soon["later"].id}/here"' not in html
    other = app.test_client()
    response = other.post(f"/m/{token}/sessions/{soon['session'].id}/here")
    assert response.status_code == 303
    assert present(soon["session"], soon["sofie"]) == "present"
    html = other.get(f"/m/{token}").get_data(as_text=True)
    assert "Ingecheckt" in html
    assert f'/sessions/{soon["session"].id}/here"' not in html


def test_im_here_outside_the_window_records_nothing(client, soon):
    token = token_for(soon["sofie"])
    response = client.post(f"/m/{token}/sessions/{soon['later'].id}/here")
    assert response.status_code == 303
    assert present(soon["later"], soon["sofie"]) is None
    html = client.get(response.location).get_data(as_text=True)
    assert "nog niet begonnen" in html


def test_im_here_for_another_networks_session_records_nothing(client, soon):
    elsewhere = factories.network(name="Elders")
    host = factories.facility(name="Elders KDV")
    factories.member(elsewhere, host)
    start = utcnow() + timedelta(minutes=10)
    foreign = factories.session(
        elsewhere, host, starts_at=start, ends_at=start + timedelta(hours=2)
    )
    db.session.commit()
    client.post(f"/m/{token_for(soon['sofie'])}/sessions/{foreign.id}/here")
    assert present(foreign, soon["sofie"]) is None


def test_the_shared_qr_page_offers_a_way_out_to_an_unknown_browser(app, soon):
    code = attendance.self_checkin_code(soon["session"])
    db.session.commit()
    html = app.test_client().get(f"/checkin/{code}").get_data(as_text=True)
    assert 'href="/m/lost"' in html
    assert "An Peeters" in html  # the facilitator who can check you in
