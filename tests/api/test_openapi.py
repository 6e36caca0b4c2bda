"""The OpenAPI document lists the auth and CRUD paths with field help; Swagger UI is served."""

from __future__ import annotations

import pytest

CRUD = [
    "providers",
    "users",
    "clients",
    "caregivers",
    "service-types",
    "service-points",
    "care-plans",
]
CHILDREN = [
    "/clients/{parent_id}/absences",
    "/clients/{parent_id}/refusals",
    "/caregivers/{parent_id}/skills",
    "/caregivers/{parent_id}/certificates",
    "/caregivers/{parent_id}/shifts",
]


@pytest.fixture(scope="module")
def spec(app):
    r = app.test_client().get("/api/v1/openapi.json")
    assert r.status_code == 200
    return r.json


def test_auth_paths_are_documented(spec):
    paths = spec["paths"]
    assert "post" in paths["/api/v1/auth/login"]
    assert "post" in paths["/api/v1/auth/refresh"]
    assert "get" in paths["/api/v1/me"]


@pytest.mark.parametrize("noun", CRUD)
def test_crud_paths_are_documented(spec, noun):
    collection = spec["paths"][f"/api/v1/{noun}"]
    item = spec["paths"][f"/api/v1/{noun}/{{ident}}"]
    assert {"get", "post"} <= set(collection)
    assert {"get", "patch", "delete"} <= set(item)
    params = {p["name"] for p in collection["get"].get("parameters", [])}
    assert {"page", "page_size"} <= params


@pytest.mark.parametrize("path", CHILDREN)
def test_child_paths_are_documented(spec, path):
    assert {"get", "post"} <= set(spec["paths"][f"/api/v1{path}"])
    assert {"patch", "delete"} <= set(spec["paths"][f"/api/v1{path}/{{ident}}"])


@pytest.mark.parametrize(
    ("schema", "field"),
    [
        ("Client", "lat"),
        ("Caregiver", "max_minutes_per_day"),
        ("CarePlan", "recurrence"),
        ("User", "password"),
        ("ServiceType", "rate"),
        ("ServicePoint", "kind"),
        ("Provider", "code"),
    ],
)
def test_fields_carry_help(spec, schema, field):
    prop = spec["components"]["schemas"][schema]["properties"][field]
    assert prop.get("description"), prop


def test_password_is_write_only(spec):
    assert spec["components"]["schemas"]["User"]["properties"]["password"]["writeOnly"] is True


def test_swagger_ui_is_served(app):
    r = app.test_client().get("/api/v1/docs")
    assert r.status_code == 200
    assert r.mimetype == "text/html"
    assert "swagger" in r.get_data(as_text=True).lower()
