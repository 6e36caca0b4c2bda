"""The one Blueprint every resource uses: ids in paths and pages in lists bounded by construction.

- Path ids: ``<int:...>`` is ``IdConverter``, 1..2**31-1 (PostgreSQL's ``integer``); any other
  number cannot name a row and answers the coded 404 of a missing id before the view runs,
  on SQLite and PostgreSQL alike. The OpenAPI document states the range.
- Pages: ``page`` 1..MAX_PAGE and ``page_size`` 1..MAX_PAGE_SIZE, else a 422
  ``VALIDATION_ERROR`` naming the parameter; the OpenAPI document states both ranges.

``CareApi.register_blueprint`` refuses a blueprint of any other class, so a new resource
cannot forget either.
"""

from __future__ import annotations

import http
from collections.abc import Callable
from copy import deepcopy
from functools import wraps
from typing import Any

import flask_smorest
import marshmallow as ma
from flask import current_app, request
from flask_smorest.pagination import PaginationParameters
from flask_smorest.utils import unpack_tuple_response
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter, Map, ValidationError

from api.fields import MAX_INT

MAX_PAGE = 1_000_000
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 10


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: a positive 32-bit integer (a row id)."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int = 1, max: int = MAX_INT) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=False)

    def to_python(self, value: str) -> int:
        try:
            return super().to_python(value)  # type: ignore[no-any-return]
        except ValidationError:
            # Not "no such route" (werkzeug would then answer 405 when a rule of another
            # method matched the path first): the route exists, the row cannot.
            raise NotFound(f"No row has the id {value[:20]}.") from None


def id_parameter_schema(converter: IdConverter) -> dict[str, Any]:
    return {"type": "integer", "minimum": converter.min, "maximum": converter.max}


class PageSchema(ma.Schema):
    """``page`` and ``page_size`` of a list."""

    class Meta:
        unknown = ma.EXCLUDE

    page = ma.fields.Integer(
        load_default=1,
        validate=ma.validate.Range(min=1, max=MAX_PAGE),
        metadata={"description": f"Page number, 1..{MAX_PAGE}."},
    )
    page_size = ma.fields.Integer(
        load_default=DEFAULT_PAGE_SIZE,
        validate=ma.validate.Range(min=1, max=MAX_PAGE_SIZE),
        metadata={"description": f"Rows per page, 1..{MAX_PAGE_SIZE}."},
    )

    @ma.post_load
    def _parameters(self, data: dict[str, int], **_kwargs: Any) -> PaginationParameters:
        return PaginationParameters(**data)


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with bounded pages (the view pages itself, as ours all do)."""

    def paginate(  # type: ignore[override]
        self, pager: None = None, **_defaults: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        if pager is not None or _defaults:
            raise TypeError("pages are paged by the view and bounded here; pass no arguments")
        status = self.PAGINATION_ARGUMENTS_PARSER.DEFAULT_VALIDATION_STATUS

        def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
            @wraps(func)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                params = self.PAGINATION_ARGUMENTS_PARSER.parse(
                    PageSchema, request, location="query"
                )
                kwargs["pagination_parameters"] = params
                result, code, headers = unpack_tuple_response(
                    current_app.ensure_sync(func)(*args, **kwargs)
                )
                if params.item_count is None:
                    raise RuntimeError(f"item_count not set in {request.endpoint}")
                result, headers = self._set_pagination_metadata(params, result, headers)
                return result, code, headers

            wrapper._apidoc = deepcopy(getattr(wrapper, "_apidoc", {}))  # type: ignore[attr-defined]
            wrapper._apidoc["pagination"] = {  # type: ignore[attr-defined]
                "parameters": {"in": "query", "schema": PageSchema},
                "response": {status: http.HTTPStatus(status).name},
            }
            return wrapper

        return decorator
