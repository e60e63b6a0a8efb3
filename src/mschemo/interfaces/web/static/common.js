// Shared helpers of the pages: calls to /api/v1, field errors beside their field, plots.
"use strict";
const ms = {
  async call(method, path, body) {
    const opts = { method, headers: {} };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    const res = await fetch("/api/v1" + path, opts);
    let data = null;
    try { data = await res.json(); } catch (e) { data = { error: "the server answered " + res.status + " without a message." }; }
    if (!res.ok) { const err = new Error(data.error || ("HTTP " + res.status)); err.field = data.field; err.status = res.status; throw err; }
    return data;
  },
  clearErrors(form) {
    form.querySelectorAll(".error-row, .field-error").forEach((e) => e.remove());
    form.querySelectorAll("[aria-invalid]").forEach((e) => { e.removeAttribute("aria-invalid"); e.removeAttribute("aria-describedby"); });
    const box = form.querySelector(".error-box"); if (box) { box.hidden = true; box.textContent = ""; }
  },
  // Put the message beside the control named `field` (or in the form's error box).
  showError(form, err, fieldMap) {
    let el = null;
    if (err.field && fieldMap && fieldMap(err.field)) el = fieldMap(err.field);
    if (!el && err.field) el = form.querySelector('[name="' + CSS.escape(err.field) + '"]');
    if (el) {
      const msg = document.createElement("div");
      msg.className = "field-error"; msg.id = "err-" + (el.id || el.name || "field"); msg.setAttribute("role", "alert");
      msg.textContent = err.message;
      el.setAttribute("aria-invalid", "true"); el.setAttribute("aria-describedby", msg.id);
      const tr = el.closest("tr");
      if (tr) {            // a row of a table: the message gets a full-width row below it
        const row = document.createElement("tr"), td = document.createElement("td");
        row.className = "error-row"; td.colSpan = tr.children.length; td.appendChild(msg); row.appendChild(td);
        tr.insertAdjacentElement("afterend", row);
      } else {
        el.insertAdjacentElement("afterend", msg);
      }
      el.focus();
    } else {
      const box = form.querySelector(".error-box");
      box.textContent = err.message; box.hidden = false; box.setAttribute("role", "alert");
    }
  },
  esc(s) { return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]); },
  pct(x) { return x === null || x === undefined ? "n/a" : Math.round(100 * x) + " %"; },
  // A median line with its 5th-95th percentile band.
  // words: what the line and the band are ("typical patient" and "90 % of patients" by default)
  band(x, b, name, color, yaxis, words) {
    const fill = color.replace("rgb(", "rgba(").replace(")", ",0.18)");
    const [line, area] = words ? [words.split(", ")[0], words.split(", ")[1]] : ["typical patient", "90 % of patients"];
    return [
      { x, y: b.p95, mode: "lines", line: { width: 0 }, hoverinfo: "skip", showlegend: false, yaxis },
      { x, y: b.p5, mode: "lines", line: { width: 0 }, fill: "tonexty", fillcolor: fill, name: name + " (" + area + ")", hoverinfo: "skip", yaxis },
      { x, y: b.median, mode: "lines", line: { color, width: 2.5 }, name: name + " (" + line + ")", yaxis },
    ];
  },
  layout(extra) {
    return Object.assign({ margin: { l: 55, r: 10, t: 10, b: 45 }, legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" }, font: { size: 12 },
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "#fff", hovermode: "x unified" }, extra || {});
  },
  plot(id, traces, layout) {
    const el = document.getElementById(id);
    return Plotly.react(el, traces, ms.layout(layout), { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"] });
  },
};
document.addEventListener("DOMContentLoaded", () => {
  const page = document.body.dataset.page;
  document.querySelectorAll("nav a").forEach((a) => { if (a.dataset.nav === page) a.setAttribute("aria-current", "page"); });
});
