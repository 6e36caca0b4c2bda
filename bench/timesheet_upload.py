"""Timesheet upload throughput: a 100,000-row CSV (and XLSX) through the HTTP endpoint.

    .venv/bin/python bench/timesheet_upload.py [--rows 100000 --formats csv,xlsx --validate]

Creates a PostgreSQL database (dropped at the end), migrates it, seeds one provider with 200
caregivers and 2,000 clients, builds a month of non-overlapping visits, and POSTs the file to
/api/v1/timesheets through the app (Flask test client: no network, real PostgreSQL). Uploads
over 500 orders queue their validation as an rq job, so the request time excludes the rules;
with --validate the queued job is then run (rq SimpleWorker) and timed separately. A second
POST of the same file measures the idempotent path (every row "already received"). Prints one
JSON document and a one-line summary.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
import time
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from flask_jwt_extended import create_access_token  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402
from werkzeug.datastructures import FileStorage  # noqa: E402
from werkzeug.test import encode_multipart  # noqa: E402

from api import create_app  # noqa: E402
from dispatch import db as dbmod  # noqa: E402
from dispatch.config import Settings  # noqa: E402
from dispatch.models import (  # noqa: E402
    BillingUnit,
    Caregiver,
    CaregiverSkill,
    Client,
    Gender,
    Provider,
    Role,
    ServiceType,
    User,
)

ADMIN_URL = os.environ.get(
    "BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
HEADER = "external_id,caregiver_code,client_code,service_code,start,end,note"


def create_db() -> str:
    name = f"bench_ts_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_db(url: str) -> None:
    dbmod.forget_engine(url)
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def seed(url: str, caregivers: int, clients: int) -> int:
    engine = create_engine(url)
    with Session(engine) as s:
        s.add(
            ServiceType(
                code="CLEAN",
                name="助洁",
                default_duration_min=60,
                required_skill="CLEAN",
                billing_unit=BillingUnit.hour,
                rate=Decimal("40.00"),
            )
        )
        s.add(
            ServiceType(
                code="MEAL",
                name="助餐",
                default_duration_min=10,
                is_meal=True,
                billing_unit=BillingUnit.visit,
                rate=Decimal("15.00"),
            )
        )
        p = Provider(code="PB", name="基准机构", district="义乌市")
        s.add(p)
        s.flush()
        rng = random.Random(7)
        for i in range(caregivers):
            s.add(
                Caregiver(
                    provider_id=p.id,
                    code=f"CG{i:04d}",
                    name="护理员",
                    gender=Gender.female,
                    home_lat=29.3 + rng.random() / 10,
                    home_lon=120.0 + rng.random() / 10,
                    skills=[CaregiverSkill(skill="CLEAN")],
                )
            )
        for i in range(clients):
            s.add(
                Client(
                    provider_id=p.id,
                    code=f"C{i:05d}",
                    name="服务对象",
                    address="义乌",
                    lat=29.3 + rng.random() / 10,
                    lon=120.0 + rng.random() / 10,
                    monthly_entitlement_min=6000,
                )
            )
        user = User(
            username="bench_admin", password_hash="x", role=Role.provider_admin, provider_id=p.id
        )
        s.add(user)
        s.commit()
        uid = user.id
    engine.dispose()
    return uid


def build_csv(rows: int, caregivers: int, clients: int) -> bytes:
    """A month of visits, 30 minutes each, 40 minutes apart per caregiver: none overlap."""
    rng = random.Random(11)
    out = [HEADER]
    first = date(2026, 10, 1)
    n = 0
    slots = -(-rows // (caregivers * 31))
    for day in range(31):
        d = first + timedelta(days=day)
        for slot in range(slots):
            for cg in range(caregivers):
                if n >= rows:
                    break
                start = datetime(d.year, d.month, d.day, 7) + timedelta(minutes=40 * slot)  # noqa: DTZ001
                end = start + timedelta(minutes=30)
                svc = "MEAL" if slot % 5 == 0 else "CLEAN"
                out.append(
                    f"TS-{n:06d},CG{cg:04d},C{rng.randrange(clients):05d},{svc},"
                    f"{start:%Y/%-m/%-d %-H:%M},{end:%Y/%-m/%-d %-H:%M},"
                )
                n += 1
    return ("\r\n".join(out) + "\r\n").encode("utf-8")


def to_xlsx(csv_bytes: bytes) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("timesheet")
    for line in csv_bytes.decode().splitlines():
        ws.append(line.split(","))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def post(client: Any, headers: dict[str, str], data: bytes, name: str) -> tuple[int, float, Any]:
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data), filename=name)})
    t0, c0 = time.perf_counter(), time.process_time()
    r = client.post(
        "/api/v1/timesheets",
        data=body,
        headers=headers,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    wall = time.perf_counter() - t0
    post.cpu_s = round(time.process_time() - c0, 2)  # type: ignore[attr-defined]  # this process
    return r.status_code, wall, r.get_json()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--caregivers", type=int, default=200)
    ap.add_argument("--clients", type=int, default=2_000)
    ap.add_argument("--formats", default="csv,xlsx")
    ap.add_argument("--validate", action="store_true", help="also run the queued validation job")
    args = ap.parse_args()
    url = create_db()
    results: dict[str, Any] = {
        "rows": args.rows,
        "machine": f"{os.cpu_count()} cores",
        "date": datetime.now().isoformat(timespec="seconds"),
    }
    try:
        command.upgrade(_alembic(url), "head")
        uid = seed(url, args.caregivers, args.clients)
        settings = Settings(
            database_url=url,
            redis_url=REDIS_URL,
            secret_key="bench-" + "x" * 40,
            queue_name=f"bench-ts-{uuid.uuid4().hex[:8]}",
        )
        app = create_app(settings)
        with app.app_context():
            token = create_access_token(
                identity=str(uid), additional_claims={"role": "provider_admin", "tv": 0}
            )
        headers = {"Authorization": f"Bearer {token}"}
        data = build_csv(args.rows, args.caregivers, args.clients)
        results["csv_bytes"] = len(data)
        client = app.test_client()
        for fmt in args.formats.split(","):
            payload = data if fmt == "csv" else to_xlsx(data)
            if fmt == "xlsx" and "csv" in args.formats:
                _clear(url)
            status, secs, body = post(client, headers, payload, f"bench.{fmt}")
            entry: dict[str, Any] = {
                "status": status,
                "seconds": round(secs, 2),
                "python_cpu_s": post.cpu_s,  # type: ignore[attr-defined]
                "load_average_1m": round(os.getloadavg()[0], 1),
                "bytes": len(payload),
            }
            if status == 201:
                entry["created"] = body["created"]
                entry["validation"] = body["validation"]
            else:
                entry["error"] = {k: body[k] for k in ("code", "message") if k in body}
            status2, secs2, body2 = post(client, headers, payload, f"bench.{fmt}")
            entry["repeat"] = {
                "status": status2,
                "seconds": round(secs2, 2),
                "already_received": (body2 or {}).get("already_received"),
            }
            if args.validate and status == 201:
                entry["validation_job_s"] = _run_jobs(settings)
            results[fmt] = entry
    finally:
        dbmod.Session.remove()
        drop_db(url)
    print(json.dumps(results, ensure_ascii=False, indent=2))
    summary = ", ".join(
        f"{fmt}: {results[fmt]['status']} in {results[fmt]['seconds']} s "
        f"(repeat {results[fmt]['repeat']['seconds']} s)"
        for fmt in args.formats.split(",")
        if fmt in results
    )
    print(f"timesheet upload of {args.rows:,} rows: {summary}")


def _alembic(url: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["url"] = url
    cfg.attributes["configure_logging"] = False
    return cfg


def _clear(url: str) -> None:
    """Between formats: forget the CSV's orders so that the XLSX creates them again."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM flags"))
        conn.execute(text("DELETE FROM work_orders"))
    engine.dispose()


def _run_jobs(settings: Settings) -> float:
    from dispatch import queue

    q = queue.get_queue()
    t0 = time.perf_counter()
    queue.SimpleWorker([q], connection=q.connection).work(burst=True)
    return round(time.perf_counter() - t0, 2)


if __name__ == "__main__":
    main()
