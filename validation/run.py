"""Check the disease and drug models against published facts and write the validation page.

    python validation/run.py [--quick] [--out docs/validation.md] [--facts validation/facts.toml] [--only ID,ID]

Reads validation/facts.toml (facts with their bands, scenarios to simulate), simulates each scenario
through mschemo's public API once per seed, computes each fact's simulated value with its function
in validation/compute.py, and writes a Markdown page: calibrated facts (a parameter was fitted to
them) and predicted facts (none was), each with the published value, the band fixed beforehand, the
simulated value with its seeds and cohort size, and pass or miss with a cause. A fact that needs a
feature mschemo does not have is listed as "not run: needs ...". --quick runs every scenario with at
most ``quick_n`` patients (per arm) and one seed, for continuous integration.

Bad input (a malformed facts file, an unknown option) ends with one sentence on stderr and exit code 2.
A simulation that fails shows as an error on the page and makes the exit code 1.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import inspect
import math
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from compute import COMPUTE  # noqa: E402

KINDS = ("calibrated", "predicted")
RUNNERS = ("drug", "trial", "cohort")
COHORT_KEYS = ("female_share", "age_y", "ms_duration_y", "ms_course", "edss", "dmt", "height_cm", "weight_kg")
TREATMENT_KEYS = ("steroids", "plasma_exchange", "medications", "exercise", "rehabilitation", "diet")
FACT_REQUIRED = ("id", "kind", "claim", "published", "unit", "band", "band_reason", "source", "reference")
FACT_OPTIONAL = ("published_text", "fitted", "scenario", "compute", "args", "endpoint", "miss_cause", "needs", "design")
SCENARIO_KEYS = {
    "drug": {"runner", "description", "n", "drug", "regimen", "rules", "until", "output", "disease"},
    "trial": {"runner", "description", "n", "example", "spec"},
    "cohort": {"runner", "description", "n", "cohort", "arms", "until", "every_d", "season_start"},
}


class FactsError(Exception):
    """A facts file or an option that cannot be used (one sentence: the field and the fix)."""


# =================================================================================================
# Reading and checking the facts file
# =================================================================================================
@dataclass
class Fact:
    id: str
    kind: str
    claim: str
    published: float
    unit: str
    band: tuple[float, float]
    band_reason: str
    source: str
    reference: str
    published_text: str = ""
    fitted: tuple[str, ...] = ()
    scenario: str | None = None
    compute: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    endpoint: str = ""
    miss_cause: str = ""
    needs: str = ""
    design: str = ""


@dataclass
class Facts:
    seeds: tuple[int, ...]
    quick_seeds: tuple[int, ...]
    quick_n: int
    scenarios: dict[str, dict[str, Any]]
    facts: list[Fact]


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _text(value: Any, where: str, fix: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FactsError(f"{where} is {value!r}; {fix}.")
    return value


def _seeds(value: Any, where: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in value):
        raise FactsError(f"{where} is {value!r}; give a list of whole numbers >= 0, such as [11, 12].")
    return tuple(value)


def _check_scenario(name: str, sc: Any) -> dict[str, Any]:
    where = f"scenarios.{name}"
    if not isinstance(sc, dict):
        raise FactsError(f"{where} is not a table; write it as [scenarios.{name}] with runner, description and n.")
    runner = sc.get("runner")
    if runner not in RUNNERS:
        raise FactsError(f"{where}.runner is {runner!r}; use one of {', '.join(RUNNERS)}.")
    extra = sorted(set(sc) - SCENARIO_KEYS[runner])
    if extra:
        raise FactsError(f"{where} has the unknown field '{extra[0]}' for runner '{runner}'; "
                         f"use only {', '.join(sorted(SCENARIO_KEYS[runner]))}.")
    _text(sc.get("description"), f"{where}.description", "say in words what is simulated")
    n = sc.get("n")
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise FactsError(f"{where}.n is {n!r}; give the number of patients (per arm for a trial) as a whole number >= 1.")
    if runner == "drug":
        _text(sc.get("drug"), f"{where}.drug", "name a drug of the library, such as \"mitoxantrone\"")
        _text(sc.get("until"), f"{where}.until", "give the follow-up, such as \"120 days\"")
        if "disease" in sc and not (isinstance(sc["disease"], dict) and set(sc["disease"]) == {"until"}):
            raise FactsError(f"{where}.disease is {sc['disease']!r}; write it as {{ until = \"672 days\" }}.")
    elif runner == "trial":
        if ("example" in sc) == ("spec" in sc):
            raise FactsError(f"{where} needs exactly one of example (a built-in trial) or spec (a trial spec table).")
        if "spec" in sc and not isinstance(sc["spec"], dict):
            raise FactsError(f"{where}.spec is not a table; write it as [{where}.spec] with name, duration and [[...arms]].")
    else:
        _text(sc.get("until"), f"{where}.until", "give the follow-up, such as \"1 year\"")
        for key in ("cohort", "arms"):
            if key in sc and not isinstance(sc[key], dict):
                raise FactsError(f"{where}.{key} is not a table; write it as {key} = {{ ... }}.")
        unknown = sorted(set(sc.get("cohort", {})) - set(COHORT_KEYS))
        if unknown:
            raise FactsError(f"{where}.cohort has the unknown field '{unknown[0]}'; use {', '.join(COHORT_KEYS)}.")
        for arm, over in sc.get("arms", {}).items():
            if not isinstance(over, dict):
                raise FactsError(f"{where}.arms.{arm} is not a table; write it as {arm} = {{ ... }}.")
            unknown = sorted(set(over) - set(COHORT_KEYS) - set(TREATMENT_KEYS))
            if unknown:
                raise FactsError(f"{where}.arms.{arm} has the unknown field '{unknown[0]}'; use cohort fields "
                                 f"({', '.join(COHORT_KEYS)}) or treatments ({', '.join(TREATMENT_KEYS)}).")
    return sc


def _check_fact(i: int, raw: Any, scenarios: dict[str, dict[str, Any]]) -> Fact:
    if not isinstance(raw, dict):
        raise FactsError(f"facts[{i}] is not a table; write each fact as [[facts]] with id, kind, claim, ...")
    fid = raw.get("id")
    where = f"facts[{i}]" + (f" (id '{fid}')" if isinstance(fid, str) else "")
    for key in FACT_REQUIRED:
        if key not in raw:
            raise FactsError(f"{where} has no {key}; add it (every fact needs {', '.join(FACT_REQUIRED)}).")
    extra = sorted(set(raw) - set(FACT_REQUIRED) - set(FACT_OPTIONAL))
    if extra:
        raise FactsError(f"{where} has the unknown field '{extra[0]}'; use only {', '.join(FACT_REQUIRED + FACT_OPTIONAL)}.")
    if not isinstance(fid, str) or not re.fullmatch(r"[a-z0-9_]+", fid):
        raise FactsError(f"{where}.id is {fid!r}; use lower-case letters, digits and underscores.")
    if raw["kind"] not in KINDS:
        raise FactsError(f"{where}.kind is {raw['kind']!r}; use \"calibrated\" (a parameter was fitted to the fact) "
                         "or \"predicted\" (none was).")
    if not _is_number(raw["published"]):
        raise FactsError(f"{where}.published is {raw['published']!r}; give the published value as a number "
                         "(and its wording in published_text).")
    band = raw["band"]
    if not (isinstance(band, list) and len(band) == 2 and all(_is_number(b) for b in band) and band[0] <= band[1]
            and not any(math.isnan(b) for b in band)):
        raise FactsError(f"{where}.band is {band!r}; give [low, high] with low <= high (inf for no upper limit).")
    for key in ("claim", "unit", "band_reason", "source", "reference"):
        _text(raw[key], f"{where}.{key}", f"give the {key.replace('_', ' ')} in words")
    fitted = raw.get("fitted", [])
    if raw["kind"] == "calibrated" and not (isinstance(fitted, list) and fitted and all(isinstance(f, str) for f in fitted)):
        raise FactsError(f"{where}.fitted is {fitted!r}; a calibrated fact names the parameter(s) fitted to it, "
                         "such as [\"ARR_REF\"].")
    fact = Fact(fid, raw["kind"], raw["claim"], float(raw["published"]), raw["unit"], (float(band[0]), float(band[1])),
                raw["band_reason"], raw["source"], raw["reference"], str(raw.get("published_text", "")),
                tuple(fitted), raw.get("scenario"), raw.get("compute"), dict(raw.get("args", {})),
                str(raw.get("endpoint", "")), str(raw.get("miss_cause", "")), str(raw.get("needs", "")),
                str(raw.get("design", "")))
    if "needs" in raw:
        _text(raw["needs"], f"{where}.needs", "say which feature mschemo lacks")
        _text(raw.get("design"), f"{where}.design", "say how the fact would be simulated once the feature exists")
        return fact
    if fact.scenario not in scenarios:
        raise FactsError(f"{where}.scenario is {fact.scenario!r}; name one of [scenarios.*] "
                         f"({', '.join(sorted(scenarios))}), or give needs and design if mschemo cannot simulate it yet.")
    if fact.compute not in COMPUTE:
        raise FactsError(f"{where}.compute is {fact.compute!r}, which is not a computation; use one of "
                         f"{', '.join(sorted(COMPUTE))} (validation/compute.py).")
    if not isinstance(raw.get("args", {}), dict):
        raise FactsError(f"{where}.args is not a table; write it as args = {{ name = value, ... }}.")
    try:
        inspect.signature(COMPUTE[fact.compute]).bind(None, **fact.args)
    except TypeError as exc:
        raise FactsError(f"{where}.args do not fit {fact.compute} ({exc}); give its parameters "
                         f"{', '.join(list(inspect.signature(COMPUTE[fact.compute]).parameters)[1:])}.") from None
    _text(fact.endpoint, f"{where}.endpoint", "say in words what is computed from the simulation")
    return fact


def load_facts(path: Path) -> Facts:
    """Read and check a facts file; FactsError (one sentence) on any problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FactsError(f"the facts file '{path}' does not exist; give its path with --facts.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FactsError(f"the facts file '{path}' cannot be read ({exc}); give a UTF-8 TOML file.") from None
    except tomllib.TOMLDecodeError as exc:
        raise FactsError(f"the facts file '{path}' is not valid TOML ({exc}); fix the syntax there.") from None
    extra = sorted(set(data) - {"run", "scenarios", "facts"})
    if extra:
        raise FactsError(f"the facts file has the unknown top-level field '{extra[0]}'; use [run], [scenarios.*] and [[facts]].")
    run = data.get("run")
    if not isinstance(run, dict):
        raise FactsError("the facts file has no [run] table; add one with seeds, quick_seeds and quick_n.")
    quick_n = run.get("quick_n")
    if not isinstance(quick_n, int) or isinstance(quick_n, bool) or quick_n < 1:
        raise FactsError(f"run.quick_n is {quick_n!r}; give the most patients (per arm) of a --quick run, such as 200.")
    scenarios = data.get("scenarios", {})
    if not isinstance(scenarios, dict):
        raise FactsError("scenarios is not a table; write each scenario as [scenarios.NAME].")
    scenarios = {name: _check_scenario(name, sc) for name, sc in scenarios.items()}
    facts_raw = data.get("facts")
    if not isinstance(facts_raw, list) or not facts_raw:
        raise FactsError("the facts file has no [[facts]]; add at least one fact.")
    facts = [_check_fact(i, raw, scenarios) for i, raw in enumerate(facts_raw)]
    seen: set[str] = set()
    for i, f in enumerate(facts):
        if f.id in seen:
            raise FactsError(f"facts[{i}].id '{f.id}' repeats an earlier id; give each fact its own id.")
        seen.add(f.id)
    return Facts(_seeds(run.get("seeds"), "run.seeds"), _seeds(run.get("quick_seeds"), "run.quick_seeds"),
                 quick_n, scenarios, facts)


# =================================================================================================
# Simulating a scenario (public API only)
# =================================================================================================
def cohort_population(spec: dict[str, Any], n: int):
    """A fixed-baseline cohort of ``n`` patients (women first, then men, by ``female_share``)."""
    import numpy as np
    import pandas as pd

    import mschemo as ms

    n_f = int(round(float(spec.get("female_share", 0.7)) * n))
    table = pd.DataFrame({"id": np.arange(1, n + 1), "height_cm": float(spec.get("height_cm", 170.0)),
                          "weight_kg": float(spec.get("weight_kg", 70.0)), "sex": ["F"] * n_f + ["M"] * (n - n_f),
                          "age_y": float(spec.get("age_y", 38.0)), "ms_duration_y": float(spec.get("ms_duration_y", 5.0)),
                          "ms_course": str(spec.get("ms_course", "RRMS")), "edss": float(spec.get("edss", 2.0))})
    if "dmt" in spec:
        table["dmt"] = str(spec["dmt"])
    return ms.Population(table)


def run_drug(sc: dict[str, Any], n: int, seed: int) -> dict[str, Any]:
    """A drug's regimen on its default cohort: {"counts": result} (+ "linked"/"unlinked" disease results)."""
    import mschemo as ms

    with_disease = "disease" in sc
    res = ms.simulate(ms.load_drug(sc["drug"]), sc.get("regimen"), n, seed=seed, rules=bool(sc.get("rules", False)), until=sc["until"], output=sc.get("output", "daily"), disease=with_disease)
    out: dict[str, Any] = {"counts": res}
    if with_disease:
        from mschemo.disease import attach_disease

        linked = res.disease
        if float(linked.until_d) != float(ms.units.parse_duration(sc["disease"]["until"], "until")):
            linked = attach_disease(res, until=sc["disease"]["until"])
        out["linked"] = linked
        out["unlinked"] = attach_disease(res, alc_link=False, until=sc["disease"]["until"])
    return out


def run_trial_scenario(sc: dict[str, Any], n: int, seed: int) -> dict[str, Any]:
    """An in-silico trial: {"patients": per-patient table}."""
    import mschemo as ms

    spec = ms.load_trial_example(sc["example"]) if "example" in sc else ms.TrialSpec.from_dict(sc["spec"], "facts.toml scenario spec")
    return {"patients": ms.run_trial(spec, n_per_arm=n, seed=seed).patients}


def run_cohort(sc: dict[str, Any], n: int, seed: int) -> dict[str, Any]:
    """The disease alone: {arm: DiseaseResult}, every arm on the same seed (common random numbers)."""
    import mschemo as ms

    out = {}
    for arm, over in (sc.get("arms") or {"cohort": {}}).items():
        spec = {**sc.get("cohort", {}), **{k: v for k, v in over.items() if k in COHORT_KEYS}}
        treat = ms.Treatments.of(steroids=bool(over.get("steroids", False)),
                                 plasma_exchange=bool(over.get("plasma_exchange", False)),
                                 medications=tuple(over.get("medications", ())),
                                 rehabilitation=bool(over.get("rehabilitation", False)),
                                 exercise=bool(over.get("exercise", False)), diet=bool(over.get("diet", False)))
        out[arm] = ms.simulate_disease(cohort_population(spec, n), sc["until"], seed, treatments=treat,
                                       every_d=float(sc.get("every_d", 7.0)), season_start=sc.get("season_start"))
    return out


RUN = {"drug": run_drug, "trial": run_trial_scenario, "cohort": run_cohort}


# =================================================================================================
# Running the facts
# =================================================================================================
@dataclass
class Outcome:
    fact: Fact
    status: str                     # pass, miss, not run, error
    value: float = math.nan
    per_seed: tuple[float, ...] = ()
    seeds: tuple[int, ...] = ()
    n: int = 0
    note: str = ""


def within(value: float, band: tuple[float, float]) -> bool:
    """True when ``value`` lies in the closed band (NaN never does)."""
    return not math.isnan(value) and band[0] <= value <= band[1]


def combine(values: list[float]) -> float:
    """The simulated value of a fact: the mean over seeds (inf if every seed gives inf)."""
    if any(math.isnan(v) for v in values):
        return math.nan
    if all(math.isinf(v) for v in values) and len({v for v in values}) == 1:
        return values[0]
    return sum(values) / len(values)


def seeds_disagree(values: list[float], band: tuple[float, float]) -> bool:
    """True when the seeds' values lie farther apart than the band is wide: the statistic is then too
    unstable at this cohort size for its mean to count as a pass (bands assume a small simulation error)."""
    width = band[1] - band[0]
    finite = [v for v in values if math.isfinite(v)]
    if len(values) < 2 or not math.isfinite(width):
        return False
    if len(finite) != len(values):
        return len(set(values)) > 1
    return max(finite) - min(finite) > width


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".strip().rstrip(":")


def fmt(x: float) -> str:
    """A number for the page: 3 significant figures (whole numbers from 1000 on)."""
    if math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "not reached" if x > 0 else "-inf"
    if x != 0 and abs(x) < 0.001:
        return f"{x:.2g}"
    if abs(x) >= 1000:
        return f"{x:.0f}"
    return f"{x:.3g}"


def fmt_band(band: tuple[float, float]) -> str:
    lo, hi = band
    if math.isinf(hi):
        return f">= {fmt(lo)}"
    if math.isinf(lo):
        return f"<= {fmt(hi)}"
    return f"{fmt(lo)} to {fmt(hi)}"


def run_facts(facts: Facts, *, quick: bool, only: set[str] | None, log=print) -> list[Outcome]:
    """Simulate every scenario the selected facts need (once per seed) and compute each fact."""
    seeds = facts.quick_seeds if quick else facts.seeds
    outcomes: dict[str, Outcome] = {}
    by_scenario: dict[str, list[Fact]] = {}
    for f in facts.facts:
        if only is not None and f.id not in only:
            outcomes[f.id] = Outcome(f, "not run", note="left out of this run (--only)")
        elif f.needs:
            outcomes[f.id] = Outcome(f, "not run", note=f"needs {f.needs}")
        else:
            by_scenario.setdefault(f.scenario, []).append(f)
    total, done = len(facts.facts), 0
    for f in facts.facts:
        if f.id in outcomes and outcomes[f.id].status == "not run" and f.needs and (only is None or f.id in only):
            done += 1
            log(f"[{done:3d}/{total}] {f.id}: not run (needs a feature mschemo lacks)")
    for name, group in by_scenario.items():
        sc = facts.scenarios[name]
        n = min(sc["n"], facts.quick_n) if quick else sc["n"]
        values: dict[str, list[float]] = {f.id: [] for f in group}
        errors: dict[str, str] = {}
        started = time.perf_counter()
        for seed in seeds:
            try:
                result = RUN[sc["runner"]](sc, n, seed)
            except Exception as exc:  # noqa: BLE001 - a failed simulation is shown on the page, not hidden
                for f in group:
                    errors.setdefault(f.id, f"simulation of scenario '{name}' failed (seed {seed}): {_one_line(exc)}")
                continue
            for f in group:
                if f.id in errors:
                    continue
                try:
                    values[f.id].append(float(COMPUTE[f.compute](result, **f.args)))
                except Exception as exc:  # noqa: BLE001
                    errors[f.id] = f"{f.compute} failed (seed {seed}): {_one_line(exc)}"
            del result
        seconds = time.perf_counter() - started
        for f in group:
            done += 1
            if f.id in errors:
                outcomes[f.id] = Outcome(f, "error", seeds=seeds, n=n, note=errors[f.id])
                log(f"[{done:3d}/{total}] {f.id}: ERROR {errors[f.id]}")
                continue
            value = combine(values[f.id])
            status = "pass" if within(value, f.band) else "miss"
            note = ""
            if seeds_disagree(values[f.id], f.band):
                status, note = "miss", "the seeds disagree by more than the band is wide"
            outcomes[f.id] = Outcome(f, status, value, tuple(values[f.id]), seeds, n, note)
            log(f"[{done:3d}/{total}] {f.id}: {fmt(value)} (band {fmt_band(f.band)}) {status} "
                f"[scenario {name}, {seconds:.1f} s]")
    return [outcomes[f.id] for f in facts.facts]


# =================================================================================================
# The page
# =================================================================================================
def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "/")


def _simulated_cell(o: Outcome, scenarios: dict[str, dict[str, Any]]) -> str:
    if o.status == "not run":
        return f"not run: {o.note}"
    if o.status == "error":
        return f"error: {o.note}"
    per_arm = "/arm" if scenarios[o.fact.scenario]["runner"] == "trial" else ""
    if len(o.seeds) == 1:
        return f"{fmt(o.value)} (seed {o.seeds[0]}; n = {o.n}{per_arm})"
    each = ", ".join(fmt(v) for v in o.per_seed)
    return f"{fmt(o.value)} (seeds {', '.join(map(str, o.seeds))}: {each}; n = {o.n}{per_arm} each)"


def _result_cell(o: Outcome) -> str:
    if o.status == "pass":
        return "pass"
    if o.status == "miss":
        why = f" ({o.note})" if o.note else ""
        return f"**miss**{why}: {o.fact.miss_cause or 'cause not yet analysed'}"
    return o.status


def summary_line(outcomes: list[Outcome], kind: str) -> str:
    mine = [o for o in outcomes if o.fact.kind == kind]
    ran = [o for o in mine if o.status in ("pass", "miss")]
    passed = sum(o.status == "pass" for o in ran)
    needs = sum(o.status == "not run" and bool(o.fact.needs) for o in mine)
    left = sum(o.status == "not run" and not o.fact.needs for o in mine)
    errors = sum(o.status == "error" for o in mine)
    text = f"{kind}: {passed} of {len(ran)} within their band"
    extra = []
    if needs:
        extra.append(f"{needs} not run (they need features mschemo lacks)")
    if left:
        extra.append(f"{left} left out by --only")
    if errors:
        extra.append(f"{errors} failed to simulate")
    return text + (f"; {', '.join(extra)}" if extra else "")


def _git(args: list[str], cwd: Path) -> str:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10,
                              check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def source_state() -> str:
    """Which mschemo was simulated: the commit of the checkout it was imported from (and whether its
    package files have uncommitted changes), or its folder when it is not in a git checkout."""
    import mschemo as ms

    pkg = Path(ms.__file__).resolve().parent
    top = _git(["rev-parse", "--show-toplevel"], pkg)
    commit = _git(["rev-parse", "--short", "HEAD"], pkg) if top else ""
    if not commit:
        return f"mschemo imported from {pkg}"
    dirty = _git(["status", "--porcelain", "--", str(pkg)], pkg)
    return f"commit {commit}" + (" with uncommitted changes in src/mschemo" if dirty else "")


def render_page(outcomes: list[Outcome], facts: Facts, *, quick: bool, seconds: float) -> str:
    import mschemo as ms

    seeds = facts.quick_seeds if quick else facts.seeds
    mode = (f"quick run (at most {facts.quick_n} patients per scenario or arm, seed {', '.join(map(str, seeds))})"
            if quick else f"full run (seeds {', '.join(map(str, seeds))}; cohort sizes as listed)")
    lines = [
        "# Validation against published facts",
        "",
        "This page checks mschemo's disease and drug models against the published facts they use. "
        f"**{ms.DISCLAIMER}**",
        "",
        "- **Calibrated** facts are those a model parameter was fitted to (or set from). Reproducing them "
        "checks the fit and the code, not the model's power to predict.",
        "- **Predicted** facts are published results no parameter was fitted to. They test whether the "
        "model predicts what it was not told.",
        "- Each fact's **band** (what counts as reproducing it) and the reason for its width were written in "
        "`validation/facts.toml` before any run, from the source's sampling "
        "error, the simulation's and known differences of definition. A miss stays on this page with its "
        "cause; bands are not widened to turn misses into passes.",
        "- A fact that needs a feature mschemo does not have yet is listed as *not run: needs ...*, never "
        "with an invented value.",
        "- The simulated value is the mean over the seeds; each seed's value and the cohort size are shown. "
        "A fact also counts as a miss when its seeds lie farther apart than its band is wide: the statistic "
        "is then too unstable for its mean to count. "
        "How each fact is simulated (drug, regimen, cohort, duration, endpoint) is listed under "
        "[Designs](#designs) below.",
        "",
        "Rerun: `python validation/run.py` (full run, several minutes on 2 cores) or "
        "`python validation/run.py --quick` (small cohorts, one seed; about a minute). "
        "`--only ID,ID` runs some facts; `--out` writes the page elsewhere.",
        "",
        f"This page: {mode}; mschemo {ms.__version__}, {source_state()}, "
        f"{_dt.date.today().isoformat()}, {seconds / 60:.1f} min.",
        "",
        "**Summary.** " + summary_line(outcomes, "calibrated") + ". " + summary_line(outcomes, "predicted") + ".",
        "",
    ]
    for kind, title in (("calibrated", "Calibrated facts"), ("predicted", "Predicted facts")):
        lines += [f"## {title}", "", "| Fact | Source | Published | Band | Simulated | Result |",
                  "|---|---|---|---|---|---|"]
        for o in outcomes:
            f = o.fact
            if f.kind != kind:
                continue
            published = f"{fmt(f.published)} {f.unit}" + (f": {f.published_text}" if f.published_text else "")
            row = [f"{f.claim} (`{f.id}`)", f"{f.source}; reference: {f.reference}", published,
                   f"{fmt_band(f.band)} {f.unit}", _simulated_cell(o, facts.scenarios), _result_cell(o)]
            lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
        lines += ["", summary_line(outcomes, kind) + ".", ""]
    lines += ["## Designs", "", "What each fact's simulation is, its endpoint, why its band is as wide as it is and, for "
              "calibrated facts, the parameters fitted to it.", ""]
    for o in outcomes:
        f = o.fact
        if f.needs:
            design = f"would be simulated as: {f.design}"
        else:
            design = f"{facts.scenarios[f.scenario]['description']}; endpoint: {f.endpoint}"
        fitted = f" Fitted: {_cell('; '.join(f.fitted))}." if f.fitted else ""
        lines.append(f"- `{f.id}` ({f.kind}): {_cell(design)}. Band: {_cell(f.band_reason)}.{fitted}")
    lines.append("")
    return "\n".join(lines)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


# =================================================================================================
# Command line
# =================================================================================================
class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one sentence, exit 2
        raise FactsError(f"{message}; see python validation/run.py --help.")


def main(argv: list[str] | None = None) -> int:
    ap = _Parser(description="Check mschemo's models against published facts and write the validation page.")
    ap.add_argument("--quick", action="store_true", help="small cohorts and one seed (for CI, about a minute)")
    ap.add_argument("--out", default=str(REPO / "docs" / "validation.md"), help="the page to write (Markdown)")
    ap.add_argument("--facts", default=str(HERE / "facts.toml"), help="the facts file")
    ap.add_argument("--only", default=None, help="comma-separated fact ids to run (the others are listed as not run)")
    try:
        a = ap.parse_args(argv)
        facts = load_facts(Path(a.facts))
        only = None
        if a.only is not None:
            only = {x.strip() for x in a.only.split(",") if x.strip()}
            unknown = sorted(only - {f.id for f in facts.facts})
            if unknown or not only:
                raise FactsError(f"--only names the unknown fact '{unknown[0] if unknown else a.only}'; "
                                 "give ids from validation/facts.toml, separated by commas.")
        out = Path(a.out)
        if out.is_dir():
            raise FactsError(f"--out '{out}' is a folder; give a file name such as docs/validation.md.")
    except FactsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    outcomes = run_facts(facts, quick=a.quick, only=only, log=lambda s: print(s, flush=True))
    page = render_page(outcomes, facts, quick=a.quick, seconds=time.perf_counter() - started)
    try:
        write_atomic(out, page)
    except OSError as exc:
        print(f"error: the page '{out}' cannot be written ({exc}); give a writable path with --out.", file=sys.stderr)
        return 2
    print(summary_line(outcomes, "calibrated"))
    print(summary_line(outcomes, "predicted"))
    print(f"written: {out}")
    return 1 if any(o.status == "error" for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
