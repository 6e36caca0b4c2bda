"""The demo's allowances and canteen meals (#19): schemes with the policy texts' age bands, each
elder's account and card, last and this month's grants, canteen terminals with known keys, and
a month of 全城通 meals including a few duplicates and late lunches.

``seed_allowances`` runs after the history and before the office decides it, so that the
office's approvals debit the accounts and its billing batches carry the meals;
``close_last_month`` then closes last month's ledger.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch import config
from dispatch.demo.seed import demo_providers
from dispatch.errors import DomainError
from dispatch.models import (
    AllowanceAccount,
    AllowanceScheme,
    Canteen,
    Client,
    Device,
    DeviceKind,
    MealStatus,
    Role,
    ServicePoint,
    ServicePointKind,
    User,
)
from dispatch.security import device_key_hash
from dispatch.services import devices, ledger, meals
from dispatch.services.allowance_schemes import to_fen
from dispatch.tenancy import Actor

log = logging.getLogger(__name__)

PAID_SERVICES = ["BATH", "CHAT", "CLEAN", "MEAL", "MED", "NURSE", "VISIT", "WALK"]
# name, age_min, age_max, hardship, monthly CNY, meal subsidy CNY, carry-over months.
# The age bands and amounts of Hangzhou's 高龄津贴 (60 / 100 / 800 CNY a month at 80–89 /
# 90–99 / 100+); the demo pays them as the electronic allowance, and a hardship scheme for
# 低保 families (no age band), whose meal subsidy is the largest.
SCHEMES = [
    ("高龄电子津贴 80–89 岁", 80, 89, None, "60.00", "3.00", 2),
    ("高龄电子津贴 90–99 岁", 90, 99, None, "100.00", "4.00", 2),
    ("高龄电子津贴 100 岁以上", 100, None, None, "800.00", "5.00", 2),
    ("低保家庭养老服务补贴", None, None, "低保", "200.00", "6.00", 0),
]
SLOTS = {
    "breakfast": {"start": "06:30", "end": "08:30", "price_fen": 500},
    "lunch": {"start": "10:30", "end": "12:30", "price_fen": 1500},
    "dinner": {"start": "16:30", "end": "18:00", "price_fen": 1200},
}
DAYS = 30
DINERS_PER_CANTEEN = 12
HARDSHIP_SHARE = 0.08


def terminal_key(seed: int, code: str, provider_code: str) -> str:
    """The demo terminals' keys are known (like the demo password): demo data only."""
    return f"cdk_demo_{seed}_{provider_code}_{code}".lower()


@dataclass
class AllowanceReport:
    schemes: int = 0
    accounts: int = 0
    grants: int = 0
    terminals: int = 0
    meals: int = 0
    flagged: int = 0
    keys: dict[str, str] = field(default_factory=dict)


def _finance(session: Session) -> Actor | None:
    user = session.scalars(select(User).where(User.role == Role.finance).order_by(User.id)).first()
    return None if user is None else Actor(user_id=user.id, role=Role.finance)


def seed_allowances(session: Session, seed: int, today: date, days: int = DAYS) -> AllowanceReport:
    """Schemes, accounts, grants, canteens, terminals and ``days`` of meals (once)."""
    report = AllowanceReport()
    if session.scalar(select(func.count(AllowanceScheme.id))):
        return report
    finance = _finance(session)
    if finance is None:
        return report
    rng = random.Random(f"{seed}:allowances")
    for name, lo, hi, hardship, amount, meal, carry in SCHEMES:
        session.add(
            AllowanceScheme(
                name=name,
                age_min=lo,
                age_max=hi,
                hardship=hardship,
                monthly_amount_fen=to_fen(Decimal(amount)),
                meal_subsidy_fen=to_fen(Decimal(meal)),
                services=PAID_SERVICES,
                carry_over_months=carry,
            )
        )
        report.schemes += 1
    session.flush()
    clients = list(
        session.scalars(select(Client).where(Client.active.is_(True)).order_by(Client.id))
    )
    for c in clients:
        account = ledger.open_account(session, c)
        account.card_no = f"3307820{c.id:08d}"
        account.face_id = f"face-{c.id:06d}" if rng.random() < 0.5 else None
        if rng.random() < HARDSHIP_SHARE:
            account.hardship = "低保"
        report.accounts += 1
    session.flush()
    this_month = date(today.year, today.month, 1)
    for month in (ledger.add_months(this_month, -1), this_month):
        report.grants += ledger.grant_month(session, finance, month)["entries"]
    _canteens_and_meals(session, seed, today, days, clients, rng, report)
    log.info("demo allowances: %s", report)
    return report


def _canteens_and_meals(
    session: Session,
    seed: int,
    today: date,
    days: int,
    clients: list[Client],
    rng: random.Random,
    report: AllowanceReport,
) -> None:
    zone = config.zone()
    terminals: list[tuple[ServicePoint, Device]] = []
    for provider in demo_providers(session):
        points = session.scalars(
            select(ServicePoint)
            .where(
                ServicePoint.provider_id == provider.id,
                ServicePoint.kind == ServicePointKind.canteen,
            )
            .order_by(ServicePoint.id)
        )
        for point in points:
            session.add(Canteen(service_point_id=point.id, slots=SLOTS))
            key = terminal_key(seed, point.code, provider.code)
            device = Device(
                provider_id=provider.id,
                kind=DeviceKind.canteen_terminal,
                service_point_id=point.id,
                label=f"{point.name} 1号机",
                key_hash=device_key_hash(key),
                key_prefix=key[:12],
                active=True,
            )
            session.add(device)
            session.flush()
            terminals.append((point, device))
            report.terminals += 1
            report.keys[f"{provider.code} {point.name}"] = key
    if not terminals:
        return
    # Each canteen's regulars: elders of its street first (any provider's: 全城通).
    regulars = {}
    for point, _ in terminals:
        street = _street(point, clients)
        regulars[point.id] = sorted(clients, key=lambda c, s=street: (c.street != s, c.id))[
            :DINERS_PER_CANTEEN
        ]
    first = today - timedelta(days=days)
    for offset in range(days):
        day = first + timedelta(days=offset)
        for point, device in terminals:
            actor = devices.device_actor(device)
            for elder in regulars[point.id]:
                if rng.random() > 0.7:
                    continue
                late = rng.random() < 0.02  # after closing: MEAL_OUTSIDE_HOURS
                minute = (
                    rng.randint(12 * 60 + 50, 13 * 60 + 30)
                    if late
                    else rng.randint(11 * 60, 12 * 60 + 20)
                )
                at = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)
                _meal(session, actor, device, elder, at, "lunch", report)
                if rng.random() < 0.01:
                    # the same lunch again at another canteen: DUPLICATE_MEAL on both
                    _, other = rng.choice(terminals)
                    if other.id != device.id:
                        again = at + timedelta(minutes=rng.randint(10, 40))
                        _meal(
                            session,
                            devices.device_actor(other),
                            other,
                            elder,
                            again,
                            "lunch",
                            report,
                        )
                if rng.random() < 0.3:
                    dinner = datetime.combine(day, time(17, rng.randint(0, 50)), tzinfo=zone)
                    _meal(session, actor, device, elder, dinner, "dinner", report)


def _street(point: ServicePoint, clients: list[Client]) -> str | None:
    near = min(clients, key=lambda c: (c.lat - point.lat) ** 2 + (c.lon - point.lon) ** 2)
    return near.street


def _meal(
    session: Session,
    actor: Actor,
    device: Device,
    elder: Client,
    at: datetime,
    slot: str,
    report: AllowanceReport,
) -> None:
    account = session.scalars(
        select(AllowanceAccount).where(AllowanceAccount.client_id == elder.id)
    ).one()
    face = account.face_id is not None and at.minute % 2 == 0
    data = {
        "face_id" if face else "card_no": account.face_id if face else account.card_no,
        "served_at": at,
        "slot": slot,
        "method": "face" if face else "card",
        "idempotency_key": f"demo-{device.id}-{elder.id}-{at:%Y%m%d%H%M}",
    }
    try:
        meal, created = meals.record(session, actor, device, data, now=at + timedelta(minutes=1))
    except DomainError as exc:  # a closed month, say: the demo goes on
        log.warning("demo meal not recorded: %s", exc.message)
        return
    if created:
        report.meals += 1
        report.flagged += meal.status == MealStatus.flagged


def close_last_month(session: Session, today: date) -> None:
    """Close last month's ledger, as finance does early each month (once)."""
    finance = _finance(session)
    last = ledger.add_months(date(today.year, today.month, 1), -1)
    if finance is None or ledger.is_closed(session, last):
        return
    try:
        ledger.close_month(session, finance, last)
    except DomainError as exc:
        log.warning("demo ledger month %s not closed: %s", last, exc.message)


def terminal_keys(session: Session, seed: int) -> list[tuple[str, str]]:
    """(canteen, key) of the demo's canteen terminals, for ``dispatch.cli logins``."""
    out = []
    for provider in demo_providers(session):
        for point in session.scalars(
            select(ServicePoint)
            .join(Device, Device.service_point_id == ServicePoint.id)
            .where(ServicePoint.provider_id == provider.id, Device.active.is_(True))
            .order_by(ServicePoint.id)
        ):
            key = terminal_key(seed, point.code, provider.code)
            if session.scalar(select(Device.id).where(Device.key_hash == device_key_hash(key))):
                out.append((f"{provider.code} {point.name}", key))
    return out
