"""Command line: migrate, seed the demo district, run a worker, print the demo logins."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config

from dispatch import config, db

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)


def _settings() -> config.Settings:
    settings = config.Settings.from_env()
    config.use(settings)
    db.configure(settings.database_url)
    return settings


def migrate(_args: argparse.Namespace) -> None:
    """Bring the database to the newest schema."""
    settings = _settings()
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["url"] = settings.database_url
    command.upgrade(cfg, "head")


def worker(_args: argparse.Namespace) -> None:
    """Run an rq worker on the configured queue (needs REDIS_URL)."""
    from rq import Worker

    from dispatch import queue

    settings = _settings()
    if not settings.redis_url:
        sys.exit("REDIS_URL is not set: with no Redis, jobs run inside the API process.")
    conn = queue.redis_connection()
    Worker([queue.get_queue(conn)], connection=conn).work(with_scheduler=False)


COMMANDS: dict[str, Callable[[argparse.Namespace], None]] = {
    "migrate": migrate,
    "worker": worker,
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
