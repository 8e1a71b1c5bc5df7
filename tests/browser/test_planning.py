"""Issue 3's flow in a real browser: plan a season, adjust a host, save, move, cancel."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.browser.conftest import DESKTOP, PHONE, no_horizontal_scroll, screenshot
from tests.browser.test_flows import log_in

pytestmark = pytest.mark.browser


def test_plan_adjust_save_move_and_cancel(live_server, page_factory):
    page = page_factory(DESKTOP)

    def planned_count(facility_href: str) -> int:
        row = page.locator("#tally tbody tr", has=page.locator(f"a[href='{facility_href}']"))
        text = row.locator("td[data-label='Gepland']").inner_text().strip()
        return 0 if text in ("", "—") else int(text.split()[0])

    log_in(page, live_server, "tom.janssens@example.org", "demo-begeleider-2")
    page.goto(f"{live_server}/networks/limburg-buitenspelen")
    page.locator("a[href$='/plan']").first.click()
    assert page.locator("h1").inner_text()

    # A new season: monthly on the first Wednesday, five sessions, starting in a year.
    start = date.today() + timedelta(days=365)
    page.check("input[name=pattern][value=monthly]")
    page.select_option("#nth", "1")
    page.select_option("#weekday", "2")
    page.fill("#start_on", start.isoformat())
    page.fill("#count", "5")
    page.fill("#title", "Buitenspelen in de winter")
    page.click("button[name=action][value=preview]")
    rows = page.locator("select[name^=host-]")
    rows.first.wait_for()  # count() does not wait for the preview to load
    assert rows.count() == 5
    screenshot(page, "plan-preview-1280")

    # Adjust the host of the second session.
    second = rows.nth(1)
    current = second.input_value()
    options = second.locator("option").evaluate_all("os => os.map(o => o.value)")
    chosen = next(v for v in options if v != current)
    second.select_option(chosen)
    page.click("button[name=action][value=preview]")
    assert page.locator("select[name^=host-]").nth(1).input_value() == chosen
    page.set_viewport_size(PHONE)
    assert no_horizontal_scroll(page)
    screenshot(page, "plan-preview-375")
    page.set_viewport_size(DESKTOP)
    page.click("button[name=action][value=save]")

    # The timeline shows the new sessions.
    page.wait_for_url("**/sessions#upcoming")
    assert page.locator(".timeline-item", has_text="Buitenspelen in de winter").count() == 5
    # The adjusted host's session is in the timeline, and the tally counts it as planned.
    assert planned_count(f"/facilities/{chosen}") >= 1
    screenshot(page, "timeline-1280")

    # Move the first new session one week later, then cancel the last one.
    page.locator(".timeline-item", has_text="Buitenspelen in de winter").first.locator("a").click()
    page.locator("a[href$='/move']").click()
    moved_to = date.fromisoformat(page.input_value("#day")) + timedelta(days=7)
    page.fill("#day", moved_to.isoformat())
    page.fill("#start_time", "09:30")
    page.fill("#end_time", "12:00")
    page.locator("form button[type=submit].primary").click()
    assert "09:30–12:00" in page.locator(".when-large").inner_text()

    page.goto(f"{live_server}/networks/limburg-buitenspelen/sessions")
    last = page.locator(".timeline-item", has_text="Buitenspelen in de winter").last
    last.locator("a").click()
    host_href = page.locator(".card a[href^='/facilities/']").first.get_attribute("href")
    page.goto(f"{live_server}/networks/limburg-buitenspelen/sessions")
    before = planned_count(host_href)
    page.locator(".timeline-item", has_text="Buitenspelen in de winter").last.locator("a").click()
    page.locator("a.danger[href$='/cancel']").click()  # asks on a confirmation page
    page.locator("form button.danger").click()
    assert page.locator(".chip-danger").is_visible()

    page.goto(f"{live_server}/networks/limburg-buitenspelen/sessions")
    assert (
        page.locator(
            ".timeline-item.status-cancelled", has_text="Buitenspelen in de winter"
        ).count()
        == 1
    )
    # The tally follows: the cancelled session no longer counts for its host.
    assert planned_count(host_href) == before - 1
    assert page.locator("#tally tbody tr").count() >= 8
    assert no_horizontal_scroll(page)
    page.set_viewport_size(PHONE)
    assert no_horizontal_scroll(page)
    screenshot(page, "timeline-375")


def test_school_holidays_are_shown_in_the_preview_and_one_can_be_unticked(
    live_server, page_factory
):
    """Issue 22: on a phone, the preview lists the school holidays over the plan's dates,
    ticked; unticking the Easter holidays of 2028–2029 plans a session in them. (The demo
    network has the holidays of its own seasons' school years as periods of its own.)"""
    page = page_factory(PHONE)
    log_in(page, live_server, "tom.janssens@example.org", "demo-begeleider-2")
    page.goto(f"{live_server}/networks/limburg-buitenspelen/plan")
    page.check("input[name=pattern][value=dates]")
    page.fill("#dates", "13/03/2029\n10/04/2029\n10/07/2029")
    page.click("button[name=action][value=preview]")
    page.locator("#school-holidays").wait_for()  # count() does not wait for the new page
    assert page.locator("select[name^=host-]").count() == 1
    holidays = page.locator("#school-holidays")
    assert "Paasvakantie 2028–2029" in holidays.inner_text()
    assert page.is_checked("#school-2029-04-02") and page.is_checked("#school-2029-07-01")
    assert page.locator("tr.skipped", has_text="schoolvakantie: Paasvakantie").count() == 1
    screenshot(page, "plan-school-holidays-375")
    assert no_horizontal_scroll(page)
    page.locator("label[for='school-2029-04-02']").click()  # the label is a large target
    page.click("button[name=action][value=preview]")
    page.locator("select[name='host-2029-04-10']").wait_for()
    assert page.locator("select[name^=host-]").count() == 2
    assert page.locator("select[name='host-2029-04-10']").count() == 1
    assert not page.is_checked("#school-2029-04-02")
    assert no_horizontal_scroll(page)
