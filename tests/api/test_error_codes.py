"""The error catalogue: every code used is defined once, in both languages, and documented.

Raise sites are read from the source (``ast``): a call ``error_codes.NAME(...)`` must name an
entry, a variant it holds, and give every value its English message needs; no ``code="..."``
literal is left outside the catalogue. Answers on the wire are checked in
``test_every_answer_in_the_suite_is_catalogued`` through the API.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from dispatch import error_codes
from dispatch.error_codes import doc
from dispatch.errors import CATALOGUE, KINDS, RESERVED, Code, DomainError, placeholders

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(
    p for d in ("dispatch", "api") for p in (ROOT / d).rglob("*.py") if "error_codes" not in p.parts
)
HAN = re.compile(r"[\u4e00-\u9fff]")
CODE = re.compile(r"^[A-Z][A-Z0-9_]*[A-Z0-9]$")


def _calls() -> list[tuple[str, ast.Call, str]]:
    """Every ``error_codes.NAME(...)`` call in dispatch/ and api/, with where it is."""
    found = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "error_codes"
            ):
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                found.append((node.func.attr, node, where))
    return found


def _references() -> list[tuple[str, str]]:
    """Every ``error_codes.NAME`` read in dispatch/ and api/ (raised, or handed to a Refusal)."""
    found = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "error_codes"
            ):
                found.append((node.attr, f"{path.relative_to(ROOT)}:{node.lineno}"))
    return found


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_each_entry_has_both_languages_and_matching_values(code):
    entry = CATALOGUE[code]
    assert CODE.match(code) and getattr(error_codes, code) is entry, code
    assert entry.kind in KINDS
    for variant, (en, zh) in entry.texts_by_variant.items():
        assert en.strip() and zh.strip(), (code, variant)
        assert HAN.search(zh), f"{code} {variant}: the Chinese message has no Chinese"
        assert not HAN.search(en), f"{code} {variant}: the English message has Chinese"
        # The Chinese may leave out an English-only detail, never add a value of its own.
        assert placeholders(zh) <= placeholders(en), (code, variant)
        assert not placeholders(en) & RESERVED, (code, variant)


def test_every_kind_answers_a_catalogued_code():
    # A bare ``raise Invalid("...")`` answers its kind's code: that one must be catalogued too.
    for kind in KINDS:
        assert kind.code in CATALOGUE, kind
        assert CATALOGUE[kind.code].status == kind.status


def test_raise_sites_name_entries_variants_and_values():
    problems = []
    for name, call, where in _calls():
        if name in ("not_found", "CATALOGUE"):
            continue
        entry = CATALOGUE.get(name)
        if entry is None:
            problems.append(f"{where}: no entry {name}")
            continue
        variant = None
        if call.args:
            first = call.args[0]
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                problems.append(f"{where}: name the variant of {name} with a literal")
                continue
            variant = first.value
        if variant not in entry.texts_by_variant:
            problems.append(f"{where}: {name} has no variant {variant!r}")
            continue
        if any(k.arg is None for k in call.keywords):  # **params: judged when raised
            continue
        given = {k.arg for k in call.keywords}
        missing = placeholders(entry.texts_by_variant[variant][0]) - given
        if missing:
            problems.append(f"{where}: {name} needs {sorted(missing)}")
    assert not problems, "\n".join(problems)


def test_every_referenced_entry_exists():
    known = set(CATALOGUE) | {"not_found", "CATALOGUE", "Code", "doc"}
    unknown = [f"{where}: {name}" for name, where in _references() if name not in known]
    assert not unknown, "\n".join(unknown)


def test_no_code_literal_outside_the_catalogue():
    """A domain error's code comes from its entry: ``code="X"`` at a raise site is a bug."""
    literals = []
    for path in (p for p in SOURCES if "demo" not in p.parts):  # demo data: service codes
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                for k in node.keywords:
                    value = k.value
                    if (
                        k.arg in ("code", "message_zh")
                        and isinstance(value, ast.Constant)
                        and isinstance(value.value, str)
                        and (k.arg == "message_zh" or CODE.match(value.value))
                    ):
                        literals.append(f"{path.relative_to(ROOT)}:{node.lineno} {k.arg}=")
            # A code handed over with its wording: Refusal("X", "English", "中文").
            texts = [
                a.value
                for a in (node.args if isinstance(node, ast.Call) else [])
                if isinstance(a, ast.Constant) and isinstance(a.value, str)
            ]
            if texts and CODE.match(texts[0]) and any(HAN.search(t) for t in texts[1:]):
                literals.append(f"{path.relative_to(ROOT)}:{node.lineno} {texts[0]}")
    assert not literals, "name a catalogue entry instead:\n" + "\n".join(literals)


def test_raising_fills_in_values_in_both_languages():
    error = error_codes.REFERENCE_NOT_FOUND("client", id=7, field="client_id")
    assert isinstance(error, DomainError) and error.status == 422
    assert (error.code, error.message) == ("REFERENCE_NOT_FOUND", "No client with id 7.")
    assert error.message_zh == "找不到编号为 7 的服务对象。"
    assert error.errors == {"client_id": ["No client with id 7."]}
    paired = error_codes.MOVE_GENDER(client="王芳", gender=("female", "女"))
    assert (paired.message, paired.message_zh) == (
        "王芳 asks for a female caregiver.",
        "王芳 要求女性护理员。",
    )
    part = error_codes.MALFORMED_JSON("part", part="event")
    assert (error_codes.MALFORMED_JSON().status, part.status) == (400, 422)
    waited = error_codes.TOO_MANY_LOGIN_ATTEMPTS(wait=12, retry_after_s=12)
    assert (waited.status, waited.retry_after_s) == (429, 12)


def test_a_code_cannot_be_defined_twice():
    with pytest.raises(ValueError, match="defined twice"):
        Code("NOT_FOUND", DomainError, "again", "再次")


def test_each_resource_has_its_not_found():
    assert error_codes.not_found("DayPlan", 3).code == "DAY_PLAN_NOT_FOUND"
    assert error_codes.not_found("BillingBatch", 3).message == "No billing batch with id 3."
    # A model without an entry still answers a coded 404, never a 500.
    fallback = error_codes.not_found("VisitEvent", 3)
    assert (fallback.code, fallback.status) == ("NOT_FOUND", 404)


def test_every_model_read_through_get_scoped_has_its_not_found():
    """``get_scoped(session, Model, ...)`` answers MODEL_NOT_FOUND: each such model has one."""
    missing = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "get_scoped"
                and len(node.args) > 1
                and isinstance(node.args[1], ast.Name)
            ):
                model = node.args[1].id
                if error_codes.not_found(model, 1).code == "NOT_FOUND":
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {model}")
    assert not missing, "add MODEL_NOT_FOUND to the catalogue for:\n" + "\n".join(missing)


def test_docs_list_the_catalogue():
    on_disk = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    assert on_disk == doc.markdown(), "docs/errors.md is stale: run make errors-doc"


def test_openapi_lists_the_catalogue(app):
    spec = app.test_client().get("/api/v1/openapi.json").json
    listed = {e["code"]: e for e in spec["x-error-codes"]}
    assert set(listed) == set(CATALOGUE)
    assert listed["PLAN_NOT_FOUND"]["status"] == 404
    assert listed["PLAN_NOT_FOUND"]["message_zh"] == error_codes.PLAN_NOT_FOUND.zh
    assert listed["MALFORMED_JSON"]["variants"]["part"]["status"] == 422
