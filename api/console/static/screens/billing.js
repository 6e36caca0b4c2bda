// Billing batches: create one per provider and period, review its figures, close, export.
"use strict";

CD.i18n.add({
  zh: {
    "tab.billing": "结算批次", new_batch: "新建结算批次", batch_orders: "工单数", batch_hours: "工时", batch_amount: "金额（元）",
    "bstatus.open": "未关闭", "bstatus.closed": "已关闭", close_batch: "关闭批次", export_csv: "导出 CSV", export_xlsx: "导出 Excel",
    delete_batch: "删除", batch_created: "已创建批次 #{id}：{n} 单，{a} 元。", batch_closed: "批次 #{id} 已关闭，不能再修改。",
    close_confirm: "关闭后批次不可更改。确认关闭批次 #{id}？", period_start: "开始日期", period_end: "结束日期", batch_review: "查看工单",
  },
  en: {
    "tab.billing": "Billing", new_batch: "New billing batch", batch_orders: "Orders", batch_hours: "Hours", batch_amount: "Amount (CNY)",
    "bstatus.open": "Open", "bstatus.closed": "Closed", close_batch: "Close", export_csv: "Export CSV", export_xlsx: "Export Excel",
    delete_batch: "Delete", batch_created: "Batch #{id} created: {n} orders, CNY {a}.", batch_closed: "Batch #{id} closed; it can no longer change.",
    close_confirm: "A closed batch cannot change. Close batch #{id}?", period_start: "First day", period_end: "Last day", batch_review: "Review orders",
  },
});

(function () {
  const h = CD.h;
  const t = CD.t;

  async function render(panel, ctx) {
    const finance = ctx.user.role === "finance";
    const providers = await CD.providers();
    const names = Object.fromEntries(providers.map((p) => [p.id, p.name]));
    const box = h("div", {});
    const draw = async () => {
      const rows = await CD.api.all("/billing-batches", 1000);
      box.replaceChildren(CD.table(["#", t("provider"), t("period"), t("batch_orders"), t("batch_hours"), t("batch_amount"), t("status"), t("actions")],
        rows.map((b) => [`#${b.id}`, names[b.provider_id] || b.provider_id, `${b.period_start} – ${b.period_end}`, b.orders, Math.round(b.minutes / 6) / 10, b.amount,
          CD.pill(CD.code("bstatus", b.status), b.status === "closed" ? "closed" : "review"),
          h("span", { class: "row" },
            h("button", { type: "button", class: "secondary", "aria-label": `${t("batch_review")} #${b.id}`, onclick: () => review(b).catch(CD.fail) }, t("batch_review")),
            h("button", { type: "button", class: "secondary", onclick: () => CD.download(`/billing-batches/${b.id}/export?format=csv`, `batch-${b.id}.csv`).catch(CD.fail) }, t("export_csv")),
            h("button", { type: "button", class: "secondary", onclick: () => CD.download(`/billing-batches/${b.id}/export?format=xlsx`, `batch-${b.id}.xlsx`).catch(CD.fail) }, t("export_xlsx")),
            finance && b.status !== "closed" ? h("button", { type: "button", onclick: () => close(b).catch(CD.fail) }, t("close_batch")) : null)]), { label: t("tab.billing") }));
    };
    const review = async (b) => {
      const orders = await CD.api.all(`/work-orders?billing_batch_id=${b.id}`, 5000);
      await CD.dialog(`${t("batch_review")} #${b.id} · ${names[b.provider_id] || ""} · ${b.period_start} – ${b.period_end}`, [
        h("p", {}, `${t("batch_orders")} ${b.orders} · ${t("batch_hours")} ${Math.round(b.minutes / 6) / 10} · ${t("batch_amount")} ${b.amount}`),
        h("div", { class: "dialog-scroll" }, CD.table(["#", t("period_of"), t("billable"), t("batch_amount")],
          orders.map((o) => [`#${o.id}`, `${CD.day(o.start_at)} ${CD.time(o.start_at)}–${CD.time(o.end_at)}`, o.billable_min, o.billing_amount || "—"]), { label: t("batch_review") })),
      ], { ok: t("close") });
    };
    const close = async (b) => {
      const ok = await CD.dialog(t("close_batch"), [h("p", {}, t("close_confirm", { id: b.id }))]);
      if (!ok) return;
      await CD.api.post(`/billing-batches/${b.id}/close`);
      CD.status(t("batch_closed", { id: b.id }), "ok");
      await draw();
    };
    const create = async () => {
      const first = `${CD.today().slice(0, 8)}01`;
      const v = await CD.dialog(t("new_batch"), [
        CD.field(t("provider"), h("select", { name: "provider", required: true }, providers.map((p) => h("option", { value: p.id }, p.name)))),
        CD.field(t("period_start"), h("input", { type: "date", name: "start", value: first, required: true })),
        CD.field(t("period_end"), h("input", { type: "date", name: "end", value: CD.today(), required: true })),
      ]);
      if (!v) return;
      const b = await CD.api.post("/billing-batches", { provider_id: Number(v.provider), period_start: v.start, period_end: v.end });
      CD.status(t("batch_created", { id: b.id, n: b.orders, a: b.amount }), "ok");
      await draw();
    };
    panel.append(h("div", { class: "toolbar" }, finance ? h("button", { type: "button", onclick: () => create().catch(CD.fail) }, t("new_batch")) : null), box);
    await draw();
    panel.dataset.drawn = "1";
  }

  CD.screen({ id: "billing", roles: ["finance", "provider_admin", "admin"], label: "tab.billing", render });
})();
