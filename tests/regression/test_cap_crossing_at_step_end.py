"""Regression: a step shortened to end on a cap crossing was re-detected as crossing at its own end
(rounding of t + h put the end on the far side), and the patient looped until max_steps.
Found in patients 14418 and 16877 of a 20,000-patient mitox-2y run (seed 1); both have a steep
drug-effect slope (eta ~ 0.9)."""

from __future__ import annotations

import mschemo as ms


def test_steep_slope_patient_solves():
    model = ms.load_model("mitox-2y")
    for index in (14417, 16876):
        pop = ms.PopulationSpec().sample(1, seed=1, model=model, start=index)
        res = ms.simulate(model, "12 mg/m2 over 30 min every 91 days x 8", pop, until="2 years",
                          backend=ms.backends.Compiled(max_steps=5000))
        assert res.all_ok
        assert res.steps[0].sum() < 1500
