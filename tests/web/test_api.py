"""The HTTP API: answers, one-sentence errors with their field and 4xx, limits, the disclaimer on
every answer with a dose, and the pages' safety headers."""

from __future__ import annotations

import time

import pytest

DISCLAIMER = "Research and education only, not a prescription."


def test_every_page_has_the_disclaimer_the_safety_headers_and_loads_nothing_from_elsewhere(client):
    for path in ("/", "/plan", "/check", "/trials"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert DISCLAIMER in r.text
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "http://" not in r.text and "https://" not in r.text, f"{path} names another site"
        assert "<script>" not in r.text, f"{path} has an inline script"


def test_plotly_is_served_from_the_installed_package(client):
    import plotly

    r = client.get("/static/plotly.min.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert len(r.content) > 1_000_000 and plotly.__version__


@pytest.mark.parametrize("name", ["../app.py", "..%2Fapp.py", "shell.html", "x.py", "/etc/passwd"])
def test_static_files_are_only_the_apps_own(client, name):
    r = client.get(f"/static/{name}")
    assert r.status_code == 404
    assert r.json()["error"].endswith(".")


def test_the_explainer_answers_follow_the_choices(client):
    low = client.post("/api/v1/explain", json={"drug": "mitoxantrone", "dose": 5, "courses": 2, "years": 2}).json()
    high = client.post("/api/v1/explain", json={"drug": "mitoxantrone", "dose": 14, "courses": 2, "years": 2}).json()
    assert low["disclaimer"] == DISCLAIMER
    assert low["regimen"] == "5 mg/m2 over 30 min every 3 months x 2"
    # more drug kills more neutrophils: a lower typical nadir and more grade >= 3
    assert min(high["counts"]["anc"]["median"]) < min(low["counts"]["anc"]["median"])
    assert high["toxicity"]["anc"]["grade_3_or_worse"] > low["toxicity"]["anc"]["grade_3_or_worse"]
    # the untreated cohort is the same whatever the dose; treated relapses are fewer than untreated
    assert low["relapses"]["untreated"] == high["relapses"]["untreated"]
    assert high["summary"]["treated"]["annualised relapse rate"] < high["summary"]["untreated"]["annualised relapse rate"]
    band = high["counts"]["wbc"]
    assert all(a <= m <= b for a, m, b in zip(band["p5"], band["median"], band["p95"]))
    assert band["day"][:3] == [0.0, 2.0, 4.0] and band["day"][-1] == pytest.approx(730, abs=2)


def test_the_explainer_is_reproducible_and_the_seed_matters(client):
    a = client.post("/api/v1/explain", json={"drug": "cyclophosphamide", "years": 1, "seed": 3}).json()
    b = client.post("/api/v1/explain", json={"drug": "cyclophosphamide", "years": 1, "seed": 3}).json()
    c = client.post("/api/v1/explain", json={"drug": "cyclophosphamide", "years": 1, "seed": 4}).json()
    assert a == b and a["counts"] != c["counts"]


def test_cladribine_follows_its_label_and_says_so(client):
    ok = client.post("/api/v1/explain", json={"drug": "cladribine", "years": 2}).json()
    assert ok["regimen"] == "label tablets"
    r = client.post("/api/v1/explain", json={"drug": "cladribine", "dose": 5})
    assert r.status_code == 400 and r.json()["field"] == "dose" and "follow the label" in r.json()["error"]


def test_the_other_treatments_carry_their_evidence_and_say_no_effect_found(client):
    t = {x["key"]: x for x in client.get("/api/v1/treatments").json()["treatments"]}
    assert t["diet"]["no_effect_found"] and t["amantadine"]["no_effect_found"]
    assert not t["fampridine"]["no_effect_found"] and t["fampridine"]["evidence"][0]["value"] == pytest.approx(1.61)
    assert all(e["source"] for x in t.values() for e in x["evidence"])


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"drug": "mitoxantrone", "dose": 30}, "dose", "outside the explainer's range"),
    ({"drug": "aspirin"}, "drug", "is not one of"),
    ({"drug": "mitoxantrone", "every": "fortnightly"}, "every", "is not one of"),
    ({"drug": "mitoxantrone", "n": 5000}, "n", "at most 200"),
    ({"drug": "mitoxantrone", "years": "ten"}, "years", "not a whole number"),
    ({"drug": "mitoxantrone", "treatments": ["leeches"]}, "treatments", "is not one of"),
    ({"drug": "mitoxantrone", "dosage": 12}, "dosage", "is not a field"),
    ({"drug": ["mitoxantrone"]}, "drug", "drug"),
])
def test_bad_explainer_input_is_one_sentence_about_its_field(client, body, field, words):
    r = client.post("/api/v1/explain", json=body)
    assert r.status_code in (400, 422)
    e = r.json()
    assert e["field"] == field and words in e["error"]
    assert e["error"].endswith(".") and "\n" not in e["error"] and "Traceback" not in e["error"]


def test_a_body_that_is_not_json_or_too_big_is_refused_with_a_sentence(client):
    r = client.post("/api/v1/check", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"].startswith("the body is not a JSON object")
    r = client.post("/api/v1/check", content=b"{" + b" " * 1_100_000 + b"}", headers={"content-type": "application/json"})
    assert r.status_code == 413 and "1,000,000 bytes" in r.json()["error"]


# -- give or hold ------------------------------------------------------------------------------------
def test_anc_below_the_label_limit_holds_and_says_when_to_recheck(client):
    r = client.post("/api/v1/check", json={"drug": "mitoxantrone", "date": "2026-12-07", "anc": 1.3, "lvef": 60,
                                           "given": "108 mg/m2"}).json()
    assert r["verdict"] == "hold" and r["action"] == "delay" and r["recheck_date"] == "2026-12-14"
    by = {c["kind"]: c for c in r["checks"]}
    assert by["count"]["status"] == "fail" and by["covariate"]["status"] == "pass"
    # the list goes on past the failing count: the lifetime dose is checked too, and the EU cap named
    assert by["cumulative"]["status"] == "pass" and "EU cap of 72 mg/m2 is passed" in by["cumulative"]["reason"]
    assert r["disclaimer"] == DISCLAIMER


def test_every_rule_passing_gives_and_a_missing_lvef_is_a_check_first(client):
    give = client.post("/api/v1/check", json={"drug": "mitoxantrone", "anc": "2.4", "lvef": "62", "given": "24 mg/m2"}).json()
    assert give["verdict"] == "give" and {c["status"] for c in give["checks"]} == {"pass"}
    first = client.post("/api/v1/check", json={"drug": "mitoxantrone", "anc": "2400 /uL", "given": "24 mg/m2"}).json()
    assert first["verdict"] == "check first"
    assert [c["status"] for c in first["checks"] if c["kind"] == "covariate"] == ["to-check"]


def test_the_lifetime_cap_stops_and_a_low_lvef_stops(client):
    cap = client.post("/api/v1/check", json={"drug": "mitoxantrone", "anc": 2.4, "lvef": 60, "given": "132 mg/m2"}).json()
    assert cap["verdict"] == "stop" and "above the limit of 140" in cap["reason"].replace("US limit", "limit")
    eu = client.post("/api/v1/check", json={"drug": "mitoxantrone", "anc": 2.4, "lvef": 60, "given": "64 mg/m2",
                                            "cap_region": "eu"}).json()
    assert eu["verdict"] == "stop"
    heart = client.post("/api/v1/check", json={"drug": "mitoxantrone", "anc": 2.4, "lvef": 45}).json()
    assert heart["verdict"] == "stop" and heart["action"] == "stop"


@pytest.mark.parametrize(("body", "field"), [
    ({"drug": "mitoxantrone", "anc": "1.3x"}, "anc"),
    ({"drug": "mitoxantrone", "anc": "-1"}, "anc"),
    ({"drug": "mitoxantrone", "lvef": "600"}, "lvef"),
    ({"drug": "mitoxantrone", "date": "07/12/2026"}, "date"),
    ({"drug": "mitoxantrone", "given": "108"}, "given"),
    ({"drug": "mitoxantrone", "given": "200 mg", "anc": 2}, "height"),
    ({"drug": "cyclophosphamide", "cap_region": "eu"}, "cap_region"),
    ({"anc": 2}, "drug"),
])
def test_bad_checklist_input_names_its_field(client, body, field):
    r = client.post("/api/v1/check", json=body)
    assert 400 <= r.status_code < 500
    assert r.json()["field"] == field, r.json()
    assert r.json()["error"].endswith(".")


# -- the planner -------------------------------------------------------------------------------------
def test_the_example_patient_gets_a_plan_with_bands_candidates_and_its_sheet(client):
    ex = client.get("/api/v1/patients/examples/mitoxantrone").json()
    assert ex["format"] == "csv" and ex["text"].startswith("# Example patient")
    by_text = client.post("/api/v1/personalise", json={"patient_text": ex["text"]}).json()
    by_name = client.post("/api/v1/personalise", json={"example": "mitoxantrone"}).json()
    for k in ("dose", "p_grade3", "candidates", "parameters", "next_count_date"):
        assert by_text[k] == by_name[k], k
    p = by_name
    assert p["dose"] is not None and p["disclaimer"] == DISCLAIMER
    assert p["candidates"] and sum(c["proposed"] for c in p["candidates"]) == 1
    assert all(r["p5_1e9_per_L"] <= r["median_1e9_per_L"] <= r["p95_1e9_per_L"] for r in p["predicted"])
    assert {"parameter", "map", "p5", "p95"} <= set(p["parameters"][0])
    sheet = client.post("/api/v1/personalise/sheet", json={"example": "mitoxantrone"})
    assert sheet.status_code == 200 and "text/html" in sheet.headers["content-type"] and DISCLAIMER in sheet.text


def test_a_plan_with_a_check_left_is_never_a_plain_give(client):
    """The example's LVEF is 98 days old on the dose date: the plan gives, but it needs review first."""
    p = client.post("/api/v1/personalise", json={"example": "mitoxantrone"}).json()
    statuses = {c["status"] for c in p["checks"]}
    assert "to-check" in statuses
    assert p["decision"] == "give" and p["verdict"] == "needs review"
    # the band drawn is the 90 % prediction interval of a measured count (the residual error added)
    assert all(r["pi5_1e9_per_L"] < r["median_1e9_per_L"] < r["pi95_1e9_per_L"] for r in p["predicted"])


def test_a_model_fit_check_that_fails_is_not_a_plain_give(client):
    """A count far below the fitted curve makes the fit check 'to-check', and the verdict follows."""
    text = client.get("/api/v1/patients/examples/mitoxantrone").json()["text"]
    text = text.replace("anc,2026-04-20,1.0,K/uL,", "anc,2026-04-20,0.05,K/uL,")
    p = client.post("/api/v1/personalise", json={"patient_text": text}).json()
    assert p["model_fit"]["status"] == "to-check"
    assert p["verdict"] != "give"


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"patient_text": "record,date,value,unit,duration\ndrug,,mitoxantrone,,\n"}, None, "no dose"),
    ({"patient_text": "", "patient_format": "csv"}, "patient_text", "is empty"),
    ({"patient_text": "{", "patient_format": "json"}, None, "not valid JSON"),
    ({"example": "mitoxantrone", "max_risk": 2}, "max_risk", "not a probability"),
    ({"example": "mitoxantrone", "target_low": 1.5}, "target_high", "needs both ends"),
    ({"example": "mitoxantrone", "on": "tomorrow"}, "on", "not a date"),
    ({"example": "nobody"}, "example", "is not one of"),
    ({}, "patient_text", "not both and not neither"),
    ({"patient": "/etc/passwd"}, "patient", "is not a field"),
])
def test_bad_planner_input_is_one_sentence(client, body, field, words):
    r = client.post("/api/v1/personalise", json=body)
    assert 400 <= r.status_code < 500
    e = r.json()
    assert words in e["error"] and e["field"] == field, e
    assert "\n" not in e["error"]


def test_a_bad_count_in_the_patients_text_names_its_line(client):
    text = client.get("/api/v1/patients/examples/mitoxantrone").json()["text"]
    bad = text.replace("wbc,2026-01-19,2.6,x10^9/L,", "wbc,2026-01-19,abc,x10^9/L,")
    e = client.post("/api/v1/personalise", json={"patient_text": bad}).json()
    line = 1 + bad.splitlines().index("wbc,2026-01-19,abc,x10^9/L,")
    assert f"line {line}" in e["error"]


# -- trials ------------------------------------------------------------------------------------------
def _wait(client, job_id: str, until: tuple[str, ...] = ("done", "failed", "cancelled"), timeout: float = 240) -> dict:
    t0 = time.time()
    while time.time() - t0 < timeout:
        s = client.get(f"/api/v1/trials/{job_id}").json()
        if s["state"] in until:
            return s
        time.sleep(0.3)
    raise AssertionError(f"trial job {job_id} still {s['state']} after {timeout} s")


def test_a_trial_job_runs_reports_progress_and_serves_its_files(client):
    r = client.post("/api/v1/trials", json={"example": "mims", "n_per_arm": 10, "seed": 2})
    assert r.status_code == 202
    job = r.json()
    assert job["patients_total"] == 30 and job["state"] in ("queued", "running")
    assert client.get(f"/api/v1/trials/{job['id']}/report").status_code == 409
    done = _wait(client, job["id"])
    assert done["state"] == "done" and done["progress_pct"] == 100.0
    assert any(row["outcome"] == "Annualised relapse rate" for row in done["summary"])
    report = client.get(done["links"]["report"])
    assert report.status_code == 200 and "<html" in report.text.lower()
    import io

    import pandas as pd

    patients = pd.read_parquet(io.BytesIO(client.get(done["links"]["patients"]).content))
    assert len(patients) == 30
    assert client.get(f"/api/v1/trials/{job['id']}/files/secret.txt").status_code == 404


def test_the_same_seed_gives_the_same_trial_as_the_command_line(client, tmp_path):
    import io

    import pandas as pd

    import mschemo as ms

    job = client.post("/api/v1/trials", json={"example": "cyclophosphamide", "n_per_arm": 8, "seed": 5}).json()
    done = _wait(client, job["id"])
    web = pd.read_parquet(io.BytesIO(client.get(done["links"]["patients"]).content))
    local = ms.run_trial(ms.load_trial_example("cyclophosphamide"), 8, seed=5).patients
    local["arm"] = local["arm"].astype(str)
    pd.testing.assert_frame_equal(web.reset_index(drop=True), local.reset_index(drop=True), check_categorical=False)


def test_a_trial_can_be_cancelled_and_its_files_go(client):
    job = client.post("/api/v1/trials", json={"example": "clarity", "n_per_arm": 200}).json()
    time.sleep(1.0)
    r = client.delete(f"/api/v1/trials/{job['id']}")
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    assert client.get(f"/api/v1/trials/{job['id']}/report").status_code == 409
    assert client.get(f"/api/v1/trials/{job['id']}").json()["state"] == "cancelled"


def test_trial_limits_and_unknown_jobs(client):
    big = client.post("/api/v1/trials", json={"example": "mims", "n_per_arm": 1000})
    assert big.status_code == 400 and big.json()["field"] == "n_per_arm" and "600" in big.json()["error"]
    spec = client.post("/api/v1/trials", json={"spec_text": "name = 'x'\n[[arms]]\nname = 'a'\ndrug = 'nothing'\n",
                                               "n_per_arm": 5})
    assert spec.status_code == 400 and "nothing" in spec.json()["error"]
    bad = client.post("/api/v1/trials", json={"spec_text": "name = ", "n_per_arm": 5})
    assert bad.status_code == 400 and "not valid TOML" in bad.json()["error"]
    missing = client.get("/api/v1/trials/000000000000")
    assert missing.status_code == 404 and missing.json()["error"].endswith(".")


def test_the_queue_is_bounded(web_app):
    from mschemo.interfaces.web.jobs import QueueFull, TrialJobs

    jobs = TrialJobs(workers=0, queue=2, keep=5)   # no worker: everything waits
    try:
        jobs.submit({"example": "mims", "n_per_arm": 1}, "a", 1, 3)
        jobs.submit({"example": "mims", "n_per_arm": 1}, "b", 1, 3)
        with pytest.raises(QueueFull, match="2 are waiting"):
            jobs.submit({"example": "mims", "n_per_arm": 1}, "c", 1, 3)
    finally:
        jobs.close()


def test_the_openapi_schema_lists_the_api_and_names_no_server_path(client):
    schema = client.get("/api/v1/openapi.json").json()
    paths = set(schema["paths"])
    assert {"/api/v1/explain", "/api/v1/personalise", "/api/v1/check", "/api/v1/trials",
            "/api/v1/trials/{job_id}", "/api/v1/trials/{job_id}/report"} <= paths
    fields = {f for s in schema["components"]["schemas"].values() for f in s.get("properties", {})}
    assert not fields & {"path", "out", "outdir", "plot", "sheet", "report", "patient", "spec", "dask"}


# -- simulate, as the command line runs it ---------------------------------------------------------------
def test_simulate_gives_what_the_command_line_computes(client):
    import mschemo as ms

    r = client.post("/api/v1/simulate", json={"drug": "mitoxantrone", "n": 30, "seed": 4, "cap_region": "eu",
                                              "disease": False})
    assert r.status_code == 200
    a = r.json()
    assert a["n"] == 30 and a["disclaimer"] == DISCLAIMER and "EU" in a["rules_text"].upper()
    local = ms.simulate(ms.load_drug("mitoxantrone"), n=30, seed=4,
                        rules=ms.load_drug("mitoxantrone").rules.with_region("eu"))
    grades = local.grades()
    assert [g["worst_grade"] for g in a["grades"]] == grades["worst_grade"].tolist()
    assert len(a["decisions"]) == len(local.decisions)
    assert {row["output"] for row in a["summary"]} == {"wbc", "anc", "alc"}


def test_simulate_with_the_disease_and_untreated(client):
    d = client.post("/api/v1/simulate", json={"drug": "cladribine", "n": 20, "disease_until": "3 years"}).json()
    assert any(row["quantity"] == "annualised relapse rate" for row in d["disease"])
    u = client.post("/api/v1/simulate", json={"untreated": True, "n": 20, "until": "2 years", "steroids": True}).json()
    assert u["kind"] == "untreated" and u["disease"]


@pytest.mark.parametrize(("body", "field"), [
    ({"drug": "mitoxantrone", "n": 10**30}, "n"),
    ({"drug": "mitoxantrone", "n": 5000}, "n"),
    ({"model": "../../params/mitox_2y.toml"}, "model"),
    ({"example": "../../../docs/examples/my_trial"}, "example"),
    ({"drug": "mitoxantrone", "regimen": "12 mg/m2 every 3 months x 99999999999"}, "regimen"),
    ({"drug": "mitoxantrone", "population": "/etc/passwd"}, "population"),
    ({"untreated": True, "drug": "mitoxantrone"}, "untreated"),
])
def test_simulate_refuses_paths_and_sizes(client, body, field):
    r = client.post("/api/v1/simulate", json=body)
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["field"] == field, r.json()


def test_an_error_is_one_line_of_bounded_length_whatever_was_typed(client):
    r = client.get("/api/v1/trials/ab%0Acd")
    assert r.status_code == 404 and "\n" not in r.json()["error"] and "ab\\ncd" in r.json()["error"]
    r = client.post("/api/v1/personalise", json={"example": "x" * 30 + "\n" + "y" * 5})
    e = r.json()["error"]
    assert r.status_code in (400, 422) and "\n" not in e and "\\n" in e
    long = client.post("/api/v1/trials", json={"spec_text": "name = '" + "z" * 5000 + "\n", "n_per_arm": 5})
    assert long.status_code == 400 and len(long.json()["error"]) <= 600 and long.json()["error"].endswith(".")


@pytest.mark.parametrize("path", ["/api/v1/trials", "/api/v1/personalise", "/api/v1/simulate"])
def test_an_example_is_a_built_in_name_never_a_path(client, path):
    body = {"example": "../../../../docs/examples/my_trial"} | ({"n_per_arm": 5} if "trials" in path else {})
    r = client.post(path, json=body)
    assert r.status_code == 422 and r.json()["field"] == "example"


def test_the_trial_library_reads_only_its_own_examples():
    import mschemo as ms

    with pytest.raises(ms.InputError, match="no example trial named"):
        ms.load_trial_example("../examples/mims")
