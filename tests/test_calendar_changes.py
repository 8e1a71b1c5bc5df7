"""Calendars follow every change (issue 20, part 6).

Out-of-date REPLYs are discarded and the member is told; replies refused for any other
reason are answered the same way; a contact taken off a session gets a CANCEL; a host's
new address is a new SEQUENCE and an update. Replies come in the shapes real clients
send (tests/itip_replies.py); calendars are read back with ical.js and vobject.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from learnnet.extensions import db
from learnnet.mail.models import OutboxMessage
from learnnet.models import utcnow
from learnnet.networks import services as network_services
from learnnet.rsvp.models import Rsvp
from learnnet.sessions.models import Session
from tests import factories
from tests.ical_oracles import parse_icaljs, parse_vobject
from tests.itip_replies import SHAPES, reply
from tests.rsvp_helpers import answer, token_for

PARSERS = [parse_icaljs, parse_vobject]
ANSWER = {"ACCEPTED": "yes", "DECLINED": "no", "TENTATIVE": "maybe"}


@pytest.fixture
def invited(app, logged_in, network):
    zonnebloem, ukkepuk = (m.facility for m in network.memberships)
    sofie = next(c for c in zonnebloem.contacts if c.name == "Sofie Claes")
    hanne = next(c for c in zonnebloem.contacts if c.name == "Hanne De Smet")
    session = factories.session(network, ukkepuk, days_ahead=25)
    later = factories.session(network, ukkepuk, days_ahead=60)
    db.session.commit()
    for s in (session, later):
        assert logged_in.post(f"/sessions/{s.id}/invitations").status_code in (302, 303)
    invitation = db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.kind == "invitation",
            OutboxMessage.contact_id == sofie.id,
            OutboxMessage.session_id == session.id,
        )
    )
    [event] = parse_icaljs(inline_calendar(invitation))["events"]
    return {
        "network": network,
        "session": session,
        "later": later,
        "sofie": sofie,
        "hanne": hanne,
        "host": ukkepuk,
        "home": zonnebloem,
        "organizer": event["organizer"],
    }


def inline_calendar(message: OutboxMessage) -> bytes:
    return next(a.data for a in message.attachments if a.inline)


def receive(app, raw: bytes):
    result = app.test_cli_runner().invoke(args=["receive-mail"], input=raw)
    assert result.exit_code == 0, result.output
    return result.output


def rsvp_of(session, contact):
    db.session.expire_all()
    return db.session.scalar(
        select(Rsvp).where(Rsvp.session_id == session.id, Rsvp.contact_id == contact.id)
    )


def messages(kind: str, contact=None) -> list[OutboxMessage]:
    db.session.expire_all()
    query = select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
    if contact is not None:
        query = query.where(OutboxMessage.contact_id == contact.id)
    return list(db.session.scalars(query))


def move(logged_in, session, start: str = "19:30") -> None:
    """Move the session half an hour (a significant change: revision + 1)."""
    response = logged_in.post(
        f"/sessions/{session.id}/move",
        data={
            "day": session.starts_at.date().isoformat(),
            "start_time": start,
            "end_time": "22:00",
            "host_id": session.host_facility_id,
        },
    )
    assert response.status_code in (302, 303)
    db.session.expire_all()


# --- out-of-date replies ----------------------------------------------------------------------


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_reply_to_the_invitation_before_a_change_is_discarded_and_the_member_told(
    app, logged_in, invited, shape
):
    session, sofie = invited["session"], invited["sofie"]
    move(logged_in, session)
    assert db.session.get(Session, session.id).revision == 1
    raw = reply(shape, session.uid, invited["organizer"], sofie.email, sequence=0)
    assert "discarded: outdated" in receive(app, raw)
    assert rsvp_of(session, sofie) is None
    [notice] = messages("calendar_refused", sofie)
    assert notice.session_id == session.id and notice.recipient == sofie.email
    assert "niet verwerkt" in notice.subject
    assert f"/m/{token_for(sofie)}#session-{session.id}" in notice.text_body
    assert "is de bijeenkomst gewijzigd" in notice.text_body
    assert notice.attachments == []  # no calendar part: nothing for the calendar to apply


def test_a_reply_without_any_sequence_counts_as_sequence_0(app, logged_in, invited):
    session, sofie = invited["session"], invited["sofie"]
    raw = reply("outlook_accept.eml", session.uid, invited["organizer"], sofie.email, sequence=-1)
    assert b"SEQUENCE" not in raw
    assert "recorded" in receive(app, raw)  # revision 0: current
    move(logged_in, session)
    raw = reply(
        "outlook_accept.eml",
        session.uid,
        invited["organizer"],
        sofie.email,
        "DECLINED",
        sequence=-1,
    )
    assert "discarded: outdated" in receive(app, raw)
    assert rsvp_of(session, sofie).answer == "yes"


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_reply_to_the_current_invitation_after_a_change_is_recorded(
    app, logged_in, invited, shape
):
    session, sofie = invited["session"], invited["sofie"]
    move(logged_in, session)
    raw = reply(shape, session.uid, invited["organizer"], sofie.email, sequence=1)
    assert "recorded" in receive(app, raw)
    assert rsvp_of(session, sofie).answer == ANSWER[SHAPES[shape]]
    assert messages("calendar_refused") == []


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_reply_stamped_before_the_members_later_answer_on_the_page_is_discarded(
    app, client, invited, shape
):
    session, sofie = invited["session"], invited["sofie"]
    before = (utcnow() - timedelta(minutes=5)).strftime("%Y%m%dT%H%M%SZ")
    partstat = "TENTATIVE" if SHAPES[shape] != "TENTATIVE" else "ACCEPTED"
    assert answer(client, token_for(sofie), session.id, "no").status_code in (200, 302, 303)
    raw = reply(shape, session.uid, invited["organizer"], sofie.email, partstat, dtstamp=before)
    assert "discarded: superseded" in receive(app, raw)
    assert rsvp_of(session, sofie).answer == "no"
    [notice] = messages("calendar_refused", sofie)
    assert "blijft het latere antwoord" in notice.text_body
    # The same mail delivered twice gives one notice.
    assert "discarded: superseded" in receive(app, raw)
    assert len(messages("calendar_refused", sofie)) == 1


def test_a_reply_stamped_after_the_members_answer_on_the_page_is_recorded(app, client, invited):
    session, sofie = invited["session"], invited["sofie"]
    answer(client, token_for(sofie), session.id, "no")
    after = (utcnow() + timedelta(seconds=2)).strftime("%Y%m%dT%H%M%SZ")
    raw = reply(
        "apple_tentative.eml", session.uid, invited["organizer"], sofie.email, dtstamp=after
    )
    assert "recorded" in receive(app, raw)
    assert rsvp_of(session, sofie).answer == "maybe"


def test_a_reply_for_a_cancelled_session_is_refused_with_a_mail(app, logged_in, invited):
    session, sofie = invited["session"], invited["sofie"]
    logged_in.post(f"/sessions/{session.id}/cancel")
    raw = reply("gmail_decline.eml", session.uid, invited["organizer"], sofie.email, "ACCEPTED")
    assert "discarded: cancelled" in receive(app, raw)
    assert rsvp_of(session, sofie) is None
    [notice] = messages("calendar_refused", sofie)
    assert "geannuleerd" in notice.text_body
    assert f"#session-{session.id}" in notice.text_body


def test_a_reply_after_the_deadline_is_refused_with_a_mail(app, invited):
    session, sofie = invited["session"], invited["sofie"]
    session.rsvp_deadline = utcnow() - timedelta(hours=1)
    db.session.commit()
    raw = reply("thunderbird_accept.eml", session.uid, invited["organizer"], sofie.email)
    assert "discarded: deadline" in receive(app, raw)
    [notice] = messages("calendar_refused", sofie)
    assert "antwoorden is voorbij" in notice.text_body


def test_the_refusal_mail_escapes_what_people_wrote(app, logged_in, invited):
    session, sofie = invited["session"], invited["sofie"]
    session.title = "<b>Bijeenkomst</b> & co"
    sofie.name = "Sofie <script>"
    db.session.commit()
    move(logged_in, session)
    raw = reply(
        "thunderbird_accept.eml", session.uid, invited["organizer"], sofie.email, sequence=0
    )
    receive(app, raw)
    [notice] = messages("calendar_refused", sofie)
    assert "<script>" not in notice.html_body and "Sofie &lt;script&gt;" in notice.html_body
    assert "&lt;b&gt;Bijeenkomst&lt;/b&gt; &amp; co" in notice.html_body
    assert "<b>Bijeenkomst</b> & co" in notice.text_body


def test_spoofed_replies_get_no_mail(app, invited):
    session, hanne = invited["session"], invited["hanne"]
    raw = reply("outlook_accept.eml", session.uid, invited["organizer"], hanne.email)
    assert "ignored" in receive(app, raw)
    assert messages("calendar_refused") == []


# --- taken off a session: a CANCEL ------------------------------------------------------------


def assert_cancel_for(message: OutboxMessage, session: Session) -> None:
    data = inline_calendar(message)
    [attachment] = message.attachments
    assert attachment.content_type.endswith("method=CANCEL")
    for parse in PARSERS:
        parsed = parse(data)
        assert parsed["method"] == "CANCEL"
        [event] = parsed["events"]
        assert event["uid"] == session.uid
        assert event["sequence"] == session.revision


def test_contacts_of_a_facility_that_leaves_get_a_cancel_for_later_sessions(app, invited):
    network, home = invited["network"], invited["home"]
    session, later = invited["session"], invited["later"]
    membership = next(m for m in network.memberships if m.facility_id == home.id)
    left_on = (session.starts_at + timedelta(days=2)).date()  # after the first, before the second
    with app.test_request_context():
        network_services.leave(membership, left_on)
    removed = messages("calendar_removed")
    assert {(m.contact_id, m.session_id) for m in removed} == {
        (invited["sofie"].id, later.id),
        (invited["hanne"].id, later.id),
    }
    for message in removed:
        assert_cancel_for(message, db.session.get(Session, later.id))
        assert "neemt niet meer deel" in message.text_body
    # The other invitees' calendars keep the session at the same SEQUENCE.
    assert db.session.get(Session, later.id).revision == 0


def test_a_contact_who_no_longer_works_there_gets_a_cancel_for_every_session_to_come(app, invited):
    sofie = invited["sofie"]
    with app.test_request_context():
        network_services.update_contact(
            sofie, {"name": sofie.name, "email": sofie.email, "active": False}
        )
    removed = messages("calendar_removed")
    assert sorted(m.session_id for m in removed) == sorted(
        [invited["session"].id, invited["later"].id]
    )
    assert {m.contact_id for m in removed} == {sofie.id}
    for message in removed:
        assert_cancel_for(message, db.session.get(Session, message.session_id))
        assert "niet meer als medewerker" in message.text_body


def test_no_cancel_for_a_session_the_contact_was_never_invited_to(app, network):
    zonnebloem, ukkepuk = (m.facility for m in network.memberships)
    sofie = next(c for c in zonnebloem.contacts if c.name == "Sofie Claes")
    factories.session(network, ukkepuk, days_ahead=25)
    db.session.commit()
    with app.test_request_context():
        network_services.update_contact(
            sofie, {"name": sofie.name, "email": sofie.email, "active": False}
        )
    assert messages("calendar_removed") == []


# --- a host's new address ---------------------------------------------------------------------


def test_a_hosts_new_address_is_a_new_sequence_and_an_update(app, invited):
    session, later, host = invited["session"], invited["later"], invited["host"]
    stamped = db.session.get(Session, session.id).updated_at
    with app.test_request_context():
        network_services.update_facility(
            host, {"name": host.name, "postcode": host.postcode, "street": "Nieuwstraat 7"}
        )
    for s in (session, later):
        fresh = db.session.get(Session, s.id)
        assert fresh.revision == 1
    assert db.session.get(Session, session.id).updated_at > stamped
    changes = messages("change", invited["sofie"])
    assert sorted(m.session_id for m in changes) == sorted([session.id, later.id])
    for message in changes:
        for parse in PARSERS:
            parsed = parse(inline_calendar(message))
            assert parsed["method"] == "REQUEST"
            [event] = parsed["events"]
            assert event["sequence"] == 1
            assert "Nieuwstraat 7" in event["location"]
    # A detail that is not part of the place changes nothing for calendars.
    with app.test_request_context():
        network_services.update_facility(
            host, {"name": host.name, "postcode": host.postcode, "phone": "09 123 45 67"}
        )
    assert db.session.get(Session, session.id).revision == 1


def test_a_hosts_new_address_from_a_csv_import_is_announced_too(
    app, logged_in, invited, facilitator
):
    network, host = invited["network"], invited["host"]
    from learnnet.networks import csvio
    from tests.test_csv import messages as csv_messages

    rows = network_services.export_rows(network)
    for row in rows:
        if row["facility_name"] == host.name:
            row["street"] = "Kerkplein 1"
    parsed = csvio.parse(csvio.write(rows), csv_messages())
    assert parsed.valid
    with app.test_request_context():
        network_services.apply_import(
            network, parsed.facilities, utcnow().date(), parsed.columns, actor=facilitator
        )
    assert db.session.get(Session, invited["session"].id).revision == 1
    assert len(messages("change", invited["sofie"])) == 2


def test_a_change_notice_is_no_answer_and_the_feed_etag_moves(app, client, invited):
    """Sanity: the address change reaches the network feed's bytes and validators."""
    from learnnet.calendar import services as calendar

    feed = calendar.ensure_feed("network", invited["network"].id)
    db.session.commit()
    url = f"/feeds/{calendar.token_of(feed)}.ics"
    first = client.get(url)
    host = invited["host"]
    with app.test_request_context():
        network_services.update_facility(
            host, {"name": host.name, "postcode": host.postcode, "street": "Nieuwstraat 9"}
        )
    second = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200 and b"Nieuwstraat 9" in second.data
    events = {e["uid"]: e for e in parse_icaljs(second.data)["events"]}
    assert events[invited["session"].uid]["sequence"] == 1
    stamp = datetime.strptime(
        events[invited["session"].uid]["last_modified_utc"], "%Y-%m-%dT%H:%M:%SZ"
    ).replace(tzinfo=UTC)
    assert stamp >= utcnow().replace(microsecond=0) - timedelta(minutes=1)


# --- feed validators --------------------------------------------------------------------------


def network_feed(network) -> str:
    from learnnet.calendar import services as calendar

    feed = calendar.ensure_feed("network", network.id)
    db.session.commit()
    return f"/feeds/{calendar.token_of(feed)}.ics"


def set_stamp(network, moment: datetime) -> None:
    """Put the network's stamp at ``moment`` (and its feeds before it)."""
    from sqlalchemy import update

    from learnnet.calendar.models import CalendarFeed, FeedStamp

    db.session.execute(
        update(FeedStamp)
        .where(FeedStamp.kind == "network", FeedStamp.owner_id == network.id)
        .values(changed_at=moment)
    )
    db.session.execute(update(CalendarFeed).values(created_at=moment - timedelta(days=1)))
    db.session.commit()


def rename(session, title: str) -> None:
    db.session.get(Session, session.id).title = title
    db.session.commit()


def test_if_modified_since_sees_a_change_in_the_same_second(client, invited):
    network, session = invited["network"], invited["session"]
    url = network_feed(network)
    second = utcnow().replace(microsecond=0)
    set_stamp(network, second + timedelta(milliseconds=100))
    first = client.get(url)
    rename(session, "Eerste versie")
    set_stamp(network, second + timedelta(milliseconds=600))  # the same second
    again = client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert again.status_code == 200 and b"Eerste versie" in again.data


def test_if_modified_since_gives_304_once_the_change_has_settled(client, invited):
    network = invited["network"]
    url = network_feed(network)
    set_stamp(network, utcnow() - timedelta(minutes=1))
    first = client.get(url)
    since = {"If-Modified-Since": first.headers["Last-Modified"]}
    assert client.get(url, headers=since).status_code == 304


def test_the_etag_changes_also_when_the_stamp_clock_does_not_move(client, invited):
    """Two transactions at once: the one whose clock was behind leaves the stamp's date
    where the other put it; its change must still give a new ETag."""
    network, session = invited["network"], invited["session"]
    url = network_feed(network)
    set_stamp(network, utcnow() + timedelta(minutes=1))
    first = client.get(url)
    rename(session, "Tweede versie")
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200 and b"Tweede versie" in again.data
    assert again.headers["Last-Modified"] == first.headers["Last-Modified"]
