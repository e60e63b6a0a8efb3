// The dose planner: the form's rows become a patient file's text (CSV), read in memory by the server.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const form = $("plan-form");
  const RECORDS = ["id", "drug", "sex", "age", "height", "weight", "dose", "wbc", "anc", "alc", "lvef"];
  let fileText = null, fileFormat = "csv";

  function addRow(r) {
    r = r || {};
    const tr = document.createElement("tr");
    const n = $("rows").children.length + 1;
    const opts = RECORDS.map((k) => '<option' + (k === r.record ? " selected" : "") + ">" + k + "</option>").join("");
    tr.innerHTML = '<td><select aria-label="record kind, row ' + n + '" data-col="record">' + opts + "</select></td>"
      + '<td><input type="text" aria-label="date, row ' + n + '" data-col="date" placeholder="YYYY-MM-DD" value="' + ms.esc(r.date) + '"></td>'
      + '<td><input type="text" aria-label="value, row ' + n + '" data-col="value" value="' + ms.esc(r.value) + '"></td>'
      + '<td><input type="text" aria-label="unit, row ' + n + '" data-col="unit" value="' + ms.esc(r.unit) + '"></td>'
      + '<td><input type="text" aria-label="duration, row ' + n + '" data-col="duration" value="' + ms.esc(r.duration) + '"></td>'
      + '<td><button type="button" class="secondary" aria-label="remove row ' + n + '">×</button></td>';
    tr.querySelector("button").addEventListener("click", () => tr.remove());
    $("rows").appendChild(tr);
  }

  function csvCell(s) { s = String(s || "").trim(); return /[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s; }
  function formCsv() {
    const lines = ["record,date,value,unit,duration"];
    for (const tr of $("rows").children) {
      const v = (c) => tr.querySelector('[data-col="' + c + '"]').value;
      lines.push(["record", "date", "value", "unit", "duration"].map((c) => csvCell(v(c))).join(","));
    }
    return lines.join("\n") + "\n";
  }

  function parseCsv(text) {
    const rows = [];
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.trim();
      if (!line || line.startsWith("#") || line.toLowerCase().startsWith("record,")) continue;
      const [record, date, value, unit, duration] = line.split(",");
      rows.push({ record, date, value, unit, duration });
    }
    return rows;
  }

  async function loadExample() {
    const name = $("p-example").value;
    const ex = await ms.call("GET", "/patients/examples/" + encodeURIComponent(name));
    $("rows").innerHTML = "";
    if (ex.format === "csv") { parseCsv(ex.text).forEach(addRow); form.querySelector("input[value=form]").checked = true; fileText = null; }
    else { fileText = ex.text; fileFormat = ex.format; form.querySelector("input[value=file]").checked = true; }
    sourceChanged();
  }

  function sourceChanged() {
    const src = form.querySelector("input[name=source]:checked").value;
    $("upload").hidden = src !== "file"; $("entry-fields").hidden = src !== "form";
  }

  function body() {
    const b = {};
    for (const k of ["on", "target_low", "target_high", "max_risk", "cap_region"]) { const v = form.elements[k].value.trim(); if (v) b[k] = v; }
    if (form.querySelector("input[name=source]:checked").value === "file") {
      if (fileText === null) throw Object.assign(new Error("choose a patient file (.csv or .json), or enter the patient in the form."), { field: "patient_file" });
      b.patient_text = fileText; b.patient_format = fileFormat;
    } else {
      b.patient_text = formCsv(); b.patient_format = "csv";
    }
    return b;
  }

  // "line N" of the CSV built from the form is row N-1 of the table (line 1 is the header)
  function fieldFor(err) {
    return (name) => {
      if (name === "patient_file") return $("p-file");
      const m = /line (\d+)/.exec(err.message);
      if (m && form.querySelector("input[name=source]:checked").value === "form") {
        const tr = $("rows").children[Number(m[1]) - 2];
        if (tr) return /date/.test(err.message.split(";")[0]) && !/value|unit|duration/.test(err.message.split(";")[0])
          ? tr.querySelector('[data-col="date"]') : tr.querySelector('[data-col="value"]');
      }
      return form.elements[name] || null;
    };
  }

  function draw(p) {
    const verdictText = { give: "GIVE", "needs review": "NEEDS REVIEW: GIVE ONLY AFTER THE CHECKS BELOW", delay: "DELAY", review: "REVIEW", withhold: "WITHHOLD", stop: "STOP" };
    const cls = p.verdict.replace(/\s+/g, "-");
    const rows = (list) => list.map((r) => "<tr><th scope=\"row\">" + ms.esc(r.label) + "</th><td>" + ms.esc(r.text) + "</td></tr>").join("");
    const checks = p.checks.map((c) => "<tr><td><span class=\"badge " + ms.esc(c.status) + "\">" + ms.esc(c.status) + "</span></td><td>" + ms.esc(c.rule)
      + "</td><td>" + ms.esc(c.value) + "</td><td>" + ms.esc(c.reason) + "</td></tr>").join("");
    const unitCol = Object.keys(p.candidates[0] || {}).find((k) => k.startsWith("dose_") && k !== "dose_mg") || "dose_mg";
    const cands = p.candidates.map((c) => "<tr" + (c.proposed ? ' style="font-weight:700"' : "") + "><td>" + ms.esc(c[unitCol]) + "</td><td>" + Math.round(c.dose_mg)
      + "</td><td>" + (c.p_target === null ? "–" : ms.pct(c.p_target)) + "</td><td>" + ms.pct(c.p_grade3) + "</td><td>" + (c.within_risk ? "yes" : "no") + "</td></tr>").join("");
    const params = p.parameters.map((r) => "<tr><td>" + ms.esc(r.parameter) + "</td><td>" + Number(r.map).toPrecision(3) + " " + ms.esc(r.unit)
      + "</td><td>" + Number(r.p5).toPrecision(3) + "–" + Number(r.p95).toPrecision(3) + "</td><td class=\"small\">" + ms.esc(r.description) + "</td></tr>").join("");
    $("plan-result").innerHTML = '<div class="card"><div id="plan-verdict" class="verdict ' + ms.esc(cls) + '">' + ms.esc(verdictText[p.verdict] || p.verdict.toUpperCase())
      + '</div><p id="plan-dose"><b>' + ms.esc(p.dose_text) + "</b></p><p>" + ms.esc(p.reason) + "</p>"
      + '<table><tbody>' + rows(p.proposal) + "</tbody></table>"
      + (p.notes.length ? "<ul>" + p.notes.map((n) => "<li>" + ms.esc(n) + "</li>").join("") + "</ul>" : "")
      + '<p><button type="button" id="open-sheet" class="secondary">Open the printable infusion-centre sheet</button></p>'
      + '<p class="small disclaimer">' + ms.esc(p.disclaimer) + "</p></div>"
      + '<div class="card"><h2>Predicted counts under the plan</h2><div id="plot-plan" class="plot" role="img" aria-label="Measured and predicted counts"></div></div>'
      + '<div class="card"><h2>Checks</h2><div class="scroll"><table class="stack"><thead><tr><th>Status</th><th>Check</th><th>Value</th><th>Why</th></tr></thead><tbody>' + checks + "</tbody></table></div></div>"
      + '<div class="card"><h2>Candidate doses</h2><div class="scroll"><table id="candidates"><thead><tr><th>Dose (' + ms.esc(unitCol.replace("dose_", "").replace("_per_", "/")) + ')</th><th>mg</th><th>P(target)</th><th>P(grade ≥ 3)</th><th>within the limit</th></tr></thead><tbody>' + cands + "</tbody></table></div></div>"
      + '<div class="card"><h2>The patient\'s estimated parameters</h2><div class="scroll"><table><thead><tr><th>Parameter</th><th>Estimate</th><th>90 % interval</th><th>What it is</th></tr></thead><tbody>' + params + "</tbody></table></div></div>";
    const colors = { wbc: "rgb(36,86,166)", anc: "rgb(179,38,30)", alc: "rgb(27,122,58)" };
    let traces = [];
    for (const k of ["wbc", "anc", "alc"]) {
      const pr = p.predicted.filter((r) => r.kind === k);
      if (!pr.length) continue;
      // the band a measured count should fall in: the posterior with the measurement error added
      const b = { p5: pr.map((r) => r.pi5_1e9_per_L), p95: pr.map((r) => r.pi95_1e9_per_L), median: pr.map((r) => r.median_1e9_per_L) };
      traces = traces.concat(ms.band(pr.map((r) => r.date), b, k.toUpperCase(), colors[k], undefined, "median, 90 % prediction interval"));
      const m = p.measured.filter((r) => r.kind === k);
      traces.push({ x: m.map((r) => r.date), y: m.map((r) => r.value), mode: "markers", name: k.toUpperCase() + " measured", marker: { color: colors[k], size: 8 } });
    }
    const shapes = p.doses.map((d) => ({ type: "line", x0: d.date, x1: d.date, yref: "paper", y0: 0, y1: 1, line: { color: "#999", width: 1 } }));
    if (p.date) shapes.push({ type: "line", x0: p.date, x1: p.date, yref: "paper", y0: 0, y1: 1, line: { color: "#2456a6", dash: "dash", width: 2 } });
    if (p.target) shapes.push({ type: "rect", xref: "paper", x0: 0, x1: 1, y0: p.target.low, y1: p.target.high, fillcolor: "rgba(27,122,58,0.12)", line: { width: 0 } });
    ms.plot("plot-plan", traces, { shapes, yaxis: { title: { text: "×10⁹/L" } } });
    $("open-sheet").addEventListener("click", openSheet);
  }

  let lastBody = null;
  async function openSheet() {
    const res = await fetch("/api/v1/personalise/sheet", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(lastBody) });
    const html = await res.text();
    const url = URL.createObjectURL(new Blob([html], { type: "text/html" }));
    window.open(url, "_blank", "noopener");
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    ms.clearErrors(form);
    let b;
    try { b = body(); } catch (err) { ms.showError(form, err, fieldFor(err)); return; }
    $("p-submit").disabled = true; $("p-status").textContent = "Fitting the model to the counts…";
    try { const p = await ms.call("POST", "/personalise", b); lastBody = b; draw(p); $("p-status").textContent = ""; }
    catch (err) { ms.showError(form, err, fieldFor(err)); $("p-status").textContent = ""; }
    finally { $("p-submit").disabled = false; }
  });

  document.addEventListener("DOMContentLoaded", async () => {
    const d = await ms.call("GET", "/drugs");
    $("p-example").innerHTML = d.example_patients.map((e) => "<option>" + ms.esc(e) + "</option>").join("");
    $("p-example").value = "mitoxantrone";
    $("p-load").addEventListener("click", loadExample);
    $("add-row").addEventListener("click", () => addRow());
    form.querySelectorAll("input[name=source]").forEach((r) => r.addEventListener("change", sourceChanged));
    $("p-file").addEventListener("change", async () => {
      const f = $("p-file").files[0];
      fileText = f ? await f.text() : null; fileFormat = f && f.name.toLowerCase().endsWith(".json") ? "json" : "csv";
    });
    await loadExample();
  });
})();
