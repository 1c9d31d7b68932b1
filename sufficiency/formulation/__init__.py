r"""The planning MILP, built in Pyomo from the sparse sets of :mod:`sufficiency.formulation.sets`.

Sets (all sparse, built with pandas)
    C            demand cells c = (a, n, p, t) with pupils d_c > 0
    P ⊆ C × O    placements (c, o): o serves need n and phase p, can ever have places,
                 and minutes(a, site(o)) ≤ limit_p
    S ⊆ O × Y    open slots (o, y): max_modules_o > 0, y ≥ earliest_o, y − lead_o ≥ start;
                 plus each fixed opening's (o, y) (committed.csv, locks; may be under
                 construction: y − lead_o < start)
    F ⊆ S        slots of options with a fixed capital cost, or covered by a delivery row
                 (a scheme limit or an exclusive group; [delivery] runs only)
    B            years with a capital budget

Variables
    x[i] ≥ 0            pupils of cell c(i) placed at option o(i), for i ∈ P   (``x``)
    u[c] ≥ 0            pupils of cell c placed independently                  (``u``)
    modules[s] ∈ ℤ, 0 ≤ modules[s] ≤ max_modules_o   modules opened in slot s   (``modules``)
                        (a fixed slot: modules[s] = committed_s, and first = 1 at each
                         option's earliest fixed slot; :func:`fixed_bounds`)
    opened[o, t] ≥ 0    modules of option o open by year t (t ≥ its first slot)  (``opened``)
    over[o, t] ≥ 0      pupils above usable places (soft capacity kinds only)   (``over``)
    first[f] ∈ {0, 1}   option o's first module opens in year y(f)             (``first``)
    begun[o, t] ≥ 0     option o has opened by year t (t ≥ its first f)        (``begun``)

Constraints (one function each in :mod:`sufficiency.formulation.constraints`)
    demand_balance       Σ_{i: c(i)=c} x[i] + u[c] = d_c                            ∀ c
    opened_definition    opened[o, t] − Σ_{s=(o,y): y ≤ t} modules[s] = 0
    begun_definition     begun[o, t] − Σ_{f=(o,y): y ≤ t} first[f] = 0
    capacity             Σ_{i: o(i)=o, t(i)=t} x[i] − mp_o opened[o, t]
                         + mp_o (1 − ramp1_k) modules[o, t] + mp_o (1 − ramp2_k) modules[o, t−1]
                         − over[o, t] ≤ existing_o                              ∀ (o, t) used
    soft_capacity_limit  over[o, t] − share mp_o opened[o, t] ≤ share existing_o
    sticky_placements    x[i] − ρ_c x[j] ≥ 0   (j: same area, commodity, option in t − 1)
    sticky_independent   u[c] − ρ_c u[c−1] ≥ 0
    current_placements   x[i] ≥ already placed,  u[c] ≥ already independent   (start year)
      (the sticky rows exist only with [placements] model = "sticky"; ρ_c = min(1 − 1/L_p
       − cease, d_c / d_{c−1}): the share of last year's pupils still in the phase;
       pairs merge only where their ρ agree, and a merged cell's ρ is theirs)
    opening links        valid inequalities, same optimum; [formulation] strong_links =
                         (E_o, C_o: its places unopened / fully opened, soft share included)
      "area" (default)   Σ_{i ∈ (a, o, t)} x[i] − min(D_aot − E_o, C_o − E_o) begun[o, t] ≤ E_o
      "placement"        x[i] − min(d_c − E_o, C_o − E_o) begun[o, t] ≤ E_o
      "none"             no extra rows
      (rows only for options with a fixed capital cost and where the demand exceeds E_o;
       with the start, HiGHS's MIP keeps only those its LP relaxation needs: solve.links)
    max_modules          Σ_{s=(o,·)} modules[s] ≤ max_modules_o                      ∀ o
    first_module_link    opened[o, y] − max_modules_o begun[o, y] ≤ 0     ∀ first slot (o, y)
    first_module_opens   first[o, y] − modules[o, y] ≤ 0  (fixed capital paid with a module)
    single_first_module  Σ_y first[o, y] ≤ 1
    capital_budget       Σ_s w_{k,b−c(s)} π_b K_o modules[s]
                         + Σ_f w_{k,b−c(f)} π_b FC_o first[f] ≤ budget_b        ∀ b ∈ B
                         (cash: tranche j of the spend profile w_k is spent in c + j;
                          π_b = (1 + i)^(b − start); v1: w_k = [1], i = 0, so the
                          capital of slot s counts in full in its capital year c(s))
    schemes_per_year     Σ_{f: y(f)=t} first[f] ≤ L;  Σ_{f: y(f)=t, k(o)=k} first[f] ≤ L_k
                         ∀ t (only where more options could open in t than allowed)
    modules_per_site     Σ_{s: site(o(s))=σ} modules[s] ≤ M                      ∀ site σ
    exclusive_groups     Σ_{f: o(f) ∈ g} first[f] ≤ 1                             ∀ group g
      (the delivery rows exist only with [delivery] keys or provision.csv exclusive_group)
    (u[c] = 0 when [independent] available = false)

Objective (£k; δ_t = 1 / (1 + r)^(t − start); :mod:`sufficiency.formulation.objective`)
    min Σ_i δ_t (cost_place_{o,c} + transport_pupil + transport_km · km_i) x[i]
      + Σ_c δ_t independent_c u[c]
      + Σ_s [κ_s K_o + commissioned_o · mp_o · Σ_{t ≥ y} δ_t] modules[s]
      + Σ_f κ_f FC_o first[f]
      + Σ_(o,t) δ_t premium over[o, t]
      + Σ_o commissioned_o · existing_o · Σ_t δ_t                   (constant)
    where cost_place_{o,c} = annual_cost_per_place_o (v1), or with costs.csv the figure for
    option o (else its kind) and the need n and phase p of cell c (exact n,p > n,* > *,p >
    *,*; else provision.csv's); independent_c = independent_place + independent_transport
    (v1), or with independent.csv the cheapest provider q taking (n, p):
    min_q fee_q + transport_pupil + transport_km · km(a, q), else costs.csv's kind
    independent row for (n, p), else v1's. Both are exact under need aggregation: only
    pairs with the same costs at every option and in every area are merged.
    κ_s, the weight of £1 of capital of slot s = (o, y) with capital year c = y − lead_o,
    is Σ_j w_{k,j} δ_{c+j} (v1: δ_c; δ = 0 before the start: sunk), and under [appraisal]
    method = "annuity" that times
    a_s = (1 − (1 + r)^−n) / (1 − (1 + r)^−L_k), n = min(L_k, T − y + 1) (r = 0: n / L_k):
    only the asset's years of service within the horizon are charged; the rest of the
    discounted capital is its residual value (plan.csv ``residual_value``). Inflation i
    never enters the objective (real start-year prices).

Where each symbol lives (``sets``: :class:`~sufficiency.formulation.sets.ModelSets`;
``config``: the run's :class:`~sufficiency.preprocess.config.RunConfig`)
    c, d_c               ``sets.cells`` row c: area_id, commodity (n, p merged), year; pupils
    i, c(i), o(i), km_i  ``sets.placements`` row i: cell, o, year, area_id, minutes, km
    o and its data       ``sets.options`` row o: existing_places (existing_o), module_places
                         (mp_o), max_modules, capital_cost_per_module (K_o),
                         fixed_capital_cost (FC_o), annual_cost_per_place (cost_place_o),
                         annual_cost_per_commissioned_place (commissioned_o),
                         lead_time_years (lead_o), earliest_year, kind (k)
    limit_p              ``sets.members.limit_minutes`` (one row per need × phase)
    s ∈ S                ``sets.open_slots`` row s: o, year (y), capital_year (y − lead_o),
                         committed (committed_s; only with committed.csv or locks)
    f ∈ F                ``sets.first_slots`` row f: slot (its s), o, year, capital_year
    opened[o, t]         ``sets.opened_years`` row: o, year
    capacity (o, t)      ``sets.capacity_rows`` row: o, year
    over[o, t]           ``sets.over_rows(soft)`` row: row (its capacity row), o, year
    share, premium       ``config.placement_rules.soft_capacity``; per option
                         ``sets.soft_share(soft)``
    ramp1_k, ramp2_k     ``config.placement_rules.ramp(k)``: first_year, second_year
    ρ_c, j, c − 1        ``sets.cohorts.carry`` (i, j, retention) and
                         ``sets.cohorts.carry_independent`` (cell, prev, retention)
    already placed       ``sets.cohorts.current`` (i, pupils), ``.current_independent``
    B, budget_b          ``config.capital_budget`` (£ by capital year)
    L, L_k, M            ``config.delivery``: schemes_per_year, schemes_per_year_by_kind[k],
                         modules_per_site; F's extra options ``sets.scheme_options``
    site(o), g           ``sets.options`` columns site_id, exclusive_group (when given)
    cost_place_{o,c}     ``sets.arc_place_cost`` per arc (``sets.place_costs``: option_id,
                         need, phase; None in v1: ``sets.options`` column)
    independent_c        ``sets.cell_independent_cost`` per cell (``sets.independent_costs``:
                         area_id, need, phase, fee, transport, provider_id; None in v1)
    δ_t                  ``config.discount_factor(t)``; r ``config.discount_rate``;
                         T ``config.end_year``
    w_k, π_b             ``config.capital.profile(k)`` (spend profile, default (1.0,)),
                         ``config.capital.inflation_factor(b, start)``; the tranches of a
                         slot table: ``preprocess.capital.tranches`` (``share``,
                         ``spend_year``), in the budget rows ``constraints.spend_tranches``
    κ_s, a_s, L_k        ``objective.capital_weights``; ``config.appraisal.annuity``,
                         ``config.appraisal.life(k)``; ``preprocess.capital.life_share``

Files
    sets.py         the index sets and the tables derived from them (above)
    constraints.py  one function per constraint family, as term tables (RowBlock)
    objective.py    the cost of one unit of each variable (ObjectiveCoefficients), MONEY_SCALE
    matrix.py       variable families and column order, RowBlock → CSR, the MatrixModel base
    composed.py     ComposedModel: several plan models' blocks at column offsets, extra rows
    __init__.py     PlanModel and build_model (this face)

"Do nothing" is this model with every modules[s] and first[f] fixed to its lower bound: 0,
or a fixed opening's (nothing new beyond the commitments). HiGHS starts
from the cheapest of do nothing and plans rounded or dived from the LP relaxation
(:mod:`sufficiency.solve.rounding`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyomo.core as pyo  # not pyomo.environ: its solver plugins cost 0.2 s of import
from pyomo.core.base.var import VarData
from pyomo.core.expr.numeric_expr import LinearExpression

from sufficiency.formulation.composed import OPENINGS, ComposedModel
from sufficiency.formulation.constraints import constraint_blocks
from sufficiency.formulation.matrix import (
    BEGUN,
    FAMILIES,
    FIRST,
    MODULES,
    OPENED,
    OVER,
    Csr,
    MatrixModel,
    RowBlock,
    U,
    X,
    block_csr,
    dense_rows,
    finite_or_none,
    sparse_rows,
)
from sufficiency.formulation.objective import (
    MONEY_SCALE,
    ObjectiveCoefficients,
    objective_coefficients,
)
from sufficiency.formulation.sets import ModelSets, build_sets
from sufficiency.preprocess.config import RunConfig
from sufficiency.preprocess.placement_rules import SoftCapacity

__all__ = ["BEGUN", "FAMILIES", "FIRST", "MODULES", "MONEY_SCALE", "OPENED", "OPENINGS", "OVER",
           "U", "X", "ComposedModel", "Csr", "MatrixModel", "ModelSets", "PlanModel", "RowBlock",
           "build_model", "build_sets", "dense_rows", "sparse_rows"]


@dataclass(kw_only=True)
class PlanModel(MatrixModel):
    """A built plan model: its variables as flat lists aligned with the sets' tables."""

    sets: ModelSets
    variables: dict[str, list[VarData]]
    blocks: list[RowBlock]
    costs: ObjectiveCoefficients

    def integer_count(self) -> int:
        """Integer columns: the ``modules`` and ``first`` families (no scan of the columns)."""
        return len(self.variables[MODULES]) + len(self.variables[FIRST])

    @property
    def offsets(self) -> dict[str, int]:
        """First column of each variable family."""
        sizes = [len(self.variables[f]) for f in FAMILIES]
        return dict(zip(FAMILIES, np.cumsum([0, *sizes[:-1]]).tolist(), strict=True))

    def objective_vector(self) -> np.ndarray:
        """Objective coefficient (£k) of every column, in column order (a new array)."""
        return self.costs.vector({f: len(self.variables[f]) for f in FAMILIES})

    def column_years(self, soft: SoftCapacity) -> np.ndarray:
        """The academic year of every column, in column order (a slot's: its opening year).

        ``soft``: the run's soft capacity rule (it decides the ``over`` columns). With the
        openings fixed, the years meet only through sticky cohorts' rows
        (:mod:`sufficiency.solve.blocks`).
        """
        tables = _family_tables(self.sets, soft)
        return np.concatenate([tables[family]["year"].to_numpy(np.int64)
                               for family in FAMILIES])

    def fix_openings(self, value: float | None) -> None:
        """Fix every opening decision to ``value`` (do nothing: 0), or free them (None).

        Never below a variable's lower bound: fixed openings (committed.csv, locks) stay,
        so do nothing means nothing new.
        """
        for var in self.variables[MODULES] + self.variables[FIRST]:
            if value is None:
                var.unfix()
            else:
                var.fix(max(value, var.lb or 0))


def _family_tables(sets: ModelSets, soft: SoftCapacity) -> dict[str, pd.DataFrame]:
    """The table in ``sets`` of each variable family: one variable per row, in row order.

    ``soft``: the run's soft capacity rule (it decides the ``over`` rows).
    """
    return {X: sets.placements, U: sets.cells, MODULES: sets.open_slots,
            FIRST: sets.first_slots, OPENED: sets.opened_years, BEGUN: sets.begun_years,
            OVER: sets.over_rows(soft)}


def _add_variables(model: pyo.ConcreteModel, sets: ModelSets,
                   config: RunConfig) -> dict[str, list[VarData]]:
    """Every variable family, sized by its table in ``sets``; u fixed at 0 without independents."""
    size = {family: len(table) for family, table in
            _family_tables(sets, config.placement_rules.soft_capacity).items()}
    max_mod = sets.options["max_modules"].to_numpy()[sets.open_slots["o"].to_numpy()]
    low_mod, low_first = fixed_bounds(sets)
    max_mod = np.where(low_mod > 0, low_mod, max_mod)  # a fixed opening: exactly its modules
    model.x = pyo.Var(range(size[X]), domain=pyo.NonNegativeReals)
    u_bounds = (0, None) if config.independent.available else (0, 0)
    model.u = pyo.Var(range(size[U]), domain=pyo.NonNegativeReals, bounds=u_bounds)
    model.modules = pyo.Var(range(size[MODULES]), domain=pyo.NonNegativeIntegers,
                            bounds=lambda _, s: (int(low_mod[s]), int(max_mod[s])))
    model.first = pyo.Var(range(size[FIRST]), domain=pyo.Binary,
                          bounds=lambda _, f: (int(low_first[f]), 1))
    model.opened = pyo.Var(range(size[OPENED]), domain=pyo.NonNegativeReals)
    model.begun = pyo.Var(range(size[BEGUN]), domain=pyo.NonNegativeReals)
    model.over = pyo.Var(range(size[OVER]), domain=pyo.NonNegativeReals)
    return {X: list(model.x.values()), U: list(model.u.values()),
            MODULES: list(model.modules.values()), FIRST: list(model.first.values()),
            OPENED: list(model.opened.values()), BEGUN: list(model.begun.values()),
            OVER: list(model.over.values())}


def fixed_bounds(sets: ModelSets) -> tuple[np.ndarray, np.ndarray]:
    """Lower bounds of ``modules`` and ``first``: the fixed openings (committed.csv, locks).

    ``modules``: each slot's fixed modules; ``first``: 1 at each option's earliest fixed
    opening. Zeros without committed.csv or locks.
    """
    slots, firsts = sets.open_slots, sets.first_slots
    if "committed" not in slots.columns:
        return np.zeros(len(slots), dtype=np.int64), np.zeros(len(firsts), dtype=np.int64)
    low_mod = slots["committed"].to_numpy(np.int64)
    earliest = slots[low_mod > 0].groupby("o")["year"].min()
    low_first = (firsts["year"].to_numpy() == firsts["o"].map(earliest).to_numpy())
    return low_mod, low_first.astype(np.int64)


def _row_expressions(block: RowBlock,
                     variables: dict[str, list[VarData]]) -> list[LinearExpression]:
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


def _add_expressions(model: pyo.ConcreteModel, block: RowBlock,
                     variables: dict[str, list[VarData]]) -> None:
    """The block as Pyomo expression rows (what Pyomo's own HiGHS interface walks)."""
    expressions = _row_expressions(block, variables)
    lower, upper = finite_or_none(block.lower), finite_or_none(block.upper)
    rule = lambda _, r: (lower[r], expressions[r], upper[r])  # noqa: E731
    setattr(model, block.name, pyo.Constraint(range(block.rows), rule=rule))


def _add_objective(model: pyo.ConcreteModel, costs: ObjectiveCoefficients,
                   variables: dict[str, list[VarData]]) -> None:
    """Minimise the discounted total: every costed family's terms, then the constant."""
    coefs: list[float] = []
    members: list[VarData] = []
    for family, values in costs.by_family.items():
        coefs.extend(values.tolist())
        members.extend(variables[family])
    expr = LinearExpression(constant=costs.constant, linear_coefs=coefs, linear_vars=members)
    model.total_cost = pyo.Objective(expr=expr, sense=pyo.minimize)


def build_model(sets: ModelSets, config: RunConfig) -> PlanModel:
    """Build the MILP: variables, each constraint family, the objective (see module doc)."""
    model = pyo.ConcreteModel(name="sufficiency")
    variables = _add_variables(model, sets, config)
    blocks = constraint_blocks(sets, config)
    costs = objective_coefficients(sets, config)
    plan = PlanModel(model, [var for family in FAMILIES for var in variables[family]],
                     cost=costs.vector({f: len(variables[f]) for f in FAMILIES}),
                     constant=costs.constant, sets=sets, variables=variables, blocks=blocks,
                     costs=costs)
    offsets = plan.offsets
    for block in blocks:
        csr = block_csr(block, offsets)
        if config.formulation.matrix_constraints:
            plan.add_rows(block.name, csr)
        else:
            _add_expressions(model, block, variables)
            plan.rows.append(csr)
    if not config.formulation.matrix_constraints:  # Pyomo's own interface reads it; the
        _add_objective(model, costs, variables)  # direct one takes plan.cost (24 MB at L)
    return plan
