"""Photo intake: only real images, size-capped, downscaled, metadata stripped.

Only the capture time survives from EXIF (a case may need when a photo was taken); location,
device and owner fields are dropped by re-encoding the pixels into a fresh JPEG.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import UTC, datetime

from PIL import Image, ImageOps, UnidentifiedImageError

from webapp.timeutil import STATION_TZ

MAX_SIDE = 1600
JPEG_QUALITY = 82
EXIF_DATETIME_ORIGINAL = 0x9003
EXIF_IFD = 0x8769
Image.MAX_IMAGE_PIXELS = 40_000_000  # refuse decompression bombs


class PhotoError(ValueError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code  # "too_large", "not_an_image"


@dataclass(frozen=True)
class CleanPhoto:
    data: bytes
    width: int
    height: int
    sha256: str
    taken_at: datetime | None


def _taken_at(image: Image.Image) -> datetime | None:
    try:
        raw = image.getexif().get_ifd(EXIF_IFD).get(EXIF_DATETIME_ORIGINAL)
        if not raw:
            return None
        # EXIF times carry no zone; phones here are on Shanghai time.
        local = datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
        return local.replace(tzinfo=STATION_TZ).astimezone(UTC)
    except (ValueError, KeyError, TypeError):
        return None


def clean_photo(raw: bytes, max_bytes: int) -> CleanPhoto:
    if len(raw) > max_bytes:
        raise PhotoError("too_large")
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            # Pillow only warns between the cap and twice the cap: refuse before decoding.
            if probe.width * probe.height > Image.MAX_IMAGE_PIXELS:
                raise PhotoError("not_an_image")
            probe.verify()  # catches truncated and corrupt files
        image = Image.open(io.BytesIO(raw))
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise PhotoError("not_an_image") from error
    if image.format not in {"JPEG", "PNG", "WEBP", "GIF"}:
        raise PhotoError("not_an_image")
    taken_at = _taken_at(image)
    image = ImageOps.exif_transpose(image)  # keep what the eye sees; the orientation tag goes
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    if image.mode not in {"RGB", "L"}:
        image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)  # no exif= argument: none kept
    data = out.getvalue()
    return CleanPhoto(data, image.width, image.height, hashlib.sha256(data).hexdigest(), taken_at)
