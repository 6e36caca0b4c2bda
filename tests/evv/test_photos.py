"""Photo proof: what is read from a photo, dedupe by content, the store, and who may see it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import imagehash
import pytest
from PIL import Image
from sqlalchemy import select

from dispatch.models import Photo, Role, VisitEvent
from dispatch.photos import FileSystemPhotoStore, inspect_photo, sha256_of
from tests.evv.conftest import Evv, at, jpeg, png


def test_exif_capture_time_and_gps_are_read(evv: Evv) -> None:
    visit = evv.visit()
    # 08:05 local with no offset in the file: read as Asia/Shanghai, i.e. 00:05 UTC.
    photo = jpeg(seed=60, taken="2026:11:23 08:05:00", gps=(29.3069, 120.0763))
    r = evv.post(visit.id, "check-in", evv.event(visit), photo=photo)
    row = evv.world.db.get(Photo, r.json["photo_id"])
    assert row.exif_taken_at == datetime(2026, 11, 23, 0, 5, tzinfo=UTC)
    assert row.exif_lat == pytest.approx(29.3069, abs=1e-6)
    assert row.exif_lon == pytest.approx(120.0763, abs=1e-6)
    assert (row.mime, row.width, row.height, row.size_bytes) == ("image/jpeg", 64, 48, len(photo))
    assert row.sha256 == sha256_of(photo)
    assert row.provider_id == evv.world.p1.provider.id
    assert row.uploaded_by == evv.world.p1.caregiver_user.id


def test_phash_is_the_perceptual_hash_of_the_image(evv: Evv) -> None:
    photo = jpeg(seed=61, size=(320, 240))
    facts = inspect_photo(photo)
    import io

    with Image.open(io.BytesIO(photo)) as img:
        full = imagehash.phash(img)
    # Decoding at reduced scale (JPEG draft) may move a bit or two, never more.
    assert imagehash.hex_to_hash(facts.phash) - full <= 4


def test_exif_offset_is_honoured() -> None:
    from PIL import ExifTags

    img = Image.new("RGB", (16, 16))
    exif = Image.Exif()
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    sub[ExifTags.Base.DateTimeOriginal] = "2026:11:23 08:05:00"
    sub[ExifTags.Base.OffsetTimeOriginal] = "+02:00"
    import io

    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    assert inspect_photo(buf.getvalue()).exif_taken_at == datetime(2026, 11, 23, 6, 5, tzinfo=UTC)


def test_photo_without_exif_has_no_capture_facts() -> None:
    facts = inspect_photo(png())
    assert (facts.mime, facts.exif_taken_at, facts.exif_lat, facts.exif_lon) == (
        "image/png",
        None,
        None,
        None,
    )


def test_same_photo_on_two_visits_is_one_photo_row(evv: Evv) -> None:
    # Reuse is evidence for PHOTO_REUSED: both events point at the same row.
    a, b = evv.visit(), evv.visit(start_hour=13)
    photo = jpeg(seed=62)
    ra = evv.post(a.id, "check-in", evv.event(a), photo=photo)
    rb = evv.post(b.id, "check-in", evv.event(b, when=at(13, 20)), photo=photo)
    assert ra.status_code == rb.status_code == 201
    assert ra.json["photo_id"] == rb.json["photo_id"]
    assert (
        len(evv.world.db.scalars(select(Photo).where(Photo.sha256 == sha256_of(photo))).all()) == 1
    )
    ids = evv.world.db.scalars(select(VisitEvent.photo_id)).all()
    assert ids == [ra.json["photo_id"]] * 2


def test_photo_is_served_to_those_who_may_see_it(evv: Evv) -> None:
    w = evv.world
    visit = evv.visit()
    photo = jpeg(seed=63)
    photo_id = evv.post(visit.id, "check-in", evv.event(visit), photo=photo).json["photo_id"]
    colleague = w.caregiver_at(w.p1.provider, "CG170")
    colleague_user = w.user(
        "caregiver1_7", Role.caregiver, w.p1.provider, caregiver_id=colleague.id
    )
    allowed = [w.p1.caregiver_user, w.p1.dispatcher, w.p1.provider_admin, w.finance, w.admin]
    for user in allowed:
        r = evv.get(f"/api/v1/photos/{photo_id}", user)
        assert r.status_code == 200, (user.username, r.json)
        assert r.data == photo
        assert r.mimetype == "image/jpeg"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
    for user in (colleague_user, w.p2.dispatcher, w.p2.provider_admin, w.p2.caregiver_user):
        r = evv.get(f"/api/v1/photos/{photo_id}", user)
        assert (r.status_code, r.json["code"]) == (404, "PHOTO_NOT_FOUND"), user.username
    r = evv.get("/api/v1/photos/987654", w.admin)
    assert (r.status_code, r.json["code"]) == (404, "PHOTO_NOT_FOUND")


def test_visit_events_of_another_provider_are_404(evv: Evv) -> None:
    visit = evv.visit()
    evv.post(visit.id, "check-in", evv.event(visit))
    r = evv.get(f"/api/v1/visits/{visit.id}/events", evv.world.p2.dispatcher)
    assert (r.status_code, r.json["code"]) == (404, "VISIT_NOT_FOUND")
    assert evv.get(f"/api/v1/visits/{visit.id}/events", evv.world.finance).status_code == 200


# --- the store ----------------------------------------------------------------------------


def test_store_writes_by_content_address(tmp_path: Path) -> None:
    store = FileSystemPhotoStore(tmp_path)
    data = jpeg(seed=64)
    digest = sha256_of(data)
    store.put(digest, data)
    store.put(digest, data)  # idempotent
    assert store.exists(digest)
    assert store.get(digest) == data
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [digest]
    assert (tmp_path / digest[:2] / digest[2:4] / digest).is_file()


def test_store_refuses_content_that_does_not_match_its_address(tmp_path: Path) -> None:
    store = FileSystemPhotoStore(tmp_path)
    with pytest.raises(ValueError, match="does not match"):
        store.put(sha256_of(b"a"), b"b")
    with pytest.raises(ValueError, match="SHA-256"):
        store.path_of("../../etc/passwd")
    assert list(tmp_path.rglob("*")) == []
