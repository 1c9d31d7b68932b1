"""Small checks, one concern each, that turn raw tables into clean typed tables.

Each ``check_<file>`` function converts one file's columns with a :class:`CellParser` and
returns the clean table plus its parser (issues and warnings); cross-file checks take clean
tables and return issues. :func:`sufficiency.dataset.load_dataset` runs them all and
raises once, with every problem found.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from sufficiency import geo
from sufficiency.cells import CellParser
from sufficiency.config import PHASES, RunConfig
from sufficiency.readers import ROW, declared_crs
from sufficiency.schema import (
    AREA_COLUMNS,
    DEMAND_COLUMNS,
    INDEPENDENT,
    KINDS,
    NEEDS,
    PROVISION_COLUMNS,
    SITE_COLUMNS,
    TRAVEL_COLUMNS,
    required_columns,
)

POLYGONAL = {"Polygon", "MultiPolygon"}


def check_areas(raw: gpd.GeoDataFrame, path: Path) -> tuple[gpd.GeoDataFrame, CellParser]:
    """Planning areas: ids, names, valid non-empty polygons, a known CRS; to EPSG:27700."""
    cells = CellParser(pd.DataFrame(raw.drop(columns="geometry")), path.name, "feature")
    if not cells.has_columns(required_columns(AREA_COLUMNS)):
        return gpd.GeoDataFrame(), cells
    area_id = cells.ids("area_id")
    cells.unique("area_id", area_id)
    frame = gpd.GeoDataFrame({"area_id": area_id, "name": cells.text("name"), ROW: raw[ROW]},
                             geometry=raw.geometry.values, crs=raw.crs)
    for column in ("demand_easting", "demand_northing"):
        if column in raw.columns:
            frame[column] = cells.numbers(column, minimum=-1e7, default=float("nan"))
    _check_geometries(frame, cells)
    if cells.issues or frame.empty:
        return frame, cells
    frame = _areas_to_bng(frame, path, cells)
    return frame, cells


def _check_geometries(frame: gpd.GeoDataFrame, cells: CellParser) -> None:
    for row, geom in zip(frame[ROW], frame.geometry, strict=True):
        if geom is None or geom.is_empty:
            cells.issue(row, "geometry", "empty geometry", "draw the area's boundary")
        elif geom.geom_type not in POLYGONAL:
            cells.issue(row, "geometry", f"{geom.geom_type} is not a polygon",
                        "planning areas must be polygons")
        elif not geom.is_valid:
            from shapely.validation import explain_validity

            cells.issue(row, "geometry", f"invalid polygon ({explain_validity(geom)})",
                        "repair it, e.g. QGIS 'Fix geometries' or shapely make_valid")


def _areas_to_bng(frame: gpd.GeoDataFrame, path: Path, cells: CellParser) -> gpd.GeoDataFrame:
    bounds = frame.total_bounds
    if not declared_crs(path) and geo.looks_like_bng(bounds):
        cells.issue(None, "geometry", "coordinates are metres (British National Grid?) but the "
                    "file declares no CRS, so GeoJSON means WGS84",
                    'declare it: "crs": {"type": "name", "properties": '
                    '{"name": "urn:ogc:def:crs:EPSG::27700"}}, or export as WGS84')
        return frame
    if frame.crs is None:
        frame = frame.set_crs(geo.WGS84)
    bng = geo.to_bng(frame)
    inside = geo.within_gb_metres(bng.geometry.bounds["minx"], bng.geometry.bounds["miny"])
    for row in bng.loc[~inside, ROW]:
        cells.issue(row, "geometry", "the area lies outside Great Britain",
                    "check the CRS the file declares and the coordinate order")
    return bng


def check_sites(raw: pd.DataFrame, file: str) -> tuple[gpd.GeoDataFrame, CellParser]:
    """Sites: ids, names, area, and a position as lat/lon (WGS84) or easting/northing."""
    cells = CellParser(raw, file)
    if not cells.has_columns(required_columns(SITE_COLUMNS)):
        return gpd.GeoDataFrame(), cells
    site_id = cells.ids("site_id")
    cells.unique("site_id", site_id)
    frame = pd.DataFrame({"site_id": site_id, "name": cells.text("name"),
                          "area_id": cells.ids("area_id"), ROW: raw[ROW]})
    has_bng = {"easting", "northing"} <= set(raw.columns)
    has_wgs = {"lat", "lon"} <= set(raw.columns)
    if not (has_bng or has_wgs):
        cells.issue(None, "lat", "no coordinates",
                    "add 'lat' and 'lon' (WGS84) or 'easting' and 'northing' (EPSG:27700)")
        return gpd.GeoDataFrame(frame), cells
    points = _site_points_bng(raw, cells) if has_bng else _site_points_wgs(raw, cells)
    return gpd.GeoDataFrame(frame, geometry=points, crs=geo.BNG), cells


def _site_points_bng(raw: pd.DataFrame, cells: CellParser) -> gpd.GeoSeries:
    easting = cells.numbers("easting", minimum=-1e9)
    northing = cells.numbers("northing", minimum=-1e9)
    ok = geo.within_gb_metres(easting, northing)
    for row, e, n in zip(raw.loc[~ok, ROW], easting[~ok], northing[~ok], strict=True):
        if pd.notna(e) and pd.notna(n):
            hint = ("these look like degrees: put them in 'lat'/'lon' columns"
                    if abs(e) < 360 and abs(n) < 360 else "check the value and the CRS")
            cells.issue(row, "easting", f"({e:g}, {n:g}) is not a British National Grid point",
                        hint)
    return geo.points_from_bng(easting.fillna(0), northing.fillna(0))


def _site_points_wgs(raw: pd.DataFrame, cells: CellParser) -> gpd.GeoSeries:
    lat = cells.numbers("lat", minimum=-1e9)
    lon = cells.numbers("lon", minimum=-1e9)
    ok = geo.within_gb_degrees(lon, lat)
    for row, la, lo in zip(raw.loc[~ok, ROW], lat[~ok], lon[~ok], strict=True):
        if pd.notna(la) and pd.notna(lo):
            swapped = geo.within_gb_degrees(pd.Series([la]), pd.Series([lo])).iloc[0]
            hint = "lat and lon look swapped" if swapped else (
                "these look like metres: use 'easting'/'northing' columns"
                if abs(la) > 360 else "check the value")
            cells.issue(row, "lat", f"(lat {la:g}, lon {lo:g}) is outside Great Britain", hint)
    return geo.points_from_lonlat(lon.fillna(0), lat.fillna(52))


def check_demand(raw: pd.DataFrame, file: str, config: RunConfig) -> tuple[pd.DataFrame,
                                                                           CellParser]:
    """Demand: area, need code, phase, year within the horizon, pupils ≥ 0; no duplicates."""
    cells = CellParser(raw, file)
    if not cells.has_columns(required_columns(DEMAND_COLUMNS)):
        return pd.DataFrame(), cells
    frame = pd.DataFrame({
        "area_id": cells.ids("area_id"),
        "need": cells.codes("need", NEEDS, upper=True),
        "phase": cells.codes("phase", PHASES, upper=False),
        "year": cells.numbers("year", integer=True),
        "pupils": cells.numbers("pupils"),
        ROW: raw[ROW],
    })
    outside = frame["year"].notna() & ~frame["year"].isin(config.years)
    for row, year in zip(frame.loc[outside, ROW], frame.loc[outside, "year"], strict=True):
        cells.issue(row, "year", f"{year:g} is outside the horizon "
                    f"{config.start_year}..{config.end_year}",
                    "remove the row or change start_year / horizon_years in the run TOML")
    key = ["area_id", "need", "phase", "year"]
    repeated = frame.duplicated(key, keep="first") & frame[key].notna().all(axis=1)
    for row in frame.loc[repeated, ROW]:
        cells.issue(row, None, "repeats an (area_id, need, phase, year) given on an earlier row",
                    "give each combination once (add the pupils together)")
    return frame, cells


def check_provision(raw: pd.DataFrame, file: str, config: RunConfig) -> tuple[pd.DataFrame,
                                                                              CellParser]:
    """Provision options: ids, kind, needs, phases, places, modules, costs, timing."""
    cells = CellParser(raw, file)
    if not cells.has_columns(required_columns(PROVISION_COLUMNS)):
        return pd.DataFrame(), cells
    option_id = cells.ids("option_id")
    cells.unique("option_id", option_id)
    for row in raw.loc[option_id.str.lower() == INDEPENDENT, ROW]:
        cells.issue(row, "option_id", f"'{INDEPENDENT}' is reserved for independent placements",
                    "rename the option")
    frame = pd.DataFrame({
        "option_id": option_id,
        "site_id": cells.ids("site_id"),
        "kind": cells.codes("kind", KINDS, upper=False),
        "needs": cells.code_lists("needs", NEEDS),
        "phases": cells.code_lists("phases", PHASES),
        ROW: raw[ROW],
    })
    for column in ("existing_places", "module_places", "max_modules", "lead_time_years"):
        frame[column] = cells.numbers(column, integer=True)
    frame["earliest_year"] = cells.numbers("earliest_year", integer=True)
    for column in ("capital_cost_per_module", "fixed_capital_cost", "annual_cost_per_place",
                   "annual_cost_per_commissioned_place"):
        frame[column] = cells.numbers(column)
    _check_expansion(frame, cells, config)
    return frame, cells


def _check_expansion(frame: pd.DataFrame, cells: CellParser, config: RunConfig) -> None:
    """An expandable option needs places per module and at least one year it can open in."""
    expandable = frame["max_modules"] > 0
    for row in frame.loc[expandable & (frame["module_places"] <= 0), ROW]:
        cells.issue(row, "module_places", "an option with max_modules > 0 adds no places",
                    "set module_places > 0, or max_modules = 0")
    first_open = frame[["earliest_year"]].assign(
        lead=config.start_year + frame["lead_time_years"]).max(axis=1)
    too_late = expandable & (first_open > config.end_year)
    for row, year in zip(frame.loc[too_late, ROW], first_open[too_late], strict=True):
        cells.issue(row, "lead_time_years", f"the first possible opening year {year:g} "
                    f"(earliest_year, or start_year + lead_time_years) is after the horizon "
                    f"ends in {config.end_year}",
                    "shorten the lead time, move earliest_year, extend the horizon, "
                    "or set max_modules = 0")


def check_travel(raw: pd.DataFrame, file: str) -> tuple[pd.DataFrame, CellParser]:
    """A given travel matrix: area, site, minutes ≥ 0, km ≥ 0, each pair once."""
    cells = CellParser(raw, file)
    if not cells.has_columns(required_columns(TRAVEL_COLUMNS)):
        return pd.DataFrame(), cells
    frame = pd.DataFrame({"area_id": cells.ids("area_id"), "site_id": cells.ids("site_id"),
                          "minutes": cells.numbers("minutes"), "km": cells.numbers("km"),
                          ROW: raw[ROW]})
    for row in frame.loc[frame.duplicated(["area_id", "site_id"]), ROW]:
        cells.issue(row, None, "repeats an (area_id, site_id) pair given on an earlier row",
                    "give each journey once")
    return frame, cells


def check_sites_in_areas(sites: gpd.GeoDataFrame, areas: gpd.GeoDataFrame,
                         file: str) -> list[str]:
    """Warn (not fail) where a site's point is not inside the area it is said to be in."""
    polygons = areas.set_index("area_id").geometry
    known = sites["area_id"].isin(polygons.index)
    inside = sites.loc[known].geometry.within(
        gpd.GeoSeries(polygons.reindex(sites.loc[known, "area_id"]).values,
                      index=sites.index[known], crs=sites.crs).buffer(1.0))
    return [f"{file}, row {row}: site '{sid}' lies outside its area '{aid}' (kept as given)"
            for row, sid, aid in zip(sites.loc[known][~inside][ROW],
                                     sites.loc[known][~inside]["site_id"],
                                     sites.loc[known][~inside]["area_id"], strict=True)]
