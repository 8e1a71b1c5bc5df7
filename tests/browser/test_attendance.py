"""The facilitator's attendance flow in a real browser, at phone width."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.networks.models import Contact, Network
from learnnet.sessions.models import Session
from tests.browser.conftest import DESKTOP, PHONE, no_horizontal_scroll, screenshot
from tests.browser.test_flows import log_in

pytestmark = pytest.mark.browser


def _last_held(live) -> tuple[int, int, str]:
    with live.app.app_context():
        network = db.session.scalar(select(Network).where(Network.slug == "gent-baby-peuter"))
        session = db.session.scalar(
            select(Session)
            .where(Session.network_id == network.id, Session.ends_at < utcnow())
            .order_by(Session.starts_at.desc())
        )
        hanne = db.session.scalar(select(Contact).where(Contact.name == "Hanne De Smet"))
        result = (session.id, hanne.id, network.slug)
        db.session.remove()
    return result


def test_sheet_check_in_fix_csv_certificate_and_bridges(live, page_factory, tmp_path):
    session_id, hanne_id, slug = _last_held(live)
    page = page_factory(PHONE)
    log_in(page, live.url)

    # The printable sheet, as it prints on A4 (794 px wide at 96 dpi).
    paper = page_factory({"width": 794, "height": 1123})
    log_in(paper, live.url)
    paper.goto(f"{live.url}/sessions/{session_id}/sheet")
    paper.emulate_media(media="print")
    assert paper.locator(".sheet-table tbody tr").count() >= 8
    assert not paper.locator(".site-header").is_visible()
    screenshot(paper, "attendance-sheet-print")
    assert paper.pdf(format="A4").startswith(b"%PDF")

    # Check-in on a phone: one tap, then a mistake fixed.
    page.goto(f"{live.url}/sessions/{session_id}/checkin")
    assert no_horizontal_scroll(page)
    row = page.locator(f"#p-c{hanne_id}")
    row.get_by_role("button", name="Afwezig: Hanne De Smet").click()
    row = page.locator(f"#p-c{hanne_id}")
    row.locator(".status-chip-absent").wait_for()
    row.get_by_role("button", name="Verontschuldigd: Hanne De Smet").click()
    row = page.locator(f"#p-c{hanne_id}")
    row.locator(".status-chip-excused").wait_for()
    screenshot(page, "attendance-checkin-phone")

    # The report, its CSV for Excel and the bridges picture.
    page.goto(f"{live.url}/networks/{slug}/attendance")
    assert page.locator(".chart svg").is_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV voor Excel").click()
    with open(download.value.path(), "rb") as fh:
        data = fh.read()
    assert data.startswith(b"\xef\xbb\xbf") and b"Voorziening" in data
    screenshot(page, "attendance-report-phone")

    # The certificate of a person, as PDF.
    page.goto(f"{live.url}/contacts/{hanne_id}/attendance")
    with page.expect_download() as download:
        page.get_by_role("link", name="Attest (pdf)").click()
    with open(download.value.path(), "rb") as fh:
        assert fh.read().startswith(b"%PDF")
    page.goto(f"{live.url}/contacts/{hanne_id}/certificate")
    screenshot(page, "attendance-certificate")

    desktop = page_factory(DESKTOP)
    log_in(desktop, live.url)
    desktop.goto(f"{live.url}/networks/{slug}#bridges")
    picture = desktop.locator("#bridges svg")
    assert picture.is_visible()
    assert "leden" in picture.locator("desc").text_content()
    desktop.locator("#bridges").screenshot(path=str(screenshot(desktop, "bridges-page")))
