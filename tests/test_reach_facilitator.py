"""Who to reach (issue 21.1): the facilitators on the member's page and in every session
mail, their phone only when they chose so, and a member's message that reaches them by
mail (Reply-To the member) and on the session page."""

from __future__ import annotations

from email import message_from_bytes
from pathlib import Path

import pytest
from sqlalchemy import select

from learnnet.extensions import db
from learnnet.mail.models import OutboxMessage
from learnnet.mail.services import deliver_due
from learnnet.rsvp import notify
from learnnet.rsvp.models import MemberMessage
from tests import factories
from tests.conftest import login
from tests.rsvp_helpers import token_for


@pytest.fixture
def world(network, facilitator):
    zonnebloem, ukkepuk = (m.facility for m in network.memberships)
    session = factories.session(network, ukkepuk, days_ahead=20)
    facilitator.phone = "0470 12 34 56"
    db.session.commit()
    sofie = next(c for c in zonnebloem.contacts if c.name == "Sofie Claes")
    return {"network": network, "session": session, "sofie": sofie}


def test_the_member_page_names_the_facilitator_and_shows_the_phone_only_when_chosen(
    client, world, facilitator
):
    token = token_for(world["sofie"])
    html = client.get(f"/m/{token}").get_data(as_text=True)
    assert "An Peeters" in html
    assert 'href="mailto:an@example.org"' in html
    assert "0470 12 34 56" not in html
    facilitator.show_phone = True
    db.session.commit()
    html = client.get(f"/m/{token}").get_data(as_text=True)
    assert 'href="tel:0470123456"' in html


def test_the_account_page_sets_the_phone_and_whether_members_see_it(client, world, facilitator):
    login(client, facilitator.email)
    response = client.post(
        "/account",
        data={
            "profile-name": "An Peeters",
            "profile-locale": "",
            "profile-phone": "09 123 45 67",
            "profile-show_phone": "y",
            "profile-submit": "1",
        },
    )
    assert response.status_code == 302
    db.session.refresh(facilitator)
    assert (facilitator.phone, facilitator.show_phone) == ("09 123 45 67", True)


def test_every_session_mail_names_the_facilitator(app, world, facilitator):
    facilitator.show_phone = True
    with app.test_request_context():
        notify.invitation(world["session"], world["sofie"])
        db.session.commit()
    message = db.session.scalar(select(OutboxMessage))
    for body in (message.text_body, message.html_body):
        assert "An Peeters" in body
        assert "an@example.org" in body
        assert "0470 12 34 56" in body


def test_a_members_message_reaches_the_facilitator_with_reply_to_the_member(
    app, client, world, facilitator
):
    session = world["session"]
    token = token_for(world["sofie"])
    response = client.post(
        f"/m/{token}/messages",
        data={"message-session": str(session.id), "message-body": "Ik kom een half uur later"},
    )
    assert response.status_code == 303
    stored = db.session.scalar(select(MemberMessage))
    assert (stored.contact_id, stored.session_id) == (world["sofie"].id, session.id)
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "member_message"))
    assert mail.recipient == facilitator.email
    assert mail.reply_to == "sofie@example.org"
    assert "Ik kom een half uur later" in mail.text_body
    deliver_due()
    sent = sorted((Path(app.instance_path) / "outbox").glob("*.eml"))
    parsed = message_from_bytes(sent[-1].read_bytes())
    assert parsed["Reply-To"] == "sofie@example.org"
    login(client, facilitator.email)
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert 'id="messages"' in page and "Ik kom een half uur later" in page


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"message-body": ""}, "Schrijf een bericht."),
        ({"message-body": "x" * 1001}, "Maximaal 1000 tekens."),
        ({"message-body": "hallo", "message-session": "999"}, "Kies een van je bijeenkomsten."),
    ],
)
def test_a_bad_message_is_refused_next_to_the_field_and_kept(client, world, fields, error):
    token = token_for(world["sofie"])
    data = {"message-session": str(world["session"].id), **fields}
    response = client.post(f"/m/{token}/messages", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert error in html
    assert data["message-body"] in html
    assert db.session.scalar(select(MemberMessage.id)) is None
    assert db.session.scalar(select(OutboxMessage.id)) is None


def test_a_message_about_another_networks_session_is_refused(client, world):
    elsewhere = factories.network(name="Elders")
    host = factories.facility(name="Elders KDV")
    factories.member(elsewhere, host)
    foreign = factories.session(elsewhere, host)
    db.session.commit()
    response = client.post(
        f"/m/{token_for(world['sofie'])}/messages",
        data={"message-session": str(foreign.id), "message-body": "hallo"},
    )
    assert response.status_code == 400
    assert db.session.scalar(select(MemberMessage.id)) is None
