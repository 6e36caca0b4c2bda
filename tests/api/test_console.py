"""The web console is served at / with a strict content security policy."""

from __future__ import annotations


def test_console_index_served_with_csp(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/")
    assert response.status_code == 200
    assert b"CareDispatch" in response.data
    assert b"/console/app.js" in response.data
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_console_assets(client) -> None:  # type: ignore[no-untyped-def]
    js = client.get("/console/app.js")
    assert js.status_code == 200
    # Untrusted text must never be injected as HTML.
    assert b"innerHTML" not in js.data
    assert client.get("/console/app.css").status_code == 200


def test_console_serves_nothing_else(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/console/../../pyproject.toml")
    assert response.status_code == 404
    assert response.json["code"] == "NOT_FOUND"
    assert client.get("/console/index.py").status_code == 404
