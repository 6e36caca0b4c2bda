// The shell: log in, the language switch, a tab per screen the user's role may open.
// Screens register themselves with CD.screen({id, roles, label, render}) (see docs/console.md).
"use strict";

CD.screens = [];
// spec: {id, roles: [...], label: i18n key, render(panel, ctx) -> Promise, refreshSeconds?, usesDate?,
//        landing?: [roles] (the first screen those roles see after logging in; its tab comes first)}
CD.screen = (spec) => { CD.screens.push(spec); };

// What a login whose role has no screen here can do (it never sees a blank page).
CD.i18n.add({
  zh: {
    no_screen_title: "此账号在控制台中没有页面",
    no_screen_role: "您以“{role}”身份登录。",
    "no_screen.caregiver": "护理员账号用于手机上的护理员 App：查看当天路线、签到、签退和拍照。请在手机上登录。",
    "no_screen.family": "家属账号可以查看所关联老人的服务、评价已完成的服务、预约服务、投诉和一键呼叫。控制台的家属页面尚未开放，这些功能目前可通过接口使用。",
    "no_screen.supervisor": "监管账号可只读查看辖区内各服务机构的服务、工单、投诉和统计。控制台的监管页面尚未开放，这些数据目前可通过接口查看。",
    "no_screen.other": "该角色的工作不在控制台中完成。",
    no_screen_next: "如需其他权限，请联系本机构管理员。也可以退出后用其他账号登录。",
  },
  en: {
    no_screen_title: "This login has no screen in the console",
    no_screen_role: "You are logged in as: {role}.",
    "no_screen.caregiver": "Caregiver logins are for the caregiver app on the phone: the day's route, check-in, check-out and photos. Log in on the phone.",
    "no_screen.family": "Family logins see the visits of the elders linked to them, rate done visits, order services, complain and press the one-key call. The console's family page is not open yet; until then these are available through the API.",
    "no_screen.supervisor": "Supervisor logins see, read-only, the visits, orders, complaints and figures of the providers in their area. The console's supervisor page is not open yet; until then these are available through the API.",
    "no_screen.other": "This role's work is not done in the console.",
    no_screen_next: "For other rights ask your provider's administrator, or log out and log in with another account.",
  },
});

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

  // The role's screens in the order of SCREENS, its landing screen first.
  function mine() {
    const role = CD.session.user && CD.session.user.role;
    const own = CD.screens.filter((s) => s.roles.includes(role));
    const lands = (s) => Boolean(s.landing && s.landing.includes(role));
    return [...own.filter(lands), ...own.filter((s) => !lands(s))];
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
    $("who").title = $("who").textContent;
    if (!logged) { clearInterval(timer); return; }
    const screens = mine();
    if (!screens.find((s) => s.id === state.screen)) state.screen = screens.length ? screens[0].id : null;
    if (!screens.length) { noScreen(user); return; }
    $("tabs").hidden = false;
    $("tabs").replaceChildren(...screens.map((s) => h("a", {
      href: `#/${s.id}`, class: s.id === state.screen ? "active" : "", "aria-current": s.id === state.screen ? "page" : null,
      onclick: (ev) => { ev.preventDefault(); state.screen = s.id; render(); },
    }, CD.t(s.label))));
    await show();
  }

  // A role without a screen: say what this login is for, and how to get out.
  function noScreen(user) {
    clearInterval(timer);
    history.replaceState(null, "", "#/");
    $("tabs").replaceChildren();
    $("tabs").hidden = true;
    $("date-box").hidden = true;
    $("provider-box").replaceChildren();
    CD.status("");
    const key = `no_screen.${user.role}`;
    const panel = $("panel");
    panel.setAttribute("aria-label", CD.t("no_screen_title"));
    panel.replaceChildren(h("section", { class: "card narrow no-screen" },
      h("h1", {}, CD.t("no_screen_title")),
      h("p", {}, CD.t("no_screen_role", { role: CD.code("role", user.role) })),
      h("p", {}, CD.strings.en[key] ? CD.t(key) : CD.t("no_screen.other")),
      h("p", {}, CD.t("no_screen_next")),
      h("p", { class: "row" },
        h("button", { type: "button", onclick: logout }, CD.t("logout")),
        h("a", { href: "/api/v1/docs" }, CD.t("api_docs")))));
    panel.dataset.drawn = "1";
  }

  function logout() {
    clearInterval(timer);
    CD.session.clear();
    CD._providers = null;
    state.screen = null; // the next login lands on its own screen
    state.provider = null;
    location.hash = "";
    render();
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
    $("logout").addEventListener("click", logout);
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
