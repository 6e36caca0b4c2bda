"""Error codes: elders' devices (#8): registration and device keys.

Part of the catalogue; ``dispatch.error_codes`` says how to add a code.
"""

from __future__ import annotations

from dispatch.errors import (
    Code,
    Conflict,
    Invalid,
    Unauthenticated,
)

# --- elders' devices (#8) ---------------------------------------------------------------------

DEVICE_NEEDS_CLIENT = Code(
    "DEVICE_NEEDS_CLIENT",
    Invalid,
    "A {kind} is bound to one elder: give client_id and no service_point_id.",
    "呼叫器、手机和传感器（{kind}）须绑定一位服务对象：请给出 client_id，不要给 service_point_id。",
)
DEVICE_NEEDS_SERVICE_POINT = Code(
    "DEVICE_NEEDS_SERVICE_POINT",
    Invalid,
    "A canteen terminal is bound to one service point: give service_point_id and no client_id.",
    "助餐终端须绑定一个服务点：请给出 service_point_id，不要给 client_id。",
)
DEVICE_ALREADY_REVOKED = Code(
    "DEVICE_ALREADY_REVOKED", Conflict, "Device {id} is already revoked.", "设备 {id} 已被注销。"
)
DEVICE_KEY_MISSING = Code(
    "DEVICE_KEY_MISSING",
    Unauthenticated,
    "This request needs the device's key in the X-Device-Key header.",
    "请求须在 X-Device-Key 头中携带设备密钥。",
)
DEVICE_KEY_INVALID = Code(
    "DEVICE_KEY_INVALID",
    Unauthenticated,
    "No device has this key; register the device and use the key it was given.",
    "没有设备使用此密钥：请登记设备并使用登记时给出的密钥。",
)
DEVICE_KEY_REVOKED = Code(
    "DEVICE_KEY_REVOKED",
    Unauthenticated,
    "This device's key was revoked; register the device again for a new key.",
    "该设备密钥已被注销：请重新登记设备以获取新密钥。",
)
