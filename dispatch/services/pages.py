"""Paging a ``select()``: the rows of one page and the total, counted through a subquery."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session


def page_of(
    session: Session, stmt: Select[Any], page: int, page_size: int
) -> tuple[list[Any], int]:
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = list(session.scalars(stmt.limit(page_size).offset((page - 1) * page_size)))
    return rows, total


def filtered(
    stmt: Select[Any], filters: Mapping[str, Any], known: Mapping[str, Callable[[Any], Any]]
) -> Select[Any]:
    """Add a WHERE clause for every given filter that ``known`` maps to a clause."""
    for name, value in filters.items():
        if value is not None and name in known:
            stmt = stmt.where(known[name](value))
    return stmt
