"""Schemas of the caregiver app: route, check-in/out events, offline sync, photos."""

from __future__ import annotations

import json
from typing import Any

from flask_smorest.fields import Upload
from marshmallow import INCLUDE, Schema, ValidationError, fields, validate, validates_schema
from werkzeug.datastructures import FileStorage

from api.errors import wants_chinese
from api.fields import BaseSchema, Instant, QuerySchema, lat_field, lon_field, text
from dispatch import error_codes
from dispatch.errors import DomainError
from dispatch.models import Crs, EventKind, VisitOutcome, VisitStatus
from dispatch.photos import MAX_PHOTO_BYTES
from dispatch.services.checkins import SyncEntry, SyncResult

# --- route -------------------------------------------------------------------------------------


class MyVisitsQuerySchema(QuerySchema):
    date = fields.Date(
        load_default=None,
        metadata={"description": "YYYY-MM-DD; default today in the platform's zone."},
    )


class RouteServiceSchema(Schema):
    code = fields.String()
    name = fields.String()


class RouteClientSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    address = fields.String()
    phone = fields.String(allow_none=True)
    lat = fields.Float(metadata={"description": "WGS84 latitude of the home."})
    lon = fields.Float(metadata={"description": "WGS84 longitude of the home."})


class MyVisitSchema(Schema):
    id = fields.Integer()
    sequence = fields.Integer(allow_none=True, metadata={"description": "Position on the route."})
    status = fields.Enum(VisitStatus, by_value=True)
    outcome = fields.Enum(VisitOutcome, by_value=True, allow_none=True)
    service = fields.Nested(RouteServiceSchema)
    client = fields.Nested(RouteClientSchema)
    window_start = Instant()
    window_end = Instant()
    planned_start = Instant(allow_none=True)
    duration_min = fields.Integer()
    photo_required = fields.Boolean()
    caregivers_needed = fields.Integer()
    checked_in = fields.Boolean(metadata={"description": "You have checked in."})
    checked_out = fields.Boolean(metadata={"description": "You have checked out."})


# --- events ------------------------------------------------------------------------------------


class EvvEventSchema(BaseSchema):
    """The JSON of a check-in, sent in the multipart part ``event``."""

    idempotency_key = fields.UUID(
        required=True,
        metadata={"description": "UUID made on the phone: the event's identity for replays."},
    )
    device_time = Instant(required=True)
    lat = lat_field(required=True)
    lon = lon_field(required=True)
    accuracy_m = fields.Float(
        load_default=None,
        allow_none=True,
        validate=validate.Range(0, 100_000),
        metadata={"description": "Reported GPS accuracy, metres (radius)."},
    )
    crs = fields.Enum(
        Crs,
        by_value=True,
        load_default=Crs.wgs84,
        metadata={"description": "Datum of lat/lon: wgs84, or gcj02 (AMap/Tencent); stored WGS84."},
    )
    mock_location = fields.Boolean(
        load_default=False, metadata={"description": "The OS says the location is mocked."}
    )
    device_id = text(128, "Stable id of the phone.", load_default=None, allow_none=True)
    offline = fields.Boolean(
        load_default=False, metadata={"description": "Recorded without network; sent later."}
    )


class EvvCheckOutSchema(EvvEventSchema):
    """A check-out: the event fields plus what happened."""

    outcome = fields.Enum(
        VisitOutcome,
        by_value=True,
        load_default=VisitOutcome.completed,
        metadata={"description": "completed (billable), client_absent or refused (not billed)."},
    )
    tasks_done = fields.List(
        fields.String(validate=validate.Length(min=1, max=100)),
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=50),
        metadata={"description": "Tasks performed, e.g. 擦窗, 拖地."},
    )
    note = text(2000, "Free note, e.g. why the visit failed.", load_default=None, allow_none=True)


class EvvSyncEventSchema(EvvCheckOutSchema):
    """One event of an offline batch."""

    visit_id = fields.Integer(required=True)
    kind = fields.Enum(EventKind, by_value=True, required=True)
    photo = text(100, "Name of the multipart file part holding this event's photo.")
    outcome = fields.Enum(VisitOutcome, by_value=True, load_default=None, allow_none=True)

    @validates_schema
    def _check_out_only(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("kind") == EventKind.check_in:
            for name in ("outcome", "tasks_done", "note"):
                if data.get(name) is not None:
                    raise ValidationError("Only a check-out carries this.", field_name=name)


class EvvEventPartsSchema(BaseSchema):
    """The multipart body of a check-in or check-out."""

    event = fields.String(
        required=True,
        metadata={
            "description": "The event as JSON text: {idempotency_key (UUID made on the phone), "
            "device_time (ISO 8601 with offset), lat, lon, accuracy_m, crs (wgs84 | gcj02), "
            "mock_location, device_id, offline}; a check-out adds outcome (completed | "
            "client_absent | refused), tasks_done (list of strings) and note. Unknown fields "
            "are refused."
        },
    )
    photo = Upload(
        metadata={"description": "JPEG or PNG, at most 8 MiB and 40 megapixels."},
    )


class EvvSyncPartsSchema(Schema):
    """The multipart body of a sync: ``events`` and any number of photo parts they name."""

    class Meta:
        unknown = INCLUDE

    events = fields.String(
        required=True,
        metadata={
            "description": "JSON list of events: each is a check-in or check-out event JSON "
            "plus visit_id, kind (check_in | check_out) and photo (the name of its file part)."
        },
    )


class EvvAnswerSchema(Schema):
    event_id = fields.Integer()
    visit_id = fields.Integer()
    kind = fields.String()
    received_at = fields.String(metadata={"description": "Server receipt time, ISO 8601."})
    visit_status = fields.String()
    photo_id = fields.Integer(allow_none=True)
    work_order_id = fields.Integer(
        allow_none=True, metadata={"description": "The work order a completed check-out made."}
    )


class SyncErrorSchema(Schema):
    code = fields.String()
    message = fields.String()
    errors = fields.Dict()


class SyncResultSchema(Schema):
    idempotency_key = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "created, duplicate or rejected"})
    event_id = fields.Integer()
    error = fields.Method("_error")

    def _error(self, result: SyncResult) -> Any:
        exc = result.error
        if exc is None:
            return None
        body: dict[str, Any] = {
            "code": exc.code,
            "message": exc.message_zh if wants_chinese() else exc.message,
        }
        if exc.errors:
            body["errors"] = exc.errors
        return body


class SyncAnswerSchema(Schema):
    results = fields.List(fields.Nested(SyncResultSchema))


class VisitEventSchema(Schema):
    """An event as stored: WGS84 position, the raw one as sent, both clocks."""

    id = fields.Integer()
    visit_id = fields.Integer()
    caregiver_id = fields.Integer()
    kind = fields.Enum(EventKind, by_value=True)
    idempotency_key = fields.String()
    device_time = Instant(attribute="device_time_at")
    received_at = Instant()
    clock_skew_s = fields.Method(
        "_skew", metadata={"description": "received_at - device_time, seconds (late sync or skew)."}
    )
    lat = fields.Float()
    lon = fields.Float()
    raw_lat = fields.Float()
    raw_lon = fields.Float()
    crs = fields.Enum(Crs, by_value=True)
    accuracy_m = fields.Float(allow_none=True)
    mock_location = fields.Boolean()
    device_id = fields.String(allow_none=True)
    offline = fields.Boolean()
    photo_id = fields.Integer(allow_none=True)
    outcome = fields.Enum(VisitOutcome, by_value=True, allow_none=True)
    tasks_done = fields.List(fields.String(), allow_none=True)
    note = fields.String(allow_none=True)
    distance_home_m = fields.Float(
        allow_none=True,
        metadata={
            "description": "Metres from the client's home on the WGS84 ellipsoid: the figure a "
            "geofence flag reports."
        },
    )

    def _skew(self, event: Any) -> float:
        return round((event.received_at - event.device_time_at).total_seconds(), 3)


# --- multipart parsing ---------------------------------------------------------------------


def load_event(raw: str, schema: Schema) -> dict[str, Any]:
    """The ``event`` part: JSON text validated by ``schema`` (unknown fields are an error)."""
    try:
        payload = json.loads(raw)
    except ValueError:
        raise error_codes.MALFORMED_JSON("part", part="event") from None
    if not isinstance(payload, dict):
        raise error_codes.VALIDATION_ERROR("not_object", part="event")
    try:
        return schema.load(payload)
    except ValidationError as exc:
        raise error_codes.VALIDATION_ERROR(
            "event", errors={"event": exc.normalized_messages()}
        ) from None


def read_photo(upload: FileStorage | None) -> bytes | None:
    """The bytes of an uploaded photo, reading at most one byte past the cap."""
    if upload is None:
        return None
    data = upload.stream.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise error_codes.PHOTO_TOO_LARGE("part", mib=MAX_PHOTO_BYTES // (1024 * 1024))
    return data


def sync_entries(raw: str, files: dict[str, FileStorage]) -> list[SyncEntry]:
    """Parse the ``events`` part; a bad event becomes an entry with its error, not a failure."""
    try:
        payload = json.loads(raw)
    except ValueError:
        raise error_codes.MALFORMED_JSON("part", part="events") from None
    if not isinstance(payload, list):
        raise error_codes.VALIDATION_ERROR("not_list", part="events")
    schema = EvvSyncEventSchema()
    entries: list[SyncEntry] = []
    for item in payload:
        key = item.get("idempotency_key") if isinstance(item, dict) else None
        key = key if isinstance(key, str) else None
        try:
            if not isinstance(item, dict):
                raise ValidationError("Each event must be a JSON object.")
            data = schema.load(item)
        except ValidationError as exc:
            entries.append(
                SyncEntry(
                    key,
                    error=error_codes.VALIDATION_ERROR("event", errors=exc.normalized_messages()),
                )
            )
            continue
        entry = SyncEntry(str(data["idempotency_key"]), data["visit_id"], data["kind"], data)
        part = data.get("photo")
        try:
            if part:
                if part not in files:
                    raise error_codes.PHOTO_PART_MISSING(
                        part=part, errors={"photo": [f"No file part named {part!r}."]}
                    )
                files[part].stream.seek(0)
                entry.photo = read_photo(files[part])
        except DomainError as exc:
            entry.error = exc
        entries.append(entry)
    return entries
