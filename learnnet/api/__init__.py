"""The JSON API under ``/api/v1/`` (issue 26): reads and writes for a CRM or a website, behind
bearer tokens that facilitators make on their account page.

A room above the others: it reads their models through its own services and holds no
rules of theirs; only the app factory imports it (:func:`init_app`). The OpenAPI 3.1
document is generated from the code by flask-smorest (apispec + marshmallow) and
served at ``/api/v1/openapi.json``, with a readable page of it at ``/api/v1/docs``.
"""

from __future__ import annotations

from flask import Flask

from learnnet.api.paths import API_PREFIX

__all__ = ["API_PREFIX", "init_app"]


def init_app(app: Flask) -> None:
    """Register the API, its document and the token pages."""
    from learnnet.api import (  # noqa: F401 - events connects, writes adds its routes
        deletions,
        docs,
        events,
        tokens_views,
        views,
        webhook_api,
        webhook_views,
        writes,
    )

    deletions.register()

    views.register(app)
    app.register_blueprint(docs.bp)
    app.register_blueprint(tokens_views.bp)
    app.register_blueprint(webhook_views.bp)
