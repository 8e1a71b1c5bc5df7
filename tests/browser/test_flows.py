"""The facilitator's main flows in a real browser, at desktop and phone width."""

from __future__ import annotations

import re

import pytest

from learnnet.demo import DEMO_FACILITATOR
from tests.browser.conftest import DESKTOP, PHONE, no_horizontal_scroll, screenshot

pytestmark = pytest.mark.browser

NETWORK = "Lerend netwerk Gent — baby's en peuters"


def log_in(
    page, base: str, email: str = DEMO_FACILITATOR[0], password: str = DEMO_FACILITATOR[1]
) -> None:
    page.goto(f"{base}/")
    assert "/login" in page.url
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_url(f"{base}/")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_log_in_open_a_network_and_add_a_facility(live_server, page_factory, viewport):
    page = page_factory(viewport)
    page.goto(f"{live_server}/login")
    screenshot(page, f"login-{viewport['width']}")
    log_in(page, live_server)
    assert page.get_by_role("heading", name="Mijn netwerken").is_visible()
    assert no_horizontal_scroll(page)
    screenshot(page, f"dashboard-{viewport['width']}")

    page.get_by_role("link", name=NETWORK).click()
    assert page.get_by_role("heading", name=NETWORK, level=1).is_visible()
    assert no_horizontal_scroll(page)
    screenshot(page, f"network-{viewport['width']}")

    page.get_by_role("link", name="Nieuwe voorziening").click()
    name = f"Kinderopvang Het Zonnetje {viewport['width']}"
    page.get_by_label("Naam").fill(name)
    page.get_by_label("Straat en huisnummer").fill("Korenmarkt 1")
    page.get_by_label("Postcode").fill("90")  # wrong first: the error shows beside the field
    page.get_by_label("Gemeente").fill("Gent")
    page.get_by_label("Plaatsen in de zaal").fill("15")
    page.get_by_role("button", name="Toevoegen aan het netwerk").click()
    error = page.locator("#postcode-error")
    assert error.is_visible()
    assert "vier cijfers" in error.inner_text()
    assert page.get_by_label("Naam").input_value() == name  # what was typed stays
    assert no_horizontal_scroll(page)
    screenshot(page, f"facility-error-{viewport['width']}")
    page.get_by_label("Postcode").fill("9000")
    page.get_by_role("button", name="Toevoegen aan het netwerk").click()
    assert page.get_by_role("heading", name=name, level=1).is_visible()
    assert page.get_by_text(f"{name} is nu lid").is_visible()

    page.goto(f"{live_server}/")
    page.get_by_role("link", name=NETWORK).click()
    assert page.get_by_role("link", name=name, exact=True).is_visible()


def test_import_preview_shows_every_rows_errors(live_server, page_factory, tmp_path):
    page = page_factory(DESKTOP)
    log_in(page, live_server)
    page.get_by_role("link", name=NETWORK).click()
    page.get_by_role("link", name="CSV importeren").click()
    bad = tmp_path / "leden.csv"
    bad.write_text(
        "facility_name;postcode;city;contact_name;contact_email\n"
        "Kinderopvang De Linde;9000;Gent;Els Maes;els@example.org\n"
        "Kinderopvang Klaproos;90;;Tom;tom@\n",
        encoding="cp1252",
    )
    page.set_input_files("input[type=file]", str(bad))
    page.get_by_role("button", name="Voorbeeld tonen").click()
    assert page.get_by_text("1 regel bevat een fout").is_visible()
    row = page.locator("tr.row-error")
    assert row.count() == 1
    assert "Postcode" in row.inner_text() or "postcode" in row.inner_text()
    screenshot(page, "import-preview-errors-1280")
    page.set_viewport_size(PHONE)
    assert no_horizontal_scroll(page)
    screenshot(page, "import-preview-errors-375")

    good = tmp_path / "goed.csv"
    good.write_text(
        "facility_name;postcode;city;contact_name;contact_email\n"
        "Kinderopvang De Linde;9000;Gent;Els Maes;els@example.org\n",
        encoding="utf-8",
    )
    page.set_viewport_size(DESKTOP)
    page.goto(re.sub(r"#.*$", "", page.url).replace("/import", "") + "/import")
    page.set_input_files("input[type=file]", str(good))
    page.get_by_role("button", name="Voorbeeld tonen").click()
    assert page.get_by_text("Het bestand is in orde.").is_visible()
    screenshot(page, "import-preview-ok-1280")
    page.get_by_role("button", name="Nu importeren").click()
    assert page.get_by_text("Import klaar").is_visible()
    assert page.get_by_role("link", name="Kinderopvang De Linde", exact=True).is_visible()


def test_english_interface_on_request(live_server, page_factory):
    page = page_factory(DESKTOP, locale="en-GB")
    page.goto(f"{live_server}/login")
    assert page.get_by_role("heading", name="Log in").is_visible()
    page.get_by_role("button", name="Nederlands").click()
    assert page.get_by_role("heading", name="Aanmelden").is_visible()
