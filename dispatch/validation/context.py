"""The generic context loader: everything the rules may look at around a set of orders.

``load_context`` reads, in a handful of queries per step, what ``dispatch.rules.data.Context``
holds for the given orders: their people's and clients' orders within ``WINDOW``, the events
and photos of those, every order anywhere that used one of their photos (or a photo with the
same perceptual hash), the photo history within ``PHOTO_HORIZON``, the clients, caregivers,
visits and service catalogue, each client's billable minutes earlier in the local month, and
the router's travel times. The batch loads its chunks with it; the incremental path
(``incremental``) reads the same things in fewer, wider queries and builds the context with
the same row builders (``photo_data``, ``client_data``, ``caregiver_data``, ``visit_data``),
and ``tests/validation/test_incremental.py`` holds the two equal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from dispatch.models import (
    Callback,
    CallbackStatus,
    Caregiver,
    CaregiverSkill,
    Certificate,
    Client,
    ClientAbsence,
    Photo,
    Visit,
    VisitEvent,
    WorkOrder,
    WorkOrderStatus,
)
from dispatch.rules.data import (
    PHOTO_HORIZON,
    CallbackData,
    CaregiverData,
    ClientData,
    Context,
    EventData,
    OrderData,
    PhotoData,
    ServiceData,
    VisitData,
)
from dispatch.validation.orders import (
    ORDER_COLUMNS,
    WINDOW,
    among,
    month_bounds,
    order_data,
    order_select,
    person,
    text_of,
)
from dispatch.validation.settings import load_services
from dispatch.validation.travel import Travel, prefill_travel

# (start_at, order id, billable minutes, status) of a client's orders in a local month
MonthRows = list[tuple[datetime, int, int, str]]


@dataclass
class Cache:
    """What a run loads once and reuses across its chunks."""

    services: dict[int, ServiceData] | None = None
    travel: Travel = field(default_factory=Travel)
    months: dict[tuple[int, str], MonthRows] = field(default_factory=dict)


# --------------------------------------------------------------------------- row builders


def event_data(kind: Any, row: Sequence[Any]) -> EventData:
    """``row``: lat, lon, accuracy_m, mock_location, device_time_at, received_at, photo_id."""
    lat, lon, accuracy, mock, device_at, received_at, photo_id = row
    return EventData(
        text_of(kind), lat, lon, accuracy, bool(mock), device_at, received_at, photo_id
    )


def photo_data(
    photo_id: int, sha256: str, phash: str | None, exif_at: datetime | None
) -> PhotoData:
    """A photo with its stored hexadecimal perceptual hash as a 64-bit integer."""
    return PhotoData(photo_id, sha256, int(phash, 16) if phash else None, exif_at)


def client_data(
    client_id: int,
    lat: float,
    lon: float,
    entitlement_min: int | None,
    absences: Iterable[tuple[datetime, datetime, str]],
) -> ClientData:
    """A client with its absences sorted by start."""
    ordered = tuple(sorted(absences, key=lambda a: a[0]))
    return ClientData(client_id, lat, lon, entitlement_min, ordered)


def caregiver_data(
    caregiver_id: int,
    person_key: str,
    mode: Any,
    skills: Iterable[str],
    certificates: Iterable[tuple[str | None, str, date | None]],
) -> CaregiverData:
    return CaregiverData(
        caregiver_id, person_key, text_of(mode), frozenset(skills), tuple(certificates)
    )


VISIT_COLUMNS = (
    Visit.id,
    Visit.client_id,
    Visit.service_type_id,
    Visit.window_start_at,
    Visit.window_end_at,
    Visit.duration_min,
    Visit.required_skill,
    Visit.caregivers_needed,
    Visit.status,
)


def visit_data(row: Sequence[Any]) -> VisitData:
    """A row of ``VISIT_COLUMNS``."""
    return VisitData(*row[:8], text_of(row[8]))


def add_visit(ctx: Context, data: VisitData, day: date) -> None:
    ctx.visits[data.id] = data
    ctx.client_visits.setdefault((data.client_id, day), []).append(data)


def add_photo_partner(ctx: Context, order_id: int, photo_id: int) -> None:
    """``order_id``'s events carry ``photo_id``, one of the evaluated orders' photos or one with
    the same perceptual hash."""
    ctx.photo_orders.setdefault(photo_id, set()).add(order_id)
    photo = ctx.photos.get(photo_id)
    if photo is not None and photo.phash is not None:
        ctx.phash_orders.setdefault(photo.phash, set()).add((order_id, photo_id))


def add_photo_history(
    ctx: Context,
    history: dict[tuple[str, object], set[tuple[datetime, int, int]]],
    order: OrderData,
    photo_id: int,
    persons: set[str],
    clients: set[int],
) -> None:
    """A photo-bearing order of the targets' people or clients within the horizon."""
    ctx.orders.setdefault(order.id, order)
    ctx.add_history_photo(order.id, photo_id)
    entry = (order.start_at, order.id, photo_id)
    if order.person in persons:
        history.setdefault(("p", order.person), set()).add(entry)
    if order.client_id in clients:
        history.setdefault(("c", order.client_id), set()).add(entry)


# --------------------------------------------------------------------------- the loader


def load_context(
    session: Session,
    targets: dict[int, OrderData],
    cache: Cache,
    extra: dict[int, OrderData] | None = None,
    known_cg_ids: set[int] | None = None,
) -> Context:
    """The context of ``targets``; ``extra`` orders join only for rules that need no neighbours
    (OVER_ENTITLEMENT). ``known_cg_ids``: every registration of the targets' people, when the
    caller has them."""
    ctx = Context()
    ctx.orders.update(targets)
    if not targets:
        return ctx
    lo = min(o.start_at for o in targets.values()) - WINDOW
    hi = max(o.end_at for o in targets.values()) + WINDOW

    # The same people, wherever they are registered, and the same clients, around the targets.
    persons = {o.person for o in targets.values()}
    hashes = [p for p in persons if not p.startswith("cg:")]
    cg_ids = {o.caregiver_id for o in targets.values()} | (known_cg_ids or set())
    if hashes and known_cg_ids is None:
        cg_ids.update(
            session.scalars(select(Caregiver.id).where(Caregiver.person_hash.in_(hashes)))
        )
    clients = {o.client_id for o in targets.values()}
    near = or_(
        among(session, WorkOrder.caregiver_id, sorted(cg_ids)),
        among(session, WorkOrder.client_id, sorted(clients)),
    )
    for row in session.execute(
        order_select().where(near, WorkOrder.start_at >= lo, WorkOrder.start_at <= hi)
    ):
        ctx.orders.setdefault(row[0], order_data(row))

    load_events(session, ctx, list(ctx.orders.values()))
    load_photo_partners(session, ctx, targets)
    ctx.rebuild_indexes()
    load_photo_history(session, ctx, targets, sorted(cg_ids), sorted(clients), lo, hi)
    for oid, o in (extra or {}).items():
        ctx.orders.setdefault(oid, o)

    load_reference(session, ctx, cache, lo, hi)
    load_month_minutes(session, ctx, {**targets, **(extra or {})}, cache)
    load_callbacks(session, ctx, targets)
    prefill_travel(ctx, targets, cache.travel)
    ctx.travel_seconds = cache.travel
    return ctx


EVENT_COLUMNS = (
    VisitEvent.lat,
    VisitEvent.lon,
    VisitEvent.accuracy_m,
    VisitEvent.mock_location,
    VisitEvent.device_time_at,
    VisitEvent.received_at,
    VisitEvent.photo_id,
)  # as ``event_data`` reads them


def load_events(session: Session, ctx: Context, orders: Sequence[OrderData]) -> None:
    by_visit: dict[tuple[int, int], int] = {
        (o.visit_id, o.caregiver_id): o.id for o in orders if o.visit_id is not None
    }
    if not by_visit:
        return
    visit_ids = sorted({v for v, _ in by_visit})
    stmt = select(VisitEvent.visit_id, VisitEvent.caregiver_id, VisitEvent.kind, *EVENT_COLUMNS)
    for r in session.execute(stmt.where(among(session, VisitEvent.visit_id, visit_ids))):
        oid = by_visit.get((r[0], r[1]))
        if oid is None:
            continue
        event = event_data(r[2], r[3:])
        ctx.events.setdefault(oid, {})[event.kind] = event


PHOTO_COLUMNS = (Photo.id, Photo.sha256, Photo.phash, Photo.exif_taken_at)  # for photo_data


def _read_photos(session: Session, ctx: Context, photo_ids: Iterable[int]) -> None:
    for p in session.execute(
        select(*PHOTO_COLUMNS).where(among(session, Photo.id, sorted(photo_ids)))
    ):
        ctx.photos[p[0]] = photo_data(*p)


def load_photo_partners(session: Session, ctx: Context, targets: dict[int, OrderData]) -> None:
    """Photos of the context, and every order anywhere that used the targets' photos."""
    photo_ids = {pid for oid in ctx.orders for pid in ctx.photo_ids(oid)}
    if not photo_ids:
        return
    _read_photos(session, ctx, photo_ids)
    target_photos = {pid for oid in targets for pid in ctx.photo_ids(oid)}
    phashes = {
        f"{ctx.photos[pid].phash:016x}"
        for pid in target_photos
        if pid in ctx.photos and ctx.photos[pid].phash is not None
    }
    same = set(target_photos)
    if phashes:
        same.update(session.scalars(select(Photo.id).where(Photo.phash.in_(sorted(phashes)))))
    if not same:
        return
    # Orders whose events carry one of these photos: events -> (visit, caregiver) -> order.
    pairs = session.execute(
        select(VisitEvent.visit_id, VisitEvent.caregiver_id, VisitEvent.photo_id).where(
            among(session, VisitEvent.photo_id, sorted(same))
        )
    ).all()
    missing_visits = sorted({v for v, c, _ in pairs})
    known = {(o.visit_id, o.caregiver_id): o.id for o in ctx.orders.values() if o.visit_id}
    if any((v, c) not in known for v, c, _ in pairs):
        extra = [
            order_data(r)
            for r in session.execute(
                order_select().where(among(session, WorkOrder.visit_id, missing_visits))
            )
        ]
        extra = [o for o in extra if o.id not in ctx.orders]
        for o in extra:
            ctx.orders[o.id] = o
            known[(o.visit_id, o.caregiver_id)] = o.id
        load_events(session, ctx, extra)
        new_photos = {pid for o in extra for pid in ctx.photo_ids(o.id)} - set(ctx.photos)
        if new_photos:
            _read_photos(session, ctx, new_photos)
    for v, c, pid in pairs:
        oid = known.get((v, c))
        if oid is not None:
            add_photo_partner(ctx, oid, pid)


def load_photo_history(
    session: Session,
    ctx: Context,
    targets: dict[int, OrderData],
    cg_ids: list[int],
    clients: list[int],
    lo: datetime,
    hi: datetime,
) -> None:
    """The same people's and clients' photo-bearing orders within the photo horizon."""
    if not any(ctx.photo_ids(oid) for oid in targets):
        return
    stmt = (
        select(*ORDER_COLUMNS, person(), *PHOTO_COLUMNS)
        .join(Caregiver, Caregiver.id == WorkOrder.caregiver_id)
        .join(
            VisitEvent,
            and_(
                VisitEvent.visit_id == WorkOrder.visit_id,
                VisitEvent.caregiver_id == WorkOrder.caregiver_id,
            ),
        )
        .join(Photo, Photo.id == VisitEvent.photo_id)
        .where(
            or_(
                among(session, WorkOrder.caregiver_id, cg_ids),
                among(session, WorkOrder.client_id, clients),
            ),
            WorkOrder.start_at >= lo - PHOTO_HORIZON,
            WorkOrder.start_at <= hi + PHOTO_HORIZON,
            Photo.phash.is_not(None),
        )
    )
    persons = {o.person for o in targets.values()}
    client_set = set(clients)
    history: dict[tuple[str, object], set[tuple[datetime, int, int]]] = {}
    for r in session.execute(stmt):
        o = ctx.orders.get(r[0]) or order_data(r)
        pid = r[12]
        if pid not in ctx.photos:
            ctx.photos[pid] = photo_data(*r[12:16])
        add_photo_history(ctx, history, o, pid, persons, client_set)
    ctx.photo_history = {k: sorted(v) for k, v in history.items()}


def load_reference(
    session: Session, ctx: Context, cache: Cache, lo: datetime, hi: datetime
) -> None:
    """Clients (with absences), caregivers (skills, certificates), visits, the catalogue."""
    if cache.services is None:
        cache.services = load_services(session)
    ctx.services = cache.services
    orders = list(ctx.orders.values())
    client_ids = sorted({o.client_id for o in orders})
    absences: dict[int, list[tuple[datetime, datetime, str]]] = {}
    for a in session.execute(
        select(
            ClientAbsence.client_id,
            ClientAbsence.start_at,
            ClientAbsence.end_at,
            ClientAbsence.reason,
        ).where(among(session, ClientAbsence.client_id, client_ids))
    ):
        absences.setdefault(a[0], []).append((a[1], a[2], text_of(a[3])))
    for c in session.execute(
        select(Client.id, Client.lat, Client.lon, Client.monthly_entitlement_min).where(
            among(session, Client.id, client_ids)
        )
    ):
        ctx.clients[c[0]] = client_data(*c, absences.get(c[0], ()))

    cg_ids = sorted({o.caregiver_id for o in orders})
    skills: dict[int, set[str]] = {}
    for cid, skill in session.execute(
        select(CaregiverSkill.caregiver_id, CaregiverSkill.skill).where(
            among(session, CaregiverSkill.caregiver_id, cg_ids)
        )
    ):
        skills.setdefault(cid, set()).add(skill)
    certs: dict[int, list[tuple[str | None, str, Any]]] = {}
    for cid, skill, kind, expires in session.execute(
        select(
            Certificate.caregiver_id, Certificate.skill, Certificate.kind, Certificate.expires_on
        ).where(among(session, Certificate.caregiver_id, cg_ids))
    ):
        certs.setdefault(cid, []).append((skill, kind, expires))
    for cid, person_hash, mode in session.execute(
        select(Caregiver.id, Caregiver.person_hash, Caregiver.travel_mode).where(
            among(session, Caregiver.id, cg_ids)
        )
    ):
        ctx.caregivers[cid] = caregiver_data(
            cid, person_hash or f"cg:{cid}", mode, skills.get(cid, ()), certs.get(cid, ())
        )

    visit_ids = sorted({o.visit_id for o in orders if o.visit_id is not None})
    unplanned_clients = sorted({o.client_id for o in orders if o.visit_id is None})
    conds = []
    if visit_ids:
        conds.append(among(session, Visit.id, visit_ids))
    if unplanned_clients:
        conds.append(
            and_(
                among(session, Visit.client_id, unplanned_clients),
                Visit.date >= (lo - timedelta(days=1)).date(),
                Visit.date <= (hi + timedelta(days=1)).date(),
            )
        )
    if conds:
        for v in session.execute(select(*VISIT_COLUMNS, Visit.date).where(or_(*conds))):
            add_visit(ctx, visit_data(v), v[9])


def load_month_minutes(
    session: Session, ctx: Context, targets: dict[int, OrderData], cache: Cache
) -> None:
    """For each target, the client's billable minutes earlier in the same local month (the
    months in ``cache.months`` are not read again)."""
    wanted: dict[tuple[int, str], tuple[datetime, datetime]] = {}
    for o in targets.values():
        client = ctx.clients.get(o.client_id)
        if client is None or client.monthly_entitlement_min is None:
            continue
        month, start, end = month_bounds(o.start_at)
        if (o.client_id, month) not in cache.months:
            wanted[(o.client_id, month)] = (start, end)
    by_month: dict[str, tuple[datetime, datetime, list[int]]] = {}
    for (cid, month), (start, end) in wanted.items():
        by_month.setdefault(month, (start, end, []))[2].append(cid)
    for month, (start, end, cids) in by_month.items():
        for cid in cids:
            cache.months[(cid, month)] = []
        for r in session.execute(
            select(
                WorkOrder.client_id,
                WorkOrder.start_at,
                WorkOrder.id,
                WorkOrder.billable_min,
                WorkOrder.status,
            ).where(
                among(session, WorkOrder.client_id, cids),
                WorkOrder.start_at >= start,
                WorkOrder.start_at < end,
            )
        ):
            cache.months[(r[0], month)].append((r[1], r[2], r[3], text_of(r[4])))
        for cid in cids:
            cache.months[(cid, month)].sort()
    for o in targets.values():
        client = ctx.clients.get(o.client_id)
        if client is None or client.monthly_entitlement_min is None:
            continue
        month = month_bounds(o.start_at)[0]
        before = 0
        for start_at, oid, minutes, status in cache.months.get((o.client_id, month), ()):
            if (start_at, oid) >= (o.start_at, o.id):
                break
            if status != WorkOrderStatus.rejected:
                before += minutes
        ctx.month_before_min[o.id] = before


def load_callbacks(session: Session, ctx: Context, targets: dict[int, OrderData]) -> None:
    """The answered call-backs of the targets (CALLBACK_DENIED)."""
    if not targets:
        return
    stmt = select(
        Callback.work_order_id,
        Callback.id,
        Callback.took_place,
        Callback.reached,
        Callback.satisfaction,
        Callback.answered_at,
        Callback.note,
    ).where(
        among(session, Callback.work_order_id, sorted(targets)),
        Callback.status == CallbackStatus.answered,
    )
    for oid, cid, took, reached, stars, at, note in session.execute(stmt):
        ctx.callbacks[oid] = callback_data(cid, took, reached, stars, at, note)


def callback_data(
    cid: int, took: Any, reached: Any, stars: int | None, at: datetime | None, note: str | None
) -> CallbackData:
    """An answered call-back as the rules see it (both loaders build it here)."""
    return CallbackData(
        cid, getattr(took, "value", took) or "unsure", bool(reached), stars, at, note
    )
