"""Failed logins are throttled per account and per address, audited, on both storages."""

from __future__ import annotations

import time
from typing import Any

import pytest
from limits import parse
from sqlalchemy import select

from dispatch import throttle
from dispatch.models import AuditEntry
from tests.conftest import PASSWORD


def login(client: Any, username: str, password: str, address: str = "10.0.0.7") -> Any:
    return client.post(
        "/api/v1/auth/login",
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


# Long enough for three logins on a loaded machine (Argon2 takes its time), short enough to wait.
WINDOW_S = 6


@pytest.fixture
def short_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(throttle, "ACCOUNT", parse(f"3/{WINDOW_S} seconds"))


@pytest.fixture
def long_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(throttle, "ACCOUNT", parse("3/10 minutes"))


def lock_out_and_wait(client: Any, username: str) -> None:
    for _ in range(3):
        assert login(client, username, "wrong").status_code == 401
    refused = login(client, username, PASSWORD)  # the right password, too soon
    assert refused.status_code == 429, refused.get_data(as_text=True)
    assert refused.json["code"] == "TOO_MANY_LOGIN_ATTEMPTS"
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= WINDOW_S + 1
    assert "access_token" not in refused.json
    # Another address does not help: the account is throttled.
    assert login(client, username, PASSWORD, address="10.9.9.9").status_code == 429
    time.sleep(wait + 0.2)
    assert login(client, username, PASSWORD).status_code == 200


def test_failed_logins_past_the_limit_answer_429_until_the_window_passes_redis(
    client, world, short_window
):
    assert isinstance(throttle.storage(), throttle.RedisStorage)
    lock_out_and_wait(client, "dispatcher1")


def test_failed_logins_past_the_limit_answer_429_until_the_window_passes_database(
    on_sqlite, short_window
):
    assert isinstance(throttle.storage(), throttle.DatabaseStorage)
    lock_out_and_wait(on_sqlite.app.test_client(), "dispatcher1")


def test_one_address_guessing_many_accounts_is_throttled(client, world, monkeypatch):
    monkeypatch.setattr(throttle, "ADDRESS", parse("5/minute"))
    for i in range(5):
        assert login(client, f"nobody{i}", "guess", address="10.1.2.3").status_code == 401
    r = login(client, "dispatcher1", PASSWORD, address="10.1.2.3")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert login(client, "dispatcher1", PASSWORD, address="10.1.2.4").status_code == 200


def test_a_right_password_clears_the_accounts_failures(client, world, long_window):
    for _ in range(3):
        assert login(client, "finance", "wrong").status_code == 401
        assert login(client, "finance", "wrong").status_code == 401
        assert login(client, "finance", PASSWORD).status_code == 200


def test_failed_and_throttled_logins_are_audited(client, world, db, long_window):
    user_id = world.p1.provider_admin.id
    for _ in range(3):
        login(client, "provider1", "wrong")
    actions = list(
        db.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.action.in_(["auth.login_failed", "auth.throttled"]))
            .where(AuditEntry.entity_id == user_id)
            .order_by(AuditEntry.id)
        )
    )
    assert actions == ["auth.login_failed", "auth.login_failed", "auth.throttled"]


def test_the_consecutive_failure_ceiling_is_within_nist_800_63b():
    # SP 800-63B 5.2.2: no more than 100 consecutive failed attempts on one account.
    assert throttle.CEILING.amount <= 100
    assert throttle.ACCOUNT.amount <= throttle.CEILING.amount
