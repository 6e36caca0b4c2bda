"""Each elder's allowance account: the monthly statement, grants, and the ledger's month close."""

from __future__ import annotations

from typing import Any

from api.auth import current_actor, roles
from api.blueprint import Blueprint
from api.crud import paged
from api.resources.allowances.schemas import (
    AccountUpdateSchema,
    GrantResultSchema,
    GrantSchema,
    MonthSchema,
    StatementQuerySchema,
    StatementSchema,
)
from dispatch.db import Session
from dispatch.services import allowances, ledger

blp = Blueprint(
    "allowances",
    __name__,
    url_prefix="/api/v1",
    description="Allowance accounts (电子津贴): statements, monthly grants, month close.",
)


@blp.route("/clients/<int:ident>/allowance", methods=["GET"])
@roles(*allowances.READERS)
@blp.arguments(StatementQuerySchema, location="query")
@blp.response(200, StatementSchema)
def statement(args: dict[str, Any], ident: int) -> Any:
    """An elder's allowance statement for a month: opening, grants, debits, co-payments, closing"""
    return allowances.statement(Session(), current_actor(), ident, args.get("month"))


@blp.route("/clients/<int:ident>/allowance", methods=["PATCH"])
@roles(*allowances.KEEPERS)
@blp.arguments(AccountUpdateSchema)
@blp.response(200, StatementSchema)
def update(data: dict[str, Any], ident: int) -> Any:
    """Set the elder's hardship category (which hardship schemes pay them) and canteen card ids"""
    return allowances.update_account(Session(), current_actor(), ident, data)


@blp.route("/allowance-grants", methods=["POST"])
@roles(*ledger.GRANTERS)
@blp.arguments(GrantSchema)
@blp.response(201, GrantResultSchema)
def grant(data: dict[str, Any]) -> Any:
    """Grant a month's allowance to every elder a scheme pays; repeating it grants nothing more"""
    return allowances.grant(Session(), current_actor(), data["month"])


@blp.route("/allowance-months", methods=["GET"])
@roles(*allowances.READERS)
@blp.response(200, MonthSchema(many=True))
@blp.paginate()
def months(pagination_parameters: Any) -> Any:
    """Closed ledger months, newest first"""
    return paged(allowances.list_months, {}, pagination_parameters)


@blp.route("/allowance-months/<month>/close", methods=["POST"])
@roles(*ledger.CLOSERS)
@blp.response(200, MonthSchema)
def close(month: str) -> Any:
    """Close a past month: unspent grants past their carry-over expire, then nothing changes

    409 ALLOWANCE_MONTH_NOT_OVER for this month or later, ALLOWANCE_MONTH_CLOSED when closed,
    ALLOWANCE_EARLIER_MONTH_OPEN when an earlier month is still open.
    """
    return allowances.close(Session(), current_actor(), month)
