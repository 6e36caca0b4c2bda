"""Settings read from the environment, shared by the API, the worker and the CLI."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("CAREDISPATCH_INSTANCE", ROOT / "instance"))

# Known-public secret for demo mode only; create_app refuses it outside demo mode.
DEMO_SECRET = "caredispatch-demo-secret-not-for-production"  # noqa: S105


def _default_database_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'caredispatch.sqlite3'}"


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=_default_database_url)
    redis_url: str | None = None
    photo_dir: Path = field(default_factory=lambda: INSTANCE_DIR / "photos")
    secret_key: str = DEMO_SECRET
    demo: bool = False
    timezone: str = "Asia/Shanghai"
    queue_name: str = "caredispatch"
    # Reverse proxies in front of the API whose X-Forwarded-For is trusted (0: none).
    trusted_proxies: int = 0
    # Where family notifications are POSTed (an SMS or WeChat gateway); unset: the log.
    notify_webhook: str | None = None

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=os.environ.get("DATABASE_URL") or _default_database_url(),
            redis_url=os.environ.get("REDIS_URL") or None,
            photo_dir=Path(os.environ.get("PHOTO_DIR") or INSTANCE_DIR / "photos"),
            secret_key=os.environ.get("SECRET_KEY") or DEMO_SECRET,
            demo=_flag("CAREDISPATCH_DEMO"),
            timezone=os.environ.get("CAREDISPATCH_TIMEZONE", "Asia/Shanghai"),
            queue_name=os.environ.get("CAREDISPATCH_QUEUE", "caredispatch"),
            trusted_proxies=int(os.environ.get("CAREDISPATCH_TRUSTED_PROXIES") or 0),
            notify_webhook=os.environ.get("CAREDISPATCH_NOTIFY_WEBHOOK") or None,
        )


_current: Settings | None = None


def use(settings: Settings) -> None:
    """Make ``settings`` the process's settings (the app factory, worker and CLI call this)."""
    global _current
    _current = settings


def current() -> Settings:
    global _current
    if _current is None:
        _current = Settings.from_env()
    return _current


@functools.cache
def _zone_named(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone() -> ZoneInfo:
    """The zone the providers work in (``CAREDISPATCH_TIMEZONE``): a "day" and a "month" of
    visits, rules, entitlements and billing are local ones. The one source of the zone."""
    return _zone_named(current().timezone)
