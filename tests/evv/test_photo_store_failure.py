"""A photo that cannot be written (disk full, read-only store) is a coded 503; nothing is stored."""

from __future__ import annotations

import errno
import os
import uuid
from dataclasses import replace
from typing import Any

import pytest

from dispatch import config, photos
from tests.evv.conftest import Evv, jpeg


def fresh_jpeg() -> bytes:
    """A photo no other test has stored (a stored one is not written again)."""
    n = uuid.uuid4().int
    return jpeg(seed=n % 256, size=(64 + n % 61, 48), taken=f"2026:11:23 09:{n % 60:02d}:00")


def full_disk(*_args: Any) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.fixture(params=["disk full", "read-only store"])
def broken_store(request: Any, monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Any):
    if request.param == "disk full":
        monkeypatch.setattr(photos.os, "fsync", full_disk)
    else:
        # A store whose root sits under a file cannot be created (as root, too).
        blocker = tmp_path / "not-a-directory"
        blocker.write_bytes(b"")
        broken = replace(settings, photo_dir=blocker / "photos")
        monkeypatch.setattr(config, "current", lambda: broken)
    return request.param


def assert_unavailable(r: Any) -> None:
    assert r.status_code == 503, r.get_data(as_text=True)
    assert r.json["code"] == "PHOTO_STORE_UNAVAILABLE"
    assert int(r.headers["Retry-After"]) > 0


def test_a_check_in_whose_photo_cannot_be_written_stores_nothing(evv: Evv, broken_store):
    visit = evv.visit()
    before = evv.counts()
    r = evv.post(visit.id, "check-in", evv.event(visit), photo=fresh_jpeg())
    assert_unavailable(r)
    assert evv.counts() == before
    # The phone retries once the store is back: the same event is then stored once.


def test_a_sync_whose_photo_cannot_be_written_fails_whole(evv: Evv, broken_store):
    visit = evv.visit()
    before = evv.counts()
    events = [
        {**evv.event(visit), "visit_id": visit.id, "kind": "check_in", "photo": "p1"},
    ]
    r = evv.sync(events, {"p1": fresh_jpeg()})
    assert_unavailable(r)
    assert evv.counts() == before


def test_the_retry_after_the_store_is_back_is_stored_once(evv: Evv, monkeypatch):
    visit = evv.visit()
    event = evv.event(visit)
    photo = fresh_jpeg()
    with monkeypatch.context() as m:
        m.setattr(photos.os, "fsync", full_disk)
        assert_unavailable(evv.post(visit.id, "check-in", event, photo=photo))
    before = evv.counts()
    assert evv.post(visit.id, "check-in", event, photo=photo).status_code == 201
    after = evv.counts()
    assert (after.events, after.photos, after.files) == (
        before.events + 1,
        before.photos + 1,
        before.files + 1,
    )
    assert os.path.isdir(evv.photo_dir)
