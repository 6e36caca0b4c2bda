"""Plain data the engine loads for the rules: rules never see a database session."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from dispatch.config import zone
from dispatch.geo import distance_m, geodesic_m

# Orders compared with one another (repeated coordinates, near-identical photos, overlaps) start
# at most this far apart; the engine loads at least this much around every evaluated order.
NEAR = timedelta(hours=24)
# Near-identical photos are looked for among the same person's and client's orders this close.
PHOTO_HORIZON = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class OrderData:
    id: int
    provider_id: int
    client_id: int
    caregiver_id: int
    person: str  # the same human across providers (hash of the national id), else "cg:<id>"
    service_type_id: int
    visit_id: int | None
    source: str
    start_at: datetime
    end_at: datetime
    billable_min: int
    status: str

    @property
    def sort_key(self) -> tuple[datetime, datetime, int]:
        return (self.start_at, self.end_at, self.id)

    @property
    def local_date(self) -> date:
        return self.start_at.astimezone(zone()).date()


@dataclass(frozen=True, slots=True)
class EventData:
    kind: str  # check_in | check_out
    lat: float
    lon: float
    accuracy_m: float | None
    mock_location: bool
    device_time_at: datetime
    received_at: datetime
    photo_id: int | None


@dataclass(frozen=True, slots=True)
class PhotoData:
    id: int
    sha256: str
    phash: int | None  # 64-bit perceptual hash
    exif_taken_at: datetime | None


@dataclass(frozen=True, slots=True)
class ClientData:
    id: int
    lat: float
    lon: float
    monthly_entitlement_min: int | None
    absences: tuple[tuple[datetime, datetime, str], ...] = ()


@dataclass(frozen=True, slots=True)
class CaregiverData:
    id: int
    person: str
    travel_mode: str
    skills: frozenset[str]
    # (skill, kind, expires_on): certificates that prove a skill
    certificates: tuple[tuple[str | None, str, date | None], ...] = ()


@dataclass(frozen=True, slots=True)
class ServiceData:
    id: int
    code: str
    required_skill: str | None
    photo_required: bool
    caregivers_needed: int
    default_duration_min: int


@dataclass(frozen=True, slots=True)
class VisitData:
    id: int
    client_id: int
    service_type_id: int
    window_start_at: datetime
    window_end_at: datetime
    duration_min: int
    required_skill: str | None
    caregivers_needed: int
    status: str


@dataclass(frozen=True, slots=True)
class CallbackData:
    """The answered call-back (回访) of an order: what the elder told the caller."""

    id: int
    took_place: str  # yes | no | unsure
    reached: bool
    satisfaction: int | None
    answered_at: datetime | None
    note: str | None


@dataclass
class Context:
    """Everything the rules may look at for one evaluation, already loaded."""

    orders: dict[int, OrderData] = field(default_factory=dict)
    events: dict[int, dict[str, EventData]] = field(default_factory=dict)
    photos: dict[int, PhotoData] = field(default_factory=dict)
    clients: dict[int, ClientData] = field(default_factory=dict)
    caregivers: dict[int, CaregiverData] = field(default_factory=dict)
    services: dict[int, ServiceData] = field(default_factory=dict)
    visits: dict[int, VisitData] = field(default_factory=dict)
    # Orders of the same person / client around the evaluated ones, sorted by sort_key.
    by_person: dict[str, list[OrderData]] = field(default_factory=dict)
    by_client: dict[int, list[OrderData]] = field(default_factory=dict)
    # Every order (anywhere, any time) whose events carry a photo with this id / this phash.
    photo_orders: dict[int, set[int]] = field(default_factory=dict)
    phash_orders: dict[int, set[tuple[int, int]]] = field(default_factory=dict)  # (order, photo)
    # Photo-bearing orders of each person ("p", person) and client ("c", client_id) within the
    # photo horizon: sorted (start_at, order id, photo id).
    photo_history: dict[tuple[str, object], list[tuple[datetime, int, int]]] = field(
        default_factory=dict
    )
    # Planned visits of a client by local date (UNSCHEDULED).
    client_visits: dict[tuple[int, date], list[VisitData]] = field(default_factory=dict)
    # Billable minutes of the client's earlier (non-rejected) orders in the order's local month.
    month_before_min: dict[int, int] = field(default_factory=dict)
    # The answered call-back of each order that has one (CALLBACK_DENIED).
    callbacks: dict[int, CallbackData] = field(default_factory=dict)
    # The thresholds in force, for rules that consult another rule's (GEOFENCE uses GPS_POOR).
    thresholds: dict[str, float | None] = field(default_factory=dict)
    travel_seconds: Callable[[tuple[float, float], tuple[float, float], str], int] | None = None

    _photo_ids: dict[int, list[int]] = field(default_factory=dict)
    _coords: dict[int, frozenset[tuple[float, float]]] = field(default_factory=dict)
    _starts: dict[tuple[str, object], list[datetime]] = field(default_factory=dict)
    _keys: dict[str, list[tuple[datetime, datetime, int]]] = field(default_factory=dict)

    # Photos of orders known only from the photo history (their events are not loaded).
    history_photo_ids: dict[int, set[int]] = field(default_factory=dict)

    def photo_ids(self, order_id: int) -> list[int]:
        hit = self._photo_ids.get(order_id)
        if hit is None:
            events = self.events.get(order_id, {})
            found = {e.photo_id for e in events.values() if e.photo_id}
            found |= self.history_photo_ids.get(order_id, set())
            hit = self._photo_ids[order_id] = sorted(found)
        return hit

    def add_history_photo(self, order_id: int, photo_id: int) -> None:
        """A photo of an order known only from the photo history."""
        self.history_photo_ids.setdefault(order_id, set()).add(photo_id)
        self._photo_ids.pop(order_id, None)

    def coords(self, order_id: int) -> frozenset[tuple[float, float]]:
        """The order's event positions rounded to 1e-6° (~0.1 m)."""
        hit = self._coords.get(order_id)
        if hit is None:
            hit = self._coords[order_id] = frozenset(
                (round(e.lat, 6), round(e.lon, 6)) for e in self.events.get(order_id, {}).values()
            )
        return hit

    def rebuild_indexes(self) -> None:
        self.by_person = {}
        self.by_client = {}
        self._starts = {}
        self._keys = {}
        for o in self.orders.values():
            self.by_person.setdefault(o.person, []).append(o)
            self.by_client.setdefault(o.client_id, []).append(o)
        for rows in (*self.by_person.values(), *self.by_client.values()):
            rows.sort(key=lambda o: o.sort_key)
        for person, rows in self.by_person.items():
            self._starts[("p", person)] = [o.start_at for o in rows]
            self._keys[person] = [o.sort_key for o in rows]
        for client, rows in self.by_client.items():
            self._starts[("c", client)] = [o.start_at for o in rows]

    def _window(
        self, kind: str, key: object, rows: Sequence[OrderData], lo: datetime, hi: datetime
    ) -> Sequence[OrderData]:
        starts = self._starts.get((kind, key))
        if starts is None:
            return rows
        return rows[bisect_left(starts, lo) : bisect_right(starts, hi)]

    def person_near(self, o: OrderData, before: timedelta = NEAR, after: timedelta = NEAR):
        """The person's orders that start within [start − before, start + after]."""
        rows = self.by_person.get(o.person, [])
        return self._window("p", o.person, rows, o.start_at - before, o.start_at + after)

    def client_near(self, o: OrderData, before: timedelta = NEAR, after: timedelta = NEAR):
        rows = self.by_client.get(o.client_id, [])
        return self._window("c", o.client_id, rows, o.start_at - before, o.start_at + after)

    def photos_near(
        self, key: tuple[str, object], at: datetime, span: timedelta = PHOTO_HORIZON
    ) -> list[tuple[datetime, int, int]]:
        rows = self.photo_history.get(key, [])
        lo = bisect_left(rows, (at - span, -1, -1))
        hi = bisect_right(rows, (at + span, 2**62, 2**62))
        return rows[lo:hi]

    def person_index(self, o: OrderData) -> int | None:
        keys = self._keys.get(o.person)
        if keys is None:
            return None
        i = bisect_left(keys, o.sort_key)
        return i if i < len(keys) and keys[i] == o.sort_key else None


def farther_than(
    lat1: float, lon1: float, lat2: float, lon2: float, limit_m: float
) -> float | None:
    """The geodesic distance when it exceeds ``limit_m``, else None.

    The sphere differs from the WGS84 ellipsoid by at most ~0.5 %: a point clearly inside is
    settled by the fast formula, and the ellipsoid decides (and is reported) otherwise.
    """
    if distance_m(lat1, lon1, lat2, lon2) < limit_m * 0.99:
        return None
    d = geodesic_m(lat1, lon1, lat2, lon2)
    return d if d > limit_m else None


def overlap_s(a: OrderData, b: OrderData) -> float:
    return (min(a.end_at, b.end_at) - max(a.start_at, b.start_at)).total_seconds()


def double_staffed(a: OrderData, b: OrderData, ctx: Context) -> bool:
    """The two legs of one visit that needs two caregivers are not a conflict."""
    if a.visit_id is None or a.visit_id != b.visit_id or a.caregiver_id == b.caregiver_id:
        return False
    visit = ctx.visits.get(a.visit_id)
    needed = visit.caregivers_needed if visit else 1
    service = ctx.services.get(a.service_type_id)
    return max(needed, service.caregivers_needed if service else 1) >= 2


def iso(value: datetime | None) -> str | None:
    return value.astimezone(zone()).isoformat() if value else None
