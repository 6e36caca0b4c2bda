"""The migration history: one head, a clean round trip, and agreement with the models."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from dispatch.db import Base, make_engine
from tests.conftest import alembic_config, create_database, drop_database


def test_single_head(database_url: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(database_url))
    assert len(script.get_heads()) == 1


def test_file_names_are_date_prefixed() -> None:
    versions = Path(__file__).resolve().parent.parent / "migrations" / "versions"
    for path in versions.glob("*.py"):
        assert path.name[:8].isdigit(), path.name


def test_upgrade_downgrade_upgrade_on_postgresql(pg_admin_url: str) -> None:
    url = create_database(pg_admin_url, prefix="cdmig")
    try:
        cfg = alembic_config(url)
        command.upgrade(cfg, "head")
        command.downgrade(cfg, "base")
        command.upgrade(cfg, "head")
        _assert_models_match(url)
    finally:
        make_engine(url).dispose()
        drop_database(pg_admin_url, url)


def test_migrations_run_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    command.downgrade(cfg, "base")
    command.upgrade(cfg, "head")
    _assert_models_match(url)
    make_engine(url).dispose()


def _assert_models_match(url: str) -> None:
    with make_engine(url).connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], diff


def test_audit_log_refuses_changes(db, world) -> None:  # type: ignore[no-untyped-def]
    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from dispatch import audit
    from dispatch.tenancy import SYSTEM

    audit.record(db(), SYSTEM, "create", world.p1.client, after={"x": 1})
    db.flush()
    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(text("UPDATE audit_log SET action = 'forged'"))
    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(text("DELETE FROM audit_log"))
