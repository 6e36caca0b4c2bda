"""Domain errors with stable codes; api/errors.py alone maps them to HTTP statuses.

Every message exists in English and Simplified Chinese: ``message`` and ``message_zh``.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error a caller can act on."""

    code = "DOMAIN_ERROR"
    message = "The request could not be carried out."
    message_zh = "请求无法执行。"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        message_zh: str | None = None,
        errors: dict[str, Any] | None = None,
    ) -> None:
        if message is not None:
            self.message = message
        if message_zh is not None:
            self.message_zh = message_zh
        elif message is not None:
            self.message_zh = type(self).message_zh
        if code is not None:
            self.code = code
        self.errors = errors
        super().__init__(self.message)


class NotFound(DomainError):
    code = "NOT_FOUND"
    message = "No such resource."
    message_zh = "找不到该资源。"


class Invalid(DomainError):
    """The input is well-formed but breaks a rule of the domain."""

    code = "INVALID"
    message = "The input is not valid."
    message_zh = "输入无效。"


class Conflict(DomainError):
    """The request clashes with the current state (a replay with other content, a closed batch)."""

    code = "CONFLICT"
    message = "The request conflicts with the current state."
    message_zh = "请求与当前状态冲突。"


class Forbidden(DomainError):
    code = "FORBIDDEN"
    message = "Your role may not do this."
    message_zh = "您的角色无权执行此操作。"


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"
    message = "Wrong username or password."
    message_zh = "用户名或密码错误。"


class PayloadTooLarge(DomainError):
    code = "PAYLOAD_TOO_LARGE"
    message = "The upload is too large."
    message_zh = "上传的文件过大。"


class UnsupportedMedia(DomainError):
    code = "UNSUPPORTED_MEDIA"
    message = "The file type is not accepted."
    message_zh = "不支持该文件类型。"


class ServiceUnavailable(DomainError):
    code = "SERVICE_UNAVAILABLE"
    message = "A service this request needs is unavailable; try again later."
    message_zh = "所需服务暂不可用，请稍后再试。"


# --- Reliability (#14): a part the request needs is down; the client retries after a while ---


class DatabaseUnavailable(ServiceUnavailable):
    code = "DATABASE_UNAVAILABLE"
    message = "The database cannot be reached; nothing was stored. Try again shortly."
    message_zh = "数据库暂时无法连接，本次请求未保存任何内容，请稍后重试。"
    retry_after_s = 5


class QueueUnavailable(ServiceUnavailable):
    code = "QUEUE_UNAVAILABLE"
    message = "The job queue cannot be reached; nothing was stored. Try again shortly."
    message_zh = "任务队列暂时无法连接，本次请求未保存任何内容，请稍后重试。"
    retry_after_s = 10


class PhotoStoreUnavailable(ServiceUnavailable):
    code = "PHOTO_STORE_UNAVAILABLE"
    message = "The photo could not be stored (storage full or read-only); nothing was stored."
    message_zh = "照片存储不可用（空间已满或只读），本次请求未保存任何内容，请稍后重试。"
    retry_after_s = 30


class TooManyAttempts(DomainError):
    """Too many failed logins for an account or from an address; wait ``retry_after_s``."""

    code = "TOO_MANY_LOGIN_ATTEMPTS"
    message = "Too many failed logins; wait before trying again."
    message_zh = "登录失败次数过多，请稍后再试。"
    retry_after_s = 60

    def __init__(self, message: str | None = None, *, retry_after: int = 60, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after_s = retry_after
