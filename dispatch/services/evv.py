"""Electronic visit verification, the caregiver's side: the route, and reading events and photos.

Recording a check-in or check-out and offline sync are ``dispatch.services.checkins``; what a
visit's events make of it (status, outcome, work orders) is ``dispatch.services.settlement``.
See docs/evv.md.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from dispatch import config, error_codes
from dispatch.db import utcnow
from dispatch.geo import geodesic_m
from dispatch.models import (
    Client,
    EventKind,
    FamilyLink,
    Photo,
    Role,
    ServiceType,
    Visit,
    VisitAssignment,
    VisitEvent,
    VisitStatus,
)
from dispatch.photos import PhotoStore, photo_store
from dispatch.tenancy import Actor, scoped

log = logging.getLogger(__name__)

# What a caregiver's app shows: a published route and what became of it.
ROUTE_STATUSES = (
    VisitStatus.published,
    VisitStatus.in_progress,
    VisitStatus.completed,
    VisitStatus.missed,
)


# --- the caregiver's route ------------------------------------------------------------------


def caregiver_of(actor: Actor) -> int:
    """The caregiver the acting user is; anyone else may not record visit events."""
    if actor.role != Role.caregiver or actor.caregiver_id is None:
        raise error_codes.NOT_A_CAREGIVER()
    return actor.caregiver_id


def local_today() -> date:
    return utcnow().astimezone(config.zone()).date()


def my_visits(session: Session, actor: Actor, day: date | None = None) -> list[dict[str, Any]]:
    """The caregiver's published visits of ``day`` (default today, local) in route order."""
    caregiver_id = caregiver_of(actor)
    day = day or local_today()
    planned_start = func.coalesce(VisitAssignment.planned_start_at, Visit.planned_start_at)
    stmt = (
        select(Visit, VisitAssignment, Client, ServiceType)
        .join(VisitAssignment, VisitAssignment.visit_id == Visit.id)
        .join(Client, Client.id == Visit.client_id)
        .join(ServiceType, ServiceType.id == Visit.service_type_id)
        .where(
            VisitAssignment.caregiver_id == caregiver_id,
            Visit.date == day,
            Visit.status.in_(ROUTE_STATUSES),
        )
        .order_by(
            func.coalesce(VisitAssignment.sequence, Visit.sequence).nulls_last(),
            planned_start.nulls_last(),
            Visit.window_start_at,
            Visit.id,
        )
    )
    rows = session.execute(scoped(stmt, Visit, actor)).all()
    done: dict[int, set[EventKind]] = defaultdict(set)
    if rows:
        for visit_id, kind in session.execute(
            select(VisitEvent.visit_id, VisitEvent.kind).where(
                VisitEvent.caregiver_id == caregiver_id,
                VisitEvent.visit_id.in_([r[0].id for r in rows]),
            )
        ):
            done[visit_id].add(kind)
    return [
        {
            "id": visit.id,
            "sequence": assignment.sequence if assignment.sequence is not None else visit.sequence,
            "status": visit.status,
            "outcome": visit.outcome,
            "service": {"code": service.code, "name": service.name},
            "client": {
                "id": client.id,
                "name": client.name,
                "address": client.address,
                "phone": client.phone,
                "lat": client.lat,
                "lon": client.lon,
            },
            "window_start": visit.window_start_at,
            "window_end": visit.window_end_at,
            "planned_start": assignment.planned_start_at or visit.planned_start_at,
            "duration_min": visit.duration_min,
            "photo_required": service.photo_required,
            "caregivers_needed": visit.caregivers_needed,
            "checked_in": EventKind.check_in in done[visit.id],
            "checked_out": EventKind.check_out in done[visit.id],
        }
        for visit, assignment, client, service in rows
    ]


# --- reading events and photos --------------------------------------------------------------

EVENT_READERS = (Role.caregiver, Role.dispatcher, Role.provider_admin, Role.finance, Role.admin)


def visit_events(session: Session, actor: Actor, visit_id: int) -> list[VisitEvent]:
    """A visit's events: for its provider's staff, the platform, and its own caregivers; each
    carries ``distance_home_m`` (metres from the client's home, the geofence's measure)."""
    stmt = scoped(select(Visit).where(Visit.id == visit_id), Visit, actor)
    if actor.role == Role.caregiver:
        stmt = stmt.where(
            exists().where(
                VisitAssignment.visit_id == Visit.id,
                VisitAssignment.caregiver_id == caregiver_of(actor),
            )
        )
    visit = session.scalars(stmt).one_or_none()
    if visit is None:
        raise error_codes.VISIT_NOT_FOUND(id=visit_id)
    events = list(
        session.scalars(
            select(VisitEvent)
            .where(VisitEvent.visit_id == visit.id)
            .order_by(VisitEvent.device_time_at, VisitEvent.id)
        )
    )
    # Each event's distance from the client's home, as the geofence rules measure it: one
    # figure for the evidence, the map and any report (not recomputed by a client).
    client = session.get(Client, visit.client_id)
    for event in events:
        event.distance_home_m = (
            round(geodesic_m(event.lat, event.lon, client.lat, client.lon), 1) if client else None
        )
    return events


def photo_content(
    session: Session, actor: Actor, photo_id: int, *, store: PhotoStore | None = None
) -> tuple[Photo, bytes]:
    """A photo and its bytes, for those who may see it; everyone else gets a 404."""
    photo = session.get(Photo, photo_id)
    if photo is None or not _may_see_photo(session, actor, photo):
        raise error_codes.PHOTO_NOT_FOUND(id=photo_id)
    try:
        data = (store or photo_store()).get(photo.sha256)
    except FileNotFoundError:
        log.error("photo %s (%s) is missing from the store", photo.id, photo.sha256)
        raise error_codes.PHOTO_CONTENT_MISSING(id=photo_id) from None
    return photo, data


def _may_see_photo(session: Session, actor: Actor, photo: Photo) -> bool:
    if actor.platform_level:
        return True
    used = select(VisitEvent.id).where(VisitEvent.photo_id == photo.id)
    if actor.role == Role.caregiver:
        used = used.where(VisitEvent.caregiver_id == actor.caregiver_id)
    elif actor.role in (Role.dispatcher, Role.provider_admin):
        used = used.join(Visit, Visit.id == VisitEvent.visit_id).where(
            Visit.provider_id == actor.provider_id
        )
    elif actor.role == Role.family:
        # A relative sees the photos of a linked elder's visits when the elder consented.
        used = (
            used.join(Visit, Visit.id == VisitEvent.visit_id)
            .join(FamilyLink, FamilyLink.client_id == Visit.client_id)
            .where(FamilyLink.user_id == actor.user_id, FamilyLink.may_see_photos)
        )
    else:
        return False
    return session.scalar(used.limit(1)) is not None
