"""Logging in and out, ending logins, rate limits and ?next= handling."""

from __future__ import annotations

import time

import pytest

from learnnet.auth import services
from learnnet.auth.views import safe_next
from learnnet.extensions import db
from tests import factories
from tests.conftest import login


def test_login_redirects_to_dashboard_and_shows_my_name(client, facilitator):
    response = login(client, facilitator.email)
    assert response.status_code == 302
    assert response.location == "/"
    page = client.get("/")
    assert "Dag An" in page.get_data(as_text=True)  # greeted by first name


def test_login_is_case_insensitive_for_email(client, facilitator):
    assert login(client, "  AN@Example.org ").status_code == 302


@pytest.mark.parametrize(
    ("email", "password"),
    [("an@example.org", "wrong password"), ("nobody@example.org", factories.PASSWORD)],
)
def test_wrong_credentials_get_one_clear_message_and_keep_the_email(
    client, facilitator, email, password
):
    response = login(client, email, password)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "horen niet bij een actief account" in html
    assert f'value="{email}"' in html
    assert 'value="wrong password"' not in html


def test_empty_login_form_names_the_missing_fields(client):
    html = client.post("/login", data={}).get_data(as_text=True)
    assert html.count('class="error"') == 2


def test_deactivated_account_cannot_log_in(client, facilitator):
    facilitator.active = False
    db.session.commit()
    assert login(client, facilitator.email).status_code == 200


def test_anonymous_user_is_sent_to_login_with_next(client):
    response = client.get("/facilities?q=gent")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/facilities", "/facilities"),
        ("/networks/x?tab=1", "/networks/x?tab=1"),
        ("https://evil.example/", None),
        ("//evil.example/", None),
        ("/\\evil.example", None),
        ("javascript:alert(1)", None),
        ("evil", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_next_only_follows_paths_on_this_site(target, expected):
    assert safe_next(target) == expected


def test_login_follows_a_local_next_but_not_a_foreign_one(client, facilitator):
    ok = client.post(
        "/login?next=/facilities", data={"email": facilitator.email, "password": factories.PASSWORD}
    )
    assert ok.location == "/facilities"
    client.post("/logout")
    bad = client.post(
        "/login?next=https://evil.example/",
        data={"email": facilitator.email, "password": factories.PASSWORD},
    )
    assert bad.location == "/"


def test_session_cookie_changes_at_login_and_is_httponly_and_lax(client, facilitator):
    client.get("/login")
    before = client.get_cookie("session")
    response = login(client, facilitator.email)
    after = client.get_cookie("session")
    assert after is not None
    assert before is None or before.value != after.value
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Secure" not in header  # laptop: plain http


def _copy_session(client, other):
    other.set_cookie("session", client.get_cookie("session").value)


def test_logout_ends_every_login_including_a_copied_cookie(app, client, facilitator):
    login(client, facilitator.email)
    thief = app.test_client()
    _copy_session(client, thief)
    assert thief.get("/").status_code == 200
    laptop = app.test_client()
    login(laptop, facilitator.email)
    client.post("/logout")
    assert thief.get("/").status_code == 302
    assert laptop.get("/").status_code == 302


def test_changing_the_password_ends_other_logins_but_keeps_this_one(app, client, facilitator):
    login(client, facilitator.email)
    other = app.test_client()
    login(other, facilitator.email)
    response = client.post(
        "/account",
        data={
            "password-current_password": factories.PASSWORD,
            "password-new_password": "a brand new password",
            "password-confirm": "a brand new password",
            "password-submit": "1",
        },
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 302
    assert login(app.test_client(), facilitator.email, "a brand new password").status_code == 302


def test_password_change_with_wrong_current_password_is_refused_beside_the_field(logged_in):
    html = logged_in.post(
        "/account",
        data={
            "password-current_password": "nope nope nope",
            "password-new_password": "a brand new password",
            "password-confirm": "a brand new password",
            "password-submit": "1",
        },
    ).get_data(as_text=True)
    assert 'id="password-current_password-error"' in html


def test_deactivating_an_account_ends_its_logins(app, client, admin, facilitator):
    victim = app.test_client()
    login(victim, facilitator.email)
    assert victim.get("/").status_code == 200
    login(client, admin.email)
    response = client.post(
        f"/admin/users/{facilitator.id}/edit",
        data={"name": facilitator.name, "email": facilitator.email, "role": "facilitator"},
    )
    assert response.status_code == 302
    assert victim.get("/").status_code == 302


def test_login_expires_after_inactivity(app_factory):
    app = app_factory(PERMANENT_SESSION_LIFETIME=1)
    with app.app_context():
        user = factories.user(email="x@example.org")
        client = app.test_client()
        login(client, user.email)
        assert client.get("/").status_code == 200
        time.sleep(2.1)
        assert client.get("/").status_code == 302


def test_login_is_limited_per_account(app_factory):
    app = app_factory()
    with app.app_context():
        user = factories.user(email="x@example.org")
        for _ in range(5):
            assert login(app.test_client(), user.email, "wrong").status_code == 200
        blocked = login(app.test_client(), user.email)  # even the right password now waits
        assert blocked.status_code == 429
        assert "Te veel pogingen" in blocked.get_data(as_text=True)
        other = factories.user(email="y@example.org")
        assert login(app.test_client(), other.email).status_code == 302


def test_login_is_limited_per_address(app_factory):
    app = app_factory(LOGIN_LIMIT_PER_ADDRESS="3 per 15 minutes")
    with app.app_context():
        for n in range(3):
            login(app.test_client(), f"guess{n}@example.org", "wrong")
        assert login(app.test_client(), "guess9@example.org", "wrong").status_code == 429


def test_successful_logins_do_not_count_towards_the_limit(app_factory):
    app = app_factory()
    with app.app_context():
        user = factories.user(email="x@example.org")
        for _ in range(8):
            client = app.test_client()
            assert login(client, user.email).status_code == 302


def test_rate_limits_are_shared_through_redis_between_workers(app_factory):
    """Two app instances (two workers) see each other's failed attempts via Redis."""
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).flushdb()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis server on 127.0.0.1:6379")
    worker_a = app_factory(RATELIMIT_STORAGE_URI=url, LOGIN_LIMIT_PER_ACCOUNT="4 per 15 minutes")
    worker_b = app_factory(RATELIMIT_STORAGE_URI=url, LOGIN_LIMIT_PER_ACCOUNT="4 per 15 minutes")
    try:
        with worker_a.app_context():
            factories.user(email="shared@example.org")
        for worker in (worker_a, worker_b):
            with worker.app_context():
                for _ in range(2):
                    assert (
                        login(worker.test_client(), "shared@example.org", "bad").status_code == 200
                    )
        with worker_a.app_context():
            assert login(worker_a.test_client(), "shared@example.org").status_code == 429
    finally:
        redis.Redis.from_url(url).flushdb()


def test_authenticate_records_last_login(app, facilitator):
    assert services.authenticate(facilitator.email, factories.PASSWORD) is facilitator
    assert facilitator.last_login_at is not None
