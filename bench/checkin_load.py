"""Check-in throughput and latency, with a photo, through the real stack (gunicorn + PostgreSQL).

    .venv/bin/python bench/checkin_load.py [--caregivers 20 --visits 5 --concurrency 8
                                            --workers 2 --threads 4 --timeout-s 300]

Creates a PostgreSQL database (dropped at the end), migrates it, seeds one provider with N
caregivers and N x V published visits, starts gunicorn on 127.0.0.1 (a free port), logs every
caregiver in through the API, then fires one check-in per visit (each with its own small JPEG)
from a thread pool over keep-alive HTTP/1.1 connections, then one completed check-out per visit
(which also makes a work order and runs the validation rules). A third phase replays every
check-in (the idempotent path). Before all that, a bad-input phase sends a decompression
bomb, a non-image, an oversize photo, an out-of-range latitude, a check-out before check-in
and an unknown visit id, each once. Prints one JSON document and a one-line summary. Bounded: at
most --max-requests per phase and --timeout-s overall.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench._stack import (  # noqa: E402
    create_database,
    drop_database,
    event,
    free_port,
    login,
    make_jpeg,
    migrate,
    multipart,
    seed_checkins,
    server_env,
    start_gunicorn,
    stop,
    wait_healthy,
)
from dispatch.models import Photo, VisitEvent, WorkOrder  # noqa: E402


@dataclass
class Shot:
    status: int
    latency_s: float


def fire(
    port: int, jobs: list[tuple[str, str, str, bytes]], concurrency: int, deadline: float
) -> tuple[list[Shot], float]:
    """POST every (path, token, content type, body); one keep-alive connection per thread."""
    local = threading.local()

    def one(job: tuple[str, str, str, bytes]) -> Shot:
        if time.monotonic() > deadline:
            return Shot(0, 0.0)
        path, token, ctype, body = job
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        t0 = time.perf_counter()
        try:
            conn.request(
                "POST", path, body, {"Content-Type": ctype, "Authorization": f"Bearer {token}"}
            )
            resp = conn.getresponse()
            resp.read()
            status = resp.status
        except (OSError, http.client.HTTPException):
            local.conn = None
            status = -1
        return Shot(status, time.perf_counter() - t0)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        shots = list(pool.map(one, jobs))
    return shots, time.perf_counter() - t0


def summarise(shots: list[Shot], wall_s: float) -> dict[str, Any]:
    ok = [s.latency_s * 1000 for s in shots if 200 <= s.status < 300]
    q = statistics.quantiles(ok, n=100, method="inclusive") if len(ok) >= 2 else [0.0] * 99
    statuses: dict[str, int] = {}
    for s in shots:
        statuses[str(s.status)] = statuses.get(str(s.status), 0) + 1
    return {
        "requests": len(shots),
        "ok": len(ok),
        "statuses": statuses,
        "wall_s": round(wall_s, 3),
        "throughput_rps": round(len(ok) / wall_s, 1) if wall_s else 0.0,
        "latency_ms": {
            "p50": round(q[49], 1),
            "p95": round(q[94], 1),
            "p99": round(q[98], 1),
            "max": round(max(ok), 1) if ok else 0.0,
        },
    }


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A valid PNG whose header claims ``width`` x ``height``: a few hundred bytes on the wire."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (1 + width // 8) * 4)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def bad_inputs(visit_id: int, token: str) -> list[tuple[str, str, str, str, bytes]]:
    """(case, path, token, content type, body) for each kind of bad request the app may send."""
    oversize = b"\xff\xd8\xff\xe0" + random.Random(7).randbytes(9 * 1024 * 1024)
    cases: list[tuple[str, str, bytes, bytes, str]] = [
        # case, path suffix, event JSON, photo bytes, photo file name
        ("decompression_bomb", "check-in", event(5, str(uuid.uuid4())), png_bomb(), "p.png"),
        ("not_an_image", "check-in", event(5, str(uuid.uuid4())), b"%PDF-1.7 not a photo", "p.jpg"),
        ("oversize_photo", "check-in", event(5, str(uuid.uuid4())), oversize, "p.jpg"),
        (
            "lat_out_of_range",
            "check-in",
            event(5, str(uuid.uuid4()), lat=91.0),
            make_jpeg(1),
            "p.jpg",
        ),
        (
            "check_out_before_check_in",
            "check-out",
            event(62, str(uuid.uuid4()), outcome="completed"),
            make_jpeg(2),
            "p.jpg",
        ),
    ]
    out = []
    for case, kind, body, photo, name in cases:
        ctype, data = multipart(
            {"event": (None, "application/json", body), "photo": (name, "image/jpeg", photo)}
        )
        out.append((case, f"/api/v1/visits/{visit_id}/{kind}", token, ctype, data))
    ctype, data = multipart({"event": (None, "application/json", event(5, str(uuid.uuid4())))})
    out.append(
        ("unknown_or_foreign_visit", "/api/v1/visits/2147480000/check-in", token, ctype, data)
    )
    return out


def measure_bad_inputs(
    port: int, jobs: list[tuple[str, str, str, str, bytes]]
) -> list[dict[str, Any]]:
    rows = []
    for case, path, token, ctype, body in jobs:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        t0 = time.perf_counter()
        conn.request(
            "POST", path, body, {"Content-Type": ctype, "Authorization": f"Bearer {token}"}
        )
        resp = conn.getresponse()
        answer = json.loads(resp.read() or b"{}")
        ms = (time.perf_counter() - t0) * 1000
        conn.close()
        rows.append(
            {"case": case, "status": resp.status, "code": answer.get("code"), "ms": round(ms, 1)}
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--caregivers", type=int, default=20)
    ap.add_argument("--visits", type=int, default=5, help="visits per caregiver")
    ap.add_argument("--concurrency", type=int, default=8, help="client threads")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    ap.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    ap.add_argument("--max-requests", type=int, default=2000, help="cap per phase")
    ap.add_argument("--timeout-s", type=float, default=300)
    ap.add_argument("--log", help="keep gunicorn's log at this path (default: discarded)")
    args = ap.parse_args()
    deadline = time.monotonic() + args.timeout_s

    url = create_database()
    tmp = Path(tempfile.mkdtemp(prefix="cdbench-"))
    proc: subprocess.Popen[bytes] | None = None
    try:
        migrate(url)
        routes = seed_checkins(url, args.caregivers, args.visits)

        port = free_port()
        env = server_env(url, tmp / "photos")
        log = Path(args.log or tmp / "gunicorn.log").open("wb")  # noqa: SIM115  (closed below)
        proc = start_gunicorn(env, port, log, workers=args.workers, threads=args.threads)
        wait_healthy(port, deadline)
        tokens = {username: login(port, username) for username, _ in routes}
        # Warm-up, not measured: every worker thread opens its database connection.
        for _ in range(args.workers * args.threads):
            for username in list(tokens)[:4]:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request(
                    "GET",
                    "/api/v1/me/visits",
                    headers={"Authorization": f"Bearer {tokens[username]}"},
                )
                conn.getresponse().read()

        ins: list[tuple[str, str, str, bytes]] = []
        outs: list[tuple[str, str, str, bytes]] = []
        n = 0
        for username, visit_ids in routes:
            for v, visit_id in enumerate(visit_ids):
                n += 1
                key_in, key_out = str(uuid.uuid4()), str(uuid.uuid4())
                for kind, key, minute, extra, jobs in (
                    ("check-in", key_in, v * 60 + 5, {}, ins),
                    ("check-out", key_out, v * 60 + 62, {"outcome": "completed"}, outs),
                ):
                    ctype, body = multipart(
                        {
                            "event": (None, "application/json", event(minute, key, **extra)),
                            "photo": ("p.jpg", "image/jpeg", make_jpeg(n * 2 + len(jobs) % 2)),
                        }
                    )
                    jobs.append(
                        (f"/api/v1/visits/{visit_id}/{kind}", tokens[username], ctype, body)
                    )
        ins, outs = ins[: args.max_requests], outs[: args.max_requests]
        random.Random(1).shuffle(ins)
        photo_kb = round(statistics.mean(len(j[3]) for j in ins) / 1024, 1)

        result: dict[str, Any] = {
            "benchmark": "checkin_load",
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2)},
            "config": {
                **{k: v for k, v in vars(args).items()},
                "request_kb": photo_kb,
                "stack": "gunicorn sync-threads + PostgreSQL, jobs inline",
            },
        }
        # Bad requests first: each must be a coded 4xx, quickly, and store nothing.
        first_user, first_visits = routes[0]
        result["bad_input"] = measure_bad_inputs(
            port, bad_inputs(first_visits[0], tokens[first_user])
        )
        engine = create_engine(url)
        with Session(engine) as s:
            stored = s.scalar(select(func.count()).select_from(VisitEvent))
            stored += s.scalar(select(func.count()).select_from(Photo))
        engine.dispose()
        result["bad_input_stored_nothing"] = stored == 0
        shots, wall = fire(port, ins, args.concurrency, deadline)
        result["check_in"] = summarise(shots, wall)
        shots, wall = fire(port, outs, args.concurrency, deadline)
        result["check_out"] = summarise(shots, wall)
        shots, wall = fire(port, ins, args.concurrency, deadline)
        result["replay_check_in"] = summarise(shots, wall)

        engine = create_engine(url)
        with Session(engine) as s:
            result["database"] = {
                "events": s.scalar(select(func.count()).select_from(VisitEvent)),
                "photos": s.scalar(select(func.count()).select_from(Photo)),
                "work_orders": s.scalar(select(func.count()).select_from(WorkOrder)),
            }
        engine.dispose()
        result["exactly_once"] = result["database"]["events"] == (
            result["check_in"]["ok"] + result["check_out"]["ok"]
        )
    finally:
        if proc is not None:
            stop([proc])
            log.close()
        drop_database(url)
        for p in sorted(tmp.rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
        tmp.rmdir()

    print(json.dumps(result, indent=2, ensure_ascii=False))
    ci, co = result["check_in"], result["check_out"]
    print(
        f"checkin_load: {ci['ok']}/{ci['requests']} check-ins at {ci['throughput_rps']} req/s "
        f"(p50 {ci['latency_ms']['p50']} ms, p95 {ci['latency_ms']['p95']} ms, "
        f"p99 {ci['latency_ms']['p99']} ms); {co['ok']}/{co['requests']} check-outs at "
        f"{co['throughput_rps']} req/s "
        f"(p95 {co['latency_ms']['p95']} ms); replays {result['replay_check_in']['throughput_rps']}"
        f" req/s; exactly once: {result['exactly_once']}"
    )
    worst = max(result["bad_input"], key=lambda r: r["ms"])
    print(
        f"bad input: {len(result['bad_input'])} cases, all 4xx with a code: "
        f"{all(400 <= r['status'] < 500 and r['code'] for r in result['bad_input'])}, slowest "
        f"{worst['case']} {worst['ms']} ms, stored nothing: {result['bad_input_stored_nothing']}"
    )


if __name__ == "__main__":
    main()
