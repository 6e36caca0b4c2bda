"""Loading for the incremental path: a few wide queries around the orders that just arrived.

``engine.validate_orders`` runs on every check-out and timesheet row, so for one person's
orders its loading is cut to four round trips, however many neighbours, events and photos
there are (three for a single order on PostgreSQL, where the first two are one query):

1. the given orders with every registration of their people, and fingerprints of the rule
   settings and the service catalogue (both cached per process, ``settings.REFERENCE``);
2. the same people's orders around them, each with its client, caregiver, events and photos
   (one row per event);
3. the same for the evaluated orders' clients (their neighbours, their photo history, and for a
   client with an entitlement the whole local month), and every order whose events carry one of
   the evaluated orders' photos or a photo of the same perceptual hash;
4. absences, skills, certificates and visits, in one UNION ALL.

From these it builds the ``Context`` that ``context.load_context`` builds for these orders (the
same windows, photo partners and photo history, in the same order of steps, with the same row
builders; the one difference: whether the other orders of a partner's visit, which did not use
the photo, come along when only an event without an order yet used it; they change no finding),
so the rules find exactly what the batch finds. Several people's orders at once (an upload), or
an order longer than a day, go through the generic loader instead (``plan`` answers no context).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import Caregiver, Client, WorkOrder
from dispatch.rules import RuleConfig
from dispatch.rules.data import PHOTO_HORIZON, Context, OrderData, ServiceData, VisitData
from dispatch.validation.context import (
    Cache,
    add_photo_history,
    add_photo_partner,
    add_visit,
    callback_data,
    caregiver_data,
    client_data,
    load_month_minutes,
    visit_data,
)
from dispatch.validation.orders import (
    OPEN_STATUSES,
    WINDOW,
    among,
    month_bounds,
    order_data,
    order_select,
)
from dispatch.validation.settings import REFERENCE
from dispatch.validation.travel import prefill_travel
from dispatch.validation.wide import Statements, WideRows, statements

# The people's orders are read this far around the given ones in one go: the evaluated orders
# lie within one WINDOW of them, their context one more WINDOW, the photo history a PHOTO_HORIZON
# beyond, and an order may last up to a day. Anything needing more takes the generic path.
SPAN = 2 * WINDOW + PHOTO_HORIZON
LONGEST = timedelta(days=1)


@dataclass
class Plan:
    """What ``validate_orders`` evaluates, and the context to evaluate it in."""

    full: dict[int, OrderData]
    partial: dict[int, set[str]]
    extra: dict[int, OrderData]
    configs: dict[str, RuleConfig]
    ctx: Context | None  # None: take the generic path (``context.load_context``)
    known_cg_ids: set[int]


def plan(session: Session, order_ids: Iterable[int]) -> Plan | None:
    """The incremental evaluation of ``order_ids``; None when none of them exists."""
    ids = sorted(set(order_ids))
    if not ids:
        return None
    st = statements(session)
    rows = WideRows()
    if st.people_of_one is not None and len(ids) == 1:
        found = session.execute(
            st.people_of_one, {"id": ids[0], "before": SPAN, "after": SPAN + LONGEST}
        ).all()
        if not found:
            return None
        rows.add(found)
        given = {ids[0]: rows.orders[ids[0]]}
        cg_ids = {o.caregiver_id for o in rows.orders.values()}
        configs, services = REFERENCE.get(session, found[0][28], found[0][29])
        g_lo, g_hi = given[ids[0]].start_at, given[ids[0]].end_at
        fetched = (g_lo - SPAN, g_hi + SPAN + LONGEST)
    else:
        given = {}
        cg_ids = set()
        rules_fp = services_fp = ""
        for r in session.execute(st.given, {"ids": ids}):
            given.setdefault(r[0], order_data(r))
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
            return generic_plan(session, given, cg_ids, configs)
        # The same people's orders, far enough around to hold everything the evaluation needs.
        g_lo = min(o.start_at for o in given.values())
        g_hi = max(o.end_at for o in given.values())
        fetched = (g_lo - SPAN, g_hi + SPAN + LONGEST)
        rows.add(
            session.execute(
                st.people, {"cg_ids": sorted(cg_ids), "lo": fetched[0], "hi": fetched[1]}
            )
        )
    # What validate_orders evaluates: the given open orders and the people's open orders within
    # a WINDOW of them.
    full = {o.id: o for o in given.values() if o.status in OPEN_STATUSES}
    for o in rows.orders.values():
        if g_lo - WINDOW <= o.start_at <= g_hi + WINDOW and o.status in OPEN_STATUSES:
            full.setdefault(o.id, o)
    if not full:
        return Plan({}, {}, {}, configs, None, cg_ids)  # only frozen orders: nothing to do
    lo = min(o.start_at for o in full.values()) - WINDOW
    hi = max(o.end_at for o in full.values()) + WINDOW
    if lo - PHOTO_HORIZON < fetched[0] or hi + PHOTO_HORIZON > fetched[1]:
        # An order longer than a day: the generic loader, with every registration of the person.
        persons = [o.person for o in given.values()]
        cg_ids.update(
            session.scalars(select(Caregiver.id).where(Caregiver.person_hash.in_(persons)))
        )
        return generic_plan(session, given, cg_ids, configs)

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
                "month_lo": month_bounds(min(starts))[1],
                "month_hi": month_bounds(max(starts))[2],
                "photo_ids": target_photos,
                "phashes": phashes,
            },
        )
    )

    ctx = context_of(rows, full, cg_ids, lo, hi, target_photos, set(phashes), services)
    by_client = orders_by_client(rows.orders.values())
    entitled = {c for c, (_, _, minutes) in rows.clients.items() if minutes is not None}
    extra = later_in_month(given, full, by_client, entitled)
    for oid, o in extra.items():
        ctx.orders.setdefault(oid, o)
    side(session, st, ctx, rows, full, lo, hi)
    targets = {**full, **extra}
    cache = months_of(rows, by_client, targets)
    load_month_minutes(session, ctx, targets, cache)
    prefill_travel(ctx, full, cache.travel)
    ctx.travel_seconds = cache.travel
    return Plan(full, {oid: {"OVER_ENTITLEMENT"} for oid in extra}, extra, configs, ctx, cg_ids)


def context_of(
    rows: WideRows,
    full: dict[int, OrderData],
    cg_ids: set[int],
    lo: datetime,
    hi: datetime,
    target_photos: list[int],
    phashes: set[str],
    services: dict[int, ServiceData],
) -> Context:
    """The steps of ``context.load_context``, on rows already read."""
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
            add_photo_partner(ctx, oid, pid)
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
                ctx.photos.setdefault(pid, rows.photos[pid])
                add_photo_history(ctx, history, ctx.orders.get(oid) or o, pid, persons, clients)
        ctx.photo_history = {k: sorted(s) for k, s in history.items()}
    return ctx


def orders_by_client(orders: Iterable[OrderData]) -> dict[int, list[OrderData]]:
    out: dict[int, list[OrderData]] = {}
    for o in orders:
        out.setdefault(o.client_id, []).append(o)
    return out


def later_in_month(
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
        month_end = month_bounds(g.start_at)[2]
        for o in by_client.get(g.client_id, ()):
            if g.start_at < o.start_at < month_end and o.status in OPEN_STATUSES:
                later[o.id] = o
    return {oid: later[oid] for oid in sorted(set(later) - set(full))}


def generic_plan(
    session: Session,
    given: dict[int, OrderData],
    cg_ids: set[int],
    configs: dict[str, RuleConfig],
) -> Plan:
    """What to evaluate, for ``context.load_context`` to load: the given open orders, the
    people's open orders within a WINDOW, the entitled clients' later orders (two queries)."""
    g_lo = min(o.start_at for o in given.values())
    g_hi = max(o.end_at for o in given.values())
    full = {o.id: o for o in given.values() if o.status in OPEN_STATUSES}
    for r in session.execute(
        order_select().where(
            among(session, WorkOrder.caregiver_id, sorted(cg_ids)),
            WorkOrder.start_at >= g_lo - WINDOW,
            WorkOrder.start_at <= g_hi + WINDOW,
            WorkOrder.status.in_(OPEN_STATUSES),
        )
    ):
        full.setdefault(r[0], order_data(r))
    if not full:
        return Plan({}, {}, {}, configs, None, cg_ids)  # only frozen orders: nothing to do
    clients = sorted({o.client_id for o in given.values()})
    months_end = max(month_bounds(o.start_at)[2] for o in given.values())
    rows = [
        order_data(r)
        for r in session.execute(
            order_select()
            .join(Client, Client.id == WorkOrder.client_id)
            .where(
                among(session, WorkOrder.client_id, clients),
                Client.monthly_entitlement_min.is_not(None),
                WorkOrder.start_at > g_lo,
                WorkOrder.start_at < months_end,
                WorkOrder.status.in_(OPEN_STATUSES),
            )
        )
    ]
    extra = later_in_month(given, full, orders_by_client(rows), {o.client_id for o in rows})
    partial = {oid: {"OVER_ENTITLEMENT"} for oid in extra}
    return Plan(full, partial, extra, configs, None, cg_ids)


def months_of(
    rows: WideRows, by_client: dict[int, list[OrderData]], targets: dict[int, OrderData]
) -> Cache:
    """The months of the targets' entitled clients, as ``context.load_month_minutes`` would
    read them, so that it computes the running totals without a query."""
    cache = Cache()
    for o in targets.values():
        if rows.clients[o.client_id][2] is None:
            continue
        month, start, end = month_bounds(o.start_at)
        if (o.client_id, month) not in cache.months:
            cache.months[(o.client_id, month)] = sorted(
                (r.start_at, r.id, r.billable_min, r.status)
                for r in by_client.get(o.client_id, ())
                if start <= r.start_at < end
            )
    return cache


def side(
    session: Session,
    st: Statements,
    ctx: Context,
    rows: WideRows,
    evaluated: Iterable[int],
    lo: datetime,
    hi: datetime,
) -> None:
    """Clients, caregivers and visits of the context, as ``context.load_reference`` reads
    them, and the answered call-backs of the ``evaluated`` orders, as
    ``context.load_callbacks`` does: absences, skills, certificates, visits and call-backs
    come in one UNION ALL."""
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
        "evaluated": sorted(evaluated),
    }
    for tag, owner, t1, t2, s1, s2, d, i1, i2, i3, i4 in session.execute(st.side, params):
        if tag == "k":
            ctx.callbacks[owner] = callback_data(i1, s1, i2, i3, t1, s2)
        elif tag == "a":
            absences.setdefault(owner, []).append((t1, t2, s1))
        elif tag == "s":
            skills.setdefault(owner, set()).add(s1)
        elif tag == "c":
            certs.setdefault(owner, []).append((s1, s2, d))
        else:
            visits.append((visit_data((i1, owner, i2, t1, t2, i3, s1, i4, s2)), d))
    for cid in client_ids:
        lat, lon, entitlement = rows.clients[cid]
        ctx.clients[cid] = client_data(cid, lat, lon, entitlement, absences.get(cid, ()))
    persons = {o.caregiver_id: o.person for o in orders}
    for cid in cg_ids:
        ctx.caregivers[cid] = caregiver_data(
            cid, persons[cid], rows.modes[cid], skills.get(cid, ()), certs.get(cid, ())
        )
    for data, day in visits:
        add_visit(ctx, data, day)
