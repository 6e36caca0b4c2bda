"""What the rules run with: the rule settings in force and the service catalogue, and a cache.

``rule_configs`` lays the ``rule_settings`` rows over the registry's defaults; ``load_services``
reads the catalogue as the rules see it. Both read columns, not ORM objects: an object already
in the session would show its old values after a change made in SQL (another process's, or a
bulk UPDATE). ``REFERENCE`` caches both per process for the incremental path, keyed by a
fingerprint of exactly these columns that the database computes inside the run's first query.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from dispatch.models import RuleSetting, ServiceType
from dispatch.rules import RULES, RuleConfig
from dispatch.rules.data import ServiceData

RULE_SETTING_COLUMNS = (
    RuleSetting.code,
    RuleSetting.threshold,
    RuleSetting.severity,
    RuleSetting.enabled,
)
SERVICE_COLUMNS = (
    ServiceType.id,
    ServiceType.code,
    ServiceType.required_skill,
    ServiceType.photo_required,
    ServiceType.caregivers_needed,
    ServiceType.default_duration_min,
)


def in_force(code: str, row: Any) -> RuleConfig:
    """A registered rule's settings row (or None) over the registry's defaults."""
    r = RULES[code]
    threshold = r.default
    if row is not None and row.threshold is not None and r.default is not None:
        threshold = row.threshold
    return RuleConfig(
        code=code,
        threshold=threshold,
        severity=(row.severity.value if row is not None and row.severity else r.severity),
        enabled=row.enabled if row is not None else True,
    )


def rule_configs(session: Session) -> dict[str, RuleConfig]:
    """Every registered rule with the database's settings over the registry defaults."""
    rows = {r.code: r for r in session.execute(select(*RULE_SETTING_COLUMNS))}
    return {code: in_force(code, rows.get(code)) for code in RULES}


def rule_config(session: Session, code: str) -> RuleConfig:
    """One registered rule's settings in force (one row read)."""
    stmt = select(*RULE_SETTING_COLUMNS).where(RuleSetting.code == code)
    return in_force(code, session.execute(stmt).first())


def load_services(session: Session) -> dict[int, ServiceData]:
    """The service catalogue as the rules see it."""
    return {
        s.id: ServiceData(
            s.id,
            s.code,
            s.required_skill,
            bool(s.photo_required),
            s.caregivers_needed,
            s.default_duration_min,
        )
        for s in session.execute(select(*SERVICE_COLUMNS))
    }


def fingerprint(columns: Sequence[Any], order_by: Any) -> Any:
    """A scalar subquery: every row's columns as one string, in a fixed order."""
    parts = [func.coalesce(cast(c, String), "~") for c in columns]
    row = parts[0]
    for p in parts[1:]:
        row = row + "|" + p
    rows = select(row.label("r")).order_by(order_by).subquery()
    return select(func.coalesce(func.aggregate_strings(rows.c.r, ";"), "")).scalar_subquery()


RULES_FINGERPRINT = fingerprint(RULE_SETTING_COLUMNS, RuleSetting.code)
SERVICES_FINGERPRINT = fingerprint(SERVICE_COLUMNS, ServiceType.id)


class Reference:
    """Per-process cache of the rule settings in force and the service catalogue.

    Each incremental run reads the two fingerprints (``RULES_FINGERPRINT``,
    ``SERVICES_FINGERPRINT``) and reloads a table only when its fingerprint differs from the
    cached one. So a change is seen at once whoever made it: PATCH /rules in another worker
    process, an edited service type, or this very transaction before it commits. ``clear``
    drops everything (changing a rule calls it). Threads of one process share the cache; a lock
    serialises reloads, and callers get their own copies.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._configs: tuple[str, dict[str, RuleConfig]] | None = None
        self._services: tuple[str, dict[int, ServiceData]] | None = None
        self.loads = 0  # reloads so far, for tests

    def clear(self) -> None:
        with self._lock:
            self._configs = self._services = None

    def get(
        self, session: Session, rules_fp: str, services_fp: str
    ) -> tuple[dict[str, RuleConfig], dict[int, ServiceData]]:
        configs, services = self._configs, self._services
        if configs is None or configs[0] != rules_fp:
            with self._lock:
                configs = (rules_fp, rule_configs(session))
                self._configs = configs
                self.loads += 1
        if services is None or services[0] != services_fp:
            with self._lock:
                services = (services_fp, load_services(session))
                self._services = services
                self.loads += 1
        return dict(configs[1]), dict(services[1])


REFERENCE = Reference()
