"""The allowance ledger: monthly grants, debits on approval, credits on reversal, month close.

Contract (held by tests/allowances/test_ledger_properties.py):
- every change of an account's balance is one appended ``AllowanceEntry`` carrying the balance
  after it; ``balance_fen`` equals the sum of the account's ``amount_fen`` and is never
  negative (a CHECK constraint too);
- entries are never updated or deleted (refused here before flush, and by a PostgreSQL trigger);
- an approval debits min(balance, order amount) and books the rest as the elder's co-payment,
  so co-payment + debit == the order's amount; a reversal credits exactly that debit back and
  cancels its co-payment;
- an entry belongs to the ledger month of its posting; nothing is posted into a closed month
  (409 ``ALLOWANCE_MONTH_CLOSED``), and closing a month writes its expiries (unspent grants past
  their carry-over) and freezes it.
Money is integer fen; ``allowance_schemes.to_yuan`` shows it as CNY.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, event, func, insert, select, text, update
from sqlalchemy.orm import Session

from dispatch import audit, error_codes
from dispatch.db import utcnow
from dispatch.errors import DomainError
from dispatch.models import (
    AllowanceAccount,
    AllowanceEntry,
    AllowanceMonth,
    AllowanceScheme,
    Client,
    EntryKind,
    Role,
    ServiceType,
    WorkOrder,
)
from dispatch.services import allowance_schemes as schemes
from dispatch.services.billing import order_amount
from dispatch.services.entitlements import month_of
from dispatch.tenancy import Actor

CLOSERS = (Role.finance, Role.admin)
GRANTERS = (Role.finance, Role.admin)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def is_closed(session: Session, month: date) -> bool:
    return session.get(AllowanceMonth, month) is not None


def ensure_open(session: Session, month: date) -> None:
    """409 ``ALLOWANCE_MONTH_CLOSED`` when ``month`` is closed."""
    if is_closed(session, month):
        raise error_codes.ALLOWANCE_MONTH_CLOSED(month=f"{month:%Y-%m}")


def account_of(session: Session, client_id: int, *, lock: bool = False) -> AllowanceAccount | None:
    stmt = select(AllowanceAccount).where(AllowanceAccount.client_id == client_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def open_account(session: Session, client: Client) -> AllowanceAccount:
    account = account_of(session, client.id, lock=True)
    if account is None:
        account = AllowanceAccount(client_id=client.id, provider_id=client.provider_id)
        session.add(account)
        session.flush()
    return account


def _post(
    session: Session,
    actor: Actor,
    account: AllowanceAccount,
    kind: EntryKind,
    amount_fen: int,
    month: date,
    **fields: Any,
) -> AllowanceEntry:
    """Append one entry and move the balance with it: the one place a balance changes."""
    ensure_open(session, month)
    balance = account.balance_fen + amount_fen
    if balance < 0:
        raise error_codes.ALLOWANCE_BALANCE_SHORT(
            id=account.id, balance=account.balance_fen, amount=amount_fen
        )
    entry = AllowanceEntry(
        account_id=account.id,
        month=month,
        kind=kind,
        amount_fen=amount_fen,
        balance_after_fen=balance,
        created_by=actor.user_id,
        **fields,
    )
    account.balance_fen = balance
    session.add(entry)
    session.flush()
    return entry


def covered_services(session: Session, account_id: int) -> set[str]:
    """Service codes this account's allowance pays for: those of the schemes that granted it."""
    rows = session.scalars(
        select(AllowanceScheme.services).where(
            AllowanceScheme.id.in_(
                select(AllowanceEntry.scheme_id).where(
                    AllowanceEntry.account_id == account_id,
                    AllowanceEntry.kind == EntryKind.grant,
                )
            )
        )
    )
    return {code for services in rows for code in services}


def debit_order(
    session: Session, actor: Actor, order: WorkOrder, now: datetime | None = None
) -> AllowanceEntry | None:
    """On approval: pay the order from the elder's allowance, the shortfall as co-payment.

    None when the elder has no account or the allowance does not pay for this service.
    """
    account = account_of(session, order.client_id, lock=True)
    if account is None:
        return None
    service = session.get(ServiceType, order.service_type_id)
    if service is None or service.code not in covered_services(session, account.id):
        return None
    amount = schemes.to_fen(order_amount(service.billing_unit, service.rate, order.billable_min))
    paid = min(account.balance_fen, amount)
    return _post(
        session,
        actor,
        account,
        EntryKind.debit,
        -paid,
        month_of(now or utcnow()),
        copay_fen=amount - paid,
        order_amount_fen=amount,
        work_order_id=order.id,
        note=f"work order {order.id} approved",
    )


def open_debit(session: Session, order_id: int) -> AllowanceEntry | None:
    """The order's debit that no credit has reversed yet (an order is debited once at a time)."""
    reversed_ids = select(AllowanceEntry.reverses_id).where(
        AllowanceEntry.work_order_id == order_id, AllowanceEntry.kind == EntryKind.credit
    )
    return session.scalars(
        select(AllowanceEntry)
        .where(
            AllowanceEntry.work_order_id == order_id,
            AllowanceEntry.kind == EntryKind.debit,
            AllowanceEntry.id.not_in(reversed_ids),
        )
        .order_by(AllowanceEntry.id.desc())
    ).first()


def reverse_order(
    session: Session, actor: Actor, order: WorkOrder, now: datetime | None = None
) -> AllowanceEntry | None:
    """When an approval is reversed: credit its debit back and cancel its co-payment."""
    debit = open_debit(session, order.id)
    if debit is None:
        return None
    account = session.get(AllowanceAccount, debit.account_id, with_for_update=True)
    assert account is not None
    return _post(
        session,
        actor,
        account,
        EntryKind.credit,
        -debit.amount_fen,
        month_of(now or utcnow()),
        copay_fen=-debit.copay_fen,
        order_amount_fen=debit.order_amount_fen,
        work_order_id=order.id,
        reverses_id=debit.id,
        note=f"approval of work order {order.id} reversed",
    )


def grant_month(
    session: Session, actor: Actor, month: date, now: datetime | None = None
) -> dict[str, Any]:
    """Grant ``month``'s allowance to every active elder a scheme pays; idempotent per scheme."""
    actor.require(*GRANTERS)
    current = month_of(now or utcnow())
    if month > add_months(current, 1):
        raise error_codes.ALLOWANCE_MONTH_TOO_EARLY(
            next=f"{add_months(current, 1):%Y-%m}",
            month=f"{month:%Y-%m}",
            errors={"month": ["At most next month."]},
        )
    ensure_open(session, month)
    active = schemes.active_schemes(session)
    accounts = {a.client_id: a for a in session.scalars(select(AllowanceAccount))}
    done = {
        (a, s)
        for a, s in session.execute(
            select(AllowanceEntry.account_id, AllowanceEntry.scheme_id).where(
                AllowanceEntry.month == month, AllowanceEntry.kind == EntryKind.grant
            )
        )
    }
    clients = session.execute(
        select(Client.id, Client.provider_id, Client.birth_date, Client.care_level).where(
            Client.active.is_(True)
        )
    ).all()
    granted = entries = 0
    for client_id, provider_id, birth, level in clients:
        account = accounts.get(client_id)
        hardship = account.hardship if account is not None else None
        paying = [
            s
            for s in schemes.matching(active, birth, level, hardship, month)
            if s.monthly_amount_fen > 0
        ]
        if not paying:
            continue
        if account is None:
            account = AllowanceAccount(client_id=client_id, provider_id=provider_id)
            session.add(account)
            session.flush()
            accounts[client_id] = account
        for scheme in paying:
            if (account.id, scheme.id) in done:
                continue
            _post(
                session,
                actor,
                account,
                EntryKind.grant,
                scheme.monthly_amount_fen,
                month,
                scheme_id=scheme.id,
                expires_after=add_months(month, scheme.carry_over_months),
                note=scheme.name,
            )
            granted += scheme.monthly_amount_fen
            entries += 1
    audit.record(
        session,
        actor,
        "allowance.grant",
        entity_type="allowance_month",
        after={"month": f"{month:%Y-%m}", "entries": entries, "granted_fen": granted},
    )
    return {"month": month, "entries": entries, "granted": schemes.to_yuan(granted)}


def _expiries(session: Session, month: date) -> list[tuple[int, int, int]]:
    """(account, balance now, fen expiring) for every account with something to expire.

    Spending is first-in first-out: what is left of the month's closing balance beyond the
    grants still valid next month expires, less what later months have already spent.
    """
    later = (
        select(
            AllowanceEntry.account_id.label("account_id"),
            func.sum(AllowanceEntry.amount_fen).label("net"),
            func.sum(
                case((AllowanceEntry.kind != EntryKind.grant, -AllowanceEntry.amount_fen), else_=0)
            ).label("spent"),
        )
        .where(AllowanceEntry.month > month)
        .group_by(AllowanceEntry.account_id)
        .subquery()
    )
    valid = (
        select(
            AllowanceEntry.account_id.label("account_id"),
            func.sum(AllowanceEntry.amount_fen).label("fen"),
        )
        .where(
            AllowanceEntry.kind == EntryKind.grant,
            AllowanceEntry.month <= month,
            AllowanceEntry.expires_after > month,
        )
        .group_by(AllowanceEntry.account_id)
        .subquery()
    )
    closing = AllowanceAccount.balance_fen - func.coalesce(later.c.net, 0)
    spent = case((func.coalesce(later.c.spent, 0) > 0, later.c.spent), else_=0)
    expire = closing - func.coalesce(valid.c.fen, 0) - spent
    rows = session.execute(
        select(AllowanceAccount.id, AllowanceAccount.balance_fen, expire)
        .outerjoin(later, later.c.account_id == AllowanceAccount.id)
        .outerjoin(valid, valid.c.account_id == AllowanceAccount.id)
        .where(expire > 0)
    ).all()
    return [(ident, balance, fen) for ident, balance, fen in rows]


def close_month(
    session: Session, actor: Actor, month: date, now: datetime | None = None
) -> AllowanceMonth:
    """Close a past ledger month: write its expiries, then freeze it."""
    actor.require(*CLOSERS)
    now = now or utcnow()
    if month >= month_of(now):
        raise error_codes.ALLOWANCE_MONTH_NOT_OVER(
            month=f"{month:%Y-%m}", next=f"{add_months(month, 1):%Y-%m}"
        )
    ensure_open(session, month)
    earlier = session.scalar(
        select(func.min(AllowanceEntry.month)).where(
            AllowanceEntry.month < month,
            AllowanceEntry.month.not_in(select(AllowanceMonth.month)),
        )
    )
    if earlier is not None:
        raise error_codes.ALLOWANCE_EARLIER_MONTH_OPEN(earlier=f"{earlier:%Y-%m}")
    if session.get_bind().dialect.name == "postgresql":
        # Approvals wait for the close (seconds); nothing moves a balance while it computes.
        session.execute(text("LOCK TABLE allowance_accounts IN SHARE ROW EXCLUSIVE MODE"))
    rows = _expiries(session, month)
    if rows:
        session.execute(
            insert(AllowanceEntry),
            [
                {
                    "account_id": ident,
                    "month": month,
                    "kind": EntryKind.expiry,
                    "amount_fen": -fen,
                    "copay_fen": 0,
                    "balance_after_fen": balance - fen,
                    "note": "unspent past carry-over",
                    "created_at": now,
                    "created_by": actor.user_id,
                }
                for ident, balance, fen in rows
            ],
        )
        # One set-based UPDATE: each account loses exactly its expiry entry of this month.
        expired = (
            select(AllowanceEntry.account_id, AllowanceEntry.amount_fen)
            .where(AllowanceEntry.month == month, AllowanceEntry.kind == EntryKind.expiry)
            .subquery()
        )
        session.execute(
            update(AllowanceAccount)
            .where(AllowanceAccount.id == expired.c.account_id)
            .values(balance_fen=AllowanceAccount.balance_fen + expired.c.amount_fen),
            execution_options={"synchronize_session": False},
        )
        for obj in list(session.identity_map.values()):
            if isinstance(obj, AllowanceAccount):
                session.expire(obj, ["balance_fen"])
    summary = month_totals(session, month)
    closed = AllowanceMonth(
        month=month,
        closed_at=now,
        closed_by=actor.user_id,
        accounts=int(session.scalar(select(func.count(AllowanceAccount.id))) or 0),
        expired_fen=sum(fen for _, _, fen in rows),
        summary=summary,
    )
    session.add(closed)
    session.flush()
    audit.record(
        session,
        actor,
        "allowance.close_month",
        entity_type="allowance_month",
        after={"month": f"{month:%Y-%m}", **summary},
    )
    return closed


def month_totals(session: Session, month: date, account_id: int | None = None) -> dict[str, int]:
    """Opening, grants, debits, credits, co-payments, expiries and closing of one month, in fen."""
    scope = [] if account_id is None else [AllowanceEntry.account_id == account_id]
    opening = session.scalar(
        select(func.coalesce(func.sum(AllowanceEntry.amount_fen), 0)).where(
            AllowanceEntry.month < month, *scope
        )
    )
    sums = dict(
        session.execute(
            select(AllowanceEntry.kind, func.sum(AllowanceEntry.amount_fen))
            .where(AllowanceEntry.month == month, *scope)
            .group_by(AllowanceEntry.kind)
        ).all()
    )
    copay = session.scalar(
        select(func.coalesce(func.sum(AllowanceEntry.copay_fen), 0)).where(
            AllowanceEntry.month == month, *scope
        )
    )
    granted = int(sums.get(EntryKind.grant, 0) or 0)
    debited = -int(sums.get(EntryKind.debit, 0) or 0)
    credited = int(sums.get(EntryKind.credit, 0) or 0)
    expired = -int(sums.get(EntryKind.expiry, 0) or 0)
    return {
        "opening": int(opening or 0),
        "granted": granted,
        "debited": debited,
        "credited": credited,
        "copay": int(copay or 0),
        "expired": expired,
        "closing": int(opening or 0) + granted - debited + credited - expired,
    }


def entries_of(session: Session, account_id: int, month: date) -> list[AllowanceEntry]:
    return list(
        session.scalars(
            select(AllowanceEntry)
            .where(AllowanceEntry.account_id == account_id, AllowanceEntry.month == month)
            .order_by(AllowanceEntry.id)
        )
    )


def _frozen(obj: AllowanceEntry) -> DomainError:
    return error_codes.ALLOWANCE_LEDGER_APPEND_ONLY(id=obj.id)


@event.listens_for(Session, "before_flush")
def _ledger_is_append_only(session: Session, _ctx: Any, _instances: Any) -> None:
    """Whatever code path tries it, a ledger entry or a closed month stays as written."""
    changed: Iterable[Any] = list(session.dirty) + list(session.deleted)
    for obj in changed:
        if isinstance(obj, AllowanceEntry | AllowanceMonth) and (
            obj in session.deleted or session.is_modified(obj)
        ):
            if isinstance(obj, AllowanceEntry):
                raise _frozen(obj)
            ensure_open(session, obj.month)
