r"""The planning MILP, built in Pyomo from the sparse sets of :mod:`sufficiency.formulation.sets`.

Sets (all sparse, built with pandas)
    C            demand cells c = (a, n, p, t) with pupils d_c > 0
    P ⊆ C × O    placements (c, o): o serves need n and phase p, can ever have places,
                 and minutes(a, site(o)) ≤ limit_p
    S ⊆ O × Y    open slots (o, y): max_modules_o > 0, y ≥ earliest_o, y − lead_o ≥ start
    F ⊆ S        slots of options with a fixed capital cost
    B            years with a capital budget

Variables
    x[i] ≥ 0            pupils of cell c(i) placed at option o(i), for i ∈ P   (``x``)
    u[c] ≥ 0            pupils of cell c placed independently                  (``u``)
    modules[s] ∈ ℤ, 0 ≤ modules[s] ≤ max_modules_o   modules opened in slot s   (``modules``)
    opened[o, t] ≥ 0    modules of option o open by year t (t ≥ its first slot)  (``opened``)
    over[o, t] ≥ 0      pupils above usable places (soft capacity kinds only)   (``over``)
    first[f] ∈ {0, 1}   option o's first module opens in year y(f)             (``first``)

Constraints (in :mod:`sufficiency.formulation.blocks`)
    demand_balance       Σ_{i: c(i)=c} x[i] + u[c] = d_c                            ∀ c
    opened_definition    opened[o, t] − Σ_{s=(o,y): y ≤ t} modules[s] = 0
    capacity             Σ_{i: o(i)=o, t(i)=t} x[i] − mp_o opened[o, t]
                         + mp_o (1 − ramp1_k) modules[o, t] + mp_o (1 − ramp2_k) modules[o, t−1]
                         − over[o, t] ≤ existing_o                              ∀ (o, t) used
    soft_capacity_limit  over[o, t] − share mp_o opened[o, t] ≤ share existing_o
    sticky_placements    x[i] − ρ_c x[j] ≥ 0   (j: same area, commodity, option in t − 1)
    sticky_independent   u[c] − ρ_c u[c−1] ≥ 0
    current_placements   x[i] ≥ already placed,  u[c] ≥ already independent   (start year)
      (the sticky rows exist only with [placements] model = "sticky"; ρ_c = min(1 − 1/L_p
       − cease, d_c / d_{c−1}): the share of last year's pupils still in the phase)
    opening links        valid inequalities, same optimum; [formulation] strong_links =
                         (F_ot = Σ_{y ≤ t} first[o, y]: option o has opened by year t;
                          E_o, C_o: its places unopened / fully opened, soft share included)
      "area" (default)   Σ_{i ∈ (a, o, t)} x[i] − min(D_aot − E_o, C_o − E_o) F_ot ≤ E_o
      "placement"        x[i] − min(d_c − E_o, C_o − E_o) F_ot ≤ E_o
      "none"             no extra rows
      (rows only for options with a fixed capital cost and where the demand exceeds E_o)
    max_modules          Σ_{s=(o,·)} modules[s] ≤ max_modules_o                      ∀ o
    first_module_link    Σ_{y' ≤ y} modules[o, y'] − max_modules_o Σ_{y' ≤ y} first[o, y'] ≤ 0
    first_module_opens   first[o, y] − modules[o, y] ≤ 0  (fixed capital paid with a module)
    single_first_module  Σ_y first[o, y] ≤ 1
    capital_budget       Σ_{s: y(s) − lead_o = b} K_o modules[s]
                         + Σ_{f: y(f) − lead_o = b} FC_o first[f] ≤ budget_b      ∀ b ∈ B
    (u[c] = 0 when [independent] available = false)

Objective (£k; δ_t = 1 / (1 + r)^(t − start))
    min Σ_i δ_t (cost_place_o + transport_pupil + transport_km · km_i) x[i]
      + Σ_c δ_t (independent_place + independent_transport) u[c]
      + Σ_s [δ_{y−lead} K_o + commissioned_o · mp_o · Σ_{t ≥ y} δ_t] modules[s]
      + Σ_f δ_{y−lead} FC_o first[f]
      + Σ_(o,t) δ_t premium over[o, t]
      + Σ_o commissioned_o · existing_o · Σ_t δ_t                   (constant)

"Do nothing" is this model with every modules[s] and first[f] fixed to 0. HiGHS starts
from the cheapest of do nothing and plans rounded or dived from the LP relaxation
(:mod:`sufficiency.solve.rounding`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.core as pyo  # not pyomo.environ: its solver plugins cost 0.2 s of import
from pyomo.core.base.matrix_constraint import MatrixConstraint
from pyomo.core.expr.numeric_expr import LinearExpression

from sufficiency.formulation.blocks import (
    FIRST,
    MODULES,
    MONEY_SCALE,
    OPENED,
    OVER,
    ObjectiveCoefficients,
    RowBlock,
    U,
    X,
    block_csr,
    constraint_blocks,
    first_slots,
    objective_coefficients,
    opened_years,
    over_rows,
)
from sufficiency.formulation.sets import ModelSets
from sufficiency.preprocess.config import RunConfig

__all__ = ["PlanModel", "build_model", "MONEY_SCALE", "FAMILIES"]
FAMILIES = (X, U, MODULES, FIRST, OPENED, OVER)  # column order of the matrix handed to HiGHS


@dataclass
class PlanModel:
    """A built Pyomo model with its variables as flat lists aligned with the sets' tables."""

    model: pyo.ConcreteModel
    sets: ModelSets
    variables: dict[str, list]
    blocks: list[RowBlock]
    costs: ObjectiveCoefficients

    @property
    def size(self) -> dict[str, int]:
        """Variables, integer variables, constraints and nonzeros handed to the solver."""
        n_int = len(self.variables[MODULES]) + len(self.variables[FIRST])
        return {
            "variables": sum(len(v) for v in self.variables.values()),
            "integer_variables": n_int,
            "constraints": sum(b.rows for b in self.blocks),
            "nonzeros": sum(len(b.terms) for b in self.blocks),
        }

    @property
    def columns(self) -> list:
        """Every variable, in the column order of the matrix (see FAMILIES)."""
        return [var for family in FAMILIES for var in self.variables[family]]

    @property
    def offsets(self) -> dict[str, int]:
        """First column of each variable family."""
        sizes = [len(self.variables[f]) for f in FAMILIES]
        return dict(zip(FAMILIES, np.cumsum([0, *sizes[:-1]]).tolist(), strict=True))

    def objective_vector(self) -> np.ndarray:
        """Objective coefficient (£k) of every column, in column order."""
        costs = {X: self.costs.x, U: self.costs.u, MODULES: self.costs.modules,
                 FIRST: self.costs.first, OVER: self.costs.over}
        return np.concatenate([costs.get(f, np.zeros(len(self.variables[f])))
                               for f in FAMILIES])

    def fix_openings(self, value: float | None) -> None:
        """Fix every opening decision to ``value`` (do nothing: 0), or free them (None)."""
        for var in self.variables[MODULES] + self.variables[FIRST]:
            if value is None:
                var.unfix()
            else:
                var.fix(value)


def _add_variables(model: pyo.ConcreteModel, sets: ModelSets, config: RunConfig) -> dict:
    max_mod = sets.options["max_modules"].to_numpy()[sets.open_slots["o"].to_numpy()]
    n_first = len(first_slots(sets))
    model.x = pyo.Var(range(len(sets.placements)), domain=pyo.NonNegativeReals)
    u_bounds = (0, None) if config.independent.available else (0, 0)
    model.u = pyo.Var(range(len(sets.cells)), domain=pyo.NonNegativeReals, bounds=u_bounds)
    model.modules = pyo.Var(range(len(max_mod)), domain=pyo.NonNegativeIntegers,
                            bounds=lambda _, s: (0, int(max_mod[s])))
    model.first = pyo.Var(range(n_first), domain=pyo.Binary)
    model.opened = pyo.Var(range(len(opened_years(sets))), domain=pyo.NonNegativeReals)
    model.over = pyo.Var(range(len(over_rows(sets, config))), domain=pyo.NonNegativeReals)
    return {X: list(model.x.values()), U: list(model.u.values()),
            MODULES: list(model.modules.values()), FIRST: list(model.first.values()),
            OPENED: list(model.opened.values()), OVER: list(model.over.values())}


def _row_expressions(block: RowBlock, variables: dict[str, list]) -> list[LinearExpression]:
    """One LinearExpression per row, built from the block's sorted term table."""
    terms = block.terms
    var_objects = np.empty(len(terms), dtype=object)
    for family, members in variables.items():
        mask = (terms["family"] == family).to_numpy()
        if mask.any():
            var_objects[mask] = np.asarray(members, dtype=object)[terms["index"].to_numpy()[mask]]
    coefs = terms["coef"].to_numpy().tolist()
    rows = terms["row"].to_numpy()
    starts = np.searchsorted(rows, np.arange(block.rows + 1))
    var_list = var_objects.tolist()
    return [LinearExpression(linear_coefs=coefs[a:b], linear_vars=var_list[a:b])
            for a, b in zip(starts[:-1], starts[1:], strict=True)]


def _add_matrix_constraints(model: pyo.ConcreteModel, block: RowBlock,
                            columns: list, offsets: dict[str, int]) -> None:
    """The block as one Pyomo MatrixConstraint (CSR): no expression objects per row."""
    csr = block_csr(block, offsets)
    lower = [None if not np.isfinite(v) else float(v) for v in csr.lower]
    upper = [None if not np.isfinite(v) else float(v) for v in csr.upper]
    setattr(model, block.name, MatrixConstraint(csr.data.tolist(), csr.indices.tolist(),
                                                csr.indptr.tolist(), lower, upper, columns))


def _add_constraints(model: pyo.ConcreteModel, block: RowBlock, variables: dict) -> None:
    expressions = _row_expressions(block, variables)
    lower = [None if not np.isfinite(v) else float(v) for v in block.lower]
    upper = [None if not np.isfinite(v) else float(v) for v in block.upper]
    rule = lambda _, r: (lower[r], expressions[r], upper[r])  # noqa: E731
    setattr(model, block.name, pyo.Constraint(range(block.rows), rule=rule))


def _add_objective(model: pyo.ConcreteModel, costs: ObjectiveCoefficients,
                   variables: dict) -> None:
    coefs, members = [], []
    for family, values in ((X, costs.x), (U, costs.u), (MODULES, costs.modules),
                           (FIRST, costs.first), (OVER, costs.over)):
        coefs.extend(values.tolist())
        members.extend(variables[family])
    expr = LinearExpression(constant=costs.constant, linear_coefs=coefs, linear_vars=members)
    model.total_cost = pyo.Objective(expr=expr, sense=pyo.minimize)


def build_model(sets: ModelSets, config: RunConfig) -> PlanModel:
    """Build the MILP: variables, each constraint family, the objective (see module doc)."""
    model = pyo.ConcreteModel(name="sufficiency")
    variables = _add_variables(model, sets, config)
    columns = [var for family in FAMILIES for var in variables[family]]
    sizes = [len(variables[f]) for f in FAMILIES]
    offsets = dict(zip(FAMILIES, np.cumsum([0, *sizes[:-1]]).tolist(), strict=True))
    blocks = constraint_blocks(sets, config)
    for block in blocks:
        if config.formulation.matrix_constraints:
            _add_matrix_constraints(model, block, columns, offsets)
        else:
            _add_constraints(model, block, variables)
    costs = objective_coefficients(sets, config)
    _add_objective(model, costs, variables)
    return PlanModel(model, sets, variables, blocks, costs)
