"""Laboratory measurement error: log-normal with the published CV_I and CV_A, counter-based draws that
depend only on (seed, stream, patient, count, time), bit-identical however they are batched."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from mschemo import labs
from mschemo.errors import OptionError
from mschemo.params import PARAMS_DIR, load_parameters

N_PATIENTS, N_DAYS = 2000, 100          # 200,000 draws per count
DAYS = np.arange(N_DAYS) * 7.0
SEED = 20240601


def _log_ratio(count, seed=SEED, **kw):
    true = np.full((N_PATIENTS, N_DAYS), 3.0)
    rep = labs.measured(true, count, seed, np.arange(N_PATIENTS), DAYS, **kw)
    return np.log(rep / true)


def test_variation_values_from_the_parameter_file():
    """Ricos 1999 database CV_I (WBC 10.9, neutrophils 16.1, lymphocytes 10.4 %); CV_A derived from the
    XN-9000 critical differences of Buoro 2016 Table 1 (1.5, 3.0, 3.2 %)."""
    assert (labs.variation("wbc").cv_i, labs.variation("anc").cv_i, labs.variation("alc").cv_i) == \
        pytest.approx((0.109, 0.161, 0.104))
    assert (labs.variation("wbc").cv_a, labs.variation("anc").cv_a, labs.variation("alc").cv_a) == \
        pytest.approx((0.015, 0.030, 0.032))
    v = labs.variation("anc")
    assert labs.sigma("anc") == pytest.approx(math.sqrt(math.log(1 + v.cv_i ** 2) + math.log(1 + v.cv_a ** 2)))
    assert labs.sigma("anc", analytical=False) == pytest.approx(math.sqrt(math.log(1 + v.cv_i ** 2)))
    assert labs.sigma("anc", biological=False) == pytest.approx(math.sqrt(math.log(1 + v.cv_a ** 2)))


@pytest.mark.parametrize("count", ["wbc", "anc", "alc"])
@pytest.mark.parametrize("parts", [{}, {"analytical": False}, {"biological": False}])
def test_log_ratio_has_the_stated_sd_and_mean_zero(count, parts):
    """200,000 draws: the SD of ln(reported/true) is sigma within 5 standard errors (SE of an SD from n
    normal draws = sigma / sqrt(2(n-1)), 0.16 % of sigma here), and the mean is 0 within 5 SE
    (sigma / sqrt(n)). Five SE: a correct generator fails with probability below 1e-6, while a wrong
    CV (e.g. CV_A left out, which lowers sigma by 0.9 % or more) or a biased normal fails."""
    e = _log_ratio(count, **parts)
    s = labs.sigma(count, **parts)
    n = e.size
    assert abs(e.std(ddof=1) - s) < 5 * s / math.sqrt(2 * (n - 1))
    assert abs(e.mean()) < 5 * s / math.sqrt(n)
    # and it is normal: skewness and excess kurtosis near 0 (SE sqrt(6/n) and sqrt(24/n))
    assert abs(stats.skew(e.ravel())) < 5 * math.sqrt(6 / n)
    assert abs(stats.kurtosis(e.ravel())) < 5 * math.sqrt(24 / n)


def test_parts_are_paired_and_independent():
    """The biological draw is the same with and without the assay part, so the assay part is
    ln(full/biological-only); it has SD sigma_A and is uncorrelated with the biological part."""
    full, bio = _log_ratio("alc"), _log_ratio("alc", analytical=False)
    assay = full - bio
    s_a = labs.sigma("alc", biological=False)
    assert abs(assay.std(ddof=1) - s_a) < 5 * s_a / math.sqrt(2 * (assay.size - 1)) + 1e-15
    assert abs(np.corrcoef(assay.ravel(), bio.ravel())[0, 1]) < 5 / math.sqrt(assay.size)
    true = np.full(5, 2.0)
    off = labs.measured(true, "alc", 1, np.arange(5), 0.0, biological=False, analytical=False)
    assert np.array_equal(off, true)


def test_independence_between_counts_days_and_patients():
    """Correlations of the log-ratios between counts (same patients and days), between consecutive
    days and between consecutive patients are 0 within 5/sqrt(n) (SE of a correlation near 0)."""
    wbc, anc, alc = (_log_ratio(c) for c in ("wbc", "anc", "alc"))
    lim = 5 / math.sqrt(wbc.size)
    for a, b in ((wbc, anc), (wbc, alc), (anc, alc)):
        assert abs(np.corrcoef(a.ravel(), b.ravel())[0, 1]) < lim
    assert abs(np.corrcoef(wbc[:, :-1].ravel(), wbc[:, 1:].ravel())[0, 1]) < 5 / math.sqrt(wbc[:, 1:].size)
    assert abs(np.corrcoef(anc[:-1].ravel(), anc[1:].ravel())[0, 1]) < 5 / math.sqrt(anc[1:].size)
    zi, za = labs.standard_normals(SEED, np.arange(N_PATIENTS)[:, None], DAYS, "wbc")
    assert abs(np.corrcoef(zi.ravel(), za.ravel())[0, 1]) < lim


def test_same_draw_alone_in_a_batch_in_any_order_or_chunking(rng):
    """A patient's reported count at a time is bit-for-bit the same computed alone, inside a larger
    batch, in shuffled order, transposed, or in chunks."""
    n, m = 60, 40
    patients = rng.choice(10**6, n, replace=False)
    days = np.sort(rng.uniform(-10.0, 730.0, m)).round(4)
    true = rng.lognormal(0.5, 0.6, (n, m))
    batch = labs.measured(true, "wbc", 99, patients, days)
    for i, j in [(0, 0), (7, 31), (n - 1, m - 1)]:
        alone = labs.measured(true[i, j], "wbc", 99, patients[i], days[j])
        assert alone.shape == () and alone.tobytes() == batch[i, j].tobytes()
    perm_p, perm_d = rng.permutation(n), rng.permutation(m)
    shuffled = labs.measured(true[perm_p][:, perm_d], "wbc", 99, patients[perm_p], days[perm_d])
    assert shuffled.tobytes() == batch[perm_p][:, perm_d].tobytes()
    flat = labs.measured(true.T.ravel(), "wbc", 99, np.repeat(patients[None, :], m, 0).ravel(),
                         np.repeat(days, n))
    assert flat.tobytes() == np.ascontiguousarray(batch.T).ravel().tobytes()
    chunks = np.concatenate([labs.measured(true[k:k + 7], "wbc", 99, patients[k:k + 7], days) for k in range(0, n, 7)])
    assert chunks.tobytes() == batch.tobytes()
    more_days = np.concatenate([days, days + 0.5])
    wider = labs.measured(np.concatenate([true, true], axis=1), "wbc", 99, patients, more_days)
    assert wider[:, :m].tobytes() == batch.tobytes()


def test_golden_values_are_reproduced_exactly():
    """The draws are a pure function of integers: the 53-bit integers behind the uniforms must be the
    same on every machine, and so must the reported counts (IEEE-754 +, -, x, /, sqrt only). Golden
    values computed once (x86-64, numpy 2)."""
    p, d = np.array([0, 1, 12345]), np.array([0.0, 28.5, -3.25])
    u, t = labs.uniforms(SEED, p, d, "anc")
    assert [int(x * 2**53) for x in t] == [4588870838425225, 8676921872618014, 2935257546772136]
    assert [int(x * 2**53 - 0.5) for x in u] == [2380536772641026, 4274578965954479, 29019977693599]
    rep = labs.measured([5.0, 1.2, 0.4], "anc", seed=SEED, patient_index=p, days=d)
    assert [float(x).hex() for x in rep] == ["0x1.ebc9b3ab9f861p+1", "0x1.7071bfea256edp+0", "0x1.5d97b912a8cedp-2"]


def test_seeds_streams_counts_and_times_give_different_draws():
    base = _log_ratio("wbc")
    assert np.mean(_log_ratio("wbc", seed=SEED + 1) == base) == 0.0
    assert np.mean(_log_ratio("wbc", stream=labs.LAB_STREAM + 1) == base) == 0.0
    assert abs(np.corrcoef(_log_ratio("wbc", seed=SEED + 1).ravel(), base.ravel())[0, 1]) < 5 / math.sqrt(base.size)
    z1 = labs.standard_normals(1, 0, [10.0, 10.000001, 10.5], "anc")[0]      # one micro-day apart still differs
    assert len(set(z1.tolist())) == 3
    assert labs.standard_normals(1, 0, 10.0, "anc")[0] != labs.standard_normals(1, 0, 10.0, "alc")[0]


@pytest.mark.parametrize("count", ["wbc", "alc"])
def test_uniforms_pass_kolmogorov_smirnov(count):
    """Both uniforms of 200,000 draws at a fixed seed against U(0, 1): KS p > 0.001; u is never 0."""
    u, t = labs.uniforms(SEED, np.arange(N_PATIENTS)[:, None], DAYS, count)
    assert u.min() > 0.0 and u.max() < 1.0 and t.min() >= 0.0 and t.max() < 1.0
    assert stats.kstest(u.ravel(), "uniform").pvalue > 0.001
    assert stats.kstest(t.ravel(), "uniform").pvalue > 0.001


def test_elementary_functions_match_numpy_to_the_last_bits(rng):
    """The series used instead of the math library agree with numpy's log, cos, sin and exp to a few
    units in the last place."""
    u = (np.floor(rng.random(200000) * 2**53) + 0.5) * 2.0**-53
    assert np.max(np.abs(labs._log(u) / np.log(u) - 1)) < 1e-15
    t = np.floor(rng.random(200000) * 2**53) * 2.0**-53
    assert np.max(np.abs(labs._cos_turn(t) - np.cos(2 * np.pi * t))) < 2e-15
    assert np.max(np.abs(labs._sin_turn(t) - np.sin(2 * np.pi * t))) < 2e-15
    x = rng.uniform(-4.0, 4.0, 200000)
    assert np.max(np.abs(labs._exp(x) / np.exp(x) - 1)) < 1e-15


def test_nan_and_zero_stay_and_scaling_is_exact():
    x = labs.measured([np.nan, 0.0, 1.5, 3.0], "anc", 5, [1, 2, 3, 3], [1.0, 1.0, 1.0, 1.0])
    assert np.isnan(x[0]) and x[1] == 0.0 and x[3] == 2 * x[2]


@pytest.mark.parametrize("kwargs, words", [
    ({"count": "plt"}, "'plt'"),
    ({"patient_index": [-1, 0]}, "negative value -1"),
    ({"patient_index": [0.5, 1.0]}, "value 0.5, not a whole number"),
    ({"patient_index": ["a", "b"]}, "not numbers"),
    ({"days": [np.nan, 1.0]}, "got a value of nan"),
    ({"days": [1.0, 2.0, 3.0]}, "do not match"),
    ({"seed": -3}, "seed -3"),
    ({"seed": 1.5}, "seed 1.5"),
])
def test_bad_input_is_one_sentence(kwargs, words):
    args = {"true_values": [1.0, 2.0], "count": "wbc", "seed": 1, "patient_index": [0, 1], "days": [0.0, 7.0]} | kwargs
    with pytest.raises(OptionError) as e:
        labs.measured(**args)
    assert words in str(e.value) and "\n" not in str(e.value)


def test_unbroadcastable_indices_and_days_are_one_sentence():
    with pytest.raises(OptionError, match="do not broadcast together") as e:
        labs.uniforms(1, [0, 1, 2], [0.0, 7.0], "wbc")
    assert "\n" not in str(e.value)


def test_lab_variation_file_loads_with_sources():
    ps = load_parameters(PARAMS_DIR / "lab_variation.toml")
    assert set(ps.parameters) == {f"{c}_{k}" for c in ("WBC", "ANC", "ALC") for k in ("CVI", "CVA")}
    for p in ps.parameters.values():
        assert p.unit == "1" and 0 < p.value < 0.5
        assert p.source.is_assumption or (p.source.author and p.source.year and p.source.journal and p.source.table)
