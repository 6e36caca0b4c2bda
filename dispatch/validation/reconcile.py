"""Reconciliation: findings against the stored flags, then the orders' statuses.

A flag's identity is (order, code, other order). ``flag_changes`` is pure: given what the rules
found and the flags stored in the evaluation's scope, it answers which flags open, which closed
or changed ones reopen or are updated, and which open ones close (with the reason), and
``holding_orders`` which evaluated orders keep a block or review finding. A flag that holds
again is found again (no duplicate), an overridden flag stays overridden. The rest of the
module writes that out: the flags, the statuses (``flagged`` / ``verified``), one audit entry
per order whose status or flags changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from dispatch.models import AuditEntry, Flag, FlagStatus, WorkOrder, WorkOrderStatus
from dispatch.rules import WORK_ORDER, Finding, RuleConfig, rules_for
from dispatch.rules.data import Context
from dispatch.tenancy import Actor
from dispatch.validation.orders import HOLDING, among, text_of

Key = tuple[int, str, int]  # (order, code, other order)


@dataclass(frozen=True)
class StoredFlag:
    id: int
    status: str
    severity: str
    evidence: Any


@dataclass
class FlagChanges:
    """What reconciling findings with stored flags does; ``notes``: per order, the codes
    opened, reopened and closed (for the audit)."""

    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    notes: dict[int, dict[str, list[str]]] = field(default_factory=dict)
    opened: int = 0
    reopened: int = 0
    updated: int = 0
    closed: int = 0

    def note(self, order_id: int, what: str, code: str) -> None:
        self.notes.setdefault(order_id, {}).setdefault(what, []).append(code)


def closing_reason(code: str, config: RuleConfig | None) -> str:
    if config is None or not config.enabled:
        return f"no longer holds: rule {code} is disabled"
    return f"no longer holds: {code} re-evaluated at threshold {config.threshold} on current data"


def _reopen(flag_id: int, severity: str, evidence: Any, now: datetime) -> dict[str, Any]:
    return {
        "fid": flag_id,
        "status": FlagStatus.open.value,
        "severity": severity,
        "evidence": evidence,
        "resolution": None,
        "resolved_at": None,
        "updated_at": now,
    }


def flag_changes(
    findings: dict[Key, Finding],
    stored: dict[Key, StoredFlag],
    configs: dict[str, RuleConfig],
    now: datetime,
) -> FlagChanges:
    """Pure: a finding without a flag opens one, a closed flag found again reopens, an open one
    takes the new severity and evidence; an open flag no longer found closes. Overridden flags
    stay as they are."""
    out = FlagChanges()
    for key, f in findings.items():
        severity = configs[f.code].severity
        row = stored.get(key)
        if row is None:
            out.inserts.append(
                {
                    "work_order_id": f.work_order_id,
                    "code": f.code,
                    "other_work_order_id": f.other_id,
                    "severity": severity,
                    "status": FlagStatus.open.value,
                    "evidence": f.evidence,
                    "created_at": now,
                }
            )
            out.opened += 1
            out.note(f.work_order_id, "opened", f.code)
        elif row.status == FlagStatus.closed:
            out.updates.append(_reopen(row.id, severity, f.evidence, now))
            out.reopened += 1
            out.note(f.work_order_id, "reopened", f.code)
        elif row.status == FlagStatus.open and (
            row.severity != severity or row.evidence != f.evidence
        ):
            out.updates.append(_reopen(row.id, severity, f.evidence, now))
            out.updated += 1
    for key, row in stored.items():
        if key in findings or row.status != FlagStatus.open:
            continue
        code = key[1]
        out.updates.append(
            {
                "fid": row.id,
                "status": FlagStatus.closed.value,
                "severity": row.severity,
                "evidence": row.evidence,
                "resolution": closing_reason(code, configs.get(code)),
                "resolved_at": now,
                "updated_at": now,
            }
        )
        out.closed += 1
        out.note(key[0], "closed", code)
    return out


def holding_orders(
    findings: dict[Key, Finding],
    stored: dict[Key, StoredFlag],
    configs: dict[str, RuleConfig],
    full: set[int],
) -> set[int]:
    """Pure: the fully evaluated orders with a block or review finding not overridden."""
    holding: set[int] = set()
    for key, f in findings.items():
        if f.work_order_id not in full or configs[f.code].severity not in HOLDING:
            continue
        row = stored.get(key)
        if row is None or row.status != FlagStatus.overridden:
            holding.add(f.work_order_id)
    return holding


# --------------------------------------------------------------------------- reads and writes

FLAG_COLUMNS = (
    Flag.id,
    Flag.work_order_id,
    Flag.code,
    Flag.other_work_order_id,
    Flag.status,
    Flag.severity,
    Flag.evidence,
)


def stored_flags(
    session: Session, full: set[int], partial: dict[int, set[str]], frozen: set[int]
) -> dict[Key, StoredFlag]:
    """The flags in the evaluation's scope: every flag of a fully evaluated order, the partial
    codes, and the partners' pairwise flags that name an evaluated order (frozen orders' not)."""
    evaluated = sorted(full | set(partial))
    pairwise = {c for c, r in rules_for(WORK_ORDER).items() if r.pairwise}
    out: dict[Key, StoredFlag] = {}
    for r in session.execute(
        select(*FLAG_COLUMNS).where(
            or_(
                among(session, Flag.work_order_id, evaluated),
                and_(
                    among(session, Flag.other_work_order_id, sorted(full)),
                    Flag.code.in_(sorted(pairwise)),
                ),
            )
        )
    ):
        oid, code, other = r[1], r[2], r[3]
        in_scope = (
            oid in full
            or (oid in partial and code in partial[oid])
            or (other in full and code in pairwise)
        )
        if in_scope and oid not in frozen:
            out[(oid, code, other)] = StoredFlag(r[0], text_of(r[4]), text_of(r[5]), r[6])
    return out


def write_flags(session: Session, changes: FlagChanges) -> None:
    if changes.inserts:
        session.execute(insert(Flag), changes.inserts)
    if changes.updates:
        session.execute(
            update(Flag.__table__)
            .where(Flag.__table__.c.id == bindparam("fid"))
            .values(
                status=bindparam("status"),
                severity=bindparam("severity"),
                evidence=bindparam("evidence"),
                resolution=bindparam("resolution"),
                resolved_at=bindparam("resolved_at"),
                updated_at=bindparam("updated_at"),
            ),
            changes.updates,
        )


def open_holding(session: Session, order_ids: Iterable[int]) -> set[int]:
    """Of these orders, those with an open block or review flag (as stored)."""
    ask = sorted(order_ids)
    if not ask:
        return set()
    return set(
        session.scalars(
            select(Flag.work_order_id)
            .where(
                among(session, Flag.work_order_id, ask),
                Flag.status == FlagStatus.open,
                Flag.severity.in_(HOLDING),
            )
            .distinct()
        )
    )


def set_statuses(
    session: Session, ctx: Context, touched: set[int], holding: set[int]
) -> dict[int, str]:
    """``flagged`` for the touched orders held, ``verified`` for the others; answers the
    orders whose status changed, with the new status."""
    new = {
        oid: WorkOrderStatus.flagged if oid in holding else WorkOrderStatus.verified
        for oid in touched
    }
    changed = {oid: status for oid, status in new.items() if ctx.orders[oid].status != status}
    for status in (WorkOrderStatus.flagged, WorkOrderStatus.verified):
        ids = sorted(oid for oid, s in changed.items() if s == status)
        if ids:
            session.execute(
                update(WorkOrder.__table__)
                .where(among(session, WorkOrder.__table__.c.id, ids))
                .values(status=status.value)
            )
    return {oid: status.value for oid, status in sorted(changed.items())}


def audit_changes(
    session: Session,
    ctx: Context,
    actor: Actor,
    new_status: dict[int, str],
    notes: dict[int, dict[str, list[str]]],
    now: datetime,
) -> None:
    """One audit entry per order whose status or flags changed."""
    audit_ids = set(new_status) | set(notes)
    if not audit_ids:
        return
    session.execute(
        insert(AuditEntry),
        [
            {
                "at": now,
                "actor_user_id": actor.user_id,
                "actor_role": actor.role.value,
                "provider_id": ctx.orders[oid].provider_id,
                "action": "work_order.validate",
                "entity_type": "work_orders",
                "entity_id": oid,
                "before": {"status": ctx.orders[oid].status},
                "after": {
                    "status": new_status.get(oid, ctx.orders[oid].status),
                    **notes.get(oid, {}),
                },
                "reason": "validation rules",
            }
            for oid in sorted(audit_ids)
        ],
    )


def expire(session: Session, order_ids: set[int]) -> None:
    """Objects already in the session must not show the statuses and flags from before."""
    for obj in list(session.identity_map.values()):
        if (isinstance(obj, WorkOrder) and obj.id in order_ids) or (
            isinstance(obj, Flag) and obj.work_order_id in order_ids
        ):
            session.expire(obj)
