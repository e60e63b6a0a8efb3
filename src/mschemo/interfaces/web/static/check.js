// Give or hold: POST /api/v1/check and show the verdict and every rule's check.
"use strict";
(function () {
  const form = document.getElementById("check-form");
  const out = document.getElementById("check-result");
  const TITLES = { give: "GIVE", "check first": "CHECK FIRST", hold: "HOLD", skip: "SKIP THIS COURSE", stop: "STOP" };
  function body() {
    const b = {};
    new FormData(form).forEach((v, k) => { if (String(v).trim() !== "") b[k] = String(v).trim(); });
    return b;
  }
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    ms.clearErrors(form);
    let r;
    try { r = await ms.call("POST", "/check", body()); }
    catch (err) { ms.showError(form, err); return; }
    const cls = r.verdict.replace(/\s+/g, "-");
    const rows = r.checks.map((c) => "<tr><td><span class=\"badge " + ms.esc(c.status) + "\">" + ms.esc(c.status) + "</span></td><td>"
      + ms.esc(c.check) + "<br><span class=\"small muted\">" + ms.esc(c.rule) + "</span></td><td data-label=\"value\">" + ms.esc(c.value)
      + "</td><td data-label=\"limit\">" + ms.esc(c.limit) + "</td><td>" + ms.esc(c.reason) + "</td></tr>").join("");
    out.innerHTML = '<div class="card"><div class="verdict ' + ms.esc(cls) + '" id="verdict">' + ms.esc(TITLES[r.verdict] || r.verdict)
      + "</div><p><b>" + ms.esc(r.verdict_text) + ".</b> " + ms.esc(r.reason) + "</p>"
      + (r.recheck_date ? "<p>Re-check the counts on <b>" + ms.esc(r.recheck_date) + "</b>.</p>" : "")
      + "<p class=\"small\">" + ms.esc(r.drug) + ", course " + r.course + ", " + ms.esc(r.dose) + " on " + ms.esc(r.date) + ".</p>"
      + '<div class="scroll"><table class="stack"><thead><tr><th>Status</th><th>Rule</th><th>Value</th><th>Limit</th><th>Why</th></tr></thead><tbody>'
      + rows + "</tbody></table></div><p class=\"small disclaimer\">" + ms.esc(r.disclaimer) + "</p></div>";
  });
  document.addEventListener("DOMContentLoaded", () => { document.getElementById("c-date").valueAsDate = new Date(); });
})();
