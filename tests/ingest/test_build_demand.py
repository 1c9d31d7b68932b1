"""Demand: the SEN2 base year, its split, the area share and the projection, by hand."""

from __future__ import annotations

import pandas as pd
import pytest
from buildkit import build, copy_fixtures, edit

from sufficiency.errors import InputError
from sufficiency.ingest.demand import age_of, phase_of_age
from sufficiency.ingest.spec import SEN2_AGES


@pytest.fixture
def built(tmp_path):
    return build(copy_fixtures(tmp_path), tmp_path)


def test_base_year_split_keeps_the_sen2_totals(built):
    """Special LA: 100 pupils, ages 8 (40) and 12 (60), needs ASD 50 / MLD 50;
    RP: 20 pupils aged 9, all ASD; independent special: 10 aged 14, all SEMH."""
    base = built.demand.base.set_index(["need", "phase"])["pupils"]
    assert base[("ASD", "primary")] == pytest.approx(100 * 0.5 * 0.4 + 20)     # 40
    assert base[("ASD", "secondary")] == pytest.approx(100 * 0.5 * 0.6)       # 30
    assert base[("MLD", "primary")] == pytest.approx(20)
    assert base[("MLD", "secondary")] == pytest.approx(30)
    assert base[("SEMH", "secondary")] == pytest.approx(10)
    assert base.sum() == pytest.approx(130)                                    # 20 + 100 + 10
    independent = built.demand.base.set_index(["need", "phase"])["independent"]
    assert independent.sum() == pytest.approx(10)
    assert independent[("SEMH", "secondary")] == pytest.approx(10)


def test_area_share_from_a_table_of_boundary_codes(built):
    shares = built.demand.shares.set_index(["area_id", "phase"])["share"]
    assert shares[("A", "primary")] == pytest.approx(0.4)    # L1 30 + L2 10 of 100
    assert shares[("B", "post16")] == pytest.approx(0.6)     # L3 60 + L4 0
    log = built.log.table().set_index("reason")["rows"]
    assert log["code is neither a boundary code nor an area (ignored)"] == 1   # ZZ9


def test_projection_reproduces_hand_computed_numbers(built):
    """demand = base · share · F(phase, year) · (1 + r)^(year − 2024) + housing.

    F: primary ages 4–10 at 100 → 110 (2026) → 120 (2027); secondary 100 → 90 → 80.
    r: ASD 20 %, MLD/secondary 0 %, otherwise 10 %. Housing in area B (code L3): 100 homes
    by 2026, 150 by 2027; pupils per home 0.3 / 0.2; specialist rate 1 % / 2 %; shared by
    the base need mix of the phase (primary ASD 40/60, MLD 20/60; secondary MLD 30/70).
    """
    d = built.demand.demand.set_index(["area_id", "need", "phase", "year"])["pupils"]
    assert d[("A", "ASD", "primary", 2026)] == pytest.approx(40 * 0.4 * 1.1 * 1.2**2)  # 25.344
    assert d[("A", "SEMH", "secondary", 2026)] == pytest.approx(10 * 0.4 * 0.9 * 1.1**2)
    assert d[("B", "ASD", "primary", 2027)] == pytest.approx(
        40 * 0.6 * 1.2 * 1.2**3 + 150 * 0.3 * 0.01 * 40 / 60)                          # 50.0664
    assert d[("B", "MLD", "primary", 2026)] == pytest.approx(
        20 * 0.6 * 1.1 * 1.1**2 + 100 * 0.3 * 0.01 * 20 / 60)                          # 16.072
    assert d[("B", "MLD", "secondary", 2027)] == pytest.approx(
        30 * 0.6 * 0.8 + 150 * 0.2 * 0.02 * 30 / 70, abs=1e-4)                          # 14.6571
    assert not ((d.index.get_level_values("area_id") == "A")
                & (d.index.get_level_values("need") == "SLD")).any()   # zero rows left out


def test_trend_growth_from_the_sen2_time_series(tmp_path):
    spec = copy_fixtures(tmp_path)
    edit(spec, "default = 0.1\nneeds = { ASD = 0.2 }\n",
         'default = "trend"\ntrend_from = "201819"\n')
    result = build(spec, tmp_path)
    rates = result.demand.growth.set_index(["need", "phase"])["rate"]
    assert rates[("ASD", "primary")] == pytest.approx(2 ** (1 / 6) - 1)   # 65 → 130 in 6 years
    assert rates[("MLD", "secondary")] == 0.0                            # the cell still wins
    assert "65 pupils in 201819 → 130 in 202425" in result.demand.trend


def test_files_hold_the_projection(built, tmp_path):
    folder = tmp_path / "out" / "inputs" / "testshire"
    demand = pd.read_csv(folder / "demand.csv")
    assert list(demand.columns) == ["area_id", "need", "phase", "year", "pupils"]
    assert demand["pupils"].sum() == pytest.approx(built.demand.demand["pupils"].sum())
    base = pd.read_csv(folder / "base_demand.csv")
    assert base["pupils"].sum() == pytest.approx(130)


def test_a_bad_population_cell_names_file_row_and_column(tmp_path):
    spec = copy_fixtures(tmp_path)
    edit(spec.parent / "snpp.csv", "persons,12,100.000,90.000,80.000",
         "persons,12,100.000,ninety,80.000")
    with pytest.raises(InputError, match=r"snpp.csv, row 14, column '2026': 'ninety' is not "
                                         "a number"):
        build(spec, tmp_path)


def test_a_caseload_without_the_base_period_is_refused(tmp_path):
    spec = copy_fixtures(tmp_path)
    edit(spec, 'base_period = "202425"\nbase_year = 2024',
         'base_period = "202324"\nbase_year = 2023')
    with pytest.raises(InputError, match="caseload.csv.*no 'All EHC plans' row for period 202324"):
        build(spec, tmp_path)


@pytest.mark.parametrize(("label", "age", "phase"), [
    ("age 7", 7, "primary"), ("under 3", 2, "primary"), ("age 11", 11, "secondary"),
    ("age 16", 16, "post16"), ("age 25", 25, "post16"), ("Total", None, None),
])
def test_sen2_age_labels(label, age, phase):
    assert age_of(label) == age
    if age is not None:
        assert phase_of_age(age, SEN2_AGES) == phase
