"""Figures from results: panels, labels with units, dose marks, the grade-3 limit, atomic writes."""

from __future__ import annotations

from pathlib import Path

import pytest

import mschemo as ms
from mschemo.plotting import FEW_PATIENTS, plot_counts, save_figure

DISCLAIMER = "Research and education only, not a prescription."
REGIMEN = "12 mg/m2 over 30 min every 91 days x 2"


@pytest.fixture(scope="module")
def population_result():
    ex = ms.load_example("mitox-2y", n=FEW_PATIENTS + 4)
    return ms.simulate(ex.model, REGIMEN, ex.population, until="150 days")


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.texts]


def test_population_figure(population_result, tmp_path: Path) -> None:
    fig = plot_counts(population_result)
    (ax,) = fig.axes
    assert ax.get_ylabel() == "WBC ($10^9$/L)" and ax.get_xlabel() == "Time (days)"
    labels = ax.get_legend_handles_labels()[1]
    assert any(lab.startswith("median of") for lab in labels)
    assert "5-95 % of patients" in labels
    assert "CTCAE grade 3: WBC < 2.0" in labels and "dose" in labels
    assert any(DISCLAIMER in t for t in _texts(fig))
    path = save_figure(fig, tmp_path / "pop.png")
    assert path.read_bytes()[:4] == b"\x89PNG"
    assert [p.name for p in tmp_path.iterdir()] == ["pop.png"]


def test_one_patient_with_concentration(population_result) -> None:
    pid = population_result.ids[2]
    fig = population_result.plot(patient=pid, show_conc=True, title="one patient")
    assert len(fig.axes) == 2
    assert fig.axes[1].get_ylabel() == "Concentration (mg/L)" and fig.axes[1].get_yscale() == "log"
    assert f"patient {pid}" in fig.axes[0].get_legend_handles_labels()[1]
    assert fig.get_suptitle() == "one patient"


def test_few_patients_one_line_each() -> None:
    res = ms.simulate("mitox-2y", REGIMEN, 3, seed=1, until="100 days")
    labels = plot_counts(res).axes[0].get_legend_handles_labels()[1]
    assert [lab for lab in labels if lab.startswith("patient")] == ["patient 1", "patient 2", "patient 3"]


def test_draw_into_given_axes(population_result) -> None:
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.subplots()
    assert plot_counts(population_result, output="wbc", ax=ax) is fig
    assert ax.get_ylabel().startswith("WBC")


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"patient": 999_999}, "patient 999999 is not in this result"),
    ({"output": "nosuch"}, "output 'nosuch' is not in this result"),
    ({"band": (60, 95)}, "band"),
])
def test_bad_arguments(population_result, kwargs, match) -> None:
    with pytest.raises(ms.OptionError, match=match):
        plot_counts(population_result, **kwargs)


def test_save_figure_bad_suffix_writes_nothing(population_result, tmp_path: Path) -> None:
    with pytest.raises(ms.OptionError, match="use .png, .pdf or .svg"):
        save_figure(plot_counts(population_result), tmp_path / "x.gif")
    assert list(tmp_path.iterdir()) == []


def test_decision_markers() -> None:
    """A result of dosing rules marks its decisions: given courses (triangles), stops (red crosses)."""
    from mschemo.drugs import load_drug

    drug = load_drug("mitoxantrone")
    res = ms.simulate(drug, n=8, seed=1, until="600 days", rules=drug.rules.with_region("eu"))
    assert (res.decisions["action"] == "stopped").any()
    fig = plot_counts(res)
    assert len(fig.axes) == 3
    labels = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert "course given" in labels
    assert any(lab.startswith("withheld or stopped (") for lab in labels)
    ax = fig.axes[0]
    markers = {line.get_marker() for line in ax.get_lines()}
    assert {"v", "x"} <= markers
    given_days = sorted(set(res.decisions.loc[res.decisions["action"] == "given", "day"]))
    tri = next(line for line in ax.get_lines() if line.get_marker() == "v")
    assert list(tri.get_xdata()) == given_days
    # one patient: that patient's decisions only, in the axes legend
    from matplotlib.figure import Figure

    capped = res.decisions["rule"].str.contains("72 mg/m2", regex=False)
    pid = res.decisions.loc[capped, "id"].iloc[0]
    one = plot_counts(res, patient=pid, output="anc", ax=Figure().subplots())
    labels = one.axes[0].get_legend_handles_labels()[1]
    assert "course given" in labels and "withheld or stopped (1 course)" in labels


def test_no_decisions_keeps_dose_ticks(population_result) -> None:
    assert population_result.decisions is None
    ax = plot_counts(population_result).axes[0]
    assert "dose" in ax.get_legend_handles_labels()[1]
    assert not any(line.get_marker() in ("v", "x") for line in ax.get_lines())


def test_drugs_side_by_side() -> None:
    from mschemo.drugs import load_drug
    from mschemo.plotting import plot_drugs

    results = {name: ms.simulate(load_drug(name), n=7, seed=2, until="120 days") for name in ("mitoxantrone", "cladribine")}
    fig = plot_drugs(results, {"mitoxantrone": "12 mg/m2 every 3 months"})
    assert len(fig.axes) == 6                                     # 3 rows (WBC, ANC, ALC) x 2 drugs
    assert fig.axes[0].get_title(loc="left").startswith("mitoxantrone\n12 mg/m²")
    assert fig.axes[0].get_ylim() == fig.axes[1].get_ylim()      # rows share their scale
    assert any(DISCLAIMER in t for t in _texts(fig))
