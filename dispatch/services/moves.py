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
MOVE_MAX_WORK = "MOVE_OVER_MAX_WORKING_TIME"
MOVE_NO_COMMON_START = "MOVE_NO_COMMON_START"


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


@dataclass
class _Fit:
    """One caregiver's answer for the visit at a start: times, neighbours and refusals."""

    cg: Caregiver
    arrival: datetime
    begin: datetime
    end: datetime
    travel_in: timedelta
    travel_out: timedelta | None
    prev: _Stop | None
    nxt: _Stop | None
    refusals: list[Refusal]


def _base(session: Session, cg: Caregiver) -> routing.Location:
    """Where the caregiver's route starts and ends: the start point, else home (as planned)."""
    point = session.get(ServicePoint, cg.start_point_id) if cg.start_point_id else None
    if point is not None:
        return routing.Location(point.lat, point.lon)
    return routing.Location(cg.home_lat, cg.home_lon)


def _route_refusals(
    visit: Visit,
    cg: Caregiver,
    base: routing.Location,
    shift: tuple[datetime, datetime],
    stops: list[_Stop],
    here: routing.Location,
    begin: datetime,
    end: datetime,
) -> list[Refusal]:
    """The router's own route check (``routing.check_route``) on the caregiver's day with the
    visit at ``begin`` and every other stop where it is planned: refusals for what the visit
    breaks (the maximum working time, the shift's end back at base, a later stop missed).
    What the day already broke without the visit is not held against the move; a day already
    past its maximum working time may not grow longer."""
    origin = P.origin_of(visit.date)

    def at(t: datetime) -> int:
        return P.seconds(origin, t)

    def fixed(location: routing.Location | None, a: datetime, b: datetime) -> routing.RouteStop:
        return routing.RouteStop(location, (routing.TimeWindow(at(a), at(a)),), at(b) - at(a))

    caregiver = routing.Caregiver(
        id=cg.id,
        start=base,
        end=base,
        shift_start_s=at(shift[0]),
        shift_end_s=at(shift[1]),
        travel_mode=cg.travel_mode.value,
        max_work_s=cg.max_minutes_per_day * 60 if cg.max_minutes_per_day else None,
    )
    others = [(s.start, fixed(s.location, s.start, s.end)) for s in stops]
    mine = sorted([*others, (begin, fixed(here, begin, end))], key=lambda x: x[0])
    model = proposals.travel_model()
    with_visit = routing.check_route(caregiver, [x[1] for x in mine], model)
    if with_visit.broken is None:
        return []
    without = routing.check_route(caregiver, [x[1] for x in others], model)
    if without.broken is not None and without.broken != routing.BROKEN_WORKING_TIME:
        return []  # the day is already off its plan: the checks above judge the move
    if with_visit.broken == routing.BROKEN_WORKING_TIME:
        if without.broken == routing.BROKEN_WORKING_TIME and (with_visit.work_s or 0) <= (
            without.work_s or 0
        ):
            return []  # already over without the visit, and no longer with it
        work = round((with_visit.work_s or 0) / 60)
        limit = round((with_visit.limit_s or 0) / 60)
        leave = _hm(P.instant(origin, with_visit.depart_s or 0))
        back = _hm(P.instant(origin, with_visit.return_s or 0))
        return [
            Refusal(
                MOVE_MAX_WORK,
                f"{cg.name} would work {work} min ({leave}–{back}), more than the maximum "
                f"{limit} min a day.",
                f"{cg.name} 将工作 {work} 分钟（{leave}–{back}），超过每日上限 {limit} 分钟。",
            )
        ]
    if with_visit.broken == routing.BROKEN_SHIFT:
        return [
            Refusal(
                MOVE_SHIFT,
                f"{cg.name} could not be back at base by the end of the shift "
                f"({_hm(shift[1])}) with this visit at {_hm(begin)}.",
                f"本服务 {_hm(begin)} 开始时，{cg.name} 无法在班次结束（{_hm(shift[1])}）前返回。",
            )
        ]
    return [
        Refusal(
            MOVE_OVERLAP,
            f"With this visit at {_hm(begin)}–{_hm(end)}, {cg.name} could not keep a later stop "
            "of the day on time.",
            f"本服务安排在 {_hm(begin)}–{_hm(end)} 后，{cg.name} 无法按时完成当天后面的站点。",
        )
    ]


def _fit(
    session: Session,
    visit: Visit,
    cg: Caregiver,
    here: routing.Location,
    wanted: datetime,
    plan: DayPlan | None,
) -> _Fit:
    """Where the visit would sit in ``cg``'s day if it started at ``wanted`` (or as soon after
    as the stop before and the window allow), and what that breaks."""
    duration = timedelta(minutes=visit.duration_min)
    latest_start = max(visit.window_start_at, visit.window_end_at - duration)
    stops = _route_stops(session, visit, cg.id, plan)
    before = [s for s in stops if s.start <= wanted]
    after = [s for s in stops if s.start > wanted]
    prev = before[-1] if before else None
    base = _base(session, cg)
    # A break is taken where the caregiver is: the way comes from the last place before it.
    came_from = next((s.location for s in reversed(before) if s.location), base)
    travel_in = _travel(cg, came_from, here)
    arrival = max(wanted, (prev.end + travel_in) if prev else wanted)
    begin = max(arrival, visit.window_start_at)
    end = begin + duration
    # When the caregiver gets there: straight from the stop before (waiting if early).
    arrives = min(begin, prev.end + travel_in) if prev else begin
    refusals: list[Refusal] = []
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
    travel_out = None
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
    if not refusals and shift is not None:
        window = (_at(visit.date, shift[0]), _at(visit.date, shift[1]))
        refusals += _route_refusals(visit, cg, base, window, stops, here, begin, end)
    return _Fit(cg, arrives, begin, end, travel_in, travel_out, prev, nxt, refusals)


def _seat(visit: Visit, from_caregiver_id: int | None) -> int:
    """Which of the visit's caregivers gives up the seat (default: the first)."""
    held = [a.caregiver_id for a in visit.assignments]
    if from_caregiver_id is None:
        return 0
    if from_caregiver_id not in held:
        raise Invalid(
            f"Caregiver {from_caregiver_id} is not assigned to visit {visit.id}; "
            f"its caregivers are {held or 'none'}.",
            code="INVALID_FIELD",
            message_zh=f"护理员 {from_caregiver_id} 未被安排到服务 {visit.id}。",
            errors={"from_caregiver_id": ["Give one of the visit's caregivers, or leave it out."]},
        )
    return held.index(from_caregiver_id)


def check_move(
    session: Session,
    actor: Actor,
    visit_id: int,
    caregiver_id: int,
    start: datetime | None = None,
    from_caregiver_id: int | None = None,
) -> dict[str, Any]:
    """Would ``visit_id`` fit ``caregiver_id``'s day at ``start``? New times or refusals.

    A double-staffed visit moves one seat (``from_caregiver_id``'s, by default the first
    caregiver's) and keeps one start for all its caregivers: the start every one of them can
    make, checked in each one's day; the partners' refusals are reported too.
    """
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
    seat = _seat(visit, from_caregiver_id)
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
    partner_ids = [a.caregiver_id for i, a in enumerate(visit.assignments) if i != seat]
    if cg.id in partner_ids:
        refusals.append(
            Refusal(
                MOVE_SECOND,
                f"{cg.name} is already one of this visit's caregivers.",
                f"{cg.name} 已是本次双人服务的另一名护理员。",
            )
        )
    refusals += qualification_refusals(visit, cg, client, refused)
    partners = [p for p in (session.get(Caregiver, i) for i in partner_ids) if p is not None]
    here = routing.Location(client.lat, client.lon)
    plan = _active_plan(session, visit)
    wanted = start or visit.planned_start_at or visit.window_start_at
    team = [cg, *(p for p in partners if p.id != cg.id)]
    fits = [_fit(session, visit, who, here, wanted, plan) for who in team]
    common = max(f.begin for f in fits)
    if any(f.begin != common for f in fits):
        # One start for all: each caregiver's day judged again at the latest of theirs.
        fits = [_fit(session, visit, who, here, common, plan) for who in team]
        late = [f for f in fits if f.begin != common]
        if late:
            names = "、".join(f.cg.name for f in late)
            refusals.append(
                Refusal(
                    MOVE_NO_COMMON_START,
                    f"The caregivers cannot start together at {_hm(common)}: {names} "
                    f"could only start at {_hm(max(f.begin for f in late))}.",
                    f"护理员无法在 {_hm(common)} 同时开始：{names} 最早 "
                    f"{_hm(max(f.begin for f in late))} 才能开始。",
                )
            )
    for f in fits:
        for r in f.refusals:
            if r not in refusals:
                refusals.append(r)
    mine = fits[0]
    return {
        "visit_id": visit.id,
        "caregiver_id": cg.id,
        "from_caregiver_id": visit.assignments[seat].caregiver_id if visit.assignments else None,
        "caregiver_ids": _seated(visit, seat, cg.id),
        "allowed": not refusals,
        "arrival": mine.arrival.astimezone(config.zone()).isoformat(),
        "start": mine.begin.astimezone(config.zone()).isoformat(),
        "end": mine.end.astimezone(config.zone()).isoformat(),
        "travel_min": round(mine.travel_in.total_seconds() / 60),
        "travel_after_min": (
            round(mine.travel_out.total_seconds() / 60) if mine.travel_out is not None else None
        ),
        "previous_visit_id": mine.prev.visit_id if mine.prev else None,
        "next_visit_id": mine.nxt.visit_id if mine.nxt else None,
        "refusals": [r.as_dict() for r in refusals],
    }


def _seated(visit: Visit, seat: int, caregiver_id: int) -> list[int]:
    """The visit's caregivers, in seat order, after ``caregiver_id`` takes seat ``seat``."""
    ids = [a.caregiver_id for a in visit.assignments] or [caregiver_id]
    ids[seat] = caregiver_id
    return ids


def move_visit(
    session: Session,
    actor: Actor,
    visit_id: int,
    caregiver_id: int,
    start: datetime | None = None,
    *,
    from_caregiver_id: int | None = None,
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
    answer = check_move(session, actor, visit_id, caregiver_id, start, from_caregiver_id)
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
        {
            "caregiver_id": caregiver_id,
            "from_caregiver_id": answer["from_caregiver_id"],
            "planned_start": datetime.fromisoformat(answer["start"]),
        },
    )
    return answer
