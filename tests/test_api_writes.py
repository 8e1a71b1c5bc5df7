"""The API's writes (issue 26, part 2): facilities, contacts, memberships and answers
through the rooms' own services; scope, networks, people, audit trail, problem documents,
rate limits and the webhook events a form's change gives."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from learnnet.api.models import READ_WRITE, WebhookDelivery, WebhookEndpoint
from learnnet.audit.models import AuditEvent
from learnnet.extensions import db
from learnnet.networks.models import Contact, Facility, Membership
from learnnet.rsvp.models import Rsvp, RsvpChange
from learnnet.timefmt import local_today
from tests import factories
from tests.api_helpers import bearer, make_token
from tests.conftest import login

NEW_FACILITY = {"name": "Kinderdagverblijf Het Nestje", "postcode": "9050", "city": "Gentbrugge"}


def _writer(user, networks, people=True):
    token, secret = make_token(user, networks, people=people, scope=READ_WRITE)
    return token, bearer(secret)


def _problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    return body


def test_a_facility_made_through_the_api_joins_the_network_and_is_audited(
    app, network, facilitator
):
    token, headers = _writer(facilitator, [network])
    client = app.test_client()
    response = client.post(
        "/api/v1/facilities",
        json=NEW_FACILITY
        | {"network_id": network.id, "website": "www.nestje.be", "email": "Info@Nestje.be"},
        headers=headers,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["website"] == "https://www.nestje.be"  # completed, as the form does
    assert body["email"] == "info@nestje.be"  # stored as the CSV import stores it
    facility = db.session.get(Facility, body["id"])
    assert [m.network_id for m in facility.memberships] == [network.id]
    events = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.facility_id == facility.id)
    ).all()
    assert {e.entity for e in events} >= {"facility", "membership"}
    assert {e.actor_name for e in events} == {f"{token.name} (API)"}
    assert {e.user_id for e in events} == {facilitator.id}
    # The same name and postcode again: a conflict, in Dutch by default.
    again = client.post(
        "/api/v1/facilities", json=NEW_FACILITY | {"network_id": network.id}, headers=headers
    )
    body = _problem(again, 409)
    assert "bestaat al" in body["errors"]["name"][0]


def test_bad_values_get_a_message_per_field_in_the_owners_language(app, network, facilitator):
    _, headers = _writer(facilitator, [network])
    client = app.test_client()
    bad = {
        "network_id": network.id,
        "name": "Twee\nregels",
        "postcode": "0999",
        "city": "Gent",
        "email": "geen-adres",
        "website": "javascript:alert(1)",
        "room_capacity": 0,
        "street": "x" * 161,
    }
    body = _problem(client.post("/api/v1/facilities", json=bad, headers=headers), 422)
    assert set(body["errors"]) == {
        "name",
        "postcode",
        "email",
        "website",
        "room_capacity",
        "street",
    }
    assert "postcode" in body["errors"]["postcode"][0].lower()
    assert "161" in body["errors"]["street"][0]
    facilitator.locale = "en"
    db.session.commit()
    body = _problem(client.post("/api/v1/facilities", json=bad, headers=headers), 422)
    assert body["errors"]["postcode"] == ["Enter a Belgian postcode of four digits, e.g. 9000."]
    assert db.session.scalar(db.select(db.func.count(Facility.id))) == 2  # nothing stored
    # Types and unknown fields: marshmallow's messages, per field, also translated.
    body = _problem(
        client.post(
            "/api/v1/facilities",
            json=NEW_FACILITY | {"network_id": network.id, "room_capacity": "12", "colour": 1},
            headers=headers,
        ),
        422,
    )
    assert set(body["errors"]) == {"room_capacity", "colour"}
    body = _problem(
        client.post("/api/v1/contacts", json={"facility_id": 1, "name": "A\x00b"}, headers=headers),
        422,
    )


def test_contacts_are_created_and_changed_through_the_form_rules(app, network, facilitator):
    _, headers = _writer(facilitator, [network])
    client = app.test_client()
    facility = network.memberships[0].facility
    response = client.post(
        "/api/v1/contacts",
        json={"facility_id": facility.id, "name": "Lies Maes", "email": "Lies@Example.org"},
        headers=headers,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    created = response.get_json()
    assert created["email"] == "lies@example.org" and created["active"] is True
    duplicate = client.post(
        "/api/v1/contacts",
        json={"facility_id": facility.id, "name": "Lies M.", "email": "lies@example.org"},
        headers=headers,
    )
    assert "email" in _problem(duplicate, 409)["errors"]
    changed = client.patch(
        f"/api/v1/contacts/{created['id']}", json={"function": "directeur"}, headers=headers
    )
    assert changed.status_code == 200
    assert changed.get_json()["function"] == "directeur"
    assert changed.get_json()["name"] == "Lies Maes"  # the fields not sent stay
    emptied = client.patch(f"/api/v1/contacts/{created['id']}", json={"name": ""}, headers=headers)
    assert _problem(emptied, 422)["errors"]["name"] == ["Vul de naam van de persoon in."]


def test_a_read_token_cannot_write_and_a_token_writes_only_its_networks(app, network, facilitator):
    """Part of the role × route walk for writes (the walk itself: test_routes_access)."""
    client = app.test_client()
    _, read = make_token(facilitator, [network], people=True)
    body = _problem(
        client.post(
            "/api/v1/facilities",
            json=NEW_FACILITY | {"network_id": network.id},
            headers=bearer(read),
        ),
        403,
    )
    assert "lezen" in body["detail"]
    other_owner = factories.user(email="o@example.org")
    elsewhere = factories.network(facilitators=[other_owner], name="Elders")
    db.session.commit()
    _, theirs = _writer(other_owner, [elsewhere])
    facility = network.memberships[0].facility
    contact = facility.contacts[0]
    assert (
        "network_id"
        in _problem(
            client.post(
                "/api/v1/facilities", json=NEW_FACILITY | {"network_id": network.id}, headers=theirs
            ),
            422,
        )["errors"]
    )
    _problem(client.patch(f"/api/v1/facilities/{facility.id}", json={}, headers=theirs), 404)
    _problem(client.patch(f"/api/v1/contacts/{contact.id}", json={}, headers=theirs), 404)
    membership = network.memberships[0]
    _problem(
        client.patch(
            f"/api/v1/memberships/{membership.id}", json={"left_on": "2027-01-01"}, headers=theirs
        ),
        404,
    )
    # Without "may see people": no contact, no answer written.
    _, no_people = _writer(facilitator, [network], people=False)
    body = _problem(
        client.post(
            "/api/v1/contacts", json={"facility_id": facility.id, "name": "X"}, headers=no_people
        ),
        403,
    )
    assert "wijzigt ze" in body["detail"]
    assert db.session.scalar(db.select(db.func.count(Contact.id))) == 2


def test_memberships_start_and_end_and_give_the_forms_webhook_events(app, network, facilitator):
    """Part 6: a write through the API queues the same events as the form (they come from
    the rooms' signals)."""
    db.session.add(
        WebhookEndpoint(
            url="https://crm.example.org/hook",
            secret="whsec_AA==",
            events=["membership.started", "membership.ended", "answer.changed"],
        )
    )
    db.session.commit()
    _, headers = _writer(facilitator, [network])
    client = app.test_client()
    created = client.post(
        "/api/v1/facilities", json=NEW_FACILITY | {"network_id": network.id}, headers=headers
    ).get_json()
    membership = db.session.scalar(
        db.select(Membership).where(Membership.facility_id == created["id"])
    )
    today = local_today()
    ended = client.patch(
        f"/api/v1/memberships/{membership.id}",
        json={"left_on": today.isoformat()},
        headers=headers,
    )
    assert ended.status_code == 200 and ended.get_json()["left_on"] == today.isoformat()
    again = client.patch(
        f"/api/v1/memberships/{membership.id}", json={"left_on": today.isoformat()}, headers=headers
    )
    _problem(again, 409)
    back = client.post(
        "/api/v1/memberships",
        json={"network_id": network.id, "facility_id": created["id"]},
        headers=headers,
    )
    assert back.status_code == 201, back.get_data(as_text=True)
    twice = client.post(
        "/api/v1/memberships",
        json={"network_id": network.id, "facility_id": created["id"]},
        headers=headers,
    )
    assert "facility_id" in _problem(twice, 409)["errors"]
    # An answer on someone's behalf.
    host = network.memberships[0].facility
    session = factories.session(network, host)
    contact = host.contacts[0]
    db.session.commit()
    answered = client.post(
        "/api/v1/answers",
        json={"session_id": session.id, "contact_id": contact.id, "answer": "yes"},
        headers=headers,
    )
    assert answered.status_code == 200, answered.get_data(as_text=True)
    assert answered.get_json()["answer"] == "yes"
    events = [
        (d.event, json.loads(d.body)["data"])
        for d in db.session.scalars(db.select(WebhookDelivery).order_by(WebhookDelivery.id))
    ]
    assert [e for e, _ in events] == [
        "membership.started",
        "membership.ended",
        "membership.started",
        "answer.changed",
    ]
    assert events[1][1]["left_on"] == today.isoformat()
    assert events[3][1]["by"] == "facilitator"  # as the form on the session page says
    rsvp = db.session.scalar(db.select(Rsvp).where(Rsvp.contact_id == contact.id))
    change = db.session.scalar(db.select(RsvpChange).where(RsvpChange.rsvp_id == rsvp.id))
    assert change.by_user_id == facilitator.id  # the answer's own history: on behalf


def test_the_same_webhook_events_as_the_forms(app, network, facilitator):
    """The form and the API, the same change each: the same event types, the same data
    apart from the ids."""
    db.session.add(
        WebhookEndpoint(
            url="https://crm.example.org/hook",
            secret="whsec_AA==",
            events=["membership.started", "membership.ended", "answer.changed"],
        )
    )
    host = network.memberships[0].facility
    session = factories.session(network, host)
    db.session.commit()
    day = local_today().isoformat()

    def events() -> list[tuple[str, dict]]:
        rows = db.session.scalars(db.select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
        found = [(d.event, json.loads(d.body)["data"]) for d in rows]
        db.session.execute(db.delete(WebhookDelivery))
        db.session.commit()
        return [
            (event, {k: v for k, v in data.items() if not k.endswith("_id")})
            for event, data in found
        ]

    form = app.test_client()
    login(form, facilitator.email)
    base = {"postcode": "9000", "city": "Gent", "willing_to_host": "1", "joined_on": day}
    form.post(f"/networks/{network.slug}/members/new", data=base | {"name": "Via formulier"})
    by_form = events()
    _, headers = _writer(facilitator, [network])
    api = app.test_client()
    made = api.post(
        "/api/v1/facilities",
        json={"name": "Via API", "postcode": "9000", "city": "Gent", "network_id": network.id},
        headers=headers,
    ).get_json()
    assert events() == by_form == [("membership.started", by_form[0][1])]

    via_form = db.session.scalar(
        db.select(Membership).join(Facility).where(Facility.name == "Via formulier")
    )
    form.post(f"/networks/{network.slug}/members/{via_form.id}/leave", data={"left_on": day})
    by_form = events()
    via_api = db.session.scalar(db.select(Membership).where(Membership.facility_id == made["id"]))
    api.patch(f"/api/v1/memberships/{via_api.id}", json={"left_on": day}, headers=headers)
    assert events() == by_form and by_form[0][0] == "membership.ended"

    contact = host.contacts[0]
    form.post(
        f"/sessions/{session.id}/answers",
        data={"contact": str(contact.id), "answer": "maybe", "note": ""},
    )
    by_form = events()
    api.post(
        "/api/v1/answers",
        json={"session_id": session.id, "contact_id": contact.id, "answer": "no"},
        headers=headers,
    )
    by_api = events()
    assert [e for e, _ in by_api] == [e for e, _ in by_form] == ["answer.changed"]
    assert by_api[0][1] | {"answer": "maybe"} == by_form[0][1]


def test_answers_are_closed_for_a_cancelled_session(app, network, facilitator):
    _, headers = _writer(facilitator, [network])
    host = network.memberships[0].facility
    session = factories.session(network, host, status="cancelled")
    db.session.commit()
    response = app.test_client().post(
        "/api/v1/answers",
        json={"session_id": session.id, "contact_id": host.contacts[0].id, "answer": "yes"},
        headers=headers,
    )
    assert "session_id" in _problem(response, 409)["errors"]


def test_rate_limit_per_token_counts_writes_too(app_factory):
    app = app_factory(API_RATE_LIMIT="3 per minute")
    with app.app_context():
        owner = factories.user(email="rl@example.org")
        net = factories.network(facilitators=[owner], name="Snel")
        fac = factories.facility(name="Opvang Snel", postcode="9000", city="Gent")
        factories.member(net, fac)
        db.session.commit()
        _, headers = _writer(owner, [net])
        _, other = _writer(owner, [net])
        client = app.test_client()
        codes = [
            client.patch(
                f"/api/v1/facilities/{fac.id}", json={"phone": f"09 {n}"}, headers=headers
            ).status_code
            for n in range(4)
        ]
        assert codes == [200, 200, 200, 429]
        # Another token has its own count.
        assert (
            client.patch(f"/api/v1/facilities/{fac.id}", json={}, headers=other).status_code == 200
        )


@pytest.mark.parametrize("days", [-1])
def test_an_expired_writer_gets_401(app, network, facilitator, days):
    from learnnet.api.models import ApiToken
    from learnnet.models import utcnow

    token, headers = _writer(facilitator, [network])
    token = db.session.get(ApiToken, token.id)
    token.expires_at = utcnow() + timedelta(days=days)
    db.session.commit()
    response = app.test_client().post(
        "/api/v1/facilities", json=NEW_FACILITY | {"network_id": network.id}, headers=headers
    )
    _problem(response, 401)
