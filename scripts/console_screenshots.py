"""Screenshots of each role's main screen for docs/console.md, from a running `make demo`.

    .venv/bin/python scripts/console_screenshots.py [--base http://127.0.0.1:5000]

Needs Debian's Chromium (/usr/bin/chromium) and, for the Chinese labels, a CJK font
(apt-get install fonts-noto-cjk).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DESKTOP, TABLET, PHONE = (1400, 900), (1024, 768), (390, 844)

# (file, login, screen, language, viewport, what to do before the picture)
SHOTS: list[tuple[str, str, str, str, tuple[int, int], str]] = [
    ("day-zh", "dispatcher1", "day", "zh", DESKTOP, "select"),
    ("day-en", "dispatcher1", "day", "en", DESKTOP, "select"),
    ("day-en-tablet", "dispatcher1", "day", "en", TABLET, ""),
    ("day-zh-tablet", "dispatcher1", "day", "zh", TABLET, ""),
    ("board-zh-phone", "dispatcher1", "board", "zh", PHONE, ""),
    ("board-en-phone", "dispatcher1", "board", "en", PHONE, ""),
    ("board-en", "dispatcher1", "board", "en", DESKTOP, ""),
    ("day-zh-phone", "dispatcher1", "day", "zh", PHONE, ""),
    ("calls-day-zh-tablet", "dispatcher1", "day", "zh", TABLET, "call"),
    ("calls-en-phone", "dispatcher1", "calls", "en", PHONE, "call"),
    ("no-screen-en-phone", "caregiver1_1", "", "en", PHONE, ""),
    ("review-zh", "finance", "review", "zh", DESKTOP, "order"),
    ("review-en", "finance", "review", "en", DESKTOP, "order"),
    ("funnel-zh", "finance", "funnel", "zh", DESKTOP, ""),
    ("billing-en", "finance", "billing", "en", DESKTOP, ""),
    ("appeals-zh", "finance", "appeals", "zh", DESKTOP, ""),
    ("orders-zh", "provider1", "orders", "zh", DESKTOP, ""),
    ("timesheets-zh", "provider1", "timesheets", "zh", DESKTOP, "upload"),
    ("rules-en", "admin", "rules", "en", DESKTOP, ""),
    ("users-zh", "admin", "users", "zh", DESKTOP, ""),
    ("family-zh-phone", "family1_1", "family", "zh", PHONE, ""),
    ("family-en-phone", "family1_1", "family", "en", PHONE, ""),
    ("family-order-zh-phone", "family1_1", "family", "zh", PHONE, "family-order"),
    ("family-call-en-phone", "family1_1", "family", "en", PHONE, "family-call"),
    ("family-zh-tablet", "family1_1", "family", "zh", TABLET, ""),
    ("family-en-tablet", "family1_1", "family", "en", TABLET, "family-complain"),
    ("figures-zh-tablet", "supervisor", "figures", "zh", TABLET, "last_month"),
    ("figures-en-tablet", "supervisor", "figures", "en", TABLET, "last_month"),
    ("figures-zh-phone", "supervisor_street", "figures", "zh", PHONE, "last_month"),
    ("figures-en-phone", "supervisor", "figures", "en", PHONE, "last_month"),
    ("contacts-zh-tablet", "supervisor", "contacts", "zh", TABLET, ""),
    ("contacts-en-phone", "supervisor", "contacts", "en", PHONE, "overdue"),
    ("callbacks-zh-tablet", "supervisor", "callbacks", "zh", TABLET, "answered"),
    ("callbacks-en-phone", "supervisor", "callbacks", "en", PHONE, "answered"),
    ("scorecard-en-tablet", "supervisor", "scorecard", "en", TABLET, "last_month"),
    ("scorecard-zh-phone", "supervisor", "scorecard", "zh", PHONE, "last_month"),
]


def redraw(page: Any, action: Any) -> None:
    page.evaluate("document.getElementById('panel').removeAttribute('data-drawn')")
    action()
    page.wait_for_selector("#panel[data-drawn='1']", timeout=60_000)
    page.wait_for_timeout(300)


def prepare(page: Any, what: str, tmp: Path) -> None:
    if what == "last_month":
        # The last whole month: billed and closed, every figure filled in.
        month = page.locator("#panel input[type=month]")
        last = page.evaluate(
            "(() => { const [y, m] = CD.today().split('-').map(Number);"
            " return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`; })()"
        )
        redraw(page, lambda: month.fill(last))
        month.blur()
    elif what == "answered":
        redraw(page, lambda: page.locator("#panel .seg button").nth(1).click())
    elif what == "overdue":
        page.locator("table.overdue").scroll_into_view_if_needed()
    elif what == "select":
        bars = page.locator(".tl-bar.draggable")
        if bars.count():
            bars.nth(min(3, bars.count() - 1)).click()
    elif what == "order":
        items = page.locator(".order-item")
        # A geofence case shows the map best.
        group = page.locator(".group", has_text="签到位置超出范围")
        if not group.count():
            group = page.locator(".group", has_text="Check-in too far")
        if group.count() and group.first.get_attribute("open") is None:
            group.locator("summary").first.click()
        pick = group.locator(".order-item")
        (pick if pick.count() else items).first.click()
        page.wait_for_selector("[data-order]")
        page.wait_for_timeout(1200)
    elif what == "call":
        # The first open call of `make demo` (press a pendant first: `logins` lists the keys).
        cards = page.locator(".call-card")
        page.wait_for_timeout(1500)
        if cards.count():
            cards.first.click()
            page.wait_for_timeout(300)
            page.evaluate("window.scrollTo(0, 0)")
    elif what.startswith("family-"):
        family(page, what)
    elif what == "upload":
        csv = tmp / "timesheet.csv"
        csv.write_text(
            "external_id,caregiver_code,client_code,service_code,start,end,note\n"
            "A-1,CG101,C10001,CLEAN,2026-12-05 08:00,2026-12-05 09:00,\n"
            "A-2,CG999,C10001,CLEAN,2026-12-05 09:30,2026-12-05 09:00,\n"
            "A-3,CG102,C19999,BATH,2026-12-05 10:00,2026-12-05 11:00,\n",
            encoding="utf-8",
        )
        page.locator("#panel input[type=file]").set_input_files(str(csv))
        page.locator("#panel form button[type=submit]").click()
        page.wait_for_selector("table")


def family(page: Any, what: str) -> None:
    """The family page: a section open, or the call's confirmation (never confirmed here)."""
    nav = page.locator(".fam-nav button")
    if what == "family-order":
        nav.nth(1).click()
        page.wait_for_selector(".fam-quote[data-copay]")
    elif what == "family-complain":
        nav.nth(2).click()
        page.wait_for_selector("form.fam-form")
    elif what == "family-call":
        page.locator(".fam-call-button").click()
        page.wait_for_selector("dialog[open]")
    page.wait_for_timeout(400)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:5000")
    parser.add_argument("--out", default=str(ROOT / "docs" / "console"))
    parser.add_argument("--only", nargs="*")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        for name, user, screen, lang, (w, h), what in SHOTS:
            if args.only and name not in args.only:
                continue
            locale = "zh-CN" if lang == "zh" else "en-GB"  # the date and time pickers
            page = browser.new_page(viewport={"width": w, "height": h}, locale=locale)
            page.goto(f"{args.base}/")
            page.evaluate(f"localStorage.setItem('cd.lang', '{lang}')")
            page.goto(f"{args.base}/#/{screen}")
            page.reload()  # the language is read when the page loads
            page.locator("input[name=username]").fill(user)
            page.locator("input[name=password]").fill("demo")
            page.locator("#login-form button[type=submit]").click()
            page.wait_for_selector("#panel[data-drawn='1']", timeout=60_000)
            page.wait_for_timeout(500)
            prepare(page, what, out)
            page.screenshot(path=str(out / f"{name}.png"))
            page.close()
            print("wrote", out / f"{name}.png")
        browser.close()
    (out / "timesheet.csv").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
