"""One rule for one-line names (issue 19, item 6): every way a name gets in refuses a line
break or another control character, with a message beside the field, what was typed
kept and nothing written. The CSV import is tested in test_csv.py and test_form_csv_agree.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from learnnet.attendance.models import Attendance
from learnnet.auth.models import User
from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.names import describe, is_one_line, refused_characters
from learnnet.networks.models import Contact, Facility, Network
from tests import factories
from tests.conftest import login
from tests.rsvp_helpers import token_for

# Each breaks a mail header: CR/LF, the Unicode line and paragraph separators, vertical
# tab, form feed, NEL; NUL, ESC and DEL corrupt it.
BREAKERS = ["\r\n", "\n", "\r", "\u2028", "\u2029", "\x0b", "\x0c", "\x85", "\x00", "\x1b", "\x7f"]
# NUL never reaches a form: the app answers 400 to any request holding one.
FORM_BREAKERS = [c for c in BREAKERS if c != "\x00"]
MESSAGE = "Schrijf dit op één regel, zonder regeleinden of andere onzichtbare stuurtekens."


@pytest.mark.parametrize("char", [*BREAKERS, "\t", "\x9b", "\ud800"])
def test_the_rule_refuses_control_characters_and_line_separators(char):
    value = f"Ilse{char}Bcc: x@evil.example"
    assert not is_one_line(value)
    assert refused_characters(value + char) == list(dict.fromkeys(char))


@pytest.mark.parametrize(
    "value",
    [
        "Ilse Vermeulen",
        "Zoë O'Brien-Ñúñez",
        "’t Kriebeltje",
        "Crèche 👶🏽",
        "\u202e\u200b\ufeff",
        "",
    ],
)
def test_the_rule_keeps_ordinary_names(value):
    assert is_one_line(value) and refused_characters(value) == []


def test_refused_characters_are_described_as_code_points():
    assert describe(refused_characters("a\r\nb\u2028\r")) == "U+000D, U+000A, U+2028"


def _count(model: Any) -> int:
    return db.session.scalar(select(func.count(model.id)))


@pytest.fixture
def world(app, network, facilitator):
    """A network with a session, a contact with a personal link, and an admin; the
    facilitator may start networks (the network form is among the forms tried)."""
    facilitator.may_create_networks = True
    zonnebloem = network.memberships[0].facility
    sofie = zonnebloem.contacts[0]
    start = utcnow() - timedelta(hours=1)  # under way: check-in is open
    session = factories.session(
        network, zonnebloem, starts_at=start, ends_at=start + timedelta(hours=2)
    )
    admin = factories.user(email="admin@example.org", name="Admin", role="admin")
    db.session.commit()
    return {
        "network": network,
        "facility": zonnebloem,
        "session": session,
        "token": token_for(sofie),
        "facilitator": facilitator,
        "admin": admin,
    }


# (who posts, url, the other fields, the name field, the table a success would write to)
PATHS = {
    "network": (
        "facilitator",
        lambda w: "/networks/new",
        {"timezone": "Europe/Brussels"},
        "name",
        Network,
    ),
    "facility": (
        "facilitator",
        lambda w: f"/networks/{w['network'].slug}/members/new",
        {
            "name": "Kinderopvang De Regenboog",
            "street": "Dorpsstraat 4",
            "postcode": "9050",
            "city": "Gentbrugge",
            "willing_to_host": "1",
            "joined_on": "2026-09-01",
        },
        "name",
        Facility,
    ),
    "street": (
        "facilitator",
        lambda w: f"/networks/{w['network'].slug}/members/new",
        {
            "name": "Kinderopvang De Regenboog",
            "postcode": "9050",
            "city": "Gentbrugge",
            "willing_to_host": "1",
            "joined_on": "2026-09-01",
        },
        "street",
        Facility,
    ),
    "city": (
        "facilitator",
        lambda w: f"/networks/{w['network'].slug}/members/new",
        {
            "name": "Kinderopvang De Regenboog",
            "postcode": "9050",
            "willing_to_host": "1",
            "joined_on": "2026-09-01",
        },
        "city",
        Facility,
    ),
    "contact": (
        "facilitator",
        lambda w: f"/facilities/{w['facility'].id}/contacts/new",
        {"email": "new@example.org", "preferred_language": "nl", "active": "y"},
        "name",
        Contact,
    ),
    "colleague (personal link)": (
        "member",
        lambda w: f"/m/{w['token']}/colleagues",
        {"colleague-email": "colleague@example.org"},
        "colleague-name",
        Contact,
    ),
    "walk-in": (
        "facilitator",
        lambda w: f"/sessions/{w['session'].id}/walk-in",
        {"walkin-facility_id": "0", "walkin-email": "walkin@example.org"},
        "walkin-name",
        Attendance,
    ),
    "account": (
        "admin",
        lambda w: "/admin/users/new",
        {"email": "new@example.org", "role": "facilitator", "locale": "nl"},
        "name",
        User,
    ),
}


def _client(app, world, who: str) -> Any:
    client = app.test_client()
    if who == "member":
        client.get(f"/m/{world['token']}")
    else:
        login(client, world[who].email)
    return client


@pytest.mark.parametrize("char", FORM_BREAKERS)
@pytest.mark.parametrize("path", sorted(PATHS))
def test_every_form_refuses_a_name_that_would_break_a_mail_header(app, world, path, char):
    who, url, data, field, model = PATHS[path]
    client = _client(app, world, who)
    before = _count(model)
    name = f"Ilse{char}Bcc: everyone@evil.example"
    response = client.post(url(world), data={**data, field: name})
    html = response.get_data(as_text=True)
    assert response.status_code in (200, 400), (path, response.status_code)
    assert MESSAGE in html, path
    assert "Bcc: everyone@evil.example" in html, path  # what was typed is kept
    assert _count(model) == before, path


@pytest.mark.parametrize("path", sorted(PATHS))
def test_every_form_still_takes_an_ordinary_name(app, world, path):
    who, url, data, field, model = PATHS[path]
    client = _client(app, world, who)
    before = _count(model)
    response = client.post(url(world), data={**data, field: "Zoë O'Brien"})
    assert response.status_code in (302, 303), (path, response.get_data(as_text=True)[:2000])
    assert _count(model) == before + 1, path


@pytest.mark.parametrize("char", ["\n", "\u2028", "\x1b"])
def test_ones_own_name_in_the_profile(app, world, char):
    client = _client(app, world, "facilitator")
    response = client.post(
        "/account",
        data={"profile-name": f"An{char}Peeters", "profile-locale": "", "profile-submit": "1"},
    )
    assert MESSAGE in response.get_data(as_text=True)
    db.session.refresh(world["facilitator"])
    assert world["facilitator"].name == "An Peeters"


def test_create_user_refuses_such_a_name(app):
    result = app.test_cli_runner().invoke(
        args=[
            "create-user",
            "--email",
            "x@example.org",
            "--name",
            "X\r\nBcc: y@example.org",
            "--password",
            "correct horse battery",
        ]
    )
    assert result.exit_code != 0 and "one line" in result.output
    assert _count(User) == 0
