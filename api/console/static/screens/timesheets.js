// Timesheet upload (provider admin): the template, the file, and a row-by-row error table.
"use strict";

CD.i18n.add({
  zh: {
    "tab.timesheets": "工时表导入", template_csv: "下载模板（CSV）", template_xlsx: "下载模板（Excel）", ts_file: "工时表文件（CSV 或 Excel，可为 GBK 编码）",
    upload: "上传", upload_ok: "已导入：共 {rows} 行，新建 {created} 张工单，{already} 行此前已收到。", upload_bad: "未保存任何数据：",
    row_col: "行", column_col: "列", problem_col: "问题", ts_help: "每行一次服务。任何一行有误时整个文件都不会保存，请按下表修改后重新上传整个文件。",
  },
  en: {
    "tab.timesheets": "Timesheets", template_csv: "Download template (CSV)", template_xlsx: "Download template (Excel)", ts_file: "Timesheet file (CSV or Excel; GBK is fine)",
    upload: "Upload", upload_ok: "Imported: {rows} rows, {created} new work orders, {already} already received.", upload_bad: "Nothing was stored:",
    row_col: "Row", column_col: "Column", problem_col: "Problem", ts_help: "One row per visit. If any row is wrong nothing is stored: fix the rows below and upload the whole file again.",
  },
});

(function () {
  const h = CD.h;
  const t = CD.t;
  // The server words row problems as "English / 中文": show the current language's half.
  const half = (text) => { const i = String(text).indexOf(" / "); return i < 0 ? String(text) : CD.lang === "zh" ? String(text).slice(i + 3) : String(text).slice(0, i); };

  async function render(panel) {
    const file = h("input", { type: "file", name: "file", accept: ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", required: true, "aria-label": t("ts_file") });
    const out = h("div", { role: "status", "aria-live": "polite" });
    const form = h("form", { class: "card" },
      h("p", { class: "muted" }, t("ts_help")),
      h("div", { class: "row" },
        h("button", { type: "button", class: "secondary", onclick: () => CD.download("/timesheets/template.csv", "timesheet-template.csv").catch(CD.fail) }, t("template_csv")),
        h("button", { type: "button", class: "secondary", onclick: () => CD.download("/timesheets/template.xlsx", "timesheet-template.xlsx").catch(CD.fail) }, t("template_xlsx"))),
      CD.field(t("ts_file"), file), h("button", { type: "submit" }, t("upload")));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (!file.files.length) return;
      const data = new FormData();
      data.append("file", file.files[0]);
      try {
        const r = await CD.api.upload("/timesheets", data);
        out.replaceChildren(h("p", { class: "banner ok" }, t("upload_ok", { rows: r.rows, created: r.created, already: r.already_received })));
      } catch (err) {
        const rows = [];
        for (const [row, cols] of Object.entries(err.errors || {})) {
          if (cols && typeof cols === "object" && !Array.isArray(cols)) for (const [col, msg] of Object.entries(cols)) rows.push([row.replace("row ", ""), col, half(msg)]);
          else rows.push([row, "", half([].concat(cols).join("; "))]);
        }
        out.replaceChildren(h("p", { class: "banner bad" }, `${t("upload_bad")} ${err.message}`),
          rows.length ? CD.table([t("row_col"), t("column_col"), t("problem_col")], rows, { label: t("problem_col") }) : "");
      }
    });
    panel.append(form, out);
    panel.dataset.drawn = "1";
  }

  CD.screen({ id: "timesheets", roles: ["provider_admin"], label: "tab.timesheets", render });
})();
