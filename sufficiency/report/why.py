"""Why each opening: its cost per pupil-year against what the same pupils cost otherwise.

For every option the optimal plan opens, over the whole horizon (£, real terms, not
discounted). The **added pupil-years** are the pupils the option takes in the optimal plan
beyond those it takes under do nothing (for a new option, all its pupils); they come from
the demand groups (year, area, need, phase) whose pupils there grow, in proportion to that
growth (the model re-places every cohort each year, so an expanded school may also swap
some groups for others; only the net growth is attributed to the opening):

- **cost per added pupil-year** = placement (``annual_cost_per_place``; with costs.csv the
  added pupils' own need and phase figures, weighted by pupils) + commissioned
  places (``annual_cost_per_commissioned_place`` × the new place-years, per added
  pupil-year, so empty new places count) + transport (the local journey cost of the added
  pupils) + **annualised capital**: the capital of its openings spread evenly over the
  added pupil-years within the horizon (no annuity, no value after the horizon, as in the
  model);
- **alternative** = what the same pupils cost under do nothing: for each demand group, the
  dearest placement that group has under do nothing (the pupils new places take are the
  marginal ones, usually independent), per pupil-year, weighted by the added pupils;
- **saving per pupil-year** = alternative − cost; **saving** = that × added pupil-years.

Pure function of the dataset and the result tables: nothing is re-solved.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sufficiency.outcome import PlanResult
from sufficiency.preprocess.costs import LOCAL_COST, has_cost_files, place_costs_of, unit_costs_of
from sufficiency.preprocess.dataset import Dataset
from sufficiency.preprocess.vocabulary import INDEPENDENT
from sufficiency.tolerances import SHARE

GROUP = ["year", "area_id", "need", "phase"]
WHY_COLUMNS = ["option_id", "site_id", "kind", "new_places", "capital", "added_pupil_years",
               "new_place_years", "placement", "commissioned", "transport",
               "capital_per_pupil_year", "cost_per_pupil_year", "alternative_per_pupil_year",
               "saving_per_pupil_year", "saving", "alternative", "independent_share"]
MONEY_COLUMNS = ["placement", "commissioned", "transport", "capital_per_pupil_year",
                 "cost_per_pupil_year", "alternative_per_pupil_year", "saving_per_pupil_year",
                 "saving"]
CAPITAL_METHOD = ("capital spread evenly over the pupil-years the new places add within the "
                  "horizon (no annuity, no value after the horizon)")


def pupil_cost(placements: pd.DataFrame, dataset: Dataset) -> pd.Series:
    """£ per pupil-year of each placement row: place + transport, or independent fee + taxi."""
    if has_cost_files(dataset.costs, dataset.providers):  # by need, phase and provider
        unit = unit_costs_of(dataset, placements)
        return (unit["place"] + unit["transport"]).astype(float)
    config = dataset.config
    per_place = placements["option_id"].map(
        dataset.options.set_index("option_id")["annual_cost_per_place"])
    t, i = config.transport, config.independent
    local = per_place + t.cost_per_pupil + t.cost_per_km * placements["km"]
    independent = i.cost_per_place + i.transport_cost_per_pupil
    is_independent = placements["option_id"] == INDEPENDENT
    return pd.Series(np.where(is_independent, independent, local), index=placements.index,
                     dtype=float)


def marginal_alternative(do_nothing: PlanResult, dataset: Dataset) -> pd.DataFrame:
    """Per demand group: the dearest do-nothing placement (£/pupil-year), and if independent."""
    table = do_nothing.placements.assign(cost=pupil_cost(do_nothing.placements, dataset))
    table = table.sort_values([*GROUP, "cost", "option_id"], kind="stable")
    dearest = table.groupby(GROUP, sort=False).tail(1)
    return dearest.assign(independent=dearest["option_id"] == INDEPENDENT)[
        [*GROUP, "cost", "independent"]].rename(columns={"cost": "alternative"})


def added_pupils(opened: list[str], optimal: PlanResult, do_nothing: PlanResult | None
                 ) -> pd.DataFrame:
    """Per opened option and demand group: the pupils the opening adds, with their km.

    The groups whose pupils at the option grow over do nothing, scaled so that they sum to
    the option's net growth in pupil-years (all its pupils without a do-nothing plan).
    Columns: option_id, GROUP, pupils (≥ 0), km.
    """
    keys = ["option_id", *GROUP]
    here = optimal.placements[optimal.placements["option_id"].isin(opened)]
    table = here.groupby(keys, as_index=False).agg(pupils=("pupils", "sum"), km=("km", "first"))
    if do_nothing is None:
        return table
    before = do_nothing.placements[do_nothing.placements["option_id"].isin(opened)]
    net = (here.groupby("option_id")["pupils"].sum()
           .sub(before.groupby("option_id")["pupils"].sum(), fill_value=0.0))
    before = before.groupby(keys)["pupils"].sum().rename("before").reset_index()
    table = table.merge(before, on=keys, how="left").fillna({"before": 0.0})
    growth = (table["pupils"] - table["before"]).clip(lower=0.0)
    total_growth = growth.groupby(table["option_id"]).transform("sum")
    option_net = table["option_id"].map(net).clip(lower=0.0)
    scale = np.where(total_growth > 0, option_net / total_growth.where(total_growth > 0, 1.0),
                     0.0)
    table["pupils"] = growth * scale
    return table[table["pupils"] > 0][[*keys, "pupils", "km"]].reset_index(drop=True)


def _capacity_and_capital(opened: list[str], optimal: PlanResult,
                          dataset: Dataset) -> pd.DataFrame:
    """Per opened option: site, kind, new places, capital, new place-years and unit costs."""
    options = dataset.options.set_index("option_id").loc[opened]
    plan = optimal.plan.groupby("option_id").agg(new_places=("places", "sum"),
                                                 capital=("capital_cost", "sum"))
    capacity = optimal.capacity[optimal.capacity["option_id"].isin(opened)]
    new = (capacity["places"] - capacity["option_id"].map(options["existing_places"])).clip(
        lower=0.0)
    table = pd.DataFrame({
        "option_id": opened,
        "site_id": options["site_id"].to_numpy(),
        "kind": options["kind"].to_numpy(),
        "new_places": plan["new_places"].reindex(opened).fillna(0).astype("int64").to_numpy(),
        "capital": plan["capital"].reindex(opened).fillna(0.0).to_numpy(float),
        "new_place_years": new.groupby(capacity["option_id"]).sum().reindex(opened)
        .fillna(0.0).to_numpy(float),
        "per_place": options["annual_cost_per_place"].to_numpy(float),
        "per_commissioned": options["annual_cost_per_commissioned_place"].to_numpy(float),
    })
    return table


def _per_option_sums(added: pd.DataFrame, alternatives: pd.DataFrame | None,
                     dataset: Dataset) -> pd.DataFrame:
    """Per option: added pupil-years, their transport £, and their do-nothing alternative £."""
    t = dataset.config.transport
    added = added.assign(transport=added["pupils"] * (t.cost_per_pupil
                                                      + t.cost_per_km * added["km"]))
    place = place_costs_of(dataset)  # costs.csv: each added pupil at its own need's cost
    if place is None:
        added["placement"] = np.nan
    else:
        keys = ["option_id", "need", "phase"]
        cost = added[keys].merge(place[[*keys, LOCAL_COST]], on=keys, how="left")[LOCAL_COST]
        added["placement"] = added["pupils"] * cost.to_numpy(float)
    if alternatives is not None:
        added = added.merge(alternatives, on=GROUP, how="left")
        added["alternative"] = added["pupils"] * added["alternative"]
        added["independent"] = added["pupils"] * added["independent"].astype(float)
    else:
        added = added.assign(alternative=np.nan, independent=np.nan)
    return added.groupby("option_id").agg(
        added_pupil_years=("pupils", "sum"), transport=("transport", "sum"),
        placement=("placement", "sum"),
        alternative=("alternative", lambda v: v.sum(min_count=len(v))),
        independent=("independent", lambda v: v.sum(min_count=len(v))))


def alternative_label(share: float) -> str:
    """Words for where the added pupils would be under do nothing."""
    if np.isnan(share):
        return "not available"
    if share >= 1 - SHARE:
        return "independent"
    if share <= SHARE:
        return "a dearer existing local place"
    return f"independent for {share:.0%}, otherwise a dearer existing local place"


def why_openings(dataset: Dataset, optimal: PlanResult, do_nothing: PlanResult | None
                 ) -> pd.DataFrame:
    """One row per opened option: cost per added pupil-year, its alternative, the saving."""
    opened = sorted(optimal.plan["option_id"].unique())
    if not opened:
        text = {"option_id", "site_id", "kind", "alternative"}
        return pd.DataFrame({c: pd.Series(dtype=object if c in text else float)
                             for c in WHY_COLUMNS})
    alternatives = None if do_nothing is None else marginal_alternative(do_nothing, dataset)
    table = _capacity_and_capital(opened, optimal, dataset)
    sums = _per_option_sums(added_pupils(opened, optimal, do_nothing), alternatives, dataset)
    sums = sums.reindex(opened)
    pupils = sums["added_pupil_years"].fillna(0.0).to_numpy(float)
    divisor = np.where(pupils > 0, pupils, np.nan)
    table["added_pupil_years"] = pupils
    table["placement"] = (np.where(pupils > 0, table["per_place"], np.nan)
                          if dataset.costs is None
                          else sums["placement"].to_numpy(float) / divisor)
    table["commissioned"] = table["new_place_years"] * table["per_commissioned"] / divisor
    table["transport"] = sums["transport"].to_numpy(float) / divisor
    table["capital_per_pupil_year"] = table["capital"] / divisor
    table["cost_per_pupil_year"] = table[["placement", "commissioned", "transport",
                                          "capital_per_pupil_year"]].sum(axis=1, min_count=4)
    table["alternative_per_pupil_year"] = sums["alternative"].to_numpy(float) / divisor
    table["saving_per_pupil_year"] = (table["alternative_per_pupil_year"]
                                      - table["cost_per_pupil_year"])
    table["saving"] = table["saving_per_pupil_year"] * pupils
    table["independent_share"] = sums["independent"].to_numpy(float) / divisor
    table["alternative"] = table["independent_share"].map(alternative_label)
    table[MONEY_COLUMNS] = table[MONEY_COLUMNS].astype(float).round(2)
    table["added_pupil_years"] = table["added_pupil_years"].round(4)
    table = table[WHY_COLUMNS]
    return table.sort_values(["saving", "option_id"], ascending=[False, True],
                             na_position="last").reset_index(drop=True)
