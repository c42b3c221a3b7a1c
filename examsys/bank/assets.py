"""Images in item content: checked, re-encoded, stored by content hash, recorded as `Asset`.

An upload is refused before it costs anything: by size, then by magic bytes (PNG, JPEG, GIF,
WebP only, whatever the file name says), then by the pixel count read from the header, before
any pixel is decoded (a 100 kB PNG can claim 50,000 x 50,000 pixels), and by the memory decoding
would take (pixels × bytes per pixel: a real 100 kB PNG of one colour decodes to 100 MB).
Animated images are refused: an exam item must look the same on screen and in the printed paper.

The accepted image is re-encoded by Pillow, which drops EXIF (GPS positions from phones), text
chunks and colour profiles; orientation from EXIF is applied first so photos stay upright. The
file is stored as `<EXAMSYS_UPLOAD_DIR>/<aa>/<sha256>.<ext>`, named by the SHA-256 of the
re-encoded bytes, and served at `/assets/<sha256>` (the only image source `richtext` allows).
The same image uploaded twice is stored once, also when two organisations upload it: `Asset` is
keyed by hash alone and records the first uploader's organisation, and every organisation that
uploaded it is an `AssetHolder`, whose staff are served it (`holders`). An upload says whether
the image was `reused` within the uploader's own organisation only, never that another holds it.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError
from sqlalchemy import select

from examsys import audit, clock
from examsys.audit.actions import AuditAction
from examsys.bank.items import actor
from examsys.bank.models import Asset, AssetHolder
from examsys.errors import ValidationError
from examsys.extensions import db

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 25_000_000
# Decoded size (pixels × bytes per pixel): what decoding costs in memory, whatever the file's
# size. A 100 kB PNG of one colour can decode to 100 MB, and re-encoding it costs as much again
# and five seconds. Decoding and re-encoding hold about 2.5 times the decoded size at the peak;
# 40 MB keeps a 12-megapixel phone photo (36 MB as RGB, 93 MB at the peak).
MAX_DECODED_BYTES = 40 * 1024 * 1024
BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "LA": 2, "PA": 2, "I;16": 2, "RGB": 3, "YCbCr": 3, "LAB": 3,
                   "HSV": 3, "RGBA": 4, "RGBX": 4, "CMYK": 4, "I": 4, "F": 4}

# format name → (mime, extension)
FORMATS = {"PNG": ("image/png", "png"), "JPEG": ("image/jpeg", "jpg"),
           "GIF": ("image/gif", "gif"), "WEBP": ("image/webp", "webp")}


def sniff(data: bytes) -> str | None:
    """The image format the magic bytes announce, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    sha256: str
    mime: str
    ext: str
    width: int
    height: int


_STRICT = threading.Lock()


@contextmanager
def _whole_images_only():
    """Decode with truncated images refused. WeasyPrint turns Pillow's process-wide
    ImageFile.LOAD_TRUNCATED_IMAGES on when it is imported (any process that renders a PDF), and
    an upload must be whole whatever else the process did; restored afterwards, under a lock."""
    with _STRICT:
        saved, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = saved


def clean_image(filename: str, data: bytes, *, max_bytes: int = MAX_BYTES,
                max_pixels: int = MAX_PIXELS) -> CleanImage:
    """Check and re-encode an image; writes nothing. Raises ValidationError naming the file."""
    if len(data) > max_bytes:
        raise ValidationError(f"图片 {filename} 超过 {max_bytes / 1024 / 1024:g} MB 的大小限制", field="file")
    fmt = sniff(data)
    if fmt is None:
        raise ValidationError(f"文件 {filename} 不是支持的图片格式（仅支持 PNG、JPEG、GIF、WebP）", field="file")
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that; treat it as refusal.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[fmt])  # reads the header only
            if image.width * image.height > max_pixels:
                raise ValidationError(
                    f"图片 {filename} 像素过多（{image.width}×{image.height}），"
                    f"最多 {max_pixels // 1_000_000} 百万像素", field="file")
            decoded = image.width * image.height * BYTES_PER_PIXEL.get(image.mode, 4)
            if decoded > MAX_DECODED_BYTES:
                raise ValidationError(
                    f"图片 {filename} 解码后过大（{image.width}×{image.height}，约 {decoded // 1024 // 1024} MB），"
                    f"最多 {MAX_DECODED_BYTES // 1024 // 1024} MB，请缩小图片尺寸后再上传", field="file")
            if getattr(image, "n_frames", 1) > 1:
                raise ValidationError(f"图片 {filename} 是动画图片，请改用静态图片", field="file")
            with _whole_images_only():
                image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(f"图片 {filename} 像素过多，已拒绝", field="file") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError(f"图片 {filename} 已损坏或无法读取", field="file") from None
    image = ImageOps.exif_transpose(image)
    # Keep only what rendering needs; everything else (exif, icc_profile, text) is metadata.
    image.info = {k: v for k, v in image.info.items() if k == "transparency"}
    out = io.BytesIO()
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=90)
    elif fmt == "WEBP":
        image.save(out, "WEBP", quality=90)
    else:
        image.save(out, fmt)
    encoded = out.getvalue()
    mime, ext = FORMATS[fmt]
    return CleanImage(encoded, hashlib.sha256(encoded).hexdigest(), mime, ext, image.width, image.height)


def asset_url(sha256: str) -> str:
    return f"/assets/{sha256}"


def asset_path(sha256: str, ext: str) -> Path:
    return Path(current_app.config["EXAMSYS_UPLOAD_DIR"]) / sha256[:2] / f"{sha256}.{ext}"


def _write_once(path: Path, data: bytes) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename, so a reader never sees half a file and two uploaders never collide.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def store_image(user, org, filename: str, data: bytes, *, max_bytes: int | None = None) -> Asset:
    """Check, re-encode and store an uploaded image; returns its (possibly existing) Asset.
    Records `asset.upload` (with `reused` when the image was already stored).
    Raises ValidationError naming the file (size, format, pixel flood, animation, corrupt)."""
    clean = clean_image(filename, data, max_bytes=max_bytes or MAX_BYTES)
    _write_once(asset_path(clean.sha256, clean.ext), clean.data)
    asset = db.session.get(Asset, clean.sha256)
    if asset is None:
        asset = Asset(sha256=clean.sha256, organisation_id=org.id, mime=clean.mime, size=len(clean.data),
                      width=clean.width, height=clean.height,
                      uploaded_by_id=user.id if user is not None else None, created_at=clock.now())
        db.session.add(asset)
        db.session.flush()
    reused = db.session.get(AssetHolder, (clean.sha256, org.id)) is not None
    if not reused:
        db.session.add(AssetHolder(sha256=clean.sha256, organisation_id=org.id, created_at=clock.now()))
        db.session.flush()
    audit.record(AuditAction.ASSET_UPLOADED, object_type="asset", object_id=clean.sha256, organisation_id=org.id,
                 context=actor(user),
                 data={"filename": filename[:200], "mime": clean.mime, "size": len(clean.data),
                       "width": clean.width, "height": clean.height, "reused": reused})
    return asset


def holders(sha256: str) -> list[int]:
    """The organisations that uploaded the image (each may see it)."""
    return list(db.session.scalars(select(AssetHolder.organisation_id).where(AssetHolder.sha256 == sha256)))
