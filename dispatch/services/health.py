"""Health of the parts the service needs: the database and the job queue."""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.orm import Session

from dispatch import queue

log = logging.getLogger(__name__)


def health(session: Session) -> dict[str, str]:
    """``status`` is ``down`` when the database is (nothing works without it), ``degraded``
    when only the queue is (check-ins, sync and reads still work; jobs answer 503)."""
    status = {"status": "ok", "database": "ok", "queue": queue.mode()}
    try:
        session.execute(text("SELECT 1"))
    except Exception as exc:
        log.warning("database health check failed: %s", exc)
        session.rollback()
        status.update(status="down", database="down")
    if status["queue"] == "rq":
        try:
            conn = queue.redis_connection()
            assert conn is not None
            conn.ping()
            status["queue"] = "ok"
        except Exception as exc:
            log.warning("redis health check failed: %s", exc)
            status["queue"] = "down"
            if status["status"] == "ok":
                status["status"] = "degraded"
    return status
