// Labels in zh-CN (default) and English. Each screen adds its own with CD.i18n.add({zh, en}).
"use strict";
window.CD = window.CD || {};

CD.lang = localStorage.getItem("cd.lang") === "en" ? "en" : "zh";
CD.strings = { zh: {}, en: {} };
CD.i18n = {
  add(table) {
    for (const l of ["zh", "en"]) Object.assign(CD.strings[l], table[l] || {});
  },
};
// t("key", {n: 3}) -> the label in the current language, {n} filled in.
CD.t = (key, vars) => {
  let s = CD.strings[CD.lang][key];
  if (s === undefined) s = CD.strings.en[key];
  if (s === undefined) s = key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (_, n) => (vars[n] === undefined || vars[n] === null ? "" : String(vars[n])));
  return s;
};
// A code shown to a person: its label when one exists ("code.X"), else the code itself.
CD.code = (prefix, code) => {
  if (code === null || code === undefined || code === "") return "";
  const key = `${prefix}.${code}`;
  return CD.strings[CD.lang][key] || CD.strings.en[key] || String(code);
};
// The server's message in the current language (messages come in both).
CD.msg = (obj) => (CD.lang === "zh" ? obj.message_zh || obj.message : obj.message || obj.message_zh) || "";

CD.i18n.add({
  zh: {
    app: "居家养老上门服务调度", login: "登录", logout: "退出登录", username: "用户名", password: "密码",
    language: "English", language_name: "切换到英文", demo_hint: "演示账号（密码 demo）：dispatcher1 调度员，finance 财务，provider1 机构管理员，admin 平台管理员，supervisor 民政局监管（全区），supervisor_street 街道监管",
    api_docs: "接口文档（Swagger UI）", date: "日期", provider: "服务机构", all_providers: "全部机构",
    refresh: "刷新", loading: "加载中…", none: "暂无数据。", close: "关闭", cancel: "取消", confirm: "确认",
    save: "保存", reason: "原因", reason_required: "请填写原因（将记入审计日志）", error: "出错了", done: "已完成",
    from: "从", to: "至", period: "期间", search: "搜索", status: "状态", actions: "操作", details: "详情",
    minutes: "{n} 分钟", hours: "{n} 小时", km: "{n} 公里", metres: "{n} 米", yes: "是", no: "否",
    caregiver: "护理员", client: "服务对象", service: "服务项目", window: "时间窗", start: "开始", end: "结束",
    prev_day: "前一天", next_day: "后一天", today: "今天",
    skills: "技能", shift: "班次", off_today: "今日休息", main_nav: "主导航", session_expired: "登录已过期，请重新登录。",
    "role.dispatcher": "调度员", "role.provider_admin": "机构管理员", "role.finance": "财务审核", "role.admin": "平台管理员",
    "role.caregiver": "护理员", "role.supervisor": "监管人员", "role.family": "家属",
    "state.scheduled": "待服务", "state.late": "迟到", "state.in_progress": "服务中", "state.completed": "已完成",
    "state.missed": "漏服务", "state.client_absent": "对象不在家", "state.refused": "对象拒绝",
    "vstatus.planned": "未分配", "vstatus.assigned": "已分配", "vstatus.published": "已发布", "vstatus.in_progress": "服务中",
    "vstatus.completed": "已完成", "vstatus.missed": "漏服务", "vstatus.cancelled": "已取消",
    "pstatus.draft": "草稿", "pstatus.optimizing": "优化中", "pstatus.proposed": "待发布", "pstatus.published": "已发布",
    "pstatus.superseded": "已被取代", "pstatus.failed": "失败",
    "wostatus.submitted": "已提交", "wostatus.flagged": "有异常", "wostatus.verified": "已核验", "wostatus.approved": "已通过",
    "wostatus.rejected": "已驳回", "wostatus.billed": "已结算",
    "severity.block": "阻断", "severity.review": "需复核", "severity.info": "提示",
    "fstatus.open": "待处理", "fstatus.overridden": "已豁免", "fstatus.closed": "已关闭",
    "gender.female": "女", "gender.male": "男",
    "kind.visit": "服务", "kind.break": "休息", "kind.pickup": "取餐",
    "point.kitchen": "中央厨房", "point.canteen": "助餐点", "point.centre": "服务中心",
  },
  en: {
    app: "Home-care dispatch", login: "Log in", logout: "Log out", username: "Username", password: "Password",
    language: "中文", language_name: "Switch to Chinese", demo_hint: "Demo logins (password demo): dispatcher1, finance, provider1 (provider admin), admin, supervisor (civil-affairs bureau, whole district), supervisor_street (one street)",
    api_docs: "API documentation (Swagger UI)", date: "Date", provider: "Provider", all_providers: "All providers",
    refresh: "Refresh", loading: "Loading…", none: "Nothing here.", close: "Close", cancel: "Cancel", confirm: "Confirm",
    save: "Save", reason: "Reason", reason_required: "Give a reason (it is audited)", error: "Something went wrong", done: "Done",
    from: "From", to: "To", period: "Period", search: "Search", status: "Status", actions: "Actions", details: "Details",
    minutes: "{n} min", hours: "{n} h", km: "{n} km", metres: "{n} m", yes: "yes", no: "no",
    caregiver: "Caregiver", client: "Client", service: "Service", window: "Window", start: "Start", end: "End",
    prev_day: "Previous day", next_day: "Next day", today: "Today",
    skills: "Skills", shift: "Shift", off_today: "off today", main_nav: "Main navigation", session_expired: "Your session has expired; log in again.",
    "role.dispatcher": "Dispatcher", "role.provider_admin": "Provider admin", "role.finance": "Finance", "role.admin": "Platform admin",
    "role.caregiver": "Caregiver", "role.supervisor": "Supervisor", "role.family": "Family",
    "state.scheduled": "Scheduled", "state.late": "Late", "state.in_progress": "In progress", "state.completed": "Done",
    "state.missed": "Missed", "state.client_absent": "Client absent", "state.refused": "Refused",
    "vstatus.planned": "Unassigned", "vstatus.assigned": "Assigned", "vstatus.published": "Published", "vstatus.in_progress": "In progress",
    "vstatus.completed": "Done", "vstatus.missed": "Missed", "vstatus.cancelled": "Cancelled",
    "pstatus.draft": "Draft", "pstatus.optimizing": "Optimising", "pstatus.proposed": "Proposed", "pstatus.published": "Published",
    "pstatus.superseded": "Superseded", "pstatus.failed": "Failed",
    "wostatus.submitted": "Submitted", "wostatus.flagged": "Flagged", "wostatus.verified": "Verified", "wostatus.approved": "Approved",
    "wostatus.rejected": "Rejected", "wostatus.billed": "Billed",
    "severity.block": "Blocks payment", "severity.review": "Needs review", "severity.info": "Info",
    "fstatus.open": "Open", "fstatus.overridden": "Overridden", "fstatus.closed": "Closed",
    "gender.female": "female", "gender.male": "male",
    "kind.visit": "Visit", "kind.break": "Break", "kind.pickup": "Meal pickup",
    "point.kitchen": "Central kitchen", "point.canteen": "Canteen", "point.centre": "Service centre",
  },
});

// Rule codes and what each flag's evidence says, in words.
CD.i18n.add({
  zh: {
    "rule.MISSING_CHECKIN": "缺少签到", "rule.MISSING_CHECKOUT": "缺少签退", "rule.GEOFENCE_IN": "签到位置超出范围",
    "rule.GEOFENCE_OUT": "签退位置超出范围", "rule.GPS_POOR": "定位精度差", "rule.MOCK_LOCATION": "虚拟定位",
    "rule.SHORT_VISIT": "服务时长过短", "rule.LONG_VISIT": "服务时长过长", "rule.OFF_SCHEDULE": "偏离计划时间",
    "rule.OVERLAP": "工单时间重叠", "rule.IMPOSSIBLE_TRAVEL": "路程时间不可能", "rule.DUPLICATE": "重复工单",
    "rule.PHOTO_REUSED": "照片重复使用", "rule.PHOTO_MISSING": "缺少照片", "rule.PHOTO_STALE": "照片拍摄时间不符",
    "rule.SKILL_MISMATCH": "技能/证书不符", "rule.CLIENT_ABSENT": "服务对象不在期间", "rule.OVER_ENTITLEMENT": "超出月度额度",
    "rule.DAILY_HOURS": "日工时超限", "rule.UNSCHEDULED": "无排班计划", "rule.LATE_SYNC": "上传过晚",
    "ev.GEOFENCE": "{event}位置距服务对象家 {distance} 米，允许 {limit} 米（半径 {radius} 米 + 精度 {acc} 米）。",
    "ev.GPS_POOR": "{event}定位精度 {acc} 米，超过 {limit} 米，无法判断位置。",
    "ev.SHORT_VISIT": "实际服务 {actual} 分钟，计划 {planned} 分钟，低于下限 {limit} 分钟。",
    "ev.LONG_VISIT": "实际服务 {actual} 分钟，计划 {planned} 分钟，超过上限 {limit} 分钟。",
    "ev.OFF_SCHEDULE": "开始时间偏离时间窗 {off} 分钟（允许 {slack} 分钟）。",
    "ev.OVERLAP": "与工单 #{other} 重叠 {overlap} 分钟。",
    "ev.DUPLICATE": "与工单 #{other} 为同一对象同一服务，重叠 {share}%。",
    "ev.IMPOSSIBLE_TRAVEL": "与工单 #{other} 间隔 {gap} 分钟，但路程需 {need} 分钟。",
    "ev.PHOTO_REUSED": "照片与工单 #{other}（{when}）使用的照片相同或几乎相同（差异 {bits} 位）。",
    "ev.PHOTO_MISSING": "服务 {service} 要求拍照，但没有照片。",
    "ev.PHOTO_STALE": "照片拍摄于 {taken}，与{event}时间相差 {apart} 分钟（允许 {limit} 分钟）。",
    "ev.MOCK_LOCATION": "设备报告使用了虚拟定位，或相同坐标出现在不同对象家。",
    "ev.SKILL_MISMATCH": "服务需要技能 {skill}，护理员技能：{skills}。",
    "ev.SKILL_EXPIRED": "技能 {skill} 的证书已于 {expired} 过期。",
    "ev.CLIENT_ABSENT": "服务对象 {start} 至 {end} 不在（{reason}）。",
    "ev.OVER_ENTITLEMENT": "本月已核准 {total} 分钟，额度 {limit} 分钟。",
    "ev.DAILY_HOURS": "当天累计 {total} 分钟，上限 {limit} 分钟。",
    "ev.UNSCHEDULED": "没有与该工单对应的排班服务。",
    "ev.LATE_SYNC": "{event}在 {delay} 小时后才上传（上限 {limit} 小时）。",
    "ev.MISSING": "缺少{event}记录。",
    "ev.check_in": "签到", "ev.check_out": "签退",
  },
  en: {
    "rule.MISSING_CHECKIN": "Missing check-in", "rule.MISSING_CHECKOUT": "Missing check-out", "rule.GEOFENCE_IN": "Check-in too far away",
    "rule.GEOFENCE_OUT": "Check-out too far away", "rule.GPS_POOR": "Poor GPS accuracy", "rule.MOCK_LOCATION": "Mock location",
    "rule.SHORT_VISIT": "Visit too short", "rule.LONG_VISIT": "Visit too long", "rule.OFF_SCHEDULE": "Off schedule",
    "rule.OVERLAP": "Overlapping orders", "rule.IMPOSSIBLE_TRAVEL": "Impossible travel", "rule.DUPLICATE": "Duplicate order",
    "rule.PHOTO_REUSED": "Photo reused", "rule.PHOTO_MISSING": "Photo missing", "rule.PHOTO_STALE": "Photo taken at another time",
    "rule.SKILL_MISMATCH": "Skill or certificate missing", "rule.CLIENT_ABSENT": "Client was away", "rule.OVER_ENTITLEMENT": "Over monthly entitlement",
    "rule.DAILY_HOURS": "Too many hours in a day", "rule.UNSCHEDULED": "Not scheduled", "rule.LATE_SYNC": "Synced late",
    "ev.GEOFENCE": "The {event} was {distance} m from the client's home; allowed {limit} m (radius {radius} m + accuracy {acc} m).",
    "ev.GPS_POOR": "The {event} was located to ±{acc} m, coarser than {limit} m: its place cannot be judged.",
    "ev.SHORT_VISIT": "Lasted {actual} min of {planned} planned, under the minimum {limit} min.",
    "ev.LONG_VISIT": "Lasted {actual} min of {planned} planned, over the maximum {limit} min.",
    "ev.OFF_SCHEDULE": "Started {off} min outside the window (allowed {slack} min).",
    "ev.OVERLAP": "Overlaps order #{other} by {overlap} min.",
    "ev.DUPLICATE": "Same client and service as order #{other}, overlapping {share} %.",
    "ev.IMPOSSIBLE_TRAVEL": "Only {gap} min after order #{other}, but the way takes {need} min.",
    "ev.PHOTO_REUSED": "The photo is the same as (or nearly the same as) the one on order #{other} ({when}; {bits} bits apart).",
    "ev.PHOTO_MISSING": "The service {service} needs a photo and none came.",
    "ev.PHOTO_STALE": "The photo was taken at {taken}, {apart} min from the {event} (allowed {limit} min).",
    "ev.MOCK_LOCATION": "The device reported a mock location, or the same coordinates appear at different clients.",
    "ev.SKILL_MISMATCH": "The service needs {skill}; the caregiver has: {skills}.",
    "ev.SKILL_EXPIRED": "The certificate for {skill} expired on {expired}.",
    "ev.CLIENT_ABSENT": "The client was away from {start} to {end} ({reason}).",
    "ev.OVER_ENTITLEMENT": "Approved this month: {total} min; entitlement {limit} min.",
    "ev.DAILY_HOURS": "That day's total is {total} min; the limit is {limit} min.",
    "ev.UNSCHEDULED": "No planned visit matches this order.",
    "ev.LATE_SYNC": "The {event} reached the server {delay} h later (limit {limit} h).",
    "ev.MISSING": "The {event} is missing.",
    "ev.check_in": "check-in", "ev.check_out": "check-out",
  },
});
