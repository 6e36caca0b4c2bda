"""Pure coordinate helpers: GCJ-02 (China's offset datum) to WGS84, and great-circle distances.

Distances are the router's (``routing.great_circle_m``): a geofence and a planned route measure
the Earth alike.

The GCJ-02 forward transform is the public "eviltransform" formulation (Krasovsky ellipsoid,
a = 6378245 m, e² = 0.00669342162296594323); the inverse is a fixed-point iteration on it.
See docs/coordinates.md for the method, its accuracy and the reference points the tests use.
"""

from __future__ import annotations

import math

from geopy.distance import geodesic

from routing import great_circle_m

# Krasovsky 1940, as the GCJ-02 reference formulation uses it.
_A = 6378245.0
_EE = 0.00669342162296594323

# The inverse stops when the forward image is this close to the target (degrees, ~1 mm).
_INVERSE_TOLERANCE_DEG = 1e-9
_INVERSE_MAX_ITERATIONS = 30


def out_of_china(lat: float, lon: float) -> bool:
    """The reference implementation's bounding box: outside it GCJ-02 equals WGS84."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _offset(lat: float, lon: float) -> tuple[float, float]:
    d_lat = _transform_lat(lon - 105.0, lat - 35.0)
    d_lon = _transform_lon(lon - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return d_lat, d_lon


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """WGS84 -> GCJ-02 (the forward transform; the identity outside China)."""
    if out_of_china(lat, lon):
        return lat, lon
    d_lat, d_lon = _offset(lat, lon)
    return lat + d_lat, lon + d_lon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """GCJ-02 -> WGS84 by iterating the forward transform until it lands on the input.

    The offset varies slowly (its gradient is ~1e-5 per degree), so the fixed-point iteration
    is a strong contraction: three or four steps reach the 1e-9° tolerance.
    """
    if out_of_china(lat, lon):
        return lat, lon
    w_lat, w_lon = lat, lon
    for _ in range(_INVERSE_MAX_ITERATIONS):
        g_lat, g_lon = wgs84_to_gcj02(w_lat, w_lon)
        e_lat, e_lon = g_lat - lat, g_lon - lon
        w_lat, w_lon = w_lat - e_lat, w_lon - e_lon
        if abs(e_lat) < _INVERSE_TOLERANCE_DEG and abs(e_lon) < _INVERSE_TOLERANCE_DEG:
            break
    return w_lat, w_lon


def to_wgs84(lat: float, lon: float, crs: str) -> tuple[float, float]:
    """Coordinates as the device sent them (``crs`` "wgs84" or "gcj02") in WGS84."""
    if crs == "gcj02":
        return gcj02_to_wgs84(lat, lon)
    if crs == "wgs84":
        return lat, lon
    raise ValueError(f"unknown coordinate system {crs!r}")


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS84 points, on the router's sphere: good to
    ~0.5 % against the ellipsoid, ample for geofences (``rules.data.farther_than`` settles the
    close calls on the ellipsoid)."""
    return float(great_circle_m(lat1, lon1, lat2, lon2))


def geodesic_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance in metres on the WGS84 ellipsoid (geopy's geodesic, Karney's method): what a
    geofence flag reports, and the one figure shown for "how far from home" anywhere."""
    return float(geodesic((lat1, lon1), (lat2, lon2)).meters)
