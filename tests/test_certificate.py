"""The attendance certificate: the same template as HTML and as a WeasyPrint PDF.

Rendered in English (the Dutch catalogue is filled in separately); Dutch is checked for
structure: Flemish dates and decimal commas.
"""

from __future__ import annotations

import io
import logging
import socket
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from markupsafe import escape
from pypdf import PdfReader

from learnnet import create_app
from learnnet.attendance import certificate as certificate_module
from learnnet.attendance.certificate import (
    Certificate,
    CertificateLine,
    format_hours,
    render_html,
    render_pdf,
    static_fetcher,
    static_root,
)
from learnnet.timefmt import format_day

LINES = (
    CertificateLine(
        date(2026, 9, 22),
        "Lerend netwerk Gent-Zuid",
        "Kinderdagverblijf ’t Rozenhofje",
        "Taalstimulering bij baby’s en peuters",
        2.5,
    ),
    CertificateLine(
        date(2026, 11, 17),
        "Lerend netwerk Gent-Zuid",
        "Kinderopvang Noël",
        "Ouders betrekken: het wendgesprek",
        2,
    ),
    CertificateLine(
        date(2027, 1, 12),
        "Netwerk zorgvragen",
        "Crèche Zonnebloem",
        "Kinderen met een specifieke zorgbehoefte: inclusieve opvang in de praktijk",
        3,
    ),
    CertificateLine(
        date(2027, 3, 16),
        "Lerend netwerk Gent-Zuid",
        "Kinderdagverblijf De Kleine Citroën",
        "Eetmomenten als leermomenten",
        5,
    ),
)


def make_certificate(**changes: object) -> Certificate:
    fields: dict[str, object] = {
        "contact_name": "Anaïs Verbeeck-D’hondt",
        "facility_name": "Kinderdagverblijf ’t Rozenhofje",
        "period_label": "werkjaar 2026–2027",
        "lines": LINES,
        "organisation": "Ondersteuningsnetwerk Kinderopvang Gent",
        "signed_by": "Hélène Maes",
        "issued_on": date(2027, 6, 30),
        "reference": "ATT-2027-000123-4F2C",
    }
    fields.update(changes)
    return Certificate(**fields)  # type: ignore[arg-type]


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
        {"TESTING": True, "DATABASE_URL": "sqlite://", "SECRET_KEY": "x" * 40},
        instance_path=str(tmp_path),
    )
    with app.test_request_context():
        yield app


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Any attempt to open a network connection is recorded and fails."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError(f"test: no network ({address!r})")

    def refuse_create(address: object, *args: object, **kwargs: object) -> None:
        attempts.append(address)
        raise OSError(f"test: no network ({address!r})")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse_create)
    return attempts


@pytest.fixture
def fetchers(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The URL fetchers render_pdf builds, kept to see what WeasyPrint asked of them."""
    made: list[object] = []

    def recording(folder: Path, root: str) -> object:
        fetcher = static_fetcher(folder, root)
        made.append(fetcher)
        return fetcher

    monkeypatch.setattr(certificate_module, "static_fetcher", recording)
    return made


def pdf_text(pdf: bytes) -> str:
    """All pages' text, whitespace collapsed (cells wrap over several lines)."""
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def squash(text: str) -> str:
    return " ".join(text.split())


def test_total_hours_adds_up_without_float_noise():
    assert make_certificate().total_hours == 12.5
    tenths = tuple(CertificateLine(date(2027, 1, 1), "n", "h", "t", 0.1) for _ in range(3))
    assert make_certificate(lines=tenths).total_hours == 0.3
    assert make_certificate(lines=()).total_hours == 0


def test_hours_the_flemish_way_and_in_english(app):
    assert format_hours(2.5, "en") == "2.5 hours"
    assert format_hours(1, "en") == "1 hour"
    assert format_hours(12.5, "en") == "12.5 hours"
    assert format_hours(2.0, "en") == "2 hours"
    assert format_hours(1.25, "en") == "1.25 hours"
    # The word comes from the Dutch catalogue; the number is Flemish regardless.
    assert format_hours(2.5, "nl").startswith("2,5 ")
    assert format_hours(12.5, "nl").startswith("12,5 ")


def test_pdf_names_the_person_every_session_the_total_and_the_reference(
    app, no_network, fetchers, caplog
):
    cert = make_certificate()
    with caplog.at_level(logging.WARNING):
        pdf = render_pdf(cert, "en")

    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert "Certificate of attendance" in text
    assert "Anaïs Verbeeck-D’hondt" in text
    assert "Kinderdagverblijf ’t Rozenhofje" in text
    assert "werkjaar 2026–2027" in text
    for line in LINES:
        assert format_day(line.day, "en") in text
        assert line.host in text
        assert line.title in text
        assert line.network in text
    assert "Tue 12 Jan 2027" in text
    assert "2.5 hours" in text
    assert "Total 12.5 hours" in text
    assert "ATT-2027-000123-4F2C" in text
    assert "Hélène Maes" in text
    assert "Issued on Wed 30 Jun 2027 by Ondersteuningsnetwerk Kinderopvang Gent." in text

    # The stylesheet and the logo came from the static folder; nothing else was asked,
    # no socket was opened, and WeasyPrint had nothing to complain about (CSS included).
    (fetcher,) = fetchers
    root = static_root()
    assert sorted(fetcher.requested) == [root + "css/certificate.css", root + "img/logo.svg"]
    assert fetcher.refused == []
    assert no_network == []
    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []

    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata is not None
    assert reader.metadata.author == "Ondersteuningsnetwerk Kinderopvang Gent"
    assert "Anaïs Verbeeck-D’hondt" in (reader.metadata.title or "")


def test_html_has_the_same_lines_and_no_site_navigation(app):
    cert = make_certificate()
    html = render_html(cert, "en")
    assert html.lstrip().startswith("<!doctype html>")
    assert '<html lang="en">' in html
    assert "/static/css/certificate.css" in html
    assert "/static/img/logo.svg" in html
    assert "<script" not in html and "main-nav" not in html and "app.css" not in html
    assert html.count("<tr>") == len(LINES) + 2  # head, lines, total
    for line in LINES:
        assert (
            f'<time datetime="{line.day.isoformat()}">{format_day(line.day, "en")}</time>' in html
        )
        for value in (line.network, line.host, line.title):
            assert f"<td>{escape(value)}</td>" in html
    assert "12.5 hours" in html
    assert "ATT-2027-000123-4F2C" in html
    assert "Anaïs Verbeeck-D’hondt" in html


def test_html_in_dutch_has_flemish_dates_and_decimal_commas(app):
    html = render_html(make_certificate(), "nl")
    assert '<html lang="nl">' in html
    assert "di 12 jan. 2027" in html
    assert ">2,5 " in html and ">12,5 " in html
    assert "12.5" not in html


def test_an_unknown_language_falls_back_to_dutch(app):
    assert '<html lang="nl">' in render_html(make_certificate(), "fr")


def test_markup_in_names_is_text_and_nothing_is_fetched_from_outside(
    app, no_network, fetchers, caplog
):
    sneaky = 'Netwerk <img src="http://example.com/x.png"> Gent'
    cert = make_certificate(
        organisation=sneaky, contact_name="Zoë <b>Dewaele</b> & co", signed_by="An <i>"
    )
    html = render_html(cert, "en")
    assert '<img src="http://example.com' not in html
    assert "&lt;img src=&#34;http://example.com/x.png&#34;&gt;" in html
    assert "Zoë &lt;b&gt;Dewaele&lt;/b&gt; &amp; co" in html

    with caplog.at_level(logging.WARNING):
        text = pdf_text(render_pdf(cert, "en"))
    assert sneaky in text
    assert "Zoë <b>Dewaele</b> & co" in text
    (fetcher,) = fetchers
    assert not [url for url in fetcher.requested if "example.com" in url]
    assert all(url.startswith(static_root()) for url in fetcher.requested)
    assert fetcher.refused == []
    assert no_network == []


def test_the_fetcher_refuses_everything_but_static_files(app, no_network):
    root = static_root()
    fetcher = static_fetcher(Path(app.static_folder), root)

    response = fetcher.fetch(root + "css/certificate.css")
    assert response.content_type == "text/css"
    assert b"@page" in response.read()
    response.close()

    refused = [
        "http://example.com/x.png",
        "https://example.com/style.css",
        "//example.com/x.png",
        "file:///etc/passwd",
        "data:image/png;base64,iVBORw0KGgo=",
        "ftp://example.com/x",
        root.replace("/static/", "/login"),
        root + "../learnnet/__init__.py",
        root + "%2e%2e/learnnet/__init__.py",
        root + "css/missing.css",
        root + "css",
        root,
        "http://localhost.example.com/static/css/certificate.css",
    ]
    for url in refused:
        with pytest.raises(ValueError, match="Only the app's static files"):
            fetcher.fetch(url)
    assert fetcher.refused == refused
    assert no_network == []


def test_weasyprint_asks_the_fetcher_and_gets_a_refusal(app, no_network, caplog):
    """Wired into WeasyPrint, a refused image is left out: logged, never fetched."""
    from weasyprint import HTML

    root = static_root()
    fetcher = static_fetcher(Path(app.static_folder), root)
    page = '<p>x</p><img src="http://example.com/x.png"><img src="/static/img/logo.svg">'
    with caplog.at_level(logging.ERROR, logger="weasyprint"):
        pdf = HTML(string=page, base_url=root, url_fetcher=fetcher).write_pdf()
    assert pdf.startswith(b"%PDF-")
    assert fetcher.refused == ["http://example.com/x.png"]
    assert fetcher.requested == ["http://example.com/x.png", root + "img/logo.svg"]
    assert no_network == []
    assert any("example.com" in r.getMessage() for r in caplog.records)


def test_a_certificate_without_sessions_still_renders(app):
    cert = make_certificate(lines=())
    html = render_html(cert, "en")
    assert "<table" not in html
    assert "No attended sessions were recorded in this period." in html

    text = pdf_text(render_pdf(cert, "en"))
    assert "Certificate of attendance" in text
    assert "no attendance at sessions of learning networks was recorded for" in text
    assert "Anaïs Verbeeck-D’hondt (Kinderdagverblijf ’t Rozenhofje) in werkjaar 2026–2027" in text
    assert "No attended sessions were recorded in this period." in text
    assert "ATT-2027-000123-4F2C" in text
    assert "Hélène Maes" in text
    assert "Total" not in text


def test_many_sessions_run_over_pages_with_the_reference_on_each(app):
    lines = tuple(
        CertificateLine(date(2027, 1, 1 + i % 28), "Netwerk", f"Opvang {i}", f"Thema {i}", 1)
        for i in range(40)
    )
    reader = PdfReader(io.BytesIO(render_pdf(make_certificate(lines=lines), "en")))
    assert len(reader.pages) > 1
    for number, page in enumerate(reader.pages, start=1):
        text = squash(page.extract_text())
        assert "ATT-2027-000123-4F2C" in text
        assert f"{number} / {len(reader.pages)}" in text
    assert "Total 40 hours" in squash(reader.pages[-1].extract_text())
