"""The backends package's public surface: what other packages may import from it, and
``problem_for_params`` (one regimen for rows of parameters) building the same problem as ``build_problem``."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mschemo as ms
from mschemo.backends import problem_for_params
from mschemo.backends.problem import build_problem
from mschemo.errors import RegimenError

SRC = Path(ms.__file__).resolve().parent


def _private_backend_imports(path: Path) -> list[str]:
    """'line: what' for each import in ``path`` of a private name or module of mschemo.backends."""
    package = ".".join(path.relative_to(SRC.parent).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names = [module + "." + a.name for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[:2] == ["mschemo", "backends"] and any(p.startswith("_") for p in parts[2:]):
                found.append(f"{node.lineno}: {name}")
    return found


def test_no_module_outside_backends_imports_its_private_names():
    offenders = {str(p.relative_to(SRC)): hits for p in sorted(SRC.rglob("*.py"))
                 if "backends" not in p.relative_to(SRC).parts[:1] and (hits := _private_backend_imports(p))}
    assert offenders == {}


def test_problem_for_params_matches_build_problem():
    """Three patients under one regimen in mg/m2: the same records, parameters and solution."""
    model = ms.load_model("mitox-2y")
    regimen = ms.Regimen.parse("12 mg/m2 over 30 min every 3 months x 3")
    pop = ms.Population(pd.DataFrame({"id": [0, 1, 2], "height_cm": [165.0] * 3, "weight_kg": [62.0] * 3,
                                      "ETA_CL": [0.0, 0.3, -0.2]}))
    t = np.linspace(0.0, 200.0, 21)
    ref = build_problem(model, regimen, pop, t)
    bsa = float(pop.covariate("bsa_m2")[0])
    new = problem_for_params(model, regimen, ref.params, t, bsa_m2=bsa)
    assert new.rec.keys() == ref.rec.keys()
    for k in ref.rec:
        assert new.rec[k].dtype == ref.rec[k].dtype and np.array_equal(new.rec[k], ref.rec[k]), k
    assert np.array_equal(new.rec_off, ref.rec_off) and np.array_equal(new.ids, ref.ids)
    backend = ms.backends.Compiled(threads=1)
    assert np.array_equal(backend.solve(new).values, backend.solve(ref).values)


def test_problem_for_params_needs_the_body_size_of_scaled_doses():
    model = ms.load_model("mitox-2y")
    regimen = ms.Regimen.parse("12 mg/m2 over 30 min")
    params = ms.Population(pd.DataFrame({"id": [0], "height_cm": [165.0], "weight_kg": [62.0]})).individual_parameters(model)
    with pytest.raises(RegimenError, match="doses in mg/m2 but bsa_m2 is None"):
        problem_for_params(model, regimen, params, np.array([0.0, 1.0]))


def test_an_event_table_builds_each_patients_records_as_it_would_alone():
    """build_problem makes every patient's dose records in one pass; each patient's records (and the
    order of patients) are those of that patient built alone, whatever the others' doses and units."""
    import numpy as np

    import mschemo as ms
    from mschemo.backends.problem import build_problem, concat_problems
    from mschemo.regimen import EventTable, Regimen

    drug = ms.load_drug("cladribine")            # oral: the depot's F and lag are read per patient
    pop = drug.population_spec().sample(5, 3, drug.model)
    texts = ["10 mg daily x 5", "", "0.35 mg/kg daily x 5 starting day 30", "20 mg once", "1 mg/m2 every 2 days x 3"]
    regimens = {pid: (Regimen.parse(t) if t else Regimen.empty()) for pid, t in zip(pop.ids, texts)}
    t = np.arange(0.0, 40.0)
    whole = build_problem(drug.model, EventTable(regimens, {}), pop, t)
    alone = [build_problem(drug.model, EventTable({pid: regimens[pid]}, {}), pop.subset(i, i + 1), t)
             for i, pid in enumerate(pop.ids)]
    joined = concat_problems(alone)
    assert np.array_equal(whole.rec_off, joined.rec_off)
    for k in whole.rec:
        assert whole.rec[k].dtype == joined.rec[k].dtype and np.array_equal(whole.rec[k], joined.rec[k]), k
    assert np.array_equal(whole.params, joined.params)
    sol_whole, sol_joined = ms.backends.Compiled().solve(whole), ms.backends.Compiled().solve(joined)
    assert np.array_equal(sol_whole.values, sol_joined.values, equal_nan=True)
