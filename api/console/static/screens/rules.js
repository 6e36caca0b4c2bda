// Admin: the validation rules' thresholds, severities and switches.
"use strict";

CD.i18n.add({
  zh: { "tab.rules": "校验规则", rule_col: "规则", threshold_col: "阈值", default_col: "默认", severity_col: "级别", enabled_col: "启用", rule_saved: "规则 {code} 已保存。" },
  en: { "tab.rules": "Rules", rule_col: "Rule", threshold_col: "Threshold", default_col: "Default", severity_col: "Severity", enabled_col: "On", rule_saved: "Rule {code} saved." },
});

(function () {
  const h = CD.h;
  const t = CD.t;

  async function render(panel, ctx) {
    const rules = await CD.api.get("/rules");
    const admin = ctx.user.role === "admin";
    panel.append(CD.table([t("rule_col"), t("threshold_col"), t("default_col"), t("severity_col"), t("enabled_col"), t("actions")], rules.map((r) => {
      const name = CD.code("rule", r.code);
      const thr = r.threshold === null ? null : h("input", { type: "number", step: "any", min: r.threshold_min ?? undefined, max: r.threshold_max ?? undefined, value: r.threshold, "aria-label": `${name} ${t("threshold_col")}`, disabled: !admin });
      const sev = h("select", { "aria-label": `${name} ${t("severity_col")}`, disabled: !admin }, ["block", "review", "info"].map((s) => h("option", { value: s, selected: s === r.severity }, CD.code("severity", s))));
      const on = h("input", { type: "checkbox", checked: r.enabled, "aria-label": `${name} ${t("enabled_col")}`, disabled: !admin });
      const save = admin ? h("button", { type: "button", class: "secondary", "aria-label": `${t("save")} ${name}`, onclick: async () => {
        try {
          await CD.api.patch(`/rules/${r.code}`, { ...(thr ? { threshold: Number(thr.value) } : {}), severity: sev.value, enabled: on.checked });
          CD.status(t("rule_saved", { code: name }), "ok");
        } catch (err) { CD.fail(err); }
      } }, t("save")) : "";
      return [h("span", {}, h("strong", {}, name), h("br"), h("span", { class: "small muted" }, `${r.code} · ${CD.lang === "zh" ? r.description_zh : r.description}`)),
        thr ? h("span", { class: "row" }, thr, r.unit || "") : "—", r.default_threshold ?? "—", sev, on, save];
    }), { label: t("tab.rules") }));
    panel.dataset.drawn = "1";
  }

  CD.screen({ id: "rules", roles: ["admin", "finance"], label: "tab.rules", render });
})();
