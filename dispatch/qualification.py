"""Whether a caregiver may do a visit: one definition for the planner, hand edits and the rules.

A skill counts on a day unless every certificate proving it had expired before that day (a skill
without any certificate counts). The planner's input (``services.problem``), a dispatcher's
hand edit of a visit and the SKILL_MISMATCH rule all ask these functions; the optimiser receives
the same facts (skills on the day, the client's gender preference and refusals) as constraints.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

Certificates = Iterable[tuple[str | None, date | None]]  # (skill proved, expires_on)


def lapsed_on(skill: str, certificates: Certificates, day: date) -> date | None:
    """The last expiry when every certificate proving ``skill`` expired before ``day``; None when
    the skill has no certificate or one still valid."""
    expiries = [expires for proved, expires in certificates if proved == skill]
    if expiries and all(e is not None and e < day for e in expiries):
        return max(e for e in expiries if e is not None)
    return None


def skills_on(skills: Iterable[str], certificates: Certificates, day: date) -> frozenset[str]:
    """The skills that count on ``day``."""
    certificates = list(certificates)
    return frozenset(s for s in skills if lapsed_on(s, certificates, day) is None)


def why_not(
    *,
    required_skill: str | None,
    skills: frozenset[str],
    gender: str,
    preferred_gender: str | None,
    refused: bool,
) -> list[str]:
    """Why a caregiver cannot do a visit (empty: she can), as the optimiser would judge it:
    ``skills`` are hers on the visit's day, ``refused`` says the client refused her."""
    problems = []
    if required_skill and required_skill not in skills:
        problems.append(f"lacks the skill {required_skill} (or its certificate expired)")
    if preferred_gender and gender != preferred_gender:
        problems.append(f"is not {preferred_gender}, as the client asks")
    if refused:
        problems.append("was refused by the client")
    return problems
