"""Issue 21: "Ik ben er" on the member's own page, from a browser that never opened her
link before (a colleague's phone, another browser): no cookie needed, at 375 px."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from learnnet.attendance.models import Attendance
from learnnet.demo import demo_member_email
from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.networks.models import Contact
from learnnet.rsvp.contacts import ensure_link, token_of
from learnnet.sessions.models import Session
from tests.browser.conftest import PHONE, no_horizontal_scroll, screenshot

pytestmark = pytest.mark.browser


def test_i_am_here_from_a_second_browser(live, browser):
    with live.app.app_context():
        sofie = db.session.scalar(select(Contact).where(Contact.email == demo_member_email()))
        # The next session of her network starts in ten minutes: check-in is open.
        session = db.session.scalar(
            select(Session)
            .where(Session.starts_at > utcnow(), Session.status != "cancelled")
            .order_by(Session.starts_at)
        )
        session.starts_at = utcnow() + timedelta(minutes=10)
        session.ends_at = session.starts_at + timedelta(hours=2)
        token = token_of(ensure_link(sofie))
        db.session.commit()
        sofie_id, session_id = sofie.id, session.id
        db.session.remove()

    first = browser.new_context(viewport=PHONE, locale="nl-BE")
    first.new_page().goto(f"{live.url}/m/{token}")  # her own phone, once
    first.close()
    second = browser.new_context(viewport=PHONE, locale="nl-BE")  # no cookie of hers
    page = second.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"{live.url}/m/{token}")
        card = page.locator(f"#session-{session_id}")
        card.get_by_role("button", name="Ik ben er").click()
        page.locator(f"#session-{session_id} .here-done").wait_for()
        assert no_horizontal_scroll(page)
        screenshot(page, "member-here-second-browser")
    finally:
        second.close()
    with live.app.app_context():
        row = db.session.scalar(
            select(Attendance).where(
                Attendance.session_id == session_id, Attendance.contact_id == sofie_id
            )
        )
        assert row is not None and row.status == "present"
        db.session.remove()
