"""Domain errors: the kinds (one per HTTP status) and ``Code``, one entry of the catalogue.

Every coded error the API answers is a ``Code`` in ``dispatch/error_codes.py`` — the catalogue —
with its kind (and so its HTTP status) and its message in English and Simplified Chinese. A raise
site names the entry and gives the values its message needs::

    from dispatch import error_codes

    raise error_codes.PLAN_NOT_FOUND(plan_id=plan_id)
    raise error_codes.INVALID_PERIOD("too_long", days=400, field="to")

A message is a ``str.format`` template; a value given as a pair ``(English, Chinese)`` is
localised, anything else is shown as it is. ``field="x"`` adds ``errors={"x": [message]}``;
``errors=`` gives them whole. An entry may hold *variants*: other wordings of the same code
for another situation, named by the raise site's first argument and kept in the catalogue too.
``tests/api/test_error_codes.py`` checks every entry, every raise site and docs/errors.md.
"""

from __future__ import annotations

import string
from typing import Any

Text = tuple[str, str]  # (English, Simplified Chinese)


class DomainError(Exception):
    """Base of every error a caller can act on; ``status`` is its HTTP status."""

    status = 400
    code = "DOMAIN_ERROR"
    message = "The request could not be carried out."
    message_zh = "请求无法执行。"
    retry_after_s: int | None = None

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


# --- the kinds: what a caller can do about it, one HTTP status each --------------------------


def kind(
    name: str,
    status: int,
    code: str,
    doc: str | None = None,
    *,
    en: str | None = None,
    zh: str | None = None,
) -> type[DomainError]:
    """A kind of domain error: a subclass of ``DomainError`` answered with ``status``, its
    generic ``code`` and (given ``en`` and ``zh``) its own default message."""
    body: dict[str, Any] = {"__module__": __name__, "__doc__": doc, "status": status, "code": code}
    if en is not None:
        body |= {"message": en, "message_zh": zh}
    return type(name, (DomainError,), body)


BadRequest = kind("BadRequest", 400, "BAD_REQUEST")
Unauthenticated = kind(
    "Unauthenticated",
    401,
    "UNAUTHENTICATED",
    en="Wrong username or password.",
    zh="用户名或密码错误。",
)
Forbidden = kind(
    "Forbidden", 403, "FORBIDDEN", en="Your role may not do this.", zh="您的角色无权执行此操作。"
)
NotFound = kind("NotFound", 404, "NOT_FOUND", en="No such resource.", zh="找不到该资源。")
MethodNotAllowed = kind("MethodNotAllowed", 405, "METHOD_NOT_ALLOWED")
Conflict = kind(
    "Conflict",
    409,
    "CONFLICT",
    "The request clashes with the current state (a replay with other content, a closed batch).",
)
PayloadTooLarge = kind("PayloadTooLarge", 413, "PAYLOAD_TOO_LARGE")
UnsupportedMedia = kind("UnsupportedMedia", 415, "UNSUPPORTED_MEDIA")
Invalid = kind(
    "Invalid", 422, "INVALID", "The input is well-formed but breaks a rule of the domain."
)
PreconditionRequired = kind("PreconditionRequired", 428, "PRECONDITION_REQUIRED")
TooManyRequests = kind(
    "TooManyRequests", 429, "TOO_MANY_REQUESTS", "Slow down; ``retry_after_s`` says for how long."
)
InternalError = kind("InternalError", 500, "INTERNAL_ERROR")
ServiceUnavailable = kind(
    "ServiceUnavailable",
    503,
    "SERVICE_UNAVAILABLE",
    "A part the request needs is down; nothing was stored, retry after ``retry_after_s``.",
)

KINDS: tuple[type[DomainError], ...] = (
    BadRequest,
    Unauthenticated,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    UnsupportedMedia,
    Invalid,
    PreconditionRequired,
    TooManyRequests,
    InternalError,
    ServiceUnavailable,
)


# --- the catalogue's entries -------------------------------------------------------------------

CATALOGUE: dict[str, Code] = {}
RESERVED = frozenset({"field", "errors", "retry_after_s"})


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class Code:
    """One coded error: its kind (so its HTTP status), its English and Chinese message, and
    optional variants ``name=(English, Chinese)`` (or ``(English, Chinese, kind)`` where the
    same code answers another status in one situation). Constructing one registers it."""

    def __init__(
        self,
        code: str,
        kind: type[DomainError],
        en: str,
        zh: str,
        *,
        retry_after_s: int | None = None,
        **variants: Text | tuple[str, str, type[DomainError]],
    ) -> None:
        if code in CATALOGUE:
            raise ValueError(f"error code {code} is defined twice")
        self.code, self.kind, self.retry_after_s = code, kind, retry_after_s
        self.texts_by_variant: dict[str | None, Text] = {None: (en, zh)}
        self.kind_by_variant: dict[str | None, type[DomainError]] = {None: kind}
        for name, (v_en, v_zh, *v_kind) in variants.items():
            self.texts_by_variant[name] = (v_en, v_zh)
            self.kind_by_variant[name] = v_kind[0] if v_kind else kind
        CATALOGUE[code] = self

    @property
    def status(self) -> int:
        return self.kind.status

    @property
    def en(self) -> str:
        return self.texts_by_variant[None][0]

    @property
    def zh(self) -> str:
        return self.texts_by_variant[None][1]

    def texts(self, variant: str | None = None, **params: Any) -> Text:
        """The message in English and Chinese, filled in with ``params``."""
        en, zh = self.texts_by_variant[variant]
        return (
            en.format(**{k: v[0] if isinstance(v, tuple) else v for k, v in params.items()}),
            zh.format(**{k: v[1] if isinstance(v, tuple) else v for k, v in params.items()}),
        )

    def __call__(
        self,
        variant: str | None = None,
        /,
        *,
        field: str | None = None,
        errors: dict[str, Any] | None = None,
        retry_after_s: int | None = None,
        **params: Any,
    ) -> DomainError:
        """The error to raise (or to report, as a sync result carries it)."""
        en, zh = self.texts(variant, **params)
        if field is not None:
            errors = {field: [en], **(errors or {})}
        error = self.kind_by_variant[variant](en, code=self.code, message_zh=zh, errors=errors)
        wait = retry_after_s if retry_after_s is not None else self.retry_after_s
        if wait is not None:
            error.retry_after_s = wait
        return error

    def __repr__(self) -> str:
        return f"Code({self.code}, {self.status})"
