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

import functools
from datetime import date, datetime, time, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from dispatch import audit, config, error_codes
from dispatch.db import UTCDateTime
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


@functools.lru_cache(maxsize=1 << 16)
def due_on(frequency: VisitFrequency, last_contact: date) -> date:
    """The last day on which the next contact is still in time (cached: elders share days)."""
    return last_contact + INTERVALS[frequency]


def overdue_days(frequency: VisitFrequency, last_contact: date, on: date) -> int:
    """Days past the due date on day ``on`` (0 when still in time)."""
    return max(0, (on - due_on(frequency, last_contact)).days)


CLIENT_COLUMNS = (
    Client.id,
    Client.code,
    Client.name,
    Client.street,
    Client.provider_id,
    Client.phone,
    Client.address,
)


def end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(), config.zone())


def _contacts_before(before: datetime) -> tuple[Any, Any]:
    """(recorded contacts, performed services) of the ``Client`` of the enclosing query before
    ``before``, as correlated conditions, and their columns of time: each is one probe of an
    index on (client_id, time) per elder, however long the history."""
    recorded = and_(ClientContact.client_id == Client.id, ClientContact.at < before)
    served = and_(
        WorkOrder.client_id == Client.id,
        WorkOrder.start_at < before,
        WorkOrder.status != WorkOrderStatus.rejected,
    )
    return (recorded, ClientContact.at), (served, WorkOrder.start_at)


def last_contact_columns(before: datetime) -> tuple[Any, Any]:
    """The last recorded contact and the last performed service of each elder before
    ``before`` (scalar subqueries over the enclosing query's ``Client``)."""
    return tuple(
        select(func.max(at)).where(cond).scalar_subquery().label(name)
        for (cond, at), name in zip(_contacts_before(before), ("contact", "service"), strict=True)
    )


@functools.lru_cache(maxsize=1024)
def earliest_in_time(frequency: VisitFrequency, on: date) -> date:
    """The earliest day of a last contact that is still in time on day ``on``: a contact on
    day d is in time on ``on`` exactly when d >= this day (``due_on`` is monotone in d)."""
    d = on - INTERVALS[frequency]
    while due_on(frequency, d - timedelta(days=1)) >= on:
        d -= timedelta(days=1)
    while due_on(frequency, d) < on:
        d += timedelta(days=1)
    return d


def _scheme(
    session: Session,
    actor: Actor,
    on: date,
    columns: tuple[Any, ...],
    street: str | None,
    provider_id: int | None,
) -> tuple[Any, Any]:
    """A select of ``columns`` of every elder in the scheme the actor may see, and whether the
    elder is still in time on ``on`` (``in_time``), decided in SQL against each class's
    earliest day in time: the last contact (or enrolment, never contacted) is on or after it
    exactly when some contact before the day's end is, or there is none and enrolment is. Each
    elder costs a probe or two of the (client_id, time) indexes, not a pass over the history."""
    zone = config.zone()
    earliest = case(
        *(
            (
                Client.visit_frequency == f,
                literal(datetime.combine(earliest_in_time(f, on), time(), zone), UTCDateTime()),
            )
            for f in VisitFrequency
        )
    )
    (recorded, contact_at), (served, service_at) = _contacts_before(end_of(on))
    in_time = or_(
        exists().where(recorded, contact_at >= earliest),
        exists().where(served, service_at >= earliest),
        and_(Client.created_at >= earliest, ~exists().where(recorded), ~exists().where(served)),
    )
    stmt = select(*columns, Client.visit_frequency).where(
        Client.active.is_(True), Client.visit_frequency.is_not(None)
    )
    stmt = scoped(stmt, Client, actor)
    if street is not None:
        stmt = stmt.where(Client.street == street)
    if provider_id is not None:
        stmt = stmt.where(Client.provider_id == provider_id)
    return stmt, in_time


def overdue(
    session: Session,
    actor: Actor,
    on: date,
    *,
    street: str | None = None,
    provider_id: int | None = None,
    page: int = 1,
    page_size: int | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """The elders overdue on day ``on``, most overdue first (then by id): one page of them
    (all without ``page_size``) and how many there are. Only the page's elders are read in
    full."""
    actor.require(*READERS)
    columns = (Client.id, Client.created_at, *last_contact_columns(end_of(on)))
    stmt, in_time = _scheme(session, actor, on, columns, street, provider_id)
    zone = config.zone()
    late = []
    for client_id, enrolled, contact, service, freq in session.execute(stmt.where(~in_time)):
        at = max((t for t in (contact, service) if t is not None), default=None)
        due = due_on(freq, (at or enrolled).astimezone(zone).date())
        late.append(((on - due).days, client_id, freq, at, due))
    late.sort(key=lambda x: (-x[0], x[1]))
    first = (page - 1) * (page_size or 0)
    chosen = late[first : first + page_size] if page_size else late
    names = [c.key for c in CLIENT_COLUMNS]
    clients = {
        r[0]: dict(zip(names, r, strict=True))
        for r in session.execute(
            select(*CLIENT_COLUMNS).where(Client.id.in_([x[1] for x in chosen]))
        )
    }
    return [
        {
            "client": clients[client_id],
            "frequency": freq,
            "last_contact_at": at,
            "due_at": due,
            "overdue_days": days,
        }
        for days, client_id, freq, at, due in chosen
    ], len(late)


def compliance_by(
    session: Session, actor: Actor, on: date, group_by: str, provider_id: int | None = None
) -> dict[Any, tuple[int, int]]:
    """(elders in the scheme, elders not overdue) on day ``on``, by street or provider id."""
    key = Client.street if group_by == "street" else Client.provider_id
    stmt, in_time = _scheme(session, actor, on, (key,), None, provider_id)
    e = stmt.add_columns(case((in_time, 1), else_=0).label("ok")).subquery()
    grouped = select(e.c[key.key], func.count(), func.sum(e.c.ok)).group_by(e.c[key.key])
    return {k: (int(n), int(ok or 0)) for k, n, ok in session.execute(grouped)}


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
        raise error_codes.CONTACT_TIME_INVALID(
            errors={"at": ["Not in the future, at most a year ago."]}
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
