"""Emergency calls: a pendant's press or a dispatcher's phone call in; propose, dispatch, close."""

from __future__ import annotations

from typing import Any

from api.auth import current_actor, roles
from api.blueprint import Blueprint
from api.crud import paged
from api.device_auth import DEVICE_KEY_PARAMETER, current_device, device_or_roles
from api.resources.calls.schemas import (
    CallCloseSchema,
    CallCreateSchema,
    CallDispatchSchema,
    CallEscalateSchema,
    CallQuerySchema,
    CallSchema,
    DispatchAnswerSchema,
    KpiQuerySchema,
    KpiSchema,
)
from dispatch.db import Session
from dispatch.services import call_dispatch, calls

blp = Blueprint(
    "calls",
    __name__,
    url_prefix="/api/v1/calls",
    description="Emergency calls (一键呼叫): from a device's key, a family member or a "
    "dispatcher; proposed caregiver, dispatch, escalation, the response clock.",
)


@blp.route("", methods=["POST"], strict_slashes=False)
@device_or_roles(*calls.CALL_OPENERS)
@blp.doc(parameters=[DEVICE_KEY_PARAMETER])
@blp.arguments(CallCreateSchema)
@blp.response(201, CallSchema)
@blp.alt_response(200, schema=CallSchema, description="A retry, or a press joining an open call")
def open_call(data: dict[str, Any]) -> Any:
    """Raise a call: a device (X-Device-Key) for its elder, or a user for client_id

    Answers at once; urgent insertion's proposal follows in a job (see GET /calls). A retry of
    the same idempotency_key answers 200 with the same body; a new press while a call of the
    same elder and kind is handled joins it (200, signals + 1).
    """
    body, created = calls.open_call(Session(), current_actor(), data, current_device())
    return body, 201 if created else 200


@blp.route("", methods=["GET"], strict_slashes=False)
@roles(*calls.CALL_VIEW)
@blp.arguments(CallQuerySchema, location="query")
@blp.response(200, CallSchema(many=True))
@blp.paginate()
def list_(args: dict[str, Any], pagination_parameters: Any) -> Any:
    """Calls, undispatched first (oldest on top), with their clock and the elder's file

    A family member sees the calls of the elders linked to them (another elder's client_id:
    404 CLIENT_NOT_FOUND), without the call taker's working fields: proposal, no_proposal,
    proposed_at, call_to_proposal_s, device_id, the escalations' `by`, and the file's
    conditions and family contacts.
    """
    return paged(calls.list_calls, args, pagination_parameters)


@blp.route("/kpis", methods=["GET"])
@roles(*calls.CALL_READ)
@blp.arguments(KpiQuerySchema, location="query")
@blp.response(200, KpiSchema(many=True))
def kpis(args: dict[str, Any]) -> Any:
    """Call KPIs per provider and period: call-to-dispatch and call-to-arrival minutes"""
    return calls.kpis(Session(), current_actor(), args)


@blp.route("/<int:ident>", methods=["GET"])
@roles(*calls.CALL_VIEW)
@blp.response(200, CallSchema)
def get(ident: int) -> Any:
    """One call with its clock, proposal, escalations and the elder's file

    A family member: a call of a linked elder only (another's: 404), shown as in the list.
    """
    return calls.get_call(Session(), current_actor(), ident)


@blp.route("/<int:ident>/dispatch", methods=["POST"])
@roles(*call_dispatch.CALL_DISPATCHERS)
@blp.arguments(CallDispatchSchema)
@blp.response(200, DispatchAnswerSchema)
def dispatch(data: dict[str, Any], ident: int) -> Any:
    """Send a caregiver: the proposal, or the caregiver (and arrival) given

    The call's urgent visit goes into that caregiver's published route and app at once.
    409 CALL_NO_CAREGIVER when nobody can reach the elder and no arrival was given.
    """
    return call_dispatch.dispatch(Session(), current_actor(), ident, data)


@blp.route("/<int:ident>/escalate", methods=["POST"])
@roles(*call_dispatch.CALL_DISPATCHERS)
@blp.arguments(CallEscalateSchema)
@blp.response(200, CallSchema)
def escalate(data: dict[str, Any], ident: int) -> Any:
    """Hand the call on to 120, the community or the family, with a note"""
    call = call_dispatch.escalate(Session(), current_actor(), ident, data)
    return calls.get_call(Session(), current_actor(), call.id)


@blp.route("/<int:ident>/close", methods=["POST"])
@roles(*call_dispatch.CALL_DISPATCHERS)
@blp.arguments(CallCloseSchema)
@blp.response(200, CallSchema)
def close(data: dict[str, Any], ident: int) -> Any:
    """Close the call (its visit's check-out closes it too); an unstarted visit is cancelled"""
    call = call_dispatch.close(Session(), current_actor(), ident, data)
    return calls.get_call(Session(), current_actor(), call.id)
