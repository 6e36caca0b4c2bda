"""Timesheets: providers upload visits recorded outside the app, as CSV or XLSX."""

from __future__ import annotations

from typing import Any

from flask import Response

from api.auth import PLATFORM, PROVIDER_STAFF, current_actor, roles
from api.blueprint import Blueprint
from api.resources.timesheets.schemas import TimesheetFileSchema, TimesheetUploadResultSchema
from dispatch.db import Session
from dispatch.models import Role
from dispatch.services import timesheets

blp = Blueprint(
    "timesheets",
    __name__,
    url_prefix="/api/v1/timesheets",
    description="Timesheet uploads: all or nothing, with a row-by-row report of what to fix.",
)


def _download(fmt: str) -> Response:
    content, mimetype, name = timesheets.template(fmt)
    return Response(
        content,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# Whoever fills in or reads timesheets; a supervisor reads figures, not templates.
TEMPLATE_READERS = (Role.caregiver, *PROVIDER_STAFF, *PLATFORM)


@blp.route("/template.csv", methods=["GET"])
@roles(*TEMPLATE_READERS)
@blp.response(200, content_type="text/csv")
def template_csv() -> Response:
    """The timesheet template as CSV (UTF-8 with BOM)"""
    return _download("csv")


@blp.route("/template.xlsx", methods=["GET"])
@roles(*TEMPLATE_READERS)
@blp.response(200, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
def template_xlsx() -> Response:
    """The timesheet template as XLSX, with a help sheet"""
    return _download("xlsx")


@blp.route("", methods=["POST"], strict_slashes=False)
@roles(Role.provider_admin)
@blp.arguments(TimesheetFileSchema, location="files")
@blp.response(201, TimesheetUploadResultSchema)
def upload(files: dict[str, Any]) -> Any:
    """Upload a timesheet

    Every row becomes a work order (source `timesheet`), or, when any row is wrong, nothing is
    stored and the 422 lists every bad row (`errors: {"row 7": {"start": "..."}}`). A row
    already uploaded with the same external_id and content is reported as already received.
    """
    file = files["file"]
    try:
        return timesheets.upload(Session(), current_actor(), file.filename, file.stream)
    finally:
        file.close()  # big parts are spooled to a temporary file: free it now
