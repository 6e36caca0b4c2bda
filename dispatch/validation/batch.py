"""The batch over a period on PostgreSQL: set-based prefilters, then the Python rules on the few.

``engine.validate_period`` re-evaluates every open order of a period. Running the Python rules
with a loaded context on each of a million orders costs minutes; instead:

1. the period's open orders go into a temporary table (the scope), and one statement sets them
   all ``verified``;
2. meanwhile every enabled rule's prefilter (``dispatch.rules.prefilter``: SQL over the whole
   period, on a second connection reading the same snapshot when the transaction has written
   nothing yet, plus a numpy pass over the photo hashes here) names the orders it *may* flag:
   the candidates; so does every order an open flag is on or names, because its flags must be
   re-judged (kept, updated or closed with the reason);
3. the candidates get their status back; the other orders hold no finding and no open flag, so
   step 1 is exactly what the rules would have done to them: they get the audit entry
   ``reconcile.audit_changes`` writes for the change;
4. the candidates go through the same pipeline as the incremental path (``pipeline.run``:
   context, every rule, reconciliation, statuses, audit), in chunks of at most a week of start
   times.

The prefilters are supersets, so the flags are those of evaluating every order; the tests in
``tests/validation/test_batch.py`` compare batch and incremental at each rule's threshold edge.
Elsewhere than PostgreSQL (and as the reference the benchmark checks against),
``every_order`` puts every open order of the period through the rules.

A new rule needs a prefilter in ``dispatch.rules.prefilter`` (``PER_ORDER`` or ``CROSS``) for
the batch to stay fast; without one it still runs, but every order becomes a candidate.
"""

from __future__ import annotations

import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from queue import Empty, SimpleQueue
from typing import Any

import numpy as np
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from dispatch import config
from dispatch.models import Flag, WorkOrder
from dispatch.rules import RULES, WORK_ORDER, RuleConfig, rules_for
from dispatch.rules import prefilter as pf
from dispatch.rules.data import PHOTO_HORIZON
from dispatch.tenancy import Actor
from dispatch.validation.context import Cache
from dispatch.validation.orders import (
    OPEN_STATUSES,
    load_orders,
    month_bounds,
    order_data,
    order_select,
)
from dispatch.validation.pipeline import RunStats, run
from routing import GeodesicTravel

log = logging.getLogger(__name__)

# Candidates evaluated together, sorted by start: a chunk spans at most a week of start times
# and holds at most CHUNK_MAX orders. Its context holds the candidates' people's and clients'
# orders over the span and 36 h around it. Measured on the shared machine: 9,000 candidates of
# 100,000 orders took 40 s in chunks of a day, 18 s of a week, 15 s in one; 684 candidates of
# 1,000,000 took 6 s, 4 s and 8 s.
CHUNK_SPAN = timedelta(days=7)
CHUNK_MAX = 20_000
# Cross-order prefilters look this far around the period (neighbours, local days).
MARGIN = timedelta(days=2)
OPEN = "(" + ", ".join(f"'{s.value}'" for s in OPEN_STATUSES) + ")"
# The last run's counts and seconds per step, for the benchmark and the logs.
LAST_RUN: dict[str, Any] = {}
# The prefilters run on a second connection when they can (see _second_connection).
TWO_CONNECTIONS = True


def _params(sql: str, values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if f":{k}" in sql}


def _exec(session: Session, sql: str, values: dict[str, Any]) -> Any:
    return session.execute(text(sql), _params(sql, values))


def _near_photo_ids(session: Session, values: dict[str, Any], max_bits: float) -> np.ndarray:
    """PHOTO_REUSED's near-identical search: stream the hashes out (binary COPY), pair in numpy."""
    sql = pf.PHOTO_HASHES
    for name in ("ulo", "uhi"):
        sql = sql.replace(f":{name}", f"'{values[name].isoformat()}'::timestamptz")
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cur, cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT binary)") as cp:
        buf = b"".join(bytes(block) for block in cp)
    fields = [("n", ">i2")]
    for i in range(6):
        fields += [(f"len{i}", ">i4"), (f"v{i}", ">i8")]
    dtype = np.dtype(fields)
    rows = np.frombuffer(buf, dtype=dtype, offset=19, count=(len(buf) - 21) // dtype.itemsize)
    cols = [rows[f"v{i}"].astype(np.int64) for i in range(6)]
    return pf.near_photo_pairs(
        *cols, max_bits=max_bits, horizon_s=int(PHOTO_HORIZON.total_seconds()) + 1
    )


def _values(
    start: datetime, end: datetime, provider_id: int | None, configs: dict[str, RuleConfig]
) -> dict[str, Any]:
    travel = GeodesicTravel()  # the model the rules' travel times come from
    values: dict[str, Any] = {
        "tz": config.current().timezone,
        "lo": start,
        "hi": end,
        "provider": provider_id,
        "ulo": start - MARGIN,
        "uhi": end + MARGIN,
        "mlo": month_bounds(start)[1],
        "mhi": month_bounds(end)[2],
        "detour": float(travel.detour_factor),
        "speed_walk": float(travel.speeds_mps["walk"]),
        "speed_ebike": float(travel.speeds_mps["ebike"]),
        "speed_car": float(travel.speeds_mps["car"]),
    }
    for code, cfg in configs.items():
        if cfg.threshold is not None:
            values[f"t_{code}"] = float(cfg.threshold)
    values["t_GPS_POOR"] = float(configs["GPS_POOR"].threshold or 150.0)
    for code in RULES:
        values[f"on_{code}"] = bool(code in configs and configs[code].enabled)
    return values


def _scope(provider_id: int | None) -> str:
    scope = f"o.start_at >= :lo AND o.start_at < :hi AND o.status IN {OPEN}"
    return scope + (" AND o.provider_id = :provider" if provider_id is not None else "")


def _prefilter_queries(scope: str, configs: dict[str, RuleConfig]) -> list[tuple[str, str]]:
    """(name, SELECT of order ids) for every enabled rule, and the orders open flags concern."""
    rules = rules_for(WORK_ORDER)
    enabled = [code for code, cfg in configs.items() if cfg.enabled and code in rules]
    out: list[tuple[str, str]] = []
    if any(c not in pf.covered() for c in enabled):
        # A rule without a prefilter: every order may hold it.
        out.append(("all", f"SELECT o.id FROM work_orders o WHERE {scope}"))  # noqa: S608
    per_order = [pf.PER_ORDER[c] for c in enabled if c in pf.PER_ORDER]
    if per_order:
        where = f"{scope} AND (" + "\n OR ".join(per_order) + ")"
        out.append(("per_order", f"SELECT o.id {pf.PER_ORDER_FROM} WHERE {where}"))
    for codes, sql in pf.CROSS:
        if any(c in enabled for c in codes):
            out.append(("+".join(codes), sql))
    out.append(
        (
            "open_flags",
            "SELECT work_order_id FROM flags WHERE status = 'open' UNION ALL SELECT "
            "other_work_order_id FROM flags WHERE status = 'open' AND other_work_order_id <> 0",
        )
    )
    return out


def _run_queries(
    conn: Any, queries: SimpleQueue, values: dict[str, Any], timings: dict[str, Any]
) -> set[int]:
    """Run prefilters taken from ``queries`` until none is left (both connections take from
    it, each as soon as it is free); answers the order ids found."""
    found: set[int] = set()
    while True:
        try:
            name, sql = queries.get_nowait()
        except Empty:
            return found
        t = time.perf_counter()
        ids = conn.execute(text(sql), _params(sql, values)).scalars().all()
        timings[name] = round(time.perf_counter() - t, 2)
        timings[name + "#"] = len(ids)
        found.update(ids)


def _may_share(session: Session) -> bool:
    """Whether another connection can read what the session reads: the session's transaction
    has written nothing yet (another connection would not see its writes)."""
    return (
        TWO_CONNECTIONS
        and isinstance(session.get_bind(), Engine)
        and session.scalar(text("SELECT pg_current_xact_id_if_assigned() IS NULL")) is True
    )


def _second_connection(session: Session) -> Any:
    """A connection reading the session's snapshot as of now."""
    snapshot = session.scalar(text("SELECT pg_export_snapshot()"))
    if not re.fullmatch(r"[0-9A-F-]+", snapshot or ""):
        raise RuntimeError(f"unexpected snapshot id {snapshot!r}")
    conn = session.get_bind().connect().execution_options(isolation_level="REPEATABLE READ")
    conn.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
    conn.execute(text("SET LOCAL work_mem = '256MB'"))
    return conn


# The audit entry ``reconcile.audit_changes`` writes for a status change, for the orders that
# are no candidate.
_AUDIT_THE_REST = """
INSERT INTO audit_log
  (at, actor_user_id, actor_role, provider_id, action, entity_type, entity_id, before, after,
   reason)
SELECT :now, :uid, :role, s.provider_id, 'work_order.validate', 'work_orders', s.id,
       jsonb_build_object('status', s.status)::json,
       jsonb_build_object('status', 'verified')::json, 'validation rules'
FROM _vb_scope s
WHERE s.status <> 'verified' AND NOT EXISTS (SELECT 1 FROM _vb_cand c WHERE c.id = s.id)
"""


def prefiltered(
    session: Session,
    start: datetime,
    end: datetime,
    provider_id: int | None,
    actor: Actor,
    configs: dict[str, RuleConfig],
) -> RunStats:
    """The batch on PostgreSQL; see the module's docstring. Answers the same counts as
    ``pipeline.run``."""
    t0 = time.perf_counter()
    timings: dict[str, Any] = {}
    values = _values(start, end, provider_id, configs)
    scope = _scope(provider_id)
    queries = _prefilter_queries(scope, configs)
    share = _may_share(session)
    session.execute(text("SET LOCAL work_mem = '256MB'"))
    session.execute(text("DROP TABLE IF EXISTS _vb_scope"))
    sql = f"CREATE TEMP TABLE _vb_scope AS SELECT o.id, o.provider_id, o.status, o.start_at FROM work_orders o WHERE {scope}"  # noqa: E501, S608  (constants only)
    _exec(session, sql, values)
    # The prefilters only read: on a second connection with a snapshot taken after the scope
    # (so it sees every order of the scope) they run on the other core while this one sets
    # the scope verified (restored below for the candidates).
    second = _second_connection(session) if share else None
    pool = ThreadPoolExecutor(max_workers=1) if second is not None else None
    todo: SimpleQueue = SimpleQueue()
    for query in queries:
        todo.put(query)
    remote_timings: dict[str, Any] = {}
    remote = pool.submit(_run_queries, second, todo, values, remote_timings) if pool else None
    try:
        t = time.perf_counter()
        session.execute(
            text(
                "UPDATE work_orders o SET status = 'verified' FROM _vb_scope s "
                "WHERE o.id = s.id AND s.status <> 'verified'"
            )
        )
        timings["set_verified"] = round(time.perf_counter() - t, 2)
        found: set[int] = set()
        if "PHOTO_REUSED" in configs and configs["PHOTO_REUSED"].enabled:
            t = time.perf_counter()
            bits = float(configs["PHOTO_REUSED"].threshold or 0)
            found.update(_near_photo_ids(session, values, bits).tolist())
            timings["PHOTO_REUSED.near"] = round(time.perf_counter() - t, 2)
        # What the second connection has not taken yet is done here (the scope's statuses
        # changed on this side only: verified is one of the open statuses the scope has).
        found |= _run_queries(session, todo, values, timings)
        if remote is not None:
            t = time.perf_counter()
            found |= remote.result()
            timings["waited_for_second_connection"] = round(time.perf_counter() - t, 2)
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
            second.rollback()
            second.close()
    t1 = time.perf_counter()
    session.execute(text("DROP TABLE IF EXISTS _vb_cand"))
    session.execute(text("CREATE TEMP TABLE _vb_cand (id bigint PRIMARY KEY)"))
    session.execute(
        text(
            "INSERT INTO _vb_cand SELECT DISTINCT s.id FROM unnest(CAST(:ids AS bigint[])) u(id) "
            "JOIN _vb_scope s ON s.id = u.id"
        ),
        {"ids": sorted(found)},
    )
    # Candidates get their status back (the rules decide); the others: their audit entries.
    session.execute(
        text(
            "UPDATE work_orders o SET status = s.status FROM _vb_scope s JOIN _vb_cand c "
            "ON c.id = s.id WHERE o.id = s.id AND s.status <> 'verified'"
        )
    )
    audit = {"now": datetime.now(UTC), "uid": actor.user_id, "role": actor.role.value}
    changed = session.execute(text(_AUDIT_THE_REST), audit).rowcount
    rest = session.scalar(
        text(
            "SELECT count(*) FROM _vb_scope s "
            "WHERE NOT EXISTS (SELECT 1 FROM _vb_cand c WHERE c.id = s.id)"
        )
    )
    for obj in list(session.identity_map.values()):
        if isinstance(obj, WorkOrder | Flag):
            session.expire(obj)
    found_rows = session.execute(
        text(
            "SELECT s.id, s.start_at FROM _vb_scope s JOIN _vb_cand c ON c.id = s.id "
            "ORDER BY s.start_at, s.id"
        )
    ).all()
    t2 = time.perf_counter()
    chunks: list[list[int]] = []
    first = None
    for oid, at in found_rows:
        if not chunks or at - first > CHUNK_SPAN or len(chunks[-1]) >= CHUNK_MAX:
            chunks.append([])
            first = at
        chunks[-1].append(oid)
    total = RunStats(evaluated=rest, verified=rest)
    cache = Cache()
    for chunk in chunks:
        # Loaded chunk by chunk: an earlier chunk may have flagged an order as a partner.
        total.add(run(session, load_orders(session, chunk), {}, {}, configs, cache, actor))
    session.execute(text("DROP TABLE IF EXISTS _vb_scope, _vb_cand"))
    session.flush()
    timings.update(remote_timings)
    LAST_RUN.clear()
    LAST_RUN.update(
        orders=rest + len(found_rows),
        candidates=len(found_rows),
        verified_without_rules=rest,
        status_changed_without_rules=changed,
        two_connections=second is not None,
        seconds={
            "prefilters_and_set_verified": round(t1 - t0, 2),
            "steps": timings,
            "audit_the_rest": round(t2 - t1, 2),
            "rules_on_candidates": round(time.perf_counter() - t2, 2),
        },
    )
    log.info("batch %s..%s: %s", start, end, LAST_RUN)
    return total


def every_order(
    session: Session,
    start: datetime,
    end: datetime,
    provider_id: int | None,
    actor: Actor,
    configs: dict[str, RuleConfig],
) -> RunStats:
    """The batch without prefilters: every open order of the period through the rules."""
    cache = Cache()
    stmt = (
        order_select()
        .where(
            WorkOrder.start_at >= start,
            WorkOrder.start_at < end,
            WorkOrder.status.in_(OPEN_STATUSES),
        )
        .order_by(WorkOrder.start_at, WorkOrder.id)
    )
    if provider_id is not None:
        stmt = stmt.where(WorkOrder.provider_id == provider_id)
    rows = [order_data(r) for r in session.execute(stmt)]
    total = RunStats()
    for i in range(0, len(rows), CHUNK_MAX):
        chunk = {o.id: o for o in rows[i : i + CHUNK_MAX]}
        total.add(run(session, chunk, {}, {}, configs, cache, actor))
        session.flush()
    return total


def prefilters_naming(
    session: Session, start: datetime, end: datetime, order_id: int, configs: dict[str, RuleConfig]
) -> set[str]:
    """The rules whose prefilters name an order of [start, end) as a candidate (a statement
    serving two rules names both): why the batch put it through the rules."""
    values = _values(start, end, None, configs)
    scope = _scope(None)
    named = set()
    for code, expr in pf.PER_ORDER.items():
        sql = f"SELECT o.id {pf.PER_ORDER_FROM} WHERE {scope} AND {expr}"
        if order_id in _exec(session, sql, values).scalars().all():
            named.add(code)
    for codes, sql in pf.CROSS:
        if order_id in _exec(session, sql, values).scalars().all():
            named.update(codes)
    max_bits = float(configs["PHOTO_REUSED"].threshold or 0)
    if order_id in _near_photo_ids(session, values, max_bits).tolist():
        named.add("PHOTO_REUSED")
    return named
