"""QR codes as inline SVG: no external service, no image library (segno is pure Python)."""

from __future__ import annotations

import functools
import io

import segno
from flask_babel import gettext as _


def qr_svg(url: str) -> str:
    """A QR code of ``url`` as an inline ``<svg>`` element."""
    return _qr(url, _("QR code"))


@functools.lru_cache(maxsize=512)
def _qr(url: str, title: str) -> str:
    """Drawing a code takes milliseconds; pages show the same few again and again."""
    out = io.BytesIO()
    segno.make(url, error="m").save(
        out, kind="svg", scale=4, border=2, xmldecl=False, svgns=True, title=title, omitsize=True
    )  # a viewBox without width/height: the page's CSS sizes the code, and it scales whole
    return out.getvalue().decode()
