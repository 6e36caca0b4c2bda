// The family page (家属): a relative's elders, their visits (rate, complain), services ordered
// à la carte (点单), complaints, the one-key call and the notifications. Phone first.
"use strict";

CD.i18n.add({
  zh: {
    "tab.family": "家人服务", fam_elders: "选择老人", fam_no_elders: "您的账号还没有关联老人。请联系服务机构为您关联。",
    fam_relation: "您是老人的{relation}", fam_address: "住址：{address}",
    "fam.visits": "上门服务", "fam.order": "预约服务", "fam.complain": "投诉建议", "fam.news": "消息通知",
    fam_sections: "页面分区",
    fam_today: "今天", fam_tomorrow: "明天", fam_yesterday: "昨天", fam_coming: "接下来的服务", fam_past: "最近的服务",
    fam_no_visits_today: "今天没有安排上门服务。", fam_no_coming: "接下来 7 天没有安排。", fam_no_past: "最近 7 天没有上门服务。",
    fam_window: "约定时间 {start}–{end}", fam_expected: "预计 {time} 上门", fam_caregiver: "护理员：{names}", fam_no_caregiver: "护理员：待安排",
    fam_checked_in: "到达 {time}", fam_checked_out: "离开 {time}", fam_stayed: "（服务 {n} 分钟）",
    "fst.waiting": "待上门", "fst.in_progress": "服务中", "fst.completed": "已完成", "fst.missed": "未上门",
    "fst.client_absent": "老人不在家", "fst.refused": "老人谢绝服务", "fst.urgent": "紧急",
    fam_photos: "服务照片", fam_photo_alt: "{service} {when} 的照片",
    fam_rate: "评价这次服务", fam_rate_title: "评价：{service}（{date}）", fam_stars: "打几颗星？", fam_star_n: "{n} 星",
    fam_comment: "想说的话（可不填）", fam_rated: "已评价", fam_rated_ok: "谢谢您的评价！", fam_already_rated: "这次服务已经评价过了，每次服务只能评价一次。",
    fam_report: "反映问题",
    fam_call: "一键呼叫", fam_call_sub: "老人需要紧急帮助时按这里", fam_call_title: "确认呼叫服务机构？",
    fam_call_explain: "服务机构会马上安排护理员到 {name} 家（{address}）。如有生命危险，请先拨打 120。",
    fam_call_kind: "发生了什么？", "callkind.sos": "紧急求助", "callkind.fall": "老人摔倒了", "callkind.help": "需要帮忙（不紧急）",
    fam_call_note: "补充说明（可不填），例如：老人说胸口疼", fam_call_ok: "确认呼叫",
    fam_call_sent: "已呼叫，服务机构已收到（{time}）。", fam_call_box: "呼叫进展",
    fam_call_waiting: "{time} 已收到呼叫，正在安排护理员。", fam_call_dispatched: "已派出护理员 {names}，预计 {time} 到达。",
    fam_call_arrived: "护理员 {names} 已于 {time} 到达。", fam_call_done: "护理员 {names} 已于 {time} 离开，本次呼叫已处理完毕。",
    fam_call_retry: "呼叫没有发送成功：{error}。请再按一次“确认呼叫”，或直接拨打服务机构电话。",
    fam_order_title: "预约一项上门服务", fam_order_service: "服务项目", fam_order_date: "哪一天", fam_order_from: "最早几点开始",
    fam_order_to: "最晚几点结束", fam_order_note: "给护理员的话（可不填），例如：请带上吸尘器", fam_order_submit: "提交预约",
    fam_order_price: "这项服务的价格 ¥{price}。", fam_order_copay: "老人需自付 ¥{copay}。", fam_order_free: "全部由补贴承担，老人不用付钱。",
    "fund.government": "政府购买服务：本月还剩 {min} 分钟服务时长。", "fund.government_nolimit": "政府购买服务：不限时长。",
    "fund.ltc_insurance": "长期护理保险：本月还剩 {min} 分钟服务时长。", "fund.ltc_insurance_nolimit": "长期护理保险：不限时长。",
    "fund.allowance": "电子津贴余额 ¥{left}。", "fund.allowance_none": "电子津贴：没有余额记录。", "fund.self_paid": "自费服务。",
    fam_order_checking: "正在计算费用…", fam_order_sent: "预约已提交，等服务机构确认后会通知您。", fam_orders: "我的预约",
    "ostatus.requested": "等待确认", "ostatus.accepted": "已接受", "ostatus.declined": "未能接受",
    fam_order_reason: "原因：{reason}", fam_order_accepted: "已安排上门。", fam_ordered_at: "{when} 提交",
    fam_complain_title: "向服务机构反映问题", fam_complain_about: "关于哪次服务", fam_complain_general: "不针对某次服务（一般问题）",
    fam_complain_text: "请写下发生了什么", fam_complain_submit: "提交", fam_complain_sent: "已提交，服务机构会尽快答复。",
    fam_complaints: "我反映的问题", "cstatus.open": "等待答复", "cstatus.answered": "已答复", "cstatus.closed": "已结束",
    fam_answer: "机构答复（{when}）：{answer}", fam_no_answer: "服务机构还没有答复。", fam_about_visit: "关于 {when} 的{service}",
    fam_news_none: "还没有消息。", "nkind.check_in": "到达", "nkind.check_out": "离开", "nkind.missed": "未上门",
    "nkind.call_dispatched": "已派人", "nkind.call_escalated": "已转交", "nkind.arrived": "已到达",
    "nkind.order_accepted": "预约", "nkind.order_declined": "预约",
  },
  en: {
    "tab.family": "My family", fam_elders: "Choose a relative", fam_no_elders: "Your account is not linked to anyone yet. Ask the care provider to link you.",
    fam_relation: "You are their {relation}", fam_address: "Address: {address}",
    "fam.visits": "Visits", "fam.order": "Order", "fam.complain": "Complaints", "fam.news": "Messages",
    fam_sections: "Page sections",
    fam_today: "Today", fam_tomorrow: "Tomorrow", fam_yesterday: "Yesterday", fam_coming: "Coming visits", fam_past: "Recent visits",
    fam_no_visits_today: "No visit is planned today.", fam_no_coming: "Nothing planned in the next 7 days.", fam_no_past: "No visits in the last 7 days.",
    fam_window: "Agreed time {start}–{end}", fam_expected: "Expected at {time}", fam_caregiver: "Caregiver: {names}", fam_no_caregiver: "Caregiver: not yet chosen",
    fam_checked_in: "Arrived {time}", fam_checked_out: "Left {time}", fam_stayed: " ({n} min of care)",
    "fst.waiting": "Coming", "fst.in_progress": "Caregiver is there", "fst.completed": "Done", "fst.missed": "Did not happen",
    "fst.client_absent": "Not at home", "fst.refused": "Declined by your relative", "fst.urgent": "Urgent",
    fam_photos: "Photos of the visit", fam_photo_alt: "Photo of {service} on {when}",
    fam_rate: "Rate this visit", fam_rate_title: "Rate: {service} ({date})", fam_stars: "How many stars?", fam_star_n: "{n} stars",
    fam_comment: "Anything to add (optional)", fam_rated: "Rated", fam_rated_ok: "Thank you for your rating!", fam_already_rated: "This visit was already rated; each visit can be rated once.",
    fam_report: "Report a problem",
    fam_call: "Emergency call", fam_call_sub: "Press when your relative needs help now", fam_call_title: "Call the care provider now?",
    fam_call_explain: "The provider will send a caregiver to {name} at once ({address}). If a life is in danger, call 120 first.",
    fam_call_kind: "What happened?", "callkind.sos": "Emergency", "callkind.fall": "They have fallen", "callkind.help": "Needs help (not urgent)",
    fam_call_note: "Anything to add (optional), e.g. says their chest hurts", fam_call_ok: "Yes, call now",
    fam_call_sent: "Call sent; the provider has it ({time}).", fam_call_box: "Your call",
    fam_call_waiting: "Call received at {time}; a caregiver is being found.", fam_call_dispatched: "{names} is on the way, expected at {time}.",
    fam_call_arrived: "{names} arrived at {time}.", fam_call_done: "{names} left at {time}; the call has been dealt with.",
    fam_call_retry: "The call did not go through: {error}. Press “Yes, call now” again, or phone the provider.",
    fam_order_title: "Order a home visit", fam_order_service: "Service", fam_order_date: "Which day", fam_order_from: "Start no earlier than",
    fam_order_to: "Finish no later than", fam_order_note: "A note for the caregiver (optional), e.g. please bring a vacuum cleaner", fam_order_submit: "Send the order",
    fam_order_price: "This service costs ¥{price}.", fam_order_copay: "Your relative pays ¥{copay}.", fam_order_free: "Fully covered: your relative pays nothing.",
    "fund.government": "Government-funded: {min} min of care left this month.", "fund.government_nolimit": "Government-funded: no monthly limit.",
    "fund.ltc_insurance": "Long-term care insurance: {min} min of care left this month.", "fund.ltc_insurance_nolimit": "Long-term care insurance: no monthly limit.",
    "fund.allowance": "Care allowance left: ¥{left}.", "fund.allowance_none": "Care allowance: no balance on record.", "fund.self_paid": "Paid privately.",
    fam_order_checking: "Working out the cost…", fam_order_sent: "Order sent. You will be told when the provider confirms it.", fam_orders: "My orders",
    "ostatus.requested": "Waiting for the provider", "ostatus.accepted": "Accepted", "ostatus.declined": "Declined",
    fam_order_reason: "Reason: {reason}", fam_order_accepted: "A visit is booked.", fam_ordered_at: "sent {when}",
    fam_complain_title: "Tell the provider about a problem", fam_complain_about: "Which visit is it about", fam_complain_general: "Not about one visit (general)",
    fam_complain_text: "What happened", fam_complain_submit: "Send", fam_complain_sent: "Sent. The provider will answer soon.",
    fam_complaints: "Problems I reported", "cstatus.open": "Waiting for an answer", "cstatus.answered": "Answered", "cstatus.closed": "Closed",
    fam_answer: "The provider answered ({when}): {answer}", fam_no_answer: "No answer from the provider yet.", fam_about_visit: "About {service} on {when}",
    fam_news_none: "No messages yet.", "nkind.check_in": "Arrived", "nkind.check_out": "Left", "nkind.missed": "Missed",
    "nkind.call_dispatched": "Help sent", "nkind.call_escalated": "Passed on", "nkind.arrived": "Arrived",
    "nkind.order_accepted": "Order", "nkind.order_declined": "Order",
    "rel.女儿": "daughter", "rel.儿子": "son", "rel.儿媳": "daughter-in-law", "rel.女婿": "son-in-law", "rel.孙女": "granddaughter",
    "rel.孙子": "grandson", "rel.外孙女": "granddaughter", "rel.外孙": "grandson", "rel.配偶": "spouse", "rel.妻子": "wife", "rel.丈夫": "husband",
  },
});

(function () {
  const h = CD.h;
  const t = CD.t;
  const SECTIONS = ["visits", "order", "complain", "news"];
  const CALL_KINDS = ["sos", "fall", "help"];
  // The page's memory across redraws: the chosen elder and section, the last press of the call.
  const state = { elder: null, section: "visits", call: null, pending: null, photos: {} };
  let catalogue = null;
  let page = null; // {panel, elders, visits, parts}

  // An idempotency key (crypto.randomUUID needs https; getRandomValues does not).
  const newKey = () => `fam-${Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("")}`;
  // The relation as the provider wrote it (Chinese); in English the usual ones translated.
  const relation = (r) => (CD.lang === "zh" ? r : CD.code("rel", r));
  const money = (s) => (s === null || s === undefined ? "" : String(s));
  const dayLabel = (date) => {
    const today = CD.today();
    if (date === today) return t("fam_today");
    if (date === CD.addDays(today, 1)) return t("fam_tomorrow");
    if (date === CD.addDays(today, -1)) return t("fam_yesterday");
    return CD.day(`${date}T12:00:00Z`);
  };
  const serviceName = (svc) => {
    if (!svc) return "";
    const row = catalogue && catalogue.find((s) => s.code === svc.code);
    return CD.lang === "en" && row && row.name_en ? row.name_en : svc.name || svc.code;
  };

  // What a family member calls a visit's state.
  function visitState(v) {
    if (v.status === "completed") return v.outcome && v.outcome !== "completed" ? v.outcome : "completed";
    if (v.status === "in_progress") return "in_progress";
    if (v.status === "missed") return "missed";
    return "waiting";
  }

  // ---- loading ----------------------------------------------------------------------------
  async function loadVisits(elderId) {
    const from = CD.addDays(CD.today(), -7);
    const to = CD.addDays(CD.today(), 7);
    return CD.api.get(`/me/clients/${elderId}/visits?from=${from}&to=${to}`);
  }

  // ---- the call ----------------------------------------------------------------------------
  function callBox(elder, visits) {
    // The call's state, as its urgent visit shows it: waiting, caregiver sent, arrived, done.
    const today = CD.today();
    const urgent = visits.filter((v) => v.urgent && v.date === today);
    let v = state.call && state.call.client_id === elder.id ? urgent.find((x) => x.id === state.call.visit_id) : null;
    if (!v && urgent.length) v = urgent[urgent.length - 1];
    const lines = [];
    if (state.pending && state.pending.error) {
      lines.push(h("p", { class: "banner bad", role: "alert" }, t("fam_call_retry", { error: state.pending.error })));
    }
    if (v) {
      const names = v.caregivers.join("、");
      let text;
      let cls = "warn";
      if (v.checked_out_at) { text = t("fam_call_done", { names, time: CD.time(v.checked_out_at) }); cls = "ok"; }
      else if (v.checked_in_at) { text = t("fam_call_arrived", { names, time: CD.time(v.checked_in_at) }); cls = "ok"; }
      else if (v.caregivers.length) { text = t("fam_call_dispatched", { names, time: CD.time(v.planned_start || v.window_start) }); cls = "info"; }
      else text = t("fam_call_waiting", { time: CD.time(v.window_start) });
      lines.push(h("p", { class: `banner ${cls}`, "data-call-state": v.checked_out_at ? "done" : v.checked_in_at ? "arrived" : v.caregivers.length ? "dispatched" : "open" }, text));
    } else if (state.call && state.call.client_id === elder.id) {
      lines.push(h("p", { class: "banner warn", "data-call-state": state.call.status }, t("fam_call_sent", { time: CD.time(state.call.opened_at) })));
    }
    return h("section", { class: "fam-call", "aria-label": t("fam_call") },
      h("button", { type: "button", class: "fam-call-button", onclick: () => pressCall(elder).catch(CD.fail) },
        h("span", { class: "fam-call-main" }, t("fam_call")), h("span", { class: "fam-call-sub" }, t("fam_call_sub"))),
      lines.length ? h("div", { class: "fam-call-state", role: "status", "aria-label": t("fam_call_box") }, lines) : null);
  }

  async function pressCall(elder) {
    const v = await CD.dialog(t("fam_call_title"), [
      h("p", {}, t("fam_call_explain", { name: elder.name, address: elder.address })),
      h("fieldset", { class: "fam-choices" }, h("legend", {}, t("fam_call_kind")),
        CALL_KINDS.map((k, i) => h("label", { class: "fam-choice" }, h("input", { type: "radio", name: "kind", value: k, checked: i === 0, required: true }), t(`callkind.${k}`)))),
      CD.field(t("fam_call_note"), h("textarea", { name: "note", rows: 2, maxlength: 500 })),
    ], { ok: t("fam_call_ok") });
    if (!v) return;
    // One key per press: a retry after a failure (same words) is the same call, never a second.
    const body = { client_id: elder.id, kind: v.kind, note: v.note.trim() || null };
    const same = state.pending && state.pending.client_id === elder.id && state.pending.kind === body.kind && state.pending.note === body.note;
    const key = same ? state.pending.key : newKey();
    state.pending = { ...body, key, error: null };
    try {
      state.call = await CD.api.post("/calls", { ...body, idempotency_key: key });
      state.pending = null;
      CD.status(t("fam_call_sent", { time: CD.time(state.call.opened_at) }), "ok");
    } catch (err) {
      state.pending.error = err.message;
    }
    await draw();
  }

  // ---- visits ------------------------------------------------------------------------------
  function photosOf(v) {
    if (!v.photo_ids || !v.photo_ids.length) return null;
    const box = h("div", { class: "photos fam-photos", "aria-label": t("fam_photos") });
    for (const id of v.photo_ids) {
      const img = h("img", { alt: t("fam_photo_alt", { service: serviceName(v.service), when: `${dayLabel(v.date)} ${CD.time(v.checked_in_at)}` }), loading: "lazy" });
      box.append(img);
      (state.photos[id] ? Promise.resolve(state.photos[id]) : CD.api.blob(`/photos/${id}`).then((b) => (state.photos[id] = URL.createObjectURL(b))))
        .then((url) => { img.src = url; })
        .catch(() => { img.remove(); });
    }
    return box;
  }

  function visitCard(v, elder) {
    const st = visitState(v);
    const names = v.caregivers.join("、");
    const times = [];
    if (v.checked_in_at) times.push(t("fam_checked_in", { time: CD.time(v.checked_in_at) }));
    if (v.checked_out_at) times.push(t("fam_checked_out", { time: CD.time(v.checked_out_at) }) + (v.checked_in_at ? t("fam_stayed", { n: Math.round((new Date(v.checked_out_at) - new Date(v.checked_in_at)) / 60000) }) : ""));
    let rating = null;
    if (v.rating) {
      rating = h("p", { class: "fam-rated", "data-rated": v.rating.stars },
        h("span", { class: "pill completed" }, t("fam_rated")), " ",
        h("span", { class: "stars", "aria-label": t("fam_star_n", { n: v.rating.stars }) }, "★".repeat(v.rating.stars) + "☆".repeat(5 - v.rating.stars)),
        v.rating.comment ? ` ${v.rating.comment}` : "");
    } else if (v.status === "completed") {
      rating = h("button", { type: "button", class: "secondary", onclick: () => rate(v).catch(CD.fail) }, t("fam_rate"));
    }
    const past = v.status === "completed" || v.status === "missed" || v.status === "in_progress";
    return h("article", { class: `fam-visit s-${st}`, "data-visit": v.id },
      h("div", { class: "fam-visit-head" },
        h("strong", {}, serviceName(v.service)),
        v.urgent ? CD.pill(t("fst.urgent"), "missed") : null,
        CD.pill(t(`fst.${st}`), st === "waiting" ? "" : st === "client_absent" || st === "refused" ? "late" : st)),
      h("p", {}, v.status === "completed" || v.status === "in_progress" || !v.planned_start
        ? t("fam_window", { start: CD.time(v.window_start), end: CD.time(v.window_end) })
        : t("fam_expected", { time: CD.time(v.planned_start) })),
      h("p", {}, names ? t("fam_caregiver", { names }) : t("fam_no_caregiver")),
      times.length ? h("p", { class: "fam-times" }, times.join(" · ")) : null,
      photosOf(v),
      h("div", { class: "row" }, rating,
        past ? h("button", { type: "button", class: "link-like", onclick: () => { state.section = "complain"; state.about = v.id; draw().catch(CD.fail); } }, t("fam_report")) : null));
  }

  async function rate(v) {
    const stars = h("fieldset", { class: "fam-stars" }, h("legend", {}, t("fam_stars")),
      [5, 4, 3, 2, 1].map((n) => h("label", { class: "fam-choice" },
        h("input", { type: "radio", name: "stars", value: n, required: true, "aria-label": t("fam_star_n", { n }) }),
        h("span", { "aria-hidden": "true" }, "★".repeat(n)))));
    const res = await CD.dialog(t("fam_rate_title", { service: serviceName(v.service), date: dayLabel(v.date) }), [
      stars,
      CD.field(t("fam_comment"), h("textarea", { name: "comment", rows: 3, maxlength: 1000 })),
    ]);
    if (!res) return;
    try {
      await CD.api.post(`/visits/${v.id}/rating`, { stars: Number(res.stars), comment: res.comment.trim() || null });
      CD.status(t("fam_rated_ok"), "ok");
    } catch (err) {
      if (err.code !== "ALREADY_RATED") throw err;
      CD.status(t("fam_already_rated"), "error");
    }
    await draw();
  }

  function visitsSection(visits, elder) {
    const today = CD.today();
    const todays = visits.filter((v) => v.date === today);
    const coming = visits.filter((v) => v.date > today);
    const past = visits.filter((v) => v.date < today).reverse();
    const group = (rows) => {
      const out = [];
      let last = null;
      for (const v of rows) {
        if (v.date !== last) { out.push(h("h4", { class: "fam-day" }, dayLabel(v.date))); last = v.date; }
        out.push(visitCard(v, elder));
      }
      return out;
    };
    return [
      h("section", { class: "card", "aria-label": t("fam_today") }, h("h3", {}, `${t("fam_today")} · ${CD.day(new Date())}`),
        todays.length ? todays.map((v) => visitCard(v, elder)) : h("p", { class: "muted" }, t("fam_no_visits_today"))),
      h("section", { class: "card", "aria-label": t("fam_coming") }, h("h3", {}, t("fam_coming")),
        coming.length ? group(coming) : h("p", { class: "muted" }, t("fam_no_coming"))),
      h("section", { class: "card", "aria-label": t("fam_past") }, h("h3", {}, t("fam_past")),
        past.length ? group(past) : h("p", { class: "muted" }, t("fam_no_past"))),
    ];
  }

  // ---- orders (点单) -----------------------------------------------------------------------
  function coverageText(c) {
    const parts = [];
    const f = c.funding_source;
    if (f === "government" || f === "ltc_insurance") {
      parts.push(c.entitlement_left_min === null ? t(`fund.${f}_nolimit`) : t(`fund.${f}`, { min: c.entitlement_left_min }));
    } else if (f === "allowance") {
      parts.push(c.allowance_left === null ? t("fund.allowance_none") : t("fund.allowance", { left: money(c.allowance_left) }));
    } else if (f === "self_paid") parts.push(t("fund.self_paid"));
    parts.push(t("fam_order_price", { price: money(c.price) }));
    parts.push(Number(c.copay) === 0 ? t("fam_order_free") : t("fam_order_copay", { copay: money(c.copay) }));
    return parts.join(CD.lang === "zh" ? "" : " ");
  }

  async function orderSection(elder) {
    const services = catalogue.filter((s) => s.active && s.code !== "CALL");
    const tomorrow = CD.addDays(CD.today(), 1);
    const svc = h("select", { name: "service_code", required: true },
      services.map((s) => h("option", { value: s.code }, CD.lang === "en" && s.name_en ? s.name_en : s.name)));
    const date = h("input", { type: "date", name: "date", value: tomorrow, min: CD.today(), max: CD.addDays(CD.today(), 90), required: true });
    const from = h("input", { type: "time", name: "window_start", value: "09:00", step: 900, required: true });
    const to = h("input", { type: "time", name: "window_end", value: "11:00", step: 900, required: true });
    const note = h("textarea", { name: "note", rows: 2, maxlength: 500 });
    const quote = h("p", { class: "banner info fam-quote", role: "status", "aria-live": "polite" });
    const submit = h("button", { type: "submit" }, t("fam_order_submit"));
    const body = () => ({ client_id: elder.id, service_code: svc.value, date: date.value, window_start: from.value, window_end: to.value, note: note.value.trim() || null });
    let asked = 0;
    const ask = async () => {
      const n = ++asked;
      quote.className = "banner info fam-quote";
      quote.textContent = t("fam_order_checking");
      try {
        const c = await CD.api.post("/orders/quote", body());
        if (n !== asked) return;
        quote.textContent = coverageText(c);
        quote.dataset.copay = c.copay;
      } catch (err) {
        if (n !== asked) return;
        quote.className = "banner bad fam-quote";
        quote.textContent = err.message;
        delete quote.dataset.copay;
      }
    };
    [svc, date, from, to].forEach((el) => el.addEventListener("change", () => ask().catch(CD.fail)));
    const form = h("form", { class: "card fam-form", "aria-label": t("fam_order_title") },
      h("h3", {}, t("fam_order_title")),
      CD.field(t("fam_order_service"), svc), CD.field(t("fam_order_date"), date),
      h("div", { class: "fam-two" }, CD.field(t("fam_order_from"), from), CD.field(t("fam_order_to"), to)),
      CD.field(t("fam_order_note"), note), quote, submit);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      submit.disabled = true;
      try {
        const o = await CD.api.post("/orders", body());
        CD.status(t("fam_order_sent"), "ok");
        note.value = "";
        quote.textContent = coverageText(o.coverage);
        await drawOrders(list, elder);
      } catch (err) {
        quote.className = "banner bad fam-quote";
        quote.textContent = err.message;
      } finally {
        submit.disabled = false;
      }
    });
    const list = h("section", { class: "card", "aria-label": t("fam_orders") });
    ask().catch(CD.fail);
    await drawOrders(list, elder);
    return [form, list];
  }

  async function drawOrders(box, elder) {
    const rows = await CD.api.all(`/orders?client_id=${elder.id}`, 200);
    const byId = Object.fromEntries(catalogue.map((s) => [s.id, s]));
    box.replaceChildren(h("div", {}, h("h3", {}, t("fam_orders")), rows.length ? rows.map((o) => {
      const s = byId[o.service_type_id];
      return h("article", { class: "fam-item", "data-order": o.id, "data-status": o.status },
        h("div", { class: "fam-visit-head" }, h("strong", {}, s ? serviceName(s) : `#${o.service_type_id}`),
          CD.pill(t(`ostatus.${o.status}`), o.status === "accepted" ? "completed" : o.status === "declined" ? "missed" : "late")),
        h("p", {}, `${dayLabel(o.date)} ${CD.time(o.window_start_at)}–${CD.time(o.window_end_at)}`),
        o.coverage ? h("p", { class: "small muted" }, Number(o.coverage.copay) === 0 ? t("fam_order_free") : t("fam_order_copay", { copay: money(o.coverage.copay) })) : null,
        o.note ? h("p", { class: "small" }, o.note) : null,
        o.status === "declined" ? h("p", { class: "error" }, t("fam_order_reason", { reason: o.decline_reason })) : null,
        o.status === "accepted" ? h("p", { class: "small" }, t("fam_order_accepted")) : null,
        h("p", { class: "small muted" }, t("fam_ordered_at", { when: CD.dateTime(o.created_at) })));
    }) : h("p", { class: "muted" }, t("none"))));
  }

  // ---- complaints -------------------------------------------------------------------------
  async function complainSection(elder, visits) {
    const done = visits.filter((v) => v.date <= CD.today() && ["completed", "missed", "in_progress"].includes(v.status)).reverse();
    const about = h("select", { name: "visit_id" },
      h("option", { value: "" }, t("fam_complain_general")),
      done.map((v) => h("option", { value: v.id, selected: state.about === v.id },
        `${dayLabel(v.date)} ${CD.time(v.checked_in_at || v.window_start)} ${serviceName(v.service)}${v.caregivers.length ? ` · ${v.caregivers.join("、")}` : ""}`)));
    const text = h("textarea", { name: "text", rows: 4, maxlength: 2000, required: true });
    const submit = h("button", { type: "submit" }, t("fam_complain_submit"));
    const list = h("section", { class: "card", "aria-label": t("fam_complaints") });
    const form = h("form", { class: "card fam-form", "aria-label": t("fam_complain_title") },
      h("h3", {}, t("fam_complain_title")), CD.field(t("fam_complain_about"), about), CD.field(t("fam_complain_text"), text), submit);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (!text.value.trim()) { text.value = ""; form.reportValidity(); return; }
      submit.disabled = true;
      try {
        await CD.api.post("/complaints", { client_id: elder.id, visit_id: about.value ? Number(about.value) : null, text: text.value.trim() });
        CD.status(t("fam_complain_sent"), "ok");
        text.value = "";
        state.about = null;
        await drawComplaints(list, elder, visits);
      } catch (err) {
        CD.fail(err);
      } finally {
        submit.disabled = false;
      }
    });
    await drawComplaints(list, elder, visits);
    return [form, list];
  }

  async function drawComplaints(box, elder, visits) {
    const rows = await CD.api.all(`/complaints?client_id=${elder.id}`, 200);
    const byVisit = Object.fromEntries(visits.map((v) => [v.id, v]));
    box.replaceChildren(h("div", {}, h("h3", {}, t("fam_complaints")), rows.length ? rows.map((c) => {
      const v = c.visit_id && byVisit[c.visit_id];
      return h("article", { class: "fam-item", "data-complaint": c.id, "data-status": c.status },
        h("div", { class: "fam-visit-head" }, h("span", { class: "small muted" }, CD.dateTime(c.created_at)),
          CD.pill(t(`cstatus.${c.status}`), c.status === "open" ? "late" : "completed")),
        v ? h("p", { class: "small muted" }, t("fam_about_visit", { service: serviceName(v.service), when: dayLabel(v.date) })) : null,
        h("p", {}, c.text),
        c.answer ? h("p", { class: "banner info" }, t("fam_answer", { when: CD.dateTime(c.answered_at), answer: c.answer }))
          : h("p", { class: "small muted" }, t("fam_no_answer")));
    }) : h("p", { class: "muted" }, t("none"))));
  }

  // ---- notifications -----------------------------------------------------------------------
  async function newsSection(elder) {
    const rows = await CD.api.all(`/me/notifications?client_id=${elder.id}`, 100);
    return h("section", { class: "card", "aria-label": t("fam.news") }, h("h3", {}, t("fam.news")),
      rows.length ? h("ul", { class: "fam-news" }, rows.map((n) => h("li", { "data-kind": n.kind },
        h("span", { class: "small muted" }, CD.dateTime(n.created_at)), " ",
        CD.pill(CD.code("nkind", n.kind), ["call_escalated", "order_declined", "missed"].includes(n.kind) ? "missed" : "info"), " ",
        CD.lang === "zh" ? n.text_zh : n.text))) : h("p", { class: "muted" }, t("fam_news_none")));
  }

  // ---- the page ----------------------------------------------------------------------------
  async function draw() {
    if (!page) return;
    const { panel, elders } = page;
    const elder = elders.find((e) => e.id === state.elder);
    const visits = await loadVisits(elder.id);
    page.visits = visits;
    const picker = elders.length > 1
      ? h("div", { class: "fam-elders", role: "group", "aria-label": t("fam_elders") }, elders.map((e) => h("button", {
        type: "button", class: e.id === elder.id ? "" : "secondary", "aria-pressed": e.id === elder.id ? "true" : "false",
        onclick: () => { state.elder = e.id; state.about = null; draw().catch(CD.fail); },
      }, e.relation ? `${e.name}（${relation(e.relation)}）` : e.name)))
      : null;
    const head = h("section", { class: "fam-head" }, picker,
      h("h2", {}, elder.name),
      h("p", { class: "small muted" }, t("fam_address", { address: elder.address })),
      elder.relation ? h("p", { class: "small muted" }, t("fam_relation", { relation: relation(elder.relation) })) : null);
    const nav = h("nav", { class: "fam-nav", "aria-label": t("fam_sections") }, SECTIONS.map((s) => h("button", {
      type: "button", class: s === state.section ? "" : "secondary", "aria-pressed": s === state.section ? "true" : "false",
      onclick: () => { state.section = s; draw().catch(CD.fail); },
    }, t(`fam.${s}`))));
    let body;
    if (state.section === "order") body = await orderSection(elder);
    else if (state.section === "complain") body = await complainSection(elder, visits);
    else if (state.section === "news") body = await newsSection(elder);
    else body = visitsSection(visits, elder);
    page.call = callBox(elder, visits);
    panel.replaceChildren(h("div", { class: "fam" }, head, page.call, nav, h("div", { class: "fam-body", "data-section": state.section }, body)));
    panel.dataset.drawn = "1";
  }

  async function render(panel) {
    const [elders, services] = await Promise.all([CD.api.get("/me/clients"), catalogue ? catalogue : CD.api.all("/service-types")]);
    catalogue = services;
    page = { panel, elders };
    if (!elders.length) {
      panel.append(h("p", { class: "banner info" }, t("fam_no_elders")));
      panel.dataset.drawn = "1";
      return;
    }
    if (!elders.find((e) => e.id === state.elder)) state.elder = elders[0].id;
    await draw();
  }

  // Every 30 s the call's progress and the visits (never a form being filled in).
  async function refresh() {
    if (!page || !state.elder || !document.contains(page.panel)) return;
    if (state.section === "visits" || state.section === "news") { await draw(); return; }
    const elder = page.elders.find((e) => e.id === state.elder);
    const visits = await loadVisits(elder.id);
    const box = callBox(elder, visits);
    page.call.replaceWith(box);
    page.call = box;
  }

  CD.screen({ id: "family", roles: ["family"], label: "tab.family", render, refresh, refreshSeconds: 30, usesDate: false, perProvider: false, landing: ["family"] });
})();
