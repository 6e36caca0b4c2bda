"""A big day split by street (街道) into district parts solved in parallel, then merged.

``plans.run_plan`` answers a ``Split`` when a provider's day has more than ``SPLIT_ABOVE``
visits; the job (``dispatch.jobs.plan_day``) sends each part to a worker
(``dispatch.jobs.solve_part`` -> ``solve_part``) and a merge job stores the parts' results as
one proposal (``store_merged``), or fails the plan if any part failed.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from dispatch import error_codes
from dispatch.models import Caregiver, DayPlan, PlanStatus, Visit
from dispatch.services import problem as P
from dispatch.services import proposals

# Above this many visits a provider's day is split by street (街道) into parallel solves.
# 150: parts of ~140 visits are planned in 20 s each, while one 1,000-visit solve still
# leaves 4 % of the day NOT_PLACED after 60 s; an over-full 400-visit part with lunch breaks
# found no first plan at all in 30 s (docs/benchmarks.md).
SPLIT_ABOVE = int(os.environ.get("CAREDISPATCH_SPLIT_VISITS", "150"))


@dataclass
class Part:
    name: str
    visit_ids: list[int]
    caregiver_ids: list[int]
    time_limit_s: float


@dataclass
class Split:
    parts: list[Part] = field(default_factory=list)


def split_by_street(data: P.DayData, limit: int, time_limit_s: float) -> Split:
    """Streets packed into parts of at most ``limit`` visits; caregivers shared by workload."""
    by_street: dict[str, list[Visit]] = {}
    for v in data.visits:
        street = data.clients[v.client_id].street or "-"
        by_street.setdefault(street, []).append(v)
    bins: list[tuple[list[str], list[Visit]]] = []
    for street, vs in sorted(by_street.items(), key=lambda kv: -len(kv[1])):
        target = next((b for b in bins if len(b[1]) + len(vs) <= limit), None)
        if target is None:
            bins.append(([street], list(vs)))
        else:
            target[0].append(street)
            target[1].extend(vs)
    if len(bins) < 2:
        return Split()
    # Who is already committed to a part: pinned or started visits keep their caregiver.
    owner: dict[int, int] = {}
    for k, (_, vs) in enumerate(bins):
        for v in vs:
            if v.pinned or v.status in P.STARTED:
                for a in v.assignments:
                    owner.setdefault(a.caregiver_id, k)
    load = [sum(v.duration_min * v.caregivers_needed for v in vs) for _, vs in bins]
    working = [c for c in data.caregivers if P.shift_of(c, data.day) is not None]
    total = sum(load) or 1
    quota = [max(1, math.floor(len(working) * x / total)) for x in load]
    centroids = []
    for _, vs in bins:
        pts = [data.clients[v.client_id] for v in vs]
        centroids.append((sum(p.lat for p in pts) / len(pts), sum(p.lon for p in pts) / len(pts)))
    members: list[list[int]] = [[] for _ in bins]
    free: dict[int, Caregiver] = {}
    for c in working:
        if c.id in owner:
            members[owner[c.id]].append(c.id)
        else:
            free[c.id] = c

    def nearest(cands: list[Caregiver], wanted: list[int]) -> None:
        """Give each part its wanted number of ``cands``, nearest first."""
        pairs = sorted(
            ((c.home_lat - la) ** 2 + (c.home_lon - lo) ** 2, c.id, k)
            for c in cands
            for k, (la, lo) in enumerate(centroids)
            if wanted[k] > 0
        )
        for _, cid, k in pairs:
            if cid in free and wanted[k] > 0:
                members[k].append(cid)
                wanted[k] -= 1
                del free[cid]

    # Skilled caregivers first, rarest skill first, shared by each part's demand for the skill:
    # a part must not lack the only people who can do some of its visits.
    skills = {c.id: P.skills_on(c, data.day) for c in working}
    demand: dict[str, list[int]] = {}
    for k, (_, vs) in enumerate(bins):
        for v in vs:
            if v.required_skill:
                demand.setdefault(v.required_skill, [0] * len(bins))[k] += (
                    v.duration_min * v.caregivers_needed
                )
    for skill in sorted(demand, key=lambda s: sum(1 for c in working if s in skills[c.id])):
        holders = [c for c in free.values() if skill in skills[c.id]]
        need = demand[skill]
        if not holders:
            continue
        wanted = [
            0 if not need[k] else max(2, round(len(holders) * need[k] / sum(need)))
            for k in range(len(bins))
        ]
        nearest(holders, wanted)
    nearest(list(free.values()), [max(0, quota[k] - len(members[k])) for k in range(len(bins))])
    for c in list(free.values()):  # the rounding remainder goes to the busiest parts
        k = max(range(len(bins)), key=lambda i: load[i] / max(1, len(members[i])))
        members[k].append(c.id)
        del free[c.id]
    return Split(
        [
            Part(
                "+".join(streets),
                [v.id for v in vs],
                members[k],
                time_limit_s,
            )
            for k, (streets, vs) in enumerate(bins)
        ]
    )


def record_parts(
    session: Session, plan_id: int, job_ids: list[str], merge_id: str, split: Split
) -> None:
    """The parts' jobs, in the plan's progress (``plans.refresh_status`` follows them)."""
    plan = session.get(DayPlan, plan_id)
    if plan is None:
        return
    plan.progress = {
        "stage": "parts",
        "percent": 10,
        "parts": [
            {
                "name": p.name,
                "visits": len(p.visit_ids),
                "caregivers": len(p.caregiver_ids),
                "job_id": j,
            }
            for p, j in zip(split.parts, job_ids, strict=True)
        ],
        "merge_job_id": merge_id,
    }


def solve_part(
    session: Session,
    plan_id: int,
    visit_ids: list[int],
    caregiver_ids: list[int],
    time_limit_s: float,
) -> dict[str, Any]:
    """One district's solve; reads only, answers the part's plan JSON."""
    plan = session.get(DayPlan, plan_id)
    if plan is None:
        raise error_codes.PLAN_NOT_FOUND(id=plan_id)
    data = P.load_day(
        session, plan.provider_id, plan.date, visit_ids=visit_ids, caregiver_ids=caregiver_ids
    )
    result = proposals.solve_day(data, plan, time_limit_s)
    result["visit_ids"] = [v.id for v in data.visits]
    # How the part's visits stood when it read them: the merge refuses a stale day with this.
    result["seen"] = {str(v.id): proposals.signature(v) for v in data.visits}
    return result


def merge_results(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The parts' plan JSON as one day's: routes and unassigned together, KPIs summed (rates
    weighted by caregivers used), the slowest part's time as the plan's."""
    routes = [r for res in results for r in res["routes"]]
    unassigned = [u for res in results for u in res["unassigned"]]
    ks = [res["kpis"] for res in results]
    used = sum(k["caregivers_used"] for k in ks) or 1

    def total(key: str) -> int:
        return sum(k[key] or 0 for k in ks)

    def weighted(key: str) -> float | None:
        vals = [(k[key], k["caregivers_used"]) for k in ks if k[key] is not None]
        if not vals:
            return None
        w = sum(n for _, n in vals) or 1
        return round(sum(v * n for v, n in vals) / w, 3)

    by_cg: dict[str, int] = {}
    for k in ks:
        by_cg.update(k["travel_min_by_caregiver"])
    kpis = {
        "visits_assigned": total("visits_assigned"),
        "visits_unassigned": len(unassigned),
        "travel_min": total("travel_min"),
        "travel_km": round(sum(k["travel_km"] for k in ks), 1),
        "travel_min_by_caregiver": by_cg,
        "idle_min": total("idle_min"),
        "lateness_min": total("lateness_min"),
        "continuity_rate": weighted("continuity_rate"),
        "overtime_min": total("overtime_min"),
        "utilisation": weighted("utilisation"),
        "caregivers_used": used if any(k["caregivers_used"] for k in ks) else 0,
        "caregivers_available": sum(k.get("caregivers_available") or 0 for k in ks),
    }
    stats = {
        "parts": len(results),
        "plan_s": max(res["stats"].get("plan_s", 0) for res in results),
        "part_plan_s": [res["stats"].get("plan_s") for res in results],
    }
    return {"routes": routes, "unassigned": unassigned, "kpis": kpis, "stats": stats}


def store_merged(session: Session, plan_id: int, results: list[dict[str, Any]]) -> str:
    """Store the parts' results as the plan's proposal (``merge_results``)."""
    plan = session.get(DayPlan, plan_id)
    if plan is None or plan.status != PlanStatus.optimizing:
        return "nothing to do"
    visit_ids = [vid for res in results for vid in res["visit_ids"]]
    visits = list(
        session.scalars(
            select(Visit).options(selectinload(Visit.assignments)).where(Visit.id.in_(visit_ids))
        )
    )
    seen = {int(vid): sig for res in results for vid, sig in res.get("seen", {}).items()}
    return proposals.store_proposal(session, plan, visits, merge_results(results), seen=seen)
