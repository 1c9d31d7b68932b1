"""The constraint families of the planning model, one function per family, as term tables.

Every family is a :class:`~sufficiency.formulation.matrix.RowBlock`: a table of terms (row,
variable family, variable index, coefficient) with lower and upper bounds per row. Building
terms with merges and group-bys keeps the work proportional to the nonzeros, never to the
cartesian product, and the same tables give the model's size for the benchmark. The rows
of :func:`constraint_blocks` are handed to HiGHS in exactly that order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from sufficiency.formulation.matrix import BEGUN, FIRST, MODULES, OPENED, OVER, RowBlock, U, X
from sufficiency.formulation.objective import MONEY_SCALE
from sufficiency.formulation.sets import Cohorts, ModelSets
from sufficiency.preprocess.capital import tranches
from sufficiency.preprocess.config import RunConfig
from sufficiency.preprocess.placement_rules import RampUp
from sufficiency.preprocess.schema import EXCLUSIVE_GROUP


def _terms(row: ArrayLike, family: str, index: ArrayLike, coef: ArrayLike) -> pd.DataFrame:
    """Terms of one variable family: (row, family, index, coefficient), one per nonzero."""
    indices = np.asarray(index, dtype=np.int64)
    n = len(indices)
    return pd.DataFrame({
        "row": np.asarray(row, dtype=np.int64),
        "family": np.full(n, family, dtype=object),
        "index": indices,
        "coef": np.broadcast_to(np.asarray(coef, dtype=float), (n,)).copy(),
    })


def _block(name: str, parts: list[pd.DataFrame], lower: ArrayLike, upper: ArrayLike) -> RowBlock:
    """A family's terms, sorted by row, family and index, with each row's bounds."""
    terms = pd.concat(parts, ignore_index=True).sort_values(["row", "family", "index"],
                                                             kind="stable")
    return RowBlock(name, terms.reset_index(drop=True), np.asarray(lower, float),
                    np.asarray(upper, float))


def demand_balance(sets: ModelSets) -> RowBlock:
    """Σ_o x[c, o] + u[c] = pupils[c] for every demand cell c."""
    p = sets.placements
    n_cells = len(sets.cells)
    pupils = sets.cells["pupils"].to_numpy(float)
    parts = [_terms(p["cell"], X, p.index, 1.0),
             _terms(np.arange(n_cells), U, np.arange(n_cells), 1.0)]
    return _block("demand_balance", parts, pupils, pupils)


def _running_sum(name: str, total: str, grid: pd.DataFrame, part: str,
                 slots: pd.DataFrame) -> RowBlock:
    """total[o, t] − Σ_{s: o(s) = o, y(s) ≤ t} part[s] = 0, one row per (o, t) of ``grid``.

    The row position of ``grid`` is the index of ``total``, that of ``slots`` of ``part``.
    """
    grid = grid.reset_index(names="k")
    members = slots.reset_index(names="s").merge(grid, on="o", suffixes=("_slot", ""))
    members = members[members["year_slot"] <= members["year"]]
    parts = [_terms(grid["k"], total, grid["k"], 1.0),
             _terms(members["k"], part, members["s"], -1.0)]
    n = len(grid)
    return _block(name, parts, np.zeros(n), np.zeros(n))


def opened_definition(sets: ModelSets) -> RowBlock:
    """opened[o, t] − Σ_{y ≤ t} modules[o, y] = 0: modules open by year t."""
    return _running_sum("opened_definition", OPENED, sets.opened_years, MODULES,
                        sets.open_slots)


def _usable_share(ramp: RampUp, lag: int) -> float:
    """Share of a module's places usable ``lag`` years after it opens (0: its first year)."""
    return ramp.first_year if lag == 0 else ramp.second_year


def _ramp_terms(sets: ModelSets, config: RunConfig, rows: pd.DataFrame) -> list[pd.DataFrame]:
    """+ mp·(1 − first share)·modules[o, t] + mp·(1 − second share)·modules[o, t − 1]."""
    rules = config.placement_rules
    kinds = sets.options["kind"].to_numpy()
    module_places = sets.options["module_places"].to_numpy(float)
    slots = sets.open_slots.reset_index(names="slot")
    parts = []
    for lag in (0, 1):
        shifted = slots.assign(year=slots["year"] + lag).merge(rows, on=["o", "year"])
        usable = [_usable_share(rules.ramp(k), lag) for k in kinds[shifted["o"]]]
        unusable = 1.0 - np.array(usable, dtype=float)
        keep = unusable > 0
        parts.append(_terms(shifted["row"][keep], MODULES, shifted["slot"][keep],
                            module_places[shifted["o"][keep]] * unusable[keep]))
    return parts


def capacity(sets: ModelSets, config: RunConfig) -> RowBlock:
    """Σ x[·, o, t] − mp[o]·opened[o, t] + ramp-up − over[o, t] ≤ existing_places[o].

    Ramp-up: only a share of a module's places is usable in its opening year (and the
    next); soft capacity (``over``) lets chosen kinds take pupils above their places.
    """
    rows = sets.capacity_rows.reset_index(names="row")
    p = sets.placements.reset_index(names="i").merge(rows, on=["o", "year"])
    rows = rows.assign(k=sets.opened_index(rows))
    grows = rows[rows["k"] >= 0]
    module_places = sets.options["module_places"].to_numpy(float)
    over = sets.over_rows(config.placement_rules.soft_capacity)
    parts = [_terms(p["row"], X, p["i"], 1.0),
             _terms(grows["row"], OPENED, grows["k"], -module_places[grows["o"]]),
             _terms(over["row"], OVER, over.index, -1.0),
             *_ramp_terms(sets, config, rows)]
    existing = sets.options["existing_places"].to_numpy(float)[rows["o"].to_numpy()]
    return _block("capacity", parts, np.full(len(rows), -np.inf), existing)


def soft_capacity_limit(sets: ModelSets, config: RunConfig) -> RowBlock:
    """over[o, t] − share · mp[o] · opened[o, t] ≤ share · existing_places[o]."""
    share = config.placement_rules.soft_capacity.share
    over = sets.over_rows(config.placement_rules.soft_capacity)
    over = over.assign(k=sets.opened_index(over))
    grows = over[over["k"] >= 0]
    module_places = sets.options["module_places"].to_numpy(float)
    existing = sets.options["existing_places"].to_numpy(float)
    parts = [_terms(over.index, OVER, over.index, 1.0),
             _terms(grows.index, OPENED, grows["k"], -share * module_places[grows["o"]])]
    return _block("soft_capacity_limit", parts, np.full(len(over), -np.inf),
                  share * existing[over["o"].to_numpy()])


def sticky_placements(cohorts: Cohorts) -> RowBlock:
    """x[i] − ρ · x[j] ≥ 0: pupils stay where they were placed until they leave the phase."""
    carry = cohorts.carry
    parts = [_terms(np.arange(len(carry)), X, carry["i"], 1.0),
             _terms(np.arange(len(carry)), X, carry["j"], -carry["retention"].to_numpy())]
    return _block("sticky_placements", parts, np.zeros(len(carry)), np.full(len(carry), np.inf))


def sticky_independent(cohorts: Cohorts) -> RowBlock:
    """u[c] − ρ · u[prev] ≥ 0: independent placements run off as pupils leave, not overnight."""
    carry = cohorts.carry_independent
    parts = [_terms(np.arange(len(carry)), U, carry["cell"], 1.0),
             _terms(np.arange(len(carry)), U, carry["prev"], -carry["retention"].to_numpy())]
    return _block("sticky_independent", parts, np.zeros(len(carry)),
                  np.full(len(carry), np.inf))


def current_placements(cohorts: Cohorts) -> RowBlock:
    """x[i] ≥ pupils already there, u[c] ≥ pupils already independent, in the start year."""
    local, independent = cohorts.current, cohorts.current_independent
    n_local = len(local)
    parts = [_terms(np.arange(n_local), X, local["i"], 1.0),
             _terms(n_local + np.arange(len(independent)), U, independent["cell"], 1.0)]
    lower = np.concatenate([local["pupils"].to_numpy(float),
                            independent["pupils"].to_numpy(float)])
    return _block("current_placements", parts, lower, np.full(len(lower), np.inf))


def opening_link(sets: ModelSets, config: RunConfig, by: str) -> RowBlock:
    """Σ_{i ∈ g} x[i] − min(D_g − E_o, C_o − E_o) · begun[o, t] ≤ E_o.

    The strong link of facility location, on "option o has opened by year t" (``begun``,
    the running sum of its ``first`` variables). A group g is one placement (``by =
    "placement"``) or the placements of one area at option o in year t (``"area"``); D_g
    is the demand the group can hold, E_o the places o has without opening (existing,
    plus soft capacity), C_o its places with every module open. Valid, so the optimum is
    unchanged: unopened, the group holds at most min(D_g, E_o); opened, at most min(D_g,
    C_o). It stops the LP relaxation from paying a sliver of the fixed capital cost for a
    sliver of a module, the gap measured at scale M. Only options with a fixed capital
    cost have ``first``; rows exist only where D_g > E_o.
    """
    p = sets.placements.reset_index(names="i")
    p = p[p["o"].isin(sets.first_slots["o"].unique())]
    p = p.assign(d=sets.cells["pupils"].to_numpy(float)[p["cell"]])
    keys = ["i", "o", "year"] if by == "placement" else ["area_id", "o", "year"]
    rows = p.groupby(keys, sort=True)["d"].sum().rename("demand").reset_index()
    share = 1.0 + sets.soft_share(config.placement_rules.soft_capacity)[rows["o"]]
    existing = sets.options["existing_places"].to_numpy(float)[rows["o"]] * share
    full = (existing + share * (sets.options["module_places"].to_numpy(float)
                                * sets.options["max_modules"].to_numpy(float))[rows["o"]])
    rows = rows.assign(existing=existing,
                       coef=-np.minimum(rows["demand"] - existing, full - existing))
    rows = rows[rows["demand"] > rows["existing"]]
    rows = rows.assign(k=sets.begun_index(rows))
    rows = rows[rows["k"] >= 0].reset_index(drop=True).reset_index(names="row")
    members = p.merge(rows[[*keys, "row"]], on=keys)
    parts = [_terms(members["row"], X, members["i"], 1.0),
             _terms(rows["row"], BEGUN, rows["k"], rows["coef"].to_numpy())]
    return _block(f"opening_link_by_{by}", parts, np.full(len(rows), -np.inf),
                  rows["existing"].to_numpy())


def max_modules(sets: ModelSets) -> RowBlock:
    """Σ_y modules[o, y] ≤ max_modules[o] for options that can open in more than one year."""
    slots = sets.open_slots.reset_index(names="slot")
    counts = slots.groupby("o")["slot"].transform("size")
    slots = slots[counts > 1]
    options = np.sort(slots["o"].unique())
    row_of = pd.Series(np.arange(len(options)), index=options)
    upper = sets.options["max_modules"].to_numpy(float)[options]
    parts = [_terms(slots["o"].map(row_of), MODULES, slots["slot"], 1.0)]
    return _block("max_modules", parts, np.full(len(options), -np.inf), upper)


def begun_definition(sets: ModelSets) -> RowBlock:
    """begun[o, t] − Σ_{y ≤ t} first[o, y] = 0: option o has opened by year t.

    Named once per (option, year), so the opening links and the first-module links hold
    one term for it rather than one per earlier year (at XL 282,000 of the links'
    378,000 nonzeros were these running sums).
    """
    return _running_sum("begun_definition", BEGUN, sets.begun_years, FIRST, sets.first_slots)


def first_module_link(sets: ModelSets) -> RowBlock:
    """opened[o, y] − max_modules[o] · begun[o, y] ≤ 0, in each year y a first module may open.

    The cumulative form (modules and first modules open by y) is tighter than linking
    year by year: the LP relaxation must pay the fixed cost in proportion to all modules
    opened so far.
    """
    firsts = sets.first_slots[["o", "year"]]
    n = len(firsts)
    max_mod = sets.options["max_modules"].to_numpy(float)
    parts = [_terms(np.arange(n), OPENED, sets.opened_index(firsts), 1.0),
             _terms(np.arange(n), BEGUN, sets.begun_index(firsts), -max_mod[firsts["o"]])]
    return _block("first_module_link", parts, np.full(n, -np.inf), np.zeros(n))


def first_module_opens(sets: ModelSets) -> RowBlock:
    """first[o, y] − modules[o, y] ≤ 0: the fixed capital is paid with a module opening then.

    With the cumulative link this pins the fixed capital to the year of the first module,
    so it cannot be moved into an earlier budget year.
    """
    firsts = sets.first_slots.reset_index(names="first")
    n = len(firsts)
    parts = [_terms(firsts["first"], FIRST, firsts["first"], 1.0),
             _terms(firsts["first"], MODULES, firsts["slot"], -1.0)]
    return _block("first_module_opens", parts, np.full(n, -np.inf), np.zeros(n))


def single_first_module(sets: ModelSets) -> RowBlock:
    """Σ_y first[o, y] ≤ 1: the fixed capital of an option is paid at most once."""
    firsts = sets.first_slots.reset_index(names="first")
    options = np.sort(firsts["o"].unique())
    row_of = pd.Series(np.arange(len(options)), index=options)
    parts = [_terms(firsts["o"].map(row_of), FIRST, firsts["first"], 1.0)]
    return _block("single_first_module", parts, np.full(len(options), -np.inf),
                  np.ones(len(options)))


def spend_tranches(frame: pd.DataFrame, sets: ModelSets, config: RunConfig,
                   years: list[int]) -> pd.DataFrame:
    """Rows of ``frame`` (slots with o and capital_year) per tranche spent in ``years``.

    Adds ``spend_year`` and ``cash``: £ of cash per £ of capital spent that year (the
    tranche's share of the kind's spend profile × construction inflation; v1: 1).
    """
    kinds = sets.options["kind"].to_numpy()[frame["o"].to_numpy()]
    spread = tranches(frame, kinds, config.capital)
    spread = spread[spread["spend_year"].isin(years)]
    inflation = config.capital.inflation_factor(spread["spend_year"].to_numpy(),
                                                config.start_year)
    return spread.assign(cash=spread["share"].to_numpy(float) * inflation)


def capital_budget(sets: ModelSets, config: RunConfig) -> RowBlock:
    """Σ capital cash spent in year b ≤ capital_budget[b] (£k), for each budget year b.

    A slot's capital is spent in the tranches of its kind's spend profile, from its
    capital year on, at cash prices (construction inflation); v1: all in the capital year.
    """
    budget_years = sorted(config.capital_budget)
    row_of = pd.Series(np.arange(len(budget_years)), index=budget_years, dtype="int64")
    slots = spend_tranches(sets.open_slots.reset_index(names="slot"), sets, config,
                           budget_years)
    fixed = sets.options["fixed_capital_cost"].to_numpy(float) / MONEY_SCALE
    firsts = sets.first_slots.reset_index(names="first")
    firsts = spend_tranches(firsts[fixed[firsts["o"].to_numpy()] > 0], sets, config,
                            budget_years)  # delivery rules may add first binaries without one
    per_module = sets.options["capital_cost_per_module"].to_numpy(float) / MONEY_SCALE
    parts = [_terms(slots["spend_year"].map(row_of), MODULES, slots["slot"],
                    per_module[slots["o"]] * slots["cash"].to_numpy()),
             _terms(firsts["spend_year"].map(row_of), FIRST, firsts["first"],
                    fixed[firsts["o"]] * firsts["cash"].to_numpy())]
    upper = np.array([config.capital_budget[y] for y in budget_years]) / MONEY_SCALE
    return _block("capital_budget", parts, np.full(len(budget_years), -np.inf), upper)


SCHEMES_PER_YEAR = "schemes_per_year"
MODULES_PER_SITE = "modules_per_site"
EXCLUSIVE_GROUPS = "exclusive_groups"
DELIVERY_ROWS = (SCHEMES_PER_YEAR, MODULES_PER_SITE, EXCLUSIVE_GROUPS)  # [delivery] families


def _limited_rows(name: str, members: pd.DataFrame, keys: list[str], family: str,
                  index: str) -> RowBlock:
    """Σ_{members of a key} family[index] ≤ the members' ``limit``, one row per key."""
    rows = members[keys].drop_duplicates().sort_values(keys).reset_index(drop=True)
    rows = rows.reset_index(names="row")
    members = members.merge(rows, on=keys)
    upper = members.drop_duplicates("row").sort_values("row")["limit"].to_numpy(float)
    return _block(name, [_terms(members["row"], family, members[index], 1.0)],
                  np.full(len(rows), -np.inf), upper)


def schemes_per_year(sets: ModelSets, config: RunConfig) -> RowBlock:
    """Σ_{f: y(f) = t} first[f] ≤ L, and over the options of kind k ≤ L_k, for each year t.

    A scheme is an option opening its first new module ([delivery]
    max_new_schemes_per_year, max_new_schemes_per_year_by_kind). Rows only where more
    options could open that year than the limit allows (the others are redundant).
    """
    delivery = config.delivery
    firsts = sets.first_slots.reset_index(names="first")
    firsts = firsts.assign(kind=sets.options["kind"].to_numpy()[firsts["o"].to_numpy()])
    scopes = [firsts.assign(scope="", limit=0.0).iloc[:0]]
    if delivery.schemes_per_year is not None:
        scopes.append(firsts.assign(scope="*", limit=float(delivery.schemes_per_year)))
    for kind, most in delivery.schemes_per_year_by_kind.items():
        scopes.append(firsts[firsts["kind"] == kind].assign(scope=kind, limit=float(most)))
    members = pd.concat(scopes, ignore_index=True)
    size = members.groupby(["scope", "year"])["first"].transform("size")
    members = members[size > members["limit"]]
    return _limited_rows(SCHEMES_PER_YEAR, members, ["scope", "year"], FIRST, "first")


def modules_per_site(sets: ModelSets, config: RunConfig) -> RowBlock:
    """Σ_{s: site(o(s)) = site} modules[s] ≤ M: new modules per site over the horizon.

    Existing places do not count ([delivery] max_new_modules_per_site); rows only for
    sites whose options could open more than M modules in all.
    """
    most = config.delivery.modules_per_site
    slots = sets.open_slots.reset_index(names="slot")
    if most is None:
        slots = slots.iloc[:0]
    options = sets.options
    slots = slots.assign(site_id=options["site_id"].to_numpy()[slots["o"].to_numpy()],
                         limit=float(most or 0))
    with_slots = options.iloc[np.sort(sets.open_slots["o"].unique())]
    possible = with_slots["max_modules"].groupby(with_slots["site_id"]).sum()
    slots = slots[slots["site_id"].map(possible).to_numpy(float) > slots["limit"].to_numpy()]
    return _limited_rows(MODULES_PER_SITE, slots, ["site_id"], MODULES, "slot")


def exclusive_groups(sets: ModelSets) -> RowBlock:
    """Σ_{f: o(f) ∈ g} first[f] ≤ 1: at most one option of an exclusive group opens.

    Rows only for groups with two or more options that can open.
    """
    firsts = sets.first_slots.reset_index(names="first")
    if EXCLUSIVE_GROUP in sets.options.columns:
        group = sets.options[EXCLUSIVE_GROUP].to_numpy()[firsts["o"].to_numpy()]
    else:
        group = np.full(len(firsts), "", dtype=object)
    firsts = firsts.assign(group=group, limit=1.0)
    firsts = firsts[firsts["group"] != ""]
    firsts = firsts[firsts.groupby("group")["o"].transform("nunique") > 1]
    return _limited_rows(EXCLUSIVE_GROUPS, firsts, ["group"], FIRST, "first")


def constraint_blocks(sets: ModelSets, config: RunConfig) -> list[RowBlock]:
    """Every constraint family of the model, in the order of the formulation."""
    blocks = [demand_balance(sets), opened_definition(sets), begun_definition(sets),
              capacity(sets, config), soft_capacity_limit(sets, config)]
    if sets.cohorts is not None:
        cohorts = sets.cohorts
        blocks += [sticky_placements(cohorts), sticky_independent(cohorts),
                   current_placements(cohorts)]
    if config.formulation.strong_links != "none":
        blocks.append(opening_link(sets, config, config.formulation.strong_links))
    blocks += [max_modules(sets),
              first_module_link(sets), first_module_opens(sets),
              single_first_module(sets),
              capital_budget(sets, config),
              schemes_per_year(sets, config), modules_per_site(sets, config),
              exclusive_groups(sets)]
    return [block for block in blocks if block.rows]
