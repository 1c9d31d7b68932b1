"""Tidy result tables (£, pupils, places) extracted from a solved model.

Costs are recomputed here from the extracted tables and the dataset's inputs, not from the
model's objective coefficients: :mod:`sufficiency.audit` then checks that both agree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sufficiency.formulation import FIRST, MODULES, PlanModel, U, X
from sufficiency.outcome import (
    CAPITAL_CASH,
    COST_COLUMNS,
    DECISION,
    PLACEMENT_COLUMNS,
    PLAN_COLUMNS,
    PROVIDER,
    RESIDUAL,
    PlanResult,
    SolveReport,
)
from sufficiency.preprocess.capital import (
    annual_charges,
    cash_by_year,
    residual_values,
    spend_table,
)
from sufficiency.preprocess.committed import NEW
from sufficiency.preprocess.config import RunConfig
from sufficiency.preprocess.costs import unit_costs_of
from sufficiency.preprocess.dataset import Dataset
from sufficiency.preprocess.vocabulary import INDEPENDENT
from sufficiency.tolerances import PUPILS_EXTRACTED


def _values(members: list) -> np.ndarray:
    return np.array([v.value if v.value is not None else 0.0 for v in members], dtype=float)


def extract_plan(plan_model: PlanModel, dataset: Dataset) -> pd.DataFrame:
    """Openings: modules > 0 per (option, year), with places and capital (£)."""
    sets = plan_model.sets
    slots = sets.open_slots.assign(modules=np.rint(_values(plan_model.variables[MODULES])))
    firsts = sets.first_slots.assign(first=np.rint(_values(plan_model.variables[FIRST])))
    slots["pays_fixed"] = 0.0
    slots.loc[firsts.loc[firsts["first"] > 0, "slot"].to_numpy(), "pays_fixed"] = 1.0
    opened = slots[slots["modules"] > 0].merge(
        dataset.options[["option_id", "site_id", "kind", "module_places",
                         "capital_cost_per_module", "fixed_capital_cost"]], on="option_id")
    opened = opened.assign(
        modules=opened["modules"].astype("int64"),
        places=(opened["modules"] * opened["module_places"]).astype("int64"),
        opening_year=opened["year"].astype("int64"),
        capital_year=opened["capital_year"].astype("int64"),
        capital_cost=opened["modules"] * opened["capital_cost_per_module"]
        + opened["pays_fixed"] * opened["fixed_capital_cost"],
    )
    plan = opened.sort_values(["opening_year", "option_id"])[PLAN_COLUMNS].reset_index(drop=True)
    if dataset.config.appraisal.annuity:  # discounted capital beyond the horizon's service
        plan[RESIDUAL] = residual_values(plan, dataset.config).round(2)
    if dataset.fixed is not None:  # committed.csv or locks: which rows were decided before
        source = dataset.fixed.set_index(["option_id", "opening_year"])["source"]
        keys = pd.MultiIndex.from_frame(plan[["option_id", "opening_year"]])
        plan[DECISION] = source.reindex(keys).fillna(NEW).to_numpy(object)
    return plan


def _to_members(placed: pd.DataFrame, sets) -> pd.DataFrame:
    """Split pupils placed per commodity back to need × phase, in proportion to demand.

    Exact for the v1 model, where every year's pupils are placed afresh (sticky cohorts:
    :func:`cohort_split`).
    """
    share = sets.member_demand.merge(sets.cells.rename(columns={"pupils": "cell_pupils"}),
                                     on=["area_id", "commodity", "year"])
    share["share"] = share["pupils"] / share["cell_pupils"]
    split = placed.merge(share[["area_id", "commodity", "year", "need", "phase", "share"]],
                         on=["area_id", "commodity", "year"])
    split["pupils"] = split["pupils"] * split["share"]
    return split


CELL = ["area_id", "commodity", "year"]
SLOT = ["area_id", "commodity", "option_id"]  # an option (or independent) of an area's group
MEMBER = ["area_id", "commodity", "need", "phase"]


def cohort_split(held: pd.DataFrame, sets) -> pd.DataFrame:
    """Pupils of merged commodities split back to need × phase, meeting every member's rows.

    ``held``: pupils per (area, commodity, year, option_id or independent), every arc and
    cell of the commodities split (zeros included). Year by year, each member keeps ρ of
    its own pupils at each option the year before (the start year: its pupils already
    placed), the stayers; its entrants (demand − stayers) fill each option's pupils above
    the stayers there, in proportion (x = stayers + entrants_m · room_o / Σ room). It is
    a transportation problem with every member allowed at every option (members share
    options, limits and costs), so this product split always solves it: every member's
    demand is met exactly, and each option's total is its merged value, because the
    merged row x[o, t] ≥ ρ·x[o, t − 1] leaves room_o ≥ 0 when all members that had
    pupils keep the same ρ (:func:`~sufficiency.formulation.sets._cohort_groups`).
    Columns: the keys of ``held``, need, phase, pupils.
    """
    split = held["commodity"].unique()
    demand = sets.member_demand[sets.member_demand["commodity"].isin(split)]
    demand = demand.groupby([*CELL, "need", "phase"], sort=True)["pupils"].sum().reset_index()
    cohorts = sets.cohorts
    rho = sets.cells.iloc[cohorts.carry_independent["cell"].to_numpy()][CELL].assign(
        retention=cohorts.carry_independent["retention"].to_numpy(float))
    current = cohorts.current_members
    stayers = current[current["commodity"].isin(split)][[*MEMBER, "option_id", "pupils"]]
    years = []
    for year in sets.years:  # every year, so the year before is always year − 1
        members = demand[demand["year"] == year]
        stayers = stayers.merge(members[MEMBER], on=MEMBER)
        now = _entrants_placed(held[held["year"] == year], members, stayers)
        years.append(now.assign(year=year))
        stayers = now.assign(year=year + 1).merge(rho, on=CELL)
        stayers["pupils"] = stayers["pupils"] * stayers.pop("retention")
        stayers = stayers[[*MEMBER, "option_id", "pupils"]]
    return pd.concat(years, ignore_index=True)


def _entrants_placed(held: pd.DataFrame, demand: pd.DataFrame,
                     stayers: pd.DataFrame) -> pd.DataFrame:
    """One year of :func:`cohort_split`: stayers plus entrants spread over each option's room."""
    stay_by_member = stayers.groupby(MEMBER)["pupils"].sum()
    stay_by_slot = stayers.groupby(SLOT)["pupils"].sum()
    members = demand.set_index(MEMBER)["pupils"]
    entrants = (members - stay_by_member.reindex(members.index, fill_value=0.0)).clip(lower=0.0)
    slots = held.set_index(SLOT)["pupils"].clip(lower=0.0)
    room = (slots - stay_by_slot.reindex(slots.index, fill_value=0.0)).clip(lower=0.0)
    total = room.groupby(["area_id", "commodity"]).transform("sum")
    share = (room / total.where(total > 0, 1.0)).rename("share").reset_index()
    spread = entrants.rename("entrants").reset_index().merge(share, on=["area_id", "commodity"])
    spread["pupils"] = spread.pop("entrants") * spread.pop("share")
    both = pd.concat([stayers, spread[[*MEMBER, "option_id", "pupils"]]], ignore_index=True)
    return both.groupby([*MEMBER, "option_id"], sort=True)["pupils"].sum().reset_index()


def _held(plan_model: PlanModel) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pupils placed by commodity: local (every placement) and independent (every cell)."""
    sets = plan_model.sets
    local = sets.placements.assign(pupils=_values(plan_model.variables[X]))
    independent = sets.cells.assign(pupils=_values(plan_model.variables[U]),
                                    option_id=INDEPENDENT, minutes=np.nan, km=np.nan)
    return local, independent


def _by_cohort(local: pd.DataFrame, independent: pd.DataFrame, sets) -> pd.DataFrame:
    """Placement rows of the merged commodities of a sticky run (:func:`cohort_split`)."""
    columns = [*CELL, "option_id", "pupils"]
    held = pd.concat([local[columns], independent[columns]], ignore_index=True)
    split = cohort_split(held, sets)
    journeys = local[[*SLOT, "minutes", "km"]].drop_duplicates(SLOT)
    split = split.merge(journeys, on=SLOT, how="left")
    return split[split["pupils"] > PUPILS_EXTRACTED]


def extract_placements(plan_model: PlanModel) -> pd.DataFrame:
    """Pupils placed locally (x > 0) and independently (u > 0), per need and phase.

    Sticky runs split merged commodities cohort by cohort (:func:`cohort_split`).
    """
    sets = plan_model.sets
    local, independent = _held(plan_model)
    parts = []
    if sets.cohorts is not None:
        size = sets.members.groupby("commodity")["need"].transform("size")
        merged = sets.members.loc[size.to_numpy() > 1, "commodity"].unique()
        if len(merged):
            parts.append(_by_cohort(local[local["commodity"].isin(merged)],
                                    independent[independent["commodity"].isin(merged)], sets))
            local = local[~local["commodity"].isin(merged)]
            independent = independent[~independent["commodity"].isin(merged)]
    local = local[local["pupils"] > PUPILS_EXTRACTED]
    independent = independent[independent["pupils"] > PUPILS_EXTRACTED]
    parts += [_to_members(local, sets), _to_members(independent, sets)]
    table = pd.concat([part[PLACEMENT_COLUMNS] for part in parts], ignore_index=True)
    table["pupils"] = table["pupils"].round(6)
    chosen = sets.independent_costs
    if chosen is not None and PROVIDER in chosen.columns:  # independent.csv runs only
        table = _with_providers(table, chosen)
    return table.sort_values(["year", "area_id", "need", "phase", "option_id"]).reset_index(
        drop=True)


def _with_providers(table: pd.DataFrame, chosen: pd.DataFrame) -> pd.DataFrame:
    """Independent rows with their group's provider (``provider_id``) and its journey.

    Local rows get an empty provider_id; independent rows without an eligible provider an
    empty one and no journey (their cost came from costs.csv or [independent]).
    """
    keys = ["area_id", "need", "phase"]
    found = table[keys].merge(chosen[[*keys, PROVIDER, "minutes", "km"]], on=keys, how="left")
    independent = (table["option_id"] == INDEPENDENT).to_numpy()
    table[PROVIDER] = np.where(independent, found[PROVIDER].fillna("").to_numpy(object), "")
    for column in ("minutes", "km"):
        table[column] = np.where(independent, found[column].to_numpy(float),
                                 table[column].to_numpy(float))
    return table


def capacity_table(dataset: Dataset, plan: pd.DataFrame, placements: pd.DataFrame) -> pd.DataFrame:
    """Places, pupils and empty places of every option in every year."""
    years = dataset.config.years
    options = dataset.options[["option_id", "existing_places"]]
    grid = options.merge(pd.DataFrame({"year": years}), how="cross")
    added = pd.Series(0.0, index=pd.MultiIndex.from_frame(grid[["option_id", "year"]]))
    for row in plan.itertuples(index=False):
        mask = (grid["option_id"] == row.option_id) & (grid["year"] >= row.opening_year)
        added[mask.to_numpy()] += row.places
    grid["places"] = grid["existing_places"] + added.to_numpy()
    grid["usable_places"] = grid["places"] - ramping_places(dataset, plan, grid)
    used = placements[placements["option_id"] != INDEPENDENT].groupby(
        ["option_id", "year"])["pupils"].sum()
    grid = grid.merge(used.rename("pupils").reset_index(), on=["option_id", "year"], how="left")
    grid["pupils"] = grid["pupils"].fillna(0.0)
    grid["empty_places"] = (grid["places"] - grid["pupils"]).clip(lower=0.0).round(6)
    grid["over_capacity"] = (grid["pupils"] - grid["usable_places"]).clip(lower=0.0).round(6)
    return grid[["option_id", "year", "places", "usable_places", "pupils", "empty_places",
                 "over_capacity"]]


def ramping_places(dataset: Dataset, plan: pd.DataFrame, grid: pd.DataFrame) -> np.ndarray:
    """New places not yet usable in their opening year (and the next), by ramp-up rules."""
    rules = dataset.config.placement_rules
    kind = dataset.options.set_index("option_id")["kind"]
    unusable = pd.Series(0.0, index=pd.MultiIndex.from_frame(grid[["option_id", "year"]]))
    for row in plan.itertuples(index=False):
        ramp = rules.ramp(kind[row.option_id])
        for lag, share in ((0, ramp.first_year), (1, ramp.second_year)):
            key = (row.option_id, row.opening_year + lag)
            if share < 1.0 and key in unusable.index:
                unusable[key] += row.places * (1.0 - share)
    return unusable.to_numpy()


def costs_by_year(dataset: Dataset, plan: pd.DataFrame, placements: pd.DataFrame,
                  capacity: pd.DataFrame) -> pd.DataFrame:
    """£ per year by component, from the tables and the inputs alone."""
    config = dataset.config
    options = dataset.options.set_index("option_id")
    local = placements[placements["option_id"] != INDEPENDENT]
    indep = placements[placements["option_id"] == INDEPENDENT]
    frame = pd.DataFrame({"year": config.years}).set_index("year")
    premium = config.placement_rules.soft_capacity.premium_per_pupil
    frame["over_capacity_premium"] = (capacity["over_capacity"] * premium).groupby(
        capacity["year"]).sum()
    unit = unit_costs_of(dataset, placements)  # £ per pupil-year: costs.csv, providers or v1
    local_unit, indep_unit = unit.loc[local.index], unit.loc[indep.index]
    frame["placement"] = (local["pupils"] * local_unit["place"]).groupby(local["year"]).sum().add(
        frame["over_capacity_premium"], fill_value=0.0)
    frame["commissioned"] = (capacity["places"] * capacity["option_id"].map(
        options["annual_cost_per_commissioned_place"])).groupby(capacity["year"]).sum()
    frame["transport"] = (local["pupils"] * local_unit["transport"]).groupby(local["year"]).sum()
    frame["independent"] = (indep["pupils"] * (indep_unit["place"] + indep_unit["transport"])
                            ).groupby(indep["year"]).sum()
    frame["capital"] = capital_by_year(plan, config)
    frame = frame.fillna(0.0)
    parts = ["placement", "commissioned", "transport", "independent", "capital"]
    frame["total"] = frame[parts].sum(axis=1)
    factors = pd.Series([config.discount_factor(y) for y in config.years], index=config.years)
    frame["discounted_total"] = frame["total"] * factors
    frame["pupils_local"] = local.groupby("year")["pupils"].sum()
    frame["pupils_independent"] = indep.groupby("year")["pupils"].sum()
    extra = []
    if config.appraisal.annuity or config.capital.on:  # what is really spent, each FY
        frame[CAPITAL_CASH] = cash_by_year(plan, config)
        extra.append(CAPITAL_CASH)
    frame = frame.fillna(0.0).round(2).reset_index()
    return frame[[*COST_COLUMNS, "pupils_local", "pupils_independent",
                  "over_capacity_premium", *extra]]


def capital_by_year(plan: pd.DataFrame, config: RunConfig) -> pd.Series:
    """The ``capital`` column of costs_by_year (£, real): what the objective charges each year.

    v1: the capital, in its capital year. A spend profile: each tranche in its own year.
    Annuity: the equal yearly charge of each tranche over the asset's years of service in
    the horizon (:func:`sufficiency.preprocess.capital.annual_charges`).
    """
    if config.appraisal.annuity:
        return annual_charges(plan, config)
    if config.capital.on:
        return spend_table(plan, config).groupby("spend_year")["amount"].sum()
    return plan.groupby("capital_year")["capital_cost"].sum()


def extract(plan_model: PlanModel, dataset: Dataset, report: SolveReport, label: str) -> PlanResult:
    """All result tables of the solution currently loaded in ``plan_model``."""
    plan = extract_plan(plan_model, dataset)
    placements = extract_placements(plan_model)
    capacity = capacity_table(dataset, plan, placements)
    costs = costs_by_year(dataset, plan, placements, capacity)
    return PlanResult(label, report, plan, placements, capacity, costs)
