"""One person once (issue 21.6): adding a colleague who is listed already asks "Is this
Emma Wouters?" and uses that contact; the facilitator merges two listings of one person,
answers, attendance and history kept, the trail says so."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from learnnet.attendance.models import Attendance
from learnnet.audit.models import AuditEvent
from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.networks.models import Contact
from learnnet.rsvp.models import Rsvp, RsvpChange
from tests import factories
from tests.conftest import login
from tests.rsvp_helpers import answer, token_for


@pytest.fixture
def place(network):
    zonnebloem, ukkepuk = (m.facility for m in network.memberships)
    sofie = next(c for c in zonnebloem.contacts if c.name == "Sofie Claes")
    emma = factories.contact(zonnebloem, name="Emma Wouters", email="emma@example.org")
    session = factories.session(network, ukkepuk, days_ahead=20)
    db.session.commit()
    return {"facility": zonnebloem, "sofie": sofie, "emma": emma, "session": session}


def count_named(facility, name_part):
    return db.session.scalar(
        select(func.count(Contact.id)).where(
            Contact.facility_id == facility.id, Contact.name.ilike(f"%{name_part}%")
        )
    )


def add(client, token, name, email="", decision=None):
    data = {"colleague-name": name, "colleague-email": email}
    if decision:
        data["colleague-decision"] = decision
    return client.post(f"/m/{token}/colleagues", data=data)


@pytest.mark.parametrize(
    ("name", "email"),
    [("emma wouters", ""), ("Émma  Wóuters", ""), ("E. Wouters", "EMMA@example.org")],
    ids=["case", "accents-and-spaces", "same-email"],
)
def test_adding_someone_listed_already_asks_first(client, place, name, email):
    token = token_for(place["sofie"])
    response = add(client, token, name, email)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Is dit Emma Wouters?" in html
    assert count_named(place["facility"], "Wouters") == 1
    # "Yes, that is Emma": nobody new.
    used = add(client, token, name, email, decision="same")
    assert used.status_code == 303
    assert count_named(place["facility"], "Wouters") == 1


def test_same_email_cannot_be_someone_else(client, place):
    token = token_for(place["sofie"])
    html = add(client, token, "Eva Peeters", "emma@example.org").get_data(as_text=True)
    assert "Is dit Emma Wouters?" in html
    assert "Nee, iemand anders" not in html
    add(client, token, "Eva Peeters", "emma@example.org", decision="other")
    assert count_named(place["facility"], "Eva") == 0


def test_same_name_can_be_someone_else(client, place):
    token = token_for(place["sofie"])
    response = add(client, token, "Emma Wouters", "emma.w2@example.org", decision="other")
    assert response.status_code == 303
    assert count_named(place["facility"], "Wouters") == 2


def test_a_former_colleague_is_listed_again(client, place):
    place["emma"].active = False
    db.session.commit()
    add(client, token_for(place["sofie"]), "Emma Wouters", decision="same")
    db.session.refresh(place["emma"])
    assert place["emma"].active is True
    assert count_named(place["facility"], "Wouters") == 1


def test_merging_two_listings_keeps_answers_attendance_and_history(client, place, facilitator):
    twin = factories.contact(place["facility"], name="Emma Wouter", email=None, phone="0470")
    past = factories.session(
        place["session"].network,
        place["facility"],
        starts_at=utcnow() - timedelta(days=10),
        ends_at=utcnow() - timedelta(days=10) + timedelta(hours=2),
    )
    db.session.add(
        Attendance(
            session=past,
            contact=twin,
            facility_id=twin.facility_id,
            person_name=twin.name,
            status="present",
        )
    )
    db.session.commit()
    assert answer(client, token_for(twin), place["session"].id, "yes").status_code == 303
    login(client, facilitator.email)
    response = client.post(f"/contacts/{twin.id}/merge", data={"into": place["emma"].id})
    assert response.status_code == 303
    db.session.expire_all()
    emma = db.session.get(Contact, place["emma"].id)
    rsvp = db.session.scalar(select(Rsvp).where(Rsvp.session_id == place["session"].id))
    assert rsvp.contact_id == emma.id and rsvp.answer == "yes"
    assert db.session.scalar(select(func.count(RsvpChange.id))) == 1
    attended = db.session.scalar(select(Attendance).where(Attendance.session_id == past.id))
    assert attended.contact_id == emma.id
    assert emma.phone == "0470"
    twin = db.session.get(Contact, twin.id)
    assert twin.active is False
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "merge"))
    assert event.entity_id == twin.id
    assert event.changes == {"merged_into": ["Emma Wouter", "Emma Wouters"]}
    # The facility page lists one Emma.
    page = client.get(f"/facilities/{place['facility'].id}").get_data(as_text=True)
    assert "samengevoegd" in page


def test_merging_with_a_contact_of_another_facility_is_refused(client, place, facilitator):
    other = factories.contact(factories.facility(name="Elders"), name="Emma Wouters")
    db.session.commit()
    login(client, facilitator.email)
    client.post(f"/contacts/{place['emma'].id}/merge", data={"into": other.id})
    db.session.refresh(place["emma"])
    assert place["emma"].active is True
