"""Flask configuration classes built from the shared environment settings."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dispatch.config import DEMO_SECRET, Settings
from dispatch.error_codes import doc as error_doc


class InsecureConfiguration(RuntimeError):
    """The app was asked to run outside demo mode with a known secret."""


def flask_config(settings: Settings) -> dict[str, Any]:
    if not settings.demo and settings.secret_key == DEMO_SECRET:
        raise InsecureConfiguration(
            "SECRET_KEY is unset or the public demo secret. Set SECRET_KEY to a long random "
            "value (python -c 'import secrets; print(secrets.token_urlsafe(48))'), or set "
            "CAREDISPATCH_DEMO=1 for a local demo."
        )
    return {
        "SETTINGS": settings,
        "SECRET_KEY": settings.secret_key,
        "JWT_SECRET_KEY": settings.secret_key,
        "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=30),
        "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=14),
        "JWT_TOKEN_LOCATION": ["headers"],
        "MAX_CONTENT_LENGTH": 64 * 1024 * 1024,
        "JSON_AS_ASCII": False,
        "API_TITLE": "CareDispatch",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        # Swagger UI at /api/v1/docs is served by the console blueprint from vendored files.
        "API_SPEC_OPTIONS": {
            "info": {
                "description": (
                    "CareDispatch plans, proves and pays for home care of elders. "
                    "Errors are `{code, message, errors}`; send `Accept-Language: zh-CN` "
                    "for messages in Simplified Chinese. Times are ISO 8601 with offset. "
                    "`x-error-codes` lists every code with its status and messages."
                )
            },
            "x-error-codes": error_doc.openapi(),
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                }
            },
            "security": [{"bearerAuth": []}],
        },
    }
