"""Answering through a personal link: links, answers, colleagues, waitlist, leaving."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from learnnet.extensions import db
from learnnet.mail.models import OutboxMessage
from learnnet.models import utcnow
from learnnet.rsvp import contacts as links
from learnnet.rsvp import services
from learnnet.rsvp.models import Rsvp, RsvpChange
from learnnet.sessions.models import CANCELLED
from tests import factories
from tests.conftest import login
from tests.rsvp_helpers import answer, token_for


@pytest.fixture
def gent(network):
    """The fixture network's facilities, a session with room for 2, and three people."""
    zonnebloem, ukkepuk = (m.facility for m in network.memberships)
    sofie, hanne = (c for c in sorted(zonnebloem.contacts, key=lambda c: c.name, reverse=True))
    jan = factories.contact(ukkepuk, name="Jan Peeters", email="jan@example.org")
    session = factories.session(network, ukkepuk, days_ahead=20)
    session.capacity = 2
    db.session.commit()
    return {
        "network": network,
        "session": session,
        "sofie": sofie,
        "hanne": hanne,
        "jan": jan,
        "zonnebloem": zonnebloem,
        "ukkepuk": ukkepuk,
    }


def rsvp_of(session, contact):
    return db.session.scalar(
        select(Rsvp).where(Rsvp.session_id == session.id, Rsvp.contact_id == contact.id)
    )


def outbox_files(app) -> list[Path]:
    return sorted((Path(app.instance_path) / "outbox").glob("*.eml"))


# --- links ------------------------------------------------------------------------------------


def test_the_link_opens_the_page_without_a_password(client, gent):
    token = token_for(gent["sofie"])
    page = client.get(f"/m/{token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Dag Sofie" in html
    assert f'id="session-{gent["session"].id}"' in html
    assert "openstreetmap.org/search" in html
    assert "Deze link is persoonlijk" in html


def test_only_a_hash_of_the_token_is_stored(app, gent):
    token = token_for(gent["sofie"])
    link = links.current_link(gent["sofie"])
    assert token not in (link.token_hash, link.nonce)


def test_token_pages_send_privacy_headers_also_when_refused(client, gent):
    token = token_for(gent["sofie"])
    for response in (client.get(f"/m/{token}"), client.get("/m/" + "x" * 32)):
        assert response.headers["Referrer-Policy"] == "strict-origin"
        assert response.headers["Cache-Control"] == "private, no-store"
        assert "noindex" in response.headers["X-Robots-Tag"]


@pytest.mark.parametrize(
    "token", ["x" * 32, "x" * 10_000, "%00" * 5, "abc", "../../etc/passwd", "é" * 32]
)
def test_unknown_forged_or_huge_tokens_are_a_plain_404(client, gent, token):
    expected = 400 if "%00" in token else 404  # NUL: refused for every input alike
    response = client.get(f"/m/{token}")
    assert response.status_code == expected
    assert "Sofie" not in response.get_data(as_text=True)
    post = client.post(f"/m/{token}/sessions/{gent['session'].id}", data={"answer": "yes"})
    assert post.status_code == expected
    assert db.session.scalar(select(func.count(Rsvp.id))) == 0


def test_revoking_a_link_stops_it_and_the_new_one_works(logged_in, client, gent):
    old = token_for(gent["sofie"])
    page = logged_in.get(f"/contacts/{gent['sofie'].id}/link")
    assert old in page.get_data(as_text=True) and "<svg" in page.get_data(as_text=True)
    assert logged_in.post(f"/contacts/{gent['sofie'].id}/link/renew").status_code == 303
    new = token_for(gent["sofie"])
    assert new != old
    anonymous = client.application.test_client()
    assert anonymous.get(f"/m/{old}").status_code == 404
    assert anonymous.get(f"/m/{new}").status_code == 200


def test_a_contact_who_left_the_facility_has_no_working_link(client, gent):
    token = token_for(gent["sofie"])
    gent["sofie"].active = False
    db.session.commit()
    assert client.get(f"/m/{token}").status_code == 404


def test_failed_lookups_are_rate_limited_per_address(app_factory, db_url):
    app = app_factory(TOKEN_MISS_LIMIT="3 per 10 minutes")
    client = app.test_client()
    with app.app_context():
        statuses = [client.get("/m/" + f"{n}" * 32).status_code for n in range(5)]
    assert statuses == [404, 404, 404, 429, 429]


def test_the_page_speaks_the_contacts_language_not_the_phones(client, gent):
    token = token_for(gent["sofie"])
    english_phone = {"Accept-Language": "en-US,en;q=0.9"}
    assert "Dag Sofie" in client.get(f"/m/{token}", headers=english_phone).get_data(as_text=True)
    gent["sofie"].preferred_language = "en"
    db.session.commit()
    html = client.get(f"/m/{token}", headers={"Accept-Language": "nl-BE"}).get_data(as_text=True)
    assert "Hello Sofie" in html and '<html lang="en">' in html


def test_tokens_never_reach_the_access_log(client, gent, caplog):
    import logging

    from learnnet import _RedactTokens

    token = token_for(gent["sofie"])
    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        "",
        0,
        '%s - - "%s" %s',
        ("127.0.0.1", f"GET /m/{token} HTTP/1.1", "200"),
        None,
    )
    _RedactTokens().filter(record)
    assert token not in record.getMessage() and "/m/[redacted]" in record.getMessage()


# --- answers ----------------------------------------------------------------------------------


def test_answer_and_change_it_until_the_deadline(client, gent):
    session, sofie = gent["session"], gent["sofie"]
    token = token_for(sofie)
    response = answer(client, token, session.id, "yes", note="Vegetarisch")
    assert response.status_code == 303
    assert response.location.endswith(f"#session-{session.id}")
    rsvp = rsvp_of(session, sofie)
    assert (rsvp.answer, rsvp.waitlisted, rsvp.note) == ("yes", False, "Vegetarisch")
    answer(client, token, session.id, "maybe")
    db.session.refresh(rsvp)
    assert rsvp.answer == "maybe"
    session.rsvp_deadline = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = answer(client, token, session.id, "no")
    assert response.status_code == 303
    db.session.refresh(rsvp)
    assert rsvp.answer == "maybe"
    page = client.get(response.location).get_data(as_text=True)
    assert "gesloten" in page


def test_every_change_is_kept_with_who_when_and_from_what(logged_in, client, gent, facilitator):
    session, sofie, hanne = gent["session"], gent["sofie"], gent["hanne"]
    token = token_for(sofie)
    answer(client, token, session.id, "yes")
    answer(client, token, session.id, "no")
    answer(client, token, session.id, "maybe", contact=str(hanne.id))
    logged_in.post(
        f"/sessions/{session.id}/answers",
        data={"contact": hanne.id, "answer": "yes", "note": "belde op"},
    )
    changes = list(db.session.scalars(select(RsvpChange).order_by(RsvpChange.id)))
    assert [(c.old_answer, c.new_answer) for c in changes] == [
        (None, "yes"),
        ("yes", "no"),
        (None, "maybe"),
        ("maybe", "yes"),
    ]
    assert [c.by_contact_id for c in changes[:3]] == [sofie.id] * 3
    assert changes[3].by_user_id == facilitator.id and changes[3].new_note == "belde op"
    assert all(c.changed_at is not None for c in changes)


def test_the_same_answer_twice_is_one_record_and_a_normal_page(client, gent):
    token = token_for(gent["sofie"])
    first = answer(client, token, gent["session"].id, "yes")
    second = answer(client, token, gent["session"].id, "yes")
    assert first.status_code == second.status_code == 303
    assert db.session.scalar(select(func.count(Rsvp.id))) == 1
    assert db.session.scalar(select(func.count(RsvpChange.id))) == 1


def test_answers_for_sessions_elsewhere_or_cancelled_are_refused(client, gent, facilitator):
    token = token_for(gent["sofie"])
    elsewhere = factories.network(facilitators=[facilitator])
    other_host = factories.facility(name="Elders")
    factories.member(elsewhere, other_host)
    foreign = factories.session(elsewhere, other_host)
    gent["session"].status = CANCELLED
    db.session.commit()
    for session_id in (foreign.id, gent["session"].id, 2**31 - 1):
        response = answer(client, token, session_id, "yes")
        assert response.status_code == 303
    assert db.session.scalar(select(func.count(Rsvp.id))) == 0


def test_a_huge_note_is_refused_beside_the_field_and_kept(client, gent):
    token = token_for(gent["sofie"])
    note = "lang " * 20_000
    response = answer(client, token, gent["session"].id, "yes", note=note)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'class="error"' in html and "500" in html
    assert "lang lang lang" in html
    assert db.session.scalar(select(func.count(Rsvp.id))) == 0


def test_invalid_utf8_and_odd_answers_never_break(client, gent):
    token = token_for(gent["sofie"])
    url = f"/m/{token}/sessions/{gent['session'].id}"
    for body in (
        b"answer=yes&note=%ff%fe",
        b"answer=%ff",
        b"answer=perhaps",
        b"contact=%ff&answer=yes",
    ):
        response = client.post(url, data=body, content_type="application/x-www-form-urlencoded")
        assert response.status_code in (303, 400), body
    assert db.session.scalar(select(func.count(Rsvp.id))) <= 1


def test_answer_for_a_colleague_but_never_for_someone_elsewhere(client, gent):
    session, sofie, hanne, jan = gent["session"], gent["sofie"], gent["hanne"], gent["jan"]
    token = token_for(sofie)
    answer(client, token, session.id, "yes", contact=str(hanne.id))
    assert rsvp_of(session, hanne).answer == "yes"
    assert rsvp_of(session, sofie) is None
    response = answer(client, token, session.id, "no", contact=str(jan.id))
    assert response.status_code == 303
    assert rsvp_of(session, jan) is None
    answer(client, token, session.id, "no", contact="99999999999999999999")
    assert db.session.scalar(select(func.count(Rsvp.id))) == 1


def test_add_a_colleague_who_becomes_a_contact_of_the_facility(client, gent):
    token = token_for(gent["sofie"])
    response = client.post(
        f"/m/{token}/colleagues",
        data={"colleague-name": "Sara Wuyts", "colleague-email": "sara@example.org"},
    )
    assert response.status_code == 303
    names = {c.name for c in gent["zonnebloem"].contacts}
    assert "Sara Wuyts" in names
    bad = client.post(
        f"/m/{token}/colleagues", data={"colleague-name": "", "colleague-email": "nope"}
    )
    assert bad.status_code == 400
    assert "nope" in bad.get_data(as_text=True)


# --- capacity and waitlist --------------------------------------------------------------------


def test_full_sessions_waitlist_in_order_and_a_decline_promotes_the_first(app, client, gent):
    session = gent["session"]  # room for 2
    people = [gent["jan"], gent["hanne"], gent["sofie"]]
    extra = factories.contact(gent["ukkepuk"], name="Els Mertens", email="els@example.org")
    db.session.commit()
    tokens = {c.id: token_for(c) for c in [*people, extra]}
    for contact in [*people, extra]:
        answer(client, tokens[contact.id], session.id, "yes")
    states = [(rsvp_of(session, c).waitlisted) for c in [*people, extra]]
    assert states == [False, False, True, True]
    page = client.get(f"/m/{tokens[extra.id]}").get_data(as_text=True)
    assert "Wachtlijst, nummer 2" in page
    answer(client, tokens[gent["jan"].id], session.id, "no")
    assert not rsvp_of(session, gent["sofie"]).waitlisted
    assert rsvp_of(session, extra).waitlisted
    promotion = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "promotion"))
    assert promotion.recipient == gent["sofie"].email
    assert any("promotion" in f.name for f in outbox_files(app))
    assert promotion.status == "sent"
    change = db.session.scalar(select(RsvpChange).where(RsvpChange.by_system == "promoted"))
    assert change.old_waitlisted is True and change.new_waitlisted is False


def test_raising_the_capacity_promotes_the_waitlist(logged_in, client, gent):
    session = gent["session"]
    session.capacity = 1
    db.session.commit()
    for c in (gent["jan"], gent["sofie"], gent["hanne"]):
        answer(client, token_for(c), session.id, "yes")
    logged_in.post(
        f"/sessions/{session.id}/edit",
        data={"title": session.title, "capacity": "2"},
    )
    assert [
        rsvp_of(session, c).waitlisted for c in (gent["jan"], gent["sofie"], gent["hanne"])
    ] == [
        False,
        False,
        True,
    ]


def test_lowering_the_capacity_keeps_given_seats(client, gent):
    session = gent["session"]
    for c in (gent["jan"], gent["sofie"]):
        answer(client, token_for(c), session.id, "yes")
    session.capacity = 1
    db.session.commit()
    answer(client, token_for(gent["sofie"]), session.id, "yes", note="toch iets later")
    assert not rsvp_of(session, gent["sofie"]).waitlisted


# --- leaving ----------------------------------------------------------------------------------


def test_a_facility_that_leaves_frees_its_seats_and_the_link_stops_showing_the_network(
    logged_in, client, gent
):
    session = gent["session"]
    session.capacity = 1
    db.session.commit()
    sofie_token = token_for(gent["sofie"])
    answer(client, sofie_token, session.id, "yes")
    answer(client, token_for(gent["jan"]), session.id, "yes")
    assert rsvp_of(session, gent["jan"]).waitlisted
    membership = next(
        m for m in gent["network"].memberships if m.facility_id == gent["zonnebloem"].id
    )
    response = logged_in.post(
        f"/networks/{gent['network'].slug}/members/{membership.id}/leave",
        data={"left_on": date.today().isoformat()},
    )
    assert response.status_code in (302, 303)
    assert rsvp_of(session, gent["sofie"]).answer == "withdrawn"
    assert not rsvp_of(session, gent["jan"]).waitlisted
    page = client.get(f"/m/{sofie_token}").get_data(as_text=True)
    assert f'id="session-{session.id}"' not in page
    history = db.session.scalars(
        select(RsvpChange).where(RsvpChange.rsvp_id == rsvp_of(session, gent["sofie"]).id)
    ).all()
    assert [h.new_answer for h in history] == ["yes", "withdrawn"]


def test_a_person_who_leaves_the_facility_frees_their_seat(logged_in, client, gent):
    session = gent["session"]
    session.capacity = 1
    db.session.commit()
    answer(client, token_for(gent["hanne"]), session.id, "yes")
    answer(client, token_for(gent["jan"]), session.id, "yes")
    hanne = gent["hanne"]
    logged_in.post(
        f"/contacts/{hanne.id}/edit",
        data={"name": hanne.name, "email": hanne.email, "preferred_language": "nl"},
    )
    db.session.refresh(hanne)
    assert not hanne.active
    assert rsvp_of(session, hanne).answer == "withdrawn"
    assert not rsvp_of(session, gent["jan"]).waitlisted


# --- the facilitator's view -------------------------------------------------------------------


def test_the_session_page_shows_counts_answers_notes_waitlist_and_who_has_not_answered(
    logged_in, client, gent
):
    session = gent["session"]
    session.capacity = 1
    db.session.commit()
    answer(client, token_for(gent["jan"]), session.id, "yes", note="glutenvrij")
    answer(client, token_for(gent["sofie"]), session.id, "yes")
    html = logged_in.get(f"/sessions/{session.id}").get_data(as_text=True)
    answers = html.split('id="answers"')[1]
    assert "glutenvrij" in answers
    assert "Wachtlijst" in answers and "Sofie Claes" in answers.split("Wachtlijst")[2]
    assert "Hanne De Smet" in answers


def test_facilitator_may_answer_after_the_deadline(logged_in, gent):
    session = gent["session"]
    session.rsvp_deadline = utcnow() - timedelta(days=1)
    db.session.commit()
    logged_in.post(
        f"/sessions/{session.id}/answers", data={"contact": gent["jan"].id, "answer": "yes"}
    )
    assert rsvp_of(session, gent["jan"]).answer == "yes"


def test_another_facilitator_cannot_answer_for_this_network(app, gent):
    other = factories.user(email="x@example.org")
    client = app.test_client()
    login(client, other.email)
    response = client.post(
        f"/sessions/{gent['session'].id}/answers", data={"contact": gent["jan"].id, "answer": "yes"}
    )
    assert response.status_code == 403
    assert rsvp_of(gent["session"], gent["jan"]) is None


def test_dashboard_shows_the_next_session_with_its_count(logged_in, client, gent):
    answer(client, token_for(gent["jan"]), gent["session"].id, "yes")
    html = logged_in.get("/").get_data(as_text=True)
    assert "1 persoon komt" in html


# --- statement counts -------------------------------------------------------------------------


@pytest.mark.parametrize("hosting", [False, True], ids=["guest", "host"])
def test_member_page_statements_do_not_grow_with_sessions(client, gent, count_queries, hosting):
    token = token_for(gent["sofie"])
    host = gent["zonnebloem"] if hosting else gent["ukkepuk"]
    factories.session(gent["network"], host, days_ahead=35)
    db.session.commit()
    client.get(f"/m/{token}")
    count_queries.statements.clear()
    client.get(f"/m/{token}")
    few = count_queries.count
    for n in range(30):
        s = factories.session(gent["network"], host, days_ahead=40 + n)
        services.answer(s.id, gent["jan"], "yes")
        services.answer(s.id, gent["hanne"], "maybe")
    db.session.commit()
    count_queries.statements.clear()
    client.get(f"/m/{token}")
    assert count_queries.count == few, count_queries.statements


def test_moving_to_a_bigger_room_promotes_the_waitlist(logged_in, client, gent):
    session = gent["session"]  # at Ukkepuk, room for 2
    for c in (gent["jan"], gent["sofie"], gent["hanne"]):
        answer(client, token_for(c), session.id, "yes")
    assert rsvp_of(session, gent["hanne"]).waitlisted
    big = gent["zonnebloem"]
    big.room_capacity = 30
    db.session.commit()
    local = session.starts_at.astimezone(ZoneInfo("Europe/Brussels"))
    response = logged_in.post(
        f"/sessions/{session.id}/move",
        data={
            "day": local.date().isoformat(),
            "start_time": local.strftime("%H:%M"),
            "end_time": "22:30",
            "host_id": big.id,
        },
    )
    assert response.status_code == 302
    assert not rsvp_of(session, gent["hanne"]).waitlisted


def test_answer_statements_do_not_grow_with_answers(client, gent, count_queries):
    token = token_for(gent["sofie"])
    answer(client, token, gent["session"].id, "maybe")
    count_queries.statements.clear()
    answer(client, token, gent["session"].id, "no")
    few = count_queries.count
    for n in range(40):
        extra = factories.contact(gent["ukkepuk"], email=f"x{n}@example.org")
        services.answer(gent["session"].id, extra, "yes")
    count_queries.statements.clear()
    answer(client, token, gent["session"].id, "maybe")
    assert count_queries.count == few, count_queries.statements


def test_a_link_made_under_another_secret_key_is_replaced_not_shown_broken(app, gent):
    from learnnet.rsvp.contacts import ensure_link, token_of

    old = token_for(gent["sofie"])
    app.config["SECRET_KEY"] = "another-secret-" + "z" * 40
    link = ensure_link(gent["sofie"])
    db.session.commit()
    new = token_of(link)
    assert new != old
    assert app.test_client().get(f"/m/{new}").status_code == 200


def test_the_session_page_shows_its_answers_once(logged_in, gent):
    html = logged_in.get(f"/sessions/{gent['session'].id}").get_data(as_text=True)
    assert html.count('id="answers"') == 1
    assert "<section" not in html.split("<title>")[1].split("</title>")[0]


def test_the_session_page_has_one_on_behalf_form_and_a_link_per_person(logged_in, gent):
    """Not a form per person (400 contacts made a 450 KB page), nor a drop-down of every
    contact: one form, which a person's link (or a search) opens with them and their
    answer chosen; after saving, their row."""
    session, jan = gent["session"], gent["jan"]
    url = f"/sessions/{session.id}"
    html = logged_in.get(url).get_data(as_text=True)
    assert html.count('class="on-behalf card"') == 1 and 'name="contact"' not in html
    assert f'<option value="{jan.id}"' not in html  # no drop-down of every person
    for person in (gent["sofie"], gent["hanne"], jan):
        assert f'href="{url}?person={person.id}#on-behalf"' in html

    saved = logged_in.post(
        f"{url}/answers", data={"contact": jan.id, "answer": "maybe", "note": "Misschien later"}
    )
    assert saved.status_code == 303 and saved.location.endswith(f"{url}#person-{jan.id}")
    chosen = logged_in.get(f"{url}?person={jan.id}").get_data(as_text=True)
    form = chosen.split('id="on-behalf"')[1].split("</form>")[0]
    assert f'name="contact" id="on-behalf-contact" value="{jan.id}"' in form
    assert jan.name in form
    assert '<option value="maybe" selected>' in form
    assert 'value="Misschien later"' in form
    for junk in ("x", "99999999999999", "-1"):  # a typed address chooses nobody, no 500
        page = logged_in.get(f"{url}?person={junk}")
        assert page.status_code == 200
        assert 'name="contact"' not in page.get_data(as_text=True)


def test_the_on_behalf_search_finds_people_by_name_or_facility(logged_in, gent):
    """Without JavaScript: the search is a GET form; its results link to the form."""
    session, jan, sofie = gent["session"], gent["jan"], gent["sofie"]
    url = f"/sessions/{session.id}"
    for text, person in ((jan.name.split()[0].upper(), jan), (sofie.facility.name[:6], sofie)):
        html = logged_in.get(url, query_string={"q": text}).get_data(as_text=True)
        found = html.split('class="plain on-behalf-found"')[1].split("</ul>")[0]
        assert f'href="{url}?person={person.id}#on-behalf"' in found, text
        assert f'value="{text}"' in html  # what was typed stays
    nobody = logged_in.get(url, query_string={"q": "<Zzyzx>"}).get_data(as_text=True)
    found = nobody.split('class="plain on-behalf-found"')[1].split("</ul>")[0]
    assert "?person=" not in found and "&lt;Zzyzx&gt;" in found
