"""Geography: any declared CRS gives the same points, km and minutes, checked by hand.

Area A is the 10 km square at (400000, 300000): its demand point is its centroid
(405000, 305000). S1 is 1 km north of it; S2 is 3 km east and 4 km north, 5 km away. With
circuity 1.3 and 30 km/h:

    A → S1: 1 km × 1.3 = 1.3 road km, 1.3 / 30 × 60 = 2.6 minutes
    A → S2: 5 km × 1.3 = 6.5 road km, 6.5 / 30 × 60 = 13 minutes

The same sites given as WGS84 lat/lon (pyproj's offline Helmert transform, about 2 m from
OSTN15) must give the same journeys to a few metres, and the same areas in WGS84 GeoJSON,
a GeoPackage or a Shapefile in EPSG:27700 must give the same demand point.
"""

from __future__ import annotations

import json
import warnings

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from conftest import areas_geojson, option, run_toml, square
from pyproj import Transformer
from shapely.geometry import Polygon, shape
from typer.testing import CliRunner

from sufficiency.cli import app
from sufficiency.errors import InputError
from sufficiency.preprocess import geo
from sufficiency.preprocess.dataset import load

SITES_BNG = {"S1": (405_000, 306_000), "S2": (408_000, 309_000)}
DEMAND = ["A,ASD,primary,2026,5"]
PROVISION = [option("SP", "S1", existing=10), option("SP2", "S2", existing=10)]
TOML = run_toml(circuity=1.3)
TO_WGS = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def lonlat(easting: float, northing: float) -> tuple[float, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TO_WGS.transform(easting, northing)


def journeys(tiny, **files) -> pd.DataFrame:
    files = {"demand": DEMAND, "provision": PROVISION, "toml": TOML} | files
    files.setdefault("sites", [f"{s},Site {s},A,{e},{n}" for s, (e, n) in SITES_BNG.items()])
    dataset = load(tiny.write(**files))
    return dataset.travel.set_index(["area_id", "site_id"])


def test_hand_checked_journeys_in_national_grid(tiny):
    travel = journeys(tiny)
    assert travel.loc[("A", "S1"), "km"] == pytest.approx(1.3)
    assert travel.loc[("A", "S1"), "minutes"] == pytest.approx(2.6)
    assert travel.loc[("A", "S2"), "km"] == pytest.approx(6.5)
    assert travel.loc[("A", "S2"), "minutes"] == pytest.approx(13.0)
    assert set(travel["travel_source"]) == {"straight line"}


def test_sites_as_lat_lon_give_the_same_journeys(tiny):
    rows = []
    for site, (e, n) in SITES_BNG.items():
        lon, lat = lonlat(e, n)
        rows.append(f"{site},Site {site},A,{lat:.7f},{lon:.7f}")
    travel = journeys(tiny, sites=rows, sites_header="site_id,name,area_id,lat,lon")
    assert travel.loc[("A", "S1"), "km"] == pytest.approx(1.3, abs=0.005)
    assert travel.loc[("A", "S1"), "minutes"] == pytest.approx(2.6, abs=0.01)
    assert travel.loc[("A", "S2"), "km"] == pytest.approx(6.5, abs=0.005)
    assert travel.loc[("A", "S2"), "minutes"] == pytest.approx(13.0, abs=0.01)


def test_sites_mixing_both_coordinate_pairs(tiny):
    """A file with both column pairs: each row uses easting/northing if it has them."""
    lon, lat = lonlat(*SITES_BNG["S2"])
    rows = ["S1,One,A,405000,306000,,", f"S2,Two,A,,,{lat:.7f},{lon:.7f}"]
    travel = journeys(tiny, sites=rows,
                      sites_header="site_id,name,area_id,easting,northing,lat,lon")
    assert travel.loc[("A", "S1"), "km"] == pytest.approx(1.3)
    assert travel.loc[("A", "S2"), "km"] == pytest.approx(6.5, abs=0.005)


def test_site_with_no_coordinate_pair(tiny):
    toml = tiny.write(demand=DEMAND, provision=PROVISION[:1], sites=["S1,One,A,405000,,,"],
                      sites_header="site_id,name,area_id,easting,northing,lat,lon")
    with pytest.raises(InputError, match="row 2, column 'easting': no coordinate pair"):
        load(toml)


def test_sites_disagreeing_pairs_warn(tiny):
    lon, lat = lonlat(405_000, 307_000)  # 1 km from the easting/northing given
    toml = tiny.write(demand=DEMAND, provision=PROVISION[:1],
                      sites=[f"S1,One,A,405000,306000,{lat:.7f},{lon:.7f}"],
                      sites_header="site_id,name,area_id,easting,northing,lat,lon")
    assert any("1,000 m apart; easting/northing used" in w for w in load(toml).warnings)


def wgs84_geojson(ring: list[list[float]]) -> str:
    doc = json.loads(areas_geojson({"A": ring}, crs=None))
    coordinates = doc["features"][0]["geometry"]["coordinates"]
    coordinates[0] = [list(lonlat(x, y)) for x, y in coordinates[0]]
    return json.dumps(doc)


def demand_point(tiny, areas: str | None = None) -> tuple[float, float]:
    dataset = load(tiny.write(demand=DEMAND, provision=PROVISION[:1], areas=areas))
    row = dataset.areas.iloc[0]
    return row["demand_x"], row["demand_y"]


def test_areas_in_wgs84_give_the_same_demand_point(tiny):
    assert demand_point(tiny) == (405_000.0, 305_000.0)
    x, y = demand_point(tiny, wgs84_geojson(square(400_000, 300_000)))
    assert x == pytest.approx(405_000, abs=1.0) and y == pytest.approx(305_000, abs=1.0)


def write_areas(tiny, name: str, crs: str | None, **columns) -> None:
    frame = gpd.GeoDataFrame({"area_id": ["A"], "name": ["Area A"], **columns},
                             geometry=[Polygon(square(400_000, 300_000))], crs=crs)
    folder = tiny.root / "data"
    folder.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL notes the shapefile's truncated field names
        frame.to_file(folder / name)


def load_with_areas(tiny, name: str):
    toml = tiny.write(demand=DEMAND, provision=PROVISION[:1])
    (tiny.root / "data" / "areas.geojson").unlink()  # the areas file is `name` instead
    return load(toml)


@pytest.mark.parametrize("name", ["areas.gpkg", "areas.shp"])
def test_geopackage_and_shapefile_in_national_grid(tiny, name):
    write_areas(tiny, name, "EPSG:27700")
    row = load_with_areas(tiny, name).areas.iloc[0]
    assert (row["demand_x"], row["demand_y"]) == (405_000.0, 305_000.0)


@pytest.mark.parametrize("name", ["areas.gpkg", "areas.shp"])
def test_geopackage_or_shapefile_without_crs_is_an_error(tiny, name):
    write_areas(tiny, name, None)
    with pytest.raises(InputError) as caught:
        load_with_areas(tiny, name)
    text = str(caught.value)
    assert f"{name}, column 'geometry': the file declares no CRS" in text
    assert "look like EPSG:27700" in text and "Assigned CRS" in text
    if name.endswith(".shp"):
        assert ".prj" in text


def test_shapefile_demand_point_columns_cut_to_ten_characters(tiny):
    write_areas(tiny, "areas.shp", "EPSG:27700", demand_easting=[402_000.0],
                demand_northing=[303_000.0])
    row = load_with_areas(tiny, "areas.shp").areas.iloc[0]
    assert (row["demand_x"], row["demand_y"]) == (402_000.0, 303_000.0)


def test_null_demand_point_falls_back_to_the_centroid(tiny):
    write_areas(tiny, "areas.gpkg", "EPSG:27700", demand_easting=[None],
                demand_northing=[None])
    row = load_with_areas(tiny, "areas.gpkg").areas.iloc[0]
    assert (row["demand_x"], row["demand_y"]) == (405_000.0, 305_000.0)


def test_demand_point_given_half_falls_back_with_a_warning(tiny):
    doc = json.loads(areas_geojson({"A": square(400_000, 300_000)}))
    doc["features"][0]["properties"].update(demand_easting=402_000, demand_northing=None)
    dataset = load(tiny.write(demand=DEMAND, provision=PROVISION[:1], areas=json.dumps(doc)))
    assert (dataset.areas.iloc[0]["demand_x"], dataset.areas.iloc[0]["demand_y"]) == (
        405_000.0, 305_000.0)
    assert any("only one of demand_easting / demand_northing" in w for w in dataset.warnings)


def test_degrees_declared_as_national_grid_is_an_error(tiny):
    ring = [list(lonlat(x, y)) for x, y in square(400_000, 300_000)]
    toml = tiny.write(demand=DEMAND, provision=PROVISION[:1], areas=areas_geojson({"A": ring}))
    result = CliRunner().invoke(app, ["validate", str(toml)])
    assert result.exit_code == 2
    assert "declares the projected CRS EPSG:27700 but its coordinates look like degrees" in (
        " ".join(result.output.split()))


def test_degrees_in_easting_columns_are_not_a_grid_point():
    east, north = pd.Series([-1.5, 405_000.0, 80_000.0]), pd.Series([52.3, 305_000.0, 10_000.0])
    assert geo.within_gb_metres(east, north).tolist() == [False, True, True]


def test_complete_travel_fills_only_the_gaps():
    given = pd.DataFrame({"area_id": ["A"], "site_id": ["S1"], "minutes": [10.0], "km": [5.0]})
    derived = pd.DataFrame({"area_id": ["A", "A"], "site_id": ["S1", "S2"],
                            "km": [1.3, 6.5], "minutes": [2.6, 13.0]})
    table, filled = geo.complete_travel(given, derived)
    assert filled == 1
    assert table.values.tolist() == [["A", "S1", 10.0, 5.0, "travel.csv"],
                                     ["A", "S2", 13.0, 6.5, "straight line"]]


def test_ring_radius_and_shape():
    assert geo.ring_radius_km(15, 30, 1.3) == pytest.approx(7.5 / 1.3)
    centre = gpd.GeoSeries(gpd.points_from_xy([405_000], [305_000]), crs=geo.BNG)
    ring = geo.journey_rings(centre, pd.Series([2.0])).iloc[0]
    assert ring.bounds == pytest.approx((403_000, 303_000, 407_000, 307_000))
    assert ring.area == pytest.approx(3.14159265 * 2000 ** 2, rel=2e-3)  # 64-gon


# Coastal and island places of Great Britain, and places near it that are not in it.
IN_GREAT_BRITAIN = {
    "St Mary's, Scilly": (-6.30, 49.92), "Bishop Rock, Scilly": (-6.45, 49.87),
    "Land's End": (-5.71, 50.07), "Lizard Point": (-5.20, 49.96),
    "Ventnor, Isle of Wight": (-1.20, 50.59), "The Needles": (-1.59, 50.66),
    "Portland Bill": (-2.46, 50.51), "Dover": (1.31, 51.13), "Lowestoft": (1.75, 52.48),
    "Spurn Head": (0.11, 53.58), "Berwick": (-2.00, 55.77), "Peterhead": (-1.78, 57.50),
    "Holyhead, Anglesey": (-4.63, 53.31), "St Davids": (-5.27, 51.88),
    "Aberdaron": (-4.71, 52.80), "Mull of Galloway": (-4.86, 54.64),
    "Mull of Kintyre": (-5.80, 55.31), "Brodick, Arran": (-5.14, 55.58),
    "Port Ellen, Islay": (-6.19, 55.63), "Tobermory, Mull": (-6.07, 56.62),
    "Scarinish, Tiree": (-6.80, 56.50), "Portree, Skye": (-6.19, 57.41),
    "Castlebay, Barra": (-7.49, 56.95), "Stornoway, Lewis": (-6.39, 58.21),
    "Butt of Lewis": (-6.26, 58.52), "Cape Wrath": (-4.99, 58.62),
    "Kirkwall, Orkney": (-2.96, 58.98), "Fair Isle": (-1.63, 59.53),
    "Lerwick, Shetland": (-1.14, 60.15), "Baltasound, Unst": (-0.85, 60.76),
}
OUTSIDE_GREAT_BRITAIN = {
    "Dublin": (-6.26, 53.35), "Belfast": (-5.93, 54.60), "Calais": (1.86, 50.95),
    "Boulogne": (1.61, 50.73), "Douglas, Isle of Man": (-4.48, 54.15),
    "St Helier, Jersey": (-2.11, 49.19), "Paris": (2.35, 48.85), "Bergen": (5.32, 60.39),
}


@pytest.mark.parametrize("place", IN_GREAT_BRITAIN)
def test_coastal_and_island_places_are_in_great_britain(place):
    lon, lat = IN_GREAT_BRITAIN[place]
    assert geo.within_gb_degrees(pd.Series([lon]), pd.Series([lat])).tolist() == [True]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        east, north = Transformer.from_crs("EPSG:4326", "EPSG:27700",
                                           always_xy=True).transform(lon, lat)
    assert geo.within_gb_metres(pd.Series([east]), pd.Series([north])).tolist() == [True]


@pytest.mark.parametrize("place", OUTSIDE_GREAT_BRITAIN)
def test_ireland_man_and_france_are_not_great_britain(place):
    """The old rectangles (lon -9..2, lat 49.75..61) let Dublin, Belfast and Calais in."""
    lon, lat = OUTSIDE_GREAT_BRITAIN[place]
    assert geo.within_gb_degrees(pd.Series([lon]), pd.Series([lat])).tolist() == [False]


def test_gb_outline_ships_with_its_source_and_is_small():
    doc = json.loads(geo.GB_OUTLINE_FILE.read_text(encoding="utf-8"))
    assert "Natural Earth" in doc["source"] and "hand-drawn" in doc["source"]
    assert doc["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::27700"
    vertices = sum(shapely.get_num_coordinates(shape(feature["geometry"]))
                   for feature in doc["features"])
    assert 100 <= vertices <= 1000
    assert geo.great_britain().is_valid


def test_not_a_number_is_not_in_great_britain():
    nan = float("nan")
    assert geo.within_gb_degrees(pd.Series([nan, 1e9]), pd.Series([52.0, 52.0])).tolist() == [
        False, False]
    assert geo.within_gb_metres(pd.Series([nan]), pd.Series([305_000.0])).tolist() == [False]
