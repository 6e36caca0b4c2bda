"""Travel models: geodesic arithmetic and speed, and the OSRM client against a local server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from geopy.distance import great_circle

from routing import (
    DEFAULT_DETOUR_FACTOR,
    DEFAULT_SPEEDS_MPS,
    GeodesicTravel,
    Location,
    OsrmTravel,
    TravelModel,
    TravelServiceUnavailable,
)

HANGZHOU = [Location(30.2741, 120.1551), Location(30.2592, 120.2191), Location(30.3120, 120.0860)]


def test_geodesic_matches_geopy_great_circle():
    m = GeodesicTravel(detour_factor=1.0).matrix(HANGZHOU, HANGZHOU, "car")
    for i, a in enumerate(HANGZHOU):
        for j, b in enumerate(HANGZHOU):
            assert m.metres[i, j] == round(great_circle((a.lat, a.lon), (b.lat, b.lon)).m)


def test_geodesic_detour_and_speed():
    # 1.0 km east-west apart times the 1.3 detour is 1300 m; an e-bike at 4.2 m/s needs
    # 1300 / 4.2 = 309.5 s, rounded up to 310 s; walking at 1.2 m/s, 1083.3 -> 1084 s.
    a = Location(30.0, 120.0)
    gc = great_circle((30.0, 120.0), (30.0, 120.01)).m
    b = Location(30.0, 120.0 + 0.01 * 1000 / gc)  # exactly 1 km away
    t = GeodesicTravel()
    assert DEFAULT_DETOUR_FACTOR == 1.3 and DEFAULT_SPEEDS_MPS["ebike"] == 4.2
    ebike = t.matrix([a], [b], "ebike")
    assert int(ebike.metres[0, 0]) == 1300
    assert int(ebike.seconds[0, 0]) == 310
    assert int(t.matrix([a], [b], "walk").seconds[0, 0]) == 1084
    faster = GeodesicTravel(detour_factor=1.0, speeds_mps={"ebike": 5.0})
    assert int(faster.matrix([a], [b], "ebike").seconds[0, 0]) == 200  # 1000 m / 5 m/s


def test_geodesic_rejects_unknown_mode():
    with pytest.raises(ValueError, match="unknown travel mode"):
        GeodesicTravel().matrix(HANGZHOU, HANGZHOU, "horse")


def test_thousand_by_thousand_matrix():
    rng = np.random.default_rng(0)
    pts = [Location(30.2 + rng.random() * 0.2, 120.0 + rng.random() * 0.2) for _ in range(1000)]
    # Its speed (under a second) is measured by bench/homecare_routing.py, not here.
    m = GeodesicTravel().matrix(pts, pts, "ebike")
    assert m.seconds.shape == (1000, 1000) and m.seconds.dtype == np.int64
    assert isinstance(GeodesicTravel(), TravelModel)


class _Osrm(BaseHTTPRequestHandler):
    calls: list[str] = []

    def do_GET(self):
        _Osrm.calls.append(self.path)
        url = urlsplit(self.path)  # not urlparse: it cuts the path at ";"
        coords = url.path.split("/")[-1].split(";")
        q = parse_qs(url.query)
        src = [int(x) for x in q["sources"][0].split(";")]
        dst = [int(x) for x in q["destinations"][0].split(";")]
        # Duration = 60 s per index apart, distance = 500 m per index apart, on coordinates.
        xs = [float(c.split(",")[0]) for c in coords]
        body = {
            "code": "Ok",
            "durations": [[abs(xs[i] - xs[j]) * 60 for j in dst] for i in src],
            "distances": [[abs(xs[i] - xs[j]) * 500 for j in dst] for i in src],
        }
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def osrm():
    server = HTTPServer(("127.0.0.1", 0), _Osrm)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Osrm.calls = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_osrm_table_blocks_and_cache(osrm):
    # Longitudes 0..4: travel i -> j is 60 s x |i - j|, 500 m x |i - j|. Blocks of 2 make a
    # 5 x 5 matrix out of 3 x 3 = 9 requests; asking again is served from the cache.
    pts = [Location(0.0, float(i)) for i in range(5)]
    t = OsrmTravel(osrm, block=2)
    m = t.matrix(pts, pts, "car")
    assert m.seconds[0, 4] == 240 and m.metres[4, 1] == 1500
    assert len(_Osrm.calls) == 9
    assert "/table/v1/driving/" in _Osrm.calls[0]
    t.matrix(pts, pts, "car")
    assert len(_Osrm.calls) == 9


def test_osrm_unreachable_raises_clear_error():
    t = OsrmTravel("http://127.0.0.1:9", timeout_s=1)  # discard port: nothing listens
    with pytest.raises(TravelServiceUnavailable, match="unreachable"):
        t.matrix(HANGZHOU, HANGZHOU, "car")
