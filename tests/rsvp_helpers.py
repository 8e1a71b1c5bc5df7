"""Helpers shared by the answering tests."""

from __future__ import annotations

from typing import Any

from learnnet.extensions import db
from learnnet.rsvp.contacts import ensure_link, token_of


def token_for(contact: Any) -> str:
    """The contact's personal-link token (created when missing)."""
    token = token_of(ensure_link(contact))
    db.session.commit()
    return token


def answer(client: Any, token: str, session_id: int, value: str, **data: Any) -> Any:
    """Answer through the personal link, as the page's form does."""
    return client.post(f"/m/{token}/sessions/{session_id}", data={"answer": value, **data})
