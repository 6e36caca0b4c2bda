"""A district for the supervision benchmarks, generated inside PostgreSQL (INSERT … SELECT), and
what both benchmarks share: their options, the database's life, the supervisors, the timing.

One district (义乌市) of 14 streets and 10 providers; ``elders`` clients spread over the streets,
each with a five-colour class; one caregiver per 33 elders (street, grade, certificates); for
the month (November 2026) ``orders`` work orders, each with its completed visit, the statuses
of a month finance is working through (about 6 % held by an open or overridden block/review
flag, some appealed, a third billed); 2 % of the orders sampled for call-back, most answered;
a family rating for 1 visit in 20, a complaint for 1 order in 500 (a third closed), a call
(一键呼叫) for 1 elder in 20, most reached within the hour; and ``contacts`` recorded contacts
over the half year before the month's end.
Every NOT NULL column the statement does not name gets the model's scalar default, so the rows
are what the application would write.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from _validation_world import create_database, release_database
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from dispatch import config, db
from dispatch.areas import Area
from dispatch.db import Base
from dispatch.models import Role
from dispatch.tenancy import Actor

ADMIN = os.environ.get(
    "BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)

DISTRICT = "义乌市"
STREETS = [
    "稠城街道", "北苑街道", "稠江街道", "江东街道", "后宅街道", "城西街道", "廿三里街道",
    "佛堂镇", "赤岸镇", "义亭镇", "上溪镇", "大陈镇", "苏溪镇", "福田街道",
]  # fmt: skip
PROVIDERS = 10
MONTH_FROM, MONTH_TO = "2026-11-01", "2026-11-30"


def _fill(table: str, given: dict[str, str]) -> tuple[str, str]:
    """Column list and SELECT expressions: ``given`` plus the scalar defaults of the rest."""
    cols, exprs = [], []
    for col in Base.metadata.tables[table].columns:
        if col.name in given:
            cols.append(f'"{col.name}"')
            exprs.append(given[col.name])
            continue
        if col.nullable or col.server_default is not None or col.primary_key:
            continue
        d = col.default
        if d is not None and getattr(d, "is_scalar", False):
            value = getattr(d.arg, "value", d.arg)
            cols.append(f'"{col.name}"')
            exprs.append(
                "true"
                if value is True
                else "false"
                if value is False
                else repr(value)
                if isinstance(value, int | float)
                else "'" + str(value).replace("'", "''") + "'"
            )
        elif d is not None and col.name == "created_at":
            cols.append(f'"{col.name}"')
            exprs.append("now()")
        else:
            raise ValueError(f"{table}.{col.name} needs a value")
    return ", ".join(cols), ", ".join(exprs)


def insert(conn: Any, table: str, n: int | str, given: dict[str, str], where: str = "") -> None:
    cols, exprs = _fill(table, given)
    source = f"generate_series(1, {n}) AS g" if isinstance(n, int) else n
    # Table and expressions are this module's own literals, never input.
    conn.execute(text(f"INSERT INTO {table} ({cols}) SELECT {exprs} FROM {source} {where}"))  # noqa: S608
    conn.execute(
        text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
            f"(SELECT max(id) FROM {table}))"
        )
    )


def build(conn: Any, *, elders: int, orders: int, contacts: int) -> dict[str, int]:
    streets = "ARRAY[" + ", ".join(f"'{s}'" for s in STREETS) + "]"
    caregivers = max(PROVIDERS, elders // 33)
    insert(conn, "providers", PROVIDERS, {
        "id": "g", "code": "'YW' || g", "name": "'义乌市第' || g || '居家养老服务中心'",
        "district": f"'{DISTRICT}'",
    })  # fmt: skip
    insert(conn, "service_types", 1, {
        "id": "g", "code": "'CLEAN'", "name": "'助洁'", "default_duration_min": "60",
        "rate": "40.00", "billing_unit": "'hour'",
    })  # fmt: skip
    insert(conn, "clients", elders, {
        "id": "g", "provider_id": f"1 + g % {PROVIDERS}", "code": "'C' || g",
        "name": "'老人' || g", "address": "'义乌市 ' || g || '号'",
        "street": f"({streets})[1 + (g * 5) % {len(STREETS)}]",
        "lat": "29.28 + (g % 800) * 0.0001", "lon": "120.03 + (g % 1000) * 0.0001",
        "visit_frequency": "(ARRAY['daily','weekly','monthly','quarterly','half_yearly'])"
        "[1 + g % 5]",
        "created_at": "timestamptz '2026-01-01 08:00+08'",
    })  # fmt: skip
    insert(conn, "caregivers", caregivers, {
        "id": "g", "provider_id": f"1 + g % {PROVIDERS}", "code": "'G' || g",
        "name": "'护理员' || g", "gender": "'female'", "home_lat": "29.3", "home_lon": "120.07",
        "street": f"({streets})[1 + (g * 3) % {len(STREETS)}]",
        "grade": "(ARRAY['junior','intermediate','intermediate','senior','technician'])"
        "[1 + g % 5]",
    })  # fmt: skip
    # 80 % certified, of whom 3 in 4 also hold a first-aid certificate.
    insert(conn, "certificates", caregivers, {
        "caregiver_id": "g", "kind": "'养老护理员证'", "expires_on": "date '2030-01-01'",
    }, where="WHERE g % 5 <> 0")  # fmt: skip
    insert(conn, "certificates", caregivers, {
        "caregiver_id": "g", "kind": "'红十字救护员证'", "expires_on": "date '2029-01-01'",
    }, where="WHERE g % 5 <> 0 AND g % 4 <> 0")  # fmt: skip
    # The month: order g on day 1 + g % 30, for elder 1 + g % elders, by a caregiver of the
    # elder's provider; visit g is its visit. Times in UTC+8, 08:00 + (g % 9) hours.
    day = "(date '2026-11-01' + (g % 30))"
    start = f"({day} + time '08:00' + ((g % 9) || ' hours')::interval) AT TIME ZONE 'Asia/Shanghai'"
    client = f"(1 + g % {elders})"
    provider = f"(1 + {client} % {PROVIDERS})"
    # Caregiver c works for provider 1 + c % 10: one of the elder's provider's, by g.
    caregiver = f"({provider} - 1 + {PROVIDERS} * (1 + g % ({caregivers // PROVIDERS} - 1)))"
    insert(conn, "visits", orders, {
        "id": "g", "provider_id": provider, "client_id": client, "service_type_id": "1",
        "date": day, "window_start_at": start,
        "window_end_at": f"{start} + interval '2 hours'", "duration_min": "60",
        "planned_start_at": f"{start} + interval '10 minutes'",
        "status": "(CASE WHEN g % 50 = 0 THEN 'missed' WHEN g % 97 = 0 THEN 'cancelled' "
        "ELSE 'completed' END)",
        "outcome": "(CASE WHEN g % 50 = 0 OR g % 97 = 0 THEN NULL ELSE 'completed' END)",
    })  # fmt: skip
    billed = "g % 3 = 0"
    insert(conn, "work_orders", orders, {
        "id": "g", "provider_id": provider, "client_id": client, "caregiver_id": caregiver,
        "service_type_id": "1", "visit_id": "g", "source": "'app'",
        "start_at": f"{start} + ((g % 40) || ' minutes')::interval",
        "end_at": f"{start} + ((g % 40 + 60) || ' minutes')::interval", "billable_min": "60",
        "status": f"(CASE WHEN {billed} THEN 'billed' WHEN g % 17 = 0 THEN 'flagged' "
        "WHEN g % 5 = 0 THEN 'approved' ELSE 'verified' END)",
        "appeal_state": "(CASE WHEN g % 17 = 0 AND g % 2 = 0 THEN 'open' "
        "WHEN g % 51 = 0 THEN 'upheld' ELSE 'none' END)",
        "billing_amount": f"(CASE WHEN {billed} THEN 40.00 END)",
    }, where="WHERE g % 50 <> 0 AND g % 97 <> 0")  # fmt: skip
    insert(conn, "flags", "work_orders w", {
        "work_order_id": "w.id",
        "code": "(CASE WHEN w.id % 2 = 0 THEN 'GEOFENCE_IN' ELSE 'OVERLAP' END)",
        "severity": "(CASE WHEN w.id % 2 = 0 THEN 'review' ELSE 'block' END)",
        "status": "(CASE WHEN w.status = 'flagged' THEN 'open' ELSE 'overridden' END)",
        "evidence": "'{}'::json", "created_at": "now()",
    }, where="WHERE w.status = 'flagged' OR w.id % 51 = 0")  # fmt: skip
    insert(conn, "callbacks", "work_orders w", {
        "work_order_id": "w.id", "provider_id": "w.provider_id", "client_id": "w.client_id",
        "period_from": f"date '{MONTH_FROM}'", "period_to": f"date '{MONTH_TO}'", "seed": "1",
        "status": "(CASE WHEN w.id % 150 = 0 THEN 'pending' ELSE 'answered' END)",
        "reached": "(CASE WHEN w.id % 150 = 0 THEN NULL ELSE true END)",
        "took_place": "(CASE WHEN w.id % 150 = 0 THEN NULL WHEN w.id % 1000 = 0 THEN 'no' "
        "ELSE 'yes' END)",
        "satisfaction": "(CASE WHEN w.id % 150 = 0 THEN NULL ELSE 3 + w.id % 3 END)",
    }, where="WHERE w.id % 50 = 1")  # fmt: skip
    # The elders' and families' voices: one family user per provider rates 1 completed visit
    # in 20; 1 order in 500 draws a complaint (a third closed, a third answered); 1 elder in 20
    # calls once in the month, 9 in 10 reached 5–54 minutes later.
    insert(conn, "users", PROVIDERS, {
        "id": "g", "username": "'family' || g", "password_hash": "'-'", "role": "'family'",
        "provider_id": "g",
    })  # fmt: skip
    insert(conn, "ratings", "visits v", {
        "provider_id": "v.provider_id", "visit_id": "v.id", "client_id": "v.client_id",
        "user_id": "v.provider_id", "stars": "3 + v.id % 3",
    }, where="WHERE v.id % 20 = 0 AND v.status = 'completed'")  # fmt: skip
    insert(conn, "complaints", "work_orders w", {
        "provider_id": "w.provider_id", "client_id": "w.client_id", "visit_id": "w.visit_id",
        "text": "'服务时间不够'", "created_at": "w.end_at + interval '1 day'",
        "status": "(ARRAY['open','answered','closed'])[1 + w.id % 3]",
    }, where="WHERE w.id % 500 = 7")  # fmt: skip
    opened = (
        "((date '2026-11-01' + (g % 30)) + time '07:00' + ((g % 840) || ' minutes')::interval)"
        " AT TIME ZONE 'Asia/Shanghai'"
    )
    reached = "g % 10 <> 0"

    def after(minutes: str) -> str:
        return f"(CASE WHEN {reached} THEN {opened} + (({minutes}) || ' minutes')::interval END)"

    insert(conn, "calls", max(1, elders // 20), {
        "id": "g", "client_id": f"1 + (g * 20) % {elders}",
        "provider_id": f"1 + (1 + (g * 20) % {elders}) % {PROVIDERS}",
        "kind": "(ARRAY['sos','fall','help','no_activity'])[1 + g % 4]",
        "source": "'device'", "opened_at": opened, "due_at": f"{opened} + interval '5 minutes'",
        "status": f"(CASE WHEN {reached} THEN 'closed' ELSE 'escalated' END)",
        "escalations": "'[]'::json",
        "dispatched_at": after("1 + g % 6"), "arrived_at": after("5 + g % 50"),
    })  # fmt: skip
    insert(conn, "client_contacts", contacts, {
        "id": "g", "client_id": f"1 + (g * 13) % {elders}",
        "provider_id": f"1 + (1 + (g * 13) % {elders}) % {PROVIDERS}",
        "kind": "(ARRAY['phone','neighbour','pairing','visit'])[1 + g % 4]",
        "at": "timestamptz '2026-12-01 00:00+08' - ((g % 180) || ' days')::interval",
    })  # fmt: skip
    conn.commit()
    conn.execute(text("ANALYZE"))
    conn.commit()  # statistics are transactional: uncommitted, the planner never sees them
    counts = {}
    for table in ("clients", "caregivers", "visits", "work_orders", "flags", "callbacks", "ratings",
                  "complaints", "calls"):  # fmt: skip
        counts[table] = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()  # noqa: S608
    counts["client_contacts"] = conn.execute(text("SELECT count(*) FROM client_contacts")).scalar()
    return counts


# --- what both benchmarks share --------------------------------------------------------------


def arguments(doc: str | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--elders", type=int, default=100_000)
    ap.add_argument("--contacts", type=int, default=300_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return ap.parse_args()


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def timed(runs: int, fn: Callable[[], Any]) -> tuple[list[float], Any]:
    """Seconds of each of ``runs`` calls (the first one cold), and the last call's answer."""
    out, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        out.append(round(time.perf_counter() - t, 3))
    return out, result


@dataclass
class World:
    session: Session
    counts: dict[str, int]
    build_s: float
    district: Actor  # the district supervisor (every street)
    street: Actor  # a supervisor of the first street only


@contextmanager
def world(name: str, args: argparse.Namespace, *, visits: int) -> Iterator[World]:
    """A fresh database ``name`` with the district of ``visits`` visits, the application
    configured on it, and the two supervisors; dropped afterwards unless ``--keep``."""
    url = create_database(ADMIN, name)
    try:
        t0 = time.perf_counter()
        engine = create_engine(url)
        with engine.connect() as conn:
            counts = build(conn, elders=args.elders, orders=visits, contacts=args.contacts)
        engine.dispose()
        build_s = round(time.perf_counter() - t0, 1)
        config.use(config.Settings(database_url=url, secret_key="bench" * 10))
        db.configure(url)
        session = db.Session()
        district = Actor(None, Role.supervisor, area=Area(DISTRICT))
        street = Actor(None, Role.supervisor, area=Area(DISTRICT, (STREETS[0],)))
        try:
            yield World(session, counts, build_s, district, street)
        finally:
            session.close()
    finally:
        release_database(ADMIN, name, keep=args.keep)
