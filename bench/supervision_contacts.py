"""The five-colour overdue-contacts list over N elders on PostgreSQL (target < 2 s).

    .venv/bin/python bench/supervision_contacts.py [--elders 100000] [--orders 1000000]

Creates its own PostgreSQL database with the supervision world (bench/_supervision_world.py:
the elders in five classes, a month of work orders, recorded contacts over half a year), then
times ``five_colour.overdue`` as the district supervisor on the month's last day (the API's
first page of 50, ``--runs`` times, the first cold; and the whole list once), the same for one
street, and the compliance per street. Prints JSON (with the load average) and a one-line
summary.
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

from dispatch.services import five_colour

ON = date(2026, 11, 30)


def main() -> None:
    args = arguments(__doc__)
    with world(f"cd_supcon_{os.getpid()}", args, visits=args.orders) as w:
        session, district, street = w.session, w.district, w.street
        load_before = load()
        started = datetime.now(UTC)
        t_all, (rows, total) = timed(
            args.runs, lambda: five_colour.overdue(session, district, ON, page_size=50)
        )
        t_one, (_, one) = timed(
            args.runs, lambda: five_colour.overdue(session, street, ON, page_size=50)
        )
        t_full, (every, _) = timed(1, lambda: five_colour.overdue(session, district, ON))
        t_rate, rates = timed(1, lambda: five_colour.compliance(session, district, ON))
        load_after = load()
        by_class: dict[str, int] = {}
        for r in every:
            by_class[r["frequency"].value] = by_class.get(r["frequency"].value, 0) + 1
        out = {
            "started_utc": started.strftime("%Y-%m-%d %H:%M:%S"),
            "load_average_before_after": [load_before, load_after],
            "rows": w.counts,
            "seconds": {
                "build": w.build_s,
                "overdue_district_first_page": t_all,
                "overdue_one_street_first_page": t_one,
                "overdue_district_whole_list": t_full,
                "compliance_per_street": t_rate,
            },
            "median_overdue_district_s": statistics.median(t_all),
            "target_s": 2.0,
            "overdue": total,
            "overdue_by_class": by_class,
            "overdue_one_street": one,
            "first_page_rows": len(rows),
            "streets": len(rates),
        }
        print(json.dumps(out, indent=1, default=str))
        print(
            f"overdue contacts: {w.counts['clients']} elders, {total} overdue on {ON}: first page "
            f"{statistics.median(t_all):.2f} s (runs {t_all}), whole list {t_full[0]:.2f} s; "
            f"one street {statistics.median(t_one):.2f} s; compliance per street "
            f"{t_rate[0]:.2f} s; target < 2 s; load {load_before}->{load_after}"
        )


if __name__ == "__main__":
    main()
