"""200 emergency calls within a minute on the demo district: call → proposal → dispatch.

    .venv/bin/python bench/calls.py [--calls 200 --window-s 60 --workers 2 --port 5105]

Creates its own PostgreSQL database (dropped at the end) and rq queue, sets the demo district
up as ``make demo`` does (seeded, today planned and published, families and pendants; no
30-day history), puts every caregiver on an all-day shift today (so that the run means the
same at any hour), registers one pendant per calling elder through the API, then starts
gunicorn (2 workers x 4 threads) and ``--workers`` rq worker processes (``dispatch.cli worker``:
each also runs the periodic tasks). The pendants press at random instants within
``--window-s`` seconds (open loop, each press on its own thread); each dispatcher (one per
provider) polls ``GET /calls?status=open`` and dispatches every call whose proposal is there.

Measured: the pendant's answer time (POST /calls), call-to-proposal (``proposed_at -
opened_at``, the rq job's urgent insertion), call-to-dispatch (``dispatched_at - opened_at``)
and the dispatch request itself. Prints one JSON document and a one-line summary.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from split_workers import PG_ADMIN, REDIS, admin, start_worker  # noqa: E402
from sqlalchemy import create_engine, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from dispatch import config  # noqa: E402
from dispatch.demo import PASSWORD  # noqa: E402
from dispatch.models import Caregiver, Client, Provider  # noqa: E402


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 3)


def summary(values: list[float]) -> dict[str, Any]:
    return {
        "n": len(values),
        "p50": pct(values, 50),
        "p95": pct(values, 95),
        "max": round(max(values), 3) if values else None,
        "mean": round(statistics.fmean(values), 3) if values else None,
    }


def wait_up(base: str, timeout_s: float = 90) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        try:
            if requests.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit("gunicorn did not come up")


def login(base: str, username: str) -> dict[str, str]:
    r = requests.post(
        f"{base}/api/v1/auth/login", json={"username": username, "password": PASSWORD}, timeout=30
    )
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--window-s", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5105")))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout-s", type=float, default=600.0)
    args = ap.parse_args()
    rng = random.Random(args.seed)

    name = f"bench_calls_{os.getpid()}"
    url = make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    admin(f'CREATE DATABASE "{name}"')
    queue_name = f"bench-calls-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": REDIS,
        "CAREDISPATCH_QUEUE": queue_name,
        "CAREDISPATCH_DEMO": "1",
        "PORT": str(args.port),
    }
    procs: list[subprocess.Popen[bytes]] = []
    log_path = Path(tempfile.gettempdir()) / f"bench_calls_{os.getpid()}_gunicorn.log"
    log_file = log_path.open("wb")
    base = f"http://127.0.0.1:{args.port}"
    t_setup = time.monotonic()
    try:
        subprocess.run(
            [sys.executable, "-m", "dispatch.cli", "demo-setup", "--no-history"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        engine = create_engine(url)
        with Session(engine) as s:
            providers = list(s.scalars(select(Provider.id).order_by(Provider.id)))
            elders = [(c.id, c.provider_id) for c in s.scalars(select(Client).order_by(Client.id))]
            carers = [(g.id, g.provider_id) for g in s.scalars(select(Caregiver))]
        engine.dispose()
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--bind",
                    f"127.0.0.1:{args.port}",
                    "--workers",
                    "2",
                    "--threads",
                    "4",
                    "--no-control-socket",
                    "wsgi:app",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log_file,  # errors of the run, for the reader of the figures
                start_new_session=True,
            )
        )
        procs += [start_worker(env) for _ in range(args.workers)]
        wait_up(base)
        # dispatcherN works for the demo's provider N (providers in id order).
        staff = {pid: login(base, f"dispatcher{i}") for i, pid in enumerate(providers, start=1)}
        today = datetime.now(config.zone()).date()
        for cid, pid in carers:
            r = requests.post(
                f"{base}/api/v1/caregivers/{cid}/shifts",
                json={"on_date": today.isoformat(), "start_time": "00:00", "end_time": "23:59"},
                headers=staff[pid],
                timeout=30,
            )
            r.raise_for_status()
            r = requests.patch(
                f"{base}/api/v1/caregivers/{cid}",
                json={"max_minutes_per_day": 1440},
                headers=staff[pid],
                timeout=30,
            )
            r.raise_for_status()
        chosen = rng.sample(elders, min(args.calls, len(elders)))
        keys: list[tuple[str, int]] = []
        for cid, pid in chosen:
            r = requests.post(
                f"{base}/api/v1/devices",
                json={"kind": "pendant", "client_id": cid, "label": "bench pendant"},
                headers=staff[pid],
                timeout=30,
            )
            r.raise_for_status()
            keys.append((r.json()["key"], pid))
        setup_s = round(time.monotonic() - t_setup, 1)

        press_ms: list[float] = []
        mine: set[int] = set()  # the calls of this run (the demo has a few past ones)
        statuses: dict[int, int] = {}
        lock = threading.Lock()
        start = time.monotonic()
        offsets = sorted(rng.uniform(0, args.window_s) for _ in keys)

        def press(key: str, at: float) -> None:
            time.sleep(max(0.0, start + at - time.monotonic()))
            body = {
                "kind": "sos",
                "idempotency_key": str(uuid.uuid4()),
                "device_time": datetime.now(UTC).isoformat(),
            }
            t0 = time.monotonic()
            r = requests.post(
                f"{base}/api/v1/calls", json=body, headers={"X-Device-Key": key}, timeout=60
            )
            with lock:
                press_ms.append((time.monotonic() - t0) * 1000)
                if r.status_code in (200, 201):
                    mine.add(r.json()["id"])
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

        threads = [
            threading.Thread(target=press, args=(k, at), daemon=True)
            for (k, _pid), at in zip(keys, offsets, strict=True)
        ]
        for t in threads:
            t.start()

        dispatch_ms: list[float] = []
        dispatch_codes: dict[str, int] = {}
        stop = threading.Event()

        def dispatcher(pid: int) -> None:
            h = staff[pid]
            tried: set[int] = set()
            while not stop.is_set():
                r = requests.get(
                    f"{base}/api/v1/calls", params={"page_size": 100}, headers=h, timeout=60
                )
                ready = [
                    c
                    for c in r.json()
                    if c["status"] in ("open", "escalated")
                    and c["id"] not in tried
                    and (c["proposal"] or c["no_proposal"])
                ]
                for c in ready:
                    tried.add(c["id"])
                    t0 = time.monotonic()
                    d = requests.post(
                        f"{base}/api/v1/calls/{c['id']}/dispatch", json={}, headers=h, timeout=60
                    )
                    code = str(d.status_code) + (
                        "" if d.status_code == 200 else f" {d.json().get('code')}"
                    )
                    with lock:
                        dispatch_ms.append((time.monotonic() - t0) * 1000)
                        dispatch_codes[code] = dispatch_codes.get(code, 0) + 1
                    if d.status_code != 200:
                        # Nobody can go: the call taker escalates it to the community instead.
                        requests.post(
                            f"{base}/api/v1/calls/{c['id']}/escalate",
                            json={"to": "community", "note": "bench: no caregiver free"},
                            headers=h,
                            timeout=60,
                        )
                if not ready:
                    time.sleep(0.5)

        dthreads = [threading.Thread(target=dispatcher, args=(p,), daemon=True) for p in staff]
        for t in dthreads:
            t.start()
        for t in threads:
            t.join(args.timeout_s)
        # Let the proposals and dispatches drain: until no call is open (or the timeout).
        deadline = time.monotonic() + args.timeout_s
        while time.monotonic() < deadline:
            left = sum(
                len(requests.get(
                    f"{base}/api/v1/calls", params={"status": "open", "page_size": 100},
                    headers=h, timeout=60,
                ).json())
                for h in staff.values()
            )  # fmt: skip
            if not left and len(press_ms) == len(keys):
                break
            time.sleep(1)
        stop.set()
        for t in dthreads:
            t.join(30)
        wall_s = round(time.monotonic() - start, 1)

        calls: list[dict[str, Any]] = []
        for h in staff.values():
            page = 1
            while True:
                r = requests.get(
                    f"{base}/api/v1/calls", params={"page": page, "page_size": 100},
                    headers=h, timeout=60,
                )  # fmt: skip
                calls += [c for c in r.json() if c["id"] in mine]
                if len(r.json()) < 100:
                    break
                page += 1
        proposal_s = [c["call_to_proposal_s"] for c in calls if c["call_to_proposal_s"] is not None]
        dispatch_s = [
            c["call_to_dispatch_min"] * 60 for c in calls if c["call_to_dispatch_min"] is not None
        ]
        found = sum(1 for c in calls if c["proposal"])
        result = {
            "calls": len(calls),
            "window_s": args.window_s,
            "rq_workers": args.workers,
            "gunicorn": "2 workers x 4 threads",
            "press_status": statuses,
            "press_ms": summary(press_ms),
            "call_to_proposal_s": summary(proposal_s),
            "proposals_with_caregiver": found,
            "call_to_dispatch_s": summary(dispatch_s),
            "dispatch_request_ms": summary(dispatch_ms),
            "dispatch_status": dispatch_codes,
            "escalated": sum(1 for c in calls if c["escalations"]),
            "wall_s": wall_s,
            "setup_s": setup_s,
            "server_errors_logged": log_path.read_text(errors="replace").count("Traceback"),
            "server_log": str(log_path),
            "load_avg": os.getloadavg(),
            "cpus": os.cpu_count(),
        }
        print(json.dumps(result, indent=2, ensure_ascii=False))
        p95 = result["call_to_proposal_s"]["p95"]
        print(
            f"{len(calls)} calls in {args.window_s:.0f} s: call->proposal p50 "
            f"{result['call_to_proposal_s']['p50']} s, p95 {p95} s "
            f"({'meets' if p95 is not None and p95 < 1 else 'misses'} the 1 s target), "
            f"{found} with a caregiver; call->dispatch p50 {result['call_to_dispatch_s']['p50']} s,"
            f" p95 {result['call_to_dispatch_s']['p95']} s; press p95 "
            f"{result['press_ms']['p95']} ms; load {os.getloadavg()[0]:.1f}"
        )
    finally:
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
