"""Property tests of the allowance ledger (hypothesis, stateful): any sequence of grants,
approvals, reversals, batch closings, month closings and entries into closed months leaves
every balance equal to its ledger sum and never negative, every debit plus its co-payment
equal to its order's amount, and a closed month's entries exactly as they were."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from dispatch.errors import Conflict
from dispatch.models import (
    AllowanceAccount,
    AllowanceEntry,
    EntryKind,
    Role,
    ServiceType,
    WorkOrder,
)
from dispatch.services import billing, decisions, ledger
from dispatch.services.allowance_schemes import to_fen
from dispatch.services.entitlements import month_of
from dispatch.tenancy import Actor
from tests.allowances.conftest import add_scheme

START = datetime(2027, 1, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def snapshot(db: Any, month: date) -> list[tuple[Any, ...]]:
    return list(
        db.execute(
            select(
                AllowanceEntry.id,
                AllowanceEntry.account_id,
                AllowanceEntry.kind,
                AllowanceEntry.amount_fen,
                AllowanceEntry.copay_fen,
                AllowanceEntry.balance_after_fen,
            )
            .where(AllowanceEntry.month == month)
            .order_by(AllowanceEntry.id)
        )
    )


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Approvals, postings and closes run on this clock, so months can pass within a test."""
    c = Clock()
    for module in (decisions, ledger, billing):
        monkeypatch.setattr(module, "utcnow", c)
    return c


def test_ledger_properties(world, db, verified_order, clock):
    fin = Actor(user_id=world.finance.id, role=Role.finance)
    # A second, poorer elder (hardship scheme, no age band) beside p1's 86-year-old.
    poor = world.client_at(world.p1.provider, "C1009", birth_date=date(1960, 1, 1))
    add_scheme(db, monthly_amount_fen=10_000, carry_over_months=1)
    add_scheme(
        db,
        name="低保",
        age_min=None,
        age_max=None,
        hardship="低保",
        monthly_amount_fen=3_333,
        carry_over_months=0,
    )
    ledger.open_account(db, poor).hardship = "低保"
    elders = [world.p1.client, poor]
    rates = {st_.id: (st_.billing_unit, st_.rate) for st_ in db.scalars(select(ServiceType))}

    class Ledger(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.savepoint = db.begin_nested()
            clock.now = START
            self.approved: list[int] = []
            self.billed: set[int] = set()
            self.frozen: dict[date, list[tuple[Any, ...]]] = {}

        def teardown(self) -> None:
            self.savepoint.rollback()

        @property
        def month(self) -> date:
            return month_of(clock.now)

        @rule(ahead=st.booleans())
        def grant(self, ahead: bool) -> None:
            ledger.grant_month(db, fin, ledger.add_months(self.month, int(ahead)))

        @rule(
            elder=st.sampled_from([0, 1]),
            minutes=st.integers(1, 600),
            service=st.sampled_from(["CHAT", "CLEAN", "CALL", "WALK"]),
        )
        def approve(self, elder: int, minutes: int, service: str) -> None:
            order = verified_order(
                elders[elder],
                start=clock.now - timedelta(hours=1),
                minutes=minutes,
                service=service,
            )
            decisions.decide(db, fin, order.id, "approve", "ok", accept_over_entitlement=True)
            self.approved.append(order.id)

        @precondition(lambda self: self.approved)
        @rule(pick=st.integers(0, 10**6))
        def reverse(self, pick: int) -> None:
            ident = self.approved[pick % len(self.approved)]
            if ident in self.billed:
                with pytest.raises(Conflict):
                    decisions.decide(db, fin, ident, "reject", "not done")
                return
            decisions.decide(db, fin, ident, "reject", "not done")
            self.approved.remove(ident)

        @rule()
        def close_batch(self) -> None:
            day = clock.now.date()
            try:
                batch = billing.create_batch(db, fin, world.p1.provider.id, day.replace(day=1), day)
            except Exception as exc:  # no approved orders this month
                assert getattr(exc, "code", "") == "NO_APPROVED_ORDERS"
                return
            billing.close_batch(db, fin, batch.id)
            self.billed |= set(
                db.scalars(select(WorkOrder.id).where(WorkOrder.billing_batch_id == batch.id))
            )

        @rule(days=st.integers(1, 40))
        def time_passes(self, days: int) -> None:
            clock.now += timedelta(days=days)

        @rule()
        def close_month(self) -> None:
            last = ledger.add_months(self.month, -1)
            open_months = sorted(
                m
                for m in db.scalars(select(AllowanceEntry.month).distinct())
                if m <= last and m not in self.frozen
            ) or [last]
            month = open_months[0]
            if month in self.frozen:
                return
            ledger.close_month(db, fin, month)
            self.frozen[month] = snapshot(db, month)

        @precondition(lambda self: self.frozen)
        @rule(pick=st.integers(0, 10**6))
        def post_into_closed_month(self, pick: int) -> None:
            months = sorted(self.frozen)
            with pytest.raises(Conflict) as err:
                ledger.grant_month(db, fin, months[pick % len(months)])
            assert err.value.code == "ALLOWANCE_MONTH_CLOSED"

        @invariant()
        def balances_are_ledger_sums_and_never_negative(self) -> None:
            sums = dict(
                db.execute(
                    select(AllowanceEntry.account_id, func.sum(AllowanceEntry.amount_fen)).group_by(
                        AllowanceEntry.account_id
                    )
                ).all()
            )
            for account in db.scalars(select(AllowanceAccount)):
                db.refresh(account)
                assert account.balance_fen >= 0
                assert account.balance_fen == sums.get(account.id, 0)

        @invariant()
        def copay_plus_debit_is_the_order_amount(self) -> None:
            rows = db.execute(
                select(AllowanceEntry, WorkOrder).join(
                    WorkOrder, WorkOrder.id == AllowanceEntry.work_order_id
                )
            ).all()
            for entry, order in rows:
                unit, rate = rates[order.service_type_id]
                amount = to_fen(billing.order_amount(unit, rate, order.billable_min))
                # a debit pays the order (allowance + co-payment); a credit undoes exactly that
                sign = 1 if entry.kind == EntryKind.debit else -1
                assert entry.kind in (EntryKind.debit, EntryKind.credit)
                assert -entry.amount_fen + entry.copay_fen == sign * amount
                assert entry.order_amount_fen == amount
                assert sign * entry.amount_fen <= 0 <= sign * entry.copay_fen

        @invariant()
        def closed_months_never_change(self) -> None:
            for month, entries in self.frozen.items():
                assert snapshot(db, month) == entries

    run_state_machine_as_test(
        Ledger,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
