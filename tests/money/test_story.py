"""The whole money story over HTTP, as a provider and finance would live it."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from dispatch.models import Client
from tests.money.conftest import csv_file, order_count, row, upload

OCT = "2026-10"


def month_rows() -> list[list[str]]:
    """October 2026: every day CLEAN for C1001 (60 min), and MEAL or CHAT for C1002."""
    rows = []
    for day in range(1, 32):
        note = "按时完成"
        if day == 5:
            note = "FLAG:SHORT_VISIT:review"  # appealed, upheld, billed
        if day == 6:
            note = "FLAG:OVERLAP:block"  # rejected
        rows.append(row(f"OCT-{day:02d}-A", day, note=note))
        if day % 2:
            extra = row(
                f"OCT-{day:02d}-B",
                day,
                cg="CG102",
                cl="C1002",
                svc="CHAT",
                start="14:00",
                end="14:45",
            )
        else:
            extra = row(
                f"OCT-{day:02d}-B",
                day,
                cg="CG102",
                cl="C1002",
                svc="MEAL",
                start="11:30",
                end="11:45",
            )
        if day == 7:
            extra[6] = "FLAG:CLIENT_ABSENT:block"  # rejected
        if day == 8:
            extra[6] = "FLAG:GEOFENCE_IN:review"  # appealed, denied, rejected
        rows.append(extra)
    return rows


def all_orders(client: Any, h: dict[str, str], **query: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    page = 1
    while True:
        r = client.get(
            "/api/v1/work-orders", query_string={**query, "page": page, "page_size": 100}, headers=h
        )
        assert r.status_code == 200, r.json
        out += r.json
        if len(r.json) < 100:
            return out
        page += 1


def test_a_month_from_upload_to_export(client, staff, db, rules_stub):
    w = staff
    p1 = w.p1.provider
    for c in db.scalars(select(Client).where(Client.provider_id == p1.id)):
        c.monthly_entitlement_min = 3000
        if c.code == "C1002":
            # A name that a spreadsheet would run as a formula, if the export let it.
            c.name = '=HYPERLINK("http://evil")'
    db.commit()
    prov = w.headers(w.p1.provider_admin)
    fin = w.headers(w.finance)

    # 1. The provider's first try has three bad rows: nothing is stored, every one is named.
    rows = month_rows()
    bad = [list(r) for r in rows]
    bad[3][1] = "CG404"  # file row 5
    bad[10][4] = "2026/10/6 25:00"  # file row 12
    bad[20][5] = "2026/10/11 08:00"  # file row 22: ends before it starts
    before = order_count(db)
    r = upload(client, prov, csv_file(bad, encoding="gbk"))
    assert r.status_code == 422
    assert set(r.json["errors"]) == {"row 5", "row 12", "row 22"}
    assert order_count(db) == before

    # 2. Fixed, it goes through (saved by a Chinese Excel: GBK), and a repeat changes nothing.
    r = upload(client, prov, csv_file(rows, encoding="gbk"))
    assert r.status_code == 201, r.json
    assert r.json["rows"] == r.json["created"] == 62
    again = upload(client, prov, csv_file(rows, encoding="gbk"))
    assert again.json["created"] == 0 and again.json["already_received"] == 62
    assert order_count(db) == before + 62

    # 3. Four orders are flagged; the provider sees them with their flags and appeals two.
    flagged = all_orders(client, prov, status="flagged")
    assert len(flagged) == 4 and all(o["flags"] for o in flagged)
    by_ext = {o["external_id"]: o for o in all_orders(client, prov)}
    short, overlap = by_ext["OCT-05-A"], by_ext["OCT-06-A"]
    absent, geofence = by_ext["OCT-07-B"], by_ext["OCT-08-B"]
    appeal = client.post(
        f"/api/v1/work-orders/{short['id']}/appeals",
        headers=prov,
        json={"reason": "护理员按计划完成，老人中途要求提前结束"},
    )
    assert appeal.status_code == 201, appeal.json
    second = client.post(
        f"/api/v1/work-orders/{short['id']}/appeals", headers=prov, json={"reason": "again"}
    )
    assert second.status_code == 409 and second.json["code"] == "APPEAL_ALREADY_OPEN"
    appeal2 = client.post(
        f"/api/v1/work-orders/{geofence['id']}/appeals", headers=prov, json={"reason": "GPS 漂移"}
    )
    assert appeal2.status_code == 201

    # 4. Finance's queue: the flagged orders with evidence; approval without override is a 409.
    queue = all_orders(client, fin, open_flags="true", provider_id=p1.id)
    assert {o["id"] for o in queue} == {short["id"], overlap["id"], absent["id"], geofence["id"]}
    assert all(f["evidence"] for o in queue for f in o["flags"])
    r = client.post(
        f"/api/v1/work-orders/{overlap['id']}/decision",
        headers=fin,
        json={"decision": "approve", "reason": "looks fine"},
    )
    assert r.status_code == 409 and r.json["code"] == "FLAGS_OPEN"
    assert r.json["errors"]["flags"][0]["code"] == "OVERLAP"

    open_appeals = client.get("/api/v1/appeals", query_string={"status": "open"}, headers=fin)
    assert {a["id"] for a in open_appeals.json} == {appeal.json["id"], appeal2.json["id"]}
    r = client.post(
        f"/api/v1/appeals/{appeal.json['id']}/decision",
        headers=fin,
        json={"decision": "uphold", "reason": "电话回访老人确认"},
    )
    assert r.status_code == 200 and r.json["status"] == "upheld"
    r = client.post(
        f"/api/v1/appeals/{appeal2.json['id']}/decision",
        headers=fin,
        json={"decision": "deny", "reason": "轨迹显示未到达"},
    )
    assert r.json["status"] == "denied"
    upheld = client.get(f"/api/v1/work-orders/{short['id']}", headers=fin).json
    assert upheld["status"] == "verified" and upheld["appeal_state"] == "upheld"
    assert [f["status"] for f in upheld["flags"]] == ["overridden"]
    for order in (overlap, absent, geofence):
        r = client.post(
            f"/api/v1/work-orders/{order['id']}/decision",
            headers=fin,
            json={"decision": "reject", "reason": "异常属实"},
        )
        assert r.status_code == 200 and r.json["status"] == "rejected"

    # 5. Entitlements before approval, then bulk approval of everything verified.
    c1 = w.p1.client.id
    ent = client.get(
        f"/api/v1/clients/{c1}/entitlement", query_string={"month": OCT}, headers=fin
    ).json
    # C1001: 31 CLEAN visits of 60 minutes, one of them rejected: 30 x 60 = 1800 pending
    assert ent["approved_min"] == 0 and ent["pending_min"] == 1800
    assert ent["entitlement_min"] == 3000 and not ent["over_if_all_approved"]
    r = client.post(
        "/api/v1/work-orders:bulk-approve",
        headers=fin,
        json={
            "filter": {"provider_id": p1.id, "from": "2026-10-01", "to": "2026-10-31"},
            "reason": "核验无异常",
        },
    )
    assert r.status_code == 200, r.json
    assert len(r.json["approved"]) == 59 and r.json["refused"] == []
    ent = client.get(
        f"/api/v1/clients/{c1}/entitlement", query_string={"month": OCT}, headers=fin
    ).json
    assert ent["approved_min"] == 1800 and ent["remaining_min"] == 1200

    # 6. The period is billed: 59 orders, amounts from the catalogue's rates.
    r = client.post(
        "/api/v1/billing-batches",
        headers=fin,
        json={"provider_id": p1.id, "period_start": "2026-10-01", "period_end": "2026-10-31"},
    )
    assert r.status_code == 201, r.json
    batch = r.json
    # CLEAN 40.00/h x 60 min on 30 days = 1200.00; odd days CHAT 30.00/h x 45 min = 22.50 each
    # (16 odd days), even days MEAL 15.00 a visit (15 even days, minus day 8 rejected = 14),
    # day 7 (odd) rejected: 15 CHAT.  1200 + 15 x 22.50 + 14 x 15 = 1747.50
    assert batch["orders"] == 59
    assert batch["minutes"] == 30 * 60 + 15 * 45 + 14 * 15
    assert batch["amount"] == "1747.50"
    closed = client.post(f"/api/v1/billing-batches/{batch['id']}/close", headers=fin)
    assert closed.status_code == 200 and closed.json["status"] == "closed"

    # 7. Closed means closed.
    some = by_ext["OCT-01-A"]["id"]
    for path, body in [
        (f"/api/v1/work-orders/{some}/decision", {"decision": "reject", "reason": "late doubt"}),
        (f"/api/v1/billing-batches/{batch['id']}/close", None),
    ]:
        r = client.post(path, headers=fin, json=body)
        assert r.status_code == 409 and r.json["code"] == "BATCH_CLOSED"
    assert client.delete(f"/api/v1/billing-batches/{batch['id']}", headers=fin).status_code == 409
    r = client.post(f"/api/v1/work-orders/{some}/appeals", headers=prov, json={"reason": "x"})
    assert r.status_code == 409

    # 8. Exports: lines add up to the batch; no cell can run as a formula.
    r = client.get(f"/api/v1/billing-batches/{batch['id']}/export?format=csv", headers=prov)
    assert r.status_code == 200 and r.data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.DictReader(io.StringIO(r.data[3:].decode("utf-8"))))
    assert len(lines) == 59
    assert sum(Decimal(x["amount"]) for x in lines) == Decimal(batch["amount"])
    assert {x["client_name"] for x in lines if x["client_code"] == "C1002"} == {
        '\'=HYPERLINK("http://evil")'
    }
    r = client.get(f"/api/v1/billing-batches/{batch['id']}/export?format=xlsx", headers=fin)
    ws = load_workbook(io.BytesIO(r.data))["orders"]
    cells = [c for line in ws.iter_rows(min_row=2) for c in line]
    assert all(c.data_type in ("s", "n") for c in cells if c.value is not None)
    assert not any(str(c.value).startswith(("=", "+", "-", "@")) for c in cells)

    # 9. The funnel adds up (Yiwu's report: generated = normal + abnormal, and so on).
    orders = all_orders(
        client, fin, provider_id=p1.id, **{"from": "2026-10-01", "to": "2026-10-31"}
    )
    generated = len(orders)
    abnormal = sum(
        1 for o in orders if any(f["severity"] in ("block", "review") for f in o["flags"])
    )
    normal = generated - abnormal
    upheld_n = sum(1 for o in orders if o["appeal_state"] == "upheld")
    billed = [o for o in orders if o["status"] == "billed"]
    not_billed = generated - len(billed)
    assert (generated, normal, abnormal, upheld_n) == (62, 58, 4, 1)
    assert not_billed == abnormal - upheld_n == 3
    assert all(o["billing_batch_id"] == batch["id"] for o in billed)
    billed_minutes = sum(o["billable_min"] for o in billed)
    assert billed_minutes == batch["minutes"]
    funnel = client.get(
        "/api/v1/reports/funnel",
        headers=fin,
        query_string={"from": "2026-10-01", "to": "2026-10-31", "provider_id": p1.id},
    )
    assert funnel.status_code == 200, funnel.json  # the report is the rules engineer's
    f = funnel.json
    assert (f["generated"], f["abnormal"], f["billed"]) == (62, 4, 59)
    assert f["generated"] == f["normal"] + f["abnormal"]
    assert f["not_billed"] == f["abnormal"] - upheld_n
    assert Decimal(str(f["billed_hours"])) == Decimal(billed_minutes) / 60

    # 10. Every decision is in the order's history with who, when and why.
    hist = client.get(f"/api/v1/work-orders/{short['id']}/history", headers=fin).json
    actions = [e["action"] for e in hist]
    for expected in (
        "timesheet.upload",
        "appeal.create",
        "flag.override",
        "appeal.upheld",
        "work_order.approve",
        "billing_batch.create",
        "billing_batch.close",
    ):
        assert expected in actions, actions
    override = next(e for e in hist if e["action"] == "flag.override")
    assert override["actor_user_id"] == w.finance.id and "电话回访老人确认" in override["reason"]
    assert override["at"].endswith("+08:00")
    mine = client.get(f"/api/v1/work-orders/{short['id']}/history", headers=prov)
    assert mine.status_code == 200
    other = client.get(
        f"/api/v1/work-orders/{short['id']}/history", headers=w.headers(w.p2.provider_admin)
    )
    assert other.status_code == 404
