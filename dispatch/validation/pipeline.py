"""One evaluation: run every enabled rule on a set of orders in their context, then reconcile.

Both paths end here: the incremental one (``engine.validate_orders``) with a context it loaded
itself, the batch (``batch``) chunk by chunk with ``context.load_context``. ``evaluate`` is the
only place rules are called: a rule registered in ``dispatch.rules`` (``@rule``) runs on every
order from then on, on both paths.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from dispatch.rules import WORK_ORDER, Finding, RuleConfig, rules_for
from dispatch.rules.data import Context, OrderData
from dispatch.tenancy import Actor
from dispatch.validation import reconcile
from dispatch.validation.context import Cache, load_context
from dispatch.validation.orders import FROZEN_STATUSES


@dataclass
class RunStats:
    """What a run did: orders evaluated, flags opened / reopened / updated / closed, the
    evaluated orders' statuses, and the findings by code."""

    evaluated: int = 0
    opened: int = 0
    reopened: int = 0
    updated: int = 0
    closed: int = 0
    flagged: int = 0
    verified: int = 0
    by_code: dict[str, int] = field(default_factory=dict)

    def add(self, other: RunStats) -> None:
        for name in ("evaluated", "opened", "reopened", "updated", "closed", "flagged", "verified"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for code, n in other.by_code.items():
            self.by_code[code] = self.by_code.get(code, 0) + n

    def as_dict(self) -> dict[str, Any]:
        return {
            "evaluated": self.evaluated,
            "opened": self.opened,
            "reopened": self.reopened,
            "updated": self.updated,
            "closed": self.closed,
            "flagged": self.flagged,
            "verified": self.verified,
            "open_findings_by_code": dict(sorted(self.by_code.items())),
        }


def evaluate(
    ctx: Context,
    full: Iterable[int],
    partial: dict[int, set[str]],
    configs: dict[str, RuleConfig],
) -> dict[reconcile.Key, Finding]:
    """Run the enabled rules on ``full`` (every rule) and ``partial`` (the codes given per
    order); answers the findings by identity (order, code, other order). A finding lands on the
    evaluated order, or on its partner when the rule is pairwise and names it."""
    ctx.thresholds = {c: cfg.threshold for c, cfg in configs.items()}
    findings: dict[reconcile.Key, Finding] = {}
    rules = rules_for(WORK_ORDER)
    enabled = [(rules[c], cfg) for c, cfg in configs.items() if cfg.enabled and c in rules]
    full_set = set(full)
    for oid in sorted(full_set | set(partial)):
        order = ctx.orders[oid]
        codes = None if oid in full_set else partial[oid]
        for r, cfg in enabled:
            if codes is not None and r.code not in codes:
                continue
            for f in r.func(order, ctx, cfg.threshold):
                if f.work_order_id != oid and not (r.pairwise and f.other_id == oid):
                    continue
                findings[f.key] = f
    return findings


def run(
    session: Session,
    targets: dict[int, OrderData],
    partial: dict[int, set[str]],
    extra: dict[int, OrderData],
    configs: dict[str, RuleConfig],
    cache: Cache,
    actor: Actor,
    *,
    known_cg_ids: set[int] | None = None,
    ctx: Context | None = None,
) -> RunStats:
    """Evaluate ``targets`` (all rules) and ``partial`` (some codes; ``extra`` holds those
    orders), reconcile the flags, set statuses, audit. ``ctx``: the context, when the caller
    loaded it already (the incremental path)."""
    if ctx is None:
        ctx = load_context(session, targets, cache, extra, known_cg_ids)
    full = set(targets)
    frozen = {oid for oid, o in ctx.orders.items() if o.status in FROZEN_STATUSES}
    findings = evaluate(ctx, full, partial, configs)
    findings = {k: f for k, f in findings.items() if k[0] not in frozen}
    stored = reconcile.stored_flags(session, full, partial, frozen)
    now = datetime.now(UTC)
    changes = reconcile.flag_changes(findings, stored, configs, now)
    reconcile.write_flags(session, changes)

    # Statuses: evaluated orders and partners whose flags changed, unless frozen. Every flag of
    # a fully evaluated order is in scope, so whether it holds is known here; only partners and
    # OVER_ENTITLEMENT-only orders need asking.
    touched = (full | set(partial) | set(changes.notes)) - frozen
    touched = {oid for oid in touched if oid in ctx.orders}
    holding = reconcile.holding_orders(findings, stored, configs, full)
    holding |= reconcile.open_holding(session, touched - full)
    new_status = reconcile.set_statuses(session, ctx, touched, holding)
    reconcile.audit_changes(session, ctx, actor, new_status, changes.notes, now)
    reconcile.expire(session, touched | set(changes.notes))

    stats = RunStats(
        evaluated=len(full),
        opened=changes.opened,
        reopened=changes.reopened,
        updated=changes.updated,
        closed=changes.closed,
    )
    stats.flagged = sum(1 for oid in touched if oid in holding)
    stats.verified = len(touched) - stats.flagged
    for f in findings.values():
        if f.work_order_id in full:
            stats.by_code[f.code] = stats.by_code.get(f.code, 0) + 1
    return stats
