"""Extraction: solver routes (node lists) turned into timed routes with their breaks.

`timed_routes` times node routes directly (each service as early as its windows allow, the
caregiver leaving as late as the first stop allows); `place_breaks` puts each caregiver's
breaks into the route where it stays feasible; `drop_half_groups` removes a double-staffed
visit that got only one caregiver; `to_route` builds the public `Route` with arrivals,
travel per leg and breaks in the gaps.
"""

from __future__ import annotations

from routing.context import Context
from routing.instance import PICKUP, VISIT, Instance, RawRoute, RawSolution
from routing.model import Caregiver, Route, Stop, Unassigned, UnassignedReason
from routing.modelbuild import Built
from routing.schedule import Item, schedule

R = UnassignedReason


def to_route(ctx: Context, built: Built, raw: RawRoute) -> Route:
    """Turn solver output into stops with arrival, start, end and travel; breaks in the gaps."""
    inst = built.inst
    c: Caregiver = ctx.cgs[raw.vehicle]
    T, D = ctx.T[c.travel_mode], ctx.D[c.travel_mode]
    here = ctx.loc(c.start)
    t = raw.depart
    pending = list(raw.breaks) if raw.nodes else []
    stops: list[Stop] = []
    travel_s = travel_m = 0

    def leg(to_loc: int, until: int | None):
        """Travel to to_loc leaving at t, taking any break that starts before `until`."""
        nonlocal t, here
        rem = int(T[here, to_loc])
        arrival = t + rem if rem == 0 else None
        while pending and (until is None or pending[0][0] < until):
            bs, dur = pending.pop(0)
            move = min(rem, max(0, bs - t))
            t += move
            rem -= move
            if rem == 0 and arrival is None:
                arrival = t
            stops.append(Stop(None, bs, bs, bs + dur, 0, 0, kind="break"))
            t = max(t, bs) + dur
        if arrival is None:
            arrival = t + rem
        return arrival

    for node, start in zip(raw.nodes, raw.starts, strict=True):
        loc = built.loc_of[node]
        tr, tm = int(T[here, loc]), int(D[here, loc])
        arrival = leg(loc, start)
        kind = "pickup" if inst.kind[node] == PICKUP else "visit"
        vid = inst.ref[node]
        kitchen = ctx.visits[vid].kitchen_id if kind == "pickup" else None
        end = start + int(inst.service[node])
        stops.append(Stop(vid, arrival, start, end, tr, tm, kind=kind, kitchen_id=kitchen))
        travel_s += tr
        travel_m += tm
        t, here = end, loc
    el = ctx.loc(c.end)
    rt, rm = int(T[here, el]), int(D[here, el])
    back = leg(el, None)
    return Route(
        caregiver_id=c.id,
        stops=tuple(stops),
        depart_s=raw.depart,
        return_s=max(raw.arrive, back) if raw.nodes else raw.depart,
        travel_s=travel_s + rt,
        travel_m=travel_m + rm,
        return_travel_s=rt,
        return_travel_m=rm,
    )


def timed_routes(ctx: Context, built: Built, inst: Instance, routes: list[list[int]]):
    """RawSolution for given node routes, each service starting as early as its windows allow."""
    pair_of = {p: (d, ride) for p, d, ride in inst.pairs}
    out = []
    for v, nodes in enumerate(routes):
        c = ctx.cgs[v]
        T = ctx.T[c.travel_mode]

        def tt(a, b, T=T):
            return int(T[a, b])

        items = [
            Item(
                built.loc_of[x],
                int(inst.service[x]),
                tuple(inst.windows[x]),
                x,
                *pair_of.get(x, (None, None)),
            )
            for x in nodes
        ]
        sl, el = built.loc_of[inst.starts[v]], built.loc_of[inst.ends[v]]
        timing = None
        if nodes and inst.soft_span and inst.soft_span[v] is not None:
            # Within the soft span if a later start allows it (no overtime), else up to the cap.
            timing = schedule(items, sl, el, inst.vehicle_window[v], tt, inst.soft_span[v])
        if nodes and timing is None:
            timing = schedule(items, sl, el, inst.vehicle_window[v], tt, inst.max_span[v])
        if timing is None:
            out.append(RawRoute(v, [], [], inst.vehicle_window[v][0], inst.vehicle_window[v][0]))
        else:
            out.append(RawRoute(v, list(nodes), list(timing.starts), timing.depart, timing.ret))
    placed = {x for r in out for x in r.nodes}
    dropped = [x for x in range(inst.n) if inst.kind[x] == VISIT and x not in placed]
    return RawSolution(out, dropped, 0, "DECOMPOSED", 0.0)


def place_breaks(ctx: Context, built: Built, raw_routes: dict[int, RawRoute], out) -> None:
    """Put each caregiver's breaks into its route, re-timing it; drop visits if none fits.

    Double-staffed visits keep the solver's start time (their partner's route is not
    re-timed with them); the others start as early as their windows allow.
    """
    inst = built.inst
    grouped = {x for g in inst.groups for x in g}
    pair_of = {p: (d, ride) for p, d, ride in inst.pairs}
    delivery_pickup = {d: p for p, d, _ in inst.pairs}
    for v, rr in raw_routes.items():
        _breaks_into_route(ctx, built, v, rr, out, grouped, pair_of, delivery_pickup)


def _breaks_into_route(ctx, built, v, rr, out, grouped, pair_of, delivery_pickup) -> None:
    inst = built.inst
    if not rr.nodes or not inst.breaks[v]:
        return
    c = ctx.cgs[v]
    T = ctx.T[c.travel_mode]

    def tt(a, b, T=T):
        return int(T[a, b])

    def item(node, start):
        ws = ((start, start),) if node in grouped else tuple(inst.windows[node])
        d, ride = pair_of.get(node, (None, None))
        return Item(built.loc_of[node], int(inst.service[node]), ws, node, d, ride)

    nodes = list(rr.nodes)
    starts = dict(zip(rr.nodes, rr.starts, strict=True))
    shift = inst.vehicle_window[v]
    sl, el = built.loc_of[inst.starts[v]], built.loc_of[inst.ends[v]]

    def fit(nodes):
        """Items with every break placed at its earliest feasible position, or None."""
        items = [item(x, starts[x]) for x in nodes]
        for earliest, latest, dur in inst.breaks[v]:
            brk = Item(None, dur, ((earliest, latest),), ("break", earliest))
            for pos in range(len(items) + 1):
                trial = [*items[:pos], brk, *items[pos:]]
                if schedule(trial, sl, el, shift, tt, inst.max_span[v]) is not None:
                    items = trial
                    break
            else:
                return None
        return items

    items = fit(nodes)
    while items is None and nodes:
        # Drop the visit whose removal lets the breaks fit with the least travel left.
        best = None
        for x in nodes:
            if inst.kind[x] != VISIT:
                continue
            drop = {x, delivery_pickup.get(x)}
            rest = [y for y in nodes if y not in drop]
            trial = fit(rest)
            if trial is not None:
                timing = schedule(trial, sl, el, shift, tt, inst.max_span[v])
                if best is None or timing.travel < best[0]:
                    best = (timing.travel, x, rest)
        if best is None:
            x = next(y for y in reversed(nodes) if inst.kind[y] == VISIT)
            rest = [y for y in nodes if y not in {x, delivery_pickup.get(x)}]
        else:
            _, x, rest = best
        out[inst.ref[x]] = Unassigned(
            inst.ref[x], R.NO_TIME, f"no room left in caregiver {c.id}'s day for the break"
        )
        nodes = rest
        items = fit(nodes) if nodes else []
    timing = schedule(items, sl, el, shift, tt, inst.max_span[v]) if items else None
    if timing is None:
        rr.nodes, rr.starts, rr.breaks = [], [], []
        return
    rr.nodes = [it.key for it in items if it.loc is not None]
    rr.starts = [st for it, st in zip(items, timing.starts, strict=True) if it.loc is not None]
    rr.breaks = [
        (st, it.duration) for it, st in zip(items, timing.starts, strict=True) if it.loc is None
    ]
    rr.depart, rr.arrive = timing.depart, timing.ret


def drop_half_groups(ctx, built, raw_routes, out) -> None:
    """A double-staffed visit with one caregiver is no visit: drop the half that was placed."""
    inst = built.inst
    placed = {n for r in raw_routes.values() for n in r.nodes}
    for group in inst.groups:
        done = [n for n in group if n in placed]
        if done and len(done) < len(group):
            missing = next(n for n in group if n not in placed)
            for n in done:
                vid = inst.ref[n]
                out[vid] = Unassigned(
                    vid,
                    R.GROUP_PARTNER_UNASSIGNED,
                    f"double-staffed with visit {inst.ref[missing]}",
                )
                for r in raw_routes.values():
                    if n in r.nodes:
                        drop = {n} | {p for p, d, _ in inst.pairs if d == n}
                        keep = [
                            (x, s) for x, s in zip(r.nodes, r.starts, strict=True) if x not in drop
                        ]
                        r.nodes = [x for x, _ in keep]
                        r.starts = [s for _, s in keep]
