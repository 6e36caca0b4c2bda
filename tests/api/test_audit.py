"""Creating, changing and deactivating a plain noun writes who did it, before and after."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from dispatch.models import AuditEntry
from tests.api.test_bad_input import ENDPOINTS, create, send


def entries(db: Any, entity_id: int) -> list[AuditEntry]:
    return list(
        db.scalars(
            select(AuditEntry).where(AuditEntry.entity_id == entity_id).order_by(AuditEntry.id)
        )
    )


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_create_and_update_are_audited(client, world, db, name):
    ep = ENDPOINTS[name]
    actor = ep.user(world).id
    url = create(client, world, ep)
    ident = int(url.rsplit("/", 1)[1])
    r = send(client, world, ep, "PATCH", url, json=ep.patch)
    assert r.status_code == 200
    table = ep.model.__tablename__
    log = [e for e in entries(db, ident) if e.entity_type == table]
    assert [e.action for e in log] == ["create", "update"]
    created, updated = log
    assert created.actor_user_id == actor and updated.actor_user_id == actor
    assert created.before is None and created.after["id"] == ident
    assert "password_hash" not in created.after
    changed = next(iter(ep.patch))
    assert changed in updated.after and changed in updated.before
    assert updated.before[changed] != updated.after[changed]
    assert set(updated.after) <= set(ep.patch) | {"token_version"}


@pytest.mark.parametrize(
    "name",
    [
        "providers",
        "users",
        "clients",
        "caregivers",
        "service-types",
        "service-points",
        "care-plans",
    ],
)
def test_delete_deactivates_and_is_audited(client, world, db, name):
    ep = ENDPOINTS[name]
    url = create(client, world, ep)
    ident = int(url.rsplit("/", 1)[1])
    r = send(client, world, ep, "DELETE", url)
    assert r.status_code == 204
    r = send(client, world, ep, "GET", url)
    assert r.status_code == 200 and r.json["active"] is False
    last = [e for e in entries(db, ident) if e.entity_type == ep.model.__tablename__][-1]
    assert last.action == "deactivate"
    assert last.actor_user_id == ep.user(world).id
    assert (last.before, last.after) == ({"active": True}, {"active": False})


def test_child_delete_is_audited_with_the_row(client, world, db):
    ep = ENDPOINTS["shifts"]
    url = create(client, world, ep)
    ident = int(url.rsplit("/", 1)[1])
    assert send(client, world, ep, "DELETE", url).status_code == 204
    last = [e for e in entries(db, ident) if e.entity_type == "shifts"][-1]
    assert last.action == "delete" and last.before["on_date"] == "2026-11-24"
    assert last.provider_id == world.p1.provider.id
