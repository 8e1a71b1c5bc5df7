"""Issue 9's undo in a real browser: a season saved by mistake is deleted as a whole."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from learnnet.extensions import db
from learnnet.sessions.models import Series, Session
from tests.browser.conftest import DESKTOP, PHONE, no_horizontal_scroll, screenshot
from tests.browser.test_flows import log_in

pytestmark = pytest.mark.browser

SLUG = "kempen-gezinsopvang"
TITLE = "Per vergissing opgeslagen"


def _series_of_saved(live) -> int:
    """The series the plan page saved the four sessions in."""
    with live.app.app_context():
        sessions = list(db.session.scalars(select(Session).where(Session.title == TITLE)))
        ids = {s.series_id for s in sessions}
        db.session.remove()
    assert len(sessions) == 4 and len(ids) == 1 and None not in ids
    return ids.pop()


def test_a_season_saved_by_mistake_is_deleted_as_a_whole(live, page_factory):
    base = live.url
    page = page_factory(DESKTOP)
    log_in(page, base)
    page.goto(f"{base}/networks/{SLUG}/plan")

    # Monthly on the second Thursday, four sessions, well after the demo's own season.
    page.check("input[name=pattern][value=monthly]")
    page.select_option("#nth", "2")
    page.select_option("#weekday", "3")
    page.fill("#start_on", (date.today() + timedelta(days=500)).isoformat())
    page.fill("#count", "4")
    page.fill("#title", TITLE)
    page.click("button[name=action][value=preview]")
    # The preview is a new page: wait for it (count() does not; under load it once read
    # the page before the preview had arrived).
    expect(page.locator("select[name^=host-]")).to_have_count(4)
    page.click("button[name=action][value=save]")
    page.wait_for_url("**/sessions*")  # the preview may leave "#preview"
    mine = page.locator(".timeline-item", has_text=TITLE)
    assert mine.count() == 4

    series_id = _series_of_saved(live)
    delete = page.locator(f".series-line a[href$='/series/{series_id}/delete']")
    assert delete.is_visible()
    delete.click()

    # The confirmation page lists the four sessions and asks; no script involved.
    page.wait_for_url(f"**/series/{series_id}/delete")
    assert page.locator("h1").inner_text()
    assert page.locator(".confirm li").count() == 4
    assert page.locator("form button.danger").is_visible()
    screenshot(page, "series-delete-confirm-1280")
    page.set_viewport_size(PHONE)
    assert no_horizontal_scroll(page)
    screenshot(page, "series-delete-confirm-375")

    # "Cancel" goes back without deleting anything; on a phone the series line fits.
    page.locator(".confirm a.ghost").click()
    page.wait_for_url("**/sessions*")
    assert page.locator(".timeline-item", has_text=TITLE).count() == 4
    line = page.locator(".series-line", has=page.locator(f"a[href$='/series/{series_id}/delete']"))
    box = line.bounding_box()
    assert box and box["x"] + box["width"] <= PHONE["width"]
    page.set_viewport_size(DESKTOP)

    page.locator(f".series-line a[href$='/series/{series_id}/delete']").click()
    page.locator("form button.danger").click()
    page.wait_for_url("**/sessions*")
    assert page.locator(".flash-success").is_visible()
    assert page.locator(".timeline-item", has_text=TITLE).count() == 0
    assert page.locator(f".series-line a[href$='/series/{series_id}/delete']").count() == 0
    with live.app.app_context():
        assert db.session.scalars(select(Session).where(Session.title == TITLE)).all() == []
        assert db.session.get(Series, series_id) is None
        db.session.remove()
