"""Recheck a solved plan against the inputs with pandas alone (no model code imported).

HiGHS has shipped wrong answers (pitfall 2), so every solve is audited: all demand placed,
no option over capacity, no placement before its places open, eligibility, journey limits,
opening rules, the capital budget, the delivery limits, and costs that add up to the
solver's objective.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sufficiency.errors import AuditError
from sufficiency.outcome import CAPITAL_CASH, PROVIDER, RESIDUAL, PlanResult
from sufficiency.preprocess.capital import cash_by_year, spend_table
from sufficiency.preprocess.dataset import Dataset
from sufficiency.preprocess.schema import EXCLUSIVE_GROUP
from sufficiency.preprocess.vocabulary import INDEPENDENT
from sufficiency.tolerances import (
    BUDGET_AUDIT_REL,
    CAPITAL_AUDIT_ABS,
    MINUTES_INPUT_AGREEMENT,
    MINUTES_LIMIT,
    MONEY_AUDIT_ABS,
    MONEY_AUDIT_REL,
    PUPILS_AUDIT,
    PUPILS_ROUNDED_ROW,
)

NUMERICAL_TROUBLE = ("This is numerical trouble in the solver or a bug, not a fault in the inputs: "
                     "nothing was written. Rerun with [solver] presolve = \"off\" (HiGHS presolve "
                     "has returned wrong answers), and report it with the inputs.")


def _placed_demand(dataset: Dataset, result: PlanResult) -> list[str]:
    key = ["area_id", "need", "phase", "year"]
    groups = result.placements.groupby(key)["pupils"]
    placed, rows = groups.sum(), groups.size()  # rows rounded to 6 decimals (see _capacity)
    demand = dataset.demand.groupby(key)["pupils"].sum()
    diff = placed.reindex(demand.index, fill_value=0.0) - demand
    extra = placed.index.difference(demand.index)
    slack = PUPILS_AUDIT + PUPILS_ROUNDED_ROW * rows.reindex(demand.index, fill_value=0)
    bad = diff[diff.abs() > slack]
    return ([f"demand {k}: placed {placed.get(k, 0):.6g} of {demand[k]:.6g} pupils"
             for k in bad.index[:10]]
            + [f"pupils placed for {k}, which has no demand" for k in extra[:10]])


def _places(dataset: Dataset, plan: pd.DataFrame) -> pd.DataFrame:
    grid = dataset.options[["option_id", "existing_places"]].merge(
        pd.DataFrame({"year": dataset.config.years}), how="cross")
    opened = grid.merge(plan[["option_id", "opening_year", "places"]], on="option_id")
    opened = opened[opened["opening_year"] <= opened["year"]]
    added = opened.groupby(["option_id", "year"])["places"].sum()
    grid = grid.set_index(["option_id", "year"])
    return grid["existing_places"].add(added, fill_value=0.0).rename("places")


def _capacity(dataset: Dataset, result: PlanResult) -> list[str]:
    """Pupils within usable places (ramp-up), plus the soft-capacity allowance where allowed."""
    local = result.placements[result.placements["option_id"] != INDEPENDENT]
    groups = local.groupby(["option_id", "year"])["pupils"]
    used, rows = groups.sum(), groups.size()  # each row rounded to 6 decimals: ± half of 1e-6
    places = _places(dataset, result.plan)
    usable = places - _ramping(dataset, result.plan, places.index)
    soft = dataset.config.placement_rules.soft_capacity
    kind = dataset.options.set_index("option_id")["kind"]
    allowance = places * soft.share * places.index.get_level_values(0).map(kind).isin(
        soft.kinds)
    limit = (usable + allowance).reindex(used.index, fill_value=0.0)
    over = used[used > limit + PUPILS_AUDIT + PUPILS_ROUNDED_ROW * rows]
    return [f"option {o} in {y}: {used[(o, y)]:.6g} pupils in {limit[(o, y)]:.6g} usable places"
            for o, y in over.index[:10]]


def _ramping(dataset: Dataset, plan: pd.DataFrame, index: pd.MultiIndex) -> pd.Series:
    rules = dataset.config.placement_rules
    kind = dataset.options.set_index("option_id")["kind"]
    unusable = pd.Series(0.0, index=index)
    for row in plan.itertuples(index=False):
        ramp = rules.ramp(kind[row.option_id])
        for lag, share in ((0, ramp.first_year), (1, ramp.second_year)):
            if (row.option_id, row.opening_year + lag) in unusable.index:
                unusable[(row.option_id, row.opening_year + lag)] += row.places * (1 - share)
    return unusable


def _sticky(dataset: Dataset, result: PlanResult) -> list[str]:
    """Sticky runs: nobody leaves a setting faster than the phase's leaving rate allows."""
    if dataset.placement_model != "sticky":
        return []
    rules = dataset.config.placement_rules
    key = ["area_id", "need", "phase"]
    demand = dataset.demand.set_index([*key, "year"])["pupils"]
    placed = result.placements.set_index([*key, "option_id", "year"])["pupils"]
    earlier = placed.rename(index=lambda y: y + 1, level="year")
    both = pd.concat([placed.rename("now"), earlier.rename("before")], axis=1).dropna(
        subset=["before"]).fillna({"now": 0.0})
    both = both[both.index.get_level_values("year") <= dataset.config.end_year]
    levels = both.index.droplevel("option_id")
    ratio = (demand.reindex(levels).to_numpy()
             / demand.reindex(levels.set_levels(levels.levels[-1] - 1, level="year")).to_numpy())
    natural = levels.get_level_values("phase").map(rules.retention).to_numpy()
    kept = both["before"].to_numpy() * np.minimum(natural, np.nan_to_num(ratio))
    moved = both[both["now"].to_numpy() < kept - PUPILS_AUDIT]
    problems = [f"{k}: {r.now:.6g} pupils left of {r.before:.6g} — moved mid-phase"
                for k, r in moved.head(10).iterrows()]
    if dataset.current is not None:
        start = placed.xs(dataset.config.start_year, level="year")
        current = dataset.current.set_index([*key, "option_id"])["pupils"]
        short = current[start.reindex(current.index, fill_value=0.0) < current - PUPILS_AUDIT]
        problems += [f"{k}: fewer than the {v:g} pupils already placed there"
                     for k, v in short.head(10).items()]
    return problems


def _eligibility_and_journeys(dataset: Dataset, result: PlanResult) -> list[str]:
    local = result.placements[result.placements["option_id"] != INDEPENDENT]
    options = dataset.options
    served = (options[["option_id", "needs", "phases"]].explode("needs").explode("phases")
              .rename(columns={"needs": "need", "phases": "phase"}))
    checked = local.merge(served, on=["option_id", "need", "phase"], how="left", indicator=True)
    problems = [f"{o} does not serve {n} {p}" for o, n, p in checked.loc[
        checked["_merge"] == "left_only", ["option_id", "need", "phase"]].itertuples(index=False)]
    limits = local["phase"].map(dataset.config.travel_limit_minutes)
    over = local[local["minutes"] > limits + MINUTES_LIMIT]
    problems += [f"{a} → {o}: {m:.1f} minutes, over the {p} limit"
                 for a, o, m, p in over[["area_id", "option_id", "minutes", "phase"]].itertuples(
                     index=False)]
    site = local["option_id"].map(options.set_index("option_id")["site_id"])
    journeys = local.assign(site_id=site).merge(dataset.travel, on=["area_id", "site_id"],
                                                how="left", suffixes=("", "_input"))
    mismatch = ~((journeys["minutes"] - journeys["minutes_input"]).abs() <= MINUTES_INPUT_AGREEMENT)
    problems += [f"journey minutes of {a} → {o} differ from the travel table"
                 for a, o in journeys.loc[mismatch, ["area_id", "option_id"]].itertuples(
                     index=False)]
    return problems[:20]


def _openings(dataset: Dataset, result: PlanResult) -> list[str]:
    config = dataset.config
    plan = result.plan.merge(dataset.options, on="option_id", suffixes=("", "_input"))
    building = _under_construction(dataset, plan)  # fixed openings: lead time waived
    problems = [f"{r.option_id} opens in {r.opening_year}, before earliest_year {r.earliest_year}"
                for r, b in zip(plan.itertuples(), building, strict=True)
                if r.opening_year < r.earliest_year and not b]
    problems += [f"{r.option_id}: capital year {r.capital_year} ≠ opening − lead time, or "
                 f"before {config.start_year}" for r, b in zip(plan.itertuples(), building,
                                                                strict=True)
                 if r.capital_year != r.opening_year - r.lead_time_years
                 or (r.capital_year < config.start_year and not b)]
    if config.capital.on and not result.plan.empty:  # every tranche spent before it opens
        spend = spend_table(result.plan, config)
        last = np.maximum(spend["opening_year"] - 1, spend["capital_year"])  # lead 0: c = y
        late = spend[spend["spend_year"] > last]
        problems += [f"{r.option_id}: capital spent in {r.spend_year}, not before it opens "
                     f"in {r.opening_year}" for r in late.itertuples()]
    per_option = plan.groupby("option_id").agg(
        modules=("modules", "sum"), capital=("capital_cost", "sum"),
        max_modules=("max_modules", "first"), per_module=("capital_cost_per_module", "first"),
        fixed=("fixed_capital_cost", "first"))
    problems += [f"{o}: {r.modules} modules opened, max_modules is {r.max_modules}"
                 for o, r in per_option.iterrows() if r.modules > r.max_modules]
    expected = per_option["modules"] * per_option["per_module"] + per_option["fixed"]
    wrong = (per_option["capital"] - expected).abs() > CAPITAL_AUDIT_ABS
    problems += [f"{o}: capital {per_option.loc[o, 'capital']:,.0f} ≠ modules × cost + fixed "
                 f"{expected[o]:,.0f}" for o in per_option.index[wrong]]
    return problems


def _under_construction(dataset: Dataset, plan: pd.DataFrame) -> np.ndarray:
    """Per plan row: a fixed opening whose capital year is before the start (committed.csv)."""
    if dataset.fixed is None or plan.empty:
        return np.zeros(len(plan), dtype=bool)
    fixed = pd.MultiIndex.from_frame(dataset.fixed[["option_id", "opening_year"]])
    keys = pd.MultiIndex.from_frame(plan[["option_id", "opening_year"]])
    return np.asarray(keys.isin(fixed) & (plan["capital_year"] < dataset.config.start_year))


def _fixed_openings(dataset: Dataset, result: PlanResult) -> list[str]:
    """Every committed or locked opening is in the plan with exactly its modules."""
    if dataset.fixed is None:
        return []
    planned = result.plan.groupby(["option_id", "opening_year"])["modules"].sum()
    return [f"fixed opening {r.option_id} in {r.opening_year} ({r.modules} modules): the "
            f"plan has {planned.get((r.option_id, r.opening_year), 0)}"
            for r in dataset.fixed.itertuples(index=False)
            if planned.get((r.option_id, r.opening_year), 0) != r.modules]


def _budget(dataset: Dataset, result: PlanResult) -> list[str]:
    """Cash spent each year (spend profile and construction inflation followed) ≤ budget."""
    spent = cash_by_year(result.plan, dataset.config)
    return [f"capital {spent[y]:,.0f} in {y} exceeds the budget {b:,.0f}"
            for y, b in dataset.config.capital_budget.items()
            if spent.get(y, 0.0) > b * (1 + BUDGET_AUDIT_REL) + CAPITAL_AUDIT_ABS]


def delivery_use(dataset: Dataset, plan: pd.DataFrame) -> pd.DataFrame:
    """Each delivery limit of the run and what the plan uses of it, recounted from the plan.

    Columns: ``limit`` (the key, or ``exclusive_group``), ``scope`` (the year, the site or
    the group), ``used``, ``allowed``. A scheme is an option's first opening in the plan.
    No rows when the run has no delivery limit.
    """
    delivery, options = dataset.config.delivery, dataset.options
    plan = plan.merge(options[["option_id", "site_id", "kind"]], on="option_id",
                      suffixes=("_plan", ""))
    schemes = plan.groupby("option_id").agg(year=("opening_year", "min"), kind=("kind", "first"))
    parts = []
    scopes = [("max_new_schemes_per_year", None, delivery.schemes_per_year)] + [
        (f"max_new_schemes_per_year_by_kind.{k}", k, most)
        for k, most in delivery.schemes_per_year_by_kind.items()]
    for key, kind, most in scopes:
        if most is not None:
            chosen = schemes if kind is None else schemes[schemes["kind"] == kind]
            used = chosen.groupby("year").size().reindex(dataset.config.years, fill_value=0)
            parts.append(pd.DataFrame({"limit": key, "scope": used.index.astype(str),
                                       "used": used.to_numpy(), "allowed": most}))
    if delivery.modules_per_site is not None:
        used = plan.groupby("site_id")["modules"].sum()
        parts.append(pd.DataFrame({"limit": "max_new_modules_per_site",
                                   "scope": used.index.astype(str), "used": used.to_numpy(),
                                   "allowed": delivery.modules_per_site}))
    if EXCLUSIVE_GROUP in options.columns:
        grouped = options[options[EXCLUSIVE_GROUP] != ""]
        opened = grouped["option_id"].isin(schemes.index).groupby(grouped[EXCLUSIVE_GROUP]).sum()
        parts.append(pd.DataFrame({"limit": EXCLUSIVE_GROUP, "scope": opened.index.astype(str),
                                   "used": opened.to_numpy(), "allowed": 1}))
    columns = ["limit", "scope", "used", "allowed"]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns].astype({"used": "int64",
                                                                "allowed": "int64"})


def _delivery(dataset: Dataset, result: PlanResult) -> list[str]:
    """Schemes per year (LA-wide, per kind), new modules per site, exclusive groups."""
    use = delivery_use(dataset, result.plan)
    over = use[use["used"] > use["allowed"]]
    return [f"{r.limit} {r.scope}: {r.used} used, {r.allowed} allowed"
            for r in over.itertuples(index=False)]


def _independent_allowed(dataset: Dataset, result: PlanResult) -> list[str]:
    if dataset.config.independent.available:
        return []
    n = result.placements.loc[result.placements["option_id"] == INDEPENDENT, "pupils"].sum()
    return [f"{n:.6g} independent placements although [independent] available = false"] if n else []


def _providers(dataset: Dataset, result: PlanResult) -> list[str]:
    """independent.csv runs: each group's independent pupils at its cheapest eligible provider.

    Rechecked from independent.csv and the journeys alone: the provider serves the need and
    phase, the row's km is its journey, and no eligible provider costs less (fee + transport).
    """
    providers, journeys = dataset.providers, dataset.provider_travel
    if providers is None or journeys is None or PROVIDER not in result.placements.columns:
        return []
    t = dataset.config.transport
    offers = (pd.DataFrame(providers[["provider_id", "needs", "phases", "cost_per_place"]])
              .explode("needs").explode("phases")
              .rename(columns={"needs": "need", "phases": "phase"})
              .merge(journeys[["area_id", "provider_id", "km"]], on="provider_id"))
    offers["cost"] = offers["cost_per_place"] + t.cost_per_pupil + t.cost_per_km * offers["km"]
    keys = ["area_id", "need", "phase"]
    cheapest = offers.groupby(keys)["cost"].min()
    rows = result.placements[result.placements["option_id"] == INDEPENDENT]
    chosen = rows.merge(offers, on=[*keys, PROVIDER], how="left", suffixes=("", "_provider"))
    best = pd.Series(cheapest.reindex(pd.MultiIndex.from_frame(chosen[keys])).to_numpy(),
                     index=chosen.index)
    named = chosen[PROVIDER] != ""
    problems = [f"{r.area_id} {r.need} {r.phase}: provider {r.provider_id} does not take them"
                for r in chosen[named & chosen["cost"].isna()].itertuples(index=False)]
    problems += [f"{r.area_id} {r.need} {r.phase}: no provider named although one is eligible"
                 for r in chosen[~named & best.notna()].itertuples(index=False)]
    dearer = named & (chosen["cost"] > best + MONEY_AUDIT_ABS)
    problems += [f"{r.area_id} {r.need} {r.phase}: provider {r.provider_id} is not the cheapest"
                 for r in chosen[dearer].itertuples(index=False)]
    wrong_km = named & ~((chosen["km"] - chosen["km_provider"]).abs() <= MINUTES_INPUT_AGREEMENT)
    problems += [f"{r.area_id} → {r.provider_id}: km differ from the provider's journey"
                 for r in chosen[wrong_km].itertuples(index=False)]
    return problems[:20]


def _objective(result: PlanResult) -> list[str]:
    solver = result.report.objective
    if solver is None:
        return []
    tables = result.total_cost
    if abs(tables - solver) > MONEY_AUDIT_REL * max(abs(solver), 1.0) + MONEY_AUDIT_ABS:
        return [f"costs_by_year adds up to £{tables:,.2f} but the solver's objective is "
                f"£{solver:,.2f}"]
    return []


def _capital_views(dataset: Dataset, result: PlanResult) -> list[str]:
    """The cash view and the economic view of capital agree (appraisal or capital rules on).

    - ``capital_cash`` by year is the cash the openings spend (profile, inflation);
    - the economic ``capital`` (what the objective charges; annuity: the equal yearly
      charges) discounted equals, opening by opening, the closed form
      Σ_tranches δ_c · K · a, a = (1 − (1 + r)^−n) / (1 − (1 + r)^−L) (v1: a = 1);
    - without inflation: Σ δ_t · capital_cash − Σ residual_value = Σ δ_t · capital.
    """
    config = dataset.config
    if not (config.appraisal.annuity or config.capital.on):
        return []
    costs = result.costs_by_year.set_index("year")
    delta = pd.Series([config.discount_factor(y) for y in costs.index], index=costs.index)
    problems = []
    cash = cash_by_year(result.plan, config).reindex(costs.index, fill_value=0.0)
    off = (costs[CAPITAL_CASH] - cash).abs() > CAPITAL_AUDIT_ABS
    problems += [f"capital_cash {costs.loc[y, CAPITAL_CASH]:,.2f} in {y} ≠ the openings' cash "
                 f"{cash[y]:,.2f}" for y in costs.index[off]]
    economic = float((costs["capital"] * delta).sum())
    closed = float(spend_table(result.plan, config)["charged"].sum())
    if not _agrees(economic, closed, len(costs)):
        problems.append(f"discounted capital charges £{economic:,.2f} ≠ the closed form "
                        f"£{closed:,.2f}")
    residual = float(result.plan[RESIDUAL].sum()) if RESIDUAL in result.plan.columns else 0.0
    cash_pv = float((costs[CAPITAL_CASH] * delta).sum())
    if config.capital.construction_inflation == 0.0 and not _agrees(
            cash_pv - residual, economic, len(costs) + len(result.plan)):
        problems.append(f"discounted cash capital £{cash_pv:,.2f} − residual value "
                        f"£{residual:,.2f} ≠ the objective's capital £{economic:,.2f}")
    return problems


def _agrees(a: float, b: float, rounded: int) -> bool:
    """Two £ totals agree within the audit's money tolerance and ``rounded`` half-pennies."""
    return abs(a - b) <= MONEY_AUDIT_REL * max(abs(a), 1.0) + MONEY_AUDIT_ABS + 0.005 * rounded


def _numerics(result: PlanResult) -> list[str]:
    """Numerical trouble: a NaN, an infinity or a negative pupil count in the plan's tables.

    The other checks compare numbers, and NaN > x is False: they would pass NaN silently.
    """
    tables = {"plan": result.plan, "placements": result.placements,
              "costs_by_year": result.costs_by_year, "capacity": result.capacity}
    problems = []
    for name, table in tables.items():
        numbers = table.select_dtypes("number").drop(columns=["minutes", "km"], errors="ignore")
        if not np.isfinite(numbers.to_numpy(dtype=float)).all():
            problems.append(f"numerical trouble: {name} holds NaN or infinite values")
    if (result.placements["pupils"] < -PUPILS_AUDIT).any():
        problems.append("numerical trouble: negative pupils in placements")
    return problems


def audit(dataset: Dataset, result: PlanResult) -> None:
    """Raise :class:`AuditError` listing every invariant the plan breaks."""
    problems = (_numerics(result) + _placed_demand(dataset, result)
                + _capacity(dataset, result) + _sticky(dataset, result)
                + _fixed_openings(dataset, result)
                + _eligibility_and_journeys(dataset, result) + _openings(dataset, result)
                + _budget(dataset, result) + _delivery(dataset, result)
                + _independent_allowed(dataset, result)
                + _providers(dataset, result)
                + _capital_views(dataset, result) + _objective(result))
    if problems:
        raise AuditError(f"the {result.label} plan failed its audit:\n  - "
                         + "\n  - ".join(problems) + "\n" + NUMERICAL_TROUBLE)
