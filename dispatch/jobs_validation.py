"""Job: batch re-validation of a period, run by rq (or in-process without Redis)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from dispatch import audit
from dispatch.db import session_scope
from dispatch.models import Role
from dispatch.tenancy import Actor

log = logging.getLogger(__name__)


def run_batch(
    start_iso: str,
    end_iso: str,
    provider_id: int | None,
    user_id: int | None = None,
    role: str = "admin",
) -> dict[str, Any]:
    """Re-evaluate every open order of the period; answers (and audits) the counts."""
    from dispatch.services.validation import validate_period

    actor = Actor(user_id=user_id, role=Role(role))
    start, end = datetime.fromisoformat(start_iso), datetime.fromisoformat(end_iso)
    with session_scope() as session:
        stats = validate_period(session, start, end, provider_id, actor=actor)
        summary = stats.as_dict()
        audit.record(
            session,
            actor,
            "validation.batch_done",
            entity_type="work_orders",
            after={"from": start_iso, "to": end_iso, "provider_id": provider_id, **summary},
        )
    log.info("batch validation %s..%s provider=%s: %s", start_iso, end_iso, provider_id, summary)
    return summary
