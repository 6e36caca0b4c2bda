"""Login, refresh, and the ways a token stops working."""

from __future__ import annotations

from typing import Any

from tests.conftest import PASSWORD


def login(client: Any, username: str, password: str = PASSWORD) -> Any:
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_login_answers_tokens_and_who_you_are(client, world):
    r = login(client, "dispatcher1")
    assert r.status_code == 200, r.json
    assert r.json["user"] == {
        "id": world.p1.dispatcher.id,
        "username": "dispatcher1",
        "role": "dispatcher",
        "provider_id": world.p1.provider.id,
        "caregiver_id": None,
        "display_name": None,
    }
    assert "password" not in r.text and "password_hash" not in r.text
    me = client.get("/api/v1/me", headers=bearer(r.json["access_token"]))
    assert me.status_code == 200
    assert me.json["username"] == "dispatcher1"
    assert "password" not in me.json and "password_hash" not in me.json


def test_wrong_password_is_401_with_code(client, world):
    r = login(client, "dispatcher1", "not the password")
    assert r.status_code == 401
    assert r.json["code"] == "UNAUTHENTICATED"
    assert "access_token" not in r.json


def test_unknown_user_is_the_same_401(client, world):
    r = login(client, "nobody-here")
    assert r.status_code == 401
    assert r.json["code"] == "UNAUTHENTICATED"


def test_no_token_is_401_with_code(client, world):
    r = client.get("/api/v1/me")
    assert r.status_code == 401
    assert r.json["code"] == "UNAUTHENTICATED"


def test_refresh_works_with_the_refresh_token(client, world):
    tokens = login(client, "provider1").json
    r = client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"]))
    assert r.status_code == 200, r.json
    me = client.get("/api/v1/me", headers=bearer(r.json["access_token"]))
    assert me.status_code == 200
    assert me.json["id"] == world.p1.provider_admin.id


def test_refresh_refuses_an_access_token(client, world):
    tokens = login(client, "provider1").json
    r = client.post("/api/v1/auth/refresh", headers=bearer(tokens["access_token"]))
    assert r.status_code == 401
    assert r.json["code"] == "UNAUTHENTICATED"


def test_access_token_cannot_be_used_as_refresh_and_vice_versa(client, world):
    tokens = login(client, "provider1").json
    r = client.get("/api/v1/me", headers=bearer(tokens["refresh_token"]))
    assert r.status_code == 401


def test_deactivated_users_token_is_rejected(client, world):
    token = login(client, "dispatcher1").json["access_token"]
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    r = client.delete(
        f"/api/v1/users/{world.p1.dispatcher.id}", headers=world.headers(world.p1.provider_admin)
    )
    assert r.status_code == 204, r.json
    r = client.get("/api/v1/me", headers=bearer(token))
    assert r.status_code == 401
    assert r.json["code"] == "TOKEN_REVOKED"
    assert login(client, "dispatcher1").status_code == 401


def test_token_from_before_a_password_change_is_rejected(client, world):
    old = login(client, "dispatcher1").json
    r = client.patch(
        f"/api/v1/users/{world.p1.dispatcher.id}",
        headers=world.headers(world.admin),
        json={"password": "a brand new passphrase"},
    )
    assert r.status_code == 200, r.json
    r = client.get("/api/v1/me", headers=bearer(old["access_token"]))
    assert r.status_code == 401
    assert r.json["code"] == "TOKEN_REVOKED"
    r = client.post("/api/v1/auth/refresh", headers=bearer(old["refresh_token"]))
    assert r.status_code == 401
    assert login(client, "dispatcher1").status_code == 401
    fresh = login(client, "dispatcher1", "a brand new passphrase")
    assert fresh.status_code == 200
    assert client.get("/api/v1/me", headers=bearer(fresh.json["access_token"])).status_code == 200


def test_user_changing_other_fields_keeps_tokens(client, world):
    token = login(client, "dispatcher1").json["access_token"]
    r = client.patch(
        f"/api/v1/users/{world.p1.dispatcher.id}",
        headers=world.headers(world.admin),
        json={"display_name": "张调度"},
    )
    assert r.status_code == 200
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200


def test_login_body_is_validated(client, world):
    r = client.post("/api/v1/auth/login", json={"username": "dispatcher1"})
    assert r.status_code == 422
    assert r.json["code"] == "VALIDATION_ERROR"
    assert "password" in r.json["errors"]
    r = client.post("/api/v1/auth/login", data="{", content_type="application/json")
    assert r.status_code == 400
    assert r.json["code"] == "MALFORMED_JSON"
