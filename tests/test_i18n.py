"""Dutch by default and complete; English on request; Flemish dates."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from learnnet.extensions import db
from learnnet.timefmt import format_day, format_moment

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "learnnet" / "translations" / "nl" / "LC_MESSAGES" / "messages.po"


def test_dutch_is_the_default(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="nl">' in html
    assert "Aanmelden" in html


def test_browser_language_english_is_honoured_and_unknown_falls_back_to_dutch(client):
    english = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(
        as_text=True
    )
    assert '<html lang="en">' in english and "Log in" in english
    french = client.get("/login", headers={"Accept-Language": "fr-BE"}).get_data(as_text=True)
    assert '<html lang="nl">' in french


def test_the_users_own_setting_wins_over_the_browser(logged_in, facilitator):
    facilitator.locale = "en"
    db.session.commit()
    html = logged_in.get("/", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert "My networks" in html


def test_language_switch_is_remembered(client):
    response = client.post("/language", data={"lang": "en", "next": "/login"})
    assert response.location == "/login"
    assert "Log in" in client.get("/login").get_data(as_text=True)
    assert client.post("/language", data={"lang": "xx"}).status_code == 400


def test_dutch_catalogue_is_complete_and_placeholders_match(tmp_path):
    """Every string in the code and templates has a Dutch translation with the same placeholders."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            str(Path(sys.executable).parent / "pybabel"),
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(pot),
            "--no-location",
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as fh:
        extracted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    with CATALOG.open("rb") as fh:
        catalog = {(m.id if isinstance(m.id, str) else m.id[0]): m for m in read_po(fh) if m.id}
    missing = sorted(extracted - set(catalog))
    assert missing == [], f"not in the Dutch catalogue (run make extract-messages): {missing}"
    placeholder = re.compile(r"%\(\w+\)[sd]")
    for msgid in extracted:
        message = catalog[msgid]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings) and not message.fuzzy, f"untranslated: {msgid!r}"
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        wanted = set(placeholder.findall(" ".join(ids)))
        for text in strings:
            assert set(placeholder.findall(text)) <= wanted | {"%(num)d"}, (msgid, text)


@pytest.mark.parametrize(
    ("moment", "locale", "expected"),
    [
        (datetime(2027, 1, 12, 18, 0, tzinfo=UTC), "nl", "di 12 jan. 2027, 19:00"),
        (datetime(2027, 7, 13, 17, 0, tzinfo=UTC), "nl", "di 13 jul. 2027, 19:00"),  # summer time
        (datetime(2027, 5, 4, 17, 0, tzinfo=UTC), "nl", "di 4 mei 2027, 19:00"),
        (datetime(2027, 1, 12, 18, 0, tzinfo=UTC), "en", "Tue 12 Jan 2027, 19:00"),
    ],
)
def test_dates_the_flemish_way(moment, locale, expected):
    assert format_moment(moment, "Europe/Brussels", locale) == expected


def test_day_format():
    assert format_day(date(2026, 3, 29), "nl") == "zo 29 mrt. 2026"
