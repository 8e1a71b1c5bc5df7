"""Feeds over HTTP, single-event files and invitations by email, read by independent parsers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from learnnet.calendar import services as calendar
from learnnet.calendar.models import CalendarFeed, FeedStamp
from learnnet.extensions import db
from learnnet.mail.models import OutboxMessage
from learnnet.models import utcnow
from learnnet.sessions.models import Session
from tests import factories
from tests.ical_oracles import parse_icaljs, parse_vobject
from tests.rsvp_helpers import answer, token_for

PARSERS = [parse_icaljs, parse_vobject]


@pytest.fixture
def world(network):
    zonnebloem, ukkepuk = (m.facility for m in network.memberships)
    sofie = next(c for c in zonnebloem.contacts if c.name == "Sofie Claes")
    # 19:00 in Brussels right before and after the October change, next year or later.
    year = utcnow().year + 1
    before = datetime(year, 10, 20, 17, 0, tzinfo=UTC)  # summer time: UTC+2
    after = datetime(year, 11, 3, 18, 0, tzinfo=UTC)  # winter time: UTC+1
    sessions = [
        factories.session(network, ukkepuk, starts_at=before, ends_at=before + timedelta(hours=2)),
        factories.session(network, zonnebloem, starts_at=after, ends_at=after + timedelta(hours=2)),
    ]
    sessions[0].agenda = "Onthaal; rondleiding, koffie\nÉén ideeën-uitwisseling"
    db.session.commit()
    return {"network": network, "sessions": sessions, "sofie": sofie, "year": year}


def feed_url(kind: str, owner_id: int) -> str:
    feed = calendar.ensure_feed(kind, owner_id)
    db.session.commit()
    return f"/feeds/{calendar.token_of(feed)}.ics"


def test_network_feed_is_right_in_independent_parsers(client, world):
    url = feed_url("network", world["network"].id)
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    for parse in PARSERS:
        parsed = parse(response.data)
        assert parsed["name"] == world["network"].name
        starts = [e["start_utc"] for e in parsed["events"]]
        year = world["year"]
        assert starts == [f"{year}-10-20T17:00:00Z", f"{year}-11-03T18:00:00Z"]
        first = parsed["events"][0]
        assert first["uid"] == world["sessions"][0].uid
        assert "Één ideeën-uitwisseling" in first["description"]
        assert first["location"].startswith("Kinderopvang Ukkepuk, Kerkstraat 1, 9000 Gent")
        assert first["organizer"] is None and first["attendees"] == []
    text = response.get_data(as_text=True)
    for person in ("Sofie", "Hanne", "@example.org"):
        assert person not in text  # a feed carries no people's names or addresses
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in text and "X-PUBLISHED-TTL:PT1H" in text


def settle() -> None:
    """Date every stamp and feed a minute back, as if the latest change were not new: a
    feed's Last-Modified is taken at its word only some time after its latest change."""
    back = utcnow() - timedelta(minutes=1)
    db.session.execute(update(FeedStamp).values(changed_at=back))
    db.session.execute(update(CalendarFeed).values(created_at=back))
    db.session.commit()


def test_conditional_get_head_and_same_body(client, world, count_queries):
    url = feed_url("network", world["network"].id)
    settle()
    first = client.get(url)
    again = client.get(url)
    assert first.data == again.data
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    count_queries.statements.clear()
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    cheap = count_queries.count
    assert cheap <= 3, count_queries.statements
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    assert (
        client.get(
            url, headers={"If-None-Match": '"other"', "If-Modified-Since": modified}
        ).status_code
        == 200
    )
    head = client.head(url)
    assert head.status_code == 200 and head.data == b"" and head.headers["ETag"] == etag
    for bad in ({"If-None-Match": 'garbage,,,"\x01'}, {"If-Modified-Since": "yesterday-ish"}):
        assert client.get(url, headers=bad).status_code == 200


def test_304_costs_the_same_with_many_sessions(client, world, count_queries):
    url = feed_url("network", world["network"].id)
    etag = client.get(url).headers["ETag"]
    count_queries.statements.clear()
    client.get(url, headers={"If-None-Match": etag})
    few = count_queries.count
    host = world["sessions"][0].host
    for n in range(60):
        factories.session(world["network"], host, days_ahead=400 + n)
    db.session.commit()
    etag = client.get(url).headers["ETag"]
    count_queries.statements.clear()
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert count_queries.count == few


def test_a_moved_session_keeps_its_uid_with_a_higher_sequence_and_a_new_etag(
    client, logged_in, world
):
    url = feed_url("network", world["network"].id)
    before = client.get(url)
    session = world["sessions"][0]
    uid = session.uid
    local = (session.starts_at + timedelta(days=1)).astimezone()
    response = logged_in.post(
        f"/sessions/{session.id}/move",
        data={
            "day": (session.starts_at + timedelta(days=1)).date().isoformat(),
            "start_time": "19:30",
            "end_time": "21:30",
            "host_id": session.host_facility_id,
        },
    )
    assert response.status_code == 302, local
    after = client.get(url, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    for parse in PARSERS:
        moved = next(e for e in parse(after.data)["events"] if e["uid"] == uid)
        assert moved["sequence"] == 1
        assert moved["start_utc"].endswith("T17:30:00Z")


def test_cancelled_sessions_stay_marked_and_last_modified_never_goes_back(client, logged_in, world):
    url = feed_url("network", world["network"].id)
    first = client.get(url)
    session = world["sessions"][1]
    logged_in.post(f"/sessions/{session.id}/cancel")
    cancelled = client.get(url)
    for parse in PARSERS:
        event = next(e for e in parse(cancelled.data)["events"] if e["uid"] == session.uid)
        assert event["status"] == "CANCELLED" and event["sequence"] == 1
    # A session removed from the database: the feed changes, its Last-Modified does not go back.
    db.session.delete(db.session.get(Session, world["sessions"][0].id))
    db.session.commit()
    gone = client.get(url)
    stamps = [
        datetime.strptime(r.headers["Last-Modified"], "%a, %d %b %Y %H:%M:%S GMT")
        for r in (first, cancelled, gone)
    ]
    assert stamps == sorted(stamps)
    assert gone.headers["ETag"] != cancelled.headers["ETag"]


def test_feed_tokens_revoke_and_garbage_is_404(client, logged_in, world):
    url = feed_url("network", world["network"].id)
    assert client.get(url).status_code == 200
    response = logged_in.post(f"/networks/{world['network'].slug}/feed/renew")
    assert response.status_code == 303
    assert client.get(url).status_code == 410  # renewed: Gone, so calendar apps stop asking
    assert client.get(feed_url("network", world["network"].id)).status_code == 200
    for token in ("x" * 32, "x" * 10_000, "..%2F..%2Fetc", "é"):
        assert client.get(f"/feeds/{token}.ics").status_code == 404


def test_personal_feed_has_the_own_answer_and_landing_and_follows_membership(
    client, logged_in, world
):
    sofie = world["sofie"]
    answer(client, token_for(sofie), world["sessions"][0].id, "yes")
    url = feed_url("contact", sofie.id)
    response = client.get(url)
    for parse in PARSERS:
        events = parse(response.data)["events"]
        assert len(events) == 2
        assert events[0]["description"].startswith("Je antwoord: ja, ik kom")
        assert events[1]["description"].startswith("Je antwoord: nog niet geantwoord")
        assert events[0]["url"].endswith(f"/m/sessions/{world['sessions'][0].id}")
        assert "Hanne" not in events[0]["description"]
    network = world["network"]
    membership = next(m for m in network.memberships if m.facility_id == sofie.facility_id)
    logged_in.post(
        f"/networks/{network.slug}/members/{membership.id}/leave",
        data={"left_on": utcnow().date().isoformat()},
    )
    gone = client.get(url, headers={"If-None-Match": response.headers["ETag"]})
    assert gone.status_code == 200
    assert parse_icaljs(gone.data)["events"] == []


def test_facilitator_feed_shows_counts(client, logged_in, world, facilitator):
    answer(client, token_for(world["sofie"]), world["sessions"][0].id, "yes")
    url = feed_url("user", facilitator.id)
    text = client.get(url).get_data(as_text=True).replace("\r\n ", "")
    assert "Komt: 1/12 plaatsen" in text
    assert "Sofie" not in text


def test_single_event_files(client, logged_in, world):
    session = world["sessions"][0]
    response = logged_in.get(f"/sessions/{session.id}/event.ics")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    token = token_for(world["sofie"])
    mine = client.get(f"/m/{token}/sessions/{session.id}/event.ics")
    for parse in PARSERS:
        [event] = parse(mine.data)["events"]
        assert event["uid"] == session.uid
    other = factories.network(facilitators=[])
    host = factories.facility(name="Elders")
    factories.member(other, host)
    foreign = factories.session(other, host)
    db.session.commit()
    assert client.get(f"/m/{token}/sessions/{foreign.id}/event.ics").status_code == 404


# --- invitations by email ----------------------------------------------------------------------


def calendar_part(message: OutboxMessage) -> tuple[str, bytes]:
    parts = [a for a in message.attachments if a.content_type.startswith("text/calendar")]
    assert len(parts) == 1
    return parts[0].content_type, parts[0].data


def test_invitation_update_and_cancellation_are_proper_imip(app, logged_in, world):
    session = world["sessions"][0]
    logged_in.post(f"/sessions/{session.id}/invitations")
    sofie_mail = db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.kind == "invitation", OutboxMessage.recipient == "sofie@example.org"
        )
    )
    content_type, data = calendar_part(sofie_mail)
    assert content_type == "text/calendar; charset=UTF-8; method=REQUEST"
    for parse in PARSERS:
        parsed = parse(data)
        assert parsed["method"] == "REQUEST"
        [event] = parsed["events"]
        assert event["uid"] == session.uid and event["sequence"] == 0
        assert (
            event["organizer"].startswith("noreply+") and event["organizer"] != "sofie@example.org"
        )
        assert event["attendees"] == [{"email": "sofie@example.org", "partstat": "NEEDS-ACTION"}]
    # The .eml in instance/outbox: text, HTML and the calendar part side by side (RFC 6047).
    eml = next(p for p in (Path(app.instance_path) / "outbox").glob("*invitation.eml"))
    parsed_mail = message_from_bytes(eml.read_bytes(), policy=policy.default)
    alternative = next(
        p for p in parsed_mail.walk() if p.get_content_type() == "multipart/alternative"
    )
    kinds = [p.get_content_type() for p in alternative.iter_parts()]
    assert kinds == ["text/plain", "text/html", "text/calendar"]
    assert alternative.get_payload()[2].get_param("method") == "REQUEST"

    logged_in.post(
        f"/sessions/{session.id}/move",
        data={
            "day": session.starts_at.date().isoformat(),
            "start_time": "18:30",
            "end_time": "21:00",
            "host_id": session.host_facility_id,
        },
    )
    change = db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.kind == "change", OutboxMessage.recipient == "sofie@example.org"
        )
    )
    _type, data = calendar_part(change)
    for parse in PARSERS:
        [event] = parse(data)["events"]
        assert event["uid"] == session.uid and event["sequence"] == 1
    logged_in.post(f"/sessions/{session.id}/cancel")
    cancel = db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.kind == "cancellation", OutboxMessage.recipient == "sofie@example.org"
        )
    )
    content_type, data = calendar_part(cancel)
    assert content_type.endswith("method=CANCEL")
    for parse in PARSERS:
        parsed = parse(data)
        assert parsed["method"] == "CANCEL"
        assert parsed["events"][0]["status"] == "CANCELLED"
        assert parsed["events"][0]["sequence"] == 2


def test_the_demo_feeds_read_right_in_independent_parsers(app, client):
    """Every demo session's start, as ical.js and vobject compute it, is the stored instant."""
    from learnnet import demo
    from learnnet.networks.models import Contact, Network

    demo.load()
    sessions = {s.uid: s for s in db.session.scalars(select(Session))}
    urls = [feed_url("network", n.id) for n in db.session.scalars(select(Network))]
    sofie = db.session.scalar(select(Contact).where(Contact.email == demo.demo_member_email()))
    urls.append(feed_url("contact", sofie.id))
    for url in urls:
        data = client.get(url).data
        for parse in PARSERS:
            events = parse(data)["events"]
            assert events
            for event in events:
                stored = sessions[event["uid"]]
                assert event["start_utc"] == stored.starts_at.strftime("%Y-%m-%dT%H:%M:%SZ")
                assert event["end_utc"] == stored.ends_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    # The demo plans 19:00 sessions on both sides of a summer-time change.
    brussels = ZoneInfo("Europe/Brussels")
    offsets = {s.starts_at.astimezone(brussels).utcoffset() for s in sessions.values()}
    assert len(offsets) == 2
