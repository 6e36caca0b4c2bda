"""Timesheet uploads: a provider's CSV/XLSX of visits recorded outside the app, all or nothing."""

from __future__ import annotations

import enum
import functools
import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from dispatch import audit, config, error_codes, queue, spreadsheets
from dispatch.db import utcnow
from dispatch.models import (
    AppealState,
    Caregiver,
    Client,
    Role,
    ServiceType,
    TimesheetUpload,
    WorkOrder,
    WorkOrderSource,
    WorkOrderStatus,
)
from dispatch.services import billable, plans
from dispatch.tenancy import SYSTEM, Actor
from dispatch.validation import engine

log = logging.getLogger(__name__)

COLUMNS = ("external_id", "caregiver_code", "client_code", "service_code", "start", "end", "note")
REQUIRED = COLUMNS[:-1]
# Headers people actually type in Chinese spreadsheets, mapped onto the template's names.
ALIASES = {
    "工单编号": "external_id",
    "外部编号": "external_id",
    "护理员编号": "caregiver_code",
    "服务对象编号": "client_code",
    "服务项目编号": "service_code",
    "服务项目": "service_code",
    "开始时间": "start",
    "结束时间": "end",
    "备注": "note",
}
MAX_DURATION = timedelta(hours=12)
# Clocks on phones and PCs drift; a visit cannot end later than this after the upload.
FUTURE_SLACK = timedelta(hours=1)
# Larger uploads are validated by a background job so that the request stays fast.
INLINE_VALIDATION_MAX = 500
# Bigger uploads are validated by this job (enqueued by name after the commit).
UPLOAD_JOB = "dispatch.jobs.validate_upload"
# ``TimesheetUpload.validation``: "inline", the queued job's id, "retry:<id>" once the lost-job
# sweep has queued it a second time, "done" when the job ran, "lost" when the retry was lost too.
VALIDATED, LOST, RETRY = "done", "lost", "retry:"
MAX_TEXT = {"external_id": 64, "note": 2000}

_CN_DATETIME = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*[T\s]?\s*"
    r"(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2})(?:\.\d+)?\s*秒?)?\s*$"
)
ROW_FORMATS = (
    "ISO 8601 (2026-11-03T08:05:00+08:00), 2026-11-03 08:05:00, 2026/11/3 8:05, "
    "2026年11月3日 8:05, or an Excel date cell"
)


def _msg(en: str, zh: str) -> str:
    return f"{en} / {zh}"


def template(fmt: str) -> tuple[bytes, str, str]:
    """The empty template: (content, media type, file name)."""
    example = [
        "TS-2026-11-0001",
        "CG101",
        "C1001",
        "CLEAN",
        "2026-11-03 08:05",
        "2026-11-03 09:05",
        "可选备注",
    ]
    if fmt == "xlsx":
        help_rows = [
            ["external_id", "Your own unique id of this visit; re-uploading it changes nothing."],
            ["caregiver_code", "The caregiver's code in CareDispatch (护理员编号)."],
            ["client_code", "The client's code in CareDispatch (服务对象编号)."],
            ["service_code", "A service code of the catalogue: MEAL, CLEAN, BATH, ..."],
            ["start", f"Start, Asia/Shanghai unless an offset is given: {ROW_FORMATS}."],
            ["end", "End, same formats; after start, at most 12 hours later."],
            ["note", "Optional free text."],
            ["example", " | ".join(example)],
            ["rules", "Values only, no formulas. One bad row rejects the whole file."],
        ]
        content = spreadsheets.xlsx_bytes(
            [("timesheet", list(COLUMNS), []), ("help 说明", ["column", "meaning"], help_rows)]
        )
        return (
            content,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "timesheet-template.xlsx",
        )
    return (
        spreadsheets.csv_bytes(list(COLUMNS), []),
        "text/csv; charset=utf-8",
        "timesheet-template.csv",
    )


def parse_instant(value: Any, epoch: datetime | None, zone: ZoneInfo) -> datetime:
    """A cell's date and time as an aware UTC instant; naive values are in ``zone``."""
    if isinstance(value, str):
        return _parse_text(value, zone)
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if not 1 <= value < 2_958_466:  # Excel's serial range: 1900-01-01 .. 9999-12-31
            raise ValueError("not an Excel date")
        moment = spreadsheets.excel_serial(float(value), epoch)
    else:
        raise ValueError("not a date and time")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


@functools.lru_cache(maxsize=65_536)
def _parse_text(value: str, zone: ZoneInfo) -> datetime:
    # Cached: a month of timesheets repeats the same few thousand times on every row.
    text = value.strip().replace("\u3000", " ")
    if len(text) <= 10:
        raise ValueError("a date without a time")
    m = _CN_DATETIME.match(text)
    if m is not None:
        y, mo, d, h, mi, s = (int(g) if g else 0 for g in m.groups())
        moment = datetime(y, mo, d, h, mi, s, tzinfo=zone)
    else:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a code typed into a number cell: 1001.0 -> "1001"
    return str(value).strip()


@dataclass
class _Lookups:
    caregivers: dict[str, int]
    clients: dict[str, int]
    services: dict[str, int]
    planned_min: dict[int, int]  # service id -> default duration: a row's planned minutes


def _lookups(session: Session, provider_id: int) -> _Lookups:
    return _Lookups(
        caregivers=dict(
            session.execute(
                select(Caregiver.code, Caregiver.id).where(Caregiver.provider_id == provider_id)
            ).all()
        ),
        clients=dict(
            session.execute(
                select(Client.code, Client.id).where(Client.provider_id == provider_id)
            ).all()
        ),
        services=dict(session.execute(select(ServiceType.code, ServiceType.id)).all()),
        planned_min=dict(
            session.execute(select(ServiceType.id, ServiceType.default_duration_min)).all()
        ),
    )


def _header(table: spreadsheets.Table) -> list[str]:
    header = [ALIASES.get(name, name) for name in table.header]
    missing = [c for c in REQUIRED if c not in header]
    unknown = [h for h in header if h and h not in COLUMNS]
    doubled = sorted({h for h in header if h and header.count(h) > 1})
    if missing or unknown or doubled:
        problems: dict[str, Any] = {"expected": list(COLUMNS)}
        if missing:
            problems["missing"] = missing
        if unknown:
            problems["unknown"] = unknown
        if doubled:
            problems["repeated"] = doubled
        details = (
            (f"Missing: {', '.join(missing)}. " if missing else "")
            + (f"Not recognised: {', '.join(unknown)}. " if unknown else "")
            + (f"Repeated: {', '.join(doubled)}." if doubled else ""),
            (f"缺少：{'、'.join(missing)}。" if missing else "")
            + (f"无法识别：{'、'.join(unknown)}。" if unknown else "")
            + (f"重复：{'、'.join(doubled)}。" if doubled else ""),
        )
        raise error_codes.WRONG_COLUMNS(
            columns=(", ".join(COLUMNS), "、".join(COLUMNS)),
            details=details,
            errors={"columns": problems},
        )
    return header


def _check_row(
    cells: dict[str, Any], lookups: _Lookups, epoch: datetime | None, zone: ZoneInfo, now: datetime
) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    ext = _text(cells.get("external_id"))
    if not ext:
        errors["external_id"] = _msg("required", "必填")
    elif len(ext) > MAX_TEXT["external_id"]:
        errors["external_id"] = _msg("at most 64 characters", "最多 64 个字符")
    values["external_id"] = ext
    for column, table, en, zh in (
        ("caregiver_code", lookups.caregivers, "caregiver", "护理员"),
        ("client_code", lookups.clients, "client", "服务对象"),
        ("service_code", lookups.services, "service", "服务项目"),
    ):
        code = _text(cells.get(column))
        if column == "service_code":
            code = code.upper()
        if not code:
            errors[column] = _msg("required", "必填")
        elif code not in table:
            errors[column] = _msg(f"no {en} with code {code!r}", f"{zh}编号 {code!r} 不存在")
        else:
            values[column] = table[code]
    for column in ("start", "end"):
        raw = cells.get(column)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            errors[column] = _msg("required", "必填")
            continue
        try:
            values[column] = parse_instant(raw, epoch, zone)
        except (ValueError, OverflowError):
            errors[column] = _msg(
                f"{_text(raw)!r} is not a date and time; use {ROW_FORMATS}",
                f"{_text(raw)!r} 不是有效的日期时间，"
                "请用 2026-11-03 08:05 或 2026/11/3 8:05 等格式",
            )
    start, end = values.get("start"), values.get("end")
    if start is not None and end is not None:
        if end - start < timedelta(minutes=1):
            errors["end"] = _msg(
                "must be at least a minute after start", "结束时间必须晚于开始时间"
            )
        elif end - start > MAX_DURATION:
            errors["end"] = _msg("more than 12 hours after start", "距开始时间超过 12 小时")
        elif end > now + FUTURE_SLACK:
            errors["end"] = _msg("is in the future", "不能晚于当前时间")
    note = _text(cells.get("note")) or None
    if note is not None and len(note) > MAX_TEXT["note"]:
        errors["note"] = _msg("at most 2000 characters", "最多 2000 个字符")
    values["note"] = note
    return values, errors


def _stored(session: Session, provider_id: int, ext_ids: list[str]) -> dict[str, tuple[Any, ...]]:
    found: dict[str, tuple[Any, ...]] = {}
    for i in range(0, len(ext_ids), 10_000):
        chunk = ext_ids[i : i + 10_000]
        rows = session.execute(
            select(
                WorkOrder.external_id,
                WorkOrder.id,
                WorkOrder.caregiver_id,
                WorkOrder.client_id,
                WorkOrder.service_type_id,
                WorkOrder.start_at,
                WorkOrder.end_at,
                WorkOrder.note,
            ).where(WorkOrder.provider_id == provider_id, WorkOrder.external_id.in_(chunk))
        )
        for ext, *rest in rows:
            found[ext] = tuple(rest)
    return found


def upload(session: Session, actor: Actor, filename: str | None, stream: Any) -> dict[str, Any]:
    """Store every row of the file as a work order, or none of them (422 with a row report)."""
    actor.require(Role.provider_admin)
    assert actor.provider_id is not None
    provider_id = actor.provider_id
    data = spreadsheets.read_limited(stream)
    table = spreadsheets.read_table(data)
    header = _header(table)
    if not table.rows:
        raise error_codes.NO_ROWS()
    table = spreadsheets.Table(table.kind, header, table.rows, table.epoch)
    zone = config.zone()
    now = utcnow()
    lookups = _lookups(session, provider_id)
    errors: dict[str, dict[str, str]] = {}
    good: list[tuple[int, dict[str, Any]]] = []
    first_row: dict[str, int] = {}
    for number, cells in spreadsheets.rows_as_dicts(table, COLUMNS):
        values, row_errors = _check_row(cells, lookups, table.epoch, zone, now)
        ext = values["external_id"]
        if ext and "external_id" not in row_errors:
            if ext in first_row:
                row_errors["external_id"] = _msg(
                    f"{ext!r} is also on row {first_row[ext]}; each visit once per file",
                    f"{ext!r} 与第 {first_row[ext]} 行重复",
                )
            else:
                first_row[ext] = number
        if row_errors:
            errors[f"row {number}"] = row_errors
        else:
            good.append((number, values))
    stored = _stored(session, provider_id, [v["external_id"] for _, v in good])
    new_rows: list[dict[str, Any]] = []
    already: list[int] = []
    for number, v in good:
        known = stored.get(v["external_id"])
        if known is None:
            new_rows.append(v)
            continue
        mine = (
            v["caregiver_code"],
            v["client_code"],
            v["service_code"],
            v["start"],
            v["end"],
            v["note"],
        )
        if known[1:] == mine:
            already.append(known[0])
        else:
            errors[f"row {number}"] = {
                "external_id": _msg(
                    f"{v['external_id']!r} was already received (work order {known[0]}) with "
                    "other content; give this visit a new external_id, or ask finance to "
                    "correct the stored one",
                    f"{v['external_id']!r} 已于之前上传（工单 {known[0]}），内容不同；"
                    "请使用新的编号",
                )
            }
    if errors:
        ordered = dict(sorted(errors.items(), key=lambda kv: int(kv[0].split()[1])))
        raise error_codes.TIMESHEET_INVALID(wrong=len(errors), rows=len(table.rows), errors=ordered)
    record = TimesheetUpload(
        provider_id=provider_id,
        filename=(filename or "")[:255] or None,
        sha256=hashlib.sha256(data).hexdigest(),
        rows=len(table.rows),
        created=len(new_rows),
        already_received=len(already),
        uploaded_by=actor.user_id,
    )
    session.add(record)
    session.flush()
    cap = billable.cap_factor(session)
    for v in new_rows:
        planned = lookups.planned_min[v["service_code"]]  # the column holds the service's id
        v["billable_min"] = billable.billable_minutes(v["start"], v["end"], planned, cap)
    ids = _insert_orders(session, provider_id, record.id, new_rows, now)
    if len(ids) <= INLINE_VALIDATION_MAX:
        engine.validate_orders(session, ids)
        record.validation = "inline"
    else:
        record.validation = queue.enqueue(
            session,
            UPLOAD_JOB,
            record.id,
            timeout_s=1800,
            description=f"validate timesheet upload {record.id}",
        )
    session.flush()
    audit.record(
        session,
        actor,
        "timesheet.upload",
        record,
        after={
            "filename": record.filename,
            "sha256": record.sha256,
            "rows": record.rows,
            "created": record.created,
            "already_received": record.already_received,
            "validation": record.validation,
        },
    )
    log.info("upload %s: %s rows, %s new", record.id, record.rows, record.created)
    return {
        "upload_id": record.id,
        "rows": record.rows,
        "created": record.created,
        "already_received": record.already_received,
        "work_order_ids": ids,
        "already_received_ids": already,
        "validation": "inline" if record.validation == "inline" else "queued",
    }


def validated(session: Session, upload_id: int) -> None:
    """The upload's validation job ran (the job calls this in its unit of work)."""
    record = session.get(TimesheetUpload, upload_id)
    if record is not None and record.validation != "inline":
        record.validation = VALIDATED


def sweep_validation(session: Session) -> int:
    """The lost-job sweep for big uploads (``jobs.sweep_lost_jobs``): an upload whose
    validation job is gone (worker killed, Redis flushed) is queued once more; if that one is
    lost too, the upload reads "lost" and its orders wait, ``submitted``, for the next batch
    re-validation. Answers how many uploads it re-queued or gave up on."""
    if queue.mode() != "rq":
        return 0  # jobs ran in-process: nothing can be lost in a queue
    waiting = list(
        session.scalars(
            select(TimesheetUpload).where(
                TimesheetUpload.validation.not_in(("inline", VALIDATED, LOST))
            )
        )
    )
    if not waiting:
        return 0
    job_of = {u.id: (u.validation or "").removeprefix(RETRY) for u in waiting}
    states = queue.states(job_of.values())
    settled = 0
    for upload in waiting:
        state = states.get(job_of[upload.id])
        age_s = (utcnow() - upload.created_at).total_seconds()
        if state is not None and state.status == queue.JobStatus.finished:
            upload.validation = VALIDATED  # ran, but its own commit did not say so
            continue
        gone = state is None or state.status == queue.JobStatus.missing
        if not (state is not None and state.status in queue.ENDED_BADLY) and not (
            gone and age_s > plans.MISSING_GRACE_S
        ):
            continue  # queued or running (or on its way to Redis)
        settled += 1
        if (upload.validation or "").startswith(RETRY):
            upload.validation = LOST
            log.warning("upload %s: its validation was lost twice; orders wait", upload.id)
            continue
        upload.validation = RETRY + queue.enqueue(
            session,
            UPLOAD_JOB,
            upload.id,
            timeout_s=1800,
            description=f"validate timesheet upload {upload.id} (again: the first job was lost)",
        )
        audit.record(
            session,
            SYSTEM,
            "timesheet.validation_requeued",
            upload,
            after={"job": job_of[upload.id], "status": str(state.status) if state else "missing"},
            provider_id=upload.provider_id,
        )
    return settled


def _insert_orders(
    session: Session,
    provider_id: int,
    upload_id: int,
    rows: Iterable[dict[str, Any]],
    now: datetime,
) -> list[int]:
    params = [
        {
            "provider_id": provider_id,
            "client_id": v["client_code"],
            "caregiver_id": v["caregiver_code"],
            "service_type_id": v["service_code"],
            "visit_id": None,
            "source": WorkOrderSource.timesheet,
            "external_id": v["external_id"],
            "upload_id": upload_id,
            "start_at": v["start"],
            "end_at": v["end"],
            "billable_min": v["billable_min"],
            "status": WorkOrderStatus.submitted,
            "appeal_state": AppealState.none,
            "note": v["note"],
            "created_at": now,
        }
        for v in rows
    ]
    if not params:
        return []
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        return _copy_orders(session, params)
    # One multi-row INSERT per thousand rows: the ORM unit of work would take minutes.
    result = session.execute(
        insert(WorkOrder).returning(WorkOrder.id, sort_by_parameter_order=True), params
    )
    return list(result.scalars())


def _copy_orders(session: Session, params: list[dict[str, Any]]) -> list[int]:
    """PostgreSQL's COPY, with ids drawn from the sequence first: several times faster than
    multi-row INSERTs for 100,000 rows, in the same transaction (so still all or nothing)."""
    ids = sorted(
        session.scalars(
            text(
                "SELECT nextval(pg_get_serial_sequence('work_orders', 'id')) "
                "FROM generate_series(1, :n)"
            ),
            {"n": len(params)},
        )
    )
    columns = ["id", *params[0]]
    raw = session.connection().connection.driver_connection
    statement = f"COPY work_orders ({', '.join(columns)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        for ident, p in zip(ids, params, strict=True):
            copy.write_row(
                [ident, *(v.value if isinstance(v, enum.Enum) else v for v in p.values())]
            )
    return ids
