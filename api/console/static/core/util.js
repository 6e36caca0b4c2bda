// DOM helpers, times in the configured zone, dialogs, tables. Untrusted text only as textContent.
"use strict";

CD.zone = document.querySelector('meta[name="cd-timezone"]').content || "Asia/Shanghai";

// h("button", {type: "button", onclick: fn, "aria-label": "..."}, "text", child, ...)
CD.h = function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "style") Object.assign(el.style, v);
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "value") el.value = v;
    else if (k === "checked") el.checked = Boolean(v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
};
const h = CD.h;

const fmtCache = {};
function fmt(opts) {
  const key = CD.lang + JSON.stringify(opts);
  if (!fmtCache[key]) fmtCache[key] = new Intl.DateTimeFormat(CD.lang === "zh" ? "zh-CN" : "en-GB", { timeZone: CD.zone, hourCycle: "h23", ...opts });
  return fmtCache[key];
}
CD.time = (iso) => (iso ? fmt({ hour: "2-digit", minute: "2-digit" }).format(new Date(iso)) : "");
CD.dateTime = (iso) => (iso ? fmt({ month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }).format(new Date(iso)) : "");
CD.day = (iso) => (iso ? fmt({ year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(iso)) : "");
// Today's date (YYYY-MM-DD) in the configured zone.
CD.today = () => {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-CA", { timeZone: CD.zone, year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(new Date()).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
};
// The zone's UTC offset on a date, e.g. "+08:00" (to build instants from a date and HH:MM).
CD.offset = (date) => {
  const d = new Date(`${date}T12:00:00Z`);
  const local = new Date(d.toLocaleString("en-US", { timeZone: CD.zone }));
  const utc = new Date(d.toLocaleString("en-US", { timeZone: "UTC" }));
  const min = Math.round((local - utc) / 60000);
  const sign = min < 0 ? "-" : "+";
  const a = Math.abs(min);
  return `${sign}${String(Math.floor(a / 60)).padStart(2, "0")}:${String(a % 60).padStart(2, "0")}`;
};
CD.at = (date, hhmm) => new Date(`${date}T${hhmm}:00${CD.offset(date)}`);
CD.iso = (d) => {
  // An instant as ISO 8601 with the zone's offset (what the API expects).
  const date = new Intl.DateTimeFormat("en-CA", { timeZone: CD.zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(d);
  return `${date}T${fmt({ hour: "2-digit", minute: "2-digit", second: "2-digit" }).format(d).replace(/[^\d:]/g, "")}${CD.offset(date)}`;
};
// Where a day's timeline opens: the earliest of the shift starts ("HH:MM"), else 07:00.
CD.workStart = (date, shiftStarts) => {
  const starts = (shiftStarts || []).filter(Boolean).sort();
  return CD.at(date, starts.length ? starts[0].slice(0, 5) : "07:00");
};
CD.addDays = (date, n) => {
  const d = new Date(`${date}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
};

CD.pill = (text, cls) => h("span", { class: `pill ${cls || ""}` }, text);

CD.table = function table(headers, rows, opts) {
  if (!rows.length) return h("p", { class: "muted" }, CD.t("none"));
  return h("div", { class: "table-wrap" },
    h("table", { "aria-label": (opts && opts.label) || undefined },
      h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, rows.map((r) => h("tr", r.attrs || {}, (r.cells || r).map((c) => h("td", {}, c)))))));
};

// A labelled form field: label text, then the control.
CD.field = (label, control) => h("label", { class: "field" }, h("span", {}, label), control);

// A status line screens write to (role=status so screen readers hear it).
CD.status = function status(msg, kind) {
  const el = document.getElementById("status");
  if (!el) return;
  el.textContent = msg || "";
  el.className = `status ${kind || ""}`;
};
CD.fail = (err) => CD.status(err && err.message ? err.message : String(err), "error");

// A modal dialog; resolves with the form's values, or null when cancelled.
CD.dialog = function dialog(title, body, opts) {
  return new Promise((resolve) => {
    const form = h("form", { method: "dialog", class: "dialog-form" });
    const dlg = h("dialog", { "aria-label": title }, h("h2", {}, title), form);
    form.append(...[].concat(body), h("div", { class: "row end" },
      h("button", { type: "button", class: "secondary", onclick: () => { dlg.close(); } }, CD.t("cancel")),
      h("button", { type: "submit", value: "ok" }, (opts && opts.ok) || CD.t("confirm"))));
    let result = null;
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (!form.reportValidity()) return;
      result = Object.fromEntries(new FormData(form).entries());
      dlg.close();
    });
    dlg.addEventListener("close", () => { dlg.remove(); resolve(result); });
    document.body.append(dlg);
    dlg.showModal();
  });
};
// Ask for a written reason (required, audited).
CD.askReason = (title, extra) => CD.dialog(title, [
  ...(extra || []),
  CD.field(CD.t("reason_required"), h("textarea", { name: "reason", required: true, rows: 3, maxlength: 2000 })),
]).then((v) => (v ? v.reason.trim() || null : null));

// A download: fetch with the token, hand the browser a blob URL.
CD.download = async function download(path, filename) {
  const blob = await CD.api.blob(path);
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: filename, class: "hidden" });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
};

// A flag's evidence in words (falls back to the numbers).
CD.evidence = function evidence(code, e) {
  e = e || {};
  const ev = (k) => CD.t(`ev.${k}`);
  const r = (x) => (typeof x === "number" ? Math.round(x * 10) / 10 : x);
  switch (code) {
    case "GEOFENCE_IN": case "GEOFENCE_OUT":
      return CD.t("ev.GEOFENCE", { event: ev(e.event || (code === "GEOFENCE_IN" ? "check_in" : "check_out")), distance: Math.round(e.distance_m), limit: Math.round(e.limit_m), radius: e.radius_m, acc: Math.round(e.accuracy_credited_m || 0) });
    case "GPS_POOR": return CD.t("ev.GPS_POOR", { event: ev(e.event), acc: r(e.accuracy_m), limit: e.limit_m });
    case "SHORT_VISIT": case "LONG_VISIT": return CD.t(`ev.${code}`, { actual: r(e.actual_min), planned: e.planned_min, limit: r(e.limit_min) });
    case "OFF_SCHEDULE": return CD.t("ev.OFF_SCHEDULE", { off: r(e.minutes_outside), slack: e.slack_min });
    case "OVERLAP": return CD.t("ev.OVERLAP", { other: e.other_work_order_id, overlap: r(e.overlap_min) });
    case "DUPLICATE": return CD.t("ev.DUPLICATE", { other: e.other_work_order_id, share: Math.round(100 * (e.overlap_share || e.share || 0)) });
    case "IMPOSSIBLE_TRAVEL": return CD.t("ev.IMPOSSIBLE_TRAVEL", { other: e.other_work_order_id, gap: r(e.gap_min), need: r(e.required_min ?? e.travel_min) });
    case "PHOTO_REUSED": return CD.t("ev.PHOTO_REUSED", { other: e.first_used_on_work_order || e.other_work_order_id, when: CD.dateTime(e.first_used_at), bits: e.hamming_bits ?? 0 });
    case "PHOTO_MISSING": return CD.t("ev.PHOTO_MISSING", { service: e.service });
    case "PHOTO_STALE": return CD.t("ev.PHOTO_STALE", { taken: CD.dateTime(e.exif_taken_at), apart: r(e.minutes_apart), event: ev(e.event), limit: e.limit_min });
    case "MOCK_LOCATION": return CD.t("ev.MOCK_LOCATION");
    case "SKILL_MISMATCH": return e.certificate_expired_on ? CD.t("ev.SKILL_EXPIRED", { skill: e.required_skill, expired: e.certificate_expired_on }) : CD.t("ev.SKILL_MISMATCH", { skill: e.required_skill, skills: (e.caregiver_skills || []).join("、") || "—" });
    case "CLIENT_ABSENT": return CD.t("ev.CLIENT_ABSENT", { start: CD.dateTime(e.absence_start), end: CD.dateTime(e.absence_end), reason: e.reason || "" });
    case "OVER_ENTITLEMENT": return CD.t("ev.OVER_ENTITLEMENT", { total: e.month_total_min, limit: e.entitlement_min });
    case "DAILY_HOURS": return CD.t("ev.DAILY_HOURS", { total: e.day_total_min, limit: e.limit_min });
    case "UNSCHEDULED": return CD.t("ev.UNSCHEDULED");
    case "LATE_SYNC": return CD.t("ev.LATE_SYNC", { event: ev(e.event), delay: r(e.delay_h), limit: e.limit_h });
    case "MISSING_CHECKIN": case "MISSING_CHECKOUT": return CD.t("ev.MISSING", { event: ev(e.missing || "check_in") });
    default: return Object.entries(e).map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join("; ");
  }
};

CD.COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d", "#31a354"];
