"""The cladribine tablet schedule (mschemo.drugs.cladribine) against the label's weight-band table.

Label (EU SmPC 4.2; US PI 2.2, band values read in a summary of the US PI): 1.75 mg/kg per yearly
course as 10 mg tablets, two treatment weeks (start of month 1 and of month 2), 4 days for 40-<50 kg
and 5 days otherwise, 1 or 2 tablets a day; tablets per week 4/4, 5/5, 6/6, 7/7, 8/7, 9/8, 10/9,
10/10 for the bands 40-<50 ... >=110 kg; under 40 kg not investigated.
"""

from __future__ import annotations

import math

import pytest

import mschemo as ms
from mschemo.drugs.cladribine import course_doses, tablet_schedule, tablet_table

# (lower kg, upper kg, mg per course) from the label's table: tablets (week 1 + week 2) x 10 mg
LABEL = [(40, 50, 80), (50, 60, 100), (60, 70, 120), (70, 80, 140), (80, 90, 150), (90, 100, 170),
         (100, 110, 190), (110, math.inf, 200)]


def _weights(lo: float, hi: float) -> list[float]:
    top = hi - 1e-6 if math.isfinite(hi) else lo + 40.0
    return [lo, (lo + min(hi, lo + 20.0)) / 2.0, top]


@pytest.mark.parametrize("lo, hi, mg", LABEL)
def test_each_band_gives_the_label_total(lo, hi, mg):
    for w in _weights(lo, hi):
        sched = tablet_schedule(w)
        assert 10 * sum(n for _, n in sched) == mg
        assert sum(d.amount for d in course_doses(w)) == mg


def test_band_table_in_the_parameter_file_is_the_label():
    bands = tablet_table()["bands"]
    got = [(b["lower_kg"], b["upper_kg"], 10 * (b["week1"] + b["week2"])) for b in bands]
    assert got == [(float(lo), float(hi), mg) for lo, hi, mg in LABEL]
    assert tablet_table()["tablet_mg"] == 10.0


@pytest.mark.parametrize("lo, hi, mg", LABEL[:-1])
def test_dose_per_kg_is_about_1_75(lo, hi, mg):
    """1.75 mg/kg per course within the label's rounding to whole tablets in 10 kg bands: at the band's
    middle weight within 8 %, and anywhere in the band between 1.5 and 2.0 mg/kg."""
    assert mg / ((lo + hi) / 2.0) == pytest.approx(1.75, rel=0.08)
    assert 1.5 <= mg / hi and mg / lo <= 2.0


def test_heaviest_band_is_capped_at_200_mg():
    assert sum(n for _, n in tablet_schedule(150.0)) * 10 == 200


@pytest.mark.parametrize("w", [40.0, 45.0, 55.0, 65.0, 75.0, 85.0, 95.0, 105.0, 115.0])
def test_days_carry_one_or_two_tablets_in_two_weeks(w):
    sched = tablet_schedule(w)
    assert all(n in (1, 2) for _, n in sched)
    for week in (1, 2):
        days = [n for wk, n in sched if wk == week]
        assert len(days) == (4 if w < 50 else 5)
        assert days == sorted(days, reverse=True)      # two-tablet days first (assumption in the file)


def test_course_doses_are_oral_depot_doses_one_per_day():
    doses = course_doses(72.0, start_day=365.0)
    assert [d.time_d for d in doses] == [365.0 + k for k in range(5)] + [395.0 + k for k in range(5)]
    assert all(d.cmt == "depot" and d.unit == "mg" and d.amount in (10.0, 20.0) for d in doses)
    assert all(d.bioavailability is None for d in doses)
    fed = course_doses(72.0, fed=True)
    assert all(d.bioavailability == pytest.approx(0.40, rel=1e-6) for d in fed)
    ms.Regimen(tuple(doses))  # a valid regimen


@pytest.mark.parametrize("w", [39.99, 30.0, 0.0])
def test_under_40_kg_is_refused_in_one_sentence(w):
    with pytest.raises(ms.RegimenError) as e:
        tablet_schedule(w)
    msg = str(e.value)
    assert "weight_kg" in msg and f"{w:g}" in msg and "40 kg" in msg
    assert "\n" not in msg and msg.count(". ") == 0 and msg.endswith(".")
    with pytest.raises(ms.RegimenError):
        course_doses(w)


@pytest.mark.parametrize("bad", [math.nan, math.inf, "72", None])
def test_non_numeric_weight_is_refused(bad):
    with pytest.raises(ms.RegimenError, match="weight_kg"):
        tablet_schedule(bad)
