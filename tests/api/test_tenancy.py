"""Tenancy on every route that takes an id, built from the app's URL map so new routes are covered.

For each route under /api/v1 with an ``<int:...>`` argument and each method, as provider 1's
dispatcher (or provider admin, or caregiver, whichever may call it):
- a nonexistent id answers 404 with a code;
- an id of provider 2's row (every combination of foreign and own ids) answers that same 404.
Routes only platform users may call are not provider-scoped; they still answer 404 for a
missing id. A new route whose path segment is not in FACTORIES fails the suite: add one line.
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from dispatch.models import (
    Appeal,
    AuditEntry,
    BillingBatch,
    Call,
    Callback,
    CallKind,
    CallSource,
    CaregiverSkill,
    CarePlan,
    Certificate,
    ClientAbsence,
    ClientRefusal,
    Complaint,
    ComplaintStatus,
    Crs,
    DayPlan,
    Device,
    DeviceKind,
    EventKind,
    FamilyLink,
    Flag,
    Meal,
    MealMethod,
    MealSlot,
    Photo,
    Recurrence,
    Role,
    ServiceOrder,
    ServicePoint,
    ServicePointKind,
    Severity,
    Shift,
    TimesheetUpload,
    Training,
    User,
    Visit,
    VisitEvent,
    WorkOrder,
    WorkOrderSource,
)
from tests.conftest import Tenant, World

API = "/api/v1"
MISSING = 2_000_000_000  # fits a 32-bit id column, never allocated in a test
INT_ARG = re.compile(r"^<int(?:\([^)]*\))?:(\w+)>$")
ANY_ARG = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
# Values for non-integer converters that share a rule with an id.
SAMPLE_ARGS = {"date": "2026-11-23", "code": "GEOFENCE_IN", "format": "csv"}
DAY = date(2026, 11, 23)
AT = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


class Rows:
    """One row of every provider-owned noun for a tenant, made directly with the models."""

    def __init__(self, db: Any, world: World, t: Tenant) -> None:
        self.db, self.world, self.t = db, world, t
        self.ids: dict[str, int] = {}

    def add(self, row: Any) -> int:
        self.db.add(row)
        self.db.flush()
        return row.id

    def build(self) -> Rows:
        t, svc = self.t, self.world.services["CLEAN"]
        p, c, g = t.provider.id, t.client.id, t.caregiver.id
        n = p  # keeps unique values apart between the two tenants
        ids = self.ids
        ids["provider"], ids["user"], ids["client"], ids["caregiver"] = p, t.dispatcher.id, c, g
        ids["absence"] = self.add(
            ClientAbsence(
                client_id=c, start_at=AT, end_at=AT + timedelta(days=2), reason="hospital"
            )
        )
        ids["refusal"] = self.add(ClientRefusal(client_id=c, caregiver_id=g))
        ids["skill"] = self.db.scalar(
            select(CaregiverSkill.id).where(CaregiverSkill.caregiver_id == g).limit(1)
        )
        ids["shift"] = self.db.scalar(select(Shift.id).where(Shift.caregiver_id == g).limit(1))
        ids["certificate"] = self.add(
            Certificate(caregiver_id=g, kind="健康证", expires_on=date(2030, 1, 1))
        )
        ids["training"] = self.add(
            Training(caregiver_id=g, course="失智老人照护", on_date=DAY, hours=Decimal("8.0"))
        )
        ids["service_point"] = self.add(
            ServicePoint(
                provider_id=p,
                code=f"K{n}",
                name="厨房",
                kind=ServicePointKind.kitchen,
                lat=29.3,
                lon=120.1,
            )
        )
        ids["care_plan"] = self.add(
            CarePlan(
                provider_id=p,
                client_id=c,
                service_type_id=svc.id,
                recurrence=Recurrence.weekly,
                days_of_week=[0],
                start_date=DAY,
                window_start=time(9),
                window_end=time(11),
                duration_min=60,
            )
        )
        ids["day_plan"] = self.add(DayPlan(provider_id=p, date=DAY))
        ids["visit"] = self.add(
            Visit(
                provider_id=p,
                client_id=c,
                service_type_id=svc.id,
                date=DAY,
                window_start_at=AT,
                window_end_at=AT + timedelta(hours=2),
                duration_min=60,
                plan_id=ids["day_plan"],
            )
        )
        ids["upload"] = self.add(
            TimesheetUpload(
                provider_id=p, sha256=f"{n:064d}", rows=1, created=1, already_received=0
            )
        )
        ids["work_order"] = self.add(
            WorkOrder(
                provider_id=p,
                client_id=c,
                caregiver_id=g,
                service_type_id=svc.id,
                visit_id=ids["visit"],
                source=WorkOrderSource.app,
                start_at=AT,
                end_at=AT + timedelta(hours=1),
                billable_min=60,
            )
        )
        ids["flag"] = self.add(
            Flag(
                work_order_id=ids["work_order"],
                code="GPS_POOR",
                severity=Severity.info,
                evidence={},
            )
        )
        ids["photo"] = self.add(
            Photo(
                sha256=f"{n:064x}",
                mime="image/jpeg",
                size_bytes=1,
                width=1,
                height=1,
                provider_id=p,
            )
        )
        ids["appeal"] = self.add(
            Appeal(work_order_id=ids["work_order"], provider_id=p, reason="GPS drift indoors")
        )
        ids["billing_batch"] = self.add(
            BillingBatch(
                provider_id=p, period_start=date(2026, 11, 1), period_end=date(2026, 11, 30)
            )
        )
        ids["event"] = self.add(
            VisitEvent(
                idempotency_key=str(uuid.uuid4()),
                content_hash="0" * 64,
                visit_id=ids["visit"],
                caregiver_id=g,
                kind=EventKind.check_in,
                device_time_at=AT,
                lat=29.3,
                lon=120.1,
                raw_lat=29.3,
                raw_lon=120.1,
                crs=Crs.wgs84,
            )
        )
        ids["device"] = self.add(
            Device(
                provider_id=p,
                kind=DeviceKind.pendant,
                client_id=c,
                label="呼叫器",
                key_hash=f"{n:064x}",
                key_prefix=f"cdk_{n}",
            )
        )
        ids["call"] = self.add(
            Call(
                provider_id=p,
                client_id=c,
                kind=CallKind.sos,
                source=CallSource.device,
                device_id=ids["device"],
                opened_at=AT,
                due_at=AT + timedelta(minutes=5),
                escalations=[],
            )
        )
        ids["complaint"] = self.add(
            Complaint(provider_id=p, client_id=c, text="护理员迟到", status=ComplaintStatus.open)
        )
        ids["service_order"] = self.add(
            ServiceOrder(
                provider_id=p,
                client_id=c,
                service_type_id=svc.id,
                date=DAY,
                window_start_at=AT,
                window_end_at=AT + timedelta(hours=2),
                coverage={},
                price=Decimal("40.00"),
                ordered_by_role="dispatcher",
            )
        )
        ids["callback"] = self.add(
            Callback(
                work_order_id=ids["work_order"],
                provider_id=p,
                client_id=c,
                period_from=DAY,
                period_to=DAY,
                seed=n,
            )
        )
        ids["meal"] = self.add(
            Meal(
                client_id=c,
                canteen_id=ids["service_point"],
                provider_id=p,
                served_at=AT,
                day=DAY,
                slot=MealSlot.lunch,
                method=MealMethod.card,
                idempotency_key=f"meal-{n}",
                content_hash="0" * 64,
                price_fen=1500,
                subsidy_fen=300,
            )
        )
        ids["audit"] = self.add(
            AuditEntry(provider_id=p, action="create", entity_type="clients", entity_id=c)
        )
        return self


def family_of(world: World, t: Tenant) -> User:
    """A family user of the tenant, linked to its elder (the family role sees linked elders)."""
    user = world.user(f"family_{t.provider.code}", Role.family, t.provider)
    world.db.add(FamilyLink(provider_id=t.provider.id, client_id=t.client.id, user_id=user.id))
    world.db.commit()
    return user


# Path segment before an <int:...> argument -> the noun (key of Rows.ids) it names.
# Add a line here when you add a route whose id names a new noun.
FACTORIES: dict[str, str] = {
    "providers": "provider",
    "users": "user",
    "clients": "client",
    "absences": "absence",
    "refusals": "refusal",
    "caregivers": "caregiver",
    "skills": "skill",
    "certificates": "certificate",
    "shifts": "shift",
    "trainings": "training",
    "service-points": "service_point",
    "care-plans": "care_plan",
    "visits": "visit",
    "plans": "day_plan",
    "work-orders": "work_order",
    "flags": "flag",
    "appeals": "appeal",
    "billing-batches": "billing_batch",
    "timesheets": "upload",
    "uploads": "upload",
    "photos": "photo",
    "events": "event",
    "audit": "audit",
    "devices": "device",
    "calls": "call",
    "complaints": "complaint",
    "orders": "service_order",
    # DELETE /clients/{id}/family/{user_id}: a user id (another provider's user is no link).
    "family": "user",
    "callbacks": "callback",
    "meals": "meal",
}
# Segments naming rows shared by every provider: no cross-provider check applies.
GLOBAL: dict[str, str] = {
    "service-types": "the service catalogue is platform-wide",
    "allowance-schemes": "allowance schemes are the city's, for every provider's elders",
}


Body = Callable[[dict[str, int]], dict[str, Any]]


def _event_form(**extra: Any) -> Body:
    def make(_own: dict[str, int]) -> dict[str, Any]:
        event = {
            "idempotency_key": str(uuid.uuid4()),
            "device_time": "2026-11-23T09:05:00+08:00",
            "lat": 29.3069,
            "lon": 120.0763,
            "accuracy_m": 10,
            **extra,
        }
        return {"data": {"event": json.dumps(event)}, "content_type": "multipart/form-data"}

    return make


def _json(body: dict[str, Any]) -> Body:
    return lambda _own: {"json": body}


# A valid request body per (method, rule) so that the call reaches the id lookup; without one,
# POST/PUT/PATCH send {}. Add one here when a route validates its body before the id. A body
# may name the caller's own rows (``own``), so that only the id in the path is foreign.
# Keys: (method, rule without /api/v1, every id argument written <id>).
BODIES: dict[tuple[str, str], Body] = {
    ("POST", "/clients/<id>/absences"): _json(
        {
            "start_at": "2026-11-23T00:00:00+08:00",
            "end_at": "2026-11-24T00:00:00+08:00",
            "reason": "travel",
        }
    ),
    ("POST", "/clients/<id>/refusals"): lambda own: {"json": {"caregiver_id": own["caregiver"]}},
    ("POST", "/caregivers/<id>/skills"): _json({"skill": "CHAT"}),
    ("POST", "/caregivers/<id>/certificates"): _json({"kind": "健康证"}),
    ("POST", "/caregivers/<id>/trainings"): _json(
        {"course": "失智老人照护", "on_date": "2026-11-20", "hours": "8.0"}
    ),
    ("POST", "/clients/<id>/contacts"): lambda _own: {
        "json": {"kind": "phone", "at": (datetime.now(UTC) - timedelta(days=1)).isoformat()}
    },
    ("POST", "/callbacks/<id>"): _json({"reached": True, "took_place": "yes"}),
    ("GET", "/supervision/providers/<id>/scorecard"): lambda _own: {
        "query_string": {"from": "2026-11-01", "to": "2026-11-30"}
    },
    ("POST", "/caregivers/<id>/shifts"): _json(
        {"weekday": 1, "start_time": "08:00", "end_time": "12:00"}
    ),
    ("POST", "/visits/<id>/check-in"): _event_form(),
    ("POST", "/visits/<id>/check-out"): _event_form(outcome="completed"),
    ("POST", "/work-orders/<id>/appeals"): _json({"reason": "GPS drift indoors"}),
    ("POST", "/plans/<id>/replan"): _json({"unavailable_caregivers": [], "urgent_visits": []}),
    ("POST", "/plans/<id>/urgent"): lambda own: {"json": {"visit_id": own["visit"]}},
    ("PATCH", "/visits/<id>"): _json({"pinned": True}),
    ("POST", "/visits/<id>/move"): lambda own: {"json": {"caregiver_id": own["caregiver"]}},
    ("POST", "/work-orders/<id>/decision"): _json({"decision": "approve", "reason": "checked"}),
    ("POST", "/appeals/<id>/decision"): _json({"decision": "deny", "reason": "no evidence"}),
    ("POST", "/calls/<id>/escalate"): _json({"to": "community", "note": "网格员已上门"}),
    ("POST", "/calls/<id>/close"): _json({"outcome": "resolved"}),
    ("POST", "/clients/<id>/family"): lambda own: {"json": {"user_id": own["user"]}},
    ("POST", "/visits/<id>/rating"): _json({"stars": 5}),
    ("POST", "/orders/<id>/decline"): _json({"reason": "当天已约满"}),
    ("PATCH", "/complaints/<id>"): _json({"answer": "已处理"}),
    ("GET", "/clients/<id>/entitlement"): lambda _own: {"query_string": {"month": "2026-11"}},
    ("PATCH", "/clients/<id>/allowance"): _json({"hardship": "低保"}),
    ("POST", "/meals/<id>/decision"): _json({"decision": "reject", "reason": "not served"}),
    ("PUT", "/service-points/<id>/canteen"): _json(
        {"slots": {"lunch": {"start": "10:30", "end": "13:00", "price": "15.00"}}}
    ),
}


@dataclass(frozen=True)
class Route:
    rule: str
    method: str
    args: tuple[tuple[str, str], ...]  # (argument name, segment before it)

    @property
    def key(self) -> str:
        """The rule without /api/v1 and with every id argument written <id>: BODIES' key."""
        return re.sub(r"<int(?:\([^)]*\))?:\w+>", "<id>", self.rule.removeprefix(API))

    def url(self, values: dict[str, int]) -> str:
        def fill(m: re.Match[str]) -> str:
            converter, name = m.group(1), m.group(2)
            if converter == "int":
                return str(values[name])
            return SAMPLE_ARGS.get(name, SAMPLE_ARGS.get(converter or "", "X"))

        return ANY_ARG.sub(fill, self.rule)


def id_routes(app: Any) -> list[Route]:
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API + "/"):
            continue
        parts = rule.rule.split("/")
        args = tuple(
            (m.group(1), parts[i - 1]) for i, part in enumerate(parts) if (m := INT_ARG.match(part))
        )
        if not args:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append(Route(rule.rule, method, args))
    return routes


def call(
    client: Any, world: World, user: Any, route: Route, values: dict[str, int], own: dict[str, int]
) -> Any:
    make = BODIES.get((route.method, route.key))
    if make is not None:
        kwargs = make(own)
    elif route.method in ("POST", "PUT", "PATCH"):
        kwargs = {"json": {}}
    else:
        kwargs = {}
    return client.open(
        route.url(values), method=route.method, headers=world.headers(user), **kwargs
    )


def is_coded_404(r: Any) -> bool:
    body = r.get_json(silent=True) or {}
    return r.status_code == 404 and bool(body.get("code")) and bool(body.get("message"))


def describe(r: Any) -> str:
    return f"{r.status_code} {r.get_data(as_text=True)[:200]}"


def test_every_id_route_names_a_known_noun(app):
    unknown = sorted(
        {
            f"{segment!r} in {route.rule}"
            for route in id_routes(app)
            for _name, segment in route.args
            if segment not in FACTORIES and segment not in GLOBAL
        }
    )
    assert not unknown, (
        "Routes take ids of nouns this test cannot create; add them to FACTORIES (and Rows.build) "
        "in tests/api/test_tenancy.py: " + "; ".join(unknown)
    )


def test_every_id_route_answers_404_for_missing_and_foreign_ids(app, client, world, db):
    own = Rows(db, world, world.p1).build().ids
    foreign = Rows(db, world, world.p2).build().ids
    db.commit()
    staff = (
        world.p1.dispatcher,
        world.p1.provider_admin,
        world.p1.caregiver_user,
        family_of(world, world.p1),
    )
    failures: list[str] = []
    checked_foreign = 0
    for route in id_routes(app):
        names = [name for name, _ in route.args]
        missing = dict.fromkeys(names, MISSING)
        label = f"{route.method} {route.rule}"
        # Every provider role that may call the route is checked, not only the first.
        callers, answers = [], []
        for user in staff:
            answer = call(client, world, user, route, missing, own)
            if answer.status_code != 403:
                callers.append(user)
                answers.append(answer)
        if not callers:
            # Only platform users may call it: not provider-scoped, but a missing id is a 404.
            answer = call(client, world, world.admin, route, missing, own)
            if answer.status_code == 403:
                answer = call(client, world, world.finance, route, missing, own)
            answers.append(answer)
        bad = [a for a in answers if not is_coded_404(a)]
        if bad:
            failures.append(
                f"{label}: a nonexistent id answered {describe(bad[0])} (expected a coded 404; "
                f"if the body is what fails, add a valid one to BODIES)"
            )
            continue
        scoped = [(name, seg) for name, seg in route.args if seg not in GLOBAL and seg in FACTORIES]
        for caller, choice in itertools.product(
            callers, itertools.product(("own", "foreign"), repeat=len(scoped))
        ):
            if "foreign" not in choice:
                continue
            values = {name: MISSING for name in names}
            for (name, seg), side in zip(scoped, choice, strict=True):
                values[name] = (own if side == "own" else foreign)[FACTORIES[seg]]
            for name, seg in route.args:
                if seg in GLOBAL:
                    values[name] = world.services["CLEAN"].id
            r = call(client, world, caller, route, values, own)
            checked_foreign += 1
            if not is_coded_404(r):
                failures.append(
                    f"{label} as {caller.role.value} with {values} ({choice}): {describe(r)}"
                )
    assert not failures, "\n".join(failures)
    assert checked_foreign >= 40  # the CRUD routes alone give more; guards against a silent no-op


def test_lists_never_show_another_providers_rows(app, client, world, db):
    Rows(db, world, world.p1).build()
    foreign = Rows(db, world, world.p2).build().ids
    db.commit()
    staff = (
        world.p1.dispatcher,
        world.p1.provider_admin,
        world.p1.caregiver_user,
        family_of(world, world.p1),
    )
    p1 = world.p1.provider.id
    failures: list[str] = []
    seen = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API + "/") or "<" in rule.rule or "GET" not in rule.methods:
            continue
        segment = rule.rule.rstrip("/").rsplit("/", 1)[-1]
        for user in staff:
            r = client.get(rule.rule + "?page_size=100", headers=world.headers(user))
            if r.status_code != 200 or not r.is_json or not isinstance(r.json, list):
                continue
            seen += 1
            noun = FACTORIES.get(segment)
            for item in r.json:
                if not isinstance(item, dict):
                    continue
                if "provider_id" in item and item["provider_id"] not in (p1, None):
                    failures.append(f"{rule.rule} as {user.role.value} shows {item}")
                if noun and item.get("id") == foreign[noun]:
                    failures.append(f"{rule.rule} as {user.role.value} lists p2's {noun} {item}")
    assert not failures, "\n".join(failures)
    assert seen >= 6  # providers, clients, caregivers, service points, care plans, users
