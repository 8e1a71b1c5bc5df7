"""The webhook outbox (issue 26, part 4, begun) against a real HTTP receiver on
loopback that checks every signature with an independent implementation (the
``standardwebhooks`` package): a receiver that answers, one that answers 500, one that
is down; nothing lost, nothing delivered twice per event id once it was accepted."""

from __future__ import annotations

import json
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook

from learnnet.api import webhook_rules, webhooks
from learnnet.api.models import DELIVERED, FAILED, QUEUED, WebhookDelivery, WebhookEndpoint
from learnnet.extensions import db
from learnnet.models import utcnow


class Receiver:
    """A loopback HTTP server that verifies signatures and answers ``self.answer``."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.answer = 200
        self.accepted: list[str] = []  # event ids answered 2xx
        self.seen: list[str] = []  # every verified post
        self.bad = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    # The receiver's clock is the test's: the deliveries use test moments.
                    Webhook(receiver.secret).verify(body, dict(self.headers), json_parse=False)
                except Exception:
                    receiver.bad += 1
                    self.send_response(400)
                    self.end_headers()
                    return
                event_id = self.headers["webhook-id"]
                receiver.seen.append(event_id)
                if 200 <= receiver.answer < 300:
                    receiver.accepted.append(event_id)
                self.send_response(receiver.answer)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = Receiver(webhook_rules.new_secret())
    yield made
    made.close()


def _endpoint(url: str, secret: str, events=("session.cancelled",)) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(url=url, secret=secret, events=list(events))
    db.session.add(endpoint)
    db.session.commit()
    return endpoint


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_delivery_is_signed_and_accepted_once(app, receiver):
    _endpoint(receiver.url, receiver.secret)
    _endpoint(receiver.url, receiver.secret, events=("answer.changed",))  # not this event
    now = utcnow()
    [delivery] = webhooks.queue("session.cancelled", {"session_id": 7, "reason": "zïek"}, now)
    db.session.commit()
    assert webhooks.deliver_due(now) == 1
    assert receiver.accepted == [delivery.event_id] and receiver.bad == 0
    db.session.refresh(delivery)
    assert (delivery.status, delivery.last_status, delivery.attempts) == (DELIVERED, 200, 1)
    assert json.loads(delivery.body)["data"] == {"session_id": 7, "reason": "zïek"}
    for later in (now + timedelta(minutes=5), now + timedelta(days=2)):
        assert webhooks.deliver_due(later) == 0
    assert receiver.seen == [delivery.event_id]


def test_a_receiver_that_answers_500_gets_it_again_later(app, receiver):
    _endpoint(receiver.url, receiver.secret)
    now = utcnow()
    [delivery] = webhooks.queue("session.cancelled", {"session_id": 1}, now)
    db.session.commit()
    receiver.answer = 500
    assert webhooks.deliver_due(now) == 0
    db.session.refresh(delivery)
    assert (delivery.status, delivery.last_status, delivery.attempts) == (QUEUED, 500, 1)
    assert delivery.next_attempt_at == now + timedelta(seconds=5)
    assert webhooks.deliver_due(now + timedelta(seconds=4)) == 0  # not due yet
    receiver.answer = 204
    assert webhooks.deliver_due(now + timedelta(seconds=5)) == 1
    assert receiver.seen == [delivery.event_id] * 2  # same id: the receiver may dedupe
    assert receiver.accepted == [delivery.event_id]
    assert webhooks.deliver_due(now + timedelta(days=3)) == 0


def test_a_receiver_that_is_down_loses_nothing(app, receiver):
    down = f"http://127.0.0.1:{_free_port()}/hook"
    endpoint = _endpoint(down, receiver.secret)
    now = utcnow()
    ids = [webhooks.queue("session.cancelled", {"n": n}, now)[0].event_id for n in range(3)]
    db.session.commit()
    moment = now
    for wait in (0, *webhook_rules.RETRY_AFTER[:2]):
        moment += timedelta(seconds=wait)
        assert webhooks.deliver_due(moment) == 0
    rows = db.session.scalars(db.select(WebhookDelivery)).all()
    assert {(r.status, r.attempts, r.last_status) for r in rows} == {(QUEUED, 3, None)}
    assert all(r.last_error for r in rows)
    endpoint.url = receiver.url  # it is back (here: at another port)
    db.session.commit()
    moment += timedelta(seconds=webhook_rules.RETRY_AFTER[2])
    assert webhooks.deliver_due(moment) == 3
    assert sorted(receiver.accepted) == sorted(ids)


def test_give_up_after_the_last_retry_and_send_again(app, receiver):
    _endpoint(receiver.url, receiver.secret)
    receiver.answer = 503
    moment = utcnow()
    [delivery] = webhooks.queue("session.cancelled", {}, moment)
    db.session.commit()
    for wait in (0, *webhook_rules.RETRY_AFTER):
        moment += timedelta(seconds=wait)
        webhooks.deliver_due(moment)
    db.session.refresh(delivery)
    assert (delivery.status, delivery.attempts) == (FAILED, len(webhook_rules.RETRY_AFTER) + 1)
    receiver.answer = 200
    webhooks.send_again(delivery, moment)
    assert webhooks.deliver_due(moment) == 1
    assert receiver.accepted == [delivery.event_id]


def test_a_claimed_delivery_is_not_sent_by_a_second_sender(app, receiver):
    _endpoint(receiver.url, receiver.secret)
    now = utcnow()
    [delivery] = webhooks.queue("session.cancelled", {}, now)
    db.session.commit()
    assert webhooks._claim(delivery.id, now)  # a first sender holds it
    assert webhooks.deliver_due(now) == 0 and receiver.seen == []
    # That sender died mid-send: once its claim runs out, the row is sent (again).
    assert webhooks.deliver_due(now + webhooks.CLAIM + timedelta(seconds=1)) == 1
    assert receiver.accepted == [delivery.event_id]


def test_production_never_delivers_to_loopback(app, receiver):
    _endpoint(receiver.url.replace("http://", "https://"), receiver.secret)
    now = utcnow()
    [delivery] = webhooks.queue("session.cancelled", {}, now)
    db.session.commit()
    assert webhooks.deliver_due(now, production=True) == 0
    db.session.refresh(delivery)
    assert delivery.status == FAILED and "private_address" in delivery.last_error
    assert receiver.seen == []


def test_an_unknown_event_is_refused(app):
    with pytest.raises(ValueError):
        webhooks.queue("session.exploded", {})
