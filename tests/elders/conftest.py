"""Fixtures of the elders-and-families tests: the world, committed, and small HTTP helpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from dispatch.models import User
from tests.conftest import World


@pytest.fixture
def world(world: World, db: Any) -> World:
    # See tests/api/conftest.py: commit into the per-test outer transaction.
    db.commit()
    return world


@dataclass
class Http:
    """Requests as a user (bearer token) or as a device (X-Device-Key)."""

    world: World
    client: FlaskClient

    def as_user(self, method: str, path: str, user: User, **kw: Any) -> Any:
        headers = {**self.world.headers(user), **kw.pop("headers", {})}
        return self.client.open(f"/api/v1{path}", method=method, headers=headers, **kw)

    def as_device(self, method: str, path: str, key: str, **kw: Any) -> Any:
        self.world.db.commit()
        headers = {"X-Device-Key": key, **kw.pop("headers", {})}
        return self.client.open(f"/api/v1{path}", method=method, headers=headers, **kw)

    def count(self, model: Any) -> int:
        return int(self.world.db.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def http(world: World, client: FlaskClient) -> Http:
    return Http(world, client)
