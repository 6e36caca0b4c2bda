"""The rules engine: loads plain data for the rules, runs them, and reconciles the flags.

Incremental (``validate_orders``) and batch (``validate_period``) share one pipeline: a set of
orders is *evaluated* with every enabled rule against a context loaded around it, and the
findings are reconciled with the stored flags whose identity (order, code, other order) falls in
the evaluation's scope. A flag that holds again is found again (no duplicate), a flag that no
longer holds is closed with the reason, an overridden flag stays overridden. Orders already
approved, rejected or billed are frozen: the rules neither add nor close flags on them.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, bindparam, cast, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT
from sqlalchemy.orm import Session

from dispatch import config
from dispatch.models import (
    AuditEntry,
    Caregiver,
    CaregiverSkill,
    Certificate,
    Client,
    ClientAbsence,
    Flag,
    Photo,
    RuleSetting,
    ServiceType,
    Visit,
    VisitEvent,
    WorkOrder,
)
from dispatch.rules import RULES, RuleConfig
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
from dispatch.tenancy import SYSTEM, Actor

log = logging.getLogger(__name__)

OPEN_STATUSES = ("submitted", "flagged", "verified")
FROZEN_STATUSES = ("approved", "rejected", "billed")
HOLDING = ("block", "review")
# Neighbours that can matter to an order: overlaps and travel gaps within a day, the local day.
WINDOW = timedelta(hours=36)
BATCH_CHUNK = 20_000


# --------------------------------------------------------------------------- configuration


# What the rules read of the rule settings and of the service catalogue; the incremental path
# caches both, keyed by a fingerprint of exactly these columns.
RULE_SETTING_COLS = (
    RuleSetting.code,
    RuleSetting.threshold,
    RuleSetting.severity,
    RuleSetting.enabled,
)
SERVICE_COLS = (
    ServiceType.id,
    ServiceType.code,
    ServiceType.required_skill,
    ServiceType.photo_required,
    ServiceType.caregivers_needed,
    ServiceType.default_duration_min,
)


def rule_configs(session: Session) -> dict[str, RuleConfig]:
    """Every registered rule with the database's settings over the registry defaults.

    Columns, not ORM objects: an object already in the session would show its old values after
    a change made in SQL (another process's, or a bulk UPDATE).
    """
    rows = {r.code: r for r in session.execute(select(*RULE_SETTING_COLS))}
    return {code: _in_force(code, rows.get(code)) for code in RULES}


def rule_config(session: Session, code: str) -> RuleConfig:
    """One registered rule's settings in force (one row read)."""
    row = session.execute(select(*RULE_SETTING_COLS).where(RuleSetting.code == code)).first()
    return _in_force(code, row)


def _in_force(code: str, row: Any) -> RuleConfig:
    """A settings row (or None) over the registry's defaults."""
    r = RULES[code]
    threshold = r.default
    if row is not None and row.threshold is not None and r.default is not None:
        threshold = row.threshold
    return RuleConfig(
        code=code,
        threshold=threshold,
        severity=(row.severity.value if row is not None and row.severity else r.severity),
        enabled=row.enabled if row is not None else True,
    )


def load_services(session: Session) -> dict[int, ServiceData]:
    """The service catalogue as the rules see it (columns, as in ``rule_configs``)."""
    return {
        s.id: ServiceData(
            s.id,
            s.code,
            s.required_skill,
            bool(s.photo_required),
            s.caregivers_needed,
            s.default_duration_min,
        )
        for s in session.execute(select(*SERVICE_COLS))
    }


class _Travel:
    """The router's travel model, with a cache and a vectorised fill for the geodesic model."""

    def __init__(self) -> None:
        # The router's own model, so that a route it planned never looks impossible here.
        from routing import GeodesicTravel

        self.model = GeodesicTravel()
        self.cache: dict[tuple[float, float, float, float, str], int] = {}

    def _mode(self, mode: str) -> str:
        return mode if mode in self.model.speeds_mps else "ebike"

    def __call__(self, a: tuple[float, float], b: tuple[float, float], mode: str) -> int:
        key = (a[0], a[1], b[0], b[1], mode)
        hit = self.cache.get(key)
        if hit is None:
            from routing import Location

            m = self.model.matrix([Location(*a)], [Location(*b)], self._mode(mode))
            hit = self.cache[key] = int(m.seconds[0, 0])
        return hit

    def prefill(self, pairs: list[tuple[float, float, float, float, str]]) -> None:
        """Element-wise the same arithmetic as ``GeodesicTravel.matrix`` (one pair per row)."""
        import numpy as np

        from routing.travel import great_circle_m

        todo = [p for p in set(pairs) if p not in self.cache]
        if not todo:
            return
        arr = np.array([p[:4] for p in todo], dtype=float)
        metres = great_circle_m(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3])
        metres = metres * self.model.detour_factor
        speeds = np.array([self.model.speeds_mps[self._mode(p[4])] for p in todo], dtype=float)
        seconds = np.ceil(metres / speeds - 1e-9).astype(np.int64)
        for p, sec in zip(todo, seconds.tolist(), strict=True):
            self.cache[p] = int(sec)


def _prefill_travel(ctx: Context, targets: dict[int, OrderData], travel: _Travel) -> None:
    pairs = []
    for person in {o.person for o in targets.values()}:
        rows = ctx.by_person.get(person, [])
        for a, b in itertools.pairwise(rows):
            ca, cb = ctx.clients.get(a.client_id), ctx.clients.get(b.client_id)
            cg = ctx.caregivers.get(b.caregiver_id)
            if ca is None or cb is None or (ca.lat, ca.lon) == (cb.lat, cb.lon):
                continue
            mode = cg.travel_mode if cg else "ebike"
            pairs.append((ca.lat, ca.lon, cb.lat, cb.lon, mode))
    travel.prefill(pairs)


# --------------------------------------------------------------------------- loading


def _in(session: Session, column: Any, values: Iterable[Any]) -> Any:
    values = list(values)
    if session.get_bind().dialect.name == "postgresql" and values and isinstance(values[0], int):
        return column == func.any(bindparam(None, values, type_=ARRAY(BIGINT)))
    return column.in_(values)


_ORDER_COLS = (
    WorkOrder.id,
    WorkOrder.provider_id,
    WorkOrder.client_id,
    WorkOrder.caregiver_id,
    WorkOrder.service_type_id,
    WorkOrder.visit_id,
    WorkOrder.source,
    WorkOrder.start_at,
    WorkOrder.end_at,
    WorkOrder.billable_min,
    WorkOrder.status,
)


def _order_select() -> Any:
    person = func.coalesce(Caregiver.person_hash, "cg:" + cast(Caregiver.id, String))
    return select(*_ORDER_COLS, person).join(Caregiver, Caregiver.id == WorkOrder.caregiver_id)


def _order(row: Any) -> OrderData:
    return OrderData(
        id=row[0],
        provider_id=row[1],
        client_id=row[2],
        caregiver_id=row[3],
        service_type_id=row[4],
        visit_id=row[5],
        source=str(row[6].value if hasattr(row[6], "value") else row[6]),
        start_at=row[7],
        end_at=row[8],
        billable_min=row[9],
        status=str(row[10].value if hasattr(row[10], "value") else row[10]),
        person=row[11],
    )


@dataclass
class _Cache:
    """What a batch run loads once and reuses across its chunks."""

    services: dict[int, ServiceData] | None = None
    travel: _Travel = field(default_factory=_Travel)
    months: dict[tuple[int, str], list[tuple[datetime, int, int, str]]] = field(
        default_factory=dict
    )


def _month_bounds(at: datetime) -> tuple[str, datetime, datetime]:
    local = at.astimezone(config.zone())
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    nxt = (start + timedelta(days=32)).replace(day=1)
    return start.strftime("%Y-%m"), start.astimezone(UTC), nxt.astimezone(UTC)


def _load_context(
    session: Session,
    targets: dict[int, OrderData],
    cache: _Cache,
    extra: dict[int, OrderData] | None = None,
    known_cg_ids: set[int] | None = None,
) -> Context:
    """``extra`` orders join only for rules that need no neighbours (OVER_ENTITLEMENT).

    ``known_cg_ids``: every registration of the targets' people, when the caller has them.
    """
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
        _in(session, WorkOrder.caregiver_id, sorted(cg_ids)),
        _in(session, WorkOrder.client_id, sorted(clients)),
    )
    for row in session.execute(
        _order_select().where(near, WorkOrder.start_at >= lo, WorkOrder.start_at <= hi)
    ):
        ctx.orders.setdefault(row[0], _order(row))

    _load_events(session, ctx, list(ctx.orders.values()))
    _load_photo_partners(session, ctx, targets)
    ctx.rebuild_indexes()
    _load_photo_history(session, ctx, targets, sorted(cg_ids), sorted(clients), lo, hi)
    for oid, o in (extra or {}).items():
        ctx.orders.setdefault(oid, o)

    _load_reference(session, ctx, cache, lo, hi)
    _load_month_minutes(session, ctx, {**targets, **(extra or {})}, cache)
    _prefill_travel(ctx, targets, cache.travel)
    ctx.travel_seconds = cache.travel
    return ctx


def _load_events(session: Session, ctx: Context, orders: Sequence[OrderData]) -> None:
    by_visit: dict[tuple[int, int], int] = {
        (o.visit_id, o.caregiver_id): o.id for o in orders if o.visit_id is not None
    }
    if not by_visit:
        return
    cols = (
        VisitEvent.visit_id,
        VisitEvent.caregiver_id,
        VisitEvent.kind,
        VisitEvent.lat,
        VisitEvent.lon,
        VisitEvent.accuracy_m,
        VisitEvent.mock_location,
        VisitEvent.device_time_at,
        VisitEvent.received_at,
        VisitEvent.photo_id,
    )
    visit_ids = sorted({v for v, _ in by_visit})
    for r in session.execute(select(*cols).where(_in(session, VisitEvent.visit_id, visit_ids))):
        oid = by_visit.get((r[0], r[1]))
        if oid is None:
            continue
        kind = str(r[2].value if hasattr(r[2], "value") else r[2])
        ctx.events.setdefault(oid, {})[kind] = EventData(
            kind, r[3], r[4], r[5], bool(r[6]), r[7], r[8], r[9]
        )


def _load_photo_partners(session: Session, ctx: Context, targets: dict[int, OrderData]) -> None:
    """Photos of the context, and every order anywhere that used the targets' photos."""
    photo_ids = {pid for oid in ctx.orders for pid in ctx.photo_ids(oid)}
    if not photo_ids:
        return
    for p in session.execute(
        select(Photo.id, Photo.sha256, Photo.phash, Photo.exif_taken_at).where(
            _in(session, Photo.id, sorted(photo_ids))
        )
    ):
        ctx.photos[p[0]] = PhotoData(p[0], p[1], int(p[2], 16) if p[2] else None, p[3])
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
            _in(session, VisitEvent.photo_id, sorted(same))
        )
    ).all()
    missing_visits = sorted({v for v, c, _ in pairs})
    known = {(o.visit_id, o.caregiver_id): o.id for o in ctx.orders.values() if o.visit_id}
    if any((v, c) not in known for v, c, _ in pairs):
        extra = [
            _order(r)
            for r in session.execute(
                _order_select().where(_in(session, WorkOrder.visit_id, missing_visits))
            )
        ]
        extra = [o for o in extra if o.id not in ctx.orders]
        for o in extra:
            ctx.orders[o.id] = o
            known[(o.visit_id, o.caregiver_id)] = o.id
        _load_events(session, ctx, extra)
        new_photos = {pid for o in extra for pid in ctx.photo_ids(o.id)} - set(ctx.photos)
        if new_photos:
            for p in session.execute(
                select(Photo.id, Photo.sha256, Photo.phash, Photo.exif_taken_at).where(
                    _in(session, Photo.id, sorted(new_photos))
                )
            ):
                ctx.photos[p[0]] = PhotoData(p[0], p[1], int(p[2], 16) if p[2] else None, p[3])
    for v, c, pid in pairs:
        oid = known.get((v, c))
        if oid is None:
            continue
        ctx.photo_orders.setdefault(pid, set()).add(oid)
        photo = ctx.photos.get(pid)
        if photo is not None and photo.phash is not None:
            ctx.phash_orders.setdefault(photo.phash, set()).add((oid, pid))


def _load_photo_history(
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
    person = func.coalesce(Caregiver.person_hash, "cg:" + cast(Caregiver.id, String))
    stmt = (
        select(*_ORDER_COLS, person, Photo.id, Photo.sha256, Photo.phash, Photo.exif_taken_at)
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
                _in(session, WorkOrder.caregiver_id, cg_ids),
                _in(session, WorkOrder.client_id, clients),
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
        o = ctx.orders.get(r[0]) or _order(r)
        ctx.orders.setdefault(o.id, o)
        pid = r[12]
        if pid not in ctx.photos:
            ctx.photos[pid] = PhotoData(pid, r[13], int(r[14], 16) if r[14] else None, r[15])
        ctx.history_photo_ids.setdefault(o.id, set()).add(pid)
        ctx._photo_ids.pop(o.id, None)
        entry = (o.start_at, o.id, pid)
        if o.person in persons:
            history.setdefault(("p", o.person), set()).add(entry)
        if o.client_id in client_set:
            history.setdefault(("c", o.client_id), set()).add(entry)
    ctx.photo_history = {k: sorted(v) for k, v in history.items()}


def _load_reference(
    session: Session, ctx: Context, cache: _Cache, lo: datetime, hi: datetime
) -> None:
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
        )
        .where(_in(session, ClientAbsence.client_id, client_ids))
        .order_by(ClientAbsence.start_at)
    ):
        absences.setdefault(a[0], []).append((a[1], a[2], str(getattr(a[3], "value", a[3]))))
    for c in session.execute(
        select(Client.id, Client.lat, Client.lon, Client.monthly_entitlement_min).where(
            _in(session, Client.id, client_ids)
        )
    ):
        ctx.clients[c[0]] = ClientData(c[0], c[1], c[2], c[3], tuple(absences.get(c[0], ())))

    cg_ids = sorted({o.caregiver_id for o in orders})
    skills: dict[int, set[str]] = {}
    for cid, skill in session.execute(
        select(CaregiverSkill.caregiver_id, CaregiverSkill.skill).where(
            _in(session, CaregiverSkill.caregiver_id, cg_ids)
        )
    ):
        skills.setdefault(cid, set()).add(skill)
    certs: dict[int, list[tuple[str | None, str, Any]]] = {}
    for cid, skill, kind, expires in session.execute(
        select(
            Certificate.caregiver_id, Certificate.skill, Certificate.kind, Certificate.expires_on
        ).where(_in(session, Certificate.caregiver_id, cg_ids))
    ):
        certs.setdefault(cid, []).append((skill, kind, expires))
    for cid, person_hash, mode in session.execute(
        select(Caregiver.id, Caregiver.person_hash, Caregiver.travel_mode).where(
            _in(session, Caregiver.id, cg_ids)
        )
    ):
        ctx.caregivers[cid] = CaregiverData(
            cid,
            person_hash or f"cg:{cid}",
            str(getattr(mode, "value", mode)),
            frozenset(skills.get(cid, ())),
            tuple(certs.get(cid, ())),
        )

    visit_cols = (
        Visit.id,
        Visit.client_id,
        Visit.service_type_id,
        Visit.window_start_at,
        Visit.window_end_at,
        Visit.duration_min,
        Visit.required_skill,
        Visit.caregivers_needed,
        Visit.status,
        Visit.date,
    )
    visit_ids = sorted({o.visit_id for o in orders if o.visit_id is not None})
    unplanned_clients = sorted({o.client_id for o in orders if o.visit_id is None})
    conds = []
    if visit_ids:
        conds.append(_in(session, Visit.id, visit_ids))
    if unplanned_clients:
        conds.append(
            and_(
                _in(session, Visit.client_id, unplanned_clients),
                Visit.date >= (lo - timedelta(days=1)).date(),
                Visit.date <= (hi + timedelta(days=1)).date(),
            )
        )
    if conds:
        for v in session.execute(select(*visit_cols).where(or_(*conds))):
            data = VisitData(
                v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], str(getattr(v[8], "value", v[8]))
            )
            ctx.visits[v[0]] = data
            ctx.client_visits.setdefault((v[1], v[9]), []).append(data)


def _load_month_minutes(
    session: Session, ctx: Context, targets: dict[int, OrderData], cache: _Cache
) -> None:
    """For each target, the client's billable minutes earlier in the same local month."""
    wanted: dict[tuple[int, str], tuple[datetime, datetime]] = {}
    for o in targets.values():
        client = ctx.clients.get(o.client_id)
        if client is None or client.monthly_entitlement_min is None:
            continue
        month, start, end = _month_bounds(o.start_at)
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
                _in(session, WorkOrder.client_id, cids),
                WorkOrder.start_at >= start,
                WorkOrder.start_at < end,
            )
        ):
            cache.months[(r[0], month)].append(
                (r[1], r[2], r[3], str(getattr(r[4], "value", r[4])))
            )
        for cid in cids:
            cache.months[(cid, month)].sort()
    for o in targets.values():
        client = ctx.clients.get(o.client_id)
        if client is None or client.monthly_entitlement_min is None:
            continue
        month = _month_bounds(o.start_at)[0]
        before = 0
        for start_at, oid, minutes, status in cache.months.get((o.client_id, month), ()):
            if (start_at, oid) >= (o.start_at, o.id):
                break
            if status != "rejected":
                before += minutes
        ctx.month_before_min[o.id] = before


# --------------------------------------------------------------------------- evaluation


@dataclass
class RunStats:
    evaluated: int = 0
    opened: int = 0
    reopened: int = 0
    updated: int = 0
    closed: int = 0
    flagged: int = 0
    verified: int = 0
    by_code: dict[str, int] = field(default_factory=dict)

    def add(self, other: RunStats) -> None:
        for name in ("evaluated", "opened", "reopened", "updated", "closed", "flagged", "verified"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for code, n in other.by_code.items():
            self.by_code[code] = self.by_code.get(code, 0) + n

    def as_dict(self) -> dict[str, Any]:
        return {
            "evaluated": self.evaluated,
            "opened": self.opened,
            "reopened": self.reopened,
            "updated": self.updated,
            "closed": self.closed,
            "flagged": self.flagged,
            "verified": self.verified,
            "open_findings_by_code": dict(sorted(self.by_code.items())),
        }


def evaluate(
    ctx: Context,
    full: Iterable[int],
    partial: dict[int, set[str]],
    configs: dict[str, RuleConfig],
) -> dict[tuple[int, str, int], Any]:
    """Run the enabled rules; answers findings by identity (order, code, other order)."""
    ctx.thresholds = {c: cfg.threshold for c, cfg in configs.items()}
    findings: dict[tuple[int, str, int], Any] = {}
    enabled = [(RULES[c], cfg) for c, cfg in configs.items() if cfg.enabled and c in RULES]
    full_set = set(full)
    for oid in sorted(full_set | set(partial)):
        order = ctx.orders[oid]
        codes = None if oid in full_set else partial[oid]
        for r, cfg in enabled:
            if codes is not None and r.code not in codes:
                continue
            for f in r.func(order, ctx, cfg.threshold):
                if f.work_order_id != oid and not (r.pairwise and f.other_id == oid):
                    continue
                findings[f.key] = f
    return findings


def _run(
    session: Session,
    targets: dict[int, OrderData],
    partial: dict[int, set[str]],
    extra: dict[int, OrderData],
    configs: dict[str, RuleConfig],
    cache: _Cache,
    actor: Actor,
    *,
    audit_each: bool = True,
    known_cg_ids: set[int] | None = None,
    ctx: Context | None = None,
) -> RunStats:
    """Evaluate ``targets`` (all rules) and ``partial`` (some codes), reconcile, set statuses.

    ``ctx``: the context, when the caller loaded it already (the incremental path).
    """
    stats = RunStats()
    if ctx is None:
        ctx = _load_context(session, targets, cache, extra, known_cg_ids)
    full = set(targets)
    findings = evaluate(ctx, full, partial, configs)
    stats.evaluated = len(full)
    pairwise = {c for c, r in RULES.items() if r.pairwise}
    frozen = {oid for oid, o in ctx.orders.items() if o.status in FROZEN_STATUSES}
    findings = {k: f for k, f in findings.items() if k[0] not in frozen}

    # Stored flags in scope: every flag of a fully evaluated order, the partial codes, and the
    # partners' pairwise flags that name an evaluated order.
    evaluated = sorted(full | set(partial))
    existing: dict[tuple[int, str, int], Any] = {}
    flag_cols = (
        Flag.id,
        Flag.work_order_id,
        Flag.code,
        Flag.other_work_order_id,
        Flag.status,
        Flag.severity,
        Flag.evidence,
    )
    for r in session.execute(
        select(*flag_cols).where(
            or_(
                _in(session, Flag.work_order_id, evaluated),
                and_(
                    _in(session, Flag.other_work_order_id, sorted(full)),
                    Flag.code.in_(sorted(pairwise)),
                ),
            )
        )
    ):
        oid, code, other = r[1], r[2], r[3]
        in_scope = (
            oid in full
            or (oid in partial and code in partial[oid])
            or (other in full and code in pairwise)
        )
        if in_scope and oid not in frozen:
            existing[(oid, code, other)] = r
    now = datetime.now(UTC)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    changes: dict[int, dict[str, list[str]]] = {}

    def note(oid: int, what: str, code: str) -> None:
        changes.setdefault(oid, {}).setdefault(what, []).append(code)

    for key, f in findings.items():
        severity = configs[f.code].severity
        row = existing.get(key)
        if row is None:
            inserts.append(
                {
                    "work_order_id": f.work_order_id,
                    "code": f.code,
                    "other_work_order_id": f.other_id,
                    "severity": severity,
                    "status": "open",
                    "evidence": f.evidence,
                    "created_at": now,
                }
            )
            stats.opened += 1
            note(f.work_order_id, "opened", f.code)
            continue
        status = str(getattr(row[4], "value", row[4]))
        old_sev = str(getattr(row[5], "value", row[5]))
        if status == "closed":
            updates.append(
                {
                    "fid": row[0],
                    "status": "open",
                    "severity": severity,
                    "evidence": f.evidence,
                    "resolution": None,
                    "resolved_at": None,
                    "updated_at": now,
                }
            )
            stats.reopened += 1
            note(f.work_order_id, "reopened", f.code)
        elif status == "open" and (old_sev != severity or row[6] != f.evidence):
            updates.append(
                {
                    "fid": row[0],
                    "status": "open",
                    "severity": severity,
                    "evidence": f.evidence,
                    "resolution": None,
                    "resolved_at": None,
                    "updated_at": now,
                }
            )
            stats.updated += 1
    for key, row in existing.items():
        status = str(getattr(row[4], "value", row[4]))
        if key in findings or status != "open":
            continue
        code = key[1]
        cfg = configs.get(code)
        if cfg is None or not cfg.enabled:
            why = f"no longer holds: rule {code} is disabled"
        else:
            why = (
                f"no longer holds: {code} re-evaluated at threshold {cfg.threshold} on current data"
            )
        updates.append(
            {
                "fid": row[0],
                "status": "closed",
                "severity": str(getattr(row[5], "value", row[5])),
                "evidence": row[6],
                "resolution": why,
                "resolved_at": now,
                "updated_at": now,
            }
        )
        stats.closed += 1
        note(key[0], "closed", code)
    if inserts:
        session.execute(insert(Flag), inserts)
    if updates:
        session.execute(
            update(Flag.__table__)
            .where(Flag.__table__.c.id == bindparam("fid"))
            .values(
                status=bindparam("status"),
                severity=bindparam("severity"),
                evidence=bindparam("evidence"),
                resolution=bindparam("resolution"),
                resolved_at=bindparam("resolved_at"),
                updated_at=bindparam("updated_at"),
            ),
            updates,
        )

    # Statuses: evaluated orders and partners whose flags changed, unless frozen.
    touched = (set(evaluated) | set(changes)) - frozen
    touched = {oid for oid in touched if oid in ctx.orders}
    # Every flag of a fully evaluated order is in scope: whether it holds is known here. Only
    # partners and OVER_ENTITLEMENT-only orders need asking.
    holding: set[int] = set()
    for key, f in findings.items():
        if f.work_order_id not in full or configs[f.code].severity not in HOLDING:
            continue
        row = existing.get(key)
        if row is None or str(getattr(row[4], "value", row[4])) != "overridden":
            holding.add(f.work_order_id)
    ask = sorted(touched - full)
    if ask:
        holding.update(
            session.scalars(
                select(Flag.work_order_id)
                .where(
                    _in(session, Flag.work_order_id, ask),
                    Flag.status == "open",
                    Flag.severity.in_(HOLDING),
                )
                .distinct()
            )
        )
    to_flag = sorted(
        oid for oid in touched if oid in holding and ctx.orders[oid].status != "flagged"
    )
    to_verify = sorted(
        oid for oid in touched if oid not in holding and ctx.orders[oid].status != "verified"
    )
    for ids, status in ((to_flag, "flagged"), (to_verify, "verified")):
        if ids:
            session.execute(
                update(WorkOrder.__table__)
                .where(_in(session, WorkOrder.__table__.c.id, ids))
                .values(status=status)
            )
    stats.flagged = sum(1 for oid in touched if oid in holding)
    stats.verified = len(touched) - stats.flagged
    for f in findings.values():
        if f.work_order_id in full:
            stats.by_code[f.code] = stats.by_code.get(f.code, 0) + 1

    new_status = {oid: "flagged" for oid in to_flag} | {oid: "verified" for oid in to_verify}
    audit_ids = set(new_status) | set(changes)
    if audit_each and audit_ids:
        session.execute(
            insert(AuditEntry),
            [
                {
                    "at": now,
                    "actor_user_id": actor.user_id,
                    "actor_role": actor.role.value,
                    "provider_id": ctx.orders[oid].provider_id,
                    "action": "work_order.validate",
                    "entity_type": "work_orders",
                    "entity_id": oid,
                    "before": {"status": ctx.orders[oid].status},
                    "after": {
                        "status": new_status.get(oid, ctx.orders[oid].status),
                        **changes.get(oid, {}),
                    },
                    "reason": "validation rules",
                }
                for oid in sorted(audit_ids)
            ],
        )
    _expire(session, touched | set(changes))
    return stats


def _expire(session: Session, order_ids: set[int]) -> None:
    """Objects already in the session must not show the statuses and flags from before."""
    for obj in list(session.identity_map.values()):
        if (isinstance(obj, WorkOrder) and obj.id in order_ids) or (
            isinstance(obj, Flag) and obj.work_order_id in order_ids
        ):
            session.expire(obj)


def _load_targets(session: Session, ids: Iterable[int]) -> dict[int, OrderData]:
    ids = sorted(set(ids))
    if not ids:
        return {}
    return {
        r[0]: _order(r)
        for r in session.execute(_order_select().where(_in(session, WorkOrder.id, ids)))
    }


def validate_orders(session: Session, order_ids: Iterable[int], actor: Actor = SYSTEM) -> RunStats:
    """Run every rule on the given work orders and set each to ``flagged`` or ``verified``.

    Orders whose flags depend on these are re-evaluated too: the same person's open orders
    within a day and a half (overlap, travel, daily hours), and for OVER_ENTITLEMENT the
    client's later orders of the same month. The context is read in a few wide queries
    (``validation_incremental``), the same context ``_load_context`` would read.
    """
    from dispatch.services.validation_incremental import plan

    session.flush()
    p = plan(session, order_ids)
    if p is None:
        return RunStats()
    stats = _run(
        session,
        p.full,
        p.partial,
        p.extra,
        p.configs,
        _Cache(),
        actor,
        known_cg_ids=p.known_cg_ids,
        ctx=p.ctx,
    )
    session.flush()
    log.debug("validated %s orders: %s", len(p.full), stats.as_dict())
    return stats


def validate_period(
    session: Session,
    start: datetime,
    end: datetime,
    provider_id: int | None = None,
    actor: Actor = SYSTEM,
) -> RunStats:
    """Batch: re-evaluate every open order that starts in [start, end), all providers or one.

    On PostgreSQL the rules' set-based prefilters pick the orders that may hold a finding or
    have open flags, and only those go through the rules (``validation_batch``); the others are
    verified in one statement. Elsewhere every order goes through the rules.
    """
    session.flush()
    configs = rule_configs(session)
    if session.get_bind().dialect.name == "postgresql":
        from dispatch.services.validation_batch import run_period

        return run_period(session, start, end, provider_id, actor, configs)
    return _validate_every_order(session, start, end, provider_id, actor, configs)


def _validate_every_order(
    session: Session,
    start: datetime,
    end: datetime,
    provider_id: int | None,
    actor: Actor,
    configs: dict[str, RuleConfig],
) -> RunStats:
    """The batch without prefilters: every open order of the period through the rules."""
    cache = _Cache()
    stmt = (
        _order_select()
        .where(
            WorkOrder.start_at >= start,
            WorkOrder.start_at < end,
            WorkOrder.status.in_(OPEN_STATUSES),
        )
        .order_by(WorkOrder.start_at, WorkOrder.id)
    )
    if provider_id is not None:
        stmt = stmt.where(WorkOrder.provider_id == provider_id)
    rows = [_order(r) for r in session.execute(stmt)]
    total = RunStats()
    for i in range(0, len(rows), BATCH_CHUNK):
        chunk = {o.id: o for o in rows[i : i + BATCH_CHUNK]}
        total.add(_run(session, chunk, {}, {}, configs, cache, actor))
        session.flush()
    return total


# --------------------------------------------------------------------------- flags and rules


def list_flags(
    session: Session, actor: Actor, filters: dict[str, Any], page: int, page_size: int
) -> tuple[list[Flag], int]:
    """Flags the actor may see (a provider sees its own orders' flags), newest first."""
    from dispatch.services.crud import page_of
    from dispatch.tenancy import scoped

    stmt = select(Flag).join(WorkOrder, WorkOrder.id == Flag.work_order_id)
    stmt = scoped(stmt, WorkOrder, actor)
    simple = {
        "status": Flag.status,
        "code": Flag.code,
        "severity": Flag.severity,
        "work_order_id": Flag.work_order_id,
        "provider_id": WorkOrder.provider_id,
    }
    for name, column in simple.items():
        value = filters.get(name)
        if value is not None:
            stmt = stmt.where(column == getattr(value, "value", value))
    return page_of(session, stmt.order_by(Flag.id.desc()), page, page_size)


def describe_rules(session: Session) -> list[dict[str, Any]]:
    """Every rule: code, what it checks, its threshold and severity in force and by default."""
    configs = rule_configs(session)
    rows = {r.code: r for r in session.scalars(select(RuleSetting))}
    out = []
    for code, r in RULES.items():
        cfg, row = configs[code], rows.get(code)
        out.append(
            {
                "code": code,
                "description": r.description,
                "description_zh": r.description_zh,
                "severity": cfg.severity,
                "default_severity": r.severity,
                "threshold": cfg.threshold,
                "default_threshold": r.default,
                "unit": r.unit,
                "threshold_min": r.low,
                "threshold_max": r.high,
                "enabled": cfg.enabled,
                "pairwise": r.pairwise,
                "updated_at": row.updated_at if row is not None else None,
                "updated_by": row.updated_by if row is not None else None,
            }
        )
    return out


def update_rule(session: Session, actor: Actor, code: str, data: dict[str, Any]) -> dict[str, Any]:
    """Change a rule's threshold, severity or enabled flag; audited. Re-run a batch to apply."""
    from dispatch import audit
    from dispatch.errors import Invalid, NotFound
    from dispatch.models import Role, Severity

    actor.require(Role.admin)
    r = RULES.get(code)
    if r is None:
        raise NotFound(
            f"No rule with code {code}; GET /api/v1/rules lists them.",
            code="RULE_NOT_FOUND",
            message_zh=f"找不到规则 {code}。",
        )
    if "threshold" in data:
        why = r.check_threshold(data["threshold"])
        if why is not None:
            raise Invalid(
                why,
                code="INVALID_THRESHOLD",
                message_zh=f"规则 {code} 的阈值无效。",
                errors={"threshold": [why]},
            )
    row = session.get(RuleSetting, code)
    if row is None:
        row = RuleSetting(
            code=code, threshold=r.default, severity=Severity(r.severity), enabled=True
        )
        session.add(row)
        session.flush()
    before = audit.snapshot(row)
    if "threshold" in data:
        row.threshold = data["threshold"]
    if data.get("severity") is not None:
        row.severity = Severity(getattr(data["severity"], "value", data["severity"]))
    if data.get("enabled") is not None:
        row.enabled = data["enabled"]
    row.updated_by = actor.user_id
    row.updated_at = datetime.now(UTC)
    session.flush()
    from dispatch.services.validation_incremental import REFERENCE

    REFERENCE.clear()  # this process at once; the others see the settings' fingerprint change
    old, new = audit.changed(before, audit.snapshot(row))
    audit.record(
        session,
        actor,
        "rule.update",
        entity_type="rule_settings",
        entity_id=None,
        before={"code": code, **old},
        after={"code": code, **new},
        reason=data.get("reason"),
    )
    return next(d for d in describe_rules(session) if d["code"] == code)


def start_batch(
    session: Session, actor: Actor, start: datetime, end: datetime, provider_id: int | None
) -> dict[str, Any]:
    """Queue a batch re-validation of a period (finance, admin); answers the job id."""
    from dispatch import audit, queue
    from dispatch.errors import Invalid
    from dispatch.jobs_validation import run_batch
    from dispatch.models import Role

    actor.require(Role.admin, Role.finance)
    if end <= start:
        raise Invalid(
            "to must be after from.",
            code="INVALID_PERIOD",
            message_zh="结束时间必须晚于开始时间。",
            errors={"to": ["Must be after from."]},
        )
    if end - start > timedelta(days=400):
        raise Invalid(
            "A batch covers at most 400 days; split the period.",
            code="PERIOD_TOO_LONG",
            message_zh="批量校验最长 400 天，请拆分时间段。",
            errors={"to": ["At most 400 days after from."]},
        )
    job_id = queue.enqueue(
        session,
        run_batch,
        start.isoformat(),
        end.isoformat(),
        provider_id,
        actor.user_id,
        actor.role.value,
        timeout_s=3600,
        description=f"validate {start.date()}..{end.date()} provider={provider_id}",
    )
    audit.record(
        session,
        actor,
        "validation.batch_queued",
        entity_type="work_orders",
        after={"from": start, "to": end, "provider_id": provider_id, "job_id": job_id},
    )
    return {"job_id": job_id, "status": "queued", "mode": queue.mode()}
