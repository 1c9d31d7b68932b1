"""The benchmark's plain peer: the contract's rows in direct highspy, same optimum as the plan.

Hand-solved instances (a budget, fixed capital), random ones in the style of
tests/solve/test_oracle.py, the runs it does not apply to, and how two answers are compared.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import option, run_toml

from sufficiency.bench import (
    build_plain,
    compare,
    does_not_apply,
    measure_plain,
    objectives_agree,
    plain_options,
    plain_run,
)
from sufficiency.pipeline import run_plan
from sufficiency.preprocess.config import load_run_config
from sufficiency.preprocess.dataset import load_dataset

YEARS = (2026, 2027, 2028)
TWO_YEARS = ["A,ASD,primary,2026,20", "A,ASD,primary,2027,20"]


def plain_optimum(toml) -> dict:
    result = plain_run(toml, plain_options(toml))
    assert result["applies"] and result["status"] == "optimal"
    return result


def new_unit(max_modules: int = 1) -> str:
    return option("NEW", "S1", kind="resourced", module=10, max_modules=max_modules,
                  capital=100_000, fixed=50_000)


@pytest.mark.parametrize(("budget", "expected"), [
    # no budget: NEW opens in 2026 (£150k capital), all 40 pupil-years local at £20k
    (None, 150_000 + 40 * 20_000),
    # £120k in FY 2026 cannot pay module + fixed capital: 2026 is 10 at SP, 10 independent
    # (£700k); NEW opens in 2027 (£150k + 20 × £20k)
    ({2026: 120_000}, 700_000 + 150_000 + 400_000),
    # £60k in 2026 pays the fixed capital alone, £100k in 2027 the module alone: the fixed
    # capital goes with the first module, so NEW never opens (2 × £700k); a model that let
    # it be paid a year early would open NEW in 2027 for £1,250k
    ({2026: 60_000, 2027: 100_000}, 2 * 700_000),
])
def test_plain_model_matches_the_plan_on_hand_solved_runs(tiny, budget, expected):
    """1 area, 20 ASD primary pupils in 2026 and 2027, no discounting or transport; SP has
    10 places at £20k, NEW (resourced) one module of 10 places, £100k + £50k fixed capital,
    £20k a place; independent £50k."""
    toml = tiny.write(demand=TWO_YEARS, provision=[option("SP", "S1", existing=10),
                                                   new_unit(max_modules=2)],
                      toml=run_toml(years=2, budget=budget))
    assert plain_optimum(toml)["objective_gbp"] == pytest.approx(expected, abs=1e-3)
    assert run_plan(toml).optimal.total_cost == pytest.approx(expected, abs=0.01)


def test_plain_model_size_matches_a_hand_count(tiny):
    """x 4 (2 cells × SP, NEW) + u 2 + modules 2 + first 2 = 10 columns, 4 integer.
    Rows: demand 2, capacity 4, max modules 1, fixed-capital link 2, first opens with a
    module 2, paid once 1, budget 1 = 13; nonzeros 6 + 7 + 2 + 5 + 4 + 2 + 2 = 28 (capacity:
    SP x alone, NEW 2026 x and one module, NEW 2027 x and two; the link in 2027 has its
    module and both first-module binaries)."""
    toml = tiny.write(demand=TWO_YEARS, provision=[option("SP", "S1", existing=10),
                                                   new_unit(max_modules=2)],
                      toml=run_toml(years=2, budget={2026: 120_000}))
    _, size = build_plain(load_dataset(load_run_config(toml)))
    assert size == {"variables": 10, "integer_variables": 4, "constraints": 13,
                    "nonzeros": 28}


def random_instance(tiny, seed: int):
    """Two needs × two phases over three years; a unit and an expansion with fixed capital
    (needs merged by the plan's aggregation, never by the plain model); odd seeds have a
    budget in the first two years."""
    rng = np.random.default_rng(seed)
    sites = ["S1,One,A,405000,306000", "S2,Two,A,405000,318000", "S3,Three,A,405000,330000"]
    demand = [f"A,{need},{phase},{year},{int(rng.integers(0, 14))}"
              for need in ("ASD", "SLCN") for phase in ("primary", "secondary") for year in YEARS]
    provision = [
        option("SP", "S1", existing=int(rng.integers(4, 12)), cost=int(rng.integers(18, 26)) * 1000,
               commissioned=int(rng.integers(0, 10)) * 1000),
        option("RP", "S2", kind="resourced", needs="ASD;SLCN", phases="primary", module=8,
               max_modules=1, capital=int(rng.integers(1, 6)) * 100_000,
               fixed=int(rng.integers(1, 3)) * 100_000, lead=1, cost=15_000,
               commissioned=10_000),
        option("EXP", "S3", needs="SLCN;ASD", module=6, max_modules=2,
               capital=int(rng.integers(1, 4)) * 100_000, fixed=int(rng.integers(0, 2)) * 50_000,
               cost=20_000),
    ]
    budget = ({2026: float(rng.integers(2, 6)) * 100_000,
               2027: float(rng.integers(1, 4)) * 100_000} if seed % 2 else None)
    toml = run_toml(years=len(YEARS), rate=0.035, transport_pupil=3000, transport_km=350,
                    circuity=1.3, budget=budget)
    return tiny.write(sites=sites, demand=demand, provision=provision, toml=toml)


@pytest.mark.parametrize("seed", range(6))
def test_plain_model_matches_the_plan_on_random_runs(tiny, seed):
    toml = random_instance(tiny, seed)
    plain = plain_optimum(toml)
    run = run_plan(toml)
    assert plain["objective_gbp"] == pytest.approx(run.optimal.total_cost, rel=1e-7)
    assert objectives_agree(run.optimal.total_cost, run.optimal.report.bound,
                            plain["objective_gbp"], plain["bound_gbp"])
    assert plain["variables"] > run.model_size["variables"] - len(
        run.sets.opened_years)  # cells not merged


def test_plain_model_under_annuity_appraisal_matches_the_plan(tiny):
    """The appraisal rule (contract v2) comes with the product's objective coefficients."""
    toml = random_instance(tiny, 1)
    text = toml.read_text() + '\n[appraisal]\nmethod = "annuity"\n'
    toml.write_text(text)
    assert plain_optimum(toml)["objective_gbp"] == pytest.approx(
        run_plan(toml).optimal.total_cost, rel=1e-7)


@pytest.mark.parametrize(("extra", "reason"), [
    ('[placements]\nmodel = "sticky"\n', "sticky cohorts"),
    ("[ramp_up.resourced]\nfirst_year = 0.5\n", "ramp-up"),
    ("[soft_capacity]\nshare = 0.1\n", "soft capacity"),
    ("[placements]\nplan_cease_rate = 0.05\n", "phase_years or plan_cease_rate"),
    ("[capital]\nconstruction_inflation = 0.03\n", "construction inflation"),
])
def test_plain_model_does_not_apply_to_rules_it_lacks(tiny, extra, reason):
    toml = tiny.write(demand=TWO_YEARS, provision=[option("SP", "S1", existing=10), new_unit()],
                      toml=run_toml(years=2, extra="\n" + extra))
    reasons = does_not_apply(load_dataset(load_run_config(toml)))
    assert len(reasons) == 1 and reason in reasons[0]


def test_a_run_it_does_not_apply_to_gets_a_note_not_a_number(tiny, tmp_path):
    toml = tiny.write(demand=TWO_YEARS, provision=[option("SP", "S1", existing=10), new_unit()],
                      toml=run_toml(years=2, extra="\n[ramp_up.resourced]\nfirst_year = 0.5\n"))
    row = measure_plain(toml, tmp_path / "plain")
    assert row == {"plain_note": "comparison does not apply: ramp-up ([ramp_up.<kind>] "
                                 "below 1)"}
    assert compare({"plan_command_s": 5.0, **row})["plan_to_plain"] is None


def test_two_answers_agree_when_their_intervals_meet():
    # both optimal within 1e-4: £100.00 m and £100.005 m, each bound below the other's plan
    assert objectives_agree(100e6, 99.995e6, 100.005e6, 99.996e6)
    # a time-limited plain run with a wide gap still agrees
    assert objectives_agree(100e6, 99.99e6, 101e6, 98e6)
    # a plain plan cheaper than the product's proven bound: one of the models is wrong
    assert not objectives_agree(100e6, 99.99e6, 99.9e6, 99.89e6)
    assert not objectives_agree(100e6, 99.99e6, 100.5e6, 100.2e6)
    assert objectives_agree(100e6, None, None, None) is None
    row = {"plan_command_s": 6.0, "plain_s": 3.0, "objective_gbp": 100e6,
           "bound_gbp": 99.99e6, "plain_objective_gbp": 99.5e6, "plain_bound_gbp": 99.49e6}
    assert compare(row) == {"plan_to_plain": 2.0, "objective_difference_gbp": 500_000.0,
                            "objectives_agree": False}


def test_a_disagreement_is_said_loudly(capsys):
    from sufficiency.bench import ratio_summary
    from sufficiency.cli import _print_ratios

    rows = [{"run": "synth-S-s1", "scale": "S", "plan_to_plain": 2.0, "objectives_agree": False,
             "objective_gbp": 100e6, "bound_gbp": 99.99e6, "plain_objective_gbp": 99.5e6,
             "plain_bound_gbp": 99.49e6},
            {"run": "tiny", "scale": "", "plain_note": "comparison does not apply: ramp-up"}]
    assert _print_ratios(ratio_summary(rows), rows)
    captured = capsys.readouterr()
    assert "OBJECTIVES DISAGREE on synth-S-s1" in captured.err
    assert "S: plan command / plain model, wall time over 1 run(s): median 2.00" in captured.out
    assert "tiny: comparison does not apply: ramp-up" in captured.out
