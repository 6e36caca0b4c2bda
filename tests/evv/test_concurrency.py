"""Racing copies of one request against a real, committed PostgreSQL database leave one event."""

from __future__ import annotations

import io
import json
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from flask import Flask
from flask_jwt_extended import create_access_token
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from api import create_app
from dispatch import config
from dispatch import db as dbmod
from dispatch.config import Settings
from dispatch.models import (
    BillingUnit,
    Caregiver,
    Client,
    Gender,
    Photo,
    Provider,
    Role,
    ServiceType,
    User,
    Visit,
    VisitAssignment,
    VisitEvent,
    VisitStatus,
    WorkOrder,
)
from tests.conftest import alembic_config, create_database, drop_database
from tests.evv.conftest import DAY, at, jpeg, local_iso

COPIES = 10


@dataclass
class Live:
    app: Flask
    url: str
    token: str
    visit_id: int


@pytest.fixture
def live(pg_admin_url: str, settings: Settings, tmp_path: Path) -> Iterator[Live]:
    """A separate database with committed data and an app on it; the shared one is restored."""
    url = create_database(pg_admin_url, prefix="cdevv")
    try:
        command.upgrade(alembic_config(url), "head")
        app = create_app(
            Settings(
                database_url=url,
                photo_dir=tmp_path / "photos",
                secret_key="evv-race-" + uuid.uuid4().hex,
                queue_name=f"cdevv-{uuid.uuid4().hex[:8]}",
            ),
            TESTING=True,
        )
        with sessionmaker(bind=dbmod.make_engine(url))() as s:
            provider = Provider(code="PR", name="竞争测试服务中心", district="义乌市")
            s.add(provider)
            s.flush()
            service = ServiceType(
                code="CLEAN",
                name="助洁",
                default_duration_min=60,
                caregivers_needed=1,
                photo_required=True,
                billing_unit=BillingUnit.hour,
                rate=Decimal("40.00"),
            )
            client = Client(
                provider_id=provider.id, code="C1", name="王秀英", address="宾王路 88号",
                lat=29.3069, lon=120.0763,
            )  # fmt: skip
            caregiver = Caregiver(
                provider_id=provider.id, code="CG1", name="李春梅", gender=Gender.female,
                home_lat=29.31, home_lon=120.07,
            )  # fmt: skip
            s.add_all([service, client, caregiver])
            s.flush()
            user = User(
                username="caregiver_race", password_hash="x", role=Role.caregiver,
                provider_id=provider.id, caregiver_id=caregiver.id,
            )  # fmt: skip
            visit = Visit(
                provider_id=provider.id, client_id=client.id, service_type_id=service.id,
                date=DAY, window_start_at=at(9), window_end_at=at(11), duration_min=60,
                status=VisitStatus.published, planned_start_at=at(9, 15),
            )  # fmt: skip
            visit.assignments = [VisitAssignment(caregiver_id=caregiver.id, sequence=1)]
            s.add_all([user, visit])
            s.commit()
            with app.app_context():
                token = create_access_token(
                    identity=str(user.id),
                    additional_claims={
                        "role": "caregiver",
                        "provider_id": provider.id,
                        "caregiver_id": caregiver.id,
                        "tv": 0,
                    },
                )
            yield Live(app, url, token, visit.id)
    finally:
        config.use(settings)
        dbmod.configure(settings.database_url)
        dbmod.make_engine(url).dispose()
        drop_database(pg_admin_url, url)


def _race(live: Live, path: str, bodies: list[dict[str, Any]], photo: bytes) -> list[Any]:
    """Send each body at once from its own thread; answers (status, json) in order."""
    gate = threading.Barrier(len(bodies))

    def send(event: dict[str, Any]) -> tuple[int, Any]:
        boundary, body = encode_multipart(
            MultiDict(
                {
                    "event": json.dumps(event),
                    "photo": FileStorage(io.BytesIO(photo), "p.jpg", content_type="image/jpeg"),
                }
            )
        )
        client = live.app.test_client()
        gate.wait(timeout=30)
        r = client.post(
            path,
            data=body,
            content_type=f"multipart/form-data; boundary={boundary}",
            headers={"Authorization": f"Bearer {live.token}"},
        )
        return r.status_code, r.json

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(send, bodies))


def _count(live: Live, model: Any, *where: Any) -> int:
    with sessionmaker(bind=dbmod.make_engine(live.url))() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _event(**kw: Any) -> dict[str, Any]:
    body = {
        "idempotency_key": str(uuid.uuid4()),
        "device_time": local_iso(at(9, 20)),
        "lat": 29.3069,
        "lon": 120.0763,
        "accuracy_m": 10.0,
    }
    body.update(kw)
    return body


def test_ten_concurrent_copies_leave_one_event_and_one_work_order(live: Live) -> None:
    check_in = _event()
    photo = jpeg(seed=70)
    answers = _race(live, f"/api/v1/visits/{live.visit_id}/check-in", [check_in] * COPIES, photo)
    assert sorted(status for status, _ in answers) == [200] * (COPIES - 1) + [201], answers
    assert all(body == answers[0][1] for _, body in answers)
    assert _count(live, VisitEvent) == 1
    assert _count(live, Photo) == 1

    check_out = _event(device_time=local_iso(at(10, 20)), outcome="completed")
    photo = jpeg(seed=71)
    answers = _race(live, f"/api/v1/visits/{live.visit_id}/check-out", [check_out] * COPIES, photo)
    assert sorted(status for status, _ in answers) == [200] * (COPIES - 1) + [201], answers
    assert len({body["work_order_id"] for _, body in answers}) == 1
    assert _count(live, VisitEvent) == 2
    assert _count(live, WorkOrder, WorkOrder.visit_id == live.visit_id) == 1


def test_ten_concurrent_check_ins_with_different_keys_leave_one(live: Live) -> None:
    bodies = [_event() for _ in range(COPIES)]
    answers = _race(live, f"/api/v1/visits/{live.visit_id}/check-in", bodies, jpeg(seed=72))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [409] * (COPIES - 1), answers
    assert {b["code"] for s, b in answers if s == 409} == {"ALREADY_CHECKED_IN"}
    assert _count(live, VisitEvent) == 1
