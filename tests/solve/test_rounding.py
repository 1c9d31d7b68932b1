"""The MIP start from the LP relaxation: rounding, budget repair, the dive, feasibility."""

from __future__ import annotations

import time

import numpy as np
import pytest
from conftest import option, run_toml
from test_oracle import brute_force, random_instance

from sufficiency.errors import InputError
from sufficiency.formulation import build_model
from sufficiency.formulation.sets import build_sets
from sufficiency.preprocess.config import load_run_config
from sufficiency.preprocess.dataset import load_dataset
from sufficiency.solve.direct import highs_lp
from sufficiency.solve.highs import HighsClock, highs_options
from sufficiency.solve.rounding import (
    AUTO_MIN_NONZEROS,
    _repaired,
    delayed_openings,
    dive,
    keep_budget,
    rounded_openings,
    rounding_start,
    solved_relaxation,
    wants_start,
)

YEARS3 = ["2026", "2027", "2028"]


def plan_model_of(toml):
    config = load_run_config(toml)
    return build_model(build_sets(load_dataset(config)), config), config


def one_option_three_years(tiny):
    """One option (2 modules at most, fixed capital) that can open in 2026, 2027 or 2028."""
    toml = tiny.write(toml=run_toml(years=3),
                      demand=[f"A,ASD,primary,{y},20" for y in YEARS3],
                      provision=[option("NEW", "S1", module=10, max_modules=2,
                                        capital=100_000, fixed=50_000)])
    return plan_model_of(toml)[0]


def test_rounding_is_monotone_and_capped(tiny):
    """One option, 2 modules at most, slots 2026-2028; LP opens 0.3, 0.6, 2.4 by year.

    Threshold 0.5: round(0.3) = 0, round(0.6) = 1, round(2.4) = 2 → capped at 2:
    modules 0, 1, 1. Threshold 0.35 rounds 0.3 down too (0.3 + 0.65 < 1).
    """
    plan_model = one_option_three_years(tiny)
    openings = rounded_openings(plan_model, np.array([0.3, 0.6, 2.4]), 0.5)
    assert openings.modules.tolist() == [0, 1, 1]
    assert openings.first.tolist() == [0, 1, 0]  # the fixed cost goes with 2027's module
    assert rounded_openings(plan_model, np.array([0.3, 0.6, 2.4]), 0.35).modules.tolist() == [
        0, 1, 1]


def test_budget_repair_drops_the_least_supported_module(tiny):
    """Budget 2026: £150k. A (module £100k) and B (module £100k + fixed £30k), both rounded
    open in 2026 (£230k). The LP supports A 0.9 and B 0.6, so B's module is dropped: £100k.
    """
    toml = tiny.write(toml=run_toml(years=1, budget={2026: 150_000}),
                      demand=["A,ASD,primary,2026,20"],
                      provision=[option("A", "S1", module=10, max_modules=1, capital=100_000),
                                 option("B", "S1", module=10, max_modules=1, capital=100_000,
                                        fixed=30_000)])
    plan_model, config = plan_model_of(toml)
    openings = rounded_openings(plan_model, np.array([0.9, 0.6]), 0.5)
    assert openings.modules.tolist() == [1, 1]
    kept = keep_budget(plan_model, openings, np.array([0.9, 0.6]), config.capital_budget)
    assert kept.modules.tolist() == [1, 0]
    assert kept.first.tolist() == [0]


def test_the_dives_repair_drops_from_free_options_before_fixed_ones(tiny):
    """Budget 2026: £250k. A (1 module, £100k) is fixed by the dive at 1; B (2 modules at
    most, £100k each) is free at 1.6, rounded to 2: £300k. By support alone A (1.0) would
    lose its module, which its fixed bounds keep, so the repaired batch would still break
    the budget; fixed, A keeps it and B drops one: A 1, B 1, £200k.
    """
    toml = tiny.write(toml=run_toml(years=1, budget={2026: 250_000}),
                      demand=["A,ASD,primary,2026,30"],
                      provision=[option("A", "S1", module=10, max_modules=1, capital=100_000),
                                 option("B", "S1", module=10, max_modules=2, capital=100_000)])
    plan_model, config = plan_model_of(toml)
    opened = np.array([1.0, 1.6])
    fixed = np.array([True, False])
    assert _repaired(plan_model, opened, config.capital_budget, ~fixed).modules.tolist() == [
        0, 2]  # A dropped: what support alone would do
    assert _repaired(plan_model, opened, config.capital_budget, fixed).modules.tolist() == [
        1, 1]


@pytest.mark.parametrize(("profile", "kept_modules"), [("", [1, 1]), ("[0.5, 0.5]", [1, 0])])
def test_budget_repair_follows_the_spend_profile(tiny, profile, kept_modules):
    """A and B (new_special, lead 2, £200k a module) can open only in 2028 (capital year
    FY 2026, which has no budget); FY 2027's budget is £150k. Rounded, both open.
    v1: all capital in FY 2026, nothing in FY 2027: both kept.
    Spend profile [0.5, 0.5]: £100k each in FY 2026 and FY 2027, so FY 2027 holds £200k
    > £150k: B, the less supported (0.6 against 0.9), is dropped; £100k remains.
    """
    extra = f"\n[capital]\nspend_profile.new_special = {profile}\n" if profile else ""
    new = dict(kind="new_special", module=10, max_modules=1, capital=200_000, lead=2)
    toml = tiny.write(toml=run_toml(years=3, budget={2027: 150_000}, extra=extra),
                      demand=[f"A,ASD,primary,{y},20" for y in YEARS3],
                      provision=[option("A", "S1", **new), option("B", "S1", **new)])
    plan_model, config = plan_model_of(toml)
    openings = rounded_openings(plan_model, np.array([0.9, 0.6]), 0.5)
    assert openings.modules.tolist() == [1, 1]
    kept = keep_budget(plan_model, openings, np.array([0.9, 0.6]), config.capital_budget)
    assert kept.modules.tolist() == kept_modules


def assert_feasible_plan(lp, values: np.ndarray) -> None:
    """Integral openings, every column bound and every row of the full model kept."""
    integer = np.array([t == 1 for t in map(int, lp.integrality_)])
    assert np.allclose(values[integer], np.round(values[integer]), atol=1e-9)
    assert np.all(values >= np.asarray(lp.col_lower_) - 1e-7)
    assert np.all(values <= np.asarray(lp.col_upper_) + 1e-7)
    rows = np.zeros(lp.num_row_)
    starts, index, value = (np.asarray(lp.a_matrix_.start_), np.asarray(lp.a_matrix_.index_),
                            np.asarray(lp.a_matrix_.value_))
    for r in range(lp.num_row_):
        rows[r] = value[starts[r]:starts[r + 1]] @ values[index[starts[r]:starts[r + 1]]]
    assert np.all(rows >= np.asarray(lp.row_lower_) - 1e-6)
    assert np.all(rows <= np.asarray(lp.row_upper_) + 1e-6)


def two_options_tight_budget(tiny):
    """A (£19k a place) and B, one £100k module of 10 places each; 20 pupils in 2026 and
    2027; budget £150k in 2026, £100k in 2027: both fit only if one opens a year later."""
    toml = tiny.write(toml=run_toml(years=2, budget={2026: 150_000, 2027: 100_000}),
                      demand=["A,ASD,primary,2026,20", "A,ASD,primary,2027,20"],
                      provision=[option("A", "S1", module=10, max_modules=1, capital=100_000,
                                        cost=19_000),
                                 option("B", "S1", module=10, max_modules=1, capital=100_000)])
    return plan_model_of(toml)


def dive_plan(plan_model, config, seconds=60):
    """The dive alone, from the solved relaxation, with ``seconds`` of LPs in its share:
    (cost £k, column values)."""
    lp = highs_lp(plan_model)
    lp.integrality_ = []
    clock = HighsClock()
    highs = solved_relaxation(lp, highs_options(config.solver), clock)
    relaxed = np.asarray(highs.getSolution().col_value)
    return dive(highs, plan_model, np.asarray(lp.col_lower_), np.asarray(lp.col_upper_),
                relaxed, clock, seconds, config.capital_budget)


@pytest.mark.parametrize("seed", range(6))
def test_rounded_start_is_a_feasible_plan_no_cheaper_than_the_optimum(tiny, seed):
    """On the brute-force instances: the start and the dive's plan are feasible, integral,
    cost what their columns cost and no less than the brute-force optimum."""
    toml = random_instance(tiny, seed)
    plan_model, config = plan_model_of(toml)
    lp = highs_lp(plan_model)
    found = rounding_start(plan_model, highs_lp(plan_model), highs_options(config.solver),
                           config)
    assert found.highs_seconds > 0
    start = found.plan
    assert start is not None
    optimum_k = brute_force(toml) / 1000
    assert found.bound <= optimum_k + 1e-6  # the relaxation is a lower bound
    dived = dive_plan(plan_model, config)
    assert dived is not None
    for objective, values in ((start.objective, start.values), dived):
        assert_feasible_plan(lp, values)
        assert objective == pytest.approx(np.asarray(lp.col_cost_) @ values + lp.offset_,
                                          rel=1e-9)
        assert objective >= optimum_k - 1e-6
    assert start.objective <= dived[0] + 1e-9  # the start is the cheapest candidate
    assert start.method in ("dive", "rounded at 0.5", "rounded at 0.35")


def test_delayed_openings_shift_each_profile(tiny):
    """Modules open by year (0.2, 1.6, 2.0) round to (0, 2, 2): one year later (0, 0, 2)."""
    plan_model = one_option_three_years(tiny)
    later = delayed_openings(plan_model, np.array([0.2, 1.6, 2.0]), 1)
    assert later.modules.tolist() == [0, 0, 2]
    assert later.first.tolist() == [0, 0, 1]


def test_dive_opens_a_year_later_what_no_longer_fits_the_budget(tiny):
    """Two 10-place units (£100k each) for 20 pupils a year; budget £150k in 2026, £100k in
    2027. The LP opens A (cheaper places) and half of B in 2026, B's other half in 2027.

    The dive fixes A first (decided), then B: rounded up in 2026 it would spend £200k,
    so it opens in 2027. Cost by hand (no discounting, £k): places at A 2 years × 10 × 19
    = 380, at B 10 × 20 = 200, capital 200, independent 10 pupils in 2026 × 50 = 500:
    1,280.
    """
    plan_model, config = two_options_tight_budget(tiny)
    objective, values = dive_plan(plan_model, config)
    modules = values[plan_model.offsets["modules"]:][:len(plan_model.variables["modules"])]
    slots = plan_model.sets.open_slots.assign(modules=np.round(modules))
    opened = slots[slots["modules"] > 0]
    assert sorted(zip(opened["option_id"], opened["year"], strict=True)) == [
        ("A", 2026), ("B", 2027)]
    assert objective * 1000 == pytest.approx(2 * 10 * 19_000 + 2 * 10 * 20_000 - 10 * 20_000
                                             + 200_000 + 10 * 50_000)


def test_a_dive_out_of_time_ends_in_one_repaired_batch(tiny):
    """The instance above, the dive out of time at once: A and B are fixed together. Rounded,
    B's 2026 module breaks the £150k budget of 2026; the repair drops it (B is the less
    supported), so B stays closed. Cost by hand (£k): A's places 2 years × 10 × 19 = 380,
    capital 100, independent 10 pupils × 2 years × 50 = 1,000: 1,480. Dearer than the
    full dive's 1,280 (which tries B a year later), in three LPs instead of four rounds.
    """
    plan_model, config = two_options_tight_budget(tiny)
    objective, values = dive_plan(plan_model, config, seconds=0.0)
    assert objective == pytest.approx(1_480.0)
    assert_feasible_plan(highs_lp(plan_model), values)


@pytest.mark.parametrize(("written", "read"), [
    ("", "auto"), ('rounding_start = "auto"\n', "auto"), ("rounding_start = true\n", "on"),
    ("rounding_start = false\n", "off"), ('rounding_start = "off"\n', "off")])
def test_rounding_start_setting(tiny, written, read):
    toml = tiny.write(toml=run_toml().replace("[solver]\n", "[solver]\n" + written),
                      demand=["A,ASD,primary,2026,20"], provision=[option("A", "S1")])
    assert load_run_config(toml).solver.rounding_start == read


def test_rounding_start_setting_rejects_other_values(tiny):
    toml = tiny.write(toml=run_toml().replace("[solver]\n", '[solver]\nrounding_start = "yes"\n'),
                      demand=["A,ASD,primary,2026,20"], provision=[option("A", "S1")])
    with pytest.raises(InputError, match="solver.rounding_start"):
        load_run_config(toml)


def test_auto_starts_only_large_models():
    assert not wants_start("auto", AUTO_MIN_NONZEROS - 1)
    assert wants_start("auto", AUTO_MIN_NONZEROS)
    assert wants_start("on", 10) and not wants_start("off", 10**9)


def test_a_start_out_of_time_finds_no_plan_and_claims_no_bound(tiny):
    """Its seconds (the time HiGHS's MIP has) bound every LP of the start, the first too."""
    plan_model, config = plan_model_of(random_instance(tiny, 0))
    found = rounding_start(plan_model, highs_lp(plan_model), highs_options(config.solver),
                           config, seconds=0.0)
    assert found.plan is None and found.bound is None


def test_a_clock_with_a_deadline_gives_each_run_the_time_left_at_most(tiny):
    """Each run ends by the deadline, counted from the run's start on the object's clock."""
    plan_model, config = plan_model_of(random_instance(tiny, 0))
    lp = highs_lp(plan_model)
    lp.integrality_ = []
    clock = HighsClock(deadline=time.perf_counter() + 1000.0)
    highs = solved_relaxation(lp, highs_options(config.solver), clock)
    clock.run(highs, 5.0)
    assert highs.getOptionValue("time_limit")[1] - highs.getRunTime() <= 5.0
    clock.deadline = time.perf_counter() + 3.0
    clock.run(highs)
    assert highs.getOptionValue("time_limit")[1] - highs.getRunTime() < 3.0
