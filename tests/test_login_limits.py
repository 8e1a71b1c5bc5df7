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
        huge = "x" * 200_000 + "@example.org"
        app.test_client().post("/login", data={"email": huge, "password": "x"})
    keys = redis.Redis.from_url(redis_url).keys("*")
    assert keys and max(len(k) for k in keys) < 300
