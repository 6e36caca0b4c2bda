"""Electronic care allowances (养老服务电子津贴): schemes, each elder's account and its ledger.

Money is integer fen (0.01 CNY) throughout: sums of fen are exact, and the API shows them as
decimal strings.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.db import Base, UTCDateTime, str_enum, utcnow


class AllowanceScheme(Base):
    """Who gets how much a month: an age band, care levels and a hardship category."""

    __tablename__ = "allowance_schemes"
    __table_args__ = (
        CheckConstraint("monthly_amount_fen >= 0", name="amount_not_negative"),
        CheckConstraint("meal_subsidy_fen >= 0", name="meal_subsidy_not_negative"),
        CheckConstraint("carry_over_months >= 0", name="carry_over_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    age_min: Mapped[int | None]  # inclusive; None: no lower bound
    age_max: Mapped[int | None]  # inclusive; None: no upper bound
    care_levels: Mapped[list[int] | None] = mapped_column(JSON)  # None: every level
    hardship: Mapped[str | None] = mapped_column(String(32))  # None: not a hardship scheme
    monthly_amount_fen: Mapped[int]
    meal_subsidy_fen: Mapped[int] = mapped_column(default=0)  # per canteen meal (全城通)
    services: Mapped[list[str]] = mapped_column(JSON)  # service codes the allowance pays for
    carry_over_months: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def __repr__(self) -> str:
        return f"<AllowanceScheme {self.id} {self.name}>"


class AllowanceAccount(Base):
    """One elder's allowance account; ``balance_fen`` is the sum of its entries, kept in step."""

    __tablename__ = "allowance_accounts"
    __table_args__ = (CheckConstraint("balance_fen >= 0", name="balance_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), unique=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    hardship: Mapped[str | None] = mapped_column(String(32))  # 低保, 特困, ... or None
    # How canteen terminals recognise the elder (全城通): the card's number, the face match's id.
    card_no: Mapped[str | None] = mapped_column(String(32), unique=True)
    face_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    balance_fen: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<AllowanceAccount {self.id} client={self.client_id} {self.balance_fen}>"


class EntryKind(enum.StrEnum):
    grant = "grant"  # the month's allowance (+)
    debit = "debit"  # an approved work order paid from the allowance (-), with its co-payment
    credit = "credit"  # an approval reversed: the debit comes back (+), the co-payment goes
    expiry = "expiry"  # unspent allowance past its carry-over, at month close (-)


class AllowanceEntry(Base):
    """One line of the append-only ledger; never updated, never deleted.

    ``amount_fen`` is the signed change of the balance. A debit also carries ``copay_fen``,
    what the elder pays because the balance fell short: -amount_fen + copay_fen is the order's
    amount (``order_amount_fen``). A credit reverses one debit exactly (both numbers negated).
    """

    __tablename__ = "allowance_entries"
    __table_args__ = (
        # One grant per account, month and scheme: a repeated grant run adds nothing.
        UniqueConstraint("account_id", "month", "kind", "scheme_id"),
        Index("ix_allowance_entries_month_kind", "month", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("allowance_accounts.id"), index=True)
    month: Mapped[date] = mapped_column(Date)  # first day of the ledger month it belongs to
    kind: Mapped[EntryKind] = mapped_column(str_enum(EntryKind))
    amount_fen: Mapped[int]
    copay_fen: Mapped[int] = mapped_column(default=0)
    order_amount_fen: Mapped[int | None]
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"), index=True)
    scheme_id: Mapped[int | None] = mapped_column(ForeignKey("allowance_schemes.id"))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("allowance_entries.id"))
    # A grant may be spent until the end of this month (carry-over); None for other kinds.
    expires_after: Mapped[date | None] = mapped_column(Date)
    balance_after_fen: Mapped[int]
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def __repr__(self) -> str:
        return f"<AllowanceEntry {self.id} {self.kind} {self.amount_fen}>"


class AllowanceMonth(Base):
    """A closed ledger month: its entries never change and nothing more is posted into it."""

    __tablename__ = "allowance_months"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    accounts: Mapped[int] = mapped_column(default=0)
    expired_fen: Mapped[int] = mapped_column(default=0)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    def __repr__(self) -> str:
        return f"<AllowanceMonth {self.month:%Y-%m}>"
