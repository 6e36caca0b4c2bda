"""A supervisor reads across providers inside its area and nothing outside it (dispatch/areas.py).

The street supervisor of 稠城街道 sees both providers' 稠城 elders, not p1's 江东 elder, nor a
client of 东阳市 that happens to live on a street of the same name; an id outside is a 404, as
another tenant's is. The district supervisor of 义乌市 sees both streets.
"""

from __future__ import annotations

from tests.supervision.conftest import CHOUCHENG, JIANGDONG

API = "/api/v1"


def ids(r) -> set[int]:
    assert r.status_code == 200, r.get_json()
    return {row["id"] for row in r.get_json()}


def test_the_street_supervisor_lists_only_its_streets_elders(client, area):
    got = ids(client.get(f"{API}/clients?page_size=100", headers=area.h(area.street_sup)))
    assert got == {area.chou_client.id, area.p2_client.id}


def test_the_district_supervisor_lists_every_street_of_its_district(client, area):
    got = ids(client.get(f"{API}/clients?page_size=100", headers=area.h(area.district_sup)))
    assert got == {area.chou_client.id, area.p2_client.id, area.jiang_client.id}


def test_another_streets_elder_is_a_404_for_the_street_supervisor(client, area):
    h = area.h(area.street_sup)
    assert client.get(f"{API}/clients/{area.chou_client.id}", headers=h).status_code == 200
    for outside in (area.jiang_client.id, area.other_client.id):
        r = client.get(f"{API}/clients/{outside}", headers=h)
        assert r.status_code == 404 and r.get_json()["code"] == "CLIENT_NOT_FOUND"
        r = client.get(f"{API}/clients/{outside}/absences", headers=h)
        assert r.status_code == 404


def test_another_districts_elder_is_a_404_for_the_district_supervisor(client, area):
    r = client.get(f"{API}/clients/{area.other_client.id}", headers=area.h(area.district_sup))
    assert r.status_code == 404


def test_work_orders_and_visits_follow_their_elder(client, area, b):
    inside = b.order(client=area.chou_client)
    outside = b.order(client=area.jiang_client, caregiver=area.jiang_caregiver)
    (i, iv), (o, ov) = (inside.id, inside.visit_id), (outside.id, outside.visit_id)
    area.world.db.commit()
    h = area.h(area.street_sup)
    assert ids(client.get(f"{API}/work-orders?page_size=100", headers=h)) == {i}
    assert client.get(f"{API}/work-orders/{i}", headers=h).status_code == 200
    assert client.get(f"{API}/work-orders/{o}", headers=h).status_code == 404
    assert ids(client.get(f"{API}/visits?page_size=100", headers=h)) == {iv}
    assert client.get(f"{API}/visits/{ov}", headers=h).status_code == 404
    # The district supervisor sees both.
    both = ids(client.get(f"{API}/work-orders?page_size=100", headers=area.h(area.district_sup)))
    assert both == {i, o}


def test_caregivers_by_their_own_street(client, area):
    h = area.h(area.street_sup)
    got = ids(client.get(f"{API}/caregivers?page_size=100", headers=h))
    assert area.world.p1.caregiver.id in got
    assert area.jiang_caregiver.id not in got and area.other_caregiver.id not in got
    assert client.get(f"{API}/caregivers/{area.jiang_caregiver.id}", headers=h).status_code == 404


def test_providers_inside_the_area_only(client, area):
    w = area.world
    h = area.h(area.street_sup)
    got = ids(client.get(f"{API}/providers?page_size=100", headers=h))
    assert got == {w.p1.provider.id, w.p2.provider.id}
    r = client.get(f"{API}/providers/{area.other_provider.id}", headers=h)
    assert r.status_code == 404


def test_a_provider_without_elders_on_the_street_is_outside_it(client, area):
    w = area.world
    w.p2.client.street = JIANGDONG
    w.db.commit()
    h = area.h(area.street_sup)
    assert client.get(f"{API}/providers/{w.p2.provider.id}", headers=h).status_code == 404
    assert (
        client.get(
            f"{API}/providers/{w.p2.provider.id}", headers=area.h(area.district_sup)
        ).status_code
        == 200
    )


def test_a_supervisor_writes_nothing(client, area):
    h = area.h(area.district_sup)
    body = {"code": "X1", "name": "x", "address": "x", "lat": 29.3, "lon": 120.1}
    r = client.post(f"{API}/clients", json=body, headers=h)
    assert r.status_code == 403 and r.get_json()["code"] == "FORBIDDEN"
    r = client.patch(f"{API}/clients/{area.chou_client.id}", json={"name": "y"}, headers=h)
    assert r.status_code == 403


def test_a_supervisor_reads_no_users_devices_plans_or_audit(client, area):
    h = area.h(area.district_sup)
    for path in ("/users", "/devices", "/plans", "/audit", "/billing-batches", "/appeals"):
        assert client.get(f"{API}{path}", headers=h).status_code == 403, path


def test_admin_creates_a_street_supervisor(client, area):
    w = area.world
    body = {
        "username": "sup_new",
        "password": "a long enough password",
        "role": "supervisor",
        "area_district": "义乌市",
        "area_streets": [CHOUCHENG, f" {CHOUCHENG} "],
    }
    r = client.post(f"{API}/users", json=body, headers=w.headers(w.admin))
    assert r.status_code == 201, r.get_json()
    user = r.get_json()
    assert user["area_district"] == "义乌市" and user["area_streets"] == [CHOUCHENG]
    assert user["provider_id"] is None
    login = client.post(
        f"{API}/auth/login", json={"username": "sup_new", "password": "a long enough password"}
    )
    token = login.get_json()["access_token"]
    got = ids(
        client.get(f"{API}/clients?page_size=100", headers={"Authorization": f"Bearer {token}"})
    )
    assert got == {area.chou_client.id, area.p2_client.id}


def test_a_supervisor_needs_a_district_and_no_provider(client, area):
    w = area.world
    base = {"username": "sup_bad", "password": "a long enough password", "role": "supervisor"}
    r = client.post(f"{API}/users", json=base, headers=w.headers(w.admin))
    assert r.status_code == 422 and r.get_json()["code"] == "AREA_REQUIRED"
    assert "area_district" in r.get_json()["errors"]
    r = client.post(
        f"{API}/users",
        json={**base, "area_district": "义乌市", "provider_id": w.p1.provider.id},
        headers=w.headers(w.admin),
    )
    assert r.status_code == 422 and r.get_json()["code"] == "PLATFORM_USER_HAS_PROVIDER"
    r = client.post(
        f"{API}/users",
        json={**base, "role": "finance", "area_district": "义乌市"},
        headers=w.headers(w.admin),
    )
    assert r.status_code == 422 and r.get_json()["code"] == "AREA_NOT_ALLOWED"


def test_a_provider_admin_may_not_grant_supervisor(client, area):
    w = area.world
    body = {
        "username": "sup_p",
        "password": "a long enough password",
        "role": "supervisor",
        "area_district": "义乌市",
    }
    r = client.post(f"{API}/users", json=body, headers=w.headers(w.p1.provider_admin))
    assert r.status_code == 403 and r.get_json()["code"] == "ROLE_NOT_GRANTABLE"
