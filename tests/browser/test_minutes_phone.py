"""Issue 23.4 at 375 px: the facilitator publishes minutes with two agreements on her
phone, the next session's page shows them in its look-back, and the owner marks one done
on her phone (no script needed, one tap); then the same pages at 1280 px."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.browser.conftest import DESKTOP, PHONE, no_horizontal_scroll, screenshot
from tests.browser.test_flows import log_in

pytestmark = pytest.mark.browser

SLUG = "kempen-gezinsopvang"


def the_world(live) -> dict:
    """The Kempen network's latest held session (no minutes in the demo), the next one,
    two member facilities and the personal link of a contact of the first."""
    from sqlalchemy import select

    from learnnet.extensions import db
    from learnnet.models import utcnow
    from learnnet.networks.models import Network
    from learnnet.rsvp.contacts import ensure_link, token_of
    from learnnet.sessions.models import CANCELLED, Session

    with live.app.app_context():
        network = db.session.scalar(select(Network).where(Network.slug == SLUG))
        now = utcnow()
        held = db.session.scalar(
            select(Session)
            .where(Session.network_id == network.id, Session.ends_at < now)
            .where(Session.status != CANCELLED)
            .order_by(Session.starts_at.desc())
        )
        upcoming = db.session.scalar(
            select(Session)
            .where(Session.network_id == network.id, Session.starts_at > now)
            .where(Session.status != CANCELLED)
            .order_by(Session.starts_at)
        )
        members = [m.facility for m in network.memberships if m.left_on is None]
        first = next(f for f in members if f.contacts)
        second = next(f for f in members if f is not first)
        owner = first.contacts[0]
        world = {
            "held": held.id,
            "upcoming": upcoming.id,
            "first": first.id,
            "second": second.id,
            "owner": owner.id,
            "token": token_of(ensure_link(owner)),
            "due": (now + timedelta(days=20)).date().isoformat(),
        }
        db.session.commit()
        db.session.remove()
    return world


def test_minutes_published_look_back_and_done_on_a_phone(live, page_factory):
    world = the_world(live)
    facilitator = page_factory(PHONE)
    log_in(facilitator, live.url)
    facilitator.goto(f"{live.url}/sessions/{world['held']}")
    facilitator.get_by_role("link", name="Verslag schrijven").click()
    facilitator.wait_for_url(f"**/sessions/{world['held']}/minutes")
    assert no_horizontal_scroll(facilitator)
    facilitator.locator("#general_text").fill("We spraken over ouderbetrokkenheid.")
    rows = facilitator.locator("fieldset.action-row")
    assert rows.count() == 2
    rows.nth(0).get_by_label("Wat").fill("Een ouderavond rond spelen organiseren")
    rows.nth(0).get_by_label("Wie").select_option(f"c-{world['owner']}")
    rows.nth(0).get_by_label("Tegen wanneer").fill(world["due"])
    rows.nth(1).get_by_label("Wat").fill("Foto's van de speelhoek delen")
    rows.nth(1).get_by_label("Wie").select_option(f"f-{world['second']}")
    rows.nth(1).get_by_label("Tegen wanneer").fill(world["due"])
    screenshot(facilitator, "minutes-edit-phone")
    facilitator.get_by_role("button", name="Publiceren voor het netwerk").click()
    facilitator.wait_for_url(f"**/sessions/{world['held']}#minutes")
    assert "Het verslag is gepubliceerd" in facilitator.inner_text("#flashes")
    assert "Gepubliceerd" in facilitator.inner_text("#minutes")

    # The next session's page looks back at both agreements.
    facilitator.goto(f"{live.url}/sessions/{world['upcoming']}")
    look_back = facilitator.locator("#lookback")
    assert "Een ouderavond rond spelen organiseren" in look_back.inner_text()
    assert "Foto's van de speelhoek delen" in look_back.inner_text()
    assert look_back.locator(".chip", has_text="Open").count() == 2
    assert no_horizontal_scroll(facilitator)

    # The owner, on her phone, without script: one tap on "Gedaan".
    member = page_factory(PHONE)
    member.goto(f"{live.url}/m/{world['token']}")
    mine = member.locator("#afspraken .my-action")
    assert mine.count() == 1 and "Een ouderavond" in mine.inner_text()
    assert "Terugblik op de volgende bijeenkomst" in member.inner_text("#afspraken")
    assert no_horizontal_scroll(member)
    screenshot(member, "minutes-member-phone")
    mine.get_by_role("button", name="Gedaan").click()
    member.wait_for_url(f"**/m/{world['token']}#afspraken")
    assert "Aangeduid als gedaan" in member.inner_text("#flashes")
    assert member.locator("#afspraken .my-action .chip", has_text="Gedaan").count() == 1
    # A line on how it went, on the agreement's own page.
    member.locator("#afspraken .my-action").get_by_role("link", name="Hoe ging het?").click()
    member.get_by_label("Hoe ging het?").fill("Twaalf ouders kwamen, ze vroegen om een vervolg.")
    member.get_by_role("button", name="Bewaren").click()
    assert "Bewaard" in member.inner_text("#flashes")
    assert no_horizontal_scroll(member)
    screenshot(member, "minutes-action-phone")

    facilitator.reload()
    look_back = facilitator.locator("#lookback")
    assert look_back.locator(".chip", has_text="Gedaan").count() == 1
    assert "Twaalf ouders kwamen" in look_back.inner_text()
    screenshot(facilitator, "minutes-lookback-phone")

    wide = page_factory(DESKTOP)
    log_in(wide, live.url)
    wide.goto(f"{live.url}/sessions/{world['upcoming']}")
    screenshot(wide, "minutes-lookback-desktop")
    wide.goto(f"{live.url}/sessions/{world['held']}/minutes")
    screenshot(wide, "minutes-edit-desktop")
    desk_member = page_factory(DESKTOP)
    desk_member.goto(f"{live.url}/m/{world['token']}/minutes/{world['held']}")
    assert "Afgesproken voor" in desk_member.inner_text("main")
    screenshot(desk_member, "minutes-member-desktop")
