"""Regenerate areas.geojson and demand.csv of the example dataset (deterministic).

The county is synthetic, modelled on Warwickshire: five planning areas cut from a rough
county outline (EPSG:27700, kilometres below) and a demand forecast whose area split,
need mix, phase mix and growth follow inputs/example/README.md. sites.csv and
provision.csv are hand-written. Run: python inputs/example/make_example.py
"""

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString, Polygon
from shapely.ops import split

HERE = Path(__file__).resolve().parent
YEARS = range(2026, 2034)

# fmt: off
# Rough county outline (km), with the notch of Coventry (not part of the county).
COUNTY = [
    (427, 309), (434, 304), (441, 295), (447, 287), (455, 284), (461, 279), (464, 272),
    (461, 265), (455, 262), (450, 257), (446, 249), (438, 240), (428, 232), (418, 237),
    (410, 246), (404, 254), (405, 263), (410, 270), (417, 274), (424, 277), (428, 275),
    (434, 274), (440, 276), (441, 281), (436, 284), (428, 285), (424, 287), (418, 288),
    (417, 292), (420, 297), (421, 303),
]
# Boundaries cut in order; each leaves the named area on one side and the rest on the other.
CUTS = [
    ("NWA", "North Warwickshire", [(442, 299), (434.5, 295.5), (432.5, 292), (431.5, 287.5),
                                   (430, 283)]),
    ("NUB", "Nuneaton & Bedworth", [(444, 294), (441, 288), (439, 281)]),
    ("EAST", "East Warwickshire (Rugby)", [(439.5, 277), (438, 271), (437.5, 266), (446, 264),
                                           (455, 262), (459, 260)]),
    ("CEN", "Central Warwickshire (Warwick, Leamington, Kenilworth)",
     [(439, 267), (437.5, 266), (434, 262), (428, 261), (422, 262), (419, 266), (418, 270),
      (415, 276)]),
]
SOUTH = ("SOU", "South Warwickshire (Stratford)")
TOWNS = {"NWA": (430.8, 297.6), "NUB": (436.0, 291.5), "EAST": (450.5, 275.0),
         "CEN": (431.0, 266.0), "SOU": (420.0, 255.0)}

# Share of specialist demand by area: Warwickshire special-school forecast 2022/23.
AREA_SHARE = {"NWA": 143, "NUB": 499, "EAST": 292, "CEN": 366, "SOU": 230}
# Extra yearly growth by area (housing growth: East and Central grow fastest).
AREA_GROWTH = {"NWA": -0.005, "NUB": 0.0, "EAST": 0.01, "CEN": 0.008, "SOU": 0.003}
# Need: (share of 2026 demand, yearly growth).
NEEDS = {
    "ASD": (0.33, 0.065), "SEMH": (0.20, 0.06), "SLCN": (0.10, 0.025), "MLD": (0.10, 0.01),
    "SLD": (0.09, 0.02), "PMLD": (0.04, 0.015), "PD": (0.04, 0.01), "SPLD": (0.03, 0.01),
    "HI": (0.02, 0.01), "VI": (0.015, 0.01), "MSI": (0.005, 0.01), "OTH": (0.03, 0.02),
}
PHASES = {"primary": 0.33, "secondary": 0.35, "post16": 0.32}
PHASE_TILT = {"ASD": (1.08, 0.97, 0.95), "SEMH": (0.8, 1.2, 0.98), "PMLD": (1.1, 0.95, 0.95)}
TOTAL_2026 = 2400
# fmt: on


def make_areas() -> gpd.GeoDataFrame:
    """Cut the county outline into the five planning areas."""
    rest = Polygon([(x * 1000, y * 1000) for x, y in COUNTY])
    rows = []
    for area_id, name, line in CUTS:
        pieces = list(split(rest, LineString([(x * 1000, y * 1000) for x, y in line])).geoms)
        town = gpd.points_from_xy([TOWNS[area_id][0] * 1000], [TOWNS[area_id][1] * 1000])[0]
        (piece,) = [p for p in pieces if p.contains(town)]
        rows.append({"area_id": area_id, "name": name, "geometry": piece})
        (rest,) = [p for p in pieces if p is not piece]
    rows.append({"area_id": SOUTH[0], "name": SOUTH[1], "geometry": rest})
    return gpd.GeoDataFrame(rows, crs="EPSG:27700")


def make_demand() -> pd.DataFrame:
    """Pupils needing a specialist place, by area, need, phase and year."""
    rng = np.random.default_rng(2026)
    total_share = sum(AREA_SHARE.values())
    rows = []
    for area_id, weight in AREA_SHARE.items():
        for need, (share, growth) in NEEDS.items():
            tilt = PHASE_TILT.get(need, (1.0, 1.0, 1.0))
            for (phase, phase_share), t in zip(PHASES.items(), tilt, strict=True):
                base = TOTAL_2026 * weight / total_share * share * phase_share * t
                base *= rng.normal(1.0, 0.08)
                rate = growth + AREA_GROWTH[area_id]
                for year in YEARS:
                    jitter = rng.normal(1.0, 0.02)
                    pupils = base * (1 + rate) ** (year - YEARS[0]) * jitter
                    rows.append((area_id, need, phase, year, max(0, round(pupils))))
    return pd.DataFrame(rows, columns=["area_id", "need", "phase", "year", "pupils"])


if __name__ == "__main__":
    areas = make_areas()
    areas["geometry"] = areas.geometry.set_precision(10)
    areas.to_file(HERE / "areas.geojson", driver="GeoJSON")
    make_demand().to_csv(HERE / "demand.csv", index=False)
