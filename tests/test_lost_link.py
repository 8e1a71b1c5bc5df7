"""'Ik ben mijn link kwijt' (issue 21.5): the personal link mailed again; the same answer
whether or not the address belongs to a contact, looked up only after the answer has gone,
and rate-limited per address asked for and per client."""

from __future__ import annotations

from sqlalchemy import event, select

from learnnet.extensions import db
from learnnet.mail.models import OutboxMessage
from learnnet.rsvp.contacts import contact_for_token
from tests import factories
from tests.conftest import QueryCounter


def outbox(kind: str = "link_again") -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)))


def test_the_page_asks_for_the_address(client):
    html = client.get("/m/lost").get_data(as_text=True)
    assert "Ik ben mijn link kwijt" in html
    assert 'type="email"' in html


def test_known_and_unknown_addresses_get_the_same_answer_and_statements(app, network):
    sofie = next(
        c for m in network.memberships for c in m.facility.contacts if c.name == "Sofie Claes"
    )
    answered: dict[str, tuple[int, str, list[str]]] = {}
    for email in ("nobody@example.org", "SOFIE@example.org"):
        counter = QueryCounter()
        event.listen(db.engine, "before_cursor_execute", counter)
        try:
            response = app.test_client().post("/m/lost", data={"email": email})
            statements = list(counter.statements)  # up to the answer
        finally:
            event.remove(db.engine, "before_cursor_execute", counter)
        assert outbox() == []  # nothing looked up or written while the answer goes out
        text = response.get_data(as_text=True).replace(email, "ADDRESS")
        answered[email] = (response.status_code, text, statements)
        response.close()  # the server closes the response once it is sent
    assert answered["SOFIE@example.org"] == answered["nobody@example.org"]
    assert answered["nobody@example.org"][0] == 200
    [message] = outbox()
    assert message.recipient == sofie.email
    assert message.status == "sent"
    # The mail holds a working personal link of hers.
    token = message.text_body.split("/m/")[1].split()[0]
    assert contact_for_token(token).id == sofie.id


def test_an_inactive_contact_gets_nothing(app, network):
    sofie = next(
        c for m in network.memberships for c in m.facility.contacts if c.name == "Sofie Claes"
    )
    sofie.active = False
    db.session.commit()
    app.test_client().post("/m/lost", data={"email": sofie.email}).close()
    assert outbox() == []


def test_a_bad_address_is_named_next_to_the_field_and_kept(client):
    response = client.post("/m/lost", data={"email": "sofie-at-example"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="email-error"' in html and "sofie-at-example" in html


def test_limited_per_address_asked_for(app_factory):
    app = app_factory(LINK_AGAIN_LIMIT_PER_EMAIL="2 per hour")
    with app.app_context():
        fac = factories.facility()
        factories.contact(fac, email="x@example.org")
        db.session.commit()
        for _ in range(2):
            app.test_client().post("/m/lost", data={"email": "x@example.org"}).close()
        blocked = app.test_client().post("/m/lost", data={"email": " X@example.org"})
        assert blocked.status_code == 429
        assert len(outbox()) == 2
        other = app.test_client().post("/m/lost", data={"email": "y@example.org"})
        assert other.status_code == 200


def test_limited_per_client(app_factory):
    app = app_factory(LINK_AGAIN_LIMIT_PER_ADDRESS="3 per hour")
    with app.app_context():
        for n in range(3):
            response = app.test_client().post("/m/lost", data={"email": f"guess{n}@example.org"})
            assert response.status_code == 200
        blocked = app.test_client().post("/m/lost", data={"email": "guess9@example.org"})
        assert blocked.status_code == 429


def test_an_unknown_link_points_to_the_lost_link_page(client):
    html = client.get("/m/" + "x" * 32).get_data(as_text=True)
    assert 'href="/m/lost"' in html
