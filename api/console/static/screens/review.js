// Finance — the review queue: flagged orders grouped by rule, each flag's evidence in words, the
// check-in/out photos and a small map (home, check-in/out points, geofence radius, distances);
// approve, reject, or override flags with a written reason; bulk approve verified orders.
"use strict";

CD.i18n.add({
  zh: {
    "tab.review": "异常审核", queue: "待审核工单", group_count: "{n} 单", order_no: "工单 #{id}", pick_order: "从左侧选择一张工单查看证据。",
    flags_open: "异常", photos: "照片", no_photo: "无照片", evidence_map: "位置证据", home: "服务对象家", geofence: "电子围栏 {r} 米",
    approve: "通过", reject: "驳回", override_approve: "豁免异常并通过", override_pick: "豁免以下异常", bulk_approve: "批量通过已核验工单",
    bulk_done: "已通过 {a} 单，{r} 单未通过。", decided: "工单 #{id} 已{d}。", source: "来源", billable: "计费时长", period_of: "服务时间",
    "source.app": "手机签到", "source.timesheet": "工时表导入", appeal_state: "申诉", distance_home: "距家 {d} 米", accuracy: "精度 ±{a} 米",
    approve_title: "通过工单 #{id}", reject_title: "驳回工单 #{id}", override_title: "豁免异常并通过工单 #{id}",
    mock: "虚拟定位", offline: "离线补传", "appeal.none": "无", "appeal.open": "申诉中", "appeal.upheld": "申诉成立", "appeal.denied": "申诉驳回",
    provider_col: "机构", only_provider: "机构", all_codes: "全部规则",
  },
  en: {
    "tab.review": "Review queue", queue: "Orders to review", group_count: "{n} orders", order_no: "Order #{id}", pick_order: "Pick an order on the left to see its evidence.",
    flags_open: "Flags", photos: "Photos", no_photo: "no photo", evidence_map: "Where it happened", home: "Client's home", geofence: "geofence {r} m",
    approve: "Approve", reject: "Reject", override_approve: "Override flags and approve", override_pick: "Override these flags", bulk_approve: "Bulk approve verified orders",
    bulk_done: "{a} approved, {r} refused.", decided: "Order #{id}: {d}.", source: "Source", billable: "Billable", period_of: "Service time",
    "source.app": "app check-in", "source.timesheet": "timesheet", appeal_state: "Appeal", distance_home: "{d} m from home", accuracy: "±{a} m",
    approve_title: "Approve order #{id}", reject_title: "Reject order #{id}", override_title: "Override flags and approve order #{id}",
    mock: "mock location", offline: "synced offline", "appeal.none": "none", "appeal.open": "pending", "appeal.upheld": "upheld", "appeal.denied": "denied",
    provider_col: "Provider", only_provider: "Provider", all_codes: "All rules",
  },
});

(function () {
  const h = CD.h;
  const t = CD.t;
  let R = null;

  async function photoImg(id, alt) {
    const img = h("img", { alt });
    try { img.src = URL.createObjectURL(await CD.api.blob(`/photos/${id}`)); } catch (_e) { img.alt = `${alt} (${t("no_photo")})`; }
    return img;
  }

  async function showOrder(id) {
    R.selected = id;
    markSelected();
    const box = R.detail;
    box.replaceChildren(h("p", { class: "muted" }, t("loading")));
    const o = await CD.api.get(`/work-orders/${id}`);
    const [client, cg, events] = await Promise.all([
      CD.api.get(`/clients/${o.client_id}`), CD.api.get(`/caregivers/${o.caregiver_id}`),
      o.visit_id ? CD.api.get(`/visits/${o.visit_id}/events`) : Promise.resolve([]),
    ]);
    const open = o.flags.filter((f) => f.status === "open");
    const mineEvents = events.filter((e) => e.caregiver_id === o.caregiver_id);
    const radius = (R.rules.GEOFENCE_IN && R.rules.GEOFENCE_IN.threshold) || 200;
    const parts = [
      h("h2", {}, `${t("order_no", { id: o.id })} · ${client.name} · ${cg.name}`),
      h("dl", { class: "details" },
        h("dt", {}, t("period_of")), h("dd", {}, `${CD.day(o.start_at)} ${CD.time(o.start_at)}–${CD.time(o.end_at)}`),
        h("dt", {}, t("billable")), h("dd", {}, t("minutes", { n: o.billable_min })),
        h("dt", {}, t("source")), h("dd", {}, CD.code("source", o.source)),
        h("dt", {}, t("status")), h("dd", {}, CD.pill(CD.code("wostatus", o.status), o.status)),
        h("dt", {}, t("appeal_state")), h("dd", {}, CD.code("appeal", o.appeal_state))),
      h("h3", {}, t("flags_open")),
      h("ul", { class: "flag-list" }, o.flags.map((f) => h("li", {}, CD.pill(CD.code("severity", f.severity), f.severity), " ",
        h("strong", {}, CD.code("rule", f.code)), " ", CD.pill(CD.code("fstatus", f.status), f.status), h("br"), CD.evidence(f.code, f.evidence),
        f.resolution ? h("div", { class: "muted small" }, `${t("reason")}: ${f.resolution}`) : null))),
    ];
    const actions = h("div", { class: "row" });
    if (["flagged", "verified", "submitted"].includes(o.status)) {
      const decide = async (decision, title, overrides, extra) => {
        const reasonAndPicks = await CD.dialog(title, [...(extra || []), CD.field(t("reason_required"), h("textarea", { name: "reason", required: true, rows: 3, maxlength: 2000 }))]);
        if (!reasonAndPicks) return;
        const picks = overrides ? overrides.filter((f) => reasonAndPicks[`flag-${f.id}`]).map((f) => f.id) : [];
        await CD.api.post(`/work-orders/${o.id}/decision`, { decision, reason: reasonAndPicks.reason, override_flags: picks, accept_over_entitlement: Boolean(overrides) });
        CD.status(t("decided", { id: o.id, d: CD.code("wostatus", decision === "approve" ? "approved" : "rejected") }), "ok");
        await refreshQueue();
        await showOrder(o.id);
      };
      const blocking = open.filter((f) => f.severity !== "info");
      if (!blocking.length) actions.append(h("button", { type: "button", class: "ok", onclick: () => decide("approve", t("approve_title", { id: o.id })).catch(CD.fail) }, t("approve")));
      else actions.append(h("button", { type: "button", class: "ok", onclick: () => decide("approve", t("override_title", { id: o.id }), blocking,
        [h("fieldset", {}, h("legend", {}, t("override_pick")), blocking.map((f) => h("label", { class: "row" }, h("input", { type: "checkbox", name: `flag-${f.id}`, checked: true }), `${CD.code("rule", f.code)} — ${CD.evidence(f.code, f.evidence)}`)))]).catch(CD.fail) }, t("override_approve")));
      actions.append(h("button", { type: "button", class: "danger", onclick: () => decide("reject", t("reject_title", { id: o.id })).catch(CD.fail) }, t("reject")));
    }
    parts.push(actions);
    // Photos of the check-in and check-out.
    const figs = [];
    for (const e of mineEvents) {
      const label = `${CD.code("ev", e.kind)} ${CD.time(e.device_time)}`;
      const fig = h("figure", {}, e.photo_id ? await photoImg(e.photo_id, label) : h("div", { class: "muted" }, t("no_photo")), h("figcaption", { class: "small" }, label));
      figs.push(fig);
    }
    parts.push(h("h3", {}, t("photos")), figs.length ? h("div", { class: "photos" }, figs) : h("p", { class: "muted" }, t("no_photo")));
    // The map: home, geofence, check-in and check-out points with their distances.
    const mapBox = h("div", { class: "mapbox small", role: "region", "aria-label": t("evidence_map") });
    parts.push(h("h3", {}, t("evidence_map")), mapBox);
    box.replaceChildren(...parts);
    const m = CD.map(mapBox);
    const home = { lat: client.lat, lon: client.lon };
    m.circle(home.lat, home.lon, radius, { color: "#1e7b3c" });
    m.square(home.lat, home.lon, { cls: "home", text: "家", title: `${t("home")} · ${client.address}` });
    // The server's distance from home (the geofence rules' measure, as in the flags' evidence).
    for (const e of mineEvents) {
      const d = Math.round(e.distance_home_m);
      const colour = e.kind === "check_in" ? "#1456b8" : "#b35c00";
      const label = `${CD.code("ev", e.kind)} ${t("distance_home", { d })}${e.accuracy_m ? ` (${t("accuracy", { a: Math.round(e.accuracy_m) })})` : ""}${e.mock_location ? ` · ${t("mock")}` : ""}`;
      m.point(e.lat, e.lon, { color: colour, fill: colour, radius: 6, label });
      m.line(home, e, { color: colour });
    }
    m.point(home.lat, home.lon, { color: "#1e7b3c", fill: "#1e7b3c", radius: 3, title: t("geofence", { r: radius }) });
    m.fit(70);
    R.detail.dataset.order = String(o.id);
  }

  async function refreshQueue() {
    const orders = await CD.api.all(`/work-orders?status=flagged&open_flags=true${R.provider ? `&provider_id=${R.provider}` : ""}`, 2000);
    const groups = {};
    for (const o of orders) {
      for (const f of o.flags.filter((x) => x.status === "open" && x.severity !== "info")) (groups[f.code] = groups[f.code] || []).push({ o, f });
    }
    const names = Object.fromEntries((await CD.providers()).map((p) => [p.id, p.name]));
    const codes = Object.keys(groups).sort((a, b) => groups[b].length - groups[a].length);
    // First draw: the biggest group open (all when few); after that the reader's own choice,
    // so a decision or a provider filter does not fold the group being worked through.
    if (!R.open) R.open = new Set(codes.filter((_c, i) => i === 0 || codes.length <= 3));
    R.list.replaceChildren(h("h2", {}, `${t("queue")} (${orders.length})`),
      ...(codes.length ? codes.map((code) => h("details", { class: "group card", "data-code": code, open: R.open.has(code),
        ontoggle: (ev) => { if (ev.target.open) R.open.add(code); else R.open.delete(code); } },
        h("summary", {}, h("span", {}, CD.code("rule", code)), h("span", { class: "muted small" }, t("group_count", { n: groups[code].length }))),
        groups[code].map(({ o, f }) => h("button", { type: "button", class: "order-item", "data-id": o.id, onclick: () => showOrder(o.id).catch(CD.fail) },
          h("strong", {}, `#${o.id}`), ` ${CD.day(o.start_at)} ${CD.time(o.start_at)} · ${names[o.provider_id] || ""}`, h("br"),
          h("span", { class: "small muted" }, CD.evidence(code, f.evidence)))))) : [h("p", { class: "muted" }, t("none"))]));
    markSelected();
  }

  // The order being read is marked in every group that lists it (one per blocking flag) and
  // kept in view: when every group listing it is folded, the first of them opens.
  function markSelected() {
    const items = [...R.list.querySelectorAll(".order-item")];
    items.forEach((b) => b.classList.toggle("selected", Number(b.dataset.id) === R.selected));
    const marked = items.filter((b) => b.classList.contains("selected"));
    if (!marked.length) return;
    const shown = marked.find((b) => b.closest("details").open) || marked[0];
    shown.closest("details").open = true;
    shown.scrollIntoView({ block: "nearest" });
  }

  async function bulk() {
    const providers = await CD.providers();
    const v = await CD.dialog(t("bulk_approve"), [
      CD.field(t("provider"), h("select", { name: "provider", required: true }, providers.map((p) => h("option", { value: p.id }, p.name)))),
      CD.field(t("from"), h("input", { type: "date", name: "from", value: CD.addDays(CD.today(), -30), required: true })),
      CD.field(t("to"), h("input", { type: "date", name: "to", value: CD.today(), required: true })),
      CD.field(t("reason_required"), h("textarea", { name: "reason", required: true, rows: 2 })),
    ]);
    if (!v) return;
    const r = await CD.api.post("/work-orders:bulk-approve", { filter: { provider_id: Number(v.provider), from: v.from, to: v.to }, reason: v.reason });
    CD.status(t("bulk_done", { a: r.approved.length, r: r.refused.length }), "ok");
  }

  async function render(panel, ctx) {
    const rules = await CD.api.get("/rules");
    R = { ctx, rules: Object.fromEntries(rules.map((r) => [r.code, r])), list: h("div", { class: "queue", role: "region", "aria-label": t("queue") }), detail: h("div", { class: "card", role: "region", "aria-label": t("details") }, h("p", { class: "muted" }, t("pick_order"))), selected: null, provider: null, open: null };
    const providers = await CD.providers();
    const pick = h("select", { "aria-label": t("only_provider"), onchange: (ev) => { R.provider = Number(ev.target.value) || null; refreshQueue().catch(CD.fail); } },
      h("option", { value: "" }, t("all_providers")), providers.map((p) => h("option", { value: p.id }, p.name)));
    panel.append(h("div", { class: "toolbar" }, CD.field(t("only_provider"), pick),
      h("button", { type: "button", class: "ok", onclick: () => bulk().catch(CD.fail) }, t("bulk_approve"))),
    h("div", { class: "review-grid" }, R.list, R.detail));
    await refreshQueue();
    panel.dataset.drawn = "1";
  }

  CD.screen({ id: "review", roles: ["finance"], landing: ["finance"], label: "tab.review", render });
})();
