"""Builds the list/create/get/update/delete routes of a plain noun from its ``Crud`` spec."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from marshmallow import Schema

from api.auth import current_actor, roles
from api.blueprint import Blueprint
from dispatch.db import Session
from dispatch.models import Role
from dispatch.services import crud

ListFn = Callable[[Any, Any, Any, int, int], tuple[list[Any], int]]
GetFn = Callable[[Any, Any, int], Any]


def paged(list_fn: ListFn, args: Any, pagination_parameters: Any) -> list[Any]:
    """Call a service's ``list_*(session, actor, filters, page, page_size)`` for one page."""
    rows, total = list_fn(
        Session(),
        current_actor(),
        args,
        pagination_parameters.page,
        pagination_parameters.page_size,
    )
    pagination_parameters.item_count = total
    return rows


def read_routes(
    blp: Blueprint,
    readers: Sequence[Role],
    query: type[Schema],
    schema: type[Schema],
    list_fn: ListFn,
    get_fn: GetFn,
    *,
    listing: str,
    one: str,
) -> None:
    """Register ``GET ""`` (a filtered page of ``list_fn(session, actor, filters, page,
    size)``) and ``GET "/<ident>"`` (``get_fn(session, actor, ident)``) for ``readers``;
    ``listing`` and ``one`` are their summaries in the OpenAPI document."""

    @blp.route("", endpoint="list_", strict_slashes=False, methods=["GET"])
    @roles(*readers)
    @blp.arguments(query, location="query")
    @blp.response(200, schema(many=True))
    @blp.paginate()
    @blp.doc(summary=listing)
    def list_(args: dict[str, Any], pagination_parameters: Any) -> Any:
        return paged(list_fn, args, pagination_parameters)

    @blp.route("/<int:ident>", endpoint="get", methods=["GET"])
    @roles(*readers)
    @blp.response(200, schema)
    @blp.doc(summary=one)
    def get(ident: int) -> Any:
        return get_fn(Session(), current_actor(), ident)


def crud_routes(
    blp: Blueprint,
    spec: crud.Crud[Any],
    schema: type[Schema],
    query: type[Schema],
    noun: str,
    *,
    update_schema: Schema | None = None,
) -> None:
    """Register the five routes of one collection on ``blp``."""
    plural = f"{noun}s"

    @blp.route("", endpoint="list", strict_slashes=False, methods=["GET"])
    @roles(*spec.read_roles)
    @blp.arguments(query, location="query")
    @blp.response(200, schema(many=True))
    @blp.paginate()
    @blp.doc(summary=f"List {plural}", description=f"The {plural} you may see, filtered and paged.")
    def list_(args: dict[str, Any], pagination_parameters: Any) -> Any:
        return paged(lister(spec), args, pagination_parameters)

    @blp.route("", endpoint="create", strict_slashes=False, methods=["POST"])
    @roles(*spec.write_roles)
    @blp.arguments(schema)
    @blp.response(201, schema)
    @blp.doc(summary=f"Create a {noun}")
    def create(data: dict[str, Any]) -> Any:
        return crud.create_row(Session(), current_actor(), spec, data)

    @blp.route("/<int:ident>", endpoint="get", methods=["GET"])
    @roles(*spec.read_roles)
    @blp.response(200, schema)
    @blp.doc(summary=f"Get one {noun}", description="Another provider's id answers 404.")
    def get(ident: int) -> Any:
        return crud.get_row(Session(), current_actor(), spec, ident)

    @blp.route("/<int:ident>", endpoint="update", methods=["PATCH"])
    @roles(*spec.write_roles)
    @blp.arguments(update_schema or schema(partial=True))
    @blp.response(200, schema)
    @blp.doc(summary=f"Change a {noun}", description="Only the fields sent change.")
    def update(data: dict[str, Any], ident: int) -> Any:
        return crud.update_row(Session(), current_actor(), spec, ident, data)

    @blp.route("/<int:ident>", endpoint="delete", methods=["DELETE"])
    @roles(*spec.write_roles)
    @blp.response(204)
    @blp.doc(
        summary=f"Remove a {noun}",
        description="Records with history are deactivated (active=false), not deleted."
        if spec.soft_delete
        else "Deletes the record.",
    )
    def delete(ident: int) -> None:
        crud.delete_row(Session(), current_actor(), spec, ident)


def lister(spec: crud.Crud[Any]) -> ListFn:
    """The list service of a plain noun, in the shape ``paged`` calls."""

    def list_fn(session: Any, actor: Any, args: Any, page: int, size: int) -> Any:
        return crud.list_rows(session, actor, spec, args, page, size)

    return list_fn


def child_routes(
    blp: Blueprint, spec: crud.Child[Any], schema: type[Schema], segment: str, noun: str
) -> None:
    """Register list/create/update/delete of rows under ``/<parent>/<segment>``."""
    base = f"/<int:parent_id>/{segment}"

    @blp.route(base, endpoint=f"{segment}_list", methods=["GET"])
    @roles(*spec.parent.read_roles)
    @blp.response(200, schema(many=True))
    @blp.doc(summary=f"List a record's {noun}s")
    def list_(parent_id: int) -> Any:
        return crud.list_children(Session(), current_actor(), spec, parent_id)

    @blp.route(base, endpoint=f"{segment}_create", methods=["POST"])
    @roles(*spec.parent.write_roles)
    @blp.arguments(schema)
    @blp.response(201, schema)
    @blp.doc(summary=f"Add a {noun}")
    def create(data: dict[str, Any], parent_id: int) -> Any:
        return crud.create_child(Session(), current_actor(), spec, parent_id, data)

    @blp.route(f"{base}/<int:ident>", endpoint=f"{segment}_update", methods=["PATCH"])
    @roles(*spec.parent.write_roles)
    @blp.arguments(schema(partial=True))
    @blp.response(200, schema)
    @blp.doc(summary=f"Change a {noun}")
    def update(data: dict[str, Any], parent_id: int, ident: int) -> Any:
        return crud.update_child(Session(), current_actor(), spec, parent_id, ident, data)

    @blp.route(f"{base}/<int:ident>", endpoint=f"{segment}_delete", methods=["DELETE"])
    @roles(*spec.parent.write_roles)
    @blp.response(204)
    @blp.doc(summary=f"Remove a {noun}")
    def delete(parent_id: int, ident: int) -> None:
        crud.delete_child(Session(), current_actor(), spec, parent_id, ident)
