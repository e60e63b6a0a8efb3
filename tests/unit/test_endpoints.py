"""Confirmed progression and improvement as trials measure them, on hand-made visit sequences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mschemo.disease.endpoints import (
    SIX_MONTHS,
    THREE_MONTHS,
    confirmed_improvement,
    confirmed_progression,
    improvement_step,
    progression_step,
    relapse_associated,
)

DAYS = np.arange(9) * THREE_MONTHS          # baseline and 8 visits every 3 months over 2 years


def test_the_step_rule_depends_on_the_baseline():
    assert progression_step(np.array([0.0, 0.5, 5.5, 6.0])).tolist() == [1.5, 1.0, 1.0, 0.5]
    assert improvement_step(np.array([2.0, 5.5, 6.0])).tolist() == [1.0, 1.0, 0.5]


@pytest.mark.parametrize("scores, event, visit", [
    ([2.0, 2.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0], True, 2),        # +1.0 held: confirmed at the next visit
    ([2.0, 3.0, 2.0, 3.0, 2.0, 3.0, 2.0, 3.0, 3.0], True, 7),        # only the last pair holds
    ([2.0, 3.0, 2.0, 3.0, 2.0, 3.0, 2.0, 2.0, 3.0], False, -1),      # the last visit has no confirmation
    ([2.0, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5], False, -1),      # +0.5 is not enough from 2.0
    ([0.0, 1.0, 1.0, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5], True, 3),        # 1.5 needed from 0
    ([6.0, 6.5, 6.5, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0], True, 1),        # 0.5 above 5.5
    ([2.0, 4.0, 2.5, 4.0, 4.0, 2.0, 2.0, 2.0, 2.0], True, 3),        # a dip breaks a run; a later one holds
])
def test_confirmed_progression_on_hand_made_sequences(scores, event, visit):
    c = confirmed_progression(DAYS, np.array(scores))
    assert bool(c.event[0]) is event and int(c.visit[0]) == visit
    assert c.day[0] == pytest.approx(DAYS[visit] if event else DAYS[-1])
    if event:
        assert c.confirm_day[0] == pytest.approx(DAYS[visit + 1])


def test_six_month_confirmation_needs_every_visit_in_between():
    scores = np.array([[2.0, 3.0, 3.0, 2.5, 3.0, 3.0, 3.0, 2.0, 2.0],     # 3 months only, then a dip
                       [2.0, 3.0, 3.0, 3.0, 2.0, 2.0, 2.0, 2.0, 2.0]])    # three visits: 6 months
    c3 = confirmed_progression(DAYS, scores, confirm_d=THREE_MONTHS)
    c6 = confirmed_progression(DAYS, scores, confirm_d=SIX_MONTHS)
    assert c3.event.tolist() == [True, True] and c3.visit.tolist() == [1, 1]
    assert c6.event.tolist() == [True, True] and c6.visit.tolist() == [4, 1]
    assert c6.confirm_day.tolist() == pytest.approx([DAYS[6], DAYS[3]])


def test_irregular_visits_confirm_at_the_first_visit_far_enough():
    days = np.array([0.0, 30.0, 60.0, 100.0, 200.0])
    # onset at day 30 needs the visit at day 100 (the first >= 90), which is down again; onset at
    # day 60 needs day 200 (the first >= 120), with the dip at day 100 in between
    c = confirmed_progression(days, np.array([1.0, 2.0, 2.0, 1.0, 2.0]), confirm_d=60.0)
    assert not c.event[0] and c.day[0] == 200.0 and np.isnan(c.confirm_day[0])
    c = confirmed_progression(days, np.array([1.0, 2.0, 2.0, 2.0, 1.0]), confirm_d=60.0)
    assert c.event[0] and c.visit[0] == 1 and c.confirm_day[0] == 100.0


def test_a_given_baseline_replaces_the_first_visit():
    """The trial runner's rule: the baseline is the patient's entry EDSS, not the visit-0 score."""
    scores = np.array([2.0, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5])
    assert not confirmed_progression(DAYS, scores).event[0]
    assert confirmed_progression(DAYS, scores, baseline=1.5).event[0]


def test_confirmed_improvement_mirrors_progression_and_needs_a_baseline_of_2():
    scores = np.array([[3.0, 2.0, 2.0, 2.0, 2.5, 2.5, 2.5, 2.5, 2.5],    # -1.0 for 6 months
                       [3.0, 2.0, 2.0, 2.5, 2.0, 2.0, 2.0, 3.0, 3.0],    # broken at 9 months, then 6 months held
                       [1.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5],    # baseline below 2: not counted
                       [6.5, 6.0, 6.0, 6.0, 6.5, 6.5, 6.5, 6.5, 6.5]])   # 0.5 counts above 5.5
    c = confirmed_improvement(DAYS, scores)
    assert c.eligible.tolist() == [True, True, False, True]
    assert c.event.tolist() == [True, True, False, True]
    assert c.visit.tolist() == [1, 4, -1, 1]
    assert c.share == pytest.approx(1.0)
    assert confirmed_improvement(DAYS, scores, min_baseline=0.0).event[2]


def test_relapse_association_uses_the_window_before_onset():
    ids = np.array([1, 2, 3, 4])
    onset = np.array([200.0, 200.0, 200.0, np.nan])
    rel = pd.DataFrame({"id": [1, 2, 3, 4], "day": [150.0, 100.0, 230.0, 10.0]})
    assert relapse_associated(ids, onset, rel).tolist() == [True, False, False, False]
    assert relapse_associated(ids, onset, rel, after_d=30.0).tolist() == [True, False, True, False]
    assert relapse_associated(ids, onset, rel, before_d=180.0).tolist() == [True, True, False, False]
    confirm = np.array([291.0, 291.0, 291.0, np.nan])
    assert relapse_associated(ids, onset, rel, confirm_day=confirm, until_confirmation=True).tolist() == [True, False, True, False]


def _loop_rule(days: np.ndarray, edss: np.ndarray, base: float, confirm_d: float) -> tuple[bool, float]:
    """The trial runner's rule as first written (mschemo.trials.run at 4c93c03): the first visit at
    base + step that stays there at every visit up to the first one confirm_d later."""
    step = 1.5 if base == 0 else (0.5 if base > 5.5 else 1.0)
    up = edss >= base + step - 1e-9
    for k in np.flatnonzero(up[1:]) + 1:
        later = np.flatnonzero(days >= days[k] + confirm_d - 1e-6)
        if later.size and np.all(up[k:later[0] + 1]):
            return True, float(days[k])
    return False, float(days[-1])


def test_the_trial_runner_rule_gives_the_same_events():
    """confirmed_progression agrees with the trial runner's visit-by-visit rule on random sequences."""
    rng = np.random.default_rng(3)
    e = np.clip(2.0 + np.cumsum(rng.choice([-0.5, 0.0, 0.0, 0.5], size=(300, 9)), axis=1), 0.0, 9.5)
    e[:40, 0] = 0.0
    e[40:80, 0] = 6.0
    base = e[:, 0]
    for conf in (THREE_MONTHS, SIX_MONTHS):
        mine = confirmed_progression(DAYS, e, baseline=base, confirm_d=conf)
        for i in range(e.shape[0]):
            assert _loop_rule(DAYS, e[i], base[i], conf) == (bool(mine.event[i]), float(mine.day[i]))
