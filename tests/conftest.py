"""Tiny, readable datasets written from Python, for hand-solved instances and bad inputs.

The base world: one 10 km square planning area "A" (EPSG:27700) whose demand point is its
centroid (405000, 305000); sites are placed at known distances north of it. Costs are
chosen per test so each optimum can be worked out by hand in the test's docstring.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

PROVISION_HEADER = ("option_id,site_id,kind,needs,phases,existing_places,module_places,"
                    "max_modules,capital_cost_per_module,fixed_capital_cost,lead_time_years,"
                    "earliest_year,annual_cost_per_place,annual_cost_per_commissioned_place")


def square(x0: float, y0: float, size: float = 10_000) -> list[list[float]]:
    """A closed square ring with its south-west corner at (x0, y0)."""
    return [[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]


def areas_geojson(areas: dict[str, list[list[float]]], crs: str | None = "EPSG::27700") -> str:
    """GeoJSON text of polygon areas {area_id: ring}, declaring ``crs`` (None: no member)."""
    doc: dict = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"area_id": aid, "name": f"Area {aid}"},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}
        for aid, ring in areas.items()]}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:{crs}"}}
    return json.dumps(doc)


def option(option_id: str, site_id: str, *, kind: str = "special", needs: str = "*",
           phases: str = "*", existing: int = 0, module: int = 0, max_modules: int = 0,
           capital: float = 0, fixed: float = 0, lead: int = 0, earliest: int = 2026,
           cost: float = 20_000, commissioned: float = 0) -> str:
    """One provision.csv row with readable keyword names."""
    return (f"{option_id},{site_id},{kind},{needs},{phases},{existing},{module},{max_modules},"
            f"{capital:g},{fixed:g},{lead},{earliest},{cost:g},{commissioned:g}")


def run_toml(name: str = "tiny", *, start: int = 2026, years: int = 1, rate: float = 0.0,
             independent: float = 50_000, independent_transport: float = 0,
             transport_pupil: float = 0, transport_km: float = 0, circuity: float = 1.0,
             budget: dict[int, float] | None = None, extra: str = "") -> str:
    """A run TOML with the given economics (defaults: no transport cost, no discounting)."""
    budget_lines = "".join(f"{y} = {b:g}\n" for y, b in (budget or {}).items())
    return f"""name = "{name}"
inputs = "data"
start_year = {start}
horizon_years = {years}
discount_rate = {rate}

[independent]
cost_per_place = {independent:g}
transport_cost_per_pupil = {independent_transport:g}

[transport]
cost_per_pupil = {transport_pupil:g}
cost_per_km = {transport_km:g}
speed_kmh = 30
circuity = {circuity:g}

[travel_limit_minutes]
primary = 45
secondary = 75
post16 = 75

[capital_budget]
{budget_lines}
[solver]
time_limit_s = 60
mip_gap = 1e-9
{extra}"""


class TinyRun:
    """Writes a run folder (run.toml + data/) and returns the TOML path."""

    def __init__(self, root: Path):
        self.root = root

    def write(self, *, demand: list[str], provision: list[str],
              sites: list[str] | None = None, areas: str | None = None,
              toml: str | None = None, travel: list[str] | None = None,
              sites_header: str = "site_id,name,area_id,easting,northing") -> Path:
        data = self.root / "data"
        data.mkdir(parents=True, exist_ok=True)
        (data / "areas.geojson").write_text(areas or areas_geojson({"A": square(400_000,
                                                                                300_000)}))
        site_rows = sites or ["S1,Site one,A,405000,306000"]
        (data / "sites.csv").write_text("\n".join([sites_header, *site_rows]) + "\n")
        (data / "demand.csv").write_text(
            "\n".join(["area_id,need,phase,year,pupils", *demand]) + "\n")
        (data / "provision.csv").write_text("\n".join([PROVISION_HEADER, *provision]) + "\n")
        if travel is not None:
            (data / "travel.csv").write_text(
                "\n".join(["area_id,site_id,minutes,km", *travel]) + "\n")
        path = self.root / "run.toml"
        path.write_text(toml or run_toml())
        return path


@pytest.fixture
def tiny(tmp_path: Path) -> TinyRun:
    """A writer of tiny runs in a fresh folder."""
    return TinyRun(tmp_path)


class NoSecondCore:
    """Stands in for :class:`sufficiency.forked.Forked`: the job runs here when asked for."""

    def __init__(self, job, wanted: bool = True, early: bool = False) -> None:
        self.job = job

    def result(self):
        return self.job()

    def stop(self) -> None:
        return None
