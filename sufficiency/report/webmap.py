"""Self-contained, deterministic folium map of a plan.

Planning areas are the base layer (no tiles), shaded by demand growth; existing and new
provision are circle-marker layers coloured by kind. Leaflet 1.9.4 is inlined from the
``django-js-lib-leaflet`` package, so the page requests nothing from the network.

Every text taken from the inputs goes through :func:`escape` (HTML entities for
``& < > " '`` and also backslash, backtick and ``$``), because folium puts popup and tooltip
text raw into JS template literals and GeoJSON tooltips set property values as HTML.
"""

from __future__ import annotations

import base64
import math
import re
from importlib import resources
from pathlib import Path

import branca.colormap
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element

KIND_COLOURS = {
    "special": "#1b9e77",
    "resourced": "#d95f02",
    "satellite": "#7570b3",
    "new_special": "#e7298a",
}
KIND_LABELS = {
    "special": "Special school",
    "resourced": "Resourced provision",
    "satellite": "Satellite site",
    "new_special": "New special school",
}
OTHER_COLOUR = "#666666"
GROWTH_COLOURS = ["#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704"]  # ColorBrewer Oranges
NO_DATA_COLOUR = "#cccccc"
MIN_RADIUS, MAX_RADIUS, RADIUS_PER_ROOT_PLACE = 4.0, 18.0, 1.5
DECIMALS = 6

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
            "\\": "&#92;", "`": "&#96;", "$": "&#36;"}
_ESCAPE_RE = re.compile("[&<>\"'\\\\`$]")
_ID_RE = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")
_JS_SLOT, _CSS_SLOT = "<!-- inline: leaflet.js -->", "<!-- inline: leaflet.css -->"
# folium.Popup renders `$(`<div>…</div>`)[0]`: this stand-in replaces jQuery for that.
_DOLLAR_JS = ("<script>window.$ = function (html) { var t = document.createElement('template');"
              " t.innerHTML = String(html).trim(); return [t.content.firstElementChild]; };"
              "</script>")
_PAGE_CSS = ("<style>.plan-box {position: fixed; z-index: 1000; background: white;"
             " padding: 6px 10px; border: 1px solid #999; border-radius: 4px;"
             " font: 13px/1.4 sans-serif;} .plan-swatch {display: inline-block; width: 12px;"
             " height: 12px; border-radius: 6px; margin-right: 6px; vertical-align: middle;}"
             "</style>")


def escape(value: object) -> str:
    """Escape text for HTML and a JS template literal: entities for &<>"', backslash, `$."""
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(0)], str(value))


def ay_label(year: int) -> str:
    """Label an academic year starting in September: 2028 -> 'AY 2028/29'."""
    return f"AY {year}/{(year + 1) % 100:02d}"


def growth_fraction(first: float, last: float) -> float:
    """Relative demand growth (last-first)/first; 0 when both are 0, NaN when undefined."""
    if first == 0 or not (math.isfinite(first) and math.isfinite(last)):
        return 0.0 if first == 0 and last == 0 else math.nan
    return (last - first) / first


def render_plan_map(areas: gpd.GeoDataFrame, provision: gpd.GeoDataFrame, *, title: str,
                    first_year: int, last_year: int) -> str:
    """Self-contained HTML of the plan map."""
    if areas.empty:
        raise ValueError("the plan map needs at least one planning area")
    areas = _to_wgs84(areas)
    provision = _to_wgs84(provision)
    firsts, lasts = (pd.to_numeric(areas[c], errors="coerce").astype(float)
                     for c in ("pupils_first_year", "pupils_last_year"))
    growth = [growth_fraction(a, b) for a, b in zip(firsts, lasts, strict=True)]
    scale = _growth_scale(growth)
    fmap = _base_map(areas, title)
    _area_layer(areas, growth, scale, int(first_year), int(last_year)).add_to(fmap)
    _provision_layer(provision, "existing_places", "Existing provision", False).add_to(fmap)
    _provision_layer(provision, "new_places", "New provision (plan)", True).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    root = fmap.get_root()
    root.html.add_child(Element(_title_html(title)))
    root.html.add_child(Element(_legend_html(scale, int(first_year), int(last_year))))
    html = _stable_ids(root.render(), _element_ids(root))
    js, css = _leaflet_assets()
    return html.replace(_JS_SLOT, js, 1).replace(_CSS_SLOT, css, 1)


def write_map(html: str, path: Path) -> None:
    """Write the map HTML to ``path`` as UTF-8, creating parent folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")


def _to_wgs84(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if frame.empty:
        return frame
    if frame.crs is None:
        raise ValueError("map layers need a CRS (expected EPSG:27700); none was set")
    out = frame.to_crs(4326)
    rounded = shapely.transform(np.asarray(out.geometry.values),
                                lambda xy: np.round(xy, DECIMALS))
    return out.set_geometry(gpd.GeoSeries(rounded, index=out.index, crs=4326))


def _base_map(areas: gpd.GeoDataFrame, title: str) -> folium.Map:
    west, south, east, north = (round(float(v), DECIMALS) for v in areas.total_bounds)
    centre = [round((south + north) / 2, DECIMALS), round((west + east) / 2, DECIMALS)]
    fmap = folium.Map(location=centre, tiles=None,
                      zoom_start=10, control_scale=True)
    fmap.default_js = []  # instance attributes: other maps keep folium's defaults
    fmap.default_css = []
    root = fmap.get_root()
    root.title = escape(title)
    for name, html in (("leaflet_css", _CSS_SLOT), ("leaflet_js", _JS_SLOT),
                       ("dollar_js", _DOLLAR_JS), ("plan_css", _PAGE_CSS)):
        root.header.add_child(Element(html), name=name)
    fmap.fit_bounds([[south, west], [north, east]])
    return fmap


def _growth_scale(growth: list[float]) -> branca.colormap.LinearColormap:
    finite = [g * 100 for g in growth if math.isfinite(g)] or [0.0]
    low, high = round(min(finite), 1), round(max(finite), 1)
    if high <= low:
        low, high = low - 0.5, high + 0.5
    return branca.colormap.LinearColormap(GROWTH_COLOURS, vmin=low, vmax=high)


def _growth_colour(scale: branca.colormap.LinearColormap, fraction: float) -> str:
    if not math.isfinite(fraction):
        return NO_DATA_COLOUR
    return scale.rgb_hex_str(min(max(fraction * 100, scale.vmin), scale.vmax))


def _fmt_pupils(value: object) -> str:
    number = pd.to_numeric(value, errors="coerce")
    return f"{float(number):,.1f}" if pd.notna(number) and math.isfinite(number) else "n/a"


def _fmt_growth(fraction: float) -> str:
    return f"{fraction:+.1%}" if math.isfinite(fraction) else "n/a"


def _area_layer(areas: gpd.GeoDataFrame, growth: list[float],
                scale: branca.colormap.LinearColormap, first: int, last: int) -> folium.GeoJson:
    features = []
    for i, (row, frac) in enumerate(zip(areas.itertuples(index=False), growth, strict=True)):
        props = {"name": escape(row.name), "area_id": escape(row.area_id),
                 "pupils_first": _fmt_pupils(row.pupils_first_year),
                 "pupils_last": _fmt_pupils(row.pupils_last_year),
                 "growth": _fmt_growth(frac), "fill": _growth_colour(scale, frac)}
        features.append({"type": "Feature", "id": str(i), "properties": props,
                         "geometry": shapely.geometry.mapping(row.geometry)})
    fields = ["name", "area_id", "pupils_first", "pupils_last", "growth"]
    aliases = ["Area", "Area id", f"Pupils {ay_label(first)}", f"Pupils {ay_label(last)}",
               "Demand growth"]
    return folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=f"Planning areas: demand growth {first}\u2013{last}",
        overlay=False,  # the base layer: drawn first, never re-added above the markers
        style_function=_area_style,
        tooltip=folium.GeoJsonTooltip(fields=["name", "growth"], aliases=["Area", "Growth"],
                                      localize=False),
        popup=folium.GeoJsonPopup(fields=fields, aliases=aliases, localize=False),
    )


def _area_style(feature: dict) -> dict:
    return {"fillColor": feature["properties"]["fill"], "color": "#555555", "weight": 1,
            "fillOpacity": 0.7}


def _provision_layer(provision: gpd.GeoDataFrame, places_column: str, name: str,
                     is_new: bool) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=name)
    if provision.empty:
        return group
    rows = provision[pd.to_numeric(provision[places_column]).fillna(0) > 0]
    for row in rows.itertuples(index=False):
        colour = KIND_COLOURS.get(str(row.kind), OTHER_COLOUR)
        places = float(getattr(row, places_column))
        radius = min(max(RADIUS_PER_ROOT_PLACE * math.sqrt(places), MIN_RADIUS), MAX_RADIUS)
        folium.CircleMarker(
            location=[row.geometry.y, row.geometry.x], radius=round(radius, 2), color=colour,
            weight=3 if is_new else 1, fill=True, fill_color=colour,
            fill_opacity=0.5 if is_new else 0.8, dash_array="4 3" if is_new else None,
            tooltip=folium.Tooltip(escape(row.site_name)),
            popup=folium.Popup(_marker_popup(row), parse_html=False, max_width=320),
        ).add_to(group)
    return group


def _marker_popup(row: tuple) -> str:
    opening = row.opening_year
    capital = float(row.capital_cost) if pd.notna(row.capital_cost) else 0.0
    cells = [
        ("Kind", KIND_LABELS.get(str(row.kind), str(row.kind))),
        ("Option", row.option_id), ("Site id", row.site_id), ("Area", row.area_id),
        ("Needs", "all needs" if str(row.needs) == "*" else row.needs),
        ("Phases", "all phases" if str(row.phases) == "*" else row.phases),
        ("Existing places", f"{int(row.existing_places):,}"),
        ("New places", f"{int(row.new_places):,}"),
        ("Opening year", "\u2014" if pd.isna(opening) else ay_label(int(opening))),
        ("Capital", f"\u00a3{capital:,.0f}"),
    ]
    body = "".join(f"<tr><th style='text-align:left'>{escape(k)}</th><td>{escape(v)}</td></tr>"
                   for k, v in cells)
    return f"<b>{escape(row.site_name)}</b><table>{body}</table>"


def _title_html(title: str) -> str:
    return ("<div class='plan-box' style='top: 10px; left: 50%; transform: translateX(-50%);"
            f" font-size: 16px; font-weight: bold;'>{escape(title)}</div>")


def _legend_html(scale: branca.colormap.LinearColormap, first: int, last: int) -> str:
    kinds = "".join(f"<div><span class='plan-swatch' style='background: {colour}'></span>"
                    f"{KIND_LABELS[kind]}</div>" for kind, colour in KIND_COLOURS.items())
    stops = ", ".join(scale.rgb_hex_str(v)
                      for v in np.linspace(scale.vmin, scale.vmax, len(GROWTH_COLOURS)))
    return (
        "<div class='plan-box' style='bottom: 24px; left: 10px;'>"
        "<b>Provision</b>" + kinds +
        "<div style='font-size: 11px'>Solid: existing places; dashed outline: new places."
        " Area of circle \u221d places.</div>"
        f"<b>Demand growth {first}\u2013{last}</b>"
        f"<div style='width: 180px; height: 12px; background: linear-gradient(to right,"
        f" {stops});'></div>"
        f"<div style='width: 180px; display: flex; justify-content: space-between;'>"
        f"<span>{scale.vmin:+.1f}%</span><span>{scale.vmax:+.1f}%</span></div>"
        f"<div><span class='plan-swatch' style='background: {NO_DATA_COLOUR};"
        f" border-radius: 0'></span>no pupils in {first}</div></div>"
    )


def _element_ids(element: Element) -> set[str]:
    ids = {element._id}
    children = list(element._children.values())
    children += [getattr(element, a) for a in ("header", "html", "script")
                 if isinstance(getattr(element, a, None), Element)]
    for child in children:
        ids |= _element_ids(child)
    return ids


def _stable_ids(html: str, ids: set[str]) -> str:
    """Replace folium's random element ids with counters in order of first appearance."""
    mapping: dict[str, str] = {}

    def renumber(match: re.Match[str]) -> str:
        token = match.group(0)
        if token not in ids:
            return token
        return mapping.setdefault(token, f"{len(mapping) + 1:04d}")

    return _ID_RE.sub(renumber, html)


def _leaflet_assets() -> tuple[str, str]:
    root = resources.files("js_lib_leaflet") / "static" / "js_lib_leaflet"
    js = (root / "leaflet.js").read_text(encoding="utf-8")
    js = js.replace("//# sourceMappingURL=leaflet.js.map", "")
    # The attribution prefix links to leafletjs.com; keep the credit, drop the off-page link.
    js = js.replace('<a href="https://leafletjs.com" title=', "<a title=")
    css = (root / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match[str]) -> str:
        png = (root / "images" / match.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(png).decode('ascii')})"

    css = re.sub(r"url\(images/([\w-]+\.png)\)", data_uri, css)
    if "</script" in js.lower() or "</style" in css.lower():
        raise RuntimeError("the bundled Leaflet assets cannot be inlined safely")
    return f"<script>{js}</script>", f"<style>{css}</style>"
