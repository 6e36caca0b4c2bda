"""Finance decisions, appeals, entitlements and billing batches: the rules at their edges."""

from __future__ import annotations

import io
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from dispatch.models import AuditEntry, BillingUnit, Client, Flag
from dispatch.services.billing import order_amount
from tests.money.conftest import csv_file, row, upload


@pytest.fixture
def orders(client, staff, db, rules_stub) -> dict[str, Any]:
    """p1 uploads three October orders: one clean, one with a review and a block flag."""
    h = staff.headers(staff.p1.provider_admin)
    r = upload(
        client,
        h,
        csv_file(
            [
                row("D1", 1),
                row("D2", 2, note="FLAG:SHORT_VISIT:review"),
                row("D3", 3, start="09:00", end="10:01"),
            ]
        ),
    )
    assert r.status_code == 201, r.json
    ids = dict(zip(["clean", "flagged", "odd"], r.json["work_order_ids"], strict=True))
    # a second, blocking flag on the flagged order
    db.add(Flag(work_order_id=ids["flagged"], code="OVERLAP", severity="block", evidence={"a": 1}))
    db.commit()
    return {"ids": ids, "prov": h, "fin": staff.headers(staff.finance), "world": staff}


def decide(client: Any, headers: Any, ident: int, **body: Any) -> Any:
    return client.post(f"/api/v1/work-orders/{ident}/decision", headers=headers, json=body)


def flag_ids(db: Any, ident: int) -> list[int]:
    return list(db.scalars(select(Flag.id).where(Flag.work_order_id == ident).order_by(Flag.id)))


def test_override_needs_every_blocking_flag_listed(client, db, orders):
    fin, ident = orders["fin"], orders["ids"]["flagged"]
    review, block = flag_ids(db, ident)
    r = decide(client, fin, ident, decision="approve", reason="checked", override_flags=[review])
    assert r.status_code == 409 and r.json["code"] == "FLAGS_OPEN"
    assert [f["id"] for f in r.json["errors"]["flags"]] == [block]
    r = decide(
        client,
        fin,
        ident,
        decision="approve",
        reason="回访确认服务属实",
        override_flags=[review, block],
    )
    assert r.status_code == 200 and r.json["status"] == "approved"
    flags = {f["id"]: f for f in r.json["flags"]}
    assert {f["status"] for f in flags.values()} == {"overridden"}
    assert flags[block]["resolution"] == "回访确认服务属实"
    assert flags[block]["resolved_by"] == orders["world"].finance.id
    entries = db.scalars(select(AuditEntry).where(AuditEntry.action == "flag.override")).all()
    assert {e.entity_id for e in entries} == {review, block}
    assert all(e.reason == "回访确认服务属实" for e in entries)


def test_override_flags_must_be_open_flags_of_the_order(client, db, orders):
    fin, ids = orders["fin"], orders["ids"]
    other = flag_ids(db, ids["flagged"])[0]
    r = decide(client, fin, ids["clean"], decision="approve", reason="x", override_flags=[other])
    assert r.status_code == 422 and r.json["code"] == "UNKNOWN_FLAGS"


def test_info_flags_do_not_block(client, db, orders):
    ident = orders["ids"]["clean"]
    db.add(Flag(work_order_id=ident, code="UNSCHEDULED", severity="info", evidence={}))
    db.commit()
    r = decide(client, orders["fin"], ident, decision="approve", reason="ok")
    assert r.status_code == 200 and r.json["status"] == "approved"
    assert r.json["flags"][0]["status"] == "open"


def test_decisions_need_a_reason_and_finance(client, orders):
    ident = orders["ids"]["clean"]
    r = decide(client, orders["fin"], ident, decision="reject", reason="")
    assert r.status_code == 422
    r = decide(client, orders["prov"], ident, decision="approve", reason="mine")
    assert r.status_code == 403
    r = decide(client, orders["fin"], ident, decision="approve", reason="ok")
    assert r.status_code == 200
    r = decide(client, orders["fin"], ident, decision="approve", reason="ok")
    assert r.status_code == 409 and r.json["code"] == "ALREADY_APPROVED"


def test_bulk_approve_reports_refusals(client, orders):
    ids = orders["ids"]
    r = client.post(
        "/api/v1/work-orders:bulk-approve",
        headers=orders["fin"],
        json={"ids": [ids["clean"], ids["flagged"], 999999]},
    )
    assert r.status_code == 200
    assert r.json["approved"] == [ids["clean"]]
    refused = {x["id"]: x["code"] for x in r.json["refused"]}
    assert refused == {ids["flagged"]: "NOT_VERIFIED", 999999: "WORK_ORDER_NOT_FOUND"}
    r = client.post(
        "/api/v1/work-orders:bulk-approve", headers=orders["fin"], json={"ids": [1], "filter": {}}
    )
    assert r.status_code == 422


def test_over_entitlement_shows_before_approval_and_needs_consent(client, db, orders):
    w = orders["world"]
    client_row = db.get(Client, w.p1.client.id)
    client_row.monthly_entitlement_min = 100
    db.commit()
    fin, ids = orders["fin"], orders["ids"]
    assert decide(client, fin, ids["clean"], decision="approve", reason="ok").status_code == 200
    # 60 approved + 61 of this order = 121 > 100
    detail = client.get(f"/api/v1/work-orders/{ids['odd']}", headers=fin).json
    assert detail["entitlement"] == {
        "month": "2026-10",
        "entitlement_min": 100,
        "approved_min": 60,
        "approved_with_this_min": 121,
        "over_entitlement": True,
    }
    r = decide(client, fin, ids["odd"], decision="approve", reason="ok")
    assert r.status_code == 409 and r.json["code"] == "OVER_ENTITLEMENT"
    r = decide(
        client, fin, ids["odd"], decision="approve", reason="区里特批", accept_over_entitlement=True
    )
    assert r.status_code == 200
    ent = client.get(
        f"/api/v1/clients/{w.p1.client.id}/entitlement?month=2026-10", headers=orders["prov"]
    ).json
    assert ent["approved_min"] == 121 and ent["over_by_min"] == 21
    bad = client.get(f"/api/v1/clients/{w.p1.client.id}/entitlement?month=2026-13", headers=fin)
    assert bad.status_code == 422


def test_appeal_rules(client, db, orders):
    prov, fin, ids = orders["prov"], orders["fin"], orders["ids"]
    r = client.post(
        f"/api/v1/work-orders/{ids['clean']}/appeals",
        headers=prov,
        json={"reason": "nothing wrong"},
    )
    assert r.status_code == 409 and r.json["code"] == "NOT_APPEALABLE"
    r = client.post(
        f"/api/v1/work-orders/{ids['flagged']}/appeals",
        headers=prov,
        json={"reason": "证据见照片", "evidence_photo_id": 424242},
    )
    assert r.status_code == 422 and "evidence_photo_id" in r.json["errors"]
    r = client.post(
        f"/api/v1/work-orders/{ids['flagged']}/appeals", headers=fin, json={"reason": "x"}
    )
    assert r.status_code == 403
    r = client.post(
        f"/api/v1/work-orders/{ids['flagged']}/appeals", headers=prov, json={"reason": "证据见照片"}
    )
    assert r.status_code == 201
    # while the appeal is open, finance decides the appeal first
    r = decide(client, fin, ids["flagged"], decision="reject", reason="no")
    assert r.status_code == 409 and r.json["code"] == "APPEAL_OPEN"
    r = client.post(
        "/api/v1/appeals/999999/decision", headers=fin, json={"decision": "uphold", "reason": "x"}
    )
    assert r.status_code == 404


def test_deny_keeps_the_order_flagged_and_decided_appeals_stay_decided(client, orders):
    prov, fin, ids = orders["prov"], orders["fin"], orders["ids"]
    appeal = client.post(
        f"/api/v1/work-orders/{ids['flagged']}/appeals", headers=prov, json={"reason": "r"}
    ).json
    r = client.post(
        f"/api/v1/appeals/{appeal['id']}/decision",
        headers=fin,
        json={"decision": "deny", "reason": "evidence missing"},
    )
    assert r.status_code == 200
    order = client.get(f"/api/v1/work-orders/{ids['flagged']}", headers=fin).json
    assert order["status"] == "flagged" and order["appeal_state"] == "denied"
    assert {f["status"] for f in order["flags"]} == {"open"}
    r = client.post(
        f"/api/v1/appeals/{appeal['id']}/decision",
        headers=fin,
        json={"decision": "uphold", "reason": "changed my mind"},
    )
    assert r.status_code == 409 and r.json["code"] == "APPEAL_DECIDED"


def test_open_batch_follows_a_rejection_and_closed_batch_does_not_move(client, db, orders):
    fin, ids, w = orders["fin"], orders["ids"], orders["world"]
    for key in ("clean", "odd"):
        assert decide(client, fin, ids[key], decision="approve", reason="ok").status_code == 200
    body = {
        "provider_id": w.p1.provider.id,
        "period_start": "2026-10-01",
        "period_end": "2026-10-31",
    }
    batch = client.post("/api/v1/billing-batches", headers=fin, json=body).json
    # CLEAN 40.00/h: 60 min = 40.00; 61 min = 40.666... -> 40.67 (half up per order)
    assert (batch["orders"], batch["minutes"], batch["amount"]) == (2, 121, "80.67")
    again = client.post("/api/v1/billing-batches", headers=fin, json=body)
    assert again.status_code == 422 and again.json["code"] == "NO_APPROVED_ORDERS"
    r = decide(client, fin, ids["odd"], decision="reject", reason="duplicate claim")
    assert r.status_code == 200 and r.json["billing_batch_id"] is None
    batch = client.get(f"/api/v1/billing-batches/{batch['id']}", headers=fin).json
    assert (batch["orders"], batch["minutes"], batch["amount"]) == (1, 60, "40.00")
    assert (
        client.post(f"/api/v1/billing-batches/{batch['id']}/close", headers=fin).status_code == 200
    )
    for key in ("clean",):
        order = client.get(f"/api/v1/work-orders/{ids[key]}", headers=fin).json
        assert order["status"] == "billed" and order["billing_amount"] == "40.00"
        r = decide(client, fin, ids[key], decision="reject", reason="late")
        assert r.status_code == 409 and r.json["code"] == "BATCH_CLOSED"
    # the catalogue's rate changes later; the closed batch's export does not
    w.services["CLEAN"].rate = Decimal("99.00")
    db.commit()
    csv_text = client.get(f"/api/v1/billing-batches/{batch['id']}/export", headers=fin).data
    assert b",40.00,40.00\r\n" in csv_text


def test_batch_input_errors(client, orders):
    fin, w = orders["fin"], orders["world"]
    r = client.post(
        "/api/v1/billing-batches",
        headers=fin,
        json={
            "provider_id": w.p1.provider.id,
            "period_start": "2026-10-31",
            "period_end": "2026-10-01",
        },
    )
    assert r.status_code == 422
    r = client.post(
        "/api/v1/billing-batches",
        headers=fin,
        json={"provider_id": 98765, "period_start": "2026-10-01", "period_end": "2026-10-31"},
    )
    assert r.status_code == 422 and r.json["code"] == "REFERENCE_NOT_FOUND"
    r = client.post(
        "/api/v1/billing-batches",
        headers=orders["prov"],
        json={
            "provider_id": w.p1.provider.id,
            "period_start": "2026-10-01",
            "period_end": "2026-10-31",
        },
    )
    assert r.status_code == 403


def test_another_providers_ids_are_404(client, db, orders):
    w, ids, fin = orders["world"], orders["ids"], orders["fin"]
    decide(client, fin, ids["clean"], decision="approve", reason="ok")
    batch = client.post(
        "/api/v1/billing-batches",
        headers=fin,
        json={
            "provider_id": w.p1.provider.id,
            "period_start": "2026-10-01",
            "period_end": "2026-10-31",
        },
    ).json
    h2 = w.headers(w.p2.provider_admin)
    for path in (
        f"/api/v1/work-orders/{ids['clean']}",
        f"/api/v1/work-orders/{ids['clean']}/history",
        f"/api/v1/billing-batches/{batch['id']}",
        f"/api/v1/billing-batches/{batch['id']}/export?format=xlsx",
        f"/api/v1/clients/{w.p1.client.id}/entitlement?month=2026-10",
    ):
        assert client.get(path, headers=h2).status_code == 404, path
    r = client.post(
        f"/api/v1/work-orders/{ids['flagged']}/appeals", headers=h2, json={"reason": "not mine"}
    )
    assert r.status_code == 404
    assert client.get("/api/v1/work-orders", headers=h2).json == []
    assert client.get("/api/v1/billing-batches", headers=h2).json == []
    log = client.get("/api/v1/audit", headers=h2).json
    assert all(e["provider_id"] == w.p2.provider.id for e in log)


@given(
    rate=st.decimals(min_value=0, max_value=1000, places=2),
    minutes=st.integers(min_value=1, max_value=720),
)
def test_hour_amount_is_rate_times_minutes_over_60_rounded_half_up(rate, minutes):
    amount = order_amount(BillingUnit.hour, rate, minutes)
    exact = rate * minutes / Decimal(60)
    assert amount == exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert abs(amount - exact) <= Decimal("0.005")
    assert order_amount(BillingUnit.visit, rate, minutes) == rate


def test_half_cent_rounds_up():
    # 0.30/h x 1 min = 0.005 exactly: half up gives 0.01 (banker's rounding would give 0.00)
    assert order_amount(BillingUnit.hour, Decimal("0.30"), 1) == Decimal("0.01")


def _png(seed: int) -> bytes:
    from PIL import Image

    img = Image.new("RGB", (64, 48), (seed % 256, 90, 160))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def test_appeal_with_uploaded_evidence(client, orders):
    prov, fin, ids = orders["prov"], orders["fin"], orders["ids"]

    def send(data: bytes) -> Any:
        boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data), filename="a.png")})
        return client.post(
            "/api/v1/appeals/evidence",
            data=body,
            headers=prov,
            content_type=f"multipart/form-data; boundary={boundary}",
        )

    r = send(b"%PDF-1.4 not an image")
    assert r.status_code == 415
    r = send(_png(7))
    assert r.status_code == 201, r.json
    photo_id = r.json["photo_id"]
    assert send(_png(7)).json["photo_id"] == photo_id  # same bytes, same evidence
    r = client.post(
        f"/api/v1/work-orders/{ids['flagged']}/appeals",
        headers=prov,
        json={"reason": "签到照片见附件", "evidence_photo_id": photo_id},
    )
    assert r.status_code == 201 and r.json["evidence_photo_id"] == photo_id
    seen = client.get(f"/api/v1/work-orders/{ids['flagged']}", headers=fin).json
    assert seen["appeals"][0]["evidence_photo_id"] == photo_id
    # p2 cannot cite p1's evidence
    w = orders["world"]
    h2 = w.headers(w.p2.provider_admin)
    r2 = upload(
        client,
        h2,
        csv_file(
            [
                [
                    "E1",
                    "CG201",
                    "C2001",
                    "CLEAN",
                    "2026/10/3 9:00",
                    "2026/10/3 10:00",
                    "FLAG:GPS_POOR:review",
                ]
            ]
        ),
    )
    assert r2.status_code == 201, r2.json
    r = client.post(
        f"/api/v1/work-orders/{r2.json['work_order_ids'][0]}/appeals",
        headers=h2,
        json={"reason": "x", "evidence_photo_id": photo_id},
    )
    assert r.status_code == 422 and "evidence_photo_id" in r.json["errors"]


def test_extreme_dates_are_answered_not_crashed(client, orders):
    fin, w = orders["fin"], orders["world"]
    r = client.get("/api/v1/work-orders?from=0001-01-01&to=9999-12-31", headers=fin)
    assert r.status_code == 200 and len(r.json) == 3
    r = client.get(f"/api/v1/clients/{w.p1.client.id}/entitlement?month=0000-01", headers=fin)
    assert r.status_code == 422
    r = client.post(
        "/api/v1/billing-batches",
        headers=fin,
        json={
            "provider_id": w.p1.provider.id,
            "period_start": "9999-01-01",
            "period_end": "9999-12-31",
        },
    )
    assert r.status_code == 422 and r.json["code"] == "NO_APPROVED_ORDERS"
    r = client.post("/api/v1/work-orders:bulk-approve", headers=fin, json={"filter": {}})
    assert r.status_code == 422  # a bulk approval names its provider
