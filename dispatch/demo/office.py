"""What the people did with the demo history, through the real services: finance approved the
verified orders, rejected or overrode flagged ones with a reason, providers appealed some and
finance decided most appeals; every whole month was billed and closed per provider."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from dispatch import config
from dispatch.db import as_of
from dispatch.demo.history import month_ranges
from dispatch.demo.seed import demo_providers
from dispatch.models import Flag, FlagStatus, Role, Severity, User, WorkOrder, WorkOrderStatus
from dispatch.services import appeals, billing, decisions
from dispatch.tenancy import Actor

log = logging.getLogger(__name__)

SETTLED_AFTER = timedelta(days=4)  # orders older than this have been looked at
REJECT_SHARE = 0.30
OVERRIDE_SHARE = 0.30
APPEAL_SHARE = 0.10  # of the rejected and of the still-flagged (Yiwu: 666 of 10,498 abnormal)
DECIDED_SHARE = 0.6  # of the appeals

# What people wrote, by the rule that held the order (a reason that fits the flag).
REASONS: dict[str, tuple[str, str, str]] = {
    # code: (finance rejects, finance overrides, the provider appeals)
    "GEOFENCE_IN": (
        "签到位置与服务对象住址不符，且无补充说明",
        "老人临时在小区门口等候，已电话核实",
        "小区信号差，签到时定位漂移，已请社区盖章证明",
    ),
    "SHORT_VISIT": (
        "服务时长明显不足，不予结算",
        "服务对象提前要求结束，已电话确认",
        "服务对象身体不适提前结束，已电话告知调度",
    ),
    "LONG_VISIT": (
        "服务时长异常，超出部分无说明",
        "老人突发不适，护理员陪同等候家属，已核实",
        "老人突发不适，护理员留守至家属到场",
    ),
    "MOCK_LOCATION": (
        "设备使用虚拟定位，工单无效",
        "手机系统误报，已核查设备",
        "护理员手机安装了定位插件，已卸载，服务确已完成",
    ),
    "PHOTO_REUSED": (
        "照片与其他工单重复，无法证明本次上门",
        "已电话回访服务对象，确认服务已完成",
        "照片上传失败后重拍，系统误判为重复",
    ),
    "PHOTO_MISSING": (
        "缺少服务照片，无法证明上门",
        "已电话回访服务对象，确认服务已完成",
        "老人不愿拍照，已请家属签字确认",
    ),
    "CALLBACK_DENIED": (
        "回访时老人表示当天未接受服务，不予结算",
        "护理员提供了老人签字的服务记录，老人回访时记错了日期",
        "附老人签字的服务记录单和当天照片，服务确已完成",
    ),
    "OVER_ENTITLEMENT": (
        "超出本月服务额度，不予结算",
        "老人病情变化，已补办临时增加额度手续",
        "老人本月病情加重，已申请临时增加服务时长，附评估单",
    ),
}
GENERIC = ("证据不足，不予结算", "已电话回访服务对象，确认服务已完成", "服务确已完成，附家属确认")


def _holds(flag: Flag) -> bool:
    """An open flag that holds its order from billing (not an ``info`` one)."""
    return flag.status == FlagStatus.open and flag.severity != Severity.info


def _reason(order: WorkOrder, which: int) -> str:
    codes = [f.code for f in order.flags if _holds(f)]
    return REASONS.get(codes[0] if codes else "", GENERIC)[which]


@dataclass
class OfficeReport:
    approved: int = 0
    rejected: int = 0
    overridden: int = 0
    appeals: int = 0
    appeals_decided: int = 0
    batches: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def _actor(session: Session, username: str) -> Actor | None:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        return None
    return Actor(user.id, user.role, user.provider_id, user.caregiver_id)


def _admin_of(session: Session, provider_id: int) -> Actor | None:
    user = session.scalar(
        select(User)
        .where(User.provider_id == provider_id, User.role == Role.provider_admin)
        .order_by(User.id)
        .limit(1)
    )
    return Actor(user.id, user.role, user.provider_id) if user is not None else None


class _Clock:
    """When the office did things: working hours on the days after what they answer, never
    later than ``latest`` (the seeding moment), from its own random stream (the decisions'
    draws stay as they were)."""

    def __init__(self, seed: int, latest: datetime) -> None:
        self.rng = random.Random(f"{seed}:office-clock")
        self.latest = latest
        self.zone = config.zone()

    def after(self, moment: datetime, days: tuple[int, int] = (1, 3)) -> datetime:
        """A working-hours moment ``days`` days (at random in the range) after ``moment``."""
        day = moment.astimezone(self.zone).date() + timedelta(days=self.rng.randint(*days))
        minute = self.rng.randint(9 * 60, 17 * 60 + 30)
        at = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=self.zone)
        return min(max(at, moment + timedelta(minutes=5)), self.latest)

    def on(self, day: date, hour: int) -> datetime:
        """``day`` at ``hour`` and a few minutes."""
        at = datetime.combine(day, time(hour, self.rng.randint(0, 40)), tzinfo=self.zone)
        return min(at, self.latest)


def _weeks(first: date, last: date) -> list[tuple[date, date]]:
    """Monday-to-Sunday weeks covering ``first`` .. ``last``, cut to that range."""
    out = []
    monday = first - timedelta(days=first.weekday())
    while monday <= last:
        out.append((max(monday, first), min(monday + timedelta(days=6), last)))
        monday += timedelta(days=7)
    return out


def run_office(
    session: Session,
    seed: int,
    today: date,
    first: date,
    settled_after: timedelta = SETTLED_AFTER,
    now: datetime | None = None,
) -> OfficeReport:
    """Decide the history from ``first`` until ``settled_after`` before ``today`` (flushes).

    Each act is stamped (``db.as_of``) when the office would have done it: a flagged order
    decided one to three working days after it was done, the verified ones approved in bulk on
    the Monday after their week, appeals a few days after the decision or the flag and decided
    a few days later (an upheld one then approved), each month billed and closed on the 5th;
    nothing later than ``now`` (default: the clock)."""
    report = OfficeReport()
    finance = _actor(session, "finance")
    if finance is None:
        log.warning("no finance login: the demo history stays undecided")
        return report
    rng = random.Random(f"{seed}:office")
    zone = config.zone()
    clock = _Clock(seed, (now or datetime.now(zone)) - timedelta(minutes=1))
    cut = datetime.combine(today, time(0), tzinfo=zone) - settled_after
    start = datetime.combine(first, time(0), tzinfo=zone)
    for provider in demo_providers(session):
        admin = _admin_of(session, provider.id)
        flagged = list(
            session.scalars(
                select(WorkOrder)
                .options(selectinload(WorkOrder.flags))
                .where(
                    WorkOrder.provider_id == provider.id,
                    WorkOrder.status == WorkOrderStatus.flagged,
                    WorkOrder.start_at >= start,
                    WorkOrder.start_at < cut,
                )
                .order_by(WorkOrder.id)
            )
        )
        decided: dict[int, datetime] = {}
        for order in flagged:
            r = rng.random()
            holding = [f.id for f in order.flags if _holds(f)]
            if r >= REJECT_SHARE + OVERRIDE_SHARE:
                continue
            at = clock.after(order.end_at)
            with as_of(at):
                if r < REJECT_SHARE:
                    decisions.decide(session, finance, order.id, "reject", _reason(order, 0))
                    report.rejected += 1
                else:
                    decisions.decide(
                        session,
                        finance,
                        order.id,
                        "approve",
                        _reason(order, 1),
                        override_flags=holding,
                        accept_over_entitlement=True,
                    )
                    report.overridden += 1
                session.flush()
            decided[order.id] = at
        # Finance approves the verified orders in bulk, week by week.
        for week_first, week_last in _weeks(first, (cut - timedelta(days=1)).date()):
            with as_of(clock.on(week_last + timedelta(days=1), 10)):
                result = decisions.bulk_approve(
                    session,
                    finance,
                    None,
                    {"provider_id": provider.id, "from_": week_first, "to": week_last},
                    "核验通过，批量审核",
                )
                session.flush()
            report.approved += len(result["approved"])
        # Providers appeal some rejected and some still-flagged orders; finance decides most.
        candidates = list(
            session.scalars(
                select(WorkOrder)
                .options(selectinload(WorkOrder.flags))
                .where(
                    WorkOrder.provider_id == provider.id,
                    WorkOrder.status.in_((WorkOrderStatus.flagged, WorkOrderStatus.rejected)),
                    WorkOrder.start_at >= start,
                    WorkOrder.start_at < cut,
                )
                .order_by(WorkOrder.id)
            )
        )
        for order in candidates:
            if admin is None or rng.random() >= APPEAL_SHARE:
                continue
            submitted = clock.after(decided.get(order.id, order.end_at))
            with as_of(submitted):
                appeal = appeals.create_appeal(session, admin, order.id, _reason(order, 2))
                session.flush()
            report.appeals += 1
            if rng.random() < DECIDED_SHARE:
                uphold = rng.random() < 0.5
                answered = clock.after(submitted)
                with as_of(answered):
                    appeals.decide_appeal(
                        session,
                        finance,
                        appeal.id,
                        "uphold" if uphold else "deny",
                        "材料属实，予以结算" if uphold else "证据不足，维持原决定",
                    )
                    session.flush()
                report.appeals_decided += 1
                if uphold:
                    # An upheld appeal returns the order verified: approved the same afternoon.
                    with as_of(min(answered + timedelta(hours=1), clock.latest)):
                        result = decisions.bulk_approve(
                            session, finance, [order.id], None, "申诉成立，审核通过"
                        )
                        session.flush()
                    report.approved += len(result["approved"])
        for month_start, month_end in month_ranges(first, today):
            billed = month_end + timedelta(days=5)
            with as_of(clock.on(billed, 10)):
                batch = billing.create_batch(session, finance, provider.id, month_start, month_end)
                session.flush()
            with as_of(clock.on(billed, 15)):
                billing.close_batch(session, finance, batch.id)
                session.flush()
            report.batches += 1
    log.info("demo office: %s", report)
    return report
