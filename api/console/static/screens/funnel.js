// The funnel per provider and period (the Yiwu figures' shape): chart and figures.
"use strict";

CD.i18n.add({
  zh: {
    "tab.funnel": "工单漏斗", "funnel.generated": "生成工单", "funnel.normal": "正常", "funnel.abnormal": "异常", "funnel.appealed": "申诉",
    "funnel.not_billed": "未结算", "funnel.billed": "已结算", "funnel.billed_hours": "结算工时", abnormal_rate: "异常率", funnel_chart: "各机构工单漏斗图",
    total: "合计",
  },
  en: {
    "tab.funnel": "Funnel", "funnel.generated": "Generated", "funnel.normal": "Normal", "funnel.abnormal": "Abnormal", "funnel.appealed": "Appealed",
    "funnel.not_billed": "Not billed", "funnel.billed": "Billed", "funnel.billed_hours": "Hours billed", abnormal_rate: "Abnormal rate", funnel_chart: "Work-order funnel per provider",
    total: "Total",
  },
});

(function () {
  const h = CD.h;
  const t = CD.t;
  const KEYS = ["generated", "normal", "abnormal", "appealed", "not_billed", "billed"];
  let chart = null;

  async function render(panel, ctx) {
    const from = h("input", { type: "date", value: CD.addDays(CD.today(), -30), "aria-label": t("from") });
    const to = h("input", { type: "date", value: CD.today(), "aria-label": t("to") });
    const canvasBox = h("div", { class: "chart-box" });
    const figures = h("div", {});
    const draw = async () => {
      const provider = ctx.user.provider_id ? "" : "";
      const data = await CD.api.get(`/reports/funnel?from=${from.value}&to=${to.value}${provider}`);
      const rows = [...(data.by_provider || []), { provider_name: t("total"), ...data }];
      figures.replaceChildren(CD.table([t("provider"), ...KEYS.map((k) => t(`funnel.${k}`)), t("funnel.billed_hours"), t("abnormal_rate")],
        rows.map((r) => [r.provider_name || r.provider_id, ...KEYS.map((k) => r[k]), Math.round(r.billed_hours * 10) / 10, r.generated ? `${(100 * r.abnormal / r.generated).toFixed(1)} %` : "—"]), { label: t("tab.funnel") }));
      const canvas = h("canvas", { role: "img", "aria-label": t("funnel_chart") });
      canvasBox.replaceChildren(canvas);
      if (chart) chart.destroy();
      chart = new Chart(canvas, {
        type: "bar",
        data: { labels: KEYS.map((k) => t(`funnel.${k}`)), datasets: (data.by_provider || []).map((p, i) => ({ label: p.provider_name || `#${p.provider_id}`, data: KEYS.map((k) => p[k]), backgroundColor: CD.COLORS[i % CD.COLORS.length] })) },
        options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true } } },
      });
    };
    panel.append(h("div", { class: "toolbar" }, CD.field(t("from"), from), CD.field(t("to"), to), h("button", { type: "button", onclick: () => draw().catch(CD.fail) }, t("refresh"))), canvasBox, figures);
    await draw();
    panel.dataset.drawn = "1";
  }

  CD.screen({ id: "funnel", roles: ["finance", "admin", "provider_admin"], label: "tab.funnel", render });
})();
