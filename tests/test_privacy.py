"""What learnnet holds about a person: export (page, JSON) and erasure; pruning the outbox."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from learnnet.attendance.models import Attendance
from learnnet.extensions import db
from learnnet.mail.models import OutboxMessage
from learnnet.models import utcnow
from learnnet.rsvp.models import Rsvp
from tests import factories
from tests.conftest import login
from tests.rsvp_helpers import answer, token_for


@pytest.fixture
def sofie_world(app, network, admin, facilitator):
    zonnebloem, ukkepuk = (m.facility for m in network.memberships)
    sofie = next(c for c in zonnebloem.contacts if c.name == "Sofie Claes")
    session = factories.session(network, ukkepuk, days_ahead=10)
    session.capacity = 1
    db.session.commit()
    return {"sofie": sofie, "session": session, "network": network}


def admin_client(app, admin):
    client = app.test_client()
    login(client, admin.email)
    return client


def test_export_holds_everything_and_only_admins_see_it(app, admin, logged_in, sofie_world):
    sofie, session = sofie_world["sofie"], sofie_world["session"]
    client = app.test_client()
    answer(client, token_for(sofie), session.id, "yes", note="vegetarisch")
    logged_in.post(f"/sessions/{session.id}/invitations")
    assert logged_in.get(f"/admin/contacts/{sofie.id}/data").status_code == 403
    boss = admin_client(app, admin)
    page = boss.get(f"/admin/contacts/{sofie.id}/data").get_data(as_text=True)
    assert "sofie@example.org" in page and "vegetarisch" in page
    data = json.loads(boss.get(f"/admin/contacts/{sofie.id}/data.json").data)
    assert data["contact"]["email"] == "sofie@example.org"
    assert data["answers"][0]["note"] == "vegetarisch"
    assert data["messages"] and data["personal_links"]
    assert data["facility"]["memberships"][0]["network"] == sofie_world["network"].name


def test_erase_keeps_the_counts_and_frees_the_seat(app, admin, sofie_world):
    sofie, session = sofie_world["sofie"], sofie_world["session"]
    client = app.test_client()
    token = token_for(sofie)
    answer(client, token, session.id, "yes", note="vegetarisch")
    jan = factories.contact(session.host, name="Jan", email="jan@example.org")
    db.session.commit()
    answer(client, token_for(jan), session.id, "yes")  # waitlisted behind Sofie
    past = factories.session(sofie_world["network"], session.host, days_ahead=-20)
    db.session.add(
        Attendance(
            session=past,
            contact=sofie,
            facility_id=sofie.facility_id,
            person_name=sofie.name,
            facility_name=sofie.facility.name,
            status="present",
        )
    )
    db.session.commit()
    boss = admin_client(app, admin)
    refused = boss.post(f"/admin/contacts/{sofie.id}/erase")
    assert refused.status_code == 303
    db.session.refresh(sofie)
    assert sofie.name == "Sofie Claes"
    boss.post(f"/admin/contacts/{sofie.id}/erase", data={"confirm": "erase"})
    db.session.expire_all()
    sofie = db.session.get(type(sofie), sofie.id)
    assert (sofie.name, sofie.email, sofie.phone, sofie.active) == (
        "verwijderde contactpersoon",
        None,
        "",
        False,
    )
    assert client.get(f"/m/{token}").status_code == 404
    rsvp = db.session.scalar(select(Rsvp).where(Rsvp.contact_id == sofie.id))
    assert rsvp.note == "" and rsvp.answer == "withdrawn"
    jan_rsvp = db.session.scalar(select(Rsvp).where(Rsvp.contact_id == jan.id))
    assert not jan_rsvp.waitlisted  # the seat went to the waitlist
    kept = db.session.scalar(select(Attendance).where(Attendance.contact_id == sofie.id))
    assert kept.status == "present" and kept.person_name == "verwijderde contactpersoon"
    data = json.loads(boss.get(f"/admin/contacts/{sofie.id}/data.json").data)
    assert "Sofie" not in json.dumps(data) and "sofie@" not in json.dumps(data)


def test_prune_outbox_empties_old_sent_messages(app, logged_in, sofie_world):
    logged_in.post(f"/sessions/{sofie_world['session'].id}/invitations")
    messages = db.session.scalars(select(OutboxMessage)).all()
    assert messages and all(m.status == "sent" for m in messages)
    for m in messages:
        m.sent_at = utcnow() - timedelta(days=200)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["prune-outbox", "--days", "180"])
    assert f"{len(messages)} sent messages emptied" in result.output
    db.session.expire_all()
    assert all(m.text_body == "" for m in db.session.scalars(select(OutboxMessage)))


def test_erasure_also_scrubs_the_audit_trail(app, admin, sofie_world):
    from learnnet.audit.models import AuditEvent

    sofie = sofie_world["sofie"]
    client = app.test_client()
    client.post(
        f"/m/{token_for(sofie)}/colleagues",
        data={"colleague-name": "Sara Wuyts", "colleague-email": "sara@example.org"},
    )
    boss = admin_client(app, admin)
    boss.post(f"/admin/contacts/{sofie.id}/erase", data={"confirm": "erase"})
    db.session.expire_all()
    trail = " ".join(
        f"{e.actor_name} {e.changes}"
        for e in db.session.scalars(select(AuditEvent))
        if e.entity_id == sofie.id or e.contact_id == sofie.id
    )
    assert "Sofie" not in trail and "sofie@example.org" not in trail


def test_erasure_leaves_other_peoples_audit_records_alone(app, admin, sofie_world):
    """Issue 19, item 9: erasing contact N emptied the record of attendance row N.

    An attendance row of a colleague is given Sofie's id as its own id: her erasure must
    scrub her records, by their own keys, and leave the colleague's record whole.
    """
    from learnnet.audit.models import AuditEvent

    sofie, session = sofie_world["sofie"], sofie_world["session"]
    colleague = next(c for c in sofie.facility.contacts if c.id != sofie.id)
    db.session.add(
        Attendance(
            id=sofie.id,
            session=session,
            contact=colleague,
            facility_id=colleague.facility_id,
            person_name=colleague.name,
            facility_name=colleague.facility.name,
            status="present",
        )
    )
    db.session.commit()
    before = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.entity == "attendance", AuditEvent.entity_id == sofie.id
        )
    ).changes
    assert before  # the colleague's record says something
    client = app.test_client()
    answer(client, token_for(sofie), session.id, "yes", note="vegetarisch")
    boss = admin_client(app, admin)
    boss.post(f"/admin/contacts/{sofie.id}/erase", data={"confirm": "erase"})
    db.session.expire_all()
    kept = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.entity == "attendance", AuditEvent.entity_id == sofie.id
        )
    )
    assert kept.changes == before
    own_answers = select(Rsvp.id).where(Rsvp.contact_id == sofie.id)
    answer_events = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.entity == "answer", AuditEvent.entity_id.in_(own_answers)
        )
    ).all()
    assert answer_events and "vegetarisch" not in json.dumps([e.changes for e in answer_events])
