"""The solver's view of a problem: numbered nodes, integer matrices, what the model enforces."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

START, END, VISIT, PICKUP = "start", "end", "visit", "pickup"
# Penalty for dropping, in a sub-problem or our own search, a visit the full model requires.
MUST = 10**12


@dataclass
class Instance:
    """Nodes 0..n-1 with per-mode travel matrices; vehicles index caregivers in problem order.

    Times are integers in ``time_scale`` units per second of the problem (1 for home care; the
    Solomon command scales its fractional distances).
    """

    kind: list[str]
    ref: list[int | None]  # visit id of a visit or pickup node, caregiver index of a start/end
    service: np.ndarray  # int64 per node
    windows: list[list[tuple[int, int]]]  # allowed start-of-service intervals per node
    demand: np.ndarray  # int64 per node (boxes: + at pickup, - at delivery)
    time: dict[str, np.ndarray]  # travel time per mode, n x n int64
    dist: dict[str, np.ndarray]  # travel metres per mode, n x n int64
    vehicle_mode: list[str]
    starts: list[int]
    ends: list[int]
    vehicle_window: list[tuple[int, int]]
    max_span: list[int | None]
    capacity: list[int]
    breaks: list[list[tuple[int, int, int]]]  # (earliest start, latest start, duration)
    allowed: dict[int, list[int]] = field(default_factory=dict)  # node -> allowed vehicles
    penalty: list[int | None] = field(default_factory=list)  # None: must be performed
    pairs: list[tuple[int, int, int | None]] = field(default_factory=list)  # pickup, delivery, ride
    groups: list[list[int]] = field(default_factory=list)
    locks: dict[int, list[int]] = field(default_factory=dict)  # vehicle -> node chain
    preferred: dict[int, int] = field(default_factory=dict)  # node -> vehicle
    continuity_cost: int = 0
    fixed_cost: int = 0
    time_scale: int = 1
    cost: dict[str, np.ndarray] | None = None  # arc cost per mode; defaults to time
    # Working time past soft_span[v] (when not None; up to max_span[v]) costs span_cost per unit;
    # past balance_target, balance_cost per unit (each vehicle; 0: off).
    soft_span: list[int | None] = field(default_factory=list)
    span_cost: int = 0
    balance_target: int = 0
    balance_cost: int = 0
    # Ask the solver for earliest service starts and compact shifts (home care); the VRPTW
    # benchmark needs only the sequence, and finalising every time costs search speed.
    finalize_times: bool = True

    @property
    def n(self) -> int:
        return len(self.kind)

    @property
    def num_vehicles(self) -> int:
        return len(self.starts)

    def drop_cost(self, x: int) -> int:
        """What leaving node x out costs: its penalty, or MUST when the model requires it."""
        return MUST if not self.penalty or self.penalty[x] is None else self.penalty[x]

    def route_cost(self, v: int, route: list[int]) -> int:
        """Route v's share of the model's objective: arcs, continuity and fixed cost."""
        cost = (self.cost or self.time)[self.vehicle_mode[v]]
        path = [self.starts[v], *route, self.ends[v]]
        total = int(sum(cost[a, b] for a, b in itertools.pairwise(path)))
        if self.continuity_cost and self.preferred:
            total += self.continuity_cost * sum(
                1 for x in route if x in self.preferred and self.preferred[x] != v
            )
        if route and self.fixed_cost:
            total += self.fixed_cost
        return total

    @property
    def horizon(self) -> int:
        ends = [b for _, b in self.vehicle_window]
        ends += [b for ws in self.windows for _, b in ws]
        return int(max(ends) + int(self.service.max(initial=0)) + 1)


@dataclass
class RawRoute:
    """A vehicle's route as the solver returns it: nodes with service start times, and breaks."""

    vehicle: int
    nodes: list[int]
    starts: list[int]
    depart: int
    arrive: int
    breaks: list[tuple[int, int]] = field(default_factory=list)  # (start, duration)


@dataclass
class RawSolution:
    routes: list[RawRoute]
    dropped: list[int]
    objective: int
    status: str
    wall_s: float
    stats: dict = field(default_factory=dict)
