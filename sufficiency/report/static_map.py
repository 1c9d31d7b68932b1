"""The cabinet paper's one figure: a static map of the plan (``outputs/<run>/plan_map.png``).

Drawn with matplotlib through geopandas on the Agg canvas (no window, no pyplot state):
planning areas outlined and labelled by name, existing provision as small grey dots, and
each site with new places as a circle sized by its new places and coloured by kind, with a
small legend. matplotlib is imported inside :func:`plan_map_png`, so ``sufficiency plan``
pays its import only when it draws. Names are drawn as plain text (``parse_math=False``:
a ``$`` in a name is never read as mathematics). The PNG carries no metadata (matplotlib's
``Software`` entry is dropped), so the same run gives the same bytes.
"""

from __future__ import annotations

import io
import textwrap

import geopandas as gpd
import pandas as pd

from sufficiency.outcome import RunResult
from sufficiency.report.style import KIND_COLOURS, KIND_LABELS, OTHER_COLOUR

WIDTH_IN, DPI = 6.3, 150  # 16 cm wide, as the paper places it
MIN_ASPECT, MAX_ASPECT = 0.55, 1.3  # height / width of the figure
MARKER_AREA_PER_PLACE = 6.0  # points² of a circle per new place
MIN_MARKER, MAX_MARKER = 30.0, 700.0  # points²
LEGEND_PLACES = (10, 50)  # sizes shown in the legend
EDGE, LABEL, EXISTING = "#555555", "#222222", "#9a9a9a"
AREA_WRAP = 26  # characters per line of an area's name
LABEL_SPOTS = ((6, -7, "left"), (-6, -7, "right"), (6, 7, "left"), (-6, 7, "right"))


def new_sites(run: RunResult) -> gpd.GeoDataFrame:
    """One row per site with new places: name, new places, the kind with most places, point."""
    plan = run.optimal.plan
    sites = run.dataset.sites
    if plan.empty:
        return sites.iloc[0:0].assign(places=0, kind="")
    by_kind = plan.groupby(["site_id", "kind"], as_index=False)["places"].sum()
    main = by_kind.sort_values(["site_id", "places", "kind"], ascending=[True, False, True])
    main = main.drop_duplicates("site_id")[["site_id", "kind"]]
    total = plan.groupby("site_id", as_index=False)["places"].sum()
    table = sites[["site_id", "name", "geometry"]].merge(total, on="site_id").merge(
        main, on="site_id")
    return gpd.GeoDataFrame(table.sort_values("site_id"), geometry="geometry", crs=sites.crs)


def marker_size(places: pd.Series | float) -> pd.Series | float:
    """Circle area (points²) for a number of new places: proportional, within bounds."""
    size = places * MARKER_AREA_PER_PLACE
    if isinstance(size, pd.Series):
        return size.clip(MIN_MARKER, MAX_MARKER)
    return min(max(size, MIN_MARKER), MAX_MARKER)


def _figure_size(areas: gpd.GeoDataFrame) -> tuple[float, float]:
    """Width and height (inches) following the areas' bounds, within sensible limits."""
    x0, y0, x1, y1 = areas.total_bounds
    aspect = (y1 - y0) / (x1 - x0) if x1 > x0 else 1.0
    return WIDTH_IN, WIDTH_IN * min(max(aspect, MIN_ASPECT), MAX_ASPECT)


def _label_areas(ax, areas: gpd.GeoDataFrame) -> list:
    """Each area's name (wrapped) at a point inside it; returns the labels' window boxes."""
    renderer = ax.figure.canvas.get_renderer()
    boxes = []
    for name, point in zip(areas["name"], areas.representative_point(), strict=True):
        text = ax.text(point.x, point.y, textwrap.fill(str(name), AREA_WRAP), ha="center",
                       va="center", fontsize=7.5, fontweight="bold", color=LABEL,
                       parse_math=False, zorder=4,
                       bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "alpha": 0.7,
                             "edgecolor": "none"})
        boxes.append(text.get_window_extent(renderer))
    return boxes


def _draw_existing(ax, run: RunResult) -> bool:
    """Sites of existing places as small grey dots; True when any were drawn."""
    options = run.dataset.options
    ids = set(options.loc[options["existing_places"] > 0, "site_id"])
    sites = run.dataset.sites[run.dataset.sites["site_id"].isin(ids)]
    if sites.empty:
        return False
    sites.plot(ax=ax, color=EXISTING, markersize=8, zorder=3)
    return True


def _draw_new(ax, sites: gpd.GeoDataFrame) -> None:
    """Each site with new places: a circle sized by places, coloured by kind."""
    if sites.empty:
        return
    colours = [KIND_COLOURS.get(str(k), OTHER_COLOUR) for k in sites["kind"]]
    ax.scatter(sites.geometry.x, sites.geometry.y, s=marker_size(sites["places"]), c=colours,
               alpha=0.8, edgecolors="white", linewidths=0.8, zorder=5)


def _label_sites(ax, sites: gpd.GeoDataFrame, taken: list) -> int:
    """Name each site (largest first) where a label fits without overlap; return how many.

    Each label tries the four corners beside its circle and is left out when none is free
    of earlier labels (``taken``: their window boxes) and inside the figure; the phasing
    table names every site.
    """
    renderer = ax.figure.canvas.get_renderer()
    frame = ax.figure.bbox
    shown = 0
    for row in sites.sort_values(["places", "site_id"], ascending=[False, True]).itertuples():
        for dx, dy, align in LABEL_SPOTS:
            text = ax.annotate(f"{row.name} ({int(row.places)})",
                               (row.geometry.x, row.geometry.y), xytext=(dx, dy),
                               textcoords="offset points", fontsize=5.5, color=LABEL,
                               ha=align, va="center", zorder=6, parse_math=False)
            box = text.get_window_extent(renderer)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 \
                and box.y1 <= frame.y1
            if inside and not any(box.overlaps(other) for other in taken):
                taken.append(box)
                shown += 1
                break
            text.remove()
    return shown


def _legend(ax, sites: gpd.GeoDataFrame, existing: bool) -> None:
    """Kinds present, two reference sizes and existing provision, in a small box."""
    from matplotlib.lines import Line2D

    handles = []
    for kind in sorted(sites["kind"].unique()):
        handles.append(Line2D([], [], marker="o", linestyle="", markersize=6,
                              markerfacecolor=KIND_COLOURS.get(kind, OTHER_COLOUR),
                              markeredgecolor="white", label=KIND_LABELS.get(kind, kind)))
    for n in LEGEND_PLACES if not sites.empty else ():
        handles.append(Line2D([], [], marker="o", linestyle="", color="#bbbbbb",
                              markersize=marker_size(float(n)) ** 0.5, label=f"{n} new places"))
    if existing:
        handles.append(Line2D([], [], marker="o", linestyle="", color=EXISTING, markersize=3,
                              label="existing provision"))
    if handles:
        ax.legend(handles=handles, loc="best", fontsize=6, framealpha=0.85,
                  borderpad=0.5, labelspacing=0.9, handletextpad=0.6)


def plan_map_png(run: RunResult) -> bytes:
    """The plan as a PNG (bytes): areas by name, new places by site, a small legend."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    areas = run.dataset.areas
    figure = Figure(figsize=_figure_size(areas), dpi=DPI)
    FigureCanvasAgg(figure)
    ax = figure.add_axes((0.01, 0.01, 0.98, 0.98))
    ax.set_axis_off()
    ax.set_aspect("equal")
    areas.plot(ax=ax, facecolor="#f7f7f7", edgecolor=EDGE, linewidth=0.7)
    existing = _draw_existing(ax, run)
    sites = new_sites(run)
    _draw_new(ax, sites)
    ax.autoscale_view()
    ax.apply_aspect()  # fix the data → window transform before labels are measured
    _label_sites(ax, sites, _label_areas(ax, areas))
    _legend(ax, sites, existing)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()
