"""Travel models: geodesic distance with a detour factor, or an OSRM-compatible /table service."""

from __future__ import annotations

import json
import logging
import math
import urllib.error
import urllib.parse
import urllib.request
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
from geopy.distance import EARTH_RADIUS

from routing.model import Location

log = logging.getLogger(__name__)

# Average door-to-door speeds in a Chinese city, metres per second: walking 4.3 km/h, an
# e-bike at ~15 km/h (the legal limit is 25 km/h; lights and parking eat the rest), a car at
# ~25 km/h in urban traffic.
DEFAULT_SPEEDS_MPS: Mapping[str, float] = {"walk": 1.2, "ebike": 4.2, "car": 6.9}
# Ratio of street distance to great-circle distance; 1.3 is typical of dense urban grids.
DEFAULT_DETOUR_FACTOR = 1.3
UNREACHABLE_S = 10_000_000
# geopy's mean Earth radius in metres: the one radius of every great-circle distance here and in
# dispatch (geofences, the rules' prefilters).
EARTH_RADIUS_M = EARTH_RADIUS * 1000.0


class TravelServiceUnavailable(RuntimeError):
    """The road-network travel service could not be reached or gave an unusable answer."""


@dataclass(frozen=True)
class TravelMatrix:
    seconds: np.ndarray  # int64, shape (len(origins), len(destinations))
    metres: np.ndarray  # int64, same shape


@runtime_checkable
class TravelModel(Protocol):
    def matrix(
        self, origins: Sequence[Location], destinations: Sequence[Location], mode: str
    ) -> TravelMatrix:
        """Travel seconds and metres from every origin to every destination for a mode."""
        ...


def great_circle_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    """geopy's great_circle formula, vectorised: broadcasting arrays in degrees, metres out.

    Sines and cosines are taken per point and combined with the angle-difference identities,
    so a pair costs a few multiplications, a square root and an arctan2.
    """
    lat1, lon1, lat2, lon2 = (
        np.radians(np.asarray(a, dtype=float)) for a in (lat1, lon1, lat2, lon2)
    )
    sin_lat1, cos_lat1 = np.sin(lat1), np.cos(lat1)
    sin_lat2, cos_lat2 = np.sin(lat2), np.cos(lat2)
    sin_lon1, cos_lon1 = np.sin(lon1), np.cos(lon1)
    sin_lon2, cos_lon2 = np.sin(lon2), np.cos(lon2)
    cos_d = cos_lon2 * cos_lon1 + sin_lon2 * sin_lon1  # cos(lon2 - lon1)
    sin_d = sin_lon2 * cos_lon1 - cos_lon2 * sin_lon1  # sin(lon2 - lon1)
    a = cos_lat2 * sin_d
    b = cos_lat1 * sin_lat2 - sin_lat1 * cos_lat2 * cos_d
    y = np.sqrt(a * a + b * b)
    x = sin_lat1 * sin_lat2 + cos_lat1 * cos_lat2 * cos_d
    return np.arctan2(y, x) * EARTH_RADIUS_M


class GeodesicTravel:
    """Great-circle distance times a detour factor, at the travel mode's speed."""

    def __init__(
        self,
        detour_factor: float = DEFAULT_DETOUR_FACTOR,
        speeds_mps: Mapping[str, float] | None = None,
    ) -> None:
        if detour_factor < 1.0:
            raise ValueError("detour_factor must be at least 1.0")
        self.detour_factor = detour_factor
        self.speeds_mps = dict(DEFAULT_SPEEDS_MPS)
        self.speeds_mps.update(speeds_mps or {})

    def matrix(
        self, origins: Sequence[Location], destinations: Sequence[Location], mode: str
    ) -> TravelMatrix:
        if mode not in self.speeds_mps:
            raise ValueError(f"unknown travel mode {mode!r}; known: {sorted(self.speeds_mps)}")
        o = np.array([(p.lat, p.lon) for p in origins], dtype=float).reshape(-1, 2)
        d = np.array([(p.lat, p.lon) for p in destinations], dtype=float).reshape(-1, 2)
        metres = great_circle_m(o[:, None, 0], o[:, None, 1], d[None, :, 0], d[None, :, 1])
        metres = metres * self.detour_factor
        # Round travel time up: a schedule built on rounded-down times could be late in reality.
        seconds = np.ceil(metres / self.speeds_mps[mode] - 1e-9).astype(np.int64)
        return TravelMatrix(seconds=seconds, metres=np.rint(metres).astype(np.int64))


class OsrmTravel:
    """Road-network travel from an OSRM-compatible ``/table/v1/{profile}/`` HTTP service.

    Large matrices are fetched in blocks of ``block`` sources by ``block`` destinations (OSRM's
    default ``max-table-size`` is 100); each block is kept in an in-memory LRU cache.
    """

    DEFAULT_PROFILES: Mapping[str, str] = {"walk": "foot", "ebike": "bike", "car": "driving"}

    def __init__(
        self,
        base_url: str,
        profiles: Mapping[str, str] | None = None,
        speed_factors: Mapping[str, float] | None = None,
        timeout_s: float = 10.0,
        cache_size: int = 256,
        block: int = 100,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.profiles = dict(self.DEFAULT_PROFILES)
        self.profiles.update(profiles or {})
        # Multiplies the service's durations, e.g. 0.8 for e-bikes on a "bike" profile.
        self.speed_factors = dict(speed_factors or {})
        self.timeout_s = timeout_s
        self.cache_size = cache_size
        self.block = block
        self._cache: OrderedDict[tuple, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self.requests = 0

    def matrix(
        self, origins: Sequence[Location], destinations: Sequence[Location], mode: str
    ) -> TravelMatrix:
        if mode not in self.profiles:
            raise ValueError(f"unknown travel mode {mode!r}; known: {sorted(self.profiles)}")
        seconds = np.zeros((len(origins), len(destinations)), dtype=np.int64)
        metres = np.zeros_like(seconds)
        b = self.block
        for i in range(0, len(origins), b):
            for j in range(0, len(destinations), b):
                s, m = self._block(mode, tuple(origins[i : i + b]), tuple(destinations[j : j + b]))
                seconds[i : i + b, j : j + b] = s
                metres[i : i + b, j : j + b] = m
        factor = self.speed_factors.get(mode, 1.0)
        if factor != 1.0:
            seconds = np.ceil(seconds * factor).astype(np.int64)
        return TravelMatrix(seconds=seconds, metres=metres)

    def _block(self, mode, origins, destinations):
        key = (mode, origins, destinations)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        result = self._fetch(self.profiles[mode], origins, destinations)
        self._cache[key] = result
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return result

    def _fetch(self, profile, origins, destinations):
        coords = ";".join(f"{p.lon:.6f},{p.lat:.6f}" for p in (*origins, *destinations))
        query = urllib.parse.urlencode(
            {
                "sources": ";".join(str(i) for i in range(len(origins))),
                "destinations": ";".join(str(len(origins) + j) for j in range(len(destinations))),
                "annotations": "duration,distance",
            }
        )
        url = f"{self.base_url}/table/v1/{profile}/{coords}?{query}"
        if not url.startswith(("http://", "https://")):
            raise TravelServiceUnavailable(f"travel service URL must be http(s): {self.base_url!r}")
        self.requests += 1
        try:
            with urllib.request.urlopen(url, timeout=self.timeout_s) as resp:  # noqa: S310
                body = json.loads(resp.read().decode("utf-8"))
        except (urllib.error.URLError, OSError, TimeoutError, ValueError) as exc:
            raise TravelServiceUnavailable(
                f"travel service at {self.base_url} is unreachable or answered badly ({exc}); "
                "check the OSRM URL setting, or unset it to use geodesic travel"
            ) from exc
        if body.get("code") != "Ok" or "durations" not in body:
            raise TravelServiceUnavailable(
                f"travel service at {self.base_url} answered code={body.get('code')!r} "
                f"message={body.get('message')!r}"
            )
        durations = body["durations"]
        distances = body.get("distances") or [[None] * len(destinations) for _ in origins]
        seconds = np.array(
            [[UNREACHABLE_S if v is None else math.ceil(v) for v in row] for row in durations],
            dtype=np.int64,
        )
        metres = np.array(
            [[UNREACHABLE_S if v is None else round(v) for v in row] for row in distances],
            dtype=np.int64,
        )
        if seconds.shape != (len(origins), len(destinations)):
            raise TravelServiceUnavailable(
                f"travel service returned a {seconds.shape} table for "
                f"{len(origins)}x{len(destinations)} locations"
            )
        return seconds, metres
