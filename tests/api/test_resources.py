"""CRUD of the plain nouns through HTTP: create, list, filter, page, change, deactivate, roles."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from dispatch.models import AuditEntry, User
from dispatch.security import verify_password

# One valid body per collection, for a provider-level caller (provider_id is implied).
BODIES: dict[str, dict[str, Any]] = {
    "clients": {
        "code": "C9001",
        "name": "陈桂芳",
        "address": "稠城街道 工人北路 12号",
        "lat": 29.31,
        "lon": 120.08,
    },
    "caregivers": {
        "code": "CG901",
        "name": "周丽",
        "gender": "female",
        "home_lat": 29.30,
        "home_lon": 120.06,
    },
    "service-points": {
        "code": "K1",
        "name": "稠城中心厨房",
        "kind": "kitchen",
        "lat": 29.305,
        "lon": 120.07,
    },
}


def test_client_lifecycle_with_audit(client, world, db):
    h = world.headers(world.p1.dispatcher)
    r = client.post("/api/v1/clients", headers=h, json=BODIES["clients"])
    assert r.status_code == 201, r.json
    cid = r.json["id"]
    assert r.json["provider_id"] == world.p1.provider.id

    r = client.patch(f"/api/v1/clients/{cid}", headers=h, json={"care_level": 3})
    assert r.status_code == 200 and r.json["care_level"] == 3

    r = client.delete(f"/api/v1/clients/{cid}", headers=h)
    assert r.status_code == 204
    r = client.get(f"/api/v1/clients/{cid}", headers=h)
    assert r.status_code == 200 and r.json["active"] is False

    entries = db.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_type == "clients", AuditEntry.entity_id == cid)
        .order_by(AuditEntry.id)
    ).all()
    assert [e.action for e in entries] == ["create", "update", "deactivate"]
    assert all(e.actor_user_id == world.p1.dispatcher.id for e in entries)
    assert entries[0].after["code"] == "C9001" and entries[0].before is None
    assert entries[1].before == {"care_level": 0} and entries[1].after == {"care_level": 3}
    assert entries[2].before == {"active": True} and entries[2].after == {"active": False}


def test_list_is_paged_and_filtered(client, world):
    h = world.headers(world.p1.dispatcher)
    for n in range(3):
        body = {**BODIES["clients"], "code": f"C90{n}", "street": "北苑街道"}
        assert client.post("/api/v1/clients", headers=h, json=body).status_code == 201
    r = client.get("/api/v1/clients?street=北苑街道&page=1&page_size=2", headers=h)
    assert r.status_code == 200
    assert len(r.json) == 2
    assert json.loads(r.headers["X-Pagination"])["total"] == 3
    r = client.get("/api/v1/clients?street=北苑街道&page=2&page_size=2", headers=h)
    assert len(r.json) == 1
    r = client.get("/api/v1/clients?code=C901", headers=h)
    assert [c["code"] for c in r.json] == ["C901"]


def test_caregiver_with_skills_certificates_and_shifts(client, world):
    h = world.headers(world.p1.dispatcher)
    r = client.post("/api/v1/caregivers", headers=h, json=BODIES["caregivers"])
    assert r.status_code == 201, r.json
    gid = r.json["id"]
    assert r.json["skills"] == []
    assert (
        client.post(
            f"/api/v1/caregivers/{gid}/skills", headers=h, json={"skill": "FOOTCARE"}
        ).status_code
        == 201
    )
    r = client.post(
        f"/api/v1/caregivers/{gid}/certificates",
        headers=h,
        json={
            "kind": "养老护理员证",
            "skill": "BATH",
            "issued_on": "2020-01-01",
            "expires_on": "2021-01-01",
        },
    )
    assert r.status_code == 201, r.json
    assert r.json["expired"] is True
    r = client.post(
        f"/api/v1/caregivers/{gid}/shifts",
        headers=h,
        json={"weekday": 0, "start_time": "08:00", "end_time": "17:00"},
    )
    assert r.status_code == 201, r.json
    r = client.get(f"/api/v1/caregivers/{gid}", headers=h)
    assert r.json["skills"] == ["FOOTCARE"]
    r = client.get("/api/v1/caregivers?skill=FOOTCARE", headers=h)
    assert [c["id"] for c in r.json] == [gid]
    shifts = client.get(f"/api/v1/caregivers/{gid}/shifts", headers=h).json
    assert shifts[0]["start_time"] == "08:00:00"


def test_care_plan_refers_to_own_rows(client, world):
    h = world.headers(world.p1.dispatcher)
    body = {
        "client_id": world.p1.client.id,
        "service_type_id": world.services["CLEAN"].id,
        "recurrence": "weekly",
        "days_of_week": [0, 3],
        "start_date": "2026-11-01",
        "window_start": "09:00",
        "window_end": "11:00",
        "duration_min": 60,
        "preferred_caregiver_id": world.p1.caregiver.id,
    }
    r = client.post("/api/v1/care-plans", headers=h, json=body)
    assert r.status_code == 201, r.json
    r = client.get(f"/api/v1/care-plans?client_id={world.p1.client.id}", headers=h)
    assert len(r.json) == 1


def test_service_types_are_read_by_all_and_kept_by_admins(client, world):
    r = client.get("/api/v1/service-types", headers=world.headers(world.p1.caregiver_user))
    assert r.status_code == 200
    assert [s["code"] for s in r.json][:2] == ["BATH", "CALL"]  # ordered by code
    body = {
        "code": "FOOT",
        "name": "足疗",
        "default_duration_min": 30,
        "billing_unit": "hour",
        "rate": "45.00",
    }
    r = client.post(
        "/api/v1/service-types", headers=world.headers(world.p1.provider_admin), json=body
    )
    assert r.status_code == 403 and r.json["code"] == "FORBIDDEN"
    r = client.post("/api/v1/service-types", headers=world.headers(world.admin), json=body)
    assert r.status_code == 201 and r.json["rate"] == "45.00"
    r = client.post("/api/v1/service-types", headers=world.headers(world.admin), json=body)
    assert r.status_code == 409 and r.json["code"] == "CONFLICT"


def test_providers_admin_only_writes_and_staff_see_their_own(client, world):
    r = client.get("/api/v1/providers", headers=world.headers(world.p1.dispatcher))
    assert [p["id"] for p in r.json] == [world.p1.provider.id]
    r = client.get("/api/v1/providers", headers=world.headers(world.finance))
    assert len(r.json) >= 2
    body = {"code": "P9", "name": "义乌市第九居家养老服务中心"}
    r = client.post("/api/v1/providers", headers=world.headers(world.p1.provider_admin), json=body)
    assert r.status_code == 403
    r = client.post("/api/v1/providers", headers=world.headers(world.admin), json=body)
    assert r.status_code == 201 and r.json["timezone"] == "Asia/Shanghai"


def test_platform_user_must_name_the_provider(client, world):
    r = client.post("/api/v1/clients", headers=world.headers(world.admin), json=BODIES["clients"])
    assert r.status_code == 422 and r.json["code"] == "PROVIDER_REQUIRED"
    body = {**BODIES["clients"], "provider_id": world.p2.provider.id}
    r = client.post("/api/v1/clients", headers=world.headers(world.admin), json=body)
    assert r.status_code == 201 and r.json["provider_id"] == world.p2.provider.id


@pytest.mark.parametrize("path", ["/api/v1/clients", "/api/v1/caregivers", "/api/v1/care-plans"])
def test_caregiver_role_may_not_list_staff_records(client, world, path):
    r = client.get(path, headers=world.headers(world.p1.caregiver_user))
    assert r.status_code == 403
    assert r.json["code"] == "FORBIDDEN"


def test_finance_reads_but_does_not_write_clients(client, world):
    h = world.headers(world.finance)
    assert client.get("/api/v1/clients", headers=h).status_code == 200
    body = {**BODIES["clients"], "provider_id": world.p1.provider.id}
    assert client.post("/api/v1/clients", headers=h, json=body).status_code == 403


# --- users -----------------------------------------------------------------------------------


def new_user(**kw: Any) -> dict[str, Any]:
    return {"username": "newbie", "password": "long enough pw", "role": "dispatcher", **kw}


def test_provider_admin_creates_staff_of_own_provider(client, world, db):
    h = world.headers(world.p1.provider_admin)
    r = client.post("/api/v1/users", headers=h, json=new_user())
    assert r.status_code == 201, r.json
    assert r.json["provider_id"] == world.p1.provider.id
    assert "password" not in r.json and "password_hash" not in r.json
    user = db.get(User, r.json["id"])
    assert user.password_hash.startswith("$argon2")
    assert verify_password(user.password_hash, "long enough pw")
    entry = db.scalars(
        select(AuditEntry).where(AuditEntry.entity_type == "users", AuditEntry.entity_id == user.id)
    ).one()
    assert "password_hash" not in entry.after and entry.actor_user_id == world.p1.provider_admin.id


@pytest.mark.parametrize("role", ["finance", "admin"])
def test_provider_admin_may_not_create_platform_users(client, world, db, role):
    before = db.scalar(select(func.count(User.id)))
    r = client.post(
        "/api/v1/users", headers=world.headers(world.p1.provider_admin), json=new_user(role=role)
    )
    assert r.status_code == 403 and r.json["code"] == "ROLE_NOT_GRANTABLE"
    assert db.scalar(select(func.count(User.id))) == before


def test_provider_admin_may_not_create_users_of_another_provider(client, world, db):
    before = db.scalar(select(func.count(User.id)))
    body = new_user(provider_id=world.p2.provider.id)
    r = client.post("/api/v1/users", headers=world.headers(world.p1.provider_admin), json=body)
    assert r.status_code == 404 and r.json["code"] == "PROVIDER_NOT_FOUND"
    assert db.scalar(select(func.count(User.id))) == before


def test_provider_admin_cannot_promote_to_platform_role(client, world):
    r = client.patch(
        f"/api/v1/users/{world.p1.dispatcher.id}",
        headers=world.headers(world.p1.provider_admin),
        json={"role": "admin"},
    )
    assert r.status_code == 403


def test_provider_admin_sees_only_own_users(client, world):
    r = client.get("/api/v1/users?page_size=100", headers=world.headers(world.p1.provider_admin))
    assert r.status_code == 200
    assert {u["provider_id"] for u in r.json} == {world.p1.provider.id}
    r = client.get("/api/v1/users", headers=world.headers(world.p1.dispatcher))
    assert r.status_code == 403


def test_caregiver_user_links_to_a_caregiver_of_the_same_provider(client, world, db):
    h = world.headers(world.p1.provider_admin)
    r = client.post("/api/v1/users", headers=h, json=new_user(role="caregiver"))
    assert r.status_code == 422 and r.json["code"] == "CAREGIVER_REQUIRED"
    body = new_user(role="caregiver", caregiver_id=world.p2.caregiver.id)
    r = client.post("/api/v1/users", headers=h, json=body)
    assert r.status_code == 422 and r.json["code"] == "REFERENCE_NOT_FOUND"
    body = new_user(role="caregiver", caregiver_id=world.p1.caregiver.id)
    r = client.post("/api/v1/users", headers=h, json=body)
    assert r.status_code == 409 and r.json["code"] == "CAREGIVER_ALREADY_LINKED"
    other = client.post(
        "/api/v1/caregivers", headers=world.headers(world.p1.dispatcher), json=BODIES["caregivers"]
    )
    body = new_user(role="caregiver", caregiver_id=other.json["id"])
    r = client.post("/api/v1/users", headers=h, json=body)
    assert r.status_code == 201, r.json
    body = new_user(username="d2", caregiver_id=other.json["id"])
    r = client.post("/api/v1/users", headers=h, json=body)
    assert r.status_code == 422 and r.json["code"] == "CAREGIVER_NOT_ALLOWED"


def test_admin_creates_platform_users_without_provider(client, world):
    h = world.headers(world.admin)
    r = client.post("/api/v1/users", headers=h, json=new_user(role="finance"))
    assert r.status_code == 201 and r.json["provider_id"] is None
    body = new_user(username="f2", role="finance", provider_id=world.p1.provider.id)
    r = client.post("/api/v1/users", headers=h, json=body)
    assert r.status_code == 422 and r.json["code"] == "PLATFORM_USER_HAS_PROVIDER"
    r = client.post("/api/v1/users", headers=h, json=new_user(username="d3"))
    assert r.status_code == 422 and r.json["code"] == "PROVIDER_REQUIRED"
    body = new_user(username="d4", provider_id=999_999)
    r = client.post("/api/v1/users", headers=h, json=body)
    assert r.status_code == 422 and r.json["code"] == "REFERENCE_NOT_FOUND"


def test_username_clash_and_short_password(client, world):
    h = world.headers(world.admin)
    r = client.post(
        "/api/v1/users",
        headers=h,
        json=new_user(username="dispatcher2", provider_id=world.p1.provider.id),
    )
    assert r.status_code == 409 and r.json["code"] == "USERNAME_TAKEN"
    r = client.post(
        "/api/v1/users",
        headers=h,
        json=new_user(password="short", provider_id=world.p1.provider.id),
    )
    assert r.status_code == 422 and r.json["code"] == "PASSWORD_TOO_SHORT"


def test_password_change_bumps_token_version_and_is_audited(client, world, db):
    uid = world.p1.dispatcher.id
    r = client.patch(
        f"/api/v1/users/{uid}",
        headers=world.headers(world.p1.provider_admin),
        json={"password": "another long one"},
    )
    assert r.status_code == 200
    db.expire_all()
    assert db.get(User, uid).token_version == 1
    entry = db.scalars(
        select(AuditEntry).where(AuditEntry.entity_type == "users", AuditEntry.entity_id == uid)
    ).one()
    assert entry.reason == "password changed"
    assert entry.before == {"token_version": 0} and entry.after == {"token_version": 1}


def test_nobody_deactivates_themselves(client, world):
    uid = world.p1.provider_admin.id
    r = client.delete(f"/api/v1/users/{uid}", headers=world.headers(world.p1.provider_admin))
    assert r.status_code == 409 and r.json["code"] == "SELF_DEACTIVATION"


def test_text_search_treats_wildcards_literally(client, world):
    h = world.headers(world.p1.dispatcher)
    assert len(client.get("/api/v1/clients?q=秀", headers=h).json) == 1
    # Unescaped, LIKE '%%%' would match every client.
    assert client.get("/api/v1/clients?q=%25", headers=h).json == []
    assert client.get("/api/v1/clients?q=_", headers=h).json == []


def test_users_filter_by_role(client, world):
    r = client.get("/api/v1/users?role=caregiver", headers=world.headers(world.admin))
    assert {u["username"] for u in r.json} == {"caregiver1_1", "caregiver2_1"}
    r = client.get("/api/v1/users?role=caregiver", headers=world.headers(world.p1.provider_admin))
    assert [u["caregiver_id"] for u in r.json] == [world.p1.caregiver.id]
