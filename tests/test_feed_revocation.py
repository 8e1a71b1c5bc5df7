"""Feeds go with what they belong to: a revoked personal link, a contact who left, a
deactivated facilitator (issue 19, items 3 and 10). Through the real pages, read back
with the independent iCal parsers."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from learnnet.calendar import services as calendar
from learnnet.extensions import db
from learnnet.models import utcnow
from tests import factories
from tests.conftest import login
from tests.ical_oracles import parse_icaljs, parse_vobject
from tests.rsvp_helpers import token_for

PARSERS = [parse_icaljs, parse_vobject]


@pytest.fixture
def world(network):
    zonnebloem, ukkepuk = (m.facility for m in network.memberships)
    sofie = next(c for c in zonnebloem.contacts if c.name == "Sofie Claes")
    start = utcnow().replace(microsecond=0) + timedelta(days=20)
    session = factories.session(
        network, ukkepuk, starts_at=start, ends_at=start + timedelta(hours=2)
    )
    db.session.commit()
    return {"network": network, "session": session, "sofie": sofie}


def _field(html: str, field_id: str) -> str:
    match = re.search(rf'id="{field_id}" readonly value="([^"]+)"', html)
    assert match, f"no #{field_id} on the page"
    return match.group(1)


def _path(url: str) -> str:
    return urlsplit(url).path


def feed_of_member_page(client, token: str) -> str:
    """The feed path the member's page offers (the page makes it on first view)."""
    page = client.get(f"/m/{token}")
    assert page.status_code == 200
    return _path(_field(page.get_data(as_text=True), "feed-url"))


def test_the_feed_of_a_contact_who_left_is_gone(app, logged_in, world, count_queries):
    sofie = world["sofie"]
    feed = feed_of_member_page(logged_in, token_for(sofie))
    etag = logged_in.get(feed).headers["ETag"]
    response = logged_in.post(
        f"/contacts/{sofie.id}/edit",
        data={"name": sofie.name, "email": sofie.email, "preferred_language": "nl"},
    )
    assert response.status_code == 302
    calendar_app = app.test_client()
    count_queries.statements.clear()
    assert calendar_app.get("/feeds/" + "x" * 32 + ".ics").status_code == 404
    unknown = count_queries.count
    count_queries.statements.clear()
    assert calendar_app.get(feed, headers={"If-None-Match": etag}).status_code == 404
    assert count_queries.count == unknown, count_queries.statements  # as cheap
    assert calendar_app.get(feed).status_code == 404


def test_the_feed_of_a_deactivated_facilitator_is_gone(app, client, admin, facilitator, world):
    feed = calendar.ensure_feed("user", facilitator.id)
    db.session.commit()
    url = f"/feeds/{calendar.token_of(feed)}.ics"
    assert client.get(url).status_code == 200
    login(client, admin.email)
    response = client.post(
        f"/admin/users/{facilitator.id}/edit",
        data={"name": facilitator.name, "email": facilitator.email, "role": "facilitator"},
    )
    assert response.status_code == 302
    assert app.test_client().get(url).status_code == 404
    # The network's own feed is not theirs: it keeps working.
    network_feed = calendar.ensure_feed("network", world["network"].id)
    db.session.commit()
    assert client.get(f"/feeds/{calendar.token_of(network_feed)}.ics").status_code == 200
