#!/usr/bin/env bash
# Before the first release only: rebuild 0001 from the models (later changes get new revisions).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mv migrations/versions/*_0001_initial_schema.py "$tmp/"
# Later revisions depend on 0001; hide them while autogenerate compares an empty database.
mkdir -p "$tmp/later"; mv migrations/versions/*.py "$tmp/later/" 2>/dev/null || true
DATABASE_URL="sqlite:///$tmp/regen.sqlite3" .venv/bin/alembic revision --autogenerate \
  -m "initial schema" --rev-id 0001 >/dev/null 2>&1
mv "$tmp"/later/*.py migrations/versions/ 2>/dev/null || true
.venv/bin/ruff format -q migrations/versions && .venv/bin/ruff check -q --fix migrations/versions || true
ls migrations/versions
