"""Issue 12 at 375 px: no page scrolls sideways, lists are compact rows (six facilities or
more per screen), the menu folds, times keep "19:00–21:30" whole, import errors first."""

from __future__ import annotations

import pytest

from tests.browser.conftest import DESKTOP, PHONE, no_horizontal_scroll, screenshot
from tests.browser.test_flows import log_in

pytestmark = pytest.mark.browser

SLUG = "gent-baby-peuter"


def first_facility_id(live) -> int:
    from learnnet.extensions import db
    from learnnet.networks.models import Facility

    with live.app.app_context():
        return db.session.scalar(db.select(Facility.id).order_by(Facility.id).limit(1))


def held_session_id(live) -> int:
    from learnnet.extensions import db
    from learnnet.models import utcnow
    from learnnet.networks.models import Network
    from learnnet.sessions.models import Session

    with live.app.app_context():
        return db.session.scalar(
            db.select(Session.id)
            .join(Network)
            .where(Network.slug == SLUG, Session.ends_at < utcnow())
            .order_by(Session.starts_at.desc())
            .limit(1)
        )


def member_token(live) -> str:
    """A demo member's personal-link token (Sofie, who has past sessions)."""
    from learnnet.extensions import db
    from learnnet.networks.models import Contact
    from learnnet.rsvp.contacts import ensure_link, token_of

    with live.app.app_context():
        contact = db.session.scalar(db.select(Contact).where(Contact.email.like("sofie%")))
        token = token_of(ensure_link(contact))
        db.session.commit()
        db.session.remove()
    return token


def main_pages(live) -> dict[str, str]:
    held = held_session_id(live)
    token = member_token(live)
    return {
        "member": f"/m/{token}",
        "member-history": f"/m/{token}/history",
        "lost-link": "/m/lost",
        "checkin": f"/sessions/{held}/checkin",
        "checkin-qr": f"/sessions/{held}/checkin/qr",
        "attendance": f"/networks/{SLUG}/attendance",
        "session-attendance": f"/sessions/{held}/attendance",
        "dashboard": "/",
        "network": f"/networks/{SLUG}",
        "timeline": f"/networks/{SLUG}/sessions",
        "facilities": "/facilities",
        "facility-search": "/facilities?q=an",
        "facility": f"/facilities/{first_facility_id(live)}",
        "member-leave": f"/networks/{SLUG}/members/leave",
        "account": "/account",
    }


def test_no_main_page_scrolls_sideways_on_a_phone(live, page_factory):
    page = page_factory(PHONE)
    log_in(page, live.url)
    wide = []
    for name, path in main_pages(live).items():
        page.goto(live.url + path)
        if not no_horizontal_scroll(page):
            wide.append((name, page.evaluate("document.documentElement.scrollWidth")))
        screenshot(page, f"phone-{name}-375")
    assert wide == []


def test_main_pages_fit_a_laptop_too(live, page_factory):
    page = page_factory(DESKTOP)
    log_in(page, live.url)
    for name, path in main_pages(live).items():
        page.goto(live.url + path)
        assert no_horizontal_scroll(page), name
        screenshot(page, f"laptop-{name}-1280")


def test_facility_list_shows_six_or_more_per_phone_screen(live, page_factory):
    page = page_factory(PHONE)
    log_in(page, live.url)
    page.goto(f"{live.url}/facilities")
    page.wait_for_load_state("load")
    tops = page.evaluate(
        """() => [...document.querySelectorAll('table.facilities tbody tr')]
                 .map(r => { const b = r.getBoundingClientRect(); return [b.top, b.bottom]; })"""
    )
    assert len(tops) >= 6
    first = tops[0][0]
    per_screen = sum(1 for top, bottom in tops if bottom <= first + PHONE["height"])
    assert per_screen >= 6, per_screen
    # The name of a facility is on a line of its own: no chip squeezes it.
    assert page.locator("table.facilities tbody tr").first.locator("td.main").is_visible()


def test_the_menu_folds_on_a_phone_and_not_on_a_laptop(live, page_factory):
    phone = page_factory(PHONE)
    log_in(phone, live.url)
    facilities = phone.get_by_role("link", name="Voorzieningen", exact=True)
    assert not facilities.is_visible()
    phone.get_by_text("Menu", exact=True).click()
    assert facilities.is_visible()
    assert no_horizontal_scroll(phone)
    screenshot(phone, "phone-menu-open-375")
    facilities.click()
    phone.wait_for_url("**/facilities")
    assert phone.evaluate("document.querySelectorAll('main script, body > script').length") == 0

    laptop = page_factory(DESKTOP)
    log_in(laptop, live.url)
    assert laptop.get_by_role("link", name="Voorzieningen", exact=True).is_visible()
    assert not laptop.get_by_text("Menu", exact=True).is_visible()


def test_times_stay_whole_on_a_phone(live, page_factory):
    page = page_factory(PHONE)
    log_in(page, live.url)
    for path in ("/", f"/networks/{SLUG}", f"/networks/{SLUG}/sessions"):
        page.goto(live.url + path)
        page.wait_for_load_state("load")
        lines = page.evaluate(
            """() => [...document.querySelectorAll('.nowrap')]
                     .filter(e => /\\d:\\d\\d–\\d/.test(e.textContent))
                     .map(e => e.getClientRects().length)"""
        )
        assert lines and set(lines) == {1}, (path, lines)


def test_import_preview_on_a_phone_shows_the_errors_first(live, page_factory, tmp_path):
    page = page_factory(PHONE)
    log_in(page, live.url)
    csv = tmp_path / "leden.csv"
    csv.write_text(
        "facility_name;postcode;city;contact_name;contact_email\n"
        "Kinderdagverblijf Met Een Heel Erg Lange Naam Die Op Geen Telefoon Past;9000;Gent;"
        "An Peeters;an.peeters.met.een.lang.adres@voorbeeld-kinderopvang.example.org\n"
        + "".join(f"Opvang {n};9000;Gent;Piet {n};p{n}@example.org\n" for n in range(8))
        + "Fout;90;;Jan;jan@\n",
        encoding="utf-8",
    )
    page.goto(f"{live.url}/networks/{SLUG}/import")
    page.set_input_files("input[type=file]", str(csv))
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state("load")
    rows = page.locator("table.preview tbody tr")
    assert "row-error" in (rows.first.get_attribute("class") or "")
    assert rows.first.locator("ul.errors").is_visible()
    assert no_horizontal_scroll(page)
    # A correct line takes two short lines, not a card with a label per value.
    ok_height = page.evaluate(
        "[...document.querySelectorAll('table.preview tr.row-ok')].pop().getBoundingClientRect().height"
    )
    assert ok_height < 90, ok_height
    screenshot(page, "phone-import-preview-375")


@pytest.mark.parametrize("width", [320, 375])
def test_check_in_buttons_keep_their_words_whole_on_a_phone(live, page_factory, width):
    """Issue 21: "Verontschuldigd" broke inside the word on a 375 px phone."""
    page = page_factory({"width": width, "height": 800})
    log_in(page, live.url)
    page.goto(f"{live.url}/sessions/{held_session_id(live)}/checkin")
    broken = page.evaluate(
        """() => Array.from(document.querySelectorAll('.checkin-buttons .mark'))
            .filter(b => b.scrollWidth > b.clientWidth || b.getBoundingClientRect().height > 60)
            .map(b => b.textContent.trim())"""
    )
    assert broken == []
    assert no_horizontal_scroll(page)


def test_the_qr_code_fills_a_phone_and_is_centred(live, page_factory):
    page = page_factory(PHONE)
    log_in(page, live.url)
    page.goto(f"{live.url}/sessions/{held_session_id(live)}/checkin/qr")
    box = page.locator(".qr-big svg").bounding_box()
    assert box["width"] >= 0.75 * PHONE["width"]
    assert abs((box["x"] + box["width"] / 2) - PHONE["width"] / 2) < 4
    assert no_horizontal_scroll(page)
