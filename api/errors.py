"""The one error mapper: domain errors and HTTP errors become ``{code, message, errors}``."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import (
    DataError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from dispatch import error_codes
from dispatch import errors as domain
from dispatch.errors import Code

log = logging.getLogger(__name__)

# The database cannot be reached (down, restarting, network, pool exhausted): retry later.
UNREACHABLE_DB = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)

# The catalogue's entry for an error that Flask, webargs and flask-smorest raise themselves.
HTTP_ERRORS: dict[int, Code] = {
    400: error_codes.BAD_REQUEST,
    401: error_codes.UNAUTHENTICATED,
    403: error_codes.FORBIDDEN,
    404: error_codes.NOT_FOUND,
    405: error_codes.METHOD_NOT_ALLOWED,
    409: error_codes.CONFLICT,
    413: error_codes.PAYLOAD_TOO_LARGE,
    415: error_codes.UNSUPPORTED_MEDIA,
    422: error_codes.VALIDATION_ERROR,
    428: error_codes.PRECONDITION_REQUIRED,
    429: error_codes.TOO_MANY_REQUESTS,
    500: error_codes.INTERNAL_ERROR,
    503: error_codes.SERVICE_UNAVAILABLE,
}


def wants_chinese() -> bool:
    best = request.accept_languages.best_match(["en", "zh", "zh-CN"], default="en")
    return bool(best and best.startswith("zh"))


def error_response(
    status: int,
    code: str,
    message: str,
    message_zh: str,
    errors: Any = None,
    retry_after_s: int | None = None,
) -> tuple[Response, int]:
    body: dict[str, Any] = {"code": code, "message": message_zh if wants_chinese() else message}
    if errors:
        # Always an object: what is not about one field is about the whole body (marshmallow's
        # "_schema").
        body["errors"] = errors if isinstance(errors, dict) else {"_schema": errors}
    response = jsonify(body)
    if retry_after_s is not None:
        response.headers["Retry-After"] = str(int(retry_after_s))
    return response, status


def status_of(exc: domain.DomainError) -> int:
    return exc.status


def _webargs_errors(exc: HTTPException) -> Any:
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    if not messages:
        return data.get("errors")
    # webargs nests by location ({"json": {...}}); callers care about the fields.
    if isinstance(messages, dict) and len(messages) == 1:
        (only,) = messages.values()
        return only
    return messages


def handle_http(exc: HTTPException) -> tuple[Response, int]:
    status = exc.code or 500
    errors = _webargs_errors(exc)
    description = getattr(exc, "description", None)
    entry = HTTP_ERRORS.get(status)
    if status == 400 and "JSON" in f"{description} {errors}":
        entry = error_codes.MALFORMED_JSON
    if entry is None:  # a status no view answers on purpose; werkzeug's own words
        return error_response(status, f"HTTP_{status}", exc.name, exc.name, errors)
    return error_response(status, entry.code, entry.en, entry.zh, errors)


def handle_domain(exc: domain.DomainError) -> tuple[Response, int]:
    return error_response(
        status_of(exc),
        exc.code,
        exc.message,
        exc.message_zh,
        exc.errors,
        exc.retry_after_s,
    )


def handle_db_unavailable(exc: SQLAlchemyError) -> tuple[Response, int]:
    # The driver's text may hold SQL and parameters: logged, never sent.
    log.warning("database unavailable on %s %s: %s", request.method, request.path, exc)
    return handle_domain(error_codes.DATABASE_UNAVAILABLE())


def handle_database_error(exc: SQLAlchemyError) -> tuple[Response, int]:
    """The answer to a database error raised in a view or at the request's commit."""
    if isinstance(exc, IntegrityError):
        return handle_integrity(exc)
    if isinstance(exc, DataError):
        return handle_data_error(exc)
    if isinstance(exc, UNREACHABLE_DB) or getattr(exc, "connection_invalidated", False):
        return handle_db_unavailable(exc)
    return handle_unexpected(exc)


def handle_integrity(exc: IntegrityError) -> tuple[Response, int]:
    log.info("integrity error mapped to 409: %s", exc.orig)
    return handle_domain(error_codes.CONFLICT("duplicate"))


def handle_data_error(exc: DataError) -> tuple[Response, int]:
    # The schemas bound what they can; this catches a value the database still refuses
    # (an id beyond 32 bits in a URL, a number too large for its column).
    log.info("data error mapped to 422: %s", exc.orig)
    return handle_domain(error_codes.VALUE_OUT_OF_RANGE())


def handle_queue_unavailable(exc: RedisError) -> tuple[Response, int]:
    log.warning("job queue unavailable on %s %s: %s", request.method, request.path, exc)
    return handle_domain(error_codes.QUEUE_UNAVAILABLE())


def handle_unexpected(exc: Exception) -> tuple[Response, int]:
    if isinstance(exc, HTTPException):
        return handle_http(exc)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return handle_domain(error_codes.INTERNAL_ERROR())


def register(app: Flask) -> None:
    app.register_error_handler(domain.DomainError, handle_domain)
    app.register_error_handler(IntegrityError, handle_integrity)
    app.register_error_handler(DataError, handle_data_error)
    for exc_type in UNREACHABLE_DB:
        app.register_error_handler(exc_type, handle_db_unavailable)
    for queue_exc in (RedisConnectionError, RedisTimeoutError):
        app.register_error_handler(queue_exc, handle_queue_unavailable)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(Exception, handle_unexpected)
