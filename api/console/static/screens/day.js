// Dispatcher — the day: a Gantt timeline (a row per caregiver, unassigned visits on top) beside
// the map; drag a visit to another caregiver or time (the server checks the move), pin, optimise,
// re-optimise keeping pins, publish, re-plan without a caregiver, insert an urgent visit.
"use strict";

CD.i18n.add({
  zh: {
    "tab.day": "当日排班", generate: "生成当日服务", optimise: "优化排班", reoptimise: "保留固定项重新优化", publish: "发布",
    replan_without: "护理员请假重排", urgent: "插入紧急服务", unassigned_row: "未分配", unassigned_count: "{n} 项服务",
    no_visits: "该日期还没有服务。请先“生成当日服务”。", no_plan: "尚未优化：点击“优化排班”。",
    plan_line: "方案 v{v} · {status}", optimising: "正在优化… {p}%", plan_failed: "优化失败：{e}",
    "kpi.visits_assigned": "已排服务", "kpi.visits_unassigned": "未排服务", "kpi.travel_min": "总路程（分钟）", "kpi.travel_km": "总里程（公里）",
    "kpi.idle_min": "空闲（分钟）", "kpi.lateness_min": "迟到（分钟）", "kpi.continuity_rate": "服务连续性", "kpi.overtime_min": "加班（分钟）",
    "kpi.utilisation": "工时利用率", "kpi.caregivers_used": "出勤护理员", "kpi.caregivers_available": "可用护理员",
    select_hint: "点击时间条查看详情；拖动时间条可改派护理员或调整时间（服务器会核验）。",
    v_client: "服务对象", v_address: "地址", v_service: "服务", v_window: "时间窗", v_duration: "时长", v_skill: "所需技能",
    v_needed: "所需人数", v_preferred: "常用护理员", v_gender: "性别要求", v_refused: "拒绝的护理员", v_status: "状态",
    v_assigned: "当前安排", v_why: "为何如此安排", v_pinned: "已固定", v_not_pinned: "未固定", pin: "固定", unpin: "取消固定",
    move_to: "改派给", move_at: "开始时间", check_move: "核验", do_move: "调整", moved: "已调整：{cg} {start}–{end}（路程 {travel} 分钟）",
    move_ok: "可以：{start}–{end}，路程 {travel} 分钟", refused: "不可调整", cannot_unassign: "不能拖回未分配行；请取消固定后重新优化。",
    why_unassigned: "未能安排：{reason}。{action}", why_edited: "调度员手动调整并固定；重新优化时保持不变。",
    why_planned: "由优化器安排：{arrival} 到达（路程 {travel} 分钟），{start} 开始。", why_continuity: "由常用护理员服务（连续性）。",
    why_not_continuity: "常用护理员为 {name}，本次由他人服务。", why_pinned: "已固定：重新优化时保持护理员和时间。",
    replan_pick: "请假的护理员", replan_started: "已开始重新规划（v{v}）。", published_ok: "已发布：护理员手机上可见。",
    urgent_client: "服务对象", urgent_service: "服务项目", urgent_from: "最早开始", urgent_to: "最晚结束", urgent_duration: "时长（分钟）",
    urgent_suggest: "建议：由 {cg} 服务，{arrival} 到达，{start} 开始，增加路程 {travel} 分钟（计算用时 {ms} 毫秒）。确认后将改派并固定。",
    urgent_none: "无法插入：{reason}。{action}", urgent_confirm: "确认插入", urgent_done: "紧急服务已安排给 {cg}，{start} 开始。",
    need_plan: "需要先有一个待发布或已发布的方案。", generated: "已生成 {created} 项服务（跳过 {skipped} 项）。",
    legend_pinned: "已固定", legend_edited: "手动调整", legend_break: "休息", legend_pickup: "取餐", legend_travel: "路程",
    shift_fmt: "班次 {s}–{e}", map_label: "路线地图", timeline_label: "当日排班时间轴", route_of: "{name} 的路线",
    "move.MOVE_SKILL_MISSING": "技能不符", "move.MOVE_GENDER": "性别不符", "move.MOVE_REFUSED_BY_CLIENT": "服务对象拒绝",
    "move.MOVE_NOT_WORKING": "当天不上班", "move.MOVE_OUTSIDE_SHIFT": "超出班次", "move.MOVE_OUTSIDE_WINDOW": "超出时间窗",
    "move.MOVE_OVERLAP": "赶不上下一站", "move.MOVE_VISIT_CLOSED": "服务已开始或结束", "move.MOVE_ALREADY_SECOND": "已在本次服务中",
    "move.MOVE_OVER_MAX_WORKING_TIME": "超过每日最长工作时间", "move.MOVE_NO_COMMON_START": "两名护理员无法同时开始",
    "reason.NO_QUALIFIED_CAREGIVER": "没有合格护理员", "reason.OUTSIDE_EVERY_SHIFT": "不在任何班次内", "reason.MAX_WORKING_TIME": "超出最长工时",
    "reason.CAPACITY": "餐箱容量不足", "reason.RIDE_TIME": "送餐路程过长", "reason.NO_TIME": "时间已排满", "reason.GROUP_PARTNER_UNASSIGNED": "双人服务缺一人",
    "reason.PIN_CONFLICT": "固定安排冲突", "reason.INVALID_INPUT": "数据不完整", "reason.NOT_PLACED": "搜索时间不足", "reason.NO_SHIFT": "固定的护理员不上班",
  },
  en: {
    "tab.day": "Day plan", generate: "Generate visits", optimise: "Optimise", reoptimise: "Re-optimise keeping pins", publish: "Publish",
    replan_without: "Re-plan without a caregiver", urgent: "Urgent visit", unassigned_row: "Unassigned", unassigned_count: "{n} visit(s)",
    no_visits: "No visits on this day yet. Use “Generate visits” first.", no_plan: "Not optimised yet: use “Optimise”.",
    plan_line: "Plan v{v} · {status}", optimising: "Optimising… {p} %", plan_failed: "The optimisation failed: {e}",
    "kpi.visits_assigned": "Visits planned", "kpi.visits_unassigned": "Visits unassigned", "kpi.travel_min": "Travel (min)", "kpi.travel_km": "Travel (km)",
    "kpi.idle_min": "Idle (min)", "kpi.lateness_min": "Lateness (min)", "kpi.continuity_rate": "Continuity of care", "kpi.overtime_min": "Overtime (min)",
    "kpi.utilisation": "Utilisation", "kpi.caregivers_used": "Caregivers out", "kpi.caregivers_available": "Caregivers available",
    select_hint: "Click a bar for its details; drag a bar to another caregiver or time (the server checks the move).",
    v_client: "Client", v_address: "Address", v_service: "Service", v_window: "Window", v_duration: "Duration", v_skill: "Skill needed",
    v_needed: "Caregivers needed", v_preferred: "Usual caregiver", v_gender: "Gender wish", v_refused: "Refused caregivers", v_status: "Status",
    v_assigned: "Now with", v_why: "Why it sits here", v_pinned: "pinned", v_not_pinned: "not pinned", pin: "Pin", unpin: "Unpin",
    move_to: "Move to", move_at: "Start at", check_move: "Check", do_move: "Move", moved: "Moved: {cg} {start}–{end} ({travel} min travel)",
    move_ok: "Fits: {start}–{end}, {travel} min travel", refused: "Cannot move", cannot_unassign: "A visit cannot be dragged back to unassigned; unpin it and re-optimise.",
    why_unassigned: "Not placed: {reason}. {action}", why_edited: "Moved by the dispatcher and pinned; re-optimising keeps it.",
    why_planned: "Placed by the optimiser: arrives {arrival} after {travel} min travel, starts {start}.", why_continuity: "With the client's usual caregiver (continuity).",
    why_not_continuity: "The usual caregiver is {name}; someone else goes this time.", why_pinned: "Pinned: re-optimising keeps caregiver and time.",
    replan_pick: "Caregiver who dropped out", replan_started: "Re-planning started (v{v}).", published_ok: "Published: the caregivers see their routes.",
    urgent_client: "Client", urgent_service: "Service", urgent_from: "Earliest start", urgent_to: "Latest end", urgent_duration: "Duration (min)",
    urgent_suggest: "Suggested: {cg}, arriving {arrival}, starting {start}, {travel} min more travel (found in {ms} ms). Confirming assigns and pins it.",
    urgent_none: "Cannot be inserted: {reason}. {action}", urgent_confirm: "Insert", urgent_done: "Urgent visit assigned to {cg}, starting {start}.",
    need_plan: "This needs a proposed or published plan first.", generated: "{created} visits generated ({skipped} skipped).",
    legend_pinned: "pinned", legend_edited: "moved by hand", legend_break: "break", legend_pickup: "meal pickup", legend_travel: "travel",
    shift_fmt: "shift {s}–{e}", map_label: "Route map", timeline_label: "Timeline of the day", route_of: "{name}'s route",
    "move.MOVE_SKILL_MISSING": "Skill missing", "move.MOVE_GENDER": "Gender wish", "move.MOVE_REFUSED_BY_CLIENT": "Refused by the client",
    "move.MOVE_NOT_WORKING": "Not working that day", "move.MOVE_OUTSIDE_SHIFT": "Outside the shift", "move.MOVE_OUTSIDE_WINDOW": "Outside the window",
    "move.MOVE_OVERLAP": "Cannot reach the next stop", "move.MOVE_VISIT_CLOSED": "Visit started or over", "move.MOVE_ALREADY_SECOND": "Already on this visit",
    "move.MOVE_OVER_MAX_WORKING_TIME": "Over the maximum working time", "move.MOVE_NO_COMMON_START": "The two caregivers cannot start together",
    "reason.NO_QUALIFIED_CAREGIVER": "no qualified caregiver", "reason.OUTSIDE_EVERY_SHIFT": "outside every shift", "reason.MAX_WORKING_TIME": "over the working time",
    "reason.CAPACITY": "no box capacity", "reason.RIDE_TIME": "meal ride too long", "reason.NO_TIME": "routes full", "reason.GROUP_PARTNER_UNASSIGNED": "second caregiver missing",
    "reason.PIN_CONFLICT": "pin conflict", "reason.INVALID_INPUT": "incomplete data", "reason.NOT_PLACED": "search ran out of time", "reason.NO_SHIFT": "pinned caregiver off",
  },
});

(function () {
  const h = CD.h;
  const t = CD.t;
  const FINAL = ["in_progress", "completed", "missed", "cancelled"];
  const KPIS = ["visits_assigned", "visits_unassigned", "travel_km", "travel_min", "continuity_rate", "utilisation", "lateness_min", "overtime_min", "caregivers_used", "caregivers_available"];
  let S = null; // the screen's state

  const writer = (user) => ["dispatcher", "provider_admin", "admin"].includes(user.role);
  const q = (ctx) => (ctx.user.provider_id ? "" : `?provider_id=${ctx.providerId}`);
  const serviceName = (v) => (CD.lang === "en" && v.service_name_en) || v.service_name;

  // Why a plan failed, in the user's language (the catalogue's wording with the failure's values).
  const planError = (p) => (CD.lang === "zh" ? p.error_zh || p.error : p.error || p.error_zh) || CD.code("plan_error", p.error_code);

  function kpiValue(k, v) {
    if (v === null || v === undefined) return "—";
    if (k === "continuity_rate" || k === "utilisation") return `${Math.round(v * 100)} %`;
    return typeof v === "number" ? Math.round(v * 10) / 10 : String(v);
  }

  async function load(ctx) {
    const t0 = performance.now();
    const day = await CD.api.get(`/days/${ctx.date}/dispatch${q(ctx)}`);
    window.cdDayFetchMs = performance.now() - t0; // read by bench/console_speed.py
    const byId = (xs) => Object.fromEntries(xs.map((x) => [x.id, x]));
    // A reload keeps the screen's parts (timeline, map, panels) and the selection of that day.
    const keep = S && S.ctx === ctx ? S : { selected: null };
    S = Object.assign(keep, { ctx, day, visits: byId(day.visits), clients: byId(day.clients), cgs: byId(day.caregivers), points: byId(day.points) });
    S.colorOf = {};
    day.caregivers.forEach((c, i) => { S.colorOf[c.id] = CD.COLORS[i % CD.COLORS.length]; });
  }

  function itemsAndRows() {
    const { day } = S;
    const plan = day.plan && day.plan.routes ? day.plan : null;
    const items = [];
    const placed = new Set();
    for (const r of (plan && plan.routes) || []) {
      for (const s of r.stops) {
        const start = new Date(s.start), end = new Date(s.end);
        if (s.kind === "visit" && s.visit_id) {
          const v = S.visits[s.visit_id];
          if (!v) continue;
          placed.add(v.id);
          const c = S.clients[v.client_id];
          const cls = [v.pinned ? "pinned" : "", s.edited ? "edited" : "", `s-${v.status}`].join(" ");
          items.push({
            id: `v${v.id}-${r.caregiver_id}`, visitId: v.id, row: String(r.caregiver_id), start, end, cls,
            label: `${c ? c.name : ""} ${serviceName(v)}`, color: S.colorOf[r.caregiver_id], travelMin: s.travel_min,
            title: `${c ? c.name : ""} · ${serviceName(v)} · ${CD.time(s.start)}–${CD.time(s.end)} · ${(S.cgs[r.caregiver_id] || {}).name || ""}${v.pinned ? ` · ${t("v_pinned")}` : ""}`,
            draggable: writer(S.ctx.user) && !FINAL.includes(v.status), stop: s,
          });
        } else {
          const label = t(`kind.${s.kind}`);
          items.push({ id: `${s.kind}-${r.caregiver_id}-${s.start}`, row: String(r.caregiver_id), start, end, cls: s.kind, label, title: `${label} ${CD.time(s.start)}–${CD.time(s.end)}`, draggable: false, travelMin: s.travel_min });
        }
      }
    }
    const reasons = Object.fromEntries(((plan && plan.unassigned) || []).map((u) => [u.visit_id, u]));
    const open = day.visits.filter((v) => !placed.has(v.id) && !v.caregiver_ids.length);
    for (const v of open) {
      const c = S.clients[v.client_id];
      const u = reasons[v.id];
      const start = new Date(v.window_start);
      const why = u ? t(`reason.${u.reason}`) : "";
      items.push({
        id: `u${v.id}`, visitId: v.id, row: "unassigned", start, end: new Date(start.getTime() + v.duration_min * 60000), cls: "unassigned",
        label: `${c ? c.name : ""} ${serviceName(v)}${why ? ` · ${why}` : ""}`,
        title: `${t("unassigned_row")}: ${c ? c.name : ""} · ${serviceName(v)} · ${t("v_window")} ${CD.time(v.window_start)}–${CD.time(v.window_end)}${why ? ` · ${why}` : ""}`,
        draggable: writer(S.ctx.user), unassigned: u,
      });
    }
    const rows = [{ id: "unassigned", label: t("unassigned_row"), sub: t("unassigned_count", { n: open.length }), cls: "unassigned" }];
    const working = (c) => (c.shift_start ? 0 : 1);
    const sorted = [...day.caregivers].sort((a, b) => working(a) - working(b) || a.code.localeCompare(b.code));
    for (const c of sorted) {
      const shift = c.shift_start ? [CD.at(day.date, c.shift_start), CD.at(day.date, c.shift_end)] : null;
      rows.push({
        id: String(c.id), label: `${c.name} · ${c.code}`, cls: shift ? "" : "off",
        sub: `${c.skills.join(" ") || "—"} · ${shift ? t("shift_fmt", { s: c.shift_start, e: c.shift_end }) : t("off_today")}`,
        title: `${c.name} (${CD.code("gender", c.gender)}) ${t("skills")}: ${c.skills.join(", ")}`, shift,
      });
    }
    return { items, rows };
  }

  function drawTimeline() {
    const { items, rows } = itemsAndRows();
    const starts = items.map((i) => i.start.getTime());
    const ends = items.map((i) => i.end.getTime());
    const dayStart = CD.at(S.day.date, "06:00").getTime();
    const dayEnd = CD.at(S.day.date, "20:00").getTime();
    const start = new Date(Math.min(dayStart, ...starts.map((x) => Math.floor(x / 3600000) * 3600000)));
    const end = new Date(Math.max(dayEnd, ...ends.map((x) => Math.ceil(x / 3600000) * 3600000)));
    const now = S.day.date === CD.today() ? new Date() : null;
    const focus = CD.workStart(S.day.date, S.day.caregivers.map((c) => c.shift_start));
    S.tl.render({ start, end, rows, items, now, focus });
    if (S.selected) S.tl.select(S.selected);
    if (S.note) S.tl.note(S.note.id, S.note.text, S.note.kind);
  }

  function drawMap() {
    const m = S.map;
    m.clear();
    const plan = S.day.plan;
    for (const p of S.day.points) {
      if (p.kind === "kitchen" || p.kind === "centre") m.square(p.lat, p.lon, { cls: p.kind, text: p.kind === "kitchen" ? "厨" : "心", title: `${CD.code("point", p.kind)} · ${p.name}` });
    }
    for (const r of (plan && plan.routes) || []) {
      const cg = S.cgs[r.caregiver_id];
      let n = 0;
      const pts = [];
      for (const s of r.stops) {
        if (s.kind === "visit" && s.visit_id && S.visits[s.visit_id]) {
          const c = S.clients[S.visits[s.visit_id].client_id];
          n += 1;
          pts.push({ lat: c.lat, lon: c.lon, n, title: `${n}. ${c.name} ${CD.time(s.start)}`, onclick: () => select(`v${s.visit_id}-${r.caregiver_id}`) });
        } else if (s.kind === "pickup" && s.kitchen_id && S.points[s.kitchen_id]) {
          const p = S.points[s.kitchen_id];
          pts.push({ lat: p.lat, lon: p.lon, n: "厨", title: `${p.name} ${CD.time(s.start)}` });
        }
      }
      if (pts.length) m.route(r.caregiver_id, S.colorOf[r.caregiver_id], pts, cg ? { lat: cg.home_lat, lon: cg.home_lon } : null, S.day.visits.length > 300);
    }
    for (const v of S.day.visits.filter((x) => !x.caregiver_ids.length)) {
      const c = S.clients[v.client_id];
      if (c) m.point(c.lat, c.lon, { color: "#b3261e", fill: "#fde3df", title: `${t("unassigned_row")}: ${c.name}` });
    }
    m.fit();
  }

  function findItem(id) { return itemsAndRows().items.find((i) => i.id === id); }

  function select(itemId) {
    S.selected = itemId;
    S.note = null;
    S.tl.select(itemId);
    const it = findItem(itemId);
    if (!it) return;
    S.map.highlight(it.row === "unassigned" ? null : it.row);
    S.tl.highlightRow(it.row);
    details(it);
  }

  function details(it) {
    const box = S.detailsBox;
    if (!it.visitId) { box.replaceChildren(h("p", {}, it.title)); return; }
    const v = S.visits[it.visitId];
    const c = S.clients[v.client_id];
    const pref = v.preferred_caregiver_id ? S.cgs[v.preferred_caregiver_id] : null;
    const whom = v.caregiver_ids.map((id) => (S.cgs[id] || {}).name).filter(Boolean).join("、");
    const why = [];
    if (it.unassigned) why.push(t("why_unassigned", { reason: t(`reason.${it.unassigned.reason}`), action: CD.lang === "zh" ? it.unassigned.action_zh : it.unassigned.action }));
    else if (it.stop && it.stop.edited) why.push(t("why_edited"));
    else if (it.stop) why.push(t("why_planned", { arrival: CD.time(it.stop.arrival), travel: it.stop.travel_min ?? 0, start: CD.time(it.stop.start) }));
    if (v.pinned && !(it.stop && it.stop.edited)) why.push(t("why_pinned"));
    if (pref && !it.unassigned) why.push(v.caregiver_ids.includes(pref.id) ? t("why_continuity") : t("why_not_continuity", { name: pref.name }));
    const dl = [
      [t("v_client"), `${c.name} (${c.code})`], [t("v_address"), c.address], [t("v_service"), `${serviceName(v)} (${v.service_code})`],
      [t("v_window"), `${CD.time(v.window_start)}–${CD.time(v.window_end)}`], [t("v_duration"), t("minutes", { n: v.duration_min })],
      [t("v_skill"), v.required_skill || "—"], [t("v_needed"), v.caregivers_needed], [t("v_preferred"), pref ? `${pref.name} (${pref.code})` : "—"],
      [t("v_gender"), c.preferred_caregiver_gender ? CD.code("gender", c.preferred_caregiver_gender) : "—"],
      [t("v_refused"), c.refused_caregiver_ids.map((id) => (S.cgs[id] || {}).name || `#${id}`).join("、") || "—"],
      [t("v_status"), `${CD.code("vstatus", v.status)} · ${v.pinned ? t("v_pinned") : t("v_not_pinned")}`], [t("v_assigned"), whom || "—"],
    ];
    const parts = [h("h2", {}, `${c.name} · ${serviceName(v)}`), h("dl", {}, dl.map(([k, val]) => [h("dt", {}, k), h("dd", {}, val)])),
      h("h3", {}, t("v_why")), ...why.map((w) => h("p", { class: "why" }, w))];
    if (writer(S.ctx.user) && !FINAL.includes(v.status)) {
      const sel = h("select", { name: "caregiver", "aria-label": t("move_to") }, S.day.caregivers.map((g) => h("option", { value: g.id, selected: g.id === Number(it.row) }, `${g.name} (${g.code})${g.shift_start ? "" : ` · ${t("off_today")}`}`)));
      const time = h("input", { type: "time", name: "start", "aria-label": t("move_at"), value: CD.time((it.stop && it.stop.start) || v.window_start) });
      const out = h("p", { role: "status", class: "move-answer" });
      const ask = async (dry) => {
        const body = { caregiver_id: Number(sel.value), planned_start: CD.iso(CD.at(S.day.date, time.value)), dry_run: dry, ...seatOf(it) };
        try {
          const a = await CD.api.post(`/visits/${v.id}/move`, body);
          if (!a.allowed) { out.className = "error"; out.textContent = a.refusals.map((r) => `${CD.code("move", r.code)}: ${CD.msg(r)}`).join(" "); return; }
          out.className = "status ok";
          out.textContent = t("move_ok", { start: CD.time(a.start), end: CD.time(a.end), travel: a.travel_min });
          if (!dry) { S.selected = `v${v.id}-${a.caregiver_id}`; await refreshDay(); CD.status(t("moved", { cg: S.cgs[a.caregiver_id].name, start: CD.time(a.start), end: CD.time(a.end), travel: a.travel_min }), "ok"); }
        } catch (err) { out.className = "error"; out.textContent = refusalText(err); }
      };
      parts.push(h("div", { class: "row" },
        h("button", { type: "button", class: "secondary", onclick: () => pin(v, !v.pinned) }, v.pinned ? t("unpin") : t("pin"))));
      parts.push(h("div", { class: "row" }, CD.field(t("move_to"), sel), CD.field(t("move_at"), time),
        h("button", { type: "button", class: "secondary", onclick: () => ask(true) }, t("check_move")),
        h("button", { type: "button", onclick: () => ask(false) }, t("do_move"))), out);
    }
    box.replaceChildren(...parts);
  }

  function refusalText(err) {
    if (err.errors && err.errors.refusals) return err.errors.refusals.map((r) => `${CD.code("move", r.code)}: ${CD.msg(r)}`).join(" ");
    return `${CD.code("move", err.code)}: ${err.message}`;
  }

  async function pin(v, on) {
    try { await CD.api.patch(`/visits/${v.id}`, { pinned: on }); await refreshDay(); } catch (err) { CD.fail(err); }
  }

  // Show the server's answer at once (the bar at its new place and times), then bring the
  // whole day (KPIs, other routes) up to date in the background.
  function applyLocally(visitId, a) {
    const plan = S.day.plan;
    const v = S.visits[visitId];
    if (!plan || !plan.routes || !v || v.caregivers_needed > 1) return false;
    for (const r of plan.routes) r.stops = r.stops.filter((x) => x.visit_id !== visitId);
    let route = plan.routes.find((r) => r.caregiver_id === a.caregiver_id);
    if (!route) { route = { caregiver_id: a.caregiver_id, stops: [] }; plan.routes.push(route); }
    route.stops.push({ visit_id: visitId, kind: "visit", arrival: a.arrival, start: a.start, end: a.end, travel_min: a.travel_min, edited: true });
    route.stops.sort((x, y) => new Date(x.start) - new Date(y.start));
    Object.assign(v, { caregiver_ids: [a.caregiver_id], planned_start: a.start, pinned: true, status: v.status === "planned" ? "assigned" : v.status });
    return true;
  }

  // The seat a bar stands for: a double-staffed visit has a bar per caregiver, and the one
  // dragged (or selected) is the seat that changes hands; the partner keeps hers.
  function seatOf(it) {
    const v = S.visits[it.visitId];
    const from = Number(it.row);
    return v && v.caregiver_ids.includes(from) ? { from_caregiver_id: from } : {};
  }

  async function onDrop(it, rowId, start) {
    S.note = null;
    if (rowId === "unassigned") { S.tl.note(it.id, t("cannot_unassign"), "bad"); return; }
    const t0 = performance.now();
    S.tl.pending(it.id, true);
    try {
      const a = await CD.api.post(`/visits/${it.visitId}/move`, { caregiver_id: Number(rowId), planned_start: CD.iso(start), ...seatOf(it) });
      S.selected = `v${it.visitId}-${a.caregiver_id}`;
      S.note = { id: S.selected, text: t("moved", { cg: S.cgs[a.caregiver_id].name, start: CD.time(a.start), end: CD.time(a.end), travel: a.travel_min }), kind: "ok" };
      if (applyLocally(it.visitId, a)) {
        drawTimeline();
        window.cdLastMoveMs = performance.now() - t0; // read by bench/console_speed.py
        refreshDay().catch(CD.fail);
      } else {
        await refreshDay();
        window.cdLastMoveMs = performance.now() - t0;
      }
    } catch (err) {
      S.tl.pending(it.id, false);
      S.tl.note(it.id, `${t("refused")} — ${refusalText(err)}`, "bad");
      window.cdLastMoveMs = performance.now() - t0;
    }
  }

  async function refreshDay() {
    await load(S.ctx);
    drawHeader();
    drawTimeline();
    drawMap();
    if (S.selected) { const it = findItem(S.selected); if (it) { details(it); S.map.highlight(it.row === "unassigned" ? null : it.row); } }
  }

  function drawHeader() {
    const { day, ctx } = S;
    const plan = day.plan;
    const bar = S.bar;
    // A button that is disabled while its request runs (no double submission).
    const act = (label, fn, cls) => h("button", { type: "button", class: cls || "secondary", onclick: async (ev) => {
      const b = ev.currentTarget;
      b.disabled = true;
      try { await fn(); } catch (err) { CD.fail(err); } finally { b.disabled = false; }
    } }, label);
    const items = [];
    if (writer(ctx.user)) {
      items.push(act(t("generate"), async () => {
        const r = await CD.api.post(`/days/${ctx.date}/visits:generate`, ctx.user.provider_id ? {} : { provider_id: ctx.providerId });
        CD.status(t("generated", r), "ok"); await refreshDay();
      }));
      items.push(act(t("optimise"), async () => {
        CD.status(t("optimising", { p: 0 }));
        const p = await CD.api.post("/plans", { date: ctx.date, time_limit_s: 20, ...(ctx.user.provider_id ? {} : { provider_id: ctx.providerId }) });
        await refreshDay(); watch(p.id);
      }, "primary"));
      if (plan && ["proposed", "published"].includes(plan.status)) {
        items.push(act(t("reoptimise"), async () => { CD.status(t("optimising", { p: 0 })); const p = await CD.api.post(`/plans/${plan.id}/replan`, { time_limit_s: 20 }); CD.status(t("replan_started", { v: p.version })); await refreshDay(); watch(p.id); }));
        items.push(act(t("replan_without"), replanWithout));
        items.push(act(t("urgent"), urgent));
      }
      if (plan && plan.status === "proposed") items.push(act(t("publish"), async () => { await CD.api.post(`/plans/${plan.id}/publish`); CD.status(t("published_ok"), "ok"); await refreshDay(); }, "ok"));
    }
    const info = [];
    if (!day.visits.length) info.push(h("p", { class: "banner info" }, t("no_visits")));
    else if (!plan) info.push(h("p", { class: "banner info" }, t("no_plan")));
    if (plan) {
      info.push(h("span", {}, CD.pill(t("plan_line", { v: plan.version, status: CD.code("pstatus", plan.status) }), plan.status)));
      if (plan.status === "optimizing") {
        const p = (plan.progress && plan.progress.percent) || 0;
        info.push(h("span", { class: "row" }, h("span", {}, t("optimising", { p })), h("div", { class: "progress", role: "progressbar", "aria-valuenow": p, "aria-valuemin": 0, "aria-valuemax": 100, "aria-label": t("optimising", { p }) }, h("div", { style: { width: `${p}%` } }))));
        watch(plan.id);
      }
      if (plan.status === "failed") info.push(h("p", { class: "banner bad", "data-code": plan.error_code || "" }, t("plan_failed", { e: planError(plan) })));
    }
    bar.replaceChildren(h("div", { class: "row" }, items, info));
    const k = (plan && plan.kpis) || {};
    S.kpis.replaceChildren(...(plan && plan.kpis ? KPIS.filter((key) => key in k).map((key) => h("div", { class: "kpi" }, h("b", {}, kpiValue(key, k[key])), h("span", {}, t(`kpi.${key}`)))) : []));
  }

  // Poll a running optimisation's progress until it is proposed or failed.
  function watch(planId) {
    if (S.watching === planId) return;
    S.watching = planId;
    const tick = async () => {
      if (!S || S.watching !== planId || CD.shell.state.screen !== "day") return;
      const p = await CD.api.get(`/plans/${planId}`);
      if (p.status === "optimizing") {
        const bar = S.bar.querySelector(".progress > div");
        const pct = (p.progress && p.progress.percent) || 0;
        if (bar) { bar.style.width = `${pct}%`; bar.parentElement.setAttribute("aria-valuenow", pct); }
        const label = S.bar.querySelector(".progress");
        if (label && label.previousSibling) label.previousSibling.textContent = t("optimising", { p: pct });
        setTimeout(() => tick().catch(CD.fail), 1500);
      } else { S.watching = null; await refreshDay(); }
    };
    setTimeout(() => tick().catch(CD.fail), 1000);
  }

  async function replanWithout() {
    const plan = S.day.plan;
    const working = S.day.caregivers.filter((c) => c.shift_start);
    const v = await CD.dialog(t("replan_without"), [CD.field(t("replan_pick"), h("select", { name: "caregiver", required: true }, working.map((c) => h("option", { value: c.id }, `${c.name} (${c.code})`))))]);
    if (!v) return;
    const p = await CD.api.post(`/plans/${plan.id}/replan`, { unavailable_caregivers: [Number(v.caregiver)], time_limit_s: 20 });
    CD.status(t("replan_started", { v: p.version }));
    await refreshDay();
    watch(p.id);
  }

  async function urgent() {
    const plan = S.day.plan;
    if (!plan || !["proposed", "published"].includes(plan.status)) { CD.status(t("need_plan"), "error"); return; }
    const services = await CD.api.all("/service-types");
    const clients = await CD.api.all(`/clients${q(S.ctx)}`);
    const now = new Date();
    const from = S.day.date === CD.today() ? CD.time(new Date(now.getTime() + 30 * 60000).toISOString()) : "09:00";
    const v = await CD.dialog(t("urgent"), [
      CD.field(t("urgent_client"), h("select", { name: "client", required: true }, clients.map((c) => h("option", { value: c.id }, `${c.name} · ${c.address}`)))),
      CD.field(t("urgent_service"), h("select", { name: "service", required: true }, services.filter((s) => s.caregivers_needed === 1).map((s) => h("option", { value: s.id }, `${CD.lang === "en" && s.name_en ? s.name_en : s.name} (${s.code})`)))),
      CD.field(t("urgent_from"), h("input", { type: "time", name: "from", value: from, required: true })),
      CD.field(t("urgent_to"), h("input", { type: "time", name: "to", value: "17:00", required: true })),
      CD.field(t("urgent_duration"), h("input", { type: "number", name: "duration", min: 5, max: 720, value: 30, required: true })),
    ]);
    if (!v) return;
    const visit = await CD.api.post("/visits", {
      client_id: Number(v.client), service_type_id: Number(v.service), date: S.day.date, urgent: true, priority: 10,
      window_start: CD.iso(CD.at(S.day.date, v.from)), window_end: CD.iso(CD.at(S.day.date, v.to)), duration_min: Number(v.duration),
      ...(S.ctx.user.provider_id ? {} : { provider_id: S.ctx.providerId }),
    });
    const ins = await CD.api.post(`/plans/${plan.id}/urgent`, { visit_id: visit.id });
    if (!ins.possible) {
      await CD.dialog(t("urgent"), [h("p", { class: "banner bad" }, t("urgent_none", { reason: t(`reason.${ins.reason}`), action: CD.lang === "zh" ? ins.action_zh : ins.action }))], { ok: t("close") });
      await refreshDay();
      return;
    }
    const cg = S.cgs[ins.caregiver_id];
    const ok = await CD.dialog(t("urgent"), [h("p", { class: "banner info" }, t("urgent_suggest", { cg: cg ? cg.name : ins.caregiver_id, arrival: CD.time(ins.arrival), start: CD.time(ins.start), travel: ins.added_travel_min, ms: ins.took_ms }))], { ok: t("urgent_confirm") });
    if (!ok) { await refreshDay(); return; }
    const a = await CD.api.post(`/visits/${visit.id}/move`, { caregiver_id: ins.caregiver_id, planned_start: ins.start });
    S.selected = `v${visit.id}-${a.caregiver_id}`;
    await refreshDay();
    CD.status(t("urgent_done", { cg: cg ? cg.name : "", start: CD.time(a.start) }), "ok");
  }

  async function render(panel, ctx) {
    const t0 = performance.now();
    await load(ctx);
    S.bar = h("div", { class: "toolbar" });
    S.kpis = h("div", { class: "kpis" });
    const tlBox = h("div", {});
    const mapBox = h("div", { class: "mapbox", role: "region", "aria-label": t("map_label") });
    S.detailsBox = h("div", { class: "card details", role: "region", "aria-label": t("details") }, h("p", { class: "muted" }, t("select_hint")));
    const legend = h("div", { class: "legend", "aria-hidden": "true" },
      h("span", { class: "tl-bar pinned" }, t("legend_pinned")), h("span", { class: "tl-bar edited" }, t("legend_edited")),
      h("span", { class: "tl-bar break" }, t("legend_break")), h("span", { class: "tl-bar pickup" }, t("legend_pickup")),
      h("span", { class: "tl-bar unassigned" }, t("unassigned_row")));
    panel.append(S.bar, S.kpis, h("div", { class: "day-grid" }, h("div", {}, tlBox, legend), h("div", { class: "day-side" }, mapBox, S.detailsBox)));
    S.tl = CD.timeline(tlBox, { label: t("timeline_label"), corner: t("caregiver"), onSelect: (it) => select(it.id), onDrop, scrollToNow: true });
    S.map = CD.map(mapBox);
    drawHeader();
    drawTimeline();
    drawMap();
    if (S.selected) select(S.selected);
    window.cdDayDrawnMs = performance.now() - t0; // read by bench/console_speed.py
    window.cdDayDrawnAt = performance.now(); // since the page began to load
    panel.dataset.drawn = "1";
  }

  CD.screen({ id: "day", roles: ["dispatcher", "provider_admin", "admin"], landing: ["dispatcher"], label: "tab.day", usesDate: true, perProvider: true, render });
})();
