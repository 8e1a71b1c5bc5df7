"""Webhook outbox (issue 26, part 4): queue an event for every endpoint that wants it,
in the caller's transaction, and deliver what is due, signed, with retries.

Delivery is at least once and, for a receiver that answered 2xx, never again: a sender
claims a row (status "sending", ``claimed_until``) with a conditional UPDATE before
posting, so two senders never post the same row at once; a sender that died mid-post
leaves a claim that runs out, and the row is posted again (same ``webhook-id``, which
the receiver uses to drop the duplicate). Redirects are not followed: a redirect could
lead to an address the production check refused.

Not built yet: the admin page (endpoints, the delivery log, "send again"), the event
sources (the rooms' signals), a ``flask send-webhooks`` command for cron.
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
    if event not in rules.EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    now = now or utcnow()
    event_id = f"msg_{uuid.uuid4().hex}"
    body = json.dumps(
        {"type": event, "timestamp": now.isoformat(), "data": data},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    made = []
    for endpoint in db.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.active)):
        if event in (endpoint.events or []):
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
    """Queue a delivery anew (the log's "send again"), with the same event id."""
    delivery.status, delivery.attempts = QUEUED, 0
    delivery.next_attempt_at, delivery.claimed_until = now or utcnow(), None
    db.session.commit()
