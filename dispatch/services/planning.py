"""Day plans: optimise in a job, store versions, review and edit, publish, re-plan, the demo day."""

from __future__ import annotations

import logging
import math
import os
import time as timer
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import StartedJobRegistry
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

import routing
from dispatch import audit, config, qualification, queue
from dispatch.db import utcnow
from dispatch.errors import Conflict, Invalid, NotFound
from dispatch.models import (
    Caregiver,
    Client,
    DayPlan,
    PlanStatus,
    Role,
    ServiceType,
    Visit,
    VisitAssignment,
    VisitStatus,
)
from dispatch.services import problem as P
from dispatch.services.pages import page_of
from dispatch.services.visit_generation import generate_for_day, provider_ids
from dispatch.tenancy import SYSTEM, Actor, get_scoped, resolve_provider, scoped

log = logging.getLogger(__name__)

# Above this many visits a provider's day is split by street (街道) into parallel solves.
# 150: parts of ~140 visits are planned in 20 s each, while one 1,000-visit solve still
# leaves 4 % of the day NOT_PLACED after 60 s; an over-full 400-visit part with lunch breaks
# found no first plan at all in 30 s (docs/benchmarks.md).
SPLIT_ABOVE = int(os.environ.get("CAREDISPATCH_SPLIT_VISITS", "150"))
DEFAULT_TIME_LIMIT_S = 30
MAX_RETRY_S = 90
Progress = Callable[..., None]
ACTIVE = (PlanStatus.proposed, PlanStatus.published)
FINAL = (VisitStatus.in_progress, VisitStatus.completed, VisitStatus.missed, VisitStatus.cancelled)


def travel_model() -> routing.TravelModel:
    return routing.GeodesicTravel()


# ---------------------------------------------------------------- creating and running a plan


def create_plan(
    session: Session,
    actor: Actor,
    day: date,
    provider_id: int | None = None,
    time_limit_s: int | None = None,
    *,
    options: dict[str, Any] | None = None,
    parent: DayPlan | None = None,
) -> DayPlan:
    """A new plan version, ``optimizing``; the solve runs in a job after the commit."""
    from dispatch import jobs

    pid = resolve_provider(actor, provider_id)
    latest = session.scalar(
        select(func.max(DayPlan.version)).where(DayPlan.provider_id == pid, DayPlan.date == day)
    )
    limit = time_limit_s or DEFAULT_TIME_LIMIT_S
    plan = DayPlan(
        provider_id=pid,
        date=day,
        version=(latest or 0) + 1,
        status=PlanStatus.optimizing,
        parent_id=parent.id if parent else None,
        time_limit_s=limit,
        options=options or {},
        progress={"stage": "queued", "percent": 0},
        created_by=actor.user_id,
    )
    session.add(plan)
    session.flush()
    plan.job_id = queue.enqueue(
        session,
        jobs.plan_day,
        plan.id,
        timeout_s=jobs.job_timeout(limit),
        description=f"plan {pid} {day} v{plan.version}",
    )
    session.flush()
    audit.record(session, actor, "optimize", plan, after={"version": plan.version, "date": day})
    return plan


@dataclass
class Part:
    name: str
    visit_ids: list[int]
    caregiver_ids: list[int]
    time_limit_s: float


@dataclass
class Split:
    parts: list[Part] = field(default_factory=list)


def run_plan(session: Session, plan_id: int, progress: Progress) -> str | Split:
    """Solve a plan in one go, or answer how to split it; writes only at the end."""
    plan = session.get(DayPlan, plan_id)
    if plan is None or plan.status != PlanStatus.optimizing:
        return "nothing to do"
    progress("loading", 5)
    data = P.load_day(session, plan.provider_id, plan.date)
    options = plan.options or {}
    limit = int(options.get("max_visits_per_solve") or SPLIT_ABOVE)
    if len(data.visits) > limit:
        split = split_by_street(data, limit, plan.time_limit_s)
        if len(split.parts) > 1:
            return split
    progress("solving", 10, visits=len(data.visits), since=utcnow().isoformat())
    result = _solve(data, plan)
    progress("storing", 95)
    _store(session, plan, data.visits, result)
    return "proposed"


def _solve(
    data: P.DayData,
    plan: DayPlan,
    time_limit_s: float | None = None,
) -> dict[str, Any]:
    options = plan.options or {}
    now = None
    if options.get("now"):
        now = datetime.fromisoformat(options["now"])
    built = P.build_problem(
        data,
        time_limit_s=time_limit_s or plan.time_limit_s,
        unavailable=options.get("unavailable_caregivers") or (),
        urgent=options.get("urgent_visits") or (),
        now=now,
    )
    t0 = timer.monotonic()
    solution = routing.solve(built.problem, travel_model())
    if _cut_short(solution):
        # On a busy machine the first plan can take longer than the limit; one longer try
        # beats proposing a day with many visits left out only for lack of search time.
        retry = min(MAX_RETRY_S, 3 * built.problem.settings.time_limit_s)
        log.warning(
            "search cut short at %s s; retrying with %s s",
            built.problem.settings.time_limit_s,
            retry,
        )
        settings = replace(built.problem.settings, time_limit_s=retry)
        solution = routing.solve(replace(built.problem, settings=settings), travel_model())
    result = P.solution_json(data, solution, built.problem)
    result["stats"]["plan_s"] = round(timer.monotonic() - t0, 3)
    result["stats"]["caregivers_off"] = len(built.caregivers_off)
    return result


def _cut_short(solution: routing.Solution) -> bool:
    """The search ended before it placed visits that fit (more than a tenth of the day)."""
    short = sum(1 for u in solution.unassigned if u.reason == routing.UnassignedReason.NOT_PLACED)
    total = solution.kpis.visits_assigned + len(solution.unassigned)
    return short > 0 and short * 10 > total


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
    plan = session.get(DayPlan, plan_id)
    if plan is None:
        raise NotFound(f"No plan with id {plan_id}.", code="PLAN_NOT_FOUND")
    data = P.load_day(
        session, plan.provider_id, plan.date, visit_ids=visit_ids, caregiver_ids=caregiver_ids
    )
    result = _solve(data, plan, time_limit_s)
    result["visit_ids"] = [v.id for v in data.visits]
    return result


def store_merged(session: Session, plan_id: int, results: list[dict[str, Any]]) -> str:
    plan = session.get(DayPlan, plan_id)
    if plan is None or plan.status != PlanStatus.optimizing:
        return "nothing to do"
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
    visit_ids = [vid for res in results for vid in res["visit_ids"]]
    visits = list(
        session.scalars(
            select(Visit).options(selectinload(Visit.assignments)).where(Visit.id.in_(visit_ids))
        )
    )
    _store(
        session,
        plan,
        visits,
        {"routes": routes, "unassigned": unassigned, "kpis": kpis, "stats": stats},
    )
    return "proposed"


def _store(session: Session, plan: DayPlan, visits: list[Visit], result: dict[str, Any]) -> None:
    """The proposal, all at once: plan JSON, and assignments of visits not yet published."""
    plan.routes = result["routes"]
    plan.unassigned = result["unassigned"]
    plan.kpis = result["kpis"]
    plan.stats = result["stats"]
    plan.status = PlanStatus.proposed
    plan.finished_at = utcnow()
    plan.error = None
    plan.progress = {"stage": "done", "percent": 100}
    for older in session.scalars(
        select(DayPlan).where(
            DayPlan.provider_id == plan.provider_id,
            DayPlan.date == plan.date,
            DayPlan.status == PlanStatus.proposed,
            DayPlan.id != plan.id,
        )
    ):
        older.status = PlanStatus.superseded
    published = session.scalar(
        select(DayPlan.id).where(
            DayPlan.provider_id == plan.provider_id,
            DayPlan.date == plan.date,
            DayPlan.status == PlanStatus.published,
        )
    )
    # Once a day is published the caregivers' routes change only when a plan is published.
    if published is None:
        _apply(session, plan, visits, VisitStatus.assigned)
    session.flush()
    audit.record(
        session,
        SYSTEM,
        "propose",
        plan,
        after={"assigned": plan.kpis["visits_assigned"], "unassigned": len(plan.unassigned)},
    )


def _apply(session: Session, plan: DayPlan, visits: list[Visit], status: VisitStatus) -> None:
    """Write a plan's routes onto its visits: assignments, start, sequence, status."""
    legs: dict[int, list[tuple[int, int, dict[str, Any]]]] = {}
    for r in plan.routes or []:
        seq = 0
        for s in r["stops"]:
            if s.get("kind", "visit") != "visit" or s.get("visit_id") is None:
                continue
            seq += 1
            legs.setdefault(s["visit_id"], []).append((r["caregiver_id"], seq, s))
    reasons = {u["visit_id"]: u["reason"] for u in plan.unassigned or []}
    for v in visits:
        if v.status in FINAL:
            continue
        v.plan_id = plan.id
        mine = sorted(legs.get(v.id, []), key=lambda x: bool(x[2].get("second_caregiver")))
        if not mine:
            v.assignments.clear()
            v.planned_start_at = None
            v.sequence = None
            v.status = VisitStatus.planned
            v.unassigned_reason = reasons.get(v.id)
            continue
        want = {cg: (seq, s) for cg, seq, s in mine}
        for a in list(v.assignments):
            if a.caregiver_id not in want:
                v.assignments.remove(a)
        have = {a.caregiver_id: a for a in v.assignments}
        for cg, (seq, s) in want.items():
            a = have.get(cg)
            if a is None:
                a = VisitAssignment(caregiver_id=cg)
                v.assignments.append(a)
            a.sequence = seq
            a.planned_arrival_at = _parse(s.get("arrival"))
            a.planned_start_at = _parse(s.get("start"))
            a.travel_min = s.get("travel_min")
        first = mine[0]
        v.planned_start_at = _parse(first[2].get("start"))
        v.sequence = first[1]
        v.unassigned_reason = None
        v.status = status


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).astimezone(UTC) if value else None


def mark_failed(session: Session, plan_id: int, message: str) -> None:
    """The plan failed: status and message only; routes stay empty (nothing half-written)."""
    plan = session.get(DayPlan, plan_id)
    if plan is None or plan.status != PlanStatus.optimizing:
        return
    plan.status = PlanStatus.failed
    plan.error = message[:2000]
    plan.finished_at = utcnow()
    plan.progress = {"stage": "failed", "percent": 100}
    session.flush()
    audit.record(session, SYSTEM, "plan_failed", plan, after={"error": plan.error})


# ---------------------------------------------------------------- reading plans


PLAN_READ = (Role.dispatcher, Role.provider_admin, Role.admin, Role.finance)
PLAN_WRITE = (Role.dispatcher, Role.provider_admin, Role.admin)


def _job_state(job_id: str | None) -> tuple[str | None, dict[str, Any] | None]:
    if not job_id or queue.mode() != "rq":
        return None, None
    try:
        job = Job.fetch(job_id, connection=queue.redis_connection())
    except NoSuchJobError:
        return "missing", None
    return job.get_status(refresh=True).value, job.get_meta(refresh=True).get("progress")


def refresh_status(session: Session, plan: DayPlan) -> DayPlan:
    """An optimizing plan whose job died (failed, lost, or past its timeout) reads as failed."""
    if plan.status != PlanStatus.optimizing:
        return plan
    from dispatch import jobs

    progress = plan.progress or {}
    ids = [plan.job_id, *[p["job_id"] for p in progress.get("parts", [])]]
    if progress.get("merge_job_id"):
        ids.append(progress["merge_job_id"])
    deadline = plan.created_at + timedelta(seconds=2 * jobs.job_timeout(plan.time_limit_s))
    if queue.mode() == "rq":
        # A worker killed outright stops its job's heartbeat; rq's cleanup of the started
        # registry then marks the job failed (about 90 s later), which the loop below sees.
        StartedJobRegistry(queue=queue.get_queue()).cleanup()
    problem = None
    live: dict[str, Any] | None = None
    part_ids = {p["job_id"] for p in progress.get("parts", [])}
    parts_done = 0
    for jid in ids:
        state, meta = _job_state(jid)
        if meta and jid == plan.job_id:
            live = meta
        parts_done += jid in part_ids and state == "finished"
        if state in ("failed", "stopped", "canceled"):
            problem = f"the optimisation job {jid} {state}"
        if state == "missing" and jid != plan.job_id:
            problem = f"the optimisation job {jid} is gone"
    if problem is None and utcnow() > deadline:
        problem = "the optimisation did not finish in time (worker lost?)"
    if problem is not None:
        mark_failed(session, plan.id, problem)
    elif progress.get("parts"):
        share = parts_done / len(progress["parts"])
        plan.progress = {**progress, "parts_done": parts_done, "percent": 10 + int(85 * share)}
    elif live:
        plan.progress = _estimate(live, plan.time_limit_s)
    return plan


def _estimate(live: dict[str, Any], time_limit_s: int) -> dict[str, Any]:
    """While the solver runs, its time limit is the best clock there is: 10 % .. 95 %."""
    if live.get("stage") != "solving" or not live.get("since"):
        return live
    elapsed = (utcnow() - datetime.fromisoformat(live["since"])).total_seconds()
    share = min(1.0, max(0.0, elapsed / max(1, time_limit_s)))
    return {**live, "percent": 10 + int(85 * share), "elapsed_s": round(elapsed, 1)}


def get_plan(session: Session, actor: Actor, plan_id: int) -> DayPlan:
    actor.require(*PLAN_READ)
    plan = get_scoped(session, DayPlan, plan_id, actor)
    return refresh_status(session, plan)


def list_plans(
    session: Session, actor: Actor, filters: Mapping[str, Any], page: int, page_size: int
) -> tuple[list[DayPlan], int]:
    actor.require(*PLAN_READ)
    stmt = scoped(select(DayPlan), DayPlan, actor)
    if filters.get("date"):
        stmt = stmt.where(DayPlan.date == filters["date"])
    if filters.get("status"):
        stmt = stmt.where(DayPlan.status == filters["status"])
    if filters.get("provider_id"):
        stmt = stmt.where(DayPlan.provider_id == filters["provider_id"])
    stmt = stmt.order_by(DayPlan.date.desc(), DayPlan.provider_id, DayPlan.version.desc())
    return page_of(session, stmt, page, page_size)


# ---------------------------------------------------------------- publishing and re-planning


def publish(session: Session, actor: Actor, plan_id: int) -> DayPlan:
    """Visits become ``published`` with their assignments; older published versions step down."""
    actor.require(*PLAN_WRITE)
    plan = get_scoped(session, DayPlan, plan_id, actor)
    if plan.status == PlanStatus.published:
        return plan
    if plan.status != PlanStatus.proposed:
        raise Conflict(
            f"Only a proposed plan can be published; this one is {plan.status.value}.",
            code="PLAN_NOT_PROPOSED",
            message_zh="只有待审核（proposed）的方案可以发布。",
        )
    ids = [s["visit_id"] for r in plan.routes or [] for s in r["stops"] if s.get("visit_id")]
    ids += [u["visit_id"] for u in plan.unassigned or []]
    visits = list(
        session.scalars(
            select(Visit).options(selectinload(Visit.assignments)).where(Visit.id.in_(set(ids)))
        )
    )
    for other in session.scalars(
        select(DayPlan).where(
            DayPlan.provider_id == plan.provider_id,
            DayPlan.date == plan.date,
            DayPlan.status.in_(ACTIVE),
            DayPlan.id != plan.id,
        )
    ):
        other.status = PlanStatus.superseded
    _apply(session, plan, visits, VisitStatus.published)
    plan.status = PlanStatus.published
    plan.published_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        "publish",
        plan,
        before={"status": "proposed"},
        after={"status": "published", "visits": sum(1 for v in visits if v.status == "published")},
    )
    return plan


def replan(
    session: Session,
    actor: Actor,
    plan_id: int,
    unavailable: list[int],
    urgent: list[int],
    time_limit_s: int | None = None,
    now: datetime | None = None,
) -> DayPlan:
    """A new version from the current state: started visits stay, dropped-out caregivers leave."""
    actor.require(*PLAN_WRITE)
    base = get_scoped(session, DayPlan, plan_id, actor)
    problems: dict[str, list[str]] = {}
    for cid in unavailable:
        cg = session.get(Caregiver, cid)
        if cg is None or cg.provider_id != base.provider_id:
            problems.setdefault("unavailable_caregivers", []).append(f"No caregiver with id {cid}.")
    for vid in urgent:
        v = session.get(Visit, vid)
        if v is None or v.provider_id != base.provider_id or v.date != base.date:
            problems.setdefault("urgent_visits", []).append(
                f"No visit with id {vid} on {base.date.isoformat()}."
            )
        else:
            v.urgent = True
    if problems:
        raise Invalid(
            "Some ids do not name this day's caregivers or visits.",
            code="REFERENCE_NOT_FOUND",
            message_zh="部分编号不属于当天的护理员或服务。",
            errors=problems,
        )
    today = datetime.now(config.zone()).date()
    if now is None and base.date == today:
        now = utcnow()
    options = {
        "replan_of": base.id,
        "unavailable_caregivers": sorted(set(unavailable)),
        "urgent_visits": sorted(set(urgent)),
        "now": now.isoformat() if now else None,
    }
    return create_plan(
        session,
        actor,
        base.date,
        base.provider_id if actor.platform_level else None,
        time_limit_s or base.time_limit_s,
        options=options,
        parent=base,
    )


# ---------------------------------------------------------------- visits: list, edit, ad hoc


VISIT_READ = PLAN_READ


def list_visits(
    session: Session, actor: Actor, filters: Mapping[str, Any], page: int, page_size: int
) -> tuple[list[Visit], int]:
    actor.require(*VISIT_READ)
    stmt = scoped(select(Visit).options(selectinload(Visit.assignments)), Visit, actor)
    if filters.get("date"):
        stmt = stmt.where(Visit.date == filters["date"])
    if filters.get("status"):
        stmt = stmt.where(Visit.status == filters["status"])
    if filters.get("client_id"):
        stmt = stmt.where(Visit.client_id == filters["client_id"])
    if filters.get("provider_id"):
        stmt = stmt.where(Visit.provider_id == filters["provider_id"])
    if filters.get("caregiver_id"):
        stmt = stmt.where(
            Visit.id.in_(
                select(VisitAssignment.visit_id).where(
                    VisitAssignment.caregiver_id == filters["caregiver_id"]
                )
            )
        )
    stmt = stmt.order_by(Visit.date, Visit.window_start_at, Visit.id)
    return page_of(session, stmt, page, page_size)


def get_visit(session: Session, actor: Actor, visit_id: int) -> Visit:
    actor.require(*VISIT_READ)
    return get_scoped(session, Visit, visit_id, actor)


def _bad(field_name: str, message: str, message_zh: str, code: str = "INVALID_FIELD") -> Invalid:
    return Invalid(message, code=code, message_zh=message_zh, errors={field_name: [message]})


def _on_day(at: datetime, day: date, field_name: str) -> None:
    if at.astimezone(config.zone()).date() != day:
        raise _bad(
            field_name,
            f"{field_name} must fall on the visit's date {day.isoformat()} (local time).",
            f"{field_name} 必须在服务当天（{day.isoformat()}，本地时间）。",
        )


def update_visit(session: Session, actor: Actor, visit_id: int, data: dict[str, Any]) -> Visit:
    """Move a visit to another caregiver or time, pin or unpin it, or cancel it."""
    actor.require(*PLAN_WRITE)
    visit = get_scoped(session, Visit, visit_id, actor)
    before = audit.snapshot(visit)
    before["caregiver_ids"] = [a.caregiver_id for a in visit.assignments]
    if visit.status in FINAL:
        raise Conflict(
            f"The visit is {visit.status.value}; it can no longer change.",
            code="VISIT_CLOSED",
            message_zh="该服务已开始或已结束，不能再修改。",
        )
    if data.get("status") == VisitStatus.cancelled:
        visit.status = VisitStatus.cancelled
        visit.cancel_reason = data.get("cancel_reason")
        visit.pinned = False
        _drop_from_plan(session, visit)
    moved = "caregiver_id" in data or "planned_start" in data
    if "caregiver_id" in data and data["caregiver_id"] is not None:
        cg = session.get(Caregiver, data["caregiver_id"])
        if cg is None or cg.provider_id != visit.provider_id or not cg.active:
            raise _bad(
                "caregiver_id",
                f"No active caregiver with id {data['caregiver_id']}.",
                "找不到该在职护理员。",
                code="REFERENCE_NOT_FOUND",
            )
        _check_qualified(session, visit, cg)
        others = [a.caregiver_id for a in visit.assignments[1:]]
        if cg.id in others:
            raise _bad(
                "caregiver_id",
                "That caregiver is already the second caregiver of this visit.",
                "该护理员已是本次双人服务的另一名护理员。",
            )
        if visit.assignments:
            visit.assignments[0].caregiver_id = cg.id
        else:
            visit.assignments.append(VisitAssignment(caregiver_id=cg.id, sequence=visit.sequence))
        if visit.status == VisitStatus.planned:
            visit.status = VisitStatus.assigned
        visit.unassigned_reason = None
    if data.get("caregiver_id") is not None and data.get("planned_start") is None:
        # A new caregiver without a time: her route decides the start when re-optimised; the
        # old start (planned for someone else's route) shows in the plan but is not pinned.
        visit.planned_start_at = None
        for a in visit.assignments:
            a.planned_start_at = a.planned_arrival_at = None
    if data.get("planned_start") is not None:
        start = data["planned_start"]
        _on_day(start, visit.date, "planned_start")
        visit.planned_start_at = start
        for a in visit.assignments:
            a.planned_start_at = start
            a.planned_arrival_at = start
    if "pinned" in data:
        visit.pinned = bool(data["pinned"])
    elif moved:
        # A visit moved by hand stays where the dispatcher put it when re-optimising.
        visit.pinned = True
    if moved and visit.assignments:
        _move_in_plan(session, visit)
    session.flush()
    after = audit.snapshot(visit)
    after["caregiver_ids"] = [a.caregiver_id for a in visit.assignments]
    old, new = audit.changed(before, after)
    if new:
        audit.record(session, actor, "update", visit, before=old, after=new)
    return visit


def _check_qualified(session: Session, visit: Visit, cg: Caregiver) -> None:
    """The same rules the optimiser applies: skill (with a valid certificate), gender, refusal."""
    client = session.get(Client, visit.client_id)
    problems = qualification.why_not(
        required_skill=visit.required_skill,
        skills=P.skills_on(cg, visit.date),
        gender=cg.gender,
        preferred_gender=client.preferred_caregiver_gender if client else None,
        refused=client is not None and any(r.caregiver_id == cg.id for r in client.refusals),
    )
    if problems:
        raise _bad(
            "caregiver_id",
            f"Caregiver {cg.code} cannot do this visit: {'; '.join(problems)}.",
            "该护理员不能承担此服务（技能/证书、性别或服务对象拒绝）。",
            code="CAREGIVER_NOT_QUALIFIED",
        )


def _plan_of(session: Session, visit: Visit) -> DayPlan | None:
    if visit.plan_id is None:
        return None
    plan = session.get(DayPlan, visit.plan_id)
    return plan if plan is not None and plan.status in ACTIVE else None


def _drop_from_plan(session: Session, visit: Visit) -> None:
    plan = _plan_of(session, visit)
    if plan is None:
        return
    plan.routes = [
        {**r, "stops": [s for s in r["stops"] if s.get("visit_id") != visit.id]}
        for r in plan.routes or []
    ]
    plan.unassigned = [u for u in plan.unassigned or [] if u["visit_id"] != visit.id]


def _move_in_plan(session: Session, visit: Visit) -> None:
    """Mirror a hand edit in the plan's routes, marked ``edited`` (times not re-optimised)."""
    plan = _plan_of(session, visit)
    if plan is None:
        return
    old = next(
        (s for r in plan.routes or [] for s in r["stops"] if s.get("visit_id") == visit.id),
        None,
    )
    _drop_from_plan(session, visit)
    start = visit.planned_start_at
    if start is None and old is not None:
        start = datetime.fromisoformat(old["start"])
    if start is None:
        return
    end = start + timedelta(minutes=visit.duration_min)
    routes = list(plan.routes or [])
    for i, a in enumerate(visit.assignments):
        stop = {
            "visit_id": visit.id,
            "kind": "visit",
            "arrival": P.iso(P.origin_of(visit.date), P.seconds(P.origin_of(visit.date), start)),
            "start": start.astimezone(config.zone()).isoformat(),
            "end": end.astimezone(config.zone()).isoformat(),
            "travel_min": None,
            "travel_m": None,
            "kitchen_id": None,
            "second_caregiver": i > 0,
            "edited": True,
        }
        route = next((r for r in routes if r["caregiver_id"] == a.caregiver_id), None)
        if route is None:
            route = {
                "caregiver_id": a.caregiver_id,
                "depart": stop["start"],
                "return": stop["end"],
                "travel_min": 0,
                "travel_m": 0,
                "stops": [],
            }
            routes.append(route)
        stops = [*route["stops"], stop]
        stops.sort(key=lambda s: datetime.fromisoformat(s["start"]))
        route["stops"] = stops
    plan.routes = routes
    plan.kpis = {**(plan.kpis or {}), "edited": True}


def create_visit(session: Session, actor: Actor, data: dict[str, Any]) -> Visit:
    """An ad-hoc or urgent visit, outside any care plan."""
    actor.require(*PLAN_WRITE)
    pid = resolve_provider(actor, data.get("provider_id"))
    client = session.get(Client, data["client_id"])
    if client is None or client.provider_id != pid:
        raise _bad(
            "client_id",
            f"No client with id {data['client_id']}.",
            "找不到该服务对象。",
            code="REFERENCE_NOT_FOUND",
        )
    service = session.get(ServiceType, data["service_type_id"])
    if service is None or not service.active:
        raise _bad(
            "service_type_id",
            f"No active service type with id {data['service_type_id']}.",
            "找不到该服务类型。",
            code="REFERENCE_NOT_FOUND",
        )
    day: date = data["date"]
    ws, we = data["window_start"], data["window_end"]
    _on_day(ws, day, "window_start")
    if we <= ws:
        raise _bad("window_end", "window_end must be after window_start.", "结束时间须晚于开始。")
    visit = Visit(
        provider_id=pid,
        client_id=client.id,
        service_type_id=service.id,
        date=day,
        window_start_at=ws,
        window_end_at=we,
        duration_min=data.get("duration_min") or service.default_duration_min,
        required_skill=service.required_skill,
        caregivers_needed=service.caregivers_needed,
        service_point_id=data.get("service_point_id"),
        priority=data.get("priority") or 1,
        urgent=bool(data.get("urgent")),
        status=VisitStatus.planned,
    )
    session.add(visit)
    session.flush()
    audit.record(session, actor, "create", visit, after=audit.snapshot(visit))
    return visit


def generate(session: Session, actor: Actor, day: date, provider_id: int | None) -> Any:
    actor.require(*PLAN_WRITE)
    pid = resolve_provider(actor, provider_id)
    return generate_for_day(session, actor, pid, day)


# ---------------------------------------------------------------- the demo day


def plan_demo_day(session: Session, day: date, time_limit_s: float = 20) -> list[DayPlan]:
    """Generate, solve in-process and publish ``day`` for every provider (``make demo``).

    ``time_limit_s`` is shared among the providers by their number of visits (at least 5 s
    each: below that the first plan of a day with kitchen runs may not be found on a busy box).
    """
    pids = provider_ids(session)
    generate_for_day(session, SYSTEM, None, day)
    session.flush()
    days = [(pid, P.load_day(session, pid, day)) for pid in pids]
    days = [(pid, data) for pid, data in days if data.visits]
    total = sum(len(data.visits) for _, data in days) or 1
    plans = []
    for pid, data in days:
        limit = max(5.0, time_limit_s * len(data.visits) / total)
        latest = session.scalar(
            select(func.max(DayPlan.version)).where(DayPlan.provider_id == pid, DayPlan.date == day)
        )
        plan = DayPlan(
            provider_id=pid,
            date=day,
            version=(latest or 0) + 1,
            status=PlanStatus.optimizing,
            time_limit_s=math.ceil(limit),
            options={},
            progress={"stage": "solving", "percent": 10},
        )
        session.add(plan)
        session.flush()
        result = _solve(data, plan, limit)
        _store(session, plan, data.visits, result)
        publish(session, SYSTEM, plan.id)
        log.info(
            "demo day %s provider %s: %s assigned, %s unassigned",
            day,
            pid,
            plan.kpis["visits_assigned"],
            plan.kpis["visits_unassigned"],
        )
        plans.append(plan)
    return plans
