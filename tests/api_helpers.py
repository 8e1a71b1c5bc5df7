"""Helpers for the API tests: tokens made through the service, requests with them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from learnnet.api import services
from learnnet.api.models import READ
from learnnet.timefmt import local_today


def make_token(
    user: Any, networks: list[Any], people: bool = False, scope: str = READ, days: int = 30
) -> tuple[Any, str]:
    """A token of ``user`` for ``networks`` and its secret."""
    return services.create_token(
        user,
        name=f"test {len(networks)} {people}",
        scope=scope,
        network_ids=[n.id for n in networks],
        may_see_people=people,
        expires_on=local_today() + timedelta(days=days),
    )


def bearer(secret: str) -> dict[str, str]:
    """The Authorization header of a token."""
    return {"Authorization": f"Bearer {secret}"}
