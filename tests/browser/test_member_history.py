"""Issue 21.3 in a real browser at 375 px: a member opens her history from her own page,
sees her past sessions and hours per werkjaar, and downloads her certificate as a PDF
that names her and her hours."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from learnnet.attendance.models import PRESENT, Attendance
from learnnet.extensions import db
from learnnet.networks.models import Contact
from learnnet.rsvp.contacts import ensure_link, token_of
from tests.browser.conftest import PHONE, no_horizontal_scroll, screenshot

pytestmark = pytest.mark.browser


def _member_with_history(live) -> tuple[str, str]:
    """(token, name) of a demo contact who was present at a past session."""
    with live.app.app_context():
        contact = db.session.scalar(
            select(Contact)
            .join(Attendance, Attendance.contact_id == Contact.id)
            .where(Attendance.status == PRESENT, Contact.active.is_(True))
            .order_by(Contact.id)
            .limit(1)
        )
        found = (token_of(ensure_link(contact)), contact.name)
        db.session.commit()
        db.session.remove()
        return found


def test_member_opens_her_history_and_downloads_her_certificate(live, page_factory):
    token, name = _member_with_history(live)
    page = page_factory(PHONE)
    page.goto(f"{live.url}/m/{token}")
    page.get_by_role("link", name="Voorbije bijeenkomsten en attesten").click()
    page.wait_for_load_state("load")
    assert page.get_by_role("heading", name="Mijn geschiedenis").count() == 1
    assert page.locator("#past .mrow").count() >= 1
    assert page.locator("#past .chip", has_text="Aanwezig").count() >= 1
    year = page.locator(".history-year").first
    hours = year.inner_text()
    assert "werkjaar" in hours and "uur" in hours
    screenshot(page, "member-history-375")
    assert no_horizontal_scroll(page)
    with page.expect_download() as download:
        year.get_by_role("link", name="Attest (pdf)").click()
    data = Path(download.value.path()).read_bytes()
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert name in text
    # The hours on the page are the hours on the certificate.
    shown = hours.split("·")[1].splitlines()[0].strip()  # e.g. "7,5 uur"
    assert shown in text
