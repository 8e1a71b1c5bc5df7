"""Check-in by scanning a personal code (issue 21.4): the member's page shows her QR during
the check-in window; the facilitator's check-in page scans it with the camera (a fake
camera here: Chromium plays a .y4m of the QR of the link her page holds) and records
"present" through the page's check-in form, without a reload."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import segno
from PIL import Image
from sqlalchemy import select

from learnnet.attendance.models import Attendance
from learnnet.demo import demo_member_email
from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.networks.models import Contact
from learnnet.rsvp.contacts import ensure_link, token_of
from learnnet.sessions.models import Session
from tests.browser.conftest import PHONE, chromium_path, no_horizontal_scroll, screenshot
from tests.browser.test_axe import AXE
from tests.browser.test_flows import log_in

pytestmark = pytest.mark.browser


def write_y4m(link: str, out: Path, size: tuple[int, int] = (640, 480)) -> None:
    """The QR code of ``link`` drawn as the app draws it (segno, error level M), centred on
    white, as a few frames of uncompressed YUV 4:2:0 video: what Chromium's
    --use-file-for-fake-video-capture plays as the camera. Whole pixels per module (a
    screenshot of the page's scaled SVG has blurred module edges that the decoder reads
    one time in two)."""
    width, height = size
    symbol = segno.make(link, error="m")
    modules = symbol.symbol_size(scale=1, border=4)[0]
    png = io.BytesIO()
    symbol.save(png, kind="png", scale=max(1, height * 3 // 4 // modules), border=4)
    code = Image.open(png).convert("RGB")
    frame = Image.new("RGB", size, "white")
    frame.paste(code, ((width - code.width) // 2, (height - code.height) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    half = (width // 2, height // 2)
    planes = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with out.open("wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F25:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(5):
            video.write(b"FRAME\n" + planes)


@pytest.fixture(scope="module")
def door(live) -> dict[str, Any]:
    """A session starting in half an hour in the demo member's network, at another member."""
    with live.app.app_context():
        contact = db.session.scalar(select(Contact).where(Contact.email == demo_member_email()))
        network = contact.facility.memberships[0].network
        host = next(m.facility for m in network.memberships if m.facility_id != contact.facility_id)
        start = (utcnow() + timedelta(minutes=30)).replace(microsecond=0)
        session = Session(
            network=network,
            host=host,
            title="Aan de deur",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
        )
        db.session.add(session)
        token = token_of(ensure_link(contact))
        db.session.commit()
        found = {"session_id": session.id, "contact_id": contact.id, "token": token}
        db.session.remove()
    return found


@pytest.fixture
def camera_browser(browser, tmp_path) -> Iterator[Any]:
    """Another Chromium (of the same Playwright) whose camera is a fake one, playing
    ``tmp_path/camera.y4m`` (written by the test before a page asks for the camera)."""
    chromium = browser.browser_type.launch(
        executable_path=chromium_path(),
        headless=True,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={tmp_path / 'camera.y4m'}",
        ],
    )
    yield chromium
    chromium.close()


def axe_violations(page) -> list[Any]:
    """What axe-core finds wrong on the page (the context must bypass the page's CSP)."""
    page.evaluate(AXE.read_text())
    return page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']}))"
        ".violations.map(v => ({id: v.id, nodes: v.nodes.slice(0, 3).map(n => n.target)}))"
    )


def _status(live, door) -> str | None:
    with live.app.app_context():
        found = db.session.scalar(
            select(Attendance.status).where(
                Attendance.session_id == door["session_id"],
                Attendance.contact_id == door["contact_id"],
            )
        )
        db.session.remove()
        return found


def test_the_facilitator_scans_a_members_code(live, browser, door, camera_browser, tmp_path):
    # The member opens her page on her phone: the code is there, during the window.
    own = browser.new_context(viewport=PHONE, locale="nl-BE", bypass_csp=True)  # for axe
    member = own.new_page()
    member.goto(f"{live.url}/m/{door['token']}")
    code = member.locator(f"#my-code-{door['session_id']} svg")
    code.scroll_into_view_if_needed()
    short = member.locator(f"#my-code-{door['session_id']} .my-code-short").inner_text()
    assert len(short) == 7 and short[3] == "-"
    assert no_horizontal_scroll(member)
    screenshot(member, "scan-code-member-375")
    link = member.locator(f"#my-code-{door['session_id']}").get_attribute("data-checkin-link")
    assert link.startswith(f"{live.url}/sessions/{door['session_id']}/checkin?code=")
    assert door["token"] not in link
    drawn = io.BytesIO()  # the QR on her page is the one of that link
    segno.make(link, error="m").save(drawn, kind="svg", scale=4, border=2, xmldecl=False)
    assert code.locator("path").get_attribute("d") in drawn.getvalue().decode()
    write_y4m(link, tmp_path / "camera.y4m")
    assert axe_violations(member) == []
    own.close()

    # The facilitator, on the check-in page at the door, scans it with the camera.
    context = camera_browser.new_context(viewport=PHONE, locale="nl-BE", bypass_csp=True)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        log_in(page, live.url)
        page.goto(f"{live.url}/sessions/{door['session_id']}/checkin")
        assert _status(live, door) is None
        page.get_by_role("button", name="Scan een code met de camera").click()
        page.locator(".scan-status[data-kind='ok']").wait_for()
        assert "is ingecheckt: aanwezig" in page.locator(".scan-status").inner_text()
        page.locator(f"#p-c{door['contact_id']}.status-present").wait_for()
        screenshot(page, "scan-code-checkin-375")
        assert no_horizontal_scroll(page)
        assert _status(live, door) == "present"
        assert axe_violations(page) == []  # with the camera's picture showing
        page.get_by_role("button", name="Camera stoppen").click()
        assert page.locator("video.scan-video").is_hidden()
    finally:
        context.close()
