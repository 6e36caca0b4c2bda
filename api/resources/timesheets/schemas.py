"""Schemas of timesheet uploads."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import fields

from api.fields import BaseSchema


class TimesheetFileSchema(BaseSchema):
    file = Upload(
        required=True,
        metadata={"description": "The filled-in template, .csv (UTF-8 or GBK) or .xlsx."},
    )


class TimesheetUploadResultSchema(BaseSchema):
    upload_id = fields.Integer()
    rows = fields.Integer(metadata={"description": "Data rows in the file."})
    created = fields.Integer(metadata={"description": "Rows stored as new work orders."})
    already_received = fields.Integer(
        metadata={"description": "Rows identical to ones uploaded before: nothing changed."}
    )
    work_order_ids = fields.List(fields.Integer(), metadata={"description": "The new orders."})
    already_received_ids = fields.List(
        fields.Integer(), metadata={"description": "The stored orders the repeated rows match."}
    )
    validation = fields.String(
        metadata={"description": '"inline": orders already checked; "queued": a job checks them.'}
    )
