"""The router's travel model for IMPOSSIBLE_TRAVEL, cached, with a vectorised fill.

The rules ask for travel seconds between two homes one pair at a time; a route the router
planned must never look impossible here, so the model is the router's own
(``routing.GeodesicTravel``) and ``prefill`` computes a whole context's consecutive pairs at
once with its arithmetic (``routing.great_circle_m`` times the detour factor, at the mode's
speed, rounded up to whole seconds).
"""

from __future__ import annotations

import itertools

import numpy as np

from dispatch.rules.data import Context, OrderData
from routing import GeodesicTravel, Location, great_circle_m

# (lat, lon, lat, lon, travel mode)
Pair = tuple[float, float, float, float, str]
DEFAULT_MODE = "ebike"


class Travel:
    """``travel(a, b, mode) -> seconds``, the router's answer, remembered."""

    def __init__(self) -> None:
        self.model = GeodesicTravel()
        self.cache: dict[Pair, int] = {}

    def mode_of(self, mode: str) -> str:
        return mode if mode in self.model.speeds_mps else DEFAULT_MODE

    def __call__(self, a: tuple[float, float], b: tuple[float, float], mode: str) -> int:
        key = (a[0], a[1], b[0], b[1], mode)
        hit = self.cache.get(key)
        if hit is None:
            m = self.model.matrix([Location(*a)], [Location(*b)], self.mode_of(mode))
            hit = self.cache[key] = int(m.seconds[0, 0])
        return hit

    def prefill(self, pairs: list[Pair]) -> None:
        """Element-wise the same arithmetic as ``GeodesicTravel.matrix`` (one pair per row)."""
        todo = [p for p in set(pairs) if p not in self.cache]
        if not todo:
            return
        arr = np.array([p[:4] for p in todo], dtype=float)
        metres = great_circle_m(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3])
        metres = metres * self.model.detour_factor
        speeds = np.array([self.model.speeds_mps[self.mode_of(p[4])] for p in todo], dtype=float)
        seconds = np.ceil(metres / speeds - 1e-9).astype(np.int64)
        for p, sec in zip(todo, seconds.tolist(), strict=True):
            self.cache[p] = int(sec)


def prefill_travel(ctx: Context, targets: dict[int, OrderData], travel: Travel) -> None:
    """Travel between the consecutive homes of the targets' people, in one vectorised pass."""
    pairs = []
    for person in {o.person for o in targets.values()}:
        rows = ctx.by_person.get(person, [])
        for a, b in itertools.pairwise(rows):
            ca, cb = ctx.clients.get(a.client_id), ctx.clients.get(b.client_id)
            cg = ctx.caregivers.get(b.caregiver_id)
            if ca is None or cb is None or (ca.lat, ca.lon) == (cb.lat, cb.lon):
                continue
            mode = cg.travel_mode if cg else DEFAULT_MODE
            pairs.append((ca.lat, ca.lon, cb.lat, cb.lon, mode))
    travel.prefill(pairs)
