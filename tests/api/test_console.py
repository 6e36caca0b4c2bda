"""The web console and Swagger UI are served by the app itself, under a strict CSP."""

from __future__ import annotations

import re

import pytest

from api import console


def test_console_index_lists_every_screen_under_a_strict_csp(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for name in console.SCREENS:
        assert f'src="/console/screens/{name}.js"' in page
    assert 'content="Asia/Shanghai"' in page
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    # Nothing in the page points at another origin.
    assert not re.search(r'(src|href)="(https?:)?//', page)


def test_every_script_the_page_names_is_served(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/").get_data(as_text=True)
    paths = re.findall(r'(?:src|href)="(/console/[^"]+)"', page)
    assert len(paths) >= len(console.SCREENS) + len(console.CORE)
    for path in paths:
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        if path.endswith(".js") and "/vendor/" not in path:
            # Untrusted text must never be injected as HTML.
            assert b"innerHTML" not in r.data, path


def test_swagger_ui_is_served_from_here(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/docs")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "/console/vendor/swagger-ui/swagger-ui-bundle.js" in page
    assert "http" not in page  # no CDN, no other origin
    assert client.get("/console/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert client.get("/console/core/docs.js").status_code == 200


def test_unchanged_files_answer_304(client) -> None:  # type: ignore[no-untyped-def]
    first = client.get("/console/core/shell.js")
    again = client.get("/console/core/shell.js", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize(
    "path",
    [
        "/console/../../pyproject.toml",
        "/console/%2e%2e/__init__.py",
        "/console/index.html",
        "/console/docs.html",
        "/console/nothing.js",
        "/console/vendor/leaflet/VERSION",
    ],
)
def test_console_serves_nothing_else(client, path: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code == 404
    assert response.json["code"] == "NOT_FOUND"


def test_a_tile_server_is_allowed_for_images_only(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(
        "CAREDISPATCH_TILE_URL", "https://wprd0{s}.is.autonavi.com/x={x}&y={y}&z={z}"
    )
    r = client.get("/")
    csp = r.headers["Content-Security-Policy"]
    img = next(p for p in csp.split(";") if p.strip().startswith("img-src"))
    assert "autonavi.com" in img
    assert "autonavi" not in csp.replace(img, "")  # scripts, styles, requests: still ours only
    page = r.get_data(as_text=True)
    assert 'name="cd-tile-crs" content="gcj02"' in page  # AMap tiles: points shifted for display
