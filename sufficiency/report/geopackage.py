"""``plan.gpkg``: the plan for GIS users (QGIS, ArcGIS), every layer in EPSG:27700.

Layers (each a pure view of the run's tables; nothing is re-solved):

- ``areas``: one polygon per planning area with its transport indicators over the horizon
  (plan, ``*_do_nothing`` and ``*_change`` = plan − do nothing);
- ``area_years``: one polygon per area and academic year with the rows of transport.csv
  (the same suffixes); ``year_start``/``year_end`` drive QGIS's temporal controller;
- ``sites``: one point per site: its options, existing and new places, first opening year
  and capital (£);
- ``openings``: one point per row of plan.csv;
- ``flows``: one line per scenario, year, area and site, from the area's demand point to
  the site, with pupils, one-way minutes and km;
- ``journey_rings``: journey-time rings around the sites where the plan opens places.

GDAL stamps a GeoPackage with the current time; it is fixed here so the same run writes
the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from sufficiency.outcome import RunResult
from sufficiency.preprocess import geo
from sufficiency.report import transport
from sufficiency.report.transport import CHANGE, DO_NOTHING, INDICATORS, PLAN
from sufficiency.tolerances import PUPILS_VIEW

FIXED_TIMESTAMP = "2000-01-01T00:00:00.000Z"
GEOMETRY_TYPES = {"areas": "MultiPolygon", "area_years": "MultiPolygon", "sites": "Point",
                  "openings": "Point", "flows": "LineString", "journey_rings": "Polygon"}
LAYERS = tuple(GEOMETRY_TYPES)
SUMMED = [c for c in INDICATORS if c not in transport.NOT_ADDITIVE]


def _year_dates(frame: pd.DataFrame, year: pd.Series, last_year: int | None = None
                ) -> pd.DataFrame:
    """Academic-year start (1 September) and end (31 August) as dates, for time filters."""
    end = year if last_year is None else pd.Series(last_year, index=year.index)
    return frame.assign(year_start=pd.to_datetime(year.astype(str) + "-09-01"),
                        year_end=pd.to_datetime((end + 1).astype(str) + "-08-31"))


def _suffixed(tables: dict[str, pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    """Join scenario tables side by side: plan columns plain, the others suffixed."""
    out = tables[PLAN]
    for scenario in (DO_NOTHING, CHANGE):
        if scenario in tables:
            other = tables[scenario].set_index(keys).add_suffix(f"_{scenario}")
            out = out.join(other, on=keys)
    return out


def _area_years(run: RunResult) -> dict[str, pd.DataFrame]:
    """Area rows of transport.csv, by scenario, rounded."""
    table = transport.transport_table(run)
    table = table[table["level"] == transport.AREA]
    table = table.drop(columns=["level", "area_name"])
    return {s: part.drop(columns=["scenario"] + (["travel_source"] if s == CHANGE else []))
            .reset_index(drop=True) for s, part in table.groupby("scenario", sort=False)}


def _horizon_by_area(run: RunResult) -> dict[str, pd.DataFrame]:
    """Per area over the horizon: sums of the additive indicators, pupil-weighted minutes."""
    results = {PLAN: run.optimal, DO_NOTHING: run.do_nothing}
    out: dict[str, pd.DataFrame] = {}
    for scenario, result in results.items():
        if result is None:
            continue
        rows = transport.area_indicators(run.dataset, result)
        grouped = rows.groupby("area_id")
        table = grouped[SUMMED].sum()
        pupils = table["pupils_local"]
        table["mean_minutes"] = (grouped["pupil_minutes"].sum() / pupils).where(
            pupils > PUPILS_VIEW)
        table["max_minutes"] = grouped["max_minutes"].max()
        out[scenario] = table[INDICATORS].round(transport.DECIMALS)
    if DO_NOTHING in out:
        out[CHANGE] = (out[PLAN] - out[DO_NOTHING]).round(transport.DECIMALS)
    return {s: t.rename(columns=transport.HORIZON_NAMES).reset_index() for s, t in out.items()}


def areas_layer(run: RunResult) -> gpd.GeoDataFrame:
    """One polygon per area with its indicators over the horizon (plan, do nothing, change)."""
    areas = run.dataset.areas
    base = pd.DataFrame({"area_id": areas["area_id"], "name": areas["name"],
                         "demand_x": areas["demand_x"], "demand_y": areas["demand_y"]})
    table = base.merge(_suffixed(_horizon_by_area(run), ["area_id"]), on="area_id",
                       how="left")
    return gpd.GeoDataFrame(table, geometry=list(areas.geometry), crs=geo.BNG)


def area_years_layer(run: RunResult) -> gpd.GeoDataFrame:
    """One polygon per area and year with transport.csv's indicators."""
    table = _suffixed(_area_years(run), ["year", "area_id"])
    areas = run.dataset.areas.set_index("area_id")
    table = table.assign(name=table["area_id"].map(areas["name"]))
    table = _year_dates(table, table["year"])
    front = ["area_id", "name", "year", "year_start", "year_end"]
    table = table[front + [c for c in table.columns if c not in front]]
    return gpd.GeoDataFrame(table, geometry=list(table["area_id"].map(areas.geometry)),
                            crs=geo.BNG)


def sites_layer(run: RunResult) -> gpd.GeoDataFrame:
    """One point per site: options, kinds, existing and new places, first opening, capital."""
    options, plan, sites = run.dataset.options, run.optimal.plan, run.dataset.sites
    per_site = options.groupby("site_id").agg(
        option_ids=("option_id", lambda s: ";".join(sorted(s))),
        kinds=("kind", lambda s: ";".join(sorted(set(s)))),
        existing_places=("existing_places", "sum"))
    opened = plan.groupby("site_id").agg(new_places=("places", "sum"),
                                         first_opening_year=("opening_year", "min"),
                                         capital_cost=("capital_cost", "sum"))
    table = sites[["site_id", "name", "area_id"]].join(per_site, on="site_id").join(
        opened, on="site_id")
    table = table.assign(
        option_ids=table["option_ids"].fillna(""), kinds=table["kinds"].fillna(""),
        existing_places=table["existing_places"].fillna(0).astype("int64"),
        new_places=table["new_places"].fillna(0).astype("int64"),
        first_opening_year=table["first_opening_year"].astype("Int64"),
        capital_cost=table["capital_cost"].fillna(0.0).round(2))
    return gpd.GeoDataFrame(table, geometry=list(sites.geometry), crs=geo.BNG)


def openings_layer(run: RunResult) -> gpd.GeoDataFrame:
    """plan.csv as points at the sites."""
    plan = run.optimal.plan
    sites = run.dataset.sites.set_index("site_id")
    geometry = gpd.GeoSeries(list(plan["site_id"].map(sites.geometry)), index=plan.index,
                             crs=geo.BNG)
    return gpd.GeoDataFrame(plan.assign(site_name=plan["site_id"].map(sites["name"])),
                            geometry=geometry, crs=geo.BNG)


def flows_layer(run: RunResult) -> gpd.GeoDataFrame:
    """Lines area → site with pupils per year, for the plan and for do nothing."""
    parts = [transport.flows(run.dataset, run.optimal, PLAN)]
    if run.do_nothing is not None:
        parts.append(transport.flows(run.dataset, run.do_nothing, DO_NOTHING))
    table = pd.concat(parts, ignore_index=True)
    table = table.assign(pupils=table["pupils"].astype(float).round(4))
    lines = transport.flow_lines(run.dataset, table)
    return gpd.GeoDataFrame(_year_dates(lines, lines["year"].astype("int64")),
                            geometry="geometry", crs=geo.BNG)


def rings_layer(run: RunResult) -> gpd.GeoDataFrame:
    """Journey-time rings around new provision, shown from the first opening year on."""
    rings = transport.journey_rings(run.dataset, run.optimal)
    return _year_dates(rings, rings["opening_year"].astype("int64"),
                       run.dataset.config.end_year)


def geopackage_layers(run: RunResult) -> dict[str, gpd.GeoDataFrame]:
    """Every layer of plan.gpkg, by name, in EPSG:27700."""
    return {"areas": areas_layer(run), "area_years": area_years_layer(run),
            "sites": sites_layer(run), "openings": openings_layer(run),
            "flows": flows_layer(run), "journey_rings": rings_layer(run)}


def write_geopackage(run: RunResult, path: Path) -> None:
    """Write plan.gpkg (a new file) with every layer; the same run gives the same bytes."""
    path = Path(path)
    if path.exists():
        path.unlink()
    layers = geopackage_layers(run)
    import pyogrio  # GDAL (29 MB): loaded only where the GeoPackage is written

    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_TIMESTAMP})
    try:
        for name, layer in layers.items():
            layer.to_file(path, layer=name, driver="GPKG", engine="pyogrio",
                          geometry_type=GEOMETRY_TYPES[name], promote_to_multi=name.startswith(
                              "area"))
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})
