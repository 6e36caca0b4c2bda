"""What follows a recorded check-in or check-out beyond the visit itself.

The EVV service calls ``after_event`` once per stored event (never for a replay), inside the
same unit of work: a call's visit answers or closes the call; the family hears of it once (a
check-in that answered a call is an ``arrived`` message instead of a ``check_in`` one).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from dispatch.models import Visit, VisitEvent
from dispatch.services import call_dispatch, notifications
from dispatch.tenancy import Actor


def after_event(
    session: Session, actor: Actor, visit: Visit, event: VisitEvent, *, family: bool = True
) -> None:
    """``family``: whether the elder has relatives to tell (``notifications.family_to_notify``,
    read with the visit's lock); True when not known."""
    answered = call_dispatch.on_visit_event(session, actor, visit, event)
    notifications.for_visit_event(session, visit, event, answered, family=family)
