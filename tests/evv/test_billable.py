"""Billable minutes: a check-out and a timesheet row for the same service and times agree.

CLEAN is planned at 60 minutes (the visit's duration is the service's default), so with the
LONG_VISIT threshold at its default 1.5 the cap is round(60 x 1.5) = 90 minutes.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from dispatch.models import WorkOrder
from tests.evv.conftest import DAY, Evv, at
from tests.money.conftest import csv_file, upload


def checked_out_minutes(evv: Evv, start: datetime, end: datetime) -> int:
    visit = evv.visit(service="CLEAN")
    assert evv.post(visit.id, "check-in", evv.event(visit, when=start)).status_code == 201
    r = evv.post(visit.id, "check-out", evv.event(visit, when=end))
    assert r.status_code == 201, r.json
    return evv.world.db.get(WorkOrder, r.json["work_order_id"]).billable_min


def uploaded_minutes(evv: Evv, ext: str, start: str, end: str) -> int:
    w = evv.world
    day = f"{DAY.year}/{DAY.month}/{DAY.day}"
    row = [ext, w.p1.caregiver.code, w.p1.client.code, "CLEAN", f"{day} {start}", f"{day} {end}"]
    r = upload(evv.client, w.headers(w.p1.provider_admin), csv_file([[*row, ""]]))
    assert r.status_code == 201, r.json
    return w.db.get(WorkOrder, r.json["work_order_ids"][0]).billable_min


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ((9, 0), (10, 1), 61),  # under the cap: the actual 61 minutes
        ((9, 0), (10, 30), 90),  # exactly at the cap: 90 actual = 60 x 1.5
        ((9, 0), (10, 31), 90),  # one minute past: 91 actual, capped at 90
        ((9, 0), (12, 0), 90),  # far past: 180 actual, capped at 90
    ],
)
def test_check_out_and_timesheet_row_bill_the_same_minutes(
    evv: Evv, start: tuple[int, int], end: tuple[int, int], expected: int
) -> None:
    app = checked_out_minutes(evv, at(*start), at(*end))
    # The timesheet row for the same caregiver, client, service and local times (Asia/Shanghai).
    sheet = uploaded_minutes(evv, "T-1", "{}:{:02d}".format(*start), "{}:{:02d}".format(*end))
    assert app == sheet == expected


def test_the_cap_follows_the_long_visit_threshold_in_force(evv: Evv) -> None:
    w = evv.world
    r = evv.client.patch(
        "/api/v1/rules/LONG_VISIT",
        json={"threshold": 2.0, "reason": "longer cleaning allowed"},
        headers=w.headers(w.admin),
    )
    assert r.status_code == 200, r.json
    # 180 actual minutes, cap round(60 x 2.0) = 120 for both.
    assert checked_out_minutes(evv, at(9, 0), at(12, 0)) == 120
    assert uploaded_minutes(evv, "T-2", "9:00", "12:00") == 120
