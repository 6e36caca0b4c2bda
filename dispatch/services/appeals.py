"""Appeals (申诉): a provider contests a flagged or rejected order; finance upholds or denies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import audit, error_codes, photos
from dispatch.db import utcnow
from dispatch.models import (
    Appeal,
    AppealState,
    AppealStatus,
    Photo,
    Role,
    WorkOrderStatus,
)
from dispatch.services.pages import page_of
from dispatch.services.photo_rows import find_photo, photo_row
from dispatch.services.work_orders import (
    ensure_changeable,
    load,
    open_blocking_flags,
    override_flag,
)
from dispatch.tenancy import Actor, get_scoped, scoped

APPEALABLE = (WorkOrderStatus.flagged, WorkOrderStatus.rejected)
MISSING = "Missing data for required field."


def create_appeal(
    session: Session,
    actor: Actor,
    order_id: int,
    reason: str,
    evidence_photo_id: int | None = None,
) -> Appeal:
    """Open the order's one appeal; the order shows appeal_state "open" until finance decides."""
    actor.require(Role.provider_admin)
    order = load(session, actor, order_id, lock=True)
    ensure_changeable(session, order)
    reason = (reason or "").strip()
    if not reason:
        raise error_codes.REASON_REQUIRED("appeal", errors={"reason": [MISSING]})
    if order.appeal_state == AppealState.open:
        raise error_codes.APPEAL_ALREADY_OPEN(id=order.id)
    if order.status not in APPEALABLE and not open_blocking_flags(order):
        raise error_codes.NOT_APPEALABLE(id=order.id, status=order.status.value)
    if evidence_photo_id is not None:
        owned = session.scalar(
            scoped(select(Photo.id).where(Photo.id == evidence_photo_id), Photo, actor)
        )
        if owned is None:
            raise error_codes.REFERENCE_NOT_FOUND(
                "evidence_photo",
                id=evidence_photo_id,
                errors={"evidence_photo_id": [f"No photo with id {evidence_photo_id}."]},
            )
    appeal = Appeal(
        work_order_id=order.id,
        provider_id=order.provider_id,
        reason=reason,
        evidence_photo_id=evidence_photo_id,
        submitted_by=actor.user_id,
    )
    session.add(appeal)
    before = {"appeal_state": order.appeal_state.value}
    order.appeal_state = AppealState.open
    session.flush()
    audit.record(session, actor, "appeal.create", appeal, after=audit.snapshot(appeal))
    audit.record(
        session,
        actor,
        "work_order.appeal",
        order,
        before=before,
        after={"appeal_state": order.appeal_state.value},
        reason=reason,
    )
    return appeal


def decide_appeal(
    session: Session, actor: Actor, appeal_id: int, decision: str, reason: str
) -> Appeal:
    """Uphold: the order's open flags are overridden and it returns to the approval queue as
    verified. Deny: the order stays as it was (flagged or rejected)."""
    actor.require(Role.finance)
    appeal = get_scoped(session, Appeal, appeal_id, actor)
    session.refresh(appeal, with_for_update=True)
    if appeal.status != AppealStatus.open:
        raise error_codes.APPEAL_DECIDED(id=appeal.id, status=appeal.status.value)
    reason = (reason or "").strip()
    if not reason:
        raise error_codes.REASON_REQUIRED("decision", errors={"reason": [MISSING]})
    order = load(session, actor, appeal.work_order_id, lock=True)
    ensure_changeable(session, order)
    session.refresh(order, ["flags"])
    now = utcnow()
    before_appeal = audit.snapshot(appeal)
    before_order = audit.snapshot(order)
    appeal.decided_by, appeal.decided_at, appeal.decision_reason = actor.user_id, now, reason
    if decision == "uphold":
        appeal.status = AppealStatus.upheld
        order.appeal_state = AppealState.upheld
        resolution = f"appeal {appeal.id} upheld: {reason}"
        for flag in open_blocking_flags(order):
            override_flag(session, actor, flag, resolution, order.provider_id, now)
        if order.status in APPEALABLE:
            order.status = WorkOrderStatus.verified
            order.decided_by = order.decided_at = order.decision_reason = None
    else:
        appeal.status = AppealStatus.denied
        order.appeal_state = AppealState.denied
    session.flush()
    old, new = audit.changed(before_appeal, audit.snapshot(appeal))
    audit.record(
        session,
        actor,
        f"appeal.{appeal.status.value}",
        appeal,
        before=old,
        after=new,
        reason=reason,
    )
    old, new = audit.changed(before_order, audit.snapshot(order))
    audit.record(
        session,
        actor,
        f"work_order.appeal_{appeal.status.value}",
        order,
        before=old,
        after=new,
        reason=reason,
    )
    return appeal


def upload_evidence(session: Session, actor: Actor, stream: Any) -> Photo:
    """Store a photo or a photographed/scanned document (JPEG or PNG) to cite in an appeal."""
    actor.require(Role.provider_admin)
    data = stream.read(photos.MAX_PHOTO_BYTES + 1)
    facts = photos.inspect_photo(data)  # 413/415 for anything that is not a sane image
    found = find_photo(session, facts.sha256)
    if found is not None and found.provider_id != actor.provider_id:
        # The same bytes already belong to another provider: that is for the rules to see,
        # not for this upload to reveal.
        raise error_codes.EVIDENCE_NOT_ORIGINAL()
    if found is None:
        photos.photo_store().put(facts.sha256, data)
    return photo_row(session, actor, facts, actor.provider_id, "appeal.evidence")


def list_appeals(
    session: Session, actor: Actor, filters: Mapping[str, Any], page: int, page_size: int
) -> tuple[list[Appeal], int]:
    """Appeals the actor may see: finance's queue of open ones, a provider's own."""
    actor.require(Role.provider_admin, Role.dispatcher, Role.finance, Role.admin)
    stmt = scoped(select(Appeal), Appeal, actor)
    for name in ("status", "work_order_id", "provider_id"):
        if filters.get(name) is not None:
            stmt = stmt.where(getattr(Appeal, name) == filters[name])
    return page_of(session, stmt.order_by(Appeal.submitted_at, Appeal.id), page, page_size)


def get_appeal(session: Session, actor: Actor, appeal_id: int) -> Appeal:
    actor.require(Role.provider_admin, Role.dispatcher, Role.finance, Role.admin)
    return get_scoped(session, Appeal, appeal_id, actor)  # APPEAL_NOT_FOUND
