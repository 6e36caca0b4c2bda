"""With the job queue unreachable, what needs a job is a coded 503 and nothing is committed;
what needs no job (reads, check-ins) keeps working."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import func, select

from dispatch import config
from dispatch.models import AuditEntry, DayPlan
from tests.dispatch.conftest import DAY

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def queue_down(settings: Any) -> Iterator[None]:
    config.use(replace(settings, redis_url=DEAD_REDIS))
    try:
        yield
    finally:
        config.use(settings)


def count(db: Any, model: Any) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_a_plan_whose_job_cannot_be_queued_is_a_503_and_leaves_no_plan(
    client, world, district, db, queue_down
):
    headers = world.headers(world.p1.dispatcher)
    generated = client.post(
        f"/api/v1/days/{DAY.isoformat()}/visits:generate", json={}, headers=headers
    )
    assert generated.status_code == 200  # needs no job: still works
    db.commit()
    plans, audit = count(db, DayPlan), count(db, AuditEntry)
    r = client.post(
        "/api/v1/plans", json={"date": DAY.isoformat(), "time_limit_s": 2}, headers=headers
    )
    assert r.status_code == 503, r.get_data(as_text=True)
    assert r.json["code"] == "QUEUE_UNAVAILABLE"
    assert int(r.headers["Retry-After"]) > 0
    assert count(db, DayPlan) == plans and count(db, AuditEntry) == audit
    # Reads need no queue.
    assert client.get("/api/v1/plans", headers=headers).status_code == 200
    assert client.get("/api/v1/visits", headers=headers).status_code == 200


def test_health_reads_degraded_not_down_when_only_the_queue_is(client, queue_down):
    r = client.get("/api/v1/health")
    assert r.status_code == 200
    assert r.json == {"status": "degraded", "database": "ok", "queue": "down"}
