"""Validation evaluation: a seeded month with injected anomalies of every rule, run in batch.

    .venv/bin/python bench/validation_eval.py [--caregivers 200] [--days 30] [--per-rule 25]

Creates its own PostgreSQL database, loads the month (honest routes plus injected anomalies),
runs ``validate_period`` over it, and prints per-rule recall on the injected cases and the
false-positive rate on the honest orders (JSON, then a one-line summary). Honest orders exclude
the injected ones and their partners: the other order of an injected OVERLAP, DUPLICATE,
IMPOSSIBLE_TRAVEL or repeated-coordinates pair, which pairwise rules flag by design; an honest
order held only by pairwise flags that name an injected order is reported as collateral.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _validation_world import INJECTED_CODES, copy_rows, create_database, generate, release_database
from sqlalchemy import select

from dispatch import config, db
from dispatch.models import Flag, WorkOrder
from dispatch.validation.engine import validate_period

ADMIN = os.environ.get(
    "BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--caregivers", type=int, default=200)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--per-rule", type=int, default=25)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = ap.parse_args()
    name = f"cd_valeval_{os.getpid()}"
    t0 = time.perf_counter()
    world = generate(
        caregivers=args.caregivers, days=args.days, per_rule=args.per_rule, seed=args.seed
    )
    t_gen = time.perf_counter() - t0
    url = create_database(ADMIN, name)
    try:
        copy_rows(url, world)
        t_load = time.perf_counter() - t0 - t_gen
        config.use(config.Settings(database_url=url, secret_key="bench" * 10))
        db.configure(url)
        session = db.Session()
        t1 = time.perf_counter()
        stats = validate_period(
            session, datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
        )
        session.commit()
        t_batch = time.perf_counter() - t1
        flags = session.execute(
            select(Flag.work_order_id, Flag.code, Flag.severity, Flag.other_work_order_id).where(
                Flag.status == "open"
            )
        ).all()
        n_orders = session.scalar(select(WorkOrder.id).order_by(WorkOrder.id.desc()).limit(1))
        by_order: dict[int, set[str]] = {}
        holding: set[int] = set()
        # Held only by pairwise flags naming an injected order: collateral, not a false positive.
        unexplained: set[int] = set()
        for oid, code, sev, other in flags:
            by_order.setdefault(oid, set()).add(code)
            if str(getattr(sev, "value", sev)) in ("block", "review"):
                holding.add(oid)
                if not (other and other in world.touched):
                    unexplained.add(oid)
        recall = {}
        for code in INJECTED_CODES:
            cases = [oid for oid, c in world.injected if c == code]
            hit = sum(1 for oid in cases if code in by_order.get(oid, set()))
            recall[code] = {
                "injected": len(cases),
                "flagged": hit,
                "recall": round(hit / len(cases), 4) if cases else None,
            }
        honest = [o["id"] for o in world.rows["work_orders"] if o["id"] not in world.touched]
        fp = [oid for oid in honest if oid in unexplained]
        collateral = [oid for oid in honest if oid in holding and oid not in unexplained]
        fp_codes = Counter(c for oid in fp for c in by_order[oid])
        info = Counter(c for oid in honest for c in by_order.get(oid, ()))
        examples = [
            {"work_order_id": f.work_order_id, "code": f.code, "evidence": f.evidence}
            for f in session.scalars(
                select(Flag).where(Flag.work_order_id.in_(fp[:5]), Flag.status == "open")
            )
        ]
        out = {
            "orders": n_orders,
            "honest_orders": len(honest),
            "injected_cases": len(world.injected),
            "partners": len(world.partners),
            "recall": recall,
            "collateral_of_injected_pairs": len(collateral),
            "false_positives": len(fp),
            "false_positive_rate": round(len(fp) / len(honest), 5),
            "false_positive_codes": dict(fp_codes),
            "false_positive_examples": examples,
            "honest_flags_any_severity": dict(info),
            "seconds": {
                "generate": round(t_gen, 1),
                "load": round(t_load, 1),
                "batch": round(t_batch, 1),
            },
            "batch": stats.as_dict(),
        }
        print(json.dumps(out, indent=1, default=str))
        worst = min((r["recall"] for r in recall.values() if r["recall"] is not None), default=None)
        print(
            f"validation eval: {n_orders} orders, {len(world.injected)} injected over "
            f"{len(recall)} rules, min recall {worst}, false positives {len(fp)}/{len(honest)} = "
            f"{100 * len(fp) / len(honest):.3f} %, batch {t_batch:.1f} s"
        )
        session.close()
    finally:
        release_database(ADMIN, name, keep=args.keep)


if __name__ == "__main__":
    main()
