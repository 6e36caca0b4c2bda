"""Browser tests: Playwright drives Debian's Chromium against a live server on a seeded database.

No browser is downloaded: the tests use /usr/bin/chromium (or CAREDISPATCH_CHROMIUM). Without
it they are skipped with a message, except in CI (CI=true), where a missing browser fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from dispatch import config
from dispatch.demo import seed_demo
from dispatch.demo.history import quick_plan, seed_history
from dispatch.demo.seed import demo_providers
from dispatch.demo.today import run_today
from dispatch.models import PlanStatus
from tests.conftest import ROOT, alembic_config, create_database, drop_database

CHROMIUM = os.environ.get("CAREDISPATCH_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SEED = 20261123


def _missing(why: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests cannot run in CI: {why}")
    pytest.skip(f"browser tests skipped: {why} (apt-get install chromium; pip install -e .[dev])")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _missing(f"no Chromium at {CHROMIUM}")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("the playwright package is not installed")
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Site:
    base: str
    yesterday: str
    today: str
    tomorrow: str
    facts: dict[str, Any] = field(default_factory=dict)


def _seed(url: str) -> None:
    """The demo district, two days of history, today until now, tomorrow proposed."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")
    engine = create_engine(url)
    now = datetime.now(config.zone())
    with Session(engine) as session:
        seed_demo(session, SEED, now.date(), config.current().timezone)
        seed_history(session, SEED, now.date(), days=2)
        for provider in demo_providers(session):
            quick_plan(session, provider.id, now.date())
            quick_plan(session, provider.id, now.date() + timedelta(days=1), PlanStatus.proposed)
        run_today(session, SEED, now)
        session.commit()
    engine.dispose()


@pytest.fixture(scope="session")
def site(
    chromium_path: str,
    pg_admin_url: str,
    settings: Any,
    app: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Site]:
    # The app fixture made `settings` the process's: the seed stores photos where the server reads.
    url = create_database(pg_admin_url, prefix="cdbrowser")
    try:
        _seed(url)
        port = _free_port()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "CAREDISPATCH_DEMO": "1",
            "PHOTO_DIR": str(settings.photo_dir),
            "CAREDISPATCH_TIMEZONE": settings.timezone,
        }
        env.pop("REDIS_URL", None)
        log = tmp_path_factory.mktemp("server") / "gunicorn.log"
        out = log.open("wb")
        server = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--threads",
                "8",
                "--no-control-socket",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"{base}/api/v1/health", timeout=1):  # noqa: S310
                    break
            except OSError:
                time.sleep(0.2)
        else:
            server.kill()
            out.close()
            pytest.fail("the test server did not start: " + log.read_text()[-2000:])
        today = datetime.now(config.zone()).date()
        yield Site(
            base,
            (today - timedelta(days=1)).isoformat(),
            today.isoformat(),
            (today + timedelta(days=1)).isoformat(),
            {"database_url": url},
        )
        server.terminate()
        server.wait(10)
        out.close()
    finally:
        drop_database(pg_admin_url, url)


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=FLAGS)
        yield b
        b.close()


def until(page: Any, expression: str, timeout_s: float = 20) -> Any:
    """Poll ``expression`` until it is truthy (wait_for_function compiles its predicate with
    eval, which the console's CSP forbids)."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        value = page.evaluate(expression)
        if value:
            return value
        page.wait_for_timeout(25)
    raise AssertionError(f"still false after {timeout_s} s: {expression}")


class Watched:
    """A page that records console errors and every request to another origin."""

    def __init__(self, page: Any, base: str) -> None:
        self.page, self.base = page, base
        self.errors: list[str] = []
        self.foreign: list[str] = []
        self.http: list[tuple[int, str]] = []  # answers of 400 and above
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", self._request)
        page.on("response", self._response)

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.http.append((response.status, response.url))

    def _console(self, message: Any) -> None:
        # Chromium logs every 4xx answer as an error too; those are checked through self.http.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def _request(self, request: Any) -> None:
        if not request.url.startswith((self.base, "data:", "blob:")):
            self.foreign.append(request.url)

    def login(self, username: str, lang: str = "zh", screen: str = "") -> None:
        self.page.goto(f"{self.base}/")
        self.page.evaluate(f"localStorage.setItem('cd.lang', '{lang}')")
        self.page.goto(f"{self.base}/#/{screen}" if screen else f"{self.base}/")
        self.page.reload()  # a new hash alone loads nothing: the language is read at load
        self.page.get_by_label("用户名" if lang == "zh" else "Username").fill(username)
        self.page.get_by_label("密码" if lang == "zh" else "Password").fill("demo")
        self.page.locator("#login-form button[type=submit]").click()
        self.drawn()

    def drawn(self) -> None:
        self.page.wait_for_selector("#panel[data-drawn='1']", timeout=30_000)

    def clean(self, *expected: int) -> None:
        """No script error, no request elsewhere, no error answer but the ``expected`` ones."""
        assert self.errors == [], self.errors
        assert self.foreign == [], self.foreign
        assert [s for s, _ in self.http if s not in expected] == [], self.http


@pytest.fixture
def watched(browser: Any, site: Site) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield Watched(page, site.base)
    context.close()
