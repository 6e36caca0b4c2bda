"""Helpers for dispatch tests: a small district with care plans, and running queued jobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

import pytest

from dispatch import queue
from dispatch.models import Caregiver, CarePlan, Client, Recurrence, Shift

# A Monday far from today, so that nothing treats it as "now".
DAY = date(2030, 1, 7)


def run_jobs() -> int:
    """Run every queued job in this process (burst); answers how many the worker processed."""
    conn = queue.redis_connection()
    q = queue.get_queue(conn)

    def done() -> int:
        return q.finished_job_registry.count + q.failed_job_registry.count

    before = done()
    queue.SimpleWorker([q], connection=conn).work(burst=True)
    return done() - before


@dataclass
class District:
    clients: list[Client] = field(default_factory=list)
    caregivers: list[Caregiver] = field(default_factory=list)
    plans: list[CarePlan] = field(default_factory=list)


def care_plan(world: Any, client: Client, service: str, **kw: Any) -> CarePlan:
    values: dict[str, Any] = {
        "recurrence": Recurrence.weekly,
        "days_of_week": [0, 1, 2, 3, 4, 5, 6],
        "start_date": date(2029, 12, 1),
        "window_start": time(9),
        "window_end": time(12),
        "duration_min": world.services[service].default_duration_min,
    }
    values.update(kw)
    row = CarePlan(
        provider_id=client.provider_id,
        client_id=client.id,
        service_type_id=world.services[service].id,
        **values,
    )
    world.db.add(row)
    world.db.flush()
    return row


@pytest.fixture
def district(world: Any) -> District:
    """Provider 1: six clients on two streets, three caregivers (plus the world's one)."""
    p = world.p1.provider
    d = District()
    d.caregivers.append(world.p1.caregiver)
    for i in range(3):
        d.caregivers.append(
            world.caregiver_at(
                p, f"CGX{i}", skills=("CLEAN", "BATH"), home_lat=29.30 + 0.01 * i, home_lon=120.07
            )
        )
    for i in range(6):
        street = "稠城街道" if i < 3 else "北苑街道"
        d.clients.append(
            world.client_at(
                p, f"CX{i}", street=street, lat=29.30 + 0.004 * i, lon=120.07 + 0.003 * i
            )
        )
    services = ["CLEAN", "CHAT", "WALK", "CLEAN", "VISIT", "CHAT"]
    for c, s in zip(d.clients, services, strict=True):
        d.plans.append(care_plan(world, c, s))
    # Requests end with Session.remove(): commit into the per-test outer transaction.
    world.db.commit()
    return d


def off_on(caregiver: Caregiver, day: date) -> None:
    caregiver.shifts.append(Shift(on_date=day, off=True))
