"""The member's flow in a real browser: personal link, answers, waitlist, promotion by mail."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from learnnet.demo import demo_member_email
from learnnet.extensions import db
from learnnet.networks.models import Contact
from learnnet.rsvp.contacts import ensure_link, token_of
from learnnet.rsvp.models import Rsvp
from learnnet.rsvp.services import member_page
from tests.browser.conftest import PHONE, no_horizontal_scroll, screenshot

pytestmark = pytest.mark.browser


def _demo_member(live):
    """Sofie's token, the full session and another open one (from the demo data)."""
    with live.app.app_context():
        sofie = db.session.scalar(select(Contact).where(Contact.email == demo_member_email()))
        # Back to the demo's answers (an earlier test in this module may have changed them).
        for rsvp in db.session.scalars(select(Rsvp).where(Rsvp.contact_id == sofie.id)):
            db.session.delete(rsvp)
        for rsvp in db.session.scalars(
            select(Rsvp).join(Contact).where(Contact.name == "Hanne De Smet", Rsvp.answer == "no")
        ):
            rsvp.answer, rsvp.waitlisted = "yes", False
        token = token_of(ensure_link(sofie))
        db.session.commit()
        page = member_page(sofie)
        open_rows = [r for r in page.sessions if not r.closed]
        full = next(r.session.id for r in open_rows if r.free == 0)
        other = next(r.session.id for r in open_rows if r.free and r.session.id != full)
        db.session.remove()
    return token, full, other


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_member_answers_lands_on_the_waitlist_and_is_promoted_when_a_colleague_declines(
    live, browser, javascript
):
    token, full, other = _demo_member(live)
    context = browser.new_context(viewport=PHONE, locale="en-US", java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"{live.url}/m/{token}")
        # The contact's language (Dutch), not the phone's (English).
        assert page.get_by_role("heading", name="Dag Sofie").is_visible()
        assert no_horizontal_scroll(page)
        screenshot(page, f"member-{'js' if javascript else 'nojs'}")
        subscribe = page.get_by_role("link", name="Abonneer je in je agenda")
        assert subscribe.get_attribute("href").startswith("webcal://")
        feed = page.get_by_label("Link om te kopiëren").input_value()
        assert page.request.get(feed).headers["content-type"].startswith("text/calendar")

        open_card = page.locator(f"#session-{other}")
        open_card.get_by_role("button", name="Ik kom", exact=True).click()
        open_card = page.locator(f"#session-{other}")
        open_card.locator(".answer-state .chip-ok").wait_for()
        assert "Ik kom" in open_card.locator(".answer-state").inner_text()

        full_card = page.locator(f"#session-{full}")
        full_card.get_by_role("button", name="Ik kom", exact=True).click()
        full_card = page.locator(f"#session-{full}")
        full_card.locator(".answer-state .chip-warn").wait_for()
        assert "Wachtlijst, nummer 1" in full_card.locator(".answer-state").inner_text()
        assert "wachtlijst" in page.locator(".flashes").inner_text().lower()
        screenshot(page, f"member-waitlist-{'js' if javascript else 'nojs'}")

        # Hanne, a colleague with a seat, cannot come after all: Sofie answers for her.
        full_card.get_by_text("Voor collega's").click()
        full_card.get_by_role("button", name="Hanne De Smet komt niet").click()
        full_card = page.locator(f"#session-{full}")
        full_card.locator(".answer-state .chip-ok").wait_for()
        assert "Ik kom" in full_card.locator(".answer-state").inner_text()
        assert "plaats vrijgekomen" in page.locator(".flashes").inner_text()
        assert no_horizontal_scroll(page)
        screenshot(page, f"member-promoted-{'js' if javascript else 'nojs'}")
    finally:
        context.close()

    # The promotion message reached the outbox (instance/outbox/*.eml) in Dutch.
    with live.app.app_context():
        rsvp = db.session.scalar(
            select(Rsvp)
            .join(Contact)
            .where(Rsvp.session_id == full, Contact.email == demo_member_email())
        )
        assert rsvp.confirmed
        db.session.remove()
    mails = [
        message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in sorted((live.instance / "outbox").glob("*promotion.eml"))
    ]
    mine = [m for m in mails if m["To"].addresses[0].addr_spec == demo_member_email()]
    assert mine, [m["To"] for m in mails]
    assert "plaats" in mine[-1].get_body(("plain",)).get_content()
