"""Residual-capacity cuts: a stronger lower bound than the LP relaxation's, for time-limited runs.

At scale XL HiGHS's own root LP does not finish in what the start leaves of the time limit,
so the bound a run reports is the LP relaxation's (:mod:`sufficiency.solve.rounding`). These cuts,
added to that LP and re-solved from its basis, raise the bound (measured at XL: +£0.47 m in
ten rounds), so the reported gap is smaller and still proven.

For an option o, a year t and a set S of its placements that year: D_S is the pupils of
their demand cells, E and MP the option's places before any module opens and per module
(both with its soft capacity), y the modules open by t (an integer). Every plan has
x_S ≤ D_S and x_S ≤ E + MP·y (ramp-up only lowers the capacity). With b = D_S − E > 0,
η = ⌈b / MP⌉ and r = b − MP·(η − 1), in (0, MP]:

    x_S − r·y ≤ D_S − r·η

(the residual capacity inequality). Valid: for y ≥ η the right side is at least D_S; for
y ≤ η − 1, E + MP·y ≤ D_S − r·(η − y) because (MP − r)·y ≤ (MP − r)·(η − 1). The LP
relaxation breaks it when it opens a fraction of the module that only part-fills.

Separation, per (o, t): placements in order of unused demand d − x (the fullest first),
the prefix that breaks the inequality most.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
import pandas as pd

from sufficiency.formulation import OPENED, PlanModel, X
from sufficiency.solve.highs import HighsClock
from sufficiency.tolerances import CUT_CEILING, CUT_MIN_GAIN_REL, CUT_SAFETY

MIN_VIOLATION = 1e-4  # pupils: weaker violations are not worth a row
MAX_ROUNDS = 20


@dataclass(frozen=True)
class CutRows:
    """Cuts as CSR rows over the model's columns: Σ coef·column ≤ upper."""

    starts: np.ndarray
    index: np.ndarray
    value: np.ndarray
    upper: np.ndarray

    @property
    def count(self) -> int:
        """Number of cuts."""
        return len(self.upper)


def cut_candidates(plan_model: PlanModel, soft_share: np.ndarray) -> pd.DataFrame:
    """Placements whose option can open modules that year, with what separation needs.

    Columns: ``i`` (placement), ``k`` (its ``opened`` variable), ``d`` (pupils of its
    cell), ``places`` (E) and ``module`` (MP), both with the soft capacity ``soft_share``
    (per option) added. Options that cannot open that year have no integer to cut with.
    """
    sets = plan_model.sets
    p = sets.placements.reset_index(names="i")[["i", "o", "year", "cell"]]
    p = p.assign(k=sets.opened_index(p))
    p = p[p["k"] >= 0]
    share = 1.0 + soft_share[p["o"]]
    options = sets.options
    return pd.DataFrame({
        "i": p["i"].to_numpy(),
        "k": p["k"].to_numpy(),
        "d": sets.cells["pupils"].to_numpy(float)[p["cell"]],
        "places": options["existing_places"].to_numpy(float)[p["o"]] * share,
        "module": options["module_places"].to_numpy(float)[p["o"]] * share,
    })


def separate(candidates: pd.DataFrame, placed: np.ndarray, opened: np.ndarray,
             offsets: dict[str, int]) -> CutRows:
    """The most violated residual-capacity cut of each (option, year), as rows.

    ``placed`` and ``opened``: the LP's values of the ``x`` and ``opened`` families.
    """
    c = candidates.assign(x=placed[candidates["i"]], y=opened[candidates["k"]])
    c = c.assign(unused=c["d"] - c["x"]).sort_values(["k", "unused", "i"], kind="stable")
    group = c.groupby("k", sort=False)
    demand, used = group["d"].cumsum(), group["x"].cumsum()
    b = demand - c["places"]
    eta = np.ceil(b / c["module"] - CUT_CEILING)
    r = np.minimum(b - c["module"] * (eta - 1), c["module"])
    violation = (used - r * c["y"] - (demand - r * eta)).where(b > CUT_CEILING, -np.inf)
    c = c.assign(violation=violation, r=r, rhs=demand - r * eta + CUT_SAFETY,
                 position=group.cumcount())
    best = c.loc[c.groupby("k", sort=False)["violation"].idxmax()]
    best = best[best["violation"] > MIN_VIOLATION].sort_values("k")
    size = best["position"].to_numpy() + 1
    members = c.merge(best[["k", "position"]].rename(columns={"position": "last"}), on="k")
    members = members[members["position"] <= members["last"]].sort_values(["k", "position"])
    starts = np.concatenate([[0], np.cumsum(size + 1)])
    index = np.empty(starts[-1], dtype=np.int32)
    value = np.ones(starts[-1])
    ends = starts[1:] - 1  # each row's last entry is its opened column
    in_row = np.ones(starts[-1], dtype=bool)
    in_row[ends] = False
    index[in_row] = offsets[X] + members["i"].to_numpy()
    index[ends] = offsets[OPENED] + best["k"].to_numpy()
    value[ends] = -best["r"].to_numpy()
    return CutRows(starts[:-1], index, value, best["rhs"].to_numpy())


def strengthen(highs: highspy.Highs, plan_model: PlanModel, soft_share: np.ndarray,
               clock: HighsClock, seconds: float) -> float | None:
    """Add cut rounds to the solved LP in ``highs``; return the raised bound (£k) or None.

    ``highs`` holds the LP relaxation, solved. Rounds stop when none is violated, the gain
    is negligible, or ``seconds`` of LP are spent (each round's HiGHS time limit is what is
    left); the bound returned is the last LP solved to optimality (valid even if a later
    round ran out of time). ``clock`` gets HiGHS's seconds. None if ``highs`` does not
    hold an optimal LP.
    """
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    bound = highs.getInfo().objective_function_value
    candidates = cut_candidates(plan_model, soft_share)
    offsets = plan_model.offsets
    n_placed = len(plan_model.variables[X])
    n_opened = len(plan_model.variables[OPENED])
    started = clock.seconds
    for _ in range(MAX_ROUNDS):
        values = np.asarray(highs.getSolution().col_value)
        cuts = separate(candidates, values[offsets[X]:offsets[X] + n_placed],
                        values[offsets[OPENED]:offsets[OPENED] + n_opened], offsets)
        if not cuts.count or clock.seconds - started > seconds:
            break
        highs.addRows(cuts.count, np.full(cuts.count, -highspy.kHighsInf), cuts.upper,
                      len(cuts.index), cuts.starts, cuts.index, cuts.value)
        clock.run(highs, max(seconds - (clock.seconds - started), 1.0))
        if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            break
        raised = highs.getInfo().objective_function_value
        gain, bound = raised - bound, max(bound, raised)
        if gain <= CUT_MIN_GAIN_REL * abs(bound):
            break
    return bound
