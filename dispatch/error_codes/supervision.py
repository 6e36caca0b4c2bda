"""Error codes: supervision (#17): supervisors' areas, figures, five-colour contacts, call-backs.

Part of the catalogue; ``dispatch.error_codes`` says how to add a code.
"""

from __future__ import annotations

from dispatch.errors import Code, Conflict, Invalid, NotFound

AREA_REQUIRED = Code(
    "AREA_REQUIRED",
    Invalid,
    "A supervisor needs an area: area_district, and area_streets for a street supervisor.",
    "监管账号必须指定辖区：area_district（街道监管另填 area_streets）。",
)
AREA_NOT_ALLOWED = Code(
    "AREA_NOT_ALLOWED",
    Invalid,
    "Only supervisors have an area (area_district, area_streets).",
    "只有监管账号可以指定辖区。",
)
CONTACT_TIME_INVALID = Code(
    "CONTACT_TIME_INVALID",
    Invalid,
    "at must be a past moment within the last year.",
    "联系时间必须是过去一年内的时刻。",
)
SAMPLE_SIZE_REQUIRED = Code(
    "SAMPLE_SIZE_REQUIRED",
    Invalid,
    "Give exactly one of count (orders per provider) or share (0 < share ≤ 1).",
    "请给出 count（每家机构抽取的工单数）或 share（比例），且只给其一。",
)
CALLBACK_NOT_FOUND = Code(
    "CALLBACK_NOT_FOUND", NotFound, "No call-back with id {id}.", "找不到编号为 {id} 的回访。"
)
TRAINING_NOT_FOUND = Code(
    "TRAINING_NOT_FOUND",
    NotFound,
    "No training record with id {id}.",
    "找不到编号为 {id} 的培训记录。",
)
CALLBACK_ORDER_DECIDED = Code(
    "CALLBACK_ORDER_DECIDED",
    Conflict,
    "Work order {id} is already {status}; its call-back can no longer change what is paid.",
    "工单 {id} 已结案（{status}），回访结果不能再改变结算。",
)
CALLBACK_NOT_REACHED = Code(
    "CALLBACK_NOT_REACHED",
    Invalid,
    "When the elder was not reached, took_place is unsure and there is no satisfaction.",
    "未联系上老人时，took_place 只能为 unsure，且不能填写满意度。",
)
