"""The bureau's side of the demo history, through the real services: caregivers' grades (from
their 养老护理员 certificate), first-aid certificates and training records; a month of recorded
contacts with the elders whose visits are rare; and a call-back sample of the month's orders,
answered by the district supervisor, with a few elders saying the service did not take place
(each opens CALLBACK_DENIED, which finance then decides in ``office``)."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import config
from dispatch.demo.seed import demo_providers
from dispatch.models import (
    Callback,
    Caregiver,
    CaregiverGrade,
    Certificate,
    Client,
    ClientContact,
    ContactKind,
    Training,
    User,
    VisitFrequency,
)
from dispatch.services import callbacks
from dispatch.services.auth import actor_of

log = logging.getLogger(__name__)

GRADES = {
    "初级": CaregiverGrade.junior,
    "中级": CaregiverGrade.intermediate,
    "高级": CaregiverGrade.senior,
    "技师": CaregiverGrade.technician,
}
FIRST_AID_SHARE = 0.7
COURSES = (
    ("失智老人照护技能培训", Decimal("16.0"), "义乌市民政局"),
    ("老年人跌倒预防与急救", Decimal("8.0"), "义乌市红十字会"),
    ("居家养老服务规范与礼仪", Decimal("4.0"), "义乌市养老服务指导中心"),
    ("助浴安全操作", Decimal("6.0"), "浙江省养老护理员培训基地"),
    ("慢病用药与健康监测", Decimal("8.0"), "义乌市中心医院"),
)
CONTACT_NOTES = {
    ContactKind.phone: ("电话问候，老人精神尚好", "电话问候，提醒按时服药", "电话未接通，次日再拨"),
    ContactKind.neighbour: ("邻居反映老人近日出门买菜，状态正常", "向楼长了解，老人一切安好"),
    ContactKind.pairing: ("结对志愿者上门陪聊半小时", "结对党员上门，帮助更换灯泡"),
    ContactKind.visit: ("社工上门探访，家中整洁", "上门探访，老人反映腿脚不便"),
}
DENIED_NOTES = ("老人说那天没有人来过", "老人表示当天在女儿家，没有接受服务")
SAMPLE_PER_PROVIDER = 12
DENIALS = 3


@dataclass
class BureauReport:
    graded: int = 0
    trainings: int = 0
    first_aid: int = 0
    contacts: int = 0
    callbacks: int = 0
    answered: int = 0
    denied: list[int] = field(default_factory=list)


def seed_staffing(session: Session, seed: int, today: date, report: BureauReport) -> None:
    """Grades from the certificates' level, first-aid certificates and training records."""
    rng = random.Random(f"{seed}:staffing")
    carers = list(session.scalars(select(Caregiver).order_by(Caregiver.id)))
    for g in carers:
        for cert in g.certificates:
            for word, grade in GRADES.items():
                if cert.kind.startswith("养老护理员") and word in cert.kind:
                    g.grade = grade
        report.graded += g.grade is not None
        if rng.random() < FIRST_AID_SHARE:
            issued = today - timedelta(days=rng.randint(30, 900))
            session.add(
                Certificate(
                    caregiver_id=g.id,
                    kind="红十字救护员证",
                    number=f"HSZ{issued.year}{rng.randrange(10**6):06d}",
                    issued_on=issued,
                    expires_on=issued + timedelta(days=3 * 365),
                )
            )
            report.first_aid += 1
        for course, hours, teacher in rng.sample(COURSES, rng.randint(1, 3)):
            session.add(
                Training(
                    caregiver_id=g.id,
                    course=course,
                    on_date=today - timedelta(days=rng.randint(20, 700)),
                    hours=hours,
                    provider_name=teacher,
                )
            )
            report.trainings += 1
    session.flush()


def seed_contacts(session: Session, seed: int, today: date, report: BureauReport) -> None:
    """A month of recorded contacts, mostly with the elders of the weekly and rarer classes;
    a few elders are left without, so the overdue list has someone on it."""
    rng = random.Random(f"{seed}:contacts")
    zone = config.zone()
    dispatchers = {
        u.provider_id: u.id
        for u in session.scalars(select(User).where(User.username.like("dispatcher%")))
    }
    elders = session.scalars(
        select(Client)
        .where(Client.visit_frequency.is_not(None), Client.active.is_(True))
        .order_by(Client.id)
    )
    for c in elders:
        if c.visit_frequency == VisitFrequency.daily or rng.random() < 0.15:
            continue
        for _ in range(rng.randint(1, 3)):
            kind = rng.choice(list(ContactKind))
            day = today - timedelta(days=rng.randint(1, 30))
            at = datetime.combine(day, time(rng.randint(9, 17), rng.choice((0, 15, 30))), zone)
            session.add(
                ClientContact(
                    provider_id=c.provider_id,
                    client_id=c.id,
                    kind=kind,
                    at=at,
                    note=rng.choice(CONTACT_NOTES[kind]),
                    recorded_by=dispatchers.get(c.provider_id),
                )
            )
            report.contacts += 1
    session.flush()


def run_callbacks(session: Session, seed: int, today: date, report: BureauReport) -> None:
    """The district supervisor samples the month's undecided orders and calls the elders."""
    user = session.scalar(select(User).where(User.username == "supervisor"))
    if user is None:
        log.warning("no supervisor login: no call-backs in the demo history")
        return
    sup = actor_of(user)
    rng = random.Random(f"{seed}:callbacks")
    drawn = callbacks.sample(
        session,
        sup,
        today - timedelta(days=30),
        today - timedelta(days=1),
        seed,
        count=SAMPLE_PER_PROVIDER,
    )
    report.callbacks = drawn["created"]
    rows = list(
        session.scalars(
            select(Callback)
            .where(Callback.work_order_id.in_(drawn["work_order_ids"]))
            .order_by(Callback.id)
        )
    )
    denied = set(rng.sample(range(len(rows)), min(DENIALS, len(rows))))
    for i, cb in enumerate(rows):
        if i in denied:
            answer = {"reached": True, "took_place": "no", "satisfaction": 1}
            answer["note"] = rng.choice(DENIED_NOTES)
            report.denied.append(cb.work_order_id)
        elif rng.random() < 0.1:
            answer = {"reached": False, "note": "电话无人接听"}
        else:
            stars = rng.choices((3, 4, 5), (1, 3, 4))[0]
            answer = {"reached": True, "took_place": "yes", "satisfaction": stars}
        callbacks.answer(session, sup, cb.id, answer)
        report.answered += 1


def run_bureau(session: Session, seed: int, today: date) -> BureauReport:
    """Everything above, once, after the history and before the office decides it (flushes)."""
    report = BureauReport()
    if not demo_providers(session):
        return report
    seed_staffing(session, seed, today, report)
    seed_contacts(session, seed, today, report)
    run_callbacks(session, seed, today, report)
    log.info(
        "demo bureau: %d graded, %d trainings, %d first-aid certificates, %d contacts, "
        "%d call-backs (%d answered, %d 'did not take place': orders %s)",
        report.graded,
        report.trainings,
        report.first_aid,
        report.contacts,
        report.callbacks,
        report.answered,
        len(report.denied),
        report.denied,
    )
    return report
