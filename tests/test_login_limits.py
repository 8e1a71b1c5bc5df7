"""Login limits hold under concurrency: many worker processes, counters in Redis.

The counters are incremented before the password is checked, so 20 simultaneous wrong
passwords for one account get at most LOGIN_LIMIT_PER_ACCOUNT checks; the rest get 429.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest

from learnnet.extensions import db
from tests import factories
from tests.test_rsvp_race import Gunicorn

REDIS_URL = "redis://127.0.0.1:6379/13"


@pytest.fixture
def redis_url():
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL).flushdb()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis server on 127.0.0.1:6379")
    yield REDIS_URL
    redis.Redis.from_url(REDIS_URL).flushdb()


def test_twenty_parallel_wrong_passwords_get_at_most_five_checks(
    app_factory, db_url, tmp_path, redis_url
):
    app = app_factory()
    with app.app_context():
        factories.user(email="target@example.org")
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    server = Gunicorn(
        db_url,
        tmp_path / "gunicorn",
        RATELIMIT_ENABLED="true",
        RATELIMIT_STORAGE_URI=redis_url,
        LOGIN_LIMIT_PER_ACCOUNT="5 per 15 minutes",
    )
    body = urlencode({"email": "target@example.org", "password": "wrong password!"})
    try:
        server.wait_ready()
        start = threading.Barrier(20)
        with ThreadPoolExecutor(max_workers=20) as pool:
            statuses = list(pool.map(lambda _: server.post("/login", body, start=start), range(20)))
    finally:
        log = server.stop()
    checked = [s for s in statuses if s != 429]
    assert len(checked) <= 5, (statuses, log[-2000:])
    assert statuses.count(429) >= 15
    assert set(statuses) <= {200, 429}


def test_a_right_password_does_not_use_up_the_limit(app_factory):
    app = app_factory(LOGIN_LIMIT_PER_ACCOUNT="2 per 15 minutes")
    with app.app_context():
        user = factories.user(email="me@example.org")
        for _ in range(5):
            client = app.test_client()
            response = client.post(
                "/login", data={"email": user.email, "password": factories.PASSWORD}
            )
            assert response.status_code == 302


def test_someone_elsewhere_cannot_lock_my_account(app_factory):
    app = app_factory(LOGIN_LIMIT_PER_ACCOUNT="3 per 15 minutes")
    with app.app_context():
        user = factories.user(email="me@example.org")
        attacker = app.test_client()
        for _ in range(5):
            attacker.post(
                "/login",
                data={"email": user.email, "password": "guess"},
                environ_base={"REMOTE_ADDR": "203.0.113.9"},
            )
        assert (
            attacker.post(
                "/login",
                data={"email": user.email, "password": "guess"},
                environ_base={"REMOTE_ADDR": "203.0.113.9"},
            ).status_code
            == 429
        )
        me = app.test_client()
        response = me.post(
            "/login",
            data={"email": user.email, "password": factories.PASSWORD},
            environ_base={"REMOTE_ADDR": "198.51.100.7"},
        )
        assert response.status_code == 302


def test_the_current_password_check_is_limited_too(app_factory):
    app = app_factory(LOGIN_LIMIT_PER_ACCOUNT="3 per 15 minutes")
    with app.app_context():
        user = factories.user(email="me@example.org")
        client = app.test_client()
        client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
        statuses = [
            client.post(
                "/account",
                data={
                    "password-submit": "1",
                    "password-current_password": "not it",
                    "password-new_password": "another long password",
                    "password-confirm": "another long password",
                },
            ).status_code
            for _ in range(5)
        ]
        assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]


def test_limiter_keys_are_hashed_not_the_raw_address(app_factory, redis_url):
    import redis

    app = app_factory(RATELIMIT_STORAGE_URI=redis_url)
    with app.app_context():
        long = "x" * 240 + "@example.org"  # the longest the form lets through to a check
        app.test_client().post("/login", data={"email": long, "password": "x"})
        # A 2 MB one is refused by the form before it is counted or checked.
        huge = "y" * 200_000 + "@example.org"
        app.test_client().post("/login", data={"email": huge, "password": "x"})
    keys = redis.Redis.from_url(redis_url).keys("*")
    assert keys and max(len(k) for k in keys) < 300
    assert not any(b"xxxx" in k or b"yyyy" in k or b"127.0.0.1" in k for k in keys)


def _login_from(app, address: str, email: str, password: str) -> int:
    return (
        app.test_client()
        .post(
            "/login",
            data={"email": email, "password": password},
            environ_base={"REMOTE_ADDR": address},
        )
        .status_code
    )


def test_refused_attempts_do_not_lock_the_account_for_everybody(app_factory):
    """Issue 19.5: 55 wrong passwords from one address used to fill the account's own
    counter (50 per hour) although 50 of them were refused: 429 everywhere for an hour."""
    app = app_factory()  # the default limits: 5 per account and address, 50 per account
    with app.app_context():
        user = factories.user(email="me@example.org")
        statuses = [_login_from(app, "203.0.113.9", user.email, "guess") for _ in range(55)]
        assert statuses[:5] == [200] * 5 and set(statuses[5:]) == {429}
        for address in ("198.51.100.7", "192.0.2.44"):
            assert _login_from(app, address, user.email, factories.PASSWORD) == 302


def test_a_form_that_never_reaches_the_password_check_counts_nothing(app_factory):
    app = app_factory(LOGIN_LIMIT_PER_ACCOUNT="3 per 15 minutes")
    with app.app_context():
        user = factories.user(email="me@example.org")
        client = app.test_client()
        for _ in range(6):
            response = client.post("/login", data={"email": user.email, "password": ""})
            assert response.status_code == 200
        assert _login_from(app, "127.0.0.1", user.email, factories.PASSWORD) == 302


def test_a_locked_account_says_how_to_unlock_it_and_the_reset_link_does(app_factory):
    from tests.test_auth_mail import link_path, outbox

    app = app_factory(LOGIN_LIMIT_PER_ACCOUNT_ALL="3 per hour")
    with app.app_context():
        user = factories.user(email="me@example.org")
        for n in range(3):  # three machines, one wrong password each: they reach the check
            assert _login_from(app, f"203.0.113.{n}", user.email, "guess") == 200
        locked = app.test_client().post(
            "/login",
            data={"email": user.email, "password": factories.PASSWORD},
            environ_base={"REMOTE_ADDR": "198.51.100.7"},
            headers={"Accept-Language": "en"},
        )
        assert locked.status_code == 429
        page = locked.get_data(as_text=True)
        assert "locked" in page and 'href="/account/forgot"' in page
        assert 'value="me@example.org"' in page  # what was typed stays

        owner = app.test_client()
        owner.post("/account/forgot", buffered=True, data={"email": user.email})
        path = link_path(outbox("password_reset")[-1], "reset")
        new = "a brand new password"
        response = owner.post(path, data={"new_password": new, "confirm": new})
        assert response.status_code == 302
        assert _login_from(app, "198.51.100.7", user.email, new) == 302
