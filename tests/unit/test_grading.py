"""Toxicity grading scales: every boundary of CTCAE v3.0, v4.03, v5.0 and WHO on hand-made counts,
v5.0 identical to ctcae_grade, clear errors, and the scales' parameter files load with sources."""

from __future__ import annotations

import numpy as np
import pytest

from mschemo import grading
from mschemo.errors import OptionError
from mschemo.params import PARAMS_DIR, load_parameters
from mschemo.results import ctcae_grade


def _grades(values, count, scale):
    return grading.grade(np.array(values), count, scale).tolist()


# Counts at each limit belong to the milder grade ("<3.0 - 2.0" in CTCAE); 1e-9 below a limit is the
# next grade. The LLN rows use the project's common adult limits (WBC 4.0, ANC 2.0, ALC 1.0 x10^9/L).
CTCAE_BOUNDARIES = {
    "wbc": ([4.0, 4.0 - 1e-9, 3.0, 3.0 - 1e-9, 2.0, 2.0 - 1e-9, 1.0, 1.0 - 1e-9, 0.0], [0, 1, 1, 2, 2, 3, 3, 4, 4]),
    "anc": ([2.0, 2.0 - 1e-9, 1.5, 1.5 - 1e-9, 1.0, 1.0 - 1e-9, 0.5, 0.5 - 1e-9, 0.0], [0, 1, 1, 2, 2, 3, 3, 4, 4]),
    "alc": ([1.0, 1.0 - 1e-9, 0.8, 0.8 - 1e-9, 0.5, 0.5 - 1e-9, 0.2, 0.2 - 1e-9, 0.0], [0, 1, 1, 2, 2, 3, 3, 4, 4]),
}


@pytest.mark.parametrize("count", ["wbc", "anc", "alc"])
def test_ctcae_v5_boundaries(count):
    """NCI CTCAE v5.0 (2017), Investigations: White blood cell decreased <LLN-3.0, <3.0-2.0, <2.0-1.0,
    <1.0; Neutrophil count decreased <LLN-1.5, <1.5-1.0, <1.0-0.5, <0.5; Lymphocyte count decreased
    <LLN-0.8, <0.8-0.5, <0.5-0.2, <0.2 x10^9/L (references/pkpd_facts.md 5b)."""
    values, expected = CTCAE_BOUNDARIES[count]
    assert _grades(values, count, "ctcae_v5") == expected


@pytest.mark.parametrize("count", ["wbc", "anc", "alc"])
def test_ctcae_v4_boundaries(count):
    """NCI CTCAE v4.03 (2010), the same terms and limits as v5.0, as read in pharmaverse admiral's
    NCICTCAEv4 metadata tests (test-derive_var_atoxgr.R: WBC 1.0 -> 3, 0.9 -> 4; ANC 0.5 -> 3,
    0.49 -> 4; lymphocytes 0.2 -> 3, 0.19 -> 4; 0.8 -> 1, 0.79 -> 2)."""
    values, expected = CTCAE_BOUNDARIES[count]
    assert _grades(values, count, "ctcae_v4") == expected
    assert _grades([0.9, 1.0, 1.9, 2.0, 2.9, 3.0], "wbc", "ctcae_v4") == [4, 3, 3, 2, 2, 1]
    assert _grades([0.49, 0.5, 0.99, 1.0, 1.49, 1.5], "anc", "ctcae_v4") == [4, 3, 3, 2, 2, 1]
    assert _grades([0.19, 0.2, 0.49, 0.5, 0.79, 0.8], "alc", "ctcae_v4") == [4, 3, 3, 2, 2, 1]


@pytest.mark.parametrize("count", ["wbc", "anc", "alc"])
def test_ctcae_v3_boundaries(count):
    """NCI CTCAE v3.0 (2006), BLOOD/BONE MARROW: Lymphopenia <LLN-800, <800-500, <500-200, <200/mm3
    (Cook 2018 JNNP abstract, CTCAE v3.0 grade 0/1 >= 0.8; J Neurol 2018;265:1199 Table 1: grade 3
    <0.5-0.2, grade 4 <0.2 x10^9/L). Leukocytes and neutrophils: the v3.0 limits as recalled, equal to
    v4.03 (assumptions in ctcae_v3.toml)."""
    values, expected = CTCAE_BOUNDARIES[count]
    assert _grades(values, count, "ctcae_v3") == expected


def test_who_leukocyte_boundaries():
    """WHO (Miller et al., Cancer 1981;47:207, as reproduced in J Oncol 2019:4828563 Table 1):
    leukocytes >= 4.0 | 3.0-3.9 | 2.0-2.9 | 1.0-1.9 | < 1.0 x10^9/L. The written lower bounds are
    inclusive; a count between the one-decimal ranges (3.95) takes the grade whose lower bound it reaches."""
    assert _grades([4.0, 3.95, 3.9, 3.0, 2.99, 2.9, 2.0, 1.9, 1.0, 0.99, 0.0], "wbc", "who") == \
        [0, 1, 1, 1, 2, 2, 2, 3, 3, 4, 4]
    assert _grades([4.0 - 1e-9, 3.0 - 1e-9, 2.0 - 1e-9, 1.0 - 1e-9], "wbc", "who") == [1, 2, 3, 4]


def test_who_granulocyte_boundaries():
    """WHO (Miller 1981): granulocytes >= 2.0 | 1.5-1.9 | 1.0-1.4 | 0.5-0.9 | < 0.5 x10^9/L; the
    mitoxantrone label's WHO granulocytopenia (< 2000/mm3) is grade >= 1 (references/pkpd_facts.md 5b)."""
    assert _grades([2.0, 1.95, 1.9, 1.5, 1.45, 1.4, 1.0, 0.95, 0.9, 0.5, 0.49, 0.0], "anc", "who") == \
        [0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4]
    assert _grades([2.0 - 1e-9, 1.5 - 1e-9, 1.0 - 1e-9, 0.5 - 1e-9], "anc", "who") == [1, 2, 3, 4]


def test_who_grade_one_matches_mims_leukopenia_definition():
    """MIMS reported WHO leukopenia as WBC < 4000/mm3 (mitoxantrone label, references/pkpd_facts.md 5b):
    that is WHO grade >= 1 on leukocytes."""
    wbc = np.linspace(0.0, 8.0, 801)
    assert np.array_equal(grading.grade(wbc, "wbc", "who") >= 1, wbc < 4.0)


def test_nan_is_grade_zero_and_shape_is_kept():
    x = np.array([[np.nan, 0.3], [5.0, np.nan]])
    for scale in grading.SCALES:
        g = grading.grade(x, "anc", scale)
        assert g.shape == (2, 2) and g.dtype == np.int64
        assert g.tolist() == [[0, 4], [0, 0]]
    assert grading.grade(0.5, "wbc").shape == () and int(grading.grade(0.5, "wbc")) == 4


def test_v5_identical_to_ctcae_grade(rng):
    """grade(..., "ctcae_v5") is ctcae_grade: random counts, counts exactly at every limit, NaN and inf."""
    for count in ("wbc", "anc", "alc"):
        x = np.concatenate([rng.lognormal(0.0, 1.0, 19998), rng.uniform(0.0, 5.0, 19998),
                            [0.2, 0.5, 0.8, 1.0, 1.5, 2.0, 3.0, 4.0, np.nan, np.inf, 0.0]]).reshape(-1, 11)
        assert np.array_equal(grading.grade(x, count, "ctcae_v5"), ctcae_grade(x, count))


def test_v4_equals_v5_for_these_terms(rng):
    """admiral's tests state "NCICTCAEv4 and NCICTCAEv5 criteria is the same" for these three terms."""
    x = rng.uniform(0.0, 5.0, 50000)
    for count in ("wbc", "anc", "alc"):
        assert np.array_equal(grading.grade(x, count, "ctcae_v4"), grading.grade(x, count, "ctcae_v5"))


def test_limits_fall_with_grade():
    for scale in grading.SCALES:
        for count in ("wbc", "anc") + (("alc",) if scale != "who" else ()):
            lim = grading.limits(count, scale)
            assert list(lim) == [1, 2, 3, 4]
            assert lim[1] > lim[2] > lim[3] > lim[4] > 0


def test_names_and_terms():
    assert [grading.scale_name(s) for s in grading.SCALES] == ["CTCAE v3.0", "CTCAE v4.03", "CTCAE v5.0",
                                                               "WHO (Miller 1981)"]
    assert grading.term("anc", "ctcae_v5") == "Neutrophil count decreased"
    assert grading.term("wbc", "ctcae_v4") == "White blood cell decreased"
    assert grading.term("alc", "ctcae_v3") == "Lymphopenia"
    assert grading.term("anc", "ctcae_v3") == "Neutrophils/granulocytes (ANC/AGC)"
    assert grading.term("wbc", "who") == "Leukocytes" and grading.term("anc", "who") == "Granulocytes"
    assert grading.scale_name("CTCAE-v3") == "CTCAE v3.0"          # case and hyphens are forgiven


def test_who_has_no_lymphocyte_grades():
    for call in (lambda: grading.grade([0.3], "alc", "who"), lambda: grading.term("alc", "who"),
                 lambda: grading.limits("alc", "who")):
        with pytest.raises(OptionError) as e:
            call()
        msg = str(e.value)
        assert "WHO (Miller 1981)" in msg and "lymphocyte" in msg and "'alc'" in msg and "ctcae_v5" in msg
        assert msg.count(".") == 1 and msg.endswith(".") and "\n" not in msg


@pytest.mark.parametrize("args, words", [
    (([1.0], "wbc", "ctcae_v6"), ["'ctcae_v6'", "ctcae_v3, ctcae_v4, ctcae_v5, who"]),
    (([1.0], "plt", "ctcae_v5"), ["'plt'", "wbc, anc, alc"]),
    (([1.0], "wbc", "WHO 1981"), ["'WHO 1981'", "who"]),
])
def test_unknown_scale_or_count_is_one_sentence(args, words):
    with pytest.raises(OptionError) as e:
        grading.grade(*args)
    msg = str(e.value)
    assert all(w in msg for w in words)
    assert "\n" not in msg and msg.endswith(".")


@pytest.mark.parametrize("name", ["ctcae_v3", "ctcae_v4", "ctcae_v5", "who_1981"])
def test_scale_files_load_with_a_source_or_assumption_for_every_limit(name):
    ps = load_parameters(PARAMS_DIR / f"{name}.toml")
    assert len(ps.parameters) == (8 if name == "who_1981" else 12)
    for p in ps.parameters.values():
        assert p.unit == "1e9/L"
        assert p.source.is_assumption or (p.source.author and p.source.year and p.source.journal and p.source.table)
