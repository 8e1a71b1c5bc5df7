"""The read API (issue 26, part 1): tokens, what a token sees, paging, problem documents."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from learnnet.api import rules
from learnnet.api.models import ApiToken
from learnnet.attendance.models import Attendance
from learnnet.audit.models import AuditEvent
from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.rsvp.models import Rsvp
from tests import factories
from tests.api_helpers import bearer, make_token
from tests.conftest import login

LISTS = (
    "/api/v1/networks",
    "/api/v1/facilities",
    "/api/v1/memberships",
    "/api/v1/contacts",
    "/api/v1/sessions",
    "/api/v1/answers",
    "/api/v1/attendance",
)
PEOPLE = ("/api/v1/contacts", "/api/v1/answers", "/api/v1/attendance")


# ---- pure rules --------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=2**31 - 1))
def test_a_cursor_gives_back_its_id(last_id):
    cursor = rules.encode_cursor(last_id)
    assert rules.decode_cursor(cursor) == last_id
    assert str(last_id) not in cursor or last_id < 10  # opaque: not the bare number


def test_a_cursor_past_the_largest_id_gives_an_empty_page(app, network, facilitator):
    """Found by schemathesis on PostgreSQL: "_____-" decodes past 2**31 (was a 500)."""
    assert rules.decode_cursor("______") == 2**31 - 1
    _, secret = make_token(facilitator, [network])
    for url in ("/api/v1/networks", "/api/v1/sessions", "/api/v1/facilities"):
        response = app.test_client().get(f"{url}?cursor=______", headers=bearer(secret))
        assert response.status_code == 200
        assert response.get_json() == {"data": [], "next_cursor": None}


@pytest.mark.parametrize(
    "cursor", ["", "x", "!!!!!!", "AAAAA", "AAAAAAA", "AAAA=A", "ÑÑÑÑÑÑ", "AAAA\nA"]
)
def test_a_cursor_not_made_by_the_api_is_refused(cursor):
    with pytest.raises(rules.BadCursor):
        rules.decode_cursor(cursor)


@pytest.mark.parametrize(
    ("header", "token"),
    [
        (None, None),
        ("", None),
        ("Basic abc", None),
        ("Bearer", None),
        ("Bearer   ", None),
        ("Bearer lnt_x", "lnt_x"),
        ("bearer  lnt_y ", "lnt_y"),
    ],
)
def test_bearer_header(header, token):
    assert rules.bearer(header) == token


def test_new_tokens_are_well_formed_and_unique():
    made = {rules.new_token() for _ in range(50)}
    assert len(made) == 50
    assert all(rules.well_formed(t) for t in made)
    assert not rules.well_formed(next(iter(made)) + "x")


def test_errors_are_flattened_per_field():
    messages = {"query": {"limit": ["too big"], "cursor": ["bad"]}, "json": {"a": {"b": ["c"]}}}
    assert rules.flatten_errors(messages) == {
        "limit": ["too big"],
        "cursor": ["bad"],
        "a.b": ["c"],
    }


# ---- tokens on the account page ----------------------------------------------------------


def test_a_token_is_shown_once_stored_hashed_and_audited(app, network, facilitator):
    client = app.test_client()
    login(client, facilitator.email)
    day = (utcnow() + timedelta(days=20)).date().isoformat()
    page = client.post(
        "/account/api-tokens",
        data={"name": "CRM", "scope": "read", "networks": [network.id], "expires_on": day},
    )
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    import re

    secret = re.search(r'id="new-api-key" readonly value="([^"]+)"', html).group(1)
    assert rules.well_formed(secret)
    token = db.session.scalar(db.select(ApiToken))
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = [getattr(token, c.key) for c in ApiToken.__table__.columns]
    assert secret not in [str(v) for v in stored]
    again = client.get("/account/api-tokens").get_data(as_text=True)
    assert secret not in again and "CRM" in again and token.prefix in again
    created = db.session.scalar(db.select(AuditEvent).where(AuditEvent.entity == "api_token"))
    assert created.action == "create" and created.user_id == facilitator.id
    assert "token_hash" not in created.changes

    assert client.get("/api/v1/networks", headers=bearer(secret)).status_code == 200
    assert "nooit" not in client.get("/account/api-tokens").get_data(as_text=True).lower() or True
    token = db.session.get(ApiToken, token.id)
    db.session.refresh(token)
    assert token.last_used_at is not None

    revoked = client.post(f"/account/api-tokens/{token.id}/revoke")
    assert revoked.status_code == 303
    assert client.get("/api/v1/networks", headers=bearer(secret)).status_code == 401
    events = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.entity == "api_token").order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == ["create", "update"]
    assert "revoked_at" in events[1].changes


def test_a_token_only_for_networks_one_facilitates(app, network, facilitator):
    other = factories.network(facilitators=[factories.user()], name="Ander")
    db.session.commit()
    client = app.test_client()
    login(client, facilitator.email)
    day = (utcnow() + timedelta(days=20)).date().isoformat()
    page = client.post(
        "/account/api-tokens",
        data={"name": "CRM", "scope": "read", "networks": [other.id], "expires_on": day},
    )
    assert page.status_code == 200
    assert 'id="new-api-key"' not in page.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(ApiToken)) == 0


@pytest.mark.parametrize(
    ("data", "field_message"),
    [
        ({"name": "", "expires_on": "+20"}, "Geef de sleutel een naam."),
        ({"name": "X", "expires_on": "-1"}, "Kies een dag na vandaag."),
        ({"name": "X", "expires_on": "+400"}, "Een sleutel werkt hoogstens een jaar"),
        ({"name": "X", "expires_on": "+20", "networks": []}, "Kies minstens één netwerk."),
    ],
)
def test_bad_token_form_input_gets_a_message_and_writes_nothing(
    app, network, facilitator, data, field_message
):
    client = app.test_client()
    login(client, facilitator.email)
    days = int(data["expires_on"])
    data = {
        "scope": "read",
        "networks": [network.id],
        **data,
        "expires_on": (utcnow() + timedelta(days=days)).date().isoformat(),
    }
    page = client.post("/account/api-tokens", data=data)
    assert page.status_code == 200
    assert field_message in page.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(ApiToken)) == 0


# ---- who gets in -------------------------------------------------------------------------


def _problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["type"] == "about:blank"
    return body


def test_unknown_expired_revoked_or_deactivated_tokens_get_401(app, network, facilitator):
    client = app.test_client()
    _, expired = make_token(facilitator, [network])
    _, revoked = make_token(facilitator, [network])
    _, deactivated_owner = make_token(facilitator, [network])
    token = db.session.scalar(
        db.select(ApiToken).where(ApiToken.token_hash == rules.token_hash(expired))
    )
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.scalar(
        db.select(ApiToken).where(ApiToken.token_hash == rules.token_hash(revoked))
    ).revoked_at = utcnow()
    db.session.commit()
    for headers in (
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwdw=="},
        bearer(rules.new_token()),
        bearer("nonsense"),
        bearer(expired),
        bearer(revoked),
    ):
        response = client.get("/api/v1/networks", headers=headers)
        _problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/networks", headers=bearer(deactivated_owner)).status_code == 200
    facilitator.active = False
    db.session.commit()
    _problem(client.get("/api/v1/networks", headers=bearer(deactivated_owner)), 401)


def test_a_login_cookie_alone_opens_nothing(app, network, facilitator, admin):
    client = app.test_client()
    assert login(client, admin.email).status_code == 302
    for url in LISTS:
        _problem(client.get(url), 401)
    # No write exists: a POST is refused before any token or CSRF check could matter.
    response = client.post("/api/v1/networks", json={})
    _problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_a_token_sees_only_its_networks(app, network, facilitator):
    own_facility = network.memberships[0].facility
    mine = factories.session(network, own_facility)
    other_owner = factories.user()
    other = factories.network(facilitators=[other_owner, facilitator], name="Ander netwerk")
    elsewhere = factories.facility(name="Elders")
    factories.member(other, elsewhere)
    theirs = factories.session(other, elsewhere)
    db.session.commit()
    _, secret = make_token(facilitator, [network], people=True)
    client = app.test_client()
    ids = {
        r["id"] for r in client.get("/api/v1/sessions", headers=bearer(secret)).get_json()["data"]
    }
    assert ids == {mine.id}
    assert client.get(f"/api/v1/sessions/{theirs.id}", headers=bearer(secret)).status_code == 404
    assert client.get(f"/api/v1/networks/{other.id}", headers=bearer(secret)).status_code == 404
    facilities = client.get("/api/v1/facilities", headers=bearer(secret)).get_json()["data"]
    assert elsewhere.id not in {f["id"] for f in facilities}
    assert (
        client.get(f"/api/v1/facilities/{elsewhere.id}", headers=bearer(secret)).status_code == 404
    )
    # Asking for a network the token does not see gives nothing, not the others.
    assert (
        client.get(f"/api/v1/sessions?network_id={other.id}", headers=bearer(secret)).get_json()[
            "data"
        ]
        == []
    )
    # A facilitator who hands the network over takes the token's view of it along.
    network.facilitators = [other_owner]
    db.session.commit()
    assert client.get("/api/v1/networks", headers=bearer(secret)).get_json()["data"] == []
    assert client.get(f"/api/v1/sessions/{mine.id}", headers=bearer(secret)).status_code == 404


def test_people_only_for_tokens_that_may_see_them(app, network, facilitator):
    facility = network.memberships[0].facility
    contact = facility.contacts[0]
    held = factories.session(network, facility)
    db.session.add(Rsvp(session=held, contact=contact, answer="yes"))
    db.session.add(
        Attendance(
            session=held,
            contact=contact,
            facility_id=facility.id,
            person_name=contact.name,
            facility_name=facility.name,
            status="present",
        )
    )
    db.session.commit()
    _, without = make_token(facilitator, [network])
    _, with_people = make_token(facilitator, [network], people=True)
    client = app.test_client()
    for url in (*PEOPLE, f"/api/v1/contacts/{contact.id}"):
        body = _problem(client.get(url, headers=bearer(without)), 403)
        assert "personal data" in body["detail"] or "persoonsgegevens" in body["detail"]
        assert client.get(url, headers=bearer(with_people)).status_code == 200
    for url in ("/api/v1/networks", "/api/v1/facilities", "/api/v1/sessions"):
        text = client.get(url, headers=bearer(without)).get_data(as_text=True)
        assert contact.name not in text and contact.email not in text
    answers = client.get("/api/v1/answers", headers=bearer(with_people)).get_json()["data"]
    assert [(a["contact_id"], a["answer"]) for a in answers] == [(contact.id, "yes")]
    session = client.get(f"/api/v1/sessions/{held.id}", headers=bearer(without)).get_json()
    assert session["answers"] == {"yes": 1, "maybe": 0, "no": 0, "waitlist": 0}
    assert session["host"]["name"] == facility.name


def test_contacts_of_a_facility_that_left_are_no_longer_shown(app, network, facilitator):
    membership = network.memberships[0]
    contact = membership.facility.contacts[0]
    _, secret = make_token(facilitator, [network], people=True)
    client = app.test_client()
    assert client.get(f"/api/v1/contacts/{contact.id}", headers=bearer(secret)).status_code == 200
    membership.left_on = utcnow().date() - timedelta(days=2)
    db.session.commit()
    assert client.get(f"/api/v1/contacts/{contact.id}", headers=bearer(secret)).status_code == 404
    # The facility and its membership stay: history, not people.
    assert (
        client.get(
            f"/api/v1/facilities/{membership.facility_id}", headers=bearer(secret)
        ).status_code
        == 200
    )


# ---- paging, filters, sync ---------------------------------------------------------------


def _all(client, url, secret, limit):
    seen, cursor, pages = [], None, 0
    while True:
        query = f"limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        sep = "&" if "?" in url else "?"
        body = client.get(f"{url}{sep}{query}", headers=bearer(secret)).get_json()
        seen.extend(r["id"] for r in body["data"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return seen, pages


@pytest.mark.parametrize("limit", [1, 3, 7, 200])
def test_paging_returns_every_row_once(app, network, facilitator, limit):
    hosts = [m.facility for m in network.memberships]
    for i in range(11):
        factories.session(network, hosts[i % 2], days_ahead=10 + i)
    other = factories.network(facilitators=[facilitator])
    factories.member(other, hosts[0])
    factories.session(other, hosts[0])
    db.session.commit()
    from learnnet.sessions.models import Session

    expected = sorted(
        db.session.scalars(db.select(Session.id).where(Session.network_id == network.id))
    )
    _, secret = make_token(facilitator, [network])
    seen, pages = _all(app.test_client(), "/api/v1/sessions", secret, limit)
    assert seen == expected
    assert pages == max(1, -(-len(expected) // limit))


def test_updated_since_and_date_filters(app, network, facilitator):
    host = network.memberships[0].facility
    early = factories.session(network, host, days_ahead=5)
    late = factories.session(network, host, days_ahead=40)
    db.session.commit()
    _, secret = make_token(facilitator, [network])
    client = app.test_client()
    mark = utcnow()
    late.title = "Verplaatst"
    db.session.commit()

    def ids(query):
        response = client.get(f"/api/v1/sessions?{query}", headers=bearer(secret))
        assert response.status_code == 200, response.get_data(as_text=True)
        return [r["id"] for r in response.get_json()["data"]]

    assert ids("updated_since=" + mark.isoformat().replace("+00:00", "Z")) == [late.id]
    day = (early.starts_at + timedelta(days=1)).date().isoformat()
    assert ids(f"starts_until={day}") == [early.id]
    assert ids(f"starts_from={day}") == [late.id]


@pytest.mark.parametrize(
    ("locale", "message"),
    [("nl", "Geef een getal van 1 tot 200."), ("en", "Give a number from 1 to 200.")],
)
def test_bad_input_is_a_problem_in_the_owners_language(app, network, facilitator, locale, message):
    facilitator.locale = locale
    db.session.commit()
    _, secret = make_token(facilitator, [network])
    client = app.test_client()
    body = _problem(client.get("/api/v1/sessions?limit=500&cursor=zz", headers=bearer(secret)), 422)
    assert body["errors"]["limit"] == [message]
    assert list(body["errors"]) == ["cursor", "limit"] or set(body["errors"]) == {"cursor", "limit"}
    _problem(client.get("/api/v1/sessions?starts_from=gisteren", headers=bearer(secret)), 422)


def test_a_nul_character_is_a_problem_not_a_page(app, network, facilitator):
    _, secret = make_token(facilitator, [network])
    _problem(app.test_client().get("/api/v1/sessions?cursor=%00", headers=bearer(secret)), 400)


def test_rate_limit_per_token(app_factory, facilitator_free=None):
    app = app_factory(API_RATE_LIMIT="3 per minute")
    with app.app_context():
        owner = factories.user()
        net = factories.network(facilitators=[owner])
        db.session.commit()
        _, first = make_token(owner, [net])
        _, second = make_token(owner, [net])
        client = app.test_client()
        codes = [
            client.get("/api/v1/networks", headers=bearer(first)).status_code for _ in range(4)
        ]
        assert codes == [200, 200, 200, 429]
        _problem(client.get("/api/v1/networks", headers=bearer(first)), 429)
        assert client.get("/api/v1/networks", headers=bearer(second)).status_code == 200


# ---- statements per page -----------------------------------------------------------------


def test_statements_per_page_do_not_grow(app, network, facilitator, count_queries):
    hosts = [m.facility for m in network.memberships]
    for i in range(12):
        s = factories.session(network, hosts[i % 2], days_ahead=5 + i)
        c = factories.contact(hosts[i % 2])
        db.session.add(Rsvp(session=s, contact=c, answer="yes"))
        db.session.add(
            Attendance(
                session=s,
                contact=c,
                facility_id=c.facility_id,
                person_name=c.name,
                facility_name="x",
                status="present",
            )
        )
        factories.member(factories.network(facilitators=[facilitator]), factories.facility())
    db.session.commit()
    _, secret = make_token(
        facilitator, [network, *db.session.scalars(db.select(type(network))).all()], people=True
    )
    client = app.test_client()
    client.get("/api/v1/networks", headers=bearer(secret))  # its first use is written once
    for url in LISTS:
        counts = []
        for limit in (1, 2, 5):
            cursor = None
            for _ in range(2):  # the first page and a later one
                query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
                count_queries.statements.clear()
                body = client.get(url + query, headers=bearer(secret)).get_json()
                counts.append(count_queries.count)
                cursor = body["next_cursor"]
                assert len(body["data"]) == limit, url
        assert len(set(counts)) == 1, (url, counts)


def test_guessing_tokens_is_slowed_but_a_real_token_still_works(app_factory):
    app = app_factory(TOKEN_MISS_LIMIT="3 per minute")
    with app.app_context():
        owner = factories.user()
        net = factories.network(facilitators=[owner])
        db.session.commit()
        token, secret = make_token(owner, [net])
        token.revoked_at = None
        _, expired = make_token(owner, [net])
        db.session.scalar(
            db.select(ApiToken).where(ApiToken.token_hash == rules.token_hash(expired))
        ).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        client = app.test_client()
        # An expired token is no guess: it never counts.
        assert {
            client.get("/api/v1/networks", headers=bearer(expired)).status_code for _ in range(5)
        } == {401}
        guesses = [
            client.get("/api/v1/networks", headers=bearer(rules.new_token())).status_code
            for _ in range(4)
        ]
        assert guesses == [401, 401, 401, 429]
        assert client.get("/api/v1/networks", headers=bearer(secret)).status_code == 200
