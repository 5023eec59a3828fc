"""The demo photos are real, small, distinct and reproducible; uploads are checked for real."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from mockgram.demo import painter
from mockgram.demo.painter import HEIGHT, SCENES, WIDTH, make_photo, paint
from mockgram.demo.seed import DEMO_USERS
from mockgram.uploads import BadImage, inspect_upload
from tests.mockgram.resource_helpers import tiny_image


def test_image_generation_is_deterministic() -> None:
    # The painter itself, not the caches in front of it.
    assert paint("john", 3, "cat") == paint("john", 3, "cat")
    assert paint("john", 3, "cat") != paint("jane", 3, "cat")
    assert paint("john", 3, "cat") != paint("john", 4, "cat")


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


def test_painted_photos_are_kept_on_disk_and_read_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(painter, "PAINTED", tmp_path / "painted")
    fresh = make_photo.__wrapped__("kept", 1, "cat")  # past the in-process cache
    kept = tmp_path / "painted" / "kept-1-cat.jpg"
    assert kept.read_bytes() == fresh.data == paint("kept", 1, "cat")
    kept.write_bytes(b"what is on disk is served")
    assert make_photo.__wrapped__("kept", 1, "cat").data == b"what is on disk is served"


def test_an_unwritable_folder_only_means_painting_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    monkeypatch.setattr(painter, "PAINTED", blocker / "painted")  # a folder inside a file
    assert make_photo.__wrapped__("kept", 2, "cake").data == paint("kept", 2, "cake")
