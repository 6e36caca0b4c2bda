"""Writes the demo district into a database, once: a second run finds it and adds nothing."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch import audit
from dispatch.demo.data import DISTRICT, PASSWORD, PROVIDERS
from dispatch.demo.generate import build_district
from dispatch.demo.specs import District
from dispatch.models import (
    Caregiver,
    CaregiverSkill,
    CarePlan,
    Certificate,
    Client,
    ClientAbsence,
    ClientRefusal,
    DayPlan,
    PlanStatus,
    Provider,
    ServicePoint,
    ServicePointKind,
    ServiceType,
    Shift,
    User,
)
from dispatch.security import hash_password
from dispatch.tenancy import SYSTEM

log = logging.getLogger(__name__)

PROVIDER_CODES = tuple(p.code for p in PROVIDERS)


@dataclass
class SeedReport:
    """What a seeding run did: ``created`` is False when the district was already there."""

    created: bool
    today: date | None = None
    counts: dict[str, int] = field(default_factory=dict)
    skipped_users: list[str] = field(default_factory=list)


def demo_providers(session: Session) -> list[Provider]:
    """The demo providers present in the database, in login order (provider 1, 2, ...)."""
    rows = {
        p.code: p
        for p in session.scalars(select(Provider).where(Provider.code.in_(PROVIDER_CODES)))
    }
    return [rows[code] for code in PROVIDER_CODES if code in rows]


def is_seeded(session: Session) -> bool:
    return bool(
        session.scalar(
            select(func.count()).select_from(Provider).where(Provider.code.in_(PROVIDER_CODES))
        )
    )


def planned_days(session: Session, day: date) -> int:
    """How many demo providers already have a published plan for ``day``."""
    return (
        session.scalar(
            select(func.count(func.distinct(DayPlan.provider_id)))
            .join(Provider, Provider.id == DayPlan.provider_id)
            .where(
                Provider.code.in_(PROVIDER_CODES),
                DayPlan.date == day,
                DayPlan.status == PlanStatus.published,
            )
        )
        or 0
    )


def seed_demo(
    session: Session, seed: int, today: date, timezone: str = "Asia/Shanghai"
) -> SeedReport:
    """Add the demo district for ``today`` (flushes, never commits); idempotent."""
    if is_seeded(session):
        log.info(
            "demo district already seeded (providers %s exist): nothing added",
            ", ".join(PROVIDER_CODES),
        )
        return SeedReport(created=False)
    district = build_district(seed, today, timezone)
    return _write(session, district)


def _write(session: Session, d: District) -> SeedReport:
    report = SeedReport(created=True, today=d.today)

    services = {st.code: st for st in session.scalars(select(ServiceType))}
    new_services = [
        ServiceType(
            code=s.code,
            name=s.name,
            name_en=s.name_en,
            default_duration_min=s.default_duration_min,
            required_skill=s.required_skill,
            caregivers_needed=s.caregivers_needed,
            photo_required=s.photo_required,
            is_meal=s.is_meal,
            billing_unit=s.billing_unit,
            rate=s.rate,
        )
        for s in d.services
        if s.code not in services  # a catalogue an admin already keeps wins
    ]
    session.add_all(new_services)

    providers = {
        p.n: Provider(code=p.code, name=p.name, district=DISTRICT, contact_phone=p.phone)
        for p in d.providers
    }
    session.add_all(providers.values())
    session.flush()
    services.update({st.code: st for st in new_services})

    points = {
        pt.code: ServicePoint(
            provider_id=providers[pt.provider_n].id,
            code=pt.code,
            name=pt.name,
            kind=ServicePointKind(pt.kind),
            address=pt.address,
            lat=pt.lat,
            lon=pt.lon,
        )
        for pt in d.points
    }
    session.add_all(points.values())
    session.flush()
    centres = {
        pt.provider_n: points[pt.code] for pt in d.points if pt.kind == ServicePointKind.centre
    }

    caregivers: dict[tuple[int, str], Caregiver] = {}
    for g in d.caregivers:
        row = Caregiver(
            provider_id=providers[g.provider_n].id,
            code=g.code,
            name=g.name,
            gender=g.gender,
            phone=g.phone,
            home_address=g.home_address,
            street=g.street,
            home_lat=g.home_lat,
            home_lon=g.home_lon,
            start_point_id=centres[g.provider_n].id if g.starts_at_centre else None,
            travel_mode=g.travel_mode,
            max_minutes_per_day=g.max_minutes_per_day,
            break_minutes=g.break_minutes,
            break_earliest=g.break_earliest,
            break_latest=g.break_latest,
            box_capacity=g.box_capacity,
            languages=g.languages,
        )
        row.skills = [CaregiverSkill(skill=s) for s in g.skills]
        row.certificates = [
            Certificate(
                kind=c.kind,
                number=c.number,
                skill=c.skill,
                issued_on=c.issued_on,
                expires_on=c.expires_on,
            )
            for c in g.certificates
        ]
        row.shifts = [
            Shift(
                weekday=s.weekday,
                on_date=s.on_date,
                start_time=s.start_time,
                end_time=s.end_time,
                off=s.off,
            )
            for s in g.shifts
        ]
        caregivers[(g.provider_n, g.code)] = row
    session.add_all(caregivers.values())
    session.flush()

    clients: dict[tuple[int, str], Client] = {}
    for c in d.clients:
        row = Client(
            provider_id=providers[c.provider_n].id,
            code=c.code,
            name=c.name,
            gender=c.gender,
            birth_date=c.birth_date,
            phone=c.phone,
            address=c.address,
            street=c.street,
            lat=c.lat,
            lon=c.lon,
            care_level=c.care_level,
            visit_frequency=c.visit_frequency,
            funding_source=c.funding_source,
            monthly_entitlement_min=c.monthly_entitlement_min,
            monthly_allowance=c.monthly_allowance,
            preferred_caregiver_gender=c.preferred_caregiver_gender,
            language=c.language,
            notes=c.notes,
        )
        row.absences = [
            ClientAbsence(start_at=a.start_at, end_at=a.end_at, reason=a.reason, note=a.note)
            for a in c.absences
        ]
        row.refusals = [
            ClientRefusal(caregiver_id=caregivers[(c.provider_n, code)].id, reason=reason)
            for code, reason in c.refused
        ]
        clients[(c.provider_n, c.code)] = row
    session.add_all(clients.values())
    session.flush()

    plans = [
        CarePlan(
            provider_id=providers[p.provider_n].id,
            client_id=clients[(p.provider_n, p.client_code)].id,
            service_type_id=services[p.service_code].id,
            recurrence=p.recurrence,
            days_of_week=list(p.days_of_week) if p.days_of_week is not None else None,
            interval_days=p.interval_days,
            day_of_month=p.day_of_month,
            start_date=p.start_date,
            window_start=p.window_start,
            window_end=p.window_end,
            duration_min=p.duration_min,
            preferred_caregiver_id=(
                caregivers[(p.provider_n, p.preferred_caregiver_code)].id
                if p.preferred_caregiver_code
                else None
            ),
            service_point_id=points[p.service_point_code].id if p.service_point_code else None,
            priority=p.priority,
            notes=p.notes,
        )
        for p in d.plans
    ]
    session.add_all(plans)

    # Argon2 is slow on purpose: one hash serves every demo login (they share the password).
    password_hash = hash_password(PASSWORD)
    taken = set(
        session.scalars(
            select(User.username).where(User.username.in_([u.username for u in d.users]))
        )
    )
    users = []
    for u in d.users:
        if u.username in taken:
            report.skipped_users.append(u.username)
            continue
        users.append(
            User(
                username=u.username,
                password_hash=password_hash,
                role=u.role,
                provider_id=providers[u.provider_n].id if u.provider_n else None,
                caregiver_id=(
                    caregivers[(u.provider_n, u.caregiver_code)].id
                    if u.provider_n and u.caregiver_code
                    else None
                ),
                display_name=u.display_name,
                area_district=u.area_district,
                area_streets=list(u.area_streets) or None,
            )
        )
    session.add_all(users)
    session.flush()
    if report.skipped_users:
        log.warning("users already present, left as they are: %s", ", ".join(report.skipped_users))

    report.counts = {
        "providers": len(providers),
        "service_types": len(new_services),
        "service_points": len(points),
        "caregivers": len(caregivers),
        "clients": len(clients),
        "care_plans": len(plans),
        "users": len(users),
        "plans_today": len(d.plans_on(d.today)),
    }
    for provider in providers.values():
        audit.record(
            session,
            SYSTEM,
            "demo.seed",
            provider,
            after={"seed": d.seed, "today": d.today},
            reason="demo district",
        )
    session.flush()
    log.info("demo district seeded for %s (seed %d): %s", d.today, d.seed, report.counts)
    return report
