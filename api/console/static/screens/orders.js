// Work orders: a provider admin's own orders with their flags, and an appeal from any flagged one.
"use strict";

CD.i18n.add({
  zh: {
    "tab.orders": "服务工单", appeal: "申诉", appeal_title: "对工单 #{id} 提出申诉", appeal_sent: "已提交申诉 #{id}。", evidence_file: "证据照片（可选，JPEG/PNG）",
    only_flagged: "只看有异常的", flags_col: "异常", minutes_col: "时长",
  },
  en: {
    "tab.orders": "Work orders", appeal: "Appeal", appeal_title: "Appeal order #{id}", appeal_sent: "Appeal #{id} submitted.", evidence_file: "Evidence photo (optional, JPEG/PNG)",
    only_flagged: "Flagged only", flags_col: "Flags", minutes_col: "Minutes",
  },
});

(function () {
  const h = CD.h;
  const t = CD.t;

  async function appeal(o, reload) {
    const file = h("input", { type: "file", name: "file", accept: "image/jpeg,image/png" });
    const v = await CD.dialog(t("appeal_title", { id: o.id }), [
      h("p", { class: "small" }, o.flags.filter((f) => f.status === "open").map((f) => `${CD.code("rule", f.code)}：${CD.evidence(f.code, f.evidence)}`).join("；")),
      CD.field(t("appeal_reason"), h("textarea", { name: "reason", required: true, rows: 3, maxlength: 2000 })),
      CD.field(t("evidence_file"), file),
    ]);
    if (!v) return;
    let photo = null;
    if (file.files.length) {
      const form = new FormData();
      form.append("file", file.files[0]);
      photo = (await CD.api.upload("/appeals/evidence", form)).photo_id;
    }
    const a = await CD.api.post(`/work-orders/${o.id}/appeals`, { reason: v.reason, evidence_photo_id: photo });
    CD.status(t("appeal_sent", { id: a.id }), "ok");
    await reload();
  }

  async function render(panel, ctx) {
    const flagged = h("input", { type: "checkbox" });
    const from = h("input", { type: "date", value: CD.addDays(CD.today(), -30), "aria-label": t("from") });
    const to = h("input", { type: "date", value: CD.today(), "aria-label": t("to") });
    const box = h("div", {});
    const staff = ctx.user.provider_id ? await Promise.all([CD.api.all("/caregivers"), CD.api.all("/clients")]) : [[], []];
    const cgName = Object.fromEntries(staff[0].map((c) => [c.id, c.name]));
    const clName = Object.fromEntries(staff[1].map((c) => [c.id, c.name]));
    const draw = async () => {
      const rows = await CD.api.all(`/work-orders?from=${from.value}&to=${to.value}${flagged.checked ? "&status=flagged" : ""}`, 1000);
      box.replaceChildren(CD.table(["#", t("period_of"), t("client"), t("caregiver"), t("minutes_col"), t("status"), t("flags_col"), t("appeal_state"), t("actions")],
        rows.map((o) => [`#${o.id}`, `${CD.day(o.start_at)} ${CD.time(o.start_at)}–${CD.time(o.end_at)}`, clName[o.client_id] || `#${o.client_id}`, cgName[o.caregiver_id] || `#${o.caregiver_id}`,
          o.billable_min, CD.pill(CD.code("wostatus", o.status), o.status),
          o.flags.filter((f) => f.status === "open").map((f) => CD.pill(CD.code("rule", f.code), f.severity)), CD.code("appeal", o.appeal_state),
          ctx.user.role === "provider_admin" && ["flagged", "rejected"].includes(o.status) && o.appeal_state === "none"
            ? h("button", { type: "button", class: "secondary", "aria-label": `${t("appeal")} #${o.id}`, onclick: () => appeal(o, draw).catch(CD.fail) }, t("appeal")) : ""]), { label: t("tab.orders") }));
    };
    [flagged, from, to].forEach((el) => el.addEventListener("change", () => draw().catch(CD.fail)));
    panel.append(h("div", { class: "toolbar" }, h("label", { class: "row" }, flagged, t("only_flagged")), CD.field(t("from"), from), CD.field(t("to"), to)), box);
    await draw();
    panel.dataset.drawn = "1";
  }

  CD.screen({ id: "orders", roles: ["provider_admin", "dispatcher"], landing: ["provider_admin"], label: "tab.orders", render });
})();
