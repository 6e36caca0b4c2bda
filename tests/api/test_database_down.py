"""A database that cannot be reached is a coded 503 with Retry-After, never a 500, never SQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session as OrmSession

from dispatch import config
from dispatch import db as dbmod

# Nothing listens on port 1: connecting is refused at once.
DEAD_URL = "postgresql+psycopg://postgres@127.0.0.1:1/caredispatch"


@pytest.fixture
def dead_database(settings: Any) -> Iterator[None]:
    config.use(replace(settings, database_url=DEAD_URL))
    dbmod.configure(DEAD_URL)
    try:
        yield
    finally:
        dbmod.Session.remove()
        dbmod.make_engine(DEAD_URL).dispose()
        config.use(settings)
        dbmod.configure(settings.database_url)


def assert_unavailable(r: Any) -> None:
    assert r.status_code == 503, r.get_data(as_text=True)
    assert r.json["code"] == "DATABASE_UNAVAILABLE"
    assert int(r.headers["Retry-After"]) > 0
    text = r.get_data(as_text=True)
    assert "SELECT" not in text and "psycopg" not in text and "127.0.0.1" not in text


def test_every_kind_of_request_answers_503_when_the_database_is_down(app, world, dead_database):
    client = app.test_client()
    headers = world.headers(world.p1.dispatcher)  # made before: tokens need no database
    caregiver = world.headers(world.p1.caregiver_user)
    assert_unavailable(client.get("/api/v1/clients", headers=headers))
    assert_unavailable(client.post("/api/v1/clients", json={"code": "X"}, headers=headers))
    assert_unavailable(client.get("/api/v1/me/visits?date=2026-11-23", headers=caregiver))
    assert_unavailable(
        client.post("/api/v1/auth/login", json={"username": "dispatcher1", "password": "x"})
    )
    zh = client.get("/api/v1/clients", headers={**headers, "Accept-Language": "zh-CN"})
    assert_unavailable(zh)
    assert "数据库" in zh.json["message"]


def test_health_answers_503_when_the_database_is_down(app, dead_database):
    r = app.test_client().get("/api/v1/health")
    assert r.status_code == 503
    assert r.json["database"] == "down" and r.json["status"] == "down"
    assert int(r.headers["Retry-After"]) > 0


def test_health_answers_200_when_all_is_up(client):
    r = client.get("/api/v1/health")
    assert r.status_code == 200
    assert r.json == {"status": "ok", "database": "ok", "queue": "ok"}


def test_a_commit_that_loses_the_database_is_a_503_and_keeps_nothing(
    client, world, db, monkeypatch
):
    # The connection drops between the view and the request's commit.
    def lost(self: OrmSession) -> None:
        raise OperationalError(
            "COMMIT -- INSERT INTO clients (code) VALUES ('SECRET')",
            {},
            Exception("server closed the connection unexpectedly"),
        )

    headers = world.headers(world.p1.dispatcher)
    body = {
        "code": "C-LOST",
        "name": "张桂兰",
        "address": "稠城街道 工人北路 1号",
        "lat": 29.31,
        "lon": 120.07,
    }
    with monkeypatch.context() as m:
        m.setattr(OrmSession, "commit", lost)
        r = client.post("/api/v1/clients", json=body, headers=headers)
    assert_unavailable(r)
    assert "SECRET" not in r.get_data(as_text=True)
    listed = client.get("/api/v1/clients?code=C-LOST", headers=headers)
    assert listed.status_code == 200 and listed.json == []
