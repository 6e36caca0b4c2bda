// The bureau's (民政局) figures by street or by provider for a month: a table with totals and
// the staffing targets, a chart of one figure, the XLSX export. Also the helpers the other
// supervision screens share (CD.sup): the month picker, formats, the five colours.
"use strict";

CD.i18n.add({
  zh: {
    "tab.figures": "分街道统计", "sup.month": "月份", "sup.by": "统计口径", "sup.by_street": "按街道", "sup.by_provider": "按机构",
    "sup.area": "监管范围：{area}", "sup.area_all": "监管范围：全部地区", "sup.period": "统计期间：{from} 至 {to}",
    "sup.month_to_date": "（本月截至今天）", "sup.xlsx": "下载 Excel", "sup.street": "街道", "sup.provider": "服务机构",
    "sup.no_street": "未登记街道", "sup.total": "合计", "sup.chart_of": "图表指标", "sup.chart_label": "各{group}{figure}图表",
    "sup.target_line": "目标", "sup.figures_table": "分{group}统计表",
    "sup.col.elders_served": "服务\u200b老人", "sup.col.visits_planned": "计划上门", "sup.col.visits_done": "完成上门",
    "sup.col.on_time_rate": "准时率", "sup.col.missed": "漏服务", "sup.col.abnormal_rate": "异常工单率",
    "sup.col.billed_hours": "结算工时", "sup.col.billed_amount": "结算金额（元）", "sup.col.satisfaction": "满意度\u200b（5分制）",
    "sup.col.complaints_open": "投诉 未办结", "sup.col.complaints_closed": "投诉 已办结", "sup.col.calls": "紧急呼叫",
    "sup.col.call_to_arrival_p50_min": "呼叫到上门 中位数（分钟）", "sup.col.certified_per_10k": "每万名老人持证护理员（目标 ≥ 28）",
    "sup.col.senior_share": "高级及以上占比（目标 ≥ 18%）", "sup.col.first_aid_share": "持救护员证占比（目标 ≥ 70%）",
    "sup.col.contact_compliance": "五色探访\u200b按时率",
    "sup.def.elders_served": "本期有服务工单的老人人数（不重复）", "sup.def.visits_planned": "本期排定且未取消的上门次数",
    "sup.def.visits_done": "老人在家、服务完成的上门次数", "sup.def.on_time_rate": "签到不晚于计划开始 15 分钟的工单占比",
    "sup.def.missed": "漏服务的上门次数", "sup.def.abnormal_rate": "异常工单 / 生成工单（与工单漏斗一致）",
    "sup.def.billed_hours": "已结算工单的工时", "sup.def.billed_amount": "已结算工单的金额（元）",
    "sup.def.satisfaction": "回访满意度平均分（1–5 分）", "sup.def.complaints_open": "尚未办结的投诉",
    "sup.def.complaints_closed": "已办结的投诉", "sup.def.calls": "老人发起的紧急呼叫次数",
    "sup.def.call_to_arrival_p50_min": "从呼叫到护理员上门的时间，中位数",
    "sup.def.certified_per_10k": "持养老护理员证的护理员数 / 服务老人数 × 10000，目标不少于 28 人",
    "sup.def.senior_share": "持证护理员中高级及以上等级的占比，目标不低于 18%",
    "sup.def.first_aid_share": "持证护理员中持红十字救护员证的占比，目标不低于 70%",
    "sup.def.contact_compliance": "纳入五色探访的老人中，期末未逾期的占比",
    "sup.null_pending": "尚无数据：这项数据尚未记录（呼叫、评价、投诉记录接入后显示）",
    "sup.null_none": "本期没有可计算的数据", "sup.missed_target": "未达标：{figure} 为 {value}，目标 ≥ {target}",
    "sup.legend_miss": "▼ 红底：未达到目标", "sup.legend_null": "—：暂无数据（将鼠标停在上面或长按查看原因）",
    "sup.open_scorecard": "查看 {name} 的评分卡",
    "sup.grp.visits": "上门服务", "sup.grp.orders": "工单与结算", "sup.grp.complaints": "投诉", "sup.grp.calls": "紧急呼叫",
    "sup.grp.staff": "护理员配备",
    "sup.short.visits_planned": "计划", "sup.short.visits_done": "完成", "sup.short.on_time_rate": "准时率", "sup.short.missed": "漏\u200b服务",
    "sup.short.abnormal_rate": "异常率", "sup.short.billed_hours": "结算\u200b工时", "sup.short.billed_amount": "结算金额\u200b（元）",
    "sup.short.complaints_open": "未办结", "sup.short.complaints_closed": "已办结",
    "sup.short.calls": "次数", "sup.short.call_to_arrival_p50_min": "到达\u200b中位数\u200b（分钟）",
    "sup.short.certified_per_10k": "每万名老人\u200b持证人数\u200b（≥\u00a028）", "sup.short.senior_share": "高级\u200b及以上\u200b（≥\u00a018%）",
    "sup.short.first_aid_share": "持救护员证\u200b（≥\u00a070%）",
  },
  en: {
    "tab.figures": "Figures by street", "sup.month": "Month", "sup.by": "Group by", "sup.by_street": "By street", "sup.by_provider": "By provider",
    "sup.area": "Area: {area}", "sup.area_all": "Area: everywhere", "sup.period": "Period: {from} to {to}",
    "sup.month_to_date": " (this month until today)", "sup.xlsx": "Download Excel", "sup.street": "Street", "sup.provider": "Provider",
    "sup.no_street": "Street not recorded", "sup.total": "Total", "sup.chart_of": "Chart", "sup.chart_label": "{figure} per {group}",
    "sup.target_line": "Target", "sup.figures_table": "Figures per {group}",
    "sup.col.elders_served": "Elders served", "sup.col.visits_planned": "Visits planned", "sup.col.visits_done": "Visits done",
    "sup.col.on_time_rate": "On time", "sup.col.missed": "Missed", "sup.col.abnormal_rate": "Abnormal orders",
    "sup.col.billed_hours": "Billed hours", "sup.col.billed_amount": "Billed (CNY)", "sup.col.satisfaction": "Rating (1–5)",
    "sup.col.complaints_open": "Complaints open", "sup.col.complaints_closed": "Complaints closed", "sup.col.calls": "Emergency calls",
    "sup.col.call_to_arrival_p50_min": "Call to arrival, median (min)", "sup.col.certified_per_10k": "Certified caregivers per 10,000 elders (target ≥ 28)",
    "sup.col.senior_share": "Senior grade or above (target ≥ 18 %)", "sup.col.first_aid_share": "With a first-aid certificate (target ≥ 70 %)",
    "sup.col.contact_compliance": "Contacts in time",
    "sup.def.elders_served": "Distinct elders with a work order in the period", "sup.def.visits_planned": "Visits dated in the period, not cancelled",
    "sup.def.visits_done": "Visits completed with the elder at home", "sup.def.on_time_rate": "Orders checked in at most 15 min after the planned start",
    "sup.def.missed": "Visits missed", "sup.def.abnormal_rate": "Abnormal orders / generated orders (as in the funnel)",
    "sup.def.billed_hours": "Hours of billed orders", "sup.def.billed_amount": "Amount of billed orders, CNY",
    "sup.def.satisfaction": "Mean satisfaction of the call-backs, 1–5", "sup.def.complaints_open": "Complaints not yet resolved",
    "sup.def.complaints_closed": "Complaints resolved", "sup.def.calls": "Emergency calls made by elders",
    "sup.def.call_to_arrival_p50_min": "Time from the call to the caregiver's arrival, median",
    "sup.def.certified_per_10k": "Caregivers with the care certificate / elders served × 10,000; target at least 28",
    "sup.def.senior_share": "Share of certified caregivers of senior grade or above; target at least 18 %",
    "sup.def.first_aid_share": "Share of certified caregivers holding a Red Cross first-aid certificate; target at least 70 %",
    "sup.def.contact_compliance": "Share of the elders in the five-colour scheme not overdue at the period's end",
    "sup.null_pending": "No data: this figure is not recorded yet (it appears once calls, ratings and complaints are recorded)",
    "sup.null_none": "Nothing to compute it from in this period", "sup.missed_target": "Below target: {figure} is {value}, target ≥ {target}",
    "sup.legend_miss": "▼ red: below target", "sup.legend_null": "—: no data (hover or long-press for why)",
    "sup.open_scorecard": "Open the scorecard of {name}",
    "sup.grp.visits": "Home visits", "sup.grp.orders": "Work orders and billing", "sup.grp.complaints": "Complaints", "sup.grp.calls": "Emergency calls",
    "sup.grp.staff": "Caregiver staffing",
    "sup.short.visits_planned": "Planned", "sup.short.visits_done": "Done", "sup.short.on_time_rate": "On time", "sup.short.missed": "Missed",
    "sup.short.abnormal_rate": "Abnormal", "sup.short.billed_hours": "Billed hours", "sup.short.billed_amount": "Billed (CNY)",
    "sup.short.complaints_open": "Open", "sup.short.complaints_closed": "Closed",
    "sup.short.calls": "Calls", "sup.short.call_to_arrival_p50_min": "Median to arrival (min)",
    "sup.short.certified_per_10k": "Certified per 10,000 elders (≥\u00a028)", "sup.short.senior_share": "Senior grade (≥\u00a018\u00a0%)",
    "sup.short.first_aid_share": "First-aid certificate (≥\u00a070\u00a0%)",
  },
});

CD.sup = (function () {
  const h = CD.h;
  const t = CD.t;
  const state = { month: null, groupBy: "street" };
  const int = (v) => Number(v).toLocaleString(CD.lang === "zh" ? "zh-CN" : "en-GB");
  const fixed = (n) => (v) => Number(v).toLocaleString(CD.lang === "zh" ? "zh-CN" : "en-GB", { minimumFractionDigits: n, maximumFractionDigits: n });
  const pct = (v) => `${(100 * Number(v)).toFixed(1)}%`;
  // Every figure of a row, in the order of the table. pending: null means "not recorded yet"
  // (calls, ratings, complaints); target/met: the staffing targets and the API's verdict.
  const COLS = [
    { k: "elders_served", fmt: int },
    { k: "visits_planned", fmt: int, g: "visits" },
    { k: "visits_done", fmt: int, g: "visits" },
    { k: "on_time_rate", fmt: pct, rate: true, g: "visits" },
    { k: "missed", fmt: int, g: "visits" },
    { k: "abnormal_rate", fmt: pct, rate: true, g: "orders" },
    { k: "billed_hours", fmt: fixed(1), g: "orders" },
    { k: "billed_amount", fmt: fixed(0), g: "orders" },
    { k: "satisfaction", fmt: fixed(1) },
    { k: "complaints_open", fmt: int, pending: true, g: "complaints" },
    { k: "complaints_closed", fmt: int, pending: true, g: "complaints" },
    { k: "calls", fmt: int, pending: true, g: "calls" },
    { k: "call_to_arrival_p50_min", fmt: fixed(1), pending: true, g: "calls" },
    { k: "certified_per_10k", fmt: fixed(1), target: "certified_per_10k", g: "staff" },
    { k: "senior_share", fmt: pct, rate: true, target: "senior_share", g: "staff" },
    { k: "first_aid_share", fmt: pct, rate: true, target: "first_aid_share", g: "staff" },
    { k: "contact_compliance", fmt: pct, rate: true },
  ];

  const pad = (n) => String(n).padStart(2, "0");
  function monthOf(day) { return day.slice(0, 7); }
  // The month's first and last day; the current month ends today (nothing later happened yet).
  function period(month) {
    const [y, m] = month.split("-").map(Number);
    const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
    const from = `${y}-${pad(m)}-01`;
    let to = `${y}-${pad(m)}-${pad(last)}`;
    const today = CD.today();
    const toDate = to > today && from <= today ? today : to;
    return { from, to: toDate, partial: toDate !== to };
  }
  function monthPicker(onChange) {
    if (!state.month) state.month = monthOf(CD.today());
    const input = h("input", { type: "month", value: state.month, max: monthOf(CD.today()), required: true,
      onchange: (ev) => { if (/^\d{4}-\d{2}$/.test(ev.target.value)) { state.month = ev.target.value; onChange(); } } });
    return CD.field(t("sup.month"), input);
  }
  function periodText(p) {
    return t("sup.period", { from: p.from, to: p.to }) + (p.partial ? t("sup.month_to_date") : "");
  }
  // A figure as a cell: "—" with the reason as tooltip when null, red with ▼ when below target.
  function cell(col, row, targets) {
    const v = row[col.k];
    if (v === null || v === undefined) {
      const why = t(col.pending ? "sup.null_pending" : "sup.null_none");
      return { node: h("span", { class: "null", title: why, "aria-label": why, tabindex: "0" }, "—"), cls: "" };
    }
    const text = col.fmt(v);
    const met = col.target ? row[`${col.target}_met`] : null;
    if (met === false) {
      const target = col.rate ? pct(targets[col.target]) : int(targets[col.target]);
      const why = t("sup.missed_target", { figure: t(`sup.col.${col.k}`).replace(/（.*|\(.*/, "").trim(), value: text, target });
      return { node: h("span", { title: why, "aria-label": why }, `${text} ▼`), cls: "miss" };
    }
    return { node: text, cls: "" };
  }
  function keyName(groupBy, row) {
    if (groupBy === "provider") return row.name || `#${row.key}`;
    return row.key === "-" ? t("sup.no_street") : row.key;
  }
  // The figures table: a row per street or provider, the totals in the footer.
  function figuresTable(data, opts) {
    const cols = (opts && opts.cols) || COLS;
    // Two header rows: a group's name above its figures' short names; lone figures span both.
    const top = [h("th", { scope: "col", rowspan: 2, class: "key" }, t(data.group_by === "provider" ? "sup.provider" : "sup.street"))];
    const sub = [];
    cols.forEach((c, i) => {
      const title = t(`sup.def.${c.k}`);
      if (!c.g) { top.push(h("th", { scope: "col", rowspan: 2, title }, t(`sup.col.${c.k}`))); return; }
      if (i === 0 || cols[i - 1].g !== c.g) {
        const span = cols.slice(i).findIndex((x) => x.g !== c.g);
        top.push(h("th", { scope: "colgroup", colspan: span < 0 ? cols.length - i : span, class: "grp" }, t(`sup.grp.${c.g}`)));
      }
      sub.push(h("th", { scope: "col", title, "aria-label": t(`sup.col.${c.k}`) }, t(`sup.short.${c.k}`)));
    });
    const head = [h("tr", {}, top), h("tr", {}, sub)];
    const line = (r, label) => h("tr", {}, h("th", { scope: "row", class: "key" }, label),
      cols.map((c) => { const x = cell(c, r, data.targets); return h("td", { class: x.cls, "data-k": c.k }, x.node); }));
    const rows = data.rows.map((r) => {
      const name = keyName(data.group_by, r);
      const label = data.group_by === "provider" && opts && opts.link && CD.screens.some((s) => s.id === "scorecard")
        ? h("a", { href: `#/scorecard?provider=${r.key}`, title: t("sup.open_scorecard", { name }) }, name) : name;
      return line(r, label);
    });
    return h("div", { class: "table-wrap sticky-first" },
      h("table", { class: "figures", "aria-label": opts && opts.label },
        h("thead", {}, ...head), h("tbody", {}, rows), h("tfoot", {}, line(data.totals, t("sup.total")))));
  }
  function legend() {
    return h("p", { class: "legend" }, h("span", { class: "miss-key" }, t("sup.legend_miss")), h("span", {}, t("sup.legend_null")));
  }
  // An instant's date in the configured zone, YYYY-MM-DD (as the API writes dates).
  const ymd = new Intl.DateTimeFormat("en-CA", { timeZone: CD.zone, year: "numeric", month: "2-digit", day: "2-digit" });
  function localDate(iso) { return iso ? ymd.format(new Date(iso)) : ""; }
  // A list table that becomes one card per row on a phone (each cell labelled by its column).
  function stackTable(headers, rows, label) {
    return h("div", { class: "table-wrap" }, h("table", { class: "stack", "aria-label": label },
      h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, rows.map((r) => h("tr", r.attrs || {}, r.cells.map((c, i) => h("td", { "data-label": headers[i] }, c)))))));
  }
  function areaText(area) { return area ? t("sup.area", { area }) : t("sup.area_all"); }

  // The five colours (五色) of the contact rhythm: red daily … green half-yearly.
  const FIVE = ["daily", "weekly", "monthly", "quarterly", "half_yearly"];
  function colourChip(freq) {
    return h("span", { class: `fc fc-${freq}` }, t(`fc.${freq}`));
  }

  return { state, COLS, localDate, stackTable, period, monthPicker, periodText, cell, keyName, figuresTable, legend, areaText, FIVE, colourChip, pct, int, fixed };
})();

CD.i18n.add({
  zh: {
    "fc.daily": "红 · 每日", "fc.weekly": "橙 · 每周", "fc.monthly": "黄 · 每月", "fc.quarterly": "蓝 · 每季度", "fc.half_yearly": "绿 · 每半年",
  },
  en: {
    "fc.daily": "Red · daily", "fc.weekly": "Orange · weekly", "fc.monthly": "Yellow · monthly", "fc.quarterly": "Blue · quarterly", "fc.half_yearly": "Green · half-yearly",
  },
});

(function () {
  const h = CD.h;
  const t = CD.t;
  const sup = CD.sup;
  let chart = null;
  // The figures one may chart (rates in per cent).
  const CHARTABLE = ["visits_done", "elders_served", "on_time_rate", "abnormal_rate", "billed_hours", "billed_amount", "satisfaction",
    "certified_per_10k", "senior_share", "first_aid_share", "contact_compliance"];
  let charted = "visits_done";

  function drawChart(box, data) {
    const col = sup.COLS.find((c) => c.k === charted);
    const scale = col.rate ? 100 : 1;
    const value = (r) => (r[charted] === null || r[charted] === undefined ? null : Math.round(Number(r[charted]) * scale * 10) / 10);
    const figure = t(`sup.col.${charted}`) + (col.rate ? " (%)" : "");
    const group = t(data.group_by === "provider" ? "sup.provider" : "sup.street");
    const canvas = h("canvas", { role: "img", "aria-label": t("sup.chart_label", { figure, group }) });
    box.replaceChildren(canvas);
    if (chart) chart.destroy();
    const labels = data.rows.map((r) => sup.keyName(data.group_by, r));
    const datasets = [{ type: "bar", label: figure, data: data.rows.map(value), backgroundColor: data.rows.map((r) => (col.target && r[`${col.target}_met`] === false ? "#d9534f" : "#1456b8")) }];
    if (charted === "visits_done") {
      datasets.unshift({ type: "bar", label: t("sup.col.visits_planned"), data: data.rows.map((r) => r.visits_planned), backgroundColor: "#a9c1e8" });
    }
    if (col.target) {
      const target = Number(data.targets[col.target]) * scale;
      datasets.push({ type: "line", label: `${t("sup.target_line")} ${target}${col.rate ? " %" : ""}`, data: labels.map(() => target), borderColor: "#b3261e", borderDash: [6, 4], pointRadius: 0, fill: false });
    }
    chart = new Chart(canvas, {
      data: { labels, datasets },
      options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true } }, plugins: { legend: { position: "bottom" } } },
    });
  }

  async function render(panel) {
    const head = h("p", { class: "sup-head" });
    const tableBox = h("div", {});
    const chartBox = h("div", { class: "chart-box sup-chart" });
    const select = h("select", { onchange: (ev) => { charted = ev.target.value; if (last) drawChart(chartBox, last); } },
      CHARTABLE.map((k) => h("option", { value: k, selected: k === charted }, t(`sup.col.${k}`))));
    let last = null;
    const seg = h("span", { class: "seg", role: "group", "aria-label": t("sup.by") });
    const draw = async () => {
      const p = sup.period(sup.state.month);
      const q = `from=${p.from}&to=${p.to}&group_by=${sup.state.groupBy}`;
      const data = await CD.api.get(`/supervision/figures?${q}`);
      last = data;
      const group = t(data.group_by === "provider" ? "sup.provider" : "sup.street");
      head.replaceChildren(h("strong", {}, sup.areaText(data.area)), " · ", sup.periodText(p));
      tableBox.replaceChildren(sup.figuresTable(data, { label: t("sup.figures_table", { group }), link: true }), sup.legend());
      drawChart(chartBox, data);
      seg.replaceChildren(...["street", "provider"].map((g) => h("button", { type: "button", class: "secondary", "aria-pressed": String(g === sup.state.groupBy),
        onclick: () => { sup.state.groupBy = g; redraw(); } }, t(`sup.by_${g}`))));
    };
    const redraw = () => { panel.removeAttribute("data-drawn"); draw().then(() => { panel.dataset.drawn = "1"; }).catch(CD.fail); };
    const xlsx = () => {
      const p = sup.period(sup.state.month);
      return CD.download(`/supervision/figures?from=${p.from}&to=${p.to}&group_by=${sup.state.groupBy}&format=xlsx`,
        `figures-${sup.state.groupBy}-${p.from}-${p.to}.xlsx`).catch(CD.fail);
    };
    panel.append(
      h("div", { class: "toolbar" }, sup.monthPicker(redraw), CD.field(t("sup.by"), seg),
        h("button", { type: "button", class: "secondary", onclick: xlsx }, t("sup.xlsx"))),
      head, tableBox, h("div", { class: "toolbar" }, CD.field(t("sup.chart_of"), select)), chartBox);
    await draw();
    panel.dataset.drawn = "1";
  }

  CD.screen({ id: "figures", roles: ["supervisor"], landing: ["supervisor"], label: "tab.figures", render });
})();
