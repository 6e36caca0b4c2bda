"""Failed logins, throttled per account and per address with the ``limits`` library.

Counters live where every API process sees them: in Redis when ``REDIS_URL`` is set, else in
the database (``DatabaseStorage``, table ``rate_limits``). Limits (fixed windows):

- per account: ``ACCOUNT`` failures per window, then 429 until the window ends;
- per address: ``ADDRESS`` failures (a care centre's phones share one address behind NAT);
- the NIST SP 800-63B §5.2.2 ceiling: at most ``CEILING`` consecutive failures on an account,
  counted over a long window and cleared by a successful login.

A throttled login is refused with the right password too, until the window has passed.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from limits import RateLimitItem, parse
from limits.storage import RedisStorage, Storage
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import case, delete, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from dispatch import config, db, error_codes, periodic
from dispatch.models import RateLimit

log = logging.getLogger(__name__)

ACCOUNT = parse("10/15 minutes")
ADDRESS = parse("100/15 minutes")
CEILING = parse("100/30 days")


class PreciseRedisStorage(RedisStorage):
    """``limits``' Redis storage with the window's end read to the millisecond (PTTL): its own
    reads TTL, rounded to whole seconds, so Retry-After could end up to half a second early and
    a client that waited exactly that long was refused again."""

    STORAGE_SCHEME = ["caredispatch+redis"]

    def get_expiry(self, key: str) -> float:
        remaining_ms = self.get_connection(True).pttl(self.prefixed_key(key))
        return max(int(remaining_ms), 0) / 1000 + time.time()


class DatabaseStorage(Storage):
    """A ``limits`` storage in the ``rate_limits`` table: one upsert per hit, in its own
    transaction (a failed login's request is rolled back; its count must not be)."""

    STORAGE_SCHEME = ["caredispatch+db"]

    def __init__(self, engine: Engine | None = None, **options: Any) -> None:
        super().__init__("caredispatch+db://", **options)
        self._engine = engine

    @property
    def engine(self) -> Engine:
        return self._engine or db.make_engine(config.current().database_url)

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        table = RateLimit.__table__
        stmt = dialect.insert(table).values(key=key, count=amount, expires_at=now + expiry)
        expired = table.c.expires_at <= now
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "count": case((expired, amount), else_=table.c.count + amount),
                "expires_at": case((expired, now + expiry), else_=table.c.expires_at),
            },
        ).returning(table.c.count)
        with self.engine.begin() as conn:
            return int(conn.execute(stmt).scalar_one())

    def get(self, key: str) -> int:
        with self.engine.connect() as conn:
            count = conn.scalar(
                select(RateLimit.count).where(
                    RateLimit.key == key, RateLimit.expires_at > time.time()
                )
            )
        return int(count or 0)

    def get_expiry(self, key: str) -> float:
        with self.engine.connect() as conn:
            expires = conn.scalar(select(RateLimit.expires_at).where(RateLimit.key == key))
        return float(expires) if expires is not None else time.time()

    def check(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with self.engine.begin() as conn:
            return conn.execute(delete(RateLimit)).rowcount  # type: ignore[attr-defined, no-any-return]

    def clear(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(RateLimit).where(RateLimit.key == key))

    def purge_expired(self) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(delete(RateLimit).where(RateLimit.expires_at <= time.time()))
        return int(result.rowcount)  # type: ignore[attr-defined]


_storages: dict[tuple[str | None, str, str], Storage] = {}


def storage() -> Storage:
    """Redis when configured, the database otherwise; one per configuration and process."""
    settings = config.current()
    key = (settings.redis_url, settings.database_url, settings.queue_name)
    if key not in _storages:
        if settings.redis_url:
            # Prefixed by the queue name: installations (and test runs) sharing a Redis
            # keep their counters apart.
            _storages[key] = PreciseRedisStorage(
                settings.redis_url, key_prefix=f"{settings.queue_name}:limits"
            )
        else:
            _storages[key] = DatabaseStorage()
    return _storages[key]


def reset_all() -> None:
    """Forget every counter of the storages this process has used (tests, an operator)."""
    for store in _storages.values():
        store.reset()


def _limits(username: str, address: str) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
    account = username.strip().lower()[:100]
    return [
        (ACCOUNT, ("login-account", account)),
        (CEILING, ("login-consecutive", account)),
        (ADDRESS, ("login-address", address[:64])),
    ]


def check(username: str, address: str) -> None:
    """Raise TOO_MANY_LOGIN_ATTEMPTS (429, Retry-After) while a limit of this login is exhausted."""
    limiter = FixedWindowRateLimiter(storage())
    now = time.time()
    waits = [
        limiter.get_window_stats(item, *keys).reset_time - now
        for item, keys in _limits(username, address)
        if not limiter.test(item, *keys)
    ]
    if waits:
        wait = max(1, int(max(waits) + 0.999))
        log.info("login for %r from %s throttled for %d s", username, address, wait)
        raise error_codes.TOO_MANY_LOGIN_ATTEMPTS(wait=wait, retry_after_s=wait)


def failed(username: str, address: str) -> bool:
    """Count one failed login; answers True when it used up a limit (the throttle engages)."""
    limiter = FixedWindowRateLimiter(storage())
    exhausted = False
    for item, keys in _limits(username, address):
        if not limiter.hit(item, *keys) or not limiter.test(item, *keys):
            exhausted = True
    return exhausted


def succeeded(username: str) -> None:
    """A right password: the account's consecutive failures start again from zero."""
    limiter = FixedWindowRateLimiter(storage())
    for item, keys in _limits(username, "")[:2]:
        limiter.clear(item, *keys)


@periodic.task(every_s=3600)
def purge_expired_counters() -> None:
    """Drop the database counters whose window has passed (Redis expires its own)."""
    store = storage()
    if isinstance(store, DatabaseStorage):
        store.purge_expired()
