"""Random JSON bodies against every POST and PATCH of the plain nouns: never a 5xx."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import Schema

from api.resources.care_plans.schemas import CarePlanSchema
from api.resources.caregivers.schemas import (
    CaregiverSchema,
    CaregiverSkillSchema,
    CertificateSchema,
    ShiftSchema,
)
from api.resources.clients.schemas import AbsenceSchema, ClientSchema, RefusalSchema
from api.resources.providers.schemas import ProviderSchema
from api.resources.service_points.schemas import ServicePointSchema
from api.resources.service_types.schemas import ServiceTypeSchema
from api.resources.users.schemas import UserSchema
from tests.api.test_bad_input import ENDPOINTS, create

SCHEMAS: dict[str, type[Schema]] = {
    "providers": ProviderSchema,
    "users": UserSchema,
    "clients": ClientSchema,
    "caregivers": CaregiverSchema,
    "service-types": ServiceTypeSchema,
    "service-points": ServicePointSchema,
    "care-plans": CarePlanSchema,
    "absences": AbsenceSchema,
    "refusals": RefusalSchema,
    "skills": CaregiverSkillSchema,
    "certificates": CertificateSchema,
    "shifts": ShiftSchema,
}

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["2026-11-23", "09:00", "2026-11-23T09:00:00+08:00", "-1", "1e400", "0"])
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def bodies(name: str, valid: dict[str, Any]) -> st.SearchStrategy[Any]:
    fields = sorted(n for n, f in SCHEMAS[name]().fields.items() if not f.dump_only)
    keys = st.sampled_from(fields) | st.text(max_size=10)
    random_dict = st.dictionaries(keys, values, max_size=8)
    # Values that pass type checks more often, so that more bodies reach the database.
    plausible = (
        scalars
        | st.sampled_from(list(valid.values()))
        | st.integers(-2, 2**32)
        | st.sampled_from([2**31 - 1, 2**31, -(2**31) - 1, 0.5, ""])
    )
    # The valid body with a few fields replaced, added or dropped.
    mutated = st.tuples(
        st.dictionaries(st.sampled_from(fields), plausible, max_size=3),
        st.sets(st.sampled_from(sorted(valid)), max_size=2),
    ).map(lambda cd: {k: v for k, v in {**valid, **cd[0]}.items() if k not in cd[1]})
    # Weighted towards the mutated bodies: random ones almost all stop at the schema.
    return st.one_of(mutated, mutated, mutated, random_dict, values)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_random_bodies_never_cause_a_server_error(client, world, name):
    ep = ENDPOINTS[name]
    url, headers, valid = ep.collection(world), world.headers(ep.user(world)), ep.body(world)

    @settings(
        max_examples=50,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(body=bodies(name, valid))
    def check(body: Any) -> None:
        r = client.post(url, headers=headers, json=body)
        assert r.status_code < 500, (body, r.get_data(as_text=True))
        if r.status_code >= 400:
            assert r.get_json()["code"]

    check()


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_random_patches_never_cause_a_server_error(client, world, name):
    ep = ENDPOINTS[name]
    url = create(client, world, ep)
    headers = world.headers(ep.user(world))

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(body=bodies(name, ep.patch))
    def check(body: Any) -> None:
        r = client.patch(url, headers=headers, json=body)
        assert r.status_code < 500, (body, r.get_data(as_text=True))
        if r.status_code >= 400:
            assert r.get_json()["code"]

    check()
