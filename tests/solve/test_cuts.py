"""Residual-capacity cuts: hand-checked arithmetic, a hand-solved bound, validity by brute force."""

from __future__ import annotations

import highspy
import numpy as np
import pandas as pd
import pytest
from conftest import option, run_toml
from test_oracle import brute_force, random_instance
from test_rounding import plan_model_of

from sufficiency.formulation import OPENED, X
from sufficiency.solve.cuts import cut_candidates, separate, strengthen
from sufficiency.solve.direct import highs_lp
from sufficiency.solve.highs import HighsClock, highs_options
from sufficiency.solve.rounding import solved_relaxation
from sufficiency.tolerances import CUT_SAFETY

SOFT_AND_RAMP = """
[soft_capacity]
share = 0.2
premium_per_pupil = 4000

[ramp_up.special]
first_year = 0.5
second_year = 0.8
"""


def relaxation(plan_model, config):
    """HiGHS holding the solved LP relaxation, and its optimum (£k)."""
    lp = highs_lp(plan_model)
    lp.integrality_ = []
    highs = solved_relaxation(lp, highs_options(config.solver), HighsClock())
    return highs, highs.getInfo().objective_function_value


def test_separation_picks_the_most_violated_prefix():
    """Option with no places, modules of 10; two cells of 6 and 9 pupils, both placed in
    full, 1.5 modules open. {6}: b = 6, η = 1, r = 6: 6 − 9 − 0 < 0, not violated.
    {6, 9}: b = 15, η = 2, r = 5: 15 − 7.5 − 5 = 2.5 → x0 + x1 − 5·y ≤ 5."""
    candidates = pd.DataFrame({"i": [0, 1], "k": [0, 0], "d": [6.0, 9.0],
                               "places": [0.0, 0.0], "module": [10.0, 10.0]})
    cuts = separate(candidates, np.array([6.0, 9.0]), np.array([1.5]), {X: 0, OPENED: 2})
    assert cuts.count == 1
    assert cuts.starts.tolist() == [0]
    assert cuts.index.tolist() == [0, 1, 2]
    assert cuts.value.tolist() == [1.0, 1.0, -5.0]
    assert cuts.upper.tolist() == pytest.approx([5.0 + CUT_SAFETY])
    whole = separate(candidates, np.array([6.0, 9.0]), np.array([2.0]), {X: 0, OPENED: 2})
    assert whole.count == 0  # two whole modules: nothing to cut


def test_cuts_raise_the_bound_to_the_optimum_of_one_part_filled_module(tiny):
    """15 pupils, one year; NEW: modules of 10 places at £200k, £20k a place; independent
    £50k. LP: 1.5 modules, all 15 placed: 15 × 20 + 1.5 × 200 = £600k. Integer: one module,
    10 placed, 5 independent: 200 + 250 + 200 = £650k (two modules: £700k; none: £750k).
    The cut x − 5·y ≤ 5 makes the LP the hull of the integer plans: £650k."""
    toml = tiny.write(toml=run_toml(years=1), demand=["A,ASD,primary,2026,15"],
                      provision=[option("NEW", "S1", module=10, max_modules=2,
                                        capital=200_000)])
    plan_model, config = plan_model_of(toml)
    highs, relaxed = relaxation(plan_model, config)
    assert relaxed == pytest.approx(600.0)
    clock = HighsClock()
    share = plan_model.sets.soft_share(config.placement_rules.soft_capacity)
    raised = strengthen(highs, plan_model, share, clock, 60)
    assert raised == pytest.approx(650.0, abs=1e-5)  # £0.01: the cuts keep a safety margin
    assert brute_force(toml) / 1000 == pytest.approx(650.0)
    assert clock.seconds > 0


def mip_solution(plan_model, config) -> tuple[float, np.ndarray]:
    """The MIP's optimum (£k) and columns, with the run's options (one thread: HiGHS's
    scheduler keeps the thread count of the first solve in the process)."""
    highs = highspy.Highs()
    for key, value in {**highs_options(config.solver), "mip_rel_gap": 0.0}.items():
        highs.setOptionValue(key, value)
    highs.passModel(highs_lp(plan_model))
    highs.run()
    return highs.getInfo().objective_function_value, np.asarray(highs.getSolution().col_value)


@pytest.mark.parametrize("rules", ["", SOFT_AND_RAMP])
@pytest.mark.parametrize("seed", range(6))
def test_cuts_are_kept_by_the_optimal_plan_and_never_pass_the_optimum(tiny, seed, rules):
    """On the brute-force instances (with and without soft capacity and ramp-up): every
    cut separated at the relaxation holds for the optimal plan, and the raised bound lies
    between the relaxation and the optimum."""
    toml = random_instance(tiny, seed)
    toml.write_text(toml.read_text() + rules)
    plan_model, config = plan_model_of(toml)
    optimum, plan = mip_solution(plan_model, config)
    if not rules:
        assert optimum == pytest.approx(brute_force(toml) / 1000, abs=1e-6)
    highs, relaxed = relaxation(plan_model, config)
    values = np.asarray(highs.getSolution().col_value)
    offsets = plan_model.offsets
    share = plan_model.sets.soft_share(config.placement_rules.soft_capacity)
    n_x, n_opened = len(plan_model.variables[X]), len(plan_model.variables[OPENED])
    cuts = separate(cut_candidates(plan_model, share),
                    values[offsets[X]:offsets[X] + n_x],
                    values[offsets[OPENED]:offsets[OPENED] + n_opened], offsets)
    ends = np.append(cuts.starts[1:], len(cuts.index))[:cuts.count]
    for start, end, upper in zip(cuts.starts, ends, cuts.upper, strict=True):
        row = cuts.value[start:end] @ plan[cuts.index[start:end]]
        assert row <= upper + 1e-6
    raised = strengthen(highs, plan_model, share, HighsClock(), 60)
    assert relaxed - 1e-6 <= raised <= optimum + 1e-6
