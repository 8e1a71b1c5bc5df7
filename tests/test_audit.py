"""The audit trail: who changed what and when; shown on the facility page; undoable."""

from __future__ import annotations

from sqlalchemy import select

from learnnet.audit.models import AuditEvent
from learnnet.extensions import db
from tests import factories
from tests.conftest import login
from tests.rsvp_helpers import token_for


def events(entity: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id)
    if entity:
        query = query.where(AuditEvent.entity == entity)
    return list(db.session.scalars(query))


def test_changes_are_recorded_with_actor_old_and_new(logged_in, network, facilitator):
    facility = network.memberships[0].facility
    response = logged_in.post(
        f"/facilities/{facility.id}/edit",
        data={
            "name": facility.name,
            "postcode": facility.postcode,
            "city": facility.city,
            "street": "Nieuwe straat 9",
            "room_capacity": "14",
            "willing_to_host": "1",
        },
    )
    assert response.status_code == 302
    [event] = [e for e in events("facility") if e.action == "update"]
    assert event.user_id == facilitator.id and event.actor_name == facilitator.name
    assert event.changes["street"] == ["Kerkstraat 1", "Nieuwe straat 9"]
    assert event.changes["room_capacity"] == [12, 14]
    assert "password_hash" not in str(events())


def test_a_contacts_change_through_the_personal_link_names_the_contact(app, network):
    facility = network.memberships[0].facility
    sofie = next(c for c in facility.contacts if c.name == "Sofie Claes")
    client = app.test_client()
    client.post(
        f"/m/{token_for(sofie)}/colleagues",
        data={"colleague-name": "Sara Wuyts", "colleague-email": "sara@example.org"},
    )
    created = [e for e in events("contact") if e.action == "create"]
    assert created[-1].contact_id == sofie.id and created[-1].actor_name == "Sofie Claes"
    assert created[-1].changes["name"] == [None, "Sara Wuyts"]


def test_another_networks_facilitator_sees_and_undoes_a_change(app, logged_in, network):
    facility = network.memberships[0].facility
    contact = facility.contacts[0]
    original = contact.email
    logged_in.post(
        f"/contacts/{contact.id}/edit",
        data={
            "name": contact.name,
            "email": "verkeerd@example.org",
            "preferred_language": "nl",
            "active": "y",
        },
    )
    shared = factories.user(email="shared@example.org", name="Gedeelde Begeleider")
    theirs = factories.network(facilitators=[shared])
    factories.member(theirs, facility)
    db.session.commit()
    other = app.test_client()
    login(other, shared.email)
    page = other.get(f"/facilities/{facility.id}").get_data(as_text=True)
    history = page.split('id="history"')[1]
    assert "verkeerd@example.org" in history
    event = next(e for e in events("contact") if e.action == "update")
    assert other.post(f"/facilities/{facility.id}/history/{event.id}/undo").status_code == 303
    db.session.refresh(contact)
    assert contact.email == original
    again = other.post(f"/facilities/{facility.id}/history/{event.id}/undo")
    assert again.status_code == 303  # changed since (by the undo itself): refused, clearly
    db.session.refresh(contact)
    assert contact.email == original


def test_people_in_the_history_only_while_they_may_be_seen(app, logged_in, network):
    from datetime import date

    from learnnet.networks.models import Membership

    facility = network.memberships[0].facility
    contact = facility.contacts[0]
    logged_in.post(
        f"/contacts/{contact.id}/edit",
        data={
            "name": contact.name,
            "email": "nieuw@example.org",
            "preferred_language": "nl",
            "active": "y",
        },
    )
    shared = factories.user(email="shared@example.org")
    theirs = factories.network(facilitators=[shared])
    factories.member(theirs, facility, left_on=date(2026, 1, 1))
    db.session.commit()
    other = app.test_client()
    login(other, shared.email)
    page = other.get(f"/facilities/{facility.id}").get_data(as_text=True)
    assert "nieuw@example.org" not in page
    assert db.session.scalar(select(Membership).where(Membership.network_id == theirs.id))


def test_admins_see_the_whole_trail_and_others_do_not(app, admin, logged_in, network):
    assert logged_in.get("/admin/audit").status_code == 403
    boss = app.test_client()
    login(boss, admin.email)
    page = boss.get("/admin/audit?entity=membership").get_data(as_text=True)
    assert "membership" in page
