"""Error codes: references, fields, users and the NOT_FOUND of each resource.

Part of the catalogue; ``dispatch.error_codes`` says how to add a code.
"""

from __future__ import annotations

from dispatch.error_codes.common import NOT_FOUND
from dispatch.errors import (
    CATALOGUE,
    Code,
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
)

# --- references and fields: any resource ----------------------------------------------------

REFERENCE_NOT_FOUND = Code(
    "REFERENCE_NOT_FOUND",
    Invalid,
    "Some referenced records do not exist.",
    "引用的记录不存在。",
    provider=("No provider with id {id}.", "找不到编号为 {id} 的服务机构。"),
    client=("No client with id {id}.", "找不到编号为 {id} 的服务对象。"),
    client_visit=(
        "Visit {id} is not one of this elder's visits.",
        "编号为 {id} 的上门服务不属于此服务对象。",
    ),
    active_caregiver=("No active caregiver with id {id}.", "找不到编号为 {id} 的在职护理员。"),
    active_service_type=(
        "No active service type with id {id}.",
        "找不到编号为 {id} 的在用服务类型。",
    ),
    service_point=("No service point with id {id}.", "找不到编号为 {id} 的服务点。"),
    evidence_photo=(
        "No photo with id {id}; upload the evidence first.",
        "找不到编号为 {id} 的照片，请先上传证据。",
    ),
    visit_on_day=("No visit with id {id} on {day}.", "{day} 没有编号为 {id} 的上门服务。"),
    canteen=("No canteen with id {id}.", "找不到编号为 {id} 的助餐点。"),
    day_ids=(
        "Some ids do not name this day's caregivers or visits.",
        "部分编号不属于当天的护理员或服务。",
    ),
)
PROVIDER_REQUIRED = Code(
    "PROVIDER_REQUIRED",
    Invalid,
    "provider_id is required for platform users.",
    "平台用户必须指定 provider_id。",
    user=("A {role} user must belong to a provider.", "{role} 角色的用户必须属于一个机构。"),
)
PROVIDER_IMMUTABLE = Code(
    "PROVIDER_IMMUTABLE",
    Invalid,
    "provider_id cannot change; create the record under the other provider instead.",
    "不能更改所属机构，请在另一机构下新建记录。",
)

# --- users and login ------------------------------------------------------------------------

ROLE_NOT_FOR_USERS = Code(
    "ROLE_NOT_FOR_USERS",
    Invalid,
    "The role device belongs to registered devices (POST /devices), not to users.",
    "device 角色属于已登记的设备（POST /devices），不能授予用户。",
)
ROLE_NOT_GRANTABLE = Code(
    "ROLE_NOT_GRANTABLE",
    Forbidden,
    "Your role ({mine}) may not grant the role {role}.",
    "您的角色（{mine}）无权授予角色 {role}。",
)
PASSWORD_TOO_SHORT = Code(
    "PASSWORD_TOO_SHORT",
    Invalid,
    "The password needs at least {n} characters.",
    "密码至少需要 {n} 个字符。",
)
PLATFORM_USER_HAS_PROVIDER = Code(
    "PLATFORM_USER_HAS_PROVIDER",
    Invalid,
    "A {role} user belongs to no provider and no caregiver.",
    "平台用户（{role}）不属于任何机构或护理员。",
)
CAREGIVER_REQUIRED = Code(
    "CAREGIVER_REQUIRED",
    Invalid,
    "A caregiver user must link to a caregiver (caregiver_id).",
    "护理员账号必须关联一名护理员（caregiver_id）。",
)
CAREGIVER_ALREADY_LINKED = Code(
    "CAREGIVER_ALREADY_LINKED",
    Conflict,
    "Caregiver {id} already has a user account.",
    "护理员 {id} 已有账号。",
)
CAREGIVER_NOT_ALLOWED = Code(
    "CAREGIVER_NOT_ALLOWED",
    Invalid,
    "Only caregiver users link to a caregiver.",
    "只有护理员账号可以关联护理员。",
)
USERNAME_TAKEN = Code(
    "USERNAME_TAKEN",
    Conflict,
    "The username '{username}' is taken.",
    "用户名 {username} 已被占用。",
)
SELF_DEACTIVATION = Code(
    "SELF_DEACTIVATION", Conflict, "You cannot deactivate your own account.", "不能停用自己的账号。"
)

# --- one NOT_FOUND per resource (``tenancy.get_scoped`` answers the one of its model) --------


def _missing(code: str, en: str, zh: str) -> Code:
    return Code(code, NotFound, f"No {en} with id {{id}}.", f"找不到编号为 {{id}} 的{zh}。")


PROVIDER_NOT_FOUND = _missing("PROVIDER_NOT_FOUND", "provider", "服务机构")
USER_NOT_FOUND = _missing("USER_NOT_FOUND", "user", "用户")
CLIENT_NOT_FOUND = _missing("CLIENT_NOT_FOUND", "client", "服务对象")
CAREGIVER_NOT_FOUND = _missing("CAREGIVER_NOT_FOUND", "caregiver", "护理员")
SERVICE_TYPE_NOT_FOUND = _missing("SERVICE_TYPE_NOT_FOUND", "service type", "服务类型")
SERVICE_POINT_NOT_FOUND = _missing("SERVICE_POINT_NOT_FOUND", "service point", "服务点")
CARE_PLAN_NOT_FOUND = _missing("CARE_PLAN_NOT_FOUND", "care plan", "服务计划")
DAY_PLAN_NOT_FOUND = _missing("DAY_PLAN_NOT_FOUND", "day plan", "排班方案")
PLAN_NOT_FOUND = _missing("PLAN_NOT_FOUND", "plan", "排班方案")
DEVICE_NOT_FOUND = _missing("DEVICE_NOT_FOUND", "device", "设备")
APPEAL_NOT_FOUND = _missing("APPEAL_NOT_FOUND", "appeal", "申诉")
BILLING_BATCH_NOT_FOUND = _missing("BILLING_BATCH_NOT_FOUND", "billing batch", "结算批次")
WORK_ORDER_NOT_FOUND = _missing("WORK_ORDER_NOT_FOUND", "work order", "工单")
PHOTO_NOT_FOUND = _missing("PHOTO_NOT_FOUND", "photo", "照片")
VISIT_NOT_FOUND = Code(
    "VISIT_NOT_FOUND",
    NotFound,
    "No visit with id {id}.",
    "找不到编号为 {id} 的上门服务。",
    on_route=("No visit with id {id} on your route.", "您的路线上没有编号为 {id} 的上门服务。"),
)
RULE_NOT_FOUND = Code(
    "RULE_NOT_FOUND",
    NotFound,
    "No rule with code {rule}; GET /api/v1/rules lists them.",
    "找不到规则 {rule}；GET /api/v1/rules 列出全部规则。",
)


def not_found(model_name: str, ident: object) -> DomainError:
    """The 404 of a missing (or another tenant's) row of the model named ``model_name``:
    ``DayPlan`` answers DAY_PLAN_NOT_FOUND; a model without an entry answers NOT_FOUND."""
    snake = "".join(f"_{c}" if c.isupper() else c for c in model_name).lstrip("_").upper()
    entry = CATALOGUE.get(f"{snake}_NOT_FOUND")
    if entry is None or entry.kind is not NotFound:
        return NOT_FOUND("child", id=ident)
    return entry(id=ident)


# --- fields a schema cannot judge alone -------------------------------------------------------

INVALID_FIELD = Code(
    "INVALID_FIELD",
    Invalid,
    "A field is wrong; see errors.",
    "字段有误，详见 errors。",
    after_start=("{name} must be after its start.", "{name} 必须晚于开始时间。"),
    on_visit_date=(
        "{name} must fall on the visit's date {day} (local time).",
        "{name} 必须在服务当天（{day}，本地时间）。",
    ),
    needs_offset=(
        "{name} needs a UTC offset, e.g. 2026-11-24T09:00:00+08:00.",
        "{name} 须带时区偏移，例如 2026-11-24T09:00:00+08:00。",
    ),
    already_second=(
        "That caregiver is already the second caregiver of this visit.",
        "该护理员已是本次双人服务的另一名护理员。",
    ),
    not_on_visit=(
        "Caregiver {id} is not assigned to visit {visit}: give one of its caregivers, or leave "
        "from_caregiver_id out.",
        "护理员 {id} 未被安排到服务 {visit}：请填写该服务的护理员之一，或不填 from_caregiver_id。",
    ),
    weekday_or_date=(
        "Give exactly one of weekday or on_date.",
        "weekday 与 on_date 须且仅须给出一个。",
    ),
    shift_times=("A working shift needs start_time and end_time.", "工作班次需要开始和结束时间。"),
    days_of_week=(
        "A weekly plan needs days_of_week (0=Monday..6).",
        "按周计划需要 days_of_week（0=周一）。",
    ),
    interval_days=("An every_n_days plan needs interval_days.", "按天间隔计划需要 interval_days。"),
    break_both=(
        "Give both break_earliest and break_latest, or neither.",
        "午休最早与最晚开始时间须同时给出。",
    ),
    break_order=(
        "break_latest must not be before break_earliest.",
        "午休最晚开始时间不能早于最早开始时间。",
    ),
)
INVALID_DATE = Code(
    "INVALID_DATE",
    Invalid,
    "'{text}' is not a date; use YYYY-MM-DD.",
    "{text} 不是日期，格式应为 YYYY-MM-DD。",
)
INVALID_MONTH = Code(
    "INVALID_MONTH",
    Invalid,
    "month must be YYYY-MM, e.g. 2026-11.",
    "month 格式应为 YYYY-MM，例如 2026-11。",
)
INVALID_PERIOD = Code(
    "INVALID_PERIOD",
    Invalid,
    "to must not be before from.",
    "结束日期不能早于开始日期。",
    out_of_range=(
        "from and to must be real calendar dates between 0001-01-02 and 9999-12-30.",
        "日期超出范围：须在 0001-01-02 至 9999-12-30 之间。",
    ),
    to_after_from=("to must be after from.", "结束时间必须晚于开始时间。"),
    billing=(
        "period_end must be on or after period_start, at most a year later.",
        "结算期结束日期不能早于开始日期，且期间不超过一年。",
    ),
)
PERIOD_TOO_LONG = Code(
    "PERIOD_TOO_LONG",
    Invalid,
    "A batch covers at most {days} days; split the period.",
    "批量校验最长 {days} 天，请拆分时间段。",
    report=("The period may span at most {days} days.", "统计周期最长 {days} 天。"),
)
