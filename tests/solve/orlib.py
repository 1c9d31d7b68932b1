"""OR-Library capacitated warehouse location instances (Beasley) written as contract-v1 runs.

Format of ``capNN.txt``: ``m n``; m lines ``capacity fixed_cost``; then per customer its
demand and m allocation costs (the cost of serving all of its demand from each warehouse).
As a run: one year, no discounting; each warehouse an option (``new_special``, one module of
its capacity, capital 0, its fixed cost as ``fixed_capital_cost``, lead 0); each customer an
area with one demand cell; ``travel.csv`` km = allocation cost ÷ demand at £1 per km, so a
split of the customer's demand costs its share of the allocation cost.
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import PROVISION_HEADER, option, square

DATA = Path(__file__).parent / "data"


def read_cap(path: Path) -> tuple[list[tuple[float, float]], list[float], list[list[float]]]:
    """(capacity, fixed cost) per warehouse, demand per customer, allocation cost [c][w]."""
    numbers = [float(t) for t in path.read_text().split()]
    m, n = int(numbers[0]), int(numbers[1])
    at = 2
    warehouses = [(numbers[at + 2 * i], numbers[at + 2 * i + 1]) for i in range(m)]
    at += 2 * m
    demand, allocation = [], []
    for _ in range(n):
        demand.append(numbers[at])
        allocation.append(numbers[at + 1: at + 1 + m])
        at += 1 + m
    return warehouses, demand, allocation


RUN = """name = "{name}"
inputs = "data"
start_year = 2026
horizon_years = 1
discount_rate = 0

[independent]
cost_per_place = 10000
transport_cost_per_pupil = 0

[transport]
cost_per_pupil = 0
cost_per_km = 1
speed_kmh = 30
circuity = 1.0

[travel_limit_minutes]
primary = 45
secondary = 75
post16 = 75

[solver]
time_limit_s = 120
mip_gap = 1e-9
{extra}"""


def write_cap_run(instance: Path, root: Path, extra: str = "") -> Path:
    """Write ``instance`` as a run folder under ``root``; return the run TOML's path."""
    warehouses, demand, allocation = read_cap(instance)
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    areas = {"type": "FeatureCollection",
             "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}},
             "features": [{"type": "Feature",
                           "properties": {"area_id": f"C{c}", "name": f"Customer {c}"},
                           "geometry": {"type": "Polygon",
                                        "coordinates": [square(400_000 + 1000 * c, 300_000,
                                                               1000)]}}
                          for c in range(len(demand))]}
    (data / "areas.geojson").write_text(json.dumps(areas))
    (data / "sites.csv").write_text("site_id,name,area_id,easting,northing\n" + "".join(
        f"W{w},Warehouse {w},C0,{400_500 + 1000 * w},300500\n" for w in range(len(warehouses))))
    (data / "demand.csv").write_text("area_id,need,phase,year,pupils\n" + "".join(
        f"C{c},ASD,primary,2026,{d:g}\n" for c, d in enumerate(demand)))
    (data / "provision.csv").write_text("\n".join([PROVISION_HEADER, *(
        option(f"W{w}", f"W{w}", kind="new_special", module=int(capacity), max_modules=1,
               fixed=fixed, cost=0)
        for w, (capacity, fixed) in enumerate(warehouses))]) + "\n")
    (data / "travel.csv").write_text("area_id,site_id,minutes,km\n" + "".join(
        f"C{c},W{w},10,{allocation[c][w] / demand[c]!r}\n"
        for c in range(len(demand)) for w in range(len(warehouses))))
    path = root / "run.toml"
    path.write_text(RUN.format(name=instance.stem, extra=extra))
    return path
