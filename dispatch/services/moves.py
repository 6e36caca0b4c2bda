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
from dispatch.models import Caregiver, Client, ClientRefusal, DayPlan, ServicePoint, Visit
from dispatch.services import day_lock, plans, proposals, visits
from dispatch.services import problem as P
from dispatch.tenancy import Actor, get_scoped


@dataclass(frozen=True)
class Refusal:
    """One reason a move is refused: a MOVE_* entry of the catalogue and its message's values."""

    entry: Code
    params: dict[str, Any]

    @classmethod
    def of(cls, entry: Code, **params: Any) -> Refusal:
        return cls(entry, params)

    def as_dict(self) -> dict[str, str]:
        en, zh = self.entry.texts(**self.params)
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
        gender_words = ("female", "女") if wish.value == "female" else ("male", "男")
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


def check_move(
    session: Session,
    actor: Actor,
    visit_id: int,
    caregiver_id: int,
    start: datetime | None = None,
) -> dict[str, Any]:
    """Would ``visit_id`` fit ``caregiver_id``'s day at ``start``? New times or refusals."""
    return _judge(session, actor, visit_id, caregiver_id, start)[0]


def _judge(
    session: Session,
    actor: Actor,
    visit_id: int,
    caregiver_id: int,
    start: datetime | None,
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
    if cg.id in [a.caregiver_id for a in visit.assignments[1:]]:
        refusals.append(Refusal.of(error_codes.MOVE_ALREADY_SECOND, name=cg.name))
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
    travel_out = timedelta(0)
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
    }, refusals


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
    answer, refusals = _judge(session, actor, visit_id, caregiver_id, start)
    if dry_run:
        return answer
    if refusals:
        first = refusals[0]
        raise first.entry(**first.params, errors={"refusals": answer["refusals"]})
    visits.update_visit(
        session,
        actor,
        visit_id,
        {"caregiver_id": caregiver_id, "planned_start": datetime.fromisoformat(answer["start"])},
    )
    return answer
