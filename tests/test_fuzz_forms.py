"""Fuzz every form of the app: random text (NUL, control characters, encoded surrogates,
very long strings, odd Unicode) in every field name the app's pages use, posted to every
POST route as an anonymous visitor, a member with a personal link and a facilitator.
Any 500 fails. Runs on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import re
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import login
from tests.test_routes_access import routes, world  # noqa: F401  (the fixture)

ODD = st.sampled_from(
    [
        "",
        "\x00",
        "a\x00b",
        "\x01\x02\x1b[31m",
        "\u202e\u200b\ufeff",
        "é" * 5000,
        "x" * 100_000,
        "'; DROP TABLE contact; --",
        "<script>alert(1)</script>",
        "javascript:alert(1)",
        "0",
        "-1",
        "99999999999999999999",
        "2027-02-30",
        "25:99",
        "c1",
        "a1",
        "yes",
        "present",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ✓ 👶🏽",
    ]
)
TEXT = st.one_of(ODD, st.text(max_size=300))


_NAMES: list[str] = []


def _field_names(client, urls: list[str]) -> list[str]:
    """Every field name on the app's pages, read once while the world is still intact."""
    if not _NAMES:
        names: set[str] = set()
        for url in urls:
            html = client.get(url).get_data(as_text=True)
            names.update(re.findall(r'name="([^"]+)"', html))
        names.discard("csrf_token")
        _NAMES.extend(sorted(names))
    return _NAMES


def _encode(value: str) -> bytes:
    # Lone surrogates travel as the bytes a broken client would send (invalid UTF-8).
    return value.encode("utf-8", "surrogatepass")


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_form_input_gives_a_500(app, world, data):  # noqa: F811
    facilitator = app.test_client()
    login(facilitator, world["accounts"]["facilitator"].email)
    anonymous = app.test_client()
    member = app.test_client()
    member.get(f"/m/{world['token']}")
    rules = list(routes(app))
    gets = [
        r.build({k: world[k] for k in r.arguments}, append_unknown=False)[1]
        for r in rules
        if "GET" in r.methods
    ]
    names = _field_names(facilitator, gets[:80])
    assert len(names) > 20
    for rule in rules:
        url = rule.build({k: world[k] for k in rule.arguments}, append_unknown=False)[1]
        # Indices, not names: the pages (and so the names) change as the fuzzing goes on.
        picks = data.draw(st.lists(st.integers(0, 10_000), max_size=12))
        chosen = sorted({names[i % len(names)] for i in picks})
        values = {name: data.draw(TEXT) for name in chosen}
        body = "&".join(
            f"{quote(_encode(k))}={quote(_encode(v))}" for k, v in values.items()
        ).encode()
        for client in (anonymous, member, facilitator):
            if "POST" in rule.methods:
                response = client.post(
                    url, data=body, content_type="application/x-www-form-urlencoded"
                )
            else:
                query = "&".join(
                    f"{quote(_encode(k))}={quote(_encode(v))}" for k, v in values.items()
                )
                response = client.get(f"{url}?{query}")
            assert response.status_code != 500, (rule.endpoint, values)
