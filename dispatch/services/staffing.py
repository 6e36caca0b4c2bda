"""Staffing against the bureau's targets (Hangzhou, Gongshu): certified caregivers per 10,000
elders served, the share of senior grade among them, the share holding a first-aid certificate.

Definitions (docs/supervision.md):
- *certified*: an active caregiver holding a 养老护理员 certificate valid on the day (no expiry,
  or expiring on or after it);
- *senior*: a certified caregiver of grade 高级 (senior) or above (技师, 高级技师);
- *first aid*: a certified caregiver also holding a valid 救护员 (first-aider) certificate;
- per 10,000 elders *served*: the distinct elders with a work order in the period (the funnel's).
A caregiver counts in the street they work from (``Caregiver.street``) and in their provider.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from dispatch.models import SENIOR_GRADES, Caregiver, Certificate
from dispatch.tenancy import Actor, scoped

# The targets (Gongshu's plan, after Hangzhou's): per 10,000 elders; shares of the certified.
CERTIFIED_PER_10K_TARGET = Decimal(28)
SENIOR_SHARE_TARGET = Decimal("0.18")
FIRST_AID_SHARE_TARGET = Decimal("0.70")
# Certificates are recorded by kind as printed; these name the two that count.
CARE_CERTIFICATE = "养老护理员"  # 养老护理员证（初级/中级/高级…）, the occupational certificate
FIRST_AID_CERTIFICATE = "救护员"  # 红十字救护员证


@dataclass(frozen=True)
class Staff:
    certified: int = 0
    senior: int = 0
    first_aid: int = 0

    def __add__(self, other: Staff) -> Staff:
        return Staff(
            self.certified + other.certified,
            self.senior + other.senior,
            self.first_aid + other.first_aid,
        )


def ratio(num: int | Decimal, den: int | Decimal, places: str = "0.0001") -> Decimal | None:
    """num / den rounded half-up, or None when there is nothing to divide by."""
    if not den:
        return None
    return (Decimal(num) / Decimal(den)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def shares(staff: Staff, elders_served: int) -> dict[str, Any]:
    """The three staffing figures and whether each meets its target (None: cannot tell)."""
    per_10k = ratio(staff.certified * 10_000, elders_served, "0.1")
    senior = ratio(staff.senior, staff.certified)
    first_aid = ratio(staff.first_aid, staff.certified)
    return {
        "certified": staff.certified,
        "certified_per_10k": per_10k,
        "senior_share": senior,
        "first_aid_share": first_aid,
        "certified_per_10k_met": None if per_10k is None else per_10k >= CERTIFIED_PER_10K_TARGET,
        "senior_share_met": None if senior is None else senior >= SENIOR_SHARE_TARGET,
        "first_aid_share_met": None if first_aid is None else first_aid >= FIRST_AID_SHARE_TARGET,
    }


def _holds(kind: str, on: date) -> Any:
    return exists().where(
        Certificate.caregiver_id == Caregiver.id,
        Certificate.kind.contains(kind, autoescape=True),
        or_(Certificate.expires_on.is_(None), Certificate.expires_on >= on),
    )


def staff_by(
    session: Session, actor: Actor, key: Any, on: date, provider_id: int | None = None
) -> dict[Any, Staff]:
    """Certified, senior and first-aid caregivers the actor may see, grouped by ``key`` (a
    column of ``Caregiver``), as of day ``on``."""
    certified = and_(Caregiver.active.is_(True), _holds(CARE_CERTIFICATE, on))
    stmt = (
        select(
            key,
            func.count(),
            func.sum(case((Caregiver.grade.in_(sorted(SENIOR_GRADES)), 1), else_=0)),
            func.sum(case((_holds(FIRST_AID_CERTIFICATE, on), 1), else_=0)),
        )
        .where(certified)
        .group_by(key)
    )
    stmt = scoped(stmt, Caregiver, actor)
    if provider_id is not None:
        stmt = stmt.where(Caregiver.provider_id == provider_id)
    return {
        k: Staff(int(n), int(senior or 0), int(aid or 0))
        for k, n, senior, aid in session.execute(stmt)
    }
