"""A problem with its places numbered and its travel matrices fetched: what every stage reads."""

from __future__ import annotations

import numpy as np

from routing.model import Caregiver, Location, Problem, Visit
from routing.travel import GeodesicTravel, TravelModel


class Context:
    """A problem with its locations numbered and travel matrices fetched once per mode."""

    def __init__(
        self, problem: Problem, travel: TravelModel | None, extra: tuple = (), lazy: bool = False
    ) -> None:
        self.problem = problem
        self.travel = travel or GeodesicTravel()
        self.cgs = problem.caregivers
        self.cg_index = {c.id: i for i, c in enumerate(self.cgs)}
        if len(self.cg_index) != len(self.cgs):
            raise ValueError("caregiver ids must be unique")
        self.visits = {v.id: v for v in problem.visits}
        if len(self.visits) != len(problem.visits):
            raise ValueError("visit ids must be unique")
        self.kitchens = {k.id: k for k in problem.kitchens}
        self.locs: list[Location] = []
        self._loc_index: dict[Location, int] = {}
        for c in self.cgs:
            self.loc(c.start)
            self.loc(c.end)
        for v in problem.visits:
            self.loc(v.location)
        for k in problem.kitchens:
            self.loc(k.location)
        for x in extra:
            self.loc(x)
        self.modes = sorted({c.travel_mode for c in self.cgs})
        self.T: dict[str, np.ndarray] = {}
        self.D: dict[str, np.ndarray] = {}
        # lazy: no full matrix; submatrix() asks the travel model for what a caller needs.
        self.lazy = lazy
        for mode in self.modes if not lazy else ():
            m = self.travel.matrix(self.locs, self.locs, mode)
            self.T[mode], self.D[mode] = m.seconds, m.metres
        self.pins = {p.visit_id: p for p in problem.pins}
        self.locked_owner = {
            vid: self.cg_index[lp.caregiver_id] for lp in problem.locked for vid in lp.visit_ids
        }
        for vid in (*self.pins, *self.locked_owner):
            if vid not in self.visits:
                raise ValueError(f"pin or lock names unknown visit {vid}")
        for p in problem.pins:
            if p.caregiver_id is not None and p.caregiver_id not in self.cg_index:
                raise ValueError(
                    f"pin of visit {p.visit_id} names unknown caregiver {p.caregiver_id}"
                )

    def work_limit(self, c: Caregiver) -> int | None:
        """The most a caregiver may work: max_work_s plus the overtime allowed (None: no limit)."""
        if c.max_work_s is None:
            return None
        return c.max_work_s + self.problem.settings.overtime_cap_s

    def loc(self, location: Location) -> int:
        if location not in self._loc_index:
            self._loc_index[location] = len(self.locs)
            self.locs.append(location)
        return self._loc_index[location]

    def submatrix(self, mode: str, locs: list[int]):
        """Travel seconds among some locations: (array, location index -> row)."""
        row = {x: i for i, x in enumerate(locs)}
        if not self.lazy:
            return self.T[mode][np.ix_(locs, locs)], row
        pts = [self.locs[x] for x in locs]
        return self.travel.matrix(pts, pts, mode).seconds, row

    def windows(self, visit: Visit) -> list[tuple[int, int]]:
        pin = self.pins.get(visit.id)
        if pin is not None and pin.start_s is not None:
            return [(pin.start_s, pin.start_s)]
        return sorted((w.start_s, w.end_s) for w in visit.windows)

    def is_meal(self, visit: Visit) -> bool:
        return visit.meal_boxes > 0 and visit.id not in self.locked_owner


def intersect(window_lists: list[list[tuple[int, int]]]) -> list[tuple[int, int]]:
    """The intervals common to every list of windows, in order."""
    common = window_lists[0]
    for ws in window_lists[1:]:
        common = [
            (max(a, c), min(b, d)) for a, b in common for c, d in ws if max(a, c) <= min(b, d)
        ]
    return sorted(common)
