"""Error codes: allowances and meals (#19): schemes, each elder's ledger, canteen meals.

Part of the catalogue; ``dispatch.error_codes`` says how to add a code.
"""

from __future__ import annotations

from dispatch.errors import Code, Conflict, Forbidden, Invalid, NotFound

ALLOWANCE_SCHEME_INVALID = Code(
    "ALLOWANCE_SCHEME_INVALID",
    Invalid,
    "The scheme is not valid; see errors.",
    "津贴方案有误：年龄段上限不能低于下限，金额不能为负，服务代码须在服务目录中。",
)
ALLOWANCE_SCHEME_OVERLAP = Code(
    "ALLOWANCE_SCHEME_OVERLAP",
    Invalid,
    "Scheme {id} ({name}, ages {band}) already pays elders of these ages, care levels and "
    "hardship category; change the age band or deactivate the other scheme.",
    "与方案 {id}（{name}，年龄 {band}）的年龄段、护理等级和困难类别重叠，"
    "请调整年龄段或停用另一方案。",
)
ALLOWANCE_MONTH_CLOSED = Code(
    "ALLOWANCE_MONTH_CLOSED",
    Conflict,
    "The allowance ledger of {month} is closed; its entries never change and nothing more is "
    "posted into it.",
    "{month} 的津贴账已结账，不能再记入或修改。",
)
ALLOWANCE_BALANCE_SHORT = Code(
    "ALLOWANCE_BALANCE_SHORT",
    Conflict,
    "Allowance account {id} holds {balance} fen; posting {amount} would make it negative.",
    "津贴余额不足（账户 {id} 余额 {balance} 分，记入 {amount} 分后为负），余额不能为负。",
)
ALLOWANCE_MONTH_TOO_EARLY = Code(
    "ALLOWANCE_MONTH_TOO_EARLY",
    Invalid,
    "Grants go up to next month ({next}), not {month}.",
    "津贴最多只能提前发放到下个月（{next}），不能发放到 {month}。",
)
ALLOWANCE_MONTH_NOT_OVER = Code(
    "ALLOWANCE_MONTH_NOT_OVER",
    Conflict,
    "{month} is not over yet; close it from {next} on.",
    "{month} 尚未结束，不能结账；请在 {next} 起结账。",
)
ALLOWANCE_EARLIER_MONTH_OPEN = Code(
    "ALLOWANCE_EARLIER_MONTH_OPEN",
    Conflict,
    "Close {earlier} first: months close in order.",
    "请先结账 {earlier}：津贴账须按月份顺序结账。",
)
ALLOWANCE_LEDGER_APPEND_ONLY = Code(
    "ALLOWANCE_LEDGER_APPEND_ONLY",
    Conflict,
    "Allowance entry {id} is part of the ledger; entries are never changed or deleted (post a "
    "credit instead).",
    "津贴账目只能追加，不能修改或删除（如需更正请记入一笔冲回）。",
)
ELDER_ID_IN_USE = Code(
    "ELDER_ID_IN_USE",
    Conflict,
    "Another elder already holds this {name}.",
    "该卡号或人脸编号已属于另一位老人。",
)
CANTEEN_HOURS_INVALID = Code(
    "CANTEEN_HOURS_INVALID",
    Invalid,
    "Each slot's end must come after its start.",
    "每个餐次的结束时间须晚于开始时间。",
)
ELDER_NOT_IDENTIFIED = Code(
    "ELDER_NOT_IDENTIFIED",
    Invalid,
    "No elder of the city has this card number, face id or client code; check it or record the "
    "meal by hand.",
    "无法识别该老人：卡号、人脸编号或服务对象编码不存在，请核对或人工登记。",
)
NOT_A_CANTEEN_TERMINAL = Code(
    "NOT_A_CANTEEN_TERMINAL",
    Forbidden,
    "Only a canteen terminal's key records meals.",
    "只有助餐终端的密钥可以登记就餐。",
)
CANTEEN_REQUIRED = Code(
    "CANTEEN_REQUIRED",
    Invalid,
    "Staff recording a meal name the canteen (canteen_id).",
    "工作人员登记就餐须给出助餐点（canteen_id）。",
)
MEAL_IN_FUTURE = Code(
    "MEAL_IN_FUTURE",
    Invalid,
    "served_at {at} is in the future; check the terminal's clock.",
    "就餐时间 {at} 晚于当前时间，请检查终端时钟。",
)
SLOT_NOT_SERVED = Code(
    "SLOT_NOT_SERVED",
    Invalid,
    "This canteen does not serve {slot}.",
    "该助餐点不供应此餐次（{slot}）。",
)
ALLOWANCE_SCHEME_NOT_FOUND = Code(
    "ALLOWANCE_SCHEME_NOT_FOUND",
    NotFound,
    "No allowance scheme with id {id}.",
    "找不到编号为 {id} 的津贴方案。",
)
MEAL_NOT_FOUND = Code(
    "MEAL_NOT_FOUND", NotFound, "No meal with id {id}.", "找不到编号为 {id} 的就餐记录。"
)
MEAL_TOO_OLD = Code(
    "MEAL_TOO_OLD",
    Invalid,
    "served_at is more than {days} days ago; check the terminal's clock.",
    "就餐时间早于 {days} 天前，请检查终端时钟。",
)
MEAL_NOT_FLAGGED = Code(
    "MEAL_NOT_FLAGGED",
    Conflict,
    "Meal {id} is {status}; only a flagged meal is accepted.",
    "就餐记录 {id} 未被标记异常，无需审核通过。",
)
MEAL_ALREADY_REJECTED = Code(
    "MEAL_ALREADY_REJECTED", Conflict, "Meal {id} is already rejected.", "就餐记录 {id} 已被驳回。"
)
