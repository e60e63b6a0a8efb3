// The explainer: every choice re-runs the chain (POST /api/v1/simulate) and re-draws the pictures.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const form = $("controls");
  let drugs = null, pending = 0, timer = null;
  const UNITS = { "mg/m2": "mg/m²", "mg/kg": "mg/kg" };
  const COLORS = { wbc: "rgb(36,86,166)", anc: "rgb(179,38,30)", alc: "rgb(27,122,58)" };

  function body() {
    const b = { drug: $("drug").value, years: Number($("years").value), treatments: [] };
    if (b.drug !== "cladribine") { b.dose = Number($("dose").value); b.every = $("every").value; b.courses = Number($("courses").value); }
    form.querySelectorAll("input[name=treatments]:checked").forEach((c) => b.treatments.push(c.value));
    return b;
  }

  function setDrug() {
    const d = drugs.explainer[$("drug").value];
    const tablets = "label" in d;
    $("dose-controls").hidden = tablets; $("tablets-note").hidden = !tablets;
    if (!tablets) {
      Object.assign($("dose"), { min: d.min, max: d.max, step: d.step, value: d.dose });
      $("dose-unit").textContent = UNITS[d.unit] || d.unit;
      $("every").value = d.every; $("courses").value = d.courses;
    }
    outputs();
  }

  function outputs() {
    $("dose-out").textContent = $("dose").value; $("courses-out").textContent = $("courses").value;
    $("years-out").textContent = $("years").value;
  }

  function schedule() { clearTimeout(timer); timer = setTimeout(run, 60); }

  async function run() {
    const ticket = ++pending;
    const t0 = performance.now();
    $("status").textContent = "Simulating…";
    ms.clearErrors(form);
    let data;
    try { data = await ms.call("POST", "/explain", body()); }
    catch (err) { if (ticket === pending) { ms.showError(form, err); $("status").textContent = ""; } return; }
    if (ticket !== pending) return;            // a newer choice is on its way
    const t1 = performance.now();
    draw(data);
    const ms_ = Math.round(performance.now() - t0);
    document.body.dataset.lastDrawMs = String(ms_);                    // choice to pictures
    document.body.dataset.lastAnswerMs = String(Math.round(t1 - t0));  // of which the server's answer
    $("status").textContent = "Updated in " + ms_ + " ms (" + data.n + " virtual patients, seed " + data.seed + ").";
  }

  function years(days) { return days.map((d) => d / 365.25); }

  function draw(d) {
    $("n-patients").textContent = d.n;
    $("regimen-text").textContent = d.drug === "cladribine"
      ? "Cladribine tablets: 3.5 mg per kg of body weight over two years (two treatment weeks in each year)."
      : d.drug.charAt(0).toUpperCase() + d.drug.slice(1) + ": " + d.regimen.replace("mg/m2", "mg per m² of body surface")
        + ". Each infusion is given at an infusion centre by an infusion nurse, after a blood count.";
    const c = d.concentration;
    ms.plot("plot-conc", ms.band(c.day, c, "drug level", "rgb(36,86,166)"),
      { xaxis: { title: { text: "days after the first dose" } }, yaxis: { title: { text: "µg per litre" }, type: "log" } });
    let traces = [];
    for (const k of ["wbc", "anc", "alc"]) traces = traces.concat(ms.band(years(d.counts[k].day), d.counts[k], d.counts[k].label, COLORS[k]));
    ms.plot("plot-counts", traces, { xaxis: { title: { text: "years" } }, yaxis: { title: { text: "cells ×10⁹ per litre" } } });
    $("n-anc-g3").textContent = ms.pct(d.toxicity.anc.grade_3_or_worse);
    $("n-alc-low").textContent = d.toxicity.alc.lowest_median + " ×10⁹/L";
    const r = d.relapses;
    ms.plot("plot-relapses", ms.band(years(r.treated.day), r.treated, "with " + d.drug, "rgb(36,86,166)", undefined, "mean, 90 % interval")
      .concat(ms.band(years(r.untreated.day), r.untreated, "without chemotherapy", "rgb(154,103,0)", undefined, "mean, 90 % interval")),
      { xaxis: { title: { text: "years" } }, yaxis: { title: { text: "relapses per patient so far" } } });
    $("n-arr-treated").textContent = (d.summary.treated["annualised relapse rate"] ?? 0).toFixed(2);
    $("n-arr-untreated").textContent = (d.summary.untreated["annualised relapse rate"] ?? 0).toFixed(2);
    const s = d.symptoms;
    ms.plot("plot-symptoms", [
      { type: "bar", x: s.map((x) => x.symptom), y: s.map((x) => x.treated), name: "with " + d.drug, marker: { color: "rgb(36,86,166)" } },
      { type: "bar", x: s.map((x) => x.symptom), y: s.map((x) => x.untreated), name: "without chemotherapy", marker: { color: "rgb(154,103,0)" } },
    ], { barmode: "group", xaxis: { automargin: true, tickangle: -35 }, yaxis: { title: { text: "share of patients" }, tickformat: ".0%", range: [0, 1] }, hovermode: "closest" });
    const e = d.edss;
    const meanBand = (b) => ({ p5: b.p5, p95: b.p95, median: b.mean });
    const top = Math.min(10, Math.max(...e.treated.p95, ...e.untreated.p95) + 1);
    ms.plot("plot-edss", ms.band(years(e.treated.day), meanBand(e.treated), "with " + d.drug, "rgb(36,86,166)", undefined, "mean, 90 % of patients")
      .concat(ms.band(years(e.untreated.day), meanBand(e.untreated), "without chemotherapy", "rgb(154,103,0)", undefined, "mean, 90 % of patients")),
      { xaxis: { title: { text: "years" } }, yaxis: { title: { text: "EDSS (sustained)" }, range: [0, top] } });
    const ch = (x) => (x >= 0 ? "+" : "") + (x ?? 0).toFixed(2);
    $("n-edss-treated").textContent = ch(d.summary.treated["mean EDSS change (sustained)"]);
    $("n-edss-untreated").textContent = ch(d.summary.untreated["mean EDSS change (sustained)"]);
  }

  async function treatments() {
    const t = (await ms.call("GET", "/treatments")).treatments;
    $("treatment-boxes").innerHTML = t.map((x) => '<label class="checkline"><input type="checkbox" name="treatments" value="'
      + ms.esc(x.key) + '"> ' + ms.esc(x.title) + "</label>").join("");
    $("treatments").innerHTML = t.map((x) => '<div class="card treatment"><h3>' + ms.esc(x.title) + "</h3>"
      + '<p class="small">Acts on: ' + ms.esc(x.link) + (x.no_effect_found ? ' · <span class="none">no effect found</span>' : "") + "</p>"
      + x.evidence.map((e) => '<p class="small">' + ms.esc(e.description) + ": <b>" + ms.esc(e.effect) + "</b><br><span class=\"muted\">"
        + ms.esc(e.source) + (e.table ? " — " + ms.esc(e.table) : "") + "</span></p>").join("") + "</div>").join("");
    form.querySelectorAll("input[name=treatments]").forEach((c) => c.addEventListener("change", schedule));
  }

  document.addEventListener("DOMContentLoaded", async () => {
    drugs = await ms.call("GET", "/drugs");
    $("every").innerHTML = drugs.every.map((e) => '<option value="' + ms.esc(e) + '">' + ms.esc(e) + "</option>").join("");
    setDrug();
    $("drug").addEventListener("change", () => { setDrug(); schedule(); });
    ["dose", "courses", "years"].forEach((id) => { $(id).addEventListener("input", outputs); $(id).addEventListener("change", schedule); });
    $("every").addEventListener("change", schedule);
    await treatments();
    run();
  });
})();
