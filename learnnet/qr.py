"""QR codes as inline SVG: no external service, no image library (segno is pure Python)."""

from __future__ import annotations

import io

import segno
from flask_babel import gettext as _


def qr_svg(url: str) -> str:
    """A QR code of ``url`` as an inline ``<svg>`` element."""
    out = io.BytesIO()
    segno.make(url, error="m").save(
        out, kind="svg", scale=4, border=2, xmldecl=False, svgns=True, title=_("QR code")
    )
    return out.getvalue().decode()
