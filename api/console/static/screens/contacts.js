// Five-colour contacts (五色探访, Gongshu §8): compliance per street and the elders whose contact
// is overdue on the chosen day, by street and provider, most overdue first.
"use strict";

CD.i18n.add({
  zh: {
    "tab.contacts": "五色探访", "ct.as_of": "截至 {date}", "ct.compliance": "各街道探访按时率", "ct.elders": "纳入探访老人",
    "ct.overdue": "已逾期", "ct.rate": "按时率", "ct.list": "逾期未探访的老人", "ct.all_streets": "全部街道", "ct.street": "街道",
    "ct.frequency": "探访频次", "ct.last_contact": "最近一次联系", "ct.never": "从未联系", "ct.due": "最迟应联系日",
    "ct.overdue_days": "逾期天数", "ct.days": "{n} 天", "ct.phone": "电话", "ct.more": "显示更多", "ct.shown": "显示 {n} 人",
    "ct.shown_of": "显示 {n} / {total} 人", "ct.none": "没有逾期的老人。", "ct.rhythm": "五色探访：",
    "ct.explain": "联系包括完成的上门服务，以及服务机构登记的电话问候、邻里询问、结对探访和上门探访。超过频次允许的间隔未联系即为逾期。",
    "ct.filter_street": "查看 {street} 的逾期老人",
  },
  en: {
    "tab.contacts": "Five-colour contacts", "ct.as_of": "As of {date}", "ct.compliance": "Contacts in time per street", "ct.elders": "Elders in the scheme",
    "ct.overdue": "Overdue", "ct.rate": "In time", "ct.list": "Elders whose contact is overdue", "ct.all_streets": "All streets", "ct.street": "Street",
    "ct.frequency": "Contact rhythm", "ct.last_contact": "Last contact", "ct.never": "never", "ct.due": "Contact due by",
    "ct.overdue_days": "Days overdue", "ct.days": "{n} d", "ct.phone": "Phone", "ct.more": "Show more", "ct.shown": "{n} shown",
    "ct.shown_of": "{n} of {total} shown", "ct.none": "No elder is overdue.", "ct.rhythm": "Five colours:",
    "ct.explain": "A contact is a completed care visit or a phone call, neighbour enquiry, pairing visit or home visit recorded by the provider. An elder is overdue when the last contact is older than the rhythm allows.",
    "ct.filter_street": "Show the overdue elders of {street}",
  },
});

(function () {
  const h = CD.h;
  const t = CD.t;
  const sup = CD.sup;
  const PAGE = 100;
  const filter = { street: "", provider: "" };

  function rateCell(rate) {
    if (rate === null || rate === undefined) return h("span", { class: "null", title: t("sup.null_none"), tabindex: "0" }, "—");
    const bar = h("span", { class: `rate-bar${rate < 0.9 ? " low" : ""}`, "aria-hidden": "true" }, h("span", { style: { width: `${Math.round(rate * 100)}%` } }));
    return h("span", {}, sup.pct(rate), bar);
  }

  async function render(panel, ctx) {
    const asOf = ctx.date;
    const [compliance, providers] = await Promise.all([
      CD.api.get(`/supervision/contacts/compliance?as_of=${asOf}`),
      CD.providers(),
    ]);
    const names = Object.fromEntries(providers.map((p) => [p.id, p.name]));
    const streetName = (s) => (s === null || s === "-" ? t("sup.no_street") : s);
    const listBox = h("div", {});
    const countLine = h("p", { class: "muted small", role: "status" });

    const total = compliance.reduce((a, r) => ({ elders: a.elders + r.elders, overdue: a.overdue + r.overdue }), { elders: 0, overdue: 0 });
    const compTable = h("div", { class: "table-wrap" }, h("table", { "aria-label": t("ct.compliance") },
      h("thead", {}, h("tr", {}, [t("ct.street"), t("ct.elders"), t("ct.overdue"), t("ct.rate")].map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, compliance.map((r) => h("tr", {},
        h("th", { scope: "row" }, r.street === null ? streetName(null) : h("button", { type: "button", class: "link-like", title: t("ct.filter_street", { street: r.street }),
          onclick: () => { filter.street = r.street; streetSel.value = r.street; load().catch(CD.fail); } }, r.street)),
        h("td", {}, r.elders), h("td", {}, r.overdue), h("td", {}, rateCell(r.rate))))),
      h("tfoot", {}, h("tr", {}, h("th", { scope: "row" }, t("sup.total")), h("td", {}, total.elders), h("td", {}, total.overdue),
        h("td", {}, rateCell(total.elders ? (total.elders - total.overdue) / total.elders : null))))));

    const streetSel = h("select", { onchange: (ev) => { filter.street = ev.target.value; load().catch(CD.fail); } },
      h("option", { value: "" }, t("ct.all_streets")),
      compliance.filter((r) => r.street !== null).map((r) => h("option", { value: r.street, selected: r.street === filter.street }, r.street)));
    const provSel = h("select", { onchange: (ev) => { filter.provider = ev.target.value; load().catch(CD.fail); } },
      h("option", { value: "" }, t("all_providers")),
      providers.map((p) => h("option", { value: p.id, selected: String(p.id) === filter.provider }, p.name)));

    const head = [t("client"), t("ct.street"), t("provider"), t("ct.frequency"), t("ct.last_contact"), t("ct.due"), t("ct.overdue_days"), t("ct.phone")];
    let rows = [];
    let page = 0;
    let more = false;
    const known = () => {
      if (filter.provider) return null;
      if (filter.street) { const r = compliance.find((c) => c.street === filter.street); return r ? r.overdue : 0; }
      return total.overdue;
    };
    const show = () => {
      if (!rows.length) { listBox.replaceChildren(h("p", { class: "muted" }, t("ct.none"))); countLine.textContent = ""; return; }
      const n = known();
      countLine.textContent = n === null ? t("ct.shown", { n: rows.length }) : t("ct.shown_of", { n: rows.length, total: n });
      const table = sup.stackTable(head, rows.map((r) => ({ attrs: { "data-client": r.client.id }, cells: [
        h("span", {}, h("strong", {}, r.client.name), " ", h("span", { class: "small muted" }, r.client.code)),
        streetName(r.client.street),
        names[r.client.provider_id] || "—",
        sup.colourChip(r.frequency),
        r.last_contact_at ? sup.localDate(r.last_contact_at) : h("span", { class: "muted" }, t("ct.never")),
        r.due_at,
        h("strong", { class: r.overdue_days > 7 ? "worse" : "" }, t("ct.days", { n: r.overdue_days })),
        r.client.phone ? h("a", { href: `tel:${r.client.phone}`, class: "nowrap" }, r.client.phone) : "—",
      ] })), t("ct.list"));
      table.querySelector("table").classList.add("overdue");
      listBox.replaceChildren(table,
      ...(more ? [h("div", { class: "row" }, h("button", { type: "button", class: "secondary", onclick: () => next().catch(CD.fail) }, t("ct.more")))] : []));
    };
    const query = () => {
      const q = new URLSearchParams({ as_of: asOf });
      if (filter.street) q.set("street", filter.street);
      if (filter.provider) q.set("provider_id", filter.provider);
      return q;
    };
    const next = async () => {
      page += 1;
      const got = await CD.api.get(`/supervision/contacts?${query()}&page=${page}&page_size=${PAGE}`);
      rows = rows.concat(got);
      more = got.length === PAGE;
      show();
    };
    const load = async () => {
      panel.removeAttribute("data-drawn");
      rows = []; page = 0;
      await next();
      panel.dataset.drawn = "1";
    };
    panel.append(
      h("p", { class: "sup-head" }, h("strong", {}, t("ct.as_of", { date: asOf }))),
      h("p", { class: "legend" }, t("ct.rhythm"), sup.FIVE.map((f) => sup.colourChip(f))),
      h("p", { class: "muted small" }, t("ct.explain")),
      h("h2", {}, t("ct.compliance")), h("div", { class: "narrow-table" }, compTable),
      h("h2", {}, t("ct.list")),
      h("div", { class: "toolbar" }, CD.field(t("ct.street"), streetSel), CD.field(t("provider"), provSel), countLine),
      listBox);
    await load();
  }

  CD.screen({ id: "contacts", roles: ["supervisor"], label: "tab.contacts", render, usesDate: true });
})();
