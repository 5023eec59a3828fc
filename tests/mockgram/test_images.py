"""The demo photos are real, small, distinct and reproducible; uploads are checked for real."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from mockgram.demo.painter import HEIGHT, SCENES, WIDTH, make_photo
from mockgram.demo.seed import DEMO_USERS
from mockgram.uploads import BadImage, inspect_upload
from tests.mockgram.resource_helpers import tiny_image


def test_image_generation_is_deterministic() -> None:
    paint = make_photo.__wrapped__  # the painter itself, not the per-process cache in front
    assert paint("john", 3, "cat").data == paint("john", 3, "cat").data
    assert paint("john", 3, "cat") is not paint("john", 3, "cat")
    assert make_photo("john", 3, "cat").data != make_photo("jane", 3, "cat").data
    assert make_photo("john", 3, "cat").data != make_photo("john", 4, "cat").data


@pytest.mark.parametrize("scene", sorted(SCENES))
def test_every_scene_is_a_small_decodable_jpeg(scene: str) -> None:
    info = make_photo("john", 0, scene)
    assert info.content_type == "image/jpeg"
    assert len(info.data) < 60_000
    with Image.open(io.BytesIO(info.data)) as image:
        assert image.format == "JPEG"
        assert image.size == (WIDTH, HEIGHT) == (info.width, info.height)
        # Not a blank canvas: a picture has many colours.
        assert len(image.convert("RGB").getcolors(maxcolors=1_000_000) or []) > 500


def test_all_demo_photos_are_distinct() -> None:
    images = [
        make_photo(user.username, index, item.scene).data
        for user in DEMO_USERS
        for index, item in enumerate(user.photos)
    ]
    assert len(images) == 24
    assert len(set(images)) == 24


def test_inspect_upload_reads_the_real_format() -> None:
    info = inspect_upload(tiny_image("PNG", (12, 7)))
    assert (info.content_type, info.width, info.height) == ("image/png", 12, 7)
    assert inspect_upload(tiny_image("WEBP")).content_type == "image/webp"


@pytest.mark.parametrize(
    "data",
    [b"", b"GIF89a not really", b"<svg xmlns='http://www.w3.org/2000/svg'/>", tiny_image()[:30]],
)
def test_inspect_upload_refuses_what_is_not_an_image(data: bytes) -> None:
    with pytest.raises(BadImage):
        inspect_upload(data)


def test_inspect_upload_refuses_too_many_pixels() -> None:
    out = io.BytesIO()
    Image.new("1", (10_000, 5_000)).save(out, "PNG")  # 50 megapixels in a few kilobytes
    with pytest.raises(BadImage, match="too many pixels"):
        inspect_upload(out.getvalue())
