// A provider's scorecard (机构评分卡): its figures for a month or a year beside the median of the
// area's providers and the staffing targets; XLSX for the bureau's files.
"use strict";

CD.i18n.add({
  zh: {
    "tab.scorecard": "机构评分卡", "sc.period": "期间", "sc.month": "按月", "sc.year": "全年", "sc.figure": "指标",
    "sc.provider": "本机构", "sc.median": "区域机构中位数", "sc.target": "目标", "sc.compare": "与中位数相比",
    "sc.better": "优于中位数", "sc.worse": "差于中位数", "sc.same": "与中位数持平", "sc.higher": "高于中位数", "sc.lower": "低于中位数",
    "sc.compared": "与本区域 {n} 家服务机构比较", "sc.title": "{name}（{code}）", "sc.no_provider": "请选择服务机构。",
    "sc.year_to_date": "（本年截至今天）", "sc.table": "{name} 评分卡",
    "sup.col.callbacks_answered": "已回访工单", "sup.col.callbacks_denied": "回访称服务未发生", "sup.col.certified": "持证护理员",
    "sup.def.callbacks_answered": "本期工单中已完成回访的单数", "sup.def.callbacks_denied": "回访中老人称服务没有发生的单数（已阻止结算）",
    "sup.def.certified": "持养老护理员证的护理员人数",
  },
  en: {
    "tab.scorecard": "Provider scorecards", "sc.period": "Period", "sc.month": "Month", "sc.year": "Whole year", "sc.figure": "Figure",
    "sc.provider": "This provider", "sc.median": "Median of the area's providers", "sc.target": "Target", "sc.compare": "Against the median",
    "sc.better": "better than the median", "sc.worse": "worse than the median", "sc.same": "same as the median", "sc.higher": "above the median", "sc.lower": "below the median",
    "sc.compared": "Compared with the area's {n} providers", "sc.title": "{name} ({code})", "sc.no_provider": "Choose a provider.",
    "sc.year_to_date": " (this year until today)", "sc.table": "Scorecard of {name}",
    "sup.col.callbacks_answered": "Orders called back", "sup.col.callbacks_denied": "Call-backs: service did not take place", "sup.col.certified": "Certified caregivers",
    "sup.def.callbacks_answered": "Orders of the period whose call-back was answered", "sup.def.callbacks_denied": "Call-backs where the elder said the service did not take place (payment blocked)",
    "sup.def.certified": "Caregivers holding the care certificate (养老护理员证)",
  },
});

(function () {
  const h = CD.h;
  const t = CD.t;
  const sup = CD.sup;
  let span = "month";
  // +1: more is better, -1: less is better, 0: a size, neither better nor worse.
  const SENSE = {
    on_time_rate: 1, satisfaction: 1, certified_per_10k: 1, senior_share: 1, first_aid_share: 1, contact_compliance: 1,
    missed: -1, abnormal_rate: -1, complaints_open: -1, call_to_arrival_p50_min: -1, callbacks_denied: -1,
  };
  const EXTRA = [
    { k: "callbacks_answered", fmt: sup.int }, { k: "callbacks_denied", fmt: sup.int }, { k: "certified", fmt: sup.int },
  ];

  function yearPeriod(month) {
    const y = month.slice(0, 4);
    const today = CD.today();
    const to = `${y}-12-31`;
    const end = to > today && `${y}-01-01` <= today ? today : to;
    return { from: `${y}-01-01`, to: end, partial: end !== to };
  }

  function compare(col, mine, median) {
    if (mine === null || mine === undefined || median === null || median === undefined) return "";
    const a = Number(mine);
    const b = Number(median);
    const sense = SENSE[col.k] || 0;
    if (Math.abs(a - b) < 1e-9) return h("span", { class: "muted" }, t("sc.same"));
    if (!sense) return h("span", { class: "muted" }, t(a > b ? "sc.higher" : "sc.lower"));
    const better = (a > b) === (sense > 0);
    return h("span", { class: better ? "better" : "worse" }, `${better ? "↑" : "↓"} ${t(better ? "sc.better" : "sc.worse")}`);
  }

  async function render(panel, ctx) {
    if (!ctx.providerId) { panel.append(h("p", { class: "muted" }, t("sc.no_provider"))); panel.dataset.drawn = "1"; return; }
    const head = h("div", { class: "sup-head" });
    const box = h("div", {});
    const periodNow = () => (span === "year" ? yearPeriod(sup.state.month) : sup.period(sup.state.month));
    const draw = async () => {
      panel.removeAttribute("data-drawn");
      const p = periodNow();
      const data = await CD.api.get(`/supervision/providers/${ctx.providerId}/scorecard?from=${p.from}&to=${p.to}`);
      const fig = data.figures;
      const cols = [...sup.COLS.slice(0, 9), ...EXTRA.slice(0, 2), ...sup.COLS.slice(9, 13), EXTRA[2], ...sup.COLS.slice(13)];
      const medianRow = { ...data.area_median };
      const rows = cols.map((c) => {
        const mine = sup.cell(c, fig, data.targets);
        const med = sup.cell({ ...c, target: null }, medianRow, data.targets);
        const target = c.target ? (c.rate ? `≥ ${sup.pct(data.targets[c.target])}` : `≥ ${sup.int(data.targets[c.target])}`) : "";
        return h("tr", {},
          h("th", { scope: "row", class: "key", title: t(`sup.def.${c.k}`) }, t(`sup.col.${c.k}`).replace(/（目标.*|\(target.*/, "").trim()),
          h("td", { class: mine.cls }, mine.node), h("td", {}, med.node), h("td", {}, target), h("td", { class: "cmp" }, compare(c, fig[c.k], medianRow[c.k])));
      });
      const partial = span === "year" ? (p.partial ? t("sc.year_to_date") : "") : (p.partial ? t("sup.month_to_date") : "");
      head.replaceChildren(
        h("h2", {}, t("sc.title", { name: data.provider.name, code: data.provider.code })),
        h("p", {}, `${t("sup.period", { from: p.from, to: p.to })}${partial} · ${t("sc.compared", { n: data.providers_compared })}`));
      box.replaceChildren(h("div", { class: "table-wrap narrow-table wide" }, h("table", { class: "figures scorecard", "aria-label": t("sc.table", { name: data.provider.name }) },
        h("thead", {}, h("tr", {}, [t("sc.figure"), t("sc.provider"), t("sc.median"), t("sc.target"), t("sc.compare")].map((x, i) => h("th", { scope: "col", class: i ? null : "key" }, x)))),
        h("tbody", {}, rows))), sup.legend());
      panel.dataset.drawn = "1";
    };
    const seg = h("span", { class: "seg", role: "group", "aria-label": t("sc.period") });
    const segDraw = () => seg.replaceChildren(...["month", "year"].map((s) => h("button", { type: "button", class: "secondary", "aria-pressed": String(s === span),
      onclick: () => { span = s; segDraw(); draw().catch(CD.fail); } }, t(`sc.${s}`))));
    segDraw();
    const xlsx = () => {
      const p = periodNow();
      return CD.download(`/supervision/providers/${ctx.providerId}/scorecard?from=${p.from}&to=${p.to}&format=xlsx`, `scorecard-${ctx.providerId}-${p.from}-${p.to}.xlsx`).catch(CD.fail);
    };
    panel.append(h("div", { class: "toolbar" }, sup.monthPicker(() => draw().catch(CD.fail)), CD.field(t("sc.period"), seg),
      h("button", { type: "button", class: "secondary", onclick: xlsx }, t("sup.xlsx"))), head, box);
    await draw();
  }

  CD.screen({ id: "scorecard", roles: ["supervisor"], label: "tab.scorecard", render, perProvider: true });
})();
