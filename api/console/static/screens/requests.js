// The provider's side of the families' requests: services ordered à la carte (点单) waiting for
// an answer — accept (a visit of that day) or decline with a reason — and open complaints with
// the visit they are about — answer them. The tab's count is what still waits (a watcher).
"use strict";

CD.i18n.add({
  zh: {
    "tab.requests": "点单与投诉", rq_orders: "待受理的点单", rq_complaints: "待答复的投诉",
    rq_orders_none: "没有待受理的点单。", rq_complaints_none: "没有待答复的投诉。",
    rq_count: "待处理 {n} 项：点单 {o}，投诉 {c}。",
    rq_when: "{day} {from}–{to}", rq_note: "留言：{note}", rq_no_note: "没有留言。", rq_by: "下单：{who}",
    "rq_by.family": "家属", "rq_by.dispatcher": "调度员", "rq_by.provider_admin": "机构管理员",
    rq_price: "价格 ¥{price}，老人自付 ¥{copay}", rq_left_min: "本月剩余额度 {min} 分钟", rq_left_yuan: "津贴余额 ¥{left}", rq_no_limit: "不限额度",
    "rq_fund.government": "政府购买", "rq_fund.ltc_insurance": "长护险", "rq_fund.allowance": "电子津贴", "rq_fund.self_paid": "自费",
    rq_accept: "受理", rq_decline: "婉拒", rq_accept_label: "受理点单 #{id}（{name}）", rq_decline_label: "婉拒点单 #{id}（{name}）",
    rq_accept_title: "受理 {name} 的{service}？", rq_accept_body: "将生成 {when} 的服务，与当天其他服务一起排班。", rq_accept_note: "给家属的留言（可选）",
    rq_decline_title: "婉拒 {name} 的{service}", rq_decline_reason: "原因（家属会看到，例如：当天助洁已约满）",
    rq_accepted: "已受理点单 #{id}，生成服务 #{v}。", rq_declined: "已婉拒点单 #{id}。",
    rq_filed: "{when} 提交", rq_about: "关于 {when} 的{service}（服务 #{id}，{status}）", rq_general: "一般投诉（未指明服务）",
    rq_answer: "答复", rq_answer_label: "答复投诉 #{id}（{name}）", rq_answer_title: "答复 {name} 家属的投诉",
    rq_answer_text: "答复内容（家属会看到）", rq_close_too: "答复后结束此投诉", rq_answered: "已答复投诉 #{id}。",
  },
  en: {
    "tab.requests": "Orders & complaints", rq_orders: "Orders waiting for an answer", rq_complaints: "Complaints waiting for an answer",
    rq_orders_none: "No order is waiting.", rq_complaints_none: "No complaint is waiting.",
    rq_count: "{n} waiting: {o} orders, {c} complaints.",
    rq_when: "{day} {from}–{to}", rq_note: "Note: {note}", rq_no_note: "No note.", rq_by: "Ordered by: {who}",
    "rq_by.family": "family member", "rq_by.dispatcher": "dispatcher", "rq_by.provider_admin": "provider admin",
    rq_price: "Price ¥{price}, the elder pays ¥{copay}", rq_left_min: "{min} min left this month", rq_left_yuan: "allowance left ¥{left}", rq_no_limit: "no monthly limit",
    "rq_fund.government": "Government-funded", "rq_fund.ltc_insurance": "LTC insurance", "rq_fund.allowance": "Care allowance", "rq_fund.self_paid": "Self-paid",
    rq_accept: "Accept", rq_decline: "Decline", rq_accept_label: "Accept order #{id} ({name})", rq_decline_label: "Decline order #{id} ({name})",
    rq_accept_title: "Accept {service} for {name}?", rq_accept_body: "It becomes a visit on {when}, planned with the day's others.", rq_accept_note: "A note for the family (optional)",
    rq_decline_title: "Decline {service} for {name}", rq_decline_reason: "Reason (the family sees it, e.g. no cleaner is free that day)",
    rq_accepted: "Order #{id} accepted: visit #{v}.", rq_declined: "Order #{id} declined.",
    rq_filed: "filed {when}", rq_about: "About {service} on {when} (visit #{id}, {status})", rq_general: "General (no visit named)",
    rq_answer: "Answer", rq_answer_label: "Answer complaint #{id} ({name})", rq_answer_title: "Answer the complaint about {name}",
    rq_answer_text: "Your answer (the family sees it)", rq_close_too: "Close the complaint after answering", rq_answered: "Complaint #{id} answered.",
  },
});

CD.requests = (function () {
  const h = CD.h;
  const t = CD.t;
  const ROLES = ["dispatcher", "provider_admin"];
  const cache = { services: null, clients: {} };

  async function pending() {
    const [orders, complaints] = await Promise.all([
      CD.api.all("/orders?status=requested", 500),
      CD.api.all("/complaints?status=open", 500),
    ]);
    return { orders, complaints };
  }
  function count(p) {
    const n = p.orders.length + p.complaints.length;
    CD.shell.badge("requests", n || "", n ? "alert" : "");
    return n;
  }

  async function lookups(rows) {
    if (!cache.services) cache.services = Object.fromEntries((await CD.api.all("/service-types")).map((s) => [s.id, s]));
    const missing = [...new Set(rows.map((r) => r.client_id))].filter((id) => !cache.clients[id]);
    await Promise.all(missing.map(async (id) => { cache.clients[id] = await CD.api.get(`/clients/${id}`); }));
  }
  const nameOf = (id) => (cache.clients[id] ? cache.clients[id].name : `#${id}`);
  const serviceOf = (id) => {
    const s = cache.services && cache.services[id];
    return s ? (CD.lang === "en" && s.name_en) || s.name : `#${id}`;
  };
  const when = (a, b) => t("rq_when", { day: CD.day(a), from: CD.time(a), to: CD.time(b) });

  function coverage(c) {
    if (!c) return "";
    const parts = [CD.code("rq_fund", c.funding_source)];
    if (c.entitlement_left_min !== null && c.entitlement_left_min !== undefined) parts.push(t("rq_left_min", { min: c.entitlement_left_min }));
    else if (c.allowance_left) parts.push(t("rq_left_yuan", { left: c.allowance_left }));
    else if (c.funding_source === "government" || c.funding_source === "ltc_insurance") parts.push(t("rq_no_limit"));
    parts.push(t("rq_price", { price: c.price, copay: c.copay }));
    return parts.join(" · ");
  }

  async function accept(o, reload) {
    const name = nameOf(o.client_id);
    const span = when(o.window_start_at, o.window_end_at);
    const v = await CD.dialog(t("rq_accept_title", { name, service: serviceOf(o.service_type_id) }), [
      h("p", {}, t("rq_accept_body", { when: span })),
      CD.field(t("rq_accept_note"), h("textarea", { name: "reason", rows: 2, maxlength: 500 })),
    ], { ok: t("rq_accept") });
    if (!v) return;
    const row = await CD.api.post(`/orders/${o.id}/accept`, { reason: v.reason.trim() || null });
    await reload();
    CD.status(t("rq_accepted", { id: o.id, v: row.visit_id }), "ok");
  }
  async function decline(o, reload) {
    const v = await CD.dialog(t("rq_decline_title", { name: nameOf(o.client_id), service: serviceOf(o.service_type_id) }), [
      CD.field(t("rq_decline_reason"), h("textarea", { name: "reason", rows: 3, maxlength: 500, required: true })),
    ], { ok: t("rq_decline") });
    if (!v || !v.reason.trim()) return;
    await CD.api.post(`/orders/${o.id}/decline`, { reason: v.reason.trim() });
    await reload();
    CD.status(t("rq_declined", { id: o.id }), "ok");
  }
  async function answer(c, reload) {
    const v = await CD.dialog(t("rq_answer_title", { name: nameOf(c.client_id) }), [
      h("blockquote", { class: "small" }, c.text),
      CD.field(t("rq_answer_text"), h("textarea", { name: "answer", rows: 4, maxlength: 2000, required: true })),
      h("label", { class: "row" }, h("input", { type: "checkbox", name: "close" }), t("rq_close_too")),
    ], { ok: t("rq_answer") });
    if (!v || !v.answer.trim()) return;
    await CD.api.patch(`/complaints/${c.id}`, { answer: v.answer.trim(), status: v.close ? "closed" : "answered" });
    await reload();
    CD.status(t("rq_answered", { id: c.id }), "ok");
  }

  function orderCard(o, reload) {
    const name = nameOf(o.client_id);
    return h("article", { class: "card rq-item", "data-order": o.id },
      h("h3", {}, `${name} · ${serviceOf(o.service_type_id)}`),
      h("p", {}, when(o.window_start_at, o.window_end_at), " · ", t("rq_by", { who: CD.code("rq_by", o.ordered_by_role) })),
      h("p", { class: o.note ? "" : "muted" }, o.note ? t("rq_note", { note: o.note }) : t("rq_no_note")),
      h("p", { class: "small", "data-copay": o.coverage ? o.coverage.copay : "" }, coverage(o.coverage)),
      h("div", { class: "row end" },
        h("button", { type: "button", class: "secondary", "aria-label": t("rq_decline_label", { id: o.id, name }), onclick: () => decline(o, reload).catch(CD.fail) }, t("rq_decline")),
        h("button", { type: "button", "aria-label": t("rq_accept_label", { id: o.id, name }), onclick: () => accept(o, reload).catch(CD.fail) }, t("rq_accept"))));
  }
  function complaintCard(c, visit, reload) {
    const name = nameOf(c.client_id);
    const about = visit
      ? t("rq_about", { service: serviceOf(visit.service_type_id), when: when(visit.window_start_at, visit.window_end_at), id: visit.id, status: CD.code("vstatus", visit.status) })
      : t("rq_general");
    return h("article", { class: "card rq-item", "data-complaint": c.id },
      h("h3", {}, name),
      h("p", { class: "small muted" }, t("rq_filed", { when: CD.dateTime(c.created_at) }), " · ", about),
      h("p", { class: "rq-text" }, c.text),
      h("div", { class: "row end" },
        h("button", { type: "button", "aria-label": t("rq_answer_label", { id: c.id, name }), onclick: () => answer(c, reload).catch(CD.fail) }, t("rq_answer"))));
  }

  async function render(panel, ctx) {
    const box = h("div", { class: "rq-screen" });
    panel.append(box);
    const draw = async () => {
      const p = await pending();
      const n = count(p);
      await lookups([...p.orders, ...p.complaints]);
      const visits = Object.fromEntries(await Promise.all(p.complaints.filter((c) => c.visit_id).map(async (c) => [c.visit_id, await CD.api.get(`/visits/${c.visit_id}`).catch(() => null)])));
      // Oldest first: who waited longest is answered first.
      const orders = [...p.orders].sort((a, b) => a.created_at.localeCompare(b.created_at));
      const complaints = [...p.complaints].sort((a, b) => a.created_at.localeCompare(b.created_at));
      box.replaceChildren(
        h("p", { class: "muted", "data-pending": n }, t("rq_count", { n, o: orders.length, c: complaints.length })),
        h("section", { "aria-label": t("rq_orders"), "data-list": "orders" }, h("h2", {}, t("rq_orders"), " ", CD.pill(String(orders.length), orders.length ? "late" : "")),
          orders.length ? h("div", { class: "rq-grid" }, orders.map((o) => orderCard(o, draw))) : h("p", { class: "muted" }, t("rq_orders_none"))),
        h("section", { "aria-label": t("rq_complaints"), "data-list": "complaints" }, h("h2", {}, t("rq_complaints"), " ", CD.pill(String(complaints.length), complaints.length ? "late" : "")),
          complaints.length ? h("div", { class: "rq-grid" }, complaints.map((c) => complaintCard(c, visits[c.visit_id], draw))) : h("p", { class: "muted" }, t("rq_complaints_none"))));
    };
    await draw();
    panel.dataset.drawn = "1";
  }

  return { render, roles: ROLES, pending, count };
})();

CD.screen({ id: "requests", roles: CD.requests.roles, label: "tab.requests", render: CD.requests.render });
// The tab's count, whatever screen is open (as the calls tab's).
CD.watch({ roles: CD.requests.roles, seconds: 30, run: async () => { CD.requests.count(await CD.requests.pending()); } });
