"""Health of the parts the service needs: the database and the job queue."""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.orm import Session

from dispatch import queue

log = logging.getLogger(__name__)


def health(session: Session) -> dict[str, str]:
    status = {"status": "ok", "database": "ok", "queue": queue.mode()}
    try:
        session.execute(text("SELECT 1"))
    except Exception:
        log.exception("database health check failed")
        status.update(status="degraded", database="down")
    if status["queue"] == "rq":
        try:
            conn = queue.redis_connection()
            assert conn is not None
            conn.ping()
            status["queue"] = "ok"
        except Exception:
            log.exception("redis health check failed")
            status.update(status="degraded", queue="down")
    return status
