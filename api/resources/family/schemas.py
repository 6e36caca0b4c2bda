"""Schemas of the family view: linked elders, their visits, ratings, notifications, links."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.fields import BaseSchema, Instant, QuerySchema, ident, ordered_pair, text
from dispatch.models import NotificationKind


class LinkCreateSchema(BaseSchema):
    user_id = ident("The family user (role family, same provider).", required=True)
    relation = text(32, "e.g. 女儿, 儿子, 儿媳.", allow_none=True)
    phone = text(32, "The relative's phone, for the call taker.", allow_none=True)
    may_see_photos = fields.Boolean(
        load_default=False, metadata={"description": "The elder consents to show visit photos."}
    )
    notify = fields.Boolean(
        load_default=True, metadata={"description": "Send check-in/out and call notifications."}
    )


class LinkSchema(Schema):
    id = fields.Integer()
    client_id = fields.Integer()
    user_id = fields.Integer()
    relation = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    may_see_photos = fields.Boolean()
    notify = fields.Boolean()
    created_at = Instant()


class MyClientSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    address = fields.String()
    phone = fields.String(allow_none=True)
    care_level = fields.Integer()
    provider_id = fields.Integer()
    relation = fields.String(allow_none=True)
    may_see_photos = fields.Boolean()
    notify = fields.Boolean()


class SpanQuerySchema(QuerySchema):
    from_ = fields.Date(data_key="from", metadata={"description": "Default: a week ago."})
    to = fields.Date(metadata={"description": "Default: a week ahead; at most 92 days."})
    _order = ordered_pair("from_", "to", strict=False)


class ServiceRefSchema(Schema):
    code = fields.String()
    name = fields.String()


class RatingShownSchema(Schema):
    stars = fields.Integer()
    comment = fields.String(allow_none=True)


class FamilyVisitSchema(Schema):
    id = fields.Integer()
    date = fields.Date()
    status = fields.String()
    outcome = fields.String(allow_none=True)
    service = fields.Nested(ServiceRefSchema, allow_none=True)
    window_start = Instant()
    window_end = Instant()
    planned_start = Instant(allow_none=True)
    caregivers = fields.List(fields.String(), metadata={"description": "Caregivers' names."})
    checked_in_at = Instant(allow_none=True)
    checked_out_at = Instant(allow_none=True)
    photo_ids = fields.List(
        fields.Integer(),
        allow_none=True,
        metadata={"description": "GET /photos/{id}; null when the elder did not consent."},
    )
    urgent = fields.Boolean()
    rating = fields.Nested(RatingShownSchema, allow_none=True)


class RatingCreateSchema(BaseSchema):
    stars = fields.Integer(
        required=True, strict=True, validate=validate.Range(1, 5), metadata={"description": "1..5"}
    )
    comment = text(1000, "What went well or not.", allow_none=True)


class RatingSchema(Schema):
    id = fields.Integer()
    visit_id = fields.Integer()
    client_id = fields.Integer()
    stars = fields.Integer()
    comment = fields.String(allow_none=True)
    created_at = Instant()


class NotificationQuerySchema(QuerySchema):
    client_id = ident("Only about this elder.", strict=False)
    kind = fields.Enum(NotificationKind, by_value=True)


class NotificationSchema(Schema):
    id = fields.Integer()
    kind = fields.Enum(NotificationKind, by_value=True)
    client_id = fields.Integer()
    visit_id = fields.Integer(allow_none=True)
    created_at = Instant()
    text = fields.String()
    text_zh = fields.String()
    sent_at = Instant(allow_none=True, metadata={"description": "When the sender delivered it."})
