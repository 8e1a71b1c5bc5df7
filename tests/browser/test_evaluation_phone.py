"""Issue 23.5 at 375 px: a member who was checked in evaluates the session from her
personal page (one tap per score, a line of text, shared for the yearly record), once;
the facilitator reads it on a laptop, without her name."""

from __future__ import annotations

import pytest

from tests.browser.conftest import DESKTOP, PHONE, no_horizontal_scroll, screenshot
from tests.browser.test_flows import log_in

pytestmark = pytest.mark.browser


def member_with_an_open_evaluation(live) -> tuple[str, str, int]:
    """A demo contact checked in at a held session she has not evaluated: name, token,
    session id."""
    from learnnet.extensions import db
    from learnnet.learning.evaluation_services import open_for
    from learnnet.networks.models import Contact
    from learnnet.rsvp.contacts import ensure_link, token_of

    with live.app.app_context():
        for contact in db.session.scalars(db.select(Contact).order_by(Contact.id)):
            sessions = open_for(contact)
            if sessions:
                found = (contact.name, token_of(ensure_link(contact)), sessions[-1].id)
                db.session.commit()
                db.session.remove()
                return found
    raise AssertionError("the demo has no open evaluation")


def test_a_member_evaluates_once_on_her_phone(live, page_factory):
    name, token, session_id = member_with_an_open_evaluation(live)
    page = page_factory(PHONE)
    page.goto(f"{live.url}/m/{token}")
    page.locator("#evaluation").get_by_role("link", name="Evalueer deze bijeenkomst").last.click()
    page.wait_for_url(f"**/m/{token}/sessions/{session_id}/evaluation")
    assert no_horizontal_scroll(page)
    page.get_by_role("radiogroup").first.get_by_role("radio", name="4").click()
    page.get_by_label("Wat neem je mee?").fill("Een vaste plek voor de knuffel van elk kind.")
    page.get_by_label("Deel dit in het jaaroverzicht van onze voorziening").first.check()
    screenshot(page, "evaluation-answer-phone")
    page.get_by_role("button", name="Verstuur mijn evaluatie").click()
    page.wait_for_url(f"**/m/{token}#evaluation")
    assert "Bedankt voor je evaluatie!" in page.inner_text("#flashes")
    page.goto(f"{live.url}/m/{token}/sessions/{session_id}/evaluation")
    assert "al geëvalueerd" in page.inner_text("#flashes")  # once: no second form

    laptop = page_factory(DESKTOP)
    log_in(laptop, live.url)
    laptop.goto(f"{live.url}/sessions/{session_id}/evaluation")
    text = laptop.inner_text("main")
    assert "Een vaste plek voor de knuffel van elk kind." in text
    assert name not in text
    screenshot(laptop, "evaluation-results-laptop")
