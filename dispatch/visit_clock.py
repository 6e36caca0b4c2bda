"""The visits' clock: a published visit with no check-in by the end of its window is marked
missed and the family told (``services.missed_visits``), whoever is looking.

A periodic task (``dispatch.periodic``), run once per period across every worker and API process.
"""

from __future__ import annotations

import logging

from dispatch import periodic
from dispatch.db import session_scope
from dispatch.services import missed_visits

log = logging.getLogger(__name__)

EVERY_S = 60


@periodic.task(every_s=EVERY_S, lease_s=120)
def mark_missed_visits() -> list[int]:
    """Mark the visits nobody came to; answers their ids."""
    with session_scope() as session:
        ids = missed_visits.mark_missed(session)
    if ids:
        log.warning("marked %s visit(s) missed: %s", len(ids), ids[:20])
    return ids
