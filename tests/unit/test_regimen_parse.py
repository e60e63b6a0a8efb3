"""Regimen text ("12 mg/m2 over 30 min every 3 months x 8") -> Dose records."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import assert_one_sentence
from mschemo.errors import RegimenError, UnitError
from mschemo.regimen import Dose, Regimen
from mschemo.regimen.parse_text import parse_regimen_text
from mschemo.units import MONTH_D, YEAR_D

H = 1 / 24
MIN = 1 / 1440




def one(text: str) -> Dose:
    doses = parse_regimen_text(text)
    assert len(doses) == 1, doses
    return doses[0]


# --------------------------------------------------------------------------------------------
# the examples
# --------------------------------------------------------------------------------------------
def test_mitoxantrone_every_3_months():
    d = one("12 mg/m2 over 30 min every 3 months x 8")
    assert d == Dose(
        time_d=0.0, amount=12.0, unit="mg/m2", cmt="central", duration_d=d.duration_d, ii_d=3 * MONTH_D, addl=7
    )
    assert d.duration_d == pytest.approx(30 * MIN, rel=1e-15)
    assert d.n_given == 8


def test_mitoxantrone_every_91_days():
    d = one("12 mg/m2 over 30 min every 91 days x 8")
    assert (d.ii_d, d.addl, d.duration_d) == (91.0, 7, pytest.approx(0.5 * H))
    assert d.times_d()[-1] == 7 * 91.0


def test_cyclophosphamide_monthly():
    d = one("800 mg/m2 over 1 h monthly x 6")
    assert (d.amount, d.unit, d.duration_d, d.ii_d, d.addl) == (800.0, "mg/m2", pytest.approx(H), MONTH_D, 5)


def test_every_other_month_with_iv():
    d = one("700 mg/m2 IV over 2 h every other month x 12")
    assert (d.cmt, d.duration_d, d.ii_d, d.addl) == ("central", pytest.approx(2 * H), 2 * MONTH_D, 11)


def test_oral_daily():
    d = one("10 mg oral daily x 5")
    assert (d.amount, d.unit, d.cmt, d.duration_d, d.ii_d, d.addl) == (10.0, "mg", "depot", 0.0, 1.0, 4)


def test_single_bolus():
    d = one("800 mg")
    assert d == Dose(amount=800.0, unit="mg", cmt="central")
    assert not d.is_infusion


def test_cladribine_two_weeks():
    doses = parse_regimen_text(
        "1.75 mg/kg orally daily x 5 starting day 0; 1.75 mg/kg orally daily x 5 starting day 28"
    )
    assert [(d.time_d, d.amount, d.unit, d.cmt, d.addl, d.ii_d) for d in doses] == [
        (0.0, 1.75, "mg/kg", "depot", 4, 1.0),
        (28.0, 1.75, "mg/kg", "depot", 4, 1.0),
    ]


def test_then_every_shorthand_keeps_dose_and_route():
    a, b = parse_regimen_text("800 mg/m2 over 1 h every month x 6 then every 2 months x 6")
    assert (b.amount, b.unit, b.cmt, b.duration_d) == (a.amount, a.unit, a.cmt, a.duration_d)
    assert b.ii_d == 2 * MONTH_D and b.addl == 5
    # one (previous) interval after the last monthly dose
    assert b.time_d == pytest.approx(5 * MONTH_D + MONTH_D)


def test_regimen_parse_uses_the_text_parser():
    r = Regimen.parse("12 mg/m2 over 30 min every 3 months x 8")
    assert r.n_doses == 8 and r.doses[0].addl == 7
    r2 = Regimen.parse("1.75 mg/kg orally daily x 5 starting day 0; 1.75 mg/kg orally daily x 5 starting day 28")
    np.testing.assert_allclose(r2.dose_times_d(), [0, 1, 2, 3, 4, 28, 29, 30, 31, 32])


# --------------------------------------------------------------------------------------------
# spellings and grammar decisions
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "12 mg/m2 over 30 min every 3 months x 8",
        "12 mg/m2 over 30 min every 3 months x8",
        "12 mg/m2 over 30 min every 3 months × 8",
        "12 mg/m2 over 30 min every 3 months 8 times",
        "12 mg/m2 over 30 min q3 months x 8",
        "12 mg/m2 over 30 min q 3 months x 8",
        "12 MG/M2 OVER 30 MIN EVERY 3 MONTHS X 8",
        "  12 mg/m²   over 30 min,  every 3 months,  x 8 ",
        "12mg/m2 every 3 months over 30 min x 8",
        "12 mg/m^2 IV infusion over 30 min every 3 months x 8 doses",
        "12 mg/m2 over 0.5 h every 3 months for 2 years",
        "12 mg/m2 over 30 min every 3 months x 8.",
    ],
)
def test_equivalent_spellings(text):
    d = one(text)
    assert (d.amount, d.unit, d.cmt, d.ii_d, d.addl) == (12.0, "mg/m2", "central", 3 * MONTH_D, 7)
    assert d.duration_d == pytest.approx(30 * MIN)


@pytest.mark.parametrize("route", ["oral", "orally", "po", "PO", "p.o.", "tablets", "tablet", "by mouth"])
def test_oral_routes_go_to_depot(route):
    assert one(f"10 mg {route} daily x 5").cmt == "depot"


@pytest.mark.parametrize(
    "text",
    [
        "500 mg",
        "500 mg IV",
        "500 mg bolus",
        "500 mg as a bolus",
        "500 mg iv bolus",
        "500 mg intravenous",
        "500 mg once",
        "500 mg single dose",
        "500 mg x 1",
    ],
)
def test_bolus_spellings(text):
    d = one(text)
    assert (d.cmt, d.duration_d, d.addl, d.time_d) == ("central", 0.0, 0, 0.0)


def test_for_duration_counts_whole_intervals():
    # floor(duration / interval + 1e-9) administrations
    assert one("10 mg daily for 5 days").n_given == 5
    assert one("10 mg every 3 months for 2 years").n_given == 8
    assert one("10 mg every 91 days for 2 years").n_given == 8  # 730.5 / 91 = 8.03
    assert one("10 mg every 3 months for 10 months").n_given == 3


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("10 mg starting day 10", 10.0),
        ("10 mg at day 10", 10.0),
        ("10 mg from day 10", 10.0),
        ("10 mg on day 10", 10.0),
        ("10 mg day 10", 10.0),
        ("10 mg starting at day 10", 10.0),
        ("10 mg starting at 2 weeks", 14.0),
        ("10 mg starting 36 h", 1.5),
    ],
)
def test_start(text, start):
    assert one(text).time_d == start


def test_next_part_starts_one_interval_after_the_last_dose():
    a, b = parse_regimen_text("10 mg daily x 5; 20 mg daily x 3")
    assert b.time_d == 5.0 and b.amount == 20.0
    # previous part was a single dose: the next part's own interval is used
    a, b = parse_regimen_text("100 mg then 10 mg weekly x 4")
    assert (a.time_d, b.time_d) == (0.0, 7.0)
    # an explicit start wins
    a, b = parse_regimen_text("10 mg daily x 5 then 20 mg daily x 3 starting day 20")
    assert b.time_d == 20.0


def test_parts_are_returned_in_time_order():
    doses = parse_regimen_text("1.75 mg/kg oral daily x 5 starting day 28; 1.75 mg/kg oral daily x 5 starting day 0")
    assert [d.time_d for d in doses] == [0.0, 28.0]
    Regimen(tuple(doses))


def test_part_with_own_amount_inherits_nothing():
    a, b = parse_regimen_text("800 mg/m2 over 1 h monthly x 2 then 600 mg/m2 monthly x 2")
    assert a.is_infusion and not b.is_infusion


def test_inherited_part_may_change_the_infusion_duration():
    _, b = parse_regimen_text("800 mg/m2 over 1 h monthly x 2 then over 2 h every 2 months x 2")
    assert b.amount == 800.0 and b.duration_d == pytest.approx(2 * H)


def test_interval_kept_for_single_administration():
    d = one("10 mg every 3 months x 1")
    assert (d.addl, d.ii_d) == (0, 3 * MONTH_D)


def test_g_and_ug_become_mg():
    assert one("1 g over 1 h").amount == 1000.0
    assert one("500 ug").amount == 0.5


def test_long_regimen_dose_times():
    r = Regimen.parse("12 mg/m2 over 30 min every 3 months for 2 years")
    np.testing.assert_allclose(r.dose_times_d(), np.arange(8) * YEAR_D / 4)


# --------------------------------------------------------------------------------------------
# malformed regimens: RegimenError or UnitError, one sentence, the fragment quoted
# --------------------------------------------------------------------------------------------
MALFORMED = [
    ("", RegimenError, "''"),
    ("   ", RegimenError, "'"),
    ("12 mg/m over 30 min every 3 months x 8", UnitError, "'12 mg/m'"),
    ("12 mg/m2 over -30 min every 3 months x 8", UnitError, "'-30 min'"),
    ("12 mg/m2 over 0 min", RegimenError, "'0 min'"),
    ("12 mg/m2 over 30 minz", UnitError, "'minz'"),
    ("12 mg/m2 over 30", UnitError, "'30'"),
    ("12 mg/m2 over", RegimenError, "'over'"),
    ("12 mg/m2 every 3 months", RegimenError, "'every 3 months'"),
    ("12 mg x 8", RegimenError, "'x 8'"),
    ("12 mg infusion", RegimenError, "'12 mg infusion'"),
    ("10 mg oral over 30 min", RegimenError, "'over 30 min'"),
    ("800 mg bolus over 1 h", RegimenError, "'over 1 h'"),
    ("800 mg oral iv", RegimenError, "'oral'"),
    ("12 mg/m2 blah", RegimenError, "'blah'"),
    ("800 over 1 h", UnitError, "'800'"),
    ("800", UnitError, "'800'"),
    ("every 3 months x 2", RegimenError, "'every 3 months x 2'"),
    ("then 800 mg", RegimenError, "'then 800 mg'"),
    ("800 mg; 400 mg", RegimenError, "'400 mg'"),
    ("800 mg x 0", RegimenError, "'x 0'"),
    ("800 mg monthly x 2.5", RegimenError, "'x 2.5'"),
    ("800 mg monthly x -3", RegimenError, "'x -3'"),
    ("800 mg for 2 years", RegimenError, "'for 2 years'"),
    ("800 mg monthly for 1 week", RegimenError, "'for 1 week'"),
    ("800 mg over 30 min over 1 h", RegimenError, "'over 1 h'"),
    ("800 mg monthly every 2 months x 2", RegimenError, "'every 2 months'"),
    ("800 mg monthly x 2 for 2 months", RegimenError, "'for 2 months'"),
    ("12 mg/m2 every 3 x 8", UnitError, "'every 3 x'"),
    ("12 mg/m2 every x 8", UnitError, "'every x'"),
    ("12 mg/m2 x 8 every", RegimenError, "'every'"),
    ("800 mg every 0 days x 3", UnitError, "'every 0 days'"),
    ("800 mg once x 3", RegimenError, "'x 3'"),
    ("800 mg once monthly", RegimenError, "'once'"),
    ("800 mg;;400 mg starting day 3", RegimenError, "part 2"),
    ("800 mg day -1", RegimenError, "'day -1'"),
    ("800 mg starting at -2 weeks", UnitError, "'-2 weeks'"),
    ("bolus 800 mg", RegimenError, "'800 mg'"),
    ("-800 mg", UnitError, "'-800 mg'"),
    ("800 mg for", RegimenError, "'for'"),
    ("800 mg starting day 1 starting day 2", RegimenError, "'starting day 2'"),
    ("800 mg twice daily x 3", RegimenError, "'twice'"),
    ("800 mg/m2 over 1 h\nevery month", RegimenError, "'every month'"),
]


@pytest.mark.parametrize(("text", "kind", "quoted"), MALFORMED, ids=[repr(t) for t, _, _ in MALFORMED])
def test_malformed_regimens(text, kind, quoted):
    with pytest.raises(kind) as info:
        parse_regimen_text(text)
    assert_one_sentence(info.value, quoted)
    assert str(info.value).startswith("regimen '")


def test_error_names_whole_regimen_and_fix():
    with pytest.raises(RegimenError) as info:
        parse_regimen_text("12 mg/m2 over 30 min every 3 months")
    msg = str(info.value)
    assert "regimen '12 mg/m2 over 30 min every 3 months':" in msg
    assert "'every 3 months x 8'" in msg


def test_not_text():
    with pytest.raises(RegimenError):
        parse_regimen_text(12)  # type: ignore[arg-type]


def test_regimen_parse_error_passes_through():
    with pytest.raises(UnitError, match="'12 mg/m'"):
        Regimen.parse("12 mg/m over 30 min")
