"""Console speed in Chromium: the dispatcher's day drawn (demo day, 1,000-visit day) and the
drag-and-drop round trip (drop -> server check -> bar at its new place).

    .venv/bin/python bench/console_speed.py [--repeat 7] [--moves 10] [--port 5103]

A fresh SQLite database in a temporary directory gets the demo district with today staffed
and tomorrow proposed (the quick greedy plan: drawing does not depend on how good the plan
is), and a generated provider with a 1,000-visit day (bench/plan_day.py's generator). A
gunicorn serves it; Playwright drives Debian's Chromium (/usr/bin/chromium). "Drawn" is the
time from the start of a page load (token in the session) until the day's timeline, map and
KPIs are on screen (window.cdDayDrawnAt); "render" is the screen's own part of it (fetching
the day and drawing, window.cdDayDrawnMs). Prints one JSON document and a one-line summary.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from plan_day import fresh_database, seed_generated  # noqa: E402

from dispatch import config, db  # noqa: E402
from dispatch.demo import seed_demo  # noqa: E402
from dispatch.demo.history import quick_plan  # noqa: E402
from dispatch.demo.seed import demo_providers  # noqa: E402
from dispatch.models import PlanStatus, Role, User  # noqa: E402
from dispatch.security import hash_password  # noqa: E402

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def seed(n_visits: int) -> tuple[str, dict[str, Any]]:
    url = fresh_database()
    today = datetime.now(config.zone()).date()
    facts: dict[str, Any] = {"today": today.isoformat()}
    with db.session_scope() as session:
        # The generated provider first: its catalogue stays, the demo adds what it lacks.
        pid = seed_generated(session, today, n_visits, max(20, n_visits // 10), 7)
        seed_demo(session, 20261123, today)
        for p in demo_providers(session):
            quick_plan(session, p.id, today)
            quick_plan(session, p.id, today + timedelta(days=1), PlanStatus.proposed)
        session.add(
            User(
                username="bench_dispatcher",
                password_hash=hash_password("demo"),
                role=Role.dispatcher,
                provider_id=pid,
            )
        )
        planned = quick_plan(session, pid, today)
        facts["big_visits"] = len(planned[1].visits) if planned else 0
        facts["big_assigned"] = len(planned[2]) if planned else 0
    return url, facts


def call(base: str, method: str, path: str, token: str, body: Any = None) -> Any:
    req = urllib.request.Request(  # noqa: S310
        f"{base}/api/v1{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req) as r:  # noqa: S310
            return json.load(r)
    except urllib.error.HTTPError as err:
        return json.load(err)


def login(base: str, user: str) -> str:
    req = urllib.request.Request(  # noqa: S310
        f"{base}/api/v1/auth/login",
        data=json.dumps({"username": user, "password": "demo"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req) as r:  # noqa: S310
        return str(json.load(r)["access_token"])


def drawn_times(page: Any, base: str, user: str, date: str, repeat: int) -> dict[str, Any]:
    page.goto(f"{base}/#/day?date={date}")
    page.reload()  # a new session: the login form
    page.get_by_label("用户名").fill(user)
    page.get_by_label("密码").fill("demo")
    page.locator("#login-form button[type=submit]").click()
    page.wait_for_selector("#panel[data-drawn='1']", timeout=120_000)
    at, render, fetched = [], [], []
    for _ in range(repeat):
        page.reload()
        page.wait_for_selector("#panel[data-drawn='1']", timeout=120_000)
        at.append(page.evaluate("window.cdDayDrawnAt"))
        render.append(page.evaluate("window.cdDayDrawnMs"))
        fetched.append(page.evaluate("window.cdDayFetchMs"))
    bars = page.locator(".tl-bar").count()
    return {
        "drawn_ms_p50": round(statistics.median(at)),
        "drawn_ms_max": round(max(at)),
        "render_ms_p50": round(statistics.median(render)),
        "fetch_ms_p50": round(statistics.median(fetched)),
        "bars": bars,
        "samples": [round(x) for x in at],
    }


# Scroll the timeline so the bar sits right of the sticky column of names.
SHOW_BAR = (
    "b => { const s = b.closest('.tl-scroll'); s.scrollLeft = Math.max(0, b.offsetLeft - 400); }"
)


def until(page: Any, expression: str, timeout_s: float = 30) -> Any:
    """Poll ``expression`` until it is not null (wait_for_function would need eval: the CSP
    forbids it)."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        value = page.evaluate(expression)
        if value is not None:
            return value
        page.wait_for_timeout(20)
    raise TimeoutError(expression)


def snapped(iso: str) -> str:
    at = datetime.fromisoformat(iso)
    return datetime.fromtimestamp(round(at.timestamp() / 300) * 300, at.tzinfo).isoformat()


def moves(page: Any, base: str, date: str, n: int) -> dict[str, Any]:
    """Drag n visits of tomorrow's proposed day to a caregiver the server accepts."""
    token = login(base, "dispatcher1")
    day = call(base, "GET", f"/days/{date}/dispatch", token)
    working = [c for c in day["caregivers"] if c["shift_start"]]
    page.set_viewport_size({"width": 1366, "height": 2400})
    page.reload()
    page.wait_for_selector("#panel[data-drawn='1']")
    page.evaluate("document.getElementById('panel').removeAttribute('data-drawn')")
    page.get_by_role("button", name="后一天").click()
    until(page, f"location.hash.includes('{date}') || null")
    page.wait_for_selector("#panel[data-drawn='1']")
    took, used = [], set()
    for v in day["visits"]:
        if len(took) >= n:
            break
        if not v["caregiver_ids"] or v["caregivers_needed"] > 1 or not v["planned_start"]:
            continue
        target = None
        for c in working:
            if c["id"] in v["caregiver_ids"] or c["id"] in used:
                continue
            ask = {"caregiver_id": c["id"], "planned_start": snapped(v["planned_start"])}
            answer = call(base, "POST", f"/visits/{v['id']}/move", token, {**ask, "dry_run": True})
            if answer.get("allowed"):
                target = c["id"]
                break
        if target is None:
            continue
        used.add(target)
        bar = page.locator(f".tl-bar[data-item^='v{v['id']}-']").first
        bar.evaluate(SHOW_BAR)
        box = bar.bounding_box()
        row = page.locator(f".tl-row[data-row='{target}']").bounding_box()
        x, y = box["x"] + min(8, box["width"] / 2), row["y"] + row["height"] / 2
        page.evaluate("window.cdLastMoveMs = null")
        page.mouse.move(x, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(x, (box["y"] + y) / 2, steps=3)
        page.mouse.move(x, y, steps=3)
        page.mouse.up()
        try:
            took.append(until(page, "window.cdLastMoveMs"))
        except TimeoutError:
            print("no answer to the drag of visit", v["id"], file=sys.stderr)
            raise
        page.wait_for_timeout(600)  # let the background refresh finish before the next drag
    return {
        "moves": len(took),
        "round_trip_ms_p50": round(statistics.median(took)) if took else None,
        "round_trip_ms_max": round(max(took)) if took else None,
        "samples": [round(x) for x in took],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--moves", type=int, default=10)
    parser.add_argument("--visits", type=int, default=1000)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5103")))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    t0 = time.time()
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    url, facts = seed(args.visits)
    env = {**os.environ, "DATABASE_URL": url, "CAREDISPATCH_DEMO": "1"}
    env.pop("REDIS_URL", None)
    log = Path(tempfile.mkdtemp(prefix="cd-bench-")) / "gunicorn.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{args.port}",
             "--workers", "2", "--threads", "4", "--no-control-socket", "wsgi:app"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{args.port}"
        try:
            for _ in range(100):
                try:
                    with urllib.request.urlopen(f"{base}/api/v1/health", timeout=1):  # noqa: S310
                        break
                except OSError:
                    time.sleep(0.2)
            from playwright.sync_api import sync_playwright

            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium, args=FLAGS)
                page = browser.new_page(viewport={"width": 1366, "height": 900})
                today = facts["today"]
                tomorrow = (datetime.fromisoformat(today) + timedelta(days=1)).date().isoformat()
                demo = drawn_times(page, base, "dispatcher1", today, args.repeat)
                drag = moves(page, base, tomorrow, args.moves)
                page.evaluate("sessionStorage.clear()")
                big = drawn_times(page, base, "bench_dispatcher", today, args.repeat)
                browser.close()
        finally:
            server.terminate()
            server.wait(10)
    result = {
        "benchmark": "console_speed",
        "loadavg_before_after": [load_before, Path("/proc/loadavg").read_text().split()[:3]],
        "facts": facts,
        "demo_day": demo,
        "big_day": big,
        "drag": drag,
        "targets_ms": {"demo_day": 1000, "big_day": 2000, "drag": 300},
        "wall_s": round(time.time() - t0, 1),
    }
    print(json.dumps(result, ensure_ascii=False, indent=1))
    print(
        f"console: demo day drawn {demo['drawn_ms_p50']} ms ({demo['bars']} bars), "
        f"{facts['big_visits']}-visit day {big['drawn_ms_p50']} ms ({big['bars']} bars), "
        f"drag round trip p50 {drag['round_trip_ms_p50']} ms over {drag['moves']} moves"
    )


if __name__ == "__main__":
    main()
