"""The issue's "done when", as a new user would try it: log in, route, check in/out, sync."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import func, select

from dispatch.models import Photo, VisitEvent, VisitStatus, WorkOrder
from dispatch.services.evv import local_today
from tests.conftest import PASSWORD
from tests.evv.conftest import Evv, jpeg


def test_caregiver_day_end_to_end(evv: Evv) -> None:
    w = evv.world
    today = local_today()
    visits = [
        evv.visit(day=today, start_hour=8 + 2 * i, sequence=i + 1, duration_min=45)
        for i in range(4)
    ]
    w.db.commit()

    login = evv.client.post(
        "/api/v1/auth/login", json={"username": "caregiver1_1", "password": PASSWORD}
    )
    assert login.status_code == 200, login.json
    token = {"Authorization": f"Bearer {login.json['access_token']}"}
    route = evv.client.get("/api/v1/me/visits", headers=token)
    assert [v["id"] for v in route.json] == [v.id for v in visits]

    # Two visits live, with photos; each request then replayed.
    answers = []
    for i, v in enumerate(route.json[:2]):
        start = datetime.fromisoformat(v["planned_start"])
        for kind, at_, extra in (
            ("check-in", start, {}),
            ("check-out", start + timedelta(minutes=44), {"outcome": "completed"}),
        ):
            event = evv.event(when=at_, **extra)
            photo = jpeg(seed=100 + 2 * i + (kind == "check-out"))
            first = evv.post(v["id"], kind, event, photo=photo)
            assert first.status_code == 201, first.json
            answers.append((v["id"], kind, event, photo, first.json))
    for visit_id, kind, event, photo, body in answers:
        again = evv.post(visit_id, kind, event, photo=photo)
        assert (again.status_code, again.json) == (200, body)

    # The other two offline: one completed, one client absent; shuffled, sent twice.
    batch, photos = [], {}
    for i, v in enumerate(route.json[2:]):
        start = datetime.fromisoformat(v["planned_start"])
        for kind, at_ in (("check_in", start), ("check_out", start + timedelta(minutes=50))):
            name = f"p{i}{kind}"
            photos[name] = jpeg(seed=120 + 2 * i + (kind == "check_out"))
            event = evv.event(when=at_, visit_id=v["id"], kind=kind, photo=name, offline=True)
            if kind == "check_out":
                event["outcome"] = "completed" if i == 0 else "client_absent"
            batch.append(event)
    random.Random(3).shuffle(batch)
    first = evv.sync(batch, photos)
    assert [r["status"] for r in first.json["results"]] == ["created"] * 4
    random.Random(4).shuffle(batch)
    second = evv.sync(batch, photos)
    assert [r["status"] for r in second.json["results"]] == ["duplicate"] * 4

    db = w.db
    assert db.scalar(select(func.count()).select_from(VisitEvent)) == 8  # one per real action
    assert db.scalar(select(func.count()).select_from(Photo)) == 8
    orders = db.scalars(select(WorkOrder).order_by(WorkOrder.visit_id)).all()
    assert [o.visit_id for o in orders] == [v.id for v in visits[:3]]
    assert [o.billable_min for o in orders] == [44, 44, 50]
    route = evv.client.get("/api/v1/me/visits", headers=token).json
    assert [(v["status"], v["outcome"]) for v in route] == [
        (VisitStatus.completed.value, "completed"),
        (VisitStatus.completed.value, "completed"),
        (VisitStatus.completed.value, "completed"),
        (VisitStatus.completed.value, "client_absent"),
    ]
