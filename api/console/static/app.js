// CareDispatch web console: a thin client of /api/v1. Untrusted text is only ever set as textContent.
"use strict";

const T = {
  en: {
    tagline: "home-care dispatch", login: "Log in", logout: "Log out", username: "Username",
    password: "Password", date: "Date", demo_hint: "Demo: dispatcher1 / demo, finance / demo, caregiver1_1 / demo, admin / demo",
    plan: "Routes", board: "Live board", myday: "My visits", flags: "Flags", orders: "Work orders",
    funnel: "Funnel", rules: "Rules", generate: "Generate visits", optimise: "Optimise",
    publish: "Publish", refresh: "Refresh", caregiver: "Caregiver", stops: "Stops",
    unassigned: "Unassigned", reason: "Reason", visit: "Visit", state: "State", alerts: "Alerts",
    start: "Start", end: "End", client: "Client", address: "Address", service: "Service",
    window: "Window", code: "Code", severity: "Severity", evidence: "Evidence", order: "Order",
    approve: "Approve", reject: "Reject", status: "Status", threshold: "Threshold", enabled: "Enabled",
    none: "Nothing here.", travel: "Travel (min)", no_plan: "No plan for this date yet.",
    reason_prompt: "Reason (required, audited):",
  },
  zh: {
    tagline: "居家养老上门服务调度", login: "登录", logout: "退出", username: "用户名", password: "密码",
    date: "日期", demo_hint: "演示账号：dispatcher1 / demo，finance / demo，caregiver1_1 / demo，admin / demo",
    plan: "路线", board: "实时看板", myday: "我的任务", flags: "异常", orders: "服务工单", funnel: "漏斗报表",
    rules: "规则", generate: "生成当日服务", optimise: "优化排班", publish: "发布", refresh: "刷新",
    caregiver: "护理员", stops: "站点", unassigned: "未分配", reason: "原因", visit: "服务", state: "状态",
    alerts: "提醒", start: "开始", end: "结束", client: "服务对象", address: "地址", service: "服务项目",
    window: "时间窗", code: "代码", severity: "级别", evidence: "证据", order: "工单", approve: "通过",
    reject: "驳回", status: "状态", threshold: "阈值", enabled: "启用", none: "暂无数据。",
    travel: "路程（分钟）", no_plan: "该日期尚无排班计划。", reason_prompt: "原因（必填，将记入审计日志）：",
  },
};
let lang = localStorage.getItem("cd.lang") || "zh";
const t = (k) => (T[lang] && T[lang][k]) || T.en[k] || k;

const state = { token: sessionStorage.getItem("cd.token"), user: JSON.parse(sessionStorage.getItem("cd.user") || "null"), tab: null };

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
const $ = (id) => document.getElementById(id);
const hhmm = (iso) => (iso ? String(iso).slice(11, 16) : "");

async function api(method, path, body) {
  const headers = { "Accept-Language": lang === "zh" ? "zh-CN" : "en" };
  if (state.token) headers.Authorization = "Bearer " + state.token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch("/api/v1" + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 401 && state.token) { logout(); throw new Error("session expired"); }
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error((data && (data.code + ": " + data.message)) || res.statusText);
  return data;
}

function setStatus(msg, isError) {
  const s = $("status");
  s.textContent = msg || "";
  s.className = isError ? "error" : "muted";
}

function translate() {
  document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
}

function logout() {
  state.token = null; state.user = null;
  sessionStorage.removeItem("cd.token"); sessionStorage.removeItem("cd.user");
  render();
}

const TABS = {
  dispatcher: ["plan", "board"],
  provider_admin: ["orders", "board"],
  caregiver: ["myday"],
  finance: ["flags", "orders", "funnel"],
  admin: ["rules", "flags", "funnel", "plan", "board"],
};

function render() {
  translate();
  const logged = Boolean(state.token && state.user);
  $("login-view").classList.toggle("hidden", logged);
  $("app-view").classList.toggle("hidden", !logged);
  $("logout").classList.toggle("hidden", !logged);
  $("who").textContent = logged ? `${state.user.username} · ${state.user.role}` : "";
  if (!logged) return;
  const tabs = TABS[state.user.role] || [];
  if (!tabs.includes(state.tab)) state.tab = tabs[0];
  const nav = $("tabs");
  nav.replaceChildren(...tabs.map((name) => h("button", { type: "button", class: name === state.tab ? "active" : "", onclick: () => { state.tab = name; render(); } }, t(name))));
  load();
}

async function load() {
  const panel = $("panel");
  panel.replaceChildren();
  setStatus("…");
  try {
    await VIEWS[state.tab](panel, $("date").value);
    setStatus("");
  } catch (err) {
    setStatus(err.message, true);
  }
}

function table(headers, rows) {
  if (!rows.length) return h("p", { class: "muted" }, t("none"));
  return h("table", {}, h("thead", {}, h("tr", {}, headers.map((x) => h("th", {}, x)))), h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c))))));
}

function pill(text, cls) { return h("span", { class: "pill " + (cls || text) }, text); }

const COLORS = ["#1764c0", "#c0392b", "#1e8449", "#8e44ad", "#d68910", "#16a085", "#2c3e50", "#d35400", "#7f8c8d", "#27ae60"];

// A tile-free map: stops projected onto an SVG, one polyline per caregiver.
function routeMap(routes, locate) {
  const pts = [];
  routes.forEach((r) => r.stops.forEach((s) => { const p = locate(s); if (p) pts.push(p); }));
  const svgNS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNS, "svg");
  svg.setAttribute("viewBox", "0 0 600 420");
  if (!pts.length) return svg;
  const lats = pts.map((p) => p.lat), lons = pts.map((p) => p.lon);
  const [a, b, c, d] = [Math.min(...lats), Math.max(...lats), Math.min(...lons), Math.max(...lons)];
  const sx = (lon) => 20 + ((lon - c) / Math.max(d - c, 1e-6)) * 560;
  const sy = (lat) => 400 - ((lat - a) / Math.max(b - a, 1e-6)) * 380;
  routes.forEach((r, i) => {
    const color = COLORS[i % COLORS.length];
    const coords = r.stops.map(locate).filter(Boolean).map((p) => `${sx(p.lon).toFixed(1)},${sy(p.lat).toFixed(1)}`);
    const line = document.createElementNS(svgNS, "polyline");
    line.setAttribute("points", coords.join(" "));
    line.setAttribute("fill", "none"); line.setAttribute("stroke", color); line.setAttribute("stroke-width", "1.5");
    svg.append(line);
    coords.forEach((xy) => {
      const [x, y] = xy.split(",");
      const dot = document.createElementNS(svgNS, "circle");
      dot.setAttribute("cx", x); dot.setAttribute("cy", y); dot.setAttribute("r", "3"); dot.setAttribute("fill", color);
      svg.append(dot);
    });
  });
  return svg;
}

async function indexOf(path) {
  // id -> row over every page of a list endpoint
  const index = {};
  for (let page = 1; page <= 50; page++) {
    const rows = await api("GET", `${path}${path.includes("?") ? "&" : "?"}page=${page}&page_size=100`);
    rows.forEach((row) => { index[row.id] = row; });
    if (rows.length < 100) break;
  }
  return index;
}

function locationOf(client) {
  return client && typeof client.lat === "number" ? { lat: client.lat, lon: client.lon } : null;
}

const VIEWS = {
  async plan(panel, date) {
    const plans = await api("GET", `/plans?date=${date}&page_size=50`);
    const bar = h("div", { class: "toolbar" },
      h("button", { type: "button", onclick: async () => { await run(() => api("POST", `/days/${date}/visits:generate`, {})); } }, t("generate")),
      h("button", { type: "button", onclick: async () => { await run(() => api("POST", "/plans", { date, time_limit_s: 20 })); } }, t("optimise")));
    panel.append(bar);
    if (!plans.length) { panel.append(h("p", { class: "muted" }, t("no_plan"))); return; }
    const latest = plans.reduce((x, y) => (y.version > x.version ? y : x));
    const plan = await api("GET", `/plans/${latest.id}`);
    if (plan.status === "proposed") bar.append(h("button", { type: "button", class: "secondary", onclick: async () => { await run(() => api("POST", `/plans/${plan.id}/publish`)); } }, t("publish")));
    bar.append(h("span", {}, pill(`v${plan.version} ${plan.status}`, plan.status)));
    if (plan.status === "optimizing") setTimeout(() => state.tab === "plan" && load(), 2000);
    const k = plan.kpis || {};
    panel.append(h("div", { class: "kpis" }, Object.entries(k).filter(([, v]) => typeof v !== "object").slice(0, 8).map(([name, v]) => h("div", { class: "kpi" }, h("b", {}, typeof v === "number" ? Math.round(v * 100) / 100 : v), h("span", { class: "muted small" }, name)))));
    const visits = await indexOf(`/visits?date=${date}`).catch(() => ({}));
    const clients = await indexOf("/clients").catch(() => ({}));
    const clientOf = (s) => clients[(visits[s.visit_id] || {}).client_id];
    const routes = plan.routes || [];
    const left = h("div", {}, routes.map((r, i) => h("div", { class: "card" },
      h("strong", { style: "color:" + COLORS[i % COLORS.length] }, `${t("caregiver")} #${r.caregiver_id}`),
      " ", h("span", { class: "muted small" }, `${r.stops.length} ${t("stops")}`),
      table([t("visit"), t("client"), t("start"), t("end"), t("travel")], r.stops.map((s) => {
        const c = clientOf(s);
        return [s.kind === "visit" ? `#${s.visit_id}` : s.kind, c ? c.name : "", hhmm(s.start), hhmm(s.end), s.travel_min];
      })))));
    const right = h("div", {}, h("div", { class: "card" }, routeMap(routes, (s) => locationOf(clientOf(s)))),
      h("div", { class: "card" }, h("h3", {}, t("unassigned")), table([t("visit"), t("reason")], (plan.unassigned || []).map((u) => [`#${u.visit_id}`, u.reason + " — " + ((lang === "zh" ? u.action_zh : u.action) || u.detail || "")]))));
    panel.append(h("div", { class: "grid2" }, left, right));
  },
  async board(panel, date) {
    const data = await api("GET", `/days/${date}/board`);
    const rows = Array.isArray(data) ? data : data.visits || [];
    panel.append(h("button", { type: "button", class: "secondary", onclick: load }, t("refresh")));
    panel.append(table([t("visit"), t("caregiver"), t("client"), t("start"), t("state"), t("alerts")], rows.map((v) => [
      `#${v.visit_id}`, (v.caregivers || []).map((c) => c.name).join("、"),
      v.client ? v.client.name : "", hhmm(v.planned_start), pill(v.state || v.status || ""),
      (v.alerts || []).map((a) => pill(typeof a === "string" ? a : a.code || a.kind)),
    ])));
  },
  async myday(panel, date) {
    const rows = await api("GET", `/me/visits?date=${date}`);
    panel.append(table(["#", t("service"), t("client"), t("address"), t("window"), t("start"), t("state")], rows.map((v) => [
      v.sequence, v.service ? v.service.name : "", v.client ? v.client.name : "", v.client ? v.client.address : "",
      `${hhmm(v.window_start)}–${hhmm(v.window_end)}`, hhmm(v.planned_start), pill(v.status),
    ])));
  },
  async flags(panel) {
    const rows = await api("GET", "/flags?status=open&page_size=100");
    panel.append(table([t("code"), t("severity"), t("order"), t("evidence"), ""], rows.map((f) => [
      f.code, pill(f.severity), `#${f.work_order_id}`, h("pre", {}, JSON.stringify(f.evidence, null, 1)),
      h("span", {},
        h("button", { type: "button", class: "secondary", onclick: () => decide(f.work_order_id, "approve", [f.id]) }, t("approve")), " ",
        h("button", { type: "button", class: "secondary", onclick: () => decide(f.work_order_id, "reject", []) }, t("reject"))),
    ])));
  },
  async orders(panel) {
    const rows = await api("GET", "/work-orders?page_size=100");
    panel.append(table([t("order"), t("caregiver"), t("client"), t("start"), t("end"), t("status"), t("flags")], rows.map((o) => [
      `#${o.id}`, o.caregiver_id, o.client_id, String(o.start_at || "").slice(0, 16).replace("T", " "), hhmm(o.end_at), pill(o.status),
      (o.flags || []).map((f) => pill(f.code, f.severity)),
    ])));
  },
  async funnel(panel, date) {
    const from = date.slice(0, 8) + "01";
    const data = await api("GET", `/reports/funnel?from=${from}&to=${date}`);
    panel.append(h("div", { class: "kpis" }, Object.entries(data).filter(([, v]) => typeof v !== "object").map(([k, v]) => h("div", { class: "kpi" }, h("b", {}, v), h("span", { class: "muted small" }, k)))));
  },
  async rules(panel) {
    const rows = await api("GET", "/rules");
    const list = Array.isArray(rows) ? rows : rows.rules || [];
    panel.append(table([t("code"), t("severity"), t("threshold"), t("enabled")], list.map((r) => [r.code, pill(r.severity), r.threshold ?? "—", String(r.enabled)])));
  },
};

async function decide(orderId, decision, overrideFlags) {
  const reason = window.prompt(t("reason_prompt"));
  if (!reason) return;
  await run(() => api("POST", `/work-orders/${orderId}/decision`, { decision, reason, override_flags: overrideFlags }));
}

async function run(action) {
  try { await action(); await load(); } catch (err) { setStatus(err.message, true); }
}

document.addEventListener("DOMContentLoaded", () => {
  const today = new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10); // Asia/Shanghai
  $("date").value = today;
  $("date").addEventListener("change", load);
  $("lang").addEventListener("click", () => { lang = lang === "zh" ? "en" : "zh"; localStorage.setItem("cd.lang", lang); render(); });
  $("logout").addEventListener("click", logout);
  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = new FormData(ev.target);
    try {
      const data = await api("POST", "/auth/login", { username: form.get("username"), password: form.get("password") });
      state.token = data.access_token; state.user = data.user;
      sessionStorage.setItem("cd.token", state.token); sessionStorage.setItem("cd.user", JSON.stringify(state.user));
      $("login-error").textContent = "";
      render();
    } catch (err) { $("login-error").textContent = err.message; }
  });
  render();
});
