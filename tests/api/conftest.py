"""Fixtures of the API tests: the world, committed into the test's outer transaction."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import World


@pytest.fixture
def world(world: World, db: Any) -> World:
    # Each request (and each app context) ends with Session.remove(), which rolls back
    # whatever is not committed; committing releases the savepoint into the per-test
    # transaction, which the db fixture still rolls back at the end.
    db.commit()
    return world
