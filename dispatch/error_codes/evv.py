"""Error codes: the caregiver's app: check-in, check-out and offline sync (EVV).

Part of the catalogue; ``dispatch.error_codes`` says how to add a code.
"""

from __future__ import annotations

from dispatch.errors import (
    Code,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    PayloadTooLarge,
)

# --- the caregiver's app: check-in, check-out, offline sync (EVV) -----------------------------

NOT_A_CAREGIVER = Code(
    "NOT_A_CAREGIVER",
    Forbidden,
    "Only a caregiver's own account can do this.",
    "只有护理员本人的账号可以执行此操作。",
)
PHOTO_REQUIRED = Code(
    "PHOTO_REQUIRED",
    Invalid,
    "The service {service} requires a photo: attach it as the part 'photo'.",
    "服务 {service} 需要拍照留证：请在 photo 部分附上照片。",
)
PHOTO_PART_MISSING = Code(
    "PHOTO_PART_MISSING",
    Invalid,
    "The photo part '{part}' is not in the request.",
    "请求中没有名为 {part} 的照片部分。",
)
IDEMPOTENCY_KEY_REUSED = Code(
    "IDEMPOTENCY_KEY_REUSED",
    Conflict,
    "This idempotency_key was already used for a different event; make a new UUID for a new "
    "event, or resend the original unchanged.",
    "该 idempotency_key 已用于另一条不同的记录：新记录请生成新的 UUID，或原样重发原记录。",
    call=(
        "This idempotency_key was already used for a different call; make a new UUID for a new "
        "call, or resend the original unchanged.",
        "该 idempotency_key 已用于另一次不同的呼叫：新呼叫请生成新的 UUID，或原样重发。",
    ),
    meal=(
        "This idempotency key was used for another meal; make a new key for a new meal.",
        "该幂等键已用于另一条就餐记录，新的就餐请使用新的键。",
    ),
)
DEVICE_TIME_IMPLAUSIBLE = Code(
    "DEVICE_TIME_IMPLAUSIBLE",
    Invalid,
    "device_time is more than {days} days away from now: check the phone's clock.",
    "设备时间与当前时间相差超过 {days} 天，请检查手机时钟。",
)
ALREADY_CHECKED_IN = Code(
    "ALREADY_CHECKED_IN", Conflict, "You already checked in to this visit.", "您已签到过该服务。"
)
ALREADY_CHECKED_OUT = Code(
    "ALREADY_CHECKED_OUT", Conflict, "You already checked out of this visit.", "您已签退过该服务。"
)
VISIT_CANCELLED = Code(
    "VISIT_CANCELLED",
    Conflict,
    "This visit was cancelled; it takes no check-in or check-out.",
    "该服务已取消，不能签到或签退。",
)
VISIT_NOT_PUBLISHED = Code(
    "VISIT_NOT_PUBLISHED",
    Conflict,
    "This visit is not published yet; wait for the dispatcher to publish the route.",
    "该服务尚未发布，请等待调度员发布路线。",
)
NOT_CHECKED_IN = Code(
    "NOT_CHECKED_IN", Conflict, "Check in before checking out.", "请先签到再签退。"
)
CHECKOUT_BEFORE_CHECKIN = Code(
    "CHECKOUT_BEFORE_CHECKIN",
    Invalid,
    "The check-out time is before the check-in time; check the phone's clock.",
    "签退时间早于签到时间，请检查手机时钟。",
)
SYNC_BATCH_TOO_LARGE = Code(
    "SYNC_BATCH_TOO_LARGE",
    PayloadTooLarge,
    "A batch holds at most {n} events; send the rest in another batch.",
    "每批最多 {n} 条记录，其余请分批发送。",
)
PHOTO_CONTENT_MISSING = Code(
    "PHOTO_CONTENT_MISSING",
    NotFound,
    "The content of photo {id} is missing from the photo store.",
    "照片 {id} 的文件缺失。",
)
