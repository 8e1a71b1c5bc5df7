"""The host's answer through its personal link (issue 21.2): "no, we cannot" flags the
session with the planner's proposal and tells the facilitator; the host fills in what it
shows and the practical information, which the session's history records."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from learnnet.audit.models import AuditEvent
from learnnet.extensions import db
from learnnet.mail.models import OutboxMessage
from learnnet.planning import planning, rotation
from learnnet.sessions.models import CONFIRMED
from tests import factories
from tests.conftest import login
from tests.rsvp_helpers import token_for


@pytest.fixture
def hosted(network):
    """Zonnebloem hosts a session; Ukkepuk could host instead."""
    zonnebloem, ukkepuk = (m.facility for m in network.memberships)
    factories.contact(ukkepuk, name="Jan Peeters", email="jan@example.org")
    session = factories.session(network, zonnebloem, days_ahead=25)
    db.session.commit()
    sofie = next(c for c in zonnebloem.contacts if c.name == "Sofie Claes")
    return {"network": network, "session": session, "sofie": sofie, "ukkepuk": ukkepuk}


def decline(client, token, session_id, reason=""):
    return client.post(
        f"/m/{token}/sessions/{session_id}/host/decline",
        data={f"decline-{session_id}-reason": reason},
    )


def test_the_host_page_shows_what_is_asked_and_both_answers(client, hosted):
    html = client.get(f"/m/{token_for(hosted['sofie'])}").get_data(as_text=True)
    assert "Ruimte voor 12 personen" in html
    assert "Ja, wij ontvangen deze bijeenkomst" in html
    assert "Nee, het lukt niet" in html
    assert "Wat we tonen, parkeren en ingang" in html


def test_a_no_flags_the_session_and_mails_the_facilitator(app, client, hosted, facilitator):
    session = hosted["session"]
    session.status = CONFIRMED
    db.session.commit()
    response = decline(client, token_for(hosted["sofie"]), session.id, "Onze zaal wordt verbouwd")
    assert response.status_code == 303
    db.session.refresh(session)
    assert session.host_declined_at is not None
    assert session.host_declined_reason == "Onze zaal wordt verbouwd"
    assert session.status != CONFIRMED
    flags = planning.conflicts(hosted["network"])
    assert [f.codes for f in flags if f.session.id == session.id] == [(rotation.CONFLICT_DECLINED,)]
    mails = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "host_declined")
    ).all()
    assert [m.recipient for m in mails] == [facilitator.email]
    assert "Onze zaal wordt verbouwd" in mails[0].text_body
    assert "Sofie Claes" in mails[0].text_body
    assert f"/sessions/{session.id}#flag" in mails[0].text_body
    page = client.get(f"/m/{token_for(hosted['sofie'])}").get_data(as_text=True)
    assert "Je liet weten dat jullie deze bijeenkomst niet kunnen ontvangen." in page
    assert "We kunnen toch ontvangen" in page


def test_the_facilitator_replaces_the_host_in_one_click(client, hosted, facilitator):
    session = hosted["session"]
    decline(client, token_for(hosted["sofie"]), session.id, "Zaal bezet")
    login(client, facilitator.email)
    dashboard = client.get("/").get_data(as_text=True)
    assert "de gastvoorziening liet weten dat ze niet kan ontvangen" in dashboard
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert 'id="flag"' in page
    assert "Zaal bezet" in page
    assert "Kinderopvang Ukkepuk als gastvoorziening kiezen" in page
    moved = client.post(
        f"/sessions/{session.id}/rehost",
        data={"current_host_id": session.host_facility_id, "host_id": hosted["ukkepuk"].id},
    )
    assert moved.status_code == 302
    db.session.refresh(session)
    assert session.host_facility_id == hosted["ukkepuk"].id
    assert session.host_declined_at is None and session.host_declined_reason == ""
    assert planning.conflicts(hosted["network"]) == []


def test_yes_after_a_no_lifts_the_flag(client, hosted):
    token = token_for(hosted["sofie"])
    session = hosted["session"]
    decline(client, token, session.id)
    client.post(f"/m/{token}/sessions/{session.id}/host")
    db.session.refresh(session)
    assert session.status == CONFIRMED and session.host_declined_at is None
    assert planning.conflicts(hosted["network"]) == []


def test_a_too_long_reason_is_refused_next_to_the_field_and_kept(client, hosted):
    session = hosted["session"]
    typed = "x" * 501
    response = decline(client, token_for(hosted["sofie"]), session.id, typed)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'id="decline-{session.id}-reason-error"' in html
    assert typed in html
    db.session.refresh(session)
    assert session.host_declined_at is None
    assert db.session.scalar(select(OutboxMessage.id)) is None


def test_only_the_host_may_answer_for_the_host(client, hosted):
    jan = next(c for c in hosted["ukkepuk"].contacts)
    session = hosted["session"]
    token = token_for(jan)
    assert decline(client, token, session.id, "nee").status_code == 404
    assert client.post(f"/m/{token}/sessions/{session.id}/host/details").status_code == 404
    db.session.refresh(session)
    assert session.host_declined_at is None


def test_the_host_fills_in_details_and_the_history_shows_who(client, hosted, facilitator):
    session = hosted["session"]
    response = client.post(
        f"/m/{token_for(hosted['sofie'])}/sessions/{session.id}/host/details",
        data={
            f"host-{session.id}-host_showcase": "Onze nieuwe buitenspeelruimte",
            f"host-{session.id}-practical_info": "Parkeren achteraan, bel bij de groene deur",
        },
    )
    assert response.status_code == 303
    db.session.refresh(session)
    assert session.host_showcase == "Onze nieuwe buitenspeelruimte"
    assert session.practical_info == "Parkeren achteraan, bel bij de groene deur"
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity == "session", AuditEvent.action == "update")
    ).all()[-1]
    assert event.contact_id == hosted["sofie"].id
    assert event.actor_name == "Sofie Claes"
    login(client, facilitator.email)
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert "Wijzigingen aan deze bijeenkomst" in page
    assert "Onze nieuwe buitenspeelruimte" in page
