"""docs/errors.md and the OpenAPI document's ``x-error-codes``, both from the catalogue.

``make errors-doc`` (``python -m dispatch.error_codes.doc``) rewrites docs/errors.md.
"""

from __future__ import annotations

import sys
from typing import Any

import dispatch.error_codes  # noqa: F401  (every entry registers itself on import)
from dispatch.errors import CATALOGUE, Code

HEADER = """# Error codes

Every 4xx/5xx answer is `{"code": "...", "message": "...", "errors": {...}}`; the message is in
Simplified Chinese with `Accept-Language: zh-CN`. This list is generated from the catalogue,
`dispatch/error_codes/` (`make errors-doc`); the OpenAPI document carries the same list as
`x-error-codes`. `{name}` stands for a value filled in when the error is raised; a code with
several wordings lists each situation's. How to add a code: `dispatch/error_codes/__init__.py`.

| Code | HTTP | English | 中文 |
|---|---|---|---|
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def rows(entry: Code) -> list[tuple[str, int, str, str]]:
    """One row per wording: (situation, status, English, Chinese); the main one first."""
    out = []
    for variant, (en, zh) in entry.texts_by_variant.items():
        out.append((variant or "", entry.kind_by_variant[variant].status, en, zh))
    return out


def markdown() -> str:
    lines = [HEADER.rstrip("\n")]
    for code in sorted(CATALOGUE):
        for variant, status, en, zh in rows(CATALOGUE[code]):
            name = f"`{code}`" if not variant else f"↳ *{variant}*"
            lines.append(f"| {name} | {status} | {_cell(en)} | {_cell(zh)} |")
    return "\n".join(lines) + "\n"


def openapi() -> list[dict[str, Any]]:
    """The catalogue for the OpenAPI document: code, status, messages and other wordings."""
    return [
        {
            "code": code,
            "status": entry.status,
            "message": entry.en,
            "message_zh": entry.zh,
            **(
                {
                    "variants": {
                        name: {
                            "status": entry.kind_by_variant[name].status,
                            "message": en,
                            "message_zh": zh,
                        }
                        for name, (en, zh) in entry.texts_by_variant.items()
                        if name is not None
                    }
                }
                if len(entry.texts_by_variant) > 1
                else {}
            ),
        }
        for code, entry in sorted(CATALOGUE.items())
    ]


if __name__ == "__main__":
    sys.stdout.write(markdown())
