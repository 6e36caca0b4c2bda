// The Gantt timeline: a row per caregiver (label, skills, shift), a bar per stop, a "now" line.
// Bars are buttons (each with an accessible name); draggable bars move by pointer (mouse, pen,
// finger) to another row or time, and the screen's onDrop asks the server.
"use strict";

CD.timeline = function timeline(el, opts) {
  const h = CD.h;
  const LABEL_W = opts.labelWidth || (window.innerWidth <= 600 ? 120 : 190);
  const LANE_H = 26;
  const SNAP_MIN = 5;
  let cfg = null; // {start, end, rows, items, now, focus: where the first view begins when "now" is not shown}
  let pxPerMin = 1;
  let rowsEl = {}; // row id -> {el, top, height}
  let barsEl = {}; // item id -> element
  const root = h("div", { class: "tl", role: "region", "aria-label": opts.label || "" });
  el.replaceChildren(root);

  const x = (d) => LABEL_W + ((d - cfg.start) / 60000) * pxPerMin;
  const timeAt = (px) => new Date(cfg.start.getTime() + ((px - LABEL_W) / pxPerMin) * 60000);

  function lanes(items) {
    // Greedy lanes: an item goes to the first lane whose last item ended before it starts.
    const ends = [];
    const out = new Map();
    for (const it of [...items].sort((a, b) => a.start - b.start)) {
      let lane = ends.findIndex((e) => e <= it.start);
      if (lane < 0) { lane = ends.length; ends.push(0); }
      ends[lane] = it.end;
      out.set(it, lane);
    }
    return { of: out, count: Math.max(1, ends.length) };
  }

  function render(next) {
    cfg = next;
    const minutes = (cfg.end - cfg.start) / 60000;
    const width = Math.max(el.clientWidth || 900, 600);
    pxPerMin = opts.pxPerMin || Math.max(opts.minPxPerMin || 2, (width - LABEL_W - 16) / minutes);
    const gridW = LABEL_W + minutes * pxPerMin;
    const grid = h("div", { class: "tl-grid", style: { width: `${gridW}px` } });
    // Axis: an hour tick per hour, in the configured zone.
    const axis = h("div", { class: "tl-axis", "aria-hidden": "true" }, h("div", { class: "tl-corner" }, opts.corner || ""));
    const first = new Date(Math.ceil(cfg.start / 3600000) * 3600000);
    for (let t = first; t < cfg.end; t = new Date(t.getTime() + 3600000)) {
      // The tick at the very start stands right of its line, not half under the names.
      axis.append(h("span", { class: t.getTime() === cfg.start.getTime() ? "tl-tick first" : "tl-tick", style: { left: `${x(t)}px` } }, CD.time(t.toISOString())));
    }
    grid.append(axis);
    const byRow = new Map(cfg.rows.map((r) => [r.id, []]));
    for (const it of cfg.items) if (byRow.has(it.row)) byRow.get(it.row).push(it);
    rowsEl = {};
    barsEl = {};
    let top = 0;
    const frag = document.createDocumentFragment();
    for (const row of cfg.rows) {
      const items = byRow.get(row.id);
      const ln = lanes(items);
      const height = Math.max(38, ln.count * LANE_H + 8);
      const rowEl = h("div", { class: `tl-row ${row.cls || ""}`, style: { height: `${height}px` }, "data-row": row.id });
      rowEl.append(h("div", { class: "tl-label", title: row.title || "" },
        h("strong", {}, row.label), row.sub ? h("span", { class: "tl-sub" }, row.sub) : null));
      if (row.shift) {
        rowEl.append(h("div", { class: "tl-shift", style: { left: `${x(row.shift[0])}px`, width: `${Math.max(0, x(row.shift[1]) - x(row.shift[0]))}px` } }));
      }
      for (const it of items) {
        const left = x(it.start);
        const w = Math.max(6, x(it.end) - left);
        if (it.travelMin) {
          const tw = it.travelMin * pxPerMin;
          rowEl.append(h("div", { class: "tl-travel", style: { left: `${left - tw}px`, width: `${tw}px`, top: `${4 + ln.of.get(it) * LANE_H + 10}px` } }));
        }
        const bar = h("button", {
          type: "button",
          class: `tl-bar ${it.cls || ""}${it.draggable ? " draggable" : ""}`,
          style: { left: `${left}px`, width: `${w}px`, top: `${4 + ln.of.get(it) * LANE_H}px`, ...(it.color ? { borderLeftColor: it.color } : {}) },
          "aria-label": it.title,
          title: it.title,
          "data-item": it.id,
        }, it.label);
        bar.addEventListener("pointerdown", (ev) => pointerDown(ev, it, bar));
        bar.addEventListener("click", (ev) => { if (!bar.dataset.dragged) opts.onSelect && opts.onSelect(it); delete bar.dataset.dragged; ev.stopPropagation(); });
        barsEl[it.id] = bar;
        rowEl.append(bar);
      }
      rowsEl[row.id] = { el: rowEl, top, height };
      top += height;
      frag.append(rowEl);
    }
    grid.append(frag);
    if (cfg.now && cfg.now > cfg.start && cfg.now < cfg.end) {
      grid.append(h("div", { class: "tl-now", style: { left: `${x(cfg.now)}px` }, "aria-hidden": "true" }, h("span", {}, CD.time(cfg.now.toISOString()))));
    }
    const scroll = h("div", { class: "tl-scroll" }, grid);
    const before = root.querySelector(".tl-scroll");
    const keep = before ? [before.scrollLeft, before.scrollTop] : null;
    root.replaceChildren(scroll);
    if (keep) {
      // A redraw (after a move, a refresh) keeps where the dispatcher was looking.
      [scroll.scrollLeft, scroll.scrollTop] = keep;
    } else {
      // The first view: "now" when it is on the axis (and the screen wants it), else the start of
      // working hours the screen gives (cfg.focus: the first shift, or 07:00), never midnight.
      const nowShown = cfg.now && opts.scrollToNow && cfg.now > cfg.start && cfg.now < cfg.end;
      const left = nowShown ? Math.max(0, x(cfg.now) - LABEL_W - 120)
        : cfg.focus ? Math.max(0, x(cfg.focus) - LABEL_W - 20 * pxPerMin) : 0;
      scroll.scrollLeft = left;
      scroll.dataset.firstLeft = String(Math.round(left));
      requestAnimationFrame(() => { if (!scroll.scrollLeft) scroll.scrollLeft = left; });
    }
  }

  // ---- drag and drop
  let drag = null;
  function pointerDown(ev, it, bar) {
    if (!it.draggable || ev.button > 0) return;
    const grid = root.querySelector(".tl-grid");
    const gridBox = grid.getBoundingClientRect();
    drag = { it, bar, x0: ev.clientX, y0: ev.clientY, dx: ev.clientX - bar.getBoundingClientRect().left, grid, gridBox, moved: false, ghost: null, target: null };
    bar.setPointerCapture(ev.pointerId);
    bar.addEventListener("pointermove", pointerMove);
    bar.addEventListener("pointerup", pointerUp, { once: true });
    bar.addEventListener("pointercancel", cancel, { once: true });
  }
  function rowAt(clientY) {
    const y = clientY - drag.grid.getBoundingClientRect().top - 26; // below the axis
    for (const [id, r] of Object.entries(rowsEl)) if (y >= r.top && y < r.top + r.height) return id;
    return null;
  }
  function pointerMove(ev) {
    if (!drag) return;
    if (!drag.moved && Math.abs(ev.clientX - drag.x0) + Math.abs(ev.clientY - drag.y0) < 5) return;
    drag.moved = true;
    if (!drag.ghost) {
      drag.ghost = drag.bar.cloneNode(true);
      drag.ghost.classList.add("ghost");
      drag.ghost.removeAttribute("data-item");
      drag.ghost.setAttribute("aria-hidden", "true");
      drag.ghost.tabIndex = -1;
      drag.grid.append(drag.ghost);
    }
    const box = drag.grid.getBoundingClientRect();
    const left = ev.clientX - box.left - drag.dx;
    const rowId = rowAt(ev.clientY);
    const snapped = snap(timeAt(left));
    drag.target = rowId === null ? null : { row: rowId, start: snapped };
    Object.assign(drag.ghost.style, { left: `${x(snapped)}px`, top: `${ev.clientY - box.top - 12}px` });
    drag.ghost.textContent = `${CD.time(snapped.toISOString())} ${drag.it.label}`;
    for (const r of Object.values(rowsEl)) r.el.classList.remove("drop-target");
    if (rowId !== null) rowsEl[rowId].el.classList.add("drop-target");
  }
  function snap(d) {
    const step = SNAP_MIN * 60000;
    return new Date(Math.round(d.getTime() / step) * step);
  }
  function finish() {
    if (!drag) return;
    drag.bar.removeEventListener("pointermove", pointerMove);
    if (drag.ghost) drag.ghost.remove();
    for (const r of Object.values(rowsEl)) r.el.classList.remove("drop-target");
  }
  function cancel() { finish(); drag = null; }
  function pointerUp() {
    const d = drag;
    finish();
    drag = null;
    if (!d || !d.moved || !d.target) return;
    d.bar.dataset.dragged = "1";
    setTimeout(() => delete d.bar.dataset.dragged, 0);
    if (opts.onDrop) opts.onDrop(d.it, d.target.row, d.target.start);
  }

  return {
    render,
    // A message beside a bar (a refusal, a new time); role=alert so it is heard.
    note(itemId, text, kind) {
      root.querySelectorAll(".tl-note").forEach((n) => n.remove());
      const bar = barsEl[itemId];
      if (!bar) return null;
      const note = h("div", { class: `tl-note ${kind || ""}`, role: "alert", style: { left: `${bar.offsetLeft + bar.offsetWidth + 6}px`, top: `${bar.offsetTop - 2}px` } }, text);
      bar.parentElement.append(note);
      return note;
    },
    pending(itemId, on) { const b = barsEl[itemId]; if (b) b.classList.toggle("pending", on); },
    select(itemId) {
      root.querySelectorAll(".tl-bar.selected").forEach((b) => b.classList.remove("selected"));
      const b = barsEl[itemId];
      if (b) { b.classList.add("selected"); b.scrollIntoView({ block: "nearest", inline: "nearest" }); }
    },
    highlightRow(rowId) {
      for (const [id, r] of Object.entries(rowsEl)) r.el.classList.toggle("highlight", String(id) === String(rowId));
    },
    bar: (itemId) => barsEl[itemId],
  };
};
