"""The family view (a ``family`` user's elders, visits, ratings, notifications) and the links
a provider keeps between family users and elders."""

from __future__ import annotations

from typing import Any

from api.auth import current_actor, roles
from api.blueprint import Blueprint
from api.crud import paged
from api.resources.family.schemas import (
    FamilyVisitSchema,
    LinkCreateSchema,
    LinkSchema,
    MyClientSchema,
    NotificationQuerySchema,
    NotificationSchema,
    RatingCreateSchema,
    RatingSchema,
    SpanQuerySchema,
)
from dispatch.db import Session
from dispatch.models import Role
from dispatch.services import family, notifications

blp = Blueprint(
    "family",
    __name__,
    url_prefix="/api/v1",
    description="Family members: their linked elders' visits, ratings and notifications; the "
    "links a provider keeps (with the elder's consents).",
)


@blp.route("/me/clients", methods=["GET"])
@roles(Role.family)
@blp.response(200, MyClientSchema(many=True))
def my_clients() -> Any:
    """The elders linked to me, with the consents of each link"""
    return family.my_clients(Session(), current_actor())


@blp.route("/me/clients/<int:ident>/visits", methods=["GET"])
@roles(Role.family)
@blp.arguments(SpanQuerySchema, location="query")
@blp.response(200, FamilyVisitSchema(many=True))
def client_visits(args: dict[str, Any], ident: int) -> Any:
    """A linked elder's visits: planned and done, caregiver, check-in/out, photos if consented

    Another elder's id answers 404, as a missing one.
    """
    return family.client_visits(Session(), current_actor(), ident, args)


@blp.route("/me/notifications", methods=["GET"])
@roles(Role.family)
@blp.arguments(NotificationQuerySchema, location="query")
@blp.response(200, NotificationSchema(many=True))
@blp.paginate()
def my_notifications(args: dict[str, Any], pagination_parameters: Any) -> Any:
    """My notifications (check-in, check-out, calls, orders), newest first"""
    return paged(notifications.list_mine, args, pagination_parameters)


@blp.route("/visits/<int:ident>/rating", methods=["POST"])
@roles(Role.family)
@blp.arguments(RatingCreateSchema)
@blp.response(201, RatingSchema)
def rate(data: dict[str, Any], ident: int) -> Any:
    """Rate a completed visit of a linked elder, 1-5 stars, once

    409 ALREADY_RATED the second time; 409 VISIT_NOT_DONE before the caregiver checked out.
    """
    return family.rate(Session(), current_actor(), ident, data)


@blp.route("/clients/<int:ident>/family", methods=["POST"])
@roles(*family.LINK_WRITE)
@blp.arguments(LinkCreateSchema)
@blp.response(201, LinkSchema)
def link(data: dict[str, Any], ident: int) -> Any:
    """Link a family user to this elder, with the elder's consents"""
    return family.link(Session(), current_actor(), ident, data)


@blp.route("/clients/<int:ident>/family", methods=["GET"])
@roles(*family.LINK_READ)
@blp.response(200, LinkSchema(many=True))
def links(ident: int) -> Any:
    """The family members linked to this elder"""
    return family.links_of(Session(), current_actor(), ident)


@blp.route("/clients/<int:ident>/family/<int:user_id>", methods=["DELETE"])
@roles(*family.LINK_WRITE)
@blp.response(204)
def unlink(ident: int, user_id: int) -> None:
    """Unlink a family member from this elder (they no longer see the elder)"""
    family.unlink(Session(), current_actor(), ident, user_id)
