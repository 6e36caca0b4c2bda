"""The bureau's figures by street (街道) or by provider for a period, and a provider's scorecard.

Every number has one definition, reused here and never computed a second way:
- the funnel's (generated, abnormal, billed, billed hours and amount, elders served) come from
  ``reports.funnel_counts``, so the totals over streets equal the funnel of the same period and
  area;
- visits planned (not cancelled), done (completed with the elder at home) and missed, by the
  visit's date; on time: orders with a visit whose start (the check-in) came no later than the
  board's late threshold after the planned start (``board.DEFAULT_LATE_AFTER_MIN``);
- satisfaction: the mean of every 1–5 answer about the period: the call-backs' on the period's
  orders and the families' ratings of the period's visits (by the visit's date);
- complaints filed in the period, still open (open or answered) and closed;
- calls opened in the period and their call-to-arrival median: ``calls.arrivals_by`` and
  ``calls.quantile``, the numbers of the calls' KPIs;
- staffing: ``staffing`` (certified per 10,000 elders served, senior and first-aid shares);
- contact compliance: ``five_colour`` on the period's last day.
A street is the elder's (the client's); a provider is the row's own provider.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Interval, and_, case, func, literal, select
from sqlalchemy.orm import Session

from dispatch import error_codes, spreadsheets
from dispatch.models import (
    Callback,
    CallbackStatus,
    Caregiver,
    Client,
    Complaint,
    ComplaintStatus,
    Provider,
    Rating,
    Role,
    Visit,
    VisitOutcome,
    VisitStatus,
    WorkOrder,
)
from dispatch.services import calls, five_colour, staffing
from dispatch.services.board import DEFAULT_LATE_AFTER_MIN
from dispatch.services.reports import (
    Counts,
    analytic,
    funnel_counts,
    period_bounds,
    scoped_by_client,
)
from dispatch.tenancy import Actor, get_scoped, scoped

READERS = (Role.supervisor, Role.finance, Role.admin)
GROUPS = ("street", "provider")
NO_STREET = "-"  # the key of elders whose street is not recorded
MAX_DAYS = 400
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ROW_FIELDS = (
    "key",
    "name",
    "elders_served",
    "visits_planned",
    "visits_done",
    "on_time_rate",
    "missed",
    "generated",
    "abnormal",
    "abnormal_rate",
    "billed",
    "billed_hours",
    "billed_amount",
    "satisfaction",
    "callbacks_answered",
    "callbacks_denied",
    "ratings",
    "complaints_open",
    "complaints_closed",
    "calls",
    "call_to_arrival_p50_min",
    "certified",
    "certified_per_10k",
    "senior_share",
    "first_aid_share",
    "contact_compliance",
)


@dataclass(frozen=True)
class Raw:
    """The additive parts of one row; rates are computed from sums, never averaged."""

    counts: Counts = field(default_factory=Counts)
    planned: int = 0
    done: int = 0
    missed: int = 0
    timed: int = 0  # orders with a visit and a planned start
    on_time: int = 0
    answered: int = 0
    denied: int = 0
    stars_sum: int = 0
    stars_n: int = 0
    ratings: int = 0
    complaints_open: int = 0
    complaints_closed: int = 0
    calls: int = 0
    arrival_min: tuple[float, ...] = ()  # every answered call's call-to-arrival minutes
    staff: staffing.Staff = field(default_factory=staffing.Staff)
    contact_elders: int = 0
    contact_ok: int = 0

    def __add__(self, o: Raw) -> Raw:
        return Raw(
            self.counts + o.counts,
            *(getattr(self, f) + getattr(o, f) for f in _ADDITIVE),
            self.staff + o.staff,
            self.contact_elders + o.contact_elders,
            self.contact_ok + o.contact_ok,
        )


_ADDITIVE = ("planned", "done", "missed", "timed", "on_time", "answered", "denied")
_ADDITIVE += ("stars_sum", "stars_n", "ratings", "complaints_open", "complaints_closed", "calls")
_ADDITIVE += ("arrival_min",)  # tuples: joined, so the total's median is over every call


def _key(group_by: str, model: type[Any]) -> Any:
    if group_by == "street":
        return Caregiver.street if model is Caregiver else Client.street
    return model.provider_id


def _visits(session, actor, start, end, group_by, provider_id) -> dict[Any, tuple[int, ...]]:
    """One pass over the visits dated in the period: planned, done, missed, and the families'
    ratings of them (count, stars)."""
    done = and_(
        Visit.status == VisitStatus.completed,
        (Visit.outcome.is_(None)) | (Visit.outcome == VisitOutcome.completed),
    )
    key = _key(group_by, Visit)
    stmt = (
        select(
            key,
            func.sum(case((Visit.status != VisitStatus.cancelled, 1), else_=0)),
            func.sum(case((done, 1), else_=0)),
            func.sum(case((Visit.status == VisitStatus.missed, 1), else_=0)),
            func.count(Rating.id),
            func.sum(func.coalesce(Rating.stars, 0)),
        )
        .join(Client, Client.id == Visit.client_id)
        .outerjoin(Rating, Rating.visit_id == Visit.id)
        .where(Visit.date >= start, Visit.date <= end)
        .group_by(key)
    )
    stmt = scoped_by_client(stmt, Visit, actor)
    if provider_id is not None:
        stmt = stmt.where(Visit.provider_id == provider_id)
    return {k: tuple(int(x or 0) for x in rest) for k, *rest in session.execute(stmt)}


def at_most_after(session: Session, later: Any, earlier: Any, minutes: int) -> Any:
    """SQL for "``later`` no more than ``minutes`` after ``earlier``", on PostgreSQL (instants
    compared with an interval added: no numeric per row) and SQLite alike."""
    if session.get_bind().dialect.name == "postgresql":
        return later <= earlier + literal(timedelta(minutes=minutes), Interval())
    return (func.julianday(later) - func.julianday(earlier)) * 1440 <= minutes


def _orders(session, actor, lo, hi, group_by, provider_id) -> dict[Any, tuple[int, ...]]:
    """One pass over the orders starting in the period: those with a visit (timed) and on time,
    and their answered call-backs (count, denied, satisfaction sum and count)."""
    planned = func.coalesce(Visit.planned_start_at, Visit.window_start_at)
    in_time = at_most_after(session, WorkOrder.start_at, planned, DEFAULT_LATE_AFTER_MIN)
    key = _key(group_by, WorkOrder)
    stmt = (
        select(
            key,
            func.count(Visit.id),
            func.sum(case((in_time, 1), else_=0)),
            func.count(Callback.id),
            func.sum(case((Callback.took_place == "no", 1), else_=0)),
            func.sum(func.coalesce(Callback.satisfaction, 0)),
            func.count(Callback.satisfaction),
        )
        .select_from(WorkOrder)
        .join(Client, Client.id == WorkOrder.client_id)
        .outerjoin(Visit, Visit.id == WorkOrder.visit_id)
        .outerjoin(
            Callback,
            and_(
                Callback.work_order_id == WorkOrder.id, Callback.status == CallbackStatus.answered
            ),
        )
        .where(WorkOrder.start_at >= lo, WorkOrder.start_at < hi)
        .group_by(key)
    )
    stmt = scoped_by_client(stmt, WorkOrder, actor)
    if provider_id is not None:
        stmt = stmt.where(WorkOrder.provider_id == provider_id)
    return {k: tuple(int(x or 0) for x in rest) for k, *rest in session.execute(stmt)}


def _complaints(session, actor, lo, hi, group_by, provider_id) -> dict[Any, tuple[int, int]]:
    key = _key(group_by, Complaint)
    closed = Complaint.status == ComplaintStatus.closed
    stmt = (
        select(key, func.sum(case((closed, 0), else_=1)), func.sum(case((closed, 1), else_=0)))
        .select_from(Complaint)
        .join(Client, Client.id == Complaint.client_id)
        .where(Complaint.created_at >= lo, Complaint.created_at < hi)
        .group_by(key)
    )
    stmt = scoped_by_client(stmt, Complaint, actor)
    if provider_id is not None:
        stmt = stmt.where(Complaint.provider_id == provider_id)
    return {k: (int(o or 0), int(c or 0)) for k, o, c in session.execute(stmt)}


def raw_figures(
    session: Session,
    actor: Actor,
    start: date,
    end: date,
    group_by: str,
    provider_id: int | None = None,
) -> dict[Any, Raw]:
    """The additive parts of every row, by street or provider id."""
    lo, hi = period_bounds(start, end)
    counts = funnel_counts(session, actor, lo, hi, group_by, provider_id=provider_id)
    visits = _visits(session, actor, start, end, group_by, provider_id)
    orders = _orders(session, actor, lo, hi, group_by, provider_id)
    filed = _complaints(session, actor, lo, hi, group_by, provider_id)
    called = calls.arrivals_by(session, actor, lo, hi, group_by, provider_id)
    staff = staffing.staff_by(session, actor, _key(group_by, Caregiver), end, provider_id)
    contacts = five_colour.compliance_by(session, actor, end, group_by, provider_id)
    keys = set(counts) | set(visits) | set(orders) | set(staff) | set(contacts)
    keys |= set(filed) | set(called)
    out = {}
    for k in keys:
        planned, done, missed, ratings, rating_stars = visits.get(k, (0, 0, 0, 0, 0))
        n, ok, answered, denied, stars, stars_n = orders.get(k, (0, 0, 0, 0, 0, 0))
        still_open, closed = filed.get(k, (0, 0))
        n_calls, arrivals = called.get(k, (0, []))
        elders, compliant = contacts.get(k, (0, 0))
        out[k] = Raw(
            counts.get(k, Counts()),
            planned,
            done,
            missed,
            n,
            ok,
            answered,
            denied,
            stars + rating_stars,
            stars_n + ratings,
            ratings,
            still_open,
            closed,
            n_calls,
            tuple(arrivals),
            staff.get(k, staffing.Staff()),
            elders,
            compliant,
        )
    return out


def row(key: Any, name: str | None, r: Raw) -> dict[str, Any]:
    c = r.counts
    figures = c.figures()
    staff = staffing.shares(r.staff, c.elders)
    return {
        "key": NO_STREET if key is None else str(key),
        "name": name,
        "elders_served": c.elders,
        "visits_planned": r.planned,
        "visits_done": r.done,
        "on_time_rate": staffing.ratio(r.on_time, r.timed),
        "missed": r.missed,
        "generated": c.generated,
        "normal": figures["normal"],
        "abnormal": c.abnormal,
        "abnormal_rate": staffing.ratio(c.abnormal, c.generated),
        "appealed": c.appealed,
        "not_billed": figures["not_billed"],
        "billed": c.billed,
        "billed_minutes": c.billed_min,
        "billed_hours": figures["billed_hours"].quantize(Decimal("0.01")),
        "billed_amount": c.billed_amount,
        "satisfaction": staffing.ratio(r.stars_sum, r.stars_n, "0.01"),
        "callbacks_answered": r.answered,
        "callbacks_denied": r.denied,
        "ratings": r.ratings,
        "complaints_open": r.complaints_open,
        "complaints_closed": r.complaints_closed,
        "calls": r.calls,
        "call_to_arrival_p50_min": calls.quantile(r.arrival_min, 0.5),
        **staff,
        "contact_compliance": staffing.ratio(r.contact_ok, r.contact_elders),
    }


def check_period(start: date, end: date) -> None:
    period_bounds(start, end)
    if (end - start).days >= MAX_DAYS:
        raise error_codes.PERIOD_TOO_LONG(
            "report", days=MAX_DAYS, errors={"to": [f"At most {MAX_DAYS} days after from."]}
        )


def figures(
    session: Session,
    actor: Actor,
    start: date,
    end: date,
    group_by: str = "street",
    provider_id: int | None = None,
) -> dict[str, Any]:
    """Rows by street or provider, and their totals, over the orders the actor may see."""
    actor.require(*READERS)
    check_period(start, end)
    if provider_id is not None:
        get_scoped(session, Provider, provider_id, actor)
    analytic(session)
    raws = raw_figures(session, actor, start, end, group_by, provider_id)
    names: dict[Any, str] = {}
    if group_by == "provider":
        names = dict(session.execute(select(Provider.id, Provider.name)).all())
    rows = [
        row(k, names.get(k), raws[k])
        for k in sorted(raws, key=lambda k: (k is None, str(k) if group_by == "street" else k))
    ]
    total = sum(raws.values(), Raw())
    totals = row("total", None, total)
    if group_by == "provider":
        # An elder served by two providers counts once in the total (the funnel's count).
        totals["elders_served"] = _elders_total(session, actor, start, end, provider_id)
        totals.update(staffing.shares(total.staff, totals["elders_served"]))
    return {
        "from": start,
        "to": end,
        "group_by": group_by,
        "provider_id": provider_id,
        "area": actor.area.label() if actor.area else None,
        "targets": {
            "certified_per_10k": staffing.CERTIFIED_PER_10K_TARGET,
            "senior_share": staffing.SENIOR_SHARE_TARGET,
            "first_aid_share": staffing.FIRST_AID_SHARE_TARGET,
        },
        "rows": rows,
        "totals": totals,
    }


def _elders_total(session, actor, start, end, provider_id) -> int:
    lo, hi = period_bounds(start, end)
    stmt = scoped(
        select(func.count(func.distinct(WorkOrder.client_id))).where(
            WorkOrder.start_at >= lo, WorkOrder.start_at < hi
        ),
        WorkOrder,
        actor,
    )
    if provider_id is not None:
        stmt = stmt.where(WorkOrder.provider_id == provider_id)
    return int(session.scalar(stmt) or 0)


def scorecard(
    session: Session, actor: Actor, provider_id: int, start: date, end: date
) -> dict[str, Any]:
    """One provider's figures beside the median of every provider of the actor's area."""
    actor.require(*READERS)
    check_period(start, end)
    provider = get_scoped(session, Provider, provider_id, actor)
    every = figures(session, actor, start, end, "provider")
    mine = next((r for r in every["rows"] if r["key"] == str(provider_id)), None)
    if mine is None:
        mine = row(provider_id, provider.name, Raw())
    median = {}
    for name in ROW_FIELDS[2:]:
        values = [r[name] for r in every["rows"] if r[name] is not None]
        median[name] = statistics.median(values) if values else None
    return {
        "from": start,
        "to": end,
        "provider": {"id": provider.id, "code": provider.code, "name": provider.name},
        "providers_compared": len(every["rows"]),
        "figures": mine,
        "area_median": median,
        "targets": every["targets"],
    }


def figures_xlsx(data: dict[str, Any]) -> tuple[bytes, str, str]:
    header = list(ROW_FIELDS)
    lines = [[r[f] for f in header] for r in [*data["rows"], data["totals"]]]
    about = [
        ["from", str(data["from"])],
        ["to", str(data["to"])],
        ["group_by", data["group_by"]],
        ["area", data["area"] or "all"],
        *[[f"target {k}", v] for k, v in data["targets"].items()],
    ]
    content = spreadsheets.xlsx_bytes(
        [("figures", header, lines), ("about", ["field", "value"], about)]
    )
    name = f"figures-{data['group_by']}-{data['from']:%Y%m%d}-{data['to']:%Y%m%d}.xlsx"
    return content, XLSX, name


def scorecard_xlsx(data: dict[str, Any]) -> tuple[bytes, str, str]:
    lines = [[f, data["figures"][f], data["area_median"][f]] for f in ROW_FIELDS[2:]]
    content = spreadsheets.xlsx_bytes([("scorecard", ["figure", "provider", "area median"], lines)])
    p = data["provider"]
    name = f"scorecard-{p['code']}-{data['from']:%Y%m%d}-{data['to']:%Y%m%d}.xlsx"
    return content, XLSX, name
