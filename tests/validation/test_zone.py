"""One time zone: with CAREDISPATCH_TIMEZONE=Asia/Urumqi the rules and the approval check agree.

Asia/Urumqi is UTC+6, two hours behind Asia/Shanghai. An order at 23:30 local on 31 October is
17:30 UTC, which is already 01:30 on 1 November in Shanghai: judged in the wrong zone it would
fall into November.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from dispatch import config
from dispatch.models import Flag
from dispatch.validation.engine import validate_orders, validate_period
from tests.factories import Builder

URUMQI = ZoneInfo("Asia/Urumqi")


@pytest.fixture
def urumqi() -> Iterator[None]:
    before = config.current()
    config.use(dataclasses.replace(before, timezone="Asia/Urumqi"))
    try:
        yield
    finally:
        config.use(before)


def test_month_boundary_is_the_same_for_the_rule_and_the_approval(
    urumqi: None, b: Builder, client: Any, db: Any
) -> None:
    w = b.world
    w.p1.client.monthly_entitlement_min = 60
    # 45 minutes on 10 October, and 45 minutes at 23:30 on 31 October (Urumqi): 90 > 60 in
    # October. In Shanghai's calendar the second would be alone in November (45 <= 60).
    early = b.order(start=datetime(2026, 10, 10, 10, 0, tzinfo=URUMQI), validate=False)
    late = b.order(start=datetime(2026, 10, 31, 23, 30, tzinfo=URUMQI), validate=False)
    assert late.start_at.astimezone(ZoneInfo("Asia/Shanghai")).month == 11

    # The batch (PostgreSQL prefilters, month windows in SQL) finds it ...
    validate_period(db, datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC))
    assert b.codes(early) == set()
    assert b.codes(late) == {"OVER_ENTITLEMENT"}
    flag = b.flags(late)["OVER_ENTITLEMENT"]
    assert flag.evidence["month"] == "2026-10"
    assert (flag.evidence["minutes_before"], flag.evidence["month_total_min"]) == (45, 90)
    # ... and so does the incremental path.
    validate_orders(db, [late.id])
    assert b.codes(late) == {"OVER_ENTITLEMENT"}
    db.commit()

    # Finance: the order's month is October for the approval check too.
    fin = w.headers(w.finance)
    shown = client.get(f"/api/v1/work-orders/{late.id}", headers=fin)
    assert shown.status_code == 200, shown.json
    assert shown.json["entitlement"]["month"] == "2026-10"
    r = client.post(
        f"/api/v1/work-orders/{early.id}/decision",
        headers=fin,
        json={"decision": "approve", "reason": "checked"},
    )
    assert r.status_code == 200, r.json
    # 45 approved in October + 45 = 90 > 60: refused although the rule's flag is overridden.
    flag_id = db.scalar(select(Flag.id).where(Flag.work_order_id == late.id))
    r = client.post(
        f"/api/v1/work-orders/{late.id}/decision",
        headers=fin,
        json={"decision": "approve", "reason": "checked", "override_flags": [flag_id]},
    )
    assert r.status_code == 409, r.json
    assert r.json["code"] == "OVER_ENTITLEMENT"
    assert "90 approved minutes" in r.json["message"]
