"""plan.gpkg: opens with geopandas/pyogrio, every layer in EPSG:27700, matches the tables.

The tiny world of tests/test_transport.py: area A (with pupils) and B (without), S1 1 km and
S2 5 km from A's demand point; NEW opens 3 places at S1 in 2027.
"""

from __future__ import annotations

import hashlib
import json

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from conftest import TinyRun, areas_geojson, option, run_toml, square

from sufficiency.api import plan
from sufficiency.pipeline import run_plan
from sufficiency.report import transport
from sufficiency.report.geopackage import LAYERS, write_geopackage

AREAS = areas_geojson({"A": square(400_000, 300_000), "B": square(410_000, 300_000)})
SITES = ["S1,One <b>&,A,405000,306000", "S2,Two,A,408000,309000"]
DEMAND = ["A,ASD,primary,2026,10", "A,ASD,primary,2027,10"]
PROVISION = [option("SP", "S1", existing=4), option("SP2", "S2", existing=3),
             option("NEW", "S1", module=3, max_modules=1, capital=10_000, earliest=2027)]
TOML = run_toml(years=2, rate=0.1, independent_transport=2_000, transport_pupil=1_000,
                transport_km=100, circuity=1.3)


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    """The run, solved and written as `sufficiency plan` writes it."""
    tiny = TinyRun(tmp_path_factory.mktemp("gpkg"))
    toml = tiny.write(areas=AREAS, sites=SITES, demand=DEMAND, provision=PROVISION, toml=TOML)
    run, paths = plan(toml, output_root=tiny.root / "project")
    return run, paths.folder


@pytest.fixture(scope="module")
def folder(planned):
    return planned[1]


def layer(folder, name: str) -> gpd.GeoDataFrame:
    return gpd.read_file(folder / "plan.gpkg", layer=name, engine="pyogrio")


def test_layers_open_in_national_grid(folder):
    listed = pyogrio.list_layers(folder / "plan.gpkg")
    assert [tuple(x) for x in listed] == [
        ("areas", "MultiPolygon"), ("area_years", "MultiPolygon"), ("sites", "Point"),
        ("openings", "Point"), ("flows", "LineString"), ("journey_rings", "Polygon")]
    for name in LAYERS:
        frame = layer(folder, name)
        assert frame.crs.to_epsg() == 27700, name
        assert frame.geometry.is_valid.all(), name


def test_area_years_match_transport_csv(folder):
    table = pd.read_csv(folder / "transport.csv", keep_default_na=False, na_values=[""])
    plan = table[(table["scenario"] == "plan") & (table["level"] == "area")]
    years = layer(folder, "area_years").sort_values(["year", "area_id"])
    assert len(years) == 4  # 2 areas × 2 years
    assert years["mean_minutes"].tolist() == pytest.approx(plan["mean_minutes"].tolist(),
                                                           nan_ok=True)
    assert years["transport_cost"].tolist() == pytest.approx(plan["transport_cost"].tolist())
    a_2027 = years[(years["area_id"] == "A") & (years["year"] == 2027)].iloc[0]
    assert a_2027["transport_cost_local"] == pytest.approx(12_860)
    assert a_2027["transport_cost_local_do_nothing"] == pytest.approx(9_470)
    assert a_2027["transport_cost_local_change"] == pytest.approx(3_390)
    assert str(a_2027["year_start"])[:10] == "2027-09-01"
    assert str(a_2027["year_end"])[:10] == "2028-08-31"


def test_areas_hold_horizon_indicators(folder):
    areas = layer(folder, "areas").set_index("area_id")
    assert areas.loc["A", "pupil_years_local"] == 17
    assert areas.loc["A", "pupil_years_local_do_nothing"] == 14
    assert areas.loc["A", "transport_cost"] == pytest.approx(9_470 + 6_000 + 12_860)
    assert areas.loc["A", "max_minutes"] == pytest.approx(13.0)
    assert pd.isna(areas.loc["B", "mean_minutes"])
    assert (areas.loc["A", "demand_x"], areas.loc["A", "demand_y"]) == (405_000, 305_000)


def test_sites_openings_flows_and_rings(folder):
    sites = layer(folder, "sites").set_index("site_id")
    assert sites.loc["S1", "name"] == "One <b>&"  # data, not markup, in a GeoPackage
    assert sites.loc["S1", ["existing_places", "new_places", "first_opening_year"]].tolist() == [
        4, 3, 2027]
    assert sites.loc["S1", "option_ids"] == "NEW;SP"
    openings = layer(folder, "openings")
    assert openings[["option_id", "places", "opening_year"]].values.tolist() == [
        ["NEW", 3, 2027]]
    flows = layer(folder, "flows")
    plan = flows[flows["scenario"] == "plan"]
    assert plan.groupby("year")["pupils"].sum().to_dict() == {2026: 7, 2027: 10}
    assert sorted(plan.geometry.length.round(3).unique()) == [1000.0, 5000.0]
    assert set(flows["scenario"]) == {"plan", "do_nothing"}
    rings = layer(folder, "journey_rings")
    assert rings["minutes"].tolist() == list(transport.RING_MINUTES)
    assert rings["radius_km"].tolist() == pytest.approx([5.769, 11.538, 17.308], abs=1e-3)


def test_same_run_same_bytes(planned, folder, tmp_path):
    write_geopackage(planned[0], tmp_path / "again.gpkg")
    assert (hashlib.sha256((tmp_path / "again.gpkg").read_bytes()).hexdigest()
            == hashlib.sha256((folder / "plan.gpkg").read_bytes()).hexdigest())


def test_plan_without_openings_still_writes_every_layer(tmp_path):
    tiny = TinyRun(tmp_path)
    toml = tiny.write(areas=AREAS, sites=SITES, demand=DEMAND, provision=PROVISION[:2],
                      toml=TOML)
    write_geopackage(run_plan(toml), tmp_path / "plan.gpkg")
    assert [name for name, _ in pyogrio.list_layers(tmp_path / "plan.gpkg")] == list(LAYERS)
    assert layer(tmp_path, "openings").empty and layer(tmp_path, "journey_rings").empty


def test_transport_outputs_written_with_the_plan(folder):
    """transport.csv and summary.json's transport section come with plan.gpkg."""
    table = pd.read_csv(folder / "transport.csv", keep_default_na=False)
    assert list(table.columns) == transport.TRANSPORT_COLUMNS
    assert set(table["scenario"]) == {"plan", "do_nothing", "change"}
    local = (table["scenario"] != "change") & (table["pupils_local"].astype(float) > 0)
    assert (table.loc[local, "travel_source"] == "straight line").all()
    assert (table.loc[~local, "travel_source"] == "").all()  # no local pupils, no journeys
    summary = json.loads((folder / "summary.json").read_text())
    section = summary["transport"]
    assert section["travel_metric"] == summary["travel_metric"]
    assert section["plan"]["by_year"]["2027"]["transport_cost_local"] == pytest.approx(12_860)
    assert section["change"]["horizon"]["pupil_years_independent"] == -3
