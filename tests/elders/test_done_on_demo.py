"""The issue's "Done when", through HTTP on the demo district with a real rq worker.

The demo is seeded and today planned and published as ``make demo`` does; everyone logs in
with the demo password; queued jobs run on rq's worker (``run_jobs``), the call clock as the
periodic runner calls it.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from dispatch import call_clock, config, periodic
from dispatch.db import utcnow
from dispatch.demo import PASSWORD, seed_demo
from dispatch.demo.elders import pendant_keys, seed_elders
from dispatch.models import Call, Client, Device, FamilyLink, User
from dispatch.services.demo_day import plan_demo_day
from tests.dispatch.conftest import run_jobs

ONCALL_PASSWORD = "on call tonight"


pytestmark = pytest.mark.usefixtures("ten_oclock")


class Demo:
    def __init__(self, client: FlaskClient, db: Any) -> None:
        self.client, self.db, self.tokens = client, db, {}

    def login(self, username: str) -> dict[str, str]:
        if username not in self.tokens:
            password = ONCALL_PASSWORD if username == "oncall1" else PASSWORD
            r = self.client.post(
                "/api/v1/auth/login", json={"username": username, "password": password}
            )
            assert r.status_code == 200, r.json
            self.tokens[username] = r.json["access_token"]
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def as_(self, username: str, method: str, path: str, **kw: Any) -> Any:
        headers = {**self.login(username), **kw.pop("headers", {})}
        return self.client.open(f"/api/v1{path}", method=method, headers=headers, **kw)

    def device(self, key: str, method: str, path: str, **kw: Any) -> Any:
        return self.client.open(
            f"/api/v1{path}", method=method, headers={"X-Device-Key": key}, **kw
        )


@pytest.fixture
def demo(db: Any, client: FlaskClient) -> Demo:
    now = utcnow()
    today = now.astimezone(config.zone()).date()
    seed_demo(db, 7, today)
    plan_demo_day(db, today, time_limit_s=5)
    seed_elders(db, 7, now)
    db.commit()
    return Demo(client, db)


def on_call_tonight(d: Demo) -> int:
    """Provider 1's dispatcher puts a caregiver on call all day, so that someone works now."""
    today = utcnow().astimezone(config.zone()).date()
    body = {
        "code": "ONCALL1",
        "name": "值班护理员 周敏",
        "gender": "female",
        "home_lat": 29.31,
        "home_lon": 120.075,
        "max_minutes_per_day": 1440,
    }
    r = d.as_("dispatcher1", "POST", "/caregivers", json=body)
    assert r.status_code == 201, r.json
    cid = r.json["id"]
    shift = {"on_date": today.isoformat(), "start_time": "00:00", "end_time": "23:59"}
    r = d.as_("dispatcher1", "POST", f"/caregivers/{cid}/shifts", json=shift)
    assert r.status_code == 201, r.json
    r = d.as_(
        "provider1",
        "POST",
        "/users",
        json={
            "username": "oncall1",
            "password": ONCALL_PASSWORD,
            "role": "caregiver",
            "caregiver_id": cid,
        },
    )
    assert r.status_code == 201, r.json
    return cid


def evv(d: Demo, username: str, visit_id: int, kind: str, at: datetime, where: Client) -> Any:
    event = {
        "idempotency_key": str(uuid.uuid4()),
        "device_time": at.isoformat(),
        "lat": where.lat,
        "lon": where.lon,
        "accuracy_m": 12,
    }
    return d.as_(
        username,
        "POST",
        f"/visits/{visit_id}/{kind}",
        data={"event": json.dumps(event)},
        content_type="multipart/form-data",
    )


def test_a_pendant_call_on_the_demo_from_press_to_closed(demo: Demo) -> None:
    d = demo
    on_call_tonight(d)
    _code, name, key = pendant_keys(d.db)[0]
    idem, sent = str(uuid.uuid4()), utcnow()
    press = {"kind": "sos", "idempotency_key": idem, "device_time": sent.isoformat()}
    answers = [d.device(key, "POST", "/calls", json=press) for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 200, 200]
    assert answers[1].json == answers[0].json == answers[2].json
    call_id = answers[0].json["id"]
    assert d.db.scalar(select(func.count()).select_from(Call).where(Call.opened_at >= sent)) == 1

    assert answers[0].json["proposal"] is not None  # urgent insertion, in the request
    run_jobs()  # nothing is left for the worker: the proposal did not fail
    listed = d.as_("dispatcher1", "GET", "/calls?status=open").json
    assert listed[0]["id"] == call_id and listed[0]["client"]["name"] == name
    proposal = listed[0]["proposal"]
    assert proposal is not None, listed[0]["no_proposal"]

    r = d.as_("dispatcher1", "POST", f"/calls/{call_id}/dispatch", json={})
    assert r.status_code == 200, r.json
    cg, visit_id = r.json["caregiver_id"], r.json["visit_id"]
    assert cg == proposal["caregiver_id"]
    carer = d.db.scalar(select(User.username).where(User.caregiver_id == cg))
    mine = d.as_(carer, "GET", "/me/visits").json
    assert visit_id in [v["id"] for v in mine]

    elder = d.db.get(Client, answers[0].json["client_id"])
    arrived = utcnow()
    assert evv(d, carer, visit_id, "check-in", arrived, elder).status_code == 201
    assert d.as_("dispatcher1", "GET", f"/calls/{call_id}").json["status"] == "answered"
    out = arrived + timedelta(minutes=25)
    assert evv(d, carer, visit_id, "check-out", out, elder).status_code == 201
    done = d.as_("dispatcher1", "GET", f"/calls/{call_id}").json
    assert done["status"] == "closed"
    opened = datetime.fromisoformat(done["opened_at"])
    expected = round((arrived - opened).total_seconds() / 60, 1)
    assert done["call_to_arrival_min"] == pytest.approx(expected, abs=0.1)


def test_an_undispatched_sos_on_the_demo_is_escalated_after_its_threshold(demo: Demo) -> None:
    d = demo
    _code, _name, key = pendant_keys(d.db)[1]
    press = {"kind": "sos", "idempotency_key": str(uuid.uuid4())}
    call_id = d.device(key, "POST", "/calls", json=press).json["id"]
    assert call_clock.escalate_overdue_calls() == []  # not due yet
    call = d.db.get(Call, call_id)
    # Five minutes and a little pass without a dispatch.
    call.opened_at -= timedelta(minutes=5, seconds=20)
    call.due_at -= timedelta(minutes=5, seconds=20)
    d.db.commit()
    assert "dispatch.call_clock.escalate_overdue_calls" in {t.name for t in periodic.load_tasks()}
    assert call_clock.escalate_overdue_calls() == [call_id]
    shown = d.as_("dispatcher1", "GET", f"/calls/{call_id}").json
    assert shown["status"] == "escalated" and shown["overdue"] is True
    assert shown["escalations"][0]["auto"] is True


def test_a_family_member_on_the_demo(demo: Demo) -> None:
    d = demo
    user = d.db.scalar(select(User).where(User.username == "family1_1"))
    linked = set(d.db.scalars(select(FamilyLink.client_id).where(FamilyLink.user_id == user.id)))
    mine = d.as_("family1_1", "GET", "/me/clients").json
    assert {c["id"] for c in mine} == linked and len(linked) == 1
    elder_id = mine[0]["id"]
    other = d.db.scalar(select(Client.id).where(Client.id.not_in(linked)).limit(1))
    r = d.as_("family1_1", "GET", f"/me/clients/{other}/visits")
    assert (r.status_code, r.json["code"]) == (404, "CLIENT_NOT_FOUND")

    # Order a service and see it accepted.
    day = (utcnow().astimezone(config.zone()).date() + timedelta(days=3)).isoformat()
    body = {"client_id": elder_id, "service_code": "CHAT", "date": day}
    body |= {"window_start": "14:00", "window_end": "16:00"}
    r = d.as_("family1_1", "POST", "/orders", json=body)
    assert r.status_code == 201 and r.json["status"] == "requested", r.json
    assert (
        d.as_("dispatcher1", "POST", f"/orders/{r.json['id']}/accept", json={}).status_code == 200
    )
    states = {o["id"]: o["status"] for o in d.as_("family1_1", "GET", "/orders").json}
    assert states[r.json["id"]] == "accepted"

    # The family presses the call button; the call's visit is checked in and out: one
    # notification each; the done visit is rated once.
    before = len(d.as_("family1_1", "GET", "/me/notifications?page_size=100").json)
    on_call_tonight(d)
    call = {"client_id": elder_id, "kind": "help", "idempotency_key": str(uuid.uuid4())}
    r = d.as_("family1_1", "POST", "/calls", json=call)
    assert r.status_code == 201 and r.json["source"] == "family", r.json
    run_jobs()
    r = d.as_("dispatcher1", "POST", f"/calls/{r.json['id']}/dispatch", json={})
    assert r.status_code == 200, r.json
    visit_id = r.json["visit_id"]
    carer = d.db.scalar(select(User.username).where(User.caregiver_id == r.json["caregiver_id"]))
    elder = d.db.get(Client, elder_id)
    assert evv(d, carer, visit_id, "check-in", utcnow(), elder).status_code == 201
    out = utcnow() + timedelta(minutes=30)
    assert evv(d, carer, visit_id, "check-out", out, elder).status_code == 201
    notes = d.as_("family1_1", "GET", "/me/notifications?page_size=100").json
    new = [n for n in notes if n["visit_id"] == visit_id]
    # The check-in answered the call: one "arrived" message for it, not also a "check_in".
    assert sorted(n["kind"] for n in new) == ["arrived", "call_dispatched", "check_out"]
    assert len(notes) == before + 3
    r = d.as_("family1_1", "POST", f"/visits/{visit_id}/rating", json={"stars": 5})
    assert r.status_code == 201
    again = d.as_("family1_1", "POST", f"/visits/{visit_id}/rating", json={"stars": 4})
    assert (again.status_code, again.json["code"]) == (409, "ALREADY_RATED")
    r = d.as_("family1_1", "POST", "/complaints", json={"client_id": elder_id, "text": "请准时"})
    assert r.status_code == 201 and r.json["status"] == "open"


def test_demo_devices_and_family_logins_are_printed(demo: Demo) -> None:
    keys = pendant_keys(demo.db)
    assert len(keys) == 5 * 3
    assert demo.db.scalar(select(func.count()).select_from(Device)) == len(keys)
    # A second seeding adds nothing.
    assert seed_elders(demo.db, 7, utcnow()).created is False
