"""Webhook event sources (issue 26): each change the rooms make through their services
queues exactly one delivery per interested endpoint, in the transaction of the change,
with a payload of ids and states and no personal data. Both engines (the ``app``
fixture runs on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import date, time, timedelta

import pytest

from learnnet.api import webhook_rules
from learnnet.api.models import WebhookDelivery, WebhookEndpoint
from learnnet.attendance import services as attendance_services
from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.networks import services as network_services
from learnnet.networks.models import Membership
from learnnet.privacy import services as privacy_services
from learnnet.rsvp import services as rsvp_services
from learnnet.sessions import services as scheduling_services
from tests import factories

PERSONAL = ("Sofie", "Claes", "sofie@example.org", "0470 12 34 56", "een notitie")


@pytest.fixture
def endpoint(app):
    """One endpoint for every event, and one that wants none (it must get nothing)."""
    made = WebhookEndpoint(
        url="http://127.0.0.1:9/hook",
        secret=webhook_rules.new_secret(),
        events=list(webhook_rules.EVENTS),
    )
    db.session.add(made)
    db.session.add(WebhookEndpoint(url="http://127.0.0.1:9/x", secret="whsec_AA==", events=[]))
    db.session.add(
        WebhookEndpoint(
            url="http://127.0.0.1:9/off",
            secret="whsec_AA==",
            events=list(webhook_rules.EVENTS),
            active=False,
        )
    )
    db.session.commit()
    return made


@pytest.fixture
def world(app, endpoint, facilitator):
    with app.test_request_context():  # mails (a promotion) build links
        yield _world(facilitator)


def _world(facilitator):
    net = factories.network(facilitators=[facilitator], name="Netwerk Gent")
    host = factories.facility(name="KDV De Zonnebloem", room_capacity=1)
    factories.member(net, host)
    sofie = factories.contact(
        host, name="Sofie Claes", email="sofie@example.org", phone="0470 12 34 56"
    )
    hanne = factories.contact(host, name="Hanne De Smet", email="hanne@example.org")
    db.session.commit()
    return net, host, sofie, hanne


def _events() -> list[tuple[str, dict]]:
    """What was queued (committed), in order, as (event, data); checks the envelope."""
    db.session.expire_all()
    rows = db.session.scalars(db.select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    out = []
    for row in rows:
        body = json.loads(row.body)
        assert body["type"] == row.event and row.event_id.startswith("msg_")
        for word in PERSONAL:
            assert word not in row.body
        out.append((row.event, body["data"]))
    assert len({r.event_id for r in rows}) == len(rows)  # one endpoint: one row per event
    return out


def _clear() -> None:
    db.session.execute(db.delete(WebhookDelivery))
    db.session.commit()


def test_session_planned_changed_cancelled(world):
    net, host, _sofie, _hanne = world
    day = (utcnow() + timedelta(days=40)).date()
    session = scheduling_services.add_session(net, day, time(19), time(21), host.id, "Sessie")
    [(event, data)] = _events()
    assert event == "session.planned"
    assert data["session_id"] == session.id and data["network_id"] == net.id
    assert data["host_facility_id"] == host.id and data["status"] == "planned"
    assert data["starts_at"] == session.starts_at.isoformat()
    _clear()

    scheduling_services.move_session(session, day + timedelta(days=1), time(19), time(21), host.id)
    [(event, data)] = _events()
    assert event == "session.changed" and "time" in data["changes"]
    assert data["starts_at"] == session.starts_at.isoformat()
    _clear()

    scheduling_services.cancel_session(session, "ziek")
    [(event, data)] = _events()
    assert (event, data["session_id"], data["status"]) == (
        "session.cancelled",
        session.id,
        "cancelled",
    )
    scheduling_services.cancel_session(session)  # already cancelled: nothing new
    assert len(_events()) == 1


def test_answers_and_waitlist_promotion(world):
    net, host, sofie, hanne = world
    session = factories.session(net, host)
    db.session.commit()
    rsvp_services.answer(session.id, sofie, "yes", "een notitie", by_contact=sofie)
    rsvp_services.answer(session.id, hanne, "yes", by_contact=hanne)  # room for one: waits
    events = _events()
    assert [e for e, _d in events] == ["answer.changed", "answer.changed"]
    assert [(d["contact_id"], d["answer"], d["waitlisted"], d["by"]) for _e, d in events] == [
        (sofie.id, "yes", False, "contact"),
        (hanne.id, "yes", True, "contact"),
    ]
    assert all(d["session_id"] == session.id and d["answer_id"] for _e, d in events)
    _clear()

    rsvp_services.answer(session.id, hanne, "yes", by_contact=hanne)  # the same again
    assert _events() == []
    rsvp_services.answer(session.id, sofie, "no", by_contact=sofie)  # Hanne moves up
    events = _events()
    assert [(e, d["contact_id"], d["answer"], d["waitlisted"]) for e, d in events] == [
        ("answer.changed", sofie.id, "no", False),
        ("waitlist.promoted", hanne.id, "yes", False),
    ]
    _clear()
    rsvp_services.answer(session.id, sofie, "maybe", by_user=net.facilitators[0])
    [(event, data)] = _events()
    assert (event, data["by"]) == ("answer.changed", "facilitator")


def test_attendance_recorded_and_session_held(world, facilitator):
    net, host, sofie, hanne = world
    session = factories.session(net, host, days_ahead=-1)
    db.session.commit()
    during = session.starts_at + timedelta(minutes=10)
    attendance_services.record(
        session, sofie, "present", via="facilitator", by_user=facilitator, now=during
    )
    events = _events()
    assert [e for e, _d in events] == ["attendance.recorded", "session.held"]
    assert events[0][1]["contact_id"] == sofie.id and events[0][1]["status"] == "present"
    assert events[1][1]["session_id"] == session.id and events[1][1]["status"] == "held"
    _clear()
    attendance_services.record(
        session, hanne, "absent", via="facilitator", by_user=facilitator, now=during
    )
    [(event, data)] = _events()  # held only once
    assert (event, data["contact_id"], data["status"]) == (
        "attendance.recorded",
        hanne.id,
        "absent",
    )


def test_membership_started_and_ended(world, facilitator):
    net, _host, _sofie, _hanne = world
    other = factories.facility(name="Kinderopvang Ukkepuk")
    db.session.commit()
    membership = network_services.add_member(net, other, date(2026, 1, 5), facilitator)
    assert isinstance(membership, Membership)
    [(event, data)] = _events()
    assert event == "membership.started"
    assert data == {
        "membership_id": membership.id,
        "network_id": net.id,
        "facility_id": other.id,
        "joined_on": "2026-01-05",
        "left_on": None,
    }
    _clear()
    network_services.leave(membership, date(2026, 6, 30))
    [(event, data)] = _events()
    assert (event, data["membership_id"], data["left_on"]) == (
        "membership.ended",
        membership.id,
        "2026-06-30",
    )


def test_contact_erased_says_only_which_id(world):
    _net, host, sofie, _hanne = world
    privacy_services.erase(sofie)
    [(event, data)] = _events()
    assert event == "contact.erased"
    assert data == {"contact_id": sofie.id, "facility_id": host.id}


def test_a_change_rolled_back_queues_nothing(world):
    net, host, _sofie, _hanne = world
    session = factories.session(net, host)
    db.session.commit()
    session.status = "cancelled"
    from learnnet import signals

    signals.session_changed.send(session, changes=frozenset({"cancelled"}))
    db.session.rollback()
    assert _events() == []


def test_a_csv_import_starts_memberships_once_each(app, world, facilitator):
    """The import adds its members in bulk: one event per new membership, none for a
    facility that already was a member (importing again changes nothing)."""
    from learnnet.networks import csvio
    from tests.test_csv_import_plan import csv_messages

    net, host, _sofie, _hanne = world
    text = (
        "facility_name;postcode;city\n"
        f"{host.name};{host.postcode};{host.city}\n"
        "Kinderdagverblijf Het Nestje;9000;Gent\n"
        "Crèche Zonneschijn;9050;Gentbrugge\n"
    )
    parsed = csvio.parse(text.encode(), csv_messages())
    assert parsed.valid
    today = date(2026, 3, 2)
    network_services.apply_import(net, parsed.facilities, today, parsed.columns, actor=facilitator)
    events = _events()
    assert [e for e, _d in events] == ["membership.started"] * 2
    new = db.session.scalars(
        db.select(Membership).where(Membership.network_id == net.id, Membership.joined_on == today)
    ).all()
    assert sorted(d["membership_id"] for _e, d in events) == sorted(m.id for m in new)
    assert {d["facility_id"] for _e, d in events} == {m.facility_id for m in new}
    assert host.id not in {d["facility_id"] for _e, d in events}
    _clear()
    network_services.apply_import(net, parsed.facilities, today, parsed.columns, actor=facilitator)
    assert _events() == []
