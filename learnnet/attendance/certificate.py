"""The attendance certificate ("attest van deelname"): printable HTML and PDF from one template.

No database access here: the caller gathers a contact's attended sessions into a
:class:`Certificate`; :func:`render_html` renders ``templates/attendance/certificate.html``
for the browser (screen and print) and :func:`render_pdf` renders that very HTML with
WeasyPrint.

WeasyPrint loads the stylesheet and the logo through :class:`StaticFetcher`, which serves
files from the app's static folder and refuses every other URL: rendering a PDF never
touches the network (nor asks our own server, which could deadlock a single worker),
whatever ends up in the HTML.

WeasyPrint (and Pango under it) is imported only when a PDF is rendered, so the rest of
the app starts, and runs, without paying for it, and without Pango (see learnnet.pdf).
"""

from __future__ import annotations

import functools
import logging
import math
import mimetypes
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from babel.numbers import format_decimal
from flask import current_app, render_template, url_for
from flask_babel import force_locale, gettext, ngettext
from werkzeug.security import safe_join

from learnnet.pdf import weasyprint_html
from learnnet.timefmt import format_day

if TYPE_CHECKING:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

log = logging.getLogger(__name__)
# WeasyPrint logs each rendering step at INFO ("Step 5 - Creating layout - Page 1"), and
# the app logs INFO outside debug: keep its warnings (bad CSS, refused URLs), not its steps.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

TEMPLATE = "attendance/certificate.html"
STYLESHEET = "css/certificate.css"


@dataclass(frozen=True)
class CertificateLine:
    """One attended session."""

    day: date
    network: str
    host: str
    title: str
    hours: float  # e.g. 2.5
    theme: str = ""  # the theme of the session's werkjaar, when the network chose one


@dataclass(frozen=True)
class Certificate:
    """What one contact attended in one period, ready to print."""

    contact_name: str
    facility_name: str
    period_label: str  # e.g. "werkjaar 2026–2027" / "2027"
    lines: tuple[CertificateLine, ...]
    organisation: str  # the support organisation issuing it
    signed_by: str  # facilitator name(s)
    issued_on: date
    reference: str  # a short unique reference printed on it, e.g. "ATT-2027-000123-4F2C"

    @property
    def themes(self) -> list[str]:
        """The themes of the sessions attended, each once, in the order of the lines."""
        return list(dict.fromkeys(line.theme for line in self.lines if line.theme))

    @property
    def total_hours(self) -> float:
        """The sum of the lines' hours, rounded to hundredths (no 12.499999 from floats)."""
        return round(math.fsum(line.hours for line in self.lines), 2)


def format_hours(hours: float, locale: str) -> str:
    """'2,5 uur' in Dutch, '2.5 hours' / '1 hour' in English; at most two decimals.

    Needs an app context (the word comes from the translations).
    """
    number = format_decimal(hours, format="#,##0.##", locale=locale)
    with force_locale(locale):
        # The plural form is picked with a whole number: only exactly 1 is singular.
        return ngettext("%(hours)s hour", "%(hours)s hours", 1 if hours == 1 else 2, hours=number)


def _locale(locale: str) -> str:
    languages = current_app.config["LANGUAGES"]
    return locale if locale in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def render_html(certificate: Certificate, locale: str) -> str:
    """The certificate as a standalone HTML page (screen, print and the PDF's source).

    Needs an app context in which ``url_for`` can build URLs: a request context, or
    ``SERVER_NAME`` set.
    """
    locale = _locale(locale)
    with force_locale(locale):
        rows = [
            {
                "day": format_day(line.day, locale),
                "iso_day": line.day.isoformat(),
                "network": line.network,
                "host": line.host,
                "title": line.title,
                "theme": line.theme,
                "hours": format_hours(line.hours, locale),
            }
            for line in certificate.lines
        ]
        return render_template(
            TEMPLATE,
            certificate=certificate,
            rows=rows,
            total=format_hours(certificate.total_hours, locale),
            issued_on=format_day(certificate.issued_on, locale),
            certificate_locale=locale,
            document_title=gettext("Certificate of attendance"),
        )


def render_pdf(certificate: Certificate, locale: str) -> bytes:
    """The certificate as an A4 PDF: WeasyPrint renders :func:`render_html`'s page.

    Assets load from the static folder only (see :class:`StaticFetcher`). Raises
    :class:`learnnet.pdf.PdfUnavailable` where WeasyPrint cannot load Pango.
    """
    html_class = weasyprint_html()  # PdfUnavailable without Pango
    html = render_html(certificate, locale)
    root = static_root()
    fetcher = static_fetcher(Path(current_app.static_folder or ""), root)
    # No target given: write_pdf returns the document's bytes.
    return html_class(string=html, base_url=root, url_fetcher=fetcher).write_pdf()


def static_root() -> str:
    """The absolute URL under which this app serves its static folder, ending in '/'.

    Built with ``url_for`` like the template's own links, so a script root (an app
    mounted under a prefix) or ``SERVER_NAME`` come out the same.
    """
    url = url_for("static", filename=STYLESHEET, _external=True)
    return url[: -len(STYLESHEET)]


def static_fetcher(folder: Path, root: str) -> URLFetcher:
    """A WeasyPrint URL fetcher serving ``root``'s URLs from ``folder``, refusing all else."""
    return _fetcher_class()(folder, root)


@functools.cache
def _fetcher_class() -> type:
    """Define ``StaticFetcher`` on first use: it subclasses WeasyPrint's fetcher."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticFetcher(URLFetcher):
        """Serves files below ``root`` from ``folder``; any other URL is refused.

        Refused: other hosts or schemes (http, https, file, data, ftp …), the app's
        own non-static URLs, paths escaping the folder, missing files. Every URL
        asked for is recorded in ``requested``, every refused one in ``refused``.
        """

        def __init__(self, folder: Path, root: str) -> None:
            super().__init__(allowed_protocols=(), allow_redirects=False)
            self.folder = Path(folder).resolve()
            self.root = root
            self.requested: list[str] = []
            self.refused: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            self.requested.append(url)
            path = self._local_path(url)
            if path is None:
                self.refused.append(url)
                log.warning("certificate: refused to fetch %s", url[:200])
                raise ValueError(f"Only the app's static files may load: {url[:200]}")
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(
                url, path.read_bytes(), headers={"Content-Type": content_type}
            )

        def _local_path(self, url: str) -> Path | None:
            if not url.startswith(self.root):
                return None
            relative = unquote(urlsplit(url[len(self.root) :]).path)
            joined = safe_join(str(self.folder), relative) if relative else None
            if joined is None:
                return None
            path = Path(joined).resolve()
            if not path.is_relative_to(self.folder) or not path.is_file():
                return None
            return path

    return StaticFetcher
