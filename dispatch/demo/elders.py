"""Elders and families in the demo: family logins, pendants, past calls, orders, ratings and an
open complaint, made through the services where the present allows it.

Pendant keys are derived from the elder's code (``demo_key``) so that ``logins`` can print
them: like the password "demo", they are published demo secrets, never for production.
"""

from __future__ import annotations

import hashlib
import logging
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import config
from dispatch.demo.seed import demo_providers
from dispatch.models import (
    Call,
    CallKind,
    CallSource,
    CallStatus,
    Client,
    Complaint,
    ComplaintStatus,
    Device,
    DeviceKind,
    EventKind,
    FamilyLink,
    Rating,
    Role,
    User,
    Visit,
    VisitEvent,
    VisitStatus,
)
from dispatch.security import device_key_hash
from dispatch.services import notifications, orders
from dispatch.tenancy import Actor

log = logging.getLogger(__name__)

FAMILY_PER_PROVIDER = 3
PENDANTS_PER_PROVIDER = 5
RELATIONS = ("女儿", "儿子", "儿媳", "女婿", "孙女")
GIVEN = ("晓红", "建国", "丽娟", "志强", "海燕", "文斌")
COMMENTS = ("阿姨很细心，谢谢！", "准时到的，服务很好", "打扫得很干净", "态度好，老人很满意")


@dataclass
class EldersReport:
    created: bool
    counts: dict[str, int] = field(default_factory=dict)


def demo_key(client_code: str) -> str:
    """The demo pendant key of an elder (derived, so that ``logins`` can print it again)."""
    digest = hashlib.sha256(f"caredispatch-demo-pendant:{client_code}".encode()).hexdigest()
    return f"cdk_demo_{digest[:40]}"


def _elders(session: Session, provider_id: int, n: int) -> list[Client]:
    return list(
        session.scalars(
            select(Client)
            .where(Client.provider_id == provider_id, Client.active)
            .order_by(Client.id)
            .limit(n)
        )
    )


def seed_elders(session: Session, seed: int, now: datetime) -> EldersReport:
    """Family users, pendants and a little history per demo provider; idempotent."""
    providers = demo_providers(session)
    if not providers:
        return EldersReport(created=False)
    pids = [p.id for p in providers]
    if session.scalar(select(FamilyLink.id).where(FamilyLink.provider_id.in_(pids)).limit(1)):
        return EldersReport(created=False)
    rng = random.Random(f"{seed}:elders")
    pw = session.scalar(select(User.password_hash).where(User.username == "dispatcher1"))
    counts = {"family_users": 0, "pendants": 0, "calls": 0, "orders": 0, "ratings": 0}
    for n, provider in enumerate(providers, start=1):
        dispatcher = session.scalars(
            select(User).where(User.provider_id == provider.id, User.role == Role.dispatcher)
        ).first()
        staff = Actor(
            user_id=dispatcher.id if dispatcher else None,
            role=Role.dispatcher,
            provider_id=provider.id,
        )
        elders = _elders(session, provider.id, max(FAMILY_PER_PROVIDER, PENDANTS_PER_PROVIDER))
        for i, elder in enumerate(elders[:PENDANTS_PER_PROVIDER]):
            key = demo_key(elder.code)
            session.add(
                Device(
                    provider_id=provider.id,
                    kind=DeviceKind.pendant,
                    client_id=elder.id,
                    label=f"{elder.name}的呼叫器",
                    key_hash=device_key_hash(key),
                    key_prefix=key[:12],
                    active=True,
                    created_by=staff.user_id,
                )
            )
            counts["pendants"] += 1
            _past_calls(session, rng, provider.id, elder, now, i, counts)
        session.flush()
        for i, elder in enumerate(elders[:FAMILY_PER_PROVIDER], start=1):
            surname = elder.name[0]
            user = User(
                username=f"family{n}_{i}",
                password_hash=pw,
                role=Role.family,
                provider_id=provider.id,
                display_name=surname + GIVEN[rng.randrange(len(GIVEN))],
            )
            session.add(user)
            session.flush()
            session.add(
                FamilyLink(
                    provider_id=provider.id,
                    client_id=elder.id,
                    user_id=user.id,
                    relation=RELATIONS[rng.randrange(len(RELATIONS))],
                    phone=f"13{rng.randrange(10**8, 10**9)}",
                    may_see_photos=i != 2,
                    notify=True,
                    created_by=staff.user_id,
                )
            )
            counts["family_users"] += 1
            session.flush()
            counts["ratings"] += _ratings(session, rng, elder, user, now)
            counts["orders"] += _order(session, staff, user, elder, now, accept=i == 1)
            _backfill_notifications(session, elder, now)
        if n == 1:
            _complaint(session, providers[0].id, elders[0], now)
    session.flush()
    log.info("demo elders and families: %s", counts)
    return EldersReport(created=True, counts=counts)


def _past_calls(
    session: Session,
    rng: random.Random,
    provider_id: int,
    elder: Client,
    now: datetime,
    i: int,
    counts: dict[str, int],
) -> None:
    """A closed call of the last weeks: the pendant, a dispatch in minutes, a caregiver there."""
    if i % 2:
        return
    opened = now - timedelta(days=rng.randint(2, 25), minutes=rng.randint(0, 600))
    dispatched = opened + timedelta(seconds=rng.randint(60, 280))
    arrived = dispatched + timedelta(minutes=rng.randint(8, 25))
    kind = CallKind.fall if i == 2 else CallKind.sos
    session.add(
        Call(
            provider_id=provider_id,
            client_id=elder.id,
            kind=kind,
            source=CallSource.device,
            status=CallStatus.closed,
            opened_at=opened,
            due_at=opened + timedelta(minutes=5),
            signals=rng.randint(1, 3),
            dispatched_at=dispatched,
            arrived_at=arrived,
            planned_arrival_at=arrived - timedelta(minutes=rng.randint(-3, 3)),
            closed_at=arrived + timedelta(minutes=rng.randint(20, 50)),
            outcome="resolved",
            close_note="老人起身时头晕，测血压后休息，已通知家属。",
            escalations=[],
        )
    )
    counts["calls"] += 1


def _ratings(session: Session, rng: random.Random, elder: Client, user: User, now: datetime) -> int:
    """Stars for a few of the elder's completed visits."""
    done = list(
        session.scalars(
            select(Visit)
            .where(Visit.client_id == elder.id, Visit.status == VisitStatus.completed)
            .order_by(Visit.date.desc())
            .limit(3)
        )
    )
    for v in done:
        session.add(
            Rating(
                provider_id=v.provider_id,
                visit_id=v.id,
                client_id=elder.id,
                user_id=user.id,
                stars=rng.choice((4, 5, 5, 5, 3)),
                comment=COMMENTS[rng.randrange(len(COMMENTS))],
                created_at=min(now, v.window_end_at + timedelta(hours=2)),
            )
        )
    return len(done)


def _order(
    session: Session, staff: Actor, user: User, elder: Client, now: datetime, *, accept: bool
) -> int:
    """An order for the day after tomorrow, through the service; the first one is accepted."""
    family_actor = Actor(user_id=user.id, role=Role.family, provider_id=user.provider_id)
    day = now.astimezone(config.zone()).date() + timedelta(days=2)
    row = orders.place(
        session,
        family_actor,
        {
            "client_id": elder.id,
            "service_code": "CLEAN",
            "date": day,
            "window_start": time(9),
            "window_end": time(11, 30),
            "note": "请帮忙擦窗户",
        },
    )
    if accept:
        orders.accept(session, staff, row.id)
    return 1


def _backfill_notifications(session: Session, elder: Client, now: datetime) -> None:
    """Today's check-ins and check-outs before the family was linked, as they would have come."""
    today: date = now.astimezone(config.zone()).date()
    rows = session.execute(
        select(Visit, VisitEvent)
        .join(VisitEvent, VisitEvent.visit_id == Visit.id)
        .where(Visit.client_id == elder.id, Visit.date == today)
        .where(VisitEvent.kind.in_((EventKind.check_in, EventKind.check_out)))
        .order_by(VisitEvent.device_time_at)
    ).all()
    for visit, event in rows:
        notifications.for_visit_event(session, visit, event)


def _complaint(session: Session, provider_id: int, elder: Client, now: datetime) -> None:
    """One open complaint, for the provider to answer."""
    user_id = session.scalar(
        select(FamilyLink.user_id).where(FamilyLink.client_id == elder.id).limit(1)
    )
    session.add(
        Complaint(
            provider_id=provider_id,
            client_id=elder.id,
            user_id=user_id,
            text="上周三的助洁服务迟到了四十分钟，也没有提前打电话说明。",
            status=ComplaintStatus.open,
            created_at=now - timedelta(days=1, hours=3),
        )
    )


def pendant_keys(session: Session) -> list[tuple[str, str, str]]:
    """(provider code, elder, key) of the demo pendants whose key is still the demo one."""
    providers = {p.id: p.code for p in demo_providers(session)}
    rows = session.execute(
        select(Device, Client)
        .join(Client, Client.id == Device.client_id)
        .where(Device.provider_id.in_(providers), Device.active, Device.kind == DeviceKind.pendant)
        .order_by(Device.provider_id, Device.id)
    ).all()
    out = []
    for device, client in rows:
        key = demo_key(client.code)
        if device.key_hash == device_key_hash(key):
            out.append((providers[device.provider_id], client.name, key))
    return out
