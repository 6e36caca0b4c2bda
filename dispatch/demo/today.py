"""Today in the demo district up to now: caregivers check in and out of the visits that began
before now, through the real EVV service (photos, validation); a few are late, one is missed."""

from __future__ import annotations

import logging
import random
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from dispatch import config
from dispatch.demo.history import photo_bytes
from dispatch.demo.seed import demo_providers
from dispatch.models import (
    Client,
    EventKind,
    ServiceType,
    User,
    Visit,
    VisitEvent,
    VisitOutcome,
    VisitStatus,
)
from dispatch.models import Role as R
from dispatch.services import checkins
from dispatch.tenancy import Actor

log = logging.getLogger(__name__)

LATE_SHARE = 0.06  # of the visits: checked in 20-40 min late, or not yet when recent
MISSED_SHARE = 0.08  # of the visits whose window is over: candidates for the day's one miss
STILL_LATE_WITHIN = timedelta(minutes=90)  # a late visit this recent has no check-in yet
LATE_AFTER = timedelta(minutes=20)  # past the board's 15 minutes: it shows late


def _where(rng: random.Random, client: Client) -> tuple[float, float]:
    return (
        round(client.lat + rng.uniform(-0.0002, 0.0002), 6),
        round(client.lon + rng.uniform(-0.0002, 0.0002), 6),
    )


def run_today(session: Session, seed: int, now: datetime) -> dict[str, int]:
    """Check in and out of today's visits that began before ``now``; idempotent."""
    day = now.astimezone(config.zone()).date()
    rng = random.Random(f"{seed}:today:{day.isoformat()}")
    pids = [p.id for p in demo_providers(session)]
    visits = list(
        session.scalars(
            select(Visit)
            .options(selectinload(Visit.assignments))
            .where(
                Visit.provider_id.in_(pids),
                Visit.date == day,
                Visit.status.in_((VisitStatus.published, VisitStatus.in_progress)),
            )
            .order_by(Visit.planned_start_at, Visit.id)
        )
    )
    users = {
        u.caregiver_id: u
        for u in session.scalars(select(User).where(User.role == R.caregiver))
        if u.caregiver_id
    }
    clients = {c.id: c for c in session.scalars(select(Client).where(Client.provider_id.in_(pids)))}
    services = {s.id: s for s in session.scalars(select(ServiceType))}
    started = set(
        session.scalars(
            select(VisitEvent.visit_id).where(VisitEvent.visit_id.in_([v.id for v in visits]))
        )
    )
    counts = {"checked_in": 0, "checked_out": 0, "late": 0, "missed": 0}
    missed_taken = False
    for v in visits:
        fate, delay, length = rng.random(), rng.uniform(0, 3), rng.uniform(0.85, 1.0)
        planned = v.planned_start_at
        if planned is None or planned >= now or v.id in started:
            continue
        if not missed_taken and v.window_end_at < now and fate < MISSED_SHARE:
            missed_taken = True  # nobody comes: the board shows it missed
            counts["missed"] += 1
            continue
        recent = now - planned < STILL_LATE_WITHIN and now - planned > LATE_AFTER
        if fate > 1 - LATE_SHARE or (recent and counts["late"] < 2):
            if recent:
                counts["late"] += 1  # not there yet: the board shows it late
                continue
            delay = 20 + 20 * (1 - fate) / LATE_SHARE
        check_in = min(planned + timedelta(minutes=delay), now - timedelta(minutes=1))
        check_out = check_in + timedelta(minutes=v.duration_min * length)
        if delay < 20:
            # On time: done by the planned end, so the way to the next visit is as planned.
            check_out = min(check_out, planned + timedelta(minutes=v.duration_min))
        client = clients[v.client_id]
        photo_required = services[v.service_type_id].photo_required
        for a in v.assignments:
            user = users.get(a.caregiver_id)
            actor = Actor(user.id if user else None, R.caregiver, v.provider_id, a.caregiver_id)
            for kind, at in ((EventKind.check_in, check_in), (EventKind.check_out, check_out)):
                if at >= now:
                    continue
                lat, lon = _where(rng, client)
                data = {
                    "idempotency_key": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "device_time": at,
                    "lat": lat,
                    "lon": lon,
                    "accuracy_m": round(rng.uniform(5, 20), 1),
                    "crs": "wgs84",
                    "mock_location": False,
                    "device_id": f"demo-phone-{a.caregiver_id}",
                    "offline": False,
                }
                if kind == EventKind.check_out:
                    data["outcome"] = VisitOutcome.completed.value
                    data["tasks_done"] = ["服务完成"]
                photo = None
                if photo_required:
                    photo = photo_bytes(rng, f"{at.astimezone(config.zone()):%m-%d %H:%M} #{v.id}")
                checkins.record_event(session, actor, v.id, kind, data, photo)
                counts["checked_in" if kind == EventKind.check_in else "checked_out"] += 1
    session.flush()
    log.info("demo today until %s: %s", now.astimezone(config.zone()).strftime("%H:%M"), counts)
    return counts
