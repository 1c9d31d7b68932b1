"""A first plan from the LP relaxation, handed to HiGHS as its MIP start.

HiGHS's own heuristics find no plan within 0.5 % of the bound in two minutes at scale L
(measured: README "Performance"). This rounds the relaxation's openings instead: solve
the LP relaxation (interior point, no crossover), round each option's modules open by
each year up from a threshold, drop modules until every capital budget year is kept,
then place the pupils by LP with those openings fixed. The best of a few thresholds
is the start; the pipeline keeps do nothing when that is cheaper. A heuristic only:
HiGHS still proves the optimum, and the plan reported is always HiGHS's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import highspy
import numpy as np
import pandas as pd

from sufficiency.formulation import PlanModel
from sufficiency.formulation.blocks import (
    FIRST,
    MODULES,
    MONEY_SCALE,
    OPENED,
    first_slots,
    opened_years,
)
from sufficiency.solve import quiet_highs

THRESHOLDS = (0.5, 0.35)  # round a fractional module up from this share (measured at L)
RELAXATION_LIMIT_SHARE = 0.4  # of the run's time limit, at most, for the LP relaxation
_TOLERANCE = 1e-6


@dataclass(frozen=True)
class RoundedStart:
    """A feasible plan: one value per column (model column order) and its cost (£k)."""

    values: np.ndarray
    objective: float
    threshold: float


@dataclass(frozen=True)
class Openings:
    """Integer openings: modules per open slot, first (0/1) per fixed-capital slot."""

    modules: np.ndarray
    first: np.ndarray


def _highs(lp: highspy.HighsLp, options: dict, extra: dict) -> highspy.Highs:
    highs = quiet_highs()
    for key, value in {**options, **extra}.items():
        highs.setOptionValue(key, value)
    highs.passModel(lp)
    return highs


def _run(highs: highspy.Highs, clock: list[float]) -> None:
    """Run HiGHS, adding its seconds to ``clock[0]`` (the benchmark books them as HiGHS's)."""
    started = time.perf_counter()
    highs.run()
    clock[0] += time.perf_counter() - started


def relaxation_opened(plan_model: PlanModel, lp: highspy.HighsLp, options: dict,
                      clock: list[float]) -> np.ndarray | None:
    """Modules open by each (option, year) in the LP relaxation (``opened``), or None."""
    limit = options.get("time_limit", np.inf) * RELAXATION_LIMIT_SHARE  # else no start
    highs = _highs(lp, options, {"solver": "ipm", "run_crossover": "off", "time_limit": limit})
    _run(highs, clock)
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    start = plan_model.offsets[OPENED]
    values = np.asarray(highs.getSolution().col_value)
    return values[start:start + len(plan_model.variables[OPENED])]


def rounded_openings(plan_model: PlanModel, opened: np.ndarray, threshold: float) -> Openings:
    """Round modules open by each year up from ``threshold``; never fewer than the year before."""
    grid = opened_years(plan_model.sets)
    rounded = pd.Series(np.floor(opened + 1.0 - threshold + _TOLERANCE))
    max_modules = plan_model.sets.options["max_modules"].to_numpy(float)
    rounded = rounded.groupby(grid["o"]).cummax().clip(upper=max_modules[grid["o"]])
    return _with_first(plan_model, _new_per_slot(plan_model, rounded.to_numpy()))


def _new_per_slot(plan_model: PlanModel, open_by_year: np.ndarray) -> np.ndarray:
    """Modules opened in each open slot, from modules open by each (option, year)."""
    grid = opened_years(plan_model.sets).assign(open=open_by_year)
    grid["new"] = grid.groupby("o")["open"].diff().fillna(grid["open"])
    slots = plan_model.sets.open_slots.merge(grid[["o", "year", "new"]], on=["o", "year"],
                                             how="left")
    return slots["new"].fillna(0.0).to_numpy()


def _with_first(plan_model: PlanModel, modules: np.ndarray) -> Openings:
    """The fixed capital goes with each option's first module."""
    slots = plan_model.sets.open_slots
    opening_year = slots[modules > 0].groupby("o")["year"].min()
    firsts = first_slots(plan_model.sets)
    first = (firsts["year"].to_numpy() == firsts["o"].map(opening_year).to_numpy())
    return Openings(modules, first.astype(float))


def _spend_by_year(plan_model: PlanModel, openings: Openings,
                   budget_years: list[int]) -> np.ndarray:
    """Capital (£k) spent in each budget year by ``openings``."""
    sets = plan_model.sets
    options = sets.options
    slots, firsts = sets.open_slots, first_slots(sets)
    year_index = pd.Index(budget_years)
    per_module = options["capital_cost_per_module"].to_numpy(float)[slots["o"]] / MONEY_SCALE
    fixed = options["fixed_capital_cost"].to_numpy(float)[firsts["o"]] / MONEY_SCALE
    spend = np.zeros(len(budget_years))
    for years, amounts in ((slots["capital_year"], per_module * openings.modules),
                           (firsts["capital_year"], fixed * openings.first)):
        where = year_index.get_indexer(years)
        inside = where >= 0
        np.add.at(spend, where[inside], amounts[inside])
    return spend


def keep_budget(plan_model: PlanModel, openings: Openings, support: np.ndarray,
                budget_gbp: dict[int, float]) -> Openings:
    """Drop modules, least supported by the LP first, until every budget year is kept.

    ``support``: the LP's modules per slot. Dropping a first module moves the fixed
    capital to the option's next module, so the loop checks every year again.
    """
    if not budget_gbp:
        return openings
    years = sorted(budget_gbp)
    limit = np.array([budget_gbp[y] for y in years]) / MONEY_SCALE
    capital_year = plan_model.sets.open_slots["capital_year"].to_numpy()
    modules = openings.modules.copy()
    while True:
        over = np.flatnonzero(_spend_by_year(plan_model, openings, years) > limit + _TOLERANCE)
        if not len(over):
            return openings
        candidates = np.flatnonzero((capital_year == years[over[0]]) & (modules > 0))
        drop = candidates[np.lexsort((-candidates, support[candidates]))[0]]
        modules[drop] -= 1
        openings = _with_first(plan_model, modules.copy())


def place_pupils(highs: highspy.Highs, plan_model: PlanModel, lower: np.ndarray,
                 upper: np.ndarray, openings: Openings,
                 clock: list[float]) -> tuple[float, np.ndarray] | None:
    """Solve the LP with the openings fixed: (cost £k, column values), or None if infeasible."""
    offsets = plan_model.offsets
    lower, upper = lower.copy(), upper.copy()
    for family, values in ((MODULES, openings.modules), (FIRST, openings.first)):
        span = slice(offsets[family], offsets[family] + len(values))
        lower[span] = upper[span] = values
    highs.changeColsBounds(len(lower), np.arange(len(lower), dtype=np.int32), lower, upper)
    _run(highs, clock)
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return highs.getInfo().objective_function_value, np.asarray(highs.getSolution().col_value)


def rounding_start(plan_model: PlanModel, lp: highspy.HighsLp, options: dict,
                   budget_gbp: dict[int, float]) -> tuple[RoundedStart | None, float]:
    """The cheapest rounded plan over :data:`THRESHOLDS` and HiGHS's seconds on its LPs.

    The plan is None when no threshold gives a feasible one. ``lp``: the model as handed
    to HiGHS with the openings free; ``options``: the run's HiGHS options (threads, seed,
    time limit).
    """
    lp.integrality_ = []
    clock = [0.0]
    opened = relaxation_opened(plan_model, lp, options, clock)
    if opened is None:
        return None, clock[0]
    best: RoundedStart | None = None
    highs = _highs(lp, options, {})
    lower, upper = np.asarray(lp.col_lower_), np.asarray(lp.col_upper_)
    support = _new_per_slot(plan_model, opened)  # how strongly the LP wants each module
    for threshold in THRESHOLDS:
        openings = keep_budget(plan_model, rounded_openings(plan_model, opened, threshold),
                               support, budget_gbp)
        placed = place_pupils(highs, plan_model, lower, upper, openings, clock)
        if placed is not None and (best is None or placed[0] < best.objective - _TOLERANCE):
            best = RoundedStart(placed[1], placed[0], threshold)
    return best, clock[0]

