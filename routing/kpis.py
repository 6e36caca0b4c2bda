"""Key figures of a plan: travel, waiting, lateness, continuity, overtime, utilisation."""

from __future__ import annotations

from routing.context import Context
from routing.model import Kpis, Route, Unassigned


def kpis(ctx: Context, routes: list[Route], unassigned: list[Unassigned]) -> Kpis:
    assigned = [(r, s) for r in routes for s in r.stops if s.kind == "visit"]
    by_cg = {r.caregiver_id: r.travel_s for r in routes}
    idle = sum(
        max(0, s.start_s - s.arrival_s) for r in routes for s in r.stops if s.kind != "break"
    )
    late = 0
    with_pref = hits = 0
    for r, s in assigned:
        v = ctx.visits[s.visit_id]
        if not any(w.start_s <= s.start_s <= w.end_s for w in v.windows) and v.id not in ctx.pins:
            late += max(0, s.start_s - max(w.end_s for w in v.windows))
        if v.preferred_caregiver is not None:
            with_pref += 1
            hits += v.preferred_caregiver == r.caregiver_id
    overtime = 0
    span_total = service_total = 0
    used = [r for r in routes if r.stops]
    work = {r.caregiver_id: 0 for r in routes}
    for r in used:
        c = ctx.cgs[ctx.cg_index[r.caregiver_id]]
        span = r.return_s - r.depart_s
        work[r.caregiver_id] = span
        span_total += span
        over = max(0, r.return_s - c.shift_end_s)
        if c.max_work_s is not None:
            over = max(over, span - c.max_work_s)
        overtime += over
        service_total += sum(s.end_s - s.start_s for s in r.stops if s.kind == "visit")
    return Kpis(
        visits_assigned=len(assigned),
        visits_unassigned=len(unassigned),
        travel_s=sum(by_cg.values()),
        travel_m=sum(r.travel_m for r in routes),
        travel_s_by_caregiver=by_cg,
        idle_s=idle,
        lateness_s=late,
        continuity_rate=(hits / with_pref) if with_pref else None,
        overtime_s=overtime,
        utilisation=(service_total / span_total) if span_total else 0.0,
        caregivers_used=len(used),
        work_s_by_caregiver=work,
        work_spread_s=(max(work.values()) - min(work.values())) if work else 0,
    )
