"""Rules and flags as admins and finance see them: list flags, describe and change the rules,
queue a batch re-validation. The engine itself is ``dispatch.validation.engine``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import audit, error_codes, queue
from dispatch.models import Flag, Role, RuleSetting, Severity, WorkOrder
from dispatch.rules import RULES
from dispatch.services.pages import page_of
from dispatch.tenancy import Actor, scoped
from dispatch.validation import engine

# The job that re-validates a period (``dispatch.jobs``), enqueued by name.
BATCH_JOB = "dispatch.jobs.revalidate_period"
BATCH_TIMEOUT_S = 3600
MAX_BATCH_DAYS = 400


def list_flags(
    session: Session, actor: Actor, filters: dict[str, Any], page: int, page_size: int
) -> tuple[list[Flag], int]:
    """Flags the actor may see (a provider sees its own orders' flags), newest first."""
    stmt = select(Flag).join(WorkOrder, WorkOrder.id == Flag.work_order_id)
    stmt = scoped(stmt, WorkOrder, actor)
    simple = {
        "status": Flag.status,
        "code": Flag.code,
        "severity": Flag.severity,
        "work_order_id": Flag.work_order_id,
        "provider_id": WorkOrder.provider_id,
    }
    for name, column in simple.items():
        value = filters.get(name)
        if value is not None:
            stmt = stmt.where(column == getattr(value, "value", value))
    return page_of(session, stmt.order_by(Flag.id.desc()), page, page_size)


def describe_rules(session: Session) -> list[dict[str, Any]]:
    """Every rule: code, what it checks, its threshold and severity in force and by default."""
    configs = engine.rule_configs(session)
    rows = {r.code: r for r in session.scalars(select(RuleSetting))}
    out = []
    for code, r in RULES.items():
        cfg, row = configs[code], rows.get(code)
        out.append(
            {
                "code": code,
                "description": r.description,
                "description_zh": r.description_zh,
                "severity": cfg.severity,
                "default_severity": r.severity,
                "threshold": cfg.threshold,
                "default_threshold": r.default,
                "unit": r.unit,
                "threshold_min": r.low,
                "threshold_max": r.high,
                "enabled": cfg.enabled,
                "pairwise": r.pairwise,
                "updated_at": row.updated_at if row is not None else None,
                "updated_by": row.updated_by if row is not None else None,
            }
        )
    return out


def update_rule(session: Session, actor: Actor, code: str, data: dict[str, Any]) -> dict[str, Any]:
    """Change a rule's threshold, severity or enabled flag; audited. Re-run a batch to apply."""
    actor.require(Role.admin)
    r = RULES.get(code)
    if r is None:
        raise error_codes.RULE_NOT_FOUND(rule=code)
    if "threshold" in data:
        why = r.check_threshold(data["threshold"])
        if why is not None:
            raise error_codes.INVALID_THRESHOLD(rule=code, why=why, errors={"threshold": [why]})
    row = session.get(RuleSetting, code)
    if row is None:
        row = RuleSetting(
            code=code, threshold=r.default, severity=Severity(r.severity), enabled=True
        )
        session.add(row)
        session.flush()
    before = audit.snapshot(row)
    if "threshold" in data:
        row.threshold = data["threshold"]
    if data.get("severity") is not None:
        row.severity = Severity(getattr(data["severity"], "value", data["severity"]))
    if data.get("enabled") is not None:
        row.enabled = data["enabled"]
    row.updated_by = actor.user_id
    row.updated_at = datetime.now(UTC)
    session.flush()
    engine.settings_changed()
    old, new = audit.changed(before, audit.snapshot(row))
    audit.record(
        session,
        actor,
        "rule.update",
        entity_type="rule_settings",
        entity_id=None,
        before={"code": code, **old},
        after={"code": code, **new},
        reason=data.get("reason"),
    )
    return next(d for d in describe_rules(session) if d["code"] == code)


def start_batch(
    session: Session, actor: Actor, start: datetime, end: datetime, provider_id: int | None
) -> dict[str, Any]:
    """Queue a batch re-validation of a period (finance, admin); answers the job id."""
    actor.require(Role.admin, Role.finance)
    if end <= start:
        raise error_codes.INVALID_PERIOD("to_after_from", errors={"to": ["Must be after from."]})
    if end - start > timedelta(days=MAX_BATCH_DAYS):
        raise error_codes.PERIOD_TOO_LONG(
            days=MAX_BATCH_DAYS, errors={"to": [f"At most {MAX_BATCH_DAYS} days after from."]}
        )
    job_id = queue.enqueue(
        session,
        BATCH_JOB,
        start.isoformat(),
        end.isoformat(),
        provider_id,
        actor.user_id,
        actor.role.value,
        timeout_s=BATCH_TIMEOUT_S,
        description=f"validate {start.date()}..{end.date()} provider={provider_id}",
    )
    audit.record(
        session,
        actor,
        "validation.batch_queued",
        entity_type="work_orders",
        after={"from": start, "to": end, "provider_id": provider_id, "job_id": job_id},
    )
    return {"job_id": job_id, "status": "queued", "mode": queue.mode()}
