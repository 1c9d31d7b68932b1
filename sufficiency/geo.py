"""Geography: every layer to British National Grid (EPSG:27700), demand points, distances.

All distance work is done in EPSG:27700 metres. Offline, pyproj transforms WGS84 to the
National Grid with a Helmert transform (about 2 m from OSTN15): ample for planning.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point

BNG = "EPSG:27700"
WGS84 = "EPSG:4326"
GB_LON = (-9.01, 2.01)
GB_LAT = (49.75, 61.01)
GB_EASTING = (-100_000.0, 800_000.0)
GB_NORTHING = (-100_000.0, 1_400_000.0)


def looks_like_bng(bounds: np.ndarray) -> bool:
    """Whether coordinate bounds are metres of the National Grid rather than degrees."""
    minx, miny, maxx, maxy = bounds
    return max(abs(minx), abs(maxx), abs(miny), abs(maxy)) > 360


def within_gb_degrees(lon: pd.Series, lat: pd.Series) -> pd.Series:
    """True where a lon/lat pair lies in the area of use of EPSG:27700."""
    return lon.between(*GB_LON) & lat.between(*GB_LAT)


def within_gb_metres(easting: pd.Series, northing: pd.Series) -> pd.Series:
    """True where an easting/northing pair lies on or near Great Britain."""
    return easting.between(*GB_EASTING) & northing.between(*GB_NORTHING)


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
