"""SPEC "Bad input" for the caregiver app: a 4xx with a code, fast, and nothing stored changes."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from PIL import Image

from dispatch.photos import MAX_PHOTO_BYTES
from tests.evv.conftest import Evv, at, jpeg, local_iso, png, png_bomb


def _gif() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16)).save(buf, "GIF")
    return buf.getvalue()


def _webp() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16)).save(buf, "WEBP")
    return buf.getvalue()


def _oversize() -> bytes:
    # A real JPEG followed by padding: big enough to cross the 8 MiB cap by one KiB.
    data = jpeg(seed=3)
    return data + b"\x00" * (MAX_PHOTO_BYTES + 1024 - len(data))


BAD_PHOTOS = [
    ("bomb", png_bomb, 413, "PHOTO_TOO_LARGE"),
    ("bomb_between_1x_and_2x", lambda: png_bomb(7000, 7000), 413, "PHOTO_TOO_LARGE"),
    ("oversize", _oversize, 413, "PHOTO_TOO_LARGE"),
    ("text_named_jpg", lambda: b"this is not an image at all", 415, "PHOTO_NOT_IMAGE"),
    ("html", lambda: b"<html><script>alert(1)</script></html>", 415, "PHOTO_NOT_IMAGE"),
    ("gif", _gif, 415, "PHOTO_NOT_IMAGE"),
    ("webp", _webp, 415, "PHOTO_NOT_IMAGE"),
    ("truncated_jpeg", lambda: jpeg(seed=4, size=(256, 256))[:300], 415, "PHOTO_NOT_IMAGE"),
    (
        "jpeg_magic_then_garbage",
        lambda: b"\xff\xd8\xff\xe0" + b"junk" * 100,
        415,
        "PHOTO_NOT_IMAGE",
    ),
    ("empty", lambda: b"", 415, "PHOTO_NOT_IMAGE"),
]


@pytest.mark.parametrize(
    ("make", "status", "code"), [b[1:] for b in BAD_PHOTOS], ids=[b[0] for b in BAD_PHOTOS]
)
def test_bad_photo_is_refused_quickly_and_changes_nothing(
    evv: Evv, make: Any, status: int, code: str
) -> None:
    visit = evv.visit()
    data = make()
    before = evv.counts()
    # The name and declared type say JPEG: only the content counts.
    r = evv.post(visit.id, "check-in", evv.event(visit), photo=data, filename="proof.jpg")
    assert (r.status_code, r.json["code"]) == (status, code)
    assert r.json["message"]
    assert evv.counts() == before


def test_png_is_accepted_whatever_its_declared_type(evv: Evv) -> None:
    visit = evv.visit()
    r = evv.post(
        visit.id,
        "check-in",
        evv.event(visit),
        photo=png(),
        filename="x.bin",
        content_type="application/octet-stream",
    )
    assert r.status_code == 201, r.json


BAD_EVENTS: list[tuple[str, dict[str, Any], str]] = [
    ("lat_above_90", {"lat": 90.5}, "lat"),
    ("lat_below_-90", {"lat": -91}, "lat"),
    ("lon_above_180", {"lon": 180.01}, "lon"),
    ("lon_below_-180", {"lon": -200}, "lon"),
    ("lat_not_a_number", {"lat": "north"}, "lat"),
    ("lat_null", {"lat": None}, "lat"),
    ("negative_accuracy", {"accuracy_m": -5}, "accuracy_m"),
    ("unknown_crs", {"crs": "bd09"}, "crs"),
    ("key_not_uuid", {"idempotency_key": "1234"}, "idempotency_key"),
    ("naive_device_time", {"device_time": "2026-11-23T09:20:00"}, "device_time"),
    ("device_time_garbage", {"device_time": "yesterday"}, "device_time"),
    ("unknown_field", {"speed_kmh": 3}, "speed_kmh"),
    ("outcome_on_check_in", {"outcome": "completed"}, "outcome"),
]


@pytest.mark.parametrize(
    ("change", "field"), [b[1:] for b in BAD_EVENTS], ids=[b[0] for b in BAD_EVENTS]
)
def test_bad_event_field_is_422_naming_the_field(
    evv: Evv, change: dict[str, Any], field: str
) -> None:
    visit = evv.visit()
    before = evv.counts()
    r = evv.post(visit.id, "check-in", evv.event(visit, **change))
    assert (r.status_code, r.json["code"]) == (422, "VALIDATION_ERROR")
    assert field in r.json["errors"]["event"]
    assert evv.counts() == before


def test_missing_required_field_is_422(evv: Evv) -> None:
    visit = evv.visit()
    event = evv.event(visit)
    del event["lat"]
    r = evv.post(visit.id, "check-in", event)
    assert r.status_code == 422
    assert "lat" in r.json["errors"]["event"]


@pytest.mark.parametrize("value", [float("nan"), float("inf")], ids=["nan", "infinity"])
def test_non_finite_coordinates_are_422(evv: Evv, value: float) -> None:
    visit = evv.visit()
    # json.dumps writes NaN / Infinity, which Python's parser accepts: the schema must not.
    r = evv.post(visit.id, "check-in", json.dumps(evv.event(visit, lat=value)))
    assert (r.status_code, r.json["code"]) == (422, "VALIDATION_ERROR")


def test_invalid_outcome_is_422(evv: Evv) -> None:
    visit = evv.visit()
    evv.post(visit.id, "check-in", evv.event(visit, when=at(9, 20)))
    r = evv.post(visit.id, "check-out", evv.event(visit, when=at(10), outcome="bored"))
    assert r.status_code == 422
    assert "outcome" in r.json["errors"]["event"]


def test_device_time_years_away_is_422(evv: Evv) -> None:
    visit = evv.visit()
    r = evv.post(visit.id, "check-in", evv.event(visit, device_time="1970-01-01T08:00:00+08:00"))
    assert (r.status_code, r.json["code"]) == (422, "DEVICE_TIME_IMPLAUSIBLE")


def test_event_part_not_json_is_422(evv: Evv) -> None:
    visit = evv.visit()
    r = evv.post(visit.id, "check-in", "{not json")
    assert (r.status_code, r.json["code"]) == (422, "MALFORMED_JSON")


def test_event_part_a_list_is_422(evv: Evv) -> None:
    visit = evv.visit()
    r = evv.post(visit.id, "check-in", "[1, 2]")
    assert (r.status_code, r.json["code"]) == (422, "VALIDATION_ERROR")


def test_missing_event_part_is_422(evv: Evv) -> None:
    visit = evv.visit()
    evv.world.db.commit()
    r = evv.client.post(
        f"/api/v1/visits/{visit.id}/check-in",
        data={"photo": (io.BytesIO(jpeg()), "p.jpg", "image/jpeg")},
        content_type="multipart/form-data",
        headers=evv.world.headers(evv.world.p1.caregiver_user),
    )
    assert r.status_code == 422
    assert "event" in r.json["errors"]


def test_json_body_instead_of_multipart_is_422(evv: Evv) -> None:
    visit = evv.visit()
    evv.world.db.commit()
    r = evv.client.post(
        f"/api/v1/visits/{visit.id}/check-in",
        json=evv.event(visit),
        headers=evv.world.headers(evv.world.p1.caregiver_user),
    )
    assert r.status_code == 422
    assert r.json["code"] == "VALIDATION_ERROR"


def test_without_token_is_401(evv: Evv) -> None:
    visit = evv.visit()
    r = evv.client.post(f"/api/v1/visits/{visit.id}/check-in", data={"event": "{}"})
    assert (r.status_code, r.json["code"]) == (401, "UNAUTHENTICATED")


def test_error_message_in_chinese_on_request(evv: Evv) -> None:
    visit = evv.visit()
    evv.world.db.commit()
    r = evv.client.post(
        f"/api/v1/visits/{visit.id}/check-out",
        data={"event": json.dumps(evv.event(visit, device_time=local_iso(at(10))))},
        content_type="multipart/form-data",
        headers={
            **evv.world.headers(evv.world.p1.caregiver_user),
            "Accept-Language": "zh-CN",
        },
    )
    assert (r.status_code, r.json["code"]) == (409, "NOT_CHECKED_IN")
    assert r.json["message"] == "请先签到再签退。"
