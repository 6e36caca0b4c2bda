"""Supervision (民政局): figures by street and provider, five-colour contacts, call-backs."""

from __future__ import annotations

from typing import Any

from flask import Response

from api.auth import current_actor, roles
from api.blueprint import Blueprint
from api.crud import paged
from api.resources.supervision.schemas import (
    CallbackAnswerSchema,
    CallbackQuerySchema,
    CallbackSchema,
    ComplianceQuerySchema,
    ComplianceSchema,
    ContactSchema,
    ContactsQuerySchema,
    FiguresQuerySchema,
    FiguresSchema,
    OverdueSchema,
    SampleResultSchema,
    SampleSchema,
    ScorecardQuerySchema,
    ScorecardSchema,
)
from dispatch import config
from dispatch.db import Session, utcnow
from dispatch.services import callbacks, figures, five_colour

blp = Blueprint(
    "supervision",
    __name__,
    url_prefix="/api/v1",
    description="Supervision by the civil-affairs bureau (民政局): figures by street and "
    "provider, five-colour contacts, call-backs (回访), provider scorecards.",
)


def _download(content: bytes, mimetype: str, name: str) -> Response:
    return Response(
        content,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _today() -> Any:
    return utcnow().astimezone(config.zone()).date()


@blp.route("/supervision/figures", methods=["GET"])
@roles(*figures.READERS)
@blp.arguments(FiguresQuerySchema, location="query")
@blp.response(200, FiguresSchema)
@blp.alt_response(
    200,
    description="format=xlsx: the same rows as a spreadsheet",
    content_type=figures.XLSX,
    success=True,
)
def get_figures(args: dict[str, Any]) -> Any:
    """Figures by street or provider for a period, with totals equal to the funnel's

    A supervisor sees its area only; finance and admin every provider.
    """
    data = figures.figures(
        Session(),
        current_actor(),
        args["from_"],
        args["to"],
        args["group_by"],
        args.get("provider_id"),
    )
    if args["format"] == "xlsx":
        return _download(*figures.figures_xlsx(data))
    return data


@blp.route("/supervision/providers/<int:provider_id>/scorecard", methods=["GET"])
@roles(*figures.READERS)
@blp.arguments(ScorecardQuerySchema, location="query")
@blp.response(200, ScorecardSchema)
@blp.alt_response(
    200,
    description="format=xlsx: the scorecard as a spreadsheet",
    content_type=figures.XLSX,
    success=True,
)
def scorecard(args: dict[str, Any], provider_id: int) -> Any:
    """A provider's figures beside the median of the area's providers"""
    data = figures.scorecard(Session(), current_actor(), provider_id, args["from_"], args["to"])
    if args["format"] == "xlsx":
        return _download(*figures.scorecard_xlsx(data))
    return data


@blp.route("/supervision/contacts", methods=["GET"])
@roles(*five_colour.READERS)
@blp.arguments(ContactsQuerySchema, location="query")
@blp.response(200, OverdueSchema(many=True))
@blp.paginate()
def overdue(args: dict[str, Any], pagination_parameters: Any) -> Any:
    """Elders whose five-colour contact is overdue, most overdue first"""
    rows, total = five_colour.overdue(
        Session(),
        current_actor(),
        args.get("as_of") or _today(),
        street=args.get("street"),
        provider_id=args.get("provider_id"),
        page=pagination_parameters.page,
        page_size=pagination_parameters.page_size,
    )
    pagination_parameters.item_count = total
    return rows


@blp.route("/supervision/contacts/compliance", methods=["GET"])
@roles(*five_colour.READERS)
@blp.arguments(ComplianceQuerySchema, location="query")
@blp.response(200, ComplianceSchema(many=True))
def compliance(args: dict[str, Any]) -> Any:
    """The share of five-colour elders in time, per street"""
    return five_colour.compliance(Session(), current_actor(), args.get("as_of") or _today())


@blp.route("/clients/<int:client_id>/contacts", methods=["POST"])
@roles(*five_colour.RECORDERS)
@blp.arguments(ContactSchema)
@blp.response(201, ContactSchema)
def record_contact(data: dict[str, Any], client_id: int) -> Any:
    """Record a phone call, neighbour enquiry, pairing or home visit with an elder"""
    return five_colour.record_contact(Session(), current_actor(), client_id, data)


@blp.route("/clients/<int:client_id>/contacts", methods=["GET"])
@roles(*five_colour.READERS)
@blp.response(200, ContactSchema(many=True))
@blp.paginate()
def list_contacts(client_id: int, pagination_parameters: Any) -> Any:
    """An elder's recorded contacts, newest first"""
    rows, total = five_colour.contacts_of(
        Session(),
        current_actor(),
        client_id,
        pagination_parameters.page,
        pagination_parameters.page_size,
    )
    pagination_parameters.item_count = total
    return rows


@blp.route("/callbacks:sample", methods=["POST"])
@roles(*callbacks.CALLERS)
@blp.arguments(SampleSchema)
@blp.response(201, SampleResultSchema)
def sample(data: dict[str, Any]) -> Any:
    """Draw a seeded call-back sample of the period's orders, stratified per provider"""
    return callbacks.sample(
        Session(),
        current_actor(),
        data["from_"],
        data["to"],
        data["seed"],
        count=data.get("count"),
        share=data.get("share"),
        provider_id=data.get("provider_id"),
    )


@blp.route("/callbacks", methods=["GET"])
@roles(*callbacks.READERS)
@blp.arguments(CallbackQuerySchema, location="query")
@blp.response(200, CallbackSchema(many=True))
@blp.paginate()
def list_callbacks(args: dict[str, Any], pagination_parameters: Any) -> Any:
    """Call-backs with their work order and the elder's phone"""
    return paged(callbacks.list_callbacks, args, pagination_parameters)


@blp.route("/callbacks/<int:ident>", methods=["POST"])
@roles(*callbacks.CALLERS)
@blp.arguments(CallbackAnswerSchema)
@blp.response(200, CallbackSchema)
def answer(data: dict[str, Any], ident: int) -> Any:
    """Record the elder's answer; "no" opens CALLBACK_DENIED (block) on the order"""
    return callbacks.answer(Session(), current_actor(), ident, data)
