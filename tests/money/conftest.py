"""Helpers for the money tests: building timesheet files and uploading them over HTTP."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from dispatch.models import WorkOrder
from dispatch.validation import engine

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
    # Encoded here in memory: the test client spools bodies over 500 KB to a temporary file
    # that it never closes (a ResourceWarning, an error under filterwarnings=error).
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data), filename=name)})
    return client.post(
        "/api/v1/timesheets",
        data=body,
        headers=headers,
        content_type=f"multipart/form-data; boundary={boundary}",
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


@pytest.fixture
def rules_stub(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in for the rules engine, so that these tests choose which orders are flagged.

    A row whose note is ``FLAG:<CODE>:<severity>`` gets that flag and status flagged; every
    other order becomes verified. The real rules have their own tests in tests/rules.
    """
    from dispatch.models import Flag, Severity, WorkOrderStatus

    def fake_validate(session: Any, ids: Any) -> None:
        for order in session.scalars(select(WorkOrder).where(WorkOrder.id.in_(list(ids)))):
            if order.note and order.note.startswith("FLAG:"):
                _, code, severity = order.note.split(":")
                session.add(
                    Flag(
                        work_order_id=order.id,
                        code=code,
                        severity=Severity(severity),
                        evidence={"stub": True, "code": code},
                    )
                )
                order.status = WorkOrderStatus.flagged
            else:
                order.status = WorkOrderStatus.verified
        session.flush()

    monkeypatch.setattr(engine, "validate_orders", fake_validate)


def row(
    ext: str,
    day: int,
    *,
    cg: str = "CG101",
    cl: str = "C1001",
    svc: str = "CLEAN",
    start: str = "09:00",
    end: str = "10:00",
    note: str = "",
    month: str = "2026/10",
) -> list[str]:
    """A timesheet row in the "2026/10/3 9:00" style that Chinese spreadsheets write."""
    return [ext, cg, cl, svc, f"{month}/{day} {start}", f"{month}/{day} {end}", note]
