"""Validation of work orders (placeholder: the rules engine replaces this module)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session


def validate_orders(session: Session, order_ids: Iterable[int]) -> None:
    """Run every rule on the given work orders and set each to ``flagged`` or ``verified``."""
    del session, order_ids
