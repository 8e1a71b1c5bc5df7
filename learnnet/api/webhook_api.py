"""Webhooks through the API (issue 26: "registers a webhook"): list, register and delete
receivers, and read one's deliveries. The admin page's rule holds: only an admin (a
webhook carries events of every network), here through a read-and-write token of an
admin; any other token gets 403. Registering goes through the page's own service
(:func:`learnnet.api.webhooks.create_endpoint`: the same URL checks, https to public
addresses only in production) and the secret is in the answer this once."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, g
from sqlalchemy import select

from learnnet.access import API_TOKEN, requires
from learnnet.api import problems, rules, webhooks
from learnnet.api import schemas as s
from learnnet.api.models import WebhookDelivery, WebhookEndpoint
from learnnet.api.views import _errors, bp
from learnnet.api.webhook_views import _message, _production
from learnnet.extensions import db

CODES = (400, 401, 403, 405, 429)


def _admin() -> None:
    """Admins' read/write tokens only (a read token writes nothing, and GET is no exception
    here: the URLs and events of every receiver are an admin's business)."""
    token = g.api_token
    if not token.user.is_admin or not token.can_write:
        abort(403, description=problems.ADMIN)


def _page(query: Any, model: Any, args: dict[str, Any]) -> tuple[list[Any], str | None]:
    cursor = args.get("cursor")
    size = args.get("limit", rules.PAGE_SIZE)
    after = rules.decode_cursor(cursor) if cursor else 0
    rows = db.session.scalars(query.where(model.id > after).order_by(model.id).limit(size + 1))
    return rules.page(list(rows), size)


def _endpoint(webhook_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, webhook_id)
    if endpoint is None:
        abort(404)
    return endpoint


@bp.route("/webhooks")
@bp.arguments(s.WebhookListArgs, location="query", as_kwargs=True)
@bp.response(200, s.WebhookPage)
@_errors(*CODES)
@requires(API_TOKEN)
def webhook_list(**args: Any) -> Any:
    """The registered receivers (admins' read/write tokens only), without their secrets."""
    _admin()
    rows, cursor = _page(select(WebhookEndpoint), WebhookEndpoint, args)
    return {"data": rows, "next_cursor": cursor}


@bp.route("/webhooks", methods=["POST"])
@bp.arguments(s.WebhookNew)
@bp.response(201, s.WebhookCreated)
@_errors(*CODES, 422)
@requires(API_TOKEN)
def webhook_create(body: dict[str, Any]) -> Any:
    """Register a receiver (admins' read/write tokens only). The answer holds its signing
    secret, this once; in production only https to public addresses (422 otherwise)."""
    _admin()
    try:
        endpoint, secret = webhooks.create_endpoint(
            body["url"],
            body["events"],
            body.get("secret") or "",
            g.api_token.user_id,
            _production(),
        )
    except webhooks.EndpointError as error:
        db.session.rollback()
        return problems.response(422, None, {error.field: [_message(error.field, error.code)]})
    return {
        **{k: getattr(endpoint, k) for k in s.WebhookOut._declared_fields},
        "secret": secret,
    }, 201


@bp.route("/webhooks/<int:webhook_id>", methods=["DELETE"])
@bp.response(204)
@_errors(*CODES, 404)
@requires(API_TOKEN)
def webhook_delete(webhook_id: int) -> Any:
    """Delete a receiver and its delivery log (admins' read/write tokens only): nothing
    more is sent to it. In the audit trail under the token's name."""
    _admin()
    endpoint = _endpoint(webhook_id)
    db.session.execute(
        WebhookDelivery.__table__.delete().where(WebhookDelivery.endpoint_id == endpoint.id)
    )
    db.session.delete(endpoint)
    db.session.commit()
    return Response(status=204)


@bp.route("/webhooks/<int:webhook_id>/deliveries")
@bp.arguments(s.WebhookListArgs, location="query", as_kwargs=True)
@bp.response(200, s.DeliveryPage)
@_errors(*CODES, 404)
@requires(API_TOKEN)
def webhook_deliveries(webhook_id: int, **args: Any) -> Any:
    """A receiver's delivery log, oldest first: status, attempts, last response code."""
    _admin()
    endpoint = _endpoint(webhook_id)
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    rows, cursor = _page(query, WebhookDelivery, args)
    return {"data": rows, "next_cursor": cursor}
