"""Shadow prices of a solved plan: duals of the LP with every integer decision fixed.

After the optimal MILP solve, every integer variable (``modules``, ``first``) is fixed at its
optimal value and the remaining LP (placements, independent placements, modules open by
year) is solved again with HiGHS, one LP per year unless sticky cohorts tie the years
(:mod:`sufficiency.solve.blocks`). Its row duals answer two questions for the plan *as
phased*:

- **one more place** at option o in academic year t: −dual of the capacity row (o, t), the
  £ by which the discounted total cost would fall (``value_pv``), and the same in that
  year's money (``value_in_year`` = value_pv / δ_t). It is the saving of moving one more
  pupil into a place there, before that place's own commissioning cost;
- **£1m more capital budget** in financial year b: −dual of the capital budget row b × 1e6.
  With the openings fixed, every variable of a budget row is fixed, so extra capital buys
  nothing at the margin: this value is £0 by construction (it is reported, with the
  headroom, because a cabinet report is asked for it). A larger budget pays off in steps of
  whole modules, which these duals cannot see; the value of one more place at an option
  that could still expand shows where such a step would pay.

Duals are marginal: they hold for small changes around the plan, and where the LP is
degenerate (a capacity exactly full) HiGHS reports one of several valid values. Model money
is £k (:data:`~sufficiency.formulation.MONEY_SCALE`); values here are £.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import highspy
import numpy as np
import pandas as pd
from pyomo.core.base.var import VarData

from sufficiency.forked import Forked
from sufficiency.formulation import FIRST, MODULES, MONEY_SCALE, PlanModel, RowBlock
from sufficiency.outcome import BUDGET_COLUMNS, PLACE_COLUMNS, ShadowPrices
from sufficiency.preprocess.config import RunConfig
from sufficiency.solve.direct import DirectHighs
from sufficiency.solve.highs import SOLUTION_FEASIBLE
from sufficiency.tolerances import DUAL_ZERO

if TYPE_CHECKING:  # the protocol only: the package face imports this module's siblings
    from sufficiency.solve import Solver

CAPACITY, BUDGET = "capacity", "capital_budget"
REPLAN_SECONDS = 30.0  # at most this long per re-planned budget year
MILLION = 1e6  # £: the budget step priced
SPENT_HEADROOM = 1.0  # £: a budget year with at most this headroom is spent, so re-planned


def _fix_integers(plan_model: PlanModel) -> list[tuple[VarData, bool, float | None]]:
    """Fix every integer variable at its rounded value; return what to restore."""
    saved = []
    for var in plan_model.variables[MODULES] + plan_model.variables[FIRST]:
        saved.append((var, var.fixed, var.value))
        var.fix(float(np.rint(var.value or 0.0)))
    return saved


def _restore(saved: list[tuple[VarData, bool, float | None]]) -> None:
    """Put back each variable's value and fixing as they were before the LP."""
    for var, fixed, value in saved:
        var.set_value(value, skip_validation=True)
        if fixed:
            var.fix()
        else:
            var.unfix()


def _block_duals(plan_model: PlanModel, duals: np.ndarray) -> dict[str, tuple[RowBlock,
                                                                               np.ndarray]]:
    """Each constraint family's block and its slice of the row duals (rows in block order)."""
    out, start = {}, 0
    for block in plan_model.blocks:
        out[block.name] = (block, duals[start:start + block.rows])
        start += block.rows
    if start != len(duals):
        raise ValueError(f"{len(duals)} duals for {start} rows")
    return out


def _all_fixed_rows(block: RowBlock, plan_model: PlanModel) -> np.ndarray:
    """Rows whose every variable is fixed: a constant row, whose marginal value is 0."""
    fixed = np.array([var.fixed for var in plan_model.columns])
    offsets = plan_model.offsets
    columns = block.terms["index"].to_numpy() + block.terms["family"].map(offsets).to_numpy()
    free = pd.Series(~fixed[columns]).groupby(block.terms["row"].to_numpy()).any()
    return ~free.reindex(range(block.rows), fill_value=False).to_numpy()


def place_values(plan_model: PlanModel, config: RunConfig, block: RowBlock,
                 duals: np.ndarray) -> pd.DataFrame:
    """£ saved by one more place at each (option, AY) with a capacity row."""
    sets = plan_model.sets
    rows = sets.capacity_rows.reset_index(drop=True)
    if len(rows) != block.rows:
        raise ValueError(f"capacity rows: {len(rows)} in the sets, {block.rows} in the model")
    options = sets.options.reset_index(drop=True)
    o = rows["o"].to_numpy()
    value_pv = np.where(np.abs(duals) < DUAL_ZERO, 0.0, -duals) * MONEY_SCALE
    factor = np.array([config.discount_factor(int(y)) for y in rows["year"]])
    return pd.DataFrame({
        "option_id": options["option_id"].to_numpy()[o],
        "site_id": options["site_id"].to_numpy()[o],
        "kind": options["kind"].to_numpy()[o],
        "year": rows["year"].to_numpy().astype("int64"),
        "value_pv": np.round(value_pv + 0.0, 2),
        "value_in_year": np.round(value_pv / factor + 0.0, 2),
    })[PLACE_COLUMNS]


def budget_values(config: RunConfig, spent: pd.Series, block: RowBlock | None,
                  duals: np.ndarray | None, constant: np.ndarray | None) -> pd.DataFrame:
    """£ (discounted) saved by £1m more capital budget in each budget year (FY)."""
    years = sorted(config.capital_budget)
    values = np.zeros(len(years))
    if block is not None and duals is not None:
        values = np.where((np.abs(duals) < DUAL_ZERO) | constant, 0.0, -duals) * MILLION
    budget = np.array([config.capital_budget[y] for y in years], dtype=float)
    used = np.array([float(spent.get(y, 0.0)) for y in years])
    return pd.DataFrame({
        "capital_year": np.array(years, dtype="int64"),
        "budget": budget,
        "spent": np.round(used, 2),
        "headroom": np.round(budget - used, 2),
        "value_per_million_pv": np.round(values + 0.0, 2),
        "value_per_million_replanned_pv": np.full(len(years), np.nan),  # re-plans: extras
    })[BUDGET_COLUMNS]


def shadow_prices(plan_model: PlanModel, config: RunConfig, spent_by_year: pd.Series,
                  solver: Solver | None = None) -> ShadowPrices | None:
    """Fix the integer decisions at the plan loaded in ``plan_model``, solve the LP, price.

    ``spent_by_year``: capital cash £ of the plan by financial year, for the headroom: the
    budget rows' own view (spend profile and construction inflation followed;
    :func:`sufficiency.preprocess.capital.cash_by_year`).
    ``solver``: the run's solver, used when it is a :class:`DirectHighs` (one is made from
    the run's solver settings otherwise). The Pyomo variables' values and fixings are
    restored. Returns None when the LP has no optimal dual solution.
    """
    direct = solver if isinstance(solver, DirectHighs) else DirectHighs(config.solver)
    saved = _fix_integers(plan_model)
    try:
        years = plan_model.column_years(config.placement_rules.soft_capacity)
        solved = direct.solve_lp_duals(plan_model, years)  # year by year without sticky rows
        if solved is None:
            return None
        objective, duals = solved
        blocks = _block_duals(plan_model, duals)
        places = (place_values(plan_model, config, *blocks[CAPACITY]) if CAPACITY in blocks
                  else pd.DataFrame(columns=PLACE_COLUMNS))
        budget_block, budget_duals = blocks.get(BUDGET, (None, None))
        constant = (None if budget_block is None
                    else _all_fixed_rows(budget_block, plan_model))
        budget = budget_values(config, spent_by_year, budget_block, budget_duals, constant)
    finally:
        _restore(saved)
    return ShadowPrices(places, budget, round(objective * MONEY_SCALE, 2))


def budget_value_by_resolve(plan_model: PlanModel, solver: Solver, config: RunConfig,
                            budget: pd.DataFrame, optimum: float) -> np.ndarray:
    """£ (present value) saved by £1m more capital in each budget year, by re-planning.

    The duals cannot price capital (every term of a budget row is an opening), so each
    budget year that is spent to the last pound is relaxed by £1m in turn and the MIP
    re-solved, warm-started from the optimum (still feasible, so the value is never
    negative); years with headroom are worth £0. Accurate to the run's MIP gap; each
    re-solve stops after ``REPLAN_SECONDS`` (then the value is a lower bound). Switch off
    with ``[solver] price_budget = false``.
    Needs the direct hand-over (``DirectHighs`` holding the solved model); NaN otherwise.
    """
    if not isinstance(solver, DirectHighs) or solver.highs is None:
        return np.full(len(budget), np.nan)
    solver.use_start(plan_model)  # bounds synced with the Pyomo model once, not per year
    optimum_values = np.array([var.value or 0.0 for var in plan_model.columns])
    spent = [int(r) for r in np.flatnonzero(budget["headroom"].to_numpy() <= SPENT_HEADROOM)]
    row = _budget_row_offset(plan_model)

    def replan(years: list[int]) -> list[float]:
        return [_replan_with_a_million_more(solver, row + r, optimum_values, optimum,
                                            config.solver.time_limit_s) for r in years]

    # independent re-solves (each HiGHS run starts cleared): every second one on the second
    # core when HiGHS has one thread (sufficiency.forked); the same values either way
    theirs = Forked(lambda: replan(spent[1::2]),
                    wanted=len(spent) > 1 and config.solver.threads == 1)
    try:
        ours = replan(spent[0::2])
        odd = theirs.result()
    finally:
        theirs.stop()
    values = np.zeros(len(budget))
    values[spent[0::2]], values[spent[1::2]] = ours, odd
    return np.round(values, 2)


def _replan_with_a_million_more(solver: DirectHighs, row: int, optimum_values: np.ndarray,
                                optimum: float, time_limit_s: float) -> float:
    """£ saved by £1m more in one budget row (NaN when no plan is found); the row restored."""
    highs = solver.highs
    assert highs is not None
    upper = highs.getLp().row_upper_[row]
    highs.changeRowBounds(row, -highspy.kHighsInf, upper + MILLION / MONEY_SCALE)
    try:
        solver.set_start(optimum_values)
        solver.run(min(time_limit_s, REPLAN_SECONDS))
        info = highs.getInfo()
        if info.primal_solution_status != SOLUTION_FEASIBLE:
            return float("nan")
        return max(0.0, optimum - info.objective_function_value * MONEY_SCALE)
    finally:
        highs.changeRowBounds(row, -highspy.kHighsInf, upper)


def _budget_row_offset(plan_model: PlanModel) -> int:
    """First row of the capital budget rows in the matrix handed to HiGHS."""
    start = 0
    for block in plan_model.blocks:
        if block.name == BUDGET:
            return start
        start += block.rows
    raise ValueError("the model has no capital budget rows")
