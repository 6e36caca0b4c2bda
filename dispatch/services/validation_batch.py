"""The batch over a period on PostgreSQL: set-based prefilters, then the Python rules on the few.

``validate_period`` re-evaluates every open order of a period. Running the Python rules with a
loaded context on each of a million orders costs minutes; instead:

1. the period's open orders go into a temporary table (the scope);
2. every enabled rule's prefilter (``dispatch.rules.prefilter``: SQL over the whole period,
   plus a numpy pass for near-identical photos) puts the orders it *may* flag into a second
   temporary table, the candidates; so does every order an open flag is on or names, because
   its flags must be re-judged (kept, updated or closed with the reason);
3. the scope's other orders hold no finding and no open flag: one UPDATE sets them
   ``verified`` and writes their audit entries, exactly what the per-order pipeline would do;
4. the candidates go through the same pipeline as the incremental path (``_run``: context,
   every rule, reconciliation, statuses, audit), in chunks of at most a day of start times so
   that each chunk's context stays the few days around it.

The prefilters are supersets, so the flags are those of evaluating every order; the tests in
``tests/rules/test_batch.py`` compare batch and incremental at each rule's threshold edge.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from dispatch.models import Flag, WorkOrder
from dispatch.rules import RULES, RuleConfig
from dispatch.rules import prefilter as pf
from dispatch.rules.data import PHOTO_HORIZON
from dispatch.tenancy import Actor

if TYPE_CHECKING:
    from dispatch.services.validation import RunStats

log = logging.getLogger(__name__)

# Candidates evaluated together: a chunk spans at most a day of start times (its context is the
# people's and clients' orders around that day), and at most this many orders.
CHUNK_SPAN = timedelta(hours=24)
CHUNK_MAX = 20_000
# Cross-order prefilters look this far around the period (neighbours, local days).
MARGIN = timedelta(days=2)
OPEN = "('submitted', 'flagged', 'verified')"
# The last run's counts and seconds per step, for the benchmark and the logs.
LAST_RUN: dict[str, Any] = {}
DEBUG_COUNTS = True


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


def candidates(
    session: Session,
    start: datetime,
    end: datetime,
    provider_id: int | None,
    configs: dict[str, RuleConfig],
) -> dict[str, float]:
    """Fill ``_vb_scope`` (the period's open orders) and ``_vb_cand`` (those that may hold a
    finding or have open flags); answers seconds per step."""
    from dispatch.services.validation import _month_bounds
    from routing import GeodesicTravel

    timings: dict[str, float] = {}
    travel = GeodesicTravel()
    values: dict[str, Any] = {
        "lo": start,
        "hi": end,
        "provider": provider_id,
        "ulo": start - MARGIN,
        "uhi": end + MARGIN,
        "mlo": _month_bounds(start)[1],
        "mhi": _month_bounds(end)[2],
        "detour": float(travel.detour_factor),
        "speed_walk": float(travel.speeds_mps["walk"]),
        "speed_ebike": float(travel.speeds_mps["ebike"]),
        "speed_car": float(travel.speeds_mps["car"]),
    }
    for code, cfg in configs.items():
        if cfg.threshold is not None:
            values[f"t_{code}"] = float(cfg.threshold)
    values["t_GPS_POOR"] = float(configs["GPS_POOR"].threshold or 150.0)
    scope = f"o.start_at >= :lo AND o.start_at < :hi AND o.status IN {OPEN}"
    if provider_id is not None:
        scope += " AND o.provider_id = :provider"

    def step(name: str, sql: str) -> None:
        t = time.perf_counter()
        res = _exec(session, sql, values)
        timings[name] = round(time.perf_counter() - t, 3)
        if DEBUG_COUNTS:
            timings[name + "#"] = res.rowcount

    session.execute(text("SET LOCAL work_mem = '256MB'"))
    session.execute(text("DROP TABLE IF EXISTS _vb_scope, _vb_cand"))
    sql = f"CREATE TEMP TABLE _vb_scope AS SELECT o.id, o.status, o.start_at FROM work_orders o WHERE {scope}"  # noqa: E501, S608  (constants only)
    step("scope", sql)
    session.execute(text("CREATE TEMP TABLE _vb_cand (id bigint NOT NULL)"))
    enabled = [code for code, cfg in configs.items() if cfg.enabled and code in RULES]
    unknown = [c for c in enabled if c not in pf.PER_ORDER and c not in pf.CROSS]
    if unknown:  # a rule without a prefilter: every order may hold it
        step("all", "INSERT INTO _vb_cand SELECT id FROM _vb_scope")
    per_order = [pf.PER_ORDER[c] for c in enabled if c in pf.PER_ORDER]
    if per_order:
        step(
            "per_order",
            f"INSERT INTO _vb_cand SELECT o.id {pf.PER_ORDER_FROM} WHERE {scope} AND ("
            + "\n OR ".join(per_order)
            + ")",
        )
    for code in enabled:
        for i, sql in enumerate(pf.CROSS.get(code, ())):
            step(f"{code}.{i}", f"INSERT INTO _vb_cand SELECT id FROM ({sql}) q")  # noqa: S608
    if "PHOTO_REUSED" in enabled:
        t = time.perf_counter()
        ids = _near_photo_ids(session, values, float(configs["PHOTO_REUSED"].threshold or 0))
        if ids.size:
            session.execute(
                text("INSERT INTO _vb_cand SELECT unnest(CAST(:ids AS bigint[]))"),
                {"ids": ids.tolist()},
            )
        timings["PHOTO_REUSED.near"] = round(time.perf_counter() - t, 3)
    step(
        "open_flags",
        "INSERT INTO _vb_cand SELECT work_order_id FROM flags WHERE status = 'open' "
        "UNION ALL SELECT other_work_order_id FROM flags "
        "WHERE status = 'open' AND other_work_order_id <> 0",
    )
    session.execute(text("ANALYZE _vb_scope"))
    session.execute(text("ANALYZE _vb_cand"))
    return timings


def verify_the_rest(session: Session, actor: Actor, now: datetime) -> tuple[int, int]:
    """Scope orders that are no candidate hold nothing: set them verified, audited like
    ``_run`` does. Answers (how many such orders, how many changed status)."""
    rest = session.scalar(
        text(
            "SELECT count(*) FROM _vb_scope s "
            "WHERE NOT EXISTS (SELECT 1 FROM _vb_cand c WHERE c.id = s.id)"
        )
    )
    changed = session.scalar(
        text(
            """
WITH upd AS (
  UPDATE work_orders o SET status = 'verified'
  FROM _vb_scope s
  WHERE o.id = s.id AND o.status <> 'verified'
    AND NOT EXISTS (SELECT 1 FROM _vb_cand c WHERE c.id = s.id)
  RETURNING o.id, o.provider_id, s.status AS old
), ins AS (
  INSERT INTO audit_log
    (at, actor_user_id, actor_role, provider_id, action, entity_type, entity_id, before, after,
     reason)
  SELECT :now, :uid, :role, provider_id, 'work_order.validate', 'work_orders', id,
         jsonb_build_object('status', old)::json, jsonb_build_object('status', 'verified')::json,
         'validation rules'
  FROM upd
  RETURNING 1
)
SELECT count(*) FROM ins
"""
        ),
        {"now": now, "uid": actor.user_id, "role": actor.role.value},
    )
    for obj in list(session.identity_map.values()):
        if isinstance(obj, WorkOrder | Flag):
            session.expire(obj)
    return int(rest or 0), int(changed or 0)


def run_period(
    session: Session,
    start: datetime,
    end: datetime,
    provider_id: int | None,
    actor: Actor,
    configs: dict[str, RuleConfig],
) -> RunStats:
    from datetime import UTC

    from dispatch.services.validation import RunStats, _Cache, _load_targets, _run

    t0 = time.perf_counter()
    timings = candidates(session, start, end, provider_id, configs)
    found = session.execute(
        text(
            "SELECT s.id, s.start_at FROM _vb_scope s "
            "WHERE EXISTS (SELECT 1 FROM _vb_cand c WHERE c.id = s.id) ORDER BY s.start_at, s.id"
        )
    ).all()
    t1 = time.perf_counter()
    rest, changed = verify_the_rest(session, actor, datetime.now(UTC))
    t2 = time.perf_counter()
    chunks: list[list[int]] = []
    first = None
    for oid, at in found:
        if not chunks or at - first > CHUNK_SPAN or len(chunks[-1]) >= CHUNK_MAX:
            chunks.append([])
            first = at
        chunks[-1].append(oid)
    total = RunStats(evaluated=rest, verified=rest)
    cache = _Cache()
    for chunk in chunks:
        # Loaded chunk by chunk: an earlier chunk may have flagged an order as a partner.
        targets = _load_targets(session, chunk)
        total.add(_run(session, targets, {}, {}, configs, cache, actor))
    session.execute(text("DROP TABLE IF EXISTS _vb_scope, _vb_cand"))
    session.flush()
    LAST_RUN.clear()
    LAST_RUN.update(
        orders=rest + len(found),
        candidates=len(found),
        verified_without_rules=rest,
        status_changed_without_rules=changed,
        seconds={
            "prefilters": round(t1 - t0, 2),
            "prefilter_steps": timings,
            "verify_rest": round(t2 - t1, 2),
            "rules_on_candidates": round(time.perf_counter() - t2, 2),
        },
    )
    log.info(
        "batch %s..%s: %s orders, %s candidates, %s verified without rules (%s changed); "
        "prefilters %.1f s %s, rest %.1f s, rules %.1f s",
        start,
        end,
        rest + len(found),
        len(found),
        rest,
        changed,
        t1 - t0,
        timings,
        t2 - t1,
        time.perf_counter() - t2,
    )
    return total
