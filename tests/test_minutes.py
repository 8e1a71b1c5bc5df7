"""Minutes (verslag) and action points (afspraken): writing, publishing, the one mail, the
owner's page, the look-back, reminders, bad input, privacy (issue 23, item 4)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from learnnet.extensions import db
from learnnet.learning import minutes_services as services
from learnnet.learning.minutes_models import ActionNote, ActionPoint, Minutes
from learnnet.learning.models import AgendaItem
from learnnet.mail.models import OutboxMessage
from learnnet.rsvp.contacts import ensure_link, token_of
from learnnet.sessions.models import CANCELLED
from learnnet.timefmt import local_today
from tests import factories


@pytest.fixture
def held(app, network):
    """A session held a week ago with two agenda items, and the next two sessions (the
    first of them cancelled)."""
    first, second = (m.facility for m in network.memberships)
    factories.contact(
        second, name="Bart Peeters", email="bart@example.org", preferred_language="en"
    )
    past = factories.session(network, first, days_ahead=-7, title="Over taal")
    db.session.add_all(
        [
            AgendaItem(session_id=past.id, position=0, title="Rondje: wat leeft er?"),
            AgendaItem(session_id=past.id, position=1, title="Voorlezen aan baby's"),
        ]
    )
    cancelled = factories.session(network, second, days_ahead=7, status=CANCELLED)
    upcoming = factories.session(network, second, days_ahead=21, title="Over buiten spelen")
    db.session.commit()
    return {
        "network": network,
        "past": past,
        "cancelled": cancelled,
        "upcoming": upcoming,
        "first": first,
        "second": second,
    }


def _token(contact) -> str:
    token = token_of(ensure_link(contact))
    db.session.commit()
    return token


def _sofie(world):
    return next(c for c in world["first"].contacts if c.name == "Sofie Claes")


def _form(world, **extra):
    past = world["past"]
    items = db.session.scalars(select(AgendaItem).where(AgendaItem.session_id == past.id)).all()
    sofie = _sofie(world)
    due = local_today() + timedelta(days=30)
    data = {
        f"text-item-{items[0].id}": "Iedereen vertelde over de taalhoek.",
        f"text-item-{items[1].id}": "Boekjes met flapjes werken goed.",
        "general_text": "",
        "actions-0-what": "Een voorleeshoek inrichten",
        "actions-0-owner": f"f-{world['first'].id}",
        "actions-0-due_on": due.isoformat(),
        "actions-1-what": "Flapjesboeken uitlenen aan Ukkepuk",
        "actions-1-owner": f"c-{sofie.id}",
        "actions-1-due_on": due.strftime("%d/%m/%Y"),
        "actions-2-what": "",
        "actions-2-owner": "",
        "actions-2-due_on": "",
    }
    data.update(extra)
    return data


def test_draft_then_publish_mails_each_member_once_with_their_agreements_first(
    app, logged_in, held
):
    past = held["past"]
    url = f"/sessions/{past.id}/minutes"
    page = logged_in.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Voorlezen aan baby" in html and "Rondje" in html
    assert logged_in.post(url, data=_form(held)).status_code == 303
    minutes = db.session.get(Minutes, past.id)
    assert minutes is not None and not minutes.is_published
    assert len(minutes.actions) == 2 and len(minutes.sections) == 2
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
    # A member does not see a draft.
    sofie = _sofie(held)
    token = _token(sofie)
    client = app.test_client()
    assert client.get(f"/m/{token}/minutes/{past.id}").status_code == 404
    assert "voorleeshoek" not in client.get(f"/m/{token}").get_data(as_text=True)
    # Publish: one mail to each member contact with an address.
    data = _form(held, publish="1")
    ids = [a.id for a in minutes.actions]
    data.update({"actions-0-action_id": str(ids[0]), "actions-1-action_id": str(ids[1])})
    assert logged_in.post(url, data=data).status_code == 303
    messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    expected = {c.email for m in held["network"].memberships for c in m.facility.contacts}
    assert {m.recipient for m in messages} == expected and len(messages) == len(expected)
    assert db.session.scalar(select(func.count(ActionPoint.id))) == 2  # updated, not added
    to_sofie = next(m for m in messages if m.recipient == sofie.email)
    body = to_sofie.text_body
    assert body.index("Afgesproken voor KDV De Zonnebloem") < body.index("Boekjes met flapjes")
    assert body.index("voorleeshoek") < body.index("Boekjes met flapjes")
    to_bart = next(m for m in messages if m.recipient == "bart@example.org")
    assert "Nothing was agreed for Kinderopvang Ukkepuk" in to_bart.text_body  # English
    assert "Other agreements in the network" in to_bart.text_body
    # Saving again after publishing mails nobody again.
    data.update({"actions-0-what": "Een voorleeshoek inrichten in de leefgroep"})
    assert logged_in.post(url, data=data).status_code == 303
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == len(expected)
    page = client.get(f"/m/{token}/minutes/{past.id}").get_data(as_text=True)
    assert "in de leefgroep" in page and "Boekjes met flapjes" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("actions-0-what", "", "Schrijf wat er afgesproken is."),
        ("actions-0-due_on", "volgende week", "Dat is geen datum"),
        ("actions-0-due_on", "31/02/2027", "Dat is geen datum"),
        ("actions-0-owner", "f-999999", "Kies een lidvoorziening"),
    ],
)
def test_bad_input_is_named_next_to_the_field_and_nothing_is_written(
    app, logged_in, held, field, value, message
):
    url = f"/sessions/{held['past'].id}/minutes"
    response = logged_in.post(url, data=_form(held, publish="1", **{field: value}))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    error = re.search(rf'id="{field}-error">([^<]*)<', html)
    assert error and message in error.group(1)
    assert "Voorlezen aan baby" in html and "Flapjesboeken uitlenen" in html  # kept
    assert db.session.scalar(select(func.count(Minutes.session_id))) == 0
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_an_owner_of_another_network_is_refused(app, logged_in, held, facilitator):
    other = factories.network(facilitators=[facilitator], name="Ander netwerk")
    stranger = factories.facility(name="Elders")
    factories.member(other, stranger)
    person = factories.contact(stranger, name="Vreemde")
    db.session.commit()
    url = f"/sessions/{held['past'].id}/minutes"
    for owner in (f"f-{stranger.id}", f"c-{person.id}"):
        response = logged_in.post(url, data=_form(held, **{"actions-1-owner": owner}))
        assert response.status_code == 400
        assert 'id="actions-1-owner-error"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Minutes.session_id))) == 0


def test_no_minutes_before_the_session_was_held(app, logged_in, held):
    url = f"/sessions/{held['upcoming'].id}/minutes"
    assert "zodra de bijeenkomst" in logged_in.get(url).get_data(as_text=True)
    assert logged_in.post(url, data=_form(held)).status_code == 303
    assert db.session.scalar(select(func.count(Minutes.session_id))) == 0


def _publish(world, logged_in):
    url = f"/sessions/{world['past'].id}/minutes"
    assert logged_in.post(url, data=_form(world, publish="1")).status_code == 303
    return db.session.scalars(select(ActionPoint).order_by(ActionPoint.position)).all()


def test_owner_marks_done_and_writes_a_line_the_next_facilitator_sees_it(app, logged_in, held):
    facility_point, sofie_point = _publish(held, logged_in)
    sofie = _sofie(held)
    hanne = next(c for c in held["first"].contacts if c.name == "Hanne De Smet")
    client = app.test_client()
    token = _token(hanne)
    page = client.get(f"/m/{token}").get_data(as_text=True)
    assert "Een voorleeshoek inrichten" in page  # the facility's point: Hanne's too
    assert f"/m/{token}/actions/{sofie_point.id}" not in page  # Sofie's own point: not hers
    assert client.get(f"/m/{token}/actions/{sofie_point.id}").status_code == 404
    url = f"/m/{token}/actions/{facility_point.id}"
    assert client.post(url, data={"choice": "note", "text": ""}).status_code == 400
    response = client.post(url, data={"choice": "done", "text": "De hoek staat er, met kussens."})
    assert response.status_code == 303
    db.session.expire_all()
    point = db.session.get(ActionPoint, facility_point.id)
    assert point.is_done and point.done_by_contact_id == hanne.id
    # The cancelled session passes the look-back on to the one after it.
    session_page = logged_in.get(f"/sessions/{held['upcoming'].id}").get_data(as_text=True)
    assert "Terugblik" in session_page
    assert "De hoek staat er, met kussens." in session_page
    assert "Flapjesboeken uitlenen" in session_page
    cancelled_page = logged_in.get(f"/sessions/{held['cancelled'].id}").get_data(as_text=True)
    assert "Terugblik" not in cancelled_page
    # Sofie sees the look-back of her next session, and her own open point.
    page = client.get(f"/m/{_token(sofie)}").get_data(as_text=True)
    assert "Terugblik" in page and "Flapjesboeken uitlenen" in page


def test_another_networks_token_sees_nothing(app, logged_in, held, facilitator):
    facility_point, _ = _publish(held, logged_in)
    other = factories.network(facilitators=[facilitator], name="Ander netwerk")
    stranger = factories.facility(name="Elders")
    factories.member(other, stranger)
    person = factories.contact(stranger, name="Vreemde")
    db.session.commit()
    client = app.test_client()
    token = _token(person)
    assert client.get(f"/m/{token}/minutes/{held['past'].id}").status_code == 404
    assert client.get(f"/m/{token}/actions/{facility_point.id}").status_code == 404
    assert (
        client.post(f"/m/{token}/actions/{facility_point.id}", data={"choice": "done"}).status_code
        == 404
    )
    assert "voorleeshoek" not in client.get(f"/m/{token}").get_data(as_text=True)
    assert db.session.get(ActionPoint, facility_point.id).done_at is None


def test_the_reminder_goes_a_week_before_the_date_once(app, logged_in, held):
    facility_point, sofie_point = _publish(held, logged_in)
    today = local_today()
    facility_point.due_on = today + timedelta(days=5)
    sofie_point.due_on = today + timedelta(days=12)
    db.session.commit()
    before = db.session.scalar(select(func.count(OutboxMessage.id)))
    with app.test_request_context():
        sent = services.send_due_action_reminders(today)
        again = services.send_due_action_reminders(today)
    people = [c for c in held["first"].contacts if c.active and c.email]
    assert sent == len(people) and again == 0
    reminders = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "action_reminder")
    ).all()
    assert {m.recipient for m in reminders} == {c.email for c in people}
    assert all("Een voorleeshoek inrichten" in m.text_body for m in reminders)
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == before + len(people)
    # Her own point a week later: to her alone; a done point: to nobody.
    with app.test_request_context():
        assert services.send_due_action_reminders(today + timedelta(days=5)) == 1
        services.mark_done(sofie_point)
        assert services.send_due_action_reminders(today + timedelta(days=6)) == 0


def test_export_and_erase_cover_her_points_and_lines(app, logged_in, held):
    from learnnet.privacy import services as privacy

    facility_point, sofie_point = _publish(held, logged_in)
    sofie = db.session.get(type(held["first"].contacts[0]), sofie_point.owner_contact_id)
    services.add_note(sofie_point, sofie, "Drie boeken uitgeleend.")
    services.add_note(facility_point, sofie, "Kussens besteld.")
    data = privacy.export(sofie)
    assert [p["what"] for p in data["action_points"]] == ["Flapjesboeken uitlenen aan Ukkepuk"]
    assert {n["text"] for n in data["action_point_lines"]} == {
        "Drie boeken uitgeleend.",
        "Kussens besteld.",
    }
    privacy.erase(sofie)
    assert db.session.scalar(select(func.count(ActionNote.id))) == 0
    point = db.session.get(ActionPoint, sofie_point.id)
    assert point.owner_contact_id is None and point.owner_facility_id == held["first"].id
    assert privacy.export(sofie)["action_point_lines"] == []


def test_the_demo_has_minutes_with_one_agreement_done_and_one_open_on_the_next_session(app, client):
    from learnnet import demo
    from learnnet.models import utcnow
    from learnnet.networks.models import Contact, Network
    from learnnet.sessions.models import Session
    from tests.conftest import login
    from tests.test_dutch_words import TELL_TALE, visible_words

    demo.load()
    again = demo.load()
    assert "0 agreements" in again  # loading twice adds nothing
    network = db.session.scalar(select(Network).where(Network.slug == "gent-baby-peuter"))
    published = db.session.scalars(select(Minutes).where(Minutes.status == "published")).all()
    assert len(published) == 2
    assert all(m.session.ends_at < utcnow() for m in published)
    points = db.session.scalars(select(ActionPoint)).all()
    done = [p for p in points if p.is_done]
    assert done and all(p.notes for p in done)
    upcoming = db.session.scalar(
        select(Session)
        .where(Session.network_id == network.id, Session.starts_at > utcnow())
        .where(Session.status != CANCELLED)
        .order_by(Session.starts_at)
    )
    shown = services.lookback(upcoming)
    assert any(not p.is_done for p in shown)
    login(client, *demo.DEMO_FACILITATOR)
    member = db.session.scalar(select(Contact).where(Contact.email == demo.demo_member_email()))
    token = _token(member)
    mine = next(p for p in shown if not p.is_done and services.owns(p, member))
    pages = [
        f"/sessions/{upcoming.id}",
        f"/sessions/{published[0].session_id}/minutes",
        f"/m/{token}",
        f"/m/{token}/minutes/{published[0].session_id}",
        f"/m/{token}/actions/{mine.id}",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert visible_words(response.get_data(as_text=True)) & TELL_TALE == set(), path
    html = client.get(f"/sessions/{upcoming.id}").get_data(as_text=True)
    assert "Terugblik" in html and mine.what in html
    assert "Terugblik" in client.get(f"/m/{token}").get_data(as_text=True)


def test_facilitator_writes_are_in_the_trail_and_a_merge_keeps_her_agreements(
    app, logged_in, held, facilitator
):
    from learnnet.audit.models import AuditEvent
    from learnnet.privacy import services as privacy

    _facility_point, sofie_point = _publish(held, logged_in)
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity.in_(("minutes", "action_point")))
    ).all()
    assert {(e.entity, e.action) for e in events} >= {
        ("minutes", "create"),
        ("action_point", "create"),
    }
    assert all(e.user_id == facilitator.id for e in events)
    sofie = _sofie(held)
    services.add_note(sofie_point, sofie, "Twee boeken uitgeleend.")
    twin = factories.contact(held["first"], name="Sofie Claes (2)", email="sofie2@example.org")
    db.session.commit()
    privacy.merge_contacts(sofie, twin)
    db.session.expire_all()
    point = db.session.get(ActionPoint, sofie_point.id)
    assert point.owner_contact_id == twin.id
    assert db.session.scalar(select(ActionNote.contact_id)) == twin.id


def test_send_reminders_also_queues_the_agreement_reminders(app, logged_in, held):
    facility_point, _sofie_point = _publish(held, logged_in)
    facility_point.due_on = local_today() + timedelta(days=2)
    db.session.commit()
    app.config["BASE_URL"] = "http://localhost"
    app.config["TRUSTED_HOSTS"] = ["localhost"]
    result = app.test_cli_runner().invoke(args=["send-reminders", "--no-send"])
    assert result.exit_code == 0, result.output
    people = [c for c in held["first"].contacts if c.email]
    assert f"{len(people)} agreement reminders queued." in result.output
    again = app.test_cli_runner().invoke(args=["send-reminders", "--no-send"])
    assert "0 agreement reminders queued." in again.output
