"""Undo and recovery: delete what nobody was told about, restore a cancelled session,
confirmation pages in front of destructive actions, and a language switch that stays put."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import pytest
from flask import g
from sqlalchemy import func, select

from learnnet.attendance.models import Attendance
from learnnet.calendar import services as calendar
from learnnet.extensions import db
from learnnet.mail.models import OutboxMessage
from learnnet.models import utcnow
from learnnet.rsvp.models import Rsvp
from learnnet.sessions import recovery
from learnnet.sessions.models import (
    CANCELLED,
    CONFIRMED,
    PLANNED,
    Blackout,
    Series,
    Session,
    Unavailability,
)
from tests import factories
from tests.conftest import csrf_token_from, login

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=10)


@pytest.fixture
def en(logged_in):
    """The facilitator's client, reading English pages (the assertions read words)."""
    logged_in.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return logged_in


def hosts(network):
    return [m.facility for m in network.memberships]


def make_series(network, count=3, days_ahead=30):
    """A saved series of ``count`` weekly sessions, as the planner would leave it."""
    series = Series(
        network=network,
        kind="weekly",
        weekday=1,
        interval_weeks=1,
        start_time=time(19, 0),
        duration_minutes=150,
        title="Netwerkbijeenkomst",
    )
    db.session.add(series)
    db.session.flush()
    host = hosts(network)[0]
    sessions = [
        factories.session(network, host, days_ahead=days_ahead + 7 * i, series_id=series.id)
        for i in range(count)
    ]
    db.session.commit()
    return series, sessions


def exists(session_id):
    db.session.expire_all()
    return db.session.get(Session, session_id) is not None


def delete_links(html, session_id):
    return f'href="/sessions/{session_id}/delete"' in html


def tell(kind, session):
    """Tell members about the session in one of the ways that count."""
    contact = hosts(session.network)[0].contacts[0]
    if kind == "invited":
        session.invited_at = utcnow()
    elif kind == "mailed":
        db.session.add(
            OutboxMessage(
                kind="host_request",
                recipient=contact.email,
                subject="Kan je ontvangen?",
                text_body="…",
                session_id=session.id,
                contact_id=contact.id,
            )
        )
    elif kind == "answered":
        db.session.add(Rsvp(session_id=session.id, contact_id=contact.id, answer="yes"))
    elif kind == "attended":
        db.session.add(
            Attendance(
                session_id=session.id,
                contact_id=contact.id,
                person_name=contact.name,
                status="present",
            )
        )
    elif kind == "host_confirmed":
        session.status = CONFIRMED
        session.host_confirmed_at = utcnow()
    db.session.commit()


# --- the rules --------------------------------------------------------------------------------


def test_deletion_blockers_name_every_way_of_telling():
    untold = recovery.SessionFacts(ends_at=LATER)
    assert recovery.deletion_blockers(untold, NOW) == ()
    told = recovery.SessionFacts(
        ends_at=NOW,
        invited_at=NOW,
        host_confirmed=True,
        messages=2,
        answers=1,
        attendance=3,
    )
    assert recovery.deletion_blockers(told, NOW) == (
        recovery.ENDED,
        recovery.INVITED,
        recovery.HOST_CONFIRMED,
        recovery.MAILED,
        recovery.ANSWERED,
        recovery.ATTENDED,
    )
    assert recovery.deletion_blockers(recovery.SessionFacts(ends_at=LATER, answers=1), NOW) == (
        recovery.ANSWERED,
    )


def test_restore_blocker():
    assert recovery.restore_blocker(CANCELLED, LATER, NOW, False, True) is None
    assert recovery.restore_blocker(PLANNED, LATER, NOW, False, True) == recovery.NOT_CANCELLED
    assert recovery.restore_blocker(CANCELLED, NOW, NOW, False, True) == recovery.ENDED
    assert recovery.restore_blocker(CANCELLED, LATER, NOW, True, True) == recovery.OVERLAP
    assert recovery.restore_blocker(CANCELLED, LATER, NOW, False, False) == recovery.HOST_LEFT


# --- deleting a session -----------------------------------------------------------------------


def test_a_session_nobody_was_told_about_is_deleted_without_a_message(en, network):
    session = factories.session(network, hosts(network)[0])
    db.session.commit()
    page = en.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert delete_links(page, session.id)
    confirm = en.get(f"/sessions/{session.id}/delete")
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "Delete this session?" in html
    assert f'action="/sessions/{session.id}/delete"' in html
    response = en.post(f"/sessions/{session.id}/delete")
    assert response.status_code == 302
    assert response.location == f"/networks/{network.slug}/sessions"
    assert not exists(session.id)
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
    assert "Session deleted." in en.get(response.location).get_data(as_text=True)


@pytest.mark.parametrize("kind", ["invited", "mailed", "answered", "attended", "host_confirmed"])
def test_a_session_someone_was_told_about_can_only_be_cancelled(en, network, kind):
    session = factories.session(network, hosts(network)[0])
    db.session.commit()
    tell(kind, session)
    assert not delete_links(en.get(f"/sessions/{session.id}").get_data(as_text=True), session.id)
    html = en.get(f"/sessions/{session.id}/delete").get_data(as_text=True)
    assert "can no longer be deleted" in html
    assert f'action="/sessions/{session.id}/delete"' not in html
    assert f'href="/sessions/{session.id}/cancel"' in html  # cancel instead
    reason = {
        "invited": "Invitations were sent on",
        "mailed": "1 message about it was sent or is waiting to be sent.",
        "answered": "1 person has answered.",
        "attended": "Attendance has been recorded.",
        "host_confirmed": "The host has confirmed it.",
    }[kind]
    assert reason in html
    response = en.post(f"/sessions/{session.id}/delete")
    assert response.location == f"/sessions/{session.id}/delete"
    assert exists(session.id)
    with pytest.raises(recovery.RecoveryError):
        recovery.delete_session(db.session.get(Session, session.id))
    assert exists(session.id)


def test_a_session_that_ended_is_history(en, network):
    start = utcnow() - timedelta(days=3)
    session = factories.session(
        network, hosts(network)[0], starts_at=start, ends_at=start + timedelta(hours=2)
    )
    db.session.commit()
    html = en.get(f"/sessions/{session.id}/delete").get_data(as_text=True)
    assert "It has taken place." in html
    assert f'href="/sessions/{session.id}/cancel"' not in html  # nothing to cancel either
    en.post(f"/sessions/{session.id}/delete")
    assert exists(session.id)


def test_a_deleted_session_leaves_the_network_feed(client, en, network):
    keep = factories.session(network, hosts(network)[1], days_ahead=60)
    session = factories.session(network, hosts(network)[0])
    feed = calendar.ensure_feed("network", network.id)
    db.session.commit()
    url = f"/feeds/{calendar.token_of(feed)}.ics"
    before = client.get(url)
    assert session.uid in before.get_data(as_text=True)
    en.post(f"/sessions/{session.id}/delete")
    after = client.get(url, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200  # the stamp moved: no stale 304
    text = after.get_data(as_text=True)
    assert session.uid not in text and keep.uid in text


def test_a_check_in_setting_does_not_block_and_goes_with_the_session(en, network):
    from learnnet.attendance.models import CheckinSetting

    session = factories.session(network, hosts(network)[0])
    db.session.add(CheckinSetting(session_id=session.id, code="qr-x"))
    db.session.commit()
    en.post(f"/sessions/{session.id}/delete")
    assert not exists(session.id)
    assert db.session.get(CheckinSetting, session.id) is None


# --- deleting a series ------------------------------------------------------------------------


def test_a_series_nobody_was_told_about_is_deleted_as_a_whole(en, network):
    series, sessions = make_series(network)
    alone = factories.session(network, hosts(network)[1], days_ahead=5)
    db.session.commit()
    timeline = en.get(f"/networks/{network.slug}/sessions").get_data(as_text=True)
    url = f"/networks/{network.slug}/series/{series.id}/delete"
    assert f'href="{url}"' in timeline and "Series of 3 sessions" in timeline
    html = en.get(url).get_data(as_text=True)
    assert "Delete this series?" in html and "All 3 sessions of this series" in html
    assert f'action="{url}"' in html
    response = en.post(url)
    assert response.location == f"/networks/{network.slug}/sessions"
    assert not any(exists(s.id) for s in sessions)
    assert db.session.get(Series, series.id) is None
    assert exists(alone.id)
    assert "Series deleted: 3 sessions." in en.get(response.location).get_data(as_text=True)


def test_a_series_with_one_told_session_is_kept_whole_and_says_which(en, network):
    series, sessions = make_series(network)
    tell("answered", sessions[1])
    url = f"/networks/{network.slug}/series/{series.id}/delete"
    html = en.get(url).get_data(as_text=True)
    assert "This series can no longer be deleted" in html
    assert f'action="{url}"' not in html
    blocked = html.split('role="alert"')[1].split("</div>")[0]
    assert "1 person has answered." in blocked
    day = sessions[1].starts_at.astimezone(recovery_tz(network)).strftime("%H:%M")
    assert day in blocked and blocked.count("<li>") == 1
    response = en.post(url)
    assert response.location == url
    assert all(exists(s.id) for s in sessions)
    assert db.session.get(Series, series.id) is not None
    with pytest.raises(recovery.SeriesInUse) as refused:
        recovery.delete_series(db.session.get(Series, series.id))
    assert [s.id for s, _codes in refused.value.blocked] == [sessions[1].id]


def recovery_tz(network):
    from zoneinfo import ZoneInfo

    return ZoneInfo(network.timezone)


def test_another_networks_series_is_not_found(en, network):
    other = factories.network(facilitators=[], name="Ander")
    factories.member(other, hosts(network)[0])
    series, _sessions = make_series(other)
    assert en.get(f"/networks/{network.slug}/series/{series.id}/delete").status_code == 404
    assert en.post(f"/networks/{network.slug}/series/{series.id}/delete").status_code == 404
    assert en.get(f"/networks/{network.slug}/series/999/delete").status_code == 404


# --- cancelling and restoring -----------------------------------------------------------------


def test_cancel_asks_first_then_restore_announces_the_session_again(en, network):
    session = factories.session(network, hosts(network)[0])
    db.session.commit()
    en.post(f"/sessions/{session.id}/invitations")
    page = en.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert f'href="/sessions/{session.id}/cancel"' in page
    assert f'action="/sessions/{session.id}/cancel"' not in page  # no one-click cancel
    html = en.get(f"/sessions/{session.id}/cancel").get_data(as_text=True)
    assert "Cancel this session?" in html and f'action="/sessions/{session.id}/cancel"' in html
    assert "Everyone who was invited gets a cancellation message." in html
    en.post(f"/sessions/{session.id}/cancel")
    db.session.expire_all()
    session = db.session.get(Session, session.id)
    assert session.status == CANCELLED and session.revision == 1
    page = en.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert f'action="/sessions/{session.id}/restore"' in page
    assert not delete_links(page, session.id)  # they were told

    response = en.post(f"/sessions/{session.id}/restore")
    assert response.location == f"/sessions/{session.id}"
    db.session.expire_all()
    session = db.session.get(Session, session.id)
    assert session.status == PLANNED and session.revision == 2
    assert session.host_confirmed_at is None
    changes = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.session_id == session.id, OutboxMessage.kind == "change"
        )
    ).all()
    assert {m.recipient for m in changes} == {"sofie@example.org", "hanne@example.org"}
    calendar_part = next(a for a in changes[0].attachments if a.inline)
    assert b"METHOD:REQUEST" in calendar_part.data and b"SEQUENCE:2" in calendar_part.data
    assert b"STATUS:CONFIRMED" in calendar_part.data
    page = en.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert "Session restored." in page
    assert f'href="/sessions/{session.id}/cancel"' in page


def test_restoring_withdraws_the_hosts_confirmation_and_says_so(en, network):
    host = hosts(network)[0]
    session = factories.session(network, host)
    tell("host_confirmed", session)
    en.post(f"/sessions/{session.id}/cancel")
    response = en.post(f"/sessions/{session.id}/restore")
    page = en.get(response.location).get_data(as_text=True)
    assert "Session restored." in page and "The host has to confirm again." in page
    db.session.expire_all()
    restored = db.session.get(Session, session.id)
    assert restored.status == PLANNED and restored.host_confirmed_at is None


def test_the_cancel_page_offers_deleting_when_nobody_was_told(en, network):
    session = factories.session(network, hosts(network)[0])
    db.session.commit()
    html = en.get(f"/sessions/{session.id}/cancel").get_data(as_text=True)
    assert "Nobody has been invited yet, so nobody gets a message." in html
    assert f'href="/sessions/{session.id}/delete"' in html


def test_restore_is_refused_when_the_time_is_taken_or_has_passed(en, network):
    first, second = hosts(network)
    session = factories.session(network, first, status=CANCELLED, revision=1)
    factories.session(network, second)  # the same time, not cancelled
    start = utcnow() - timedelta(days=2)
    old = factories.session(
        network,
        first,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        status=CANCELLED,
        revision=1,
    )
    db.session.commit()
    response = en.post(f"/sessions/{session.id}/restore")
    html = en.get(response.location).get_data(as_text=True)
    assert "cannot be restored: another session of this network takes place at the same" in html
    en.post(f"/sessions/{old.id}/restore")
    db.session.expire_all()
    assert db.session.get(Session, session.id).status == CANCELLED
    assert db.session.get(Session, session.id).revision == 1
    assert db.session.get(Session, old.id).status == CANCELLED
    page = en.get(f"/sessions/{old.id}").get_data(as_text=True)
    assert "restore" not in page.split("<h1>")[1].split("</div>")[1]  # no button on history


def test_restore_is_refused_when_the_host_has_left(en, network):
    host = hosts(network)[0]
    session = factories.session(network, host, status=CANCELLED, revision=1)
    membership = next(m for m in network.memberships if m.facility_id == host.id)
    membership.left_on = utcnow().date()
    db.session.commit()
    response = en.post(f"/sessions/{session.id}/restore")
    html = en.get(response.location).get_data(as_text=True)
    assert "is no longer a member of the network on that date" in html
    db.session.expire_all()
    assert db.session.get(Session, session.id).status == CANCELLED


def test_restoring_a_session_that_is_not_cancelled_changes_nothing(en, network):
    session = factories.session(network, hosts(network)[0])
    db.session.commit()
    en.post(f"/sessions/{session.id}/restore")
    db.session.expire_all()
    assert db.session.get(Session, session.id).revision == 0


# --- periods ----------------------------------------------------------------------------------


def test_periods_are_removed_through_a_confirmation_page(en, network):
    facility = hosts(network)[0]
    blackout = Blackout(
        network=network,
        starts_on=utcnow().date(),
        ends_on=utcnow().date() + timedelta(days=14),
        label="Krokus",
    )
    closed = Unavailability(
        facility=facility,
        starts_on=utcnow().date(),
        ends_on=utcnow().date() + timedelta(days=3),
        reason="Verbouwing",
    )
    db.session.add_all([blackout, closed])
    db.session.commit()
    timeline = en.get(f"/networks/{network.slug}/sessions").get_data(as_text=True)
    blackout_url = f"/networks/{network.slug}/blackouts/{blackout.id}/delete"
    assert f'href="{blackout_url}"' in timeline and f'action="{blackout_url}"' not in timeline
    html = en.get(blackout_url).get_data(as_text=True)
    assert "Remove this period without sessions?" in html and "Krokus" in html
    assert f'action="{blackout_url}"' in html
    en.post(blackout_url)
    assert db.session.get(Blackout, blackout.id) is None

    facility_page = en.get(f"/facilities/{facility.id}").get_data(as_text=True)
    closed_url = f"/facilities/{facility.id}/unavailability/{closed.id}/delete"
    assert f'href="{closed_url}"' in facility_page and f'action="{closed_url}"' not in facility_page
    html = en.get(closed_url).get_data(as_text=True)
    assert "Remove this unavailable period?" in html and "Verbouwing" in html
    en.post(closed_url)
    assert db.session.get(Unavailability, closed.id) is None


def test_a_period_of_another_network_or_facility_is_not_found(en, network):
    other = factories.network(facilitators=[], name="Ander")
    blackout = Blackout(
        network=other, starts_on=utcnow().date(), ends_on=utcnow().date(), label="x"
    )
    mine, theirs = hosts(network)
    closed = Unavailability(facility=theirs, starts_on=utcnow().date(), ends_on=utcnow().date())
    db.session.add_all([blackout, closed])
    db.session.commit()
    assert en.get(f"/networks/{network.slug}/blackouts/{blackout.id}/delete").status_code == 404
    assert en.get(f"/facilities/{mine.id}/unavailability/{closed.id}/delete").status_code == 404


def test_confirmation_pages_carry_csrf_and_no_inline_script(app_factory, tmp_path):
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        user = factories.user(email="an@example.org")
        network = factories.network(facilitators=[user], name="Gent")
        host = factories.facility(name="KDV Zon")
        factories.member(network, host)
        session = factories.session(network, host)
        series, _sessions = make_series(network)
        blackout = Blackout(
            network=network, starts_on=utcnow().date(), ends_on=utcnow().date(), label="x"
        )
        closed = Unavailability(facility=host, starts_on=utcnow().date(), ends_on=utcnow().date())
        db.session.add_all([blackout, closed])
        db.session.commit()
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        client.post(
            "/login",
            data={
                "email": user.email,
                "password": factories.PASSWORD,
                "csrf_token": csrf_token_from(page),
            },
        )
        # Flask-WTF caches the raw token on ``g``, which the test's app context keeps across
        # requests; logging in started a new cookie session, so drop the stale token.
        g.pop("csrf_token", None)
        urls = [
            f"/sessions/{session.id}/delete",
            f"/sessions/{session.id}/cancel",
            f"/networks/{network.slug}/series/{series.id}/delete",
            f"/networks/{network.slug}/blackouts/{blackout.id}/delete",
            f"/facilities/{host.id}/unavailability/{closed.id}/delete",
        ]
        for url in urls:
            response = client.get(url)
            html = response.get_data(as_text=True)
            assert response.status_code == 200, url
            form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', html, re.S)
            assert form and form.group(1) == url, url
            assert 'name="csrf_token"' in form.group(2)
            assert 'class="button danger"' in form.group(2)
            assert not re.search(r"<script(?![^>]*\bsrc=)", html), url  # no inline script
            assert not re.search(r"\son[a-z]+=", html), url  # no inline handlers
            assert "data-confirm" not in html
            csp = response.headers["Content-Security-Policy"]
            assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
        # Without the token the action is refused; with it, it happens.
        assert client.post(urls[0]).status_code == 400
        assert db.session.get(Session, session.id) is not None
        token = csrf_token_from(client.get(urls[0]).get_data(as_text=True))
        assert client.post(urls[0], data={"csrf_token": token}).status_code == 302
        db.session.expire_all()
        assert db.session.get(Session, session.id) is None


def test_other_facilitators_cannot_delete_or_restore(app, network):
    session = factories.session(network, hosts(network)[0])
    series, _sessions = make_series(network)
    other = factories.user(email="other@example.org")
    factories.network(facilitators=[other])
    db.session.commit()
    client = app.test_client()
    login(client, other.email)
    assert client.post(f"/sessions/{session.id}/delete").status_code == 403
    assert client.post(f"/sessions/{session.id}/restore").status_code == 403
    assert client.post(f"/networks/{network.slug}/series/{series.id}/delete").status_code == 403
    assert exists(session.id)


# --- the language switch ----------------------------------------------------------------------


def switch_target(html):
    form = html.split('class="lang-switch"')[1].split("</form>")[0]
    return re.search(r'name="next" value="([^"]*)"', form).group(1)


def test_switching_the_language_stays_on_the_page(logged_in, network):
    url = f"/networks/{network.slug}/sessions"
    assert switch_target(logged_in.get(url).get_data(as_text=True)) == url
    response = logged_in.post("/language", data={"lang": "en", "next": url})
    assert response.location == url
    assert "Upcoming" in logged_in.get(url).get_data(as_text=True)
    with_query = f"/networks/{network.slug}?tab=members"
    assert switch_target(logged_in.get(with_query).get_data(as_text=True)) == with_query
    # A page shown after a form with errors: back to the page that held the form.
    page = logged_in.post(
        f"/networks/{network.slug}/blackouts",
        data={"blackout-label": "Zomer"},
        headers={"Referer": f"http://localhost{url}"},
    )
    assert page.status_code == 200
    assert switch_target(page.get_data(as_text=True)) == url
    foreign = logged_in.post(
        f"/networks/{network.slug}/blackouts",
        data={"blackout-label": "Zomer"},
        headers={"Referer": "https://evil.example/phish"},
    )
    assert switch_target(foreign.get_data(as_text=True)) == ""


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        " //evil.example",
        "/\t/evil.example",
    ],
)
def test_the_language_switch_never_leaves_the_site(client, target):
    response = client.post("/language", data={"lang": "en", "next": target})
    assert response.status_code == 302
    assert response.location == "/"  # the dashboard, never the given target


def test_cancelled_again_after_a_restore_the_invited_hear_it_again(en, network):
    session = factories.session(network, hosts(network)[0])
    db.session.commit()
    en.post(f"/sessions/{session.id}/invitations")
    en.post(f"/sessions/{session.id}/cancel")
    en.post(f"/sessions/{session.id}/restore")
    en.post(f"/sessions/{session.id}/cancel")
    cancellations = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.session_id == session.id, OutboxMessage.kind == "cancellation"
        )
    ).all()
    invited = {"sofie@example.org", "hanne@example.org"}
    assert sorted(m.recipient for m in cancellations) == sorted([*invited, *invited])
