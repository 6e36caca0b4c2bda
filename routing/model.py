"""Frozen dataclasses in and out of the router (integers: seconds from plan start, metres, ids)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Location:
    lat: float
    lon: float


@dataclass(frozen=True)
class TimeWindow:
    """Service must *start* inside [start_s, end_s]."""

    start_s: int
    end_s: int


@dataclass(frozen=True)
class Break:
    """An unpaid break (lunch) that starts in [earliest_start_s, latest_start_s]."""

    earliest_start_s: int
    latest_start_s: int
    duration_s: int


TRAVEL_MODES = ("walk", "ebike", "car")


@dataclass(frozen=True)
class Caregiver:
    id: int
    start: Location
    end: Location
    shift_start_s: int
    shift_end_s: int
    skills: frozenset[str] = frozenset()
    gender: str | None = None
    travel_mode: str = "ebike"
    max_work_s: int | None = None
    breaks: tuple[Break, ...] = ()
    box_capacity: int = 0


@dataclass(frozen=True)
class Visit:
    id: int
    location: Location
    windows: tuple[TimeWindow, ...]
    duration_s: int
    required_skills: frozenset[str] = frozenset()
    allowed_caregivers: frozenset[int] | None = None
    forbidden_caregivers: frozenset[int] = frozenset()
    required_gender: str | None = None
    preferred_caregiver: int | None = None
    priority: int = 1
    meal_boxes: int = 0
    kitchen_id: int | None = None
    max_ride_s: int | None = None


@dataclass(frozen=True)
class Kitchen:
    """A central kitchen: meals are ready from ready_s; loading one delivery takes pickup_s."""

    id: int
    location: Location
    ready_s: int = 0
    pickup_s: int = 120


@dataclass(frozen=True)
class VisitGroup:
    """Double-staffed visit: these visits start at the same time with different caregivers."""

    visit_ids: tuple[int, ...]


@dataclass(frozen=True)
class Pin:
    """Fix a visit to a caregiver, to a start time, or both."""

    visit_id: int
    caregiver_id: int | None = None
    start_s: int | None = None


@dataclass(frozen=True)
class LockedPrefix:
    """The first visits of a caregiver's route, in order, already done or under way."""

    caregiver_id: int
    visit_ids: tuple[int, ...]


@dataclass(frozen=True)
class Settings:
    time_limit_s: float = 10
    seed: int = 0
    first_solution: str = "PARALLEL_CHEAPEST_INSERTION"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    # Cost, in seconds of travel, of giving a visit to someone other than its preferred caregiver.
    continuity_cost: int = 900
    # Cost of leaving a priority-1 visit unassigned (multiplied by the priority).
    unassigned_penalty: int = 1_000_000
    # Cost of each caregiver who gets at least one visit (0: use as many as helps travel).
    caregiver_fixed_cost: int = 0
    # Stop after this many improving solutions; makes the search independent of machine speed.
    solution_limit: int | None = None
    log_search: bool = False
    # Days with more plannable visits than this (and no locked prefixes) are first decomposed
    # into sub-problems solved on up to two cores (routing.decompose).
    decompose_above: int = 120
    # Up to this many plannable visits (and when not decomposing), breaks are OR-Tools break
    # intervals inside the search; above, they are placed into the routes afterwards
    # (extract.place_breaks).
    break_intervals_up_to: int = 120
    # Soft overtime: a caregiver's working time may run up to overtime_cap_s past max_work_s,
    # each second past it costing overtime_cost (in seconds of travel). 0: a hard limit.
    overtime_cap_s: int = 0
    overtime_cost: int = 0
    # Workload balance: each second a caregiver's working time runs past the day's fair share
    # costs balance_cost (in seconds of travel). The fair share is the visits' time plus, for
    # each visit, the least travel into it, divided by the caregivers (see docs/routing.md).
    balance_cost: int = 0


@dataclass(frozen=True)
class Problem:
    caregivers: tuple[Caregiver, ...]
    visits: tuple[Visit, ...]
    groups: tuple[VisitGroup, ...] = ()
    kitchens: tuple[Kitchen, ...] = ()
    pins: tuple[Pin, ...] = ()
    locked: tuple[LockedPrefix, ...] = ()
    settings: Settings = field(default_factory=Settings)


class UnassignedReason(enum.StrEnum):
    NO_QUALIFIED_CAREGIVER = "NO_QUALIFIED_CAREGIVER"  # skills, gender, refusals, allowed list
    OUTSIDE_EVERY_SHIFT = "OUTSIDE_EVERY_SHIFT"  # no qualified shift can reach it in a window
    MAX_WORKING_TIME = "MAX_WORKING_TIME"  # even alone it exceeds every max working time
    CAPACITY = "CAPACITY"  # meal boxes exceed every box capacity, or boxes were full
    RIDE_TIME = "RIDE_TIME"  # the kitchen is farther than the maximum ride time
    NO_TIME = "NO_TIME"  # could not fit into any route in time (routes full)
    GROUP_PARTNER_UNASSIGNED = "GROUP_PARTNER_UNASSIGNED"  # the other half of a double visit failed
    PIN_CONFLICT = "PIN_CONFLICT"  # the pin contradicts the visit's caregivers or windows
    INVALID_INPUT = "INVALID_INPUT"  # unknown kitchen, empty windows, ...
    NOT_PLACED = "NOT_PLACED"  # a place existed but the search ended before it found it


@dataclass(frozen=True)
class Unassigned:
    visit_id: int
    reason: UnassignedReason
    detail: str = ""


@dataclass(frozen=True)
class Stop:
    """One stop; for kind="pickup" visit_id is the meal visit whose boxes are loaded."""

    visit_id: int | None
    arrival_s: int
    start_s: int
    end_s: int
    travel_s: int
    travel_m: int
    kind: str = "visit"
    kitchen_id: int | None = None


@dataclass(frozen=True)
class Route:
    caregiver_id: int
    stops: tuple[Stop, ...]
    depart_s: int = 0
    return_s: int = 0
    travel_s: int = 0
    travel_m: int = 0
    return_travel_s: int = 0
    return_travel_m: int = 0

    @property
    def visit_ids(self) -> tuple[int, ...]:
        return tuple(s.visit_id for s in self.stops if s.kind == "visit")


@dataclass(frozen=True)
class Kpis:
    visits_assigned: int
    visits_unassigned: int
    travel_s: int
    travel_m: int
    travel_s_by_caregiver: dict[int, int]
    idle_s: int
    lateness_s: int
    continuity_rate: float | None
    overtime_s: int
    utilisation: float
    caregivers_used: int
    # Working time (leaving home to coming back; 0 without visits) per caregiver, and its spread
    # (longest minus shortest).
    work_s_by_caregiver: dict[int, int] = field(default_factory=dict)
    work_spread_s: int = 0


@dataclass(frozen=True)
class Solution:
    routes: tuple[Route, ...]
    unassigned: tuple[Unassigned, ...]
    kpis: Kpis
    stats: dict


@dataclass(frozen=True)
class Insertion:
    caregiver_id: int | None
    position: int | None
    arrival_s: int | None
    start_s: int | None
    added_travel_s: int | None
    reason: UnassignedReason | None = None
    detail: str = ""

    @property
    def possible(self) -> bool:
        return self.caregiver_id is not None
