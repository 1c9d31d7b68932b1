"""Transport impact of a plan: journeys, pupil-km and transport £ per area and year.

Pure views over a solved :class:`~sufficiency.results.PlanResult` and its
:class:`~sufficiency.preprocess.dataset.Dataset` (nothing is re-solved). For each area and academic
year, and for all areas together:

- ``pupils_local`` / ``pupils_independent``: pupils placed at a local option / independently
  (pupils may be fractional: the model splits cohorts);
- ``mean_minutes`` (weighted by pupils) and ``max_minutes`` of the one-way journeys of the
  locally placed pupils (independent journeys are left out: without independent.csv they
  are not known);
- ``pupil_km``: Σ pupils × one-way road km of the local journeys (km per school day one way);
- ``pupils_over_limit``: local pupils whose journey exceeds their phase's limit (zero for a
  plan the audit accepted: the limit is a constraint; reported so a transport team sees it);
- ``transport_cost_local`` (£) = pupils × (``cost_per_pupil`` + ``cost_per_km`` × km): the
  ``transport`` column of costs_by_year.csv;
- ``transport_cost_independent`` (£) = independent pupils × their transport £ per
  pupil-year (``[independent] transport_cost_per_pupil``; by need and phase from costs.csv;
  the provider's journey cost from independent.csv): part of the ``independent`` column of
  costs_by_year.csv;
- ``transport_cost`` = the sum of both, and ``discounted_transport_cost`` the same
  discounted as in the objective.

With independent.csv, the journeys of independent pupils to their provider (area demand
point → provider) are known too, and five columns follow ``travel_source``:

- ``independent_mean_minutes`` / ``independent_max_minutes``: pupil-weighted mean and the
  longest one-way journey of the independent pupils placed with a provider;
- ``independent_pupil_km``: Σ pupils × one-way km of those journeys;
- ``pupils_independent_over_limit``: independent pupils whose journey exceeds their
  phase's limit (the limit binds local places only, so these can be many);
- ``pupils_independent_no_provider``: independent pupils no provider takes (their cost came
  from costs.csv or ``[independent]``; their journey is not known).

``transport_table`` stacks the plan, do nothing and the change (plan − do nothing);
``travel_source`` says where the local journeys came from (``travel.csv``, ``straight line``).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd

from sufficiency.outcome import PROVIDER, PlanResult, RunResult
from sufficiency.preprocess import geo
from sufficiency.preprocess.costs import has_cost_files, unit_costs_of
from sufficiency.preprocess.dataset import Dataset
from sufficiency.preprocess.vocabulary import INDEPENDENT
from sufficiency.tolerances import MINUTES_LIMIT, PUPILS_VIEW

PLAN, DO_NOTHING, CHANGE = "plan", "do_nothing", "change"
AREA, TOTAL = "area", "total"
ALL_AREAS = "All areas"
RING_MINUTES = (15, 30, 45)
INDICATORS = ["pupils_local", "pupils_independent", "mean_minutes", "max_minutes", "pupil_km",
              "pupils_over_limit", "transport_cost_local", "transport_cost_independent",
              "transport_cost", "discounted_transport_cost"]
PROVIDER_INDICATORS = ["independent_mean_minutes", "independent_max_minutes",
                       "independent_pupil_km", "pupils_independent_over_limit",
                       "pupils_independent_no_provider"]  # with independent.csv only
NOT_ADDITIVE = ("mean_minutes", "max_minutes", "independent_mean_minutes",
                "independent_max_minutes")
TRANSPORT_COLUMNS = ["scenario", "level", "year", "area_id", "area_name", *INDICATORS,
                     "travel_source"]
DECIMALS = {"pupils_local": 4, "pupils_independent": 4, "mean_minutes": 2, "max_minutes": 2,
            "pupil_km": 3, "pupils_over_limit": 4, "transport_cost_local": 2,
            "transport_cost_independent": 2, "transport_cost": 2,
            "discounted_transport_cost": 2, "independent_mean_minutes": 2,
            "independent_max_minutes": 2, "independent_pupil_km": 3,
            "pupils_independent_over_limit": 4, "pupils_independent_no_provider": 4}
SOURCE_ORDER = (geo.TRAVEL_GIVEN, geo.TRAVEL_DERIVED)
HORIZON_NAMES = {"pupils_local": "pupil_years_local",
                 "pupils_independent": "pupil_years_independent",
                 "pupils_over_limit": "pupil_years_over_limit",
                 "pupils_independent_over_limit": "pupil_years_independent_over_limit",
                 "pupils_independent_no_provider": "pupil_years_independent_no_provider",
                 }  # pupils summed over years


def indicators(dataset: Dataset) -> list[str]:
    """The indicator columns of a run: v1's, then the independent journeys' (independent.csv)."""
    return INDICATORS + (PROVIDER_INDICATORS if dataset.providers is not None else [])


def transport_columns(dataset: Dataset) -> list[str]:
    """transport.csv's columns: v1's exactly, then the independent journeys' (independent.csv)."""
    return TRANSPORT_COLUMNS + (PROVIDER_INDICATORS if dataset.providers is not None else [])


_MEMO: dict[tuple, pd.DataFrame] = {}  # views of live runs and plans, each computed once


def _memoised(name: tuple, compute: Callable[[], pd.DataFrame], *owners: object) -> pd.DataFrame:
    """``compute()`` once per ``name`` and live ``owners`` (by identity); a copy each call.

    The outputs, map, GeoPackage and report each ask for the same views of a plan. An entry
    is dropped as soon as any owner is garbage collected, so an identity is never taken for a
    later object's; the owners (dataset, results) are not changed after a run.
    """
    key = (*name, *map(id, owners))
    if key not in _MEMO:
        _MEMO[key] = compute()
        for owner in owners:
            weakref.finalize(owner, _MEMO.pop, key, None)
    return _MEMO[key].copy()


def journeys(dataset: Dataset, result: PlanResult) -> pd.DataFrame:
    """Local placements with site, journey source, phase limit and transport £ (one-way)."""
    return _memoised(("journeys",), lambda: _journeys(dataset, result), dataset, result)


def _journeys(dataset: Dataset, result: PlanResult) -> pd.DataFrame:
    local = result.placements[result.placements["option_id"] != INDEPENDENT]
    sites = dataset.options.set_index("option_id")["site_id"]
    local = local.assign(site_id=local["option_id"].map(sites))
    sources = dataset.travel[["area_id", "site_id", "travel_source"]]
    local = local.merge(sources, on=["area_id", "site_id"], how="left")
    t = dataset.config.transport
    limit = local["phase"].map(dataset.config.travel_limit_minutes)
    return local.assign(
        limit_minutes=limit,
        over_limit=local["minutes"] > limit + MINUTES_LIMIT,
        pupil_km=local["pupils"] * local["km"],
        pupil_minutes=local["pupils"] * local["minutes"],
        transport_cost_local=local["pupils"] * (t.cost_per_pupil + t.cost_per_km * local["km"]),
    )


def independent_journeys(dataset: Dataset, result: PlanResult) -> pd.DataFrame:
    """Independent placements with their provider's journey, phase limit and transport £.

    Rows without a provider (no eligible one, or no independent.csv) have NaN minutes and km.
    """
    return _memoised(("independent_journeys",),
                     lambda: _independent_journeys(dataset, result), dataset, result)


def _independent_journeys(dataset: Dataset, result: PlanResult) -> pd.DataFrame:
    placements = result.placements
    rows = placements[placements["option_id"] == INDEPENDENT]
    if PROVIDER not in rows.columns:
        rows = rows.assign(**{PROVIDER: ""})
    unit = unit_costs_of(dataset, rows)
    limit = rows["phase"].map(dataset.config.travel_limit_minutes)
    known = rows[PROVIDER] != ""
    return rows.assign(
        limit_minutes=limit,
        has_journey=known,
        over_limit=known & (rows["minutes"] > limit + MINUTES_LIMIT),
        pupil_km=(rows["pupils"] * rows["km"]).where(known, 0.0),
        pupil_minutes=(rows["pupils"] * rows["minutes"]).where(known, 0.0),
        transport_cost_independent=rows["pupils"] * unit["transport"],
    )


def _independent_groups(dataset: Dataset, result: PlanResult, keys: list[str]) -> pd.DataFrame:
    """Independent transport £ (cost files) and journey indicators (providers) by ``keys``."""
    rows = independent_journeys(dataset, result)
    journeys = rows["has_journey"]
    grouped = rows.groupby(keys)
    table = pd.DataFrame({"transport_cost_independent":
                          grouped["transport_cost_independent"].sum()})
    if dataset.providers is None:
        return table
    return table.assign(
        independent_pupils_journey=rows["pupils"].where(journeys, 0.0).groupby(
            [rows[k] for k in keys]).sum(),
        independent_pupil_minutes=grouped["pupil_minutes"].sum(),
        independent_max_minutes=rows["minutes"].where(journeys).groupby(
            [rows[k] for k in keys]).max(),
        independent_pupil_km=grouped["pupil_km"].sum(),
        pupils_independent_over_limit=rows["pupils"].where(rows["over_limit"], 0.0).groupby(
            [rows[k] for k in keys]).sum(),
        pupils_independent_no_provider=rows["pupils"].where(~journeys, 0.0).groupby(
            [rows[k] for k in keys]).sum(),
    )


def _source_labels(local: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Per group of ``keys``: the journey sources present, joined in SOURCE_ORDER."""
    flags = pd.DataFrame({s: local["travel_source"].eq(s) for s in SOURCE_ORDER})
    present = flags.groupby([local[k] for k in keys]).any()
    labels = pd.Series("", index=present.index)
    for source in SOURCE_ORDER:
        labels = labels.where(~present[source],
                              labels.where(labels == "", labels + " + ") + source)
    return labels


def _aggregate(dataset: Dataset, result: PlanResult, keys: list[str]) -> pd.DataFrame:
    """Indicators grouped by ``keys`` (["year"] or ["year", "area_id"]), unrounded."""
    return _memoised(("aggregate", *keys), lambda: _grouped(dataset, result, keys), dataset,
                     result)


def _grouped(dataset: Dataset, result: PlanResult, keys: list[str]) -> pd.DataFrame:
    local = journeys(dataset, result)
    local = local.assign(over_pupils=local["pupils"].where(local["over_limit"], 0.0))
    grouped = local.groupby(keys)
    table = pd.DataFrame({
        "pupils_local": grouped["pupils"].sum(),
        "pupil_minutes": grouped["pupil_minutes"].sum(),
        "max_minutes": grouped["minutes"].max(),
        "pupil_km": grouped["pupil_km"].sum(),
        "pupils_over_limit": grouped["over_pupils"].sum(),
        "transport_cost_local": grouped["transport_cost_local"].sum(),
        "travel_source": _source_labels(local, keys),
    })
    placements = result.placements
    indep = placements[placements["option_id"] == INDEPENDENT].groupby(keys)["pupils"].sum()
    table = table.join(indep.rename("pupils_independent"), how="outer")
    if not has_cost_files(dataset.costs, dataset.providers):
        return table  # v1: independent transport is the flat figure (see _finish)
    return table.join(_independent_groups(dataset, result, keys), how="outer")


def _finish(table: pd.DataFrame, dataset: Dataset) -> pd.DataFrame:
    """Fill the empty cells, derive means and £, in indicator order (unrounded)."""
    config = dataset.config
    for column in ("pupils_local", "pupil_minutes", "pupil_km", "pupils_over_limit",
                   "transport_cost_local", "pupils_independent"):
        table[column] = table[column].astype(float).fillna(0.0)
    table["travel_source"] = table["travel_source"].fillna("")
    has_local = table["pupils_local"] > PUPILS_VIEW
    table["mean_minutes"] = (table["pupil_minutes"] / table["pupils_local"]).where(has_local)
    table["max_minutes"] = table["max_minutes"].astype(float).where(has_local)
    if "transport_cost_independent" in table.columns:  # costs.csv / independent.csv
        table["transport_cost_independent"] = table["transport_cost_independent"].astype(
            float).fillna(0.0)
    else:
        table["transport_cost_independent"] = (table["pupils_independent"]
                                               * config.independent.transport_cost_per_pupil)
    table["transport_cost"] = table["transport_cost_local"] + table["transport_cost_independent"]
    factor = table["year"].map(config.discount_factor)
    table["discounted_transport_cost"] = table["transport_cost"] * factor
    if dataset.providers is not None:
        _finish_independent(table)
    return table


def _finish_independent(table: pd.DataFrame) -> None:
    """The independent journeys' indicators: zeros filled, mean minutes over known journeys."""
    for column in ("independent_pupils_journey", "independent_pupil_minutes",
                   "independent_pupil_km", "pupils_independent_over_limit",
                   "pupils_independent_no_provider"):
        table[column] = table.get(column, pd.Series(0.0, index=table.index)).astype(
            float).fillna(0.0)
    known = table["independent_pupils_journey"] > PUPILS_VIEW
    table["independent_mean_minutes"] = (table["independent_pupil_minutes"]
                                         / table["independent_pupils_journey"]).where(known)
    table["independent_max_minutes"] = table.get(
        "independent_max_minutes", pd.Series(float("nan"), index=table.index)).astype(
        float).where(known)


def area_indicators(dataset: Dataset, result: PlanResult) -> pd.DataFrame:
    """One row per area and year of the horizon (every area, every year), unrounded."""
    config = dataset.config
    grid = dataset.areas[["area_id", "name"]].rename(columns={"name": "area_name"}).merge(
        pd.DataFrame({"year": config.years}), how="cross")
    table = _aggregate(dataset, result, ["year", "area_id"]).reset_index()
    table = grid.merge(table, on=["year", "area_id"], how="left")
    table = _finish(table, dataset).assign(level=AREA)
    return table.sort_values(["year", "area_id"]).reset_index(drop=True)


def year_totals(dataset: Dataset, result: PlanResult) -> pd.DataFrame:
    """One row per year for all areas together, unrounded (means over all local pupils)."""
    grid = pd.DataFrame({"year": dataset.config.years})
    table = grid.merge(_aggregate(dataset, result, ["year"]).reset_index(), on="year",
                       how="left")
    table = _finish(table, dataset)
    return table.assign(level=TOTAL, area_id="", area_name=ALL_AREAS)


def scenario_indicators(dataset: Dataset, result: PlanResult, scenario: str) -> pd.DataFrame:
    """Area rows and total rows of one plan, labelled ``scenario``, unrounded."""
    table = pd.concat([area_indicators(dataset, result), year_totals(dataset, result)],
                      ignore_index=True)
    return table.assign(scenario=scenario)[transport_columns(dataset)]


def change(plan: pd.DataFrame, do_nothing: pd.DataFrame) -> pd.DataFrame:
    """Plan − do nothing for every indicator of matching (level, year, area) rows."""
    keys = ["level", "year", "area_id"]
    shown = [c for c in INDICATORS + PROVIDER_INDICATORS if c in plan.columns]
    a = plan.set_index(keys)
    b = do_nothing.set_index(keys).reindex(a.index)
    out = a[shown] - b[shown]  # NaN where a mean or max is undefined on either side
    out = out.assign(area_name=a["area_name"], travel_source="", scenario=CHANGE)
    columns = TRANSPORT_COLUMNS + [c for c in PROVIDER_INDICATORS if c in plan.columns]
    return out.reset_index()[columns]


def _order(table: pd.DataFrame) -> pd.DataFrame:
    scenario = table["scenario"].map({PLAN: 0, DO_NOTHING: 1, CHANGE: 2})
    level = table["level"].map({AREA: 0, TOTAL: 1})
    keyed = table.assign(_s=scenario, _l=level)
    keyed = keyed.sort_values(["_s", "year", "_l", "area_id"], kind="stable")
    return keyed.drop(columns=["_s", "_l"]).reset_index(drop=True)


def round_indicators(table: pd.DataFrame) -> pd.DataFrame:
    """Indicators rounded for output (pupils 4 dp, minutes and £ 2 dp, km 3 dp; no -0)."""
    rounded = table.round(DECIMALS)
    return rounded.assign(**{c: rounded[c] + 0.0 for c in DECIMALS if c in rounded})


def transport_table(run: RunResult) -> pd.DataFrame:
    """transport.csv: plan, do nothing and change, per area and year plus yearly totals.

    Computed once per run (outputs, GeoPackage and report all use it) and returned as a copy.
    """
    return _memoised(("transport_table",), lambda: _transport_table(run), run)


def _transport_table(run: RunResult) -> pd.DataFrame:
    dataset = run.dataset
    plan = scenario_indicators(dataset, run.optimal, PLAN)
    parts = [plan]
    if run.do_nothing is not None:
        do_nothing = scenario_indicators(dataset, run.do_nothing, DO_NOTHING)
        parts += [do_nothing, change(plan, do_nothing)]
    return round_indicators(_order(pd.concat(parts, ignore_index=True)))


def _mean_and_top(rows: pd.DataFrame) -> tuple[float | None, float | None]:
    """Pupil-weighted mean and longest minutes of journey rows (None without pupils)."""
    pupils = float(rows["pupils"].sum())
    if pupils <= PUPILS_VIEW:
        return None, None
    return (round(float(rows["pupil_minutes"].sum()) / pupils, 2),
            round(float(rows["minutes"].max()), 2))


def _horizon(local: pd.DataFrame, totals: pd.DataFrame,
             independent: pd.DataFrame | None = None) -> dict[str, float | None]:
    """Indicators over the whole horizon: pupil-years, pupil-km, £; minutes over all years.

    ``local``: :func:`journeys` of the plan; ``totals``: its :func:`year_totals`;
    ``independent``: its :func:`independent_journeys` (independent.csv runs only).
    """
    shown = INDICATORS + (PROVIDER_INDICATORS if independent is not None else [])
    sums: dict[str, float | None] = {c: round(float(totals[c].sum()), DECIMALS[c])
                                     for c in shown if c not in NOT_ADDITIVE}
    sums["mean_minutes"], sums["max_minutes"] = _mean_and_top(local)
    if independent is not None:
        sums["independent_mean_minutes"], sums["independent_max_minutes"] = _mean_and_top(
            independent[independent["has_journey"]])
    return {HORIZON_NAMES.get(key, key): sums[key] for key in shown}


def _by_year(totals: pd.DataFrame, shown: list[str]) -> dict[str, dict[str, float | None]]:
    """Yearly totals (:func:`year_totals`), rounded, keyed by the year as text."""
    return {str(row["year"]): {c: _number(row[c]) for c in shown}
            for row in round_indicators(totals).to_dict("records")}


def _scenario_summary(dataset: Dataset, result: PlanResult) -> dict[str, Any]:
    totals = year_totals(dataset, result)
    independent = (independent_journeys(dataset, result) if dataset.providers is not None
                   else None)
    return {"by_year": _by_year(totals, indicators(dataset)),
            "horizon": _horizon(journeys(dataset, result), totals, independent)}


def _number(value: Any) -> float | None:
    return None if pd.isna(value) else float(value)


def _difference(a: dict, b: dict) -> dict:
    out: dict[str, Any] = {}
    for key, value in a.items():
        if isinstance(value, dict):
            out[key] = _difference(value, b.get(key, {}))
        elif value is None or b.get(key) is None:
            out[key] = None
        else:
            out[key] = round(value - b[key], DECIMALS.get(key, 4))
    return out


def journey_sources(run: RunResult) -> dict[str, Any]:
    """How many journeys came from travel.csv and how many were derived (or filled)."""
    travel = run.dataset.travel
    counts = travel["travel_source"].value_counts()
    arcs = run.sets.arcs[["area_id", "site_id"]].drop_duplicates().merge(
        travel[["area_id", "site_id", "travel_source"]], on=["area_id", "site_id"])
    usable = arcs["travel_source"].value_counts()
    local = journeys(run.dataset, run.optimal)
    placed = local.groupby("travel_source")["pupils"].sum()
    return {
        "fill_missing_travel": run.dataset.config.transport.fill_missing_travel,
        "pairs": {s: int(counts.get(s, 0)) for s in SOURCE_ORDER},
        "pairs_within_limits": {s: int(usable.get(s, 0)) for s in SOURCE_ORDER},
        "plan_pupil_years": {s: round(float(placed.get(s, 0.0)), 4) for s in SOURCE_ORDER},
    }


def transport_warnings(run: RunResult) -> list[str]:
    """Say when journeys the plan could use were filled in rather than taken from travel.csv."""
    sources = journey_sources(run)
    filled = sources["pairs_within_limits"][geo.TRAVEL_DERIVED]
    if not sources["fill_missing_travel"] or not filled:
        return []
    usable = sum(sources["pairs_within_limits"].values())
    pupils = sources["plan_pupil_years"][geo.TRAVEL_DERIVED]
    return [f"travel.csv: {filled} of the {usable} journeys within the travel limits were "
            f"filled from straight-line distance ([transport] fill_missing_travel = true); "
            f"{pupils:,.1f} pupil-years of the plan travel on them"]


def transport_summary(run: RunResult) -> dict[str, Any]:
    """The "transport" section of summary.json: metric, sources, totals by year and horizon."""
    dataset = run.dataset
    plan = _scenario_summary(dataset, run.optimal)
    do_nothing = None if run.do_nothing is None else _scenario_summary(dataset, run.do_nothing)
    summary = {
        "travel_metric": dataset.travel_metric,
        "journeys": journey_sources(run),
        "limits_minutes": dict(dataset.config.travel_limit_minutes),
        "units": "pupils (pupil-years over the horizon); one-way minutes of local journeys "
                 "(pupil-weighted mean, maximum); pupil_km = pupils × one-way road km; £ real "
                 "terms, discounted_transport_cost as in the objective; independent journeys "
                 "are not known, so minutes and km cover local placements only",
        "plan": plan,
        "do_nothing": do_nothing,
        "change": None if do_nothing is None else _difference(plan, do_nothing),
    }
    if dataset.providers is not None:
        summary["units"] = (
            "pupils (pupil-years over the horizon); one-way minutes (pupil-weighted mean, "
            "maximum): mean_minutes, max_minutes, pupil_km and pupils_over_limit cover local "
            "placements, the independent_* and pupils_independent_* figures the journeys of "
            "independent pupils to their provider (independent.csv; pupils no provider takes "
            "have no journey); pupil_km = pupils × one-way road km; £ real terms, "
            "discounted_transport_cost as in the objective")
        summary["journeys"]["independent_providers"] = provider_sources(dataset)
    return summary


def provider_sources(dataset: Dataset) -> dict[str, Any]:
    """How many providers independent.csv lists, and where their journeys came from."""
    travel = dataset.provider_travel
    counts = (travel["travel_source"].value_counts() if travel is not None
              else pd.Series(dtype="int64"))
    return {"providers": 0 if dataset.providers is None else len(dataset.providers),
            "pairs": {s: int(counts.get(s, 0)) for s in SOURCE_ORDER}}


def independent_transport_by_year(dataset: Dataset, result: PlanResult) -> pd.Series | None:
    """£ of independent pupils' transport per year (costs.csv / independent.csv runs; else None).

    v1 has one flat figure for every independent pupil, so callers split it off themselves.
    """
    if not has_cost_files(dataset.costs, dataset.providers):
        return None
    rows = independent_journeys(dataset, result)
    spent = rows.groupby("year")["transport_cost_independent"].sum()
    return spent.reindex(dataset.config.years, fill_value=0.0)


def flows(dataset: Dataset, result: PlanResult, scenario: str) -> pd.DataFrame:
    """Pupils by year from each area to each site (local placements), with the journey."""
    local = journeys(dataset, result)
    columns = ["scenario", "year", "area_id", "site_id", "option_ids", "pupils", "minutes",
               "km", "travel_source"]
    if local.empty:
        return pd.DataFrame(columns=columns)
    grouped = local.groupby(["year", "area_id", "site_id"], sort=True)
    table = grouped.agg(pupils=("pupils", "sum"), minutes=("minutes", "first"),
                        km=("km", "first"), travel_source=("travel_source", "first"),
                        option_ids=("option_id", lambda s: ";".join(sorted(set(s)))))
    table = table.reset_index().assign(scenario=scenario)
    return table[table["pupils"] > PUPILS_VIEW][columns].reset_index(drop=True)


def flow_lines(dataset: Dataset, table: pd.DataFrame) -> gpd.GeoDataFrame:
    """Flows as lines from the area's demand point to the site (EPSG:27700)."""
    areas = dataset.areas.set_index("area_id")
    sites = dataset.sites.set_index("site_id")
    geometry = geo.flow_lines(table["area_id"].map(areas["demand_x"]),
                              table["area_id"].map(areas["demand_y"]),
                              table["site_id"].map(sites.geometry.x),
                              table["site_id"].map(sites.geometry.y))
    named = table.assign(area_name=table["area_id"].map(areas["name"]),
                         site_name=table["site_id"].map(sites["name"]))
    return gpd.GeoDataFrame(named, geometry=geometry, crs=geo.BNG)


def site_speeds(dataset: Dataset) -> pd.DataFrame:
    """Straight-line km per journey minute reaching each site, and how it was found.

    From travel.csv: the median, over the site's given journeys, of straight-line km from
    the area's demand point ÷ minutes. Otherwise (derived journeys): speed ÷ circuity / 60.
    """
    t = dataset.config.transport
    default = geo.ring_radius_km(1.0, t.speed_kmh, t.circuity)
    out = pd.DataFrame({"site_id": dataset.sites["site_id"], "km_per_minute": default,
                        "ring_method": f"straight line at {t.speed_kmh:g} km/h ÷ circuity "
                                       f"{t.circuity:g}"})
    given = dataset.travel[(dataset.travel["travel_source"] == geo.TRAVEL_GIVEN)
                           & (dataset.travel["minutes"] > 0)]
    if given.empty:
        return out
    straight = geo.straight_line_km(dataset.areas, dataset.sites)
    given = given.merge(straight, on=["area_id", "site_id"])
    given = given.assign(rate=given["straight_km"] / given["minutes"])
    stats = given.groupby("site_id")["rate"].agg(["median", "size"])
    known = out["site_id"].isin(stats.index)
    out.loc[known, "km_per_minute"] = out.loc[known, "site_id"].map(stats["median"])
    out.loc[known, "ring_method"] = [f"travel.csv: median straight-line speed of {n} journeys"
                                     for n in out.loc[known, "site_id"].map(stats["size"])]
    return out


def journey_rings(dataset: Dataset, result: PlanResult,
                  minutes: tuple[int, ...] = RING_MINUTES) -> gpd.GeoDataFrame:
    """Journey-time rings (EPSG:27700 polygons) around each site where the plan opens places.

    One ring per site and ``minutes``, from the site's first opening year; the radius is the
    straight-line distance reached in that time (see :func:`site_speeds`).
    """
    plan = result.plan
    columns = ["site_id", "site_name", "option_ids", "opening_year", "minutes", "radius_km",
               "ring_method"]
    if plan.empty:
        return gpd.GeoDataFrame(columns=[*columns, "geometry"], geometry="geometry",
                                crs=geo.BNG)
    sites = plan.groupby("site_id").agg(
        opening_year=("opening_year", "min"),
        option_ids=("option_id", lambda s: ";".join(sorted(set(s))))).reset_index()
    sites = sites.merge(site_speeds(dataset), on="site_id")
    rings = sites.merge(pd.DataFrame({"minutes": list(minutes)}), how="cross")
    rings["radius_km"] = (rings["minutes"] * rings["km_per_minute"]).round(3)
    points = dataset.sites.set_index("site_id")
    rings["site_name"] = rings["site_id"].map(points["name"])
    centres = gpd.GeoSeries(list(rings["site_id"].map(points.geometry)), index=rings.index,
                            crs=geo.BNG)
    shapes = geo.journey_rings(centres, rings["radius_km"])
    rings = rings.sort_values(["opening_year", "site_id", "minutes"])
    return gpd.GeoDataFrame(rings[columns], geometry=shapes.loc[rings.index],
                            crs=geo.BNG).reset_index(drop=True)


@dataclass(frozen=True)
class TransportView:
    """The transport layers of the map; frames in any CRS that they declare.

    - ``areas``: area_id, year, pupils_local, pupils_independent, mean_minutes, max_minutes,
      optionally the same four with a ``_do_nothing`` suffix (minutes NaN: no local pupils)
    - ``flows``: scenario (``plan`` or ``do_nothing``), year, area_name, site_name,
      option_ids, pupils, minutes, km; LineString geometry (area demand point → site)
    - ``rings``: site_name, opening_year, minutes, radius_km, ring_method; polygons
    - ``providers`` (independent.csv only): provider_id, name, needs, phases,
      cost_per_place, pupil_years (plan), pupil_years_do_nothing, mean_minutes; points
    - ``independent_over_limit`` (independent.csv only): pupil-years of independent
      journeys over the phase's limit, {"plan": …, "do_nothing": …}
    """

    years: list[int]
    areas: pd.DataFrame
    flows: gpd.GeoDataFrame
    rings: gpd.GeoDataFrame
    travel_metric: str
    ring_minutes: tuple[int, ...] = (15, 30, 45)
    providers: gpd.GeoDataFrame | None = None
    independent_over_limit: dict[str, float | None] | None = None
