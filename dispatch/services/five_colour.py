"""Five-colour contacts (Gongshu §8): how often someone must be in touch with each elder.

The contract:
- an elder's class is ``Client.visit_frequency``: daily, weekly, monthly, quarterly or
  half-yearly; an elder without one is outside the scheme (not listed, not counted);
- a *contact* is a recorded contact (phone call, neighbour enquiry, pairing or home visit,
  ``ClientContact``) or a performed service (a work order that was not rejected: the visit took
  place), at its local date;
- the contact is *due* on the local date of the last contact plus the class's interval (1 day,
  7 days, 1, 3 or 6 calendar months; the 31st plus a month is the month's last day); an elder
  never contacted is due one interval after enrolment (``Client.created_at``);
- on day D the elder is *overdue* when D is after the due date, by D − due date days; on the
  due date itself the contact is still in time;
- compliance of a group on day D: the share of its elders in the scheme who are not overdue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from dispatch import audit, config
from dispatch.errors import Invalid
from dispatch.models import (
    Client,
    ClientContact,
    ContactKind,
    Role,
    VisitFrequency,
    WorkOrder,
    WorkOrderStatus,
)
from dispatch.services.pages import page_of
from dispatch.tenancy import Actor, get_scoped, scoped

INTERVALS: dict[VisitFrequency, relativedelta] = {
    VisitFrequency.daily: relativedelta(days=1),
    VisitFrequency.weekly: relativedelta(days=7),
    VisitFrequency.monthly: relativedelta(months=1),
    VisitFrequency.quarterly: relativedelta(months=3),
    VisitFrequency.half_yearly: relativedelta(months=6),
}
# Who records a contact: the provider serving the elder (and the platform admin).
RECORDERS = (Role.dispatcher, Role.provider_admin, Role.admin)
READERS = (Role.dispatcher, Role.provider_admin, Role.finance, Role.admin, Role.supervisor)
# A contact may be recorded up to this long after it happened, never in the future.
BACKDATE_LIMIT = timedelta(days=366)


def due_on(frequency: VisitFrequency, last_contact: date) -> date:
    """The last day on which the next contact is still in time."""
    return last_contact + INTERVALS[frequency]


def overdue_days(frequency: VisitFrequency, last_contact: date, on: date) -> int:
    """Days past the due date on day ``on`` (0 when still in time)."""
    return max(0, (on - due_on(frequency, last_contact)).days)


@dataclass(frozen=True)
class Standing:
    """One elder's five-colour standing on a day."""

    client: dict[str, Any]  # id, code, name, street, provider_id, phone, address
    frequency: VisitFrequency
    last_contact_at: datetime | None
    due: date
    overdue_days: int


CLIENT_COLUMNS = (
    Client.id,
    Client.code,
    Client.name,
    Client.street,
    Client.provider_id,
    Client.phone,
    Client.address,
)


def _local(at: datetime) -> date:
    return at.astimezone(config.zone()).date()


def end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(), config.zone())


def last_contacts(before: datetime) -> Any:
    """A subquery (client_id, at): each elder's last contact before ``before``."""
    contacts = select(
        ClientContact.client_id.label("client_id"), ClientContact.at.label("at")
    ).where(ClientContact.at < before)
    services = select(WorkOrder.client_id.label("client_id"), WorkOrder.start_at.label("at")).where(
        WorkOrder.start_at < before, WorkOrder.status != WorkOrderStatus.rejected
    )
    both = union_all(contacts, services).subquery()
    return (
        select(both.c.client_id, func.max(both.c.at).label("at"))
        .group_by(both.c.client_id)
        .subquery()
    )


def standings(
    session: Session,
    actor: Actor,
    on: date,
    *,
    street: str | None = None,
    provider_id: int | None = None,
) -> list[Standing]:
    """Every elder in the scheme the actor may see, with their standing on day ``on``."""
    last = last_contacts(end_of(on))
    stmt = (
        select(*CLIENT_COLUMNS, Client.visit_frequency, Client.created_at, last.c.at)
        .outerjoin(last, last.c.client_id == Client.id)
        .where(Client.active.is_(True), Client.visit_frequency.is_not(None))
    )
    stmt = scoped(stmt, Client, actor)
    if street is not None:
        stmt = stmt.where(Client.street == street)
    if provider_id is not None:
        stmt = stmt.where(Client.provider_id == provider_id)
    names = [c.key for c in CLIENT_COLUMNS]
    out = []
    for r in session.execute(stmt):
        freq, created, at = r[-3], r[-2], r[-1]
        due = due_on(freq, _local(at if at is not None else created))
        client = dict(zip(names, r[: len(names)], strict=True))
        out.append(Standing(client, freq, at, due, max(0, (on - due).days)))
    return out


def overdue(
    session: Session,
    actor: Actor,
    on: date,
    *,
    street: str | None = None,
    provider_id: int | None = None,
) -> list[dict[str, Any]]:
    """The elders overdue on day ``on``, most overdue first."""
    actor.require(*READERS)
    rows = [
        s
        for s in standings(session, actor, on, street=street, provider_id=provider_id)
        if s.overdue_days > 0
    ]
    rows.sort(key=lambda s: (-s.overdue_days, s.client["id"]))
    return [
        {
            "client": s.client,
            "frequency": s.frequency,
            "last_contact_at": s.last_contact_at,
            "due_at": s.due,
            "overdue_days": s.overdue_days,
        }
        for s in rows
    ]


def compliance_by(
    session: Session, actor: Actor, on: date, group_by: str, provider_id: int | None = None
) -> dict[Any, tuple[int, int]]:
    """(elders in the scheme, elders not overdue) on day ``on``, by street or provider id."""
    out: dict[Any, tuple[int, int]] = {}
    for s in standings(session, actor, on, provider_id=provider_id):
        key = s.client["street"] if group_by == "street" else s.client["provider_id"]
        n, ok = out.get(key, (0, 0))
        out[key] = (n + 1, ok + (s.overdue_days == 0))
    return out


def compliance(session: Session, actor: Actor, on: date) -> list[dict[str, Any]]:
    """Compliance per street on day ``on``."""
    actor.require(*READERS)
    rows = []
    for street, (n, ok) in sorted(
        compliance_by(session, actor, on, "street").items(), key=lambda kv: str(kv[0])
    ):
        rows.append(
            {
                "street": street,
                "elders": n,
                "overdue": n - ok,
                "rate": round(ok / n, 4) if n else None,
            }
        )
    return rows


def record_contact(
    session: Session, actor: Actor, client_id: int, data: dict[str, Any]
) -> ClientContact:
    """Record a phone call, neighbour enquiry, pairing or home visit with an elder."""
    actor.require(*RECORDERS)
    client = get_scoped(session, Client, client_id, actor)
    at: datetime = data["at"]
    now = datetime.now(config.zone())
    if at > now + timedelta(minutes=5) or at < now - BACKDATE_LIMIT:
        raise Invalid(
            "at must be a past moment within the last year.",
            code="CONTACT_TIME_INVALID",
            message_zh="联系时间必须是过去一年内的时刻。",
            errors={"at": ["Not in the future, at most a year ago."]},
        )
    row = ClientContact(
        provider_id=client.provider_id,
        client_id=client.id,
        kind=ContactKind(data["kind"]),
        at=at,
        note=data.get("note"),
        recorded_by=actor.user_id,
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "create", row, after=audit.snapshot(row))
    return row


def contacts_of(
    session: Session, actor: Actor, client_id: int, page: int, page_size: int
) -> tuple[list[ClientContact], int]:
    actor.require(*READERS)
    get_scoped(session, Client, client_id, actor)
    stmt = (
        select(ClientContact)
        .where(ClientContact.client_id == client_id)
        .order_by(ClientContact.at.desc(), ClientContact.id.desc())
    )
    return page_of(session, stmt, page, page_size)
