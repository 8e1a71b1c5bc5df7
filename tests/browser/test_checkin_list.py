"""Issue 21.4 at 375 px: the check-in list shows six people or more per phone screen, the
counter follows each tap without a reload, and the name filter narrows the list."""

from __future__ import annotations

import pytest

from tests.browser.conftest import PHONE, no_horizontal_scroll, screenshot
from tests.browser.test_flows import log_in
from tests.browser.test_phone_pages import held_session_id

pytestmark = pytest.mark.browser


def test_check_in_list_on_a_phone(live, page_factory):
    page = page_factory(PHONE)
    log_in(page, live.url)
    held = held_session_id(live)
    page.goto(f"{live.url}/sessions/{held}/checkin")
    rows = page.locator(".checkin-list .person")
    assert rows.count() >= 6
    rows.first.scroll_into_view_if_needed()
    page.evaluate("document.querySelector('.checkin-list').scrollIntoView()")
    visible = page.evaluate(
        """() => [...document.querySelectorAll('.checkin-list .person')]
            .filter(r => { const b = r.getBoundingClientRect();
                           return b.top >= 0 && b.bottom <= window.innerHeight; }).length"""
    )
    screenshot(page, "checkin-list-375")
    assert visible >= 6, visible
    assert no_horizontal_scroll(page)

    # A tap on "Aanwezig" changes the counter at once.
    before = page.locator("#checkin-count").inner_text()
    target = page.locator(".checkin-list .person:not(.status-present)").first
    target_id = target.get_attribute("id")
    target.locator("button.mark-present").click()
    page.locator(f"#{target_id}.status-present").wait_for()
    after = page.locator("#checkin-count").inner_text()
    assert before != after
    assert int(after.split()[0]) == int(before.split()[0]) + 1

    # The name filter hides the others as you type.
    name = page.locator(".checkin-list .person-who strong").nth(2).inner_text()
    page.fill("#checkin-q", name)
    shown = page.locator(".checkin-list .person:visible")
    assert shown.count() >= 1
    assert all(name.lower() in t.lower() for t in shown.locator("strong").all_inner_texts())
