"""Complaints (投诉): a family member (or staff on an elder's behalf) files one, about a visit or
in general; the provider answers it (``open → answered → closed``). Every step is audited."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from dispatch import audit, error_codes
from dispatch.db import utcnow
from dispatch.models import Complaint, ComplaintStatus, Role, Visit
from dispatch.services import family
from dispatch.services.pages import filtered, page_of
from dispatch.tenancy import Actor, get_scoped

FILERS = (Role.family, Role.dispatcher, Role.provider_admin)
READERS = (Role.family, Role.dispatcher, Role.provider_admin, Role.admin, Role.finance)
ANSWERERS = (Role.dispatcher, Role.provider_admin, Role.admin)
FILTERS = {
    "status": lambda v: Complaint.status == v,
    "client_id": lambda v: Complaint.client_id == v,
    "provider_id": lambda v: Complaint.provider_id == v,
}


def file(session: Session, actor: Actor, data: Mapping[str, Any]) -> Complaint:
    """A new open complaint about an elder's care, optionally about one of their visits."""
    actor.require(*FILERS)
    client = family.client_for(session, actor, data["client_id"])
    visit_id = data.get("visit_id")
    if visit_id is not None:
        visit = session.get(Visit, visit_id)
        if visit is None or visit.client_id != client.id:
            raise error_codes.REFERENCE_NOT_FOUND("client_visit", id=visit_id, field="visit_id")
    row = Complaint(
        provider_id=client.provider_id,
        client_id=client.id,
        visit_id=visit_id,
        user_id=actor.user_id,
        text=data["text"],
        status=ComplaintStatus.open,
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "create", row, after=audit.snapshot(row))
    return row


def _visible(session: Session, actor: Actor) -> Any:
    actor.require(*READERS)
    # A family member sees complaints about the elders linked to them.
    return family.visible(session, actor, Complaint)


def list_complaints(
    session: Session, actor: Actor, filters: Mapping[str, Any], page: int, page_size: int
) -> tuple[list[Complaint], int]:
    stmt = filtered(_visible(session, actor), filters, FILTERS)
    return page_of(
        session, stmt.order_by(Complaint.created_at.desc(), Complaint.id), page, page_size
    )


def get_complaint(session: Session, actor: Actor, complaint_id: int) -> Complaint:
    if actor.role == Role.family:
        row = session.scalars(
            _visible(session, actor).where(Complaint.id == complaint_id)
        ).one_or_none()
        if row is None:
            raise error_codes.COMPLAINT_NOT_FOUND(id=complaint_id)
        return row
    actor.require(*READERS)
    return get_scoped(session, Complaint, complaint_id, actor)


def answer(session: Session, actor: Actor, complaint_id: int, data: Mapping[str, Any]) -> Complaint:
    """The provider answers (``answered``, with the answer) or closes the complaint."""
    actor.require(*ANSWERERS)
    row = get_scoped(session, Complaint, complaint_id, actor)
    if row.status == ComplaintStatus.closed:
        raise error_codes.COMPLAINT_CLOSED(id=row.id)
    status = ComplaintStatus(data.get("status") or ComplaintStatus.answered)
    text = data.get("answer")
    if status == ComplaintStatus.open:
        raise error_codes.COMPLAINT_STATUS(field="status")
    if status == ComplaintStatus.answered and not (text or row.answer):
        raise error_codes.COMPLAINT_NEEDS_ANSWER(field="answer")
    before = audit.snapshot(row)
    now = utcnow()
    if text:
        row.answer = text
        row.answered_by = actor.user_id
        row.answered_at = now
    row.status = status
    if status == ComplaintStatus.closed:
        row.closed_at = now
    session.flush()
    old, new = audit.changed(before, audit.snapshot(row))
    audit.record(session, actor, "update", row, before=old, after=new)
    return row
