"""The web console: a static single-page app over the public API, served at ``/``.

A screen is one file under ``static/screens/`` plus one line in ``SCREENS`` (docs/console.md).
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, request

from dispatch import error_codes

STATIC = Path(__file__).resolve().parent / "static"

bp = Blueprint("console", __name__)

# The screens, in the order of their tabs. Each names static/screens/<name>.js, which calls
# CD.screen({...}) with its roles, labels and render function.
SCREENS = [
    "day",
    "board",
    "calls",
    "requests",
    "review",
    "appeals",
    "billing",
    "funnel",
    "orders",
    "timesheets",
    "rules",
    "users",
    "family",
    "figures",
    "contacts",
    "callbacks",
    "scorecard",
]

# Core files every page loads first, in order.
CORE = [
    "vendor/leaflet/leaflet.js",
    "vendor/chartjs/chart.umd.min.js",
    "core/i18n.js",
    "core/util.js",
    "core/api.js",
    "core/map.js",
    "core/timeline.js",
    "core/shell.js",
]

MIMETYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".txt": "text/plain",
    ".md": "text/plain",
}


def tile_url() -> str | None:
    """The tile server of the map (``CAREDISPATCH_TILE_URL``), or None for a plain background."""
    return os.environ.get("CAREDISPATCH_TILE_URL") or None


GCJ02_HOSTS = ("autonavi", "amap", "qq.com", "tencent")


def tile_crs() -> str:
    """``gcj02`` for AMap / Tencent tiles (points are shifted for display), else ``wgs84``."""
    explicit = (os.environ.get("CAREDISPATCH_TILE_CRS") or "").lower()
    if explicit in ("wgs84", "gcj02"):
        return explicit
    url = (tile_url() or "").lower()
    return "gcj02" if any(h in url for h in GCJ02_HOSTS) else "wgs84"


def csp() -> str:
    """Only our own origin, plus the tile server's for images when one is configured."""
    img = "'self' data: blob:"
    url = tile_url()
    if url:
        parts = urlsplit(url)
        host = parts.netloc
        if "{" in host:  # {s} subdomains: allow the parent domain's subdomains
            host = "*." + host.split(".", 1)[1]
        if parts.scheme in ("http", "https") and host:
            img += f" {parts.scheme}://{host}"
    return (
        f"default-src 'self'; script-src 'self'; style-src 'self'; img-src {img}; "
        "connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'; object-src 'none'"
    )


def _respond(body: bytes, suffix: str) -> Response:
    response = Response(body, mimetype=MIMETYPES[suffix])
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Content-Security-Policy"] = csp()
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.add_etag()
    return response.make_conditional(request)


def _page(name: str) -> Response:
    settings = current_app.config["SETTINGS"]
    scripts = [*CORE, *[f"screens/{s}.js" for s in SCREENS], "core/start.js"]
    tags = "\n".join(f'<script src="/console/{s}" defer></script>' for s in scripts)
    text = (STATIC / name).read_text(encoding="utf-8")
    text = text.replace("<!--SCRIPTS-->", tags)
    text = text.replace("{{TIMEZONE}}", html.escape(settings.timezone))
    text = text.replace("{{TILE_URL}}", html.escape(tile_url() or ""))
    text = text.replace("{{TILE_CRS}}", tile_crs())
    return _respond(text.encode("utf-8"), ".html")


@bp.get("/")
def index() -> Response:
    return _page("index.html")


@bp.get("/console/<path:name>")
def asset(name: str) -> Response:
    path = (STATIC / name).resolve()
    if (
        STATIC not in path.parents
        or path.suffix not in MIMETYPES
        or path.suffix == ".html"
        or not path.is_file()
    ):
        raise error_codes.NOT_FOUND("console_file", name=name)
    return _respond(path.read_bytes(), path.suffix)


@bp.get("/api/v1/docs")
def docs() -> Response:
    """Swagger UI over /api/v1/openapi.json, every file served from here (works offline)."""
    return _respond((STATIC / "docs.html").read_bytes(), ".html")
