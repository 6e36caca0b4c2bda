"""Billable minutes of a work order: one definition for the app's check-out and timesheet rows.

The actual duration, rounded to the minute, capped at planned × the LONG_VISIT threshold in
force: up to where the rule starts asking "too long?" a minute is billed, beyond it a person
must look (the order is flagged LONG_VISIT, and the excess is not billed). "Planned" is what
the rule compares with: the visit's duration for an app order, the service's default duration
for a timesheet row. See docs/billing.md.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from dispatch.validation import engine

CAP_RULE = "LONG_VISIT"


def cap_factor(session: Session) -> float:
    """The LONG_VISIT threshold in force (× planned; the rule's default 1.5 unless changed).
    The cap holds whether or not the rule is enabled."""
    return float(engine.rule_config(session, CAP_RULE).threshold)


def billable_minutes(start: datetime, end: datetime, planned_min: int | None, cap: float) -> int:
    """Actual minutes rounded to the nearest (Python's ``round``: a tie of exactly 30 s goes to
    the even minute), at most ``round(planned_min × cap)``; no cap without a planned duration."""
    actual = round(max(0.0, (end - start).total_seconds() / 60))
    if not planned_min:
        return actual
    return min(actual, round(planned_min * cap))
