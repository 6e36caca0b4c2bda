"""Error codes: elders and families (#18): emergency calls, family links, ratings, complaints,
orders (点单).

Part of the catalogue; ``dispatch.error_codes`` says how to add a code.
"""

from __future__ import annotations

from dispatch.errors import Code, Conflict, Invalid, NotFound

# --- calls ------------------------------------------------------------------------------------

CALL_NOT_FOUND = Code(
    "CALL_NOT_FOUND", NotFound, "No call with id {id}.", "找不到编号为 {id} 的呼叫。"
)
DEVICE_CANNOT_CALL = Code(
    "DEVICE_CANNOT_CALL",
    Invalid,
    "A canteen terminal cannot make an emergency call; only an elder's pendant, phone or sensor "
    "can.",
    "助餐终端不能发起紧急呼叫，只有老人的呼叫器、手机或传感器可以。",
)
CALL_CLIENT_MISMATCH = Code(
    "CALL_CLIENT_MISMATCH",
    Invalid,
    "This device belongs to elder {device_client}, not {client}: leave client_id out of a "
    "device's call.",
    "该设备绑定的服务对象（{device_client}）与 client_id（{client}）不符：设备呼叫无需填写 "
    "client_id。",
)
CALL_NEEDS_CLIENT = Code(
    "CALL_NEEDS_CLIENT",
    Invalid,
    "Say whose call this is: client_id is required.",
    "请给出呼叫的服务对象：client_id 必填。",
)
CALL_CLOSED = Code(
    "CALL_CLOSED",
    Conflict,
    "Call {id} is closed; open a new one if help is needed again.",
    "呼叫 {id} 已结束；如需再次求助，请发起新的呼叫。",
)
CALL_ALREADY_DISPATCHED = Code(
    "CALL_ALREADY_DISPATCHED",
    Conflict,
    "Call {id} was already dispatched (visit {visit}).",
    "呼叫 {id} 已派单（上门服务 {visit}）。",
)
CALL_SERVICE_MISSING = Code(
    "CALL_SERVICE_MISSING",
    Invalid,
    "The catalogue has no active service {service}: add it, then dispatch again.",
    "服务目录中没有启用的 {service}（助急）服务：请先添加，再派单。",
)
CALL_NO_CAREGIVER = Code(
    "CALL_NO_CAREGIVER",
    Conflict,
    "No caregiver can reach the elder now ({reason}: {detail}); pick a caregiver and an arrival "
    "time, or escalate the call.",
    "目前没有护理员能赶到（{reason}）：请指定护理员和到达时间，或升级处理该呼叫。",
)
CALL_ARRIVAL_OUT_OF_RANGE = Code(
    "CALL_ARRIVAL_OUT_OF_RANGE",
    Invalid,
    "The arrival must be between the call ({opened}) and {latest}: give the time the caregiver "
    "will really be there, or escalate the call.",
    "到达时间须在呼叫时间（{opened}）与 {latest} 之间：请填写护理员实际能到达的时间，"
    "或升级处理该呼叫。",
)
INVALID_RANGE = Code(
    "INVALID_RANGE",
    Invalid,
    "to must not be before from.",
    "结束日期不能早于开始日期。",
    too_long=("Ask for at most {days} days at a time.", "每次最多查询 {days} 天。"),
)

# --- family links and ratings -------------------------------------------------------------------

NOT_A_FAMILY_USER = Code(
    "NOT_A_FAMILY_USER",
    Invalid,
    "No family user with id {id} at this provider; create the user with the role family first.",
    "该机构没有编号为 {id} 的家属用户：请先创建角色为 family 的用户。",
)
FAMILY_ALREADY_LINKED = Code(
    "FAMILY_ALREADY_LINKED",
    Conflict,
    "User {id} is already linked to this elder.",
    "用户 {id} 已与此服务对象关联。",
)
FAMILY_LINK_NOT_FOUND = Code(
    "FAMILY_LINK_NOT_FOUND",
    NotFound,
    "User {id} is not linked to this elder.",
    "用户 {id} 未与此服务对象关联。",
)
VISIT_NOT_DONE = Code(
    "VISIT_NOT_DONE",
    Conflict,
    "The visit is {status}; rate it once the caregiver has checked out.",
    "该服务尚未完成（{status}）：护理员签退后才能评价。",
)
ALREADY_RATED = Code(
    "ALREADY_RATED",
    Conflict,
    "Visit {id} has already been rated; a visit is rated once.",
    "服务 {id} 已评价过，每次服务只能评价一次。",
)

# --- complaints ---------------------------------------------------------------------------------

COMPLAINT_NOT_FOUND = Code(
    "COMPLAINT_NOT_FOUND", NotFound, "No complaint with id {id}.", "找不到编号为 {id} 的投诉。"
)
COMPLAINT_CLOSED = Code(
    "COMPLAINT_CLOSED",
    Conflict,
    "Complaint {id} is closed; it can no longer change.",
    "投诉 {id} 已结案，不能再修改。",
)
COMPLAINT_STATUS = Code(
    "COMPLAINT_STATUS",
    Invalid,
    "Answer the complaint (status answered) or close it (status closed).",
    "请答复（answered）或结案（closed）该投诉。",
)
COMPLAINT_NEEDS_ANSWER = Code(
    "COMPLAINT_NEEDS_ANSWER",
    Invalid,
    "An answered complaint needs the answer text.",
    "答复投诉须填写答复内容。",
)

# --- orders (点单) --------------------------------------------------------------------------------

SERVICE_ORDER_NOT_FOUND = Code(
    "SERVICE_ORDER_NOT_FOUND", NotFound, "No order with id {id}.", "找不到编号为 {id} 的点单。"
)
SERVICE_NOT_IN_CATALOGUE = Code(
    "SERVICE_NOT_IN_CATALOGUE",
    Invalid,
    "{service} is not a service of the catalogue; GET /service-types lists them.",
    "{service} 不在服务目录中；可用服务见 GET /service-types。",
)
ORDER_IN_PAST = Code(
    "ORDER_IN_PAST",
    Invalid,
    "The date is in the past; order for today or later.",
    "日期已过，请预约今天或以后的服务。",
    window=("The window has already passed.", "该时间窗已过。"),
)
ORDER_TOO_FAR = Code(
    "ORDER_TOO_FAR", Invalid, "Order at most {days} days ahead.", "最多可预约 {days} 天以内的服务。"
)
WINDOW_TOO_SHORT = Code(
    "WINDOW_TOO_SHORT",
    Invalid,
    "The window must hold the service's {minutes} minutes.",
    "时间窗须至少容纳该服务的 {minutes} 分钟。",
)
ORDER_ALREADY_DECIDED = Code(
    "ORDER_ALREADY_DECIDED",
    Conflict,
    "Order {id} was already {status}.",
    "点单 {id} 已处理（{status}）。",
)
