// Admin: users (create, deactivate); a provider admin sees its provider's.
"use strict";

CD.i18n.add({
  zh: { "tab.users": "用户", new_user: "新建用户", display_name: "显示名称", role_col: "角色", active_col: "状态", active: "在用", inactive: "已停用", deactivate: "停用", user_created: "已创建用户 {u}。", user_off: "已停用 {u}。" },
  en: { "tab.users": "Users", new_user: "New user", display_name: "Display name", role_col: "Role", active_col: "State", active: "active", inactive: "deactivated", deactivate: "Deactivate", user_created: "User {u} created.", user_off: "{u} deactivated." },
});

(function () {
  const h = CD.h;
  const t = CD.t;
  const ROLES = ["dispatcher", "provider_admin", "caregiver", "finance", "admin"];

  async function render(panel) {
    const providers = await CD.providers();
    const names = Object.fromEntries(providers.map((p) => [p.id, p.name]));
    const box = h("div", {});
    const draw = async () => {
      const users = await CD.api.all("/users", 2000);
      box.replaceChildren(CD.table([t("username"), t("display_name"), t("role_col"), t("provider"), t("active_col"), t("actions")], users.map((u) => [
        u.username, u.display_name || "", CD.code("role", u.role), names[u.provider_id] || "—", u.active ? t("active") : t("inactive"),
        u.active ? h("button", { type: "button", class: "secondary", "aria-label": `${t("deactivate")} ${u.username}`, onclick: async () => {
          const ok = await CD.dialog(t("deactivate"), [h("p", {}, u.username)]);
          if (!ok) return;
          try { await CD.api.del(`/users/${u.id}`); CD.status(t("user_off", { u: u.username }), "ok"); await draw(); } catch (err) { CD.fail(err); }
        } }, t("deactivate")) : ""]), { label: t("tab.users") }));
    };
    const create = async () => {
      const v = await CD.dialog(t("new_user"), [
        CD.field(t("username"), h("input", { name: "username", required: true, maxlength: 64 })),
        CD.field(t("display_name"), h("input", { name: "display_name", maxlength: 100 })),
        CD.field(t("role_col"), h("select", { name: "role" }, ROLES.map((r) => h("option", { value: r }, CD.code("role", r))))),
        CD.field(t("provider"), h("select", { name: "provider" }, h("option", { value: "" }, "—"), providers.map((p) => h("option", { value: p.id }, p.name)))),
        CD.field(t("password"), h("input", { name: "password", type: "password", required: true, minlength: 8, autocomplete: "new-password" })),
      ]);
      if (!v) return;
      const body = { username: v.username, display_name: v.display_name || null, role: v.role, password: v.password };
      if (v.provider) body.provider_id = Number(v.provider);
      await CD.api.post("/users", body);
      CD.status(t("user_created", { u: v.username }), "ok");
      await draw();
    };
    panel.append(h("div", { class: "toolbar" }, h("button", { type: "button", onclick: () => create().catch(CD.fail) }, t("new_user"))), box);
    await draw();
    panel.dataset.drawn = "1";
  }

  CD.screen({ id: "users", roles: ["admin"], landing: ["admin"], label: "tab.users", render });
})();
