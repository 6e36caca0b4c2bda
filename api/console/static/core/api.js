// The console's only way to the server: /api/v1 with the bearer token and the language.
"use strict";

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.code;
    this.errors = (body && body.errors) || null;
  }
}
CD.ApiError = ApiError;

CD.session = {
  token: sessionStorage.getItem("cd.token"),
  refresh: sessionStorage.getItem("cd.refresh"),
  user: JSON.parse(sessionStorage.getItem("cd.user") || "null"),
  save(token, user, refresh) {
    this.token = token; this.user = user;
    sessionStorage.setItem("cd.token", token); sessionStorage.setItem("cd.user", JSON.stringify(user));
    if (refresh) { this.refresh = refresh; sessionStorage.setItem("cd.refresh", refresh); }
  },
  clear() {
    this.token = null; this.user = null; this.refresh = null;
    sessionStorage.removeItem("cd.token"); sessionStorage.removeItem("cd.user"); sessionStorage.removeItem("cd.refresh");
  },
};

// A 30-minute access token: renew it once with the refresh token, then retry.
async function renew() {
  const res = await fetch("/api/v1/auth/refresh", { method: "POST", headers: { Authorization: `Bearer ${CD.session.refresh}` } });
  if (!res.ok) return false;
  const data = await res.json();
  CD.session.save(data.access_token, CD.session.user);
  return true;
}

async function request(method, path, body, raw, retried) {
  const headers = { "Accept-Language": CD.lang === "zh" ? "zh-CN" : "en" };
  if (CD.session.token) headers.Authorization = `Bearer ${CD.session.token}`;
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
  const res = await fetch(`/api/v1${path}`, { method, headers, body: payload });
  if (res.status === 401 && CD.session.refresh && !retried && !path.startsWith("/auth/") && (await renew())) {
    return request(method, path, body, raw, true);
  }
  if (res.status === 401 && CD.session.token && !path.startsWith("/auth/")) {
    CD.session.clear();
    CD.shell && CD.shell.expired();
  }
  if (raw && res.ok) return res;
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_e) { data = { message: text }; }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

CD.api = {
  get: (path) => request("GET", path),
  post: (path, body) => request("POST", path, body === undefined ? {} : body),
  patch: (path, body) => request("PATCH", path, body),
  del: (path) => request("DELETE", path),
  upload: (path, form) => request("POST", path, form),
  blob: async (path) => (await request("GET", path, undefined, true)).blob(),
  // Every page of a paged list (page_size 100), up to `max` rows.
  async all(path, max) {
    const out = [];
    const sep = path.includes("?") ? "&" : "?";
    for (let page = 1; page <= 100; page++) {
      const rows = await request("GET", `${path}${sep}page=${page}&page_size=100`);
      out.push(...rows);
      if (rows.length < 100 || (max && out.length >= max)) break;
    }
    return out;
  },
};

// Platform users pick a provider; provider staff have theirs.
CD.providers = async () => {
  if (!CD._providers) CD._providers = await CD.api.all("/providers");
  return CD._providers;
};
