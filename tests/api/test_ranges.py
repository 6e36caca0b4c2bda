"""Ids, pages and numbers out of range are a coded 404 or 422 on both databases, never a 500.

The cases schemathesis found (issue #14), and the OpenAPI document stating every range.
"""

from __future__ import annotations

from typing import Any

import pytest

PATHS_404 = [
    ("GET", "/api/v1/visits/11016681867449286656"),
    ("DELETE", "/api/v1/clients/1664409206978115610345472"),
    ("GET", "/api/v1/clients/2147483648"),
    ("GET", "/api/v1/clients/0"),
    ("PATCH", "/api/v1/caregivers/1/shifts/99999999999999999999"),
]
QUERIES_422 = [
    ("/api/v1/appeals?page=32385854201013428224", "page"),
    ("/api/v1/caregivers?page=151808918&page_size=19", "page"),
    ("/api/v1/care-plans?page=6020929923401973760&service_type_id=2147483647", "page"),
    ("/api/v1/clients?page_size=101", "page_size"),
    ("/api/v1/clients?page=0", "page"),
    ("/api/v1/work-orders?billing_batch_id=1081948380238201485626309607424", "billing_batch_id"),
    ("/api/v1/work-orders?caregiver_id=-99999999999", "caregiver_id"),
    ("/api/v1/clients?care_level=-5795018576249", "care_level"),
]


def answers(client: Any, headers: dict[str, str]) -> list[str]:
    wrong = []
    for method, path in PATHS_404:
        r = client.open(path, method=method, headers=headers, json={} if method != "GET" else None)
        if r.status_code != 404 or not r.json.get("code"):
            wrong.append(f"{method} {path}: {r.status_code} {r.get_data(as_text=True)[:200]}")
    for path, field in QUERIES_422:
        r = client.get(path, headers=headers)
        if r.status_code != 422 or field not in (r.json.get("errors") or {}):
            wrong.append(f"GET {path}: {r.status_code} {r.get_data(as_text=True)[:200]}")
    negative = client.get("/api/v1/work-orders?caregiver_id=-323767683", headers=headers)
    if negative.status_code != 200 or negative.json != []:
        wrong.append(f"a negative filter id lists nothing: {negative.status_code}")
    return wrong


def test_out_of_range_ids_and_pages_on_postgresql(client, world):
    assert not answers(client, world.headers(world.admin))


def test_out_of_range_ids_and_pages_on_sqlite(on_sqlite):
    client, world = on_sqlite.app.test_client(), on_sqlite.world
    assert not answers(client, world.headers(world.admin))


@pytest.mark.parametrize("value", ["00:00:00.757786Z", "08:00+08:00", "23:59:59-05:00"])
def test_a_time_of_day_with_an_offset_is_a_422(client, world, value):
    caregiver = world.p1.caregiver
    shift = caregiver.shifts[0]
    r = client.patch(
        f"/api/v1/caregivers/{caregiver.id}/shifts/{shift.id}",
        json={"end_time": value},
        headers=world.headers(world.p1.dispatcher),
    )
    assert r.status_code == 422, r.get_data(as_text=True)
    assert r.json["code"] == "VALIDATION_ERROR"
    assert "offset" in r.json["errors"]["end_time"][0]


def test_a_time_of_day_without_an_offset_is_taken(client, world):
    caregiver = world.p1.caregiver
    shift = caregiver.shifts[0]
    r = client.patch(
        f"/api/v1/caregivers/{caregiver.id}/shifts/{shift.id}",
        json={"end_time": "16:30:00"},
        headers=world.headers(world.p1.dispatcher),
    )
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.json["end_time"].startswith("16:30")


def walk(node: Any, path: str = "") -> Any:
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, f"{path}/{i}")


def test_the_openapi_document_states_numeric_ranges(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    bad = [
        f"{path}: {key}={node[key]!r}"
        for path, node in walk(spec)
        for key in ("minimum", "maximum")
        if key in node and not isinstance(node[key], int | float)
    ]
    assert not bad, bad
    # Every integer a client sends (path, query, body) has both bounds.
    unbounded: list[str] = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            where = f"{method.upper()} {path}"
            for param in [*item.get("parameters", []), *op.get("parameters", [])]:
                schema = param.get("schema", {})
                if schema.get("type") == "integer" and not bounded(schema):
                    unbounded.append(f"{where} parameter {param['name']}")
            for media in op.get("requestBody", {}).get("content", {}).values():
                unbounded += [f"{where} body {p}" for p in sent_integers(spec, media["schema"])]
    assert not unbounded, unbounded


def bounded(schema: dict[str, Any]) -> bool:
    return "minimum" in schema and "maximum" in schema


def sent_integers(spec: dict[str, Any], schema: dict[str, Any], at: str = "") -> list[str]:
    """Paths of the integers in a request schema that lack a bound (refs followed)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return sent_integers(spec, spec["components"]["schemas"][name], at)
    if schema.get("readOnly"):
        return []
    if schema.get("type") == "integer":
        return [] if bounded(schema) else [at or "/"]
    found: list[str] = []
    for name, prop in schema.get("properties", {}).items():
        found += sent_integers(spec, prop, f"{at}/{name}")
    if isinstance(schema.get("items"), dict):
        found += sent_integers(spec, schema["items"], f"{at}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        found += sent_integers(spec, schema["additionalProperties"], f"{at}{{}}")
    return found
