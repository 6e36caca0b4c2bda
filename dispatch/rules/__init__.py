"""The validation rules: one function per stable code, registered with severity and threshold."""

from dispatch.rules import cross, per_order  # noqa: F401  (importing registers the rules)
from dispatch.rules.registry import RULES, Finding, Rule, RuleConfig, rule

__all__ = ["RULES", "Finding", "Rule", "RuleConfig", "rule"]
