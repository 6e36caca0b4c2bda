"""The incremental path's statements, and what their wide rows say.

Lists are bound whole: ``= ANY(array)`` on PostgreSQL, so the text (and its prepared plan)
stays the same whatever the lengths; an expanding IN elsewhere. Every branch is always there
(an empty list matches nothing), so each statement has one text. ``incremental`` runs them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Interval,
    String,
    and_,
    bindparam,
    cast,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT
from sqlalchemy.orm import Session, aliased

from dispatch.db import UTCDateTime
from dispatch.models import (
    Callback,
    CallbackStatus,
    Caregiver,
    CaregiverSkill,
    Certificate,
    Client,
    ClientAbsence,
    Photo,
    Visit,
    VisitEvent,
    WorkOrder,
)
from dispatch.rules.data import EventData, OrderData, PhotoData
from dispatch.validation.context import event_data, photo_data
from dispatch.validation.orders import ORDER_COLUMNS, order_data, person, text_of
from dispatch.validation.settings import RULES_FINGERPRINT, SERVICES_FINGERPRINT


def wide_select(partner: bool) -> Any:
    """Orders with their client, caregiver, events and photos: one row per event."""
    return (
        select(
            *ORDER_COLUMNS,  # 0-10
            person(),  # 11
            Client.lat,  # 12
            Client.lon,
            Client.monthly_entitlement_min,
            Caregiver.travel_mode,  # 15
            VisitEvent.kind,  # 16
            VisitEvent.lat,
            VisitEvent.lon,
            VisitEvent.accuracy_m,
            VisitEvent.mock_location,
            VisitEvent.device_time_at,
            VisitEvent.received_at,
            VisitEvent.photo_id,  # 23
            Photo.sha256,  # 24
            Photo.phash,
            Photo.exif_taken_at,  # 26
            literal(partner),  # 27: read as a photo partner
        )
        .select_from(WorkOrder)
        .join(Caregiver, Caregiver.id == WorkOrder.caregiver_id)
        .join(Client, Client.id == WorkOrder.client_id)
        .outerjoin(
            VisitEvent,
            and_(
                VisitEvent.visit_id == WorkOrder.visit_id,
                VisitEvent.caregiver_id == WorkOrder.caregiver_id,
            ),
        )
        .outerjoin(Photo, Photo.id == VisitEvent.photo_id)
    )


class Statements:
    """The incremental path's statements, built once per dialect with named parameters."""

    def __init__(self, pg: bool) -> None:
        def ids(column: Any, name: str) -> Any:
            if pg:
                return column == func.any(bindparam(name, type_=ARRAY(BIGINT)))
            return column.in_(bindparam(name, expanding=True))

        def strings(column: Any, name: str) -> Any:
            if pg:
                return column == func.any(bindparam(name, type_=ARRAY(String)))
            return column.in_(bindparam(name, expanding=True))

        def at(name: str) -> Any:
            return bindparam(name, type_=UTCDateTime)

        others = aliased(Caregiver)
        # 0-11 the order, 12 another registration of its person, 13-14 the fingerprints
        self.given = (
            select(*ORDER_COLUMNS, person(), others.id, RULES_FINGERPRINT, SERVICES_FINGERPRINT)
            .join(Caregiver, Caregiver.id == WorkOrder.caregiver_id)
            .outerjoin(others, others.person_hash == Caregiver.person_hash)
            .where(ids(WorkOrder.id, "ids"))
        )
        self.people = wide_select(False).where(
            ids(WorkOrder.caregiver_id, "cg_ids"),
            WorkOrder.start_at >= at("lo"),
            WorkOrder.start_at <= at("hi"),
        )
        # One arriving order on PostgreSQL: its person's orders found from its id alone, with
        # the fingerprints, in one round trip instead of reading the order first.
        self.people_of_one: Any = None
        if pg:
            g, mine, reg = aliased(WorkOrder), aliased(Caregiver), aliased(Caregiver)
            one = bindparam("id", type_=Integer)
            registrations = (
                select(reg.id)
                .join(mine, or_(reg.person_hash == mine.person_hash, reg.id == mine.id))
                .join(g, g.caregiver_id == mine.id)
                .where(g.id == one)
            )
            start = select(g.start_at).where(g.id == one).scalar_subquery()
            end = select(g.end_at).where(g.id == one).scalar_subquery()
            self.people_of_one = (
                wide_select(False)
                .add_columns(RULES_FINGERPRINT, SERVICES_FINGERPRINT)  # 28, 29
                .where(
                    WorkOrder.caregiver_id.in_(registrations),
                    WorkOrder.start_at >= start - bindparam("before", type_=Interval),
                    WorkOrder.start_at <= end + bindparam("after", type_=Interval),
                )
            )
        # One list of photo ids (a BitmapOr on photos), so that the events are found by index.
        same = select(Photo.id).where(
            or_(ids(Photo.id, "photo_ids"), strings(Photo.phash, "phashes"))
        )
        self.around = union_all(
            wide_select(False).where(
                or_(
                    and_(
                        ids(WorkOrder.client_id, "clients"),
                        WorkOrder.start_at >= at("near_lo"),
                        WorkOrder.start_at <= at("near_hi"),
                    ),
                    and_(
                        ids(WorkOrder.client_id, "entitled"),
                        WorkOrder.start_at >= at("month_lo"),
                        WorkOrder.start_at < at("month_hi"),
                    ),
                )
            ),
            wide_select(True).where(
                WorkOrder.visit_id.in_(
                    select(VisitEvent.visit_id).where(VisitEvent.photo_id.in_(same))
                )
            ),
        )
        none_t, none_s, none_d, none_i = (
            cast(None, UTCDateTime),
            cast(None, String),
            cast(None, Date),
            cast(None, Integer),
        )
        # (tag, owner, t1, t2, s1, s2, d, i1, i2, i3, i4): a(bsence), s(kill), c(ertificate),
        # v(isit), k the answered call-back of an evaluated order (CALLBACK_DENIED); see
        # ``incremental.side`` for what each column holds per tag.
        self.side = union_all(
            select(
                literal("a"),
                ClientAbsence.client_id,
                ClientAbsence.start_at,
                ClientAbsence.end_at,
                cast(ClientAbsence.reason, String),
                none_s,
                none_d,
                none_i,
                none_i,
                none_i,
                none_i,
            ).where(ids(ClientAbsence.client_id, "clients")),
            select(
                literal("s"),
                CaregiverSkill.caregiver_id,
                none_t,
                none_t,
                CaregiverSkill.skill,
                none_s,
                none_d,
                none_i,
                none_i,
                none_i,
                none_i,
            ).where(ids(CaregiverSkill.caregiver_id, "cg_ids")),
            select(
                literal("c"),
                Certificate.caregiver_id,
                none_t,
                none_t,
                Certificate.skill,
                Certificate.kind,
                Certificate.expires_on,
                none_i,
                none_i,
                none_i,
                none_i,
            ).where(ids(Certificate.caregiver_id, "cg_ids")),
            select(
                literal("v"),
                Visit.client_id,
                Visit.window_start_at,
                Visit.window_end_at,
                Visit.required_skill,
                cast(Visit.status, String),
                Visit.date,
                Visit.id,
                Visit.service_type_id,
                Visit.duration_min,
                Visit.caregivers_needed,
            ).where(
                or_(
                    ids(Visit.id, "visit_ids"),
                    and_(
                        ids(Visit.client_id, "unplanned"),
                        Visit.date >= bindparam("day_lo", type_=Date),
                        Visit.date <= bindparam("day_hi", type_=Date),
                    ),
                )
            ),
            select(
                literal("k"),
                Callback.work_order_id,
                Callback.answered_at,
                none_t,
                cast(Callback.took_place, String),
                cast(Callback.note, String),
                none_d,
                Callback.id,
                cast(Callback.reached, Integer),
                Callback.satisfaction,
                none_i,
            ).where(
                ids(Callback.work_order_id, "evaluated"),
                Callback.status == CallbackStatus.answered,
            ),
        )


_BY_DIALECT: dict[str, Statements] = {}


def statements(session: Session) -> Statements:
    name = session.get_bind().dialect.name
    hit = _BY_DIALECT.get(name)
    if hit is None:
        hit = _BY_DIALECT[name] = Statements(name == "postgresql")
    return hit


@dataclass
class WideRows:
    """What the wide rows said, by order."""

    orders: dict[int, OrderData] = field(default_factory=dict)
    events: dict[int, dict[str, EventData]] = field(default_factory=dict)
    photos: dict[int, PhotoData] = field(default_factory=dict)
    raw_phash: dict[int, str | None] = field(default_factory=dict)
    # the photos of each order's events
    order_photos: dict[int, set[int]] = field(default_factory=dict)
    clients: dict[int, tuple[float, float, int | None]] = field(default_factory=dict)
    modes: dict[int, str] = field(default_factory=dict)
    partners: set[int] = field(default_factory=set)  # orders read as photo partners

    def add(self, rows: Iterable[Any]) -> None:
        for r in rows:
            oid = r[0]
            if r[27]:
                self.partners.add(oid)
            if oid not in self.orders:
                o = self.orders[oid] = order_data(r)
                self.clients[o.client_id] = (r[12], r[13], r[14])
                self.modes[o.caregiver_id] = text_of(r[15])
            kind = r[16]
            if kind is None:
                continue
            kind = text_of(kind)
            events = self.events.setdefault(oid, {})
            if kind in events:
                continue
            events[kind] = event_data(kind, r[17:24])
            pid = r[23]
            if pid is not None and r[24] is not None:
                self.order_photos.setdefault(oid, set()).add(pid)
                if pid not in self.photos:
                    self.photos[pid] = photo_data(pid, r[24], r[25], r[26])
                    self.raw_phash[pid] = r[25]
