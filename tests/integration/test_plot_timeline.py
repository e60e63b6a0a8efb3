"""plot_timeline: one patient's doses, counts, relapses, symptoms and EDSS on one time axis."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import mschemo as ms
from mschemo.errors import OptionError
from mschemo.plotting import plot_timeline

DISCLAIMER = "Research and education only, not a prescription."


@pytest.fixture(scope="module")
def treated():
    """Three patients under mitoxantrone's label regimen and rules (4 months of counts), with their disease."""
    return ms.simulate(ms.load_drug("mitoxantrone"), n=3, seed=2, until="120 days", disease=True)


@pytest.fixture(scope="module")
def untreated():
    pop = ms.PopulationSpec().sample(30, 4)
    return ms.simulate_disease(pop, "10 years", 4)


def _titles(fig) -> list[str]:
    return [ax.get_title(loc="left") for ax in fig.axes]


def test_treated_patient_has_every_panel(treated, tmp_path: Path) -> None:
    path = tmp_path / "patient.png"
    fig = plot_timeline(treated.disease, 2, counts=treated, path=path)
    titles = _titles(fig)
    assert len(fig.axes) == 5
    assert titles[0] == "Doses" and titles[1] == "White-cell counts"
    assert titles[2].startswith("Relapses") and titles[3].startswith("Symptoms") and titles[4].startswith("Disability")
    doses = fig.axes[0]
    assert doses.get_title(loc="right") == DISCLAIMER   # shown where the doses are
    assert any(t.get_text().endswith("mg") or " mg " in t.get_text() for t in doses.texts)
    counts = fig.axes[1]
    assert {"ANC", "ALC"} <= set(counts.get_legend_handles_labels()[1])
    grade3 = sorted({round(line.get_ydata()[0], 3) for line in counts.lines if line.get_linestyle() == ":"
                     and len(line.get_ydata())})
    assert {0.5, 1.0} <= set(grade3)   # ALC and ANC grade-3 limits (10^9/L)
    labels = [t.get_text() for t in fig.axes[3].get_yticklabels()]
    assert labels == [s.replace("_", " ") for s in treated.disease.symptoms.present]
    assert fig.get_suptitle().startswith("Patient 2: mitoxantrone")
    assert fig.axes[-1].get_xlabel() == "Time (months)"   # the counts' 4 months
    assert path.read_bytes()[:4] == b"\x89PNG"
    assert [p.name for p in tmp_path.iterdir()] == ["patient.png"]


def test_without_counts_and_in_years(untreated) -> None:
    fig = plot_timeline(untreated)
    assert len(fig.axes) == 3
    assert _titles(fig)[0].startswith("Relapses") and _titles(fig)[-1] == "Disability (EDSS)"
    assert fig.axes[-1].get_xlabel() == "Time (years)"
    assert fig.get_suptitle().startswith(f"Patient {untreated.ids[0]}: no chemotherapy")
    assert any(DISCLAIMER in t.get_text() for t in fig.texts)
    edss = fig.axes[-1]
    assert {4.0, 6.0} <= {float(line.get_ydata()[0]) for line in edss.lines if line.get_linestyle() == "--"}
    assert {"EDSS as scored (with relapses)", "sustained EDSS"} <= set(edss.get_legend_handles_labels()[1])


def test_conversion_to_spms_is_marked(untreated) -> None:
    p = untreated.paths
    hit = np.flatnonzero((p.course0 == "RRMS") & np.isfinite(p.progressive_day) & (p.progressive_day > 0)
                         & (p.progressive_day <= untreated.times_d[-1]))
    if hit.size == 0:
        pytest.skip("no patient of this cohort converted to SPMS in the window")
    fig = plot_timeline(untreated, untreated.ids[hit[0]])
    assert "conversion to SPMS" in fig.axes[-1].get_legend_handles_labels()[1]


def test_relapses_are_drawn(untreated) -> None:
    counts = untreated.relapse_counts()
    k = int(np.argmax(counts))
    fig = plot_timeline(untreated, untreated.ids[k])
    rel = fig.axes[0]
    assert rel.get_title(loc="left").startswith(f"Relapses ({counts[k]})")
    onsets = [line for line in rel.lines if line.get_marker() == "D"]
    assert len(onsets) == counts[k]


def test_unknown_patient(untreated, treated) -> None:
    with pytest.raises(OptionError, match="not in the disease result"):
        plot_timeline(untreated, 999)
    with pytest.raises(OptionError, match="not in the counts result"):
        plot_timeline(untreated, 10, counts=treated)   # the counts hold patients 1-3 only


def test_exported_name() -> None:
    assert ms.plot_timeline is plot_timeline
