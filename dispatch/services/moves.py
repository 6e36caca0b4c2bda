"""Moving a visit by hand: the server's check (the optimiser's rules) answers new times or why not.

A dispatcher drags a visit to a caregiver and a time. The check applies what the router would:
skill with a valid certificate, the client's gender wish and refusals, the visit window (the
visit must start in it and be over by its end), the caregiver's shift, and the travel from the
stop before and to the stop after in the caregiver's route. It answers the times the visit
would get (arrival, start, end) or coded refusals, each in English and Chinese.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import routing
from dispatch import config, qualification
from dispatch.errors import Conflict, Invalid
from dispatch.models import Caregiver, Client, ClientRefusal, DayPlan, ServicePoint, Visit
from dispatch.services import day_lock, plans, proposals, visits
from dispatch.services import problem as P
from dispatch.tenancy import Actor, get_scoped

# Every code a refusal can carry, with its Chinese wording (English is the message).
MOVE_SKILL = "MOVE_SKILL_MISSING"
MOVE_GENDER = "MOVE_GENDER"
MOVE_REFUSED = "MOVE_REFUSED_BY_CLIENT"
MOVE_NOT_WORKING = "MOVE_NOT_WORKING"
MOVE_SHIFT = "MOVE_OUTSIDE_SHIFT"
MOVE_WINDOW = "MOVE_OUTSIDE_WINDOW"
MOVE_OVERLAP = "MOVE_OVERLAP"
MOVE_CLOSED = "MOVE_VISIT_CLOSED"
MOVE_SECOND = "MOVE_ALREADY_SECOND"


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str
    message_zh: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "message_zh": self.message_zh}


@dataclass(frozen=True)
class _Stop:
    visit_id: int | None
    start: datetime
    end: datetime
    location: routing.Location | None


def _hm(at: datetime) -> str:
    return at.astimezone(config.zone()).strftime("%H:%M")


def qualification_refusals(
    visit: Visit, cg: Caregiver, client: Client, refused: set[int]
) -> list[Refusal]:
    """Skill (with a certificate valid that day), the client's gender wish and refusals: each
    judged by ``dispatch.qualification`` alone, the planner's and the rules' one definition."""
    skills = P.skills_on(cg, visit.date)
    wish = client.preferred_caregiver_gender
    gender = cg.gender.value

    def fails(**aspect: Any) -> bool:
        base: dict[str, Any] = {
            "required_skill": None,
            "skills": skills,
            "gender": gender,
            "preferred_gender": None,
            "refused": False,
        }
        return bool(qualification.why_not(**{**base, **aspect}))

    out = []
    if fails(required_skill=visit.required_skill):
        out.append(
            Refusal(
                MOVE_SKILL,
                f"{cg.name} lacks the skill {visit.required_skill} (or its certificate expired).",
                f"{cg.name} 不具备技能 {visit.required_skill}（或证书已过期）。",
            )
        )
    if wish and fails(preferred_gender=wish.value):
        out.append(
            Refusal(
                MOVE_GENDER,
                f"{client.name} asks for a {wish.value} caregiver.",
                f"{client.name} 要求{'女' if wish.value == 'female' else '男'}性护理员。",
            )
        )
    if fails(refused=cg.id in refused):
        out.append(
            Refusal(
                MOVE_REFUSED,
                f"{client.name} has refused {cg.name}.",
                f"{client.name} 已拒绝 {cg.name} 上门。",
            )
        )
    return out


def _route_stops(
    session: Session, visit: Visit, caregiver_id: int, plan: DayPlan | None
) -> list[_Stop]:
    """The caregiver's other stops that day, from the active plan, with their locations."""
    if plan is None:
        return []
    raw = [
        s
        for r in plan.routes or []
        if r["caregiver_id"] == caregiver_id
        for s in r["stops"]
        if s.get("visit_id") != visit.id
    ]
    ids = {s["visit_id"] for s in raw if s.get("visit_id")}
    kitchens = {s["kitchen_id"] for s in raw if s.get("kitchen_id")}
    where: dict[int, routing.Location] = {}
    for vid, lat, lon in session.execute(
        select(Visit.id, Client.lat, Client.lon)
        .join(Client, Client.id == Visit.client_id)
        .where(Visit.id.in_(ids))
    ):
        where[vid] = routing.Location(lat, lon)
    points = {
        p.id: routing.Location(p.lat, p.lon)
        for p in session.scalars(select(ServicePoint).where(ServicePoint.id.in_(kitchens)))
    }
    stops = []
    for s in raw:
        if s.get("kind", "visit") == "visit":
            loc = where.get(s.get("visit_id") or 0)
        else:
            loc = points.get(s.get("kitchen_id") or 0)
        stops.append(
            _Stop(
                s.get("visit_id"),
                datetime.fromisoformat(s["start"]),
                datetime.fromisoformat(s["end"]),
                loc,
            )
        )
    return sorted(stops, key=lambda s: s.start)


def _travel(cg: Caregiver, a: routing.Location | None, b: routing.Location) -> timedelta:
    if a is None:
        return timedelta(0)
    m = proposals.travel_model().matrix([a], [b], cg.travel_mode.value)
    return timedelta(seconds=int(m.seconds[0, 0]))


def _active_plan(session: Session, visit: Visit) -> DayPlan | None:
    return session.scalar(
        select(DayPlan)
        .where(
            DayPlan.provider_id == visit.provider_id,
            DayPlan.date == visit.date,
            DayPlan.status.in_(proposals.ACTIVE),
        )
        .order_by(DayPlan.version.desc())
        .limit(1)
    )


def _at(day: date, t: Any) -> datetime:
    return datetime.combine(day, t, tzinfo=config.zone())


def check_move(
    session: Session,
    actor: Actor,
    visit_id: int,
    caregiver_id: int,
    start: datetime | None = None,
) -> dict[str, Any]:
    """Would ``visit_id`` fit ``caregiver_id``'s day at ``start``? New times or refusals."""
    actor.require(*plans.PLAN_WRITE)
    visit = get_scoped(session, Visit, visit_id, actor)
    cg = session.get(Caregiver, caregiver_id)
    if cg is None or cg.provider_id != visit.provider_id or not cg.active:
        raise Invalid(
            f"No active caregiver with id {caregiver_id}.",
            code="REFERENCE_NOT_FOUND",
            message_zh="找不到该在职护理员。",
            errors={"caregiver_id": [f"No active caregiver with id {caregiver_id}."]},
        )
    if start is not None and start.tzinfo is None:
        raise Invalid(
            "planned_start needs a UTC offset, e.g. 2026-11-24T09:00:00+08:00.",
            code="INVALID_FIELD",
            message_zh="planned_start 须带时区偏移。",
            errors={"planned_start": ["Give the offset."]},
        )
    client = session.get(Client, visit.client_id)
    assert client is not None
    refused = set(
        session.scalars(
            select(ClientRefusal.caregiver_id).where(ClientRefusal.client_id == client.id)
        )
    )
    refusals: list[Refusal] = []
    if visit.status in proposals.FINAL:
        refusals.append(
            Refusal(
                MOVE_CLOSED,
                f"The visit is {visit.status.value}; it can no longer move.",
                "该服务已开始或已结束，不能再调整。",
            )
        )
    if cg.id in [a.caregiver_id for a in visit.assignments[1:]]:
        refusals.append(
            Refusal(
                MOVE_SECOND,
                f"{cg.name} is already the second caregiver of this visit.",
                f"{cg.name} 已是本次双人服务的另一名护理员。",
            )
        )
    refusals += qualification_refusals(visit, cg, client, refused)

    duration = timedelta(minutes=visit.duration_min)
    latest_start = max(visit.window_start_at, visit.window_end_at - duration)
    wanted = start or visit.planned_start_at or visit.window_start_at
    here = routing.Location(client.lat, client.lon)
    stops = _route_stops(session, visit, cg.id, _active_plan(session, visit))
    before = [s for s in stops if s.start <= wanted]
    after = [s for s in stops if s.start > wanted]
    prev = before[-1] if before else None
    home = routing.Location(cg.home_lat, cg.home_lon)
    travel_in = _travel(cg, prev.location if prev else home, here)
    arrival = max(wanted, (prev.end + travel_in) if prev else wanted)
    begin = max(arrival, visit.window_start_at)
    end = begin + duration
    shift = P.shift_of(cg, visit.date)
    if shift is None:
        refusals.append(
            Refusal(
                MOVE_NOT_WORKING,
                f"{cg.name} does not work on {visit.date.isoformat()}.",
                f"{cg.name} 当天（{visit.date.isoformat()}）不上班。",
            )
        )
    else:
        s0, s1 = _at(visit.date, shift[0]), _at(visit.date, shift[1])
        if begin < s0 or end > s1:
            refusals.append(
                Refusal(
                    MOVE_SHIFT,
                    f"{_hm(begin)}–{_hm(end)} is outside {cg.name}'s shift {_hm(s0)}–{_hm(s1)}.",
                    f"{_hm(begin)}–{_hm(end)} 超出 {cg.name} 的班次 {_hm(s0)}–{_hm(s1)}。",
                )
            )
    if begin > latest_start:
        refusals.append(
            Refusal(
                MOVE_WINDOW,
                f"It would start at {_hm(begin)}, after the latest start {_hm(latest_start)} "
                f"of the window {_hm(visit.window_start_at)}–{_hm(visit.window_end_at)}.",
                f"开始时间 {_hm(begin)} 晚于时间窗 {_hm(visit.window_start_at)}–"
                f"{_hm(visit.window_end_at)} 的最晚开始 {_hm(latest_start)}。",
            )
        )
    nxt = after[0] if after else None
    travel_out = timedelta(0)
    if nxt is not None:
        travel_out = _travel(cg, here, nxt.location) if nxt.location else timedelta(0)
        if end + travel_out > nxt.start:
            refusals.append(
                Refusal(
                    MOVE_OVERLAP,
                    f"{cg.name} could not reach the next stop (starts {_hm(nxt.start)}) in time: "
                    f"this visit ends {_hm(end)} and the way takes "
                    f"{round(travel_out.total_seconds() / 60)} min.",
                    f"{cg.name} 无法按时赶到下一站（{_hm(nxt.start)} 开始）："
                    f"本服务 {_hm(end)} 结束，"
                    f"路上需 {round(travel_out.total_seconds() / 60)} 分钟。",
                )
            )
    return {
        "visit_id": visit.id,
        "caregiver_id": cg.id,
        "allowed": not refusals,
        "arrival": min(begin, prev.end + travel_in if prev else begin)
        .astimezone(config.zone())
        .isoformat(),
        "start": begin.astimezone(config.zone()).isoformat(),
        "end": end.astimezone(config.zone()).isoformat(),
        "travel_min": round(travel_in.total_seconds() / 60),
        "travel_after_min": round(travel_out.total_seconds() / 60) if nxt else None,
        "previous_visit_id": prev.visit_id if prev else None,
        "next_visit_id": nxt.visit_id if nxt else None,
        "refusals": [r.as_dict() for r in refusals],
    }


def move_visit(
    session: Session,
    actor: Actor,
    visit_id: int,
    caregiver_id: int,
    start: datetime | None = None,
    *,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Check, then (unless ``dry_run``) move and pin the visit at the answered start.

    A refused move raises a 409 whose code is the first refusal's, all of them in ``errors``.
    A real move takes the day's lock first (``day_lock``): it is checked against the day as
    stored now, and no plan is stored onto the day between the check and the move.
    """
    if not dry_run:
        actor.require(*plans.PLAN_WRITE)
        visit = get_scoped(session, Visit, visit_id, actor)
        day_lock.lock(session, visit.provider_id, visit.date)
        day_lock.visits(session, [visit.id])
    answer = check_move(session, actor, visit_id, caregiver_id, start)
    if dry_run:
        return answer
    if not answer["allowed"]:
        first = answer["refusals"][0]
        raise Conflict(
            first["message"],
            code=first["code"],
            message_zh=first["message_zh"],
            errors={"refusals": answer["refusals"]},
        )
    visits.update_visit(
        session,
        actor,
        visit_id,
        {"caregiver_id": caregiver_id, "planned_start": datetime.fromisoformat(answer["start"])},
    )
    return answer
