"""QR codes as inline SVG (segno, pure Python): a phone's camera opens the URI without typing.

Used by the print kiosk for RFC 8628 §3.3.1's verification_uri_complete. Inline SVG needs no
image route and no script, so the Content-Security-Policy stays as it is.
"""

from __future__ import annotations

import segno
from markupsafe import Markup


def qr_svg(text: str, *, title: str, scale: int = 5) -> Markup:
    """`text` as an SVG QR code (error correction M, dark on white, a quiet zone of 4)."""
    code = segno.make(text, error="m")
    svg = code.svg_inline(
        scale=scale, border=4, dark="#000", light="#fff", svgclass="qr", title=title
    )
    return Markup(svg)  # noqa: S704 (segno's own markup; the title is escaped by segno)
