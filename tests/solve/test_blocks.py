"""Solving an LP year by year when its years meet only through fixed columns.

The hand-built LP: two years of one need, each with a demand row (pupils ≥ d) and a
capacity row at the local option (local − 2·modules ≤ existing); ``modules`` is fixed
at 1 (the plan's opening), costs are £k per pupil: local 1, independent 5, a module 10.
By hand: 2026 places 2 locally and 1 independently (2 + 5 = 7); 2027 has 1 + 2 local
places, so 3 locally and 1 independently (3 + 5 = 8); with the module, 25. Each demand
row's dual is 5 (one more pupil goes independent), each capacity row's −4 (one more
place saves 5 − 1).
"""

from __future__ import annotations

import highspy
import numpy as np
import pytest
from conftest import TinyRun, option, run_toml

from sufficiency.forked import Forked, can_fork
from sufficiency.formulation import FIRST, MODULES, build_model
from sufficiency.pipeline import validate_run
from sufficiency.solve import DirectHighs, blocks
from sufficiency.solve.blocks import solve_by_blocks, split_rows
from sufficiency.solve.highs import quiet_highs

INF = highspy.kHighsInf
# columns: local26, indep26, local27, indep27, modules (fixed at 1)
YEARS = np.array([2026, 2026, 2027, 2027, 2026])
ROWS = [  # (lower, upper, {column: coefficient})
    (3, INF, {0: 1, 1: 1}),  # demand 2026
    (-INF, 2, {0: 1}),  # capacity 2026
    (4, INF, {2: 1, 3: 1}),  # demand 2027
    (-INF, 1, {2: 1, 4: -2}),  # capacity 2027: 1 existing + 2 per module
    (-INF, 1, {4: 1}),  # at most one module: fixed columns only
]


def hand_lp(rows=ROWS, modules: float = 1.0, costs=(1, 5, 1, 5, 10)) -> highspy.HighsLp:
    """The LP of the module docstring, row-wise, with ``modules`` fixed."""
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(costs), len(rows)
    lp.col_cost_ = np.array(costs, dtype=float)
    lp.col_lower_ = np.array([0, 0, 0, 0, modules], dtype=float)
    lp.col_upper_ = np.array([INF, INF, INF, INF, modules], dtype=float)
    lp.row_lower_ = np.array([r[0] for r in rows], dtype=float)
    lp.row_upper_ = np.array([r[1] for r in rows], dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.cumsum([0] + [len(r[2]) for r in rows]).astype(np.int32)
    lp.a_matrix_.index_ = np.array([c for r in rows for c in r[2]], dtype=np.int32)
    lp.a_matrix_.value_ = np.array([v for r in rows for v in r[2].values()], dtype=float)
    return lp


def one_thread() -> highspy.Highs:
    """A quiet HiGHS with one thread, as the runs have (its scheduler keeps the first count)."""
    highs = quiet_highs()
    highs.setOptionValue("threads", 1)
    return highs


def whole(lp: highspy.HighsLp) -> tuple[float, np.ndarray]:
    highs = one_thread()
    highs.passModel(lp)
    highs.run()
    return highs.getInfo().objective_function_value, np.asarray(highs.getSolution().row_dual)


def test_year_by_year_gives_the_hand_optimum_and_duals():
    lp = hand_lp()
    split = split_rows(lp, YEARS)
    assert split is not None
    solved = solve_by_blocks(lp, YEARS, split, one_thread)
    assert solved is not None
    assert solved.objective == pytest.approx(25.0)
    assert solved.row_dual == pytest.approx([5, -4, 5, -4, 0])
    objective, duals = whole(lp)
    assert solved.objective == pytest.approx(objective)
    assert solved.row_dual == pytest.approx(duals)


class SpyForked(Forked):
    """A :class:`Forked` that remembers whether its job ran in a child."""

    started_jobs: list[bool] = []

    def __init__(self, job, *, wanted=True):
        super().__init__(job, wanted=wanted)
        SpyForked.started_jobs.append(self.started)


@pytest.mark.skipif(not can_fork(), reason="no fork on this platform")
def test_blocks_on_both_cores_give_the_same_bits(monkeypatch):
    """2027 (half of the terms) is solved in a forked child; the answer is the serial one."""
    monkeypatch.setattr(blocks, "Forked", SpyForked)
    SpyForked.started_jobs = []
    lp = hand_lp()
    split = split_rows(lp, YEARS)
    serial = solve_by_blocks(lp, YEARS, split, one_thread)
    beside = solve_by_blocks(lp, YEARS, split, one_thread, beside=True)
    assert SpyForked.started_jobs == [False, True]
    assert serial is not None and beside is not None
    assert beside.objective == serial.objective == pytest.approx(25.0)
    assert np.array_equal(beside.row_dual, serial.row_dual)


def test_an_infeasible_year_on_the_second_core_has_no_optimum():
    """2026 has fewer terms than 2027, so the child solves it: 3 pupils, 2 places, no other."""
    rows = [(3, INF, {0: 1}), *ROWS[1:]]
    lp = hand_lp(rows)
    assert solve_by_blocks(lp, YEARS, split_rows(lp, YEARS), one_thread, beside=True) is None
    assert blocks._halves(np.array([2026, 2027]), split_rows(lp, YEARS)) == ([2027], [2026])


def test_a_row_across_two_years_means_no_split():
    sticky = [*ROWS, (0, INF, {2: 1, 0: -0.5})]  # 2027 keeps half of 2026's local pupils
    assert split_rows(hand_lp(sticky), YEARS) is None


def test_a_row_across_years_through_fixed_columns_only_still_splits():
    """The 2027 capacity row names the 2026 module: fixed, so it is not a link."""
    assert split_rows(hand_lp(), YEARS) is not None
    assert split_rows(hand_lp(modules=0.0), np.array([2026, 2026, 2027, 2027, 2027])) is not None


def test_a_year_with_columns_and_no_rows_still_counts_its_cost():
    lp = hand_lp()
    lp.num_col_ = 6
    lp.col_cost_ = np.append(lp.col_cost_, 3.0)
    lp.col_lower_ = np.append(lp.col_lower_, 2.0)
    lp.col_upper_ = np.append(lp.col_upper_, 5.0)
    years = np.append(YEARS, 2028)
    solved = solve_by_blocks(lp, years, split_rows(lp, years), one_thread)
    assert solved is not None
    assert solved.objective == pytest.approx(25.0 + 6.0)


def test_a_row_of_fixed_columns_out_of_its_bounds_has_no_optimum():
    lp = hand_lp(modules=2.0)  # two modules break "at most one"
    assert solve_by_blocks(lp, YEARS, split_rows(lp, YEARS), one_thread) is None


def test_an_infeasible_year_has_no_optimum():
    rows = [*ROWS, (-INF, 3, {2: 1, 3: 1})]  # 2027: at most 3 pupils, but 4 need a place
    lp = hand_lp(rows)
    assert solve_by_blocks(lp, YEARS, split_rows(lp, YEARS), one_thread) is None


def test_plan_prices_by_year_equal_the_whole_lp(tmp_path):
    """On a plan model with its openings fixed: the same objective and duals either way."""
    toml = TinyRun(tmp_path).write(
        toml=run_toml(years=3, rate=0.05, budget={2026: 200_000}),
        demand=["A,ASD,primary,2026,20", "A,ASD,primary,2027,22", "A,ASD,primary,2028,25"],
        provision=[option("SP", "S1", existing=5, cost=20_000),
                   option("NEW", "S1", existing=0, module=4, max_modules=2, capital=100_000,
                          cost=20_000)])
    dataset, sets = validate_run(toml)
    plan_model = build_model(sets, dataset.config)
    solver = DirectHighs(dataset.config.solver)
    solver.solve(plan_model)  # NEW opens: the plan's openings are then fixed
    for var in plan_model.variables[MODULES] + plan_model.variables[FIRST]:
        var.fix(round(var.value))
    assert sum(var.value for var in plan_model.variables[MODULES]) > 0
    years = plan_model.column_years(dataset.config.placement_rules.soft_capacity)
    assert split_rows(solver.lp(plan_model), years) is not None
    by_year, all_at_once = solver.solve_lp_duals(plan_model, years), solver.solve_lp_duals(
        plan_model)
    assert by_year is not None and all_at_once is not None
    assert by_year[0] == pytest.approx(all_at_once[0])
    assert by_year[1] == pytest.approx(all_at_once[1])


def test_sticky_cohorts_tie_the_years(tmp_path):
    toml = TinyRun(tmp_path).write(
        toml=run_toml(years=2, extra='\n[placements]\nmodel = "sticky"\n'),
        demand=["A,ASD,primary,2026,20", "A,ASD,primary,2027,20"],
        provision=[option("SP", "S1", existing=5, cost=20_000)])
    dataset, sets = validate_run(toml)
    plan_model = build_model(sets, dataset.config)
    years = plan_model.column_years(dataset.config.placement_rules.soft_capacity)
    solver = DirectHighs(dataset.config.solver)
    assert split_rows(solver.lp(plan_model), years) is None
    assert solver.solve_lp_duals(plan_model, years) is not None  # the whole LP instead

