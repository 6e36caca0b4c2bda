"""The row of a stored photo, shared by every use of the same bytes (reuse is for the rules)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch import audit
from dispatch.models import Photo
from dispatch.photos import PhotoFacts
from dispatch.tenancy import Actor


def find_photo(session: Session, sha256: str) -> Photo | None:
    return session.scalars(select(Photo).where(Photo.sha256 == sha256)).one_or_none()


def photo_row(
    session: Session, actor: Actor, facts: PhotoFacts, provider_id: int | None, action: str
) -> Photo:
    """Get or create the row for ``facts``; racing uploads of the same bytes share one row."""
    found = find_photo(session, facts.sha256)
    if found is not None:
        return found
    row = Photo(
        sha256=facts.sha256,
        phash=facts.phash,
        mime=facts.mime,
        size_bytes=facts.size_bytes,
        width=facts.width,
        height=facts.height,
        exif_taken_at=facts.exif_taken_at,
        exif_lat=facts.exif_lat,
        exif_lon=facts.exif_lon,
        provider_id=provider_id,
        uploaded_by=actor.user_id,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # the same bytes, uploaded at the same moment
        return session.scalars(select(Photo).where(Photo.sha256 == facts.sha256)).one()
    audit.record(session, actor, action, row, after=audit.snapshot(row))
    return row
