"""With the rate-limit store (Redis) down, the site keeps answering (issue 19.8).

Before, login, personal links, feeds and self check-in gave 500 while /healthz said 200.
Now the limits count in each worker's memory until Redis answers again, and /healthz
says which dependency fails (docs/running.md: what a load balancer should look at).
"""

from __future__ import annotations

from pathlib import Path

from learnnet import create_app
from learnnet.attendance import services as attendance
from learnnet.calendar import services as calendar
from learnnet.extensions import db
from tests import factories
from tests.conftest import base_config
from tests.rsvp_helpers import token_for

NOBODY_LISTENS = "redis://127.0.0.1:1/0"


def test_every_limited_page_answers_without_redis_and_healthz_says_so(app_factory):
    app = app_factory(RATELIMIT_STORAGE_URI=NOBODY_LISTENS, LOGIN_LIMIT_PER_ACCOUNT="3 per hour")
    with app.app_context():
        user = factories.user(email="me@example.org")
        net = factories.network(facilitators=[user], name="Netwerk Zonder Redis")
        facility = factories.facility(name="KDV Stroompanne")
        factories.member(net, facility)
        contact = factories.contact(facility, name="Ilse Peeters", email="ilse@example.org")
        session = factories.session(net, facility)
        db.session.commit()
        feed = calendar.ensure_feed("network", net.id)
        db.session.commit()
        code = attendance.self_checkin_code(session)
        client = app.test_client()

        def login(password: str) -> int:
            return client.post(
                "/login", data={"email": user.email, "password": password}
            ).status_code

        assert login("wrong") == 200
        assert login(factories.PASSWORD) == 302
        client.post("/logout")
        assert client.get(f"/m/{token_for(contact)}").status_code == 200
        assert client.get("/m/" + "0" * 32).status_code == 404
        assert client.get(f"/feeds/{calendar.token_of(feed)}.ics").status_code == 200
        assert client.get(f"/checkin/{code}").status_code == 200
        assert client.post(f"/checkin/{code}").status_code == 200
        assert (
            client.post("/account/forgot", buffered=True, data={"email": user.email}).status_code
            == 200
        )

        # The limits still hold, counted in this process meanwhile.
        assert [login("wrong") for _ in range(3)] == [200, 200, 429]

        health = client.get("/healthz")
        assert health.status_code == 200  # the app serves: stay in the load balancer
        assert health.json == {
            "status": "degraded",
            "database": "ok",
            "rate_limits": "unreachable",
        }


def test_healthz_is_ok_with_its_dependencies_and_503_without_a_database(
    app_factory, tmp_path: Path
):
    app = app_factory()
    with app.app_context():
        health = app.test_client().get("/healthz")
        assert health.status_code == 200
        assert health.json == {"status": "ok", "database": "ok", "rate_limits": "ok"}
    gone = create_app(
        base_config(f"sqlite:///{tmp_path / 'no such folder' / 'db.sqlite3'}"),
        instance_path=str(tmp_path / "instance"),
    )
    health = gone.test_client().get("/healthz")
    assert health.status_code == 503
    assert health.json["status"] == "down" and health.json["database"] == "unreachable"
