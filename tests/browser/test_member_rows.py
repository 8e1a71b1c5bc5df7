"""A member with many sessions: the first ones in full, the later ones as compact rows
that answer in one tap (with and without JavaScript), everything else one tap away."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from learnnet.demo import demo_member_email
from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.networks.models import Contact
from learnnet.rsvp.contacts import ensure_link, token_of
from learnnet.rsvp.models import Rsvp
from learnnet.rsvp.views import FULL_CARDS
from learnnet.sessions.models import Session
from tests.browser.conftest import PHONE, no_horizontal_scroll, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def sofie(live):
    """Sofie's token and her upcoming sessions after adding a season far ahead (ids in order)."""
    with live.app.app_context():
        contact = db.session.scalar(select(Contact).where(Contact.email == demo_member_email()))
        network = contact.facility.memberships[0].network
        host = next(m.facility for m in network.memberships if m.facility_id != contact.facility_id)
        start = (utcnow() + timedelta(days=200)).replace(hour=18, minute=0, second=0)
        for n in range(FULL_CARDS + 3):
            db.session.add(
                Session(
                    network=network,
                    host=host,
                    title="Later in het jaar",
                    starts_at=start + timedelta(weeks=4 * n),
                    ends_at=start + timedelta(weeks=4 * n, hours=2),
                )
            )
        token = token_of(ensure_link(contact))
        db.session.commit()
        from learnnet.rsvp.services import member_page

        ids = [row.session.id for row in member_page(contact).sessions]
        contact_id = contact.id
        db.session.remove()
    return {"token": token, "ids": ids, "contact_id": contact_id}


def _answer(live, contact_id: int, session_id: int) -> str | None:
    with live.app.app_context():
        found = db.session.scalar(
            select(Rsvp.answer).where(Rsvp.contact_id == contact_id, Rsvp.session_id == session_id)
        )
        db.session.remove()
        return found


# A later session's row (the page also lists her agreements as rows).
SESSION_ROW = "li.mrow[id^='session-']"


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_later_sessions_are_rows_that_answer_in_one_tap(live, browser, sofie, javascript):
    context = browser.new_context(viewport=PHONE, java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"{live.url}/m/{sofie['token']}")
        ids = sofie["ids"]
        assert len(ids) > FULL_CARDS + 2
        assert page.locator("article.msession").count() == FULL_CARDS
        assert page.locator(SESSION_ROW).count() == len(ids) - FULL_CARDS
        assert no_horizontal_scroll(page)
        # Compact: at least six later sessions on one phone screen.
        rows = page.locator(SESSION_ROW)
        rows.first.scroll_into_view_if_needed()
        heights = [rows.nth(k).bounding_box()["height"] for k in range(3)]
        assert max(heights) * 6 <= PHONE["height"], heights
        target = ids[-2]
        row = page.locator(f"#session-{target}")
        row.scroll_into_view_if_needed()
        screenshot(page, f"member-rows-{'js' if javascript else 'nojs'}")
        before = page.evaluate("window.scrollY")
        row.get_by_role("button", name="Misschien").click()
        pressed = page.locator(f"#session-{target} button[value=maybe]")
        expect(pressed).to_have_attribute("aria-pressed", "true")
        expect(page.locator(".flashes")).to_be_visible()
        if javascript:  # replaced in place: the page did not jump to the top
            assert abs(page.evaluate("window.scrollY") - before) < PHONE["height"]
        else:
            assert re.search(rf"#session-{target}$", page.url)
        assert _answer(live, sofie["contact_id"], target) == "maybe"

        # Everything else is one tap away, at the same session.
        page.get_by_role("link", name="Toon alle bijeenkomsten met hun details").click()
        # A new page: wait for it (count() does not, see test_recovery).
        expect(page.locator("article.msession")).to_have_count(len(ids))
        assert page.locator(SESSION_ROW).count() == 0
        card = page.locator(f"#session-{target}")
        assert card.get_by_text("Opmerking", exact=True).is_visible()
    finally:
        context.close()
