"""Fixtures of the supervision tests: an area with two streets, a second district, supervisors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from dispatch.models import Caregiver, Client, Provider, Role, User
from tests.conftest import World

CHOUCHENG = "稠城街道"
JIANGDONG = "江东街道"


@dataclass
class Area:
    """义乌市 with p1 and p2 working in 稠城 and 江东, 东阳市 next door with its own provider."""

    world: World
    chou_client: Client  # p1, 稠城 (the world's p1.client)
    jiang_client: Client  # p1, 江东
    p2_client: Client  # p2, 稠城 (the world's p2.client)
    other_provider: Provider  # 东阳市
    other_client: Client
    other_caregiver: Caregiver
    jiang_caregiver: Caregiver
    district_sup: User
    street_sup: User

    def h(self, user: User) -> dict[str, str]:
        return self.world.headers(user)


@pytest.fixture
def area(world: World, db: Any) -> Area:
    w = world
    w.p1.caregiver.street = CHOUCHENG
    jiang_cg = w.caregiver_at(w.p1.provider, "CG1JD", skills=("CLEAN",), street=JIANGDONG)
    jiang = w.client_at(
        w.p1.provider, "C1JD", name="陈桂花", street=JIANGDONG, address="江东街道 青口路 5号"
    )
    other = Provider(code="DY1", name="东阳市居家养老服务中心", district="东阳市")
    db.add(other)
    db.flush()
    other_client = w.client_at(other, "DY001", street=CHOUCHENG)  # same street name, elsewhere
    other_cg = w.caregiver_at(other, "DYCG1", street=CHOUCHENG)
    district_sup = w.user("sup_yiwu", Role.supervisor, None, area_district="义乌市")
    street_sup = w.user(
        "sup_choucheng", Role.supervisor, None, area_district="义乌市", area_streets=[CHOUCHENG]
    )
    db.commit()
    return Area(
        w,
        w.p1.client,
        jiang,
        w.p2.client,
        other,
        other_client,
        other_cg,
        jiang_cg,
        district_sup,
        street_sup,
    )
