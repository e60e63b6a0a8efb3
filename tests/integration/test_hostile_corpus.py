"""A hostile-input corpus: every command and every kind of input file, fed what a careless or hostile
user might give. Each case must end in one sentence on stderr ('error: ... .', at most 300 characters
after 'error: ', whatever size the input was), exit code 2, no traceback, no output file or folder,
and no simulation started: every case is refused up front (the entry points that simulate, fit or run
a trial raise if they are reached).

A case is (id, class, command line, files to write first). ``{tmp}`` in an argument is the test's
tmp_path, where the files are written (text or bytes). Classes:

- ``unwritable``: outputs that cannot be written (under /proc, under a regular file, names too long);
- ``size``: absurd counts, amounts, windows and repeats;
- ``structure``: malformed TOML, YAML, JSON and CSV (wrong types, nesting, alias bombs);
- ``silent``: values that used to be accepted silently (dosing data on observation records, an EDSS
  of 15, a DMT without a relapse-rate ratio, a plan 174 years ahead);
- ``traversal``: names that look like paths where only built-in names are allowed;
- ``stale``: a bad input beside the hidden temporary copies a killed run left (they are left alone by
  a refused run, and swept by the next run that writes: see the tests at the end).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from clitools import MAX_ERROR_LINE, assert_refused, subprocess_env

from proctools import children, gone_within

# -- building blocks ------------------------------------------------------------------------------
REG = "12 mg/m2 over 30 min every 91 days x 2"
SIM = ["simulate", "--drug", "mitox-2y", "--regimen", REG, "--n", "2"]
DRUG = ["simulate", "--drug", "mitoxantrone", "--n", "2", "--until", "1 year"]
TIMELINE = ["timeline", "--drug", "mitoxantrone"]
TRIAL = ["trial", "--example", "mims", "--n-per-arm", "2"]
SCENARIO = ["example", "mitox-2y", "--n", "2"]
SIDE_BY_SIDE = ["example", "--n", "2"]
PERSONALISE = ["personalise", "--example", "cyclophosphamide"]
EVENTS = ["simulate", "--drug", "mitox-2y", "--events", "{tmp}/ev.csv"]
COHORT = ["simulate", "--drug", "mitox-2y", "--regimen", REG, "--population", "{tmp}/c.toml"]
PATIENTS = ["simulate", "--drug", "mitoxantrone", "--until", "1 year", "--quiet", "--population", "{tmp}/p.csv"]
SPEC = ["trial", "{tmp}/s.toml", "--n-per-arm", "2", "--outdir", "{tmp}/run"]
SPEC_YAML = ["trial", "{tmp}/s.yaml", "--n-per-arm", "2", "--outdir", "{tmp}/run"]
PATIENT_CSV = ["personalise", "{tmp}/p.csv"]
PATIENT_JSON = ["personalise", "{tmp}/p.json"]
MODEL = ["simulate", "--model", "{tmp}/m.toml", "--regimen", REG]

EV_HEADER = "ID,TIME,EVID,AMT,CMT,DUR,II,ADDL,SS,RATE\n"
SPEC_BASE = 'name = "x"\nduration = "1 year"\n[[arms]]\nname = "placebo"\n'
SPEC_ARM = '[[arms]]\nname = "drug"\ndrug = "mitoxantrone"\nregimen = "{}"\n'
COHORT_BASE = '[covariates.height_cm]\ndistribution = "fixed"\nvalue = 170\n[covariates.weight_kg]\ndistribution = "fixed"\nvalue = 70\n'
PATIENT_HEAD = "record,date,value,unit,duration\ndrug,,cyclophosphamide,,\nsex,,F,,\nage,,34,years,\nheight,,165,cm,\nweight,,62,kg,\n"
LONG = "z" * 5000


def events(*rows: str) -> dict[str, str]:
    return {"ev.csv": EV_HEADER + "".join(r + "\n" for r in rows)}


def patients(header: str, *rows: str) -> dict[str, str]:
    return {"p.csv": header + "\n" + "".join(r + "\n" for r in rows)}


def spec(text: str, name: str = "s.toml") -> dict[str, str]:
    return {name: text}


def yaml_bomb(levels: int) -> str:
    """Billion laughs: each anchor repeats the one before nine times (9**levels strings once expanded)."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{k}: &a{k} [{', '.join([f'*a{k - 1}'] * 9)}]" for k in range(1, levels + 1)]
    return "\n".join(lines + [f"name: x\narms:\n  - name: *a{levels}\n"])


def nested(fmt: str, depth: int) -> str:
    inner = "[" * depth + "]" * depth
    return {"toml": f"a = {inner}\n", "yaml": f"a: {inner}\n", "json": inner}[fmt]


# -- unwritable outputs ---------------------------------------------------------------------------
#: places no file can be written to, as root too: procfs, under a regular file, names past the limits
FILE_PLACES = {
    "proc": "/proc/x{suffix}",
    "proc-self": "/proc/self/x{suffix}",
    "under-a-file": "{tmp}/afile/x{suffix}",
    "under-a-file-deep": "{tmp}/afile/a/b/x{suffix}",
    "name-300": "{tmp}/" + "n" * 296 + "{suffix}",
    "folder-name-300": "{tmp}/" + "d" * 300 + "/x{suffix}",
    "path-5000": "{tmp}/" + "/".join(["p" * 200] * 25) + "/x{suffix}",
}
#: (command line, option, suffix or None for a folder)
OUTPUTS = {
    "simulate-out-csv": (SIM, "--out", ".csv"),
    "simulate-out-parquet": (SIM, "--out", ".parquet"),
    "simulate-plot": (SIM, "--plot", ".png"),
    "simulate-decisions": (DRUG, "--decisions", ".csv"),
    "simulate-disease-outdir": (DRUG, "--disease-outdir", None),
    "timeline-plot": (TIMELINE, "--plot", ".png"),
    "trial-outdir": (TRIAL, "--outdir", None),
    "trial-report": (TRIAL, "--report", ".html"),
    "example-outdir": (SCENARIO, "--outdir", None),
    "example-plot": (SIDE_BY_SIDE, "--plot", ".svg"),
    "personalise-plot": (PERSONALISE, "--plot", ".png"),
    "personalise-sheet": (PERSONALISE, "--sheet", ".html"),
}
UNWRITABLE = [
    (f"{out}-{place}", "unwritable", [*argv, option, path.format(suffix=suffix or "", tmp="{tmp}")], {"afile": "x"})
    for out, (argv, option, suffix) in OUTPUTS.items() for place, path in FILE_PLACES.items()
]

# -- absurd sizes ---------------------------------------------------------------------------------
BAD_REGIMENS = {
    "count-1e11": "12 mg/m2 every 1 day x 99999999999",
    "count-10001": "12 mg/m2 every 1 day x 10001",
    "count-1e15-float": "12 mg/m2 every 1 day x 1e15",
    "interval-1000-years": "12 mg/m2 every 1000 years x 2",
    "span-180-years": "12 mg/m2 every 9 years x 20",
    "start-day-1e9": "12 mg/m2 starting day 1000000000",
    "infusion-1000-years": "12 mg/m2 over 1000 years",
    "amount-1e300": "1e300 mg",
    "amount-2e6-mg": "2000000 mg every 1 day x 2",
    "text-10k": "12 mg/m2 " + "x" * 10000,
    "number-5000-digits": "9" * 5000 + " mg",
    "parts-then-1000-years": "12 mg/m2; then 12 mg/m2 starting day 40000",
}
REGIMEN_CASES = (
    [(f"simulate-regimen-{k}", "size", ["simulate", "--drug", "mitox-2y", "--n", "2", "--regimen", v], {})
     for k, v in BAD_REGIMENS.items()]
    + [(f"timeline-regimen-{k}", "size", [*TIMELINE, "--regimen", v], {}) for k, v in BAD_REGIMENS.items()]
    + [(f"trial-spec-regimen-{k}", "size", SPEC, spec(SPEC_BASE + SPEC_ARM.format(v))) for k, v in BAD_REGIMENS.items()]
)
BAD_EVENT_ROWS = {
    "addl-1e9": "1,0,1,12,1,0.5,1,1000000000,0,0",
    "addl-10000": "1,0,1,12,1,0.5,1,10000,0,0",
    "addl-fraction": "1,0,1,12,1,0.5,1,2.5,0,0",
    "time-1e300": "1,1e300,1,12,1,0.5,0,0,0,0",
    "time-40000-days": "1,40000,1,12,1,0.5,0,0,0,0",
    "ii-1e300": "1,0,1,12,1,0.5,1e300,2,0,0",
    "ii-times-addl-beyond-100-years": "1,0,1,12,1,0.5,4000,10,0,0",
    "dur-1e300": "1,0,1,12,1,1e300,0,0,0,0",
    "rate-1e-300": "1,0,1,12,1,0,0,0,0,1e-300",
    "rate-1e300": "1,0,1,12,1,0,0,0,0,1e300",
    "amt-1e300": "1,0,1,1e300,1,0.5,0,0,0,0",
    "amt-2e6": "1,0,1,2000000,1,0.5,0,0,0,0",
    "ss-infusion-rate-1e300": "1,0,1,0,1,0,0,0,1,1e300",
}
EVENT_SIZE_CASES = [(f"events-{k}", "size", EVENTS, events(v)) for k, v in BAD_EVENT_ROWS.items()] + [
    ("events-lag-1e300", "size", EVENTS, {"ev.csv": "ID,TIME,AMT,LAG\n1,0,12,1e300\n"}),
    ("events-f-1e300", "size", EVENTS, {"ev.csv": "ID,TIME,AMT,F\n1,0,12,1e300\n"}),
    ("events-weeks-beyond-100-years", "size", [*EVENTS, "--time-unit", "week"], {"ev.csv": "ID,TIME,AMT\n1,6000,12\n"}),
]
SIZE_CASES = REGIMEN_CASES + EVENT_SIZE_CASES + [
    ("simulate-n-1e30", "size", [*SIM[:5], "--n", "1e30"], {}),
    ("simulate-n-31-digits", "size", [*SIM[:5], "--n", "1" + "0" * 30], {}),
    ("simulate-n-1e9", "size", [*SIM[:5], "--n", "1000000000"], {}),
    ("simulate-n-5000-digits", "size", [*SIM[:5], "--n", "9" * 5000], {}),
    ("simulate-n-minus-1e30", "size", [*SIM[:5], "--n", "-1e30"], {}),
    ("simulate-seed-2e64", "size", [*SIM, "--seed", str(2**64)], {}),
    ("simulate-seed-1e99", "size", [*SIM, "--seed", "1e99"], {}),
    ("simulate-threads-1e9", "size", [*SIM, "--threads", "1000000000"], {}),
    ("simulate-until-1000-years", "size", [*SIM, "--until", "1000 years"], {}),
    ("simulate-until-1e9-days", "size", [*SIM, "--until", "1e9 days"], {}),
    ("simulate-every-1s-for-99-years", "size", [*SIM, "--every", "1 s", "--until", "99 years"], {}),
    ("simulate-every-1s-streamed", "size", [*SIM, "--every", "1 s", "--until", "99 years", "--stream", "--out",
                                            "{tmp}/o.parquet"], {}),
    ("simulate-disease-until-1000-years", "size", [*DRUG, "--disease-until", "1000 years"], {}),
    ("simulate-untreated-n-1e12", "size", ["simulate", "--untreated", "--n", "1000000000000"], {}),
    ("simulate-untreated-n-2e6", "size", ["simulate", "--untreated", "--n", "2000000"], {}),
    ("simulate-untreated-until-1000-years", "size", ["simulate", "--untreated", "--until", "1000 years"], {}),
    ("timeline-n-1e30", "size", [*TIMELINE, "--n", "1e30"], {}),
    ("timeline-n-200000", "size", [*TIMELINE, "--n", "200000"], {}),
    ("timeline-seed-2e64", "size", [*TIMELINE, "--seed", str(2**64)], {}),
    ("timeline-until-1000-years", "size", [*TIMELINE, "--until", "1000 years"], {}),
    ("example-n-1e30", "size", ["example", "--n", "1e30"], {}),
    ("example-scenario-n-200000", "size", ["example", "mitox-2y", "--n", "200000"], {}),
    ("example-seed-2e64", "size", [*SIDE_BY_SIDE, "--seed", str(2**64)], {}),
    ("trial-n-per-arm-1e99", "size", ["trial", "--example", "mims", "--n-per-arm", "1e99"], {}),
    ("trial-n-per-arm-1e8", "size", ["trial", "--example", "mims", "--n-per-arm", "100000000"], {}),
    ("trial-n-per-arm-400-digits", "size", ["trial", "--example", "mims", "--n-per-arm", "9" * 400], {}),
    ("trial-total-over-1e8", "size", [*SPEC[:2], "--n-per-arm", "9000000", *SPEC[4:]],
     spec('name = "x"\n[[arms]]\nname = "a"\nratio = 100\n[[arms]]\nname = "b"\nratio = 100\n')),
    ("trial-chunk-size-1e99", "size", [*TRIAL, "--chunk-size", "1e99"], {}),
    ("trial-workers-1e9", "size", [*TRIAL, "--workers", "1000000000"], {}),
    ("simulate-workers-1e9", "size", [*DRUG, "--workers", "1000000000", "--stream", "--out", "{tmp}/x.parquet"], {}),
    ("simulate-workers-not-streamed", "structure", [*DRUG, "--workers", "2"], {}),
    ("simulate-workers-and-dask", "structure", [*DRUG, "--workers", "2", "--dask", "local", "--stream", "--out",
                                                "{tmp}/x.parquet"], {}),
    ("trial-seed-2e64", "size", [*TRIAL, "--seed", str(2**64)], {}),
    ("trial-spec-ratio-1e9", "size", SPEC, spec('name = "x"\n[[arms]]\nname = "p"\nratio = 1000000000\n')),
    ("trial-spec-duration-1000-years", "size", SPEC, spec('name = "x"\nduration = "1000 years"\n[[arms]]\nname = "p"\n')),
    ("trial-spec-schedule-every-minute", "size", SPEC, spec(SPEC_BASE + '[schedules.labs]\nevery = "1 min"\n'
                                                           '[schedules.e]\nmeasures = "edss"\nevery = "1 min"\n')),
    ("trial-spec-comedication-1e9", "size", SPEC, spec(SPEC_BASE + '[[arms]]\nname = "x"\n[[arms.comedication]]\n'
                                                       'name = "methylprednisolone"\nevery = "1 month"\n'
                                                       'count = 1000000000\n')),
    ("trial-spec-seed-1e20", "size", SPEC, spec("seed = 99999999999999999999\n" + SPEC_BASE)),
    ("trial-spec-5001-arms", "size", SPEC, spec('name = "m"\n' + "".join(f'[[arms]]\nname = "a{i}"\n' for i in range(5001)))),
    ("trial-spec-100k-days", "size", SPEC, spec(SPEC_BASE + "[schedules.labs]\ndays = [" + ",".join(["1"] * 100001)
                                               + ']\n[schedules.e]\nmeasures = "edss"\nevery = "3 months"\n')),
    ("personalise-draws-1e99", "size", [*PERSONALISE, "--draws", "1e99"], {}),
    ("personalise-samples-1e99", "size", [*PERSONALISE, "--samples", "1e99"], {}),
    ("personalise-seed-2e64", "size", [*PERSONALISE, "--seed", str(2**64)], {}),
    ("personalise-dose-1e300", "size", PATIENT_CSV, {"p.csv": PATIENT_HEAD + "dose,2026-03-03,1e300,mg/m2,1 h\n"}),
    ("serve-port-99999", "size", ["serve", "--port", "99999"], {}),
    ("serve-trial-max-patients-1e99", "size", ["serve", "--trial-max-patients", "1e99"], {}),
]

# -- malformed structure --------------------------------------------------------------------------
STRUCTURE_CASES = [
    # cohort specs (TOML)
    ("cohort-lower-abc", "structure", COHORT, {"c.toml": COHORT_BASE.replace("value = 170\n", 'value = 170\nlower = "abc"\n', 1)}),
    ("cohort-upper-list", "structure", COHORT, {"c.toml": COHORT_BASE.replace("value = 170\n", "value = 170\nupper = [1]\n", 1)}),
    ("cohort-covariates-5", "structure", COHORT, {"c.toml": "covariates = 5\n"}),
    ("cohort-covariates-list", "structure", COHORT, {"c.toml": "covariates = [1, 2]\n"}),
    ("cohort-covariates-text", "structure", COHORT, {"c.toml": 'covariates = "height"\n'}),
    ("cohort-covariate-is-number", "structure", COHORT, {"c.toml": "[covariates]\nheight_cm = 170\n"}),
    ("cohort-no-distribution", "structure", COHORT, {"c.toml": "[covariates.height_cm]\nmean = 170\n"}),
    ("cohort-distribution-list", "structure", COHORT, {"c.toml": '[covariates.height_cm]\ndistribution = ["normal"]\nmean = 1\nsd = 1\n'}),
    ("cohort-categorical-values-5", "structure", COHORT, {"c.toml": COHORT_BASE + '[covariates.sex]\ndistribution = "categorical"\nvalues = 5\np = 1\n'}),
    ("cohort-categorical-p-text", "structure", COHORT, {"c.toml": COHORT_BASE + '[covariates.sex]\ndistribution = "categorical"\nvalues = ["F", "M"]\np = ["a", "b"]\n'}),
    ("cohort-categorical-p-sum", "structure", COHORT, {"c.toml": COHORT_BASE + '[covariates.sex]\ndistribution = "categorical"\nvalues = ["F", "M"]\np = [0.9, 0.9]\n'}),
    ("cohort-normal-sd-text", "structure", COHORT, {"c.toml": '[covariates.height_cm]\ndistribution = "normal"\nmean = 170\nsd = "wide"\n'}),
    ("cohort-name-table", "structure", COHORT, {"c.toml": "name = {a = 1}\n" + COHORT_BASE}),
    ("cohort-iiv-text", "structure", COHORT, {"c.toml": 'iiv = "no"\n' + COHORT_BASE}),
    ("cohort-bsa-list", "structure", COHORT, {"c.toml": "bsa_formula = [1]\n" + COHORT_BASE}),
    ("cohort-unknown-table", "structure", COHORT, {"c.toml": COHORT_BASE + "[" + "t" * 3000 + "]\n"}),
    ("cohort-empty", "structure", COHORT, {"c.toml": ""}),
    ("cohort-nested-5000", "structure", COHORT, {"c.toml": nested("toml", 5000)}),
    ("cohort-nested-40", "structure", COHORT, {"c.toml": nested("toml", 40)}),
    ("cohort-syntax", "structure", COHORT, {"c.toml": "[covariates.height_cm\n"}),
    ("cohort-binary", "structure", COHORT, {"c.toml": bytes(range(256))}),
    ("cohort-long-covariate-name", "structure", COHORT, {"c.toml": "[covariates." + "h" * 3000 + ']\ndistribution = "gauss"\n'}),
    # trial specs (TOML)
    ("spec-seed-minus-1", "structure", SPEC, spec("seed = -1\n" + SPEC_BASE)),
    ("spec-seed-float", "structure", SPEC, spec("seed = 1e99\n" + SPEC_BASE)),
    ("spec-arms-5", "structure", SPEC, spec('name = "x"\narms = 5\n')),
    ("spec-arms-empty", "structure", SPEC, spec('name = "x"\narms = []\n')),
    ("spec-arms-text", "structure", SPEC, spec('name = "x"\narms = ["placebo"]\n')),
    ("spec-nested-toml-5000", "structure", SPEC, spec(nested("toml", 5000))),
    ("spec-nested-toml-40", "structure", SPEC, spec(nested("toml", 40))),
    ("spec-name-100k", "structure", SPEC, spec('name = "' + "n" * 100000 + '"\n[[arms]]\nname = "p"\n')),
    ("spec-arm-name-10k", "structure", SPEC, spec('name = "x"\n[[arms]]\nname = "' + "n" * 10000 + '"\n')),
    ("spec-arm-names-repeat-long", "structure", SPEC, spec('name = "m"\n' + '[[arms]]\nname = "a"\n' * 3 + "reference = \"" + LONG + '"\n')),
    ("spec-reference-long", "structure", SPEC, spec('reference = "' + LONG + '"\n' + SPEC_BASE)),
    ("spec-duration-negative", "structure", SPEC, spec('name = "x"\nduration = "-1 year"\n[[arms]]\nname = "p"\n')),
    ("spec-duration-number", "structure", SPEC, spec('name = "x"\nduration = 365\n[[arms]]\nname = "p"\n')),
    ("spec-unknown-key-long", "structure", SPEC, spec(SPEC_BASE + LONG + " = 1\n")),
    ("spec-schedule-name-long", "structure", SPEC, spec(SPEC_BASE + "[schedules." + "s" * 3000 + ']\nevery = "1 month"\n')),
    ("spec-endpoints-51", "structure", SPEC, spec(SPEC_BASE + "".join(f'[[endpoints]]\nname = "e{i}"\nkind = "relapse_rate"\n'
                                                                    for i in range(51)))),
    ("spec-binary", "structure", SPEC, {"s.toml": bytes(range(256))}),
    ("spec-empty", "structure", SPEC, spec("")),
    ("spec-wrong-suffix", "structure", ["trial", "{tmp}/s.json", "--outdir", "{tmp}/run"], {"s.json": "{}"}),
    # trial specs (YAML)
    ("spec-yaml-bomb-9", "structure", SPEC_YAML, spec(yaml_bomb(9), "s.yaml")),
    ("spec-yaml-bomb-5", "structure", SPEC_YAML, spec(yaml_bomb(5), "s.yaml")),
    ("spec-yaml-self-alias", "structure", SPEC_YAML, spec("name: x\narms: &a\n  - name: p\n    phases: *a\n", "s.yaml")),
    ("spec-yaml-nested-5000", "structure", SPEC_YAML, spec(nested("yaml", 5000), "s.yaml")),
    ("spec-yaml-nested-40", "structure", SPEC_YAML, spec(nested("yaml", 40), "s.yaml")),
    ("spec-yaml-python-tag", "structure", SPEC_YAML, spec("!!python/object/apply:os.system ['echo hi']\n", "s.yaml")),
    ("spec-yaml-list", "structure", SPEC_YAML, spec("- 1\n- 2\n", "s.yaml")),
    ("spec-yaml-scalar", "structure", SPEC_YAML, spec(LONG + "\n", "s.yaml")),
    ("spec-yaml-date-name", "structure", SPEC_YAML, spec("name: 2020-01-01\narms:\n  - name: p\n", "s.yaml")),
    ("spec-yaml-5001-arms", "structure", SPEC_YAML, spec("name: m\narms:\n" + "".join(f"  - name: a{i}\n" for i in range(5001)), "s.yaml")),
    ("spec-yaml-syntax", "structure", SPEC_YAML, spec("name: [x\n", "s.yaml")),
    ("spec-yml-seed-minus-1", "structure", ["trial", "{tmp}/s.yml", "--outdir", "{tmp}/run"], spec("seed: -1\nname: x\narms:\n  - name: p\n", "s.yml")),
    # patient files
    ("patient-json-nested-100000", "structure", PATIENT_JSON, {"p.json": nested("json", 100000)}),
    ("patient-json-nested-40", "structure", PATIENT_JSON, {"p.json": nested("json", 40)}),
    ("patient-json-long-key", "structure", PATIENT_JSON, {"p.json": '{"' + "k" * 10000 + '": 1}'}),
    ("patient-json-list", "structure", PATIENT_JSON, {"p.json": "[1, 2]"}),
    ("patient-json-number", "structure", PATIENT_JSON, {"p.json": "5"}),
    ("patient-json-syntax", "structure", PATIENT_JSON, {"p.json": '{"drug": '}),
    ("patient-json-doses-object", "structure", PATIENT_JSON, {"p.json": '{"drug": "cladribine", "doses": {"a": 1}}'}),
    ("patient-csv-long-record", "structure", PATIENT_CSV, {"p.csv": "record,date,value,unit,duration\n" + "x" * 10000 + ",,,,\n"}),
    ("patient-csv-long-header", "structure", PATIENT_CSV, {"p.csv": "record," + LONG + "\n"}),
    ("patient-csv-binary", "structure", PATIENT_CSV, {"p.csv": bytes(range(256))}),
    ("patient-csv-empty", "structure", PATIENT_CSV, {"p.csv": ""}),
    ("patient-csv-long-value", "structure", PATIENT_CSV, {"p.csv": PATIENT_HEAD + "dose,2026-03-03," + "8" * 5000 + ",mg/m2,1 h\n"}),
    # event tables
    ("events-binary", "structure", EVENTS, {"ev.csv": bytes(range(256))}),
    ("events-nul", "structure", EVENTS, {"ev.csv": "ID,TIME,AMT\n1,0,1\x002\n"}),
    ("events-3000-columns", "structure", EVENTS, {"ev.csv": ",".join(f"C{i}" for i in range(3000)) + "\n1\n"}),
    ("events-long-cell", "structure", EVENTS, events("1,0,1," + "9" * 5000 + "x,1,0.5,0,0,0,0")),
    ("events-long-unit", "structure", EVENTS, {"ev.csv": "ID,TIME,AMT,AMT_UNIT\n1,0,12," + "m" * 3000 + "\n"}),
    ("events-long-compartment", "structure", EVENTS, events("1,0,1,12," + LONG + ",0.5,0,0,0,0")),
    ("events-semicolons", "structure", EVENTS, {"ev.csv": "ID;TIME;AMT\n1;0;12\n"}),
    ("events-ragged", "structure", EVENTS, events("1,0,1,12,1,0.5,0,0,0,0," + ",".join(["1"] * 1000))),
    ("events-time-text-long", "structure", EVENTS, events("1," + LONG + ",1,12,1,0.5,0,0,0,0")),
    # patient tables (CSV)
    ("patients-binary", "structure", PATIENTS, {"p.csv": bytes(range(256))}),
    ("patients-long-text", "structure", PATIENTS, patients("id,height_cm,weight_kg", "1," + LONG + ",70")),
    ("patients-no-id-long-columns", "structure", PATIENTS, {"p.csv": ",".join("c" * 50 + str(i) for i in range(200)) + "\n1\n"}),
    ("patients-duplicate-long-ids", "structure", PATIENTS, patients("id,height_cm,weight_kg", "i" * 3000 + ",170,70",
                                                                      "i" * 3000 + ",170,70")),
    ("patients-empty", "structure", PATIENTS, {"p.csv": ""}),
    ("patients-header-only", "structure", PATIENTS, patients("id,height_cm,weight_kg")),
    # model files (TOML)
    ("model-nested-5000", "structure", MODEL, {"m.toml": nested("toml", 5000)}),
    ("model-is-5", "structure", MODEL, {"m.toml": "model = 5\n"}),
    ("model-syntax", "structure", MODEL, {"m.toml": "[model\n"}),
    ("model-binary", "structure", MODEL, {"m.toml": bytes(range(256))}),
    # command lines
    ("option-unknown-long", "structure", ["simulate", "--" + LONG], {}),
    ("command-unknown-long", "structure", [LONG], {}),
    ("simulate-option-long", "structure", [*DRUG, "--option", LONG], {}),
    ("simulate-symptomatic-long", "structure", [*DRUG, "--symptomatic", LONG], {}),
    ("simulate-cap-region-long", "structure", [*DRUG, "--cap-region", LONG], {}),
    ("simulate-time-unit-long", "structure", [*EVENTS, "--time-unit", LONG], {"ev.csv": "ID,TIME,AMT\n1,0,12\n"}),
    ("simulate-out-long-suffix", "structure", [*SIM, "--out", "{tmp}/x." + "c" * 3000], {}),
    ("timeline-patient-long", "structure", [*TIMELINE, "--patient", LONG], {}),
    ("personalise-target-long", "structure", [*PERSONALISE, "--target-nadir", "1" * 5000], {}),
    ("personalise-max-risk-long", "structure", [*PERSONALISE, "--max-risk", "9" * 5000], {}),
    ("personalise-on-long", "structure", [*PERSONALISE, "--on", LONG], {}),
    ("serve-host-long", "structure", ["serve", "--host", "h" * 5000], {}),
]

# -- values that used to be accepted silently -----------------------------------------------------
SILENT_CASES = [
    ("events-evid0-with-amt", "silent", EVENTS, events("1,0,1,12,1,0.5,0,0,0,0", "1,5,0,12,.,.,.,.,.,.")),
    ("events-evid2-with-amt", "silent", EVENTS, events("1,0,1,12,1,0.5,0,0,0,0", "1,5,2,12,.,.,.,.,.,.")),
    ("events-evid0-with-rate", "silent", EVENTS, events("1,0,1,12,1,0.5,0,0,0,0", "1,5,0,0,.,.,.,.,.,5")),
    ("events-evid2-with-rate", "silent", EVENTS, events("1,0,1,12,1,0.5,0,0,0,0", "1,5,2,0,.,.,.,.,.,5")),
    ("events-evid0-first-with-amt", "silent", EVENTS, events("1,0,0,12,1,.,.,.,.,.", "1,1,1,12,1,0.5,0,0,0,0")),
    ("events-bioavailability-50", "silent", EVENTS, {"ev.csv": "ID,TIME,AMT,F\n1,0,12,50\n"}),
    ("patients-bsa-negative", "silent", PATIENTS, patients("id,height_cm,weight_kg,bsa_m2", "1,170,70,-1.5")),
    ("patients-bsa-zero", "silent", PATIENTS, patients("id,height_cm,weight_kg,bsa_m2", "1,170,70,0")),
    ("patients-bsa-100", "silent", PATIENTS, patients("id,height_cm,weight_kg,bsa_m2", "1,170,70,100")),
    ("patients-age-negative", "silent", PATIENTS, patients("id,height_cm,weight_kg,age_y", "1,170,70,-30")),
    ("patients-age-500", "silent", PATIENTS, patients("id,height_cm,weight_kg,age_y", "1,170,70,500")),
    ("patients-weight-negative", "silent", PATIENTS, patients("id,height_cm,weight_kg", "1,170,-70")),
    ("patients-height-negative", "silent", PATIENTS, patients("id,height_cm,weight_kg", "1,-170,70")),
    ("patients-edss-15", "silent", PATIENTS, patients("id,height_cm,weight_kg,edss", "1,170,70,15")),
    ("patients-edss-negative", "silent", PATIENTS, patients("id,height_cm,weight_kg,edss", "1,170,70,-1")),
    ("patients-edss-10", "silent", PATIENTS, patients("id,height_cm,weight_kg,edss", "1,170,70,10")),
    ("patients-ms-course-xyzms", "silent", PATIENTS, patients("id,height_cm,weight_kg,ms_course", "1,170,70,XYZMS")),
    ("patients-sex-q", "silent", PATIENTS, patients("id,height_cm,weight_kg,sex", "1,170,70,Q")),
    ("patients-ms-duration-negative", "silent", PATIENTS, patients("id,height_cm,weight_kg,ms_duration_y", "1,170,70,-5")),
    ("patients-eta-1e300", "silent", PATIENTS, patients("id,height_cm,weight_kg,ETA_CL", "1,170,70,1e300")),
    ("patients-dmt-aspirin", "silent", PATIENTS, patients("id,height_cm,weight_kg,dmt", "1,170,70,aspirin")),
    ("patients-dmt-aspirin-untreated", "silent", ["simulate", "--untreated", "--quiet", "--population", "{tmp}/p.csv"],
     patients("id,height_cm,weight_kg,dmt", "1,170,70,aspirin")),
    ("patients-dmt-aspirin-timeline", "silent", [*TIMELINE, "--quiet", "--population", "{tmp}/p.csv"],
     patients("id,height_cm,weight_kg,dmt", "1,170,70,aspirin")),
    ("patients-edss-15-timeline", "silent", [*TIMELINE, "--quiet", "--population", "{tmp}/p.csv"],
     patients("id,height_cm,weight_kg,edss", "1,170,70,15")),
    ("simulate-dmt-aspirin-quiet", "silent", [*DRUG, "--dmt", "aspirin", "--quiet"], {}),
    ("untreated-dmt-aspirin-quiet", "silent", ["simulate", "--untreated", "--dmt", "aspirin", "--quiet"], {}),
    ("timeline-dmt-aspirin-quiet", "silent", [*TIMELINE, "--dmt", "aspirin", "--quiet"], {}),
    ("cohort-edss-fixed-50", "silent", [*DRUG, "--quiet", "--population", "{tmp}/c.toml"],
     {"c.toml": COHORT_BASE + '[covariates.edss]\ndistribution = "fixed"\nvalue = 50\n'}),
    ("cohort-edss-normal-mean-50", "silent", COHORT, {"c.toml": COHORT_BASE + '[covariates.edss]\ndistribution = "normal"\nmean = 50\nsd = 1\n'}),
    ("cohort-age-fixed-500", "silent", COHORT, {"c.toml": COHORT_BASE + '[covariates.age_y]\ndistribution = "fixed"\nvalue = 500\n'}),
    ("cohort-weight-uniform-0-1000", "silent", COHORT, {"c.toml": '[covariates.weight_kg]\ndistribution = "uniform"\nlow = 0\nhigh = 1000\n'}),
    ("cohort-weight-fixed-negative", "silent", COHORT, {"c.toml": '[covariates.weight_kg]\ndistribution = "fixed"\nvalue = -70\n'}),
    ("cohort-sex-x", "silent", COHORT, {"c.toml": COHORT_BASE + '[covariates.sex]\ndistribution = "categorical"\nvalues = ["X"]\np = [1.0]\n'}),
    ("cohort-ms-course-xyzms", "silent", COHORT, {"c.toml": COHORT_BASE + '[covariates.ms_course]\ndistribution = "categorical"\nvalues = ["XYZMS"]\np = [1.0]\n'}),
    ("cohort-dmt-aspirin", "silent", [*DRUG, "--quiet", "--population", "{tmp}/c.toml"],
     {"c.toml": COHORT_BASE + '[covariates.dmt]\ndistribution = "categorical"\nvalues = ["aspirin"]\np = [1.0]\n'}),
    ("spec-edss-fixed-50", "silent", SPEC, spec(SPEC_BASE + '[population]\nedss = { distribution = "fixed", value = 50 }\n')),
    ("spec-age-fixed-negative", "silent", SPEC, spec(SPEC_BASE + '[population]\nage_y = { distribution = "fixed", value = -3 }\n')),
    ("spec-ms-course-xyzms", "silent", SPEC, spec(SPEC_BASE + '[population]\nms_course = { distribution = "categorical", values = ["XYZMS"], p = [1.0] }\n')),
    ("spec-height-uniform-0-1000", "silent", SPEC, spec(SPEC_BASE + '[population]\nheight_cm = { distribution = "uniform", low = 0, high = 1000 }\n')),
    ("spec-edss-lower-negative", "silent", SPEC, spec(SPEC_BASE + '[population]\nedss = { distribution = "normal", mean = 3, sd = 1, lower = -5 }\n')),
    ("spec-edss-yaml-50", "silent", SPEC_YAML, spec("name: x\narms:\n  - name: p\npopulation:\n  edss: {distribution: fixed, value: 50}\n", "s.yaml")),
    ("spec-interval-one-minute", "silent", SPEC, spec(SPEC_BASE + '[visits]\ncounts_every = "1 min"\n')),
    ("personalise-on-2200-cyclophosphamide", "silent", [*PERSONALISE, "--on", "2200-01-01", "--quiet"], {}),
    ("personalise-on-2200-mitoxantrone", "silent", ["personalise", "--example", "mitoxantrone", "--on", "2200-01-01"], {}),
    ("personalise-on-2200-cladribine", "silent", ["personalise", "--example", "cladribine", "--on", "2200-01-01"], {}),
    ("personalise-on-9999-12-31", "silent", [*PERSONALISE, "--on", "9999-12-31"], {}),
    ("personalise-on-2035", "silent", [*PERSONALISE, "--on", "2035-01-01"], {}),
    ("personalise-on-1900", "silent", [*PERSONALISE, "--on", "1900-01-01"], {}),
    ("patient-dates-9999", "silent", PATIENT_CSV, {"p.csv": PATIENT_HEAD + "dose,9999-03-03,800,mg/m2,1 h\nwbc,9999-03-13,1.1,x10^9/L,\n"}),
    ("patient-json-dates-9999", "silent", PATIENT_JSON, {"p.json": '{"drug": "cladribine", "covariates": {"weight": "66 kg", '
                                                                 '"crcl": "95 mL/min"}, "doses": [{"date": "9999-02-02", '
                                                                 '"amount": "20 mg"}]}'}),
]

# -- names that look like paths -------------------------------------------------------------------
TRAVERSALS = ["../../x", "../{name}", "/etc/passwd", "..", ".", "~/{name}", "x/../{name}", "%2e%2e%2f{name}",
              "{name}.toml", "./{name}", "..\\..\\{name}", "{name}/"]
NAMED = {
    "simulate-example": (["simulate", "--example"], "mitox-2y"),
    "trial-example": (["trial", "--example"], "mims"),
    "personalise-example": (["personalise", "--example"], "cyclophosphamide"),
    "example-name": (["example"], "mitox-2y"),
    "drugs-name": (["drugs"], "mitoxantrone"),
    "simulate-drug": (["simulate", "--n", "2", "--drug"], "mitoxantrone"),
}
TRAVERSAL_CASES = [
    (f"{what}-{k}", "traversal", [*argv, t.format(name=name)], {})
    for what, (argv, name) in NAMED.items() for k, t in enumerate(TRAVERSALS)
]

# -- stale temporaries of a killed run beside a refused run ----------------------------------------
STALE = {".x.csv.99999999.abcdefgh.csv": "stale", ".x.csv.abcdefgh.csv": "old-style stale",
         ".run.99999999.abcdefgh/part.parquet": "stale folder", ".x.png.1.abcdefgh.png": "pid 1"}
STALE_CASES = [
    ("stale-simulate-bad-n", "stale", [*SIM[:5], "--n", "1e30", "--out", "{tmp}/x.csv"], STALE),
    ("stale-simulate-unwritable-plot", "stale", [*SIM, "--out", "{tmp}/x.csv", "--plot", "/proc/x.png"], STALE),
    ("stale-simulate-bad-regimen", "stale", ["simulate", "--drug", "mitox-2y", "--regimen", "x 9", "--out", "{tmp}/x.csv"], STALE),
    ("stale-trial-bad-seed", "stale", [*TRIAL, "--seed", "-1", "--outdir", "{tmp}/run"], STALE),
    ("stale-trial-bad-spec", "stale", SPEC, {**STALE, **spec("seed = -1\n" + SPEC_BASE)}),
    ("stale-example-bad-n", "stale", [*SCENARIO[:2], "--n", "0", "--outdir", "{tmp}/run"], STALE),
    ("stale-timeline-bad-until", "stale", [*TIMELINE, "--until", "1000 years", "--plot", "{tmp}/x.png"], STALE),
    ("stale-personalise-bad-on", "stale", [*PERSONALISE, "--on", "2200-01-01", "--sheet", "{tmp}/x.html"], STALE),
]

CASES = UNWRITABLE + SIZE_CASES + STRUCTURE_CASES + SILENT_CASES + TRAVERSAL_CASES + STALE_CASES
CLASSES = ("unwritable", "size", "structure", "silent", "traversal", "stale")


def _write(tmp_path: Path, files: dict[str, str | bytes]) -> set[str]:
    """Write the case's files; return every name under tmp_path that may remain (files and folders)."""
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content, encoding="utf-8")
    old = time.time() - 3600
    for path in tmp_path.rglob("*"):
        os.utime(path, (old, old))   # a killed run's copies are old
    return {p.name for p in tmp_path.rglob("*")}


@pytest.fixture
def no_work(monkeypatch):
    """Every entry point that simulates, fits or runs a trial fails the test if a bad input reaches it."""
    def started(*args, **kwargs):
        raise AssertionError("a simulation started although the input is bad; check it before the run")

    for target in ("mschemo.simulation.simulate", "mschemo.simulation.stream.simulate_to", "mschemo.trials.run_trial",
                   "mschemo.estimation.map.estimate_map", "mschemo.disease.simulate_disease"):
        monkeypatch.setattr(target, started)


@pytest.mark.parametrize(("args", "files"), [pytest.param(a, f, id=i) for i, _, a, f in CASES])
def test_hostile_input_is_refused_in_one_sentence(cli, no_work, tmp_path: Path, args: list[str],
                                                   files: dict[str, str | bytes]) -> None:
    kept = _write(tmp_path, files)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    res = cli(*argv)
    assert_refused(res.code, res.stdout, res.stderr, tmp_path, kept)
    for name in files:
        assert (tmp_path / name).exists(), f"{name} was removed by a refused run"


def test_the_corpus_is_large_covers_every_class_and_command_and_ids_are_unique() -> None:
    ids = [i for i, _, _, _ in CASES]
    assert len(ids) >= 300 and len(set(ids)) == len(ids)
    for cls in CLASSES:
        assert sum(c == cls for _, c, _, _ in CASES) >= 8, cls
    commands = {a[0] for _, _, a, _ in CASES}
    assert {"simulate", "timeline", "trial", "example", "drugs", "personalise", "serve"} <= commands


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="a read-only folder stops writes only without root")
@pytest.mark.parametrize(("argv", "option", "suffix"), [pytest.param(a, o, s, id=k) for k, (a, o, s) in OUTPUTS.items()])
def test_a_read_only_folder_is_refused_before_the_run(cli, no_work, tmp_path: Path, argv, option, suffix) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        res = cli(*argv, option, str(folder / f"x{suffix or ''}"))
        assert_refused(res.code, res.stdout, res.stderr, tmp_path, {"ro"})
    finally:
        folder.chmod(0o755)


# -- stale temporaries: swept by the next run that writes -----------------------------------------
def test_a_killed_runs_copies_are_swept_and_others_left_alone(cli, tmp_path: Path) -> None:
    """Copies of a process that has ended (and are old) go; an old-style name without a process, and a
    copy of a running process (this one), stay; the results are the new run's."""
    dead = 2**22 + 12345                      # above any pid this machine hands out
    stale = {f".x.csv.{dead}.abcdefgh.csv": "stale", f".d.{dead}.abcdefgh/disease_edss.parquet": "stale",
             ".x.csv.abcdefgh.csv": "old style", f".x.csv.{os.getpid()}.abcdefgh.csv": "running"}
    _write(tmp_path, stale)
    res = cli("simulate", "--drug", "mitoxantrone", "--n", "2", "--seed", "1", "--until", "30 days", "--quiet",
              "--out", tmp_path / "x.csv", "--disease-outdir", tmp_path / "d")
    assert res.code == 0, res.stderr
    names = {p.name for p in tmp_path.iterdir()}
    assert f".x.csv.{dead}.abcdefgh.csv" not in names and f".d.{dead}.abcdefgh" not in names
    assert {".x.csv.abcdefgh.csv", f".x.csv.{os.getpid()}.abcdefgh.csv", "x.csv", "d"} <= names
    assert (tmp_path / "x.csv").read_text().startswith("id,")
    assert sorted(p.name for p in (tmp_path / "d").iterdir() if p.name.startswith("."))  == []


def test_a_fresh_copy_of_an_ended_process_is_left_for_now(cli, tmp_path: Path) -> None:
    """A copy younger than ten minutes may belong to a run on another machine sharing the folder."""
    young = tmp_path / f".x.csv.{2**22 + 1}.abcdefgh.csv"
    young.write_text("young")
    res = cli(*SIM, "--seed", "1", "--until", "10 days", "--quiet", "--out", tmp_path / "x.csv")
    assert res.code == 0, res.stderr
    assert young.exists() and (tmp_path / "x.csv").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process table in /proc")
@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_removes_the_run_s_temporary_copies(tmp_path: Path, workers: int) -> None:
    """A run stopped by SIGTERM (a timeout, a killed job) ends at once: one line, exit code 143, no
    file left, and none of its worker processes left running."""
    out = tmp_path / "big.parquet"
    proc = subprocess.Popen([sys.executable, "-m", "mschemo", "simulate", "--drug", "mitox-2y", "--regimen", REG,
                             "--n", "400000", "--until", "2 years", "--out", str(out), "--stream", "--no-disease",
                             "--quiet", "--workers", str(workers)], env=subprocess_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    started: set[int] = set()
    try:
        for _ in range(600):
            started = children(proc.pid)
            if (any(p.name.startswith(".big.parquet.") for p in tmp_path.iterdir()) and len(started) >= workers - 1
                    or proc.poll() is not None):
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()
        assert len(started) >= workers - 1, started
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert err.strip() == "error: stopped by SIGTERM; the unfinished outputs were removed.", err
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    assert gone_within(started, 2.0), started     # killed by the run, or by the kernel as it ended


# -- the web API: the same requests, the same bounded sentence, a 4xx status --------------------------
WEB_CASES = [
    ("trial-yaml-bomb", "/api/v1/trials", {"spec_text": yaml_bomb(9), "spec_format": "yaml", "n_per_arm": 2}),
    ("trial-yaml-self-alias", "/api/v1/trials", {"spec_text": "name: x\narms: &a\n  - name: p\n    phases: *a\n",
                                                 "spec_format": "yaml"}),
    ("trial-toml-nested", "/api/v1/trials", {"spec_text": nested("toml", 5000)}),
    ("trial-5001-arms", "/api/v1/trials", {"spec_text": 'name = "m"\n' + "".join(f'[[arms]]\nname = "a{i}"\n'
                                                                              for i in range(5001))}),
    ("trial-seed-minus-1", "/api/v1/trials", {"spec_text": "seed = -1\n" + SPEC_BASE}),
    ("trial-edss-50", "/api/v1/trials", {"spec_text": SPEC_BASE + '[population]\nedss = { distribution = "fixed", value = 50 }\n'}),
    ("trial-n-per-arm-1e99", "/api/v1/trials", {"example": "mims", "n_per_arm": "1e99"}),
    ("personalise-json-nested", "/api/v1/personalise", {"patient_text": nested("json", 100000), "patient_format": "json"}),
    ("personalise-on-2200", "/api/v1/personalise", {"example": "cyclophosphamide", "on": "2200-01-01"}),
    ("personalise-long-record", "/api/v1/personalise", {"patient_text": "record,date,value,unit\n" + "x" * 10000 + ",,,\n"}),
    ("simulate-regimen-long", "/api/v1/simulate", {"drug": "mitox-2y", "regimen": "12 mg/m2 " + "x" * 10000, "n": 2}),
    ("simulate-regimen-huge-count", "/api/v1/simulate", {"drug": "mitox-2y", "regimen": "12 mg every 1 day x 99999999999",
                                                         "n": 2}),
    ("explain-dose-1e99", "/api/v1/explain", {"drug": "mitoxantrone", "dose": 1e99}),
    ("explain-years-1e9", "/api/v1/explain", {"drug": "mitoxantrone", "years": 1e9}),
    ("explain-seed-1e99", "/api/v1/explain", {"drug": "mitoxantrone", "seed": "1e99"}),
    ("explain-every-long", "/api/v1/explain", {"drug": "mitoxantrone", "every": LONG}),
    ("check-course-1e99", "/api/v1/check", {"drug": "mitoxantrone", "course": "1e99"}),
    ("check-date-9999", "/api/v1/check", {"drug": "mitoxantrone", "date": "9999-12-31"}),
    ("check-given-1e300", "/api/v1/check", {"drug": "mitoxantrone", "given": "1e300 mg/m2"}),
    ("check-anc-1e300", "/api/v1/check", {"drug": "mitoxantrone", "anc": 1e300}),
]


@pytest.fixture(scope="module")
def web_client():
    pytest.importorskip("fastapi", reason="the web extra is not installed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # starlette's TestClient on httpx
        from fastapi.testclient import TestClient

    from mschemo.interfaces.web import create_app
    from mschemo.interfaces.web.settings import WebSettings

    with TestClient(create_app(WebSettings(compute_workers=0, trial_workers=1, trial_queue=2))) as client:
        yield client


@pytest.mark.parametrize(("path", "body"), [pytest.param(p, b, id=i) for i, p, b in WEB_CASES])
def test_hostile_body_is_a_4xx_with_one_bounded_sentence(web_client, no_work, path: str, body: dict) -> None:
    r = web_client.post(path, json=body)
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:500])
    message = r.json()["error"]
    assert message.endswith(".") and "\n" not in message and len(message) <= MAX_ERROR_LINE - len("error: "), message
