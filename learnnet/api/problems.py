"""Errors of the API as RFC 9457 problem details (``application/problem+json``), in the
token owner's language (or, before a token is known, the client's)."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, json, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from learnnet.api import rules

MEDIA_TYPE = "application/problem+json"

# Headers of an HTTP error worth passing on (its Content-Type says text/html: not that).
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def _title(code: int) -> str:
    return {
        400: lambda: _("The request could not be understood."),
        401: lambda: _("A valid API token is needed."),
        403: lambda: _("This token may not see this."),
        404: lambda: _("This does not exist, or this token may not see it."),
        405: lambda: _("This method is not allowed here."),
        409: lambda: _("This conflicts with what is stored."),
        413: lambda: _("What you sent is too large."),
        422: lambda: _("Some values are not valid."),
        429: lambda: _("Too many requests. Wait a minute and try again."),
    }.get(code, lambda: _("Something went wrong on our side. Try again later."))()


def _detail(code: int, description: str | None) -> str:
    if code == 401:
        return _(
            "Send an active token as 'Authorization: Bearer <token>'. A facilitator "
            "makes one on their account page; an expired or revoked token no longer works."
        )
    if code == 403 and description == PEOPLE and request.method not in ("GET", "HEAD"):
        return _(
            "Contacts and answers are personal data: only a token made with 'may see "
            "people' changes them."
        )
    if code == 403 and description == PEOPLE:
        return _(
            "Contacts, answers and attendance are personal data: only a token made with "
            "'may see people' reads them."
        )
    if code == 403 and description == ADMIN:
        return _(
            "Webhooks carry the events of every network: only a 'read and write' token "
            "of an admin manages them."
        )
    if code == 403 and description == READ_ONLY:
        return _("This token may only read: make one with 'read and write' to change data.")
    if code in (409, 422):
        return _("See 'errors' for a message per field.")
    return ""


PEOPLE = "people"
READ_ONLY = "read-only"
ADMIN = "admin"


def response(status: int, description: str | None = None, messages: Any = None) -> Response:
    """A problem document for ``status``; ``messages`` are bad-input messages per field."""
    errors = rules.flatten_errors(messages) if messages else None
    if errors:  # marked with N_ in learnnet.api.schemas: translated now
        errors = {field: [_(text) for text in texts] for field, texts in errors.items()}
    body = rules.problem(status, _title(status), _detail(status, description), errors)
    result = current_app.response_class(
        json.dumps(body, ensure_ascii=False), status=status, mimetype=MEDIA_TYPE
    )
    result.headers["Cache-Control"] = "no-store"
    if status == 401:
        result.headers["WWW-Authenticate"] = 'Bearer realm="learnnet"'
    return result


def from_exception(error: HTTPException) -> Response:
    """The problem document of an HTTP error raised anywhere under ``/api/``."""
    code = error.code or 500
    data = getattr(error, "data", None) or {}
    result = response(code, error.description, data.get("messages"))
    for name, value in error.get_headers():
        if name in _KEPT_HEADERS:
            result.headers[name] = value
    return result
