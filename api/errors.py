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

from dispatch import errors as domain

log = logging.getLogger(__name__)

STATUS_BY_ERROR: list[tuple[type[domain.DomainError], int]] = [
    (domain.NotFound, 404),
    (domain.Conflict, 409),
    (domain.Forbidden, 403),
    (domain.Unauthenticated, 401),
    (domain.PayloadTooLarge, 413),
    (domain.UnsupportedMedia, 415),
    (domain.Invalid, 422),
    (domain.ServiceUnavailable, 503),
    (domain.TooManyAttempts, 429),
]
# The database cannot be reached (down, restarting, network, pool exhausted): retry later.
UNREACHABLE_DB = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)

# (code, English, Chinese) for errors that Flask, webargs and flask-smorest raise themselves.
HTTP_ERRORS: dict[int, tuple[str, str, str]] = {
    400: ("BAD_REQUEST", "The request is malformed.", "请求格式错误。"),
    401: (
        "UNAUTHENTICATED",
        "Log in first: a valid bearer token is required.",
        "请先登录：需要有效的访问令牌。",
    ),
    403: ("FORBIDDEN", "Your role may not do this.", "您的角色无权执行此操作。"),
    404: ("NOT_FOUND", "No such resource.", "找不到该资源。"),
    405: ("METHOD_NOT_ALLOWED", "This method is not allowed here.", "不允许使用该请求方法。"),
    409: ("CONFLICT", "The request conflicts with the current state.", "请求与当前状态冲突。"),
    413: ("PAYLOAD_TOO_LARGE", "The request body is too large.", "请求内容过大。"),
    415: ("UNSUPPORTED_MEDIA", "The content type is not accepted.", "不支持该内容类型。"),
    422: ("VALIDATION_ERROR", "Some fields are wrong; see errors.", "部分字段有误，详见 errors。"),
    428: ("PRECONDITION_REQUIRED", "A precondition header is required.", "需要前置条件请求头。"),
    429: ("TOO_MANY_REQUESTS", "Too many requests; slow down.", "请求过于频繁。"),
    500: (
        "INTERNAL_ERROR",
        "Something went wrong on our side; it has been logged.",
        "服务器内部错误，已记录。",
    ),
    503: (
        "SERVICE_UNAVAILABLE",
        "A service is unavailable; try again later.",
        "服务暂不可用，请稍后再试。",
    ),
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
    for cls, status in STATUS_BY_ERROR:
        if isinstance(exc, cls):
            return status
    return 400


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
    code, en, zh = HTTP_ERRORS.get(status, (f"HTTP_{status}", exc.name, exc.name))
    errors = _webargs_errors(exc)
    description = getattr(exc, "description", None)
    if status == 400 and "JSON" in f"{description} {errors}":
        code, en, zh = "MALFORMED_JSON", "The body is not valid JSON.", "请求体不是有效的 JSON。"
    return error_response(status, code, en, zh, errors)


def handle_domain(exc: domain.DomainError) -> tuple[Response, int]:
    return error_response(
        status_of(exc),
        exc.code,
        exc.message,
        exc.message_zh,
        exc.errors,
        getattr(exc, "retry_after_s", None),
    )


def handle_db_unavailable(exc: SQLAlchemyError) -> tuple[Response, int]:
    # The driver's text may hold SQL and parameters: logged, never sent.
    log.warning("database unavailable on %s %s: %s", request.method, request.path, exc)
    return handle_domain(domain.DatabaseUnavailable())


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
    return error_response(
        409,
        "CONFLICT",
        "This clashes with a record that already exists (a duplicate code or key).",
        "与已有记录冲突（编码或键重复）。",
    )


def handle_data_error(exc: DataError) -> tuple[Response, int]:
    # The schemas bound what they can; this catches a value the database still refuses
    # (an id beyond 32 bits in a URL, a number too large for its column).
    log.info("data error mapped to 422: %s", exc.orig)
    return error_response(
        422,
        "VALUE_OUT_OF_RANGE",
        "A value is out of range or not storable; check numbers, ids and text.",
        "某个值超出范围或无法保存，请检查数字、编号和文本。",
    )


def handle_queue_unavailable(exc: RedisError) -> tuple[Response, int]:
    log.warning("job queue unavailable on %s %s: %s", request.method, request.path, exc)
    return handle_domain(domain.QueueUnavailable())


def handle_unexpected(exc: Exception) -> tuple[Response, int]:
    if isinstance(exc, HTTPException):
        return handle_http(exc)
    log.exception("unhandled error on %s %s", request.method, request.path)
    code, en, zh = HTTP_ERRORS[500]
    return error_response(500, code, en, zh)


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
