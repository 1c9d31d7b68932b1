"""Planning areas: boundaries dissolved through a lookup, or kept as they are."""

from __future__ import annotations

import geopandas as gpd
import pytest
from buildkit import FIXTURES, copy_fixtures, edit
from shapely.geometry import box

from sufficiency.errors import InputError
from sufficiency.ingest.areas import build_areas
from sufficiency.ingest.log import BuildLog
from sufficiency.ingest.spec import load_spec


def areas_of(spec_path):
    log = BuildLog()
    spec = load_spec(spec_path)
    return build_areas(spec.areas, spec.precision_m, log), log


def test_lookup_dissolves_boundaries_into_areas():
    areas, log = areas_of(FIXTURES / "testshire.build.toml")
    frame = areas.frame.set_index("area_id")
    assert list(frame.index) == ["A", "B"]
    assert frame.loc["A", "name"] == "Area A"
    # L1 ∪ L2 and L3 ∪ L4: one rectangle each, with no seam left inside
    assert frame.loc["A", "geometry"].equals(box(400_000, 300_000, 402_000, 301_000))
    assert frame.loc["B", "geometry"].equals(box(400_000, 301_000, 402_000, 302_000))
    assert frame.loc["A", "geometry"].geom_type == "Polygon"
    assert areas.code_to_area == {"L1": "A", "L2": "A", "L3": "B", "L4": "B"}
    table = log.table().set_index("reason")["rows"]
    assert table["boundary outside the where filter"] == 1            # L5 (other LAD)
    assert table["lookup code has no boundary (ignored)"] == 1        # L9
    assert table["boundaries dissolved into 2 planning areas"] == 4


def test_boundaries_themselves_as_areas(tmp_path):
    spec = copy_fixtures(tmp_path)
    edit(spec, 'lookup = "lookup.csv"\n', "")
    areas, _ = areas_of(spec)
    assert list(areas.frame["area_id"]) == ["L1", "L2", "L3", "L4"]
    assert list(areas.frame["name"]) == [f"Testshire L{i}" for i in range(1, 5)]


def test_groups_in_the_spec_dissolve_like_a_lookup(tmp_path):
    spec = copy_fixtures(tmp_path)
    edit(spec, 'lookup = "lookup.csv"\nlookup_code_column = "lsoa"\nlookup_area_column = "area"\n'
         'lookup_name_column = "area_name"\n',
         '\n[[areas.groups]]\narea_id = "WEST"\nname = "West"\ncodes = ["L1", "L3"]\n\n'
         '[[areas.groups]]\narea_id = "EAST"\ncodes = ["L2", "L4"]\n')
    areas, _ = areas_of(spec)
    frame = areas.frame.set_index("area_id")
    assert frame.loc["WEST", "geometry"].equals(box(400_000, 300_000, 401_000, 302_000))
    assert frame.loc["EAST", "name"] == "EAST"


def test_a_code_in_two_areas_is_an_error(tmp_path):
    spec = copy_fixtures(tmp_path)
    (spec.parent / "lookup.csv").write_text("lsoa,area,area_name\nL1,A,A\nL2,A,A\nL1,B,B\n")
    with pytest.raises(InputError, match=r"lookup.csv, row 4, column 'lsoa': code 'L1' is "
                                         "given two different planning areas"):
        areas_of(spec)


def test_wgs84_boundaries_are_reprojected(tmp_path):
    spec = copy_fixtures(tmp_path)
    frame = gpd.read_file(spec.parent / "lsoa.geojson").to_crs("EPSG:4326")
    frame.to_file(spec.parent / "lsoa.geojson", driver="GeoJSON")
    areas, _ = areas_of(spec)
    a = areas.frame.set_index("area_id").loc["A", "geometry"]
    assert a.area == pytest.approx(2_000_000, rel=1e-3)   # metres again, on the 1 m grid
