"""Helpers for the money tests: building timesheet files and uploading them over HTTP."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import func, select

from dispatch.models import WorkOrder

HEADER = ["external_id", "caregiver_code", "client_code", "service_code", "start", "end", "note"]


def csv_file(
    rows: Sequence[Sequence[Any]],
    header: Sequence[str] = HEADER,
    encoding: str = "utf-8",
    bom: bool = False,
) -> bytes:
    lines = [",".join(header)] + [",".join("" if v is None else str(v) for v in r) for r in rows]
    data = ("\r\n".join(lines) + "\r\n").encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_file(rows: Sequence[Sequence[Any]], header: Sequence[str] = HEADER) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(list(header))
    for r in rows:
        ws.append(list(r))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload(client: Any, headers: dict[str, str], data: bytes, name: str = "ts.csv") -> Any:
    return client.post(
        "/api/v1/timesheets",
        data={"file": (io.BytesIO(data), name)},
        headers=headers,
        content_type="multipart/form-data",
    )


def order_count(db: Any) -> int:
    return db.scalar(select(func.count()).select_from(WorkOrder))


@pytest.fixture
def staff(world: Any, db: Any) -> Any:
    """p1 gets a second caregiver and client; everything is committed to the test's savepoint.

    world.headers() leaves an app context, whose teardown removes the scoped session and so
    rolls back whatever was only flushed: commit first (the per-test transaction still rolls
    everything back at the end).
    """
    world.caregiver_at(world.p1.provider, "CG102", skills=("CLEAN",))
    world.client_at(world.p1.provider, "C1002")
    db.commit()
    return world
