"""The sufficiency gap: pupils who stay independent even with every option built.

Every option opens all its modules (``max_modules``) in its first open slot (its
earliest year, lead time kept), with no capital budget and no delivery limit
(:data:`~sufficiency.formulation.constraints.DELIVERY_ROWS`); every other row of the plan
model stays, sticky cohorts and current placements included when the run has them. The
LP minimises Σ_c u[c], the independent pupils. What remains independent no candidate
site can help: it needs a new site, a new kind of option, or a longer journey. A
continuous LP over the plan model's own matrix (the openings are fixed), so it costs one
LP solve, not a MIP.
"""

from __future__ import annotations

from typing import Any

import highspy
import numpy as np
import pandas as pd

from sufficiency.formulation import FIRST, MODULES, PlanModel, U
from sufficiency.formulation.constraints import DELIVERY_ROWS
from sufficiency.outcome import GAP_ALL_FULL, GAP_NO_OPTION
from sufficiency.solve.direct import highs_lp
from sufficiency.solve.highs import HighsClock, quiet_highs
from sufficiency.tolerances import PUPILS_EXTRACTED

RELAXED_ROWS = ("capital_budget", *DELIVERY_ROWS)  # rows the gap ignores
GAP_COLUMNS = ["area_id", "need", "phase", "year", "pupils", "reason"]
GAP_OPTIONS = ("threads", "random_seed", "time_limit")  # the run's, for the gap LP


def _everything_open(plan_model: PlanModel, lower: np.ndarray, upper: np.ndarray) -> None:
    """Fix every option's modules at its maximum in its first open slot (0 elsewhere)."""
    sets = plan_model.sets
    slots = sets.open_slots.reset_index(names="slot")
    earliest = slots.groupby("o")["slot"].min().to_numpy()
    modules = np.zeros(len(slots))
    modules[earliest] = sets.options["max_modules"].to_numpy(float)[slots["o"].to_numpy()[
        earliest]]
    first = np.isin(sets.first_slots["slot"].to_numpy(), earliest).astype(float)
    for family, values in ((MODULES, modules), (FIRST, first)):
        start = plan_model.offsets[family]
        lower[start:start + len(values)] = upper[start:start + len(values)] = values


def _relax_rows(plan_model: PlanModel, lp: highspy.HighsLp) -> None:
    """Drop the capital budget and the delivery rows (free rows, so the matrix is kept)."""
    row_lower, row_upper = np.asarray(lp.row_lower_).copy(), np.asarray(lp.row_upper_).copy()
    start = 0
    for block in plan_model.blocks:
        if block.name in RELAXED_ROWS:
            row_lower[start:start + block.rows] = -highspy.kHighsInf
            row_upper[start:start + block.rows] = highspy.kHighsInf
        start += block.rows
    lp.row_lower_, lp.row_upper_ = row_lower, row_upper


def independent_with_everything_open(plan_model: PlanModel,
                                     options: dict[str, Any]) -> np.ndarray | None:
    """u[c] per demand cell at the LP's minimum of Σ u, or None if the LP is not solved."""
    lp = highs_lp(plan_model)
    lower, upper = np.asarray(lp.col_lower_).copy(), np.asarray(lp.col_upper_).copy()
    _everything_open(plan_model, lower, upper)
    lp.col_lower_, lp.col_upper_ = lower, upper
    _relax_rows(plan_model, lp)
    cost = np.zeros(lp.num_col_)
    start, count = plan_model.offsets[U], len(plan_model.variables[U])
    cost[start:start + count] = 1.0
    lp.col_cost_, lp.offset_, lp.integrality_ = cost, 0.0, []
    highs = quiet_highs()
    for key in GAP_OPTIONS:
        if key in options:
            highs.setOptionValue(key, options[key])
    highs.passModel(lp)
    HighsClock().run(highs)
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return np.asarray(highs.getSolution().col_value)[start:start + count]


def sufficiency_gap(plan_model: PlanModel, options: dict[str, Any]) -> pd.DataFrame | None:
    """gap.csv: pupils by area × need × phase × year still independent with every option open.

    Each cell's independent pupils are split over its need × phase members in proportion
    to their demand (the model merges interchangeable pairs). ``reason`` says whether any
    option serves the group within the travel limit at all. None when the LP is not
    solved (e.g. independent placement switched off and the demand cannot all be placed).
    """
    independent = independent_with_everything_open(plan_model, options)
    if independent is None:
        return None
    sets = plan_model.sets
    cells = sets.cells.reset_index(names="cell").assign(independent=independent)
    reached = cells["cell"].isin(sets.placements["cell"])
    cells["reason"] = np.where(reached, GAP_ALL_FULL, GAP_NO_OPTION)
    members = sets.member_demand.merge(cells.rename(columns={"pupils": "cell_pupils"}),
                                       on=["area_id", "commodity", "year"])
    members["pupils"] = (members["independent"] * members["pupils"]
                         / members["cell_pupils"]).round(6)
    gap = members[members["pupils"] > PUPILS_EXTRACTED]
    return gap.sort_values(["area_id", "need", "phase", "year"]).reset_index(drop=True)[
        GAP_COLUMNS]
