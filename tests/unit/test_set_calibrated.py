"""Writing a calibrated value into a parameter file: value and provenance replaced, nothing else."""

from __future__ import annotations

import pytest
import tomllib

from mschemo.calibration.fit import set_calibrated

TEXT = """[parameters.A]
value = 1.0
unit = "1"
description = "a"
source = { author = "X", year = 2000, journal = "J", table = "T" }

[parameters.B]
value = 2.0
unit = "1"
description = "b"
assumption = "placeholder"
"""


def test_value_and_provenance_are_replaced_and_the_rest_kept():
    out = set_calibrated(TEXT, "A", 0.123456789, 'fitted to "Y"')
    data = tomllib.loads(out)["parameters"]
    assert data["A"]["value"] == pytest.approx(0.123457) and data["A"]["assumption"] == 'fitted to "Y"'
    assert "source" not in data["A"] and data["B"] == tomllib.loads(TEXT)["parameters"]["B"]
    again = set_calibrated(out, "A", 0.123457, 'fitted to "Y"')
    assert again == out


def test_an_unknown_parameter_is_named():
    with pytest.raises(KeyError, match="C has no \\[parameters.C\\] table in my.toml"):
        set_calibrated(TEXT, "C", 1.0, "x", where="my.toml")
