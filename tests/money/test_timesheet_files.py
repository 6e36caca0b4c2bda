"""Timesheet uploads: every bad file is a 4xx that says what to fix, and nothing is stored."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.money.conftest import HEADER, csv_file, order_count, row, upload, xlsx_file


@pytest.fixture
def h(staff: Any) -> dict[str, str]:
    return staff.headers(staff.p1.provider_admin)


def refused(client: Any, h: dict[str, str], db: Any, data: bytes, name: str, status: int) -> Any:
    before = order_count(db)
    r = upload(client, h, data, name)
    assert r.status_code == status, r.json
    assert r.json["code"] and r.json["message"]
    assert order_count(db) == before
    return r.json


def test_good_csv_rows_become_timesheet_orders(client, staff, db, h):
    r = upload(client, h, csv_file([row("A1", 3, note="按时完成"), row("A2", 4, cl="C1002")]))
    assert r.status_code == 201, r.json
    assert r.json["rows"] == 2 and r.json["created"] == 2 and r.json["already_received"] == 0
    got = client.get(f"/api/v1/work-orders/{r.json['work_order_ids'][0]}", headers=h).json
    assert got["source"] == "timesheet" and got["external_id"] == "A1"
    # 2026/10/3 9:00 in Asia/Shanghai, shown back with its offset; 60 billable minutes
    assert got["start_at"] == "2026-10-03T09:00:00+08:00" and got["billable_min"] == 60
    assert got["note"] == "按时完成"


def test_one_bad_row_rejects_the_file_with_a_report_of_every_bad_row(client, staff, db, h):
    rows = [
        row("B1", 3),
        row("B2", 3, cg="CG999"),  # file row 3
        row("B3", 3, start="10:00", end="09:00"),  # row 4: end before start
        row("B4", 3, svc="NOPE"),  # row 5
        [
            "B5",
            "CG101",
            "C1001",
            "CLEAN",
            "yesterday",
            "2026/10/3 9:00",
            "",
        ],  # row 6
        row("B1", 4),  # row 7: same external_id twice in one file
        row("B7", 3, start="00:00", end="13:00"),  # row 8: 13 hours
    ]
    body = refused(client, h, db, csv_file(rows), "ts.csv", 422)
    assert body["code"] == "TIMESHEET_INVALID"
    assert set(body["errors"]) == {"row 3", "row 4", "row 5", "row 6", "row 7", "row 8"}
    assert "caregiver_code" in body["errors"]["row 3"]
    assert "end" in body["errors"]["row 4"]
    assert "service_code" in body["errors"]["row 5"]
    assert "start" in body["errors"]["row 6"]
    assert "row 2" in body["errors"]["row 7"]["external_id"]
    assert "12 hours" in body["errors"]["row 8"]["end"]


@pytest.mark.parametrize(
    ("header", "missing", "unknown"),
    [
        ([*HEADER[:-2], "note"], ["end"], []),
        (["id", *HEADER[1:]], ["external_id"], ["id"]),
        (["foo", "bar"], list(HEADER[:-1]), ["foo", "bar"]),
    ],
)
def test_wrong_columns(client, staff, db, h, header, missing, unknown):
    data = csv_file([["x"] * len(header)], header=header)
    body = refused(client, h, db, data, "ts.csv", 422)
    assert body["code"] == "WRONG_COLUMNS"
    assert body["errors"]["columns"]["missing"] == missing
    assert body["errors"]["columns"].get("unknown", []) == unknown


def test_gbk_and_bom_files_are_read(client, staff, db, h):
    gbk = csv_file([row("G1", 3, note="老人不在家，改天补做")], encoding="gbk")
    r = upload(client, h, gbk)
    assert r.status_code == 201, r.json
    got = client.get(f"/api/v1/work-orders/{r.json['work_order_ids'][0]}", headers=h).json
    assert got["note"] == "老人不在家，改天补做"
    bom = csv_file([row("U1", 4)], bom=True)
    assert upload(client, h, bom).status_code == 201


def test_gbk_file_with_a_bad_row_reports_the_row(client, staff, db, h):
    data = csv_file([row("G2", 3, cl="张三")], encoding="gbk")
    body = refused(client, h, db, data, "ts.csv", 422)
    assert "张三" in body["errors"]["row 2"]["client_code"]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2026/10/3 8:05", "2026/10/3 9:05", "2026-10-03T08:05:00+08:00"),
        ("2026-10-03 08:05:00", "2026-10-03 09:05:00", "2026-10-03T08:05:00+08:00"),
        ("2026年10月3日 8:05", "2026年10月3日 9:05", "2026-10-03T08:05:00+08:00"),
        ("2026-10-03T00:05:00Z", "2026-10-03T01:05:00Z", "2026-10-03T08:05:00+08:00"),
        ("2026-10-03T08:05:00+08:00", "2026-10-03T09:05+08:00", "2026-10-03T08:05:00+08:00"),
    ],
)
def test_date_formats_of_chinese_spreadsheets(client, staff, db, h, start, end, expected):
    r = upload(client, h, csv_file([["D1", "CG101", "C1001", "CLEAN", start, end, ""]]))
    assert r.status_code == 201, r.json
    got = client.get(f"/api/v1/work-orders/{r.json['work_order_ids'][0]}", headers=h).json
    assert got["start_at"] == expected and got["billable_min"] == 60


@pytest.mark.parametrize("bad", ["2026/13/3 8:05", "2026-10-03", "3/10/2026 8:05", "8:05"])
def test_bad_dates(client, staff, db, h, bad):
    data = csv_file([["D2", "CG101", "C1001", "CLEAN", bad, "2026/10/3 9:05", ""]])
    body = refused(client, h, db, data, "ts.csv", 422)
    assert "start" in body["errors"]["row 2"]


def test_xlsx_with_date_cells_and_serial_numbers(client, staff, db, h):
    rows = [
        ["X1", "CG101", "C1001", "CLEAN", datetime(2026, 10, 3, 8, 5), datetime(2026, 10, 3, 9, 5)],
        # 46298 is 2026-10-03 in Excel's 1900 date system; 0.25 of a day is 06:00
        ["X2", 102, "C1001", "CLEAN", 46298.25, 46298.3125, "number cells"],
    ]
    r = upload(client, h, xlsx_file(rows), "ts.xlsx")
    assert r.status_code == 422  # caregiver code 102 does not exist: a number cell is read as "102"
    assert "'102'" in r.json["errors"]["row 3"]["caregiver_code"]
    rows[1][1] = "CG102"
    r = upload(client, h, xlsx_file(rows), "ts.xlsx")
    assert r.status_code == 201, r.json
    first, second = (
        client.get(f"/api/v1/work-orders/{i}", headers=h).json for i in r.json["work_order_ids"]
    )
    assert first["start_at"] == "2026-10-03T08:05:00+08:00"
    assert second["start_at"] == "2026-10-03T06:00:00+08:00" and second["billable_min"] == 90


def test_xlsx_formula_cells_are_refused(client, staff, db, h):
    rows = [row("F1", 3), ["F2", "CG101", "C1001", "CLEAN", "2026/10/3 9:00", "=E3+1/24", ""]]
    body = refused(client, h, db, xlsx_file(rows), "ts.xlsx", 422)
    assert body["code"] == "FORMULAS_NOT_ALLOWED"
    assert body["errors"] == {"row 3": {"cells": ["F3"], "error": "enter the value, not a formula"}}


def test_formula_like_text_in_csv_is_data(client, staff, db, h):
    r = upload(client, h, csv_file([row("F3", 3, note='=HYPERLINK("http://x")')]))
    assert r.status_code == 201
    got = client.get(f"/api/v1/work-orders/{r.json['work_order_ids'][0]}", headers=h).json
    assert got["note"] == '=HYPERLINK("http://x")'


def test_empty_and_header_only_files(client, staff, db, h):
    assert refused(client, h, db, b"", "ts.csv", 422)["code"] == "EMPTY_FILE"
    assert refused(client, h, db, b"\r\n \r\n", "ts.csv", 422)["code"] == "EMPTY_FILE"
    assert refused(client, h, db, csv_file([]), "ts.csv", 422)["code"] == "NO_ROWS"
    template = client.get("/api/v1/timesheets/template.xlsx", headers=h).data
    assert refused(client, h, db, template, "t.xlsx", 422)["code"] == "NO_ROWS"


def test_too_many_bytes_and_too_many_rows(client, staff, db, h):
    huge = b"external_id," + b"x" * (33 * 1024 * 1024)
    assert refused(client, h, db, huge, "ts.csv", 413)["code"] == "FILE_TOO_LARGE"
    many = csv_file([["R", "CG101", "C1001", "CLEAN", "a", "b", ""]] * 100_001)
    assert refused(client, h, db, many, "ts.csv", 413)["code"] == "FILE_TOO_LARGE"


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def test_zip_bomb_is_refused_before_it_is_opened(client, staff, db, h):
    # 64 MB of spaces deflate to ~64 KB: a ratio of about 1000, where real sheets show 5-20
    bomb = _zip({"xl/workbook.xml": b"<workbook/>", "xl/worksheets/sheet1.xml": b" " * (64 << 20)})
    body = refused(client, h, db, bomb, "ts.xlsx", 413)
    assert body["code"] == "FILE_TOO_LARGE" and "unpacks" in body["message"]


@pytest.mark.parametrize(
    ("data", "code", "status"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "NOT_A_SPREADSHEET", 415),
        (b"%PDF-1.7\n...", "NOT_A_SPREADSHEET", 415),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "NOT_A_SPREADSHEET", 415),
        (bytes(range(256)) * 10, "NOT_A_SPREADSHEET", 415),
        (_zip({"word/document.xml": b"<doc/>"}), "NOT_A_SPREADSHEET", 415),
        (_zip({"xl/workbook.xml": b"not xml at all"}), "UNREADABLE_XLSX", 422),
        (b"PK\x03\x04 truncated", "NOT_A_SPREADSHEET", 415),
        (b'external_id,"unclosed\n' + b"x" * 200_000, "MALFORMED_CSV", 422),
    ],
)
def test_not_a_spreadsheet(client, staff, db, h, data, code, status):
    assert refused(client, h, db, data, "ts.xlsx", status)["code"] == code


def test_latin1_junk_is_neither_utf8_nor_gbk(client, staff, db, h):
    # 0xFF is not a lead byte in GB18030 nor valid UTF-8
    data = HEADER[0].encode() + b"\n\xff\xfe\xff" + b"x" * 10
    body = refused(client, h, db, b"x" + data, "ts.csv", 422)
    assert body["code"] == "BAD_ENCODING"


def test_missing_file_part(client, staff, db, h):
    r = client.post("/api/v1/timesheets", data={}, headers=h, content_type="multipart/form-data")
    assert r.status_code == 422 and "file" in r.json["errors"]


def test_re_upload_is_idempotent_and_a_changed_row_conflicts(client, staff, db, h):
    data = csv_file([row("I1", 3), row("I2", 4)])
    first = upload(client, h, data)
    assert first.status_code == 201 and first.json["created"] == 2
    again = upload(client, h, data)
    assert again.status_code == 201
    assert again.json["created"] == 0 and again.json["already_received"] == 2
    assert again.json["already_received_ids"] == first.json["work_order_ids"]
    changed = csv_file([row("I1", 3), row("I2", 4, end="10:30"), row("I3", 5)])
    body = refused(client, h, db, changed, "ts.csv", 422)
    assert list(body["errors"]) == ["row 3"]
    assert "already received" in body["errors"]["row 3"]["external_id"]


def test_templates_have_the_contract_columns(client, staff, h):
    r = client.get("/api/v1/timesheets/template.csv", headers=h)
    assert r.status_code == 200 and r.data.startswith(b"\xef\xbb\xbf")
    assert r.data[3:].decode().strip() == ",".join(HEADER)
    r = client.get("/api/v1/timesheets/template.xlsx", headers=h)
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(r.data)).worksheets[0]
    assert [c.value for c in ws[1]] == HEADER


def test_only_provider_admins_upload(client, staff, db):
    for user in (staff.p1.caregiver_user, staff.finance):
        r = upload(client, staff.headers(user), csv_file([row("P1", 3)]))
        assert r.status_code == 403


def test_another_providers_codes_are_unknown(client, staff, db):
    # p2's admin names p1's caregiver and client: unknown to p2, and nothing about p1 leaks
    h2 = staff.headers(staff.p2.provider_admin)
    body = refused(client, h2, db, csv_file([row("T1", 3)]), "ts.csv", 422)
    assert "caregiver_code" in body["errors"]["row 2"] and "client_code" in body["errors"]["row 2"]


def test_big_uploads_are_validated_by_a_queued_job(client, staff, db, h, rules_stub, monkeypatch):
    from dispatch import jobs, queue
    from dispatch.services import timesheets

    monkeypatch.setattr(timesheets, "INLINE_VALIDATION_MAX", 1)
    q = queue.get_queue()
    q.empty()
    r = upload(client, h, csv_file([row("Q1", 3), row("Q2", 4)]))
    assert r.status_code == 201 and r.json["validation"] == "queued"
    orders = [
        client.get(f"/api/v1/work-orders/{i}", headers=h).json for i in r.json["work_order_ids"]
    ]
    assert {o["status"] for o in orders} == {"submitted"}
    (job,) = q.get_jobs()
    assert job.func_name == "dispatch.jobs.validate_upload" and job.args == (r.json["upload_id"],)
    q.empty()
    jobs.validate_upload(r.json["upload_id"])  # what the worker runs
    orders = [
        client.get(f"/api/v1/work-orders/{i}", headers=h).json for i in r.json["work_order_ids"]
    ]
    assert {o["status"] for o in orders} == {"verified"}


def test_a_lost_upload_validation_is_queued_once_more_by_the_sweep(
    client, staff, db, h, rules_stub, monkeypatch
):
    from datetime import timedelta

    from dispatch import jobs, queue
    from dispatch.models import TimesheetUpload
    from dispatch.services import timesheets

    monkeypatch.setattr(timesheets, "INLINE_VALIDATION_MAX", 1)
    q = queue.get_queue()

    def lose_and_sweep(upload_id: int) -> list[Any]:
        """Redis loses the queued job; a while later the periodic sweep runs."""
        q.empty()
        record = db.get(TimesheetUpload, upload_id)
        record.created_at -= timedelta(minutes=2)
        db.commit()
        jobs.sweep_lost_jobs()
        return q.get_jobs()

    def statuses(r: Any) -> set[str]:
        got = [client.get(f"/api/v1/work-orders/{i}", headers=h) for i in r.json["work_order_ids"]]
        return {g.json["status"] for g in got}

    q.empty()
    first = upload(client, h, csv_file([row("S1", 3), row("S2", 4)]))
    assert first.status_code == 201 and first.json["validation"] == "queued"
    jobs.sweep_lost_jobs()  # just queued: on its way, left alone
    assert len(q.get_jobs()) == 1
    (job,) = lose_and_sweep(first.json["upload_id"])
    assert job.func_name == timesheets.UPLOAD_JOB and job.args == (first.json["upload_id"],)
    q.empty()
    jobs.validate_upload(first.json["upload_id"])  # what the worker runs
    assert statuses(first) == {"verified"}
    assert lose_and_sweep(first.json["upload_id"]) == []  # done: nothing to re-run

    # Lost a second time: given up (no endless re-queuing); the orders wait, submitted.
    second = upload(client, h, csv_file([row("S3", 5), row("S4", 6)]))
    assert len(lose_and_sweep(second.json["upload_id"])) == 1
    assert lose_and_sweep(second.json["upload_id"]) == []
    jobs.sweep_lost_jobs()
    assert q.get_jobs() == [] and statuses(second) == {"submitted"}
    db.expire_all()
    assert db.get(TimesheetUpload, second.json["upload_id"]).validation == timesheets.LOST


def test_xml_entities_in_a_sheet_are_refused(client, staff, db, h):
    # the "billion laughs": a DTD that expands an entity exponentially
    good = xlsx_file([row("L1", 3)])
    src = zipfile.ZipFile(io.BytesIO(good))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                dtd = (
                    b'<!DOCTYPE lol [<!ENTITY a "aaaaaaaaaa">'
                    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
                )
                data = dtd + data if b"?>" not in data else data.replace(b"?>", b"?>" + dtd, 1)
                assert b"<!DOCTYPE" in data
            z.writestr(info, data)
    assert refused(client, h, db, out.getvalue(), "ts.xlsx", 422)["code"] == "UNREADABLE_XLSX"


@given(
    moment=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)),
    style=st.sampled_from(
        [
            "{d:%Y}/{d.month}/{d.day} {d.hour}:{d:%M}",
            "{d:%Y-%m-%d %H:%M:%S}",
            "{d:%Y}年{d.month}月{d.day}日 {d.hour}:{d:%M}",
            "{d:%Y-%m-%dT%H:%M:%S}+08:00",
        ]
    ),
)
def test_every_spreadsheet_date_form_means_the_same_shanghai_minute(moment, style):
    # the pure parser behind the upload; wall time in Asia/Shanghai = UTC + 8 h (no DST)
    from datetime import UTC, timedelta
    from zoneinfo import ZoneInfo

    from dispatch.services.timesheets import parse_instant

    moment = moment.replace(microsecond=0)
    if "%S" not in style:
        moment = moment.replace(second=0)
    text = style.format(d=moment)
    got = parse_instant(text, None, ZoneInfo("Asia/Shanghai"))
    assert got == (moment - timedelta(hours=8)).replace(tzinfo=UTC)
