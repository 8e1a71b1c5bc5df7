"""Webhook outbox (issue 26, part 4): queue an event for every endpoint that wants it,
in the caller's transaction, and deliver what is due, signed, with retries.

Delivery is at least once and, for a receiver that answered 2xx, never again: a sender
claims a row (status "sending", ``claimed_until``) with a conditional UPDATE before
posting, so two senders never post the same row at once; a sender that died mid-post
leaves a claim that runs out, and the row is posted again (same ``webhook-id``, which
the receiver uses to drop the duplicate). Redirects are not followed: a redirect could
lead to an address the production check refused.

The event sources are in :mod:`learnnet.api.events`, the admin page in
:mod:`learnnet.api.webhook_views`; ``flask send-webhooks`` (cron) calls :func:`deliver_due`.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import or_, select, update

from learnnet.api import webhook_rules as rules
from learnnet.api.models import (
    DELIVERED,
    FAILED,
    QUEUED,
    SENDING,
    WebhookDelivery,
    WebhookEndpoint,
)
from learnnet.extensions import db
from learnnet.models import utcnow

CLAIM = timedelta(seconds=60)  # longer than one post (TIMEOUT) and its bookkeeping
TIMEOUT = 10.0

Post = Callable[[str, dict[str, str], bytes], tuple[int | None, str]]


def queue(event: str, data: dict[str, Any], now: datetime | None = None) -> list[WebhookDelivery]:
    """One delivery per active endpoint that wants ``event``; not committed (the caller's
    transaction holds the change and its deliveries together)."""
    return queue_many(event, [data], now)


def queue_many(
    event: str, items: list[dict[str, Any]], now: datetime | None = None
) -> list[WebhookDelivery]:
    """As :func:`queue`, one event (one id) per item, with one look at the endpoints
    (a CSV import starts hundreds of memberships at once)."""
    if event not in rules.EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    if not items:
        return []
    now = now or utcnow()
    wanting = [
        endpoint
        for endpoint in db.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.active))
        if event in (endpoint.events or [])
    ]
    made = []
    for data in items:
        event_id = f"msg_{uuid.uuid4().hex}"
        body = json.dumps(
            {"type": event, "timestamp": now.isoformat(), "data": data},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        for endpoint in wanting:
            delivery = WebhookDelivery(
                endpoint=endpoint, event_id=event_id, event=event, body=body, next_attempt_at=now
            )
            db.session.add(delivery)
            made.append(delivery)
    return made


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def post(url: str, headers: dict[str, str], body: bytes) -> tuple[int | None, str]:
    """POST the body; (status code, error text). No redirects, a short timeout."""
    opener = urllib.request.build_opener(_NoRedirects)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - http(s) only, checked by url_problem
    try:
        with opener.open(request, timeout=TIMEOUT) as response:  # nosec B310
            return response.status, ""
    except urllib.error.HTTPError as error:
        return error.code, f"HTTP {error.code}"
    except (OSError, ValueError) as error:  # refused, unreachable, timeout, bad URL
        return None, str(error)[:500]


def resolve(url: str) -> list[str]:
    """The addresses the URL's host resolves to now (empty when it does not)."""
    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname or "", parts.port or 443)
    except (OSError, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in infos})


def _claim(delivery_id: int, now: datetime) -> bool:
    result = db.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            or_(
                WebhookDelivery.status == QUEUED,
                (WebhookDelivery.status == SENDING) & (WebhookDelivery.claimed_until < now),
            ),
        )
        .values(status=SENDING, claimed_until=now + CLAIM)
    )
    db.session.commit()
    return result.rowcount == 1


def deliver_due(
    now: datetime | None = None,
    production: bool = False,
    send: Post = post,
    limit: int = 100,
) -> int:
    """Deliver what is due (queued and due, or sending with a claim that ran out);
    returns how many were delivered (2xx)."""
    now = now or utcnow()
    due = db.session.scalars(
        select(WebhookDelivery.id)
        .where(
            or_(
                (WebhookDelivery.status == QUEUED) & (WebhookDelivery.next_attempt_at <= now),
                (WebhookDelivery.status == SENDING) & (WebhookDelivery.claimed_until < now),
            )
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    ).all()
    delivered = 0
    for delivery_id in due:
        if not _claim(delivery_id, now):
            continue  # another sender has it
        delivery = db.session.get(WebhookDelivery, delivery_id)
        endpoint = delivery.endpoint
        problem = rules.url_problem(
            endpoint.url, production, resolve(endpoint.url) if production else []
        )
        delivery.attempts += 1
        delivery.claimed_until = None
        if problem is not None:
            delivery.status, delivery.last_error = FAILED, f"refused: {problem}"
            db.session.commit()
            continue
        body = delivery.body.encode()
        status, error = send(
            # Signed at the real moment of sending (``now`` may be a scheduler's clock):
            # receivers refuse timestamps more than a few minutes off.
            endpoint.url,
            rules.headers(endpoint.secret, delivery.event_id, utcnow(), body),
            body,
        )
        delivery.last_status, delivery.last_error = status, error
        if status is not None and 200 <= status < 300:
            delivery.status, delivery.delivered_at = DELIVERED, now
            delivered += 1
        else:
            retry = rules.next_attempt(delivery.attempts, now)
            if retry is None:
                delivery.status = FAILED
            else:
                delivery.status, delivery.next_attempt_at = QUEUED, retry
        db.session.commit()
    return delivered


def send_again(delivery: WebhookDelivery, now: datetime | None = None) -> None:
    """Queue a delivery anew (the log's "send again"), with the same event id; in the
    audit trail under its endpoint."""
    from learnnet.audit import trail

    delivery.status, delivery.attempts = QUEUED, 0
    delivery.next_attempt_at, delivery.claimed_until = now or utcnow(), None
    changes = {"send_again": [None, f"{delivery.event} {delivery.event_id}"]}
    trail.record(db.session, WebhookEndpoint, "update", [(delivery.endpoint_id, changes, None)])
    db.session.commit()


class EndpointError(Exception):
    """A field of a new endpoint that cannot be used, with a code for the message."""

    def __init__(self, field: str, code: str) -> None:
        super().__init__(f"{field}: {code}")
        self.field, self.code = field, code


def create_endpoint(
    url: str, events: list[str], secret: str, created_by_id: int | None, production: bool
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint (commits); returns it and its secret (generated when none is
    given), which the admin sees once. In production only https to public addresses."""
    url = url.strip()
    problem = rules.url_problem(url, production, resolve(url) if production else [])
    if problem is not None:
        raise EndpointError("url", problem)
    chosen = [e for e in rules.EVENTS if e in events]
    if not chosen:
        raise EndpointError("events", "none")
    secret = secret.strip() or rules.new_secret()
    problem = rules.secret_problem(secret)
    if problem is not None:
        raise EndpointError("secret", problem)
    endpoint = WebhookEndpoint(url=url, secret=secret, events=chosen, created_by_id=created_by_id)
    db.session.add(endpoint)
    db.session.commit()
    return endpoint, secret


def set_active(endpoint: WebhookEndpoint, active: bool) -> None:
    """Pause or resume an endpoint: a paused one gets no new events (commits)."""
    endpoint.active = active
    db.session.commit()


def endpoints() -> list[WebhookEndpoint]:
    """Every endpoint, newest first."""
    return list(db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id.desc())))


def delivery_log(endpoint: WebhookEndpoint, limit: int = 100) -> list[WebhookDelivery]:
    """The endpoint's latest deliveries, newest first."""
    return list(
        db.session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint.id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
    )
