"""Synthetic, deterministic planning datasets (S, M, L, XL) in the contract's format.

Why: tests, benchmarks and demos need inputs of a known size and a realistic shape (demand
concentrated in towns, travel limits that bite, capacity short of demand) without any real
local-authority data. Same (scale, seed) gives byte-identical files.
"""

from __future__ import annotations

import math
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPoint, Polygon, box

from sufficiency.preprocess.paths import MARKER, first_line, marker_text, written_by_sufficiency
from sufficiency.preprocess.vocabulary import PHASES
from sufficiency.tolerances import AREA_TILING_M2

START_YEAR = 2026
# The SEN2 needs in the order the generator draws them (not vocabulary.NEEDS's order:
# reordering would change every synthetic dataset).
ALL_NEEDS = ("ASD", "SEMH", "SLCN", "MLD", "SLD", "PMLD", "PD", "SPLD", "HI", "VI", "MSI", "OTH")
CRS_EPSG = 27700

KM2_PER_SITE = 30.0  # region km² per site: a 100-site county is 60 × 50 km
REGION_ASPECT = 1.2  # width / height of the region box
REGION_CENTRE_M = (430_000, 270_000)  # British National Grid, the English Midlands
GRID_KM = 1.0  # resolution of the synthetic population surface
TOWN_POPULATION_SHARE = 0.65  # share of children living in the towns' bell curves
DEMAND_RATE = 0.008  # specialist-place demand per child
DEMAND_OVER_CAPACITY = (1.30, 1.50)  # year-1 demand / existing places
SITE_EDGE_CLEARANCE_M = 100.0  # every site this far inside its area's boundary
SITE_SEPARATION_M = 200.0  # no two sites closer than this
EARLY_BUDGET_SHARE = 0.4  # first three years' capital budget / mean capital of all options

# Share of specialist demand by primary need (special schools and units, England-like).
NEED_SHARE = {
    "ASD": 0.33, "SEMH": 0.17, "SLCN": 0.10, "MLD": 0.09, "SLD": 0.10, "PMLD": 0.04,
    "PD": 0.04, "SPLD": 0.02, "HI": 0.02, "VI": 0.01, "MSI": 0.005, "OTH": 0.03,
}
PHASE_SHARE = (0.36, 0.34, 0.30)  # primary, secondary, post16 (post-16 ~30%)
FAST_GROWTH_NEEDS = ("ASD", "SEMH")
RESOURCED_NEEDS = ("ASD", "SEMH", "SLCN", "MLD")
SATELLITE_NEEDS = ("ASD", "SEMH", "SLCN", "MLD", "SLD")  # not PMLD, PD or sensory: no facilities

# Special-school designations: (needs, weight); "*" serves every need.
SPECIAL_DESIGNATIONS = (
    (("*",), 0.25),
    (("MLD", "SLD", "PMLD", "ASD", "PD"), 0.30),
    (("ASD", "SLCN", "SEMH"), 0.25),
    (("SEMH", "ASD", "SLCN", "OTH"), 0.15),
    (("PD", "HI", "VI", "MSI", "SPLD"), 0.05),
)
SPECIAL_PHASES = (
    (PHASES, 0.5),
    (("primary", "secondary"), 0.2),
    (("secondary", "post16"), 0.3),
)

# Annual £ per place by kind, and £ per commissioned place (place funding).
COST_PER_PLACE_GBP = {"special": 24_000, "resourced": 18_000, "satellite": 23_000,
                      "new_special": 25_000}
COMMISSIONED_COST_PER_PLACE_GBP = 10_000


@dataclass(frozen=True)
class ScaleSpec:
    """Size of one synthetic scale: what the benchmarks and tests can rely on."""

    name: str
    areas: int
    sites: int
    needs: int
    phases: int
    years: int
    capital_budget: bool
    time_limit_s: int
    towns: int

    @property
    def need_codes(self) -> tuple[str, ...]:
        """The first `needs` SEN2 codes, so that every scale shares the common ones."""
        return ALL_NEEDS[: self.needs]

    @property
    def region_km(self) -> tuple[int, int]:
        """Width and height of the region box (km), growing with sites at constant density."""
        width_km = round(math.sqrt(KM2_PER_SITE * self.sites * REGION_ASPECT))
        height_km = round(KM2_PER_SITE * self.sites / width_km)
        return width_km, height_km


SCALES: dict[str, ScaleSpec] = {
    "S": ScaleSpec("S", areas=8, sites=25, needs=6, phases=3, years=5,
                   capital_budget=False, time_limit_s=60, towns=2),
    "M": ScaleSpec("M", areas=30, sites=100, needs=8, phases=3, years=8,
                   capital_budget=True, time_limit_s=60, towns=4),
    "L": ScaleSpec("L", areas=120, sites=250, needs=10, phases=3, years=10,
                   capital_budget=False, time_limit_s=120, towns=9),
    "XL": ScaleSpec("XL", areas=300, sites=400, needs=12, phases=3, years=10,
                    capital_budget=True, time_limit_s=300, towns=15),
}


@dataclass(frozen=True)
class _Surface:
    """Synthetic child-population surface: 1 km cell centres (m) and relative density."""

    x_m: np.ndarray
    y_m: np.ndarray
    density: np.ndarray


@dataclass(frozen=True)
class _Dataset:
    """Everything one synthetic run writes, before formatting."""

    areas: gpd.GeoDataFrame
    sites: pd.DataFrame
    provision: pd.DataFrame
    demand: pd.DataFrame
    budget_gbp: dict[int, int]


def write_synthetic(out_dir: Path, scale: str, seed: int = 0, *, overwrite: bool = False,
                    sticky: bool = False, v1: bool = False) -> Path:
    """Write a contract dataset and its run TOML; return the TOML's path.

    Writes ``out_dir/synth-<scale>-s<seed>.toml`` and the folder ``out_dir/synth-<scale>-s<seed>/``
    (areas.geojson in EPSG:27700, sites.csv, demand.csv, provision.csv, the marker file; no
    travel.csv). Raises ValueError for an unknown scale or a bad seed, and FileExistsError
    when either target exists and ``overwrite`` is False, or exists and was not written by
    sufficiency (a folder without the marker file, a TOML without synth's first line): that
    is never replaced. ``sticky``: the run places pupils as sticky cohorts (:data:`STICKY_TOML`)
    and is named ``synth-<scale>-s<seed>-sticky`` (the same data as without), so the
    benchmark can measure both side by side. ``v1``: no ``[appraisal]`` table (the
    contract's own capital counting; the run is named ``…-v1``).
    """
    spec = _scale_spec(scale)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, not {seed!r}")
    out_dir = Path(out_dir)
    name = (f"synth-{spec.name}-s{seed}" + ("-sticky" if sticky else "")
            + ("-v1" if v1 else ""))
    toml_path, folder = out_dir / f"{name}.toml", out_dir / name
    _refuse_overwrite(toml_path, folder, overwrite)
    data = _build(spec, np.random.default_rng(seed))
    out_dir.mkdir(parents=True, exist_ok=True)
    _publish_folder(out_dir, folder, data)
    _write_text(toml_path, _toml_text(spec, name, seed, data.budget_gbp, sticky, v1))
    return toml_path


def _scale_spec(scale: str) -> ScaleSpec:
    """Look a scale up case-insensitively; refuse anything else by name."""
    key = str(scale).upper()
    if key not in SCALES:
        raise ValueError(f"unknown scale {scale!r}: choose one of {', '.join(SCALES)}")
    return SCALES[key]


TOML_HEAD = "# Synthetic run: scale "  # the first line synth writes in its run TOML


def _refuse_overwrite(toml_path: Path, folder: Path, overwrite: bool) -> None:
    """Never replace an earlier dataset silently, nor anything synth did not write at all.

    A user may have edited an earlier dataset (``overwrite`` replaces it); a folder without
    the marker or a TOML without synth's first line is not synth's, whatever ``overwrite``.
    """
    if os.path.lexists(folder) and not written_by_sufficiency(folder):
        raise FileExistsError(f"{folder} exists and was not written by sufficiency (it has no "
                              f"{MARKER} file); nothing was replaced: choose another folder")
    if os.path.lexists(toml_path) and (toml_path.is_symlink()
                                       or not first_line(toml_path).startswith(TOML_HEAD)):
        raise FileExistsError(f"{toml_path} exists and was not written by synth; nothing was "
                              "replaced: choose another folder")
    existing = [str(p) for p in (toml_path, folder) if p.exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{' and '.join(existing)} already exist(s); pass overwrite=True")


def _build(spec: ScaleSpec, rng: np.random.Generator) -> _Dataset:
    """Draw the whole dataset from one generator, in a fixed order, for determinism."""
    bounds = _region_bounds_m(spec)
    towns = _towns(rng, spec, bounds)
    surface = _surface(bounds, towns)
    areas = _areas(rng, spec, bounds, surface)
    sites = _sites(rng, spec, areas, surface)
    provision = _provision(rng, spec, sites)
    children = _children_per_area(rng, provision, _area_population_share(areas, surface))
    demand = _demand(rng, spec, areas["area_id"].to_numpy(), children)
    budget = _capital_budget_gbp(spec, provision) if spec.capital_budget else {}
    return _Dataset(areas, sites.drop(columns="kind"), provision, demand, budget)


# --- geography -------------------------------------------------------------------------


def _region_bounds_m(spec: ScaleSpec) -> tuple[int, int, int, int]:
    """Region box (minx, miny, maxx, maxy) in metres of EPSG:27700, centred in England."""
    width_km, height_km = spec.region_km
    cx, cy = REGION_CENTRE_M
    minx, miny = cx - width_km * 500, cy - height_km * 500
    return minx, miny, minx + width_km * 1000, miny + height_km * 1000


def _towns(rng: np.random.Generator, spec: ScaleSpec, bounds: tuple) -> np.ndarray:
    """Town centres (x_m, y_m), relative sizes and spreads (sigma_m): where children live."""
    minx, miny, maxx, maxy = bounds
    inset_m = 0.1 * min(maxx - minx, maxy - miny)
    spacing_m = 0.6 * math.sqrt((maxx - minx) * (maxy - miny) / spec.towns)
    centres: list[tuple[float, float]] = []
    while len(centres) < spec.towns:
        x = rng.uniform(minx + inset_m, maxx - inset_m)
        y = rng.uniform(miny + inset_m, maxy - inset_m)
        if all(math.hypot(x - a, y - b) >= spacing_m for a, b in centres):
            centres.append((x, y))
        else:
            spacing_m *= 0.98  # relax so that the loop always ends
    size = rng.lognormal(0.0, 0.7, spec.towns)
    size /= size.sum()
    sigma_m = np.clip(3000.0 * np.sqrt(size * spec.towns), 2000.0, 8000.0)
    return np.column_stack([np.array(centres), size, sigma_m])


def _surface(bounds: tuple, towns: np.ndarray) -> _Surface:
    """Relative child density on a 1 km grid: a rural floor plus a bell curve per town."""
    minx, miny, maxx, maxy = bounds
    step_m = GRID_KM * 1000
    xs = np.arange(minx + step_m / 2, maxx, step_m)
    ys = np.arange(miny + step_m / 2, maxy, step_m)
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    rural_total = gx.size  # density 1 per cell
    town_total = rural_total * TOWN_POPULATION_SHARE / (1 - TOWN_POPULATION_SHARE)
    density = np.ones(gx.size)
    for tx, ty, size, sigma_m in towns:
        cells_per_sigma2 = 2 * math.pi * (sigma_m / step_m) ** 2
        peak = town_total * size / cells_per_sigma2
        density += peak * np.exp(-((gx - tx) ** 2 + (gy - ty) ** 2) / (2 * sigma_m**2))
    return _Surface(gx, gy, density)


def _sample_points_m(
    rng: np.random.Generator, surface: _Surface, weight: np.ndarray, n: int
) -> np.ndarray:
    """Draw n points (m): a grid cell by weight, then uniformly inside that 1 km cell."""
    cell = rng.choice(weight.size, size=n, p=weight / weight.sum())
    half_m = GRID_KM * 500
    jitter = rng.uniform(-half_m, half_m, size=(n, 2))
    return np.column_stack([surface.x_m[cell], surface.y_m[cell]]) + jitter


def _area_seeds_m(rng: np.random.Generator, spec: ScaleSpec, surface: _Surface) -> np.ndarray:
    """Seed points of the areas: denser in towns, never closer than a fraction of the mean."""
    cell_km2 = surface.x_m.size * GRID_KM**2
    spacing_m = 450.0 * math.sqrt(cell_km2 / spec.areas)
    weight = np.sqrt(surface.density)  # towns get smaller areas, but not extremely so
    seeds: list[np.ndarray] = []
    while len(seeds) < spec.areas:
        p = _sample_points_m(rng, surface, weight, 1)[0]
        if all(np.hypot(*(p - q)) >= spacing_m for q in seeds):
            seeds.append(p)
        else:
            spacing_m *= 0.995
    return np.array(seeds)


def _areas(
    rng: np.random.Generator, spec: ScaleSpec, bounds: tuple, surface: _Surface
) -> gpd.GeoDataFrame:
    """Planning areas: Voronoi cells of the seeds clipped to the box, snapped to whole metres."""
    seeds = _area_seeds_m(rng, spec, surface)
    region = box(*bounds)
    cells = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=region, ordered=True)
    polygons = [shapely.set_precision(c.intersection(region), 1.0) for c in cells.geoms]
    order = sorted(range(len(seeds)), key=lambda i: (-(seeds[i][1] // 10_000), seeds[i][0]))
    rows = [
        {"area_id": f"A{k:03d}", "name": f"Synthetic Area {k}", "geometry": polygons[i]}
        for k, i in enumerate(order, start=1)
    ]
    areas = gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS_EPSG)
    _check_tiling(areas, region)
    return areas


def _check_tiling(areas: gpd.GeoDataFrame, region: Polygon) -> None:
    """Fail loudly if the areas are not valid polygons tiling the box without gaps/overlaps."""
    geoms = areas.geometry
    if not all(g.geom_type == "Polygon" and g.is_valid and not g.is_empty for g in geoms):
        raise RuntimeError("synthetic areas: a cell is not a valid polygon")
    total_m2, union_m2 = float(geoms.area.sum()), shapely.union_all(geoms.values).area
    if abs(total_m2 - region.area) > AREA_TILING_M2 or abs(union_m2 - region.area) > AREA_TILING_M2:
        raise RuntimeError("synthetic areas: cells leave gaps or overlap")


def _area_population_share(areas: gpd.GeoDataFrame, surface: _Surface) -> np.ndarray:
    """Share of the region's children living in each area (sums to 1)."""
    points = shapely.points(surface.x_m, surface.y_m)
    tree = shapely.STRtree(areas.geometry.values)
    point_idx, area_idx = tree.query(points, predicate="within")
    population = np.bincount(area_idx, weights=surface.density[point_idx], minlength=len(areas))
    population = np.maximum(population, 1e-6)  # a sliver with no cell centre still has people
    return population / population.sum()


# --- sites -----------------------------------------------------------------------------


def _site_counts(spec: ScaleSpec) -> dict[str, int]:
    """Sites by kind: ~9% special schools, ~2% land for a new school, the rest mainstream."""
    special = max(1, int(0.09 * spec.sites + 0.5))
    new = max(1, int(0.02 * spec.sites + 0.5))
    return {"special": special, "mainstream": spec.sites - special - new, "new": new}


def _place_site(
    rng: np.random.Generator,
    surface: _Surface,
    weight: np.ndarray,
    areas: gpd.GeoDataFrame,
    taken: list[tuple[int, int]],
    area: int | None = None,
) -> tuple[int, int, int]:
    """Draw one site (easting_m, northing_m, area index) well inside an area, apart from others."""
    geoms = areas.geometry.values
    tree = shapely.STRtree(geoms)
    for _ in range(100_000):  # a generous bound: a few tries are the norm
        x, y = (int(v) for v in np.floor(_sample_points_m(rng, surface, weight, 1)[0] + 0.5))
        point = shapely.Point(x, y)
        inside = tree.query(point, predicate="within")
        if len(inside) != 1 or (area is not None and int(inside[0]) != area):
            continue
        clear = geoms[inside[0]].boundary.distance(point) >= SITE_EDGE_CLEARANCE_M
        if clear and all(math.hypot(x - a, y - b) >= SITE_SEPARATION_M for a, b in taken):
            taken.append((x, y))
            return x, y, int(inside[0])
    raise RuntimeError("synthetic sites: no room left for another site")


def _sites(
    rng: np.random.Generator, spec: ScaleSpec, areas: gpd.GeoDataFrame, surface: _Surface
) -> pd.DataFrame:
    """Sites: special schools in towns, one mainstream school per area then by population."""
    counts = _site_counts(spec)
    taken: list[tuple[int, int]] = []
    area_cells = _cells_by_area(areas, surface)
    drawn: list[tuple[str, int, int, int]] = []
    for _ in range(counts["special"]):
        drawn.append(("special", *_place_site(rng, surface, surface.density**1.5, areas, taken)))
    for k in range(counts["mainstream"]):
        own = k if k < spec.areas else None  # the first ones: one school in every area
        weight = surface.density * area_cells[k] if own is not None else surface.density
        drawn.append(("mainstream", *_place_site(rng, surface, weight, areas, taken, own)))
    for _ in range(counts["new"]):
        drawn.append(("new", *_place_site(rng, surface, np.sqrt(surface.density), areas, taken)))
    return pd.DataFrame(
        {
            "site_id": [f"S{k:04d}" for k in range(1, len(drawn) + 1)],
            "name": [_site_name(kind, k) for k, (kind, *_) in enumerate(drawn, start=1)],
            "area_id": [areas["area_id"].iloc[a] for *_, a in drawn],
            "easting": [x for _, x, _, _ in drawn],
            "northing": [y for _, _, y, _ in drawn],
            "kind": [kind for kind, *_ in drawn],
        }
    )


def _cells_by_area(areas: gpd.GeoDataFrame, surface: _Surface) -> np.ndarray:
    """Mask (areas × grid cells) of the 1 km cells that overlap each area."""
    half_m = GRID_KM * 500
    squares = shapely.box(surface.x_m - half_m, surface.y_m - half_m,
                          surface.x_m + half_m, surface.y_m + half_m)
    return np.array([shapely.intersects(g, squares) for g in areas.geometry.values], dtype=float)


def _site_name(kind: str, number: int) -> str:
    """Readable site name that says what the site is."""
    label = {"special": "Special School", "mainstream": "School", "new": "Land Site"}[kind]
    return f"Synthetic {label} {number}"


# --- provision -------------------------------------------------------------------------


def _pick(rng: np.random.Generator, choices: tuple) -> tuple:
    """Choose one (value, weight) entry by its weight."""
    weights = np.array([w for _, w in choices], dtype=float)
    return choices[rng.choice(len(choices), p=weights / weights.sum())][0]


def _needs_text(needs: tuple[str, ...], spec: ScaleSpec) -> str:
    """Contract `needs` cell: `*` or the designation's needs that exist at this scale."""
    if needs == ("*",):
        return "*"
    kept = [n for n in needs if n in spec.need_codes]
    return ";".join(kept) if kept else "*"


def _designation(rng: np.random.Generator, spec: ScaleSpec) -> str:
    """Draw a special school's needs: a broad designation, only codes present at this scale."""
    usable = tuple((n, w) for n, w in SPECIAL_DESIGNATIONS
                   if n == ("*",) or sum(c in spec.need_codes for c in n) >= 2)
    return _needs_text(_pick(rng, usable), spec)


def _gbp(rng: np.random.Generator, low_gbp: float, high_gbp: float, step_gbp: int) -> int:
    """Draw a £ amount between two bounds, rounded to a whole step (readable, exact)."""
    return int(round(rng.uniform(low_gbp, high_gbp) / step_gbp)) * step_gbp


def _annual_costs(rng: np.random.Generator, kind: str) -> dict[str, int]:
    """£ per pupil-year placed and per commissioned place, with ±8% / ±5% variation."""
    base = COST_PER_PLACE_GBP[kind]
    return {
        "annual_cost_per_place": _gbp(rng, 0.92 * base, 1.08 * base, 10),
        "annual_cost_per_commissioned_place": _gbp(
            rng, 0.95 * COMMISSIONED_COST_PER_PLACE_GBP, 1.05 * COMMISSIONED_COST_PER_PLACE_GBP, 10
        ),
    }


def _special_option(rng: np.random.Generator, spec: ScaleSpec, site_id: str, first: bool) -> dict:
    """Build an existing special school's row, expandable by modular classrooms (1-2 years)."""
    needs = "*" if first else _designation(rng, spec)
    phases = PHASES if first else _pick(rng, SPECIAL_PHASES)
    return {
        "option_id": f"{site_id}-special", "site_id": site_id, "kind": "special",
        "needs": needs, "phases": ";".join(phases),
        "existing_places": int(rng.integers(12, 41)) * 5,
        "module_places": int(rng.integers(8, 17)), "max_modules": int(rng.integers(1, 4)),
        "capital_cost_per_module": _gbp(rng, 600_000, 1_200_000, 1_000),
        "fixed_capital_cost": 0, "lead_time_years": int(rng.integers(1, 3)),
        "earliest_year": START_YEAR, **_annual_costs(rng, "special"),
    }


def _resourced_option(
    rng: np.random.Generator, site_id: str, phase: str, existing: bool
) -> dict:
    """Build a resourced unit at a mainstream school: one phase, one or two common needs."""
    needs = rng.choice(RESOURCED_NEEDS, size=int(rng.integers(1, 3)), replace=False)
    places = int(rng.integers(8, 13)) if existing else 0
    return {
        "option_id": f"{site_id}-resourced", "site_id": site_id, "kind": "resourced",
        "needs": ";".join(sorted(needs, key=ALL_NEEDS.index)), "phases": phase,
        "existing_places": places,
        "module_places": int(rng.integers(8, 13)), "max_modules": int(rng.integers(1, 3)),
        "capital_cost_per_module": _gbp(rng, 300_000, 600_000, 1_000),
        # an established unit has already paid its set-up cost
        "fixed_capital_cost": 0 if existing else _gbp(rng, 100_000, 300_000, 1_000),
        "lead_time_years": 2, "earliest_year": START_YEAR, **_annual_costs(rng, "resourced"),
    }


def _satellite_option(
    rng: np.random.Generator, site_id: str, phase: str, parent_needs: str
) -> dict:
    """Build a class of the nearest special school on a mainstream site (existing space, 1y)."""
    parent = SATELLITE_NEEDS if parent_needs == "*" else parent_needs.split(";")
    needs = [n for n in SATELLITE_NEEDS if n in parent] or ["ASD"]
    return {
        "option_id": f"{site_id}-satellite", "site_id": site_id, "kind": "satellite",
        "needs": ";".join(needs), "phases": phase, "existing_places": 0,
        "module_places": 8, "max_modules": int(rng.integers(1, 3)),
        "capital_cost_per_module": _gbp(rng, 250_000, 450_000, 1_000),
        "fixed_capital_cost": 0, "lead_time_years": 1, "earliest_year": START_YEAR,
        **_annual_costs(rng, "satellite"),
    }


def _new_special_option(rng: np.random.Generator, spec: ScaleSpec, site_id: str) -> dict:
    """Build a new special school on free land: 50-place blocks, a large fixed cost, 3 years."""
    return {
        "option_id": f"{site_id}-new_special", "site_id": site_id, "kind": "new_special",
        "needs": _designation(rng, spec), "phases": ";".join(_pick(rng, SPECIAL_PHASES)),
        "existing_places": 0, "module_places": 50, "max_modules": int(rng.integers(2, 4)),
        "capital_cost_per_module": _gbp(rng, 1_000_000, 2_000_000, 1_000),
        "fixed_capital_cost": _gbp(rng, 8_000_000, 12_000_000, 10_000),
        "lead_time_years": 3, "earliest_year": START_YEAR + 2,
        **_annual_costs(rng, "new_special"),
    }


def _mainstream_options(
    rng: np.random.Generator, site_id: str, parent_needs: str
) -> list[dict]:
    """Build a mainstream host's options: always a resourced unit, for ~30% also a satellite."""
    phase = "primary" if rng.random() < 0.6 else "secondary"
    rows = [_resourced_option(rng, site_id, phase, existing=rng.random() < 0.15)]
    if rng.random() < 0.30:
        rows.append(_satellite_option(rng, site_id, phase, parent_needs))
    return rows


def _nearest_special(sites: pd.DataFrame) -> dict[str, str]:
    """For each site, the site_id of the nearest special school (a satellite's parent)."""
    special = sites[sites["kind"] == "special"]
    sx, sy = special["easting"].to_numpy(), special["northing"].to_numpy()
    nearest = {}
    for site_id, x, y in sites[["site_id", "easting", "northing"]].itertuples(index=False):
        nearest[site_id] = special["site_id"].iloc[int(np.argmin(np.hypot(sx - x, sy - y)))]
    return nearest


def _provision(rng: np.random.Generator, spec: ScaleSpec, sites: pd.DataFrame) -> pd.DataFrame:
    """provision.csv rows: one option per special/new site, one or two per mainstream host."""
    rows: list[dict] = []
    needs_of: dict[str, str] = {}
    for site_id in sites.loc[sites["kind"] == "special", "site_id"]:
        rows.append(_special_option(rng, spec, site_id, first=not rows))
        needs_of[site_id] = rows[-1]["needs"]
    parent = _nearest_special(sites)
    for site_id, kind in sites[["site_id", "kind"]].itertuples(index=False):
        if kind == "mainstream":
            rows.extend(_mainstream_options(rng, site_id, needs_of[parent[site_id]]))
        elif kind == "new":
            rows.append(_new_special_option(rng, spec, site_id))
    return pd.DataFrame(rows).sort_values("option_id", ignore_index=True)


def _capital_budget_gbp(spec: ScaleSpec, provision: pd.DataFrame) -> dict[int, int]:
    """£ per year: tight for three years, then the average of all options' capital per year.

    Why: the cheapest plan front-loads building (places save money every year they exist),
    so an early budget at 40% of the average binds, while later years leave room for a new
    school's fixed cost.
    """
    total_gbp = float(
        (provision["max_modules"] * provision["capital_cost_per_module"]
         + provision["fixed_capital_cost"]).sum()
    )
    per_year_gbp = total_gbp / spec.years
    budget = {}
    for k in range(spec.years):
        share = EARLY_BUDGET_SHARE if k < 3 else 1.0
        budget[START_YEAR + k] = int(round(share * per_year_gbp / 100_000)) * 100_000
    return budget


# --- demand ----------------------------------------------------------------------------


def _children_per_area(
    rng: np.random.Generator, provision: pd.DataFrame, population_share: np.ndarray
) -> np.ndarray:
    """Children per area, scaled so that their specialist demand is 30-50% over existing places.

    Why: the plan is only interesting when building pays but cannot cover everything.
    """
    existing_places = int(provision["existing_places"].sum())
    pupils = existing_places * rng.uniform(*DEMAND_OVER_CAPACITY)
    return population_share * pupils / DEMAND_RATE


def _need_growth(rng: np.random.Generator, spec: ScaleSpec) -> np.ndarray:
    """Annual growth per need: ASD and SEMH 5-7%, the others 0-3%."""
    return np.array(
        [rng.uniform(0.05, 0.07) if n in FAST_GROWTH_NEEDS else rng.uniform(0.0, 0.03)
         for n in spec.need_codes]
    )


def _base_pupils(rng: np.random.Generator, spec: ScaleSpec, children: np.ndarray) -> np.ndarray:
    """Year-1 pupils (areas × needs × phases): 0.8% of children, split by need and phase."""
    share = np.array([NEED_SHARE[n] for n in spec.need_codes])
    share /= share.sum()
    total = DEMAND_RATE * children.sum()
    area_need = (children / children.sum())[:, None] * share[None, :]
    area_need = area_need * rng.lognormal(0.0, 0.2, area_need.shape)
    phase = np.array(PHASE_SHARE)[None, :] * rng.lognormal(0.0, 0.1, (spec.areas, 3))
    phase /= phase.sum(axis=1, keepdims=True)
    expected = (area_need[:, :, None] * phase[:, None, :]).ravel()
    pupils = rng.multinomial(int(round(total)), expected / expected.sum())
    return pupils.reshape(spec.areas, spec.needs, len(PHASES))


def _demand(
    rng: np.random.Generator,
    spec: ScaleSpec,
    area_ids: np.ndarray,
    children: np.ndarray,
) -> pd.DataFrame:
    """demand.csv: pupils per area, need, phase and year; a few areas also grow by housing."""
    base = _base_pupils(rng, spec, children)
    housing = np.where(rng.random(spec.areas) < 0.15, rng.uniform(0.01, 0.03, spec.areas), 0.0)
    growth = _need_growth(rng, spec)[None, :] + housing[:, None]
    growth = growth + rng.normal(0.0, 0.005, growth.shape)
    years = np.arange(spec.years)
    factor = (1.0 + growth[:, :, None, None]) ** years[None, None, None, :]
    pupils = np.floor(base[:, :, :, None] * factor + 0.5).astype(int)
    a, n, p, y = np.nonzero(pupils)
    return pd.DataFrame(
        {
            "area_id": area_ids[a],
            "need": np.array(spec.need_codes)[n],
            "phase": np.array(PHASES)[p],
            "year": START_YEAR + y,
            "pupils": pupils[a, n, p, y],
        }
    )


# --- writing ---------------------------------------------------------------------------


def _fresh(path: Path, purpose: str) -> Path:
    """A hidden name beside ``path`` that nothing has (random, so never an existing file)."""
    return path.with_name(f".{path.name}.{purpose}-{uuid.uuid4().hex[:12]}")


def _write_text(path: Path, text: str) -> None:
    """Write UTF-8 text with LF line ends through a new temporary file beside ``path``.

    A crash leaves no half file, and no existing file but ``path`` is ever replaced.
    """
    tmp = _fresh(path, "tmp")
    try:
        with tmp.open("x", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    """CSV with stable formatting: no index, LF line ends, integers as integers."""
    df.to_csv(path, index=False, lineterminator="\n")


def _publish_folder(out_dir: Path, folder: Path, data: _Dataset) -> None:
    """Write the dataset into a new temporary folder, then swap it into place.

    An earlier folder is replaced only when it holds the marker (checked again just before).
    """
    tmp = _fresh(folder, "tmp")
    tmp.mkdir()  # a new name: fails rather than reuse anything that exists
    try:
        _write_text(tmp / MARKER, marker_text("synth"))
        data.areas.to_file(tmp / "areas.geojson", driver="GeoJSON")
        if gpd.read_file(tmp / "areas.geojson").crs.to_epsg() != CRS_EPSG:
            raise RuntimeError("areas.geojson did not keep its EPSG:27700 declaration")
        _write_csv(data.sites, tmp / "sites.csv")
        _write_csv(data.demand, tmp / "demand.csv")
        _write_csv(data.provision, tmp / "provision.csv")
        old = _fresh(folder, "old")
        if os.path.lexists(folder):
            if not written_by_sufficiency(folder):
                raise FileExistsError(f"{folder} was not written by sufficiency; not replaced")
            os.replace(folder, old)
        os.replace(tmp, folder)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# `synth --sticky`: pupils stay in their setting (docs/inputs.md, sticky cohorts), and a new
# resourced module is half usable in its opening year (Warwickshire: full by the end of it).
STICKY_TOML = ["[placements]", 'model = "sticky"', "", "[ramp_up.resourced]",
               "first_year = 0.5", ""]


def _toml_text(spec: ScaleSpec, name: str, seed: int, budget_gbp: dict[int, int],
               sticky: bool = False, v1: bool = False) -> str:
    """Render the run file as the contract's example lays it out, by hand for stable bytes."""
    variant = ("; sticky cohorts" if sticky else "") + ("; contract v1 capital" if v1 else "")
    lines = [
        f"# Synthetic run: scale {spec.name}, seed {seed}{variant};"
        " written by sufficiency.ingest.synth.",
        f'name = "{name}"',
        f'inputs = "{name}"',
        f"start_year = {START_YEAR}",
        f"horizon_years = {spec.years}",
        "discount_rate = 0.035",
        "",
        "[independent]",
        "cost_per_place = 54000",
        "transport_cost_per_pupil = 12000",
        "",
        "[transport]",
        "cost_per_pupil = 3000",
        "cost_per_km = 350",
        "speed_kmh = 30",
        "circuity = 1.3",
        "",
        "[travel_limit_minutes]",
        "primary = 45",
        "secondary = 75",
        "post16 = 75",
        "",
    ]
    if budget_gbp:
        lines += ["[capital_budget]"]
        lines += [f"{year} = {gbp:_}" for year, gbp in sorted(budget_gbp.items())]
        lines += [""]
    if not v1:
        lines += ["[appraisal]                       # capital over each asset's life "
                  "(docs/inputs.md)", 'method = "annuity"', ""]
    if sticky:
        lines += STICKY_TOML
    lines += ["[solver]", f"time_limit_s = {spec.time_limit_s}", "mip_gap = 0.0001",
              'time_limit_covers = "plan"        # the whole command ends within the limit', ""]
    return "\n".join(lines)
