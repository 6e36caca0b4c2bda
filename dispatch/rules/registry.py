"""The rule registry: ``@rule("CODE", severity=..., default=...)`` and the findings rules return."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

SEVERITIES = ("block", "review", "info")
# What a rule judges. The work-order engine (``dispatch.validation``) runs the rules of
# WORK_ORDER; a rule about another kind of record (a canteen meal, say) is registered with its
# own subject and run by that record's own evaluation, never on work orders.
WORK_ORDER = "work_order"


@dataclass(frozen=True)
class Finding:
    """One rule holding on one order; ``other_id`` names the second order of a pairwise rule."""

    work_order_id: int
    code: str
    evidence: dict[str, Any]
    other_id: int = 0

    @property
    def key(self) -> tuple[int, str, int]:
        return (self.work_order_id, self.code, self.other_id)


@dataclass(frozen=True)
class Rule:
    code: str
    func: Callable[..., Iterable[Finding]]
    severity: str
    default: float | None  # None: the rule has no threshold
    unit: str | None
    low: float | None  # the range an admin may set the threshold to
    high: float | None
    pairwise: bool  # findings may name another order, and may land on it
    description: str
    description_zh: str
    subject: str = WORK_ORDER

    def check_threshold(self, value: float | None) -> str | None:
        """Why ``value`` is no valid threshold for this rule, or None when it is."""
        if self.default is None:
            return None if value is None else f"{self.code} has no threshold."
        if value is None:
            return f"{self.code} needs a threshold ({self.unit})."
        if (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        ):
            return f"{self.code} threshold must be within {self.low}..{self.high} {self.unit}."
        return None


@dataclass(frozen=True)
class RuleConfig:
    """What the engine runs a rule with: the database row over the registry defaults."""

    code: str
    threshold: float | None
    severity: str
    enabled: bool = True


RULES: dict[str, Rule] = {}


def rule(
    code: str,
    *,
    severity: str,
    default: float | None = None,
    unit: str | None = None,
    low: float | None = None,
    high: float | None = None,
    pairwise: bool = False,
    zh: str = "",
    subject: str = WORK_ORDER,
) -> Callable[[Callable[..., Iterable[Finding]]], Callable[..., Iterable[Finding]]]:
    """Register ``func(record, ctx, threshold) -> findings`` under ``code``: for work orders
    ``func(order: OrderData, ctx: Context, threshold)``. The first line of its docstring is the
    rule's description (English), ``zh`` the Chinese one."""
    if severity not in SEVERITIES:
        raise ValueError(f"unknown severity {severity!r}")

    def decorator(func: Callable[..., Iterable[Finding]]) -> Callable[..., Iterable[Finding]]:
        if code in RULES:
            raise ValueError(f"rule {code} registered twice")
        RULES[code] = Rule(
            code=code,
            func=func,
            severity=severity,
            default=default,
            unit=unit,
            low=low,
            high=high,
            pairwise=pairwise,
            description=(func.__doc__ or "").strip().splitlines()[0],
            description_zh=zh,
            subject=subject,
        )
        return func

    return decorator


def rules_for(subject: str) -> dict[str, Rule]:
    """The registered rules that judge ``subject``, by code."""
    return {code: r for code, r in RULES.items() if r.subject == subject}
