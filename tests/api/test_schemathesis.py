"""schemathesis over the served OpenAPI document: every operation, as every role that may call
it, on PostgreSQL and on SQLite; no 5xx, and every answer matches the documented schema.

Examples per operation and role: ``SCHEMATHESIS_EXAMPLES`` (default 4, which keeps ``make test``
within its budget); ``make fuzz`` runs many more (docs/benchmarks.md).
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from dispatch.models import Role
from tests.api.conftest import Target
from tests.api.test_privileges import REFRESH, refresh_headers, role_user

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "4"))
CHECKS = [not_a_server_error, response_schema_conformance]


def fuzz(target: Any, examples: int = EXAMPLES) -> list[str]:
    """Run every operation as every role its x-roles name (public ones without a token)."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", target.app)
    users = {role: role_user(target.world, role) for role in Role}
    headers = {role.value: target.world.headers(user) for role, user in users.items()}
    refresh = {role.value: refresh_headers(target.world, user) for role, user in users.items()}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        op = result.ok()
        operations += 1
        key = f"{op.method.upper()} {op.path}"
        roles = op.definition.raw.get("x-roles") or [None]
        strategy = st.one_of(
            op.as_strategy(generation_mode=GenerationMode.POSITIVE),
            op.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        )
        for role in roles:
            auth = {} if role is None else (refresh if key in REFRESH else headers)[role]

            try:
                run_cases(strategy, auth, examples)
            except (Exception, BaseExceptionGroup) as exc:  # one entry per operation and role
                failures.append(f"{key} as {role or 'anonymous'}: {str(exc)[:1500]}")
    assert operations >= 100
    return failures


def run_cases(strategy: st.SearchStrategy[Any], auth: dict[str, str], examples: int) -> None:
    @hypothesis_settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        case.call_and_validate(headers=auth, checks=CHECKS)

    run()


def test_no_server_error_and_documented_answers_on_postgresql(app, client, world, db, settings):
    failures = fuzz(Target(app, world, settings))
    assert not failures, "\n\n".join(failures)


def test_no_server_error_and_documented_answers_on_sqlite(on_sqlite):
    failures = fuzz(on_sqlite)
    assert not failures, "\n\n".join(failures)
