"""What the console's family page needs from the API: the price of an order before ordering it,
and a visit's photos for a relative when (and only when) the elder consented."""

from __future__ import annotations

import io
import json
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from dispatch.db import utcnow
from dispatch.models import FamilyLink, ServiceOrder
from tests.conftest import Http, World
from tests.elders.test_calls import today
from tests.elders.test_family import fam, published_visit  # noqa: F401  (fixture)
from tests.evv.conftest import jpeg


def test_a_quote_answers_what_ordering_would_and_stores_nothing(
    http: Http,
    world: World,
    fam: Any,  # noqa: F811
) -> None:
    user, elder = fam["user"], fam["elder"]
    body = {"client_id": elder.id, "service_code": "CLEAN"}
    body |= {"date": (today() + timedelta(days=1)).isoformat()}
    body |= {"window_start": "09:00", "window_end": "11:00"}
    r = http.as_user("POST", "/orders/quote", user, json=body)
    assert r.status_code == 200, r.json
    assert r.json == {
        "funding_source": "government",
        "entitlement_left_min": 1200,
        "allowance_left": None,
        "price": "40.00",
        "copay": "0.00",
    }
    assert world.db.scalars(select(ServiceOrder)).all() == []
    placed = http.as_user("POST", "/orders", user, json=body)
    assert placed.status_code == 201 and placed.json["coverage"] == r.json
    # The same checks as ordering, the same codes; another elder is refused as missing.
    cases = [
        ({**body, "service_code": "MASSAGE"}, "SERVICE_NOT_IN_CATALOGUE"),
        ({**body, "client_id": fam["other"].id}, "REFERENCE_NOT_FOUND"),
        ({**body, "date": (today() - timedelta(days=1)).isoformat()}, "ORDER_IN_PAST"),
        ({**body, "window_end": "09:30"}, "WINDOW_TOO_SHORT"),
    ]
    for bad, code in cases:
        r = http.as_user("POST", "/orders/quote", user, json=bad)
        assert (r.status_code, r.json["code"]) == (422, code), (bad, r.json)
    staff_only = http.as_user("POST", "/orders/quote", world.p1.caregiver_user, json=body)
    assert staff_only.status_code == 403
    assert len(world.db.scalars(select(ServiceOrder)).all()) == 1


def _check_in_with_photo(http: Http, world: World, visit_id: int) -> None:
    event = {
        "idempotency_key": str(uuid.uuid4()),
        "device_time": utcnow().isoformat(),
        "lat": 29.3069,
        "lon": 120.0763,
        "accuracy_m": 10,
    }
    r = http.as_user(
        "POST",
        f"/visits/{visit_id}/check-in",
        world.p1.caregiver_user,
        data={
            "event": json.dumps(event),
            "photo": FileStorage(io.BytesIO(jpeg(seed=7)), "p.jpg", content_type="image/jpeg"),
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.json


def test_a_relative_sees_the_photos_only_with_the_elders_consent(
    http: Http,
    world: World,
    fam: Any,  # noqa: F811
) -> None:
    user, elder = fam["user"], fam["elder"]
    visit = published_visit(world, elder.id)
    _check_in_with_photo(http, world, visit.id)
    (shown,) = http.as_user("GET", f"/me/clients/{elder.id}/visits", user).json
    (photo_id,) = shown["photo_ids"]
    r = http.as_user("GET", f"/photos/{photo_id}", user)
    assert r.status_code == 200 and r.mimetype == "image/jpeg" and r.data[:2] == b"\xff\xd8"
    # Consent withdrawn: no ids in the list, and the photo itself is a 404 as a missing one.
    link = world.db.scalars(select(FamilyLink).where(FamilyLink.user_id == user.id)).one()
    link.may_see_photos = False
    world.db.commit()
    (shown,) = http.as_user("GET", f"/me/clients/{elder.id}/visits", user).json
    assert shown["photo_ids"] is None
    r = http.as_user("GET", f"/photos/{photo_id}", user)
    assert (r.status_code, r.json["code"]) == (404, "PHOTO_NOT_FOUND")
    # Another elder's photo, consent or not: 404.
    link.may_see_photos = True
    world.db.commit()
    other = published_visit(world, fam["other"].id)
    _check_in_with_photo(http, world, other.id)
    from_other = http.as_user("GET", f"/visits/{other.id}/events", world.p1.dispatcher).json
    other_photo = next(e["photo_id"] for e in from_other if e.get("photo_id"))
    r = http.as_user("GET", f"/photos/{other_photo}", user)
    assert (r.status_code, r.json["code"]) == (404, "PHOTO_NOT_FOUND")
