"""Growth by need × phase with its sources, and the low / high scenarios build-dataset writes.

Testshire's tables (tests/ingest/fixtures): EHC plans by age in January 2022
(ages2022.csv: primary 10 + 90 = 100, secondary 50, post16 0) and January 2025 (the
caseload's age rows: primary 60 + 70 = 130, secondary 80 + 90 = 170), so over 3 years all
plans went 150 → 300 and

    f_phase(primary) = (130/100 / 2)^(1/3) = 0.65^(1/3),  f_phase(secondary) = 1.7^(1/3)

(post16 has no plans in either table: factor 1). New plans in 2024 (newplans.csv: ASD 40,
MLD 10, SEMH 30) against the plans of January 2025 (needs.csv: ASD 200, MLD 100, SEMH 100,
SLCN 99; 499 in all), so f_need(ASD) = 1.2 / (1 + 80/499), SLCN 1 / (1 + 80/499), and HI
(no plans) 1.
"""

from __future__ import annotations

import tomllib

import pandas as pd
import pytest
from buildkit import build, copy_fixtures, edit
from typer.testing import CliRunner

from sufficiency.cli import app
from sufficiency.preprocess.config import load_run_config
from sufficiency.preprocess.dataset import load_dataset
from sufficiency.preprocess.scenarios import load_scenarios

GROWTH_KEYS = ('phase_ages = "ages2022.csv"\nphase_ages_period = "2022"\n'
               'new_plans = "newplans.csv"\nnew_plans_period = "2024"\n')
ALL_INFLOW = 80 / 499


def with_growth_tables(tmp_path, scenarios: str = ""):
    """The Testshire spec with the age and new-plan tables (and optional scenarios)."""
    spec = copy_fixtures(tmp_path)
    edit(spec, "[demand.growth]\n", "[demand.growth]\n" + GROWTH_KEYS)
    if scenarios:
        edit(spec, "[demand.housing]\n", scenarios + "\n[demand.housing]\n")
    return spec


def test_rates_by_need_and_phase_with_their_sources(tmp_path):
    result = build(with_growth_tables(tmp_path), tmp_path)
    growth = result.demand.growth.set_index(["need", "phase"])
    assert growth.loc[("SEMH", "primary"), "phase_factor"] == pytest.approx(0.65 ** (1 / 3))
    assert growth.loc[("SEMH", "secondary"), "phase_factor"] == pytest.approx(1.7 ** (1 / 3))
    assert growth.loc[("SEMH", "post16"), "phase_factor"] == 1.0
    assert growth.loc[("SEMH", "primary"), "need_factor"] == pytest.approx(1.3 / (1 + ALL_INFLOW))
    assert growth.loc[("SLCN", "primary"), "need_factor"] == pytest.approx(1 / (1 + ALL_INFLOW))
    assert growth.loc[("HI", "primary"), "need_factor"] == 1.0          # too few plans
    # set outright by the spec: needs.ASD = 0.2, cells.MLD.secondary = 0
    assert growth.loc[("ASD", "secondary"), "rate"] == 0.2
    assert growth.loc[("ASD", "secondary"), "source"] == "spec: demand.growth.needs.ASD"
    assert growth.loc[("MLD", "secondary"), "source"] == "spec: demand.growth.cells.MLD.secondary"
    derived = growth.loc[("SEMH", "secondary")]
    assert derived["rate"] == pytest.approx(
        1.1 * derived["phase_factor"] * derived["need_factor"] / derived["mix_scale"] - 1)
    assert derived["source"].startswith("spec: demand.growth.default × phase factor")
    # the mix scale keeps the base year's pupils of the derived cells growing at 10 % a year
    base = result.demand.base.set_index(["need", "phase"])["pupils"]
    free = growth[~growth["source"].str.startswith("spec: demand.growth.")
                  | growth["source"].str.contains("default")].index
    weights = base.reindex(free, fill_value=0.0)
    assert (weights * (1 + growth.loc[free, "rate"])).sum() == pytest.approx(
        1.1 * weights.sum())
    written = pd.read_csv(tmp_path / "out" / "inputs" / "testshire" / "growth.csv")
    assert list(written.columns) == ["need", "phase", "rate", "base_rate", "phase_factor",
                                     "need_factor", "mix_scale", "source"]
    assert len(written) == 36 and written["source"].str.len().min() > 0
    readme = (tmp_path / "out" / "inputs" / "testshire" / "README.md").read_text()
    assert "new plans in 2024 (`newplans.csv`)" in readme
    assert "EHC plans by age, 2022 (`ages2022.csv`)" in readme


def test_without_the_tables_the_rates_are_as_before(tmp_path):
    """An old spec (no age or new-plan table): every rate is the default or the spec's."""
    result = build(copy_fixtures(tmp_path), tmp_path)
    growth = result.demand.growth.set_index(["need", "phase"])
    assert growth.loc[("SEMH", "primary"), "rate"] == 0.1
    assert set(growth["phase_factor"]) == {1.0} and set(growth["need_factor"]) == {1.0}


def test_a_missing_period_is_named(tmp_path):
    spec = with_growth_tables(tmp_path)
    edit(spec, 'phase_ages_period = "2022"', 'phase_ages_period = "2019"')
    result = CliRunner().invoke(app, ["build-dataset", str(spec)])
    assert result.exit_code == 2
    assert "ages2022.csv" in result.output and "no rows for period 2019" in result.output


SCENARIOS = ("[demand.scenarios]\nlow = -0.05\nhigh = 0.03\n"
             "weights = { low = 0.25, central = 0.5, high = 0.25 }\n"
             'run_toml = "../out/models/testshire_scenarios.toml"\n')


def test_low_and_high_scenarios_are_written_and_load(tmp_path):
    """demand_low / demand_high: every rate −5 / +3 points; the scenarios run loads as is."""
    spec = with_growth_tables(tmp_path, SCENARIOS)
    result = build(spec, tmp_path)
    folder = tmp_path / "out" / "inputs" / "testshire"
    central = pd.read_csv(folder / "demand.csv").set_index(["area_id", "need", "phase", "year"])
    low = pd.read_csv(folder / "demand_low.csv").set_index(["area_id", "need", "phase", "year"])
    high = pd.read_csv(folder / "demand_high.csv").set_index(["area_id", "need", "phase",
                                                             "year"])
    assert low["pupils"].sum() < central["pupils"].sum() < high["pupils"].sum()
    key = ("A", "ASD", "primary", 2027)   # no housing in A: pupils ∝ (1 + r)^(2027 − 2024)
    assert low.loc[key, "pupils"] / central.loc[key, "pupils"] == pytest.approx(
        (1.15 / 1.2) ** 3, rel=1e-3)
    assert high.loc[key, "pupils"] / central.loc[key, "pupils"] == pytest.approx(
        (1.23 / 1.2) ** 3, rel=1e-3)
    run = tmp_path / "out" / "models" / "testshire_scenarios.toml"
    data = tomllib.loads(run.read_text())
    assert data["name"] == "testshire-scenarios"
    assert data["scenarios"]["low"] == {"weight": 0.25, "demand_file": "demand_low.csv"}
    assert data["scenarios"]["central"] == {"weight": 0.5}
    scenarios = {s.name: s for s in load_scenarios(load_dataset(load_run_config(run)))}
    assert sorted(scenarios) == ["central", "high", "low"]
    assert scenarios["low"].dataset.demand["pupils"].sum() == pytest.approx(low["pupils"].sum())
    assert "demand_low.csv" in result.files.files
    valid = CliRunner().invoke(app, ["validate", str(run)])
    assert valid.exit_code == 0, valid.output
