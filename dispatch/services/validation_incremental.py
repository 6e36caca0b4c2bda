"""Loading for the incremental path: a few wide queries around the orders that just arrived.

``validate_orders`` runs on every check-out and timesheet row, so for one person's orders its
loading is cut to four round trips, however many neighbours, events and photos there are
(three for a single order on PostgreSQL, where the first two are one query):

1. the given orders with every registration of their people, and fingerprints of the rule
   settings and the service catalogue (both cached per process, see ``Reference``);
2. the same people's orders around them, each with its client, caregiver, events and photos
   (one row per event);
3. the same for the evaluated orders' clients (their neighbours, their photo history, and for a
   client with an entitlement the whole local month), and every order whose events carry one of
   the evaluated orders' photos or a photo of the same perceptual hash;
4. absences, skills, certificates and visits, in one UNION ALL.

From these it builds the ``Context`` that ``validation._load_context`` builds for these orders
(the same windows, photo partners and photo history, in the same order of steps; the one
difference: whether the other orders of a partner's visit, which did not use the photo, come
along when only an event without an order yet used it; they change no finding), so the rules
find exactly what the batch finds. Several people's orders at once (an upload), or an
order longer than a day, go through the generic loader instead.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Interval,
    String,
    and_,
    bindparam,
    cast,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT
from sqlalchemy.orm import Session, aliased

from dispatch.db import UTCDateTime
from dispatch.models import (
    Caregiver,
    CaregiverSkill,
    Certificate,
    Client,
    ClientAbsence,
    Photo,
    RuleSetting,
    ServiceType,
    Visit,
    VisitEvent,
    WorkOrder,
)
from dispatch.rules import RuleConfig
from dispatch.rules.data import (
    PHOTO_HORIZON,
    CaregiverData,
    ClientData,
    Context,
    EventData,
    OrderData,
    PhotoData,
    ServiceData,
    VisitData,
)
from dispatch.services import validation as v

# The people's orders are read this far around the given ones in one go: the evaluated orders
# lie within one WINDOW of them, their context one more WINDOW, the photo history a PHOTO_HORIZON
# beyond, and an order may last up to a day. Anything needing more takes the generic path.
_SPAN = 2 * v.WINDOW + PHOTO_HORIZON
_LONGEST = timedelta(days=1)


def _str(value: Any) -> str:
    return str(getattr(value, "value", value))


# --------------------------------------------------------------------------- reference data


def _fingerprint(columns: Sequence[Any], order_by: Any) -> Any:
    """A scalar subquery: every row's columns as one string, in a fixed order."""
    parts = [func.coalesce(cast(c, String), "~") for c in columns]
    row = parts[0]
    for p in parts[1:]:
        row = row + "|" + p
    rows = select(row.label("r")).order_by(order_by).subquery()
    return select(func.coalesce(func.aggregate_strings(rows.c.r, ";"), "")).scalar_subquery()


_RULES_FP = _fingerprint(v.RULE_SETTING_COLS, RuleSetting.code)
_SERVICES_FP = _fingerprint(v.SERVICE_COLS, ServiceType.id)


class Reference:
    """Per-process cache of the rule settings in force and the service catalogue.

    Each incremental run reads a fingerprint of both tables (their rows as one string, computed
    by the database inside the run's own first query) and reloads a table only when its
    fingerprint differs from the cached one. So a change is seen at once whoever made it: PATCH
    /rules in another worker process, an edited service type, or this very transaction before
    it commits. ``clear`` drops everything (``update_rule`` calls it). Threads of one process
    share the cache; a lock serialises reloads, and callers get their own copies.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._configs: tuple[str, dict[str, RuleConfig]] | None = None
        self._services: tuple[str, dict[int, ServiceData]] | None = None
        self.loads = 0  # reloads so far, for tests

    def clear(self) -> None:
        with self._lock:
            self._configs = self._services = None

    def get(
        self, session: Session, rules_fp: str, services_fp: str
    ) -> tuple[dict[str, RuleConfig], dict[int, ServiceData]]:
        configs, services = self._configs, self._services
        if configs is None or configs[0] != rules_fp:
            with self._lock:
                configs = (rules_fp, v.rule_configs(session))
                self._configs = configs
                self.loads += 1
        if services is None or services[0] != services_fp:
            with self._lock:
                services = (services_fp, v.load_services(session))
                self._services = services
                self.loads += 1
        return dict(configs[1]), dict(services[1])


REFERENCE = Reference()


# --------------------------------------------------------------------------- statements


def _person() -> Any:
    return func.coalesce(Caregiver.person_hash, "cg:" + cast(Caregiver.id, String))


def _wide_select(partner: bool) -> Any:
    """Orders with their client, caregiver, events and photos: one row per event."""
    return (
        select(
            *v._ORDER_COLS,  # 0-10
            _person(),  # 11
            Client.lat,  # 12
            Client.lon,
            Client.monthly_entitlement_min,
            Caregiver.travel_mode,  # 15
            VisitEvent.kind,  # 16
            VisitEvent.lat,
            VisitEvent.lon,
            VisitEvent.accuracy_m,
            VisitEvent.mock_location,
            VisitEvent.device_time_at,
            VisitEvent.received_at,
            VisitEvent.photo_id,  # 23
            Photo.sha256,  # 24
            Photo.phash,
            Photo.exif_taken_at,  # 26
            literal(partner),  # 27: read as a photo partner
        )
        .select_from(WorkOrder)
        .join(Caregiver, Caregiver.id == WorkOrder.caregiver_id)
        .join(Client, Client.id == WorkOrder.client_id)
        .outerjoin(
            VisitEvent,
            and_(
                VisitEvent.visit_id == WorkOrder.visit_id,
                VisitEvent.caregiver_id == WorkOrder.caregiver_id,
            ),
        )
        .outerjoin(Photo, Photo.id == VisitEvent.photo_id)
    )


class _Statements:
    """The incremental path's statements, built once per dialect with named parameters.

    Lists are bound whole: ``= ANY(array)`` on PostgreSQL, so the text (and its prepared plan)
    stays the same whatever the lengths; an expanding IN elsewhere. Every branch is always
    there (an empty list matches nothing), so each statement has one text.
    """

    def __init__(self, pg: bool) -> None:
        def ids(column: Any, name: str) -> Any:
            if pg:
                return column == func.any(bindparam(name, type_=ARRAY(BIGINT)))
            return column.in_(bindparam(name, expanding=True))

        def strings(column: Any, name: str) -> Any:
            if pg:
                return column == func.any(bindparam(name, type_=ARRAY(String)))
            return column.in_(bindparam(name, expanding=True))

        def at(name: str) -> Any:
            return bindparam(name, type_=UTCDateTime)

        others = aliased(Caregiver)
        self.given = (
            select(*v._ORDER_COLS, _person(), others.id, _RULES_FP, _SERVICES_FP)
            .join(Caregiver, Caregiver.id == WorkOrder.caregiver_id)
            .outerjoin(others, others.person_hash == Caregiver.person_hash)
            .where(ids(WorkOrder.id, "ids"))
        )
        self.people = _wide_select(False).where(
            ids(WorkOrder.caregiver_id, "cg_ids"),
            WorkOrder.start_at >= at("lo"),
            WorkOrder.start_at <= at("hi"),
        )
        # One arriving order on PostgreSQL: its person's orders found from its id alone, with
        # the fingerprints, in one round trip instead of reading the order first.
        self.people_of_one: Any = None
        if pg:
            g, mine, reg = aliased(WorkOrder), aliased(Caregiver), aliased(Caregiver)
            one = bindparam("id", type_=Integer)
            registrations = (
                select(reg.id)
                .join(mine, or_(reg.person_hash == mine.person_hash, reg.id == mine.id))
                .join(g, g.caregiver_id == mine.id)
                .where(g.id == one)
            )
            start = select(g.start_at).where(g.id == one).scalar_subquery()
            end = select(g.end_at).where(g.id == one).scalar_subquery()
            self.people_of_one = (
                _wide_select(False)
                .add_columns(_RULES_FP, _SERVICES_FP)  # 28, 29
                .where(
                    WorkOrder.caregiver_id.in_(registrations),
                    WorkOrder.start_at >= start - bindparam("before", type_=Interval),
                    WorkOrder.start_at <= end + bindparam("after", type_=Interval),
                )
            )
        # One list of photo ids (a BitmapOr on photos), so that the events are found by index.
        same = select(Photo.id).where(
            or_(ids(Photo.id, "photo_ids"), strings(Photo.phash, "phashes"))
        )
        self.around = union_all(
            _wide_select(False).where(
                or_(
                    and_(
                        ids(WorkOrder.client_id, "clients"),
                        WorkOrder.start_at >= at("near_lo"),
                        WorkOrder.start_at <= at("near_hi"),
                    ),
                    and_(
                        ids(WorkOrder.client_id, "entitled"),
                        WorkOrder.start_at >= at("month_lo"),
                        WorkOrder.start_at < at("month_hi"),
                    ),
                )
            ),
            _wide_select(True).where(
                WorkOrder.visit_id.in_(
                    select(VisitEvent.visit_id).where(VisitEvent.photo_id.in_(same))
                )
            ),
        )
        none_t, none_s, none_d, none_i = (
            cast(None, UTCDateTime),
            cast(None, String),
            cast(None, Date),
            cast(None, Integer),
        )
        self.side = union_all(
            select(
                literal("a"),
                ClientAbsence.client_id,
                ClientAbsence.start_at,
                ClientAbsence.end_at,
                cast(ClientAbsence.reason, String),
                none_s,
                none_d,
                none_i,
                none_i,
                none_i,
                none_i,
            ).where(ids(ClientAbsence.client_id, "clients")),
            select(
                literal("s"),
                CaregiverSkill.caregiver_id,
                none_t,
                none_t,
                CaregiverSkill.skill,
                none_s,
                none_d,
                none_i,
                none_i,
                none_i,
                none_i,
            ).where(ids(CaregiverSkill.caregiver_id, "cg_ids")),
            select(
                literal("c"),
                Certificate.caregiver_id,
                none_t,
                none_t,
                Certificate.skill,
                Certificate.kind,
                Certificate.expires_on,
                none_i,
                none_i,
                none_i,
                none_i,
            ).where(ids(Certificate.caregiver_id, "cg_ids")),
            select(
                literal("v"),
                Visit.client_id,
                Visit.window_start_at,
                Visit.window_end_at,
                Visit.required_skill,
                cast(Visit.status, String),
                Visit.date,
                Visit.id,
                Visit.service_type_id,
                Visit.duration_min,
                Visit.caregivers_needed,
            ).where(
                or_(
                    ids(Visit.id, "visit_ids"),
                    and_(
                        ids(Visit.client_id, "unplanned"),
                        Visit.date >= bindparam("day_lo", type_=Date),
                        Visit.date <= bindparam("day_hi", type_=Date),
                    ),
                )
            ),
        )


_STATEMENTS: dict[str, _Statements] = {}


def _statements(session: Session) -> _Statements:
    name = session.get_bind().dialect.name
    hit = _STATEMENTS.get(name)
    if hit is None:
        hit = _STATEMENTS[name] = _Statements(name == "postgresql")
    return hit


# --------------------------------------------------------------------------- wide rows


@dataclass
class _Rows:
    """What the wide rows said, by order."""

    orders: dict[int, OrderData] = field(default_factory=dict)
    events: dict[int, dict[str, EventData]] = field(default_factory=dict)
    photos: dict[int, PhotoData] = field(default_factory=dict)
    raw_phash: dict[int, str | None] = field(default_factory=dict)
    # the photos of each order's events
    order_photos: dict[int, set[int]] = field(default_factory=dict)
    clients: dict[int, tuple[float, float, int | None]] = field(default_factory=dict)
    modes: dict[int, str] = field(default_factory=dict)
    partners: set[int] = field(default_factory=set)  # orders read as photo partners

    def add(self, rows: Iterable[Any]) -> None:
        for r in rows:
            oid = r[0]
            if r[27]:
                self.partners.add(oid)
            if oid not in self.orders:
                o = self.orders[oid] = v._order(r)
                self.clients[o.client_id] = (r[12], r[13], r[14])
                self.modes[o.caregiver_id] = _str(r[15])
            kind = r[16]
            if kind is None:
                continue
            kind = _str(kind)
            events = self.events.setdefault(oid, {})
            if kind in events:
                continue
            events[kind] = EventData(kind, r[17], r[18], r[19], bool(r[20]), r[21], r[22], r[23])
            pid = r[23]
            if pid is not None and r[24] is not None:
                self.order_photos.setdefault(oid, set()).add(pid)
                if pid not in self.photos:
                    phash = int(r[25], 16) if r[25] else None
                    self.photos[pid] = PhotoData(pid, r[24], phash, r[26])
                    self.raw_phash[pid] = r[25]


# --------------------------------------------------------------------------- the plan


@dataclass
class Plan:
    """What ``validate_orders`` evaluates, and the context to evaluate it in."""

    full: dict[int, OrderData]
    partial: dict[int, set[str]]
    extra: dict[int, OrderData]
    configs: dict[str, RuleConfig]
    ctx: Context | None  # None: take the generic path (``validation._run`` loads it)
    known_cg_ids: set[int]


def plan(session: Session, order_ids: Iterable[int]) -> Plan | None:
    """The incremental evaluation of ``order_ids``; None when none of them exists."""
    ids = sorted(set(order_ids))
    if not ids:
        return None
    st = _statements(session)
    rows = _Rows()
    if st.people_of_one is not None and len(ids) == 1:
        found = session.execute(
            st.people_of_one, {"id": ids[0], "before": _SPAN, "after": _SPAN + _LONGEST}
        ).all()
        if not found:
            return None
        rows.add(found)
        given = {ids[0]: rows.orders[ids[0]]}
        cg_ids = {o.caregiver_id for o in rows.orders.values()}
        configs, services = REFERENCE.get(session, found[0][28], found[0][29])
        g_lo, g_hi = given[ids[0]].start_at, given[ids[0]].end_at
        fetched = (g_lo - _SPAN, g_hi + _SPAN + _LONGEST)
    else:
        given = {}
        cg_ids = set()
        rules_fp = services_fp = ""
        for r in session.execute(st.given, {"ids": ids}):
            given.setdefault(r[0], v._order(r))
            cg_ids.add(r[3])
            if r[12] is not None:
                cg_ids.add(r[12])
            rules_fp, services_fp = r[13], r[14]
        if not given:
            return None
        configs, services = REFERENCE.get(session, rules_fp, services_fp)
        if len({o.person for o in given.values()}) > 1:
            # An upload of several people's orders: the wide rows would span every person's
            # weeks, and the generic loader (built for the batch's chunks) reads that faster.
            return _generic(session, given, cg_ids, configs)
        # The same people's orders, far enough around to hold everything the evaluation needs.
        g_lo = min(o.start_at for o in given.values())
        g_hi = max(o.end_at for o in given.values())
        fetched = (g_lo - _SPAN, g_hi + _SPAN + _LONGEST)
        rows.add(
            session.execute(
                st.people, {"cg_ids": sorted(cg_ids), "lo": fetched[0], "hi": fetched[1]}
            )
        )
    # What validate_orders evaluates: the given open orders and the people's open orders within
    # a WINDOW of them.
    full = {o.id: o for o in given.values() if o.status in v.OPEN_STATUSES}
    for o in rows.orders.values():
        if g_lo - v.WINDOW <= o.start_at <= g_hi + v.WINDOW and o.status in v.OPEN_STATUSES:
            full.setdefault(o.id, o)
    if not full:
        return Plan({}, {}, {}, configs, None, cg_ids)  # only frozen orders: nothing to do
    lo = min(o.start_at for o in full.values()) - v.WINDOW
    hi = max(o.end_at for o in full.values()) + v.WINDOW
    if lo - PHOTO_HORIZON < fetched[0] or hi + PHOTO_HORIZON > fetched[1]:
        # An order longer than a day: the generic loader, with every registration of the person.
        persons = [o.person for o in given.values()]
        cg_ids.update(
            session.scalars(select(Caregiver.id).where(Caregiver.person_hash.in_(persons)))
        )
        return _generic(session, given, cg_ids, configs)

    # The evaluated orders' clients, their months when they have an entitlement, and the orders
    # that used the evaluated orders' photos (same photo, or same perceptual hash).
    target_photos = sorted({p for oid in full for p in rows.order_photos.get(oid, ())})
    phashes = sorted(
        {f"{rows.photos[p].phash:016x}" for p in target_photos if rows.photos[p].phash is not None}
    )
    span = PHOTO_HORIZON if target_photos else timedelta(0)
    clients = sorted({o.client_id for o in full.values()} | {o.client_id for o in given.values()})
    starts = [o.start_at for o in (*full.values(), *given.values())]
    rows.add(
        session.execute(
            st.around,
            {
                "clients": clients,
                "near_lo": lo - span,
                "near_hi": hi + span,
                "entitled": [c for c in clients if rows.clients[c][2] is not None],
                "month_lo": v._month_bounds(min(starts))[1],
                "month_hi": v._month_bounds(max(starts))[2],
                "photo_ids": target_photos,
                "phashes": phashes,
            },
        )
    )

    ctx = _context(rows, full, cg_ids, lo, hi, target_photos, set(phashes), services)
    by_client = _by_client(rows.orders.values())
    entitled = {c for c, (_, _, minutes) in rows.clients.items() if minutes is not None}
    extra = _later(given, full, by_client, entitled)
    for oid, o in extra.items():
        ctx.orders.setdefault(oid, o)
    _side(session, st, ctx, rows, lo, hi)
    targets = {**full, **extra}
    cache = _months(rows, by_client, targets)
    v._load_month_minutes(session, ctx, targets, cache)
    v._prefill_travel(ctx, full, cache.travel)
    ctx.travel_seconds = cache.travel
    return Plan(full, {oid: {"OVER_ENTITLEMENT"} for oid in extra}, extra, configs, ctx, cg_ids)


def _context(
    rows: _Rows,
    full: dict[int, OrderData],
    cg_ids: set[int],
    lo: datetime,
    hi: datetime,
    target_photos: list[int],
    phashes: set[str],
    services: dict[int, ServiceData],
) -> Context:
    """The steps of ``validation._load_context``, on rows already read."""
    ctx = Context()
    ctx.orders.update(full)
    ctx.services = services
    clients = {o.client_id for o in full.values()}
    cgs = {o.caregiver_id for o in full.values()} | cg_ids

    def near(o: OrderData) -> bool:
        return o.caregiver_id in cgs or o.client_id in clients

    for oid, o in rows.orders.items():
        if near(o) and lo <= o.start_at <= hi:
            ctx.orders.setdefault(oid, o)

    def take(oids: Iterable[int]) -> None:
        for oid in oids:
            if oid in rows.events:
                ctx.events[oid] = rows.events[oid]
            for pid in rows.order_photos.get(oid, ()):
                ctx.photos[pid] = rows.photos[pid]

    take(list(ctx.orders))
    # Photo partners: every order anywhere whose events carry one of the evaluated orders'
    # photos, or a photo of the same perceptual hash.
    if target_photos:
        mine = set(target_photos)
        pairs = [
            (oid, pid)
            for oid in sorted(rows.partners)
            for pid in sorted(rows.order_photos.get(oid, ()))
            if pid in mine or rows.raw_phash.get(pid) in phashes
        ]
        if any(oid not in ctx.orders for oid, _ in pairs):
            added = [oid for oid in sorted(rows.partners) if oid not in ctx.orders]
            for oid in added:
                ctx.orders[oid] = rows.orders[oid]
            take(added)
        for oid, pid in pairs:
            ctx.photo_orders.setdefault(pid, set()).add(oid)
            photo = ctx.photos.get(pid)
            if photo is not None and photo.phash is not None:
                ctx.phash_orders.setdefault(photo.phash, set()).add((oid, pid))
    ctx.rebuild_indexes()

    # Photo history: the same people's and clients' photo-bearing orders within the horizon.
    if any(ctx.photo_ids(oid) for oid in full):
        persons = {o.person for o in full.values()}
        history: dict[tuple[str, object], set[tuple[datetime, int, int]]] = {}
        for oid, pids in rows.order_photos.items():
            o = rows.orders[oid]
            if not near(o) or not lo - PHOTO_HORIZON <= o.start_at <= hi + PHOTO_HORIZON:
                continue
            for pid in pids:
                if rows.raw_phash.get(pid) is None:
                    continue
                o = ctx.orders.get(oid) or o
                ctx.orders.setdefault(oid, o)
                ctx.photos.setdefault(pid, rows.photos[pid])
                ctx.history_photo_ids.setdefault(oid, set()).add(pid)
                ctx._photo_ids.pop(oid, None)
                entry = (o.start_at, oid, pid)
                if o.person in persons:
                    history.setdefault(("p", o.person), set()).add(entry)
                if o.client_id in clients:
                    history.setdefault(("c", o.client_id), set()).add(entry)
        ctx.photo_history = {k: sorted(s) for k, s in history.items()}
    return ctx


def _by_client(orders: Iterable[OrderData]) -> dict[int, list[OrderData]]:
    out: dict[int, list[OrderData]] = {}
    for o in orders:
        out.setdefault(o.client_id, []).append(o)
    return out


def _later(
    given: dict[int, OrderData],
    full: dict[int, OrderData],
    by_client: dict[int, list[OrderData]],
    entitled: set[int],
) -> dict[int, OrderData]:
    """Later open orders of each given order's client in its month, if the client has an
    entitlement: their running total moved. ``by_client`` holds at least those orders."""
    later: dict[int, OrderData] = {}
    for g in given.values():
        if g.client_id not in entitled:
            continue
        month_end = v._month_bounds(g.start_at)[2]
        for o in by_client.get(g.client_id, ()):
            if g.start_at < o.start_at < month_end and o.status in v.OPEN_STATUSES:
                later[o.id] = o
    return {oid: later[oid] for oid in sorted(set(later) - set(full))}


def _generic(
    session: Session,
    given: dict[int, OrderData],
    cg_ids: set[int],
    configs: dict[str, RuleConfig],
) -> Plan:
    """What to evaluate, for ``validation._load_context`` to load: the given open orders, the
    people's open orders within a WINDOW, the entitled clients' later orders (two queries)."""
    g_lo = min(o.start_at for o in given.values())
    g_hi = max(o.end_at for o in given.values())
    full = {o.id: o for o in given.values() if o.status in v.OPEN_STATUSES}
    for r in session.execute(
        v._order_select().where(
            v._in(session, WorkOrder.caregiver_id, sorted(cg_ids)),
            WorkOrder.start_at >= g_lo - v.WINDOW,
            WorkOrder.start_at <= g_hi + v.WINDOW,
            WorkOrder.status.in_(v.OPEN_STATUSES),
        )
    ):
        full.setdefault(r[0], v._order(r))
    if not full:
        return Plan({}, {}, {}, configs, None, cg_ids)  # only frozen orders: nothing to do
    clients = sorted({o.client_id for o in given.values()})
    months_end = max(v._month_bounds(o.start_at)[2] for o in given.values())
    rows = [
        v._order(r)
        for r in session.execute(
            v._order_select()
            .join(Client, Client.id == WorkOrder.client_id)
            .where(
                v._in(session, WorkOrder.client_id, clients),
                Client.monthly_entitlement_min.is_not(None),
                WorkOrder.start_at > g_lo,
                WorkOrder.start_at < months_end,
                WorkOrder.status.in_(v.OPEN_STATUSES),
            )
        )
    ]
    extra = _later(given, full, _by_client(rows), {o.client_id for o in rows})
    partial = {oid: {"OVER_ENTITLEMENT"} for oid in extra}
    return Plan(full, partial, extra, configs, None, cg_ids)


def _months(
    rows: _Rows, by_client: dict[int, list[OrderData]], targets: dict[int, OrderData]
) -> v._Cache:
    """The months of the targets' entitled clients, as ``validation._load_month_minutes``
    would read them, so that it computes the running totals without a query."""
    cache = v._Cache()
    for o in targets.values():
        if rows.clients[o.client_id][2] is None:
            continue
        month, start, end = v._month_bounds(o.start_at)
        if (o.client_id, month) not in cache.months:
            cache.months[(o.client_id, month)] = sorted(
                (r.start_at, r.id, r.billable_min, r.status)
                for r in by_client.get(o.client_id, ())
                if start <= r.start_at < end
            )
    return cache


def _side(
    session: Session, st: _Statements, ctx: Context, rows: _Rows, lo: datetime, hi: datetime
) -> None:
    """Clients, caregivers and visits of the context, as ``validation._load_reference`` reads
    them: absences, skills, certificates and visits come in one UNION ALL."""
    orders = list(ctx.orders.values())
    client_ids = sorted({o.client_id for o in orders})
    cg_ids = sorted({o.caregiver_id for o in orders})
    absences: dict[int, list[tuple[datetime, datetime, str]]] = {}
    skills: dict[int, set[str]] = {}
    certs: dict[int, list[tuple[str | None, str, Any]]] = {}
    visits: list[tuple[VisitData, date]] = []
    params = {
        "clients": client_ids,
        "cg_ids": cg_ids,
        "visit_ids": sorted({o.visit_id for o in orders if o.visit_id is not None}),
        "unplanned": sorted({o.client_id for o in orders if o.visit_id is None}),
        "day_lo": (lo - timedelta(days=1)).date(),
        "day_hi": (hi + timedelta(days=1)).date(),
    }
    for tag, owner, t1, t2, s1, s2, d, i1, i2, i3, i4 in session.execute(st.side, params):
        if tag == "a":
            absences.setdefault(owner, []).append((t1, t2, s1))
        elif tag == "s":
            skills.setdefault(owner, set()).add(s1)
        elif tag == "c":
            certs.setdefault(owner, []).append((s1, s2, d))
        else:
            visits.append((VisitData(i1, owner, i2, t1, t2, i3, s1, i4, s2), d))
    for cid in client_ids:
        lat, lon, entitlement = rows.clients[cid]
        mine = sorted(absences.get(cid, ()), key=lambda a: a[0])
        ctx.clients[cid] = ClientData(cid, lat, lon, entitlement, tuple(mine))
    persons = {o.caregiver_id: o.person for o in orders}
    for cid in cg_ids:
        ctx.caregivers[cid] = CaregiverData(
            cid,
            persons[cid],
            rows.modes[cid],
            frozenset(skills.get(cid, ())),
            tuple(certs.get(cid, ())),
        )
    for data, day in visits:
        ctx.visits[data.id] = data
        ctx.client_visits.setdefault((data.client_id, day), []).append(data)
