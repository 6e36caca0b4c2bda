"""HTTP: flags list with filters and tenancy, rules GET/PATCH (admin, audited), batch, funnel."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from dispatch.models import AppealState, AuditEntry, WorkOrder, WorkOrderStatus
from dispatch.queue import SimpleWorker, get_queue
from tests.factories import T0, Builder

# The rule table of SPEC.md, "Verification and validation rules".
SPEC_CODES = (
    "MISSING_CHECKIN",
    "MISSING_CHECKOUT",
    "GEOFENCE_IN",
    "GEOFENCE_OUT",
    "GPS_POOR",
    "MOCK_LOCATION",
    "SHORT_VISIT",
    "LONG_VISIT",
    "OFF_SCHEDULE",
    "OVERLAP",
    "IMPOSSIBLE_TRAVEL",
    "DUPLICATE",
    "PHOTO_REUSED",
    "PHOTO_MISSING",
    "PHOTO_STALE",
    "SKILL_MISMATCH",
    "CLIENT_ABSENT",
    "OVER_ENTITLEMENT",
    "DAILY_HOURS",
    "UNSCHEDULED",
    "LATE_SYNC",
    "CALLBACK_DENIED",  # Supervision: a call-back says the service did not take place
    # canteen meals (#19): the same engine's registry, subject "meal"
    "DUPLICATE_MEAL",
    "MEAL_OUTSIDE_HOURS",
)


def test_flags_list_filters_and_tenancy(b: Builder, client, world, db) -> None:
    o = b.order(minutes=30)
    b.order(minutes=30, caregiver=world.p2.caregiver, client=world.p2.client)
    db.commit()  # requests end with Session.remove(); commit into the per-test transaction
    h = world.headers(world.finance)
    r = client.get(f"/api/v1/flags?work_order_id={o.id}&status=open", headers=h)
    assert r.status_code == 200, r.json
    assert [f["code"] for f in r.json] == ["SHORT_VISIT"]
    assert r.json[0]["evidence"]["planned_min"] == 45
    r = client.get("/api/v1/flags?code=SHORT_VISIT", headers=h)
    assert json.loads(r.headers["X-Pagination"])["total"] == 2
    # a provider sees only its own orders' flags
    r = client.get("/api/v1/flags?code=SHORT_VISIT", headers=world.headers(world.p2.provider_admin))
    assert len(r.json) == 1 and r.json[0]["work_order_id"] != o.id
    assert client.get("/api/v1/flags?severity=nope", headers=h).status_code == 422
    r = client.get("/api/v1/flags", headers=world.headers(world.p1.caregiver_user))
    assert r.status_code == 403


def test_rules_list_and_patch_is_audited(client, world, db) -> None:
    db.commit()
    h = world.headers(world.admin)
    rules = {r["code"]: r for r in client.get("/api/v1/rules", headers=h).json}
    assert rules["GEOFENCE_IN"]["threshold"] == 200 and rules["OVERLAP"]["severity"] == "block"
    assert set(rules) == set(SPEC_CODES)
    r = client.patch(
        "/api/v1/rules/GEOFENCE_IN", json={"threshold": 300, "reason": "新城区楼距大"}, headers=h
    )
    assert r.status_code == 200 and r.json["threshold"] == 300
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "rule.update")).one()
    assert entry.before["threshold"] == 200 and entry.after["threshold"] == 300
    r = client.patch(
        "/api/v1/rules/GEOFENCE_IN", json={"severity": "block", "enabled": False}, headers=h
    )
    assert (r.json["severity"], r.json["enabled"]) == ("block", False)


def test_rules_patch_rejects_bad_thresholds_and_non_admins(client, world, db) -> None:
    db.commit()
    h = world.headers(world.admin)
    for body in ({"threshold": -5}, {"threshold": "far"}, {"severity": "fatal"}, {"x": 1}):
        r = client.patch("/api/v1/rules/GEOFENCE_IN", json=body, headers=h)
        assert r.status_code == 422, body
    r = client.patch("/api/v1/rules/MISSING_CHECKIN", json={"threshold": 3}, headers=h)
    assert r.status_code == 422 and r.json["code"] == "INVALID_THRESHOLD"
    assert client.patch("/api/v1/rules/NOPE", json={"enabled": False}, headers=h).status_code == 404
    r = client.patch(
        "/api/v1/rules/GEOFENCE_IN", json={"threshold": 300}, headers=world.headers(world.finance)
    )
    assert r.status_code == 403


def test_revalidate_runs_a_batch_job(b: Builder, client, world, db) -> None:
    o = b.order(minutes=30, validate=False)
    db.commit()
    body = {
        "from": (T0 - timedelta(days=1)).isoformat(),
        "to": (T0 + timedelta(days=1)).isoformat(),
    }
    r = client.post("/api/v1/rules:revalidate", json=body, headers=world.headers(world.finance))
    assert r.status_code == 202, r.json
    huge = {**body, "provider_id": 2**40}
    r_huge = client.post("/api/v1/rules:revalidate", json=huge, headers=world.headers(world.admin))
    assert r_huge.status_code == 422
    bad = {"from": body["to"], "to": body["from"]}
    assert (
        client.post(
            "/api/v1/rules:revalidate", json=bad, headers=world.headers(world.admin)
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/api/v1/rules:revalidate", json=body, headers=world.headers(world.p1.dispatcher)
        ).status_code
        == 403
    )
    queue = get_queue()
    job = queue.fetch_job(r.json["job_id"])
    assert job is not None and job.args[2] is None
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    assert job.get_status(refresh=True) == "finished", job.exc_info
    assert job.return_value()["open_findings_by_code"] == {"SHORT_VISIT": 1}
    assert db.get(WorkOrder, o.id).status == WorkOrderStatus.flagged


def test_funnel(b: Builder, client, world, db) -> None:
    normal = b.order()
    short = b.order(minutes=30, start=T0 + timedelta(hours=2))  # abnormal
    appealed = b.order(minutes=30, start=T0 + timedelta(hours=4))  # abnormal, appeal upheld
    b.order(caregiver=world.p2.caregiver, client=world.p2.client)
    normal.status, normal.billable_min = WorkOrderStatus.billed, 45
    appealed.appeal_state = AppealState.upheld
    db.commit()
    h = world.headers(world.finance)
    r = client.get("/api/v1/reports/funnel?from=2026-11-16&to=2026-11-16", headers=h)
    assert r.status_code == 200, r.json
    j = r.json
    assert (j["generated"], j["normal"], j["abnormal"], j["appealed"], j["not_billed"]) == (
        4,
        2,
        2,
        1,
        1,
    )
    assert (j["billed"], j["billed_hours"]) == (1, 0.75)
    assert [p["generated"] for p in j["by_provider"]] == [3, 1]
    r = client.get(
        f"/api/v1/reports/funnel?from=2026-11-16&to=2026-11-16&provider_id={world.p2.provider.id}",
        headers=world.headers(world.p1.provider_admin),
    )
    assert r.status_code == 404
    r = client.get(
        "/api/v1/reports/funnel?from=2026-11-16&to=2026-11-16",
        headers=world.headers(world.p2.provider_admin),
    )
    assert r.json["generated"] == 1
    for bad in ("from=2026-11-17&to=2026-11-16", "from=0001-01-01&to=9999-12-31", "from=x&to=y"):
        assert client.get(f"/api/v1/reports/funnel?{bad}", headers=h).status_code == 422, bad
    assert short.id
