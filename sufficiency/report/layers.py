"""Map layers of a run: areas, provision, and the transport view.

Areas carry their demand growth, provision what the plan opens there; the transport view
holds journey minutes by area and year, flow lines and journey-time rings.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from sufficiency.outcome import PROVIDER, PlanResult, RunResult
from sufficiency.report import transport
from sufficiency.report.analysis_tables import RunAnalyses
from sufficiency.report.transport import TransportView


def area_layer(run: RunResult) -> gpd.GeoDataFrame:
    """Areas with pupils in the first and last year of the horizon."""
    config = run.dataset.config
    demand = run.dataset.demand.groupby(["area_id", "year"])["pupils"].sum().unstack(
        fill_value=0.0).reindex(columns=config.years, fill_value=0.0)
    areas = run.dataset.areas[["area_id", "name", "geometry"]].copy()
    areas["pupils_first_year"] = areas["area_id"].map(demand[config.start_year]).fillna(0.0)
    areas["pupils_last_year"] = areas["area_id"].map(demand[config.end_year]).fillna(0.0)
    return areas


def provision_layer(run: RunResult) -> gpd.GeoDataFrame:
    """One point per option: existing places and what the optimal plan opens there."""
    plan = run.optimal.plan
    opened = plan.groupby("option_id").agg(new_places=("places", "sum"),
                                           opening_year=("opening_year", "min"),
                                           capital_cost=("capital_cost", "sum"))
    sites = run.dataset.sites.set_index("site_id")
    options = run.dataset.options
    frame = pd.DataFrame({
        "option_id": options["option_id"],
        "site_id": options["site_id"],
        "site_name": options["site_id"].map(sites["name"]),
        "area_id": options["site_id"].map(sites["area_id"]),
        "kind": options["kind"],
        "needs": options["needs"].map(";".join),
        "phases": options["phases"].map(";".join),
        "existing_places": options["existing_places"].astype("int64"),
    })
    frame["new_places"] = frame["option_id"].map(opened["new_places"]).fillna(0).astype("int64")
    frame["opening_year"] = frame["option_id"].map(opened["opening_year"]).astype("Int64")
    frame["capital_cost"] = frame["option_id"].map(opened["capital_cost"]).fillna(0.0)
    geometry = options["site_id"].map(sites.geometry)
    return gpd.GeoDataFrame(frame, geometry=list(geometry), crs=run.dataset.sites.crs)


AREA_YEAR_COLUMNS = ["pupils_local", "pupils_independent", "mean_minutes", "max_minutes"]
PROVIDER_AREA_COLUMNS = ["independent_mean_minutes", "pupils_independent_over_limit"]


def provider_layer(run: RunResult) -> gpd.GeoDataFrame | None:
    """Independent providers with the pupil-years sent there (independent.csv runs only)."""
    dataset = run.dataset
    providers = dataset.providers
    if providers is None:
        return None

    def sent(result: PlanResult) -> pd.DataFrame:
        rows = transport.independent_journeys(dataset, result)
        rows = rows[rows["has_journey"]]
        grouped = rows.groupby(PROVIDER)
        return pd.DataFrame({"pupil_years": grouped["pupils"].sum(),
                             "pupil_minutes": grouped["pupil_minutes"].sum()})

    plan = sent(run.optimal)
    frame = providers[["provider_id", "name", "cost_per_place", "geometry"]].copy()
    frame["needs"] = providers["needs"].map(";".join)
    frame["phases"] = providers["phases"].map(";".join)
    frame["pupil_years"] = frame["provider_id"].map(plan["pupil_years"]).fillna(0.0)
    frame["mean_minutes"] = (frame["provider_id"].map(plan["pupil_minutes"])
                             / frame["pupil_years"].where(frame["pupil_years"] > 0))
    before = sent(run.do_nothing) if run.do_nothing is not None else None
    frame["pupil_years_do_nothing"] = (np.nan if before is None else frame["provider_id"].map(
        before["pupil_years"]).fillna(0.0))
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=providers.crs)


def _over_limit(run: RunResult) -> dict[str, float | None] | None:
    """Pupil-years of independent journeys over the limit, plan and do nothing."""
    if run.dataset.providers is None:
        return None

    def total(result: PlanResult) -> float:
        rows = transport.independent_journeys(run.dataset, result)
        return float(rows.loc[rows["over_limit"], "pupils"].sum())

    return {transport.PLAN: total(run.optimal),
            transport.DO_NOTHING: None if run.do_nothing is None else total(run.do_nothing)}


def transport_view(run: RunResult) -> TransportView:
    """Journeys by area and year (plan and do nothing), flow lines and rings, for the map."""
    dataset = run.dataset
    keys = ["area_id", "year"]
    shown = AREA_YEAR_COLUMNS + (PROVIDER_AREA_COLUMNS if dataset.providers is not None else [])
    areas = transport.area_indicators(dataset, run.optimal)[keys + shown]
    flows = [transport.flows(dataset, run.optimal, transport.PLAN)]
    if run.do_nothing is not None:
        do_nothing = transport.area_indicators(dataset, run.do_nothing)[keys + shown]
        areas = areas.merge(do_nothing, on=keys, how="left", suffixes=("", "_do_nothing"))
        flows.append(transport.flows(dataset, run.do_nothing, transport.DO_NOTHING))
    lines = transport.flow_lines(dataset, pd.concat(flows, ignore_index=True))
    return TransportView(years=dataset.config.years, areas=areas, flows=lines,
                         rings=transport.journey_rings(dataset, run.optimal),
                         travel_metric=dataset.travel_metric,
                         ring_minutes=transport.RING_MINUTES, providers=provider_layer(run),
                         independent_over_limit=_over_limit(run))


def plan_map_html(run: RunResult, *, analyses: RunAnalyses | None = None) -> str:
    """The self-contained HTML map of a run's optimal plan, with its transport view.

    ``analyses``: with fresh alternatives, a layer per alternative plan (off at first).
    """
    from sufficiency.report.alternative_layers import alternative_layers  # folium: loaded
    from sufficiency.report.webmap import render_plan_map  # only once the plan is solved

    config = run.dataset.config
    years = f"AY {config.start_year}/{(config.start_year + 1) % 100:02d} onwards"
    title = f"{config.name}: optimal plan, {years}"
    return render_plan_map(area_layer(run), provision_layer(run), title=title,
                           first_year=config.start_year, last_year=config.end_year,
                           transport=transport_view(run), basemap=config.map,
                           extra_layers=alternative_layers(run, analyses))
