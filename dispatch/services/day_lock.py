"""A provider's day is written under its lock: its plans and its visits' routes, one at a time.

The contract, for every writer of a day (storing a solved plan, publishing one, moving or editing
a visit by hand):

- ``lock(session, provider_id, day)`` first: it locks every plan row of that provider's day until
  the session's transaction ends (``SELECT ... FOR UPDATE`` in id order, so writers never
  deadlock; on SQLite, which has no row locks, a write that takes the database's lock at once)
  and answers them as stored now, versions ascending.
- then ``visits(session, ids)``: the visits to write, re-read under a row lock with their
  assignments. A writer writes onto what is stored now, never onto rows it loaded before a long
  solve (two versions of one day solved at once used to meet in a raw unique-key violation).
- Lock order: the day, then its visits, ascending ids. A check-in locks only its visit, so it
  never waits for a day's lock; a writer that waits for a check-in sees its status afterwards.
- Within the lock a writer decides whether what it holds is still current (``proposals`` refuses
  a stale version with ``PLAN_STALE``) and writes; the commit releases the lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from dispatch.models import DayPlan, Visit


def lock(session: Session, provider_id: int, day: date) -> list[DayPlan]:
    """Take the day's lock; answers the day's plans as stored now, oldest version first."""
    where = (DayPlan.provider_id == provider_id, DayPlan.date == day)
    if session.get_bind().dialect.name == "sqlite":
        # No row locks: a write (that changes nothing) takes the database's write lock now, so
        # that the reads below see the last commit and no other writer commits before ours.
        session.execute(
            update(DayPlan)
            .where(*where)
            .values(version=DayPlan.version)
            .execution_options(synchronize_session=False)
        )
    rows = session.scalars(
        select(DayPlan)
        .where(*where)
        .order_by(DayPlan.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return sorted(rows, key=lambda p: p.version)


def visits(session: Session, ids: Iterable[int]) -> list[Visit]:
    """These visits (with their assignments) re-read under a row lock, in id order."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    return list(
        session.scalars(
            select(Visit)
            .where(Visit.id.in_(wanted))
            .order_by(Visit.id)
            .with_for_update(of=Visit)
            .options(selectinload(Visit.assignments))
            .execution_options(populate_existing=True)
        )
    )
