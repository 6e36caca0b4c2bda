"""Figures by street and provider: totals equal the funnel of the same period and area; the
staffing shares on a hand-worked example; the scorecard and the spreadsheets."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

from openpyxl import load_workbook
from sqlalchemy import select

from dispatch.models import (
    Call,
    Callback,
    CallbackStatus,
    CallKind,
    CallSource,
    CallStatus,
    CaregiverGrade,
    Certificate,
    Complaint,
    ComplaintStatus,
    Rating,
    TookPlace,
    Visit,
    WorkOrderStatus,
)
from dispatch.services.staffing import Staff, shares
from tests.factories import T0

API = "/api/v1"
PERIOD = "from=2026-11-01&to=2026-11-30"
FUNNEL = ("generated", "normal", "abnormal", "appealed", "not_billed", "billed")


def test_staffing_shares_on_a_hand_worked_example():
    # 3 certified caregivers for 1,000 elders: 3 × 10,000 / 1,000 = 30.0 ≥ 28 (met);
    # 1 of them senior: 1 / 3 = 0.3333 ≥ 0.18 (met); 2 with first aid: 2 / 3 = 0.6667 < 0.70.
    got = shares(Staff(certified=3, senior=1, first_aid=2), elders_served=1000)
    assert got["certified_per_10k"] == Decimal("30.0")
    assert got["senior_share"] == Decimal("0.3333")
    assert got["first_aid_share"] == Decimal("0.6667")
    assert got["certified_per_10k_met"] is True
    assert got["senior_share_met"] is True
    assert got["first_aid_share_met"] is False
    # 2 certified for 1,000 elders: 20.0 < 28; no elders or nobody certified: cannot tell.
    assert shares(Staff(2, 0, 2), 1000)["certified_per_10k_met"] is False
    assert shares(Staff(2, 0, 2), 0)["certified_per_10k"] is None
    assert shares(Staff(0, 0, 0), 10)["senior_share"] is None


def _world(area, b, db):
    """Orders on 稠城 (p1, p2) and 江东 (p1), one abnormal, one billed; staff with grades."""
    w = area.world
    first = b.order()  # p1 稠城, verified
    b.order(start=T0 + timedelta(days=1), checkin={"north_m": 900})  # GEOFENCE_IN: abnormal
    b.order(client=area.jiang_client, caregiver=area.jiang_caregiver)
    billed = b.order(start=T0 + timedelta(days=2), caregiver=w.p2.caregiver, client=w.p2.client)
    billed.status = WorkOrderStatus.billed
    billed.billing_amount = Decimal("30.00")
    b.order(start=T0 - timedelta(days=40))  # October: outside the period
    cg = w.p1.caregiver
    cg.grade = CaregiverGrade.senior
    db.add_all(
        [
            Certificate(
                caregiver_id=cg.id, kind="养老护理员证（高级）", expires_on=date(2030, 1, 1)
            ),
            Certificate(caregiver_id=cg.id, kind="红十字救护员证", expires_on=date(2030, 1, 1)),
            Certificate(
                caregiver_id=area.jiang_caregiver.id,
                kind="养老护理员证（初级）",
                expires_on=date(2026, 11, 29),  # lapsed before the period's last day
            ),
        ]
    )
    db.commit()
    return first


def _get(client, headers, query):
    r = client.get(f"{API}/{query}", headers=headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_totals_over_streets_equal_the_funnel_of_the_same_area(client, area, b, db):
    _world(area, b, db)
    for sup in (area.street_sup, area.district_sup, area.world.finance):
        h = area.h(sup)
        funnel = _get(client, h, f"reports/funnel?{PERIOD}")
        for group_by in ("street", "provider"):
            got = _get(client, h, f"supervision/figures?{PERIOD}&group_by={group_by}")
            for name in FUNNEL:
                assert got["totals"][name] == funnel[name], (sup.username, group_by, name)
                assert sum(r[name] for r in got["rows"]) == funnel[name]
            assert Decimal(got["totals"]["billed_hours"]) == Decimal(funnel["billed_hours"])
    street = _get(client, area.h(area.street_sup), f"supervision/figures?{PERIOD}")
    assert [r["key"] for r in street["rows"]] == ["稠城街道"]
    assert street["totals"]["generated"] == 3 and street["totals"]["abnormal"] == 1
    assert street["totals"]["elders_served"] == 2 and street["totals"]["billed_amount"] == "30.00"
    district = _get(client, area.h(area.district_sup), f"supervision/figures?{PERIOD}")
    assert {r["key"]: r["generated"] for r in district["rows"]} == {"江东街道": 1, "稠城街道": 3}


def test_rows_by_street_carry_visits_on_time_and_staffing(client, area, b, db):
    _world(area, b, db)
    got = _get(client, area.h(area.district_sup), f"supervision/figures?{PERIOD}")
    chou = next(r for r in got["rows"] if r["key"] == "稠城街道")
    assert chou["visits_planned"] == 3 and chou["visits_done"] == 3 and chou["missed"] == 0
    # No planned start: the board's rule takes the window's start (check-in − 30 min), so each
    # check-in is 30 min > 15 min late. Planning one visit to start 15 min before its check-in
    # (exactly the board's threshold, still on time): 1 of 3.
    assert chou["on_time_rate"] == "0.0000"
    first = db.scalars(select(Visit).where(Visit.client_id == area.chou_client.id)).first()
    first.planned_start_at = first.window_start_at + timedelta(minutes=15)
    db.commit()
    got = _get(client, area.h(area.district_sup), f"supervision/figures?{PERIOD}")
    chou = next(r for r in got["rows"] if r["key"] == "稠城街道")
    assert chou["on_time_rate"] == "0.3333"
    # 1 certified (senior, first aid) for 2 elders: 1 × 10,000 / 2 = 5000.0
    assert chou["certified"] == 1 and chou["certified_per_10k"] == "5000.0"
    assert chou["senior_share"] == "1.0000" and chou["first_aid_share"] == "1.0000"
    jiang = next(r for r in got["rows"] if r["key"] == "江东街道")
    assert jiang["certified"] == 0 and jiang["senior_share"] is None  # the certificate lapsed
    assert chou["calls"] == 0 and chou["call_to_arrival_p50_min"] is None  # measured: none
    assert chou["complaints_open"] == 0 and chou["ratings"] == 0
    assert got["targets"] == {
        "certified_per_10k": "28",
        "senior_share": "0.18",
        "first_aid_share": "0.70",
    }


def test_figures_as_a_spreadsheet(client, area, b, db):
    _world(area, b, db)
    r = client.get(
        f"{API}/supervision/figures?{PERIOD}&format=xlsx", headers=area.h(area.district_sup)
    )
    assert r.status_code == 200
    assert r.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(r.data))["figures"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("key", "name", "elders_served")
    assert [row[0] for row in rows[1:]] == ["江东街道", "稠城街道", "total"]


def test_scorecard_beside_the_area_median(client, area, b, db):
    _world(area, b, db)
    w = area.world
    h = area.h(area.district_sup)
    got = _get(client, h, f"supervision/providers/{w.p1.provider.id}/scorecard?{PERIOD}")
    assert got["provider"]["id"] == w.p1.provider.id and got["providers_compared"] == 2
    assert got["figures"]["generated"] == 3
    assert got["area_median"]["generated"] == 2  # median of 3 (p1) and 1 (p2)
    r = client.get(
        f"{API}/supervision/providers/{area.other_provider.id}/scorecard?{PERIOD}", headers=h
    )
    assert r.status_code == 404
    x = client.get(
        f"{API}/supervision/providers/{w.p1.provider.id}/scorecard?{PERIOD}&format=xlsx",
        headers=h,
    )
    assert x.status_code == 200 and x.data[:2] == b"PK"


def test_bad_periods_and_providers_outside_the_area_are_coded(client, area):
    h = area.h(area.street_sup)
    r = client.get(f"{API}/supervision/figures?from=2026-11-30&to=2026-11-01", headers=h)
    assert r.status_code == 422 and r.get_json()["code"] == "INVALID_PERIOD"
    r = client.get(f"{API}/supervision/figures?from=2025-01-01&to=2026-11-01", headers=h)
    assert r.status_code == 422 and r.get_json()["code"] == "PERIOD_TOO_LONG"
    r = client.get(
        f"{API}/supervision/figures?{PERIOD}&provider_id={area.other_provider.id}", headers=h
    )
    assert r.status_code == 404
    r = client.get(
        f"{API}/supervision/figures?{PERIOD}", headers=area.world.headers(area.world.p1.dispatcher)
    )
    assert r.status_code == 403


def _elders_voices(area, b, db):
    """On top of ``_world``: calls, ratings, a call-back and complaints with hand-picked numbers,
    and one of each outside the period or the district."""
    first = _world(area, b, db)
    w = area.world
    chou, jiang, p2c, other = area.chou_client, area.jiang_client, w.p2.client, area.other_client
    october = T0 - timedelta(days=40)

    def call(c, opened, to_arrival=None):
        arrived = opened + timedelta(minutes=to_arrival) if to_arrival is not None else None
        status = CallStatus.answered if arrived else CallStatus.open
        db.add(
            Call(
                provider_id=c.provider_id,
                client_id=c.id,
                kind=CallKind.sos,
                source=CallSource.dispatcher,
                status=status,
                opened_at=opened,
                due_at=opened + timedelta(minutes=5),
                arrived_at=arrived,
            )
        )

    call(chou, T0, 10)
    call(chou, T0 + timedelta(days=1), 20)
    call(jiang, T0 + timedelta(hours=2))  # nobody arrived: counted, no minutes
    call(p2c, T0, 7)
    call(other, T0, 1)  # 东阳市: outside the supervisors' district
    call(chou, october, 1)

    for c, stars in ((chou, 4), (jiang, 2)):
        v = db.scalars(select(Visit).where(Visit.client_id == c.id)).first()
        db.add(
            Rating(
                provider_id=v.provider_id,
                visit_id=v.id,
                client_id=c.id,
                user_id=w.p1.dispatcher.id,
                stars=stars,
            )
        )
    db.add(
        Callback(
            work_order_id=first.id,
            provider_id=first.provider_id,
            client_id=first.client_id,
            period_from=date(2026, 11, 1),
            period_to=date(2026, 11, 30),
            seed=1,
            status=CallbackStatus.answered,
            reached=True,
            took_place=TookPlace.yes,
            satisfaction=5,
        )
    )
    for c, status, filed in (
        (chou, ComplaintStatus.open, T0),
        (chou, ComplaintStatus.answered, T0),
        (chou, ComplaintStatus.closed, T0),
        (p2c, ComplaintStatus.closed, T0),
        (jiang, ComplaintStatus.open, T0),
        (chou, ComplaintStatus.open, october),
        (other, ComplaintStatus.open, T0),
    ):
        db.add(
            Complaint(
                provider_id=c.provider_id, client_id=c.id, text="…", status=status, created_at=filed
            )
        )
    db.commit()


VOICES = ("calls", "call_to_arrival_p50_min", "complaints_open", "complaints_closed")
VOICES += ("ratings", "satisfaction")


def test_calls_complaints_and_satisfaction_by_street_and_provider(client, area, b, db):
    _elders_voices(area, b, db)
    w = area.world
    h = area.h(area.district_sup)

    def table(group_by):
        got = _get(client, h, f"supervision/figures?{PERIOD}&group_by={group_by}")
        rows = {r["key"]: tuple(r[f] for f in VOICES) for r in got["rows"]}
        return rows, tuple(got["totals"][f] for f in VOICES)

    # 稠城: calls of 10, 20 (p1) and 7 (p2) minutes: sorted 7, 10, 20, the KPIs' p50 is rank
    # ⌊0.5 × 3⌋ = 1, 10.0; complaints open + answered = 2 open, 2 closed (p1, p2); ratings 4
    # and a call-back's 5: (4 + 5) / 2 = 4.50. 江东: one call nobody reached yet, 1 open
    # complaint, a rating of 2. October's and 东阳市's are left out.
    rows, totals = table("street")
    assert rows == {
        "稠城街道": (3, 10.0, 2, 2, 1, "4.50"),
        "江东街道": (1, None, 1, 0, 1, "2.00"),
    }
    # Totals over every call's minutes (not the rows' medians), and (4 + 5 + 2) / 3 = 3.67.
    assert totals == (4, 10.0, 3, 2, 2, "3.67")
    # p1: 10 and 20 → rank ⌊0.5 × 2⌋ = 1, 20.0; p2: 7.0.
    rows, by_provider_totals = table("provider")
    assert rows == {
        str(w.p1.provider.id): (3, 20.0, 3, 1, 2, "3.67"),
        str(w.p2.provider.id): (1, 7.0, 0, 1, 0, None),
    }
    assert by_provider_totals == totals
    # The street supervisor: 稠城 only.
    got = _get(client, area.h(area.street_sup), f"supervision/figures?{PERIOD}")
    assert [(r["key"], r["calls"], r["complaints_open"]) for r in got["rows"]] == [
        ("稠城街道", 3, 2)
    ]
    # One number in one place: finance's figures by provider are the calls' KPIs (which count
    # 东阳市's call too).
    kpis = _get(client, w.headers(w.finance), f"calls/kpis?{PERIOD}")
    fin = _get(client, w.headers(w.finance), f"supervision/figures?{PERIOD}&group_by=provider")
    by_key = {r["key"]: r for r in fin["rows"]}
    assert len(kpis) == 3
    for k in kpis:
        row = by_key[str(k["provider_id"])]
        assert (row["calls"], row["call_to_arrival_p50_min"]) == (
            k["calls"],
            k["call_to_arrival_p50_min"],
        )


def test_calls_and_complaints_in_the_spreadsheet_and_the_scorecard(client, area, b, db):
    _elders_voices(area, b, db)
    w = area.world
    h = area.h(area.district_sup)
    r = client.get(f"{API}/supervision/figures?{PERIOD}&format=xlsx", headers=h)
    rows = list(load_workbook(io.BytesIO(r.data))["figures"].iter_rows(values_only=True))
    cols = [rows[0].index(f) for f in VOICES]
    assert [tuple(row[i] for i in cols) for row in rows[1:]] == [
        (1, None, 1, 0, 1, 2),  # 江东
        (3, 10, 2, 2, 1, 4.5),  # 稠城
        (4, 10, 3, 2, 2, 3.67),  # total
    ]
    got = _get(client, h, f"supervision/providers/{w.p1.provider.id}/scorecard?{PERIOD}")
    mine, median = got["figures"], got["area_median"]
    assert (mine["calls"], mine["call_to_arrival_p50_min"], mine["complaints_open"]) == (3, 20.0, 3)
    # The area's median of p1 and p2: calls (3 + 1) / 2, minutes (20 + 7) / 2, open (3 + 0) / 2;
    # satisfaction: p2 has none, so the median of p1's alone.
    assert (median["calls"], median["call_to_arrival_p50_min"]) == (2, 13.5)
    assert median["complaints_open"] == 1.5 and median["complaints_closed"] == 1
    assert Decimal(str(median["satisfaction"])) == Decimal("3.67")
    x = client.get(
        f"{API}/supervision/providers/{w.p1.provider.id}/scorecard?{PERIOD}&format=xlsx",
        headers=h,
    )
    sheet = {
        row[0]: row[1:]
        for row in load_workbook(io.BytesIO(x.data))["scorecard"].iter_rows(values_only=True)
    }
    assert sheet["calls"] == (3, 2) and sheet["call_to_arrival_p50_min"] == (20, 13.5)
    assert sheet["complaints_open"] == (3, 1.5)
