"""Allowance schemes: who gets how much a month (age band, care levels, hardship category).

Contract: two active schemes never both match one elder for the same hardship category (their
age bands and care levels would overlap): such a scheme is refused with 422
``ALLOWANCE_SCHEME_OVERLAP`` and nothing is stored. Amounts are Decimal CNY at the API and
integer fen here; a negative amount is refused. ``matching`` is the one definition of which
schemes apply to an elder in a month.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import audit, error_codes
from dispatch.models import AllowanceScheme, Role, ServiceType
from dispatch.services.pages import page_of
from dispatch.tenancy import Actor, get_scoped

READERS = (Role.dispatcher, Role.provider_admin, Role.finance, Role.admin)
WRITERS = (Role.admin,)
FEN_PER_YUAN = 100
FIELDS = (
    "name",
    "age_min",
    "age_max",
    "care_levels",
    "hardship",
    "monthly_amount",
    "meal_subsidy",
    "services",
    "carry_over_months",
    "active",
)


def to_fen(amount: Decimal) -> int:
    """CNY (Decimal) to whole fen, ROUND_HALF_UP."""
    return int((amount * FEN_PER_YUAN).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_yuan(fen: int) -> Decimal:
    """Whole fen to CNY with two decimals (shown as a decimal string)."""
    return (Decimal(fen) / FEN_PER_YUAN).quantize(Decimal("0.01"))


def age_on(birth: date | None, day: date) -> int | None:
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def applies(
    scheme: AllowanceScheme, age: int | None, care_level: int, hardship: str | None
) -> bool:
    """Whether ``scheme`` pays an elder of this age, care level and hardship category."""
    if not scheme.active:
        return False
    if scheme.hardship is not None and scheme.hardship != hardship:
        return False
    if scheme.age_min is not None or scheme.age_max is not None:
        if age is None:
            return False
        if scheme.age_min is not None and age < scheme.age_min:
            return False
        if scheme.age_max is not None and age > scheme.age_max:
            return False
    return not (scheme.care_levels is not None and care_level not in scheme.care_levels)


def matching(
    schemes: Iterable[AllowanceScheme],
    birth: date | None,
    care_level: int,
    hardship: str | None,
    month: date,
) -> list[AllowanceScheme]:
    """The schemes that pay this elder for ``month`` (age on the month's first day)."""
    age = age_on(birth, month)
    return [s for s in schemes if applies(s, age, care_level, hardship)]


def _overlaps(a: Mapping[str, Any], b: AllowanceScheme) -> bool:
    if a.get("hardship") != b.hardship:
        return False
    lo_a, hi_a = a.get("age_min"), a.get("age_max")
    lo_b, hi_b = b.age_min, b.age_max
    lo, hi = (
        max(lo_a or 0, lo_b or 0),
        min(hi_a if hi_a is not None else 10**6, hi_b if hi_b is not None else 10**6),
    )
    if lo > hi:
        return False
    levels_a, levels_b = a.get("care_levels"), b.care_levels
    return levels_a is None or levels_b is None or bool(set(levels_a) & set(levels_b))


def _check(session: Session, data: Mapping[str, Any], scheme_id: int | None) -> None:
    errors: dict[str, list[str]] = {}
    lo, hi = data.get("age_min"), data.get("age_max")
    if lo is not None and hi is not None and hi < lo:
        errors["age_max"] = [f"age_max {hi} is below age_min {lo}."]
    for name in ("monthly_amount", "meal_subsidy"):
        value = data.get(name)
        if value is not None and value < 0:
            errors[name] = ["Must be 0 or more (CNY)."]
    codes = set(data.get("services") or [])
    known = set(session.scalars(select(ServiceType.code).where(ServiceType.code.in_(codes))))
    if codes - known:
        errors["services"] = [f"Unknown service code(s): {', '.join(sorted(codes - known))}."]
    if errors:
        raise error_codes.ALLOWANCE_SCHEME_INVALID(errors=errors)
    if not data.get("active", True):
        return
    others = session.scalars(
        select(AllowanceScheme).where(AllowanceScheme.active.is_(True)).order_by(AllowanceScheme.id)
    )
    clash = [s for s in others if s.id != scheme_id and _overlaps(data, s)]
    if clash:
        s = clash[0]
        band = f"{s.age_min if s.age_min is not None else '-'}..{s.age_max or '-'}"
        raise error_codes.ALLOWANCE_SCHEME_OVERLAP(
            id=s.id,
            name=s.name,
            band=band,
            errors={"age_min": [f"Overlaps scheme {s.id} ({band})."]},
        )


def _values(data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in data.items():
        if name == "monthly_amount":
            out["monthly_amount_fen"] = to_fen(value)
        elif name == "meal_subsidy":
            out["meal_subsidy_fen"] = to_fen(value)
        elif name == "care_levels":
            out[name] = sorted(set(value)) if value is not None else None
        elif name == "services":
            out[name] = sorted(set(value))
        else:
            out[name] = value
    return out


def create_scheme(session: Session, actor: Actor, data: Mapping[str, Any]) -> AllowanceScheme:
    actor.require(*WRITERS)
    _check(session, data, None)
    scheme = AllowanceScheme(created_by=actor.user_id, **_values(data))
    session.add(scheme)
    session.flush()
    audit.record(session, actor, "create", scheme, after=audit.snapshot(scheme))
    return scheme


def update_scheme(
    session: Session, actor: Actor, scheme_id: int, data: Mapping[str, Any]
) -> AllowanceScheme:
    """Change a scheme; the grants already made keep their amounts (the ledger never changes)."""
    actor.require(*WRITERS)
    scheme = get_scoped(session, AllowanceScheme, scheme_id, actor)
    merged = {name: getattr(scheme, name) for name in FIELDS if hasattr(scheme, name)}
    merged["monthly_amount"] = to_yuan(scheme.monthly_amount_fen)
    merged["meal_subsidy"] = to_yuan(scheme.meal_subsidy_fen)
    merged.update(data)
    _check(session, merged, scheme.id)
    before = audit.snapshot(scheme)
    for name, value in _values(data).items():
        setattr(scheme, name, value)
    session.flush()
    old, new = audit.changed(before, audit.snapshot(scheme))
    if new:
        audit.record(session, actor, "update", scheme, before=old, after=new)
    return scheme


def get_scheme(session: Session, actor: Actor, scheme_id: int) -> AllowanceScheme:
    actor.require(*READERS)
    return get_scoped(session, AllowanceScheme, scheme_id, actor)


def list_schemes(
    session: Session, actor: Actor, filters: Mapping[str, Any], page: int, page_size: int
) -> tuple[list[AllowanceScheme], int]:
    actor.require(*READERS)
    stmt = select(AllowanceScheme)
    if filters.get("active") is not None:
        stmt = stmt.where(AllowanceScheme.active.is_(filters["active"]))
    return page_of(session, stmt.order_by(AllowanceScheme.id), page, page_size)


def active_schemes(session: Session) -> list[AllowanceScheme]:
    return list(
        session.scalars(
            select(AllowanceScheme)
            .where(AllowanceScheme.active.is_(True))
            .order_by(AllowanceScheme.id)
        )
    )
