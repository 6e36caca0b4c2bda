"""Photo proof: content checks (JPEG/PNG, size and pixel caps), facts, a content-addressed store."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol

import imagehash
import scipy.fftpack  # noqa: F401  (imagehash imports it lazily: ~1 s on a first check-in)
from PIL import ExifTags, Image, UnidentifiedImageError

from dispatch import config, error_codes
from dispatch.errors import DomainError

log = logging.getLogger(__name__)

MAX_PHOTO_BYTES = 8 * 1024 * 1024
# 40 megapixels: above any phone photo the app sends (it resizes), far below what would let a
# small file expand into gigabytes of RAM.
MAX_PHOTO_PIXELS = 40_000_000

# Pillow checks this on open (from the header, before decoding) and by default only *warns*
# between 1x and 2x of it; the filter below turns that warning into an error process-wide.
Image.MAX_IMAGE_PIXELS = MAX_PHOTO_PIXELS
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)

_MAGIC = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}
_FORMATS = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png"}


@dataclass(frozen=True)
class PhotoFacts:
    """What was read from an accepted image."""

    sha256: str
    mime: str
    size_bytes: int
    width: int
    height: int
    phash: str
    exif_taken_at: datetime | None
    exif_lat: float | None
    exif_lon: float | None


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _too_large(what: str) -> DomainError:
    return error_codes.PHOTO_TOO_LARGE(
        what=what, mib=MAX_PHOTO_BYTES // (1024 * 1024), mpx=MAX_PHOTO_PIXELS // 1_000_000
    )


def _not_an_image(why: str) -> DomainError:
    return error_codes.PHOTO_NOT_IMAGE(why=why)


def inspect_photo(data: bytes) -> PhotoFacts:
    """Check an upload by its content and read its facts; raises 413/415 errors.

    The format is judged from the bytes (magic number, then Pillow restricted to JPEG and PNG),
    never from a file name or a Content-Type header. The pixel count is checked from the header
    before anything is decoded, so a decompression bomb costs microseconds.
    """
    if len(data) > MAX_PHOTO_BYTES:
        raise _too_large(f"{len(data)} bytes")
    if not any(data.startswith(magic) for magic in _MAGIC):
        raise _not_an_image("neither JPEG nor PNG signature")
    try:
        with Image.open(io.BytesIO(data), formats=["JPEG", "PNG"]) as probe:
            _check_pixels(probe)
            probe.verify()
        with Image.open(io.BytesIO(data), formats=["JPEG", "PNG"]) as img:
            _check_pixels(img)
            mime = _FORMATS.get(img.format or "")
            if mime is None:
                raise _not_an_image(f"format {img.format}")
            width, height = img.size
            exif = img.getexif()
            # JPEG can decode at 1/8 scale: the hash needs 32x32, the full decode would not.
            img.draft("RGB", (256, 256))
            img.load()
            phash = str(imagehash.phash(img))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_large("too many pixels") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        # Pillow reports truncated or corrupt streams as OSError/SyntaxError/ValueError.
        raise _not_an_image(type(exc).__name__) from exc
    taken_at = _exif_taken_at(exif)
    lat, lon = _exif_gps(exif)
    return PhotoFacts(
        sha256=sha256_of(data),
        mime=mime,
        size_bytes=len(data),
        width=width,
        height=height,
        phash=phash,
        exif_taken_at=taken_at,
        exif_lat=lat,
        exif_lon=lon,
    )


def _check_pixels(img: Image.Image) -> None:
    width, height = img.size
    if width <= 0 or height <= 0:
        raise _not_an_image("empty image")
    if width * height > MAX_PHOTO_PIXELS:
        raise _too_large(f"{width}x{height} pixels")


def _exif_taken_at(exif: Image.Exif) -> datetime | None:
    """DateTimeOriginal (with OffsetTimeOriginal when present), as an aware UTC instant."""
    try:
        sub = exif.get_ifd(ExifTags.IFD.Exif)
        raw = sub.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
        if not raw:
            return None
        local = datetime.strptime(str(raw).strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")  # noqa: DTZ007
        offset = sub.get(ExifTags.Base.OffsetTimeOriginal)
        # Phones write DateTimeOriginal in local time without an offset: the providers' zone.
        tz: Any = _parse_offset(str(offset)) if offset else None
        return local.replace(tzinfo=tz or config.zone()).astimezone(UTC)
    except (KeyError, ValueError, TypeError, AttributeError):
        log.info("unreadable EXIF capture time ignored")
        return None


def _parse_offset(text: str) -> timezone | None:
    text = text.strip("\x00 ")
    if len(text) != 6 or text[0] not in "+-" or text[3] != ":":
        return None
    sign = 1 if text[0] == "+" else -1
    return timezone(sign * timedelta(hours=int(text[1:3]), minutes=int(text[4:6])))


def _exif_gps(exif: Image.Exif) -> tuple[float | None, float | None]:
    """GPS latitude/longitude in decimal degrees (as the camera wrote them; usually WGS84)."""
    try:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        if not gps or 2 not in gps or 4 not in gps:
            return None, None
        lat = _dms(gps[2]) * (-1 if str(gps.get(1, "N")).upper().startswith("S") else 1)
        lon = _dms(gps[4]) * (-1 if str(gps.get(3, "E")).upper().startswith("W") else 1)
    except (KeyError, ValueError, TypeError, ZeroDivisionError, IndexError):
        log.info("unreadable EXIF GPS ignored")
        return None, None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None, None
    return lat, lon


def _dms(value: Any) -> float:
    d, m, s = (float(v) for v in value)
    return d + m / 60 + s / 3600


class PhotoStore(Protocol):
    """Where photo bytes live, addressed by their SHA-256; an object store can replace it."""

    def put(self, sha256: str, data: bytes) -> None: ...

    def get(self, sha256: str) -> bytes: ...

    def exists(self, sha256: str) -> bool: ...


class FileSystemPhotoStore:
    """Files under ``root/ab/cd/<sha256>``; writes are atomic (temp file, then rename)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_of(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path_of(sha256).is_file()

    def put(self, sha256: str, data: bytes) -> None:
        if sha256_of(data) != sha256:
            raise ValueError("content does not match its address")
        path = self.path_of(sha256)
        if path.is_file():
            return  # same address, same bytes
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        except OSError as exc:
            raise self._unavailable(exc) from exc
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException as exc:
            Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise self._unavailable(exc) from exc
            raise

    def _unavailable(self, exc: OSError) -> DomainError:
        # Disk full, read-only or not writable: the request fails whole and is retried later.
        log.error("photo store %s cannot be written: %s", self.root, exc)
        return error_codes.PHOTO_STORE_UNAVAILABLE()

    def get(self, sha256: str) -> bytes:
        return self.path_of(sha256).read_bytes()


def photo_store() -> PhotoStore:
    """The configured store: the filesystem under ``settings.photo_dir``."""
    return FileSystemPhotoStore(config.current().photo_dir)
