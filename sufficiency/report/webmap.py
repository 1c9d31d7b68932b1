"""Self-contained, deterministic folium map of a plan.

Planning areas are the base layer (no tiles), shaded by demand growth; existing and new
provision are circle-marker layers coloured by kind. Leaflet 1.9.4 is inlined from the
``django-js-lib-leaflet`` package, so the page requests nothing from the network.

With a :class:`TransportView` the map is also a transport team's map: a second base layer
shades each area by the mean one-way journey minutes of its locally placed pupils; flow
lines run from each area to the provision its pupils attend (width ∝ pupils), for the plan
and for do nothing; journey-time rings surround the sites of new provision from their
opening year; a year control steps through the academic years so the phasing can be
followed (it swaps the flows, re-shades the areas and shows the rings open by then).
With independent providers (independent.csv) a layer marks them, and the legend counts the
independent pupils whose journey is over their phase's limit.

The map reads without clicking: permanent labels name the planning areas and the sites with
new places (overlaps hidden at each zoom); the legends fold (open only where the window has
room); a print button and ``@media print`` give an A4 landscape page with every legend open.
A basemap is offered only when the run's ``[map] tile_url`` is set, off at first (no request
until it is ticked); the page's Content-Security-Policy allows images from that host only.

Every text taken from the inputs goes through :func:`escape` (HTML entities for
``& < > " '`` and also backslash, backtick and ``$``), because folium puts popup and tooltip
text raw into JS template literals and GeoJSON tooltips set property values as HTML.
"""

from __future__ import annotations

import base64
import math
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template
from shapely.ops import polylabel

from sufficiency.preprocess.map_settings import MapSettings
from sufficiency.report.style import KIND_COLOURS, KIND_LABELS, OTHER_COLOUR, ay_label
from sufficiency.report.transport import TransportView

GROWTH_COLOURS = ["#fdd0a2", "#fdae6b", "#fd8d3c", "#e6550d", "#a63603"]  # Oranges, no white
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
_TEMPLATES = Path(__file__).parent / "templates"
_PAGE_CSS = f"<style>{(_TEMPLATES / 'map_page.css').read_text(encoding='utf-8')}</style>"
GROWTH_SPREAD_MIN = 0.01  # below 1 percentage point of spread, growth shading says nothing
SHADE_CLASSES = 5  # quantile classes of the area shading (fewer when fewer values)
LABELS_LAYER = "Labels: planning areas and new provision"


def escape(value: object) -> str:
    """Escape text for HTML and a JS template literal: entities for &<>"', backslash, `$."""
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(0)], str(value))


def growth_fraction(first: float, last: float) -> float:
    """Relative demand growth (last-first)/first; 0 when both are 0, NaN when undefined."""
    if first == 0 or not (math.isfinite(first) and math.isfinite(last)):
        return 0.0 if first == 0 and last == 0 else math.nan
    return (last - first) / first




def render_plan_map(areas: gpd.GeoDataFrame, provision: gpd.GeoDataFrame, *, title: str,
                    first_year: int, last_year: int,
                    transport: TransportView | None = None,
                    basemap: MapSettings | None = None,
                    extra_layers: list[folium.FeatureGroup] | None = None) -> str:
    """Self-contained HTML of the plan map (with the transport layers when given).

    ``basemap`` (the run's ``[map]``): a tile layer offered in the layer control, off.
    ``extra_layers``: more overlays for the layer control (alternative plans:
    :mod:`sufficiency.report.alternative_layers`).
    """
    if areas.empty:
        raise ValueError("the plan map needs at least one planning area")
    areas = _to_wgs84(areas)
    provision = _to_wgs84(provision)
    first_year, last_year = int(first_year), int(last_year)
    shading = area_shading(areas, first_year, last_year)
    basemap = basemap if basemap is not None and basemap.tile_url else None
    fmap = _base_map(areas, title, content_security_policy(basemap))
    tiles = _basemap_layer(basemap)
    if tiles is not None:
        tiles.add_to(fmap)
    shaded = _area_layer(areas, shading, first_year, last_year, show=transport is None)
    shaded.add_to(fmap)
    parts = None if transport is None else _add_transport(fmap, areas, transport)
    markers = [_provision_layer(provision, "existing_places", "Existing provision", False),
               _provision_layer(provision, "new_places", "New provision (plan)", True)]
    if transport is not None and transport.providers is not None:
        markers.append(_providers_layer(_to_wgs84(transport.providers)))
    for layer in markers:
        layer.add_to(fmap)
    for layer in extra_layers or []:
        layer.add_to(fmap)
    labels = folium.FeatureGroup(name=LABELS_LAYER)
    labels.add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    root = fmap.get_root()
    root.html.add_child(Element(_title_html(title)))
    legends = [_area_legend(shading, shaded), _provision_legend(provision)]
    if transport is not None and parts is not None:
        YearControl(transport.years, parts, markers).add_to(fmap)
        legends += _transport_legends(transport, parts)
    legends.sort(key=lambda g: g.open_at)  # the shading first: it opens in smaller windows
    MapPage(labels, area_labels(areas), site_labels(provision), tiles, _bounds(areas),
            legends).add_to(fmap)
    root.html.add_child(Element(_legends_html(legends)))
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


def content_security_policy(basemap: MapSettings | None) -> str:
    """The page's CSP: inline scripts and styles only; images inline or from the tile host."""
    images = "data:" if basemap is None or basemap.tile_origin is None else (
        f"data: {basemap.tile_origin}")
    return ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
            f"img-src {images}; base-uri 'none'; form-action 'none'")


def _bounds(areas: gpd.GeoDataFrame) -> list[list[float]]:
    """[[south, west], [north, east]] of the areas (WGS84, rounded)."""
    west, south, east, north = (round(float(v), DECIMALS) for v in areas.total_bounds)
    return [[south, west], [north, east]]


def _base_map(areas: gpd.GeoDataFrame, title: str, csp: str) -> folium.Map:
    (south, west), (north, east) = _bounds(areas)
    centre = [round((south + north) / 2, DECIMALS), round((west + east) / 2, DECIMALS)]
    fmap = folium.Map(location=centre, tiles=None,
                      zoom_start=10, control_scale=True)
    fmap.default_js = []  # instance attributes: other maps keep folium's defaults
    fmap.default_css = []
    root = fmap.get_root()
    root.title = escape(title)
    meta = f'<meta http-equiv="Content-Security-Policy" content="{escape(csp)}">'
    for name, html in (("csp", meta), ("leaflet_css", _CSS_SLOT), ("leaflet_js", _JS_SLOT),
                       ("dollar_js", _DOLLAR_JS), ("plan_css", _PAGE_CSS)):
        root.header.add_child(Element(html), name=name)
    framing = folium.FitBounds(_bounds(areas))
    framing.options["animate"] = False  # Leaflet ignores a later fit while a zoom animates
    fmap.add_child(framing)
    return fmap


def _basemap_layer(basemap: MapSettings | None) -> folium.TileLayer | None:
    """The optional basemap: in the layer control, off, so no tile is asked for at first."""
    if basemap is None or basemap.tile_url is None or basemap.tile_origin is None:
        return None
    host = basemap.tile_origin.removeprefix("https://")
    return folium.TileLayer(tiles=basemap.tile_url, attr=escape(basemap.attribution or ""),
                            name=f"Basemap: {escape(host)} (fetched when ticked)",
                            overlay=True, show=False, max_zoom=19, subdomains="")


@dataclass(frozen=True)
class AreaShading:
    """What the planning areas are shaded by: quantile classes of growth or of pupils.

    ``measure`` is "growth" (``values`` are fractions) or "pupils" (pupils in the last year,
    used when growth differs by less than :data:`GROWTH_SPREAD_MIN` between areas).
    """

    measure: str
    layer_name: str
    heading: str
    note: str
    values: list[float]
    edges: list[float]
    colours: list[str]

    def colour(self, value: float) -> str:
        """Fill colour of an area's value; grey when it has none."""
        if not math.isfinite(value):
            return NO_DATA_COLOUR
        index = int(np.searchsorted(self.edges[1:-1], value, side="right"))
        return self.colours[min(index, len(self.colours) - 1)]

    def class_labels(self) -> list[str]:
        """'low to high' of each class, in the measure's unit."""
        fmt = _fmt_growth if self.measure == "growth" else (lambda v: f"{v:,.0f}")
        pairs = list(zip(self.edges, self.edges[1:], strict=False)) or [(self.edges[0],) * 2]
        return [fmt(a) if fmt(a) == fmt(b) else f"{fmt(a)} to {fmt(b)}" for a, b in pairs]


def quantile_edges(values: list[float], classes: int = SHADE_CLASSES) -> list[float]:
    """Class edges holding about equal numbers of areas (fewer classes for fewer values)."""
    finite = np.array([v for v in values if math.isfinite(v)] or [0.0])
    count = min(classes, len(np.unique(finite)))
    edges = np.unique(np.round(np.quantile(finite, np.linspace(0, 1, count + 1)), 9))
    return [float(e) for e in (edges if len(edges) > 1 else [edges[0], edges[0]])]


def area_shading(areas: gpd.GeoDataFrame, first: int, last: int) -> AreaShading:
    """Growth classes when growth differs between areas; else pupils in the last year."""
    firsts, lasts = (pd.to_numeric(areas[c], errors="coerce").astype(float).tolist()
                     for c in ("pupils_first_year", "pupils_last_year"))
    growth = [growth_fraction(a, b) for a, b in zip(firsts, lasts, strict=True)]
    finite = [g for g in growth if math.isfinite(g)]
    overall = growth_fraction(float(np.nansum(firsts)), float(np.nansum(lasts)))
    if finite and max(finite) - min(finite) >= GROWTH_SPREAD_MIN:
        measure, values = "growth", growth
        name = f"Planning areas: demand growth {first}\u2013{last}"
        heading = f"Demand growth {ay_label(first)} \u2192 {ay_label(last)}"
        note = (f"Classes hold about equal numbers of areas. Whole LA: {_fmt_growth(overall)}."
                f" Grey: no pupils in {ay_label(first)}.")
    else:
        measure, values = "pupils", lasts
        name = f"Planning areas: pupils {ay_label(last)}"
        heading = f"Pupils needing a specialist place, {ay_label(last)}"
        spread = (f"{_fmt_growth(min(finite))} to {_fmt_growth(max(finite))}" if finite
                  else "not defined")
        note = (f"Demand growth {first}\u2013{last} is about the same in every area ({spread};"
                f" whole LA {_fmt_growth(overall)}), so areas are shaded by pupils instead.")
    edges = quantile_edges(values)
    count = len(edges) - 1
    picks = [GROWTH_COLOURS[2]] if count == 1 else [
        GROWTH_COLOURS[round(i)] for i in np.linspace(0, len(GROWTH_COLOURS) - 1, count)]
    return AreaShading(measure, name, heading, escape(note), values, edges, picks)


def _fmt_pupils(value: object) -> str:
    number = pd.to_numeric(value, errors="coerce")
    return f"{float(number):,.1f}" if pd.notna(number) and math.isfinite(number) else "n/a"


def _fmt_growth(fraction: float) -> str:
    return f"{fraction:+.1%}" if math.isfinite(fraction) else "n/a"


def _area_layer(areas: gpd.GeoDataFrame, shading: AreaShading, first: int, last: int,
                show: bool = True) -> folium.GeoJson:
    features = []
    for i, row in enumerate(areas.itertuples(index=False)):
        frac = growth_fraction(*(float(pd.to_numeric(v, errors="coerce")) for v in
                                 (row.pupils_first_year, row.pupils_last_year)))
        props = {"name": escape(row.name), "area_id": escape(row.area_id),
                 "pupils_first": _fmt_pupils(row.pupils_first_year),
                 "pupils_last": _fmt_pupils(row.pupils_last_year),
                 "growth": _fmt_growth(frac), "fill": shading.colour(shading.values[i])}
        features.append({"type": "Feature", "id": str(i), "properties": props,
                         "geometry": shapely.geometry.mapping(row.geometry)})
    fields = ["name", "area_id", "pupils_first", "pupils_last", "growth"]
    aliases = ["Area", "Area id", f"Pupils {ay_label(first)}", f"Pupils {ay_label(last)}",
               "Demand growth"]
    return folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=shading.layer_name,
        overlay=False,  # the base layer: drawn first, never re-added above the markers
        show=show,
        style_function=_area_style,
        tooltip=folium.GeoJsonTooltip(fields=["name", "pupils_last", "growth"],
                                      aliases=["Area", f"Pupils {ay_label(last)}", "Growth"],
                                      localize=False),
        popup=folium.GeoJsonPopup(fields=fields, aliases=aliases, localize=False),
    )


def _area_style(feature: dict) -> dict:
    return {"fillColor": feature["properties"]["fill"], "color": "#555555", "weight": 1,
            "fillOpacity": 0.7, "className": "plan-area"}


def _provision_layer(provision: gpd.GeoDataFrame, places_column: str, name: str,
                     is_new: bool) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=name)
    if provision.empty:
        return group
    rows = provision[pd.to_numeric(provision[places_column]).fillna(0) > 0]
    for row in rows.itertuples(index=False):
        colour = KIND_COLOURS.get(str(row.kind), OTHER_COLOUR)
        radius = marker_radius(float(getattr(row, places_column)))
        folium.CircleMarker(
            location=[row.geometry.y, row.geometry.x], radius=radius, color=colour,
            weight=3 if is_new else 1, fill=True, fill_color=colour,
            fill_opacity=0.5 if is_new else 0.8, dash_array="4 3" if is_new else None,
            tooltip=folium.Tooltip(escape(row.site_name)),
            popup=folium.Popup(_marker_popup(row), parse_html=False, max_width=320),
        ).add_to(group)
    return group


def marker_radius(places: float) -> float:
    """Circle radius in px: area ∝ places, within [MIN_RADIUS, MAX_RADIUS]."""
    return round(min(max(RADIUS_PER_ROOT_PLACE * math.sqrt(places), MIN_RADIUS), MAX_RADIUS), 2)


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


PROVIDER_COLOUR = "#2b2b2b"
PROVIDERS_LAYER = "Independent providers (independent.csv)"


def _providers_layer(providers: gpd.GeoDataFrame) -> folium.FeatureGroup:
    """Independent providers as dark square-ish markers; popups say what the plan sends."""
    group = folium.FeatureGroup(name=PROVIDERS_LAYER)
    for row in providers.itertuples(index=False):
        cells = [("Provider", row.provider_id), ("Needs", row.needs), ("Phases", row.phases),
                 ("Fee", f"\u00a3{float(row.cost_per_place):,.0f} per pupil-year"),
                 ("Pupil-years, plan", _fmt_pupils(row.pupil_years)),
                 ("Pupil-years, do nothing", _fmt_pupils(row.pupil_years_do_nothing)),
                 ("Mean journey, plan", _fmt_minutes(row.mean_minutes)
                  if pd.notna(row.mean_minutes) else "\u2014")]
        body = "".join(f"<tr><th style='text-align:left'>{escape(k)}</th><td>{escape(v)}</td>"
                       "</tr>" for k, v in cells)
        folium.RegularPolygonMarker(
            location=[row.geometry.y, row.geometry.x], number_of_sides=4, rotation=45,
            radius=7, color=PROVIDER_COLOUR, weight=2, fill=True, fill_color="#ffffff",
            fill_opacity=0.9, tooltip=folium.Tooltip(escape(row.name)),
            popup=folium.Popup(f"<b>{escape(row.name)}</b><table>{body}</table>",
                               parse_html=False, max_width=320),
        ).add_to(group)
    return group


def _title_html(title: str) -> str:
    return ("<div class='plan-box' style='top: 10px; left: 50%; transform: translateX(-50%);"
            f" font-size: 16px; font-weight: bold;'>{escape(title)}</div>")


@dataclass(frozen=True)
class Legend:
    """One folding legend: a title and escaped HTML.

    ``open_at``: the least window height (px) at which it starts open; else it starts folded.
    """

    title: str
    body: str
    open_at: int
    layer: folium.map.Layer | None = None  # shown only while this layer is on the map


def _legends_html(legends: list[Legend]) -> str:
    """The legends, stacked bottom-left, each a <details> (folded until the script opens it)."""
    items = "".join(f"<details class='plan-box plan-legend' data-open-at='{g.open_at}'>"
                    f"<summary>{g.title}</summary><div class='legend-body'>{g.body}</div>"
                    "</details>" for g in legends)
    return f"<div class='plan-legends'>{items}</div>"


def _square(colour: str) -> str:
    return f"<span class='plan-swatch' style='background: {colour}; border-radius: 0'></span>"


def _area_legend(shading: AreaShading, layer: folium.GeoJson) -> Legend:
    """Classes of the area shading and what they measure (open in windows 640 px tall)."""
    rows = "".join(f"<div>{_square(c)}{escape(t)}</div>"
                   for c, t in zip(shading.colours, shading.class_labels(), strict=True))
    if any(not math.isfinite(v) for v in shading.values):
        rows += f"<div>{_square(NO_DATA_COLOUR)}no data</div>"
    return Legend(escape(shading.heading), rows + f"<div class='legend-note'>{shading.note}"
                  "</div>", open_at=640, layer=layer)


def _provision_legend(provision: gpd.GeoDataFrame) -> Legend:
    """Colours of the kinds present (all kinds when there is no provision)."""
    present = set(provision["kind"].astype(str)) if "kind" in provision else set()
    kinds = [k for k in KIND_COLOURS if k in present] or list(KIND_COLOURS)
    rows = "".join(f"<div><span class='plan-swatch' style='background: {KIND_COLOURS[k]}'>"
                   f"</span>{KIND_LABELS[k]}</div>" for k in kinds)
    return Legend("Provision", rows + "<div class='legend-note'>Solid: existing places;"
                  " dashed outline: new places. Area of circle \u221d places. Labels: new"
                  " places and the first year they open.</div>", open_at=900)


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


# --- transport layers ------------------------------------------------------------------

PLAN, DO_NOTHING = "plan", "do_nothing"
MINUTE_EDGES = (15, 30, 45, 60, 75)  # class edges of the journey-minutes shading
MINUTE_COLOURS = ["#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494"]  # YlGnBu
NO_LOCAL_COLOUR = "#d9d9d9"
FLOW_COLOURS = {PLAN: "#e6550d", DO_NOTHING: "#525252"}
FLOW_NAMES = {PLAN: "Journeys (plan): area \u2192 provision",
              DO_NOTHING: "Journeys (do nothing): area \u2192 provision"}
JOURNEY_LAYER = "Planning areas: mean journey minutes (plan)"
RING_COLOUR = "#c51b8a"
RING_DASHES = ["", "8 4", "2 5", "1 6"]
MIN_FLOW_WEIGHT, MAX_FLOW_WEIGHT = 1.0, 12.0  # px; weight = MAX × pupils / largest flow


@dataclass(frozen=True)
class TransportParts:
    """The folium layers of the transport view, for the year control and the legend."""

    journeys: folium.GeoJson
    rings: folium.GeoJson
    flows: dict[str, tuple[folium.FeatureGroup, dict[int, folium.FeatureGroup]]]
    max_pupils: float


def ring_layer_name(minutes: tuple[int, ...]) -> str:
    """Layer-control name of the journey-time rings, e.g. '... (15/30/45 min)'."""
    return ("Journey-time rings around new provision ("
            + "/".join(str(m) for m in minutes) + " min)")


def minutes_colour(minutes: float) -> str:
    """Shade of a mean journey time (minutes); grey when there is none."""
    if minutes is None or not math.isfinite(minutes):
        return NO_LOCAL_COLOUR
    return MINUTE_COLOURS[int(np.searchsorted(MINUTE_EDGES, minutes, side="right"))]


def flow_weight(pupils: float, largest: float) -> float:
    """Line width in px proportional to pupils (at least 1 px so that small flows show)."""
    if largest <= 0:
        return MIN_FLOW_WEIGHT
    return round(max(MIN_FLOW_WEIGHT, MAX_FLOW_WEIGHT * pupils / largest), 2)


def _fmt_minutes(value: object) -> str:
    number = pd.to_numeric(value, errors="coerce")
    return f"{float(number):.1f} min" if pd.notna(number) else "no local pupils"


def _add_transport(fmap: folium.Map, areas: gpd.GeoDataFrame,
                   view: TransportView) -> TransportParts:
    """Add the journey-minutes base layer, the rings and the flow layers to ``fmap``."""
    journeys = _journey_layer(areas, view)
    journeys.add_to(fmap)
    rings = _rings_layer(view)
    rings.add_to(fmap)
    flows_wgs = _to_wgs84(view.flows)
    largest = float(pd.to_numeric(flows_wgs["pupils"]).max()) if not flows_wgs.empty else 0.0
    flows = {}
    scenarios = [s for s in (DO_NOTHING, PLAN)
                 if s == PLAN or (not flows_wgs.empty and (flows_wgs["scenario"] == s).any())]
    for scenario in scenarios:
        part = flows_wgs[flows_wgs["scenario"] == scenario] if not flows_wgs.empty else flows_wgs
        flows[scenario] = _flow_groups(part, scenario, view.years, largest)
        flows[scenario][0].add_to(fmap)
    return TransportParts(journeys, rings, flows, largest)


def _area_year_rows(view: TransportView) -> dict[tuple[str, int], dict]:
    table = view.areas.copy()
    table["area_id"] = table["area_id"].astype(str)
    return {(row["area_id"], int(row["year"])): row for row in table.to_dict("records")}


def _journey_tip(name: str, year: int, row: dict | None) -> str:
    if row is None:
        return f"<b>{name}</b><br>{ay_label(year)}: no pupils"
    text = (f"<b>{name}</b><br>{ay_label(year)}: mean {_fmt_minutes(row.get('mean_minutes'))}"
            f", longest {_fmt_minutes(row.get('max_minutes'))}")
    if "mean_minutes_do_nothing" in row:
        text += f" (do nothing: mean {_fmt_minutes(row['mean_minutes_do_nothing'])})"
    text += (f"<br>{_fmt_pupils(row.get('pupils_local'))} pupils placed locally, "
             f"{_fmt_pupils(row.get('pupils_independent'))} independently")
    if "independent_mean_minutes" in row:  # independent.csv: their journeys are known
        minutes = pd.to_numeric(row.get("independent_mean_minutes"), errors="coerce")
        text += (f"; independent journeys: mean "
                 f"{f'{float(minutes):.1f} min' if pd.notna(minutes) else chr(0x2014)}, "
                 f"{_fmt_pupils(row.get('pupils_independent_over_limit'))} over the limit")
    return text


def _journey_popup(name: str, years: list[int], rows: dict) -> str:
    base = any("mean_minutes_do_nothing" in r for r in rows.values())
    head = ("<tr><th>Year</th><th>Local pupils</th><th>Mean min</th><th>Longest min</th>"
            "<th>Independent</th>" + ("<th>Mean min, do nothing</th>" if base else "")
            + "</tr>")
    body = ""
    for year in years:
        row = rows.get(year) or {}
        cells = [ay_label(year), _fmt_pupils(row.get("pupils_local")),
                 _fmt_minutes(row.get("mean_minutes")), _fmt_minutes(row.get("max_minutes")),
                 _fmt_pupils(row.get("pupils_independent"))]
        if base:
            cells.append(_fmt_minutes(row.get("mean_minutes_do_nothing")))
        body += "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>"
    return (f"<b>{name}</b><table style='font-size: 11px; white-space: nowrap'>{head}{body}"
            "</table>"
            "<div style='font-size: 11px'>One-way journeys of pupils placed locally.</div>")


def _journey_layer(areas: gpd.GeoDataFrame, view: TransportView) -> folium.GeoJson:
    """Areas shaded by the mean journey minutes of the year shown (restyled by the control)."""
    rows = _area_year_rows(view)
    features = []
    for i, row in enumerate(areas.itertuples(index=False)):
        name, area_id = escape(row.name), str(row.area_id)
        per_year = {y: rows.get((area_id, y)) for y in view.years}
        fills = {str(y): minutes_colour(None if r is None else r.get("mean_minutes"))
                 for y, r in per_year.items()}
        props = {"name": name, "area_id": escape(area_id), "fills": fills,
                 "tips": {str(y): _journey_tip(name, y, r) for y, r in per_year.items()},
                 "popup": _journey_popup(name, view.years, {y: r for y, r in per_year.items()
                                                            if r is not None}),
                 "style": {"fillColor": fills[str(view.years[0])], "color": "#555555",
                           "weight": 1, "fillOpacity": 0.75, "className": "plan-area"}}
        features.append({"type": "Feature", "id": str(i), "properties": props,
                         "geometry": shapely.geometry.mapping(row.geometry)})
    return folium.GeoJson({"type": "FeatureCollection", "features": features},
                          name=JOURNEY_LAYER, overlay=False, show=True)


def _rings_layer(view: TransportView) -> folium.GeoJson:
    """Journey-time rings, shown in the year their site opens (restyled by the control)."""
    rings = _to_wgs84(view.rings)
    order = {m: i for i, m in enumerate(sorted(view.ring_minutes))}
    features = []
    for i, row in enumerate(rings.itertuples(index=False)):
        rank = order.get(int(row.minutes), len(order))
        style = {"color": RING_COLOUR, "weight": max(2.5 - 0.5 * rank, 1.0), "opacity": 0.9,
                 "dashArray": RING_DASHES[min(rank, len(RING_DASHES) - 1)], "fill": False}
        props = {"opening_year": int(row.opening_year), "minutes": int(row.minutes),
                 "site": escape(row.site_name), "style": style}
        features.append({"type": "Feature", "id": str(i), "properties": props,
                         "geometry": shapely.geometry.mapping(row.geometry)})
    return folium.GeoJson({"type": "FeatureCollection", "features": features},
                          name=ring_layer_name(view.ring_minutes), overlay=True, show=True,
                          interactive=False)


def _flow_tip(row: tuple) -> str:
    return (f"<b>{escape(row.area_name)}</b> \u2192 <b>{escape(row.site_name)}</b><br>"
            f"{ay_label(int(row.year))}: {_fmt_pupils(row.pupils)} pupils, "
            f"{float(row.minutes):.1f} min, {float(row.km):.1f} km one way<br>"
            f"<span style='font-size: 11px'>{escape(row.option_ids)}</span>")


def _flow_groups(flows: gpd.GeoDataFrame, scenario: str, years: list[int], largest: float
                 ) -> tuple[folium.FeatureGroup, dict[int, folium.FeatureGroup]]:
    """One layer-control entry per scenario, holding one (hidden) group per year."""
    parent = folium.FeatureGroup(name=FLOW_NAMES[scenario], show=scenario == PLAN)
    children: dict[int, folium.FeatureGroup] = {}
    for year in years:
        child = folium.FeatureGroup(name=f"{FLOW_NAMES[scenario]} {year}", control=False,
                                    show=year == years[0])
        part = flows[pd.to_numeric(flows["year"]) == year] if not flows.empty else flows
        features = []
        for i, row in enumerate(part.sort_values("pupils", ascending=False).itertuples(
                index=False)):
            style = {"color": FLOW_COLOURS[scenario], "weight": flow_weight(row.pupils, largest),
                     "opacity": 0.8 if scenario == PLAN else 0.6, "lineCap": "round",
                     "dashArray": "" if scenario == PLAN else "6 4"}
            features.append({"type": "Feature", "id": str(i),
                             "properties": {"tip": _flow_tip(row), "style": style},
                             "geometry": shapely.geometry.mapping(row.geometry)})
        if features:
            folium.GeoJson({"type": "FeatureCollection", "features": features}).add_to(child)
        child.add_to(parent)
        children[year] = child
    return parent, children


def _template_text(name: str) -> str:
    """A template shipped in ``sufficiency/report/templates`` (the map's JavaScript)."""
    return (_TEMPLATES / name).read_text(encoding="utf-8")


_NAME_PARTS = re.compile(r"(?P<head>[^:(]+?)(?::\s+|\s+\()(?P<tail>.+?)\)?\s*\Z")


def split_name(name: str) -> tuple[str, str]:
    """'Central: Guildhall, Micklegate' -> ('Central', 'Guildhall, Micklegate').

    The head is the label's bold first line, the tail its small second line ('' if none).
    """
    match = _NAME_PARTS.match(name.strip())
    if match is None:
        return name.strip(), ""
    return match["head"].strip(), match["tail"].strip()


def _inside_point(shape: shapely.Geometry) -> shapely.Point:
    """A point well inside a polygon (pole of inaccessibility of its largest part)."""
    parts = getattr(shape, "geoms", [shape])
    part = max(parts, key=lambda g: g.area)
    try:
        pole = polylabel(part, tolerance=max(math.sqrt(part.area) / 100, 1.0))
    except Exception:  # an invalid ring: any point inside will do
        return part.representative_point()
    centre = part.centroid  # preferred when it is nearly as far inside: it looks central
    room = part.boundary.distance
    return centre if part.contains(centre) and room(centre) >= 0.8 * room(pole) else pole


def area_labels(areas: gpd.GeoDataFrame) -> list[dict]:
    """Each area's name at a point well inside it, the largest areas first (kept first)."""
    metric = areas.to_crs(3857)
    keep = [i for i, g in enumerate(metric.geometry) if g is not None and not g.is_empty
            and g.area > 0]
    points = gpd.GeoSeries([_inside_point(metric.geometry.iloc[i]) for i in keep],
                           crs=3857).to_crs(4326)
    specs = []
    for i, point in zip(keep, points, strict=True):
        head, tail = split_name(str(areas["name"].iloc[i]))
        specs.append({"lat": round(point.y, DECIMALS), "lon": round(point.x, DECIMALS),
                      "head": escape(head), "tail": escape(tail),
                      "size": metric.geometry.iloc[i].area})
    specs.sort(key=lambda s: -s["size"])
    return [{k: v for k, v in s.items() if k != "size"} for s in specs]


def site_labels(provision: gpd.GeoDataFrame) -> list[dict]:
    """One label per site with new places: its name, places and first opening year."""
    if provision.empty or "new_places" not in provision:
        return []
    frame = provision.assign(
        new=pd.to_numeric(provision["new_places"], errors="coerce").fillna(0),
        old=pd.to_numeric(provision["existing_places"], errors="coerce").fillna(0),
        opens=pd.to_numeric(provision["opening_year"], errors="coerce"))
    specs = []
    for site_id, rows in frame[frame["new"] > 0].groupby("site_id", sort=True):
        point, opens = rows.geometry.iloc[0], rows["opens"].min()
        when = f", from {ay_label(int(opens))}" if pd.notna(opens) else ""
        gap = max(marker_radius(float(v)) for v in [*rows["new"], *rows["old"]]) + 3
        specs.append({"lat": round(point.y, DECIMALS), "lon": round(point.x, DECIMALS),
                      "name": escape(rows["site_name"].iloc[0]),
                      "note": escape(f"+{int(rows['new'].sum()):,} places{when}"),
                      "gap": round(gap, 1), "places": int(rows["new"].sum()),
                      "site": str(site_id)})
    specs.sort(key=lambda s: (-s["places"], s["site"]))
    return [{k: v for k, v in s.items() if k not in ("places", "site")} for s in specs]


class MapPage(MacroElement):
    """The page's own script: labels (with overlaps hidden), folding legends, print, basemap.

    Label texts are escaped in Python and reach the page through ``tojson``.
    """

    _template = Template(_template_text("map_page.js.j2"))

    def __init__(self, labels: folium.FeatureGroup, area_specs: list[dict],
                 site_specs: list[dict], basemap: folium.TileLayer | None,
                 bounds: list[list[float]], legends: list[Legend]):
        super().__init__()
        self._name = "MapPage"
        self._labels, self._basemap, self._legends = labels, basemap, legends
        self.area_labels, self.site_labels, self.bounds = area_specs, site_specs, bounds

    def render(self, **kwargs) -> None:
        """Resolve the label group's and basemap's JS names, then render."""
        self.label_group = self._labels.get_name()
        self.basemap = "null" if self._basemap is None else self._basemap.get_name()
        self.legend_layers = ["null" if g.layer is None else g.layer.get_name()
                              for g in self._legends]
        super().render(**kwargs)


class YearControl(MacroElement):
    """A Leaflet control stepping through the academic years (◀ slider ▶ and a label).

    Showing a year swaps each flow layer's yearly group, re-shades the journey-minutes
    areas, shows the rings of the provision opening that year, and keeps the markers on top. Its DOM
    is built with text nodes only; all data reach it through ``tojson``.
    """

    _template = Template(_template_text("year_control.js.j2"))

    def __init__(self, years: list[int], parts: TransportParts,
                 front: list[folium.FeatureGroup]):
        super().__init__()
        self._name = "YearControl"
        self.years = [int(y) for y in years]
        self.labels = {str(y): ay_label(y) for y in self.years}
        self._parts = parts
        self._front = front

    def render(self, **kwargs) -> None:
        """Resolve the layers' JS names (known only once they are in the map) and render."""
        self.journeys = self._parts.journeys.get_name()
        self.rings = self._parts.rings.get_name()
        self.front = [g.get_name() for g in self._front]
        self.groups = [(parent.get_name(), [(str(y), c.get_name()) for y, c in children.items()])
                       for parent, children in self._parts.flows.values()]
        super().render(**kwargs)


def _transport_legends(view: TransportView, parts: TransportParts) -> list[Legend]:
    """The journey-minutes classes (shown with their layer) and the flows and rings."""
    largest = parts.max_pupils
    edges = [0, *MINUTE_EDGES]
    classes = [f"{a}\u2013{b} min" for a, b in zip(edges, edges[1:], strict=False)]
    classes.append(f"{MINUTE_EDGES[-1]} min or more")
    shades = "".join(f"<div><span class='plan-swatch' style='background: {c}; border-radius: 0'>"
                     f"</span>{t}</div>" for c, t in zip(MINUTE_COLOURS, classes, strict=True))
    shades += (f"<div><span class='plan-swatch' style='background: {NO_LOCAL_COLOUR};"
               " border-radius: 0'></span>no local pupils</div>")
    samples = sorted({_nice(largest), _nice(largest / 4)}, reverse=True) if largest > 0 else []
    widths = "".join(
        f"<div><span style='display: inline-block; width: 28px; height: "
        f"{flow_weight(v, largest):.0f}px; background: {FLOW_COLOURS[PLAN]};"
        f" vertical-align: middle; margin-right: 6px'></span>{v:,.0f} "
        f"{'pupil' if v == 1 else 'pupils'}</div>"
        for v in samples)
    rings = ", ".join(f"{m}" for m in sorted(view.ring_minutes))
    minutes = Legend("Mean one-way journey (plan)", shades, open_at=640, layer=parts.journeys)
    return [minutes, Legend("Flows and rings", (
        "<b>Flows, area \u2192 provision</b>" + widths +
        f"<div style='font-size: 11px'>Width \u221d pupils; orange: plan; grey dashed: do "
        f"nothing.</div><b>Rings</b><div style='font-size: 11px'><span style='color: "
        f"{RING_COLOUR}'>&#9711;</span> {rings} min reach of the provision opening in the year "
        f"shown. Radius: {_ring_note(view)}</div>"
        + _independent_legend(view) +
        f"<div style='font-size: 11px; margin-top: 4px'>Travel: {escape(view.travel_metric)}"
        "</div>"), open_at=1100)]


def _independent_legend(view: TransportView) -> str:
    """Independent journeys over the limit, plan and do nothing (independent.csv only)."""
    over = view.independent_over_limit
    if over is None:
        return ""
    text = f"{_fmt_pupils(over.get(PLAN))} pupil-years with the plan"
    if over.get(DO_NOTHING) is not None:
        text += f", {_fmt_pupils(over.get(DO_NOTHING))} doing nothing"
    return ("<b>Independent journeys over the limit</b><div style='font-size: 11px'>"
            "<span style='color: " + PROVIDER_COLOUR + "'>&#9671;</span> providers; "
            f"{escape(text)}</div>")


def _ring_note(view: TransportView) -> str:
    """How the rings' radii were found, in words (escaped)."""
    methods = sorted({str(m) for m in view.rings.get("ring_method", pd.Series(dtype=str))})
    if not methods:
        return "no new provision"
    if len(methods) == 1:
        return escape(methods[0])
    given = [m for m in methods if m.startswith("travel.csv")]
    other = [m for m in methods if not m.startswith("travel.csv")]
    text = "travel.csv: median straight-line speed of each site's journeys" if given else ""
    return escape("; ".join([t for t in [text, *other] if t]))


def _nice(value: float) -> float:
    """A round number near ``value`` (1, 2 or 5 × a power of ten), for legend samples."""
    if value <= 0:
        return 0.0
    power = 10 ** math.floor(math.log10(value))
    return min((m * power for m in (1, 2, 5, 10)), key=lambda v: abs(v - value))
