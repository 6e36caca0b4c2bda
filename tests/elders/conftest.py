"""Fixtures of the elders-and-families tests: the world, committed (``http``: tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import World


@pytest.fixture
def world(world: World, db: Any) -> World:
    # See tests/api/conftest.py: commit into the per-test outer transaction.
    db.commit()
    return world
