"""The bureau's figures by street for a month of N work orders on PostgreSQL (target < 5 s).

    .venv/bin/python bench/supervision_figures.py [--orders 1000000] [--elders 100000] [--runs 3]

Creates its own PostgreSQL database, generates the month inside it (bench/_supervision_world.py:
one district, 14 streets, 10 providers, flags, appeals, billing, call-backs, ratings,
complaints, calls, certificates), then times ``figures.figures`` by street as the district
supervisor (every street), by provider, and as a street supervisor, ``--runs`` times each (the
first run is cold). Checks that the totals equal the funnel of the same period and area. Prints
JSON (with the load average) and a one-line summary.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _supervision_world import arguments, load, timed, world

from dispatch.services import figures, reports

FROM, TO = date(2026, 11, 1), date(2026, 11, 30)
FUNNEL = ("generated", "normal", "abnormal", "appealed", "not_billed", "billed")


def main() -> None:
    args = arguments(__doc__)
    # Visits of which 1/50 are missed and 1/97 cancelled produce no order.
    visits = round(args.orders / (1 - 1 / 50 - 1 / 97 + 1 / 4850))
    with world(f"cd_supfig_{os.getpid()}", args, visits=visits) as w:
        session, district, street = w.session, w.district, w.street
        load_before = load()
        started = datetime.now(UTC)
        t_street, by_street = timed(
            args.runs, lambda: figures.figures(session, district, FROM, TO, "street")
        )
        t_provider, by_provider = timed(
            args.runs, lambda: figures.figures(session, district, FROM, TO, "provider")
        )
        t_one, one_street = timed(
            args.runs, lambda: figures.figures(session, street, FROM, TO, "street")
        )
        t_funnel, funnel = timed(1, lambda: reports.funnel(session, district, FROM, TO))
        funnel_one = reports.funnel(session, street, FROM, TO)
        load_after = load()
        equal = all(
            by_street["totals"][k] == funnel[k] == by_provider["totals"][k] for k in FUNNEL
        ) and all(one_street["totals"][k] == funnel_one[k] for k in FUNNEL)
        shown = (*FUNNEL, "elders_served", "calls", "complaints_open", "satisfaction")
        out = {
            "started_utc": started.strftime("%Y-%m-%d %H:%M:%S"),
            "load_average_before_after": [load_before, load_after],
            "rows": w.counts,
            "seconds": {
                "build": w.build_s,
                "figures_by_street_district": t_street,
                "figures_by_provider_district": t_provider,
                "figures_by_street_one_street": t_one,
                "funnel_district": t_funnel,
            },
            "median_by_street_s": statistics.median(t_street),
            "target_s": 5.0,
            "streets": len(by_street["rows"]),
            "totals": {k: by_street["totals"][k] for k in shown},
            "totals_equal_funnel": equal,
        }
        print(json.dumps(out, indent=1, default=str))
        print(
            f"supervision figures: {w.counts['work_orders']} orders, {len(by_street['rows'])} "
            f"streets: by street {statistics.median(t_street):.2f} s (runs {t_street}), by "
            f"provider {statistics.median(t_provider):.2f} s, one street "
            f"{statistics.median(t_one):.2f} s; target < 5 s; totals equal the funnel: {equal}; "
            f"load {load_before}->{load_after}"
        )


if __name__ == "__main__":
    main()
