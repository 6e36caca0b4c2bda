"""Schema building blocks shared by every resource."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from dispatch import config


class BaseSchema(Schema):
    """Unknown fields are an error, so that a typo never passes silently."""

    class Meta:
        unknown = RAISE
        ordered = True


class QuerySchema(BaseSchema):
    """Query-string filters; paging parameters belong to flask-smorest."""

    class Meta:
        unknown = RAISE
        ordered = True


class Instant(fields.AwareDateTime):
    """An ISO 8601 instant with offset; shown in the platform's zone (Asia/Shanghai)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {})
        kwargs["metadata"].setdefault(
            "description", "ISO 8601 with offset, e.g. 2026-11-23T08:05:00+08:00"
        )
        super().__init__(format="iso", **kwargs)

    def _serialize(self, value: datetime | None, attr: Any, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        local = value.astimezone(ZoneInfo(config.current().timezone))
        return local.isoformat()


def lat_field(**kwargs: Any) -> fields.Float:
    return fields.Float(
        validate=validate.Range(-90, 90),
        metadata={"description": "Latitude, WGS84 degrees (-90..90)."},
        **kwargs,
    )


def lon_field(**kwargs: Any) -> fields.Float:
    return fields.Float(
        validate=validate.Range(-180, 180),
        metadata={"description": "Longitude, WGS84 degrees (-180..180)."},
        **kwargs,
    )


def text(max_len: int, description: str, **kwargs: Any) -> fields.String:
    return fields.String(
        validate=validate.Length(min=1 if kwargs.get("required") else 0, max=max_len),
        metadata={"description": description},
        **kwargs,
    )


def ordered_pair(start: str, end: str, *, strict: bool = True) -> Any:
    """A schema validator: ``end`` must come after ``start`` when both are present."""

    @validates_schema
    def _check(self: Schema, data: dict[str, Any], **_kwargs: Any) -> None:
        a, b = data.get(start), data.get(end)
        if a is not None and b is not None and (b <= a if strict else b < a):
            raise ValidationError(f"{end} must be after {start}.", field_name=end)

    return _check
