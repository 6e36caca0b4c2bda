"""The row of a stored photo, shared by every use of the same bytes (reuse is for the rules)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
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
    """Get or create the row for ``facts``; racing uploads of the same bytes share one row.

    New bytes (the common case: every check-in's photo) cost one statement, an INSERT that
    does nothing when the hash is stored already (ON CONFLICT, no savepoint); known bytes
    one more, the look-up."""
    values: dict[str, Any] = {
        "sha256": facts.sha256,
        "phash": facts.phash,
        "mime": facts.mime,
        "size_bytes": facts.size_bytes,
        "width": facts.width,
        "height": facts.height,
        "exif_taken_at": facts.exif_taken_at,
        "exif_lat": facts.exif_lat,
        "exif_lon": facts.exif_lon,
        "provider_id": provider_id,
        "uploaded_by": actor.user_id,
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(Photo)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[Photo.sha256])
        .returning(Photo)
    )
    row = session.scalars(stmt).one_or_none()
    if row is None:  # stored before, or by a racing upload of the same bytes just now
        return session.scalars(select(Photo).where(Photo.sha256 == facts.sha256)).one()
    audit.record(session, actor, action, row, after=audit.snapshot(row))
    return row
