// Call-backs (回访): the bureau draws a seeded sample of a period's work orders per provider, calls
// the elders and records what they said; "did not take place" blocks the order's payment.
"use strict";

CD.i18n.add({
  zh: {
    "tab.callbacks": "回访", "cb.pending": "待回访", "cb.answered": "已回访", "cb.denied": "服务未发生", "cb.show": "显示",
    "cb.order": "工单", "cb.served": "服务时间", "cb.phone": "电话", "cb.outcome": "回访结果", "cb.answer": "记录回访结果",
    "cb.answer_of": "回访 {name}（工单 #{order}）", "cb.reached": "是否联系上老人", "cb.reached_yes": "联系上了", "cb.reached_no": "未联系上",
    "cb.took_place": "服务是否实际发生", "tp.yes": "发生了", "tp.no": "没有发生", "tp.unsure": "说不清",
    "cb.satisfaction": "满意度", "cb.stars": "{n} 分", "cb.no_rating": "未评分", "cb.note": "备注（老人原话等）",
    "cb.no_warning": "选择“没有发生”将对该工单开出“回访否认”阻断标记：财务须写明理由豁免后才能通过结算。",
    "cb.not_reached_hint": "未联系上时，“服务是否发生”记为“说不清”，不评分。",
    "cb.saved": "已记录工单 #{order} 的回访结果。", "cb.saved_denied": "已记录：工单 #{order} 服务未发生，已阻止结算，等待财务复核。",
    "cb.sample": "抽取回访样本", "cb.sample_from": "服务开始日期", "cb.sample_to": "服务结束日期", "cb.how": "抽样方式",
    "cb.by_share": "按比例（%）", "cb.by_count": "每家机构固定单数", "cb.amount": "比例（%）或单数", "cb.seed": "随机种子（相同种子可重现同一样本）",
    "cb.sampled": "已抽取 {n} 单新的回访（{detail}）。", "cb.sampled_none": "没有新的工单可抽取：该期间未审核的工单都已在回访队列中。",
    "cb.sample_help": "从该期间财务尚未审核的工单中，按服务机构分层随机抽取。",
    "cb.not_reached": "未联系上", "cb.blocks": "已阻止结算", "cb.answered_at": "回访于 {when}", "cb.count": "共 {n} 单",
    "cb.all_providers": "全部机构", "cb.record": "记录结果", "cb.overridden": "财务已豁免",
    "cb.empty_pending": "没有待回访的工单。点击“抽取回访样本”，从一段期间的工单中按机构随机抽取。",
    "cb.empty_answered": "还没有已回访的工单。", "cb.empty_denied": "没有老人称服务未发生的回访。",
  },
  en: {
    "tab.callbacks": "Call-backs", "cb.pending": "To call", "cb.answered": "Answered", "cb.denied": "Did not take place", "cb.show": "Show",
    "cb.order": "Order", "cb.served": "Service time", "cb.phone": "Phone", "cb.outcome": "Outcome", "cb.answer": "Record the answer",
    "cb.answer_of": "Call-back to {name} (order #{order})", "cb.reached": "Was the elder reached?", "cb.reached_yes": "Reached", "cb.reached_no": "Not reached",
    "cb.took_place": "Did the service take place?", "tp.yes": "Yes", "tp.no": "No", "tp.unsure": "Unsure",
    "cb.satisfaction": "Satisfaction", "cb.stars": "{n} of 5", "cb.no_rating": "no rating", "cb.note": "Note (what the elder said)",
    "cb.no_warning": "\"No\" opens a call-back denial flag that blocks the order: finance cannot pay it without overriding with a written reason.",
    "cb.not_reached_hint": "When the elder was not reached, the answer is \"unsure\" and there is no rating.",
    "cb.saved": "Call-back of order #{order} recorded.", "cb.saved_denied": "Recorded: order #{order} did not take place; its payment is blocked until finance reviews it.",
    "cb.sample": "Draw a call-back sample", "cb.sample_from": "Services from", "cb.sample_to": "Services to", "cb.how": "Sample by",
    "cb.by_share": "Share of orders (%)", "cb.by_count": "Orders per provider", "cb.amount": "Share (%) or orders", "cb.seed": "Random seed (the same seed draws the same sample)",
    "cb.sampled": "{n} new call-backs drawn ({detail}).", "cb.sampled_none": "Nothing new to draw: every undecided order of the period is already in the queue.",
    "cb.sample_help": "A random sample of the period's orders finance has not decided yet, drawn per provider.",
    "cb.not_reached": "Not reached", "cb.blocks": "Payment blocked", "cb.answered_at": "called {when}", "cb.count": "{n} in all",
    "cb.all_providers": "All providers", "cb.record": "Record answer", "cb.overridden": "Overridden by finance",
    "cb.empty_pending": "No call-back waiting. \"Draw a call-back sample\" picks orders of a period at random, per provider.",
    "cb.empty_answered": "No call-back answered yet.", "cb.empty_denied": "No elder said a service did not take place.",
  },
});

(function () {
  const h = CD.h;
  const t = CD.t;
  const sup = CD.sup;
  const view = { status: "pending", provider: "" };

  function outcome(cb, order) {
    if (cb.status === "pending") return CD.pill(t("cb.pending"), "review");
    if (!cb.reached) return CD.pill(t("cb.not_reached"), "info");
    const parts = [CD.pill(t(`tp.${cb.took_place}`), cb.took_place === "no" ? "block" : cb.took_place === "yes" ? "completed" : "info")];
    if (cb.took_place === "no") {
      // What the denial did to the payment: blocked while its flag is open, else finance's call.
      const flag = (order.flags || []).find((f) => f.code === "CALLBACK_DENIED");
      if (flag && flag.status === "open") parts.push(CD.pill(t("cb.blocks"), "block"));
      else if (flag && flag.status === "overridden") parts.push(CD.pill(t("cb.overridden"), "review"));
      else if (order.status === "rejected") parts.push(CD.pill(CD.code("wostatus", "rejected"), "rejected"));
    }
    parts.push(h("span", { class: "small" }, cb.satisfaction ? t("cb.stars", { n: cb.satisfaction }) : t("cb.no_rating")));
    if (cb.note) parts.push(h("div", { class: "small muted" }, cb.note));
    if (cb.answered_at) parts.push(h("div", { class: "small muted" }, t("cb.answered_at", { when: CD.dateTime(cb.answered_at) })));
    return h("span", {}, parts);
  }

  async function answer(item, after) {
    const cb = item.callback;
    const took = h("select", { name: "took_place", required: true },
      ["yes", "no", "unsure"].map((v) => h("option", { value: v, selected: v === "yes" }, t(`tp.${v}`))));
    const stars = h("select", { name: "satisfaction" }, h("option", { value: "" }, t("cb.no_rating")),
      [5, 4, 3, 2, 1].map((n) => h("option", { value: n }, t("cb.stars", { n }))));
    const warn = h("p", { class: "banner bad", hidden: true }, t("cb.no_warning"));
    const hint = h("p", { class: "muted small", hidden: true }, t("cb.not_reached_hint"));
    const reached = (v) => h("label", { class: "field inline" }, h("input", { type: "radio", name: "reached", value: v, checked: v === "yes", required: true,
      onchange: () => { const no = v === "no"; took.disabled = no; stars.disabled = no; hint.hidden = !no; if (no) { took.value = "unsure"; stars.value = ""; } warn.hidden = no || took.value !== "no"; } }),
    " ", t(v === "yes" ? "cb.reached_yes" : "cb.reached_no"));
    took.addEventListener("change", () => { warn.hidden = took.value !== "no"; });
    const v = await CD.dialog(t("cb.answer_of", { name: item.client.name, order: cb.work_order_id }), [
      h("p", {}, `${item.client.name} · ${item.client.phone || "—"} · ${CD.dateTime(item.work_order.start_at)}–${CD.time(item.work_order.end_at)}`),
      h("fieldset", { class: "row" }, h("legend", {}, t("cb.reached")), reached("yes"), reached("no")), hint,
      CD.field(t("cb.took_place"), took), warn,
      CD.field(t("cb.satisfaction"), stars),
      CD.field(t("cb.note"), h("textarea", { name: "note", rows: 3, maxlength: 2000 })),
    ], { ok: t("save") });
    if (!v) return;
    const isReached = v.reached === "yes";
    const body = { reached: isReached, took_place: isReached ? v.took_place : "unsure", satisfaction: isReached && v.satisfaction ? Number(v.satisfaction) : null, note: (v.note || "").trim() || null };
    await CD.api.post(`/callbacks/${cb.id}`, body);
    CD.status(t(body.took_place === "no" ? "cb.saved_denied" : "cb.saved", { order: cb.work_order_id }), "ok");
    await after();
  }

  async function drawSample(names, after) {
    const p = sup.period(sup.state.month || CD.today().slice(0, 7));
    const seed = Number(p.from.replace(/-/g, ""));
    const v = await CD.dialog(t("cb.sample"), [
      h("p", { class: "muted small" }, t("cb.sample_help")),
      CD.field(t("cb.sample_from"), h("input", { type: "date", name: "from", value: p.from, required: true })),
      CD.field(t("cb.sample_to"), h("input", { type: "date", name: "to", value: p.to, required: true })),
      CD.field(t("cb.how"), h("select", { name: "how" }, h("option", { value: "share" }, t("cb.by_share")), h("option", { value: "count" }, t("cb.by_count")))),
      CD.field(t("cb.amount"), h("input", { type: "number", name: "amount", value: 5, min: 1, max: 100000, step: 1, required: true })),
      CD.field(t("cb.seed"), h("input", { type: "number", name: "seed", value: seed, step: 1, required: true })),
    ], { ok: t("cb.sample") });
    if (!v) return;
    const body = { from: v.from, to: v.to, seed: Number(v.seed) };
    if (v.how === "share") body.share = Math.min(1, Number(v.amount) / 100);
    else body.count = Number(v.amount);
    const r = await CD.api.post("/callbacks:sample", body);
    const detail = (r.by_provider || []).map((s) => `${names[s.provider_id] || `#${s.provider_id}`} ${s.created}`).join("，");
    CD.status(r.created ? t("cb.sampled", { n: r.created, detail }) : t("cb.sampled_none"), "ok");
    view.status = "pending";
    await after();
  }

  async function render(panel, ctx) {
    const caller = ["supervisor", "admin"].includes(ctx.user.role);
    const [providers, services] = await Promise.all([CD.providers(), CD.api.all("/service-types").catch(() => [])]);
    const names = Object.fromEntries(providers.map((p) => [p.id, p.name]));
    const serviceName = Object.fromEntries(services.map((s) => [s.id, CD.lang === "en" && s.name_en ? s.name_en : s.name]));
    const box = h("div", {});
    const seg = h("span", { class: "seg", role: "group", "aria-label": t("cb.show") });
    const count = h("span", { class: "muted small" });
    const provSel = h("select", { onchange: (ev) => { view.provider = ev.target.value; draw().catch(CD.fail); } },
      h("option", { value: "" }, t("cb.all_providers")), providers.map((p) => h("option", { value: p.id, selected: String(p.id) === view.provider }, p.name)));
    const draw = async () => {
      panel.removeAttribute("data-drawn");
      seg.replaceChildren(...["pending", "answered", "denied"].map((s) => h("button", { type: "button", class: "secondary", "aria-pressed": String(s === view.status),
        onclick: () => { view.status = s; draw().catch(CD.fail); } }, t(`cb.${s}`))));
      const q = new URLSearchParams(view.status === "denied" ? { status: "answered", took_place: "no" } : { status: view.status });
      if (view.provider) q.set("provider_id", view.provider);
      const items = await CD.api.all(`/callbacks?${q}`, 2000);
      if (view.status !== "pending") items.reverse();
      count.textContent = t("cb.count", { n: items.length });
      if (!items.length) { box.replaceChildren(h("p", { class: "muted" }, t(`cb.empty_${view.status}`))); panel.dataset.drawn = "1"; return; }
      box.replaceChildren(sup.stackTable(
        [t("cb.order"), t("client"), t("cb.phone"), t("ct.street"), t("provider"), t("service"), t("cb.served"), t("cb.outcome"), caller && view.status === "pending" ? t("actions") : null].filter(Boolean),
        items.map((it) => ({ attrs: { "data-callback": it.callback.id }, cells: [
          `#${it.work_order.id}`,
          h("span", {}, h("strong", {}, it.client.name), h("div", { class: "small muted" }, it.client.code)),
          it.client.phone ? h("a", { href: `tel:${it.client.phone}`, class: "nowrap" }, it.client.phone) : "—",
          h("span", { class: "nowrap" }, it.client.street || t("sup.no_street")),
          names[it.work_order.provider_id] || `#${it.work_order.provider_id}`,
          serviceName[it.work_order.service_type_id] || "—",
          h("span", {}, h("span", { class: "nowrap" }, CD.day(it.work_order.start_at)), " ", h("span", { class: "nowrap" }, `${CD.time(it.work_order.start_at)}–${CD.time(it.work_order.end_at)}`)),
          outcome(it.callback, it.work_order),
          caller && view.status === "pending" ? h("button", { type: "button", class: "nowrap", "aria-label": `${t("cb.answer")} #${it.work_order.id}`,
            onclick: () => answer(it, draw).catch(CD.fail) }, t("cb.record")) : null,
        ].filter((c) => c !== null) })), t("tab.callbacks")));
      panel.dataset.drawn = "1";
    };
    panel.append(h("div", { class: "toolbar" }, seg, CD.field(t("provider"), provSel),
      caller ? h("button", { type: "button", class: "secondary", onclick: () => drawSample(names, draw).catch(CD.fail) }, t("cb.sample")) : null, count), box);
    await draw();
  }

  CD.screen({ id: "callbacks", roles: ["supervisor"], label: "tab.callbacks", render });
})();
