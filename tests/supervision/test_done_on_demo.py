"""The issue's "Done when", through HTTP on the demo district (seeded, three days of history,
the bureau's month: grades, contacts, call-backs): the logins `supervisor` and
`supervisor_street` of the demo."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from dispatch.demo import seed_demo
from dispatch.demo.bureau import run_bureau
from dispatch.demo.data import PASSWORD, PROVIDERS, SUPERVISED_STREET
from dispatch.demo.history import seed_history
from dispatch.models import Client, Provider, VisitFrequency

API = "/api/v1"
TODAY = date(2026, 12, 3)
FUNNEL = ("generated", "normal", "abnormal", "appealed", "not_billed", "billed")


@pytest.fixture
def demo(db: Any) -> Any:
    seed_demo(db, 7, TODAY)
    seed_history(db, 7, TODAY, days=3)
    report = run_bureau(db, 7, TODAY)
    db.commit()
    return report


def login(client: Any, username: str) -> dict[str, str]:
    r = client.post(f"{API}/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['access_token']}"}


def test_the_street_supervisor_sees_only_its_street(client, db, demo):
    h = login(client, "supervisor_street")
    r = client.get(f"{API}/clients?page_size=100", headers=h)
    rows = r.get_json()
    assert rows and {c["street"] for c in rows} == {SUPERVISED_STREET}
    total = json.loads(r.headers["X-Pagination"])["total"]
    inside = db.scalars(select(Client.id).where(Client.street == SUPERVISED_STREET)).all()
    assert total == len(inside)
    other = db.scalar(select(Client.id).where(Client.street != SUPERVISED_STREET).limit(1))
    r = client.get(f"{API}/clients/{other}", headers=h)
    assert r.status_code == 404 and r.get_json()["code"] == "CLIENT_NOT_FOUND"
    orders = client.get(f"{API}/work-orders?page_size=100", headers=h).get_json()
    assert orders and {o["client_id"] for o in orders} <= set(inside)
    district = client.get(f"{API}/clients/{other}", headers=login(client, "supervisor"))
    assert district.status_code == 200


def test_the_figures_totals_equal_the_funnel_for_the_same_period_and_area(client, demo):
    period = f"from={TODAY - timedelta(days=3)}&to={TODAY - timedelta(days=1)}"
    for who in ("supervisor_street", "supervisor", "finance"):
        h = login(client, who)
        funnel = client.get(f"{API}/reports/funnel?{period}", headers=h).get_json()
        got = client.get(f"{API}/supervision/figures?{period}", headers=h).get_json()
        assert funnel["generated"] > 0
        assert {k: got["totals"][k] for k in FUNNEL} == {k: funnel[k] for k in FUNNEL}, who
        assert sum(r["generated"] for r in got["rows"]) == funnel["generated"]
    street = client.get(
        f"{API}/supervision/figures?{period}", headers=login(client, "supervisor_street")
    ).get_json()
    assert [r["key"] for r in street["rows"]] == [SUPERVISED_STREET]


def test_did_not_take_place_blocks_approval_until_finance_overrides(client, demo):
    assert len(demo.denied) == 3
    fin = login(client, "finance")
    order_id = demo.denied[0]
    order = client.get(f"{API}/work-orders/{order_id}", headers=fin).get_json()
    flag = next(f for f in order["flags"] if f["code"] == "CALLBACK_DENIED")
    assert flag["status"] == "open" and flag["severity"] == "block"
    url = f"{API}/work-orders/{order_id}/decision"
    others = [f["id"] for f in order["flags"] if f["status"] == "open" and f["id"] != flag["id"]]
    r = client.post(
        url,
        json={"decision": "approve", "reason": "已核实", "override_flags": others},
        headers=fin,
    )
    assert r.status_code == 409 and r.get_json()["code"] == "FLAGS_OPEN"
    r = client.post(
        url,
        json={
            "decision": "approve",
            "reason": "护理员提供了老人签字的服务记录，老人回访时记错了日期",
            "override_flags": [flag["id"], *others],
        },
        headers=fin,
    )
    assert r.status_code == 200 and r.get_json()["status"] == "approved"
    after = client.get(f"{API}/work-orders/{order_id}", headers=fin).get_json()
    assert next(f for f in after["flags"] if f["code"] == "CALLBACK_DENIED")["status"] == (
        "overridden"
    )


def _overdue(client: Any, h: dict[str, str]) -> tuple[list[dict[str, Any]], int]:
    r = client.get(f"{API}/supervision/contacts?as_of={TODAY}&page_size=100", headers=h)
    assert r.status_code == 200
    return r.get_json(), json.loads(r.headers["X-Pagination"])["total"]


def test_the_overdue_list_changes_when_a_contact_is_recorded(client, db, demo):
    h = login(client, "supervisor")
    rows, total = _overdue(client, h)
    assert rows
    row = next(r for r in rows if r["frequency"] != VisitFrequency.daily.value)
    elder = row["client"]
    staff = login(client, f"dispatcher{_provider_n(db, elder['provider_id'])}")
    r = client.post(
        f"{API}/clients/{elder['id']}/contacts",
        json={"kind": "phone", "at": f"{TODAY - timedelta(days=1)}T10:00:00+08:00"},
        headers=staff,
    )
    assert r.status_code == 201, r.get_json()
    again, total_again = _overdue(client, h)
    assert elder["id"] not in {x["client"]["id"] for x in again}
    assert total_again == total - 1


def _provider_n(db: Any, provider_id: int) -> int:
    code = db.get(Provider, provider_id).code
    return next(p.n for p in PROVIDERS if p.code == code)
