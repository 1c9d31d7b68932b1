"""Planning areas from ONS boundaries (LAD, ward, MSOA, LSOA…), dissolved through a lookup.

The boundaries may be GeoJSON, GeoPackage or Shapefile in any declared CRS; features are
identified by their GSS code. With a lookup (boundary code → area_id, name) the boundaries
are dissolved into one polygon per planning area; without one, each boundary is an area.
Output geometry is in British National Grid (EPSG:27700), snapped to a metre grid so the
written file is small and byte-stable.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon

from sufficiency.errors import InputError, Issue
from sufficiency.ingest.log import BuildLog
from sufficiency.ingest.sources import filter_where, read_source_csv, require_column
from sufficiency.ingest.spec import AreaSpec
from sufficiency.preprocess import geo
from sufficiency.preprocess.readers import ROW, read_geo_table

STAGE = "areas"


@dataclass(frozen=True)
class Areas:
    """Planning areas (area_id, name, geometry in EPSG:27700) and boundary code → area_id."""

    frame: gpd.GeoDataFrame
    code_to_area: dict[str, str]
    boundary_count: int

    def area_of(self, code: str) -> str | None:
        """The planning area of a boundary code or of an area id (case-insensitive)."""
        key = code.strip().lower()
        for known, area in self.code_to_area.items():
            if known.lower() == key:
                return area
        ids = {a.lower(): a for a in self.frame["area_id"]}
        return ids.get(key)


def _polygonal(geom) -> Polygon | MultiPolygon | None:
    """Only the polygon parts of a geometry (make_valid and union may add lines/points)."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return None
    merged = shapely.union_all(parts)
    return merged if merged.geom_type in ("Polygon", "MultiPolygon") else None


def _read_boundaries(spec: AreaSpec, log: BuildLog) -> gpd.GeoDataFrame:
    """Boundary features kept by the where filter: code, name, polygon (EPSG:27700)."""
    source = spec.boundaries
    raw = read_geo_table(source.path, source.label)
    table = pd.DataFrame(raw.drop(columns="geometry")).astype({c: str for c in raw.columns
                                                                if c not in ("geometry", ROW)})
    code = require_column(table, spec.code_column, source.label, "areas.code_column")
    name = (require_column(table, spec.name_column, source.label, "areas.name_column")
            if spec.name_column else code)
    kept, dropped = filter_where(table, spec.where, source.label, "areas")
    log.count(STAGE, source.label, "dropped", "boundary outside the where filter", len(dropped),
              [f"{c} (feature {r})" for c, r in zip(dropped[code], dropped[ROW], strict=True)])
    frame = gpd.GeoDataFrame({"code": kept[code].str.strip(), "name": kept[name].str.strip(),
                              ROW: kept[ROW]}, geometry=raw.geometry[kept.index].values,
                             crs=raw.crs)
    repeated = frame["code"].str.lower().duplicated()
    if repeated.any():
        row = int(frame.loc[repeated, ROW].iloc[0])
        raise InputError(Issue(source.label, row, spec.code_column,
                               f"code '{frame.loc[repeated, 'code'].iloc[0]}' appears twice",
                               "each boundary must have its own code", row_label="feature"))
    return _to_bng(frame, source.label, log)


def _to_bng(frame: gpd.GeoDataFrame, label: str, log: BuildLog) -> gpd.GeoDataFrame:
    """Reproject to EPSG:27700 (no declared CRS: metres or degrees by the bounds) and repair."""
    if frame.empty:
        raise InputError(Issue(label, None, None, "no boundary is left after the where filter",
                               "check areas.where and the code column"))
    if frame.crs is None:
        crs = geo.BNG if geo.looks_like_bng(frame.total_bounds) else geo.WGS84
        log.assume(f"{label} declares no CRS; its coordinates were read as {crs} "
                   f"({'metres' if crs == geo.BNG else 'degrees'}).")
        frame = frame.set_crs(crs)
    bng = geo.to_bng(frame)
    invalid = ~bng.geometry.is_valid
    log.count(STAGE, label, "changed", "invalid polygon repaired (make_valid)", int(invalid.sum()),
              list(bng.loc[invalid, "code"]))
    bng["geometry"] = [_polygonal(shapely.make_valid(g)) if bad else g
                       for g, bad in zip(bng.geometry, invalid, strict=True)]
    return bng


def _lookup_rows(spec: AreaSpec) -> tuple[pd.DataFrame, str, str]:
    """Lookup rows (code, area_id, area_name, where) from the lookup file or the spec's groups."""
    if spec.groups:
        rows = [{"code": code.strip(), "area_id": area_id, "area_name": name or area_id,
                 "where": f"{label}.codes", ROW: None}
                for label, area_id, name, codes in spec.groups for code in codes]
        return pd.DataFrame(rows), "build spec", "codes"
    source = spec.lookup
    table = read_source_csv(source)
    code = require_column(table, spec.lookup_code_column, source.label,
                          "areas.lookup_code_column")
    area = require_column(table, spec.lookup_area_column, source.label,
                          "areas.lookup_area_column")
    columns = [c for c in table.columns if c != ROW]
    name = next((c for c in columns if c.strip().lower() == spec.lookup_name_column.lower()),
                None)
    lookup = pd.DataFrame({"code": table[code].str.strip(), "area_id": table[area].str.strip(),
                           "area_name": (table[name] if name else table[area]).str.strip(),
                           "where": area, ROW: table[ROW]})
    for row, value in zip(lookup[ROW], lookup["area_id"], strict=True):
        if not value:
            raise InputError(Issue(source.label, int(row), area, "empty area id",
                                   "give every boundary code a planning area"))
    return lookup, source.label, code


def _read_lookup(spec: AreaSpec, codes: pd.Series, log: BuildLog) -> pd.DataFrame:
    """Lookup rows for the boundary codes; a code in two areas is an error, orphans are logged."""
    lookup, label, code_column = _lookup_rows(spec)
    clash = lookup.drop_duplicates(["code", "area_id"]).duplicated("code", keep=False)
    if clash.any():
        first = lookup.loc[clash, "code"].iloc[0]
        row = lookup.loc[clash, ROW].iloc[-1]
        raise InputError(Issue(label, None if pd.isna(row) else int(row),
                               code_column if label != "build spec" else "areas.groups",
                               f"code '{first}' is given two different planning areas",
                               "map each boundary code to one area"))
    known = set(codes.str.lower())
    orphan = ~lookup["code"].str.lower().isin(known)
    log.count(STAGE, label, "unmatched", "lookup code has no boundary (ignored)",
              int(orphan.sum()), list(lookup.loc[orphan, "code"]))
    return lookup[~orphan].drop_duplicates("code")


def _dissolve(frame: gpd.GeoDataFrame, spec: AreaSpec,
              log: BuildLog) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """One polygon per planning area: the union of its boundaries."""
    lookup = _read_lookup(spec, frame["code"], log)
    by_code = lookup.assign(key=lookup["code"].str.lower()).set_index("key")
    key = frame["code"].str.lower()
    matched = key.isin(by_code.index)
    log.count(STAGE, spec.boundaries.label, "dropped", "boundary code not in the lookup",
              int((~matched).sum()), list(frame.loc[~matched, "code"]))
    frame = frame[matched].assign(area_id=key[matched].map(by_code["area_id"]).values,
                                  area_name=key[matched].map(by_code["area_name"]).values)
    rows = []
    for area_id, group in frame.groupby("area_id", sort=True):
        rows.append({"area_id": area_id, "name": group["area_name"].iloc[0],
                     "geometry": _polygonal(shapely.union_all(list(group.geometry)))})
    log.count(STAGE, spec.boundaries.label, "changed",
              f"boundaries dissolved into {len(rows)} planning areas", len(frame))
    code_to_area = dict(zip(frame["code"], frame["area_id"], strict=True))
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=geo.BNG), code_to_area


def _snap(frame: gpd.GeoDataFrame, precision_m: float, label: str) -> gpd.GeoDataFrame:
    """Coordinates on a ``precision_m`` grid (shapely keeps the polygons valid)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        snapped = [_polygonal(shapely.set_precision(g, precision_m)) for g in frame.geometry]
    empty = [a for a, g in zip(frame["area_id"], snapped, strict=True) if g is None]
    if empty:
        raise InputError(Issue(label, None, None, f"area '{empty[0]}' has no polygon left",
                               "check the boundary file and the lookup"))
    return frame.set_geometry(gpd.GeoSeries(snapped, index=frame.index, crs=geo.BNG))


def build_areas(spec: AreaSpec, precision_m: float, log: BuildLog) -> Areas:
    """Planning areas from the boundary file (dissolved through the lookup when given)."""
    boundaries = _read_boundaries(spec, log)
    if spec.lookup is not None or spec.groups:
        areas, code_to_area = _dissolve(boundaries, spec, log)
    else:
        areas = gpd.GeoDataFrame({"area_id": boundaries["code"], "name": boundaries["name"]},
                                 geometry=boundaries.geometry.values, crs=geo.BNG)
        code_to_area = dict(zip(boundaries["code"], boundaries["code"], strict=True))
    areas = _snap(areas.sort_values("area_id").reset_index(drop=True), precision_m,
                  spec.boundaries.label)
    return Areas(areas, code_to_area, len(boundaries))

