// Appeals: finance decides each with its evidence; a provider admin follows its own.
"use strict";

CD.i18n.add({
  zh: {
    "tab.appeals": "申诉", "astatus.open": "待裁定", "astatus.upheld": "申诉成立", "astatus.denied": "申诉驳回",
    appeal_reason: "申诉理由", appeal_evidence: "申诉证据", uphold: "申诉成立（可结算）", deny: "驳回申诉", decision_reason: "裁定理由",
    submitted: "提交于", decided_at: "裁定于", only_pending: "只看待裁定", appeal_decided: "申诉 #{id} 已裁定。", order_flags: "工单异常",
  },
  en: {
    "tab.appeals": "Appeals", "astatus.open": "Pending", "astatus.upheld": "Upheld", "astatus.denied": "Denied",
    appeal_reason: "Provider's reason", appeal_evidence: "Evidence", uphold: "Uphold (may be paid)", deny: "Deny", decision_reason: "Decision",
    submitted: "Submitted", decided_at: "Decided", only_pending: "Pending only", appeal_decided: "Appeal #{id} decided.", order_flags: "The order's flags",
  },
});

(function () {
  const h = CD.h;
  const t = CD.t;

  async function evidenceImg(id) {
    const img = h("img", { alt: t("appeal_evidence"), class: "evidence" });
    try { img.src = URL.createObjectURL(await CD.api.blob(`/photos/${id}`)); } catch (_e) { return null; }
    return img;
  }

  async function render(panel, ctx) {
    const finance = ctx.user.role === "finance";
    const onlyPending = h("input", { type: "checkbox", checked: finance });
    const list = h("div", {});
    const draw = async () => {
      const rows = await CD.api.all(`/appeals${onlyPending.checked ? "?status=open" : ""}`, 500);
      const names = Object.fromEntries((await CD.providers().catch(() => [])).map((p) => [p.id, p.name]));
      const cards = [];
      for (const a of rows) {
        const o = await CD.api.get(`/work-orders/${a.work_order_id}`);
        const card = h("section", { class: "card", "aria-label": `#${a.id}` },
          h("h3", {}, `#${a.id} · ${t("order_no", { id: a.work_order_id })} · ${names[a.provider_id] || ""} `, CD.pill(CD.code("astatus", a.status), a.status === "upheld" ? "approved" : a.status === "denied" ? "rejected" : "review")),
          h("p", {}, h("strong", {}, `${t("appeal_reason")}：`), a.reason),
          h("p", { class: "small muted" }, `${t("submitted")} ${CD.dateTime(a.submitted_at)}${a.decided_at ? ` · ${t("decided_at")} ${CD.dateTime(a.decided_at)}：${a.decision_reason || ""}` : ""}`),
          h("p", { class: "small" }, h("strong", {}, `${t("order_flags")}：`), o.flags.filter((f) => f.severity !== "info").map((f) => `${CD.code("rule", f.code)}（${CD.evidence(f.code, f.evidence)}）`).join("；")));
        if (a.evidence_photo_id) { const img = await evidenceImg(a.evidence_photo_id); if (img) card.append(h("div", { class: "photos" }, h("figure", {}, img))); }
        if (finance && a.status === "open") {
          const decide = async (decision) => {
            const reason = await CD.askReason(`${decision === "uphold" ? t("uphold") : t("deny")} #${a.id}`);
            if (!reason) return;
            await CD.api.post(`/appeals/${a.id}/decision`, { decision, reason });
            CD.status(t("appeal_decided", { id: a.id }), "ok");
            await draw();
          };
          card.append(h("div", { class: "row" },
            h("button", { type: "button", class: "ok", onclick: () => decide("uphold").catch(CD.fail) }, t("uphold")),
            h("button", { type: "button", class: "danger", onclick: () => decide("deny").catch(CD.fail) }, t("deny"))));
        }
        cards.push(card);
      }
      list.replaceChildren(...(cards.length ? cards : [h("p", { class: "muted" }, t("none"))]));
    };
    onlyPending.addEventListener("change", () => draw().catch(CD.fail));
    panel.append(h("div", { class: "toolbar" }, h("label", { class: "row" }, onlyPending, t("only_pending"))), list);
    await draw();
    panel.dataset.drawn = "1";
  }

  CD.screen({ id: "appeals", roles: ["finance", "provider_admin"], label: "tab.appeals", render });
})();
