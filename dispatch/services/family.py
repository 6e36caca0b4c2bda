"""Family members: the provider links them to elders; they see those elders' visits, rate them.

The contract: a ``family`` user sees an elder only through a ``family_links`` row; every family
read goes through ``linked_client``, ``linked_ids`` or ``visible``, so another elder's id (of the
same or another provider) answers 404 exactly like a missing one, and lists hold linked elders only.
Photos are shown only where the link says the elder consented (``may_see_photos``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch import audit, config, error_codes
from dispatch.db import utcnow
from dispatch.models import (
    Caregiver,
    Client,
    EventKind,
    FamilyLink,
    Rating,
    Role,
    ServiceType,
    User,
    Visit,
    VisitAssignment,
    VisitEvent,
    VisitStatus,
)
from dispatch.tenancy import Actor, get_scoped, scoped

LINK_WRITE = (Role.dispatcher, Role.provider_admin)
LINK_READ = (Role.dispatcher, Role.provider_admin, Role.admin)
# The longest span one request of the family view reads.
MAX_SPAN = timedelta(days=92)


def linked_ids(session: Session, actor: Actor) -> set[int]:
    """The elders this family member is linked to."""
    return set(
        session.scalars(select(FamilyLink.client_id).where(FamilyLink.user_id == actor.user_id))
    )


def visible(session: Session, actor: Actor, model: Any) -> Any:
    """A select of ``model`` rows in the actor's scope; a family member gets only the rows of the
    elders linked to them. ``model`` has a ``client_id`` column; the caller checks the role."""
    stmt = scoped(select(model), model, actor)
    if actor.role == Role.family:
        stmt = stmt.where(model.client_id.in_(linked_ids(session, actor)))
    return stmt


def linked_client(session: Session, actor: Actor, client_id: int) -> tuple[Client, FamilyLink]:
    """The elder and the link, for a family member linked to them; anyone else a 404."""
    actor.require(Role.family)
    row = session.execute(
        select(Client, FamilyLink)
        .join(FamilyLink, FamilyLink.client_id == Client.id)
        .where(Client.id == client_id, FamilyLink.user_id == actor.user_id)
    ).first()
    if row is None:
        raise error_codes.CLIENT_NOT_FOUND(id=client_id)
    return row[0], row[1]


def client_for(session: Session, actor: Actor, client_id: int) -> Client:
    """The elder a request names in its body: a family member's linked elder, or one of the
    staff's provider; anyone else is a 422 ``REFERENCE_NOT_FOUND`` (as a missing one)."""
    if actor.role == Role.family:
        row = session.scalar(
            select(Client)
            .join(FamilyLink, FamilyLink.client_id == Client.id)
            .where(Client.id == client_id, FamilyLink.user_id == actor.user_id)
        )
    else:
        row = session.scalars(
            scoped(select(Client).where(Client.id == client_id), Client, actor)
        ).one_or_none()
    if row is None:
        raise error_codes.REFERENCE_NOT_FOUND("client", id=client_id, field="client_id")
    return row


# --- links, kept by the provider -------------------------------------------------------------


def link(session: Session, actor: Actor, client_id: int, data: Mapping[str, Any]) -> FamilyLink:
    """Link a family user of the same provider to an elder, with the elder's consents."""
    actor.require(*LINK_WRITE)
    client = get_scoped(session, Client, client_id, actor)
    user = session.get(User, data["user_id"])
    if user is None or user.provider_id != client.provider_id or user.role != Role.family:
        raise error_codes.NOT_A_FAMILY_USER(id=data["user_id"], field="user_id")
    row = FamilyLink(
        provider_id=client.provider_id,
        client_id=client.id,
        user_id=user.id,
        relation=data.get("relation"),
        phone=data.get("phone"),
        may_see_photos=bool(data.get("may_see_photos", False)),
        notify=bool(data.get("notify", True)),
        created_by=actor.user_id,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise error_codes.FAMILY_ALREADY_LINKED(id=user.id) from None
    audit.record(session, actor, "create", row, after=audit.snapshot(row))
    return row


def links_of(session: Session, actor: Actor, client_id: int) -> list[FamilyLink]:
    actor.require(*LINK_READ)
    client = get_scoped(session, Client, client_id, actor)
    return list(
        session.scalars(
            select(FamilyLink).where(FamilyLink.client_id == client.id).order_by(FamilyLink.id)
        )
    )


def unlink(session: Session, actor: Actor, client_id: int, user_id: int) -> None:
    actor.require(*LINK_WRITE)
    client = get_scoped(session, Client, client_id, actor)
    row = session.scalars(
        select(FamilyLink).where(FamilyLink.client_id == client.id, FamilyLink.user_id == user_id)
    ).one_or_none()
    if row is None:
        raise error_codes.FAMILY_LINK_NOT_FOUND(id=user_id)
    audit.record(session, actor, "delete", row, before=audit.snapshot(row))
    session.delete(row)
    session.flush()


def family_contacts(session: Session, client_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The family of each elder, for the call taker: name, relation, phone."""
    out: dict[int, list[dict[str, Any]]] = {}
    rows = session.execute(
        select(FamilyLink, User.display_name, User.username)
        .join(User, User.id == FamilyLink.user_id)
        .where(FamilyLink.client_id.in_(client_ids))
        .order_by(FamilyLink.id)
    ).all()
    for row, name, username in rows:
        out.setdefault(row.client_id, []).append(
            {"name": name or username, "relation": row.relation, "phone": row.phone}
        )
    return out


# --- the family member's view -----------------------------------------------------------------


def my_clients(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The elders linked to this family member, with the consents of each link."""
    actor.require(Role.family)
    rows = session.execute(
        select(Client, FamilyLink)
        .join(FamilyLink, FamilyLink.client_id == Client.id)
        .where(FamilyLink.user_id == actor.user_id)
        .order_by(Client.name, Client.id)
    ).all()
    return [
        {
            "id": c.id,
            "name": c.name,
            "address": c.address,
            "phone": c.phone,
            "care_level": c.care_level,
            "provider_id": c.provider_id,
            "relation": link_.relation,
            "may_see_photos": link_.may_see_photos,
            "notify": link_.notify,
        }
        for c, link_ in rows
    ]


def _span(filters: Mapping[str, Any]) -> tuple[date, date]:
    today = local_today()
    start: date = filters.get("from_") or today - timedelta(days=7)
    end: date = filters.get("to") or today + timedelta(days=7)
    if end < start:
        raise error_codes.INVALID_RANGE(field="to")
    if end - start > MAX_SPAN:
        raise error_codes.INVALID_RANGE("too_long", days=MAX_SPAN.days, field="to")
    return start, end


def local_today() -> date:
    return utcnow().astimezone(config.zone()).date()


def client_visits(
    session: Session, actor: Actor, client_id: int, filters: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """An elder's visits in a span (default a week either side of today), for the family."""
    client, link_ = linked_client(session, actor, client_id)
    start, end = _span(filters)
    visits = list(
        session.scalars(
            select(Visit)
            .where(
                Visit.client_id == client.id,
                Visit.date >= start,
                Visit.date <= end,
                Visit.status != VisitStatus.cancelled,
            )
            .order_by(Visit.date, Visit.window_start_at, Visit.id)
        )
    )
    ids = [v.id for v in visits]
    services = {s.id: s for s in session.scalars(select(ServiceType))}
    names: dict[int, list[str]] = {}
    for visit_id, name in session.execute(
        select(VisitAssignment.visit_id, Caregiver.name)
        .join(Caregiver, Caregiver.id == VisitAssignment.caregiver_id)
        .where(VisitAssignment.visit_id.in_(ids))
        .order_by(VisitAssignment.id)
    ):
        names.setdefault(visit_id, []).append(name)
    events: dict[int, dict[EventKind, VisitEvent]] = {}
    for e in session.scalars(
        select(VisitEvent).where(VisitEvent.visit_id.in_(ids)).order_by(VisitEvent.device_time_at)
    ):
        events.setdefault(e.visit_id, {}).setdefault(e.kind, e)
    ratings = {
        r.visit_id: r for r in session.scalars(select(Rating).where(Rating.visit_id.in_(ids)))
    }
    photos: dict[int, list[int]] = {}
    if link_.may_see_photos:
        for visit_id, photo_id in session.execute(
            select(VisitEvent.visit_id, VisitEvent.photo_id).where(
                VisitEvent.visit_id.in_(ids), VisitEvent.photo_id.is_not(None)
            )
        ):
            photos.setdefault(visit_id, []).append(photo_id)
    out = []
    for v in visits:
        mine = events.get(v.id, {})
        check_in, check_out = mine.get(EventKind.check_in), mine.get(EventKind.check_out)
        service = services.get(v.service_type_id)
        rating = ratings.get(v.id)
        out.append(
            {
                "id": v.id,
                "date": v.date,
                "status": v.status.value,
                "outcome": v.outcome.value if v.outcome else None,
                "service": {"code": service.code, "name": service.name} if service else None,
                "window_start": v.window_start_at,
                "window_end": v.window_end_at,
                "planned_start": v.planned_start_at,
                "caregivers": names.get(v.id, []),
                "checked_in_at": check_in.device_time_at if check_in else None,
                "checked_out_at": check_out.device_time_at if check_out else None,
                "photo_ids": photos.get(v.id, []) if link_.may_see_photos else None,
                "urgent": v.urgent,
                "rating": {"stars": rating.stars, "comment": rating.comment} if rating else None,
            }
        )
    return out


def rate(session: Session, actor: Actor, visit_id: int, data: Mapping[str, Any]) -> Rating:
    """1-5 stars for a completed visit of a linked elder; once per visit."""
    actor.require(Role.family)
    visit = session.get(Visit, visit_id)
    if visit is None or visit.client_id not in linked_ids(session, actor):
        raise error_codes.VISIT_NOT_FOUND(id=visit_id)
    if visit.status != VisitStatus.completed:
        raise error_codes.VISIT_NOT_DONE(status=visit.status.value)
    row = Rating(
        provider_id=visit.provider_id,
        visit_id=visit.id,
        client_id=visit.client_id,
        user_id=actor.user_id,
        stars=data["stars"],
        comment=data.get("comment"),
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise error_codes.ALREADY_RATED(id=visit.id) from None
    audit.record(session, actor, "create", row, after=audit.snapshot(row))
    return row
