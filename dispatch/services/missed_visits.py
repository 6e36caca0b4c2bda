"""Visits nobody came to: a published visit with no check-in by the end of its window becomes
``missed`` (the live board's alert, SPEC "Live board"), and the elder's family is told once.

The sweep (``mark_missed``) runs periodically (``dispatch.visit_clock``), whoever is looking:

- **Same rule as the board.** ``board.visit_state`` calls a visit missed when nothing checked it
  in by ``window_end_at``; the sweep stores that verdict on the visit, so the figures and the
  family see what the dispatcher saw.
- **Recent windows only.** Windows that ended within ``LOOKBACK`` are swept: a visit missed
  long ago (before the sweep ran, or from an import) is no news for a relative.
- **Once.** A visit leaves ``published`` when it is marked; the message's key is the visit's
  (``visit:42:missed``), so even a visit marked again after a late check-in came and went is
  never told twice. A late (offline) check-in still counts: the EVV service settles the visit
  from its events (``in_progress``, ``completed``) as for any other.
- **No race with a check-in.** Rows are taken ``FOR UPDATE SKIP LOCKED``: a visit whose
  check-in is being recorded is skipped (and is no longer ``published`` once it commits).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from dispatch import audit, config
from dispatch.db import utcnow
from dispatch.models import EventKind, Visit, VisitEvent, VisitStatus
from dispatch.services import notifications
from dispatch.tenancy import SYSTEM

LOOKBACK = timedelta(days=1)


def mark_missed(session: Session, now: datetime | None = None) -> list[int]:
    """Mark the published visits whose window ended with no check-in; answers their ids."""
    now = now or utcnow()
    # A visit's date is its window's local day; a window may end the next day (a night visit).
    zone = config.zone()
    first_day = (now - LOOKBACK).astimezone(zone).date() - timedelta(days=1)
    checked_in = exists().where(
        VisitEvent.visit_id == Visit.id, VisitEvent.kind == EventKind.check_in
    )
    rows = list(
        session.scalars(
            select(Visit)
            .where(
                Visit.date.between(first_day, now.astimezone(zone).date()),
                Visit.status == VisitStatus.published,
                Visit.window_end_at < now,
                Visit.window_end_at >= now - LOOKBACK,
                ~checked_in,
            )
            .order_by(Visit.window_end_at, Visit.id)
            .with_for_update(skip_locked=True)
        )
    )
    for visit in rows:
        visit.status = VisitStatus.missed
        session.flush()
        audit.record(
            session,
            SYSTEM,
            "visit.missed",
            visit,
            before={"status": "published"},
            after={"status": "missed"},
        )
        notifications.for_missed_visit(session, visit)
    session.flush()
    return [v.id for v in rows]
