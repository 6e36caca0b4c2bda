"""The device registry: a key shown once and stored hashed, revocation, X-Device-Key auth."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from dispatch.models import AuditEntry, Device, Role, ServicePoint, ServicePointKind
from tests.conftest import Http, World


def _pendant(http: Http, world: World, **body: object) -> object:
    payload = {"kind": "pendant", "client_id": world.p1.client.id, "label": "王秀英的呼叫器"}
    payload.update(body)
    return http.as_user("POST", "/devices", world.p1.dispatcher, json=payload)


def test_key_is_shown_once_and_stored_only_as_its_hash(http: Http, world: World) -> None:
    r = _pendant(http, world)
    assert r.status_code == 201, r.json
    key = r.json["key"]
    assert len(key) >= 40 and r.json["kind"] == "pendant"
    assert r.json["client_id"] == world.p1.client.id
    row = world.db.get(Device, r.json["id"])
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in repr(
        [getattr(row, c.key) for c in Device.__table__.columns]  # type: ignore[attr-defined]
    )
    again = http.as_user("GET", f"/devices/{row.id}", world.p1.dispatcher)
    assert again.status_code == 200 and "key" not in again.json
    assert again.json["key_prefix"] == key[:12]
    entry = world.db.scalars(
        select(AuditEntry).where(
            AuditEntry.entity_type == "devices", AuditEntry.entity_id == row.id
        )
    ).one()
    assert "key_hash" not in entry.after and key not in str(entry.after)
    # A second device gets another key.
    other = _pendant(http, world, label="备用呼叫器")
    assert other.json["key"] != key


def test_the_key_authenticates_the_device_until_revoked(http: Http, world: World) -> None:
    created = _pendant(http, world).json
    me = http.as_device("GET", "/devices/self", created["key"])
    assert me.status_code == 200, me.json
    assert (me.json["id"], me.json["client_id"]) == (created["id"], world.p1.client.id)
    assert me.json["last_seen_at"] is not None

    revoked = http.as_user("DELETE", f"/devices/{created['id']}", world.p1.provider_admin)
    assert revoked.status_code == 200 and revoked.json["active"] is False
    after = http.as_device("GET", "/devices/self", created["key"])
    assert (after.status_code, after.json["code"]) == (401, "DEVICE_KEY_REVOKED")
    twice = http.as_user("DELETE", f"/devices/{created['id']}", world.p1.provider_admin)
    assert (twice.status_code, twice.json["code"]) == (409, "DEVICE_ALREADY_REVOKED")


def test_unknown_missing_and_absurd_keys_are_401_with_a_code(http: Http, world: World) -> None:
    _pendant(http, world)
    for key, code in (
        ("cdk_" + "x" * 43, "DEVICE_KEY_INVALID"),
        ("", "DEVICE_KEY_MISSING"),
        ("k" * 5000, "DEVICE_KEY_INVALID"),
    ):
        r = http.as_device("GET", "/devices/self", key)
        assert (r.status_code, r.json["code"]) == (401, code), key[:20]
    # A user's bearer token is not a device key.
    r = http.as_user("GET", "/devices/self", world.p1.dispatcher)
    assert (r.status_code, r.json["code"]) == (401, "DEVICE_KEY_MISSING")
    zh = http.as_device("GET", "/devices/self", "nope", headers={"Accept-Language": "zh-CN"})
    assert "设备" in zh.json["message"]


def test_canteen_terminal_is_bound_to_a_service_point(http: Http, world: World) -> None:
    point = ServicePoint(
        provider_id=world.p1.provider.id,
        code="CT1",
        name="稠城助餐点",
        kind=ServicePointKind.canteen,
        lat=29.31,
        lon=120.07,
    )
    world.db.add(point)
    world.db.commit()
    body = {"kind": "canteen_terminal", "service_point_id": point.id, "label": "1号机"}
    r = http.as_user("POST", "/devices", world.p1.provider_admin, json=body)
    assert r.status_code == 201, r.json
    assert (r.json["service_point_id"], r.json["client_id"]) == (point.id, None)
    me = http.as_device("GET", "/devices/self", r.json["key"])
    assert me.json["kind"] == "canteen_terminal"


def test_wrong_bindings_are_refused_and_nothing_stored(http: Http, world: World) -> None:
    before = http.count(Device)
    cases = [
        ({"kind": "pendant", "label": "x"}, "DEVICE_NEEDS_CLIENT"),
        (
            {
                "kind": "sensor",
                "client_id": world.p1.client.id,
                "service_point_id": 1,
                "label": "x",
            },
            "DEVICE_NEEDS_CLIENT",
        ),
        (
            {"kind": "canteen_terminal", "client_id": world.p1.client.id, "label": "x"},
            "DEVICE_NEEDS_SERVICE_POINT",
        ),
        # Another provider's elder is no reference at all.
        ({"kind": "pendant", "client_id": world.p2.client.id, "label": "x"}, "REFERENCE_NOT_FOUND"),
        ({"kind": "watch", "client_id": world.p1.client.id, "label": "x"}, "VALIDATION_ERROR"),
        ({"kind": "pendant", "client_id": world.p1.client.id}, "VALIDATION_ERROR"),
        ({"kind": "pendant", "client_id": 2**40, "label": "x"}, "VALIDATION_ERROR"),
    ]
    for body, code in cases:
        r = http.as_user("POST", "/devices", world.p1.dispatcher, json=body)
        assert r.status_code == 422 and r.json["code"] == code, (body, r.json)
    assert http.count(Device) == before


def test_who_may_register_and_see_devices(http: Http, world: World) -> None:
    created = _pendant(http, world).json
    caregiver = http.as_user("POST", "/devices", world.p1.caregiver_user, json={})
    assert caregiver.status_code == 403
    foreign = http.as_user("GET", f"/devices/{created['id']}", world.p2.dispatcher)
    assert foreign.status_code == 404 and foreign.json["code"] == "DEVICE_NOT_FOUND"
    listed = http.as_user("GET", "/devices", world.p2.dispatcher)
    assert listed.status_code == 200 and listed.json == []
    mine = http.as_user("GET", "/devices?kind=pendant", world.p1.dispatcher)
    assert [d["id"] for d in mine.json] == [created["id"]]


def test_no_user_can_hold_the_device_role(http: Http, world: World) -> None:
    body = {"username": "robot", "password": "long enough pw", "role": Role.device.value}
    r = http.as_user("POST", "/users", world.admin, json=body)
    assert (r.status_code, r.json["code"]) == (422, "ROLE_NOT_FOR_USERS")
