"""Answer buttons on the member's page keep their words whole at phone widths: selected or
not, in full cards and compact rows, in Dutch and English (issue 21: "Misschien" was
clipped when selected at 375 px)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from learnnet.demo import demo_member_email
from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.networks.models import Contact
from learnnet.rsvp.contacts import ensure_link, token_of
from learnnet.rsvp.models import Rsvp
from learnnet.rsvp.views import FULL_CARDS
from learnnet.sessions.models import Session
from tests.browser.conftest import no_horizontal_scroll, screenshot

pytestmark = pytest.mark.browser

CLIPPED = """() => [...document.querySelectorAll('.answer')]
  .filter(b => b.getClientRects().length)
  .filter(b => b.scrollWidth > b.clientWidth || b.scrollHeight > b.clientHeight + 1)
  .map(b => b.textContent.trim() + ' ' + b.scrollWidth + '>' + b.clientWidth
       + ' pressed=' + b.getAttribute('aria-pressed'))"""


@pytest.fixture(scope="module")
def member(live):
    """The demo member with full cards and compact rows, each answer chosen somewhere."""
    with live.app.app_context():
        contact = db.session.scalar(select(Contact).where(Contact.email == demo_member_email()))
        network = contact.facility.memberships[0].network
        host = next(m.facility for m in network.memberships if m.facility_id != contact.facility_id)
        start = (utcnow() + timedelta(days=200)).replace(hour=18, minute=0, second=0)
        for n in range(FULL_CARDS + 4):
            db.session.add(
                Session(
                    network=network,
                    host=host,
                    title="Later in het jaar",
                    starts_at=start + timedelta(weeks=4 * n),
                    ends_at=start + timedelta(weeks=4 * n, hours=2),
                )
            )
        db.session.flush()
        from learnnet.rsvp.services import member_page

        ids = [row.session.id for row in member_page(contact).sessions if not row.closed]
        answers = ["maybe", "yes", "no"]
        for n, session_id in enumerate(ids):
            answer = answers[n % 3]
            found = db.session.scalar(
                select(Rsvp).where(Rsvp.contact_id == contact.id, Rsvp.session_id == session_id)
            )
            if found is None:
                db.session.add(Rsvp(contact_id=contact.id, session_id=session_id, answer=answer))
            else:
                found.answer = answer
        token = token_of(ensure_link(contact))
        db.session.commit()
        db.session.remove()
    return token


@pytest.mark.parametrize("width", [320, 375])
@pytest.mark.parametrize("language", ["nl", "en"])
def test_no_answer_button_is_clipped(live, page_factory, member, width, language):
    with live.app.app_context():  # the page speaks the contact's language
        contact = db.session.scalar(select(Contact).where(Contact.email == demo_member_email()))
        contact.preferred_language = language
        db.session.commit()
        db.session.remove()
    page = page_factory({"width": width, "height": 800})
    page.goto(f"{live.url}/m/{member}")
    for detail in page.locator("details.colleagues-answers").all():
        detail.evaluate("d => d.open = true")
    pressed = page.locator('.answer[aria-pressed="true"]')
    assert pressed.count() >= 3  # selected and not, cards and rows
    assert page.locator(".mrow .answer").count() and page.locator(".msession .answer").count()
    screenshot(page, f"answer-fit-{language}-{width}")
    clipped = page.evaluate(CLIPPED)
    assert not clipped, "\n".join(clipped)
    assert no_horizontal_scroll(page)
