"""Sends the family notification outbox: a periodic task, whoever is looking.

Every runner (rq workers, or API processes without Redis) runs it; one run per period across
all of them, and each row is held while it is sent (``notifications.send_due``).
"""

from __future__ import annotations

import logging

from dispatch import periodic
from dispatch.db import session_scope
from dispatch.services import notifications

log = logging.getLogger(__name__)

EVERY_S = 10


@periodic.task(every_s=EVERY_S, lease_s=120)
def send_notifications() -> tuple[int, int]:
    """Send what is due; answers (sent, failed)."""
    with session_scope() as session:
        sent, failed = notifications.send_due(session, notifications.configured_sender())
    if sent or failed:
        log.info("notifications: %s sent, %s failed", sent, failed)
    return sent, failed
