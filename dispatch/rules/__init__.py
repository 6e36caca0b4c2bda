"""The validation rules: one function per stable code, registered with severity and threshold.

Adding a rule about work orders (say CALLBACK_DENIED):

1. a function in ``per_order.py`` (the order and its own events, visit, client, caregiver) or
   ``cross.py`` (compared with other orders), decorated
   ``@rule("CALLBACK_DENIED", severity="review", default=..., unit=..., low=..., high=...,
   zh="...")``; it takes ``(order, ctx, threshold)`` and yields ``Finding(order.id, code,
   evidence)`` with the numbers that tripped it. It never touches a session: what it needs is
   in ``data.Context``; anything new there is loaded by ``dispatch/validation/context.py`` and
   ``incremental.py`` (one row builder for both, held equal by tests/validation/);
2. a prefilter in ``prefilter.py`` (``PER_ORDER`` or ``CROSS``), a superset of what the function
   flags, so that the batch stays fast (without one, every order becomes a batch candidate);
3. tests in pairs (``..._flagged`` / ``..._not_flagged``, the arithmetic in a comment) in
   tests/rules/, and the rule's threshold edge in tests/validation/test_batch.py.

The engine (``dispatch.validation.engine``) then runs it on check-outs, timesheet rows and
batches, keeps its flags and shows it in ``GET /api/v1/rules``. A rule about another kind of
record (a canteen meal) is registered with ``subject=...``: the work-order engine leaves it to
that record's own evaluation (``rules_for(subject)``).
"""

from dispatch.rules import cross, meals, per_order  # noqa: F401  (importing registers the rules)
from dispatch.rules.registry import RULES, WORK_ORDER, Finding, Rule, RuleConfig, rule, rules_for

__all__ = ["RULES", "WORK_ORDER", "Finding", "Rule", "RuleConfig", "rule", "rules_for"]
