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


def test_renewing_the_personal_link_revokes_the_member_feed(app, client, logged_in, world):
    sofie = world["sofie"]
    old_token = token_for(sofie)
    member = app.test_client()
    old_feed = feed_of_member_page(member, old_token)
    before = member.get(old_feed)
    assert before.status_code == 200

    renewed = logged_in.post(f"/contacts/{sofie.id}/link/renew", follow_redirects=True)
    assert renewed.status_code == 200
    page = renewed.get_data(as_text=True)
    assert "het agenda-abonnement van de oude link ook niet" in page  # told: the feed went too
    new_token = _path(_field(page, "personal-link")).rsplit("/", 1)[1]
    assert new_token != old_token

    assert member.get(f"/m/{old_token}").status_code == 404
    assert member.get(old_feed).status_code == 410
    # A calendar app revalidating the old feed gets no 304 either.
    etag, modified = before.headers["ETag"], before.headers["Last-Modified"]
    assert member.get(old_feed, headers={"If-None-Match": etag}).status_code == 410
    assert member.get(old_feed, headers={"If-Modified-Since": modified}).status_code == 410
    assert member.head(old_feed).status_code == 410

    new_feed = feed_of_member_page(member, new_token)
    assert new_feed != old_feed
    fresh = member.get(new_feed, headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.headers["ETag"] != etag


def test_the_member_feed_carries_no_working_personal_link(app, world):
    sofie, session = world["sofie"], world["session"]
    token = token_for(sofie)
    stranger = app.test_client()  # whoever the feed URL was shared with
    feed = stranger.get(feed_of_member_page(app.test_client(), token))
    text = feed.get_data(as_text=True).replace("\r\n ", "")
    assert token not in text and "/m/" + token[:8] not in text
    for parse in PARSERS:
        [event] = parse(feed.data)["events"]
        assert token not in event["url"] and token not in event["description"]
        landing = _path(event["url"])
        assert landing == f"/m/sessions/{session.id}"
        assert event["url"] in event["description"]
    # The landing asks for the personal link; it shows nothing of the session.
    page = stranger.get(landing)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "persoonlijke link" in html
    assert session.title not in html and sofie.name not in html and token not in html
    # A session that does not exist looks the same: the landing reveals nothing.
    assert stranger.get("/m/sessions/999999").status_code == 200
    # The single-event file from the member's page (imported into calendars) neither.
    single = stranger.get(f"/m/{token}/sessions/{session.id}/event.ics")
    assert single.status_code == 200 and token not in single.get_data(as_text=True)
    [event] = parse_vobject(single.data)["events"]
    assert _path(event["url"]) == landing


def test_the_landing_opens_the_members_page_on_the_phone_that_opened_the_link(
    app, logged_in, world
):
    sofie, session = world["sofie"], world["session"]
    token = token_for(sofie)
    phone = app.test_client()
    assert phone.get(f"/m/{token}").status_code == 200  # remembers whose link it opened
    landing = f"/m/sessions/{session.id}"
    found = phone.get(landing)
    assert found.status_code == 303
    assert found.headers["Location"].endswith(f"/m/{token}#session-{session.id}")
    assert found.headers["Cache-Control"] == "private, no-store"
    assert found.headers["Referrer-Policy"] == "strict-origin"
    # After the link is renewed the phone no longer knows a valid link: the landing asks.
    logged_in.post(f"/contacts/{sofie.id}/link/renew")
    again = phone.get(landing)
    assert again.status_code == 200 and token not in again.get_data(as_text=True)


def test_the_feed_of_a_contact_who_left_is_gone(app, logged_in, world, count_queries):
    """Gone (410), as cheaply as an unknown token (404), and not counted as a guess."""
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
    assert calendar_app.get(feed, headers={"If-None-Match": etag}).status_code == 410
    assert count_queries.count == unknown, count_queries.statements  # as cheap
    assert calendar_app.get(feed).status_code == 410


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
    assert app.test_client().get(url).status_code == 410
    # The network's own feed is not theirs: it keeps working.
    network_feed = calendar.ensure_feed("network", world["network"].id)
    db.session.commit()
    assert client.get(f"/feeds/{calendar.token_of(network_feed)}.ics").status_code == 200
