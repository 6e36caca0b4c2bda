// The shell: log in, the language switch, a tab per screen the user's role may open.
// Screens register themselves with CD.screen({id, roles, label, render}) (see docs/console.md).
"use strict";

CD.screens = [];
// spec: {id, roles: [...], label: i18n key, render(panel, ctx) -> Promise, refreshSeconds?, usesDate?}
CD.screen = (spec) => { CD.screens.push(spec); };

CD.shell = (function () {
  const h = CD.h;
  const $ = (id) => document.getElementById(id);
  let timer = null;
  const state = { screen: null, date: CD.today(), provider: null };

  function translate() {
    document.documentElement.lang = CD.lang === "zh" ? "zh-CN" : "en";
    document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = CD.t(el.dataset.t); });
    document.querySelectorAll("[data-t-label]").forEach((el) => { el.setAttribute("aria-label", CD.t(el.dataset.tLabel)); });
    $("lang").textContent = CD.t("language");
    $("lang").setAttribute("aria-label", CD.t("language_name"));
    document.title = `CareDispatch · ${CD.t("app")}`;
  }

  function mine() {
    const role = CD.session.user && CD.session.user.role;
    return CD.screens.filter((s) => s.roles.includes(role));
  }

  function fromHash() {
    const m = /^#\/([\w-]+)(?:\?(.*))?$/.exec(location.hash || "");
    if (!m) return;
    state.screen = m[1];
    const q = new URLSearchParams(m[2] || "");
    if (q.get("date")) state.date = q.get("date");
    if (q.get("provider")) state.provider = Number(q.get("provider"));
  }
  function toHash() {
    const q = new URLSearchParams({ date: state.date });
    if (state.provider) q.set("provider", state.provider);
    history.replaceState(null, "", `#/${state.screen}?${q}`);
  }

  async function render() {
    translate();
    const user = CD.session.user;
    const logged = Boolean(CD.session.token && user);
    $("login-view").hidden = logged;
    $("app-view").hidden = !logged;
    $("logout").hidden = !logged;
    $("who").textContent = logged ? `${user.display_name || user.username} · ${CD.code("role", user.role)}` : "";
    if (!logged) { clearInterval(timer); return; }
    const screens = mine();
    if (!screens.find((s) => s.id === state.screen)) state.screen = screens.length ? screens[0].id : null;
    $("tabs").replaceChildren(...screens.map((s) => h("a", {
      href: `#/${s.id}`, class: s.id === state.screen ? "active" : "", "aria-current": s.id === state.screen ? "page" : null,
      onclick: (ev) => { ev.preventDefault(); state.screen = s.id; render(); },
    }, CD.t(s.label))));
    await show();
  }

  async function providerPicker(spec) {
    // Platform users (finance, admin) pick the provider for screens about one provider.
    const box = $("provider-box");
    box.replaceChildren();
    const user = CD.session.user;
    if (!spec.perProvider || user.provider_id) return;
    const providers = await CD.providers();
    if (!state.provider && providers.length) state.provider = providers[0].id;
    const sel = h("select", { id: "provider", onchange: (ev) => { state.provider = Number(ev.target.value); show(); } },
      providers.map((p) => h("option", { value: p.id, selected: p.id === state.provider }, p.name)));
    box.append(CD.field(CD.t("provider"), sel));
  }

  async function show() {
    clearInterval(timer);
    const spec = CD.screens.find((s) => s.id === state.screen);
    if (!spec) return;
    toHash();
    $("date-box").hidden = !spec.usesDate;
    $("date").value = state.date;
    const panel = $("panel");
    panel.removeAttribute("data-drawn");
    CD.status(CD.t("loading"));
    try {
      await providerPicker(spec);
      const ctx = {
        date: state.date,
        user: CD.session.user,
        providerId: CD.session.user.provider_id || state.provider,
        reload: () => show(),
        setDate: (d) => { state.date = d; show(); },
      };
      panel.replaceChildren();
      panel.setAttribute("aria-label", CD.t(spec.label));
      await spec.render(panel, ctx);
      CD.status("");
      if (spec.refreshSeconds && spec.refresh) {
        timer = setInterval(() => spec.refresh(ctx).catch(CD.fail), spec.refreshSeconds * 1000);
      }
    } catch (err) {
      CD.fail(err);
    }
  }

  async function login(ev) {
    ev.preventDefault();
    const form = new FormData(ev.target);
    try {
      const data = await CD.api.post("/auth/login", { username: form.get("username"), password: form.get("password") });
      CD.session.save(data.access_token, data.user, data.refresh_token);
      $("login-error").textContent = "";
      render();
    } catch (err) {
      $("login-error").textContent = err.message;
    }
  }

  function start() {
    fromHash();
    // A link or the address bar changed the screen, date or provider (our own updates use
    // replaceState, which fires no event).
    window.addEventListener("hashchange", () => { fromHash(); render(); });
    $("date").addEventListener("change", (ev) => { if (ev.target.value) { state.date = ev.target.value; show(); } });
    $("prev-day").addEventListener("click", () => { state.date = CD.addDays(state.date, -1); show(); });
    $("next-day").addEventListener("click", () => { state.date = CD.addDays(state.date, 1); show(); });
    $("today").addEventListener("click", () => { state.date = CD.today(); show(); });
    $("lang").addEventListener("click", () => { CD.lang = CD.lang === "zh" ? "en" : "zh"; localStorage.setItem("cd.lang", CD.lang); render(); });
    $("logout").addEventListener("click", () => { CD.session.clear(); CD._providers = null; location.hash = ""; render(); });
    $("login-form").addEventListener("submit", login);
    render();
  }

  return {
    start,
    render,
    expired() { clearInterval(timer); render().then(() => { $("login-error").textContent = CD.t("session_expired"); }); },
    state,
  };
})();
