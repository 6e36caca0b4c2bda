"""Allowance accounts as people see them: an elder's monthly statement, the hardship category,
the month's grant run and the ledger's month close (the ledger itself: ``ledger``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import audit, error_codes
from dispatch.db import utcnow
from dispatch.models import AllowanceAccount, AllowanceMonth, Client, Role
from dispatch.services import ledger
from dispatch.services.entitlements import month_of, parse_month
from dispatch.services.pages import page_of
from dispatch.tenancy import Actor, get_scoped

READERS = (Role.dispatcher, Role.provider_admin, Role.finance, Role.admin)
KEEPERS = (Role.dispatcher, Role.provider_admin, Role.admin)


def statement(
    session: Session, actor: Actor, client_id: int, month_text: str | None
) -> dict[str, Any]:
    """Opening, grants, debits, credits, co-payments, expiries and closing of one month, in fen."""
    actor.require(*READERS)
    client = get_scoped(session, Client, client_id, actor)
    month = parse_month(month_text) if month_text else month_of(utcnow())
    account = ledger.account_of(session, client.id)
    totals = (
        ledger.month_totals(session, month, account.id)
        if account is not None
        else dict.fromkeys(
            ("opening", "granted", "debited", "credited", "copay", "expired", "closing"), 0
        )
    )
    return {
        "client_id": client.id,
        "account_id": account.id if account is not None else None,
        "month": f"{month:%Y-%m}",
        "closed": ledger.is_closed(session, month),
        "hardship": account.hardship if account is not None else None,
        "card_no": account.card_no if account is not None else None,
        "face_id": account.face_id if account is not None else None,
        **totals,
        "balance": account.balance_fen if account is not None else 0,
        "entries": ledger.entries_of(session, account.id, month) if account is not None else [],
    }


def update_account(
    session: Session, actor: Actor, client_id: int, data: Mapping[str, Any]
) -> dict[str, Any]:
    """The elder's hardship category (the next grant run pays matching schemes) and the card
    number and face-match id canteen terminals know them by (unique in the city)."""
    actor.require(*KEEPERS)
    client = get_scoped(session, Client, client_id, actor)
    account = ledger.open_account(session, client)
    before = audit.snapshot(account)
    for name in ("hardship", "card_no", "face_id"):
        if name not in data:
            continue
        value = (data[name] or "").strip() or None
        if name != "hardship" and value is not None:
            taken = session.scalar(
                select(AllowanceAccount.client_id).where(
                    getattr(AllowanceAccount, name) == value, AllowanceAccount.id != account.id
                )
            )
            if taken is not None:
                raise error_codes.ELDER_ID_IN_USE(name=name, errors={name: ["Already in use."]})
        setattr(account, name, value)
    session.flush()
    old, new = audit.changed(before, audit.snapshot(account))
    if new:
        audit.record(
            session, actor, "update", account, before=old, after=new, provider_id=client.provider_id
        )
    return statement(session, actor, client.id, None)


def grant(session: Session, actor: Actor, month_text: str) -> dict[str, Any]:
    return ledger.grant_month(session, actor, parse_month(month_text))


def close(session: Session, actor: Actor, month_text: str) -> AllowanceMonth:
    return ledger.close_month(session, actor, parse_month(month_text))


def list_months(
    session: Session, actor: Actor, _filters: Any, page: int, page_size: int
) -> tuple[list[AllowanceMonth], int]:
    actor.require(*READERS)
    return page_of(
        session, select(AllowanceMonth).order_by(AllowanceMonth.month.desc()), page, page_size
    )
