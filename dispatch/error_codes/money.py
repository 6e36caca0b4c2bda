"""Error codes: rules, finance decisions, appeals and billing.

Part of the catalogue; ``dispatch.error_codes`` says how to add a code.
"""

from __future__ import annotations

from dispatch.errors import (
    Code,
    Conflict,
    Invalid,
)

# --- rules, flags and decisions ----------------------------------------------------------------

INVALID_THRESHOLD = Code(
    "INVALID_THRESHOLD", Invalid, "Rule {rule}: {why}", "规则 {rule} 的阈值无效：{why}"
)
REASON_REQUIRED = Code(
    "REASON_REQUIRED",
    Invalid,
    "Give a reason: every decision is audited with its why.",
    "请填写理由：每个决定都会连同理由记入审计日志。",
    appeal=("Say why the order should be paid.", "请说明申诉理由。"),
    decision=("Give a reason for the decision.", "请填写处理理由。"),
)
APPEAL_ALREADY_OPEN = Code(
    "APPEAL_ALREADY_OPEN",
    Conflict,
    "Work order {id} already has an open appeal; wait for finance's decision.",
    "工单 {id} 已有一个待处理的申诉，请等待财务处理。",
)
NOT_APPEALABLE = Code(
    "NOT_APPEALABLE",
    Conflict,
    "Work order {id} is {status}; only flagged or rejected orders can be appealed.",
    "工单 {id} 当前状态（{status}）不可申诉；只有异常或被驳回的工单可以申诉。",
)
APPEAL_DECIDED = Code(
    "APPEAL_DECIDED",
    Conflict,
    "Appeal {id} was already decided ({status}).",
    "申诉 {id} 已处理（{status}）。",
)
EVIDENCE_NOT_ORIGINAL = Code(
    "EVIDENCE_NOT_ORIGINAL",
    Invalid,
    "This file was already uploaded elsewhere; send an original photo or scan.",
    "该文件已在别处上传过，请提供原始照片或扫描件。",
)

# --- billing ---------------------------------------------------------------------------------

BATCH_CLOSED = Code(
    "BATCH_CLOSED",
    Conflict,
    "Billing batch {id} is closed; closed batches never change.",
    "结算批次 {id} 已关闭，不能再修改。",
    order=(
        "Work order {id} is in closed billing batch {batch}; closed batches never change.",
        "工单 {id} 所在的结算批次 {batch} 已关闭，不能再修改。",
    ),
    billed=(
        "Work order {id} is billed; billed orders never change.",
        "工单 {id} 已结算，不能再修改。",
    ),
)
NO_APPROVED_ORDERS = Code(
    "NO_APPROVED_ORDERS",
    Invalid,
    "No approved, unbilled orders or billable canteen meals of this provider in this period.",
    "该机构在此期间没有已审核通过且未结算的工单或助餐记录。",
)
BATCH_EMPTY = Code(
    "BATCH_EMPTY",
    Invalid,
    "The batch has no orders or meals left; delete it instead.",
    "该批次已没有工单或助餐记录，请删除该批次。",
)
# Why finance cannot decide an order: a 409 alone, one line of a bulk approval's report.
APPEAL_OPEN = Code(
    "APPEAL_OPEN",
    Conflict,
    "Work order {id} has an open appeal; decide the appeal first.",
    "工单 {id} 有未处理的申诉，请先处理申诉。",
)
NOT_VALIDATED = Code(
    "NOT_VALIDATED",
    Conflict,
    "Work order {id} has not been validated yet; try again in a minute.",
    "工单 {id} 尚未完成校验，请稍后再试。",
)
ALREADY_APPROVED = Code(
    "ALREADY_APPROVED", Conflict, "Work order {id} is already approved.", "工单 {id} 已审核通过。"
)
ALREADY_REJECTED = Code(
    "ALREADY_REJECTED", Conflict, "Work order {id} is already rejected.", "工单 {id} 已被驳回。"
)
FLAGS_OPEN = Code(
    "FLAGS_OPEN",
    Conflict,
    "Work order {id} has open flags ({flags}); list each in override_flags with a reason, or "
    "reject the order.",
    "工单 {id} 仍有未处理的异常（{flags}），请在 override_flags 中逐一列出并说明理由，或驳回。",
)
OVER_ENTITLEMENT = Code(
    "OVER_ENTITLEMENT",
    Conflict,
    "Approving work order {id} puts the client at {minutes} approved minutes this month, over "
    "the entitlement of {limit}; send accept_over_entitlement=true to approve anyway.",
    "审核通过工单 {id} 后，该服务对象本月已批准 {minutes} 分钟，超过额度 {limit} 分钟。"
    "如仍要通过，请设置 accept_over_entitlement=true。",
)
NOT_VERIFIED = Code(
    "NOT_VERIFIED",
    Conflict,
    "Work order {id} is {status}; bulk approval takes verified orders only (decide flagged ones "
    "one by one).",
    "工单 {id} 当前状态为 {status}；批量审核只处理已校验通过的工单（异常工单请逐个处理）。",
)
OVERRIDE_ONLY_ON_APPROVAL = Code(
    "OVERRIDE_ONLY_ON_APPROVAL",
    Invalid,
    "override_flags only applies to an approval.",
    "override_flags 仅用于审核通过。",
)
UNKNOWN_FLAGS = Code(
    "UNKNOWN_FLAGS",
    Invalid,
    "override_flags must list open flags of this order.",
    "override_flags 只能列出本工单未处理的异常。",
)
IDS_OR_FILTER = Code(
    "IDS_OR_FILTER", Invalid, "Give either ids or filter.", "请给出 ids 或 filter 之一。"
)
TOO_MANY_IDS = Code("TOO_MANY_IDS", Invalid, "At most {n} ids per call.", "每次最多 {n} 个编号。")
