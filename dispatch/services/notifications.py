"""The notification outbox for family members: one row per event and recipient, sent once.

The contract:

- **Recorded with the event.** ``for_visit_event`` (a check-in or check-out; the EVV service
  calls it through ``visit_followups``; a check-in that answers a call is one ``arrived``
  message, not also a ``check_in``), ``for_missed_visit`` (the missed-visit sweep,
  ``dispatch.visit_clock``), ``for_call`` and ``for_order`` add one row per linked
  family member who receives notifications (``family_links.notify``), in the same unit of work
  as the event: no event without its messages, no message without its event.
- **Once per event and recipient.** ``(user_id, event_key)`` is unique (``visit_event:42``,
  ``call:7:dispatched``): recording the same event again adds nothing.
- **Sent by a pluggable sender** (``dispatch.notify_sender``, periodic): the log by default, a
  webhook (an SMS or WeChat gateway) when ``CAREDISPATCH_NOTIFY_WEBHOOK`` is set. A failed send
  is retried with a growing delay, up to ``MAX_ATTEMPTS``; rows are claimed with
  ``FOR UPDATE SKIP LOCKED``, so two runners never send one row; the webhook body carries the
  row's id for a gateway to drop a repeat after a crash between sending and committing.
- **Readable** by the family member (``GET /me/notifications``), newest first.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Exists, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch import config
from dispatch.db import utcnow
from dispatch.models import (
    Call,
    Caregiver,
    Client,
    EventKind,
    FamilyLink,
    Notification,
    NotificationKind,
    Role,
    ServiceType,
    Visit,
    VisitEvent,
)
from dispatch.services.pages import page_of
from dispatch.tenancy import Actor

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BATCH = 200


def _hm(at: datetime | None) -> str:
    return at.astimezone(config.zone()).strftime("%H:%M") if at else "--:--"


def _recipients(session: Session, client_id: int) -> list[FamilyLink]:
    return list(
        session.scalars(
            select(FamilyLink).where(FamilyLink.client_id == client_id, FamilyLink.notify)
        )
    )


def _add(
    session: Session,
    link: FamilyLink,
    kind: NotificationKind,
    event_key: str,
    text: str,
    text_zh: str,
    visit_id: int | None = None,
) -> None:
    exists = session.scalar(
        select(Notification.id).where(
            Notification.user_id == link.user_id, Notification.event_key == event_key
        )
    )
    if exists is not None:
        return
    try:
        with session.begin_nested():
            session.add(
                Notification(
                    provider_id=link.provider_id,
                    user_id=link.user_id,
                    client_id=link.client_id,
                    visit_id=visit_id,
                    kind=kind,
                    event_key=event_key,
                    text=text,
                    text_zh=text_zh,
                    next_attempt_at=utcnow(),
                )
            )
            session.flush()
    except IntegrityError:
        pass  # recorded by a racing request: once is enough


def family_to_notify(client_id: ColumnElement[int]) -> Exists:
    """Whether anyone of the elder's family wants to be told (``for_visit_event``'s
    recipients exist): a column the EVV service reads with the visit's lock, so an event of an
    elder without such relatives costs no statement here."""
    return exists().where(FamilyLink.client_id == client_id, FamilyLink.notify)


def for_visit_event(
    session: Session,
    visit: Visit,
    event: VisitEvent,
    answered: Call | None = None,
    *,
    family: bool = True,
) -> None:
    """Tell the elder's family that the caregiver arrived (check-in) or left (check-out).

    A check-in that answered a call (``answered``: the call the caregiver was sent for) is one
    ``arrived`` message about the call, under the same event key as a check-in's: one event,
    one message per relative, never both. ``family`` False: ``family_to_notify`` said nobody is
    to be told (read under the visit's lock, in this transaction), so the recipients are not
    looked up."""
    if not family:
        return
    links = _recipients(session, visit.client_id)
    if not links:
        return
    client = session.get(Client, visit.client_id)
    service = session.get(ServiceType, visit.service_type_id)
    caregiver = session.get(Caregiver, event.caregiver_id)
    who = caregiver.name if caregiver else "the caregiver"
    who_zh = caregiver.name if caregiver else "护理员"
    name = client.name if client else ""
    what, what_zh = (service.code, service.name) if service else ("", "")
    at = _hm(event.device_time_at)
    if event.kind == EventKind.check_in and answered is not None:
        kind = NotificationKind.arrived
        text = f"{at} {who} arrived at {name}'s home, answering the call."
        text_zh = f"{at} 护理员{who_zh}已到达{name}家，正在处理这次呼叫。"
    elif event.kind == EventKind.check_in:
        kind = NotificationKind.check_in
        text = f"{at} {who} arrived at {name}'s home for {what}."
        text_zh = f"{at} {who_zh}已到达{name}家，开始{what_zh}服务。"
    else:
        kind = NotificationKind.check_out
        text = f"{at} {who} finished {what} at {name}'s home."
        text_zh = f"{at} {who_zh}已完成{name}的{what_zh}服务并离开。"
    for link in links:
        _add(session, link, kind, f"visit_event:{event.id}", text, text_zh, visit.id)


def for_missed_visit(session: Session, visit: Visit) -> None:
    """Tell the elder's family that nobody came: once per visit (``visit:42:missed``)."""
    links = _recipients(session, visit.client_id)
    if not links:
        return
    client = session.get(Client, visit.client_id)
    service = session.get(ServiceType, visit.service_type_id)
    name = client.name if client else ""
    what, what_zh = (service.code, service.name) if service else ("", "")
    day = visit.window_start_at.astimezone(config.zone()).strftime("%m-%d")
    span = f"{_hm(visit.window_start_at)}–{_hm(visit.window_end_at)}"
    text = (
        f"Nobody checked in for {name}'s {what} visit of {day} {span}. "
        "The provider has been alerted; call them if you need help."
    )
    text_zh = (
        f"{name} {day} {span} 的{what_zh}服务无人签到上门（漏服务），"
        "已提醒服务机构；如需帮助请联系机构。"
    )
    for link in links:
        _add(
            session,
            link,
            NotificationKind.missed,
            f"visit:{visit.id}:missed",
            text,
            text_zh,
            visit.id,
        )


def for_call(
    session: Session,
    client_id: int,
    call_id: int,
    kind: NotificationKind,
    text: str,
    text_zh: str,
    visit_id: int | None = None,
) -> None:
    """A call's news for the family (dispatched, escalated to them)."""
    for link in _recipients(session, client_id):
        _add(session, link, kind, f"call:{call_id}:{kind.value}", text, text_zh, visit_id)


def for_order(
    session: Session, client_id: int, order_id: int, kind: NotificationKind, text: str, zh: str
) -> None:
    for link in _recipients(session, client_id):
        _add(session, link, kind, f"order:{order_id}:{kind.value}", text, zh)


def list_mine(
    session: Session, actor: Actor, filters: Mapping[str, Any], page: int, page_size: int
) -> tuple[list[Notification], int]:
    """This family member's notifications, newest first."""
    actor.require(Role.family)
    stmt = select(Notification).where(Notification.user_id == actor.user_id)
    if filters.get("client_id") is not None:
        stmt = stmt.where(Notification.client_id == filters["client_id"])
    if filters.get("kind") is not None:
        stmt = stmt.where(Notification.kind == filters["kind"])
    stmt = stmt.order_by(Notification.created_at.desc(), Notification.id.desc())
    return page_of(session, stmt, page, page_size)


# --- sending ----------------------------------------------------------------------------------


class Sender(Protocol):
    def send(self, notification: Notification) -> None:
        """Deliver one message; raise to have it retried."""


class LogSender:
    """The default: the message goes to the log (a demo, or before a gateway is set up)."""

    def send(self, notification: Notification) -> None:
        log.info(
            "notify user %s (%s): %s", notification.user_id, notification.kind, notification.text
        )


class WebhookSender:
    """POST the message as JSON to a gateway (SMS, WeChat); any non-2xx answer is a failure."""

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        self.url, self.timeout_s = url, timeout_s

    def send(self, notification: Notification) -> None:
        body = json.dumps(payload(notification), ensure_ascii=False).encode()
        request = urllib.request.Request(  # noqa: S310 - the URL is the operator's setting
            self.url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:  # noqa: S310
            if not 200 <= answer.status < 300:
                raise RuntimeError(f"webhook answered {answer.status}")


def payload(n: Notification) -> dict[str, Any]:
    return {
        "id": n.id,
        "user_id": n.user_id,
        "client_id": n.client_id,
        "visit_id": n.visit_id,
        "kind": n.kind.value,
        "text": n.text,
        "text_zh": n.text_zh,
        "created_at": n.created_at.isoformat(),
    }


def configured_sender() -> Sender:
    url = config.current().notify_webhook
    return WebhookSender(url) if url else LogSender()


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... up to an hour between tries."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def send_due(session: Session, sender: Sender, now: datetime | None = None) -> tuple[int, int]:
    """Send the messages that are due; answers (sent, failed). Each row is held while sent."""
    now = now or utcnow()
    rows = list(
        session.scalars(
            select(Notification)
            .where(
                Notification.sent_at.is_(None),
                Notification.attempts < MAX_ATTEMPTS,
                or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now),
            )
            .order_by(Notification.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        )
    )
    sent = failed = 0
    for n in rows:
        try:
            sender.send(n)
        except Exception as exc:  # any failure of the gateway: retry later
            n.attempts += 1
            n.last_error = f"{type(exc).__name__}: {exc}"[:1000]
            n.next_attempt_at = now + backoff(n.attempts)
            failed += 1
            log.warning("notification %s failed (attempt %s): %s", n.id, n.attempts, exc)
            continue
        n.attempts += 1
        n.sent_at = now
        n.last_error = None
        sent += 1
    session.flush()
    return sent, failed
