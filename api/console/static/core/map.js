// The map (Leaflet): tiles only when CAREDISPATCH_TILE_URL is set, else a plain background with
// a scale bar. AMap/Tencent tiles are GCJ-02: points are shifted for display only.
"use strict";

CD.tiles = {
  url: document.querySelector('meta[name="cd-tile-url"]').content || "",
  crs: document.querySelector('meta[name="cd-tile-crs"]').content || "wgs84",
};

(function () {
  const PI = Math.PI, A = 6378245.0, EE = 0.00669342162296594323;
  const outOfChina = (lat, lon) => lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271;
  function tLat(x, y) {
    let r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += ((20 * Math.sin(6 * x * PI) + 20 * Math.sin(2 * x * PI)) * 2) / 3;
    r += ((20 * Math.sin(y * PI) + 40 * Math.sin((y / 3) * PI)) * 2) / 3;
    r += ((160 * Math.sin((y / 12) * PI) + 320 * Math.sin((y * PI) / 30)) * 2) / 3;
    return r;
  }
  function tLon(x, y) {
    let r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += ((20 * Math.sin(6 * x * PI) + 20 * Math.sin(2 * x * PI)) * 2) / 3;
    r += ((20 * Math.sin(x * PI) + 40 * Math.sin((x / 3) * PI)) * 2) / 3;
    r += ((150 * Math.sin((x / 12) * PI) + 300 * Math.sin((x / 30) * PI)) * 2) / 3;
    return r;
  }
  // WGS84 -> GCJ-02 (the published transform; stored coordinates stay WGS84).
  CD.toGcj02 = function (lat, lon) {
    if (outOfChina(lat, lon)) return [lat, lon];
    let dLat = tLat(lon - 105, lat - 35), dLon = tLon(lon - 105, lat - 35);
    const radLat = (lat / 180) * PI;
    let magic = Math.sin(radLat);
    magic = 1 - EE * magic * magic;
    const sq = Math.sqrt(magic);
    dLat = (dLat * 180) / (((A * (1 - EE)) / (magic * sq)) * PI);
    dLon = (dLon * 180) / ((A / sq) * Math.cos(radLat) * PI);
    return [lat + dLat, lon + dLon];
  };
})();

CD.shown = (lat, lon) => (CD.tiles.url && CD.tiles.crs === "gcj02" ? CD.toGcj02(lat, lon) : [lat, lon]);

CD.map = function map(el, opts) {
  opts = opts || {};
  // Vector layers on one canvas: a 1,000-visit day draws in a frame, not in 2,000 SVG nodes.
  const m = L.map(el, { attributionControl: Boolean(CD.tiles.url), zoomSnap: 0.25, keyboard: true, preferCanvas: true });
  if (CD.tiles.url) L.tileLayer(CD.tiles.url, { maxZoom: 19, subdomains: "abcd1234" }).addTo(m);
  else el.classList.add("plain-map");
  L.control.scale({ imperial: false, maxWidth: 140 }).addTo(m);
  const group = L.featureGroup().addTo(m);
  const routes = {};
  m.setView([29.31, 120.08], 12);
  const numberIcon = (n, color, big) => {
    const span = CD.h("span", { class: `stop-no${big ? " big" : ""}`, style: { background: color } }, String(n));
    return L.divIcon({ className: "stop-icon", html: span, iconSize: big ? [22, 22] : [18, 18] });
  };
  const api = {
    leaflet: m,
    clear() { group.clearLayers(); for (const k of Object.keys(routes)) delete routes[k]; },
    // pts: [{lat, lon, n, title, onclick}]
    // plain: dots instead of numbered markers (big days: hundreds of DOM markers are slow).
    route(id, color, pts, start, plain) {
      const ll = pts.map((p) => CD.shown(p.lat, p.lon));
      const path = start ? [CD.shown(start.lat, start.lon), ...ll] : ll;
      const line = L.polyline(path, { color, weight: 3, opacity: 0.85, interactive: false });
      const marks = pts.map((p, i) => {
        const mk = plain
          ? L.circleMarker(ll[i], { radius: 4, color: "#fff", weight: 1, fillColor: color, fillOpacity: 1 }).bindTooltip(p.title)
          : L.marker(ll[i], { icon: numberIcon(p.n, color), title: p.title, alt: p.title, keyboard: false });
        if (p.onclick) mk.on("click", p.onclick);
        return mk;
      });
      const lg = L.featureGroup([line, ...marks]).addTo(group);
      routes[id] = { lg, line, marks, color };
    },
    point(lat, lon, o) {
      const mk = L.circleMarker(CD.shown(lat, lon), { radius: o.radius || 6, color: o.color || "#333", weight: 2, fillColor: o.fill || "#fff", fillOpacity: 1 });
      if (o.title) mk.bindTooltip(o.title);
      if (o.label) mk.bindTooltip(o.label, { permanent: true, direction: "right", className: "map-label" });
      return mk.addTo(group);
    },
    square(lat, lon, o) {
      const icon = L.divIcon({ className: "stop-icon", html: CD.h("span", { class: `map-square ${o.cls || ""}` }, o.text || ""), iconSize: [16, 16] });
      return L.marker(CD.shown(lat, lon), { icon, title: o.title, alt: o.title, keyboard: false }).addTo(group);
    },
    circle(lat, lon, radius, o) {
      return L.circle(CD.shown(lat, lon), { radius, color: o.color || "#1f77b4", weight: 1, fillOpacity: 0.08, dashArray: "4 4" }).addTo(group);
    },
    line(a, b, o) {
      const ln = L.polyline([CD.shown(a.lat, a.lon), CD.shown(b.lat, b.lon)], { color: o.color || "#555", weight: 2, dashArray: "3 5" }).addTo(group);
      if (o.label) ln.bindTooltip(o.label, { permanent: true, className: "map-label" });
      return ln;
    },
    highlight(id) {
      for (const [k, r] of Object.entries(routes)) {
        const on = id === null || id === undefined || String(k) === String(id);
        r.line.setStyle({ weight: on && id != null ? 6 : 3, opacity: on ? 0.9 : 0.15 });
        r.marks.forEach((mk) => (mk.setOpacity ? mk.setOpacity(on ? 1 : 0.25) : mk.setStyle({ fillOpacity: on ? 1 : 0.25, opacity: on ? 1 : 0.25 })));
        if (on && id != null) r.lg.eachLayer((l) => l.bringToFront && l.bringToFront());
      }
    },
    fit(pad) {
      m.invalidateSize();
      const b = group.getBounds();
      if (b.isValid()) m.fitBounds(b, { padding: [pad || 20, pad || 20], maxZoom: 17 });
    },
  };
  return api;
};
