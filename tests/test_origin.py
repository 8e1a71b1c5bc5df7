"""Forms must come from this site: Origin, else Referer (issue 19, items 1 and 12).

The rule itself with plain strings, then the app over HTTPS with CSRF switched on:
a personal link's answer, a reset and a login posted the way a browser posts them
from pages with ``Referrer-Policy: strict-origin``, and forged or broken headers.
"""

from __future__ import annotations

import pytest
from flask import Flask

from learnnet.extensions import db
from learnnet.origin import comes_from_here, origin_of
from learnnet.rsvp.contacts import ensure_link, token_of
from tests import factories
from tests.conftest import csrf_token_from

HOST = "learnnet.example.org"
BASE = f"https://{HOST}"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://learnnet.example.org", ("https", HOST, 443)),
        ("https://LearnNet.Example.org:443/m/abc", ("https", HOST, 443)),
        ("http://127.0.0.1:5000/x", ("http", "127.0.0.1", 5000)),
        ("https://127.0.0.1:5203.evil.example/", None),  # a port that is no number
        ("https://[::1", None),  # an unclosed IPv6 address
        ("https://h:99999999/", None),  # out of range
        ("javascript:alert(1)", None),
        ("null", None),
        ("", None),
        ("//learnnet.example.org/", None),
    ],
)
def test_origin_of_reads_what_it_can_and_refuses_the_rest(url, expected):
    assert origin_of(url) == expected


@pytest.mark.parametrize(
    ("scheme", "origin", "referer", "allowed"),
    [
        ("https", BASE, None, True),
        ("https", BASE + ":443", None, True),
        ("https", "https://evil.example", BASE + "/m/x", False),  # Origin wins
        ("https", "http://learnnet.example.org", None, False),  # another scheme
        ("https", "https://learnnet.example.org.evil.example", None, False),
        ("https", None, BASE + "/", True),  # strict-origin: only the origin
        ("https", "null", BASE + "/", True),  # null: the Referer decides
        ("https", "null", None, False),
        ("https", None, None, False),  # neither: refused over HTTPS
        ("https", None, "https://127.0.0.1:5203.evil.example/", False),
        ("http", None, None, True),  # a laptop over plain HTTP
        ("http", "https://evil.example", None, False),
    ],
)
def test_comes_from_here(scheme, origin, referer, allowed):
    assert comes_from_here(scheme, HOST, origin, referer) is allowed


@pytest.fixture
def https_app(app_factory) -> Flask:
    """CSRF on, as in production; requests over HTTPS to a trusted host."""
    return app_factory(WTF_CSRF_ENABLED=True, TRUSTED_HOSTS=[HOST])


def _member(app: Flask) -> tuple[str, int]:
    with app.app_context():
        network = factories.network()
        facility = factories.facility()
        factories.member(network, facility)
        contact = factories.contact(facility)
        session = factories.session(network, host=facility)
        token = token_of(ensure_link(contact))
        db.session.commit()
        return token, session.id


def _answer(client, token: str, session_id: int, **headers: str):
    page = client.get(f"/m/{token}", base_url=BASE)
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "strict-origin"
    return client.post(
        f"/m/{token}/sessions/{session_id}",
        data={"answer": "yes", "csrf_token": csrf_token_from(page.get_data(as_text=True))},
        base_url=BASE,
        headers=headers,
    )


def test_a_member_answers_over_https_with_the_headers_a_browser_sends(https_app):
    """Chromium on a strict-origin page: Origin and a Referer of the origin only.

    Before the fix this was 400: Flask-WTF's HTTPS check wanted a Referer naming a page
    of this site, and the token pages sent none at all.
    """
    token, session_id = _member(https_app)
    client = https_app.test_client()
    response = _answer(client, token, session_id, Origin=BASE, Referer=BASE + "/")
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]


def test_a_member_answers_over_https_when_only_origin_is_sent(https_app):
    token, session_id = _member(https_app)
    response = _answer(https_app.test_client(), token, session_id, Origin=BASE)
    assert response.status_code in (302, 303)


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "https://evil.example", "Referer": BASE + "/"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/page"},
        {},
    ],
    ids=["other-origin", "other-origin-own-referer", "null", "other-referer", "none"],
)
def test_a_post_from_elsewhere_is_refused_with_a_clear_page(https_app, headers):
    token, session_id = _member(https_app)
    response = _answer(https_app.test_client(), token, session_id, **headers)
    assert response.status_code == 400
    assert "niet vanaf een pagina van deze site" in response.get_data(as_text=True)
    with https_app.app_context():
        from learnnet.rsvp.models import Rsvp

        assert db.session.query(Rsvp).count() == 0  # nothing written


@pytest.mark.parametrize(
    "referer",
    [
        "https://127.0.0.1:5203.evil.example/",
        "https://learnnet.example.org:notaport/",
        "https://[::1/",
        "https://learnnet.example.org:99999999/",
    ],
)
def test_a_referer_with_a_broken_port_is_a_400_not_a_500(https_app, referer):
    """Item 12: Flask-WTF's check read ``urlparse(referer).port`` and raised ValueError."""
    client = https_app.test_client()
    page = client.get("/login", base_url=BASE)
    response = client.post(
        "/login",
        data={
            "email": "a@example.org",
            "password": "x",
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
        },
        base_url=BASE,
        headers={"Referer": referer},
    )
    assert response.status_code == 400


def test_login_and_reset_over_https_with_origin(https_app):
    with https_app.app_context():
        user = factories.user()
        db.session.commit()
        email = user.email
    client = https_app.test_client()
    page = client.get("/account/forgot", base_url=BASE)
    response = client.post(
        "/account/forgot",
        data={"email": email, "csrf_token": csrf_token_from(page.get_data(as_text=True))},
        base_url=BASE,
        headers={"Origin": BASE},
    )
    assert response.status_code in (200, 302, 303)
    page = client.get("/login", base_url=BASE)
    response = client.post(
        "/login",
        data={
            "email": email,
            "password": factories.PASSWORD,
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
        },
        base_url=BASE,
        headers={"Origin": BASE, "Referer": BASE + "/login"},
    )
    assert response.status_code in (302, 303)


def test_a_next_that_is_no_url_is_ignored_not_a_500(client):
    response = client.get("/login?next=//[::1")
    assert response.status_code == 200


FOREIGN = [
    {"Origin": "https://evil.example"},
    {"Origin": "https://learnnet.example.org:8443"},
    {"Origin": "http://learnnet.example.org"},
    {"Origin": "https://learnnet.example.org.evil.example"},
    {"Origin": "null"},
    {"Origin": "https://[::1"},
    {"Referer": "https://127.0.0.1:5203.evil.example/"},
    {"Referer": "https://evil.example/learnnet.example.org/"},
    {"Referer": "not a url"},
    {},
]
OWN = [{"Origin": BASE}, {"Referer": BASE + "/"}, {"Origin": "null", "Referer": BASE + "/x"}]


def _post_urls(app: Flask) -> list[str]:
    """One URL per POST route, with placeholder values for its arguments."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or ()):
            continue
        if rule.rule.startswith("/api/"):
            # Bearer tokens, never cookies: exempt from the origin check by design (no page
            # of another site can forge a token); tests/test_routes_access.py walks them.
            continue
        values = {
            name: 1 if type(rule._converters[name]).__name__ == "IdConverter" else "x"
            for name in rule.arguments
        }
        urls.append(_build(app, rule.endpoint, values))
    return sorted(set(urls))


def _build(app: Flask, endpoint: str, values: dict) -> str:
    with app.test_request_context(base_url=BASE):
        from flask import url_for

        return url_for(endpoint, **values)


def test_every_post_route_refuses_foreign_origins_and_never_fails(https_app):
    """The fuzz of the issue's quality list: Origin/Referer variants on every POST.

    As an admin (so that access rules let the request through to the view), every
    foreign or broken header is a 400 before any view runs; the site's own origin
    reaches the view, which may answer 4xx for placeholder ids but never 500.
    """
    with https_app.app_context():
        admin = factories.user(role="admin")
        db.session.commit()
        email = admin.email
    client = https_app.test_client()
    page = client.get("/login", base_url=BASE)
    client.post(
        "/login",
        data={
            "email": email,
            "password": factories.PASSWORD,
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
        },
        base_url=BASE,
        headers={"Origin": BASE},
    )
    urls = _post_urls(https_app)
    assert len(urls) > 30
    for url in urls:
        for headers in FOREIGN:
            response = client.post(url, data={}, base_url=BASE, headers=headers)
            assert response.status_code == 400, (url, headers, response.status_code)
        for headers in OWN:
            response = client.post(url, data={}, base_url=BASE, headers=headers)
            assert response.status_code < 500, (url, headers, response.status_code)
