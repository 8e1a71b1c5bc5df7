"""Issue 9 in a real browser: a closed period over a planned host's date flags the session
on the dashboard; one click gives it the planner's choice of host and the flag is gone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from learnnet.auth.models import User
from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.networks.models import Network
from learnnet.sessions.models import CANCELLED, Session
from learnnet.timefmt import to_local
from tests.browser.conftest import DESKTOP, PHONE, no_horizontal_scroll, screenshot
from tests.browser.test_flows import log_in

pytestmark = pytest.mark.browser


def _upcoming_session(live) -> tuple[int, int, str]:
    """(session id, host facility id, local date) of an upcoming session of the demo
    facilitator's first network."""
    with live.app.app_context():
        network_ids = list(
            db.session.scalars(
                select(Network.id)
                .join(Network.facilitators)
                .where(User.email == "begeleider@example.org")
            )
        )
        query = (
            select(Session)
            .where(Session.status != CANCELLED, Session.starts_at > utcnow() + timedelta(days=2))
            .order_by(Session.starts_at)
        )
        query = query.where(Session.network_id.in_(network_ids))
        session = db.session.scalar(query.limit(1))
        day = to_local(session.starts_at, session.network.timezone).date().isoformat()
        found = (session.id, session.host_facility_id, day)
        db.session.remove()
        return found


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_closed_host_is_flagged_and_fixed_in_one_click(live, page_factory, viewport):
    page = page_factory(viewport)
    log_in(page, live.url)
    session_id, host_id, day = _upcoming_session(live)

    # The host's facility page: it cannot host on the session's date.
    page.goto(f"{live.url}/facilities/{host_id}#unavailable")
    page.fill("#closed-label", "Verbouwing")
    page.fill("#closed-starts_on", day)
    page.fill("#closed-ends_on", day)
    page.locator("#unavailable form button[type=submit]").click()
    page.wait_for_load_state("load")
    flash = page.locator(".flash-error", has_text="Deze wijziging raakt")
    assert flash.count() == 1
    assert flash.locator(f"a[href='/sessions/{session_id}']").count() == 1

    # The dashboard says so, with a link to the session.
    page.goto(f"{live.url}/")
    conflict = page.locator(".conflict", has=page.locator(f"a[href^='/sessions/{session_id}']"))
    assert conflict.count() == 1
    if viewport == PHONE:
        assert no_horizontal_scroll(page)
    screenshot(page, f"dashboard-flag-{viewport['width']}")
    conflict.locator(f"a[href^='/sessions/{session_id}']").click()

    # The session page proposes another host; one click, and the flag is gone.
    flag = page.locator("#flag")
    assert flag.count() == 1
    screenshot(page, f"session-flag-{viewport['width']}")
    if viewport == PHONE:
        assert no_horizontal_scroll(page)
    flag.locator("button[type=submit]").click()
    page.wait_for_load_state("load")
    assert page.locator("#flag").count() == 0
    assert page.locator(".flash-success").count() == 1
    page.goto(f"{live.url}/")
    assert (
        page.locator(".conflict", has=page.locator(f"a[href^='/sessions/{session_id}']")).count()
        == 0
    )
