"""Helpers for routing tests: a travel model whose arithmetic can be done by hand."""

from __future__ import annotations

import numpy as np
import pytest

from routing import Caregiver, Location, Settings, TimeWindow, TravelMatrix, Visit


class GridTravel:
    """Travel seconds = 1000 x (|dlat| + |dlon|), for every mode; metres = 5 x seconds.

    So Location(0, 0.3) is 300 s from Location(0, 0).
    """

    def matrix(self, origins, destinations, mode):
        o = np.array([(p.lat, p.lon) for p in origins], dtype=float).reshape(-1, 2)
        d = np.array([(p.lat, p.lon) for p in destinations], dtype=float).reshape(-1, 2)
        s = np.rint(1000 * np.abs(o[:, None, :] - d[None, :, :]).sum(axis=2)).astype(np.int64)
        return TravelMatrix(seconds=s, metres=5 * s)


def at(x: float) -> Location:
    """A point x*1000 seconds east of the origin."""
    return Location(0.0, x)


HOME = at(0)
FAST = Settings(time_limit_s=0.5)


def cg(id, shift=(0, 20_000), loc=HOME, **kw) -> Caregiver:
    return Caregiver(id, loc, loc, shift[0], shift[1], **kw)


def visit(id, x, window=(0, 20_000), duration=600, **kw) -> Visit:
    windows = kw.pop("windows", None) or (TimeWindow(*window),)
    return Visit(id, at(x), tuple(windows), duration, **kw)


@pytest.fixture
def grid():
    return GridTravel()
