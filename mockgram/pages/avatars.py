"""Profile pictures — the `picture` claim's target (OIDC Core §5.1).

`{issuer}/users/{username}/avatar.png`: a round badge with the person's initial on a colour
drawn from their username, painted with Pillow on first request and kept in a small
in-process cache (public, derived data: any worker paints the same bytes). Public on purpose:
an app shows it in an <img> without a token, as it would a real profile picture.
"""

from __future__ import annotations

import hashlib
import io
from functools import lru_cache

from fastapi import APIRouter, Request
from PIL import Image, ImageDraw, ImageFont
from sqlmodel import select
from starlette.exceptions import HTTPException
from starlette.responses import Response

from mockgram.db import SessionDep
from mockgram.models import User

router = APIRouter()

SIZE = 256
CACHE_HEADERS = {"Cache-Control": "public, max-age=86400"}
PALETTE = (
    (233, 30, 99),
    (156, 39, 176),
    (63, 81, 181),
    (3, 155, 229),
    (0, 150, 136),
    (67, 160, 71),
    (251, 140, 0),
    (244, 81, 30),
)


@lru_cache(maxsize=256)
def paint_avatar(username: str, initial: str) -> bytes:
    """A PNG: the initial, white, on a circle whose colour depends on the username."""
    digest = hashlib.sha256(username.encode()).digest()
    colour = PALETTE[digest[0] % len(PALETTE)]
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((0, 0, SIZE - 1, SIZE - 1), fill=(*colour, 255))
    font = ImageFont.load_default(size=SIZE * 3 // 5)  # Pillow's built-in font: no files
    white = (255, 255, 255, 255)
    draw.text(
        (SIZE / 2, SIZE / 2),
        initial,
        fill=white,
        font=font,
        anchor="mm",
        stroke_width=4,
        stroke_fill=white,
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@router.get("/users/{username}/avatar.png")
def avatar(username: str, request: Request, session: SessionDep) -> Response:
    """The person's picture; any other username of that shape gets one too, painted from the
    name itself, so the address does not tell who has an account (the sign-in page doesn't)."""
    if not 0 < len(username) <= 64 or not username.isprintable():
        raise HTTPException(404, "No picture at this address.")
    user = session.exec(select(User).where(User.username == username)).first()
    initial = ((user.name or user.username) if user else username)[:1].upper() or "?"
    data = paint_avatar(username, initial)
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={**CACHE_HEADERS, "ETag": etag})
    return Response(data, media_type="image/png", headers={**CACHE_HEADERS, "ETag": etag})
