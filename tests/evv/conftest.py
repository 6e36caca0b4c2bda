"""Fixtures of the caregiver app tests: published visits, photos, multipart requests."""

from __future__ import annotations

import io
import json
import struct
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from PIL import ExifTags, Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from dispatch.models import (
    AuditEntry,
    Caregiver,
    Client,
    Photo,
    ServiceType,
    User,
    Visit,
    VisitAssignment,
    VisitEvent,
    VisitStatus,
    WorkOrder,
)
from tests.conftest import Tenant, World

DAY = date(2026, 11, 23)


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    """An instant on ``day`` at Asia/Shanghai local ``hour:minute``, as aware UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def local_iso(instant: datetime) -> str:
    """ISO 8601 with the +08:00 offset, as a phone in China sends it."""
    return (instant + timedelta(hours=8)).replace(tzinfo=None).isoformat() + "+08:00"


def jpeg(
    seed: int = 0,
    size: tuple[int, int] = (64, 48),
    taken: str | None = None,
    gps: tuple[float, float] | None = None,
) -> bytes:
    """A small JPEG, different per ``seed``, optionally with EXIF capture time and GPS."""
    img = Image.new("RGB", size, (seed * 37 % 256, seed * 91 % 256, seed * 13 % 256))
    for x in range(0, size[0], 8):
        for y in range(0, size[1], 8):
            if (x // 8 + y // 8 + seed) % 3 == 0:
                img.putpixel((x, y), (255, 255, 255))
    exif = Image.Exif()
    if taken:
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = taken
    if gps:
        lat, lon = gps
        exif.get_ifd(ExifTags.IFD.GPSInfo).update(
            {1: "N" if lat >= 0 else "S", 2: _dms(lat), 3: "E" if lon >= 0 else "W", 4: _dms(lon)}
        )
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    d = int(value)
    m = int((value - d) * 60)
    s = round((value - d - m / 60) * 3600, 4)
    return (float(d), float(m), s)


def png(size: tuple[int, int] = (32, 32)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", size, (10, 200, 30, 255)).save(buf, "PNG")
    return buf.getvalue()


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A valid PNG signature and header claiming ``width`` x ``height``, a few hundred bytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    # A few rows of zeros; a decoder that trusted the header would allocate gigabytes.
    idat = zlib.compress(b"\x00" * 1024, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@dataclass
class Counts:
    events: int
    photos: int
    orders: int
    audit: int
    files: int


@dataclass
class Evv:
    """Builds visits and sends app requests for one test."""

    world: World
    client: FlaskClient
    photo_dir: Any

    def visit(
        self,
        tenant: Tenant | None = None,
        *,
        service: str = "CLEAN",
        caregivers: tuple[Caregiver, ...] | None = None,
        client: Client | None = None,
        status: VisitStatus = VisitStatus.published,
        day: date = DAY,
        start_hour: int = 9,
        sequence: int | None = None,
        duration_min: int | None = None,
    ) -> Visit:
        tenant = tenant or self.world.p1
        st: ServiceType = self.world.services[service]
        caregivers = caregivers if caregivers is not None else (tenant.caregiver,)
        row = Visit(
            provider_id=tenant.provider.id,
            client_id=(client or tenant.client).id,
            service_type_id=st.id,
            date=day,
            window_start_at=at(start_hour, day=day),
            window_end_at=at(start_hour + 2, day=day),
            duration_min=duration_min or st.default_duration_min,
            required_skill=st.required_skill,
            caregivers_needed=len(caregivers) or 1,
            status=status,
            planned_start_at=at(start_hour, 15, day=day),
            sequence=sequence,
        )
        row.assignments = [
            VisitAssignment(
                caregiver_id=c.id, sequence=sequence, planned_start_at=at(start_hour, 15, day=day)
            )
            for c in caregivers
        ]
        self.world.db.add(row)
        self.world.db.flush()
        return row

    def event(
        self,
        visit: Visit | None = None,
        *,
        when: datetime | None = None,
        key: str | None = None,
        **overrides: Any,
    ) -> dict[str, Any]:
        """Event JSON at the client's home (WGS84), at ``when`` (default 09:20 local)."""
        home = self.world.db.get(Client, visit.client_id) if visit else self.world.p1.client
        body: dict[str, Any] = {
            "idempotency_key": key or str(uuid.uuid4()),
            "device_time": local_iso(when or at(9, 20)),
            "lat": home.lat,
            "lon": home.lon,
            "accuracy_m": 12.0,
            "crs": "wgs84",
            "mock_location": False,
            "device_id": "phone-1",
            "offline": False,
        }
        body.update(overrides)
        return body

    def post(
        self,
        visit_id: int,
        kind: str,
        event: dict[str, Any] | str,
        photo: bytes | None = b"default",
        user: User | None = None,
        filename: str = "photo.jpg",
        content_type: str = "image/jpeg",
    ) -> Any:
        if photo == b"default":
            photo = jpeg(seed=zlib.crc32(json.dumps(event, sort_keys=True).encode()) % 256)
        data: dict[str, Any] = {"event": event if isinstance(event, str) else json.dumps(event)}
        if photo is not None:
            data["photo"] = FileStorage(io.BytesIO(photo), filename, content_type=content_type)
        return self.multipart(f"/api/v1/visits/{visit_id}/{kind}", data, user)

    def sync(
        self,
        events: list[dict[str, Any]] | str,
        photos: dict[str, bytes] | None = None,
        user: User | None = None,
    ) -> Any:
        data: dict[str, Any] = {"events": events if isinstance(events, str) else json.dumps(events)}
        for name, content in (photos or {}).items():
            data[name] = FileStorage(io.BytesIO(content), f"{name}.jpg", content_type="image/jpeg")
        return self.multipart("/api/v1/sync", data, user)

    def multipart(self, path: str, data: dict[str, Any], user: User | None = None) -> Any:
        # Encoded in memory: the test client would spool a large body to a temp file it
        # never closes (a ResourceWarning, an error under filterwarnings=error).
        self.world.db.commit()  # into the test's outer transaction; see tests/api/conftest.py
        boundary, body = encode_multipart(MultiDict(data))
        return self.client.post(
            path,
            data=body,
            content_type=f"multipart/form-data; boundary={boundary}",
            headers=self.world.headers(user or self.world.p1.caregiver_user),
        )

    def get(self, path: str, user: User | None = None) -> Any:
        self.world.db.commit()
        return self.client.get(
            path, headers=self.world.headers(user or self.world.p1.caregiver_user)
        )

    def counts(self) -> Counts:
        db = self.world.db

        def n(model: Any) -> int:
            return int(db.scalar(select(func.count()).select_from(model)) or 0)

        files = sum(1 for p in self.photo_dir.rglob("*") if p.is_file())
        return Counts(n(VisitEvent), n(Photo), n(WorkOrder), n(AuditEntry), files)


@pytest.fixture
def evv(world: World, client: FlaskClient, settings: Any) -> Evv:
    return Evv(world=world, client=client, photo_dir=settings.photo_dir)


@pytest.fixture
def make_jpeg() -> Callable[..., bytes]:
    return jpeg
