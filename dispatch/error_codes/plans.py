"""Error codes: day plans, visits and moves.

Part of the catalogue; ``dispatch.error_codes`` says how to add a code.
"""

from __future__ import annotations

from dispatch.errors import (
    Code,
    Conflict,
    InternalError,
    Invalid,
    ServiceUnavailable,
)

# --- day plans, visits and moves --------------------------------------------------------------

PLAN_NOT_ACTIVE = Code(
    "PLAN_NOT_ACTIVE",
    Conflict,
    "The plan is {status}; insert into a proposed or published plan.",
    "该方案状态为 {status}；只能向待审核或已发布的方案插入紧急服务。",
)
PLAN_NOT_PROPOSED = Code(
    "PLAN_NOT_PROPOSED",
    Conflict,
    "Only a proposed plan can be published; this one is {status}.",
    "只有待审核（proposed）的方案可以发布；该方案状态为 {status}。",
)
URGENT_DOUBLE_STAFFED = Code(
    "URGENT_DOUBLE_STAFFED",
    Invalid,
    "A double-staffed visit cannot be inserted alone; re-plan the day instead.",
    "双人服务无法单独插入，请重新规划当天。",
)
VISIT_CLOSED = Code(
    "VISIT_CLOSED",
    Conflict,
    "The visit is {status}; it can no longer change.",
    "该服务已开始或已结束（{status}），不能再修改。",
)
CAREGIVER_NOT_QUALIFIED = Code(
    "CAREGIVER_NOT_QUALIFIED",
    Invalid,
    "Caregiver {caregiver} cannot do this visit: {problems}.",
    "护理员 {caregiver} 不能承担此服务（技能/证书、性别或服务对象拒绝）：{problems}。",
)
# A move's refusals: ``check_move`` lists them all, ``move_visit`` answers the first as a 409.
MOVE_SKILL_MISSING = Code(
    "MOVE_SKILL_MISSING",
    Conflict,
    "{name} lacks the skill {skill} (or its certificate expired).",
    "{name} 不具备技能 {skill}（或证书已过期）。",
)
MOVE_GENDER = Code(
    "MOVE_GENDER",
    Conflict,
    "{client} asks for a {gender} caregiver.",
    "{client} 要求{gender}性护理员。",
)
MOVE_REFUSED_BY_CLIENT = Code(
    "MOVE_REFUSED_BY_CLIENT",
    Conflict,
    "{client} has refused {name}.",
    "{client} 已拒绝 {name} 上门。",
)
MOVE_VISIT_CLOSED = Code(
    "MOVE_VISIT_CLOSED",
    Conflict,
    "The visit is {status}; it can no longer move.",
    "该服务已开始或已结束（{status}），不能再调整。",
)
MOVE_ALREADY_SECOND = Code(
    "MOVE_ALREADY_SECOND",
    Conflict,
    "{name} is already one of this visit's caregivers.",
    "{name} 已是本次服务的护理员之一。",
)
MOVE_NOT_WORKING = Code(
    "MOVE_NOT_WORKING", Conflict, "{name} does not work on {day}.", "{name} 当天（{day}）不上班。"
)
MOVE_OUTSIDE_SHIFT = Code(
    "MOVE_OUTSIDE_SHIFT",
    Conflict,
    "{begin}–{end} is outside {name}'s shift {shift}.",
    "{begin}–{end} 超出 {name} 的班次 {shift}。",
    not_back=(
        "{name} could not be back at base by the end of the shift ({shift_end}) with this "
        "visit at {begin}.",
        "本服务 {begin} 开始时，{name} 无法在班次结束（{shift_end}）前返回。",
    ),
)
MOVE_OUTSIDE_WINDOW = Code(
    "MOVE_OUTSIDE_WINDOW",
    Conflict,
    "It would start at {begin}, after the latest start {latest} of the window {window}.",
    "开始时间 {begin} 晚于时间窗 {window} 的最晚开始 {latest}。",
)
MOVE_OVERLAP = Code(
    "MOVE_OVERLAP",
    Conflict,
    "{name} could not reach the next stop (starts {next}) in time: this visit ends {end} and "
    "the way takes {minutes} min.",
    "{name} 无法按时赶到下一站（{next} 开始）：本服务 {end} 结束，路上需 {minutes} 分钟。",
    later_stop=(
        "With this visit at {begin}–{end}, {name} could not keep a later stop of the day on time.",
        "本服务安排在 {begin}–{end} 后，{name} 无法按时完成当天后面的站点。",
    ),
)
MOVE_OVER_MAX_WORKING_TIME = Code(
    "MOVE_OVER_MAX_WORKING_TIME",
    Conflict,
    "{name} would work {minutes} min ({span}), more than the maximum {limit} min a day.",
    "{name} 将工作 {minutes} 分钟（{span}），超过每日上限 {limit} 分钟。",
)
MOVE_NO_COMMON_START = Code(
    "MOVE_NO_COMMON_START",
    Conflict,
    "The caregivers cannot start together at {at}: {names} could only start at {earliest}.",
    "护理员无法在 {at} 同时开始：{names} 最早 {earliest} 才能开始。",
)


# --- why a plan failed (``DayPlan.error_code``; stored by its job, not answered by a request) --

PLAN_STALE = Code(
    "PLAN_STALE",
    Conflict,
    "Version {newer} of this day was requested after this one (version {version}); this "
    "version was not stored.",
    "该日在本版本（第 {version} 版）之后又请求了第 {newer} 版；本版本未保存。",
    edited=(
        "Visit {visit} was changed while this version was being solved; this version was not "
        "stored (plan again to include the change).",
        "服务 {visit} 在本版本求解期间被修改；本版本未保存（请重新规划以包含该修改）。",
    ),
)
PLAN_JOB_LOST = Code(
    "PLAN_JOB_LOST",
    ServiceUnavailable,
    "The optimisation job {job} {status} before storing a result (an error, or its worker "
    "stopped or died). Nothing of this version was stored; plan again.",
    "优化任务 {job} 在保存结果前已终止（出错，或其工作进程停止）。本版本未保存任何内容，"
    "请重新规划。",
    gone=(
        "The optimisation job {job} is gone from the queue (Redis restarted without its data "
        "or was flushed). Nothing of this version was stored; plan again.",
        "优化任务 {job} 已不在队列中（Redis 重启后数据丢失或被清空）。本版本未保存任何内容，"
        "请重新规划。",
    ),
    timeout=(
        "The optimisation did not finish in time (worker lost?). Nothing of this version was "
        "stored; plan again.",
        "优化未能在时限内完成（工作进程可能已丢失）。本版本未保存任何内容，请重新规划。",
    ),
)
PLAN_PART_FAILED = Code(
    "PLAN_PART_FAILED",
    ServiceUnavailable,
    "District part(s) {parts} of this day failed; nothing was stored. Plan again.",
    "该日的街道分区 {parts} 求解失败；未保存任何内容，请重新规划。",
)
PLAN_FAILED = Code(
    "PLAN_FAILED",
    InternalError,
    "The optimisation stopped with an internal error ({error}); the details are in the "
    "worker's log. Try again; if it fails again, report it.",
    "优化因内部错误（{error}）中止，详情见工作进程日志。请重试；如再次失败请报告。",
)
