"""Independent journeys in the outputs: placements.csv, transport.csv, summary.json, map, report.

The world of tests/conftest.py (area A, demand point (405000, 305000), S1 1 km north), one
year, £1,000 + £100 per km of transport, circuity 1, 30 km/h, primary limit 45 minutes.
4 ASD and 1 MLD primary pupils; no existing place. Providers (independent.csv):

    NEAR  10 km north, 20 min:  fee 60,000 + 1,000 + 1,000 = 62,000 a pupil
    FAR   60 km north, 120 min: fee 40,000 + 1,000 + 6,000 = 47,000 a pupil  ← ASD goes here
    nobody takes MLD: [independent] 50,000 + 0

NEW (S1, 1 km, 2 min) may open one module of 4 places for £10,000 at £20,000 a place:
21,100 a pupil with transport. A place saves 50,000 − 21,100 for MLD, 47,000 − 21,100 for
ASD, so NEW takes the MLD pupil and 3 ASD pupils:

    plan:        4 × 21,100 + 10,000 + 1 × 47,000 = £141,400; 1 pupil over the limit (FAR)
    do nothing:  4 × 47,000 + 50,000 = £238,000; 4 pupils over the limit, 1 without provider
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import option, run_toml
from typer.testing import CliRunner

from sufficiency.cli import app
from sufficiency.outcome import PLACEMENT_COLUMNS
from sufficiency.report import transport

PROVIDERS = ["provider_id,name,needs,phases,cost_per_place,easting,northing",
             "NEAR,Near school,ASD,*,60000,405000,315000",
             "FAR,Far school,ASD,primary,40000,405000,365000"]
FILES = dict(demand=["A,ASD,primary,2026,4", "A,MLD,primary,2026,1"],
             provision=[option("NEW", "S1", module=4, max_modules=1, capital=10_000)],
             toml=run_toml(transport_pupil=1_000, transport_km=100))


def plan(tiny, providers: bool = True, costs: list[str] | None = None):
    toml = tiny.write(**FILES)
    data = tiny.root / "data"
    if providers:
        (data / "independent.csv").write_text("\n".join(PROVIDERS) + "\n")
    if costs is not None:
        (data / "costs.csv").write_text("\n".join(costs) + "\n")
    out = tiny.root / "out"
    result = CliRunner().invoke(app, ["plan", str(toml), "--output-root", str(out)])
    assert result.exit_code == 0, result.output
    return out


def read(out, name: str) -> pd.DataFrame:
    return pd.read_csv(out / "outputs" / "tiny" / name, keep_default_na=False)


def test_outputs_show_independent_journeys_in_plan_and_do_nothing(tiny):
    out = plan(tiny)
    summary = json.loads((out / "outputs" / "tiny" / "summary.json").read_text())
    assert summary["objective"] == pytest.approx(141_400)
    assert summary["baseline_objective"] == pytest.approx(238_000)
    placements = read(out, "placements.csv")
    assert list(placements.columns) == [*PLACEMENT_COLUMNS, "provider_id"]
    independent = placements[placements["option_id"] == "independent"]
    assert independent[["need", "pupils", "provider_id", "km"]].values.tolist() == [
        ["ASD", 1.0, "FAR", 60.0]]
    baseline = read(out, "baseline_placements.csv").set_index("need")
    assert baseline.loc["MLD", "provider_id"] == "" and baseline.loc["MLD", "km"] == ""

    table = read(out, "transport.csv")
    assert list(table.columns) == transport.TRANSPORT_COLUMNS + transport.PROVIDER_INDICATORS
    totals = table[table["level"] == "total"].set_index("scenario")
    assert totals.loc["plan", "pupils_independent_over_limit"] == pytest.approx(1)
    assert totals.loc["do_nothing", "pupils_independent_over_limit"] == pytest.approx(4)
    assert totals.loc["do_nothing", "pupils_independent_no_provider"] == pytest.approx(1)
    assert totals.loc["change", "pupils_independent_over_limit"] == pytest.approx(-3)
    assert totals.loc["plan", "pupils_over_limit"] == pytest.approx(0)
    assert totals.loc["plan", "transport_cost_independent"] == pytest.approx(7_000)
    assert totals.loc["do_nothing", "transport_cost_independent"] == pytest.approx(28_000)
    assert totals.loc["plan", "independent_mean_minutes"] == pytest.approx(120)

    section = summary["transport"]
    assert section["plan"]["horizon"]["pupil_years_independent_over_limit"] == pytest.approx(1)
    assert section["do_nothing"]["horizon"]["pupil_years_independent_over_limit"] == (
        pytest.approx(4))
    assert section["journeys"]["independent_providers"] == {
        "providers": 2, "pairs": {"travel.csv": 0, "straight line": 2}}

    page = (out / "maps" / "tiny.html").read_text()
    assert "Independent providers (independent.csv)" in page
    assert "Independent journeys over the limit" in page
    assert "1.0 pupil-years with the plan, 4.0 doing nothing" in page
    report = (out / "outputs" / "tiny" / "report.html").read_text()
    assert 'id="journeys-by-year"' in report


def test_without_the_files_the_outputs_keep_the_contract_columns(tiny):
    """v1: no provider column, transport.csv's columns exactly, nothing new in map or report.

    Do nothing: 5 × (50,000 + 0) = £250,000; plan: NEW takes 4 (4 × 21,100 + 10,000) + 1
    independent (50,000) = £144,400.
    """
    out = plan(tiny, providers=False)
    assert list(read(out, "placements.csv").columns) == PLACEMENT_COLUMNS
    assert list(read(out, "transport.csv").columns) == transport.TRANSPORT_COLUMNS
    summary = json.loads((out / "outputs" / "tiny" / "summary.json").read_text())
    assert summary["objective"] == pytest.approx(144_400)
    assert "independent_providers" not in summary["transport"]["journeys"]
    assert "independent_mean_minutes" not in summary["transport"]["plan"]["horizon"]
    assert "Independent providers" not in (out / "maps" / "tiny.html").read_text()
    assert "journeys-by-year" not in (out / "outputs" / "tiny" / "report.html").read_text()


def test_costs_csv_alone_keeps_the_columns_and_prices_independent_transport(tiny):
    """costs.csv only: independent ASD £30,000 + £3,000, MLD flat £50,000 + 0.

    NEW's place saves 50,000 − 21,100 for MLD and 33,000 − 21,100 for ASD: it takes MLD and
    3 ASD; plan: 4 × 21,100 + 10,000 + 33,000 = £127,400 with £3,000 of independent
    transport; do nothing: 4 × 33,000 + 50,000 = £182,000 (£12,000 of it transport).
    """
    out = plan(tiny, providers=False, costs=[
        "kind,need,phase,cost_per_place,transport_cost_per_pupil",
        "independent,ASD,*,30000,3000"])
    assert list(read(out, "placements.csv").columns) == PLACEMENT_COLUMNS
    table = read(out, "transport.csv")
    assert list(table.columns) == transport.TRANSPORT_COLUMNS
    totals = table[table["level"] == "total"].set_index("scenario")
    assert totals.loc["plan", "transport_cost_independent"] == pytest.approx(3_000)
    assert totals.loc["do_nothing", "transport_cost_independent"] == pytest.approx(12_000)
    summary = json.loads((out / "outputs" / "tiny" / "summary.json").read_text())
    assert summary["objective"] == pytest.approx(127_400)
    assert summary["baseline_objective"] == pytest.approx(182_000)
