"""The trial report (mschemo.trials.report): one self-contained HTML file, written whole or not at all."""

from __future__ import annotations

import errno
import os
import re
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mschemo
from mschemo.trials import report
from trial_tables import make_trial

SHA = "3f" * 32
PROVENANCE = {"spec_sha256": SHA, "seed": 20240601, "mschemo_version": mschemo.__version__, "chunk_size": 250}
ARMS = ["placebo", "mitoxantrone 12 mg/m2", "mitoxantrone 5 mg/m2"]
VOID = {"meta", "img", "br", "link", "hr", "input"}


class Structure(HTMLParser):
    """Tags in order, open-tag stack errors, images and the cells of the tables (by class)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.doctype, self.stack, self.errors, self.tags = "", [], [], []
        self.images: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self.text: list[str] = []

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "img":
            self.images.append(a.get("src", ""))
        if tag in VOID:
            return
        self.stack.append(tag)
        if tag == "table":
            self._table = a.get("class", "")
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()
        if tag in ("td", "th") and self._cell is not None:
            self.tables[self._table][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def trial() -> tuple[pd.DataFrame, pd.DataFrame]:
    """3 arms x 20 patients, monthly visits over 2 years; placebo without a count model (NaN counts)."""
    return make_trial(20, seed=8, duration_d=730, visit_every_d=30)


@pytest.fixture(scope="module")
def written(trial, tmp_path_factory) -> tuple[Path, Structure]:
    path = tmp_path_factory.mktemp("report") / "trial.html"
    patients, visits = trial
    out = report.write_report(patients, visits, path, title="Mitoxantrone <dose> finding", reference="placebo",
                              provenance=PROVENANCE)
    parser = Structure()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return out, parser


def test_report_is_one_valid_self_contained_html_file(written):
    path, doc = written
    assert path.name == "trial.html" and path.is_file()
    assert doc.doctype.lower() == "doctype html" and not doc.errors and not doc.stack
    assert [t for t in doc.tags if t in ("html", "head", "body", "main")] == ["html", "head", "body", "main"]
    assert doc.tags.index("title") < doc.tags.index("body") and doc.tags.count("h1") == 1
    text = path.read_text(encoding="utf-8")
    assert "<script" not in text and "<link" not in text and "http://" not in text and "https://" not in text
    assert "Mitoxantrone &lt;dose&gt; finding" in text   # the title is escaped
    # KM curves, counts (placebo has none: two arms drawn), EDSS, forest plot
    assert text.count('<img src="data:image/png;base64,') == 4 == len(doc.images)
    assert all(len(src) > 5000 for src in doc.images)


def test_report_tables_and_reproducibility_line(written):
    _, doc = written
    outcomes = doc.tables["outcomes"]
    assert outcomes[0] == ["Outcome", *ARMS] and len(outcomes) == 1 + 20
    rows = {r[0]: r[1:] for r in outcomes[1:]}
    assert rows["Rate ratio, relapse rate"][0] == "reference" and rows["Hazard ratio, 3-month CDP"][0] == "reference"
    assert rows["Annualised relapse rate"][1].count("(") == 1
    assert rows["Leukopenia, WBC < 4.0 (WHO (Miller 1981), at labs visits)"][0].startswith("NE")
    # each toxicity figure with its scale and where the counts were read (visits as reported, true nadir)
    tox = doc.tables["toxicity"]
    assert [r[0] for r in doc.tables["dosing"][1:]] == ARMS and len(tox) == 1 + 8
    assert tox[0][:3] == ["Adverse event (patients)", "Scale", "Counts read at"]
    assert {r[2] for r in tox[1:]} == {"labs visits, as reported", "true nadir (daily curve)"}
    assert doc.tables["baseline"][1][:2] == ["placebo", "20"]
    text = " ".join("".join(doc.text).split())
    line = next(s for s in text.split("Reproducibility: ")[1:])
    for piece in (f"spec sha256 {SHA}", "seed 20240601", f"mschemo {mschemo.__version__}", "chunk size 250",
                  "n per arm placebo 20, mitoxantrone 12 mg/m2 20, mitoxantrone 5 mg/m2 20"):
        assert piece in line, piece
    assert text.count("Research and education only, not a prescription.") == 2


def test_report_prints_no_none_and_names_one_interval_per_share(written):
    """No "None" or "nan" anywhere (an option not used is left out of the provenance line, even inside a
    mapping); the relapse-free share has one interval (Kaplan-Meier, exponential Greenwood), named once
    under the outcome table and in the Kaplan-Meier heading; the disability table shows EDSS only."""
    path, doc = written
    visible = re.sub(r"data:image/png;base64,[^\"]+", "", path.read_text(encoding="utf-8"))
    assert not re.search(r"\b(None|nan|NaN)\b", visible)
    text = " ".join("".join(doc.text).split())
    assert "event-free shares Kaplan-Meier with exponential Greenwood intervals" in text
    assert "Kaplan-Meier curves (95 % CI, exponential Greenwood)" in text
    assert "Relapse-free" not in text and "relapse_free" not in text
    assert doc.tables["disability"][0] == ["Arm", "Patients", "EDSS at baseline: mean",
                                           "EDSS change from baseline: mean (SD)"]
    assert "EDSS change from baseline" in text   # the EDSS figure is a change from each patient's own baseline


def test_provenance_leaves_out_options_not_used(trial):
    patients, visits = trial
    prov = {**PROVENANCE, "dask": None, "workers": 1, "backend": {"backend": "compiled", "threads": None}}
    text = report.report_html(patients, visits, title="t", reference="placebo", provenance=prov)
    line = text.split("Reproducibility: ")[1].split("</p>")[0]
    assert "None" not in line and "dask" not in line and "backend backend compiled" in line and "workers 1" in line


def _drawn(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def test_figures_read_in_months_with_legends_outside_the_panels(trial):
    """A 2-year trial: time in months since randomisation; each figure's legend lies below its panels
    (none inside an axes); the EDSS axis is a change from baseline and includes 0."""
    patients, visits = trial
    arms = ARMS
    km = report._km_figure(patients, arms, report.oc.default_endpoints(), 730.0)
    counts = report._counts_figure(visits, arms, 730.0)
    edss = report._edss_figure(visits, patients, arms, 730.0)
    for fig in (km, counts, edss):
        renderer = _drawn(fig)
        assert all(ax.get_xlabel() == "months since randomisation" and ax.get_legend() is None for ax in fig.axes)
        (legend,) = fig.legends
        box = legend.get_window_extent(renderer)
        assert all(box.y1 <= ax.get_window_extent(renderer).y0 for ax in fig.axes)
    ticks = km.axes[0].get_xticks()
    assert [round(v / (365.25 / 12), 6) for v in ticks if 0 <= v <= 731] == [0, 3, 6, 9, 12, 15, 18, 21, 24]
    ax = edss.axes[0]
    assert ax.get_ylabel() == "EDSS change from baseline (points)" and ax.get_ylim()[0] < 0 < ax.get_ylim()[1]
    from matplotlib.figure import Figure

    years = Figure().subplots()
    report._time_axis(years, 10 * 365.25)
    assert years.get_xlabel() == "years since randomisation"


def test_forest_plot_rows_do_not_overlap(trial):
    """One row per arm under a heading per outcome; no two labels or estimate texts overlap."""
    patients, _ = trial
    table = report.oc.outcome_table(patients, "placebo")
    ratios = table[table["outcome"].str.contains("ratio") & (table["arm"] != "placebo")]
    fig = report._forest_figure(ratios, ARMS, "placebo")
    renderer = _drawn(fig)
    ax = fig.axes[0]
    boxes = [t.get_window_extent(renderer) for t in ax.get_yticklabels() + ax.texts if t.get_text().strip()]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.overlaps(b), (a, b)
    headings = {t.get_text() for t in ax.texts}
    assert {"Rate ratio, relapse rate", "Hazard ratio, first relapse", "ratio (95 % CI)"} <= headings
    assert ax.get_xlabel().startswith("ratio vs placebo (log scale")


def test_count_figure_is_left_out_when_no_arm_has_counts(trial, tmp_path):
    patients, visits = trial
    visits = visits.assign(**{c: np.nan for c in ("wbc_1e9_per_L", "anc_1e9_per_L", "alc_1e9_per_L")})
    text = report.report_html(patients, visits, title="t", reference="mitoxantrone 5 mg/m2", provenance={})
    assert text.count('<img src="data:image/png;base64,') == 3
    assert "seed not given" in text   # provenance keys that were not given are said so


def _no_leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir()] if directory.is_dir() else []


def test_missing_directory_is_created_and_blocked_one_leaves_nothing(trial, written, tmp_path, monkeypatch):
    """A missing directory is made (as for figures); a path under a regular file fails before any write."""
    patients, visits = trial
    html = written[0].read_text(encoding="utf-8")
    monkeypatch.setattr(report, "report_html", lambda *a, **k: html)   # the document is not what is tested
    out = report.write_report(patients, visits, tmp_path / "new" / "dir" / "r.html", title="t", reference="placebo",
                              provenance=PROVENANCE)
    assert out.read_text(encoding="utf-8") == html and _no_leftovers(out.parent) == ["r.html"]
    (tmp_path / "afile").write_text("x")
    with pytest.raises(OSError):
        report.write_report(patients, visits, tmp_path / "afile" / "r.html", title="t", reference="placebo",
                            provenance=PROVENANCE)
    assert (tmp_path / "afile").read_text() == "x"


def test_unwritable_directory_leaves_nothing(trial, tmp_path, monkeypatch):
    """A read-only directory: PermissionError and nothing left. Root may write anywhere, so for root the
    refusal of the temporary file is simulated."""
    patients, visits = trial
    monkeypatch.setattr(report, "report_html", lambda *a, **k: "<!DOCTYPE html><html></html>")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    if getattr(os, "geteuid", lambda: -1)() == 0:
        def refuse(*args, **kwargs):
            raise PermissionError(errno.EACCES, "Permission denied", str(locked))

        monkeypatch.setattr(tempfile, "mkstemp", refuse)
    try:
        with pytest.raises(PermissionError):
            report.write_report(patients, visits, locked / "r.html", title="t", reference="placebo", provenance={})
        assert _no_leftovers(locked) == []
    finally:
        locked.chmod(0o700)


def test_failure_while_writing_keeps_the_old_report_and_no_partial_file(trial, written, tmp_path, monkeypatch):
    """The disk fills half-way through: the previous report stays as it was, no temporary file remains."""
    patients, visits = trial
    html = written[0].read_text(encoding="utf-8")
    target = tmp_path / "r.html"
    target.write_text("previous report")
    monkeypatch.setattr(report, "report_html", lambda *a, **k: html)

    def half_then_full_disk(path: Path, text: str) -> None:
        path.write_text(text[: len(text) // 2], encoding="utf-8")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(report, "_write_text", half_then_full_disk)
    with pytest.raises(OSError, match="No space left"):
        report.write_report(patients, visits, target, title="t", reference="placebo", provenance=PROVENANCE)
    assert target.read_text() == "previous report" and _no_leftovers(tmp_path) == ["r.html"]
    missing = tmp_path / "sub" / "x.html"
    with pytest.raises(OSError):
        report.write_report(patients, visits, missing, title="t", reference="placebo", provenance=PROVENANCE)
    assert not missing.exists() and _no_leftovers(missing.parent) == []


def test_bad_reference_fails_before_any_file(trial, tmp_path):
    patients, visits = trial
    with pytest.raises(mschemo.InputError, match="reference arm 'none'"):
        report.write_report(patients, visits, tmp_path / "r.html", title="t", reference="none", provenance={})
    assert _no_leftovers(tmp_path) == []
