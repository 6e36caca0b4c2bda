"""The role × operation matrix: docs/privileges.md against the served OpenAPI document and HTTP.

For every operation of /api/v1/openapi.json and every role of the ``Role`` enum:
- the table has one row for it, naming exactly the roles of its ``x-roles``;
- without a token it answers 401 (unless the row says ``public``);
- a role the row does not name answers a coded 403, with missing ids and with its own
  provider's real rows in the path alike, never a 2xx;
- a role the row names gets through (neither 401 nor 403) with ids that do not exist.
How to extend the table for a new operation or role: docs/privileges.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask_jwt_extended import create_refresh_token

from dispatch.models import Role, User
from tests.api.test_tenancy import FACTORIES, GLOBAL, Rows
from tests.conftest import World

TABLE = Path(__file__).resolve().parents[2] / "docs" / "privileges.md"
ROW = re.compile(r"^\| `(GET|POST|PUT|PATCH|DELETE) (/api/v1/\S*)` \| ([^|]*) \|\s*$")
METHODS = ("get", "post", "put", "patch", "delete")
MISSING = 2_000_000_000
# Path parameters that are not ids: a value that reaches the role check.
NON_ID_PARAMS = {
    "day": "2026-11-23",
    "code": "GEOFENCE_IN",
    "format": "csv",
    "month": "2026-01",
}
# Operations called with the refresh token instead of the access token.
REFRESH = {"POST /api/v1/auth/refresh"}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    roles: frozenset[str] | None  # None: public
    params: tuple[tuple[str, bool], ...]  # (name, is an integer id)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    def url(self, values: dict[str, int]) -> str:
        def fill(m: re.Match[str]) -> str:
            name = m.group(1)
            return str(values[name]) if name in values else NON_ID_PARAMS.get(name, "x")

        return re.sub(r"\{(\w+)\}", fill, self.path)


def read_table() -> dict[str, frozenset[str] | None]:
    rows: dict[str, frozenset[str] | None] = {}
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        m = ROW.match(line)
        if not m:
            continue
        key, cell = f"{m.group(1)} {m.group(2)}", m.group(3).strip()
        assert key not in rows, f"docs/privileges.md lists {key} twice"
        rows[key] = None if cell == "public" else frozenset(r.strip() for r in cell.split(","))
    return rows


def operations(spec: dict[str, Any]) -> list[Operation]:
    ops = []
    for path, item in spec["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            params = [*item.get("parameters", []), *op.get("parameters", [])]
            path_params = tuple(
                (p["name"], p["schema"].get("type") == "integer")
                for p in params
                if p["in"] == "path"
            )
            roles = op.get("x-roles")
            ops.append(
                Operation(
                    method.upper(),
                    path,
                    frozenset(roles) if roles is not None else None,
                    path_params,
                )
            )
    return ops


def role_user(world: World, role: Role) -> User:
    """A user of ``role`` at provider 1 (or the platform): the one place tests make one per role.

    A role whose users need more to exist (an area, linked elders) gets its line here.
    """
    known = {
        Role.admin: world.admin,
        Role.finance: world.finance,
        Role.dispatcher: world.p1.dispatcher,
        Role.provider_admin: world.p1.provider_admin,
        Role.caregiver: world.p1.caregiver_user,
    }
    if role in known:
        return known[role]
    if role is Role.supervisor:
        return world.user("matrix_supervisor", role, None, area_district="义乌市")
    return world.user(f"matrix_{role.value}", role, world.p1.provider)


@pytest.fixture(scope="module")
def spec(app: Any) -> dict[str, Any]:
    return app.test_client().get("/api/v1/openapi.json").get_json()


def test_the_table_has_one_row_per_operation(spec):
    table = read_table()
    served = {str(op) for op in operations(spec)}
    missing = sorted(served - set(table))
    extra = sorted(set(table) - served)
    assert not missing, f"add these operations to docs/privileges.md: {missing}"
    assert not extra, f"docs/privileges.md names operations that do not exist: {extra}"
    assert len(served) >= 100


def test_the_table_names_known_roles_only():
    known = {r.value for r in Role}
    for key, roles in read_table().items():
        assert roles is None or roles <= known, f"{key}: unknown role in {sorted(roles or ())}"


def test_the_routes_allow_exactly_the_roles_of_the_table(spec):
    table = read_table()
    wrong = [
        f"{op}: the route allows {sorted(op.roles or ['public'])}, "
        f"the table says {sorted(table[str(op)] or ['public'])}"
        for op in operations(spec)
        if str(op) in table and op.roles != table[str(op)]
    ]
    assert not wrong, "\n".join(wrong)


def call(client: Any, op: Operation, values: dict[str, int], headers: dict[str, str]) -> Any:
    kwargs: dict[str, Any] = {"json": {}} if op.method in ("POST", "PUT", "PATCH") else {}
    return client.open(op.url(values), method=op.method, headers=headers, **kwargs)


def coded(r: Any, status: int) -> bool:
    body = r.get_json(silent=True) or {}
    return r.status_code == status and bool(body.get("code")) and bool(body.get("message"))


def test_every_operation_answers_each_role_as_the_table_says(app, client, world, db):
    own = Rows(db, world, world.p1).build().ids
    db.commit()
    table = read_table()
    users = {role: role_user(world, role) for role in Role}
    headers = {role: world.headers(user) for role, user in users.items()}
    refresh = {role: refresh_headers(world, user) for role, user in users.items()}
    failures: list[str] = []
    refused = 0
    for op in operations(spec_of(client)):
        allowed = table.get(str(op))
        missing = {name: MISSING for name, is_id in op.params if is_id}
        real = {
            name: own[FACTORIES[seg]]
            for name, is_id in op.params
            if is_id and (seg := segment_before(op.path, name)) in FACTORIES
        }
        for name, is_id in op.params:
            if is_id and segment_before(op.path, name) in GLOBAL:
                real[name] = world.services["CLEAN"].id
        if allowed is not None:
            r = call(client, op, missing, {})
            if not coded(r, 401):
                failures.append(f"{op} without a token: {r.status_code}, expected a coded 401")
        for role in Role:
            if allowed is None:
                continue
            if role.value in allowed:
                if role is Role.device:
                    continue  # a device signs with X-Device-Key, not a token: tests/elders
                r = call(client, op, missing, (refresh if str(op) in REFRESH else headers)[role])
                if r.status_code in (401, 403):
                    failures.append(f"{op} as {role.value} (allowed): {r.status_code}")
                continue
            # A route only a device key opens takes no token at all: 401, not 403.
            expected = 401 if allowed == {Role.device.value} else 403
            creds = (refresh if str(op) in REFRESH else headers)[role]
            for values in (missing, {**missing, **real}):
                r = call(client, op, values, creds)
                refused += 1
                if not coded(r, expected):
                    failures.append(
                        f"{op} as {role.value} (not allowed) with {values}: "
                        f"{r.status_code} {r.get_data(as_text=True)[:120]}"
                    )
    assert not failures, "\n".join(failures)
    assert refused >= 200  # guards against a silent no-op


def refresh_headers(world: World, user: User) -> dict[str, str]:
    world.db.commit()
    with world.app.app_context():
        token = create_refresh_token(
            identity=str(user.id),
            additional_claims={"role": user.role.value, "tv": user.token_version},
        )
    return {"Authorization": f"Bearer {token}"}


def spec_of(client: Any) -> dict[str, Any]:
    return client.get("/api/v1/openapi.json").get_json()


def segment_before(path: str, name: str) -> str:
    parts = path.split("/")
    return parts[parts.index("{" + name + "}") - 1]
