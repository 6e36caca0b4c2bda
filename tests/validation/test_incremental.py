"""The incremental path reads a few wide queries; on a generated month it must find exactly what
the generic loader (the one the batch shares) finds, for single orders and for uploads."""

from __future__ import annotations

import importlib.util
import random
import sys
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from dispatch.db import Base, make_engine
from dispatch.models import Caregiver, Client, Photo, VisitEvent, WorkOrder
from dispatch.validation.context import Cache, load_context
from dispatch.validation.engine import validate_orders
from dispatch.validation.incremental import plan
from dispatch.validation.orders import OPEN_STATUSES, WINDOW, load_orders, month_bounds
from dispatch.validation.pipeline import evaluate
from dispatch.validation.settings import REFERENCE
from tests.conftest import ROOT, create_database, drop_database
from tests.factories import T0, Builder


def _world_module() -> Any:
    spec = importlib.util.spec_from_file_location(
        "_validation_world", ROOT / "bench" / "_validation_world.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["_validation_world"] = module
    spec.loader.exec_module(module)
    return module


def _photos_across_people(s: Session, world: Any) -> dict[str, tuple[int, int]]:
    """Photos shared beyond one person's days, which the generated month lacks: the same photo
    used by another person for another client twelve days later, a near copy (3 bits apart) at
    the same client by another person five days later, and the same perceptual hash on another
    photo of another person and client ten days later. (first order, later order) by case."""
    person = {c["id"]: c["person_hash"] for c in world.rows["caregivers"]}
    photo_of = {
        (e["visit_id"], e["caregiver_id"], e["kind"]): e["photo_id"]
        for e in world.rows["visit_events"]
        if e["photo_id"]
    }
    phash = {p["id"]: p["phash"] for p in world.rows["photos"]}
    first_day = min(o["start_at"] for o in world.rows["work_orders"])
    plain = [
        o
        for o in world.rows["work_orders"]
        if o["id"] not in world.touched
        and (o["visit_id"], o["caregiver_id"], "check_in") in photo_of
        and (o["visit_id"], o["caregiver_id"], "check_out") in photo_of
    ]

    def on_day(day: int, *, unlike: list[dict[str, Any]]) -> dict[str, Any]:
        return next(
            o
            for o in plain
            if (o["start_at"] - first_day).days == day
            and all(
                person[o["caregiver_id"]] != person[u["caregiver_id"]]
                and o["client_id"] != u["client_id"]
                for u in unlike
            )
        )

    def photo(o: dict[str, Any], kind: str) -> int:
        return photo_of[(o["visit_id"], o["caregiver_id"], kind)]

    cases: dict[str, tuple[int, int]] = {}
    a = on_day(0, unlike=[])
    b = on_day(12, unlike=[a])
    s.execute(
        update(VisitEvent)
        .where(VisitEvent.visit_id == b["visit_id"], VisitEvent.kind == "check_in")
        .values(photo_id=photo(a, "check_in"))
    )
    cases["same photo"] = (a["id"], b["id"])
    c = on_day(2, unlike=[a, b])
    d = on_day(7, unlike=[a, b, c])
    s.execute(update(WorkOrder).where(WorkOrder.id == d["id"]).values(client_id=c["client_id"]))
    near = int(phash[photo(c, "check_in")], 16) ^ 0b10101
    s.execute(update(Photo).where(Photo.id == photo(d, "check_out")).values(phash=f"{near:016x}"))
    cases["near copy at the client"] = (c["id"], d["id"])
    e = on_day(3, unlike=[a, b, c, d])
    f = on_day(13, unlike=[a, b, c, d, e])
    s.execute(
        update(Photo)
        .where(Photo.id == photo(f, "check_in"))
        .values(phash=phash[photo(e, "check_in")])
    )
    cases["same perceptual hash"] = (e["id"], f["id"])
    return cases


@pytest.fixture(scope="module")
def month(pg_admin_url: str) -> Any:
    """A generated fortnight (every anomaly, twins across providers, entitlements, timesheet
    rows), a few orders approved or rejected; its own database, dropped afterwards."""
    world = _world_module().generate(caregivers=40, days=14, per_rule=3, seed=5)
    url = create_database(pg_admin_url, prefix="cdinc")
    engine = make_engine(url)
    try:
        Base.metadata.create_all(engine)
        _world_module().copy_rows(url, world)
        with Session(engine) as s:
            ids = s.scalars(select(WorkOrder.id).order_by(WorkOrder.id)).all()
            rng = random.Random(5)
            for status, chosen in (("approved", 20), ("rejected", 10)):
                s.execute(
                    update(WorkOrder)
                    .where(WorkOrder.id.in_(rng.sample(ids, chosen)))
                    .values(status=status)
                )
            cross = _photos_across_people(s, world)
            s.commit()
        yield engine, world, cross
    finally:
        engine.dispose()
        drop_database(pg_admin_url, url)


def _expected_targets(s: Session, ids: list[int]) -> tuple[set[int], set[int]]:
    """What validate_orders evaluated before the wide queries, written out plainly."""
    given = load_orders(s, ids)
    persons = {o.person for o in given.values()}
    cg_ids = {o.caregiver_id for o in given.values()} | set(
        s.scalars(select(Caregiver.id).where(Caregiver.person_hash.in_(persons)))
    )
    lo = min(o.start_at for o in given.values()) - WINDOW
    hi = max(o.end_at for o in given.values()) + WINDOW
    full = {o.id for o in given.values() if o.status in OPEN_STATUSES} | set(
        s.scalars(
            select(WorkOrder.id).where(
                WorkOrder.caregiver_id.in_(cg_ids),
                WorkOrder.start_at >= lo,
                WorkOrder.start_at <= hi,
                WorkOrder.status.in_(OPEN_STATUSES),
            )
        )
    )
    later: set[int] = set()
    for o in given.values():
        later.update(
            s.scalars(
                select(WorkOrder.id)
                .join(Client, Client.id == WorkOrder.client_id)
                .where(
                    WorkOrder.client_id == o.client_id,
                    Client.monthly_entitlement_min.is_not(None),
                    WorkOrder.start_at > o.start_at,
                    WorkOrder.start_at < month_bounds(o.start_at)[2],
                    WorkOrder.status.in_(OPEN_STATUSES),
                )
            )
        )
    return full, later - full


def _findings(ctx: Any, p: Any) -> dict[tuple[int, str, int], Any]:
    found = evaluate(ctx, p.full, p.partial, p.configs)
    return {k: (f.evidence, ctx.orders[k[0]].status) for k, f in found.items()}


def _check(s: Session, ids: list[int]) -> bool:
    p = plan(s, ids)
    assert p is not None
    full, extra = _expected_targets(s, ids)
    assert set(p.full) == full
    assert set(p.extra) == extra
    if p.ctx is None:
        return False
    generic = load_context(s, p.full, Cache(), p.extra, p.known_cg_ids)
    assert _findings(p.ctx, p) == _findings(generic, p)
    assert p.ctx.month_before_min == generic.month_before_min
    return True


def test_single_orders_find_what_the_generic_context_finds(month: Any) -> None:
    engine, world, cross = month
    with Session(engine) as s:
        ids = s.scalars(select(WorkOrder.id).order_by(WorkOrder.id)).all()
        chosen = set(random.Random(1).sample(ids, 150)) | world.touched
        chosen = sorted(chosen | {oid for pair in cross.values() for oid in pair})
        fast = sum(_check(s, [oid]) for oid in chosen)
    assert fast >= len(chosen) * 0.9  # frozen orders with no open neighbour take the generic path


def test_uploads_find_what_the_generic_context_finds(month: Any) -> None:
    """One person's orders together take the wide path; several people's the generic loader,
    which evaluates the same orders."""
    engine, _, _ = month
    with Session(engine) as s:
        rows = s.execute(
            select(WorkOrder.id, WorkOrder.caregiver_id).order_by(WorkOrder.start_at)
        ).all()
        rng = random.Random(2)
        for _ in range(6):
            caregiver = rng.choice(rows)[1]
            mine = [oid for oid, cg in rows if cg == caregiver]
            start = rng.randrange(len(mine))
            assert _check(s, mine[start : start + rng.choice((2, 5, 20))])
        ids = [oid for oid, _ in rows]
        for size in (2, 5, 20, 60):
            assert not _check(s, rng.sample(ids, size))


def test_findings_hold_for_every_rule(month: Any) -> None:
    """The comparisons above are not vacuous: the month holds findings of every injected rule,
    and each photo shared across people is found from either side."""
    engine, world, cross = month
    with Session(engine) as s:
        codes: set[str] = set()
        for oid in sorted({oid for oid, _ in world.injected}):
            p = plan(s, [oid])
            if p is not None and p.ctx is not None:
                codes |= {k[1] for k in evaluate(p.ctx, p.full, p.partial, p.configs)}
        assert codes >= {code for _, code in world.injected}
        for case, (first, later) in cross.items():
            for oid in (first, later):
                p = plan(s, [oid])
                assert p is not None and p.ctx is not None
                found = evaluate(p.ctx, p.full, p.partial, p.configs)
                assert (later, "PHOTO_REUSED", first) in found, case


# --------------------------------------------------------------------------- the cache


def test_rule_patch_applies_to_the_next_arrival(b: Builder, client, world, db) -> None:
    o = b.order(minutes=30)  # 30 < 45 × 0.67
    assert "SHORT_VISIT" in b.codes(o)
    db.commit()
    r = client.patch(
        "/api/v1/rules/SHORT_VISIT",
        json={"threshold": 0.6, "reason": "短时服务"},
        headers=world.headers(world.admin),
    )
    assert r.status_code == 200, r.json
    validate_orders(db, [o.id])  # 30 >= 45 × 0.6
    assert "SHORT_VISIT" in b.flags(o, status="closed")


def test_changes_made_by_another_process_are_seen(b: Builder, db) -> None:
    """Another worker's PATCH or an edited service type never passes through this process's
    ``update_rule``: the fingerprints read with every run still reload the cache."""
    o = b.order(minutes=15, service="VISIT")  # no photo; 15 < 30 × 0.67
    assert {"PHOTO_MISSING", "SHORT_VISIT"} <= b.codes(o)
    loads = REFERENCE.loads
    validate_orders(db, [o.id])
    assert REFERENCE.loads == loads  # nothing changed: the cache answered
    db.execute(text("UPDATE service_types SET photo_required = false WHERE code = 'VISIT'"))
    db.execute(
        text(
            "INSERT INTO rule_settings (code, enabled, updated_at)"
            " VALUES ('SHORT_VISIT', false, now())"
        )
    )
    validate_orders(db, [o.id])
    assert REFERENCE.loads == loads + 2
    closed = b.flags(o, status="closed")
    assert "PHOTO_MISSING" in closed
    assert "disabled" in closed["SHORT_VISIT"].resolution


def test_a_neighbour_longer_than_a_day_takes_the_generic_path(b: Builder, db) -> None:
    """The wide rows reach a day past the evaluated orders; a longer order is read generically."""
    long = b.order(start=T0 + timedelta(hours=30), minutes=32 * 60)
    o = b.order()
    p = plan(db, [o.id])
    assert p is not None and p.ctx is None and {o.id, long.id} <= set(p.full)
    assert "LONG_VISIT" in b.codes(long)
