"""The objective of the planning model: the discounted cost (£k) of one unit of each variable.

Money is in £k inside the model (pitfall: coefficients in £ trip HiGHS's numerics checks).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sufficiency.formulation.matrix import FAMILIES, FIRST, MODULES, OVER, U, X
from sufficiency.formulation.sets import ModelSets
from sufficiency.preprocess.config import RunConfig

MONEY_SCALE = 1_000.0  # £ per model money unit (£k)


@dataclass(frozen=True)
class ObjectiveCoefficients:
    """Discounted cost (£k) of one unit of each variable, and the constant part."""

    x: np.ndarray
    u: np.ndarray
    modules: np.ndarray
    first: np.ndarray
    constant: float
    over: np.ndarray

    @property
    def by_family(self) -> dict[str, np.ndarray]:
        """Coefficients of each costed variable family, in column order (``opened`` costs 0)."""
        return {X: self.x, U: self.u, MODULES: self.modules, FIRST: self.first, OVER: self.over}

    def vector(self, sizes: dict[str, int]) -> np.ndarray:
        """Objective coefficient (£k) of every column, families in FAMILIES order."""
        costs = self.by_family
        return np.concatenate([costs.get(f, np.zeros(sizes[f])) for f in FAMILIES])


def objective_coefficients(sets: ModelSets, config: RunConfig) -> ObjectiveCoefficients:
    """Objective: discounted placement, commissioned places, transport, independent, capital."""
    years = np.asarray(sets.years)
    delta = pd.Series([config.discount_factor(int(y)) for y in years], index=years)
    options = sets.options
    p = sets.placements
    t = config.transport
    per_pupil = (options["annual_cost_per_place"].to_numpy(float)[p["o"]] + t.cost_per_pupil
                 + t.cost_per_km * p["km"].to_numpy(float))
    x = delta.loc[p["year"]].to_numpy() * per_pupil
    independent = config.independent.cost_per_place + config.independent.transport_cost_per_pupil
    u = delta.loc[sets.cells["year"]].to_numpy() * independent
    commissioned = options["annual_cost_per_commissioned_place"].to_numpy(float)
    remaining = delta[::-1].cumsum()[::-1]  # Σ_{t ≥ y} δ_t: years a place opened in y is paid
    slots = sets.open_slots
    o = slots["o"].to_numpy()
    modules = (delta.loc[slots["capital_year"]].to_numpy()
               * options["capital_cost_per_module"].to_numpy(float)[o]
               + commissioned[o] * options["module_places"].to_numpy(float)[o]
               * remaining.loc[slots["year"]].to_numpy())
    firsts = sets.first_slots
    first = (delta.loc[firsts["capital_year"]].to_numpy()
             * options["fixed_capital_cost"].to_numpy(float)[firsts["o"].to_numpy()])
    constant = float((commissioned * options["existing_places"].to_numpy(float)).sum()
                     * delta.sum())
    over = sets.over_rows(config.placement_rules.soft_capacity)
    premium = (delta.loc[over["year"]].to_numpy()
               * config.placement_rules.soft_capacity.premium_per_pupil)
    return ObjectiveCoefficients(x / MONEY_SCALE, u / MONEY_SCALE, modules / MONEY_SCALE,
                                 first / MONEY_SCALE, constant / MONEY_SCALE,
                                 premium / MONEY_SCALE)
