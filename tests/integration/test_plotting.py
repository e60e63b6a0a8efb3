"""Figures from results: panels, labels with units, dose marks, the grade-3 limit, atomic writes; time
in months or years for long runs; the concentration at its peaks; the dose plan's prediction interval."""

from __future__ import annotations

from pathlib import Path

import numpy as np
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


def _tick_texts(ax, lo: float, hi: float) -> list[str]:
    """The x tick labels of ``ax`` between lo and hi (days), as its formatter writes them."""
    fmt = ax.xaxis.get_major_formatter()
    return [fmt(v, i) for i, v in enumerate(ax.get_xticks()) if lo - 1e-6 <= v <= hi + 1e-6]


@pytest.fixture(scope="module")
def two_years():
    """One patient, 12 mg/m2 every 3 months (91.3125 d: doses between the output days) for 2 years."""
    return ms.simulate("mitox-2y", "12 mg/m2 over 30 min every 3 months x 8", 1, seed=1)


def test_time_axis_in_months_for_a_two_year_run(two_years) -> None:
    from mschemo.presentation.style import time_axis

    fig = plot_counts(two_years)
    ax = fig.axes[-1]
    assert ax.get_xlabel() == "Time (months)"
    assert _tick_texts(ax, 0, 731) == ["0", "3", "6", "9", "12", "15", "18", "21", "24"]
    assert time_axis(150.0)[1] == "days" and time_axis(5 * 365.25)[1] == "years"


def test_drugs_side_by_side_in_months() -> None:
    from mschemo.drugs import load_drug
    from mschemo.plotting import plot_drugs

    res = ms.simulate(load_drug("mitoxantrone"), n=7, seed=2, until="1 year")
    fig = plot_drugs({"mitoxantrone": res})
    assert fig.axes[-1].get_xlabel() == "Time (months)"


def test_concentration_is_drawn_at_its_peaks_and_the_result_is_unchanged(two_years) -> None:
    """On the daily grid equal doses show peaks many-fold apart (each dose meets the grid at another
    time after it); the panel adds times close after each dose, so every peak shows at its height.
    The result's own times and values stay as they were."""
    times, values = two_years.times_d.copy(), two_years.values.copy()
    doses = two_years.dose_times_d()
    daily = two_years.column("conc")[0]
    grid_peaks = [daily[(times >= d) & (times <= d + 1.0)].max() for d in doses]
    assert max(grid_peaks) / min(grid_peaks) > 3            # what the daily grid alone would draw
    fig = plot_counts(two_years, show_conc=True)
    conc = fig.axes[-1].get_lines()[0]
    x, y = np.asarray(conc.get_xdata()), np.asarray(conc.get_ydata())
    peaks = [y[(x >= d) & (x < d + 1.0)].max() for d in doses]
    assert max(peaks) / min(peaks) < 1.01 and min(peaks) > 10 * max(grid_peaks)
    assert np.array_equal(two_years.times_d, times) and np.array_equal(two_years.values, values)


# -- the dose plan's figure ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def example_plans():
    """Plans of two example patients: mitoxantrone (the model follows the counts) and cyclophosphamide
    (the day-10 counts lie below what the model can fit)."""
    folder = Path(ms.__file__).parent / "estimation" / "examples"
    plans = {}
    for name in ("mitoxantrone", "cyclophosphamide"):
        rec = ms.read_patient(folder / f"{name}.csv")
        plans[name] = ms.recommend_dose(ms.estimate_map(rec.drug, rec), n_draws=150)
    return plans


def _drawn(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def test_plan_band_is_a_prediction_interval_holding_the_patients_counts(example_plans) -> None:
    """The band is the 90 % prediction interval of a measured count (the residual error added to the
    posterior): wider than the curve's credible band, and it holds every count of the example patient
    the model follows; no warning then. The legend lies above the panels; a year reads in months."""
    from mschemo.planning.figure import BAND_LABEL

    plan = example_plans["mitoxantrone"]
    p = plan.predicted
    assert (p["pi5_1e9_per_L"] < p["median_1e9_per_L"]).all() and (p["median_1e9_per_L"] < p["pi95_1e9_per_L"]).all()
    assert (p["pi95_1e9_per_L"] - p["pi5_1e9_per_L"]).mean() > 1.5 * (p["p95_1e9_per_L"] - p["p5_1e9_per_L"]).mean()
    band = plan.measured_vs_band()
    assert len(band) == len(plan.record.counts) and band["inside"].all()
    fig = plan.plot()
    assert not any("WARNING" in t for t in _texts(fig))
    (legend,) = fig.legends
    assert BAND_LABEL in [t.get_text() for t in legend.get_texts()]
    renderer = _drawn(fig)
    assert legend.get_window_extent(renderer).y0 >= max(ax.get_window_extent(renderer).y1 for ax in fig.axes) - 1
    assert all(ax.get_legend() is None for ax in fig.axes)
    assert fig.axes[-1].get_xlabel().startswith("months since the first dose")


def test_plan_figure_warns_when_a_count_lies_outside_the_band(example_plans) -> None:
    plan = example_plans["cyclophosphamide"]
    band = plan.measured_vs_band()
    outside = band[~band["inside"]]
    assert len(outside) >= 1 and set(outside["date"].astype(str)) == {"2026-03-13"}
    fig = plan.plot()
    warning = next(t for t in _texts(fig) if t.startswith("WARNING"))
    assert "outside the 90 % prediction interval" in warning and "2026-03-13" in warning.replace("\n", " ")
    (legend,) = fig.legends
    assert "measured, outside the interval" in [t.get_text() for t in legend.get_texts()]
    assert fig.axes[-1].get_xlabel().startswith("days since the first dose")   # 2 months: days
