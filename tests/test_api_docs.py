"""The curl calls of docs/api.md, run against the app (issue 26: "a test runs the same
calls"): each documented call works as the page says, and the documented error is the
one the API gives. The page's example ids and key are swapped for the test data's."""

from __future__ import annotations

import json
import re
import shlex
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from learnnet.api.models import READ_WRITE, WebhookEndpoint
from learnnet.extensions import db
from learnnet.networks.models import Contact
from tests import factories
from tests.api_helpers import make_token

DOC = Path(__file__).resolve().parent.parent / "docs" / "api.md"
HOST = "https://learnnet.example.org"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def _curl_calls() -> list[str]:
    return [b for b in _blocks("sh") if b.lstrip().startswith("curl ")]


def _parse(command: str) -> dict[str, Any]:
    """curl [-X METHOD] (-H header)* [-d data] URL, as the page writes them."""
    words = shlex.split(command.replace("\\\n", " "))
    assert words[0] == "curl"
    call: dict[str, Any] = {"method": "GET", "headers": {}, "data": None, "url": None}
    rest = iter(words[1:])
    for word in rest:
        if word == "-X":
            call["method"] = next(rest)
        elif word == "-H":
            name, _, value = next(rest).partition(":")
            call["headers"][name.strip()] = value.strip()
        elif word in ("-d", "--data"):
            call["data"] = next(rest)
        else:
            assert not word.startswith("-"), f"an option the test does not know: {word}"
            call["url"] = word
    assert call["url"].startswith(HOST + "/api/v1/")
    return call


def _run(client, command: str, secret: str, ids: dict[str, int]) -> Any:
    command = command.replace("network_id=3", f"network_id={ids['network_id']}")
    command = command.replace('"facility_id": 12', f'"facility_id": {ids["facility_id"]}')
    call = _parse(command)
    headers = {
        k: v.replace("lnt_…", secret) if k == "Authorization" else v
        for k, v in call["headers"].items()
    }
    return client.open(
        call["url"].removeprefix(HOST), method=call["method"], headers=headers, data=call["data"]
    )


def test_the_documented_calls_work_as_documented(app, network, facilitator, admin):
    calls = _curl_calls()
    assert len(calls) >= 3 and any("-X POST" in c for c in calls)
    # Issue 26, "done when": an example lists a network's sessions and registers a webhook.
    assert any("/api/v1/sessions?network_id=" in c for c in calls)
    assert any("-X POST" in c and "/api/v1/webhooks" in c for c in calls)
    _, secret = make_token(facilitator, [network], people=True, scope=READ_WRITE)
    _, admin_secret = make_token(admin, [network], scope=READ_WRITE)  # webhooks: an admin's
    facility = network.memberships[0].facility
    ids = {"network_id": network.id, "facility_id": facility.id}
    client = app.test_client()
    session = factories.session(network, facility, starts_at=datetime(2027, 2, 2, 18, tzinfo=UTC))
    db.session.commit()
    for command in calls:
        key = admin_secret if "/webhooks" in command else secret
        response = _run(client, command, key, ids)
        assert response.status_code in (200, 201), (command, response.get_data(as_text=True))
        if "/api/v1/sessions?" in command:
            assert session.id in [s["id"] for s in response.get_json()["data"]], response.get_json()
        if "-X POST" in command and "/webhooks" in command:
            assert response.status_code == 201
            body = response.get_json()
            endpoint = db.session.get(WebhookEndpoint, body["id"])
            assert body["secret"].startswith("whsec_") and body["secret"] == endpoint.secret
            assert endpoint.url == "https://crm.example.org/learnnet"
            assert endpoint.events == ["session.planned", "session.changed", "session.cancelled"]
            continue
        if "-X POST" in command and "/contacts" in command:
            assert response.status_code == 201
            body = response.get_json()
            assert body["email"] == "lies@example.org" and body["active"] is True
            contact = db.session.get(Contact, body["id"])
            assert contact.facility_id == facility.id and contact.function == "directeur"
        else:
            assert "data" in response.get_json()
    # The documented error: the same call with "lies@" as the address.
    (documented,) = [json.loads(b) for b in _blocks("json") if '"status": 422' in b]
    (create,) = [c for c in calls if "-X POST" in c and "/contacts" in c]
    refused = _run(client, create.replace("lies@example.org", "lies@"), secret, ids)
    assert refused.status_code == 422
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json() == documented
