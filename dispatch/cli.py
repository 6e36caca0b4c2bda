"""Command line: migrate, seed the demo district, run a worker, print the demo logins."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import select

from dispatch import config, db, periodic, queue
from dispatch.demo import PASSWORD, demo_providers, planned_days
from dispatch.demo import seed_demo as seed_district
from dispatch.demo.allowances import close_last_month, seed_allowances, terminal_keys
from dispatch.demo.bureau import run_bureau
from dispatch.demo.elders import pendant_keys, seed_elders
from dispatch.demo.history import DAYS, seed_history
from dispatch.demo.office import run_office
from dispatch.demo.today import run_today
from dispatch.errors import DomainError
from dispatch.models import Caregiver, Provider, Role, User
from dispatch.services import demo_day
from dispatch.services.users import create_user as create
from dispatch.tenancy import SYSTEM

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)

DEFAULT_SEED = 20261123


def _settings() -> config.Settings:
    settings = config.Settings.from_env()
    config.use(settings)
    db.configure(settings.database_url)
    return settings


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-11-24") from exc


def _today() -> date:
    """Today where the providers work (``config.zone()``), not on the server's clock."""
    return datetime.now(config.zone()).date()


def migrate(_args: argparse.Namespace) -> None:
    """Bring the database to the newest schema."""
    settings = _settings()
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["url"] = settings.database_url
    # main() has configured logging; alembic's fileConfig would raise the root level to WARNING.
    cfg.attributes["configure_logging"] = False
    command.upgrade(cfg, "head")


def worker(_args: argparse.Namespace) -> None:
    """Run an rq worker on the configured queue (needs REDIS_URL)."""
    settings = _settings()
    if not settings.redis_url:
        sys.exit("REDIS_URL is not set: with no Redis, jobs run inside the API process.")
    runner = periodic.Runner().start()
    wait_s = 1.0
    try:
        # rq's worker returns (or raises) when Redis goes away in the middle of a job; it is
        # started again once Redis answers, so an outage never leaves the queue without a
        # worker. A worker stopped on purpose (SIGTERM, Ctrl-C) with Redis up ends here.
        while True:
            conn = queue.redis_connection()
            try:
                queue.Worker([queue.get_queue(conn)], connection=conn).work(with_scheduler=False)
            except (RedisConnectionError, RedisTimeoutError) as exc:
                log.warning("worker lost Redis: %s", exc)
            if queue.reachable():
                return
            log.warning("Redis is unreachable; starting the worker again in %.0f s", wait_s)
            # rq's handlers belong to the worker that ended: a SIGTERM now ends the process.
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            time.sleep(wait_s)
            wait_s = min(wait_s * 2, 30.0)
    finally:
        runner.stop()


def _seed(args: argparse.Namespace, settings: config.Settings) -> date:
    day = args.date or _today()
    with db.session_scope() as session:
        report = seed_district(session, args.seed, day, settings.timezone)
    if report.created:
        counts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in report.counts.items())
        print(f"Seeded the Yiwu demo district for {day} (seed {args.seed}): {counts}.")
    else:
        print("The demo district is already in this database; nothing was added.")
    return day


def seed_demo(args: argparse.Namespace) -> None:
    """Seed the Yiwu demo district (providers, clients, caregivers, care plans, users) once."""
    _seed(args, _settings())


seed_demo.cli_args = [  # type: ignore[attr-defined]
    ("--seed", {"type": int, "default": DEFAULT_SEED, "help": "random seed of the district"}),
    ("--date", {"type": _iso_date, "help": "the demo day (default: today in the providers' zone)"}),
]


def _plan_day(day: date) -> None:
    """Generate, optimise and publish the demo day (unless its routes are published)."""
    with db.session_scope() as session:
        done = planned_days(session, day)
    if done:
        log.info(
            "demo day %s already has published routes (%d providers): not re-planned", day, done
        )
        return
    log.info("planning the demo day %s: generating visits, optimising and publishing routes", day)
    try:
        with db.session_scope() as session:
            result = demo_day.plan_demo_day(session, day)
    except Exception:
        # The demo still serves its data; planning can be retried through the API.
        log.exception("planning the demo day %s failed; serving the unplanned district", day)
        return
    log.info("demo day %s planned: %s", day, result)


def _history(seed: int, day: date) -> None:
    """The last 30 days as if the district had run, then today's check-ins until now."""
    with db.session_scope() as session:
        report = seed_history(session, seed, day)
        if report.days:
            # accounts and meals first: the office's approvals debit them, its batches bill them
            seed_allowances(session, seed, day)
            # The bureau's month (grades, contacts, call-backs) before the office decides it.
            run_bureau(session, seed, day)
            run_office(session, seed, day, day - timedelta(days=DAYS))
            close_last_month(session, day)
    now = datetime.now(config.zone())
    if now.date() == day:
        with db.session_scope() as session:
            run_today(session, seed, now)


def demo_setup(args: argparse.Namespace) -> None:
    """Migrate, seed the demo district once, then plan and publish today's routes."""
    settings = _settings()
    migrate(args)
    day = _seed(args, settings)
    if args.no_plan:
        log.info("demo day %s not planned (--no-plan)", day)
        return
    _plan_day(day)
    if not getattr(args, "no_history", False):
        _history(args.seed, day)
    _elders(args.seed)


def _elders(seed: int) -> None:
    """Family logins, pendants, past calls, orders, ratings and a complaint (once)."""
    with db.session_scope() as session:
        report = seed_elders(session, seed, datetime.now(config.zone()))
    if report.created:
        log.info("demo elders and families: %s", report.counts)


demo_setup.cli_args = [  # type: ignore[attr-defined]
    *seed_demo.cli_args,  # type: ignore[attr-defined]
    ("--no-plan", {"action": "store_true", "help": "seed only; do not plan the demo day"}),
    (
        "--no-history",
        {"action": "store_true", "help": "no 30-day history and no check-ins of today"},
    ),
]


def logins(args: argparse.Namespace) -> None:
    """Print the demo logins (password "demo"), their roles and providers, and the URLs."""
    _settings()
    port = os.environ.get("PORT", "5000")
    base = f"http://127.0.0.1:{port}"
    out: list[str] = []
    with db.session_scope() as session:
        providers = demo_providers(session)
        if not providers:
            print(
                "No demo district in this database: run `python -m dispatch.cli demo-setup` "
                "(or `make demo`)."
            )
            return
        names = {p.id: p for p in providers}
        users = session.scalars(
            select(User)
            .where(
                (User.provider_id.in_(names))
                | (User.username.in_(("admin", "finance")))
                | (User.area_district.is_not(None))  # the bureau's supervisors
            )
            .order_by(User.provider_id.nulls_first(), User.id)
        ).all()
        skills = {
            g.id: ",".join(s.skill for s in g.skills)
            for g in session.scalars(select(Caregiver).where(Caregiver.provider_id.in_(names)))
        }
        out.append(
            f'CareDispatch demo logins: every one has the password "{PASSWORD}" '
            "(demo data only, never use it in production)."
        )
        out.append("")
        out.append(f"{'login':<16} {'role':<15} {'provider':<8} name")
        for u in users:
            if u.provider_id is None:
                area = ""
                if u.role.area_level:
                    area = (
                        f" · area {u.area_district} {'/'.join(u.area_streets or ['(all streets)'])}"
                    )
                out.append(
                    f"{u.username:<16} {u.role.value:<15} {'-':<8} {u.display_name or ''}{area}"
                )
        for provider in providers:
            staff = [u for u in users if u.provider_id == provider.id]
            carers = [u for u in staff if u.role == Role.caregiver]
            for u in [u for u in staff if u.role != Role.caregiver]:
                out.append(
                    f"{u.username:<16} {u.role.value:<15} {provider.code:<8} "
                    f"{u.display_name or ''} · {provider.name}"
                )
            for u in carers if args.all else carers[:3]:
                out.append(
                    f"{u.username:<16} {u.role.value:<15} {provider.code:<8} "
                    f"{u.display_name or ''} [{skills.get(u.caregiver_id or 0, '')}]"
                )
            if len(carers) > 3 and not args.all:
                out.append(
                    f"{'…':<16} {'caregiver':<15} {provider.code:<8} {carers[3].username} … "
                    f"{carers[-1].username} ({len(carers)} caregivers; `logins --all` lists them)"
                )
        pendants = pendant_keys(session)
        keys = terminal_keys(session, args.seed)
    if pendants:
        out += ["", "Pendants (send the key as X-Device-Key to POST /api/v1/calls):"]
        out += [f"{code:<8} {name:<8} {key}" for code, name, key in pendants]
    if keys:
        out += [
            "",
            "Canteen terminals (全城通): send the key as X-Device-Key to POST /api/v1/meals",
        ]
        out += [f"  {key}  {name}" for name, key in keys]
    out += [
        "",
        f"API          {base}/api/v1/",
        f"Swagger UI   {base}/api/v1/docs",
        f"OpenAPI      {base}/api/v1/openapi.json",
        f"Health       {base}/api/v1/health",
        f"Web console  {base}/",
        "",
        f"Try:  curl -s -X POST {base}/api/v1/auth/login -H 'Content-Type: application/json' "
        f'-d \'{{"username": "dispatcher1", "password": "{PASSWORD}"}}\'',
    ]
    print("\n".join(out))


logins.cli_args = [  # type: ignore[attr-defined]
    ("--all", {"action": "store_true", "help": "list every caregiver login"}),
    ("--seed", {"type": int, "default": DEFAULT_SEED, "help": "the demo's seed (terminal keys)"}),
]


def create_user(args: argparse.Namespace) -> None:
    """Create a user for a real deployment (password from CAREDISPATCH_PASSWORD or a prompt)."""
    _settings()
    role = Role(args.role)
    password = os.environ.get("CAREDISPATCH_PASSWORD")
    if not password:
        password = getpass.getpass(f"Password for {args.username}: ")
        if password != getpass.getpass("Repeat the password: "):
            sys.exit("The two passwords differ; nothing was created.")
    try:
        with db.session_scope() as session:
            data: dict[str, Any] = {
                "username": args.username,
                "role": role.value,
                "password": password,
                "display_name": args.display_name,
            }
            if args.provider_code:
                provider = session.scalar(
                    select(Provider).where(Provider.code == args.provider_code)
                )
                if provider is None:
                    sys.exit(f"No provider with code {args.provider_code!r}; nothing was created.")
                data["provider_id"] = provider.id
                if args.caregiver_code:
                    caregiver_id = session.scalar(
                        select(Caregiver.id).where(
                            Caregiver.provider_id == provider.id,
                            Caregiver.code == args.caregiver_code,
                        )
                    )
                    if caregiver_id is None:
                        sys.exit(
                            f"No caregiver {args.caregiver_code!r} at {args.provider_code}; "
                            "nothing was created."
                        )
                    data["caregiver_id"] = caregiver_id
            elif not role.platform_level:
                sys.exit(f"A {role.value} belongs to a provider: give --provider-code.")
            user = create(session, SYSTEM, data)
            user_id, username = user.id, user.username
    except DomainError as exc:
        sys.exit(f"{exc.message} ({exc.code}); nothing was created.")
    print(f"Created user {username} (id {user_id}, role {role.value}).")


create_user.cli_args = [  # type: ignore[attr-defined]
    ("--username", {"required": True}),
    (
        "--role",
        {
            "required": True,
            "choices": [r.value for r in Role],
        },
    ),
    ("--provider-code", {"help": "code of the user's provider (not for finance/admin)"}),
    ("--caregiver-code", {"help": "for a caregiver user: the caregiver's code at the provider"}),
    ("--display-name", {"help": "name shown in the console"}),
]


COMMANDS: dict[str, Callable[[argparse.Namespace], None]] = {
    "migrate": migrate,
    "worker": worker,
    "seed-demo": seed_demo,
    "demo-setup": demo_setup,
    "logins": logins,
    "create-user": create_user,
}


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="caredispatch", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, fn in COMMANDS.items():
        p = sub.add_parser(name, help=(fn.__doc__ or "").strip().splitlines()[0])
        for flag, kwargs in getattr(fn, "cli_args", []):
            p.add_argument(flag, **kwargs)
    args = parser.parse_args(argv)
    COMMANDS[args.command](args)


if __name__ == "__main__":
    main()
