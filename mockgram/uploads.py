"""Photo uploads: what Mockgram accepts (JPEG, PNG, GIF or WebP, within limits).

Used by the photos API (`POST /api/photos`, photos.write) and by John's own feed.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image

from mockgram.images import ImageInfo

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UPLOAD_PIXELS = 40_000_000
# Formats an upload may have; its content type comes from the decoded image, never the client.
UPLOAD_FORMATS = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}


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
