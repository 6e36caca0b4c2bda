"""Five-colour contacts: the due date at each class's edge, and the overdue list over HTTP."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.models import ClientContact, VisitFrequency
from dispatch.services.five_colour import due_on, earliest_in_time, overdue_days
from tests.factories import SH, T0

API = "/api/v1"
F = VisitFrequency


@pytest.mark.parametrize(
    ("frequency", "last", "due"),
    [
        (F.daily, date(2026, 11, 2), date(2026, 11, 3)),
        (F.weekly, date(2026, 11, 2), date(2026, 11, 9)),
        (F.monthly, date(2026, 1, 31), date(2026, 2, 28)),  # the month's last day
        (F.monthly, date(2026, 11, 15), date(2026, 12, 15)),
        (F.quarterly, date(2026, 11, 30), date(2027, 2, 28)),
        (F.half_yearly, date(2026, 8, 31), date(2027, 2, 28)),
        (F.half_yearly, date(2027, 8, 31), date(2028, 2, 29)),  # a leap year
    ],
)
def test_due_date_and_its_edge(frequency, last, due):
    assert due_on(frequency, last) == due
    assert overdue_days(frequency, last, due) == 0  # on the due day: still in time
    assert overdue_days(frequency, last, due + timedelta(days=1)) == 1  # the day after: late


@given(
    st.sampled_from(list(VisitFrequency)),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
    st.integers(min_value=0, max_value=400),
)
def test_overdue_days_grow_one_a_day_past_the_due_date(frequency, last, after):
    due = due_on(frequency, last)
    assert last < due <= last + timedelta(days=184)  # at most six months
    assert overdue_days(frequency, last, due + timedelta(days=after)) == after
    assert overdue_days(frequency, last, last) == 0


@given(
    st.sampled_from(list(VisitFrequency)),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
    st.integers(min_value=-400, max_value=400),
)
def test_sql_threshold_agrees_with_the_due_date(frequency, on, back):
    # The list decides "in time" in SQL as last contact ≥ earliest_in_time(class, day): the
    # same answer as the due date for every last-contact day.
    last = on + timedelta(days=back)
    assert (due_on(frequency, last) >= on) == (last >= earliest_in_time(frequency, on))


def _listed(client, headers, on: date, **params) -> dict[int, dict]:
    q = "&".join(f"{k}={v}" for k, v in {"as_of": on.isoformat(), **params}.items())
    r = client.get(f"{API}/supervision/contacts?page_size=100&{q}", headers=headers)
    assert r.status_code == 200, r.get_json()
    return {row["client"]["id"]: row for row in r.get_json()}


def test_the_overdue_list_changes_when_a_contact_is_recorded(client, area, db):
    w = area.world
    elder = area.chou_client
    elder.visit_frequency = VisitFrequency.weekly
    elder.created_at = datetime(2026, 10, 1, 9, tzinfo=SH)
    db.add(
        ClientContact(
            provider_id=elder.provider_id,
            client_id=elder.id,
            kind="phone",
            at=datetime(2026, 11, 2, 10, tzinfo=SH),
        )
    )
    db.commit()
    sup = area.h(area.street_sup)
    on = date(2026, 11, 12)  # due 11-09, three days late
    row = _listed(client, sup, on)[elder.id]
    assert row["overdue_days"] == 3 and row["due_at"] == "2026-11-09"
    assert row["frequency"] == "weekly" and row["last_contact_at"].startswith("2026-11-02T10:00")
    # The provider records a neighbour's enquiry on the 11th: in time again on the 12th.
    r = client.post(
        f"{API}/clients/{elder.id}/contacts",
        json={"kind": "neighbour", "at": "2026-11-11T16:30:00+08:00", "note": "邻居说一切安好"},
        headers=w.headers(w.p1.dispatcher),
    )
    assert r.status_code == 201, r.get_json()
    assert elder.id not in _listed(client, sup, on)
    assert _listed(client, sup, date(2026, 11, 19))[elder.id]["overdue_days"] == 1


def test_a_completed_visit_counts_as_a_contact(client, area, db, b):
    elder = area.chou_client
    elder.visit_frequency = VisitFrequency.daily
    elder.created_at = T0 - timedelta(days=30)
    db.commit()
    sup = area.h(area.street_sup)
    day = T0.date()
    assert elder.id in _listed(client, sup, day)
    b.order(client=elder)  # a service performed on T0's day
    db.commit()
    assert elder.id not in _listed(client, sup, day)
    assert elder.id not in _listed(client, sup, day + timedelta(days=1))  # due the next day
    assert _listed(client, sup, day + timedelta(days=2))[elder.id]["overdue_days"] == 1


def test_the_list_stays_inside_the_area_and_filters_by_street_and_provider(client, area, db):
    for c in (area.chou_client, area.jiang_client, area.p2_client, area.other_client):
        c.visit_frequency = VisitFrequency.monthly
        c.created_at = datetime(2026, 1, 1, tzinfo=SH)
    db.commit()
    on = date(2026, 11, 12)
    assert set(_listed(client, area.h(area.street_sup), on)) == {
        area.chou_client.id,
        area.p2_client.id,
    }
    district = area.h(area.district_sup)
    assert set(_listed(client, district, on)) == {
        area.chou_client.id,
        area.p2_client.id,
        area.jiang_client.id,
    }
    assert set(_listed(client, district, on, street="江东街道")) == {area.jiang_client.id}
    p2 = area.world.p2.provider.id
    assert set(_listed(client, district, on, provider_id=p2)) == {area.p2_client.id}
    r = client.get(f"{API}/supervision/contacts/compliance?as_of=2026-11-12", headers=district)
    assert r.status_code == 200
    by_street = {row["street"]: row for row in r.get_json()}
    assert by_street["稠城街道"]["elders"] == 2 and by_street["稠城街道"]["rate"] == 0.0


def test_a_contact_in_the_future_or_for_another_providers_elder_is_refused(client, area):
    w = area.world
    h = w.headers(w.p1.dispatcher)
    future = (datetime.now(SH) + timedelta(days=1)).isoformat()
    r = client.post(
        f"{API}/clients/{area.chou_client.id}/contacts",
        json={"kind": "phone", "at": future},
        headers=h,
    )
    assert r.status_code == 422 and r.get_json()["code"] == "CONTACT_TIME_INVALID"
    r = client.post(
        f"{API}/clients/{area.p2_client.id}/contacts",
        json={"kind": "phone", "at": "2026-11-11T16:30:00+08:00"},
        headers=h,
    )
    assert r.status_code == 404
    # A supervisor reads contacts but records none.
    r = client.post(
        f"{API}/clients/{area.chou_client.id}/contacts",
        json={"kind": "phone", "at": "2026-11-11T16:30:00+08:00"},
        headers=area.h(area.street_sup),
    )
    assert r.status_code == 403


def test_the_list_agrees_with_the_due_dates_whatever_the_last_contact_was(client, area, db, b):
    # The list decides in SQL (a probe per elder for a contact since the class's earliest day
    # in time); the due dates are the Python rule. Elders of every kind of history, judged on
    # days around their edges: the two must agree on who is late and by how much.
    w = area.world
    enrolled = datetime(2026, 9, 1, 9, tzinfo=SH)
    cases = [  # (class, recorded contact, performed service, rejected order)
        (F.weekly, datetime(2026, 11, 2, 23, 30, tzinfo=SH), None, None),
        (F.daily, None, datetime(2026, 11, 10, 8, tzinfo=SH), None),
        (
            F.monthly,
            datetime(2026, 10, 12, 9, tzinfo=SH),
            datetime(2026, 10, 5, 9, tzinfo=SH),
            None,
        ),
        (F.quarterly, None, None, None),  # never contacted: from enrolment
        (F.weekly, None, None, datetime(2026, 11, 9, 9, tzinfo=SH)),  # a rejected order is none
        # Contacts before enrolment still are the last contact (enrolment only counts alone).
        (F.half_yearly, datetime(2026, 8, 1, 9, tzinfo=SH), None, None),
        (F.half_yearly, None, datetime(2026, 8, 1, 9, tzinfo=SH), None),
    ]
    elders = []
    for i, (freq, contact, service, rejected) in enumerate(cases):
        c = w.client_at(w.p1.provider, f"FC{i}", street=area.chou_client.street)
        c.visit_frequency, c.created_at = freq, enrolled
        if contact:
            db.add(
                ClientContact(provider_id=c.provider_id, client_id=c.id, kind="phone", at=contact)
            )
        if service:
            b.order(client=c, start=service, validate=False)
        if rejected:
            b.order(client=c, start=rejected, validate=False).status = "rejected"
        elders.append((c, freq, [t.astimezone(SH).date() for t in (contact, service) if t]))
    db.commit()
    sup = area.h(area.street_sup)
    for on in (
        date(2026, 11, 9),
        date(2026, 11, 10),
        date(2026, 11, 11),
        date(2026, 11, 12),
        date(2026, 11, 30),
        date(2026, 12, 1),
        date(2027, 2, 1),
        date(2027, 2, 15),
    ):
        listed = _listed(client, sup, on)
        for c, freq, contacts in elders:
            last = max((d for d in contacts if d <= on), default=enrolled.date())
            expected = overdue_days(freq, last, on)
            got = listed[c.id]["overdue_days"] if c.id in listed else 0
            assert got == expected, (c.code, freq, last, on)
