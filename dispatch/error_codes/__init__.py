"""The error catalogue: every coded error the API answers, defined once, in both languages.

An entry is ``CODE = Code("CODE", Kind, English, Chinese, variant=(English, Chinese), ...)`` in
the module of its area; the kind (``dispatch.errors``) fixes the HTTP status. All entries are
read through this package, and a raise site names its entry::

    from dispatch import error_codes

    raise error_codes.PLAN_NOT_FOUND(id=plan_id)
    raise error_codes.REFERENCE_NOT_FOUND("client", id=client_id, field="client_id")

The areas: ``common`` (malformed requests, login, roles, parts that are down), ``records``
(references, fields, users, each resource's NOT_FOUND), ``plans``, ``devices``, ``money``
(rules, decisions, appeals, billing), ``uploads`` (timesheets, spreadsheets, photos), ``evv``,
``allowances`` (schemes, ledger, meals), ``elders`` (calls, family, complaints, orders),
``supervision`` (areas, figures, contacts, call-backs).

**Adding a code**: one entry in the module of its area (a new area is a new module here and
one import line below), its English and Chinese message (the Chinese may leave out a value
that only makes sense in English), then ``make errors-doc`` to regenerate docs/errors.md.
``tests/api/test_error_codes.py`` fails on a code used but not defined, a code literal at a
raise site, an entry without Chinese, a variant or value a raise site does not match, or a
stale docs/errors.md.
"""

from __future__ import annotations

from dispatch.error_codes.allowances import *  # noqa: F403
from dispatch.error_codes.common import *  # noqa: F403
from dispatch.error_codes.devices import *  # noqa: F403
from dispatch.error_codes.elders import *  # noqa: F403
from dispatch.error_codes.evv import *  # noqa: F403
from dispatch.error_codes.money import *  # noqa: F403
from dispatch.error_codes.plans import *  # noqa: F403
from dispatch.error_codes.records import *  # noqa: F403
from dispatch.error_codes.supervision import *  # noqa: F403
from dispatch.error_codes.uploads import *  # noqa: F403
from dispatch.errors import CATALOGUE, Code  # noqa: F401  (read through this package)
