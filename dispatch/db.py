"""Engine, session registry and declarative base shared by every model."""

from __future__ import annotations

import enum
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Enum, MetaData, String, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, scoped_session, sessionmaker
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    def __repr__(self) -> str:
        ident = getattr(self, "id", None)
        return f"<{type(self).__name__} id={ident}>"


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant stored in UTC; SQLite gets it back aware too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware instant is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def str_enum(enum_cls: type[enum.Enum], length: int = 24) -> Enum:
    """Store an enum by its value as a plain string column (no native type)."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


_AS_OF: ContextVar[datetime | None] = ContextVar("caredispatch_as_of", default=None)


def utcnow() -> datetime:
    """Now, in UTC: the clock every stamp reads (created, decided, closed, audited).

    Inside ``as_of(t)`` it reads ``t``: the demo records its history through the real services
    at the times the people would have acted, not at the time it was seeded."""
    at = _AS_OF.get()
    return at if at is not None else datetime.now(UTC)


@contextmanager
def as_of(at: datetime) -> Iterator[None]:
    """Stamp what happens inside (and is flushed inside) with ``at`` (an aware instant)."""
    if at.tzinfo is None:
        raise ValueError("as_of needs an aware datetime")
    token = _AS_OF.set(at.astimezone(UTC))
    try:
        yield
    finally:
        _AS_OF.reset(token)


ShortStr = String(64)

# One registry for the process: the API scopes it to the request, jobs to the job.
Session = scoped_session(sessionmaker(expire_on_commit=False))
_engines: dict[str, Engine] = {}
# A pooled connection idle longer than this is pinged before use (``_ping_when_idle``).
PING_AFTER_IDLE_S = 1.0


def make_engine(url: str) -> Engine:
    """An engine per URL; SQLite gets foreign keys and a busy timeout."""
    if url in _engines:
        return _engines[url]
    kwargs: dict[str, Any] = {"future": True}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
    else:
        # connect_timeout: an unreachable host fails in seconds (a coded 503), not minutes.
        # No pool_pre_ping: ``_ping_when_idle`` below pings only connections that sat idle.
        kwargs.update(
            pool_size=10,
            max_overflow=20,
            pool_timeout=10,
            connect_args={"connect_timeout": 5},
        )
    engine = create_engine(url, **kwargs)
    # A forked child (an rq work horse, a gunicorn worker) must not share the parent's pooled
    # connections: it starts with an empty pool and leaves the parent's sockets alone.
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

    else:
        _ping_when_idle(engine)
    _engines[url] = engine
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Pessimistic disconnect handling for connections that sat idle, not for every checkout.

    A connection back in the pool for more than ``PING_AFTER_IDLE_S`` (one that may have died
    with a database restart) is pinged when checked out, and replaced when the ping fails (the
    pool connects anew); one used within the last second is not: under load that saves a round
    trip per request. A connection that dies while busy is caught by SQLAlchemy's disconnect
    detection instead: its request answers a coded 503 (which the phone retries) and the pool
    drops every connection older than the failure."""

    @event.listens_for(engine, "connect")
    def _fresh(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("idle_since", 0.0) <= PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # any failure: the pool replaces this connection
            raise DisconnectionError(str(exc)) from exc


def forget_engine(url: str | None = None) -> None:
    """Close the engine of ``url`` (every engine without one) and drop it from the registry:
    for a database about to be dropped (tests, benches); the next ``make_engine`` builds anew."""
    for key in [url] if url is not None else list(_engines):
        engine = _engines.pop(key, None)
        if engine is not None:
            engine.dispose()


def configure(url: str) -> Engine:
    """Bind the process-wide session registry to the database at ``url``."""
    engine = make_engine(url)
    Session.remove()
    Session.configure(bind=engine)
    return engine


@contextmanager
def session_scope() -> Iterator[OrmSession]:
    """A unit of work outside a request: commit on success, roll back on error."""
    session = Session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        Session.remove()


def independent_session(url: str) -> OrmSession:
    """A session of its own on the database at ``url``: it commits (or not) whatever the
    request's or job's unit of work does (a periodic task's claim)."""
    return OrmSession(make_engine(url), expire_on_commit=False)


KEEP_ON_REFUSAL = "caredispatch.keep_on_refusal"


def keep_on_refusal(session: OrmSession) -> None:
    """Commit what ``session`` holds even though the request is refused (4xx): the audit
    entry of a failed login. Only for writes that record the refusal itself."""
    session.info[KEEP_ON_REFUSAL] = True


def kept_on_refusal(session: OrmSession) -> bool:
    return bool(session.info.pop(KEEP_ON_REFUSAL, False))
