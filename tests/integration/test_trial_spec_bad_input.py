"""Malformed trial specs (schedules, screening, phases, co-medication, endpoints, ...): each ends in one
sentence naming its place in the file, through the library and through `mschemo trial` (exit 2, no
traceback, no output folder)."""

from __future__ import annotations

from pathlib import Path

import pytest
from clitools import flat

from mschemo.trials import TrialSpec, TrialSpecError

BASE = """name = "bad"
duration = "1 year"
[[arms]]
name = "placebo"
"""
DRUG_ARM = """[[arms]]
name = "mitoxantrone"
drug = "mitoxantrone"
regimen = "12 mg/m2 over 30 min every 3 months x 4"
"""

#: (id, spec text, a fragment the one sentence must contain)
CASES: list[tuple[str, str, str]] = [
    ("schedule-no-kind", BASE + "[schedules.labs]\nmeasures = \"counts\"\n[schedules.edss]\nmeasures = \"edss\"\nevery = \"3 months\"\n",
     "schedules.labs"),
    ("schedule-two-kinds", BASE + "[schedules.labs]\nevery = \"1 month\"\ndays = [0, 30]\n[schedules.e]\nmeasures = \"edss\"\nevery = \"3 months\"\n",
     "exactly one of every, days"),
    ("schedule-every-text", BASE + "[schedules.labs]\nevery = \"often\"\n[schedules.e]\nmeasures = \"edss\"\nevery = \"3 months\"\n",
     "schedules.labs.every"),
    ("schedule-every-zero", BASE + "[schedules.labs]\nevery = \"0 days\"\n[schedules.e]\nmeasures = \"edss\"\nevery = \"3 months\"\n",
     "not a positive interval"),
    ("schedule-negative-day", BASE + "[schedules.labs]\ndays = [0, -5]\n[schedules.e]\nmeasures = \"edss\"\nevery = \"3 months\"\n",
     "schedules.labs.days"),
    ("schedule-empty-days", BASE + "[schedules.labs]\ndays = []\n[schedules.e]\nmeasures = \"edss\"\nevery = \"3 months\"\n",
     "schedules.labs.days"),
    ("schedule-after-empty", BASE + "[schedules.labs]\nafter_each_dose = []\n[schedules.e]\nmeasures = \"edss\"\nevery = \"3 months\"\n",
     "after_each_dose"),
    ("schedule-after-bad-unit", BASE + "[schedules.labs]\nafter_each_dose = [\"10\"]\n[schedules.e]\nmeasures = \"edss\"\nevery = \"3 months\"\n",
     "after_each_dose"),
    ("schedule-unknown-measure", BASE + "[schedules.labs]\nmeasures = \"mri\"\nevery = \"1 month\"\n", "schedules.labs.measures"),
    ("schedule-no-edss", BASE + "[schedules.labs]\nevery = \"1 month\"\n", "one that measures edss"),
    ("schedule-until-before-start", BASE + "[schedules.labs]\nevery = \"1 month\"\nstart = \"6 months\"\nuntil = \"1 month\"\n"
     "[schedules.e]\nmeasures = \"edss\"\nevery = \"3 months\"\n", "is before start"),
    ("schedule-start-after-end", BASE + "[schedules.labs]\nevery = \"1 month\"\nstart = \"3 years\"\n"
     "[schedules.e]\nmeasures = \"edss\"\nevery = \"3 months\"\n", "after the end of the trial"),
    ("schedule-bad-name", BASE + "[schedules.\"my labs\"]\nevery = \"1 month\"\n[schedules.e]\nmeasures = \"edss\"\nevery = \"3 months\"\n",
     "is not a word"),
    ("visits-and-schedules", BASE + "[visits]\ncounts_every = \"1 month\"\n[schedules.labs]\nevery = \"1 month\"\n"
     "[schedules.e]\nmeasures = \"edss\"\nevery = \"3 months\"\n", "not both"),
    ("schedule-unknown-key", BASE + "[schedules.labs]\nevery = \"1 month\"\nwhen = \"mornings\"\n", "schedules.labs.when"),
    ("lab-unknown-count", BASE + "[[screening.labs]]\ncount = \"plt\"\nmin = 100\n", "screening.labs[0].count"),
    ("lab-no-limit", BASE + "[[screening.labs]]\ncount = \"wbc\"\n", "needs min or max"),
    ("lab-min-above-max", BASE + "[[screening.labs]]\ncount = \"anc\"\nmin = 3.0\nmax = 2.0\n", "above max"),
    ("lab-negative", BASE + "[[screening.labs]]\ncount = \"alc\"\nmin = -1\n", "screening.labs[0].min"),
    ("measurement-text", BASE + "[measurement]\nassay = \"maybe\"\n", "measurement.assay"),
    ("phase-drug-and-dmt", BASE + "[[arms]]\nname = \"x\"\n[[arms.phases]]\ndrug = \"mitoxantrone\"\ndmt = \"glatiramer\"\n",
     "either a drug or a dmt"),
    ("phase-empty", BASE + "[[arms]]\nname = \"x\"\n[[arms.phases]]\nstart = \"1 month\"\n", "either a drug or a dmt"),
    ("phase-stop-before-start", BASE + "[[arms]]\nname = \"x\"\n[[arms.phases]]\ndmt = \"glatiramer\"\nstart = \"6 months\"\nstop = \"1 month\"\n",
     "is not after start"),
    ("phase-overlap", BASE + "[[arms]]\nname = \"x\"\n[[arms.phases]]\ndmt = \"glatiramer\"\nstop = \"6 months\"\n"
     "[[arms.phases]]\ndmt = \"natalizumab\"\nstart = \"3 months\"\n", "overlap"),
    ("phase-two-drugs", BASE + "[[arms]]\nname = \"x\"\n[[arms.phases]]\ndrug = \"mitoxantrone\"\nstop = \"6 months\"\n"
     "[[arms.phases]]\ndrug = \"cyclophosphamide\"\nstart = \"7 months\"\n", "one drug's counts"),
    ("phase-after-course-no-drug", BASE + "[[arms]]\nname = \"x\"\n[[arms.phases]]\ndmt = \"glatiramer\"\nstart_after_course = 6\n",
     "needs a drug phase"),
    ("phase-after-course-zero", BASE + "[[arms]]\nname = \"x\"\n[[arms.phases]]\ndrug = \"mitoxantrone\"\n"
     "[[arms.phases]]\ndmt = \"glatiramer\"\nstart_after_course = 0\n", "start_after_course"),
    ("phase-unknown-dmt", BASE + "[[arms]]\nname = \"x\"\n[[arms.phases]]\ndmt = \"aspirin\"\n", "phases[0].dmt"),
    ("phase-unknown-drug", BASE + "[[arms]]\nname = \"x\"\n[[arms.phases]]\ndrug = \"methotrexate\"\n", "phases[0].drug"),
    ("phase-bad-regimen", BASE + "[[arms]]\nname = \"x\"\n[[arms.phases]]\ndrug = \"mitoxantrone\"\nregimen = \"12 every month\"\n",
     "phases[0].regimen"),
    ("phase-start-after-end", BASE + "[[arms]]\nname = \"x\"\n[[arms.phases]]\ndmt = \"glatiramer\"\nstart = \"2 years\"\n",
     "after the end of the trial"),
    ("max-dose-not-mg", BASE + DRUG_ARM + "max_dose = \"12 mg/m2\"\n", "max_dose"),
    ("max-dose-no-drug", BASE + "[[arms]]\nname = \"x\"\nmax_dose = \"20 mg\"\n", "need a drug"),
    ("phases-and-shorthand", BASE + DRUG_ARM + "[[arms.phases]]\ndmt = \"glatiramer\"\n", "not both"),
    ("comedication-unknown", BASE + "[[arms]]\nname = \"x\"\n[[arms.comedication]]\nname = \"prednisone\"\nevery = \"1 month\"\ncount = 6\n",
     "comedication[0].name"),
    ("comedication-no-count", BASE + "[[arms]]\nname = \"x\"\n[[arms.comedication]]\nname = \"methylprednisolone\"\nevery = \"1 month\"\n",
     "comedication[0].count"),
    ("comedication-bad-every", BASE + "[[arms]]\nname = \"x\"\n[[arms.comedication]]\nname = \"methylprednisolone\"\nevery = \"-1 month\"\ncount = 6\n",
     "comedication[0].every"),
    ("steroids-unknown-rule", BASE + "[[arms]]\nname = \"x\"\nsteroids = \"sometimes\"\n", "arms[1].steroids"),
    ("endpoint-unknown-kind", BASE + "[[endpoints]]\nname = \"x\"\nkind = \"mri_lesions\"\n", "endpoints[0].kind"),
    ("endpoint-bad-name", BASE + "[[endpoints]]\nname = \"Relapse Rate\"\nkind = \"relapse_rate\"\n", "endpoints[0].name"),
    ("endpoint-name-twice", BASE + "[[endpoints]]\nname = \"r\"\nkind = \"relapse_rate\"\n[[endpoints]]\nname = \"r\"\nkind = \"relapse_free\"\n",
     "used twice"),
    ("endpoint-unknown-schedule", BASE + "[[endpoints]]\nname = \"cdp\"\nkind = \"confirmed_progression\"\nschedule = \"neuro\"\n",
     "is not a schedule"),
    ("endpoint-wrong-schedule", BASE + "[[endpoints]]\nname = \"cdp\"\nkind = \"confirmed_progression\"\nschedule = \"labs\"\n",
     "measures counts"),
    ("composite-missing-part", BASE + "[[endpoints]]\nname = \"first\"\nkind = \"time_to_relapse\"\n[[endpoints]]\nname = \"fail\"\n"
     "kind = \"composite\"\nparts = [\"first\", \"cdp\"]\n", "'cdp' is not an endpoint"),
    ("composite-one-part", BASE + "[[endpoints]]\nname = \"first\"\nkind = \"time_to_relapse\"\n[[endpoints]]\nname = \"fail\"\n"
     "kind = \"composite\"\nparts = [\"first\"]\n", "at least two parts"),
    ("composite-of-a-rate", BASE + "[[endpoints]]\nname = \"arr\"\nkind = \"relapse_rate\"\n[[endpoints]]\nname = \"first\"\n"
     "kind = \"time_to_relapse\"\n[[endpoints]]\nname = \"fail\"\nkind = \"composite\"\nparts = [\"first\", \"arr\"]\n",
     "is a relapse_rate endpoint"),
    ("parts-without-composite", BASE + "[[endpoints]]\nname = \"first\"\nkind = \"time_to_relapse\"\nparts = [\"a\", \"b\"]\n",
     "belong to a composite"),
    ("toxicity-no-count", BASE + "[[endpoints]]\nname = \"tox\"\nkind = \"toxicity\"\n", "needs a count"),
    ("toxicity-unknown-scale", BASE + "[[endpoints]]\nname = \"tox\"\nkind = \"toxicity\"\ncount = \"anc\"\nscale = \"ctcae_v6\"\n",
     "endpoints[0].scale"),
    ("toxicity-who-lymphocytes", BASE + "[[endpoints]]\nname = \"tox\"\nkind = \"toxicity\"\ncount = \"alc\"\nscale = \"who\"\n",
     "no lymphocyte grades"),
    ("toxicity-grade-5", BASE + "[[endpoints]]\nname = \"tox\"\nkind = \"toxicity\"\ncount = \"anc\"\ngrade = 5\n", "endpoints[0].grade"),
    ("endpoint-window-beyond", BASE + "[[endpoints]]\nname = \"arr\"\nkind = \"relapse_rate\"\nwindow = \"2 years\"\n",
     "after the end of the trial"),
    ("endpoint-at-not-change", BASE + "[[endpoints]]\nname = \"arr\"\nkind = \"relapse_rate\"\nat = \"6 months\"\n",
     "belongs to an edss_change"),
    ("endpoint-unknown-relapses", BASE + "[[endpoints]]\nname = \"arr\"\nkind = \"relapse_rate\"\nrelapses = \"mild\"\n",
     "endpoints[0].relapses"),
    ("endpoint-step-zero", BASE + "[[endpoints]]\nname = \"cdp\"\nkind = \"confirmed_progression\"\nsteps = { default = 0 }\n",
     "endpoints[0].steps.default"),
    ("endpoint-confirm-text", BASE + "[[endpoints]]\nname = \"cdp\"\nkind = \"confirmed_progression\"\nconfirm = \"soon\"\n",
     "endpoints[0].confirm"),
    ("year-too-early", BASE + "year = 1800\n", "year"),
    ("relapse-rate-negative", "relapse_rate = -0.3\n" + BASE, "relapse_rate"),
    ("seed-negative", "seed = -1\n" + BASE, "seed"),
    ("eligibility-unknown-field", BASE + "[[eligibility]]\nfield = \"relapses_last_week\"\nmin = 1\n", "eligibility[0]"),
    ("too-many-arms", "name = \"many\"\n" + "".join(f"[[arms]]\nname = \"a{i}\"\n" for i in range(25)), "arms"),
]


@pytest.mark.parametrize(("text", "fragment"), [pytest.param(t, f, id=i) for i, t, f in CASES])
def test_bad_spec_is_one_sentence(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(TrialSpecError) as e:
        TrialSpec.from_file(path)
    msg = str(e.value)
    assert fragment in msg, msg
    assert "\n" not in msg and len(msg) < 600 and msg.endswith(".")


def test_corpus_size_and_unique_ids() -> None:
    ids = [i for i, _, _ in CASES]
    assert len(ids) >= 40 and len(set(ids)) == len(ids)


@pytest.mark.parametrize("case", ["composite-missing-part", "phase-overlap", "schedule-two-kinds", "toxicity-who-lymphocytes"])
def test_bad_spec_through_the_cli(cli, tmp_path: Path, case: str) -> None:
    text, fragment = next((t, f) for i, t, f in CASES if i == case)
    spec = tmp_path / "bad.toml"
    spec.write_text(text)
    res = cli("trial", spec, "--n-per-arm", "2", "--outdir", tmp_path / "run")
    assert res.code == 2 and fragment in flat(res.stderr) and "Traceback" not in res.stderr
    assert not (tmp_path / "run").exists()
