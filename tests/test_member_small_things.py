"""The small things of issue 21.4 and 21.7: the check-in list's name filter and "mark the
rest absent", a note saved without tapping the answer again, "Held" only after the end,
no disabled "send to 0" main button, and the flash after raising capacity naming who
moved up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from learnnet.attendance.models import Attendance
from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.sessions.models import HELD, PLANNED
from tests import factories
from tests.rsvp_helpers import answer, token_for


@pytest.fixture
def started(network):
    zonnebloem, ukkepuk = (m.facility for m in network.memberships)
    jan = factories.contact(ukkepuk, name="Jan Peeters", email="jan@example.org")
    start = utcnow() - timedelta(minutes=30)
    session = factories.session(
        network, ukkepuk, starts_at=start, ends_at=start + timedelta(hours=2)
    )
    for n in range(6):
        factories.contact(ukkepuk, name=f"Collega {n}", email=f"c{n}@example.org")
    db.session.commit()
    sofie = next(c for c in zonnebloem.contacts if c.name == "Sofie Claes")
    return {"session": session, "sofie": sofie, "jan": jan}


def statuses(session):
    db.session.expire_all()
    return {
        a.person_name: a.status
        for a in db.session.scalars(select(Attendance).where(Attendance.session_id == session.id))
    }


def test_mark_the_rest_absent_after_check_in(logged_in, started):
    session = started["session"]
    logged_in.post(
        f"/sessions/{session.id}/checkin",
        data={"person": f"c{started['sofie'].id}", "status": "present"},
    )
    page = logged_in.get(f"/sessions/{session.id}/checkin").get_data(as_text=True)
    assert "Markeer de 8 niet genoteerde personen als afwezig" in page
    response = logged_in.post(f"/sessions/{session.id}/checkin/rest-absent")
    assert response.status_code == 303
    found = statuses(session)
    assert found["Sofie Claes"] == "present"
    assert found["Jan Peeters"] == "absent"
    assert len(found) == 9 and list(found.values()).count("absent") == 8


def test_nobody_is_absent_before_the_start(logged_in, network):
    _zonnebloem, ukkepuk = (m.facility for m in network.memberships)
    start = utcnow() + timedelta(minutes=30)
    session = factories.session(
        network, ukkepuk, starts_at=start, ends_at=start + timedelta(hours=2)
    )
    db.session.commit()
    logged_in.post(f"/sessions/{session.id}/checkin/rest-absent")
    assert statuses(session) == {}


def test_the_check_in_list_filters_by_name(logged_in, started):
    session = started["session"]
    html = logged_in.get(f"/sessions/{session.id}/checkin?q=jan").get_data(as_text=True)
    assert 'id="checkin-q"' in html
    assert "Jan Peeters" in html and "Collega 1" not in html
    assert 'id="checkin-count" data-live-count' in html  # the counter JS replaces after a tap


def test_a_note_is_saved_with_its_own_button(client, started, network):
    later = factories.session(network, started["session"].host, days_ahead=12)
    db.session.commit()
    token = token_for(started["sofie"])
    answer(client, token, later.id, "maybe")
    html = client.get(f"/m/{token}").get_data(as_text=True)
    assert f'form="answer-{later.id}" name="answer" value="maybe"' in html
    assert "Notitie bewaren" in html or "Opmerking bewaren" in html


def test_held_is_shown_only_after_the_end(started):
    session = started["session"]
    session.status = HELD  # attendance recorded during check-in
    now = utcnow()
    assert session.display_status(now - timedelta(hours=1)) == PLANNED
    assert session.display_status(session.ends_at + timedelta(minutes=1)) == HELD


def test_no_disabled_main_button_when_everyone_is_invited(logged_in, network):
    _zonnebloem, ukkepuk = (m.facility for m in network.memberships)
    session = factories.session(network, ukkepuk, days_ahead=20)
    db.session.commit()
    logged_in.post(f"/sessions/{session.id}/invitations")
    html = logged_in.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert "disabled" not in html.split('id="answers"')[1].split("</section>")[0]
    assert "Iedereen met een e-mailadres is al uitgenodigd." in html


def test_raising_the_capacity_names_who_moved_up(logged_in, client, network):
    zonnebloem, ukkepuk = (m.facility for m in network.memberships)
    session = factories.session(network, ukkepuk, days_ahead=20)
    session.capacity = 1
    jan = factories.contact(ukkepuk, name="Jan Peeters", email="jan@example.org")
    db.session.commit()
    sofie = next(c for c in zonnebloem.contacts if c.name == "Sofie Claes")
    answer(client, token_for(jan), session.id, "yes")
    answer(client, token_for(sofie), session.id, "yes")
    response = logged_in.post(
        f"/sessions/{session.id}/edit",
        data={"title": session.title, "capacity": "2"},
        follow_redirects=True,
    )
    assert "Sofie Claes schuift op van de wachtlijst" in response.get_data(as_text=True)
