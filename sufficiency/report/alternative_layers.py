"""Map layers of the near-optimal alternatives: one overlay per plan, off until chosen.

From the fresh ``alternatives`` analysis (:class:`RunAnalyses`): each alternative plan's
openings as circle markers at their sites (colour by kind, area ∝ places, dotted outline),
named in the layer control with the plan's extra cost over the optimum. Text from the inputs
goes through :func:`sufficiency.report.webmap.escape`, as on the rest of the map.
"""

from __future__ import annotations

import math

import folium
import geopandas as gpd
import pandas as pd

from sufficiency.outcome import RunResult
from sufficiency.report.analysis_tables import RunAnalyses
from sufficiency.report.style import KIND_COLOURS, KIND_LABELS, OTHER_COLOUR, ay_label
from sufficiency.report.webmap import (
    DECIMALS,
    MAX_RADIUS,
    MIN_RADIUS,
    RADIUS_PER_ROOT_PLACE,
    escape,
)

OPTIMAL = "optimal"  # the optimum's label in alternatives.csv (already on the map)


def layer_name(row: pd.Series) -> str:
    """'Alternative 1: +£1,000 (+0.10 %) over the optimum' for the layer control."""
    extra = pd.to_numeric(row.get("extra_cost"), errors="coerce")
    share = pd.to_numeric(row.get("extra_percent"), errors="coerce")
    plan = str(row["plan"])
    if pd.isna(extra):
        return plan[:1].upper() + plan[1:]
    tail = "" if pd.isna(share) else f" (+{float(share):.2f} %)"
    return f"{plan[:1].upper()}{plan[1:]}: +£{float(extra):,.0f}{tail} over the optimum"


def _site_points(run: RunResult) -> gpd.GeoDataFrame:
    """Site id, name and point (WGS84, rounded as the rest of the map)."""
    sites = run.dataset.sites[["site_id", "name", "geometry"]]
    if sites.crs is None:
        raise ValueError("map layers need a CRS (expected EPSG:27700); none was set")
    points = sites.to_crs(4326)
    return points.assign(lat=points.geometry.y.round(DECIMALS),
                         lon=points.geometry.x.round(DECIMALS)).set_index("site_id")


def _popup(site_name: str, openings: pd.DataFrame, plan: str) -> str:
    """The site's openings in this plan: option, kind, places, opening year, capital."""
    rows = "".join(
        f"<tr><td>{escape(r.option_id)}</td><td>{escape(KIND_LABELS.get(r.kind, r.kind))}</td>"
        f"<td>{escape(_whole(r.places))}</td><td>{escape(_ay(r.opening_year))}</td>"
        f"<td>£{escape(_whole(r.capital_cost))}</td></tr>"
        for r in openings.itertuples(index=False))
    return (f"<b>{escape(site_name)}</b><br>{escape(plan)}<table><tr><th>option</th>"
            f"<th>kind</th><th>places</th><th>opens</th><th>capital</th></tr>{rows}</table>")


def _whole(value: object) -> str:
    number = pd.to_numeric(value, errors="coerce")
    return "—" if pd.isna(number) else f"{float(number):,.0f}"


def _ay(value: object) -> str:
    number = pd.to_numeric(value, errors="coerce")
    return "—" if pd.isna(number) else ay_label(int(number))


def plan_layer(plan: str, name: str, openings: pd.DataFrame,
               sites: gpd.GeoDataFrame) -> folium.FeatureGroup:
    """One alternative plan's openings, a marker per site, hidden until ticked."""
    group = folium.FeatureGroup(name=escape(name), show=False)
    for site_id, at_site in openings.groupby("site_id", sort=True):
        if site_id not in sites.index:
            continue
        site = sites.loc[site_id]
        places = float(pd.to_numeric(at_site["places"], errors="coerce").fillna(0).sum())
        kind = str(at_site["kind"].iloc[0])
        colour = KIND_COLOURS.get(kind, OTHER_COLOUR)
        radius = min(max(RADIUS_PER_ROOT_PLACE * math.sqrt(max(places, 0.0)), MIN_RADIUS),
                     MAX_RADIUS)
        folium.CircleMarker(
            location=[float(site["lat"]), float(site["lon"])], radius=round(radius, 2),
            color=colour, weight=3, fill=True, fill_color=colour, fill_opacity=0.35,
            dash_array="2 4", tooltip=folium.Tooltip(escape(f"{site['name']}: {plan}")),
            popup=folium.Popup(_popup(str(site["name"]), at_site, plan), parse_html=False,
                               max_width=360),
        ).add_to(group)
    return group


def alternative_layers(run: RunResult,
                       analyses: RunAnalyses | None) -> list[folium.FeatureGroup]:
    """A layer per near-optimal alternative plan (none without a fresh alternatives run)."""
    if analyses is None or analyses.alternatives is None:
        return []
    summary = analyses.alternatives["alternatives.csv"]
    plans = analyses.alternatives["plans.csv"]
    sites = _site_points(run)
    layers = []
    for _, row in summary.iterrows():
        plan = str(row["plan"])
        if plan == OPTIMAL:
            continue
        openings = plans[plans["plan"] == plan]
        layers.append(plan_layer(plan, layer_name(row), openings, sites))
    return layers
