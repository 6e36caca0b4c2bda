"""The command line: demo-setup, seed-demo, logins and create-user against a SQLite file."""

from __future__ import annotations

import logging
import shutil
import types
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session as OrmSession

from dispatch import config
from dispatch import db as dbmod
from dispatch.cli import main
from dispatch.demo import seed_demo
from dispatch.models import AuditEntry, Client, DayPlan, PlanStatus, Provider, Role, User
from dispatch.security import verify_password
from dispatch.services import demo_day
from tests.conftest import alembic_config

DAY = date(2026, 11, 24)


def _count(url: str, model: Any, *where: Any) -> int:
    engine = create_engine(url)
    try:
        with OrmSession(engine) as s:
            return s.scalar(select(func.count()).select_from(model).where(*where)) or 0
    finally:
        engine.dispose()


def _user(url: str, username: str) -> User | None:
    engine = create_engine(url)
    try:
        with OrmSession(engine, expire_on_commit=False) as s:
            return s.scalars(select(User).where(User.username == username)).one_or_none()
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file with the demo district, copied by each test that needs one."""
    path = tmp_path_factory.mktemp("cli") / "template.sqlite3"
    url = f"sqlite:///{path}"
    command.upgrade(alembic_config(url), "head")
    with OrmSession(dbmod.make_engine(url)) as s:  # the migration's engine
        seed_demo(s, 5, DAY)
        s.commit()
    dbmod.forget_engine(url)  # closing it checkpoints the WAL
    return path


@pytest.fixture
def env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: config.Settings
) -> Iterator[Path]:
    """The CLI's environment: a SQLite file in tmp_path; the app's settings come back after."""
    path = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("CAREDISPATCH_DEMO", "1")
    monkeypatch.setenv("PORT", "5099")
    for name in ("REDIS_URL", "CAREDISPATCH_PASSWORD", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    yield path
    dbmod.forget_engine(f"sqlite:///{path}")
    config.use(settings)
    dbmod.configure(settings.database_url)


@pytest.fixture
def seeded(env: Path, seeded_template: Path) -> str:
    shutil.copy(seeded_template, env)
    return f"sqlite:///{env}"


@pytest.fixture
def planner(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """A stand-in for dispatch.services.demo_day whose plan_demo_day records its calls (the
    CLI calls demo_day.plan_demo_day, which hands over to the stand-in's)."""
    fake = types.ModuleType("planner")
    fake.calls = []  # type: ignore[attr-defined]

    def plan_demo_day(session: Any, day: date) -> dict[str, int]:
        fake.calls.append((session, day))  # type: ignore[attr-defined]
        return {"visits": 1}

    fake.plan_demo_day = plan_demo_day  # type: ignore[attr-defined]
    monkeypatch.setattr(
        demo_day,
        "plan_demo_day",
        lambda session, day: fake.plan_demo_day(session, day),  # type: ignore[attr-defined]
    )
    return fake


def test_demo_setup_migrates_seeds_once_and_plans_the_day(
    env: Path, planner: types.ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["demo-setup", "--no-history", "--date", DAY.isoformat(), "--seed", "5"])
    assert "Seeded the Yiwu demo district for 2026-11-24" in capsys.readouterr().out
    url = f"sqlite:///{env}"
    clients = _count(url, Client)
    assert clients >= 300
    assert [day for _, day in planner.calls] == [DAY]  # type: ignore[attr-defined]
    assert isinstance(planner.calls[0][0], OrmSession)  # type: ignore[attr-defined]

    main(["demo-setup", "--no-history", "--date", DAY.isoformat()])
    assert "already in this database; nothing was added" in capsys.readouterr().out
    assert _count(url, Client) == clients


def test_demo_setup_no_plan_skips_the_planner(
    env: Path, planner: types.ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["demo-setup", "--no-history", "--date", DAY.isoformat(), "--no-plan"])
    assert "Seeded" in capsys.readouterr().out
    assert planner.calls == []  # type: ignore[attr-defined]


def test_a_day_with_published_routes_is_not_planned_again(
    seeded: str, planner: types.ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_engine(seeded)
    with OrmSession(engine) as s:
        provider = s.scalars(select(Provider).where(Provider.code == "YW-JD")).one()
        s.add(DayPlan(provider_id=provider.id, date=DAY, status=PlanStatus.published))
        s.commit()
    engine.dispose()
    with caplog.at_level(logging.INFO, logger="dispatch.cli"):
        main(["demo-setup", "--no-history", "--date", DAY.isoformat()])
    assert planner.calls == []  # type: ignore[attr-defined]
    assert any("not re-planned" in r.getMessage() for r in caplog.records)
    # Another day is still planned.
    main(["demo-setup", "--no-history", "--date", "2026-11-25"])
    assert [d for _, d in planner.calls] == [date(2026, 11, 25)]  # type: ignore[attr-defined]


def test_a_failing_planner_does_not_fail_the_demo(
    seeded: str, planner: types.ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(_session: Any, _day: date) -> None:
        raise RuntimeError("solver exploded")

    planner.plan_demo_day = broken  # type: ignore[attr-defined]
    with caplog.at_level(logging.INFO, logger="dispatch.cli"):
        main(["demo-setup", "--no-history", "--date", DAY.isoformat()])
    failed = [r for r in caplog.records if "failed" in r.getMessage()]
    assert failed and failed[0].levelno == logging.ERROR and failed[0].exc_info


def test_seed_demo_rejects_a_bad_date(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["seed-demo", "--date", "2026-13-01"])
    assert exc.value.code == 2
    assert "is not a date like" in capsys.readouterr().err


def test_logins_lists_roles_providers_and_urls(
    seeded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["logins"])
    out = capsys.readouterr().out
    assert 'password "demo"' in out
    for login, role in [
        ("admin", "admin"),
        ("finance", "finance"),
        ("supervisor", "supervisor"),
        ("supervisor_street", "supervisor"),
        ("dispatcher1", "dispatcher"),
        ("provider3", "provider_admin"),
        ("caregiver2_1", "caregiver"),
    ]:
        assert any(line.split()[:2] == [login, role] for line in out.splitlines()), login
    assert "义乌市稠城居家养老服务中心" in out
    assert "area 义乌市 稠城街道" in out  # the street supervisor's area
    assert "caregiver1_18" in out  # in the "…" summary line
    assert "http://127.0.0.1:5099/api/v1/docs" in out
    assert "http://127.0.0.1:5099/api/v1/health" in out
    assert not any(line.startswith("caregiver1_18 ") for line in out.splitlines())

    main(["logins", "--all"])
    assert any(line.startswith("caregiver1_18 ") for line in capsys.readouterr().out.splitlines())


def test_logins_on_an_empty_database_says_how_to_seed(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["migrate"])
    main(["logins"])
    assert "demo-setup" in capsys.readouterr().out


def test_create_user_takes_the_password_from_the_environment(
    seeded: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CAREDISPATCH_PASSWORD", "a long enough secret")
    main(["create-user", "--username", "ops", "--role", "admin"])
    assert "Created user ops" in capsys.readouterr().out
    user = _user(seeded, "ops")
    assert user is not None and user.role == Role.admin and user.provider_id is None
    assert verify_password(user.password_hash, "a long enough secret")
    assert _count(seeded, AuditEntry, AuditEntry.entity_id == user.id) == 1

    main(
        [
            "create-user",
            "--username",
            "disp9",
            "--role",
            "dispatcher",
            "--provider-code",
            "YW-JD",
            "--display-name",
            "王晓燕",
        ]
    )
    disp = _user(seeded, "disp9")
    assert disp is not None and disp.provider_id is not None and disp.display_name == "王晓燕"


def test_create_user_prompts_when_no_password_is_set(
    seeded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter(["typed in twice", "typed in twice"])
    monkeypatch.setattr("getpass.getpass", lambda _prompt="": next(answers))
    main(["create-user", "--username", "fin2", "--role", "finance"])
    user = _user(seeded, "fin2")
    assert user is not None and verify_password(user.password_hash, "typed in twice")


@pytest.mark.parametrize(
    ("argv", "password", "expected"),
    [
        # two different answers at the prompt
        (["--username", "x1", "--role", "admin"], None, "differ"),
        (["--username", "x2", "--role", "admin"], "short", "PASSWORD_TOO_SHORT"),
        (["--username", "x3", "--role", "dispatcher"], "long enough pw", "--provider-code"),
        (
            ["--username", "x4", "--role", "dispatcher", "--provider-code", "NOPE"],
            "long enough pw",
            "No provider with code 'NOPE'",
        ),
        (["--username", "admin", "--role", "admin"], "long enough pw", "USERNAME_TAKEN"),
        # CG118 already has the login caregiver1_18
        (
            [
                "--username",
                "x5",
                "--role",
                "caregiver",
                "--provider-code",
                "YW-CC",
                "--caregiver-code",
                "CG118",
            ],
            "long enough pw",
            "CAREGIVER_ALREADY_LINKED",
        ),
        (
            [
                "--username",
                "x6",
                "--role",
                "caregiver",
                "--provider-code",
                "YW-CC",
                "--caregiver-code",
                "CG999",
            ],
            "long enough pw",
            "No caregiver 'CG999'",
        ),
    ],
)
def test_create_user_refuses_bad_input_and_creates_nothing(
    seeded: str,
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    password: str | None,
    expected: str,
) -> None:
    if password is None:
        answers = iter(["one password", "another one"])
        monkeypatch.setattr("getpass.getpass", lambda _prompt="": next(answers))
    else:
        monkeypatch.setenv("CAREDISPATCH_PASSWORD", password)
    users = _count(seeded, User)
    with pytest.raises(SystemExit) as exc:
        main(["create-user", *argv])
    assert expected in str(exc.value.code)
    assert _count(seeded, User) == users
