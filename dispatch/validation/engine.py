"""The rules engine's public face: validate these orders, validate this period.

Everything outside ``dispatch.validation`` imports this module only (an import-linter contract
keeps the package's other modules private). A set of orders is *evaluated* with every enabled
rule against a context loaded around it, and the findings are reconciled with the stored flags
whose identity (order, code, other order) falls in the evaluation's scope: a flag that holds
again is found again (no duplicate), a flag that no longer holds is closed with the reason, an
overridden flag stays overridden. Orders already approved, rejected or billed are frozen: the
rules neither add nor close flags on them.

Where things are (see docs/architecture.md):

- the rules themselves: ``dispatch.rules`` (one ``@rule`` function per code, evidence with the
  numbers that tripped it); a new rule is registered there and runs here on both paths;
- ``orders``: the order rows and their selects; ``settings``: rule settings and the cached
  reference data; ``context`` (generic) and ``incremental`` + ``wide`` (a few wide queries):
  the two loaders, sharing their row builders; ``travel``: the router's travel times;
  ``pipeline``: evaluate and reconcile one set of orders; ``reconcile``: which flags open, stay
  or close (pure) and the writes; ``batch``: a period on PostgreSQL.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from dispatch.rules import RuleConfig
from dispatch.tenancy import SYSTEM, Actor
from dispatch.validation import batch, incremental, settings
from dispatch.validation.context import Cache
from dispatch.validation.pipeline import RunStats, run

__all__ = [
    "RunStats",
    "last_batch",
    "rule_config",
    "rule_configs",
    "settings_changed",
    "validate_orders",
    "validate_period",
]

log = logging.getLogger(__name__)


def validate_orders(session: Session, order_ids: Iterable[int], actor: Actor = SYSTEM) -> RunStats:
    """Run every rule on the given work orders and set each to ``flagged`` or ``verified``.

    Orders whose flags depend on these are re-evaluated too: the same person's open orders
    within a day and a half (overlap, travel, daily hours), and for OVER_ENTITLEMENT the
    client's later orders of the same month. The context is read in a few wide queries
    (``incremental``), the same context the batch's loader would read.
    """
    session.flush()
    p = incremental.plan(session, order_ids)
    if p is None:
        return RunStats()
    stats = run(
        session,
        p.full,
        p.partial,
        p.extra,
        p.configs,
        Cache(),
        actor,
        known_cg_ids=p.known_cg_ids,
        ctx=p.ctx,
    )
    session.flush()
    log.debug("validated %s orders: %s", len(p.full), stats.as_dict())
    return stats


def validate_period(
    session: Session,
    start: datetime,
    end: datetime,
    provider_id: int | None = None,
    actor: Actor = SYSTEM,
    *,
    prefilters: bool = True,
) -> RunStats:
    """Batch: re-evaluate every open order that starts in [start, end), all providers or one.

    On PostgreSQL the rules' set-based prefilters pick the orders that may hold a finding or
    have open flags, and only those go through the rules (``batch``); the others are verified
    in one statement. Elsewhere, or with ``prefilters=False`` (the reference the benchmark and
    the tests compare with), every order goes through the rules.
    """
    session.flush()
    configs = rule_configs(session)
    if prefilters and session.get_bind().dialect.name == "postgresql":
        return batch.prefiltered(session, start, end, provider_id, actor, configs)
    return batch.every_order(session, start, end, provider_id, actor, configs)


def rule_configs(session: Session) -> dict[str, RuleConfig]:
    """Every registered rule with its threshold, severity and enabled state in force."""
    return settings.rule_configs(session)


def rule_config(session: Session, code: str) -> RuleConfig:
    """One registered rule's settings in force."""
    return settings.rule_config(session, code)


def settings_changed() -> None:
    """A rule's settings changed in this process: drop the cached ones at once (other
    processes see the change through the settings' fingerprint on their next run)."""
    settings.REFERENCE.clear()


def last_batch() -> dict[str, Any]:
    """The last prefiltered batch's counts and seconds per step (benchmarks, logs)."""
    return dict(batch.LAST_RUN)
