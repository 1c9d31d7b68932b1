"""The objective of the planning model: the discounted cost (£k) of one unit of each variable.

Money is in £k inside the model (pitfall: coefficients in £ trip HiGHS's numerics checks).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sufficiency.formulation.matrix import FAMILIES, FIRST, MODULES, OVER, U, X
from sufficiency.formulation.sets import ModelSets
from sufficiency.preprocess.capital import life_share, service_years, tranches
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
        """Coefficients of each costed family, in column order (``opened``, ``begun`` cost 0)."""
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
    place = options["annual_cost_per_place"].to_numpy(float)[p["o"]]
    by_need = sets.arc_place_cost  # costs.csv: the place cost of (option, need, phase)
    if by_need is not None:
        place = by_need[p["arc"].to_numpy()]
    per_pupil = place + t.cost_per_pupil + t.cost_per_km * p["km"].to_numpy(float)
    x = delta.loc[p["year"]].to_numpy() * per_pupil
    independent = config.independent.cost_per_place + config.independent.transport_cost_per_pupil
    by_group = sets.cell_independent_cost  # costs.csv / independent.csv: per area and need
    u = delta.loc[sets.cells["year"]].to_numpy() * (independent if by_group is None
                                                    else by_group)
    commissioned = options["annual_cost_per_commissioned_place"].to_numpy(float)
    remaining = delta[::-1].cumsum()[::-1]  # Σ_{t ≥ y} δ_t: years a place opened in y is paid
    slots = sets.open_slots
    o = slots["o"].to_numpy()
    kinds = options["kind"].to_numpy()
    modules = (capital_weights(slots, kinds[o], config, delta)
               * options["capital_cost_per_module"].to_numpy(float)[o]
               + commissioned[o] * options["module_places"].to_numpy(float)[o]
               * remaining.loc[slots["year"]].to_numpy())
    firsts = sets.first_slots
    first = (capital_weights(firsts, kinds[firsts["o"].to_numpy()], config, delta)
             * options["fixed_capital_cost"].to_numpy(float)[firsts["o"].to_numpy()])
    constant = float((commissioned * options["existing_places"].to_numpy(float)).sum()
                     * delta.sum())
    over = sets.over_rows(config.placement_rules.soft_capacity)
    premium = (delta.loc[over["year"]].to_numpy()
               * config.placement_rules.soft_capacity.premium_per_pupil)
    return ObjectiveCoefficients(x / MONEY_SCALE, u / MONEY_SCALE, modules / MONEY_SCALE,
                                 first / MONEY_SCALE, constant / MONEY_SCALE,
                                 premium / MONEY_SCALE)


def capital_weights(slots: pd.DataFrame, kinds: np.ndarray, config: RunConfig,
                    delta: pd.Series) -> np.ndarray:
    """What £1 of capital of each slot (o, year y, capital_year c) costs in the objective.

    v1: δ_c. With a spend profile (``[capital]``): Σ_k share_k · δ_{c+k}. With ``[appraisal]
    method = "annuity"``: times (1 − (1 + r)^−n) / (1 − (1 + r)^−L), n = min(L, T − y + 1),
    L the kind's asset life (:mod:`sufficiency.preprocess.capital`). Cash inflation never
    enters the objective (real start-year prices). Capital spent before the start year (a
    fixed opening under construction) is sunk: weight 0.
    """
    earliest = min([config.start_year, *slots["capital_year"].unique().tolist()])
    by_year = delta.reindex(range(int(earliest), config.end_year + 1), fill_value=0.0)  # sunk: 0
    if not config.capital.on:
        weight = by_year.loc[slots["capital_year"]].to_numpy()
    else:
        spread = tranches(slots[["capital_year"]], kinds, config.capital)
        discounted = spread["share"] * by_year.loc[spread["spend_year"]].to_numpy()
        weight = discounted.groupby(level=0).sum().reindex(slots.index).to_numpy()
    if config.appraisal.annuity:
        life = np.array([config.appraisal.life(str(k)) for k in kinds], dtype=float)
        n = service_years(slots["year"].to_numpy(), life, config.end_year)
        weight = weight * life_share(config.discount_rate, n, life)
    return np.asarray(weight, dtype=float)
