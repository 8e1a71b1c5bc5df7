"""Webhook rules (issue 26, part 4, begun): signatures checked by an independent
implementation (the ``standardwebhooks`` package), the retry schedule, and the rule
that production never delivers to loopback or private addresses."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from learnnet.api import webhook_rules as rules


@given(
    body=st.binary(max_size=300), event_id=st.from_regex(r"msg_[A-Za-z0-9]{1,30}", fullmatch=True)
)
def test_the_signature_is_what_standard_webhooks_verifies(body, event_id):
    secret = rules.new_secret()
    now = datetime.now(UTC)
    headers = rules.headers(secret, event_id, now, body)
    Webhook(secret).verify(body, headers, json_parse=False)
    with pytest.raises(WebhookVerificationError):
        Webhook(rules.new_secret()).verify(body, headers, json_parse=False)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body + b"x", headers, json_parse=False)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, {**headers, "webhook-id": event_id + "x"}, json_parse=False)


def test_the_signature_matches_the_library_and_parses_json():
    secret = rules.new_secret()
    body = json.dumps({"type": "session.cancelled", "data": {"id": 7}}).encode()
    moment = datetime(2027, 1, 12, 18, 0, tzinfo=UTC)
    assert rules.signature(secret, "msg_1", int(moment.timestamp()), body) == Webhook(secret).sign(
        "msg_1", moment, body
    )


def test_retries_back_off_and_then_give_up():
    now = datetime(2027, 1, 1, tzinfo=UTC)
    waits = []
    attempts = 1
    while (when := rules.next_attempt(attempts, now)) is not None:
        waits.append(when - now)
        attempts += 1
    assert waits == sorted(waits) and waits[0] == timedelta(seconds=5)
    assert attempts - 1 == len(rules.RETRY_AFTER)  # eight attempts in all
    assert sum(waits, timedelta()) > timedelta(hours=24)


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("127.0.0.1", False),
        ("127.8.9.10", False),
        ("::1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # shared address space (CGNAT)
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("fe80::1%eth0", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("not an address", False),
        ("93.184.215.14", True),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
    ],
)
def test_only_public_addresses_in_production(address, allowed):
    assert rules.address_allowed(address) is allowed


@pytest.mark.parametrize(
    ("url", "production", "addresses", "problem"),
    [
        ("https://crm.example.org/hook", True, ["93.184.215.14"], None),
        ("http://crm.example.org/hook", True, ["93.184.215.14"], "not_https"),
        ("https://localhost/hook", True, ["127.0.0.1"], "private_address"),
        ("https://crm.example.org/hook", True, ["93.184.215.14", "10.0.0.5"], "private_address"),
        ("https://crm.example.org/hook", True, [], "unresolved"),
        ("https://user:pw@crm.example.org/", True, ["93.184.215.14"], "credentials"),
        ("ftp://crm.example.org/", True, ["93.184.215.14"], "malformed"),
        ("https://crm.example.org:99999/", True, ["93.184.215.14"], "malformed"),
        ("http://127.0.0.1:8080/hook", False, ["127.0.0.1"], None),  # a laptop, a test
    ],
)
def test_endpoint_urls(url, production, addresses, problem):
    assert rules.url_problem(url, production, addresses) == problem
