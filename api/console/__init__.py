"""The web console: a static single-page app over the public API, served at ``/``."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response

STATIC = Path(__file__).resolve().parent / "static"

bp = Blueprint("console", __name__)

# The console talks only to our own API; nothing else may run in its pages.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


MIMETYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}


def _static(name: str) -> Response:
    # Three small files: read whole, so no open file outlives the request.
    path = STATIC / name
    response = Response(path.read_bytes(), mimetype=MIMETYPES[path.suffix])
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/")
def index() -> Response:
    return _static("index.html")


@bp.get("/console/<any('app.js', 'app.css'):name>")
def asset(name: str) -> Response:
    return _static(name)
