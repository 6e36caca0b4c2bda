"""Call-backs: a seeded sample stratified per provider, and "did not take place" blocking
approval until finance overrides the CALLBACK_DENIED flag with a reason."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from dispatch.services.callbacks import draw
from tests.factories import T0

API = "/api/v1"
PERIOD = {"from": "2026-11-01", "to": "2026-11-30"}


@given(
    st.lists(st.integers(1, 10**6), unique=True, max_size=60),
    st.integers(0, 2**31 - 1),
    st.integers(1, 50),
)
def test_a_draw_is_reproducible_from_its_seed(ids, seed, count):
    first = draw(ids, seed, 7, count=count, share=None)
    assert first == draw(list(reversed(ids)), seed, 7, count=count, share=None)
    assert len(first) == min(count, len(ids)) and set(first) <= set(ids)


def test_a_share_rounds_up_per_stratum():
    ids = list(range(1, 11))
    assert len(draw(ids, 1, 1, count=None, share=0.25)) == 3  # ceil(10 × 0.25) = 3
    assert len(draw(ids, 1, 1, count=None, share=1.0)) == 10


def _orders(b, area, n1: int, n2: int) -> tuple[set[int], set[int]]:
    w = area.world
    one = {b.order(start=T0 + timedelta(hours=3 * i), validate=True).id for i in range(n1)}
    two = {
        b.order(
            start=T0 + timedelta(hours=3 * i),
            caregiver=w.p2.caregiver,
            client=w.p2.client,
        ).id
        for i in range(n2)
    }
    return one, two


def _sample(client, headers, **body):
    r = client.post(f"{API}/callbacks:sample", json={**PERIOD, **body}, headers=headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_the_sample_is_stratified_per_provider_and_reproducible(client, area, b, db):
    one, two = _orders(b, area, 6, 4)
    db.commit()
    sup = area.h(area.district_sup)
    first = _sample(client, sup, count=2, seed=42)
    strata = {s["provider_id"]: s for s in first["by_provider"]}
    p1, p2 = area.world.p1.provider.id, area.world.p2.provider.id
    assert strata[p1]["eligible"] == 6 and strata[p2]["eligible"] == 4
    assert strata[p1]["sampled"] == 2 and strata[p2]["sampled"] == 2
    drawn = set(first["work_order_ids"])
    assert len(drawn & one) == 2 and len(drawn & two) == 2
    assert first["created"] == 4
    # The same seed draws the same orders and adds nothing; a share works per stratum.
    again = _sample(client, sup, count=2, seed=42)
    assert again["work_order_ids"] == first["work_order_ids"] and again["created"] == 0
    half = _sample(client, sup, share=0.5, seed=42)
    assert {s["provider_id"]: s["sampled"] for s in half["by_provider"]} == {p1: 3, p2: 2}
    listed = client.get(f"{API}/callbacks?status=pending&page_size=100", headers=sup).get_json()
    ids = {row["work_order"]["id"] for row in listed}
    assert drawn <= ids and all(row["client"]["phone"] is not None or True for row in listed)


def test_one_providers_draw_does_not_depend_on_the_others(client, area, b, db):
    one, _ = _orders(b, area, 5, 0)
    db.commit()
    alone = _sample(client, area.h(area.district_sup), count=2, seed=9)["work_order_ids"]
    db.rollback()  # nothing: the sample is committed with the request; redo in a fresh world
    assert len(alone) == 2 and set(alone) <= one


def test_the_street_supervisor_samples_only_its_street(client, area, b, db):
    w = area.world
    b.order(client=area.jiang_client, caregiver=area.jiang_caregiver)
    inside = b.order(start=T0 + timedelta(hours=5)).id
    db.commit()
    got = _sample(client, area.h(area.street_sup), count=5, seed=1)
    assert got["work_order_ids"] == [inside]
    r = client.get(f"{API}/callbacks?page_size=100", headers=w.headers(w.p2.dispatcher))
    assert r.status_code == 200 and r.get_json() == []  # p2 has no call-back here


def test_bad_sample_requests_are_coded(client, area):
    sup = area.h(area.district_sup)
    r = client.post(f"{API}/callbacks:sample", json={**PERIOD, "seed": 1}, headers=sup)
    assert r.status_code == 422 and r.get_json()["code"] == "SAMPLE_SIZE_REQUIRED"
    r = client.post(
        f"{API}/callbacks:sample", json={**PERIOD, "seed": 1, "count": 1, "share": 0.5}, headers=sup
    )
    assert r.status_code == 422 and r.get_json()["code"] == "SAMPLE_SIZE_REQUIRED"
    r = client.post(
        f"{API}/callbacks:sample",
        json={"from": "2026-11-30", "to": "2026-11-01", "seed": 1, "count": 1},
        headers=sup,
    )
    assert r.status_code == 422 and r.get_json()["code"] == "INVALID_PERIOD"


def test_did_not_take_place_blocks_approval_until_finance_overrides(client, area, b, db):
    w = area.world
    order_id = b.order().id
    db.commit()
    sup = area.h(area.street_sup)
    _sample(client, sup, count=1, seed=3)
    cb = client.get(f"{API}/callbacks?work_order_id={order_id}", headers=sup).get_json()[0]
    r = client.post(
        f"{API}/callbacks/{cb['callback']['id']}",
        json={"reached": True, "took_place": "no", "satisfaction": 1, "note": "老人说那天没人来"},
        headers=sup,
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["work_order"]["status"] == "flagged"
    fin = w.headers(w.finance)
    order = client.get(f"{API}/work-orders/{order_id}", headers=fin).get_json()
    flag = next(f for f in order["flags"] if f["code"] == "CALLBACK_DENIED")
    assert flag["severity"] == "block" and flag["status"] == "open"
    assert flag["evidence"]["callback_id"] == cb["callback"]["id"]
    decide = f"{API}/work-orders/{order_id}/decision"
    r = client.post(decide, json={"decision": "approve", "reason": "ok"}, headers=fin)
    assert r.status_code == 409 and r.get_json()["code"] == "FLAGS_OPEN"
    r = client.post(
        decide,
        json={
            "decision": "approve",
            "reason": "护理员出示了老人签字的服务单，老人记错了日期",
            "override_flags": [flag["id"]],
        },
        headers=fin,
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "approved"
    # Decided: the call-back can no longer change what is paid.
    r = client.post(
        f"{API}/callbacks/{cb['callback']['id']}",
        json={"reached": True, "took_place": "yes", "satisfaction": 5},
        headers=sup,
    )
    assert r.status_code == 409 and r.get_json()["code"] == "CALLBACK_ORDER_DECIDED"


def test_a_yes_leaves_the_order_payable_and_feeds_satisfaction(client, area, b, db):
    order_id = b.order().id
    db.commit()
    sup = area.h(area.street_sup)
    _sample(client, sup, count=1, seed=3)
    cb = client.get(f"{API}/callbacks?work_order_id={order_id}", headers=sup).get_json()[0]
    r = client.post(
        f"{API}/callbacks/{cb['callback']['id']}",
        json={"reached": True, "took_place": "yes", "satisfaction": 4},
        headers=sup,
    )
    assert r.status_code == 200
    assert r.get_json()["work_order"]["status"] == "verified"
    figures = client.get(
        f"{API}/supervision/figures?from=2026-11-01&to=2026-11-30", headers=sup
    ).get_json()
    assert figures["totals"]["satisfaction"] == "4.00"
    assert figures["totals"]["callbacks_answered"] == 1


def test_an_unreached_elder_gives_no_verdict(client, area, b, db):
    order_id = b.order().id
    db.commit()
    sup = area.h(area.street_sup)
    _sample(client, sup, count=1, seed=3)
    cb = client.get(f"{API}/callbacks?work_order_id={order_id}", headers=sup).get_json()[0]
    url = f"{API}/callbacks/{cb['callback']['id']}"
    r = client.post(url, json={"reached": False, "took_place": "no"}, headers=sup)
    assert r.status_code == 422 and r.get_json()["code"] == "CALLBACK_NOT_REACHED"
    r = client.post(url, json={"reached": False}, headers=sup)
    assert r.status_code == 200 and r.get_json()["callback"]["took_place"] == "unsure"
    other = client.post(
        f"{API}/callbacks/{cb['callback']['id']}",
        json={"reached": False},
        headers=area.h(area.street_sup),
    )
    assert other.status_code == 200
