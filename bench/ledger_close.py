"""The allowance ledger's month close for many elders on PostgreSQL (target: 100,000 in < 30 s).

    .venv/bin/python bench/ledger_close.py [--elders 100000 --expiring-share 0.3]

Creates a PostgreSQL database (dropped at the end), migrates it, and writes a realistic ledger
with set-based SQL: N elders with an account each, two schemes (carry-over 2 months and 0),
grants for the two months before this one, a debit (with co-payment for some) in each, a few
credits. Then times ``dispatch.services.ledger.close_month`` for last month (expiries, the
balance update, the month's totals) in one transaction, checks afterwards that every balance
equals its ledger sum and none is negative, and prints one JSON document and a one-line summary.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from dispatch.db import utcnow  # noqa: E402
from dispatch.models import AllowanceAccount, AllowanceEntry, Role  # noqa: E402
from dispatch.services import ledger  # noqa: E402
from dispatch.services.entitlements import month_of  # noqa: E402
from dispatch.tenancy import Actor  # noqa: E402

ADMIN_URL = os.environ.get(
    "BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def create_database() -> str:
    name = f"bench_ledger_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


SEED_SQL = [
    "INSERT INTO providers (code, name, district, timezone, active, created_at) "
    "VALUES ('BENCH', '压测服务中心', '义乌市', 'Asia/Shanghai', true, now())",
    "INSERT INTO allowance_schemes (name, age_min, age_max, monthly_amount_fen, meal_subsidy_fen,"
    " services, carry_over_months, active, created_at) VALUES "
    "('高龄 80-89', 80, 89, 6000, 300, '[\"CLEAN\"]', 2, true, now()),"
    "('低保', NULL, NULL, 20000, 500, '[\"CLEAN\"]', 0, true, now())",
    # clients and their accounts
    "INSERT INTO clients (provider_id, code, name, address, lat, lon, care_level, funding_source,"
    " active, created_at) SELECT 1, 'E' || g, '老人' || g, '义乌市', 29.3, 120.07, 2, "
    "'allowance', true, now() FROM generate_series(1, :n) g",
    "INSERT INTO allowance_accounts (client_id, provider_id, hardship, balance_fen, created_at) "
    "SELECT id, 1, CASE WHEN id % 10 < :hard THEN '低保' END, 0, now() FROM clients",
]


def seed(url: str, elders: int, expiring_share: float, months: list[date]) -> dict[str, int]:
    """Grants, debits with co-payments and credits for ``months``, balances kept in step."""
    engine = create_engine(url)
    hard = round(expiring_share * 10)
    with engine.begin() as conn:
        for sql in SEED_SQL:
            conn.execute(text(sql), {"n": elders, "hard": hard})
        for i, month in enumerate(months):
            m = {
                "m": month,
                "keep": ledger.add_months(month, 2),
                "now": ledger.add_months(month, 0),
            }
            # every elder: the 80-89 grant (60.00, carry-over 2); the 低保 ones also 200.00 (0)
            conn.execute(
                text(
                    "INSERT INTO allowance_entries (account_id, month, kind, amount_fen, copay_fen,"
                    " scheme_id, expires_after, balance_after_fen, note, created_at) "
                    "SELECT id, :m, 'grant', 6000, 0, 1, :keep, 0, 'bench', now() "
                    "FROM allowance_accounts"
                ),
                m,
            )
            conn.execute(
                text(
                    "INSERT INTO allowance_entries (account_id, month, kind, amount_fen, copay_fen,"
                    " scheme_id, expires_after, balance_after_fen, note, created_at) "
                    "SELECT id, :m, 'grant', 20000, 0, 2, :m, 0, 'bench', now() "
                    "FROM allowance_accounts WHERE hardship IS NOT NULL"
                ),
                m,
            )
            # a debit: a third of the elders spend 45.00 of it, some owe a co-payment
            conn.execute(
                text(
                    "INSERT INTO allowance_entries (account_id, month, kind, amount_fen, copay_fen,"
                    " order_amount_fen, balance_after_fen, note, created_at) "
                    "SELECT id, :m, 'debit', -4500, CASE WHEN id % 7 = 0 THEN 1500 ELSE 0 END,"
                    " CASE WHEN id % 7 = 0 THEN 6000 ELSE 4500 END, 0, 'bench', now() "
                    "FROM allowance_accounts WHERE id % 3 = :i"
                ),
                {**m, "i": i % 3},
            )
        conn.execute(
            text(
                "UPDATE allowance_accounts a SET balance_fen = s.total FROM (SELECT account_id,"
                " sum(amount_fen) AS total FROM allowance_entries GROUP BY account_id) s "
                "WHERE a.id = s.account_id"
            )
        )
        entries = conn.execute(text("SELECT count(*) FROM allowance_entries")).scalar_one()
        accounts = conn.execute(text("SELECT count(*) FROM allowance_accounts")).scalar_one()
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return {"accounts": int(accounts), "entries": int(entries)}


def check(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with Session(engine) as session:
        sums = (
            select(AllowanceEntry.account_id, func.sum(AllowanceEntry.amount_fen).label("s"))
            .group_by(AllowanceEntry.account_id)
            .subquery()
        )
        wrong = session.scalar(
            select(func.count())
            .select_from(AllowanceAccount)
            .join(sums, sums.c.account_id == AllowanceAccount.id)
            .where(sums.c.s != AllowanceAccount.balance_fen)
        )
        negative = session.scalar(
            select(func.count())
            .select_from(AllowanceAccount)
            .where(AllowanceAccount.balance_fen < 0)
        )
    engine.dispose()
    return {"balances_not_ledger_sum": int(wrong or 0), "negative_balances": int(negative or 0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elders", type=int, default=100_000)
    parser.add_argument("--expiring-share", type=float, default=0.3)
    args = parser.parse_args()
    this = month_of(utcnow())
    last, before = ledger.add_months(this, -1), ledger.add_months(this, -2)
    url = create_database()
    try:
        cfg = Config(str(ROOT / "alembic.ini"))
        cfg.set_main_option("script_location", str(ROOT / "migrations"))
        cfg.attributes["url"] = url
        cfg.attributes["configure_logging"] = False
        command.upgrade(cfg, "head")
        t0 = time.perf_counter()
        sizes = seed(url, args.elders, args.expiring_share, [before, last])
        seeded_s = time.perf_counter() - t0
        engine = create_engine(url)
        actor = Actor(user_id=None, role=Role.finance)
        timings = {}
        with Session(engine) as session:
            # the month before is closed first (months close in order), then last month
            for name, month in (("close_before_s", before), ("close_last_s", last)):
                t0 = time.perf_counter()
                closed = ledger.close_month(session, actor, month)
                session.commit()
                timings[name] = round(time.perf_counter() - t0, 2)
                timings[name.replace("_s", "_expired_accounts")] = session.scalar(
                    select(func.count()).where(
                        AllowanceEntry.month == month, AllowanceEntry.kind == "expiry"
                    )
                )
                timings[name.replace("_s", "_expired_fen")] = closed.expired_fen
        engine.dispose()
        result = {
            "bench": "ledger_close",
            "elders": args.elders,
            **sizes,
            "seed_s": round(seeded_s, 2),
            **timings,
            **check(url),
            "target_s": 30,
            "load": os.getloadavg(),
        }
    finally:
        drop_database(url)
    print(json.dumps(result, indent=2, default=str))
    print(
        f"ledger close: {args.elders:,} elders, {result['entries']:,} entries: "
        f"{result['close_last_s']} s for {last:%Y-%m} (target < 30 s), "
        f"{result['balances_not_ledger_sum']} balances off their ledger sum, "
        f"load {result['load'][0]:.1f}"
    )


if __name__ == "__main__":
    main()
