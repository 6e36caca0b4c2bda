"""The calls' clock: a call not dispatched by its due time is escalated, whoever is looking.

A periodic task (``dispatch.periodic``): every worker and, without Redis, every API process
runs it; one run per period across all of them. A call opened with a 5-minute threshold is
escalated between 5 min and 5 min + ``EVERY_S`` + the runner's tick after it opened.
"""

from __future__ import annotations

import logging

from dispatch import periodic
from dispatch.db import session_scope
from dispatch.services import call_dispatch

log = logging.getLogger(__name__)

EVERY_S = 15


@periodic.task(every_s=EVERY_S, lease_s=120)
def escalate_overdue_calls() -> list[int]:
    """Escalate the open calls past their due time; answers their ids."""
    with session_scope() as session:
        ids = call_dispatch.escalate_overdue(session)
    if ids:
        log.warning("escalated %s overdue call(s): %s", len(ids), ids)
    return ids
