"""Establishments: every GIAS type maps to the right provision; bad cells are located."""

from __future__ import annotations

import pytest
from buildkit import build, copy_fixtures, edit

from sufficiency.errors import InputError
from sufficiency.ingest.establishments import phases_from_text, sen_needs
from sufficiency.ingest.sources import find_column


@pytest.fixture
def built(tmp_path):
    return build(copy_fixtures(tmp_path), tmp_path)


def options(result) -> dict[str, dict]:
    frame = result.provision.options.set_index("option_id")
    return {oid: row._asdict() for oid, row in zip(frame.index, frame.itertuples(index=False),
                                                   strict=True)}


def test_each_establishment_type_becomes_the_right_provision(built):
    got = options(built)
    assert set(got) == {
        "900001_SPECIAL", "900002_SPECIAL",          # open special schools (LA and academy)
        "900003_RP", "900004_RP", "900004_UNIT",     # reported RP and SEN unit
        "900003_RP_NEW", "900011_RP_NEW", "900112_RP_NEW",  # primaries >= 200 pupils
        "900004_SAT",                                # satellite at the named URN
        "NEWSITE_NEW",                               # the named new-school site
    }
    assert got["900001_SPECIAL"]["kind"] == "special"
    assert got["900001_SPECIAL"]["existing_places"] == 120          # capacity, as the spec says
    assert got["900001_SPECIAL"]["needs"] == ("SLD", "PMLD")        # from SEN1/SEN2 (name)
    assert got["900001_SPECIAL"]["phases"] == ("primary", "secondary", "post16")  # ages 2-19
    assert got["900002_SPECIAL"]["existing_places"] == 60           # no capacity: headcount
    assert got["900002_SPECIAL"]["needs"] == ("ASD", "SLCN")        # the spec's [[special]]
    assert got["900002_SPECIAL"]["phases"] == ("secondary",)        # ages 11-16
    assert got["900003_RP"]["kind"] == "resourced"
    assert (got["900003_RP"]["existing_places"], got["900003_RP"]["needs"]) == (10, ("ASD",))
    assert got["900004_RP"]["existing_places"] == 12
    assert got["900004_UNIT"]["existing_places"] == 8
    assert got["900004_UNIT"]["needs"] == ("SEMH", "SLCN")          # BESD is read as SEMH
    assert got["900004_UNIT"]["phases"] == ("secondary", "post16")  # ages 11-18
    for oid in ("900003_RP_NEW", "900011_RP_NEW", "900112_RP_NEW"):
        assert (got[oid]["kind"], got[oid]["existing_places"]) == ("resourced", 0)
        assert got[oid]["max_modules"] == 1
    assert got["900004_SAT"]["kind"] == "satellite"
    assert got["NEWSITE_NEW"]["kind"] == "new_special"


def test_dropped_rows_are_counted_with_their_reason(built):
    log = built.log.table().set_index("reason")["rows"]
    assert log["outside the authority (establishments.where)"] == 1          # 900010
    assert log["status 'Closed'"] == 1                                       # 900006
    assert log["alternative provision: outside the specialist placements planned"] == 1
    assert log["independent / non-maintained special school: it is the independent "
               "fallback, not local provision"] == 1
    assert log["not a school this plan places pupils in (nursery, FE, other)"] == 1
    assert log["unknown establishment type 'Secure children's home'"] == 1
    assert log["special school: no capacity, pupils used as places"] == 1
    assert log["open mainstream school that is not a site (no provision and no candidate "
               "rule matched)"] == 1                                         # 900005, too small


def test_unknown_type_is_a_warning_not_a_silent_drop(built):
    assert any("Secure children's home" in w and "[establishments.types]" in w
               for w in built.log.warnings)


def test_unknown_type_can_be_classified_in_the_spec(tmp_path):
    spec = copy_fixtures(tmp_path)
    edit(spec, 'postcodes = "postcodes.csv"\n',
         'postcodes = "postcodes.csv"\ntypes = { other = ["Secure children\'s home"] }\n')
    result = build(spec, tmp_path)
    assert not result.log.warnings


def test_successor_urn_and_postcode_geocoding(built):
    sites = built.provision.sites.set_index("site_id")
    assert sites.loc["900112", "name"] == "Willow Primary Academy"   # 900012 → 900112 (links)
    assert "900012" not in sites.index
    assert (sites.loc["900011", "easting"], sites.loc["900011", "northing"]) == (401800, 301800)
    assert sites.loc["900011", "area_id"] == "B"


def test_a_bad_cell_names_file_row_and_column(tmp_path):
    spec = copy_fixtures(tmp_path)
    edit(spec.parent / "gias.csv", "Cedar Academy,Academy converter,Open,Secondary,11,18,1200,1100",
         "Cedar Academy,Academy converter,Open,Secondary,11,18,1200,lots")
    with pytest.raises(InputError) as err:
        build(spec, tmp_path)
    assert "gias.csv, row 5, column 'NumberOfPupils': 'lots' is not a number" in str(err.value)


def test_a_mapped_column_that_is_missing_is_named(tmp_path):
    spec = copy_fixtures(tmp_path)
    edit(spec, 'places_from = "capacity"\n',
         'places_from = "capacity"\ncolumns = { pupils = "HeadcountTotal" }\n')
    with pytest.raises(InputError) as err:
        build(spec, tmp_path)
    assert "gias.csv, row 1, column 'HeadcountTotal': column not found" in str(err.value)


def test_nothing_is_written_on_error(tmp_path):
    spec = copy_fixtures(tmp_path)
    edit(spec.parent / "gias.csv", ",AB1 1AC,400500,301500,", ",AB1 1AC,4oo500,301500,")
    with pytest.raises(InputError, match="gias.csv, row 4, column 'Easting'"):
        build(spec, tmp_path)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("columns", "wanted", "found"), [
    (["TypeOfEstablishment (name)", "TypeOfEstablishment (code)"], "TypeOfEstablishment",
     "TypeOfEstablishment (name)"),
    (["typeofestablishment (code)"], "TypeOfEstablishment", "typeofestablishment (code)"),
    (["LA (code)", "LA (name)"], "la (CODE)", "LA (code)"),
    (["school_name"], "School_Name (name)", "school_name"),
    (["urn"], "EstablishmentName", None),
])
def test_column_names_match_ignoring_case_and_suffix(columns, wanted, found):
    assert find_column(columns, wanted) == found


@pytest.mark.parametrize(("text", "phases"), [
    ("Primary", ("primary",)), ("State-funded secondary", ("secondary",)),
    ("All-through", ("primary", "secondary")), ("Middle deemed primary", ("primary",)),
    ("16 plus", ("post16",)), ("Not applicable", ()), ("Nursery", ()),
])
def test_phase_texts(text, phases):
    assert phases_from_text(text) == phases


def test_sen_provision_codes():
    assert sen_needs(["SpLD - Specific Learning Difficulty", "VI - Visual Impairment", "",
                      "XYZ - something"]) == (("SPLD", "VI"), ["XYZ - something"])
