"""Populations: BSA formulas, sampling, real-patient CSVs and their validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mschemo as ms


def test_bsa_formulas_match_published_equations():
    """Mosteller (NEJM 1987): sqrt(H*W/3600); DuBois (1916): 0.007184 W^0.425 H^0.725."""
    assert ms.body_surface_area(180.0, 80.0) == pytest.approx(np.sqrt(180 * 80 / 3600))
    assert ms.body_surface_area(180.0, 80.0, "dubois") == pytest.approx(0.007184 * 80**0.425 * 180**0.725)


def test_individual_parameters_apply_etas():
    model = ms.load_model("mitox-2y")
    pop = ms.Population(pd.DataFrame({"id": [1, 2], "height_cm": [170, 160], "weight_kg": [70, 60],
                                      "ETA_CL": [0.0, np.log(2.0)]}))
    p = pop.individual_parameters(model)
    cl = p[:, model.parameters.index("CL")]
    assert cl[0] == pytest.approx(480.0) and cl[1] == pytest.approx(960.0)


def test_spec_sampling_has_the_stated_spread():
    model = ms.load_model("mitox-2y")
    t = ms.PopulationSpec().sample(4000, seed=11, model=model).table
    assert t["ETA_CL"].std() == pytest.approx(0.30, rel=0.05)
    assert t["height_cm"].mean() == pytest.approx(168, abs=0.6)
    assert np.median(t["weight_kg"]) == pytest.approx(72, rel=0.03)
    assert (t["sex"] == "F").mean() == pytest.approx(0.7, abs=0.03)


def test_population_from_csv(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("id,height_cm,weight_kg\n1,170,70\n2,160,55\n")
    pop = ms.Population.from_csv(f)
    assert len(pop) == 2 and "bsa_m2" in pop.table


@pytest.mark.parametrize("text, words", [
    ("height_cm,weight_kg\n170,70\n", "no 'id' column"),
    ("id,height_cm,weight_kg\n1,170,\n", "empty or non-numeric"),
    ("id,height_cm,weight_kg\n1,170,7000\n", "outside"),
    ("id,height_cm,weight_kg\n1,tall,70\n", "'tall'"),
    ("id,height_cm,weight_kg\n1,170,70\n1,160,60\n", "more than once"),
    ("", "not a readable CSV"),
])
def test_bad_population_files_are_one_sentence(tmp_path, text, words):
    f = tmp_path / "p.csv"
    f.write_text(text)
    with pytest.raises(ms.PopulationError) as e:
        ms.Population.from_csv(f)
    assert words in str(e.value) and "\n" not in str(e.value) and str(e.value).endswith(".")


def test_population_spec_file(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('name = "test"\n[covariates.height_cm]\ndistribution = "normal"\nmean = 170\nsd = 5\n'
                 '[covariates.weight_kg]\ndistribution = "lognormal"\nmedian = 70\ncv = 0.1\n')
    spec = ms.PopulationSpec.from_file(f)
    assert len(spec.sample(3, seed=1)) == 3
    f.write_text('[covariates.height_cm]\ndistribution = "gamma"\n')
    with pytest.raises(ms.PopulationError, match="distribution 'gamma'"):
        ms.PopulationSpec.from_file(f)
