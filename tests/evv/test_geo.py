"""GCJ-02 <-> WGS84 and distances (dispatch.geo): published vectors, round trips, edges."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.geo import distance_m, gcj02_to_wgs84, out_of_china, to_wgs84, wgs84_to_gcj02

# Test vectors published with the reference implementation (github.com/googollee/eviltransform,
# the same three pairs in its Go, C#, Haskell and Python test suites): (WGS84, GCJ-02).
PUBLISHED = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),  # Shanghai
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),  # Shenzhen
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),  # Beijing
]


@pytest.mark.parametrize(("wgs", "gcj"), PUBLISHED)
def test_forward_matches_published_vectors(
    wgs: tuple[float, float], gcj: tuple[float, float]
) -> None:
    lat, lon = wgs84_to_gcj02(*wgs)
    assert lat == pytest.approx(gcj[0], abs=1e-9)
    assert lon == pytest.approx(gcj[1], abs=1e-9)


@pytest.mark.parametrize(("wgs", "gcj"), PUBLISHED)
def test_inverse_recovers_published_wgs84_within_centimetres(
    wgs: tuple[float, float], gcj: tuple[float, float]
) -> None:
    lat, lon = gcj02_to_wgs84(*gcj)
    assert abs(lat - wgs[0]) < 1e-7 and abs(lon - wgs[1]) < 1e-7
    assert distance_m(lat, lon, *wgs) < 0.05
    # The shift that the conversion removes is hundreds of metres (SPEC: 300-700 m).
    assert 300 < distance_m(*gcj, *wgs) < 700


# Mainland China, away from the bounding box's edge.
china_lat = st.floats(18.0, 53.0, allow_nan=False)
china_lon = st.floats(74.0, 134.0, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(lat=china_lat, lon=china_lon)
def test_round_trip_forward_of_inverse_is_identity(lat: float, lon: float) -> None:
    w_lat, w_lon = gcj02_to_wgs84(lat, lon)
    back = wgs84_to_gcj02(w_lat, w_lon)
    assert distance_m(*back, lat, lon) < 0.5
    assert abs(back[0] - lat) < 1e-7 and abs(back[1] - lon) < 1e-7


@settings(max_examples=300, deadline=None)
@given(lat=china_lat, lon=china_lon)
def test_inverse_of_forward_is_identity(lat: float, lon: float) -> None:
    g = wgs84_to_gcj02(lat, lon)
    w = gcj02_to_wgs84(*g)
    assert distance_m(*w, lat, lon) < 0.5


@pytest.mark.parametrize(
    "point",
    [(39.7392, -104.9903), (-27.4698, 153.0251), (-22.9068, -43.1729), (51.5, -0.12), (0.0, 0.0)],
    ids=["denver", "brisbane", "rio", "london", "null_island"],
)
def test_outside_china_no_shift(point: tuple[float, float]) -> None:
    assert out_of_china(*point)
    assert wgs84_to_gcj02(*point) == point
    assert gcj02_to_wgs84(*point) == point
    assert to_wgs84(*point, "gcj02") == point


def test_to_wgs84_dispatches_on_crs() -> None:
    gcj = PUBLISHED[0][1]
    assert to_wgs84(*gcj, "wgs84") == gcj
    assert distance_m(*to_wgs84(*gcj, "gcj02"), *PUBLISHED[0][0]) < 0.05
    with pytest.raises(ValueError, match="bd09"):
        to_wgs84(*gcj, "bd09")


def test_distance_of_known_arcs() -> None:
    # One degree of latitude on the router's sphere (geopy's R = 6371.009 km):
    # 2 * pi * 6371009 / 360 = 111195.08 m.
    assert distance_m(29.0, 120.0, 30.0, 120.0) == pytest.approx(111_195.08, abs=0.05)
    # A quarter of the equator: pi/2 * R.
    assert distance_m(0, 0, 0, 90) == pytest.approx(math.pi / 2 * 6371009.0, rel=1e-12)
    assert distance_m(29.3, 120.07, 29.3, 120.07) == 0.0
    # Antipodes do not blow up.
    assert distance_m(10, 20, -10, -160) == pytest.approx(math.pi * 6371009.0, rel=1e-7)


def test_distance_shanghai_beijing_against_geodesic() -> None:
    # Independent check: geopy's WGS84 ellipsoidal geodesic; the sphere is within 0.5 %.
    from geopy.distance import geodesic

    a, b = PUBLISHED[0][0], PUBLISHED[2][0]
    assert distance_m(*a, *b) == pytest.approx(geodesic(a, b).meters, rel=5e-3)
