"""Error codes: what any endpoint can answer: malformed requests, login, roles, a part that is down.

Part of the catalogue; ``dispatch.error_codes`` says how to add a code.
"""

from __future__ import annotations

from dispatch.errors import (
    BadRequest,
    Code,
    Conflict,
    Forbidden,
    InternalError,
    Invalid,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    PreconditionRequired,
    ServiceUnavailable,
    TooManyRequests,
    Unauthenticated,
    UnsupportedMedia,
)

# --- HTTP: what any endpoint can answer -------------------------------------------------------

BAD_REQUEST = Code("BAD_REQUEST", BadRequest, "The request is malformed.", "请求格式错误。")
MALFORMED_JSON = Code(
    "MALFORMED_JSON",
    BadRequest,
    "The body is not valid JSON.",
    "请求体不是有效的 JSON。",
    part=("The part '{part}' is not valid JSON.", "{part} 部分不是有效的 JSON。", Invalid),
)
UNAUTHENTICATED = Code(
    "UNAUTHENTICATED",
    Unauthenticated,
    "Log in first: a valid bearer token is required.",
    "请先登录：需要有效的访问令牌。",
    because=("Log in first: {reason}", "请先登录：需要有效的访问令牌。"),
    login=("Wrong username or password.", "用户名或密码错误。"),
)
TOKEN_EXPIRED = Code(
    "TOKEN_EXPIRED",
    Unauthenticated,
    "The token has expired; refresh it or log in again.",
    "令牌已过期，请刷新或重新登录。",
)
TOKEN_REVOKED = Code(
    "TOKEN_REVOKED",
    Unauthenticated,
    "This token is no longer valid; log in again.",
    "令牌已失效，请重新登录。",
)
FORBIDDEN = Code(
    "FORBIDDEN",
    Forbidden,
    "Your role may not do this.",
    "您的角色无权执行此操作。",
    needs=("This needs one of the roles {roles}.", "当前角色无权执行此操作。"),
    role=("Your role ({role}) may not do this.", "您的角色（{role}）无权执行此操作。"),
    read=("Your role ({role}) may not read these records.", "您的角色（{role}）无权查看这些记录。"),
    write=(
        "Your role ({role}) may not change these records.",
        "您的角色（{role}）无权修改这些记录。",
    ),
)
NOT_FOUND = Code(
    "NOT_FOUND",
    NotFound,
    "No such resource.",
    "找不到该资源。",
    child=("No record with id {id} here.", "此处找不到编号为 {id} 的记录。"),
    console_file=("No console file '{name}'.", "找不到控制台文件 {name}。"),
)
METHOD_NOT_ALLOWED = Code(
    "METHOD_NOT_ALLOWED",
    MethodNotAllowed,
    "This method is not allowed here.",
    "不允许使用该请求方法。",
)
CONFLICT = Code(
    "CONFLICT",
    Conflict,
    "The request conflicts with the current state.",
    "请求与当前状态冲突。",
    duplicate=(
        "This clashes with a record that already exists (a duplicate code or key).",
        "与已有记录冲突（编码或键重复）。",
    ),
)
PAYLOAD_TOO_LARGE = Code(
    "PAYLOAD_TOO_LARGE", PayloadTooLarge, "The request body is too large.", "请求内容过大。"
)
UNSUPPORTED_MEDIA = Code(
    "UNSUPPORTED_MEDIA", UnsupportedMedia, "The content type is not accepted.", "不支持该内容类型。"
)
VALIDATION_ERROR = Code(
    "VALIDATION_ERROR",
    Invalid,
    "Some fields are wrong; see errors.",
    "部分字段有误，详见 errors。",
    event=("Some fields of the event are wrong; see errors.", "记录的部分字段有误，详见 errors。"),
    not_object=("The part '{part}' must be a JSON object.", "{part} 部分必须是 JSON 对象。"),
    not_list=(
        "The part '{part}' must be a JSON list of events.",
        "{part} 部分必须是记录的 JSON 列表。",
    ),
)
INVALID = Code("INVALID", Invalid, "The input is not valid.", "输入无效。")
VALUE_OUT_OF_RANGE = Code(
    "VALUE_OUT_OF_RANGE",
    Invalid,
    "A value is out of range or not storable; check numbers, ids and text.",
    "某个值超出范围或无法保存，请检查数字、编号和文本。",
)
PRECONDITION_REQUIRED = Code(
    "PRECONDITION_REQUIRED",
    PreconditionRequired,
    "A precondition header is required.",
    "需要前置条件请求头。",
)
TOO_MANY_REQUESTS = Code(
    "TOO_MANY_REQUESTS", TooManyRequests, "Too many requests; slow down.", "请求过于频繁。"
)
INTERNAL_ERROR = Code(
    "INTERNAL_ERROR",
    InternalError,
    "Something went wrong on our side; it has been logged.",
    "服务器内部错误，已记录。",
)

# --- Reliability (#14): a part the request needs is down; the client retries after a while ---

SERVICE_UNAVAILABLE = Code(
    "SERVICE_UNAVAILABLE",
    ServiceUnavailable,
    "A service is unavailable; try again later.",
    "服务暂不可用，请稍后再试。",
)
DATABASE_UNAVAILABLE = Code(
    "DATABASE_UNAVAILABLE",
    ServiceUnavailable,
    "The database cannot be reached; nothing was stored. Try again shortly.",
    "数据库暂时无法连接，本次请求未保存任何内容，请稍后重试。",
    retry_after_s=5,
)
QUEUE_UNAVAILABLE = Code(
    "QUEUE_UNAVAILABLE",
    ServiceUnavailable,
    "The job queue cannot be reached; nothing was stored. Try again shortly.",
    "任务队列暂时无法连接，本次请求未保存任何内容，请稍后重试。",
    retry_after_s=10,
)
PHOTO_STORE_UNAVAILABLE = Code(
    "PHOTO_STORE_UNAVAILABLE",
    ServiceUnavailable,
    "The photo could not be stored (storage full or read-only); nothing was stored.",
    "照片存储不可用（空间已满或只读），本次请求未保存任何内容，请稍后重试。",
    retry_after_s=30,
)
TOO_MANY_LOGIN_ATTEMPTS = Code(
    "TOO_MANY_LOGIN_ATTEMPTS",
    TooManyRequests,
    "Too many failed logins; try again in {wait} s.",
    "登录失败次数过多，请在 {wait} 秒后重试。",
    retry_after_s=60,
)
