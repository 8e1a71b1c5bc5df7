"""PDFs without surprises: WeasyPrint needs Pango, which pip cannot install.

The certificate and the jaaroverzicht are rendered as PDF by WeasyPrint, and WeasyPrint
loads Pango (and HarfBuzz, fontconfig) from the system when it is imported. Where they
are missing (a fresh Mac, a Linux laptop without root) the rest of learnnet runs as
usual: :func:`weasyprint_html` raises :class:`PdfUnavailable` instead of an OSError deep
in a request, and the PDF link answers with a page that says so in words, gives the one
command that installs Pango on this system, and links to the print version (the same
content as HTML, which a browser prints or saves as PDF).
"""

from __future__ import annotations

import platform
from typing import Any

from flask import render_template

# The system packages behind WeasyPrint (its installation guide, and what `make test`
# installs on Debian and Ubuntu; keep the Makefile's pdf-libs target in step).
APT = "sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core"
DNF = "sudo dnf install pango"
BREW = "brew install pango"
GUIDE = "https://doc.courtbouillon.org/weasyprint/stable/first_steps.html#installation"


class PdfUnavailable(RuntimeError):
    """WeasyPrint cannot be imported here (Pango missing, or WeasyPrint itself)."""


def weasyprint_html() -> Any:
    """WeasyPrint's ``HTML`` class; :class:`PdfUnavailable` when it cannot load.

    Without Pango, ``import weasyprint`` raises OSError ("cannot load library …") from
    cffi, and prints WeasyPrint's own hint to standard output.
    """
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:
        raise PdfUnavailable(str(exc)) from exc
    return HTML


def install_command(system: str, os_release: dict[str, str]) -> str | None:
    """The one command that installs Pango on this kind of system, or None when unknown.

    ``system`` is :func:`platform.system`'s answer, ``os_release`` the fields of
    /etc/os-release (``ID``, ``ID_LIKE``) on Linux.
    """
    if system == "Darwin":
        return BREW
    if system != "Linux":
        return None
    ids = {os_release.get("ID", ""), *os_release.get("ID_LIKE", "").split()}
    if ids & {"debian", "ubuntu"}:
        return APT
    if ids & {"fedora", "rhel", "centos"}:
        return DNF
    return None


def this_system_command() -> str | None:
    """:func:`install_command` for the system this app runs on."""
    system = platform.system()
    release: dict[str, str] = {}
    if system == "Linux":
        try:
            release = platform.freedesktop_os_release()
        except OSError:  # no /etc/os-release: an unknown Linux
            release = {}
    return install_command(system, release)


def unavailable_page(print_url: str) -> tuple[str, int]:
    """The answer of a PDF link without WeasyPrint: what is missing, how to install it,
    and the print version. 503: the server cannot make it now, a later try may work."""
    return render_template(
        "pdf_unavailable.html", command=this_system_command(), guide=GUIDE, print_url=print_url
    ), 503
