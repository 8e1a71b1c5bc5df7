"""The facilitator answers on a member's behalf (after a phone call) from the session
page: one form, opened with the person chosen from their row, back at their row."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.sessions.models import CANCELLED, Session
from tests.browser.conftest import DESKTOP, PHONE, no_horizontal_scroll, screenshot
from tests.browser.test_flows import log_in

pytestmark = pytest.mark.browser


def _next_session(live) -> int:
    with live.app.app_context():
        found = db.session.scalar(
            select(Session.id)
            .where(Session.starts_at > utcnow(), Session.status != CANCELLED)
            .order_by(Session.starts_at)
        )
        db.session.remove()
        return found


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_answer_on_someones_behalf(live, live_server, page_factory, viewport):
    page = page_factory(viewport)
    log_in(page, live_server)
    session_id = _next_session(live)
    page.goto(f"{live_server}/sessions/{session_id}#answers")
    rows = page.locator("li.person-answer")
    assert rows.count() >= 3 and page.locator("form.on-behalf").count() == 1
    row = rows.nth(1)
    person_id = row.get_attribute("id").removeprefix("person-")
    name = row.locator(".who a").first.inner_text()
    row.get_by_role("link", name="Antwoord invullen").click()
    chosen = page.locator("#on-behalf-contact")
    expect(chosen).to_have_value(person_id)
    assert no_horizontal_scroll(page)
    screenshot(page, f"on-behalf-{viewport['width']}")
    page.select_option("#on-behalf-answer", "maybe")
    page.get_by_label("Opmerking").fill("Belde net, weet het nog niet")
    page.get_by_role("button", name="Opslaan").click()
    page.wait_for_url(f"**/sessions/{session_id}#person-{person_id}")
    saved = page.locator(f"#person-{person_id}")
    expect(saved).to_contain_text(name)
    expect(saved).to_contain_text("Misschien")
    expect(saved).to_contain_text("Belde net, weet het nog niet")
