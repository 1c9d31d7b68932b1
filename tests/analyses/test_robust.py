"""The robust (two-stage) plan over scenarios, checked by hand, and the regret table.

One year, one area, no discounting. One option NEW: a module of 20 places for £250k
capital; a place costs £20k, independent placement £50k. Opening saves 30k per pupil
placed locally (up to 20) and costs 250k.

| scenario | weight | pupils | not opened         | opened                   |
|----------|--------|--------|--------------------|--------------------------|
| low      | 0.25   | 4      | 4 × 50k = 200k     | 250k + 4 × 20k = 330k    |
| central  | 0.50   | 8      | 8 × 50k = 400k     | 250k + 8 × 20k = 410k    |
| high     | 0.25   | 16     | 16 × 50k = 800k    | 250k + 16 × 20k = 570k   |

- The central scenario alone does not open (400k < 410k): the central plan is "nothing".
- Expected cost: opened 0.25·330 + 0.5·410 + 0.25·570 = 430k; not opened
  0.25·200 + 0.5·400 + 0.25·800 = 450k → the robust plan opens NEW.
- Regret (cost − the scenario's own optimum 200k / 400k / 570k): opened 130k / 10k / 0,
  worst 130k; not opened 0 / 0 / 230k, worst 230k → minimax regret opens NEW (130k).
- CVaR at α = 0.9: the worst 10 % of the weight lies in "high" (weight 0.25), so CVaR is
  the high cost: opened 570k < 800k → CVaR opens NEW.
"""

from __future__ import annotations

import pytest
from conftest import TinyRun, option, run_toml

from sufficiency.analyses.robust import (
    ROBUST,
    analyse_scenarios,
    cvar,
    scenario_models,
    solve_robust,
)
from sufficiency.formulation.sets import build_sets
from sufficiency.pipeline import plan_dataset
from sufficiency.preprocess.config import load_run_config
from sufficiency.preprocess.dataset import load_dataset
from sufficiency.preprocess.scenarios import load_scenarios

SCENARIOS = """
[scenarios.low]
weight = 0.25
demand_multiplier = 0.5
[scenarios.central]
weight = 0.5
[scenarios.high]
weight = 0.25
demand_multiplier = 2
"""
OWN_OPTIMA = {"central": 400_000, "high": 570_000, "low": 200_000}  # by hand, see above
OPENS = [("NEW", 1, 2026)]


@pytest.fixture(scope="module")
def toml(tmp_path_factory):
    return TinyRun(tmp_path_factory.mktemp("robust")).write(
        demand=["A,ASD,primary,2026,8"],
        provision=[option("NEW", "S1", module=20, max_modules=1, capital=250_000)],
        toml=run_toml() + SCENARIOS)


@pytest.fixture(scope="module")
def analysis(toml):
    """The scenario analysis of the hand case, run once (serially) for the tests below."""
    return analyse_scenarios(toml, objective="expected")


def openings(plan) -> list[tuple]:
    return list(plan[["option_id", "modules", "opening_year"]].itertuples(index=False,
                                                                           name=None))


def test_expected_cost_plan_opens_what_the_central_plan_does_not(analysis):
    """Robust (expected) opens NEW at 430k expected; the central plan (nothing) costs 450k."""
    plans = analysis.plans
    assert openings(plans[plans["plan"] == ROBUST]) == OPENS
    assert plans[plans["plan"] == "optimal for central"].empty
    comparison = analysis.comparison.set_index("plan")
    assert comparison.loc[ROBUST, "expected_cost"] == pytest.approx(430_000)
    assert comparison.loc["optimal for central", "expected_cost"] == pytest.approx(450_000)
    assert comparison.loc[ROBUST, "worst_regret"] == pytest.approx(130_000)
    assert comparison.loc["optimal for central", "worst_regret"] == pytest.approx(230_000)
    assert analysis.robust.loc[0, "value"] == pytest.approx(430_000)
    regret = analysis.regret.set_index(["plan", "scenario"])
    assert regret.loc[(ROBUST, "low"), ["cost", "regret"]].tolist() == pytest.approx(
        [330_000, 130_000])
    assert regret.loc[("optimal for central", "high"), ["cost", "regret"]].tolist() == \
        pytest.approx([800_000, 230_000])
    assert regret.loc[("optimal for central", "high"), "independent_pupil_years"] == 16


def test_regret_table_agrees_with_each_scenario_solved_alone(toml, analysis):
    """Each scenario planned by itself costs its own optimum, as the table says."""
    dataset = load_dataset(load_run_config(toml))
    table = analysis.scenarios.set_index("scenario")
    regret = analysis.regret.set_index(["plan", "scenario"])
    for scenario in load_scenarios(dataset):
        alone = plan_dataset(scenario.dataset, build_sets(scenario.dataset))
        assert alone.optimal.total_cost == pytest.approx(OWN_OPTIMA[scenario.name])
        assert table.loc[scenario.name, "own_optimum"] == pytest.approx(alone.optimal.total_cost)
        own = regret.loc[(f"optimal for {scenario.name}", scenario.name)]
        assert own["cost"] == pytest.approx(alone.optimal.total_cost)
        assert own["regret"] == pytest.approx(0.0)


@pytest.mark.parametrize(("objective", "value"), [("regret", 130_000), ("cvar", 570_000)])
def test_regret_and_cvar_objectives_open_the_module(toml, objective, value):
    """Minimax regret: 130k; CVaR_0.9: the high scenario's 570k (see the module docstring)."""
    models = scenario_models(load_scenarios(load_dataset(load_run_config(toml))))
    optima = [OWN_OPTIMA[m.scenario.name] for m in models]
    plan, report, size = solve_robust(models, objective, 0.9, optima)
    assert openings(plan) == OPENS
    assert report.objective == pytest.approx(value)
    assert size["integer_variables"] == 1  # one shared opening decision for 3 scenarios


def test_cvar_of_a_discrete_distribution():
    """Worst 10 % of (200 w .25, 400 w .5, 800 w .25) is 800; α = 0 is the mean 450."""
    import numpy as np

    costs, weights = np.array([200.0, 400.0, 800.0]), np.array([0.25, 0.5, 0.25])
    assert cvar(costs, weights, 0.9) == pytest.approx(800)
    assert cvar(costs, weights, 0.0) == pytest.approx(450)
    assert cvar(costs, weights, 0.5) == pytest.approx((0.25 * 800 + 0.25 * 400) / 0.5)
