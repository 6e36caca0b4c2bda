// Live board: today's published visits on the timeline with a red "now" line, each bar coloured
// by its state, late and missed alerts on top; it refreshes by itself.
"use strict";

CD.i18n.add({
  zh: {
    "tab.board": "实时看板", alerts: "提醒", no_alerts: "暂无迟到或漏服务。", late_by: "迟到 {n} 分钟", missed_alert: "时间窗已过仍未签到",
    board_at: "更新于 {t}，每 30 秒自动刷新", board_empty: "该日期没有已发布的服务。", checked_in: "签到 {t}", checked_out: "签退 {t}",
    board_label: "实时看板时间轴",
  },
  en: {
    "tab.board": "Live board", alerts: "Alerts", no_alerts: "No late or missed visits.", late_by: "{n} min late", missed_alert: "window over, no check-in",
    board_at: "As of {t}; refreshes every 30 s", board_empty: "No published visits on this day.", checked_in: "in {t}", checked_out: "out {t}",
    board_label: "Live board timeline",
  },
});

(function () {
  const h = CD.h;
  const t = CD.t;
  const STATES = ["scheduled", "late", "in_progress", "completed", "missed", "client_absent", "refused"];
  let B = null;

  const q = (ctx) => (ctx.user.provider_id ? "" : `?provider_id=${ctx.providerId}`);
  const sName = (v) => (CD.lang === "en" && v.service_name_en) || v.service_name;

  function barTimes(v, now) {
    const planned = new Date(v.planned_start || v.window_start);
    const dur = v.duration_min * 60000;
    if (v.check_in_at && v.check_out_at) return [new Date(v.check_in_at), new Date(v.check_out_at)];
    if (v.check_in_at) { const s = new Date(v.check_in_at); return [s, new Date(Math.max(s.getTime() + dur, now.getTime()))]; }
    return [planned, new Date(planned.getTime() + dur)];
  }

  function draw(data) {
    const now = new Date(data.at);
    const rows = [];
    const seen = {};
    const items = [];
    for (const v of data.visits) {
      const [start, end] = barTimes(v, now);
      const cgs = v.caregivers.length ? v.caregivers : [{ id: 0, name: "—" }];
      for (const c of cgs) {
        if (!seen[c.id]) { seen[c.id] = true; rows.push({ id: String(c.id), label: c.name || `#${c.id}` }); }
        const extra = v.state === "late" ? t("late_by", { n: v.late_min }) : "";
        items.push({
          id: `b${v.visit_id}-${c.id}`, row: String(c.id), start, end, cls: `s-${v.state}`,
          label: `${v.client.name} ${sName(v)}`,
          title: `${v.client.name} · ${sName(v)} · ${CD.time(v.planned_start)} · ${CD.code("state", v.state)}${extra ? ` · ${extra}` : ""}${v.check_in_at ? ` · ${t("checked_in", { t: CD.time(v.check_in_at) })}` : ""}${v.check_out_at ? ` · ${t("checked_out", { t: CD.time(v.check_out_at) })}` : ""}`,
          draggable: false, visit: v,
        });
      }
    }
    rows.sort((a, b) => a.label.localeCompare(b.label, "zh"));
    const times = items.flatMap((i) => [i.start.getTime(), i.end.getTime()]);
    const start = new Date(Math.min(CD.at(data.date, "07:00").getTime(), ...times.map((x) => Math.floor(x / 3600000) * 3600000)));
    const end = new Date(Math.max(CD.at(data.date, "19:00").getTime(), ...times.map((x) => Math.ceil(x / 3600000) * 3600000)));
    const scroll = B.tlBox.querySelector(".tl-scroll");
    const keep = scroll ? [scroll.scrollLeft, scroll.scrollTop] : null;
    B.tl.render({ start, end, rows, items, now: data.date === CD.today() ? now : null, focus: CD.workStart(data.date) });
    const again = B.tlBox.querySelector(".tl-scroll");
    if (keep && again) [again.scrollLeft, again.scrollTop] = keep;

    B.counts.replaceChildren(...STATES.filter((s) => data.counts[s]).map((s) => h("div", { class: "kpi" }, h("b", {}, data.counts[s]), h("span", {}, CD.code("state", s)))));
    const alerts = data.visits.filter((v) => v.alerts.length);
    B.alerts.replaceChildren(h("h2", {}, `${t("alerts")} (${alerts.length})`),
      alerts.length ? h("ul", { class: "alerts" }, alerts.map((v) => h("li", {},
        CD.pill(CD.code("state", v.state), v.state), " ",
        h("button", { type: "button", class: "link-like", onclick: () => B.tl.select(`b${v.visit_id}-${(v.caregivers[0] || { id: 0 }).id}`) },
          `${CD.time(v.planned_start)} ${v.client.name} · ${sName(v)} · ${v.caregivers.map((c) => c.name).join("、")}`),
        " ", h("span", { class: "muted" }, v.state === "late" ? t("late_by", { n: v.late_min }) : t("missed_alert"))))) : h("p", { class: "muted" }, t("no_alerts")));
    B.when.textContent = t("board_at", { t: CD.time(data.at) });
  }

  async function fetchBoard(ctx) {
    return CD.api.get(`/days/${ctx.date}/board${q(ctx)}`);
  }

  async function render(panel, ctx) {
    const data = await fetchBoard(ctx);
    B = { ctx, tlBox: h("div", {}), counts: h("div", { class: "kpis" }), alerts: h("section", { class: "card alerts-box", "aria-live": "polite" }), when: h("p", { class: "muted small" }) };
    panel.append(B.alerts, B.counts, B.when, B.tlBox,
      h("div", { class: "legend", "aria-hidden": "true" }, STATES.map((s) => h("span", { class: `tl-bar s-${s}` }, CD.code("state", s)))));
    B.tl = CD.timeline(B.tlBox, { label: t("board_label"), corner: t("caregiver"), scrollToNow: true, onSelect: () => {} });
    if (!data.visits.length) B.tlBox.replaceChildren(h("p", { class: "banner info" }, t("board_empty")));
    else draw(data);
    panel.dataset.drawn = "1";
  }

  async function refresh(ctx) {
    if (!B || B.ctx !== ctx) return;
    const data = await fetchBoard(ctx);
    if (data.visits.length) draw(data);
  }

  CD.screen({ id: "board", roles: ["dispatcher", "provider_admin", "admin", "finance"], label: "tab.board", usesDate: true, perProvider: true, render, refresh, refreshSeconds: 30 });
})();
