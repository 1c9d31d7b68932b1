"""Geography: every layer to British National Grid (EPSG:27700), demand points, distances.

All distance work is done in EPSG:27700 metres. Offline, pyproj transforms WGS84 to the
National Grid with a Helmert transform (about 2 m from OSTN15): ample for planning, so its
warning is silenced on purpose. Journeys come from ``travel.csv`` (source ``travel.csv``) or
are derived from straight-line distance (source ``straight line``); every journey row says
which.
"""

from __future__ import annotations

import functools
import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Point, shape

BNG = "EPSG:27700"
WGS84 = "EPSG:4326"
# Great Britain (England, Scotland, Wales and their islands) as a coarse outline in EPSG:27700;
# a point is "in Great Britain" within GB_MARGIN_M of it. The outline is Natural Earth's
# 1:110m polygon (public domain) with hand-drawn islands and coasts: within 14 km of Natural
# Earth's 1:50m coast everywhere, so the margin keeps every coastal and island site in, while
# Ireland (Dublin 88 km beyond it, Belfast 36 km), the Isle of Man and France (Calais 20 km)
# stay out.
GB_OUTLINE_FILE = Path(__file__).with_name("data") / "gb_outline.geojson"
GB_MARGIN_M = 20_000.0
DEGREES_MAX = 360.0  # coordinates no larger than this are degrees, not grid metres
TRAVEL_GIVEN = "travel.csv"
TRAVEL_DERIVED = "straight line"
RING_SEGMENTS = 16  # segments per quarter circle of a journey-time ring


def looks_like_degrees(bounds: np.ndarray) -> bool:
    """Whether coordinate bounds fit in ±360: degrees, not National Grid metres."""
    return not looks_like_bng(bounds)


def looks_like_bng(bounds: np.ndarray) -> bool:
    """Whether coordinate bounds are metres of the National Grid rather than degrees."""
    minx, miny, maxx, maxy = bounds
    return max(abs(minx), abs(maxx), abs(miny), abs(maxy)) > DEGREES_MAX


@functools.cache
def great_britain() -> shapely.Geometry:
    """The shipped GB outline widened by :data:`GB_MARGIN_M` (EPSG:27700), prepared."""
    doc = json.loads(GB_OUTLINE_FILE.read_text(encoding="utf-8"))
    outline = shapely.union_all([shape(feature["geometry"]) for feature in doc["features"]])
    area = outline.buffer(GB_MARGIN_M, quad_segs=4)
    shapely.prepare(area)
    return area


@functools.cache
def _wgs84_to_bng() -> Transformer:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Transformer.from_crs(WGS84, BNG, always_xy=True)


def within_gb_degrees(lon: pd.Series, lat: pd.Series) -> pd.Series:
    """True where a WGS84 lon/lat pair lies in Great Britain (see :func:`great_britain`)."""
    x = pd.to_numeric(lon, errors="coerce").to_numpy(float)
    y = pd.to_numeric(lat, errors="coerce").to_numpy(float)
    plausible = (np.abs(x) <= 180.0) & (np.abs(y) <= 90.0)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        east, north = _wgs84_to_bng().transform(np.where(plausible, x, np.nan),
                                                np.where(plausible, y, np.nan))
    inside = shapely.contains_xy(great_britain(), np.asarray(east), np.asarray(north))
    return pd.Series(inside & plausible, index=lon.index)


def within_gb_metres(easting: pd.Series, northing: pd.Series) -> pd.Series:
    """True where an EPSG:27700 easting/northing pair lies in Great Britain.

    The grid's false origin lies in the sea south-west of Scilly, so a pair within 360 m of
    it is no place in Great Britain: it is degrees put in easting/northing columns.
    """
    x = pd.to_numeric(easting, errors="coerce").to_numpy(float)
    y = pd.to_numeric(northing, errors="coerce").to_numpy(float)
    with np.errstate(invalid="ignore"):
        near_origin = (np.abs(x) <= DEGREES_MAX) & (np.abs(y) <= DEGREES_MAX)
    inside = shapely.contains_xy(great_britain(), x, y)
    return pd.Series(inside & ~near_origin, index=easting.index)


def to_bng(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Reproject to EPSG:27700, silencing pyproj's offline grid fallback on purpose."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return frame.to_crs(BNG)


def points_from_lonlat(lon: pd.Series, lat: pd.Series) -> gpd.GeoSeries:
    """WGS84 lon/lat to EPSG:27700 points."""
    series = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=WGS84, index=lon.index)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return series.to_crs(BNG)


def points_from_bng(easting: pd.Series, northing: pd.Series) -> gpd.GeoSeries:
    """Easting/northing to EPSG:27700 points."""
    return gpd.GeoSeries(gpd.points_from_xy(easting, northing), crs=BNG, index=easting.index)


def demand_points(areas: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Each area's demand point, as the contract defines it.

    The given population-weighted point, else the centroid, else (centroid outside the
    polygon) the representative point.
    """
    centroids = areas.geometry.centroid
    inside = centroids.within(areas.geometry)
    points = centroids.where(inside, areas.geometry.representative_point())
    if {"demand_easting", "demand_northing"} <= set(areas.columns):
        given = areas["demand_easting"].notna() & areas["demand_northing"].notna()
        weighted = [Point(x, y) for x, y in zip(areas["demand_easting"], areas["demand_northing"],
                                                strict=True)]
        points = gpd.GeoSeries(np.where(given, weighted, points), index=areas.index, crs=BNG)
    return gpd.GeoSeries(points, index=areas.index, crs=BNG)


def straight_line_km(origins: pd.DataFrame, sites: gpd.GeoDataFrame) -> pd.DataFrame:
    """Straight-line km from each origin (area_id, demand_x, demand_y in m) to each site."""
    ox, oy = origins["demand_x"].to_numpy(float), origins["demand_y"].to_numpy(float)
    sx, sy = sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()
    metres = np.hypot(ox[:, None] - sx[None, :], oy[:, None] - sy[None, :])
    return pd.DataFrame({
        "area_id": np.repeat(origins["area_id"].to_numpy(), len(sites)),
        "site_id": np.tile(sites["site_id"].to_numpy(), len(origins)),
        "straight_km": (metres.ravel() / 1000.0).round(6),
    })


def straight_line_travel(areas: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, *,
                         circuity: float, speed_kmh: float) -> pd.DataFrame:
    """Derived journeys area → site: road km = straight-line km × circuity; minutes at speed.

    Vectorised over all (area, site) pairs: areas × sites is small (hundreds × hundreds).
    """
    origin = areas["demand_point"]
    ox, oy = origin.x.to_numpy(), origin.y.to_numpy()
    sx, sy = sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()
    metres = np.hypot(ox[:, None] - sx[None, :], oy[:, None] - sy[None, :])
    km = metres.ravel() / 1000.0 * circuity
    return pd.DataFrame({
        "area_id": np.repeat(areas["area_id"].to_numpy(), len(sites)),
        "site_id": np.tile(sites["site_id"].to_numpy(), len(areas)),
        "km": km.round(6),
        "minutes": (km / speed_kmh * 60.0).round(6),
    })


def complete_travel(given: pd.DataFrame, derived: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Given journeys, plus derived ones for the (area, site) pairs the given table lacks.

    Returns area_id, site_id, minutes, km, travel_source (``travel.csv`` or ``straight line``)
    and the number of pairs filled.
    """
    keys = ["area_id", "site_id"]
    given = given[[*keys, "minutes", "km"]].assign(travel_source=TRAVEL_GIVEN)
    known = pd.MultiIndex.from_frame(given[keys])
    missing = ~pd.MultiIndex.from_frame(derived[keys]).isin(known)
    filled = derived.loc[missing, [*keys, "minutes", "km"]].assign(travel_source=TRAVEL_DERIVED)
    table = pd.concat([given, filled], ignore_index=True)
    return table.sort_values(keys).reset_index(drop=True), int(missing.sum())


def ring_radius_km(minutes: float, speed_kmh: float, circuity: float) -> float:
    """Straight-line radius (km) reached in ``minutes`` at ``speed_kmh`` on roads × circuity."""
    return minutes / 60.0 * speed_kmh / circuity


def journey_rings(points: gpd.GeoSeries, radii_km: pd.Series) -> gpd.GeoSeries:
    """Circles (EPSG:27700 polygons) of the given radii (km) around the points."""
    return gpd.GeoSeries(points.buffer(radii_km.to_numpy(float) * 1000.0,
                                       quad_segs=RING_SEGMENTS), index=points.index, crs=BNG)


def flow_lines(x0: pd.Series, y0: pd.Series, x1: pd.Series, y1: pd.Series) -> gpd.GeoSeries:
    """Straight lines from (x0, y0) to (x1, y1), EPSG:27700 metres."""
    lines = [LineString([(a, b), (c, d)]) for a, b, c, d in zip(x0, y0, x1, y1, strict=True)]
    return gpd.GeoSeries(lines, index=x0.index, crs=BNG)
