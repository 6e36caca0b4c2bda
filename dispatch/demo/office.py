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
from dispatch.demo.history import month_ranges
from dispatch.demo.seed import demo_providers
from dispatch.models import Role, User, WorkOrder, WorkOrderStatus
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


def _reason(order: WorkOrder, which: int) -> str:
    codes = [f.code for f in order.flags if f.status == "open" and f.severity != "info"]
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


def run_office(
    session: Session,
    seed: int,
    today: date,
    first: date,
    settled_after: timedelta = SETTLED_AFTER,
) -> OfficeReport:
    """Decide the history from ``first`` until ``settled_after`` before ``today`` (flushes)."""
    report = OfficeReport()
    finance = _actor(session, "finance")
    if finance is None:
        log.warning("no finance login: the demo history stays undecided")
        return report
    rng = random.Random(f"{seed}:office")
    zone = config.zone()
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
        for order in flagged:
            r = rng.random()
            holding = [f.id for f in order.flags if f.status == "open" and f.severity != "info"]
            if r < REJECT_SHARE:
                decisions.decide(session, finance, order.id, "reject", _reason(order, 0))
                report.rejected += 1
            elif r < REJECT_SHARE + OVERRIDE_SHARE:
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
            else:
                continue
        # Providers appeal some rejected and some still-flagged orders.
        session.flush()
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
            appeal = appeals.create_appeal(session, admin, order.id, _reason(order, 2))
            report.appeals += 1
            if rng.random() < DECIDED_SHARE:
                uphold = rng.random() < 0.5
                appeals.decide_appeal(
                    session,
                    finance,
                    appeal.id,
                    "uphold" if uphold else "deny",
                    "材料属实，予以结算" if uphold else "证据不足，维持原决定",
                )
                report.appeals_decided += 1
        session.flush()
        # Finance approves the verified orders (upheld appeals return as verified).
        result = decisions.bulk_approve(
            session,
            finance,
            None,
            {"provider_id": provider.id, "from_": first, "to": (cut - timedelta(days=1)).date()},
            "核验通过，批量审核",
        )
        report.approved += len(result["approved"])
        session.flush()
        for month_start, month_end in month_ranges(first, today):
            batch = billing.create_batch(session, finance, provider.id, month_start, month_end)
            billing.close_batch(session, finance, batch.id)
            report.batches += 1
        session.flush()
    log.info("demo office: %s", report)
    return report
