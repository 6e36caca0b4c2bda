"""What one check-in costs the server: SQL statements and CPU, which do not depend on the load.

    .venv/bin/python bench/checkin_cost.py [--checkins 300 --caregivers 30 --profile 25]

Seeds a fresh PostgreSQL database (dropped at the end) as ``bench/checkin_rate.py`` does, builds
the app in this process (no gunicorn, no network), logs every caregiver in, then sends check-ins
with their own ≈25 KB JPEG one after another through the WSGI interface (Flask's test client:
multipart parsing, JWT, the service, the commit, all of it). For each it counts the SQL
statements sent (by kind) and the CPU seconds this process used (``time.process_time``: the
database server's own CPU is not in it). The first tenth are a warm-up and not counted.
``--profile N`` prints the N functions that took most CPU themselves (cProfile on CPU time).

Why it exists: on a shared machine throughput and latency move with the other engineers' load;
statements and CPU per request are what a change to the code moves. Prints one JSON document
and a one-line summary.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event as sa_event  # noqa: E402

from api import create_app  # noqa: E402
from bench._stack import (  # noqa: E402
    PASSWORD,
    create_database,
    drop_database,
    event,
    make_jpeg,
    migrate,
    multipart,
    seed_checkins,
)
from dispatch import db as dbmod  # noqa: E402
from dispatch.config import Settings  # noqa: E402


def kind_of(statement: str) -> str:
    """``SELECT visits FOR …``, ``INSERT audit_log``, ``SAVEPOINT``: what a statement does to
    which table (the first one named)."""
    words = statement.split(None, 3)
    head = words[0].upper() if words else "?"
    if head in ("INSERT", "DELETE") and len(words) > 2:
        return f"{head} {words[2].strip(chr(34))}"
    if head == "UPDATE" and len(words) > 1:
        return f"UPDATE {words[1].strip(chr(34))}"
    if head == "SELECT":
        table = re.search(r"\bFROM\s+(\S+)", statement, re.IGNORECASE)
        name = table.group(1).strip(chr(34)) if table else "?"
        lock = re.search(r"FOR (KEY SHARE|NO KEY UPDATE|UPDATE|SHARE)", statement)
        return f"SELECT {name}" + (f" FOR {lock.group(1)}" if lock else "")
    return head


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--checkins", type=int, default=300)
    ap.add_argument("--caregivers", type=int, default=30)
    ap.add_argument("--profile", type=int, default=0, help="print the N costliest functions")
    args = ap.parse_args()
    per = -(-args.checkins // args.caregivers)
    url = create_database()
    tmp = Path(tempfile.mkdtemp(prefix="cdcost-"))
    try:
        migrate(url)
        routes = seed_checkins(url, args.caregivers, per)
        app = create_app(
            Settings(
                database_url=url,
                photo_dir=tmp / "photos",
                secret_key="cost-" + uuid.uuid4().hex + uuid.uuid4().hex,
                queue_name=f"cdcost-{uuid.uuid4().hex[:8]}",
            )
        )
        client = app.test_client()
        tokens = {}
        for username, _ in routes:
            r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
            tokens[username] = r.json["access_token"]
        requests = []
        for v in range(per):
            for username, visit_ids in routes:
                if v < len(visit_ids) and len(requests) < args.checkins:
                    ctype, body = multipart(
                        {
                            "event": (
                                None,
                                "application/json",
                                event(v * 60 + 5, str(uuid.uuid4())),
                            ),
                            "photo": ("p.jpg", "image/jpeg", make_jpeg(len(requests))),
                        }
                    )
                    requests.append(
                        (f"/api/v1/visits/{visit_ids[v]}/check-in", tokens[username], ctype, body)
                    )
        statements: list[str] = []
        engine = dbmod.make_engine(url)
        sa_event.listen(
            engine, "before_cursor_execute", lambda *a: statements.append(a[2]), named=False
        )
        warm = max(1, len(requests) // 10)
        per_request: list[tuple[int, float, float]] = []
        kinds: Counter[str] = Counter()
        statuses: Counter[int] = Counter()
        profiler = cProfile.Profile(time.process_time) if args.profile else None  # CPU, not wall
        for i, (path, token, ctype, body) in enumerate(requests):
            statements.clear()
            cpu0, wall0 = time.process_time(), time.perf_counter()
            if profiler is not None and i >= warm:
                profiler.enable()
            r = client.post(
                path, data=body, headers={"Authorization": f"Bearer {token}", "Content-Type": ctype}
            )
            if profiler is not None:
                profiler.disable()
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            statuses[r.status_code] += 1
            if i >= warm:
                per_request.append((len(statements), cpu * 1000, wall * 1000))
                kinds.update(kind_of(s) for s in statements)
        counted = len(per_request)
        result: dict[str, Any] = {
            "benchmark": "checkin_cost",
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2)},
            "config": vars(args),
            "statuses": {str(k): v for k, v in statuses.items()},
            "counted": counted,
            "statements_per_checkin": round(statistics.mean(p[0] for p in per_request), 2),
            "statements_by_kind_per_checkin": {
                k: round(n / counted, 2) for k, n in kinds.most_common()
            },
            "cpu_ms_per_checkin": {
                "mean": round(statistics.mean(p[1] for p in per_request), 2),
                "p50": round(statistics.median(p[1] for p in per_request), 2),
            },
            "wall_ms_per_checkin_p50": round(statistics.median(p[2] for p in per_request), 2),
        }
        if profiler is not None:
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats("tottime").print_stats(args.profile)
            # And where the project's own code spends it, callees included.
            stats.sort_stats("cumulative").print_stats(r"/(api|dispatch)/", args.profile)
            result["profile_top"] = out.getvalue().splitlines()
    finally:
        dbmod.forget_engine(url)
        drop_database(url)
        for p in sorted(tmp.rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
        tmp.rmdir()
    profile = result.pop("profile_top", None)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if profile:
        print("\n".join(profile))
    print(
        f"checkin_cost: {result['counted']} check-ins with a photo: "
        f"{result['statements_per_checkin']} SQL statements and "
        f"{result['cpu_ms_per_checkin']['mean']} ms of this process's CPU each (p50 "
        f"{result['cpu_ms_per_checkin']['p50']} ms), wall p50 {result['wall_ms_per_checkin_p50']} "
        f"ms; load {result['machine']['load_avg_1m']}"
    )


if __name__ == "__main__":
    main()
