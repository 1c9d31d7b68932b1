"""Shadow prices: LP duals with the openings fixed, checked against re-planning by hand.

The brute-force check re-runs the whole plan on a copy of the dataset with one more place
(or more budget) and compares the change in the optimal cost with the dual.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import NoSecondCore, TinyRun, option, run_toml

from sufficiency.formulation import FIRST, MODULES, build_model
from sufficiency.outcome import METHOD
from sufficiency.pipeline import run_plan, validate_run
from sufficiency.solve import DirectHighs, make_solver
from sufficiency.solve.shadow import shadow_prices

RATE = 0.05
INDEPENDENT, LOCAL, COMMISSIONED = 50_000, 20_000, 1_000
NOTHING_SPENT = pd.Series(dtype=float)  # capital £ by FY, for the headroom column


def write_run(root: Path, *, sp_existing: int = 5, new_existing: int = 0,
              budget: float = 200_000, max_modules: int = 2) -> Path:
    """Two years, 20 pupils a year; SP has 5 places, NEW may open 2 modules of 4 (£100k each).

    By hand: NEW opens both modules (8 places for £200k, the whole budget), so 13 pupils are
    placed locally at £20k and 7 go independent at £50k each year. Every local place is
    full, so one more place at SP or NEW saves £50k − £20k = £30k in each year.
    """
    return TinyRun(root).write(
        toml=run_toml(years=2, rate=RATE, independent=INDEPENDENT, budget={2026: budget}),
        demand=["A,ASD,primary,2026,20", "A,ASD,primary,2027,20"],
        provision=[option("SP", "S1", existing=sp_existing, cost=LOCAL,
                          commissioned=COMMISSIONED),
                   option("NEW", "S1", existing=new_existing, module=4, max_modules=max_modules,
                          capital=100_000, cost=LOCAL, commissioned=COMMISSIONED)])


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """The by-hand run, planned once for the tests of this module."""
    return run_plan(write_run(tmp_path_factory.mktemp("base")))


def place_value(run, option_id: str, year: int, column: str = "value_pv") -> float:
    places = run.shadow.places
    return float(places.loc[(places["option_id"] == option_id) & (places["year"] == year),
                            column].item())


def test_place_values_by_hand(base):
    run = base
    assert run.shadow.method == METHOD
    assert run.optimal.plan["modules"].tolist() == [2]
    assert run.shadow.lp_objective == pytest.approx(run.optimal.total_cost, abs=0.05)
    for option_id in ("SP", "NEW"):
        assert place_value(run, option_id, 2026) == pytest.approx(30_000)
        assert place_value(run, option_id, 2027) == pytest.approx(30_000 / (1 + RATE))
        assert place_value(run, option_id, 2027, "value_in_year") == pytest.approx(30_000)


@pytest.mark.parametrize("option_id", ["SP", "NEW"])
def test_one_more_place_changes_the_optimum_by_the_dual(base, tmp_path, option_id):
    """One more existing place at an option is a place in both years: Σ_t value_pv(o, t)."""
    more = run_plan(write_run(tmp_path / "more", sp_existing=5 + (option_id == "SP"),
                              new_existing=int(option_id == "NEW")))
    assert more.optimal.plan["modules"].tolist() == [2]  # the openings do not change
    commissioning = COMMISSIONED * (1 + 1 / (1 + RATE))  # the extra place's own cost
    change = base.optimal.total_cost - more.optimal.total_cost + commissioning
    duals = place_value(base, option_id, 2026) + place_value(base, option_id, 2027)
    assert change == pytest.approx(duals, abs=0.05)


def test_budget_dual_is_zero_with_openings_fixed_and_a_small_increase_changes_nothing(
        tmp_path):
    """Every variable of a budget row is an opening: fixed, the row is constant, its value 0.

    With a third module allowed, the £200k budget is what stops it. Brute force: £50k more
    (half a module) leaves the optimum unchanged, as the dual says; £100k more buys the
    module, a step the marginal value cannot see.
    """
    runs = {extra: run_plan(write_run(tmp_path / str(extra), budget=200_000 + extra,
                                      max_modules=3), replan_budget=True)
            for extra in (0, 50_000, 100_000, 1_000_000)}
    base = runs[0]
    budget = base.shadow.budget.iloc[0]
    assert (budget["capital_year"], budget["budget"], budget["spent"], budget["headroom"]) == (
        2026, 200_000, 200_000, 0)
    assert budget["value_per_million_pv"] == 0
    assert runs[50_000].optimal.total_cost == pytest.approx(base.optimal.total_cost, abs=0.05)
    assert runs[100_000].optimal.plan["modules"].tolist() == [3]
    assert runs[100_000].optimal.total_cost < base.optimal.total_cost - 1_000
    # the re-planned value of £1m more is exactly what re-running with £1.2m saves
    assert budget["value_per_million_replanned_pv"] == pytest.approx(
        base.optimal.total_cost - runs[1_000_000].optimal.total_cost, abs=1.0)
    assert budget["value_per_million_replanned_pv"] > 1_000


def test_fixings_and_values_are_restored(tiny):
    toml = write_run(tiny.root)
    dataset, sets = validate_run(toml)
    plan_model = build_model(sets, dataset.config)
    solver = make_solver(dataset.config.solver)
    solver.solve(plan_model)
    integers = plan_model.variables[MODULES] + plan_model.variables[FIRST]
    before = [(v.fixed, v.value) for v in plan_model.columns]
    shadow = shadow_prices(plan_model, dataset.config, NOTHING_SPENT, solver)
    assert shadow is not None
    assert [(v.fixed, v.value) for v in plan_model.columns] == before
    assert not any(v.fixed for v in integers)
    plan_model.fix_openings(0)  # do nothing: fixed stays fixed
    shadow_prices(plan_model, dataset.config, NOTHING_SPENT, DirectHighs(dataset.config.solver))
    assert all(v.fixed and v.value == 0 for v in integers)


def test_budget_value_sign_and_scale():
    """A budget row's dual is d(£k)/d(£k): −0.25 means £1m more saves £250,000."""
    import numpy as np

    from sufficiency.solve.shadow import budget_values

    class Config:
        capital_budget = {2026: 4e6, 2027: 1e6}

    table = budget_values(Config(), pd.Series({2026: 3.5e6}), object(),
                          np.array([-0.25, -1e-12]), np.array([False, False]))
    assert table["value_per_million_pv"].tolist() == [250_000, 0]
    assert table["headroom"].tolist() == [500_000, 1_000_000]


def test_same_prices_through_pyomos_own_interface(base, tmp_path):
    """With `matrix_constraints = false` the run solves through Pyomo; prices come the same."""
    toml = write_run(tmp_path)
    toml.write_text(toml.read_text() + "\n[formulation]\nmatrix_constraints = false\n")
    run = run_plan(toml, replan_budget=True)
    assert run.shadow.places.equals(base.shadow.places)
    duals = ["capital_year", "budget", "spent", "headroom", "value_per_million_pv"]
    assert run.shadow.budget[duals].equals(base.shadow.budget[duals])
    # re-planning needs the direct hand-over's HiGHS model: not available through Pyomo's
    assert run.shadow.budget["value_per_million_replanned_pv"].isna().all()


def test_budget_replans_stop_after_replan_seconds(tiny, monkeypatch):
    """Each budget re-plan runs HiGHS with REPLAN_SECONDS as its limit, not the run's."""
    from sufficiency.solve.shadow import REPLAN_SECONDS, budget_value_by_resolve

    dataset, sets = validate_run(write_run(tiny.root))
    plan_model = build_model(sets, dataset.config)
    solver = make_solver(dataset.config.solver)
    report = solver.solve(plan_model)
    limits = []
    run = solver.run
    monkeypatch.setattr(solver, "run", lambda limit=None: (limits.append(limit), run(limit)))
    budget = pd.DataFrame({"headroom": [0.0]})
    budget_value_by_resolve(plan_model, solver, dataset.config, budget, report.objective)
    assert limits == [min(dataset.config.solver.time_limit_s, REPLAN_SECONDS)]
    assert solver.highs.getOptionValue("time_limit")[1] == dataset.config.solver.time_limit_s


def _two_budget_years(root: Path, extra: dict[int, float]) -> Path:
    """NEW may open 4 modules of 4 places (£100k each, no lead time); £100k in each FY."""
    budget = {year: 100_000 + extra.get(year, 0.0) for year in (2026, 2027)}
    return TinyRun(root).write(
        toml=run_toml(years=2, rate=RATE, independent=INDEPENDENT, budget=budget),
        demand=["A,ASD,primary,2026,20", "A,ASD,primary,2027,20"],
        provision=[option("SP", "S1", existing=5, cost=LOCAL, commissioned=COMMISSIONED),
                   option("NEW", "S1", module=4, max_modules=4, capital=100_000, cost=LOCAL,
                          commissioned=COMMISSIONED)])


def test_budget_replans_on_both_cores_equal_the_serial_ones_and_brute_force(tmp_path,
                                                                           monkeypatch):
    """Two binding budget years: 2026's re-plan runs here, 2027's in the forked child. Each
    value equals re-running the whole plan with £1m more in that year, and the serial
    values."""
    from sufficiency.solve import shadow

    base = run_plan(_two_budget_years(tmp_path / "base", {}), replan_budget=True)
    forked = base.shadow.budget.set_index("capital_year")["value_per_million_replanned_pv"]
    assert list(forked.index) == [2026, 2027]
    for year in (2026, 2027):
        more = run_plan(_two_budget_years(tmp_path / str(year), {year: 1_000_000}))
        assert forked[year] == pytest.approx(base.optimal.total_cost - more.optimal.total_cost,
                                             abs=1.0)
        assert forked[year] > 1_000

    monkeypatch.setattr(shadow, "Forked", NoSecondCore)
    serial = run_plan(_two_budget_years(tmp_path / "serial", {}), replan_budget=True)
    assert serial.shadow.budget["value_per_million_replanned_pv"].tolist() == forked.tolist()
