"""Bad input on every POST and PATCH of the plain nouns: a coded 4xx, no 500, nothing stored."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select

from dispatch.models import (
    AuditEntry,
    CaregiverSkill,
    CarePlan,
    Certificate,
    Client,
    ClientAbsence,
    ClientRefusal,
    Provider,
    ServicePoint,
    ServiceType,
    Shift,
    User,
)
from dispatch.models import Caregiver as CaregiverModel
from tests.conftest import World


@dataclass(frozen=True)
class Endpoint:
    collection: Callable[[World], str]
    user: Callable[[World], Any]
    model: type[Any]
    body: Callable[[World], dict[str, Any]]
    wrong_type: tuple[str, Any]  # a field and a value of the wrong JSON type
    patch: dict[str, Any] = field(default_factory=dict)  # a valid PATCH body


def staff(w: World) -> Any:
    return w.p1.dispatcher


ENDPOINTS: dict[str, Endpoint] = {
    "providers": Endpoint(
        lambda w: "/api/v1/providers",
        lambda w: w.admin,
        Provider,
        lambda w: {"code": "P9", "name": "义乌市第九居家养老服务中心"},
        ("name", 5),
        {"district": "金华市"},
    ),
    "users": Endpoint(
        lambda w: "/api/v1/users",
        lambda w: w.p1.provider_admin,
        User,
        lambda w: {"username": "newbie", "password": "long enough pw", "role": "dispatcher"},
        ("role", 3),
        {"display_name": "新调度"},
    ),
    "clients": Endpoint(
        lambda w: "/api/v1/clients",
        staff,
        Client,
        lambda w: {
            "code": "C9",
            "name": "陈桂芳",
            "address": "宾王路 1号",
            "lat": 29.3,
            "lon": 120.1,
        },
        ("care_level", "high"),
        {"care_level": 3},
    ),
    "caregivers": Endpoint(
        lambda w: "/api/v1/caregivers",
        staff,
        CaregiverModel,
        lambda w: {
            "code": "G9",
            "name": "周丽",
            "gender": "female",
            "home_lat": 29.3,
            "home_lon": 120.0,
        },
        ("max_minutes_per_day", "lots"),
        {"travel_mode": "walk"},
    ),
    "service-types": Endpoint(
        lambda w: "/api/v1/service-types",
        lambda w: w.admin,
        ServiceType,
        lambda w: {
            "code": "FOOT",
            "name": "足疗",
            "default_duration_min": 30,
            "billing_unit": "hour",
            "rate": "45.00",
        },
        ("photo_required", "sometimes"),
        {"rate": "50.00"},
    ),
    "service-points": Endpoint(
        lambda w: "/api/v1/service-points",
        staff,
        ServicePoint,
        lambda w: {"code": "K9", "name": "中心厨房", "kind": "kitchen", "lat": 29.3, "lon": 120.0},
        ("kind", ["kitchen"]),
        {"name": "新厨房"},
    ),
    "care-plans": Endpoint(
        lambda w: "/api/v1/care-plans",
        staff,
        CarePlan,
        lambda w: {
            "client_id": w.p1.client.id,
            "service_type_id": w.services["CLEAN"].id,
            "recurrence": "weekly",
            "days_of_week": [0, 3],
            "start_date": "2026-11-01",
            "window_start": "09:00",
            "window_end": "11:00",
            "duration_min": 60,
        },
        ("days_of_week", "monday"),
        {"duration_min": 45},
    ),
    "absences": Endpoint(
        lambda w: f"/api/v1/clients/{w.p1.client.id}/absences",
        staff,
        ClientAbsence,
        lambda w: {
            "start_at": "2026-11-23T00:00:00+08:00",
            "end_at": "2026-11-25T00:00:00+08:00",
            "reason": "hospital",
        },
        ("start_at", 20261123),
        {"note": "住院"},
    ),
    "refusals": Endpoint(
        lambda w: f"/api/v1/clients/{w.p1.client.id}/refusals",
        staff,
        ClientRefusal,
        lambda w: {"caregiver_id": w.p1.caregiver.id},
        ("caregiver_id", "CG101"),
        {"reason": "不合适"},
    ),
    "skills": Endpoint(
        lambda w: f"/api/v1/caregivers/{w.p1.caregiver.id}/skills",
        staff,
        CaregiverSkill,
        lambda w: {"skill": "CHAT"},
        ("skill", 5),
        {"skill": "WALK"},
    ),
    "certificates": Endpoint(
        lambda w: f"/api/v1/caregivers/{w.p1.caregiver.id}/certificates",
        staff,
        Certificate,
        lambda w: {"kind": "健康证", "issued_on": "2024-01-01", "expires_on": "2027-01-01"},
        ("expires_on", True),
        {"number": "A123"},
    ),
    "shifts": Endpoint(
        lambda w: f"/api/v1/caregivers/{w.p1.caregiver.id}/shifts",
        staff,
        Shift,
        lambda w: {"on_date": "2026-11-24", "start_time": "08:00", "end_time": "12:00"},
        ("off", "maybe"),
        {"end_time": "13:00"},
    ),
}
NAMES = sorted(ENDPOINTS)


def counts(db: Any, model: type[Any]) -> tuple[int, int]:
    return (
        db.scalar(select(func.count()).select_from(model)),
        db.scalar(select(func.count()).select_from(AuditEntry)),
    )


def create(client: Any, world: World, ep: Endpoint) -> str:
    """POST the valid body; answers the new row's URL."""
    r = client.post(
        ep.collection(world), headers=world.headers(ep.user(world)), json=ep.body(world)
    )
    assert r.status_code == 201, r.json
    return f"{ep.collection(world)}/{r.json['id']}"


def assert_rejected(r: Any, status: int = 422, code: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True))
    body = r.get_json()
    assert body["code"] and body["message"]
    if code:
        assert body["code"] == code, body
    return body


def send(client: Any, world: World, ep: Endpoint, method: str, url: str, **kw: Any) -> Any:
    return client.open(url, method=method, headers=world.headers(ep.user(world)), **kw)


@pytest.fixture(params=[(n, m) for n in NAMES for m in ("POST", "PATCH")], ids=str)
def target(request: Any, client: Any, world: World, db: Any) -> tuple[Endpoint, str, str, Any]:
    """(endpoint, method, url, snapshot function) for one POST or PATCH, with a row to patch."""
    name, method = request.param
    ep = ENDPOINTS[name]
    url = ep.collection(world) if method == "POST" else create(client, world, ep)
    headers = world.headers(ep.user(world))

    def snapshot() -> Any:
        row = client.get(url, headers=headers).get_json() if method == "PATCH" else None
        if "/skills" in url or "/certificates" in url or "/shifts" in url or "/absences" in url:
            row = None  # child rows have no GET of their own; counts and audit still apply
        if "/refusals" in url:
            row = None
        return counts(db, ep.model), row

    return ep, method, url, snapshot


@pytest.mark.parametrize("name", NAMES)
def test_the_valid_body_is_accepted(client, world, name):
    # The bad-input cases below start from this body; it must itself be good.
    ep = ENDPOINTS[name]
    url = create(client, world, ep)
    r = send(client, world, ep, "PATCH", url, json=ep.patch)
    assert r.status_code == 200, r.json


def test_generic_bad_input(client, world, target):
    """Each case on the same endpoint, one world: the cases do not depend on each other."""
    ep, method, url, snapshot = target
    before = snapshot()
    base = ep.body(world) if method == "POST" else ep.patch

    def bad(**kw: Any) -> Any:
        return send(client, world, ep, method, url, **kw)

    # malformed JSON
    assert_rejected(bad(data='{"name": ', content_type="application/json"), 400, "MALFORMED_JSON")
    # an unknown field, named in errors
    errors = assert_rejected(bad(json={**base, "colour": "blue"}), 422, "VALIDATION_ERROR")
    assert errors["errors"] == {"colour": ["Unknown field."]}
    # a value of the wrong JSON type
    name, value = ep.wrong_type
    errors = assert_rejected(bad(json={**base, name: value}), 422, "VALIDATION_ERROR")
    assert name in errors["errors"]
    # a body that is not an object
    for body in ([1, 2], "text", 5):
        r = bad(json=body)
        assert 400 <= r.status_code < 500 and r.get_json()["code"], (body, r.status_code)
    r = bad(json=None)
    # webargs reads a JSON null as "no body": an empty PATCH, which changes nothing.
    assert r.status_code == (200 if method == "PATCH" else 422)
    # a number beyond the 32-bit columns, and a NUL that PostgreSQL text cannot hold
    int_field = next((k for k, v in base.items() if isinstance(v, int)), None)
    str_field = next((k for k, v in base.items() if isinstance(v, str)), None)
    assert int_field or str_field
    if int_field:
        assert_rejected(bad(json={**base, int_field: 2**40}), 422)
    if str_field:
        assert_rejected(bad(json={**base, str_field: "a\x00b"}), 422)
    assert snapshot() == before


# (endpoint, method, change to the valid body, status, code, field named in errors)
SPECIFIC: list[tuple[str, str, Callable[[World], dict[str, Any]], int, str, str]] = [
    ("clients", "POST", lambda w: {"lat": 91}, 422, "VALIDATION_ERROR", "lat"),
    ("clients", "PATCH", lambda w: {"lon": -180.5}, 422, "VALIDATION_ERROR", "lon"),
    ("caregivers", "POST", lambda w: {"home_lon": 181}, 422, "VALIDATION_ERROR", "home_lon"),
    ("caregivers", "PATCH", lambda w: {"home_lat": -90.01}, 422, "VALIDATION_ERROR", "home_lat"),
    ("service-points", "POST", lambda w: {"lat": float("inf")}, 422, "VALIDATION_ERROR", "lat"),
    (
        "caregivers",
        "POST",
        lambda w: {"break_earliest": "13:00", "break_latest": "11:00"},
        422,
        "VALIDATION_ERROR",
        "break_latest",
    ),
    (
        "caregivers",
        "POST",
        lambda w: {"break_earliest": "11:00"},
        422,
        "INVALID_FIELD",
        "break_latest",
    ),
    (
        "care-plans",
        "POST",
        lambda w: {"window_start": "11:00", "window_end": "09:00"},
        422,
        "VALIDATION_ERROR",
        "window_end",
    ),
    ("care-plans", "PATCH", lambda w: {"window_end": "08:00"}, 422, "INVALID_FIELD", "window_end"),
    (
        "care-plans",
        "POST",
        lambda w: {"start_date": "2026-12-01", "end_date": "2026-11-01"},
        422,
        "VALIDATION_ERROR",
        "end_date",
    ),
    (
        "care-plans",
        "POST",
        lambda w: {"days_of_week": [7]},
        422,
        "VALIDATION_ERROR",
        "days_of_week",
    ),
    ("care-plans", "POST", lambda w: {"days_of_week": []}, 422, "INVALID_FIELD", "days_of_week"),
    (
        "care-plans",
        "POST",
        lambda w: {"client_id": w.p2.client.id},
        422,
        "REFERENCE_NOT_FOUND",
        "client_id",
    ),
    (
        "care-plans",
        "POST",
        lambda w: {"preferred_caregiver_id": w.p2.caregiver.id},
        422,
        "REFERENCE_NOT_FOUND",
        "preferred_caregiver_id",
    ),
    (
        "care-plans",
        "POST",
        lambda w: {"service_type_id": 2_000_000_000},
        422,
        "REFERENCE_NOT_FOUND",
        "service_type_id",
    ),
    (
        "care-plans",
        "PATCH",
        lambda w: {"client_id": w.p2.client.id},
        422,
        "REFERENCE_NOT_FOUND",
        "client_id",
    ),
    (
        "care-plans",
        "POST",
        lambda w: {"provider_id": w.p2.provider.id},
        404,
        "PROVIDER_NOT_FOUND",
        "",
    ),
    (
        "caregivers",
        "POST",
        lambda w: {"start_point_id": 2_000_000_000},
        422,
        "REFERENCE_NOT_FOUND",
        "start_point_id",
    ),
    (
        "absences",
        "POST",
        lambda w: {"start_at": "2026-11-25T00:00:00+08:00", "end_at": "2026-11-23T00:00:00+08:00"},
        422,
        "VALIDATION_ERROR",
        "end_at",
    ),
    (
        "absences",
        "POST",
        lambda w: {"start_at": "2026-11-25T00:00:00"},
        422,
        "VALIDATION_ERROR",
        "start_at",
    ),
    (
        "absences",
        "PATCH",
        lambda w: {"end_at": "2026-11-01T00:00:00+08:00"},
        422,
        "INVALID_FIELD",
        "end_at",
    ),
    (
        "refusals",
        "POST",
        lambda w: {"caregiver_id": w.p2.caregiver.id},
        422,
        "REFERENCE_NOT_FOUND",
        "caregiver_id",
    ),
    (
        "certificates",
        "POST",
        lambda w: {"issued_on": "2027-01-01", "expires_on": "2026-01-01"},
        422,
        "VALIDATION_ERROR",
        "expires_on",
    ),
    (
        "certificates",
        "PATCH",
        lambda w: {"expires_on": "2023-01-01"},
        422,
        "INVALID_FIELD",
        "expires_on",
    ),
    (
        "shifts",
        "POST",
        lambda w: {"start_time": "17:00", "end_time": "08:00"},
        422,
        "VALIDATION_ERROR",
        "end_time",
    ),
    ("shifts", "POST", lambda w: {"weekday": 2}, 422, "INVALID_FIELD", "weekday"),
    ("shifts", "PATCH", lambda w: {"start_time": "14:00"}, 422, "INVALID_FIELD", "end_time"),
    (
        "shifts",
        "POST",
        lambda w: {"weekday": 7, "on_date": None},
        422,
        "VALIDATION_ERROR",
        "weekday",
    ),
    (
        "users",
        "POST",
        lambda w: {"role": "caregiver", "caregiver_id": w.p2.caregiver.id},
        422,
        "REFERENCE_NOT_FOUND",
        "caregiver_id",
    ),
    ("users", "POST", lambda w: {"username": "两个 字"}, 422, "VALIDATION_ERROR", "username"),
    (
        "users",
        "PATCH",
        lambda w: {"provider_id": w.p2.provider.id},
        422,
        "VALIDATION_ERROR",
        "provider_id",
    ),
    (
        "providers",
        "POST",
        lambda w: {"timezone": "Mars/Olympus"},
        422,
        "VALIDATION_ERROR",
        "timezone",
    ),
    ("service-types", "POST", lambda w: {"rate": "-1.00"}, 422, "VALIDATION_ERROR", "rate"),
    (
        "service-types",
        "POST",
        lambda w: {"caregivers_needed": 3},
        422,
        "VALIDATION_ERROR",
        "caregivers_needed",
    ),
    ("service-types", "PATCH", lambda w: {"rate": "NaN"}, 422, "VALIDATION_ERROR", "rate"),
]


@pytest.mark.parametrize(
    ("name", "method", "change", "status", "code", "field_name"),
    SPECIFIC,
    ids=[f"{n}-{m}-{i}" for i, (n, m, *_rest) in enumerate(SPECIFIC)],
)
def test_specific_bad_input(client, world, db, name, method, change, status, code, field_name):
    ep = ENDPOINTS[name]
    url = ep.collection(world) if method == "POST" else create(client, world, ep)
    base = ep.body(world) if method == "POST" else {}
    before = counts(db, ep.model)
    r = send(client, world, ep, method, url, json={**base, **change(world)})
    body = assert_rejected(r, status, code)
    if field_name:
        assert field_name in body["errors"], body
    assert counts(db, ep.model) == before


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/providers",
        "/api/v1/users",
        "/api/v1/clients",
        "/api/v1/caregivers",
        "/api/v1/service-types",
        "/api/v1/service-points",
        "/api/v1/care-plans",
    ],
)
def test_list_filters_are_checked(client, world, path):
    h = world.headers(world.admin)
    # A misspelt filter would otherwise list everything as if no filter were given.
    r = client.get(f"{path}?activ=false", headers=h)
    assert assert_rejected(r, 422, "VALIDATION_ERROR")["errors"] == {"activ": ["Unknown field."]}
    assert_rejected(client.get(f"{path}?active=perhaps", headers=h), 422, "VALIDATION_ERROR")
    assert_rejected(client.get(f"{path}?page_size=1000", headers=h), 422, "VALIDATION_ERROR")
    assert_rejected(client.get(f"{path}?page=0", headers=h), 422, "VALIDATION_ERROR")
    assert client.get(f"{path}?active=true&page=1&page_size=5", headers=h).status_code == 200
