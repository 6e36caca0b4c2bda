"""Worlds the tests build: work orders with their visit, events and photos, straight in the db.

``Builder`` (the fixture ``b`` in tests/conftest.py) serves the rule and validation tests.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from dispatch.models import (
    Caregiver,
    Client,
    Flag,
    Photo,
    Visit,
    VisitEvent,
    VisitStatus,
    WorkOrder,
)
from dispatch.validation.engine import validate_orders

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 16, 9, 0, tzinfo=SH)  # a Monday morning in Yiwu
_seq = itertools.count(1)
# Metres per degree of latitude; the builders offset points north of the client's home.
M_PER_DEG = 111_195.0


@dataclass
class Builder:
    world: Any
    db: Any

    def photo(self, phash: str | None = None, exif: datetime | None = None) -> Photo:
        p = Photo(
            sha256=secrets.token_hex(32),
            phash=phash or secrets.token_hex(8),
            mime="image/jpeg",
            size_bytes=1000,
            width=640,
            height=480,
            exif_taken_at=exif,
        )
        self.db.add(p)
        self.db.flush()
        return p

    def order(
        self,
        *,
        start: datetime = T0,
        minutes: float = 45,
        service: str = "CHAT",
        caregiver: Caregiver | None = None,
        client: Client | None = None,
        source: str = "app",
        planned_min: int | None = None,
        window: tuple[datetime, datetime] | None = None,
        visit: Visit | bool = True,
        checkin: dict[str, Any] | None = None,
        checkout: dict[str, Any] | None = None,
        events: tuple[str, ...] = ("check_in", "check_out"),
        billable_min: int | None = None,
        validate: bool = True,
    ) -> WorkOrder:
        caregiver = caregiver or self.world.p1.caregiver
        client = client or self.world.p1.client
        st = self.world.services[service]
        end = start + timedelta(minutes=minutes)
        v: Visit | None = None
        if isinstance(visit, Visit):
            v = visit
        elif visit:
            ws, we = window or (start - timedelta(minutes=30), start + timedelta(minutes=30))
            v = Visit(
                provider_id=caregiver.provider_id,
                client_id=client.id,
                service_type_id=st.id,
                date=start.astimezone(SH).date(),
                window_start_at=ws,
                window_end_at=we,
                duration_min=planned_min or st.default_duration_min,
                required_skill=st.required_skill,
                caregivers_needed=st.caregivers_needed,
                status=VisitStatus.completed,
            )
            self.db.add(v)
            self.db.flush()
        wo = WorkOrder(
            provider_id=caregiver.provider_id,
            client_id=client.id,
            caregiver_id=caregiver.id,
            service_type_id=st.id,
            visit_id=v.id if v else None,
            source=source,
            external_id=None if source == "app" else f"X{next(_seq)}",
            start_at=start,
            end_at=end,
            billable_min=billable_min if billable_min is not None else round(minutes),
        )
        self.db.add(wo)
        self.db.flush()
        if v is not None and source == "app":
            for kind, at, extra in (
                ("check_in", start, checkin or {}),
                ("check_out", end, checkout or {}),
            ):
                if kind not in events:
                    continue
                values = {
                    "lat": client.lat + extra.pop("north_m", 0.0) / M_PER_DEG,
                    "lon": client.lon,
                    "accuracy_m": 10.0,
                    "device_time_at": at,
                    "received_at": at + timedelta(seconds=5),
                    "photo_id": None,
                    "mock_location": False,
                }
                values.update(extra)
                self.db.add(
                    VisitEvent(
                        idempotency_key=f"k{next(_seq)}-{secrets.token_hex(4)}",
                        content_hash="x" * 64,
                        visit_id=v.id,
                        caregiver_id=caregiver.id,
                        kind=kind,
                        raw_lat=values["lat"],
                        raw_lon=values["lon"],
                        crs="wgs84",
                        **values,
                    )
                )
            self.db.flush()
        if validate:
            validate_orders(self.db, [wo.id])
        return wo

    def flags(self, order: WorkOrder, status: str | None = "open") -> dict[str, Flag]:
        stmt = select(Flag).where(Flag.work_order_id == order.id)
        if status:
            stmt = stmt.where(Flag.status == status)
        return {f.code: f for f in self.db.scalars(stmt.order_by(Flag.id))}

    def codes(self, order: WorkOrder) -> set[str]:
        return set(self.flags(order))

    def status(self, order: WorkOrder) -> str:
        self.db.expire(order)
        return order.status.value
