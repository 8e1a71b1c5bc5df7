"""Fuzz every form of the app: random text (NUL, control characters, encoded surrogates,
very long strings, odd Unicode) in every field name the app's pages use, posted to every
POST route as an anonymous visitor, a member with a personal link and a facilitator.
Any 500 fails. Runs on SQLite and, when configured, PostgreSQL.

The values include what breaks a mail header (CR, LF, U+2028, vertical tab, NEL …;
issue 19): after each round no stored name holds one, and the mail sender delivers or
fails every queued message without stopping."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from learnnet.auth.models import User
from learnnet.extensions import db
from learnnet.mail import services as mail
from learnnet.mail.models import QUEUED, SENDING, OutboxMessage
from learnnet.models import utcnow
from learnnet.names import is_one_line
from learnnet.networks.models import Contact, Facility, Network
from learnnet.sessions.models import Session
from tests import factories
from tests.conftest import login
from tests.test_routes_access import routes, world  # noqa: F401  (the fixture)

# What breaks a mail header (issue 19), alone and inside a name.
HEADER_BREAKERS = [
    "Ilse\r\nBcc: everyone@evil.example",
    "Ilse\nVermeulen",
    "Ilse\rVermeulen",
    "Ilse\u2028Vermeulen",
    "Ilse\u2029Vermeulen",
    "Ilse\x0bVermeulen",
    "Ilse\x0cVermeulen",
    "Ilse\x85Vermeulen",
    "Ilse\x1b[31mVermeulen",
    "\r\n",
]
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
        "2147483648",  # one past the largest integer column
        "-2147483649",
        "c2147483648",
        "2027-02-30",
        "25:99",
        "c1",
        "a1",
        "yes",
        "present",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ✓ 👶🏽",
        *HEADER_BREAKERS,
    ]
)
TEXT = st.one_of(ODD, st.text(max_size=300))
# Fields that hold a name or an address line, which reach mail headers and mail text:
# every request of a round sends them, half the rounds with a header breaker in each.
NAME_FIELD = re.compile(r"(^|-)(name|street|city)$")
NAME_TEXT = st.one_of(st.sampled_from(HEADER_BREAKERS), TEXT)


_NAMES: list[str] = []


def _field_names(client, urls: list[str]) -> list[str]:
    """Every field name on the app's pages, read once while the world is still intact."""
    if not _NAMES:
        names: set[str] = set()
        for url in urls:
            response = client.get(url)
            if response.mimetype != "text/html":  # a PDF, a file, a picture: no form
                continue
            names.update(re.findall(r'name="([^"]+)"', response.get_data(as_text=True)))
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
    named = {name: data.draw(NAME_TEXT) for name in names if NAME_FIELD.search(name)}
    assert len(named) >= 4, named  # name, colleague-name, walkin-name, street, city …
    for rule in rules:
        url = rule.build({k: world[k] for k in rule.arguments}, append_unknown=False)[1]
        # Indices, not names: the pages (and so the names) change as the fuzzing goes on.
        picks = data.draw(st.lists(st.integers(0, 10_000), max_size=12))
        chosen = sorted({names[i % len(names)] for i in picks})
        values = {name: data.draw(TEXT) for name in chosen}
        values |= named
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
    _names_are_one_line_and_mail_goes()


# Every stored text that reaches a mail header or a one-line place in a mail.
ONE_LINE = (
    (Network, ("name",)),
    (Facility, ("name", "street", "city")),
    (Contact, ("name",)),
    (User, ("name",)),
)


def _names_are_one_line_and_mail_goes() -> None:
    db.session.rollback()
    for model, columns in ONE_LINE:
        for row in db.session.execute(select(*(getattr(model, c) for c in columns))):
            assert all(is_one_line(value or "") for value in row), (model.__name__, row)
    mail.deliver_due(now=utcnow() + timedelta(days=2), limit=100_000)  # must not raise
    stuck = db.session.scalars(
        select(OutboxMessage.id).where(OutboxMessage.status.in_((QUEUED, SENDING)))
    ).all()
    assert stuck == []


ID_FIELD = re.compile(r"(^|[-_])(id|[a-z]+_id|person|contact|facility|session)$")
OVERFLOWING = ["2147483648", "-2147483649", str(10**20), "c2147483648", "a-2147483649"]


def test_no_id_that_no_column_holds_gives_a_500(app, world):  # noqa: F811
    """Issue 19's quality list: ids one past the integer columns in every field at once.

    Every field name the pages use (hidden ids among them) gets each value, on every POST
    route, as the facilitator, a member and an admin. PostgreSQL refuses such a number
    outright ("integer out of range"), so this test bites on that engine.
    """
    facilitator = app.test_client()
    login(facilitator, world["accounts"]["facilitator"].email)
    admin = app.test_client()
    login(admin, world["accounts"]["admin"].email)
    member = app.test_client()
    member.get(f"/m/{world['token']}")
    rules = list(routes(app))
    gets = [
        r.build({k: world[k] for k in r.arguments}, append_unknown=False)[1]
        for r in rules
        if "GET" in r.methods
    ]
    names = _field_names(facilitator, gets[:80])
    # Not the routes that change who the client is (a password link logs its account in).
    swaps = {"auth.login", "auth.logout", "auth.reset_password", "auth.welcome"}
    posts = [r for r in rules if "POST" in r.methods and r.endpoint not in swaps]
    # The session routes also for a session held yesterday: walk-ins and check-in only
    # read their ids once the session is under way or over.
    planned = db.session.get(Session, world["session_id"])
    held = factories.session(planned.network, planned.host, days_ahead=-1)
    db.session.commit()
    checkin = facilitator.get(f"/sessions/{held.id}/checkin").get_data(as_text=True)
    names = sorted(set(names) | set(re.findall(r'name="([^"]+)"', checkin)) - {"csrf_token"})
    assert "walkin-facility_id" in names
    ids = [n for n in names if ID_FIELD.search(n)]
    assert "walkin-facility_id" in ids and "person" in ids, ids
    bodies = [
        # Only the ids, the rest of the form as a browser would send it (a name typed,
        # no email): the form validates and the id reaches the database.
        lambda v: "&".join(
            [f"{quote(n)}={quote(v)}" for n in ids]
            + [f"{quote(n)}=Iemand" for n in names if n.endswith("name")]
        ),
        lambda v: "&".join(f"{quote(n)}={quote(v)}" for n in names),  # every field
    ]
    for value, make_body in ((v, b) for v in OVERFLOWING for b in bodies):
        body = make_body(value)
        urls = []
        for rule in posts:
            urls.append(rule.build({k: world[k] for k in rule.arguments}, False)[1])
            if "session_id" in rule.arguments:
                values = {k: world[k] for k in rule.arguments} | {"session_id": held.id}
                urls.append(rule.build(values, append_unknown=False)[1])
        for url in urls:
            for client in (facilitator, member, admin):
                response = client.post(
                    url, data=body, content_type="application/x-www-form-urlencoded"
                )
                assert response.status_code != 500, (url, value)
