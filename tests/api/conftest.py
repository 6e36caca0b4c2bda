"""Fixtures of the API tests: the world, committed into the test's outer transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from alembic import command
from flask import Flask

from api import create_app
from dispatch import config
from dispatch import db as dbmod
from dispatch.config import Settings
from tests.conftest import World, alembic_config, build_world


@pytest.fixture
def world(world: World, db: Any) -> World:
    # Each request (and each app context) ends with Session.remove(), which rolls back
    # whatever is not committed; committing releases the savepoint into the per-test
    # transaction, which the db fixture still rolls back at the end.
    db.commit()
    return world


@dataclass
class Target:
    """An app and its world, on one database."""

    app: Flask
    world: World
    settings: Settings


@pytest.fixture(scope="session")
def sqlite_target(
    app: Flask, settings: Settings, password_hash: str, tmp_path_factory: pytest.TempPathFactory
) -> Target:
    """The same app on SQLite (embedded mode: no Redis) with the same world, built once."""
    folder = tmp_path_factory.mktemp("sqlite")
    url = f"sqlite:///{folder / 'api.sqlite3'}"
    command.upgrade(alembic_config(url), "head")
    lite = Settings(
        database_url=url,
        redis_url=None,
        photo_dir=folder / "photos",
        secret_key="test-secret-" + uuid.uuid4().hex,
        queue_name=settings.queue_name,
    )
    try:
        sqlite_app = create_app(lite, TESTING=True)
        world = build_world(sqlite_app, dbmod.Session, password_hash)
        dbmod.Session.commit()
        return Target(sqlite_app, world, lite)
    finally:
        dbmod.Session.remove()
        config.use(settings)
        dbmod.configure(settings.database_url)


@pytest.fixture
def on_sqlite(sqlite_target: Target, settings: Settings) -> Iterator[Target]:
    """Make the SQLite app's database and settings the process's for one test."""
    config.use(sqlite_target.settings)
    dbmod.configure(sqlite_target.settings.database_url)
    try:
        yield sqlite_target
    finally:
        dbmod.Session.remove()
        config.use(settings)
        dbmod.configure(settings.database_url)
