"""The admin's webhook page (issue 26): register an endpoint (the secret shown once,
never in the audit trail), the production rules (https, public addresses only), the
delivery log with "send again", and ``flask send-webhooks`` delivering to a real
loopback receiver that checks signatures with the ``standardwebhooks`` package."""

from __future__ import annotations

import json

import pytest

from learnnet.api import webhook_rules, webhooks
from learnnet.api.models import DELIVERED, QUEUED, WebhookDelivery, WebhookEndpoint
from learnnet.audit.models import AuditEvent
from learnnet.extensions import db
from tests.conftest import csrf_token_from, login
from tests.test_webhooks import Receiver

PAGE = "/admin/webhooks"


@pytest.fixture
def admin_client(app, admin):
    client = app.test_client()
    login(client, admin.email)
    return client


def _register(client, url, events=("session.cancelled",), secret=""):
    token = csrf_token_from(client.get(PAGE).get_data(as_text=True))
    return client.post(
        PAGE, data={"csrf_token": token, "url": url, "events": list(events), "secret": secret}
    )


def test_an_admin_registers_an_endpoint_and_sees_the_secret_once(app, admin_client):
    response = _register(admin_client, "http://127.0.0.1:8080/hook", ("session.held", "nope"))
    assert response.status_code == 200
    endpoint = db.session.scalar(db.select(WebhookEndpoint))
    assert endpoint.events == ["session.held"] and endpoint.active
    assert webhook_rules.secret_problem(endpoint.secret) is None
    assert endpoint.secret in response.get_data(as_text=True)
    assert endpoint.secret not in admin_client.get(PAGE).get_data(as_text=True)
    [event] = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.entity == "webhook_endpoint")
    ).all()
    assert event.action == "create" and "secret" not in event.changes
    assert endpoint.secret not in json.dumps(event.changes)


def test_a_typed_secret_must_follow_the_specification(app, admin_client):
    page = _register(admin_client, "http://127.0.0.1:8080/hook", secret="hunter2")
    html = page.get_data(as_text=True)
    assert "whsec_" in html and 'value="http://127.0.0.1:8080/hook"' in html  # kept
    assert db.session.scalar(db.select(WebhookEndpoint)) is None
    good = webhook_rules.new_secret()
    _register(admin_client, "http://127.0.0.1:8080/hook", secret=good)
    assert db.session.scalar(db.select(WebhookEndpoint.secret)) == good
    assert _register(admin_client, "http://x.org/h", events=()).status_code == 200
    assert db.session.scalar(db.select(db.func.count(WebhookEndpoint.id))) == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/hook",  # not https
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest",  # a cloud's metadata service
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://user:pw@example.org/hook",
    ],
)
def test_production_refuses_loopback_private_and_plain_http(app, admin_client, url):
    app.config["ENV"] = "production"
    response = _register(admin_client, url)
    assert response.status_code == 200
    assert db.session.scalar(db.select(WebhookEndpoint)) is None


def test_production_accepts_a_public_https_address(app, admin_client):
    app.config["ENV"] = "production"
    _register(admin_client, "https://93.184.216.34/hook")  # an IP literal: no DNS needed
    assert db.session.scalar(db.select(WebhookEndpoint.url)) == "https://93.184.216.34/hook"


def test_the_log_shows_deliveries_and_sends_one_again(app, admin_client, admin):
    receiver = Receiver(webhook_rules.new_secret())
    try:
        endpoint, _secret = webhooks.create_endpoint(
            receiver.url, ["session.cancelled"], receiver.secret, admin.id, production=False
        )
        [delivery] = webhooks.queue("session.cancelled", {"session_id": 3})
        db.session.commit()
        result = app.test_cli_runner().invoke(args=["send-webhooks"])
        assert result.exit_code == 0 and "1 webhook" in result.output
        assert receiver.accepted == [delivery.event_id] and receiver.bad == 0
        html = admin_client.get(f"{PAGE}/{endpoint.id}").get_data(as_text=True)
        assert "session.cancelled" in html and "200" in html and "Afgeleverd" in html

        token = csrf_token_from(html)
        response = admin_client.post(
            f"{PAGE}/deliveries/{delivery.id}/send-again", data={"csrf_token": token}
        )
        assert response.status_code == 303
        db.session.expire_all()
        assert db.session.get(WebhookDelivery, delivery.id).status == QUEUED
        app.test_cli_runner().invoke(args=["send-webhooks"])
        assert receiver.accepted == [delivery.event_id] * 2  # same id: the receiver dedupes
        db.session.expire_all()
        assert db.session.get(WebhookDelivery, delivery.id).status == DELIVERED
        audit = db.session.scalars(
            db.select(AuditEvent).where(
                AuditEvent.entity == "webhook_endpoint", AuditEvent.action == "update"
            )
        ).all()
        assert [list(a.changes) for a in audit] == [["send_again"]]
        assert audit[0].user_id == admin.id
    finally:
        receiver.close()


def test_a_paused_endpoint_gets_no_new_events(app, admin_client, admin):
    endpoint, _ = webhooks.create_endpoint(
        "http://127.0.0.1:9/h", ["session.held"], "", admin.id, production=False
    )
    token = csrf_token_from(admin_client.get(PAGE).get_data(as_text=True))
    admin_client.post(f"{PAGE}/{endpoint.id}/active", data={"csrf_token": token})
    db.session.expire_all()
    assert webhooks.queue("session.held", {}) == []
    admin_client.post(f"{PAGE}/{endpoint.id}/active", data={"csrf_token": token})
    db.session.expire_all()
    assert len(webhooks.queue("session.held", {})) == 1
