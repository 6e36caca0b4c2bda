"""Schema building blocks shared by every resource."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates_schema,
)

from dispatch import config

PAGING = frozenset({"page", "page_size"})
# PostgreSQL integer columns hold up to 2**31-1; larger ids are bad input, not a 500.
MAX_INT = 2**31 - 1


class BaseSchema(Schema):
    """Unknown fields are an error, so that a typo never passes silently.

    Every input field is in range by construction (``bound_field``): an integer without its own
    range fits PostgreSQL's ``integer``, and a time of day carries no UTC offset.
    """

    class Meta:
        unknown = RAISE
        ordered = True

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        bound_field(field_obj)


def no_offset(value: time) -> None:
    """A time of day is local wall-clock time; an offset would make it an instant."""
    if value.tzinfo is not None:
        raise ValidationError(
            "A time of day has no UTC offset: send HH:MM or HH:MM:SS in local time "
            f"({config.current().timezone})."
        )


def bound_field(field_obj: fields.Field) -> None:
    """Add the range every input field of its kind must have, unless it states its own."""
    if field_obj.dump_only:
        return
    if isinstance(field_obj, fields.Integer) and not any(
        isinstance(v, validate.Range) for v in field_obj.validators
    ):
        field_obj.validators.append(validate.Range(-MAX_INT - 1, MAX_INT))
    elif isinstance(field_obj, fields.Time) and no_offset not in field_obj.validators:
        field_obj.validators.append(no_offset)
    elif isinstance(field_obj, fields.List) and field_obj.inner is not None:
        bound_field(field_obj.inner)


class QuerySchema(BaseSchema):
    """Query-string filters; paging parameters belong to flask-smorest."""

    class Meta:
        unknown = RAISE
        ordered = True

    # webargs loads the query string with unknown=EXCLUDE whatever Meta says, so a misspelt
    # filter (?satus=open) would silently list everything; refuse unknown names here instead.
    @pre_load
    def _refuse_unknown(self, data: Any, **_kwargs: Any) -> Any:
        known = {f.data_key or name for name, f in self.load_fields.items()} | PAGING
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValidationError({name: ["Unknown field."] for name in unknown})
        return data


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
        local = value.astimezone(config.zone())
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


def no_control_chars(value: str) -> None:
    """PostgreSQL text cannot hold NUL, and no name or address needs control characters."""
    if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in value):
        raise ValidationError("Control characters are not allowed.")


def text(max_len: int, description: str, **kwargs: Any) -> fields.String:
    return fields.String(
        validate=[
            validate.Length(min=1 if kwargs.get("required") else 0, max=max_len),
            no_control_chars,
        ],
        metadata={"description": description},
        **kwargs,
    )


def ident(description: str, **kwargs: Any) -> fields.Integer:
    """A reference to another record by id (a positive 32-bit integer)."""
    kwargs.setdefault("strict", True)
    return fields.Integer(
        validate=validate.Range(1, MAX_INT),
        metadata={"description": description},
        **kwargs,
    )


def count(low: int, high: int, description: str, **kwargs: Any) -> fields.Integer:
    """A whole number within ``low..high`` (minutes, people, days)."""
    kwargs.setdefault("strict", True)
    return fields.Integer(
        validate=validate.Range(low, high),
        metadata={"description": f"{description} ({low}..{high})"},
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


def decimal_properties(self: Any, field: fields.Field, ret: dict[str, Any], **_kw: Any) -> dict:
    """apispec attribute function: a Decimal sent as a string is documented as one.

    ``"40.00"`` is a string with a decimal pattern; its range stays numeric (``minimum: 0``),
    where apispec would copy the Decimal bounds as strings, which is not a valid schema.
    """
    if not isinstance(field, fields.Decimal):
        return {}
    props: dict[str, Any] = {}
    if field.as_string:
        props.update(type="string", format="decimal", pattern=r"^-?[0-9]+(\.[0-9]+)?$")
    for v in field.validators:
        if isinstance(v, validate.Range):
            if v.min is not None:
                props["minimum"] = float(v.min)
            if v.max is not None:
                props["maximum"] = float(v.max)
    return props
