// Emergency calls (一键呼叫) for the dispatcher: the open calls with their response clock, the
// elder's file, the proposed caregiver; confirm, send another caregiver, escalate, close; type a
// call for an elder who phoned in. One feed polls /calls for every view (the calls tab's count,
// the strip on top of the day, this screen); clocks tick every second between polls.
"use strict";

CD.i18n.add({
  zh: {
    "tab.calls": "一键呼叫", calls_title: "一键呼叫", calls_waiting: "待派单 {n}", calls_active: "处理中 {n}",
    calls_none: "暂无待处理的呼叫。", calls_every: "每 {n} 秒自动刷新，{t} 更新", calls_offline: "无法获取呼叫（{e}），稍后自动重试。",
    calls_closed_today: "今日已结束的呼叫", calls_pick: "点击呼叫查看老人档案和建议派单。", new_call: "登记来电",
    "ckind.sos": "SOS 紧急呼叫", "ckind.fall": "跌倒报警", "ckind.smoke": "烟感报警", "ckind.no_activity": "长时间无活动", "ckind.help": "求助",
    "cstatus.open": "待派单", "cstatus.escalated": "已升级", "cstatus.dispatched": "已派单", "cstatus.answered": "护理员已到达", "cstatus.closed": "已结束",
    "csource.device": "呼叫设备", "csource.family": "家属来电", "csource.dispatcher": "调度员登记",
    "cto.120": "120 急救", "cto.community": "社区", "cto.family": "家属",
    "coutcome.resolved": "已处理", "coutcome.false_alarm": "误报", "coutcome.hospital": "已送医", "coutcome.no_answer": "无人应答", "coutcome.other": "其他",
    "reason.NO_ACTIVE_PLAN": "当天没有待发布或已发布的方案", "reason.NO_CALL_SERVICE": "服务目录中没有“助急”服务",
    clock_wait: "已等 {e} · 剩 {r}", clock_over: "已超时 {o}", clock_dispatched: "{m} 分钟派单 · 预计 {a} 到达", clock_answered: "{a} 已到达",
    clock_closed: "{t} 结束", signals: "按了 {n} 次", opened_at: "{t} 呼入", from_source: "来源：{s}",
    proposal: "建议派 {cg}，预计 {a} 到达（增加路程 {m} 分钟）。", proposal_wait: "正在计算建议的护理员…",
    no_proposal: "暂无可派护理员：{r}。{action}", dispatched_to: "已派 {cg}，预计 {a} 到达；该服务已在当日排班中。",
    f_address: "地址", f_phone: "电话", f_care_level: "护理等级", f_age: "年龄", f_conditions: "健康状况", f_family: "家属联系人",
    f_today: "今日服务", f_note: "来电说明", f_escalations: "升级记录", age_years: "{n} 岁", level_n: "{n} 级",
    esc_auto: "{t} 超时未派单，已自动升级至{to}", esc_by_hand: "{t} 升级至{to}：{note}",
    confirm_dispatch: "确认派单", other_caregiver: "改派其他护理员", escalate: "升级", close_call: "结束呼叫",
    pick_caregiver: "护理员", pick_arrival: "预计到达（可选，留空由系统计算）", working_now: "今日在班", off_now: "今日休息",
    esc_to: "升级至", esc_note: "说明（将记入记录）", close_outcome: "结果", close_note: "说明（可选）",
    dispatched_ok: "已派单：{cg} 预计 {a} 到达，服务 #{v}。", escalated_ok: "已升级至{to}。", closed_ok: "呼叫已结束。",
    opened_ok: "已登记呼叫 #{id}。", need_arrival: "{msg} 请填写预计到达时间后再派单，或升级呼叫。",
    nc_search: "查找老人（姓名或地址）", nc_elder: "老人", nc_kind: "呼叫类型", nc_note: "来电内容（例如：老人说胸口疼）", nc_no_match: "没有匹配的老人",
    call_label: "{kind}：{name}，{status}，{clock}", urgent_tag: "急", col_in: "呼入", col_times: "响应",
    sent_short: "已派 {cg}", proposal_short: "建议派 {cg}，{a} 到达", no_proposal_short: "暂无可派：{r}",
  },
  en: {
    "tab.calls": "Calls", calls_title: "Emergency calls", calls_waiting: "{n} waiting", calls_active: "{n} in hand",
    calls_none: "No open calls.", calls_every: "Refreshes every {n} s; as of {t}", calls_offline: "Calls could not be fetched ({e}); retrying.",
    calls_closed_today: "Calls closed today", calls_pick: "Select a call for the elder's file and the proposed caregiver.", new_call: "Take a phone call",
    "ckind.sos": "SOS", "ckind.fall": "Fall", "ckind.smoke": "Smoke alarm", "ckind.no_activity": "No activity", "ckind.help": "Help request",
    "cstatus.open": "Waiting", "cstatus.escalated": "Escalated", "cstatus.dispatched": "Dispatched", "cstatus.answered": "Caregiver there", "cstatus.closed": "Closed",
    "csource.device": "device", "csource.family": "family member", "csource.dispatcher": "typed by a dispatcher",
    "cto.120": "120 (ambulance)", "cto.community": "the community", "cto.family": "the family",
    "coutcome.resolved": "Resolved", "coutcome.false_alarm": "False alarm", "coutcome.hospital": "Taken to hospital", "coutcome.no_answer": "No answer", "coutcome.other": "Other",
    "reason.NO_ACTIVE_PLAN": "no proposed or published plan today", "reason.NO_CALL_SERVICE": "no emergency service (CALL) in the catalogue",
    clock_wait: "waiting {e} · {r} left", clock_over: "overdue by {o}", clock_dispatched: "dispatched in {m} min · arriving {a}", clock_answered: "caregiver there at {a}",
    clock_closed: "closed {t}", signals: "pressed {n} times", opened_at: "in at {t}", from_source: "From: {s}",
    proposal: "Proposed: {cg}, arriving {a} ({m} min more travel).", proposal_wait: "Finding the caregiver to propose…",
    no_proposal: "Nobody can be proposed: {r}. {action}", dispatched_to: "{cg} is on the way, arriving {a}; the visit is in the day plan.",
    f_address: "Address", f_phone: "Phone", f_care_level: "Care level", f_age: "Age", f_conditions: "Conditions", f_family: "Family contacts",
    f_today: "Today's visits", f_note: "Caller said", f_escalations: "Escalations", age_years: "{n}", level_n: "{n}",
    esc_auto: "{t} not dispatched in time: escalated to {to} automatically", esc_by_hand: "{t} escalated to {to}: {note}",
    confirm_dispatch: "Confirm", other_caregiver: "Another caregiver", escalate: "Escalate", close_call: "Close",
    pick_caregiver: "Caregiver", pick_arrival: "Arrival (optional; empty: the system works it out)", working_now: "working today", off_now: "off today",
    esc_to: "Escalate to", esc_note: "Note (kept on record)", close_outcome: "Outcome", close_note: "Note (optional)",
    dispatched_ok: "Dispatched: {cg} arriving {a}, visit #{v}.", escalated_ok: "Escalated to {to}.", closed_ok: "Call closed.",
    opened_ok: "Call #{id} taken.", need_arrival: "{msg} Give an arrival time and dispatch again, or escalate.",
    nc_search: "Find the elder (name or address)", nc_elder: "Elder", nc_kind: "Kind of call", nc_note: "What the caller said (e.g. chest pain)", nc_no_match: "No elder matches",
    call_label: "{kind}: {name}, {status}, {clock}", urgent_tag: "urgent", col_in: "In at", col_times: "Response",
    sent_short: "{cg} on the way", proposal_short: "Proposed: {cg}, there {a}", no_proposal_short: "Nobody to propose: {r}",
  },
});

CD.calls = (function () {
  const h = CD.h;
  const t = CD.t;
  const POLL_S = 10;
  const WAITING = ["open", "escalated"];
  const DONE = ["closed"];
  const ROLES = ["dispatcher", "provider_admin", "admin"];
  const feed = { calls: [], at: null, error: null, seen: null, fresh: new Set(), views: new Set(), names: null, services: null };

  // ---- formatting
  const pad = (n) => String(n).padStart(2, "0");
  function span(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    return s >= 3600 ? `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}` : `${Math.floor(s / 60)}:${pad(s % 60)}`;
  }
  const kindOf = (c) => CD.code("ckind", c.kind);
  const cgName = (id) => (feed.names && feed.names[id]) || (id ? `#${id}` : "");
  const serviceName = (code) => {
    const s = feed.services && feed.services[code];
    return s ? (CD.lang === "en" && s.name_en) || s.name : code;
  };
  const waiting = (c) => WAITING.includes(c.status);
  const overdue = (c, now) => (waiting(c) ? now > new Date(c.due_at) : Boolean(c.overdue));

  function clock(c, now) {
    if (waiting(c)) {
      const due = new Date(c.due_at);
      if (now > due) return t("clock_over", { o: span(now - due) });
      return t("clock_wait", { e: span(now - new Date(c.opened_at)), r: span(due - now) });
    }
    if (c.status === "dispatched") return t("clock_dispatched", { m: Math.round(c.call_to_dispatch_min || 0), a: CD.time(c.planned_arrival) });
    if (c.status === "answered") return t("clock_answered", { a: CD.time(c.arrived_at) });
    return t("clock_closed", { t: CD.time(c.closed_at) });
  }

  // ---- the feed: one poll for every view, clocks every second
  const mine = (user) => ROLES.includes(user.role);
  async function poll() {
    const user = CD.session.user;
    if (!user || !CD.session.token || !mine(user)) return;
    try {
      if (!feed.names) {
        const [cgs, services] = await Promise.all([CD.api.all("/caregivers"), CD.api.all("/service-types")]);
        feed.names = Object.fromEntries(cgs.map((g) => [g.id, g.name]));
        feed.services = Object.fromEntries(services.map((s) => [s.code, s]));
      }
      // Undispatched first, then those on their way, then the closed (newest first).
      const rows = await CD.api.get("/calls?page_size=100");
      const ids = new Set(rows.map((c) => c.id));
      // A call not seen before (after the first poll) is fresh: highlighted until opened.
      if (feed.seen) for (const c of rows) if (!feed.seen.has(c.id) && !DONE.includes(c.status)) feed.fresh.add(c.id);
      feed.seen = ids;
      feed.calls = rows;
      feed.at = new Date();
      feed.error = null;
    } catch (err) {
      feed.error = err.message || String(err);
    }
    publish();
  }
  function publish() {
    const open = feed.calls.filter(waiting);
    const now = new Date();
    // Red while any call waits; pulsing while one is new or overdue.
    const late = open.some((c) => overdue(c, now)) || open.some((c) => feed.fresh.has(c.id));
    CD.shell.badge("calls", open.length || "", open.length ? `alert${late ? " pulse" : ""}` : "");
    document.title = `${open.length ? `(${open.length}) ` : ""}CareDispatch · ${t("app")}`;
    for (const v of [...feed.views]) {
      if (!document.body.contains(v.el)) feed.views.delete(v);
      else v.draw();
    }
  }
  function tick() {
    const now = new Date();
    document.querySelectorAll("[data-call-clock]").forEach((el) => {
      const c = feed.calls.find((x) => x.id === Number(el.dataset.callClock));
      if (!c) return;
      el.textContent = clock(c, now);
      const card = el.closest(".call-card, .call-file");
      if (card) card.classList.toggle("overdue", overdue(c, now));
    });
  }
  CD.watch({ roles: ROLES, seconds: POLL_S, run: poll, stop: () => { feed.calls = []; feed.seen = null; feed.names = null; feed.fresh.clear(); } });
  setInterval(tick, 1000);

  // ---- a view: the cards of the active calls and the selected call's file
  function mount(el, ctx, opts) {
    const view = { el, ctx, opts: opts || {}, selected: null };
    view.draw = () => draw(view);
    feed.views.add(view);
    draw(view);
    if (!feed.at) poll();
    return view;
  }

  const ofProvider = (view) => (c) => view.ctx.user.provider_id || !view.ctx.providerId || c.provider_id === view.ctx.providerId;

  const asOf = () => (feed.error ? t("calls_offline", { e: feed.error }) : feed.at ? t("calls_every", { n: POLL_S, t: CD.time(feed.at.toISOString()) }) : t("loading"));

  function draw(view) {
    const now = new Date();
    const calls = feed.calls.filter(ofProvider(view));
    // Nothing new since the last drawing: only the time of the poll changes (the clocks tick
    // by themselves), so focus and scroll stay where the dispatcher left them.
    const sig = JSON.stringify([calls, view.selected, [...feed.fresh], CD.lang]);
    const when = view.el.querySelector(".calls-asof");
    if (sig === view.sig && when) { when.textContent = asOf(); return; }
    view.sig = sig;
    const active = calls.filter((c) => !DONE.includes(c.status));
    const open = active.filter(waiting);
    const head = h("div", { class: "calls-head row" },
      h("h2", {}, t("calls_title")),
      CD.pill(t("calls_waiting", { n: open.length }), open.length ? "block" : ""),
      CD.pill(t("calls_active", { n: active.length - open.length }), ""),
      h("button", { type: "button", class: "secondary", onclick: () => takeCall(view) }, t("new_call")),
      h("span", { class: "muted small calls-asof" }, asOf()));
    if (!active.length) head.insertBefore(h("span", { class: "muted" }, t("calls_none")), head.children[3]);
    const parts = [head];
    if (active.length) parts.push(h("div", { class: "call-cards", role: "list" }, active.map((c) => card(view, c, now))));
    const sel = calls.find((c) => c.id === view.selected);
    if (sel) parts.push(file(view, sel, now));
    else if (!view.opts.compact && active.length) parts.push(h("p", { class: "muted" }, t("calls_pick")));
    if (!view.opts.compact) {
      const closed = calls.filter((c) => DONE.includes(c.status) && c.closed_at && c.closed_at.slice(0, 10) === CD.today());
      parts.push(h("h3", {}, t("calls_closed_today")), CD.table(
        [t("col_in"), t("nc_kind"), t("nc_elder"), t("close_outcome"), t("caregiver"), t("col_times")],
        closed.map((c) => ({ attrs: { "data-call": c.id }, cells: [CD.time(c.opened_at), kindOf(c), c.client ? c.client.name : `#${c.client_id}`,
          c.outcome ? CD.code("coutcome", c.outcome) : "", cgName(c.caregiver_id),
          [c.call_to_dispatch_min != null ? t("clock_dispatched", { m: Math.round(c.call_to_dispatch_min), a: CD.time(c.planned_arrival) }) : "",
            c.arrived_at ? t("clock_answered", { a: CD.time(c.arrived_at) }) : ""].filter(Boolean).join(" · ")] }))));
    }
    view.el.replaceChildren(...parts);
    view.el.classList.toggle("has-open", open.length > 0);
    view.el.dataset.calls = String(active.length);
  }

  function card(view, c, now) {
    const name = c.client ? c.client.name : `#${c.client_id}`;
    const status = CD.code("cstatus", c.status);
    const cls = ["call-card", `k-${c.kind}`, `c-${c.status}`, overdue(c, now) ? "overdue" : "", feed.fresh.has(c.id) ? "fresh" : "", view.selected === c.id ? "selected" : ""].join(" ");
    const hint = c.status === "dispatched" || c.status === "answered" ? t("sent_short", { cg: cgName(c.caregiver_id) })
      : c.proposal ? t("proposal_short", { cg: cgName(c.proposal.caregiver_id), a: CD.time(c.proposal.arrival) })
        : c.no_proposal ? t("no_proposal_short", { r: t(`reason.${c.no_proposal.reason}`) }) : t("proposal_wait");
    return h("button", {
      type: "button", class: cls, role: "listitem", "data-call": c.id, "aria-pressed": view.selected === c.id ? "true" : "false",
      "aria-label": t("call_label", { kind: kindOf(c), name, status, clock: clock(c, now) }),
      onclick: () => {
        view.selected = view.selected === c.id ? null : c.id;
        feed.fresh.delete(c.id);
        publish();
        const f = view.el.querySelector(".call-file");
        if (f) f.scrollIntoView({ block: "nearest" });
      },
    },
    h("span", { class: "call-top" }, h("b", { class: "call-kind" }, kindOf(c)), CD.pill(status, `cs-${c.status}`)),
    h("span", { class: "call-who" }, h("b", {}, name), c.client ? ` · ${c.client.address}` : ""),
    h("span", { class: "call-clock", "data-call-clock": c.id }, clock(c, now)),
    h("span", { class: "call-hint small" }, hint));
  }

  function age(birth) {
    if (!birth) return null;
    const [y, m, d] = birth.split("-").map(Number);
    const [ty, tm, td] = CD.today().split("-").map(Number);
    return ty - y - (tm < m || (tm === m && td < d) ? 1 : 0);
  }

  function file(view, c, now) {
    const e = c.client || {};
    const tel = (p) => (p ? h("a", { href: `tel:${p}` }, p) : "—");
    const dl = [
      [t("f_address"), `${e.address || "—"}${e.street && !(e.address || "").includes(e.street) ? `（${e.street}）` : ""}`],
      [t("f_phone"), tel(e.phone)],
      [t("f_care_level"), e.care_level != null ? t("level_n", { n: e.care_level }) : "—"],
      [t("f_age"), age(e.birth_date) != null ? t("age_years", { n: age(e.birth_date) }) : "—"],
      [t("f_conditions"), e.conditions || "—"],
      [t("f_family"), (e.family || []).length ? h("ul", { class: "plain" }, e.family.map((f) => h("li", {}, `${f.name}${f.relation ? `（${f.relation}）` : ""} `, tel(f.phone)))) : "—"],
      [t("f_today"), (e.today_visits || []).length ? h("ul", { class: "plain" }, e.today_visits.map((v) => h("li", {},
        `${CD.time(v.planned_start || v.window_start)} ${serviceName(v.service)} · ${v.caregiver || "—"} · ${CD.code("vstatus", v.status)}`,
        v.urgent ? CD.pill(t("urgent_tag"), "block") : null))) : "—"],
    ];
    if (c.note) dl.unshift([t("f_note"), c.note]);
    const parts = [
      h("h3", {}, `${kindOf(c)} · ${e.name || ""}${e.code ? ` (${e.code})` : ""} `, CD.pill(CD.code("cstatus", c.status), `cs-${c.status}`)),
      h("p", { class: "call-clock big", "data-call-clock": c.id }, clock(c, now)),
      h("p", { class: "muted small" }, [t("opened_at", { t: CD.time(c.opened_at) }), t("from_source", { s: CD.code("csource", c.source) }), c.signals > 1 ? t("signals", { n: c.signals }) : null].filter(Boolean).join(" · ")),
      h("dl", { class: "details" }, dl.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    ];
    if ((c.escalations || []).length) {
      parts.push(h("h4", {}, t("f_escalations")), h("ul", { class: "plain" }, c.escalations.map((x) => h("li", {},
        x.auto ? t("esc_auto", { t: CD.time(x.at), to: CD.code("cto", x.to) }) : t("esc_by_hand", { t: CD.time(x.at), to: CD.code("cto", x.to), note: x.note })))));
    }
    const act = (label, fn, cls) => h("button", { type: "button", class: cls || "secondary", onclick: async (ev) => {
      const b = ev.currentTarget;
      b.disabled = true;
      try { await fn(); } catch (err) { CD.fail(err); } finally { b.disabled = false; }
    } }, label);
    const buttons = [];
    if (waiting(c)) {
      if (c.proposal) {
        parts.push(h("p", { class: "banner info" }, t("proposal", { cg: cgName(c.proposal.caregiver_id), a: CD.time(c.proposal.arrival), m: c.proposal.added_travel_min ?? "—" })));
        buttons.push(act(t("confirm_dispatch"), () => dispatch(view, c, {}), "ok"));
      } else if (c.no_proposal) {
        parts.push(h("p", { class: "banner warn" }, t("no_proposal", { r: t(`reason.${c.no_proposal.reason}`), action: (CD.lang === "zh" ? c.no_proposal.action_zh : c.no_proposal.action) || "" })));
      } else parts.push(h("p", { class: "banner info" }, t("proposal_wait")));
      buttons.push(act(t("other_caregiver"), () => another(view, c)));
    } else if (c.status === "dispatched" || c.status === "answered") {
      parts.push(h("p", { class: "banner ok" }, t("dispatched_to", { cg: cgName(c.caregiver_id), a: CD.time(c.planned_arrival) })));
    }
    if (!DONE.includes(c.status)) {
      buttons.push(act(t("escalate"), () => escalate(view, c), "danger"));
      buttons.push(act(t("close_call"), () => closeCall(view, c)));
    }
    if (buttons.length) parts.push(h("div", { class: "row" }, buttons));
    return h("section", { class: `card call-file k-${c.kind}${overdue(c, now) ? " overdue" : ""}`, "data-call-file": c.id, role: "region", "aria-label": `${kindOf(c)} · ${e.name || ""}` }, parts);
  }

  // ---- acts
  async function after(view, message) {
    await poll();
    CD.status(message, "ok");
    if (view.opts.onChange) await view.opts.onChange();
  }

  async function dispatch(view, c, body) {
    try {
      const a = await CD.api.post(`/calls/${c.id}/dispatch`, body);
      await after(view, t("dispatched_ok", { cg: cgName(a.caregiver_id), a: CD.time(a.arrival), v: a.visit_id }));
    } catch (err) {
      if (err.code === "CALL_NO_CAREGIVER") { CD.status(t("need_arrival", { msg: err.message }), "error"); return false; }
      throw err;
    }
    return true;
  }

  async function another(view, c) {
    const today = CD.today();
    const q = view.ctx.user.provider_id ? "" : `?provider_id=${c.provider_id}`;
    const day = await CD.api.get(`/days/${today}/dispatch${q}`);
    const working = day.caregivers.filter((g) => g.shift_start);
    const off = day.caregivers.filter((g) => !g.shift_start);
    const option = (g) => h("option", { value: g.id }, `${g.name} (${g.code}) · ${g.shift_start ? `${g.shift_start}–${g.shift_end}` : t("off_now")}`);
    const v = await CD.dialog(t("other_caregiver"), [
      h("p", { class: "small" }, `${kindOf(c)} · ${c.client ? `${c.client.name} · ${c.client.address}` : ""}`),
      CD.field(t("pick_caregiver"), h("select", { name: "caregiver", required: true },
        h("optgroup", { label: t("working_now") }, working.map(option)), h("optgroup", { label: t("off_now") }, off.map(option)))),
      CD.field(t("pick_arrival"), h("input", { type: "time", name: "arrival" })),
    ], { ok: t("confirm_dispatch") });
    if (!v) return;
    const body = { caregiver_id: Number(v.caregiver) };
    if (v.arrival) {
      // A time before the call means after midnight (a late call answered the next day).
      let when = CD.at(today, v.arrival);
      if (when < new Date(c.opened_at)) when = CD.at(CD.addDays(today, 1), v.arrival);
      body.arrival = CD.iso(when);
    }
    await dispatch(view, c, body);
  }

  async function escalate(view, c) {
    const v = await CD.dialog(t("escalate"), [
      CD.field(t("esc_to"), h("select", { name: "to", required: true }, ["120", "community", "family"].map((x) => h("option", { value: x }, CD.code("cto", x))))),
      CD.field(t("esc_note"), h("textarea", { name: "note", required: true, rows: 3, maxlength: 500 })),
    ], { ok: t("escalate") });
    if (!v) return;
    await CD.api.post(`/calls/${c.id}/escalate`, { to: v.to, note: v.note.trim() });
    await after(view, t("escalated_ok", { to: CD.code("cto", v.to) }));
  }

  async function closeCall(view, c) {
    const v = await CD.dialog(t("close_call"), [
      CD.field(t("close_outcome"), h("select", { name: "outcome", required: true }, ["resolved", "false_alarm", "hospital", "no_answer", "other"].map((x) => h("option", { value: x }, CD.code("coutcome", x))))),
      CD.field(t("close_note"), h("textarea", { name: "note", rows: 2, maxlength: 500 })),
    ], { ok: t("close_call") });
    if (!v) return;
    await CD.api.post(`/calls/${c.id}/close`, { outcome: v.outcome, note: v.note.trim() || null });
    view.selected = null;
    await after(view, t("closed_ok"));
  }

  // A key the server keeps the call by: a retry of this form never opens a second call.
  function newKey() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return `console-${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
  }

  async function takeCall(view) {
    const q = view.ctx.user.provider_id || !view.ctx.providerId ? "" : `&provider_id=${view.ctx.providerId}`;
    const select = h("select", { name: "client", required: true });
    const search = h("input", { type: "search", "aria-label": t("nc_search"), placeholder: t("nc_search") });
    let seq = 0;
    const find = async () => {
      const mine = ++seq;
      const text = search.value.trim();
      const rows = await CD.api.get(`/clients?page_size=30${text ? `&q=${encodeURIComponent(text)}` : ""}${q}`);
      if (mine !== seq) return;
      select.replaceChildren(...(rows.length ? rows.map((c) => h("option", { value: c.id }, `${c.name} · ${c.address}${c.phone ? ` · ${c.phone}` : ""}`)) : [h("option", { value: "" }, t("nc_no_match"))]));
    };
    search.addEventListener("input", () => { find().catch(CD.fail); });
    await find();
    const key = newKey();
    const v = await CD.dialog(t("new_call"), [
      CD.field(t("nc_search"), search),
      CD.field(t("nc_elder"), select),
      CD.field(t("nc_kind"), h("select", { name: "kind", required: true }, ["sos", "fall", "help", "smoke", "no_activity"].map((k) => h("option", { value: k }, CD.code("ckind", k))))),
      CD.field(t("nc_note"), h("textarea", { name: "note", rows: 2, maxlength: 500 })),
    ], { ok: t("new_call") });
    if (!v || !v.client) return;
    const c = await CD.api.post("/calls", { client_id: Number(v.client), kind: v.kind, note: v.note.trim() || null, idempotency_key: key });
    view.selected = c.id;
    await after(view, t("opened_ok", { id: c.id }));
  }

  return { mount, poll, feed };
})();

(function () {
  async function render(panel, ctx) {
    const box = CD.h("div", { class: "calls-screen" });
    panel.append(box);
    CD.calls.mount(box, ctx, { compact: false });
    await CD.calls.poll();
    panel.dataset.drawn = "1";
  }
  CD.screen({ id: "calls", roles: ["dispatcher", "provider_admin", "admin"], label: "tab.calls", usesDate: false, perProvider: true, render });
})();
