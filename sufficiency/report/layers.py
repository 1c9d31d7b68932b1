"""Map layers of a run: areas, provision, and the transport view.

Areas carry their demand growth, provision what the plan opens there; the transport view
holds journey minutes by area and year, flow lines and journey-time rings.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from sufficiency.outcome import RunResult
from sufficiency.report import transport
from sufficiency.report.webmap import TransportView, render_plan_map


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


def transport_view(run: RunResult) -> TransportView:
    """Journeys by area and year (plan and do nothing), flow lines and rings, for the map."""
    dataset = run.dataset
    keys = ["area_id", "year"]
    areas = transport.area_indicators(dataset, run.optimal)[keys + AREA_YEAR_COLUMNS]
    flows = [transport.flows(dataset, run.optimal, transport.PLAN)]
    if run.do_nothing is not None:
        do_nothing = transport.area_indicators(dataset, run.do_nothing)[keys + AREA_YEAR_COLUMNS]
        areas = areas.merge(do_nothing, on=keys, how="left", suffixes=("", "_do_nothing"))
        flows.append(transport.flows(dataset, run.do_nothing, transport.DO_NOTHING))
    lines = transport.flow_lines(dataset, pd.concat(flows, ignore_index=True))
    return TransportView(years=dataset.config.years, areas=areas, flows=lines,
                         rings=transport.journey_rings(dataset, run.optimal),
                         travel_metric=dataset.travel_metric,
                         ring_minutes=transport.RING_MINUTES)


def plan_map_html(run: RunResult) -> str:
    """The self-contained HTML map of a run's optimal plan, with its transport view."""
    config = run.dataset.config
    years = f"AY {config.start_year}/{(config.start_year + 1) % 100:02d} onwards"
    title = f"{config.name}: optimal plan, {years}"
    return render_plan_map(area_layer(run), provision_layer(run), title=title,
                           first_year=config.start_year, last_year=config.end_year,
                           transport=transport_view(run))
