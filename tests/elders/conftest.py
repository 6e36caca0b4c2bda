"""Fixtures of the elders-and-families tests: the world, committed (``http``: tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time
from typing import Any

import pytest

from dispatch import config
from dispatch.db import as_of, utcnow
from tests.conftest import World


@pytest.fixture
def world(world: World, db: Any) -> World:
    # See tests/api/conftest.py: commit into the per-test outer transaction.
    db.commit()
    return world


@pytest.fixture
def ten_oclock() -> Iterator[datetime]:
    """The clock at 10:00 local today: calls are answered by day, whenever the suite runs (a
    call after about 23:15 finds nobody who can be there before the day's plan ends at
    midnight; tests/elders/test_after_hours.py covers the night on purpose)."""
    day = utcnow().astimezone(config.zone()).date()
    at = datetime.combine(day, time(10), config.zone())
    with as_of(at):
        yield at
