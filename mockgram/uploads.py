"""Photos coming in: what Mockgram accepts (JPEG, PNG, GIF or WebP, within limits), and the
row an accepted image becomes.

Used by the photos API (`POST /api/photos`, photos.write), by John's own feed and by the demo
data (mockgram/demo/seed.py).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from datetime import datetime

from PIL import Image

from mockgram.models import Photo
from shared.clock import utcnow

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UPLOAD_PIXELS = 40_000_000
# Formats an upload may have; its content type comes from the decoded image, never the client.
UPLOAD_FORMATS = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}


@dataclass(frozen=True)
class ImageInfo:
    """Image bytes with what the photos API reports about them."""

    data: bytes
    content_type: str
    width: int
    height: int


def new_photo(
    *, owner_id: int, caption: str, info: ImageInfo, taken_at: datetime | None = None
) -> Photo:
    """The Photo row for an image: an upload (taken now) or a seeded demo photo."""
    return Photo(
        owner_id=owner_id,
        caption=caption,
        taken_at=taken_at or utcnow(),
        content_type=info.content_type,
        width=info.width,
        height=info.height,
        image=info.data,
    )


class BadImage(ValueError):
    """The upload is not an image Mockgram accepts; the message says why, in plain words."""


def inspect_upload(data: bytes) -> ImageInfo:
    """Decode an upload with Pillow: a JPEG, PNG, GIF or WebP within the limits, or BadImage."""
    if not data:
        raise BadImage("The file is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise BadImage("The file is larger than 5 MB.")
    try:
        with warnings.catch_warnings():
            # A decompression bomb only warns below twice the limit: treat the warning as a refusal.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                image_format = probe.format or ""
                width, height = probe.size
                probe.verify()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Warning) as exc:
        raise BadImage("The file is not an image Mockgram can read.") from exc
    if image_format not in UPLOAD_FORMATS:
        raise BadImage("Only JPEG, PNG, GIF and WebP images are accepted.")
    if width * height > MAX_UPLOAD_PIXELS:
        raise BadImage("The image has too many pixels.")
    return ImageInfo(
        data=data, content_type=UPLOAD_FORMATS[image_format], width=width, height=height
    )
