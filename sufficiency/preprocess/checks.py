"""Small checks, one concern each, that turn raw tables into clean typed tables.

Each ``check_<file>`` function converts one file's columns with a :class:`CellParser` and
returns the clean table plus its parser (issues and warnings); cross-file checks take clean
tables and return issues. :func:`sufficiency.preprocess.dataset.load_dataset` runs them all and
raises once, with every problem found.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from sufficiency.errors import Issue
from sufficiency.preprocess import geo
from sufficiency.preprocess.config import RunConfig
from sufficiency.preprocess.readers import ROW, declared_crs
from sufficiency.preprocess.schema import (
    AREA_COLUMNS,
    CURRENT_COLUMNS,
    DEMAND_COLUMNS,
    EXCLUSIVE_GROUP,
    PROVISION_COLUMNS,
    SITE_COLUMNS,
    TRAVEL_COLUMNS,
    required_columns,
)
from sufficiency.preprocess.textcells import CellParser
from sufficiency.preprocess.tomlread import MAX_POUNDS  # £ in one cost cell, as in the run TOML
from sufficiency.preprocess.vocabulary import INDEPENDENT, KINDS, NEEDS, PHASES, POST16_KINDS
from sufficiency.tolerances import PUPILS_CURRENT_OVER_DEMAND

POLYGONAL = {"Polygon", "MultiPolygon"}
# Sanity limits far beyond any real value: a cell past them is a typo (and would swamp
# HiGHS's numerics), not a plan.
PLAUSIBLE_YEARS = (1990, 2100)  # academic years
MAX_PUPILS = 1_000_000  # pupils in one demand row
PROVISION_COUNT_LIMITS = {"existing_places": 100_000, "module_places": 100_000,
                          "max_modules": 10_000, "lead_time_years": 50}
DEMAND_POINT = ("demand_easting", "demand_northing")
SAME_POINT_METRES = 50.0  # lat/lon and easting/northing of one site may differ this much


def check_areas(raw: gpd.GeoDataFrame, path: Path) -> tuple[gpd.GeoDataFrame, CellParser]:
    """Planning areas: ids, names, valid non-empty polygons, a known CRS; to EPSG:27700."""
    raw = _demand_point_columns(raw)
    cells = CellParser(pd.DataFrame(raw.drop(columns="geometry")), path.name, "feature")
    if not cells.has_columns(required_columns(AREA_COLUMNS)):
        return gpd.GeoDataFrame(), cells
    area_id = cells.ids("area_id")
    cells.unique("area_id", area_id)
    name = cells.text("name")
    name = name.where(name != "", area_id)  # a blank or null name: the area is called by its id
    frame = gpd.GeoDataFrame({"area_id": area_id, "name": name, ROW: raw[ROW]},
                             geometry=raw.geometry.values, crs=raw.crs)
    for column in DEMAND_POINT:
        if column in raw.columns:
            frame[column] = cells.numbers(column, minimum=-1e7, default=float("nan"))
    _check_demand_points(frame, cells)
    _check_geometries(frame, cells)
    if cells.issues or frame.empty:
        return frame, cells
    frame = _areas_to_bng(frame, path, cells)
    return frame, cells


def _demand_point_columns(raw: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Shapefile names cut to 10 characters restored; null cells made blank (= no point)."""
    raw = raw.rename(columns={c[:10]: c for c in DEMAND_POINT if c not in raw.columns})
    for column in DEMAND_POINT:
        if column in raw.columns:
            values = raw[column].astype(object)
            raw[column] = values.where(values.notna(), None)
    return raw


def _check_demand_points(frame: gpd.GeoDataFrame, cells: CellParser) -> None:
    """A given demand point is a National Grid pair; half a pair falls back to the centroid."""
    if not set(DEMAND_POINT) <= set(frame.columns):
        return
    east, north = frame["demand_easting"], frame["demand_northing"]
    half = east.isna() != north.isna()
    for row in frame.loc[half, ROW]:
        cells.warnings.append(f"{cells.file}, feature {row}: only one of demand_easting / "
                              "demand_northing is given; the area's centroid is used")
    both = east.notna() & north.notna()
    bad = both & ~geo.within_gb_metres(east, north)
    for row, e, n in zip(frame.loc[bad, ROW], east[bad], north[bad], strict=True):
        hint = ("these look like degrees: give the point in EPSG:27700 metres"
                if abs(e) <= 360 and abs(n) <= 360 else "check the value")
        cells.issue(row, "demand_easting", f"({e:g}, {n:g}) is not a British National Grid "
                    "point", hint + ", or leave both cells empty to use the centroid")


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
    """Reproject the areas to EPSG:27700 from the CRS their file declares, or say what is wrong."""
    problem = _crs_problem(frame, path)
    if problem:
        cells.issue(None, "geometry", *problem)
        return frame
    if frame.crs is None:  # GeoJSON without a crs member: WGS84 by RFC 7946
        frame = frame.set_crs(geo.WGS84)
    bng = geo.to_bng(frame)
    points = bng.geometry.representative_point()  # a point inside each area
    inside = geo.within_gb_metres(points.x, points.y)
    for row in bng.loc[~inside, ROW]:
        cells.issue(row, "geometry", "the area lies outside Great Britain",
                    "check the CRS the file declares and the coordinate order")
    return bng


def _crs_problem(frame: gpd.GeoDataFrame, path: Path) -> tuple[str, str] | None:
    """(message, fix) when the file's CRS is missing or contradicts its coordinates."""
    bounds = frame.total_bounds
    geojson = path.suffix.lower() in (".geojson", ".json")
    if geojson and geo.looks_like_bng(bounds) and not declared_crs(path):
        return ("coordinates are metres (British National Grid?) but the file declares no CRS, "
                "so GeoJSON means WGS84",
                'declare it: "crs": {"type": "name", "properties": '
                '{"name": "urn:ogc:def:crs:EPSG::27700"}}, or export as WGS84')
    if frame.crs is None and not geojson:
        guess = "EPSG:27700" if geo.looks_like_bng(bounds) else "EPSG:4326 (WGS84)"
        where = ("add the .prj file beside the .shp" if path.suffix.lower() == ".shp"
                 else "set the layer's CRS")
        return (f"the file declares no CRS (the coordinates look like {guess})",
                f"{where}: in QGIS, Layer Properties > Source > Assigned CRS, then export "
                "again; or save the areas as GeoJSON in WGS84")
    if frame.crs is not None and frame.crs.is_projected and geo.looks_like_degrees(bounds):
        return (f"the file declares the projected CRS {frame.crs.to_string()} but its "
                "coordinates look like degrees",
                "declare EPSG:4326 (WGS84) for lon/lat coordinates, or reproject the file")
    if frame.crs is not None and frame.crs.is_geographic and geo.looks_like_bng(bounds):
        return (f"the file declares the geographic CRS {frame.crs.to_string()} but its "
                "coordinates are metres",
                "declare EPSG:27700 for British National Grid coordinates")
    return None


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
    if has_bng and has_wgs:
        points = _site_points_mixed(raw, cells)
    else:
        points = _site_points_bng(raw, cells) if has_bng else _site_points_wgs(raw, cells)
    return gpd.GeoDataFrame(frame, geometry=points, crs=geo.BNG), cells


def pair_given(raw: pd.DataFrame, a: str, b: str) -> pd.Series:
    """True where both cells of a coordinate pair are filled in (False: a column missing)."""
    if not {a, b} <= set(raw.columns):
        return pd.Series(False, index=raw.index)
    return (raw[a].fillna("").astype(str).str.strip() != "") & (
        raw[b].fillna("").astype(str).str.strip() != "")


def _site_points_mixed(raw: pd.DataFrame, cells: CellParser) -> gpd.GeoSeries:
    """Both column pairs: easting/northing where a row gives them, else its lat/lon."""
    bng_given, wgs_given = pair_given(raw, "easting", "northing"), pair_given(raw, "lat", "lon")
    for row in raw.loc[~bng_given & ~wgs_given, ROW]:
        cells.issue(row, "easting", "no coordinate pair",
                    "give 'easting' and 'northing' (EPSG:27700) or 'lat' and 'lon' (WGS84)")
    bng = _site_points_bng(raw, cells, default=float("nan"))
    wgs = _site_points_wgs(raw, cells, default=float("nan"))
    apart = bng.distance(wgs)[bng_given & wgs_given]
    for row, metres in zip(raw.loc[apart.index, ROW], apart, strict=True):
        if metres > SAME_POINT_METRES:
            cells.warnings.append(f"{cells.file}, row {row}: easting/northing and lat/lon are "
                                  f"{metres:,.0f} m apart; easting/northing used")
    points = np.where(bng_given, bng.to_numpy(), wgs.to_numpy())
    return gpd.GeoSeries(points, index=raw.index, crs=geo.BNG)


def _site_points_bng(raw: pd.DataFrame, cells: CellParser,
                     default: float | None = None) -> gpd.GeoSeries:
    easting = cells.numbers("easting", minimum=-1e9, default=default)
    northing = cells.numbers("northing", minimum=-1e9, default=default)
    ok = geo.within_gb_metres(easting, northing)
    for row, e, n in zip(raw.loc[~ok, ROW], easting[~ok], northing[~ok], strict=True):
        if pd.notna(e) and pd.notna(n):
            hint = ("these look like degrees: put them in 'lat'/'lon' columns"
                    if abs(e) < 360 and abs(n) < 360 else "check the value and the CRS")
            cells.issue(row, "easting", f"({e:g}, {n:g}) is not a British National Grid point",
                        hint)
    return geo.points_from_bng(easting.fillna(0), northing.fillna(0))


def _site_points_wgs(raw: pd.DataFrame, cells: CellParser,
                     default: float | None = None) -> gpd.GeoSeries:
    lat = cells.numbers("lat", minimum=-1e9, default=default)
    lon = cells.numbers("lon", minimum=-1e9, default=default)
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
        "pupils": cells.numbers("pupils", maximum=MAX_PUPILS),
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
    for column, most in PROVISION_COUNT_LIMITS.items():
        frame[column] = cells.numbers(column, integer=True, maximum=most)
    frame["earliest_year"] = cells.numbers(
        "earliest_year", integer=True, minimum=PLAUSIBLE_YEARS[0], maximum=PLAUSIBLE_YEARS[1],
        range_fix="enter the academic year the first module may open as four digits, e.g. "
                  "2027 for AY 2027/28")
    for column in ("capital_cost_per_module", "fixed_capital_cost", "annual_cost_per_place",
                   "annual_cost_per_commissioned_place"):
        frame[column] = cells.numbers(column, maximum=MAX_POUNDS)
    _check_expansion(frame, cells, config)
    _check_post16_kinds(frame, cells)
    if EXCLUSIVE_GROUP in raw.columns:  # optional: absent, the table is v1's
        frame[EXCLUSIVE_GROUP] = cells.text(EXCLUSIVE_GROUP)
        _check_exclusive_groups(frame, cells)
    return frame, cells


def _check_post16_kinds(frame: pd.DataFrame, cells: CellParser) -> None:
    """A college or specialist post-16 institution serves young people of post16 age only."""
    post16 = frame["kind"].isin(POST16_KINDS)
    for row, kind, phases in zip(frame.loc[post16, ROW], frame.loc[post16, "kind"],
                                 frame.loc[post16, "phases"], strict=True):
        other = [p for p in phases if p != "post16"]
        if other:
            cells.issue(row, "phases", f"a {kind} option serves post16 only, not "
                        f"{', '.join(other)}", "write phases = post16, or choose a school "
                        "kind (special, resourced, satellite, new_special)")


def _check_exclusive_groups(frame: pd.DataFrame, cells: CellParser) -> None:
    """A group of one option excludes nothing: a warning (likely a typo), not an error."""
    grouped = frame[frame[EXCLUSIVE_GROUP] != ""]
    sizes = grouped.groupby(EXCLUSIVE_GROUP)["option_id"].transform("size")
    for row, group in zip(grouped.loc[sizes == 1, ROW], grouped.loc[sizes == 1, EXCLUSIVE_GROUP],
                          strict=True):
        cells.warnings.append(f"{cells.file}, row {row}, column {EXCLUSIVE_GROUP}: group "
                              f"'{group}' has only this option, so it excludes nothing "
                              "(check the spelling; kept as given)")


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


def check_current_placements(raw: pd.DataFrame, file: str) -> tuple[pd.DataFrame, CellParser]:
    """Pupils in each setting at the start year: area, need, phase, option (or independent)."""
    cells = CellParser(raw, file)
    if not cells.has_columns(required_columns(CURRENT_COLUMNS)):
        return pd.DataFrame(), cells
    frame = pd.DataFrame({
        "area_id": cells.ids("area_id"),
        "need": cells.codes("need", NEEDS, upper=True),
        "phase": cells.codes("phase", PHASES, upper=False),
        "option_id": cells.ids("option_id"),
        "pupils": cells.numbers("pupils"),
        ROW: raw[ROW],
    })
    frame.loc[frame["option_id"].str.lower() == INDEPENDENT, "option_id"] = INDEPENDENT
    key = ["area_id", "need", "phase", "option_id"]
    for row in frame.loc[frame.duplicated(key), ROW]:
        cells.issue(row, None, "repeats an (area_id, need, phase, option_id) of an earlier row",
                    "give each combination once (add the pupils together)")
    return frame, cells


def check_current_within_demand(current: pd.DataFrame, demand: pd.DataFrame,
                                start_year: int, file: str) -> list[Issue]:
    """Pupils already placed cannot exceed the start year's demand of their group."""
    key = ["area_id", "need", "phase"]
    placed = current.groupby(key)["pupils"].sum()
    first = demand[demand["year"] == start_year].groupby(key)["pupils"].sum()
    over = placed[placed > first.reindex(placed.index, fill_value=0.0) + PUPILS_CURRENT_OVER_DEMAND]
    return [Issue(file, None, "pupils",
                  f"{placed[k]:g} pupils placed for {' '.join(k)} but demand.csv has "
                  f"{first.get(k, 0.0):g} in {start_year}",
                  "make demand.csv's start year include every pupil already placed")
            for k in over.index]
