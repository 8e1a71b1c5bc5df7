"""Issue 22 at 375 px: a member answers a season poll of 6 dates in fewer than 10 taps,
without scrolling sideways; the facilitator's poll page counts the answers, a date with
too few is dropped with one tap, and the plan made from the poll shows why its hosts were
chosen ("offered to host on this date")."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.browser.conftest import DESKTOP, PHONE, no_horizontal_scroll, screenshot
from tests.browser.test_flows import log_in
from tests.browser.test_phone_pages import SLUG, member_token

pytestmark = pytest.mark.browser


def open_poll(live) -> int:
    """A poll of 6 weekly dates in the demo network, opened by its facilitator."""
    from learnnet.extensions import db
    from learnnet.networks.models import Network
    from learnnet.planning.poll_services import create_poll
    from learnnet.timefmt import local_today

    with live.app.app_context():
        network = db.session.scalar(db.select(Network).where(Network.slug == SLUG))
        first = local_today() + timedelta(days=40)
        days = [first + timedelta(days=7 * i) for i in range(6)]
        poll = create_poll(network, network.facilitators[0], days, first, "Welke data passen?")
        poll_id = poll.id
        db.session.remove()
    return poll_id


def test_a_member_answers_six_dates_in_under_ten_taps(live, page_factory):
    poll_id = open_poll(live)
    token = member_token(live)
    page = page_factory(PHONE)
    page.goto(f"{live.url}/m/{token}")
    taps = 0
    page.get_by_role("link", name="Vul de datumbevraging in").click()
    taps += 1
    page.wait_for_url(f"**/m/{token}/polls/{poll_id}")
    assert no_horizontal_scroll(page)
    fieldsets = page.locator("fieldset.poll-date")
    assert fieldsets.count() == 6
    for i in range(6):
        choice = "Kan niet" if i == 2 else "Kan"
        fieldsets.nth(i).get_by_label(choice, exact=True).click()
        taps += 1
    screenshot(page, "poll-answer-phone")
    page.get_by_role("button", name="Bewaar mijn antwoorden").click()
    taps += 1
    page.wait_for_url(f"**/m/{token}#poll")
    assert taps < 10
    assert "6 antwoorden bewaard" in page.inner_text("#flashes")

    facilitator = page_factory(PHONE)
    log_in(facilitator, live.url)
    facilitator.goto(f"{live.url}/networks/{SLUG}/polls/{poll_id}")
    rows = facilitator.locator("ul.poll-dates > li")
    assert rows.count() == 6
    assert rows.nth(0).locator(".count-can").inner_text() == "1"
    assert rows.nth(2).locator(".count-cannot").inner_text() == "1"
    # The grid's table is for wide screens; on the phone a date opens to its facilities.
    assert not facilitator.locator("table.poll-grid").is_visible()
    facilities = rows.nth(2).locator(".poll-facilities")
    assert not facilities.is_visible()
    rows.nth(2).locator("summary").click()
    assert facilities.is_visible() and "kan niet" in facilities.inner_text()
    screenshot(facilitator, "poll-view-phone")
    assert no_horizontal_scroll(facilitator)

    # On a laptop: the grid, dates down and facilities across.
    laptop = page_factory(DESKTOP)
    log_in(laptop, live.url)
    laptop.goto(f"{live.url}/networks/{SLUG}/polls/{poll_id}")
    grid = laptop.locator("table.poll-grid")
    assert grid.is_visible() and not laptop.locator("ul.poll-dates").is_visible()
    assert grid.locator("tbody tr").count() == 6
    assert grid.locator("thead th.facility").count() >= 2
    assert "kan niet" in grid.locator("tbody tr").nth(2).inner_text()
    screenshot(laptop, "poll-grid-laptop")
    assert no_horizontal_scroll(laptop)

    # The other members answer: the fifth date suits almost nobody; who can host offers.
    weak = answer_for_the_others(live, poll_id, weak_index=4)
    facilitator.goto(f"{live.url}/networks/{SLUG}/polls/{poll_id}")
    row = facilitator.locator(f"#date-{weak}")
    assert "te weinig" in row.inner_text()
    row.get_by_role("link", name="Schrap").click()  # one tap drops it
    facilitator.wait_for_url(f"**drop={weak}**")
    assert "geschrapt" in facilitator.locator(f"#date-{weak}").inner_text()
    assert no_horizontal_scroll(facilitator)
    screenshot(facilitator, "poll-dropped-phone")
    facilitator.get_by_role("button", name="Sluit de bevraging en plan deze data").click()
    facilitator.wait_for_url("**/plan?**")
    preview = facilitator.locator("#preview")
    preview.wait_for()
    assert "te weinig aanwezigen in de datumbevraging" in preview.inner_text()
    offered = preview.locator(".offered")
    assert offered.count() >= 1
    assert offered.first.inner_text() == "bood aan om te ontvangen op deze datum"
    assert no_horizontal_scroll(facilitator)
    screenshot(facilitator, "poll-plan-phone")
    laptop.goto(facilitator.url)
    laptop.locator("#preview").wait_for()
    screenshot(laptop, "poll-plan-laptop")
    assert no_horizontal_scroll(laptop)


def answer_for_the_others(live, poll_id: int, weak_index: int) -> str:
    """Each other member facility answers "kan" on every date but one ("kan niet"), and
    offers to host on all of them; the date everyone else cannot (ISO)."""
    from learnnet.extensions import db
    from learnnet.planning import poll_services
    from learnnet.planning.poll_models import Poll

    with live.app.app_context():
        poll = db.session.get(Poll, poll_id)
        days = [d.day for d in poll.dates]
        for facility in poll_services.member_facilities(poll.network):
            contacts = [
                c for c in facility.contacts if c.active and not c.email.startswith("sofie")
            ]
            if not contacts or facility.name == "Kinderdagverblijf De Zonnebloem":
                continue
            given = {
                day: ("cannot", False) if i == weak_index else ("can", True)
                for i, day in enumerate(days)
            }
            poll_services.record_answers(poll, contacts[0], given)
        weak = days[weak_index].isoformat()
        db.session.remove()
    return weak
