"""Test fixtures: a fresh PostgreSQL database per run, a rolled-back transaction per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from flask import Flask, Response
from flask.testing import FlaskClient
from flask_jwt_extended import create_access_token
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from api import create_app
from dispatch import db as dbmod
from dispatch import throttle
from dispatch.config import Settings
from dispatch.errors import CATALOGUE as ERROR_CATALOGUE
from dispatch.models import (
    BillingUnit,
    Caregiver,
    CaregiverSkill,
    Client,
    Gender,
    Provider,
    Role,
    ServiceType,
    Shift,
    User,
)
from dispatch.security import hash_password
from tests.factories import Builder

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get(
    "TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PASSWORD = "correct horse battery staple"


def alembic_config(url: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["url"] = url
    cfg.attributes["configure_logging"] = False
    return cfg


@pytest.fixture(autouse=True)
def fresh_login_throttle() -> Iterator[None]:
    """Failed-login counters outlive the test's transaction (Redis, own commits): reset them."""
    yield
    throttle.reset_all()


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    return PG_ADMIN_URL


def create_database(admin_url: str, prefix: str = "cdtest") -> str:
    """Create an empty PostgreSQL database; answers its URL."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    dbmod.forget_engine(url)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_url(pg_admin_url: str) -> Iterator[str]:
    url = create_database(pg_admin_url)
    command.upgrade(alembic_config(url), "head")
    yield url
    drop_database(pg_admin_url, url)


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=REDIS_URL,
        photo_dir=tmp_path_factory.mktemp("photos"),
        secret_key="test-secret-" + uuid.uuid4().hex,
        demo=False,
        queue_name=f"cdtest-{uuid.uuid4().hex[:8]}",
    )


def only_catalogued_codes(response: Response) -> Response:
    """Every error any test provokes through the API answers a code of the catalogue."""
    if response.status_code >= 400 and response.is_json:
        body = response.get_json(silent=True)
        is_error = isinstance(body, dict) and "message" in body  # /health's 503 is a report
        code = body.get("code") if is_error else None
        if is_error and code not in ERROR_CATALOGUE:
            raise AssertionError(
                f"{response.status_code} answered code {code!r}, which is not in the error "
                "catalogue: add it to dispatch/error_codes/ (see its __init__ docstring)"
            )
    return response


@pytest.fixture(scope="session")
def app(settings: Settings) -> Flask:
    app = create_app(settings, TESTING=True)
    app.after_request(only_catalogued_codes)
    return app


@pytest.fixture
def db(app: Flask, database_url: str) -> Iterator[Any]:
    """The scoped session, bound to a transaction that is rolled back after the test."""
    engine = dbmod.make_engine(database_url)
    conn = engine.connect()
    trans = conn.begin()
    dbmod.Session.remove()
    dbmod.Session.configure(bind=conn, join_transaction_mode="create_savepoint")
    try:
        yield dbmod.Session
    finally:
        dbmod.Session.remove()
        trans.rollback()
        conn.close()
        dbmod.Session.configure(bind=engine)


@pytest.fixture
def client(app: Flask, db: Any) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="session")
def password_hash() -> str:
    return hash_password(PASSWORD)


CATALOGUE = [
    # code, name, minutes, skill, caregivers, photo, meal, unit, rate
    ("MEAL", "助餐", 10, None, 1, True, True, BillingUnit.visit, "15.00"),
    ("CLEAN", "助洁", 60, "CLEAN", 1, True, False, BillingUnit.hour, "40.00"),
    ("BATH", "助浴", 60, "BATH", 2, True, False, BillingUnit.hour, "80.00"),
    ("WALK", "助行", 60, None, 1, False, False, BillingUnit.hour, "35.00"),
    ("MED", "助医", 90, "MED", 1, True, False, BillingUnit.hour, "50.00"),
    ("CALL", "助急", 30, None, 1, False, False, BillingUnit.visit, "30.00"),
    ("CHAT", "助聊", 45, None, 1, False, False, BillingUnit.hour, "30.00"),
    ("NURSE", "护理", 60, "NURSE", 1, True, False, BillingUnit.hour, "60.00"),
    ("VISIT", "探访", 30, None, 1, True, False, BillingUnit.visit, "20.00"),
]


@dataclass
class Tenant:
    provider: Provider
    dispatcher: User
    provider_admin: User
    caregiver_user: User
    caregiver: Caregiver
    client: Client


@dataclass
class World:
    """Two providers with a user of every role each, the platform users, the catalogue."""

    app: Flask
    db: Any
    password_hash: str
    admin: User
    finance: User
    p1: Tenant
    p2: Tenant
    services: dict[str, ServiceType] = field(default_factory=dict)

    def token(self, user: User) -> str:
        # The app context's teardown removes the scoped session, which would roll back what
        # the test only flushed; committing releases it into the per-test outer transaction.
        self.db.commit()
        with self.app.app_context():
            return create_access_token(
                identity=str(user.id),
                additional_claims={
                    "role": user.role.value,
                    "provider_id": user.provider_id,
                    "caregiver_id": user.caregiver_id,
                    "tv": user.token_version,
                },
            )

    def headers(self, user: User) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user)}"}

    def user(self, username: str, role: Role, provider: Provider | None = None, **kw: Any) -> User:
        user = User(
            username=username,
            password_hash=self.password_hash,
            role=role,
            provider_id=provider.id if provider else None,
            **kw,
        )
        self.db.add(user)
        self.db.flush()
        return user

    def client_at(self, provider: Provider, code: str, **kw: Any) -> Client:
        values: dict[str, Any] = {
            "name": "王秀英",
            "address": "稠城街道 宾王路 88号 3幢 201室",
            "street": "稠城街道",
            "lat": 29.3069,
            "lon": 120.0763,
            "gender": Gender.female,
            "birth_date": date(1940, 5, 1),
            "care_level": 2,
            "monthly_entitlement_min": 1200,
        }
        values.update(kw)
        row = Client(provider_id=provider.id, code=code, **values)
        self.db.add(row)
        self.db.flush()
        return row

    def caregiver_at(
        self, provider: Provider, code: str, skills: tuple[str, ...] = (), **kw: Any
    ) -> Caregiver:
        values: dict[str, Any] = {
            "name": "李春梅",
            "gender": Gender.female,
            "home_lat": 29.31,
            "home_lon": 120.07,
        }
        values.update(kw)
        row = Caregiver(provider_id=provider.id, code=code, **values)
        row.skills = [CaregiverSkill(skill=s) for s in skills]
        row.shifts = [Shift(weekday=d, start_time=time(8), end_time=time(17)) for d in range(7)]
        self.db.add(row)
        self.db.flush()
        return row


@dataclass
class Http:
    """JSON requests as a user (bearer token) or as a device (X-Device-Key): fixture ``http``."""

    world: World
    client: FlaskClient

    def as_user(self, method: str, path: str, user: User, **kw: Any) -> Any:
        headers = {**self.world.headers(user), **kw.pop("headers", {})}
        return self.client.open(f"/api/v1{path}", method=method, headers=headers, **kw)

    def as_device(self, method: str, path: str, key: str, **kw: Any) -> Any:
        self.world.db.commit()
        headers = {"X-Device-Key": key, **kw.pop("headers", {})}
        return self.client.open(f"/api/v1{path}", method=method, headers=headers, **kw)

    def count(self, model: Any) -> int:
        return int(self.world.db.scalar(select(func.count()).select_from(model)) or 0)


def _tenant(world: World, n: int) -> Tenant:
    provider = Provider(code=f"P{n}", name=f"义乌市第{n}居家养老服务中心", district="义乌市")
    world.db.add(provider)
    world.db.flush()
    caregiver = world.caregiver_at(provider, f"CG{n}01", skills=("CLEAN", "BATH", "MED", "NURSE"))
    return Tenant(
        provider=provider,
        dispatcher=world.user(f"dispatcher{n}", Role.dispatcher, provider),
        provider_admin=world.user(f"provider{n}", Role.provider_admin, provider),
        caregiver_user=world.user(
            f"caregiver{n}_1", Role.caregiver, provider, caregiver_id=caregiver.id
        ),
        caregiver=caregiver,
        client=world.client_at(provider, f"C{n}001"),
    )


@pytest.fixture
def world(app: Flask, db: Any, password_hash: str) -> World:
    return build_world(app, db, password_hash)


def build_world(app: Flask, db: Any, password_hash: str) -> World:
    """The catalogue, the platform users and two providers, flushed into ``db``."""
    services: dict[str, ServiceType] = {}
    for code, name, minutes, skill, needed, photo, meal, unit, rate in CATALOGUE:
        st = ServiceType(
            code=code,
            name=name,
            default_duration_min=minutes,
            required_skill=skill,
            caregivers_needed=needed,
            photo_required=photo,
            is_meal=meal,
            billing_unit=unit,
            rate=Decimal(rate),
        )
        db.add(st)
        services[code] = st
    db.flush()
    w = World(
        app=app,
        db=db,
        password_hash=password_hash,
        admin=None,
        finance=None,  # type: ignore[arg-type]
        p1=None,
        p2=None,
        services=services,
    )  # type: ignore[arg-type]
    w.admin = w.user("admin", Role.admin)
    w.finance = w.user("finance", Role.finance)
    w.p1 = _tenant(w, 1)
    w.p2 = _tenant(w, 2)
    return w


@pytest.fixture
def b(world: World, db: Any) -> Builder:
    """Builds work orders with their visit, events and photos (``tests.factories``)."""
    return Builder(world, db)


@pytest.fixture
def http(world: World, client: FlaskClient) -> Http:
    """HTTP helpers on the world the test sees (committed where a conftest overrides ``world``)."""
    return Http(world, client)
