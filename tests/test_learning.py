"""The learning room on a real database (SQLite, and PostgreSQL when configured): the
werkjaar's theme and goals, a session's programme, the members' learning questions;
bad input, access, the trail, privacy, the certificate and the kept pages."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from learnnet.audit.models import AuditEvent
from learnnet.extensions import db
from learnnet.learning import rules, services
from learnnet.learning.models import AgendaItem, LearningGoal, LearningQuestion, WerkjaarTheme
from learnnet.models import utcnow
from tests import factories
from tests.conftest import login
from tests.rsvp_helpers import token_for


@pytest.fixture
def world(app, network, facilitator):
    """The Gent network (Zonnebloem with Sofie and Hanne, Ukkepuk with Jan), a session
    in three weeks at Ukkepuk, and another network with its own facilitator and member."""
    zonnebloem, ukkepuk = (m.facility for m in network.memberships)
    jan = factories.contact(ukkepuk, name="Jan Peeters", email="jan@example.org")
    session = factories.session(network, ukkepuk, days_ahead=21, title="Taal in de leefgroep")
    other_user = factories.user(email="ander@example.org", name="Ander")
    other = factories.network(facilitators=[other_user], name="Lerend netwerk Brugge")
    elsewhere = factories.facility(name="KDV De Regenboog", postcode="8000", city="Brugge")
    factories.member(other, elsewhere)
    stranger = factories.contact(elsewhere, name="Lies Verhaeghe", email="lies@example.org")
    db.session.commit()
    sofie = next(c for c in zonnebloem.contacts if c.name == "Sofie Claes")
    return {
        "network": network,
        "session": session,
        "sofie": sofie,
        "jan": jan,
        "zonnebloem": zonnebloem,
        "ukkepuk": ukkepuk,
        "other": other,
        "other_user": other_user,
        "stranger": stranger,
    }


def _year(world) -> int:
    return services.session_start_year(world["session"])


# --- theme and goals ------------------------------------------------------------------------------


def test_theme_and_goals_are_saved_and_goals_keep_their_ids_when_reworded(app, world):
    net, year = world["network"], _year(world)
    theme = services.save_theme(net, year, "Taal", "", ["Voorlezen", "Ouders betrekken"])
    first_ids = [g.id for g in theme.goals]
    services.set_session_goals(world["session"], [first_ids[1]])
    theme = services.save_theme(net, year, "Taal en ouders", "Waarom", ["Voorlezen!", "Ouders"])
    assert [g.id for g in theme.goals] == first_ids
    assert [g.text for g in theme.goals] == ["Voorlezen!", "Ouders"]
    assert services.session_goal_ids(world["session"].id) == {first_ids[1]}
    # One goal fewer: the second goes, and the session no longer names it.
    services.save_theme(net, year, "Taal", "", ["Voorlezen"])
    assert db.session.scalar(select(func.count(LearningGoal.id))) == 1
    assert services.session_goal_ids(world["session"].id) == set()


def test_a_session_names_only_goals_of_its_own_werkjaar(app, world):
    net, year = world["network"], _year(world)
    services.save_theme(net, year, "Taal", "", ["Voorlezen"])
    earlier = services.save_theme(net, year - 1, "Vorig jaar", "", ["Oud doel"])
    with pytest.raises(services.LearningError):
        services.set_session_goals(world["session"], [earlier.goals[0].id])
    assert services.session_goal_ids(world["session"].id) == set()


def test_werkjaar_page_saves_the_theme_and_shows_it_on_the_network_page(app, world, logged_in):
    net = world["network"]
    page = logged_in.get(f"/networks/{net.slug}")
    assert page.status_code == 200 and f"/networks/{net.slug}/werkjaar" in page.text
    response = logged_in.post(
        f"/networks/{net.slug}/werkjaar",
        data={"title": "Samenwerken met ouders", "goals": "Ouders welkom heten\n- Wenbeleid"},
    )
    assert response.status_code == 303
    page = logged_in.get(f"/networks/{net.slug}").text
    assert "Samenwerken met ouders" in page and "Wenbeleid" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": "", "goals": "Doel"}, "Geef het thema in."),
        ({"title": "x" * 161, "goals": ""}, "Maximaal 160 tekens"),
        ({"title": "Taal", "goals": "\n".join(f"Doel {n}" for n in range(9))}, "Maximaal 8 doelen"),
        ({"title": "Taal", "goals": "y" * 301}, "Elk doel maximaal 300 tekens"),
    ],
)
def test_bad_theme_input_gets_a_message_keeps_what_was_typed_and_saves_nothing(
    app, world, logged_in, data, message
):
    net = world["network"]
    response = logged_in.post(f"/networks/{net.slug}/werkjaar", data=data)
    assert response.status_code == 400
    assert message in response.text
    if data["goals"]:
        assert data["goals"].splitlines()[0] in response.text
    assert db.session.scalar(select(func.count(WerkjaarTheme.id))) == 0


# --- the programme --------------------------------------------------------------------------------


def _add(client, session, **data):
    fields = {"add-title": "Welkom", "add-minutes": "", "add-lead_kind": "facilitator"}
    fields.update({f"add-{k}": v for k, v in data.items()})
    return client.post(f"/sessions/{session.id}/programme/items", data=fields)


def _titles(session) -> list[str]:
    return list(
        db.session.scalars(
            select(AgendaItem.title)
            .where(AgendaItem.session_id == session.id)
            .order_by(AgendaItem.position)
        )
    )


def test_facilitator_writes_reorders_edits_and_removes_agenda_items(app, world, logged_in):
    session, ukkepuk = world["session"], world["ukkepuk"]
    assert _add(logged_in, session, title="Welkom", minutes="10").status_code == 303
    assert _add(logged_in, session, title="Rondleiding", lead_kind="host").status_code == 303
    response = _add(
        logged_in,
        session,
        title="Praktijkvoorbeeld",
        minutes="30 min",
        lead_kind="facility",
        lead_facility=str(world["zonnebloem"].id),
    )
    assert response.status_code == 303
    assert _titles(session) == ["Welkom", "Rondleiding", "Praktijkvoorbeeld"]
    third = db.session.scalar(select(AgendaItem).where(AgendaItem.title == "Praktijkvoorbeeld"))
    assert (third.minutes, third.lead_facility_id) == (30, world["zonnebloem"].id)
    logged_in.post(
        f"/sessions/{session.id}/programme/items/{third.id}/move", data={"direction": "up"}
    )
    assert _titles(session) == ["Welkom", "Praktijkvoorbeeld", "Rondleiding"]
    edit = logged_in.get(f"/sessions/{session.id}/programme?edit={third.id}")
    assert f'name="item-{third.id}-title"' in edit.text
    logged_in.post(
        f"/sessions/{session.id}/programme/items/{third.id}",
        data={
            f"item-{third.id}-title": "Voorbeeld uit de praktijk",
            f"item-{third.id}-minutes": "25",
            f"item-{third.id}-lead_kind": "host",
        },
    )
    db.session.expire_all()
    assert (third.title, third.minutes, third.lead_kind, third.lead_facility_id) == (
        "Voorbeeld uit de praktijk",
        25,
        "host",
        None,
    )
    logged_in.post(f"/sessions/{session.id}/programme/items/{third.id}/delete")
    assert _titles(session) == ["Welkom", "Rondleiding"]
    page = logged_in.get(f"/sessions/{session.id}").text
    assert "Rondleiding" in page and f"de gastvoorziening ({ukkepuk.name})" in page
    # The trail records the facilitator's writes.
    kinds = set(
        db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity == "agenda_item"))
    )
    assert kinds == {"create", "update", "delete"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": ""}, "Geef in waarover dit agendapunt gaat."),
        ({"title": "x" * 201}, "Maximaal 200 tekens"),
        ({"minutes": "twintig"}, "Geef de minuten in als getal"),
        ({"minutes": "0"}, "Geef de minuten in als getal"),
        ({"lead_kind": "facility"}, "Kies de voorziening die dit agendapunt leidt."),
        ({"lead_kind": "boss"}, 'id="add-lead_kind-error"'),
    ],
)
def test_bad_agenda_item_input_gets_a_message_and_nothing_is_saved(
    app, world, logged_in, data, message
):
    response = _add(logged_in, world["session"], **data)
    assert response.status_code == 400
    assert (
        message in response.text
        or message.replace("Not a valid choice", "Geen geldige keuze") in response.text
    )
    assert _titles(world["session"]) == []
    if data.get("minutes"):
        assert f'value="{data["minutes"]}"' in response.text  # what was typed stays


def test_a_facility_of_another_network_cannot_lead_an_item(app, world, logged_in):
    stranger_facility = world["stranger"].facility
    response = _add(
        logged_in, world["session"], lead_kind="facility", lead_facility=str(stranger_facility.id)
    )
    assert response.status_code == 400
    assert "Kies een lidvoorziening van dit netwerk." in response.text
    assert _titles(world["session"]) == []


def test_moving_or_removing_an_item_of_another_session_gets_a_message(app, world, logged_in):
    net, ukkepuk = world["network"], world["ukkepuk"]
    later = factories.session(net, ukkepuk, days_ahead=50)
    db.session.commit()
    services.add_item(later, "Van een andere bijeenkomst", None, "facilitator")
    item = db.session.scalar(select(AgendaItem))
    session = world["session"]
    for url, data in (
        (f"/sessions/{session.id}/programme/items/{item.id}/move", {"direction": "down"}),
        (f"/sessions/{session.id}/programme/items/{item.id}/delete", {}),
        (f"/sessions/{session.id}/programme/items/{item.id}", {f"item-{item.id}-title": "X"}),
    ):
        response = logged_in.post(url, data=data, follow_redirects=True)
        assert response.status_code == 200, url
        assert "Dit agendapunt hoort niet (meer) bij deze bijeenkomst." in response.text
    db.session.expire_all()
    assert item.title == "Van een andere bijeenkomst" and item.session_id == later.id


def test_question_to_prepare_and_host_showcase_are_part_of_the_programme(app, world, logged_in):
    session = world["session"]
    response = logged_in.post(
        f"/sessions/{session.id}/programme/texts",
        data={
            "texts-prepare_question": "Breng een foto van je leefgroep mee.",
            "texts-host_showcase": "Onze nieuwe buitenspeelruimte",
        },
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert session.host_showcase == "Onze nieuwe buitenspeelruimte"
    assert services.programme_of(session).prepare_question.startswith("Breng een foto")
    too_long = logged_in.post(
        f"/sessions/{session.id}/programme/texts",
        data={"texts-prepare_question": "v" * (rules.PREPARE_MAX + 1)},
    )
    assert too_long.status_code == 400 and "Maximaal" in too_long.text
    # The session details form no longer holds the showcase: saving it keeps it.
    logged_in.post(f"/sessions/{session.id}/edit", data={"title": session.title})
    db.session.expire_all()
    assert session.host_showcase == "Onze nieuwe buitenspeelruimte"


def test_another_networks_facilitator_cannot_touch_the_programme(app, world):
    session = world["session"]
    client = app.test_client()
    login(client, world["other_user"].email)
    assert client.get(f"/sessions/{session.id}/programme").status_code == 403
    assert _add(client, session, title="Inbraak").status_code == 403
    assert client.get(f"/networks/{world['network'].slug}/werkjaar").status_code == 403
    assert _titles(session) == []


# --- learning questions ---------------------------------------------------------------------------


def test_member_writes_changes_and_removes_her_learning_question(app, world, logged_in):
    sofie, session = world["sofie"], world["session"]
    token = token_for(sofie)
    client = app.test_client()
    page = client.get(f"/m/{token}/leervragen?for=session-{session.id}")
    assert page.status_code == 200 and f'selected value="session-{session.id}"' in page.text
    response = client.post(
        f"/m/{token}/leervragen",
        data={"q-target": f"session-{session.id}", "q-text": "Hoe betrekken we vaders meer?"},
    )
    assert response.status_code == 303
    client.post(
        f"/m/{token}/leervragen",
        data={"q-target": f"year-{world['network'].id}", "q-text": "Hoe observeer ik taal?"},
    )
    jan = token_for(world["jan"])
    client.post(
        f"/m/{jan}/leervragen",
        data={"q-target": f"session-{session.id}", "q-text": "Wat doen jullie met peuters?"},
    )
    # The facilitator sees them grouped by facility on the session page...
    html = logged_in.get(f"/sessions/{session.id}").text
    zonnebloem_at = html.index("KDV De Zonnebloem", html.index('id="learning-questions"'))
    ukkepuk_at = html.index("Kinderopvang Ukkepuk", html.index('id="learning-questions"'))
    assert html.index("vaders") > zonnebloem_at and html.index("peuters") > ukkepuk_at
    assert "Hoe observeer ik taal?" not in html  # for the year, not this session
    # ...and the werkjaar's on the werkjaar page.
    year_page = logged_in.get(f"/networks/{world['network'].slug}/werkjaar").text
    assert "Hoe observeer ik taal?" in year_page and "vaders" not in year_page
    # She changes and removes her own.
    own = db.session.scalar(select(LearningQuestion).where(LearningQuestion.text.like("%vaders%")))
    client.post(f"/m/{token}/leervragen/{own.id}", data={"e-text": "Hoe betrekken we papa's?"})
    db.session.expire_all()
    assert own.text == "Hoe betrekken we papa's?"
    client.post(f"/m/{token}/leervragen/{own.id}/delete")
    assert db.session.get(LearningQuestion, own.id) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Schrijf je leervraag."),
        ("ab", "Tussen 3 en 600 tekens"),
        ("z" * 601, "Tussen 3 en 600"),
    ],
)
def test_bad_learning_questions_get_a_message_and_keep_the_choice(app, world, text, message):
    token = token_for(world["sofie"])
    session = world["session"]
    response = app.test_client().post(
        f"/m/{token}/leervragen", data={"q-target": f"session-{session.id}", "q-text": text}
    )
    assert response.status_code == 400 and message in response.text
    assert f'selected value="session-{session.id}"' in response.text
    assert db.session.scalar(select(func.count(LearningQuestion.id))) == 0


def test_a_member_cannot_write_for_or_touch_another_network_or_person(app, world):
    session = world["session"]
    stranger = token_for(world["stranger"])
    client = app.test_client()
    refused = client.post(
        f"/m/{stranger}/leervragen", data={"q-target": f"session-{session.id}", "q-text": "Mag ik?"}
    )
    assert refused.status_code == 400 and "Kies een van je komende bijeenkomsten" in refused.text
    own = services.add_question(world["sofie"], f"session-{session.id}", "Hoe betrekken we vaders?")
    assert client.get(f"/m/{stranger}/leervragen/{own.id}").status_code == 404
    assert (
        client.post(f"/m/{stranger}/leervragen/{own.id}", data={"e-text": "Weg"}).status_code == 404
    )
    client.post(f"/m/{stranger}/leervragen/{own.id}/delete")
    db.session.expire_all()
    assert own.text == "Hoe betrekken we vaders?"
    page = client.get(f"/m/{stranger}").text + client.get(f"/m/{stranger}/leervragen").text
    assert "vaders" not in page and session.title not in page


def test_a_cancelled_or_past_session_takes_no_new_learning_questions(app, world):
    session = world["session"]
    session.status = "cancelled"
    past = factories.session(world["network"], world["ukkepuk"], days_ahead=-3)
    db.session.commit()
    keys = {t.key for t in services.targets_for(world["sofie"])}
    assert f"session-{session.id}" not in keys and f"session-{past.id}" not in keys
    assert f"year-{world['network'].id}" in keys


# --- the member's page, the certificate, privacy, kept pages -------------------------------------


def test_member_page_shows_theme_goals_programme_and_her_questions(app, world, logged_in):
    net, session, sofie = world["network"], world["session"], world["sofie"]
    services.save_theme(net, services.current_start_year(net), "Taal", "", ["Voorlezen"])
    if services.session_start_year(session) != services.current_start_year(net):
        services.save_theme(net, services.session_start_year(session), "Taal", "", ["Voorlezen"])
    services.add_item(session, "Kringgesprek over voorlezen", 20, "facilitator")
    services.save_programme_texts(session, "Welk boek lees je graag voor?", "De leeshoek")
    services.add_question(sofie, f"year-{net.id}", "Hoe kies ik een goed prentenboek?")
    token = token_for(sofie)
    html = app.test_client().get(f"/m/{token}").text
    for text in (
        "Taal",
        "Voorlezen",
        "Kringgesprek over voorlezen",
        "Welk boek lees je graag voor?",
        "De leeshoek",
        "Hoe kies ik een goed prentenboek?",
        f"/m/{token}/leervragen",
    ):
        assert text in html, text


def test_the_member_page_is_renewed_after_a_programme_change(app, world, logged_in):
    """The page cache keeps the member's page until the data changes."""
    from learnnet.pagecache import cache_of

    assert cache_of(app) is not None  # kept pages are on, as in production
    token = token_for(world["sofie"])
    client = app.test_client()
    assert "Kringgesprek" not in client.get(f"/m/{token}").text
    _add(logged_in, world["session"], title="Kringgesprek")
    assert "Kringgesprek" in client.get(f"/m/{token}").text


def test_certificate_names_the_themes_of_the_sessions_attended(app, world, logged_in):
    from learnnet.attendance.models import Attendance

    net, sofie = world["network"], world["sofie"]
    start = utcnow() - timedelta(days=3)
    held = factories.session(
        net, world["ukkepuk"], starts_at=start, ends_at=start + timedelta(hours=2)
    )
    db.session.add(
        Attendance(
            session=held,
            contact=sofie,
            facility_id=sofie.facility_id,
            person_name=sofie.name,
            facility_name=sofie.facility.name,
            status="present",
        )
    )
    db.session.commit()
    services.save_theme(net, services.session_start_year(held), "Welbevinden van baby's", "", [])
    label = rules.werkjaar_label(services.session_start_year(held))
    html = logged_in.get(f"/contacts/{sofie.id}/certificate?period={label.replace('–', '-')}").text
    assert "Welbevinden van baby" in html


def test_export_holds_and_erasure_removes_her_learning_questions(app, world, admin):
    sofie, session = world["sofie"], world["session"]
    services.add_question(sofie, f"session-{session.id}", "Hoe betrekken we vaders?")
    services.add_question(world["jan"], f"session-{session.id}", "Wat met peuters?")
    boss = app.test_client()
    login(boss, admin.email)
    data = json.loads(boss.get(f"/admin/contacts/{sofie.id}/data.json").data)
    assert [q["text"] for q in data["learning_questions"]] == ["Hoe betrekken we vaders?"]
    assert "Hoe betrekken we vaders?" in boss.get(f"/admin/contacts/{sofie.id}/data").text
    boss.post(f"/admin/contacts/{sofie.id}/erase", data={"confirm": "erase"})
    texts = list(db.session.scalars(select(LearningQuestion.text)))
    assert texts == ["Wat met peuters?"]


def test_a_session_with_a_programme_is_not_asked_for_an_agenda_on_the_dashboard(
    app, world, logged_in
):
    network, ukkepuk = world["network"], world["ukkepuk"]
    bare = factories.session(network, ukkepuk, days_ahead=10, agenda="")
    planned = factories.session(network, ukkepuk, days_ahead=12, agenda="")
    db.session.commit()
    services.add_item(planned, "Welkom", 10, "facilitator")
    html = logged_in.get("/").text
    todo = html.split('id="todo"')[1].split('aria-labelledby="networks-title"')[0]
    assert f"/sessions/{bare.id}/edit" in todo
    assert f"/sessions/{planned.id}/edit" not in todo
