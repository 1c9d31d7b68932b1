"""Bad inputs: each stops the run before solving, names file, row and column, writes nothing."""

from __future__ import annotations

import json

import pytest
from conftest import areas_geojson, option, run_toml, square
from typer.testing import CliRunner

from sufficiency.cli import app

GOOD_DEMAND = ["A,ASD,primary,2026,5"]
GOOD_PROVISION = [option("SP", "S1", existing=10)]


def plan_cli(toml, root):
    return CliRunner().invoke(app, ["plan", str(toml), "--output-root", str(root)])


def assert_rejected(tiny, *fragments, **files):
    files.setdefault("demand", GOOD_DEMAND)
    files.setdefault("provision", GOOD_PROVISION)
    toml = tiny.write(**files)
    out_root = tiny.root / "out"
    result = plan_cli(toml, out_root)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output, result.output
    assert not out_root.exists(), "nothing may be written when validation fails"
    return result.output


def test_missing_file(tiny):
    toml = tiny.write(demand=GOOD_DEMAND, provision=GOOD_PROVISION)
    (tiny.root / "data" / "demand.csv").unlink()
    result = plan_cli(toml, tiny.root / "out")
    assert result.exit_code == 2
    assert "demand.csv: required file is missing" in result.output


def test_missing_column(tiny):
    toml = tiny.write(demand=GOOD_DEMAND, provision=GOOD_PROVISION)
    (tiny.root / "data" / "demand.csv").write_text("area_id,need,phase,year\nA,ASD,primary,2026\n")
    result = plan_cli(toml, tiny.root / "out")
    assert result.exit_code == 2
    assert "demand.csv, column 'pupils': required column is missing" in result.output


@pytest.mark.parametrize(("cell", "message"), [
    ('"1,200"', "'1,200' is not a number — remove thousands separators"),
    ("-3", "-3 is below the minimum 0"),
    ("nan", "'nan' is not a finite number"),
    ("inf", "'inf' is not a finite number"),
    ("", "empty cell"),
])
def test_bad_numbers(tiny, cell, message):
    assert_rejected(tiny, "demand.csv, row 3, column 'pupils'", message,
                    demand=["A,ASD,primary,2026,5", f"A,SEMH,primary,2026,{cell}"])


def test_non_integer_module_count(tiny):
    assert_rejected(tiny, "provision.csv, row 2, column 'max_modules'", "not a whole number",
                    provision=[option("SP", "S1", existing=10).replace(",10,0,0,", ",10,0,1.5,")])


def test_duplicate_and_case_duplicate_ids(tiny):
    out = assert_rejected(tiny, "sites.csv, row 3, column 'site_id'", "duplicate (row 2)",
                          sites=["S1,One,A,405000,306000", "S1,Two,A,405000,307000",
                                 "s1,Three,A,405000,308000"])
    assert "'s1' differs only by case from 'S1' (row 2)" in out


@pytest.mark.parametrize(("files", "where", "message"), [
    ({"demand": ["Z,ASD,primary,2026,5"]}, "demand.csv, row 2, column 'area_id'",
     "'Z' is not in areas"),
    ({"provision": [option("SP", "NOPE", existing=10)]}, "provision.csv, row 2, column 'site_id'",
     "'NOPE' is not in sites.csv"),
    ({"sites": ["S1,One,Q,405000,306000"]}, "sites.csv, row 2, column 'area_id'",
     "'Q' is not in areas"),
    ({"demand": ["A,AUT,primary,2026,5"]}, "demand.csv, row 2, column 'need'",
     "unknown code 'AUT'"),
    ({"demand": ["A,ASD,infant,2026,5"]}, "demand.csv, row 2, column 'phase'",
     "unknown code 'infant'"),
    ({"provision": [option("SP", "S1", kind="academy", existing=10)]},
     "provision.csv, row 2, column 'kind'", "unknown code 'academy'"),
    ({"provision": [option("SP", "S1", needs="ASD;NSA", existing=10)]},
     "provision.csv, row 2, column 'needs'", "unknown code(s) NSA"),
    ({"demand": ["A,ASD,primary,2031,5"]}, "demand.csv, row 2, column 'year'",
     "2031 is outside the horizon 2026..2026"),
])
def test_unknown_references_and_codes(tiny, files, where, message):
    assert_rejected(tiny, where, message, **files)


def test_lead_time_longer_than_horizon(tiny):
    assert_rejected(tiny, "provision.csv, row 2, column 'lead_time_years'",
                    "first possible opening year 2029",
                    provision=[option("NEW", "S1", module=10, max_modules=1, lead=3)])


def test_demand_with_no_provision_and_no_fallback(tiny):
    toml = run_toml().replace("transport_cost_per_pupil = 0",
                              "transport_cost_per_pupil = 0\navailable = false")
    assert_rejected(tiny, "demand.csv", "no option serves SEMH primary pupils from 'A'",
                    "independent placement is switched off", toml=toml,
                    demand=["A,SEMH,primary,2026,5"],
                    provision=[option("SP", "S1", needs="ASD", existing=10)])


@pytest.mark.parametrize(("ring", "message"), [
    ([[400000, 300000], [410000, 310000], [410000, 300000], [400000, 310000],
      [400000, 300000]], "invalid polygon (Self-intersection"),
])
def test_invalid_geometry(tiny, ring, message):
    assert_rejected(tiny, "areas.geojson, feature 1, column 'geometry'", message,
                    areas=areas_geojson({"A": ring}))


def test_empty_geometry(tiny):
    doc = json.loads(areas_geojson({"A": square(400000, 300000)}))
    doc["features"][0]["geometry"] = None
    assert_rejected(tiny, "areas.geojson, feature 1, column 'geometry'", "empty geometry",
                    areas=json.dumps(doc))


def test_undeclared_crs_with_national_grid_coordinates(tiny):
    assert_rejected(tiny, "areas.geojson, column 'geometry'", "declares no CRS",
                    areas=areas_geojson({"A": square(400000, 300000)}, crs=None))


def test_misspelt_toml_key_gets_a_suggestion(tiny):
    toml = run_toml().replace("discount_rate", "discount_rat")
    assert_rejected(tiny, "run.toml, key 'discount_rat'", "did you mean 'discount_rate'?",
                    toml=toml)


def test_budget_year_outside_horizon(tiny):
    assert_rejected(tiny, "capital_budget.2040", "outside the horizon",
                    toml=run_toml(budget={2040: 1_000_000}))


def test_travel_matrix_missing_a_needed_pair(tiny):
    assert_rejected(tiny, "travel.csv", "1 journey(s) the model needs are missing: A → S2",
                    sites=["S1,One,A,405000,306000", "S2,Two,A,405000,307000"],
                    provision=[option("SP", "S1", existing=10), option("SP2", "S2", existing=5)],
                    travel=["A,S1,10,5"])


def test_lat_lon_swapped(tiny):
    assert_rejected(tiny, "sites.csv, row 2, column 'lat'", "lat and lon look swapped",
                    sites_header="site_id,name,area_id,lat,lon", sites=["S1,One,A,-1.5,52.3"])


def test_all_problems_reported_at_once(tiny):
    out = assert_rejected(tiny, "2 input problems found",
                          demand=["A,ASD,primary,2026,-1", "A,XYZ,primary,2026,5"])
    assert "row 2" in out and "row 3" in out


def test_validate_command_accepts_good_input(tiny):
    toml = tiny.write(demand=GOOD_DEMAND, provision=GOOD_PROVISION)
    result = CliRunner().invoke(app, ["validate", str(toml)])
    assert result.exit_code == 0, result.output
    assert "valid — 1 areas, 1 sites, 1 options" in result.output


def test_trailing_spaces_in_ids_are_trimmed_with_a_warning(tiny):
    toml = tiny.write(demand=["A ,ASD,primary,2026,5"], provision=GOOD_PROVISION)
    result = CliRunner().invoke(app, ["validate", str(toml)])
    assert result.exit_code == 0, result.output
    assert "removed spaces around 1 identifier(s)" in result.output
