"""The caregiver app: today's route, check-in and check-out with GPS and photo, offline sync."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from webargs.flaskparser import FlaskParser
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import MultiDict

from api.auth import PLATFORM, PROVIDER_STAFF, current_actor, roles
from api.blueprint import Blueprint
from api.resources.evv.schemas import (
    EvvAnswerSchema,
    EvvCheckOutSchema,
    EvvEventPartsSchema,
    EvvEventSchema,
    EvvSyncPartsSchema,
    MyVisitSchema,
    MyVisitsQuerySchema,
    SyncAnswerSchema,
    VisitEventSchema,
    load_event,
    read_photo,
    sync_entries,
)
from dispatch.db import Session
from dispatch.models import EventKind, Role
from dispatch.services import checkins, evv


class MultipartBlueprint(Blueprint):
    """A blueprint whose arguments may come from a multipart body's text and file parts at once."""

    ARGUMENTS_PARSER = FlaskParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }


@MultipartBlueprint.ARGUMENTS_PARSER.location_loader("multipart")
def _multipart(req: Any, schema: Any) -> Any:
    parts = MultiDict(req.form)
    parts.update(req.files)
    return MultiDictProxy(parts, schema)


blp = MultipartBlueprint(
    "evv",
    __name__,
    url_prefix="/api/v1",
    description="The caregiver app (EVV): route, check-in/out with GPS and photo, offline sync.",
)

EVENT_DOC = (
    "multipart/form-data: part `event` (JSON text) and part `photo` (JPEG or PNG; required when "
    "the service requires photo proof, unless the event was recorded offline). Replaying an "
    "`idempotency_key` answers 200 with the stored body and stores nothing; the same key with "
    "other content answers 409 IDEMPOTENCY_KEY_REUSED."
)


@blp.route("/me/visits", methods=["GET"])
@roles(Role.caregiver)
@blp.arguments(MyVisitsQuerySchema, location="query")
@blp.response(200, MyVisitSchema(many=True))
def my_visits(args: dict[str, Any]) -> Any:
    """My route of a day: published visits in route order, with the client's address"""
    return evv.my_visits(Session(), current_actor(), args.get("date"))


# Built once: building a marshmallow schema (deep copies of its fields, ~0.4 ms) costs ten
# times loading an event with it; loading does not change a schema, so threads share them.
_CHECK_IN = EvvEventSchema()
_CHECK_OUT = EvvCheckOutSchema()


def _event(visit_id: int, kind: EventKind, schema: Any, parts: dict[str, Any]) -> Any:
    data = load_event(parts["event"], schema)
    answer, created = checkins.record_event(
        Session(), current_actor(), visit_id, kind, data, read_photo(parts.get("photo"))
    )
    return answer, 201 if created else 200


@blp.route("/visits/<int:visit_id>/check-in", methods=["POST"])
@roles(Role.caregiver)
@blp.arguments(EvvEventPartsSchema, location="multipart")
@blp.response(201, EvvAnswerSchema)
@blp.alt_response(200, schema=EvvAnswerSchema, description="A replay: the stored answer.")
@blp.doc(description=EVENT_DOC)
def check_in(parts: dict[str, Any], visit_id: int) -> Any:
    """Check in to a visit (GPS, photo)"""
    return _event(visit_id, EventKind.check_in, _CHECK_IN, parts)


@blp.route("/visits/<int:visit_id>/check-out", methods=["POST"])
@roles(Role.caregiver)
@blp.arguments(EvvEventPartsSchema, location="multipart")
@blp.response(201, EvvAnswerSchema)
@blp.alt_response(200, schema=EvvAnswerSchema, description="A replay: the stored answer.")
@blp.doc(description=EVENT_DOC + " `outcome` completed makes a work order; the others do not.")
def check_out(parts: dict[str, Any], visit_id: int) -> Any:
    """Check out of a visit with its outcome (GPS, photo)"""
    return _event(visit_id, EventKind.check_out, _CHECK_OUT, parts)


@blp.route("/sync", methods=["POST"])
@roles(Role.caregiver)
@blp.arguments(EvvSyncPartsSchema, location="multipart")
@blp.response(200, SyncAnswerSchema)
@blp.doc(
    description="Part `events`: a JSON list of events, each with `visit_id`, `kind` and the event "
    "fields, `photo` naming a file part. One result per event, in order; a bad event is "
    "`rejected` with its error and does not sink the others."
)
def sync(parts: dict[str, Any]) -> Any:
    """Send a batch of events recorded offline"""
    entries = sync_entries(parts["events"], dict(request.files))
    return {"results": checkins.sync_events(Session(), current_actor(), entries)}


@blp.route("/visits/<int:visit_id>/events", methods=["GET"])
@roles(Role.caregiver, *PROVIDER_STAFF, *PLATFORM)
@blp.response(200, VisitEventSchema(many=True))
def visit_events(visit_id: int) -> Any:
    """A visit's check-in and check-out events (evidence)"""
    return evv.visit_events(Session(), current_actor(), visit_id)


@blp.route("/photos/<int:photo_id>", methods=["GET"])
@roles(Role.caregiver, Role.family, *PROVIDER_STAFF, *PLATFORM)
@blp.response(200, description="The photo's bytes (image/jpeg or image/png).")
def photo(photo_id: int) -> Response:
    """A check-in or check-out photo (a relative: of a linked elder who consented)"""
    row, data = evv.photo_content(Session(), current_actor(), photo_id)
    response = Response(data, mimetype=row.mime)
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.set_etag(row.sha256)
    return response
