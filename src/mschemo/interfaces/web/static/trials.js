// The trial runner: POST /api/v1/trials starts a job; the list polls each job's progress.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const form = $("trial-form");
  let polling = null;

  function source() { return form.querySelector("input[name=source]:checked").value; }
  function sourceChanged() { $("t-example-box").hidden = source() !== "example"; $("t-spec-box").hidden = source() !== "spec"; }

  function body() {
    const b = {};
    if (source() === "example") b.example = $("t-example").value;
    else { b.spec_text = $("t-spec").value; b.spec_format = $("t-format").value; }
    if ($("t-n").value.trim()) b.n_per_arm = $("t-n").value.trim();
    if ($("t-seed").value.trim()) b.seed = $("t-seed").value.trim();
    return b;
  }

  function row(j) {
    const done = j.state === "done";
    const active = j.state === "queued" || j.state === "running";
    return '<div class="card job" data-id="' + ms.esc(j.id) + '" data-state="' + ms.esc(j.state) + '"><b>' + ms.esc(j.label) + "</b> <span class=\"small muted\">"
      + j.n_per_arm + " per arm, " + j.patients_total + " patients · " + ms.esc(j.state) + "</span>"
      + '<div class="progress" role="progressbar" aria-label="progress of ' + ms.esc(j.label) + '" aria-valuemin="0" aria-valuemax="100" aria-valuenow="'
      + j.progress_pct + '"><div style="width:' + j.progress_pct + '%"></div></div>'
      + '<p class="small"><span class="pct">' + j.progress_pct.toFixed(0) + ' %</span> (<span class="count">' + j.patients_done + " of " + j.patients_total + " patients</span>)"
      + (j.error ? ' · <span class="field-error">' + ms.esc(j.error) + "</span>" : "") + "</p>"
      + (active ? '<button type="button" class="danger cancel">Cancel</button>' : "")
      + (done ? '<p><a class="report" href="' + j.links.report + '" target="_blank" rel="noopener">Open the report</a> · <a href="' + j.links.patients
        + '" download>patients.parquet</a> · <a href="' + j.links.visits + '" download>visits.parquet</a></p>' : "")
      + (done && j.summary && j.summary.length ? summary(j.summary) : "") + "</div>";
  }

  function summary(rows) {
    return '<div class="scroll"><table><thead><tr><th>Arm</th><th>Outcome</th><th>Estimate</th></tr></thead><tbody>'
      + rows.slice(0, 12).map((r) => "<tr><td>" + ms.esc(r.arm) + "</td><td>" + ms.esc(r.outcome) + "</td><td>" + ms.esc(r.text) + "</td></tr>").join("")
      + "</tbody></table></div>";
  }

  // Update the list in place: a running job's bar and numbers change, the rest of the page (and the
  // keyboard focus on a Cancel button) stays; a job whose state changed is drawn again.
  function render(list) {
    const box = $("jobs");
    if (!list.length) { box.innerHTML = '<p class="muted">None yet.</p>'; return; }
    if (!box.querySelector(".job")) box.innerHTML = "";
    const seen = new Set();
    list.forEach((j, k) => {
      seen.add(j.id);
      let el = box.querySelector('.job[data-id="' + CSS.escape(j.id) + '"]');
      if (el && el.dataset.state === j.state) {
        el.querySelector(".progress").setAttribute("aria-valuenow", j.progress_pct);
        el.querySelector(".progress > div").style.width = j.progress_pct + "%";
        el.querySelector(".pct").textContent = j.progress_pct.toFixed(0) + " %";
        el.querySelector(".count").textContent = j.patients_done + " of " + j.patients_total + " patients";
      } else {
        const tmp = document.createElement("div");
        tmp.innerHTML = row(j);
        const fresh = tmp.firstElementChild;
        if (el) el.replaceWith(fresh); else box.insertBefore(fresh, box.children[k] || null);
        el = fresh;
        const cancel = el.querySelector(".cancel");
        if (cancel) cancel.addEventListener("click", async () => { await ms.call("DELETE", "/trials/" + j.id); refresh(); });
      }
    });
    box.querySelectorAll(".job").forEach((el) => { if (!seen.has(el.dataset.id)) el.remove(); });
  }

  async function refresh() {
    const d = await ms.call("GET", "/trials");
    $("t-limits").textContent = "This server runs " + d.workers + " trial(s) at once, queues " + d.queue + " more, and takes at most "
      + d.max_patients.toLocaleString() + " patients per trial.";
    render(d.jobs);
    const active = d.jobs.some((j) => j.state === "queued" || j.state === "running");
    clearTimeout(polling);
    if (active) polling = setTimeout(refresh, 500);
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    ms.clearErrors(form);
    try { await ms.call("POST", "/trials", body()); }
    catch (err) { ms.showError(form, err, (name) => ({ spec_text: $("t-spec"), n_per_arm: $("t-n"), seed: $("t-seed"), example: $("t-example") })[name] || null); return; }
    refresh();
  });

  document.addEventListener("DOMContentLoaded", async () => {
    const d = await ms.call("GET", "/drugs");
    $("t-example").innerHTML = d.trial_examples.map((e) => "<option>" + ms.esc(e) + "</option>").join("");
    form.querySelectorAll("input[name=source]").forEach((r) => r.addEventListener("change", sourceChanged));
    $("t-file").addEventListener("change", async () => {
      const f = $("t-file").files[0];
      if (f) { $("t-spec").value = await f.text(); $("t-format").value = /\.ya?ml$/i.test(f.name) ? "yaml" : "toml"; }
    });
    refresh();
  });
})();
