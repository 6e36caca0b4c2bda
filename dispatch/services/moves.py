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
from dispatch import config, error_codes, qualification
from dispatch.errors import Code
from dispatch.models import Caregiver, Client, ClientRefusal, DayPlan, Gender, ServicePoint, Visit
from dispatch.services import day_lock, plans, proposals, visits
from dispatch.services import problem as P
from dispatch.tenancy import Actor, get_scoped


@dataclass(frozen=True)
class Refusal:
    """One reason a move is refused: a MOVE_* entry of the catalogue, its variant (another
    wording of the same reason) and its message's values."""

    entry: Code
    params: dict[str, Any]
    variant: str | None = None

    @classmethod
    def of(cls, entry: Code, variant: str | None = None, **params: Any) -> Refusal:
        return cls(entry, params, variant)

    def as_dict(self) -> dict[str, str]:
        en, zh = self.entry.texts(self.variant, **self.params)
        return {"code": self.entry.code, "message": en, "message_zh": zh}


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
            Refusal.of(error_codes.MOVE_SKILL_MISSING, name=cg.name, skill=visit.required_skill)
        )
    if wish and fails(preferred_gender=wish.value):
        gender_words = ("female", "女") if wish == Gender.female else ("male", "男")
        out.append(Refusal.of(error_codes.MOVE_GENDER, client=client.name, gender=gender_words))
    if fails(refused=cg.id in refused):
        out.append(Refusal.of(error_codes.MOVE_REFUSED_BY_CLIENT, client=client.name, name=cg.name))
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
            Refusal.of(
                error_codes.MOVE_OVER_MAX_WORKING_TIME,
                name=cg.name,
                minutes=work,
                span=f"{leave}–{back}",
                limit=limit,
            )
        ]
    if with_visit.broken == routing.BROKEN_SHIFT:
        return [
            Refusal.of(
                error_codes.MOVE_OUTSIDE_SHIFT,
                "not_back",
                name=cg.name,
                shift_end=_hm(shift[1]),
                begin=_hm(begin),
            )
        ]
    return [
        Refusal.of(
            error_codes.MOVE_OVERLAP, "later_stop", name=cg.name, begin=_hm(begin), end=_hm(end)
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
            Refusal.of(error_codes.MOVE_NOT_WORKING, name=cg.name, day=visit.date.isoformat())
        )
    else:
        s0, s1 = _at(visit.date, shift[0]), _at(visit.date, shift[1])
        if begin < s0 or end > s1:
            refusals.append(
                Refusal.of(
                    error_codes.MOVE_OUTSIDE_SHIFT,
                    begin=_hm(begin),
                    end=_hm(end),
                    name=cg.name,
                    shift=f"{_hm(s0)}–{_hm(s1)}",
                )
            )
    if begin > latest_start:
        refusals.append(
            Refusal.of(
                error_codes.MOVE_OUTSIDE_WINDOW,
                begin=_hm(begin),
                latest=_hm(latest_start),
                window=f"{_hm(visit.window_start_at)}–{_hm(visit.window_end_at)}",
            )
        )
    nxt = after[0] if after else None
    travel_out = None
    if nxt is not None:
        travel_out = _travel(cg, here, nxt.location) if nxt.location else timedelta(0)
        if end + travel_out > nxt.start:
            refusals.append(
                Refusal.of(
                    error_codes.MOVE_OVERLAP,
                    name=cg.name,
                    next=_hm(nxt.start),
                    end=_hm(end),
                    minutes=round(travel_out.total_seconds() / 60),
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
        raise error_codes.INVALID_FIELD(
            "not_on_visit", id=from_caregiver_id, visit=visit.id, field="from_caregiver_id"
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
    return _judge(session, actor, visit_id, caregiver_id, start, from_caregiver_id)[0]


def _judge(
    session: Session,
    actor: Actor,
    visit_id: int,
    caregiver_id: int,
    start: datetime | None,
    from_caregiver_id: int | None,
) -> tuple[dict[str, Any], list[Refusal]]:
    actor.require(*plans.PLAN_WRITE)
    visit = get_scoped(session, Visit, visit_id, actor)
    cg = session.get(Caregiver, caregiver_id)
    if cg is None or cg.provider_id != visit.provider_id or not cg.active:
        raise error_codes.REFERENCE_NOT_FOUND(
            "active_caregiver", id=caregiver_id, field="caregiver_id"
        )
    if start is not None and start.tzinfo is None:
        raise error_codes.INVALID_FIELD(
            "needs_offset", name="planned_start", errors={"planned_start": ["Give the offset."]}
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
        refusals.append(Refusal.of(error_codes.MOVE_VISIT_CLOSED, status=visit.status.value))
    partner_ids = [a.caregiver_id for i, a in enumerate(visit.assignments) if i != seat]
    if cg.id in partner_ids:
        refusals.append(Refusal.of(error_codes.MOVE_ALREADY_SECOND, name=cg.name))
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
                Refusal.of(
                    error_codes.MOVE_NO_COMMON_START,
                    at=_hm(common),
                    names=names,
                    earliest=_hm(max(f.begin for f in late)),
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
    }, refusals


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
    answer, refusals = _judge(session, actor, visit_id, caregiver_id, start, from_caregiver_id)
    if dry_run:
        return answer
    if refusals:
        first = refusals[0]
        raise first.entry(first.variant, **first.params, errors={"refusals": answer["refusals"]})
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
