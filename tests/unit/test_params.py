"""Parameter files: every shipped file loads, and the loader refuses unsourced numbers."""

from __future__ import annotations

import math

import pytest

import mschemo as ms
from mschemo.params import load_parameters, parameter_files, parameter_set_from_dict


@pytest.mark.parametrize("path", parameter_files(), ids=lambda p: p.name)
def test_every_shipped_file_loads_with_sources(path):
    ps = load_parameters(path)
    assert ps.parameters
    for p in ps.parameters.values():
        assert p.source.is_assumption or (p.source.author and p.source.year and p.source.journal and p.source.table)
        if p.omega > 0:
            assert p.iiv_source is not None


def test_models_in_files_build():
    for name in ms.models.available_models():
        model = ms.load_model(name)
        assert set(model.parameters) <= set(model.parameter_set.parameters)


def test_units_are_converted_to_internal():
    ps = load_parameters("mitox-2y")
    assert ps["CL"].value == pytest.approx(480.0)      # 20 L/h
    assert ps["CL"].unit == "L/d"
    assert ps["WBC_MTT"].value == 5.0


def _file(**entry):
    base = {"value": 1.0, "unit": "L", "description": "a volume"}
    return {"parameters": {"V1": base | entry}}


@pytest.mark.parametrize("entry, words", [
    ({}, "neither 'source' nor 'assumption'"),
    ({"assumption": "  "}, "empty 'assumption'"),
    ({"source": {"author": "A", "year": 2000, "journal": "J"}}, "without table"),
    ({"source": "Friberg 2002"}, "write it as a table"),
    ({"assumption": "x", "iiv": {"omega": 0.3}}, "the iiv of parameter 'V1'"),
    ({"assumption": "x", "iiv": {"omega": 0.3, "cv": 0.3, "assumption": "y"}}, "both omega and cv"),
    ({"assumption": "x", "value": "ten"}, "finite number"),
    ({"assumption": "x", "unit": "furlongs"}, "furlongs"),
    ({"assumption": "x", "description": ""}, "no description"),
])
def test_loader_refuses_bad_entries(entry, words):
    with pytest.raises(ms.ParameterError) as e:
        parameter_set_from_dict("t", _file(**entry), "t.toml")
    assert words in str(e.value) or isinstance(e.value, ms.UnitError)
    assert "\n" not in str(e.value)


def test_cv_is_converted_to_omega():
    ps = parameter_set_from_dict("t", _file(assumption="x", iiv={"cv": 0.3, "assumption": "y"}), "t.toml")
    assert ps["V1"].omega == pytest.approx(math.sqrt(math.log(1 + 0.09)))


def test_unknown_builtin_name_is_one_sentence():
    with pytest.raises(ms.ParameterError, match="no built-in parameter file named 'nosuch'"):
        load_parameters("nosuch")
