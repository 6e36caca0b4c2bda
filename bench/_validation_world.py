"""A seeded month of home care for the validation benchmarks: honest work plus injected anomalies.

Honest caregivers follow routes whose gaps respect the router's own travel model (plus slack),
check in and out within GPS noise of the client's home, take photos at the visit, sync within
seconds (a few offline for hours), and work durations that vary around the plan. Each injected
anomaly is recorded as (order id, rule code); partners (the honest order an injected OVERLAP or
DUPLICATE collides with) are recorded too, because pairwise rules flag both sides by design.
"""

from __future__ import annotations

import hashlib
import math
import random
import secrets
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from dispatch import db  # noqa: E402
from dispatch.db import Base  # noqa: E402
from dispatch.models import WorkOrder  # noqa: E402, F401  (registers every table)
from routing import GeodesicTravel, Location  # noqa: E402

SH = ZoneInfo("Asia/Shanghai")
CENTRE = (29.3069, 120.0763)  # Yiwu
M_PER_DEG_LAT = 111_195.0
# code, minutes, skill, caregivers, photo, weight in the honest mix
SERVICES = [
    ("MEAL", 10, None, 1, True, 20),
    ("CLEAN", 60, "CLEAN", 1, True, 15),
    ("BATH", 60, "BATH", 2, True, 3),
    ("WALK", 60, None, 1, False, 8),
    ("MED", 90, "MED", 1, True, 4),
    ("CALL", 30, None, 1, False, 4),
    ("CHAT", 45, None, 1, False, 20),
    ("NURSE", 60, "NURSE", 1, True, 6),
    ("VISIT", 30, None, 1, True, 20),
]
BASIC = ("MEAL", "WALK", "CALL", "CHAT", "VISIT")
ALL_SKILLS = ("CLEAN", "BATH", "MED", "NURSE")
INJECTED_CODES = [
    "MISSING_CHECKIN",
    "MISSING_CHECKOUT",
    "GEOFENCE_IN",
    "GEOFENCE_OUT",
    "GPS_POOR",
    "MOCK_LOCATION",
    "SHORT_VISIT",
    "LONG_VISIT",
    "OFF_SCHEDULE",
    "OVERLAP",
    "IMPOSSIBLE_TRAVEL",
    "DUPLICATE",
    "PHOTO_REUSED",
    "PHOTO_MISSING",
    "PHOTO_STALE",
    "SKILL_MISMATCH",
    "CLIENT_ABSENT",
    "OVER_ENTITLEMENT",
    "DAILY_HOURS",
    "UNSCHEDULED",
    "LATE_SYNC",
]


def offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    return (
        lat + north_m / M_PER_DEG_LAT,
        lon + east_m / (M_PER_DEG_LAT * math.cos(math.radians(lat))),
    )


@dataclass
class World:
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    injected: list[tuple[int, str]] = field(default_factory=list)
    partners: set[int] = field(default_factory=set)
    touched: set[int] = field(default_factory=set)  # every injected or partner order
    next_id: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, table: str, **row: Any) -> dict[str, Any]:
        self.next_id[table] += 1
        row["id"] = self.next_id[table]
        self.rows[table].append(row)
        return row


def generate(
    *,
    caregivers: int = 200,
    days: int = 30,
    providers: int = 3,
    per_rule: int = 25,
    seed: int = 7,
    month_start: date = date(2026, 10, 1),
) -> World:
    rng = random.Random(seed)
    travel = GeodesicTravel()
    w = World()
    now = datetime(2026, 11, 20, tzinfo=UTC)
    for p in range(1, providers + 1):
        w.add(
            "providers",
            code=f"P{p}",
            name=f"义乌市第{p}居家养老服务中心",
            district="义乌市",
            timezone="Asia/Shanghai",
            active=True,
            created_at=now,
        )
    svc = {}
    for code, minutes, skill, needed, photo, _ in SERVICES:
        svc[code] = w.add(
            "service_types",
            code=code,
            name=code,
            name_en=code,
            default_duration_min=minutes,
            required_skill=skill,
            caregivers_needed=needed,
            photo_required=photo,
            is_meal=code == "MEAL",
            billing_unit="hour",
            rate="40.00",
            active=True,
        )
    weights = [s[5] for s in SERVICES]
    codes = [s[0] for s in SERVICES]

    # Caregivers, each with a disjoint pool of nearby clients; 5 % are one person at two providers.
    cg_rows: list[dict[str, Any]] = []
    pools: dict[int, list[dict[str, Any]]] = {}
    basic: set[int] = set()
    for i in range(caregivers):
        prov = 1 + i % providers
        r = 6000 * math.sqrt(rng.random())
        a = rng.random() * 2 * math.pi
        home = offset(*CENTRE, r * math.cos(a), r * math.sin(a))
        person = hashlib.sha256(f"id-{seed}-{i}".encode()).hexdigest()
        cg = w.add(
            "caregivers",
            provider_id=prov,
            code=f"CG{i:05d}",
            name="护理员",
            gender="female",
            person_hash=person,
            home_lat=home[0],
            home_lon=home[1],
            travel_mode="ebike",
            max_minutes_per_day=480,
            break_minutes=60,
            box_capacity=0,
            active=True,
            created_at=now,
        )
        cg_rows.append(cg)
        # Helpers (the last tenth) join double-staffed baths and hold every skill.
        skills = (
            ALL_SKILLS if i >= caregivers - max(1, caregivers // 10) or rng.random() >= 0.3 else ()
        )
        if not skills:
            basic.add(cg["id"])
        for s in skills:
            w.add("caregiver_skills", caregiver_id=cg["id"], skill=s)
        pool = []
        for _ in range(14):
            d = 2500 * math.sqrt(rng.random())
            b = rng.random() * 2 * math.pi
            loc = offset(*home, d * math.cos(b), d * math.sin(b))
            pool.append(
                w.add(
                    "clients",
                    provider_id=prov,
                    code=f"C{w.next_id['clients'] + 1:06d}",
                    name="服务对象",
                    address="义乌",
                    lat=loc[0],
                    lon=loc[1],
                    care_level=2,
                    funding_source="government",
                    monthly_entitlement_min=None,
                    active=True,
                    created_at=now,
                )
            )
        pools[cg["id"]] = pool
    # A second registration of 5 % of the people at another provider (same person hash).
    twins: dict[int, dict[str, Any]] = {}
    if providers > 1:
        for cg in cg_rows[: max(1, caregivers // 20)]:
            other = 1 + cg["provider_id"] % providers
            twin = w.add(
                "caregivers",
                **{k: v for k, v in cg.items() if k != "id"}
                | {"provider_id": other, "code": cg["code"] + "B"},
            )
            for s in ALL_SKILLS if cg["id"] not in basic else ():
                w.add("caregiver_skills", caregiver_id=twin["id"], skill=s)
            if cg["id"] in basic:
                basic.add(twin["id"])
            twins[cg["id"]] = twin
            for c in pools[cg["id"]][7:]:
                c["provider_id"] = other  # half of this person's clients are the other provider's

    def travel_s(a: dict[str, Any], b: dict[str, Any]) -> int:
        m = travel.matrix([Location(a["lat"], a["lon"])], [Location(b["lat"], b["lon"])], "ebike")
        return int(m.seconds[0, 0])

    events_by_order: dict[int, dict[str, dict[str, Any]]] = {}
    orders_by_day: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)

    def make_order(
        cg: dict[str, Any],
        client: dict[str, Any],
        code: str,
        start: datetime,
        minutes: float,
        *,
        source: str = "app",
        planned: int | None = None,
        day: int = 0,
    ) -> dict[str, Any]:
        st = svc[code]
        planned = planned or st["default_duration_min"]
        local = start.astimezone(SH)
        visit = w.add(
            "visits",
            provider_id=client["provider_id"],
            client_id=client["id"],
            service_type_id=st["id"],
            date=local.date(),
            window_start_at=start - timedelta(minutes=30),
            window_end_at=start + timedelta(minutes=30),
            duration_min=planned,
            required_skill=st["required_skill"],
            caregivers_needed=st["caregivers_needed"],
            priority=1,
            urgent=False,
            status="completed",
            pinned=False,
            created_at=now,
        )
        end = start + timedelta(minutes=minutes)
        order = w.add(
            "work_orders",
            provider_id=client["provider_id"],
            client_id=client["id"],
            caregiver_id=cg["id"],
            service_type_id=st["id"],
            visit_id=visit["id"] if source == "app" else None,
            source=source,
            external_id=None if source == "app" else f"T{w.next_id['work_orders'] + 1}",
            start_at=start,
            end_at=end,
            billable_min=round(minutes),
            status="submitted",
            appeal_state="none",
            created_at=now,
        )
        order["_visit"] = visit
        order["_client"] = client
        order["_cg"] = cg
        if source == "app":
            evs = {}
            for kind, at in (("check_in", start), ("check_out", end)):
                lat, lon = offset(client["lat"], client["lon"], rng.gauss(0, 12), rng.gauss(0, 12))
                photo_id = None
                if st["photo_required"]:
                    photo = w.add(
                        "photos",
                        sha256=secrets.token_hex(32),
                        phash=f"{rng.getrandbits(64):016x}",
                        mime="image/jpeg",
                        size_bytes=120_000,
                        width=1280,
                        height=960,
                        exif_taken_at=at + timedelta(seconds=rng.uniform(-60, 60)),
                        provider_id=client["provider_id"],
                        created_at=now,
                    )
                    photo_id = photo["id"]
                offline = rng.random() < 0.05
                delay = (
                    timedelta(hours=rng.uniform(1, 48))
                    if offline
                    else timedelta(seconds=rng.uniform(1, 30))
                )
                ev = w.add(
                    "visit_events",
                    idempotency_key=secrets.token_hex(16),
                    content_hash="0" * 64,
                    visit_id=visit["id"],
                    caregiver_id=cg["id"],
                    kind=kind,
                    device_time_at=at,
                    received_at=at + delay,
                    lat=lat,
                    lon=lon,
                    raw_lat=lat,
                    raw_lon=lon,
                    crs="wgs84",
                    accuracy_m=round(rng.uniform(5, 40), 1),
                    mock_location=False,
                    device_id="dev",
                    offline=offline,
                    photo_id=photo_id,
                )
                evs[kind] = ev
            events_by_order[order["id"]] = evs
        # By person, not registration: a person's day spans both providers' orders.
        orders_by_day[(cg["person_hash"], day)].append(order)
        return order

    # Honest routes: up to five visits a day, 08:00 onwards, gaps = router travel + slack.
    helpers = cg_rows[-max(1, caregivers // 10) :]
    helper_free: dict[tuple[int, int], list[tuple[datetime, datetime, dict[str, Any]]]] = {}
    for d in range(days):
        day = month_start + timedelta(days=d)
        for cg in cg_rows:
            if cg in helpers or rng.random() < 0.15:  # days off
                continue
            pool = pools[cg["id"]]
            twin = twins.get(cg["id"])
            n = rng.randint(3, 5)
            clients = rng.sample(pool, n)
            t = datetime(day.year, day.month, day.day, 8, 0, tzinfo=SH) + timedelta(
                minutes=rng.uniform(0, 40)
            )
            prev = None
            prev_end = t
            for client in clients:
                code = rng.choices(codes, weights)[0]
                if cg["id"] in basic and code not in BASIC:
                    code = rng.choice(BASIC)
                if prev is not None:
                    t = (
                        prev_end
                        + timedelta(seconds=travel_s(prev, client))
                        + timedelta(minutes=rng.uniform(3, 20))
                    )
                planned = svc[code]["default_duration_min"]
                minutes = planned * rng.uniform(0.75, 1.35)
                reg = (
                    twin
                    if twin is not None and client["provider_id"] == twin["provider_id"]
                    else cg
                )
                source = "timesheet" if rng.random() < 0.04 else "app"
                order = make_order(reg, client, code, t, minutes, source=source, day=d)
                if code == "BATH" and source == "app":
                    # The second caregiver of a double-staffed bath, if a helper is free.
                    helper = rng.choice(helpers)
                    legs = helper_free.setdefault((helper["id"], d), [])
                    ok = all(
                        end + timedelta(seconds=travel_s(c, client)) + timedelta(minutes=5) <= t
                        or order["end_at"]
                        + timedelta(seconds=travel_s(client, c))
                        + timedelta(minutes=5)
                        <= start
                        for start, end, c in legs
                    )
                    if ok:
                        leg = w.add(
                            "work_orders",
                            **{
                                k: v
                                for k, v in order.items()
                                if not k.startswith("_") and k != "id"
                            }
                            | {"caregiver_id": helper["id"]},
                        )
                        evs = {}
                        for kind, ev in events_by_order[order["id"]].items():
                            evs[kind] = w.add(
                                "visit_events",
                                **{k: v for k, v in ev.items() if k != "id"}
                                | {
                                    "idempotency_key": secrets.token_hex(16),
                                    "caregiver_id": helper["id"],
                                },
                            )
                        events_by_order[leg["id"]] = evs
                        legs.append((order["start_at"], order["end_at"], client))
                prev, prev_end = client, order["end_at"]
    clients_by_id = {c["id"]: c for c in w.rows["clients"]}
    inject(
        w,
        rng,
        svc,
        pools,
        events_by_order,
        orders_by_day,
        clients_by_id,
        basic,
        per_rule,
        travel_s,
        make_order,
    )
    return w


def inject(
    w,
    rng,
    svc,
    pools,
    events_by_order,
    orders_by_day,
    clients_by_id,
    basic,
    per_rule,
    travel_s,
    make_order,
):
    orders = [o for o in w.rows["work_orders"] if "_visit" in o]
    app = [o for o in orders if o["source"] == "app" and o["_cg"]["id"] not in {h for h in ()}]
    photo_app = [o for o in app if svc_of(o, svc)["photo_required"]]
    used: set[int] = set()

    def pick(candidates, cond=lambda o: True):
        for _ in range(10_000):
            o = rng.choice(candidates)
            if o["id"] not in used and cond(o):
                used.add(o["id"])
                return o
        raise RuntimeError("no candidate left")

    def mark(o, code):
        w.injected.append((o["id"], code))
        w.touched.add(o["id"])

    def partner(o):
        w.partners.add(o["id"])
        w.touched.add(o["id"])
        used.add(o["id"])

    def day_orders(o):
        key = next(k for k, v in orders_by_day.items() if any(x["id"] == o["id"] for x in v))
        return sorted(orders_by_day[key], key=lambda x: x["start_at"]), key

    def move_end(o, new_end):
        o["end_at"] = new_end
        o["billable_min"] = round((new_end - o["start_at"]).total_seconds() / 60)
        if o["id"] in events_by_order and "check_out" in events_by_order[o["id"]]:
            ev = events_by_order[o["id"]]["check_out"]
            ev["device_time_at"] = new_end
            ev["received_at"] = new_end + timedelta(seconds=5)
            photo = photo_of(w, ev)
            if photo:
                photo["exif_taken_at"] = new_end

    last_of_day = {}
    for key, rows in orders_by_day.items():
        rows.sort(key=lambda x: x["start_at"])
        last_of_day[rows[-1]["id"]] = key
    n = per_rule
    for _ in range(n):
        o = pick(app)
        w.rows["visit_events"].remove(events_by_order[o["id"]].pop("check_in"))
        mark(o, "MISSING_CHECKIN")
        o = pick(app)
        w.rows["visit_events"].remove(events_by_order[o["id"]].pop("check_out"))
        mark(o, "MISSING_CHECKOUT")
        for kind, code in (("check_in", "GEOFENCE_IN"), ("check_out", "GEOFENCE_OUT")):
            o = pick(app)
            ev = events_by_order[o["id"]][kind]
            d = rng.uniform(400, 3000)
            ev["lat"], ev["lon"] = offset(o["_client"]["lat"], o["_client"]["lon"], d, 0)
            ev["raw_lat"], ev["raw_lon"] = ev["lat"], ev["lon"]
            ev["accuracy_m"] = 15.0
            mark(o, code)
        o = pick(app)
        events_by_order[o["id"]]["check_in"]["accuracy_m"] = rng.uniform(200, 900)
        mark(o, "GPS_POOR")
        o = pick(app)
        events_by_order[o["id"]]["check_out"]["mock_location"] = True
        mark(o, "MOCK_LOCATION")
        # Repeated coordinates: a later order of the same caregiver's day at another client.
        o = pick(app, lambda x: len([y for y in day_orders(x)[0] if y["source"] == "app"]) >= 2)
        rows, _ = day_orders(o)
        other = next(
            (
                y
                for y in rows
                if y["id"] != o["id"]
                and y["source"] == "app"
                and y["client_id"] != o["client_id"]
                and y["id"] not in used
            ),
            None,
        )
        if other is not None:
            src = events_by_order[other["id"]]["check_in"]
            ev = events_by_order[o["id"]]["check_in"]
            ev["lat"], ev["lon"] = src["lat"], src["lon"]
            ev["raw_lat"], ev["raw_lon"] = src["lat"], src["lon"]
            mark(o, "MOCK_LOCATION")
            partner(other)
        # Not baths: the second caregiver's leg shares the check-out photo that move_end re-dates.
        o = pick(app, lambda x: code_of(x, svc) != "BATH")
        planned = o["_visit"]["duration_min"]
        move_end(o, o["start_at"] + timedelta(minutes=planned * rng.uniform(0.3, 0.6)))
        mark(o, "SHORT_VISIT")
        o = pick(app, lambda x: x["id"] in last_of_day and code_of(x, svc) != "BATH")
        planned = o["_visit"]["duration_min"]
        move_end(o, o["start_at"] + timedelta(minutes=planned * rng.uniform(1.6, 2.2)))
        mark(o, "LONG_VISIT")
        o = pick(app)
        shift = timedelta(hours=rng.uniform(2, 4))
        o["_visit"]["window_start_at"] -= shift
        o["_visit"]["window_end_at"] -= shift
        mark(o, "OFF_SCHEDULE")
        # OVERLAP: the same person claims another client in the middle of an order.
        base = pick(app)
        pool = [
            c
            for c in pools.get(base["_cg"]["id"], [])
            if c["id"] != base["client_id"] and c["provider_id"] == base["provider_id"]
        ] or [base["_client"]]
        new = make_order(
            base["_cg"],
            rng.choice(pool),
            "CHAT",
            base["start_at"] + timedelta(minutes=3),
            40,
            day=-1,
        )
        used.add(new["id"])
        mark(new, "OVERLAP")
        partner(base)
        # IMPOSSIBLE_TRAVEL: after the day's last order, a visit 4+ km away two minutes later.
        base = pick(app, lambda x: x["id"] in last_of_day)
        far = None
        for c in clients_by_id.values():
            if (
                c["provider_id"] == base["provider_id"]
                and abs(c["lat"] - base["_client"]["lat"]) * M_PER_DEG_LAT > 4000
            ):
                far = c
                break
        new = make_order(
            base["_cg"], far, "CHAT", base["end_at"] + timedelta(minutes=2), 45, day=-1
        )
        used.add(new["id"])
        mark(new, "IMPOSSIBLE_TRAVEL")
        partner(base)
        # DUPLICATE: the same visit uploaded again in a timesheet, shifted by a few minutes.
        base = pick(app)
        new = make_order(
            base["_cg"],
            base["_client"],
            code_of(base, svc),
            base["start_at"] + timedelta(minutes=2),
            (base["end_at"] - base["start_at"]).total_seconds() / 60,
            source="timesheet",
            day=-1,
        )
        used.add(new["id"])
        mark(new, "DUPLICATE")
        partner(base)
        # PHOTO_REUSED: a later photo-proof order reuses an earlier one's photo, or a near copy.
        later = None
        while later is None:
            first = pick(photo_app, lambda x: x["start_at"].day < 25)
            later = next(
                (
                    x
                    for x in photo_app
                    if x["_cg"]["id"] == first["_cg"]["id"]
                    and x["id"] not in used
                    and first["start_at"] + timedelta(days=1)
                    < x["start_at"]
                    < first["start_at"] + timedelta(days=6)
                ),
                None,
            )
        used.add(later["id"])
        src = events_by_order[first["id"]]["check_in"]["photo_id"]
        ev = events_by_order[later["id"]]["check_in"]
        if rng.random() < 0.5:
            ev["photo_id"] = src
        else:
            ph = int(next(p for p in w.rows["photos"] if p["id"] == src)["phash"], 16)
            for bit in rng.sample(range(64), rng.randint(1, 4)):
                ph ^= 1 << bit
            photo = w.add(
                "photos",
                sha256=secrets.token_hex(32),
                phash=f"{ph:016x}",
                mime="image/jpeg",
                size_bytes=120_000,
                width=1280,
                height=960,
                exif_taken_at=ev["device_time_at"],
                provider_id=later["provider_id"],
                created_at=later["created_at"],
            )
            ev["photo_id"] = photo["id"]
        mark(later, "PHOTO_REUSED")
        used.add(first["id"])
        o = pick(photo_app)
        for ev in events_by_order[o["id"]].values():
            ev["photo_id"] = None
        mark(o, "PHOTO_MISSING")
        # Not a bath: its second caregiver's leg shares the photo and would go stale with it.
        o = pick(photo_app, lambda x: code_of(x, svc) != "BATH")
        photo = photo_of(w, events_by_order[o["id"]]["check_in"])
        photo["exif_taken_at"] = events_by_order[o["id"]]["check_in"]["device_time_at"] - timedelta(
            hours=rng.uniform(2, 48)
        )
        mark(o, "PHOTO_STALE")
        o = pick(app, lambda x: x["_cg"]["id"] in basic)
        o["_visit"]["required_skill"] = "NURSE"
        mark(o, "SKILL_MISMATCH")
        o = pick(orders)
        w.add(
            "client_absences",
            client_id=o["client_id"],
            start_at=o["start_at"] - timedelta(minutes=5),
            end_at=o["end_at"] + timedelta(minutes=5),
            reason="hospital",
            created_at=o["created_at"],
        )
        mark(o, "CLIENT_ABSENT")
        o = pick(app, lambda x: events_by_order[x["id"]])
        events_by_order[o["id"]]["check_out"]["received_at"] = o["end_at"] + timedelta(
            hours=rng.uniform(80, 200)
        )
        mark(o, "LATE_SYNC")
        # DAILY_HOURS: an 11 h 50 min order at the last client, after the day's last order.
        base = pick(app, lambda x: x["id"] in last_of_day)
        new = make_order(
            base["_cg"],
            base["_client"],
            "NURSE",
            base["end_at"] + timedelta(minutes=10),
            710,
            planned=710,
            day=-1,
        )
        used.add(new["id"])
        mark(new, "DAILY_HOURS")
    # UNSCHEDULED: timesheet orders whose planned visit is deleted.
    ts = [o for o in orders if o["source"] == "timesheet" and o["id"] not in used]
    for o in rng.sample(ts, min(n, len(ts))):
        w.rows["visits"].remove(o["_visit"])
        used.add(o["id"])
        mark(o, "UNSCHEDULED")
    # Half the clients get an entitlement above their month's use (injected orders included).
    use: dict[int, int] = defaultdict(int)
    for o in w.rows["work_orders"]:
        use[o["client_id"]] += o["billable_min"]
    for cid, minutes in use.items():
        if cid % 2 == 0:
            clients_by_id[cid]["monthly_entitlement_min"] = math.ceil(minutes * 1.25) + 60
    # OVER_ENTITLEMENT: the entitlement set just below the month's use, so the last order passes it.
    by_client: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for o in w.rows["work_orders"]:
        by_client[o["client_id"]].append(o)
    chosen = 0
    for cid, rows in sorted(by_client.items()):
        if chosen >= n or cid % 2 or len(rows) < 3:
            continue
        rows.sort(key=lambda x: (x["start_at"], x["id"]))
        last = rows[-1]
        if last["id"] in used:
            continue
        total = sum(x["billable_min"] for x in rows)
        clients_by_id[cid]["monthly_entitlement_min"] = total - max(1, last["billable_min"] // 2)
        used.add(last["id"])
        mark(last, "OVER_ENTITLEMENT")
        chosen += 1


def svc_of(o, svc):
    return next(s for s in svc.values() if s["id"] == o["service_type_id"])


def code_of(o, svc):
    return svc_of(o, svc)["code"]


def photo_of(w, ev):
    if not ev.get("photo_id"):
        return None
    for p in w.rows["photos"]:
        if p["id"] == ev["photo_id"]:
            return p
    return None


# ----------------------------------------------------------------------------- loading

TABLE_ORDER = [
    "providers",
    "service_types",
    "caregivers",
    "caregiver_skills",
    "clients",
    "client_absences",
    "visits",
    "photos",
    "work_orders",
    "visit_events",
]


def create_database(admin_url: str, name: str) -> str:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    return url


def drop_database(admin_url: str, name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def release_database(admin_url: str, name: str, keep: bool) -> None:
    """End the app's sessions and engines on the bench database, then drop it unless kept."""
    db.Session.remove()
    db.forget_engine()
    if not keep:
        drop_database(admin_url, name)


def copy_rows(url: str, w: World) -> None:
    """COPY every table in dependency order, then move the id sequences past the loaded ids."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        for table in TABLE_ORDER:
            rows = w.rows.get(table, [])
            if not rows:
                continue
            cols = [
                c.name
                for c in Base.metadata.tables[table].columns
                if c.name in rows[0] or _default(c) is not None
            ]
            with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:
                for r in rows:
                    cp.write_row(
                        [
                            r[c] if c in r else _default(Base.metadata.tables[table].columns[c])
                            for c in cols
                        ]
                    )
            # Table names come from TABLE_ORDER above, not from input.
            sql = f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608, E501
            cur.execute(sql)
        conn.commit()
        conn.autocommit = True
        cur.execute("ANALYZE")


def _default(col: Any) -> Any:
    d = col.default
    if d is None or not getattr(d, "is_scalar", False):
        return None
    arg = d.arg
    return getattr(arg, "value", arg)
