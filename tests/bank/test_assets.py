"""Image uploads: magic bytes, size and pixel limits, metadata stripped, stored once by hash."""

import io
import struct
import zlib

import pytest
from PIL import Image

from examsys.bank import assets
from examsys.bank.models import Asset
from examsys.errors import ValidationError


def png(size=(40, 30), colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def jpeg_with_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    out = io.BytesIO()
    Image.new("RGB", (60, 20), (10, 120, 10)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def flood_png(width=50_000, height=50_000) -> bytes:
    """A tiny file whose header claims an enormous image (a pixel flood)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + \
        chunk(b"IEND", b"")


def test_png_is_stored_by_hash_and_audited(bank, app, db):
    asset = assets.store_image(bank.writer, bank.org, "电路图.png", png())
    assert asset.mime == "image/png" and (asset.width, asset.height) == (40, 30)
    path = assets.asset_path(asset.sha256, "png")
    assert path.parent.name == asset.sha256[:2] and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert assets.asset_url(asset.sha256) == f"/assets/{asset.sha256}"
    [event] = bank.events("asset.uploaded", asset.sha256)
    assert event.data["reused"] is False and event.actor_user_id == bank.writer.id


def test_same_image_is_stored_once(bank, db):
    first = assets.store_image(bank.writer, bank.org, "a.png", png())
    second = assets.store_image(bank.writer, bank.org, "b.png", png())
    assert first is second and db.session.query(Asset).filter_by(sha256=first.sha256).count() == 1
    assert [e.data["reused"] for e in bank.events("asset.uploaded", first.sha256)] == [False, True]


def test_exif_is_stripped_and_orientation_applied(bank):
    asset = assets.store_image(bank.writer, bank.org, "photo.jpg", jpeg_with_exif())
    stored = Image.open(assets.asset_path(asset.sha256, "jpg"))
    assert stored.getexif() == {} and "exif" not in stored.info
    assert stored.size == (20, 60)  # rotated upright, then the tag dropped


@pytest.mark.parametrize(("name", "data", "message"), [
    ("x.png", b"<svg onload=alert(1)></svg>", "不是支持的图片格式"),
    ("x.png", b"%PDF-1.7 not an image", "不是支持的图片格式"),
    ("x.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "已损坏"),
    ("flood.png", flood_png(), "像素过多"),
    ("big.png", png() + b"\0" * (5 * 1024 * 1024), "大小限制"),
])
def test_refused_uploads_name_the_file(bank, name, data, message):
    with pytest.raises(ValidationError) as exc:
        assets.store_image(bank.writer, bank.org, name, data)
    assert message in exc.value.message and name in exc.value.message
    assert bank.events("asset.uploaded") == []


def test_animated_gif_is_refused(bank):
    frames = [Image.new("RGB", (10, 10), (80 * i, 0, 0)) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:])
    with pytest.raises(ValidationError, match="动画"):
        assets.store_image(bank.writer, bank.org, "anim.gif", out.getvalue())


def test_gif_and_webp_are_accepted(bank):
    for fmt, mime in (("GIF", "image/gif"), ("WEBP", "image/webp")):
        out = io.BytesIO()
        Image.new("RGB", (8, 8), (1, 2, 3)).save(out, fmt)
        assert assets.store_image(bank.writer, bank.org, f"x.{fmt.lower()}", out.getvalue()).mime == mime


def test_an_image_two_organisations_upload_is_stored_once_and_served_to_both(bank, make, client, db):
    """The second organisation to upload an image sees it (it was a broken image, a 404 that told
    it another organisation holds the file); a third organisation still does not."""
    from tests.factories import PASSWORD

    other_org, third_org = make.org(), make.org()
    other, third = make.user(org=other_org), make.user(org=third_org)
    first = assets.store_image(bank.writer, bank.org, "a.png", png())
    second = assets.store_image(other, other_org, "b.png", png())
    assert first is second and db.session.query(Asset).count() == 1
    assert sorted(assets.holders(first.sha256)) == sorted([bank.org.id, other_org.id])
    # Nothing tells the second organisation that the image was already stored.
    assert [e.data["reused"] for e in bank.events("asset.uploaded", first.sha256)] == [False, False]
    db.session.commit()
    url = assets.asset_url(first.sha256)
    for user, status in ((bank.writer, 200), (other, 200), (third, 404)):
        client.post("/logout")
        assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302
        resp = client.get(url)
        assert resp.status_code == status, user.username
        if status == 200:
            assert resp.mimetype == "image/png"


def test_a_truncated_image_is_refused_after_weasyprint_was_imported():
    """WeasyPrint sets Pillow's process-wide LOAD_TRUNCATED_IMAGES at import (every process that
    renders a PDF); an upload must still be whole, and the setting is left as it was."""
    import io

    import weasyprint  # noqa: F401 - the import is the point
    from PIL import Image, ImageFile

    from examsys.bank.assets import clean_image
    from examsys.errors import ValidationError

    buf = io.BytesIO()
    Image.effect_noise((200, 200), 64).save(buf, "PNG")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True
    with pytest.raises(ValidationError, match="已损坏"):
        clean_image("半张.png", buf.getvalue()[: len(buf.getvalue()) // 2])
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True
