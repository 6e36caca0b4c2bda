"""Visit generation: recurrence rules (hypothesis over dates), idempotency, absences skipped."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from dispatch.models import AbsenceReason, CarePlan, ClientAbsence, Recurrence, Visit
from dispatch.services.visit_generation import occurs_on
from tests.dispatch.conftest import DAY, care_plan

dates = st.dates(min_value=date(2024, 1, 1), max_value=date(2032, 12, 31))


def plan(recurrence: Recurrence, start: date, **kw) -> CarePlan:
    return CarePlan(recurrence=recurrence, start_date=start, end_date=kw.pop("end", None), **kw)


@settings(deadline=None)
@given(start=dates, day=dates, days=st.sets(st.integers(0, 6), min_size=1))
def test_weekly_on_its_weekdays_only_from_its_start(start, day, days):
    p = plan(Recurrence.weekly, start, days_of_week=sorted(days))
    assert occurs_on(p, day) == (day >= start and day.weekday() in days)


@settings(deadline=None)
@given(start=dates, n=st.integers(1, 30), offset=st.integers(0, 400))
def test_every_n_days_exactly_once_in_any_n_consecutive_days(start, n, offset):
    p = plan(Recurrence.every_n_days, start, interval_days=n)
    first = start + timedelta(days=offset)
    hits = [first + timedelta(days=i) for i in range(n) if occurs_on(p, first + timedelta(days=i))]
    assert len(hits) == 1
    assert (hits[0] - start).days % n == 0
    assert not occurs_on(p, start - timedelta(days=n))  # never before the start


@settings(deadline=None)
@given(start=dates, dom=st.integers(1, 31), month_offset=st.integers(0, 40))
def test_monthly_once_a_month_clamped_to_its_last_day(start, dom, month_offset):
    p = plan(Recurrence.monthly, start, day_of_month=dom)
    m = start.month - 1 + month_offset + 1
    year, month = start.year + m // 12, m % 12 + 1
    last = calendar.monthrange(year, month)[1]
    hits = [d for d in range(1, last + 1) if occurs_on(p, date(year, month, d))]
    # Day 31 in a 30-day month is the 30th; in February of a leap year the 29th.
    expected = min(dom, last)
    if date(year, month, expected) >= start:
        assert hits == [expected]
    else:
        assert hits == []


@settings(deadline=None)
@given(start=dates, day=dates)
def test_quarterly_and_half_yearly_only_every_third_and_sixth_month(start, day):
    for recurrence, step in ((Recurrence.quarterly, 3), (Recurrence.half_yearly, 6)):
        p = plan(recurrence, start, day_of_month=start.day)
        months = (day.year - start.year) * 12 + day.month - start.month
        if occurs_on(p, day):
            assert months >= 0 and months % step == 0
            assert day.day == min(start.day, calendar.monthrange(day.year, day.month)[1])


def test_end_date_is_the_last_day():
    p = plan(Recurrence.every_n_days, date(2030, 1, 1), interval_days=1, end=date(2030, 1, 5))
    assert occurs_on(p, date(2030, 1, 5)) and not occurs_on(p, date(2030, 1, 6))


def generate(client, world, day: date = DAY):
    r = client.post(
        f"/api/v1/days/{day.isoformat()}/visits:generate",
        json={},
        headers=world.headers(world.p1.dispatcher),
    )
    assert r.status_code == 200, r.json
    return r.json


def test_generation_is_idempotent_and_skips_absent_clients(client, world, district, db):
    away = district.clients[1]
    # Absent 08:00-18:00 local (00:00-10:00 UTC) on the day: overlaps the 09:00-12:00 window.
    db.add(
        ClientAbsence(
            client_id=away.id,
            start_at=datetime.combine(DAY, time(0), tzinfo=UTC),
            end_at=datetime.combine(DAY, time(10), tzinfo=UTC),
            reason=AbsenceReason.hospital,
        )
    )
    # Not on a Monday: a weekly plan for Tuesdays only creates nothing today.
    care_plan(world, district.clients[2], "CLEAN", days_of_week=[1])
    # Expired the day before.
    care_plan(world, district.clients[3], "CHAT", end_date=DAY - timedelta(days=1))
    db.commit()
    first = generate(client, world)
    assert first == {"created": 5, "skipped": 1, "reasons": {"client_absent": 1}}
    again = generate(client, world)
    assert again["created"] == 0
    assert again["reasons"] == {"exists": 5, "client_absent": 1}
    visits = db.scalars(select(Visit).where(Visit.date == DAY)).all()
    assert len(visits) == 5 and away.id not in {v.client_id for v in visits}
    v = visits[0]
    # 09:00-12:00 Asia/Shanghai is 01:00-04:00 UTC.
    assert v.window_start_at == datetime.combine(DAY, time(1), tzinfo=UTC)
    assert v.window_end_at == datetime.combine(DAY, time(4), tzinfo=UTC)
    assert v.status == "planned"


def test_absence_that_ended_before_the_window_does_not_skip(client, world, district, db):
    # Absent until 08:59 local (00:59 UTC); the window opens at 09:00.
    db.add(
        ClientAbsence(
            client_id=district.clients[0].id,
            start_at=datetime.combine(DAY - timedelta(days=3), time(0), tzinfo=UTC),
            end_at=datetime.combine(DAY, time(0, 59), tzinfo=UTC),
            reason=AbsenceReason.travel,
        )
    )
    db.commit()
    assert generate(client, world)["created"] == 6


def test_generation_sees_only_own_provider(client, world, district, db):
    care_plan(world, world.p2.client, "CLEAN")
    db.commit()
    assert generate(client, world)["created"] == 6
    r = client.post(
        f"/api/v1/days/{DAY.isoformat()}/visits:generate",
        json={"provider_id": world.p2.provider.id},
        headers=world.headers(world.p1.dispatcher),
    )
    assert r.status_code == 404
