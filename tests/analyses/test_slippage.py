"""Slippage stress test by hand: openings one year late, capital year unchanged.

Demand 10 pupils a year; option NEW: one 10-place module, £100k capital, lead time 1,
earliest 2027; places £20k, independent £50k, no discounting.

Three years 2026-28: planned, NEW opens 2027 (capital FY 2026):
    2026: 10 × 50k = 500k; 2027, 2028: 10 × 20k = 200k each; capital 100k → 1,000k.
  One year late it opens 2028, capital still FY 2026:
    500k + 500k + 200k + 100k = 1,300k: +300k and +10 independent pupil-years.
Two years 2026-27: planned 500k + 200k + 100k = 800k. Late, the opening falls past 2027
  and is dropped, but its capital is spent: 500k + 500k + 100k (sunk) = 1,100k: +300k.
"""

from __future__ import annotations

import pytest
from conftest import option, run_toml
from typer.testing import CliRunner

from sufficiency.analyses.slippage import slippage_of
from sufficiency.cli import app
from sufficiency.errors import InputError
from sufficiency.pipeline import run_plan

NEW = option("NEW", "S1", module=10, max_modules=1, capital=100_000, lead=1, earliest=2027)


def write(tiny, years: int, provision=None):
    return tiny.write(demand=[f"A,ASD,primary,{y},10" for y in range(2026, 2026 + years)],
                      provision=provision or [NEW],
                      toml=run_toml(years=years, budget={2026: 100_000}))


def test_one_year_late_costs_a_year_of_independent_places(tiny):
    result = slippage_of(run_plan(write(tiny, 3)))
    planned, late = result.summary.to_dict("records")
    assert (planned["total_cost"], late["total_cost"]) == pytest.approx((1_000_000, 1_300_000))
    assert late["extra_cost"] == pytest.approx(300_000)
    assert late["extra_independent_pupil_years"] == pytest.approx(10)
    plans = result.plans.set_index("case")
    assert plans.loc["slipped", ["opening_year", "capital_year"]].tolist() == [2028, 2026]
    by_year = result.by_year.set_index("year")
    assert by_year["extra_pupils_independent"].to_dict() == pytest.approx(
        {2026: 0, 2027: 10, 2028: 0})


def test_opening_pushed_past_the_horizon_is_dropped_but_its_capital_is_spent(tiny):
    result = slippage_of(run_plan(write(tiny, 2)))
    late = result.summary.iloc[1]
    assert late["total_cost"] == pytest.approx(1_100_000)
    assert late["sunk_capital"] == pytest.approx(100_000)
    assert late["openings"] == 0
    assert result.plans["case"].tolist() == ["as planned", "dropped (past the horizon)"]
    assert result.by_year["extra_discounted_total"].tolist() == pytest.approx([0, 300_000])


def test_only_the_kinds_asked_for_slip(tiny):
    """20 pupils a year; NEW (new_special, S1) and SAT (satellite, S2) as NEW above.

    Planned: both open 2027: 20 × 50k + 2 × 20 × 20k + 200k capital = 2,000k.
    Only new_special slips: 2027 has 10 local + 10 independent = 700k, so 2,300k (+300k).
    """
    path = tiny.write(sites=["S1,One,A,405000,306000", "S2,Two,A,405000,307000"],
                      demand=[f"A,ASD,primary,{y},20" for y in (2026, 2027, 2028)],
                      provision=[NEW.replace(",special,", ",new_special,"),
                                 option("SAT", "S2", kind="satellite", module=10, max_modules=1,
                                        capital=100_000, lead=1, earliest=2027)],
                      toml=run_toml(years=3, budget={2026: 200_000}))
    result = slippage_of(run_plan(path), ["new_special"])
    late = result.summary.iloc[1]
    assert late["case"] == "slipped (new_special)"
    assert late["total_cost"] == pytest.approx(2_300_000)
    assert late["extra_independent_pupil_years"] == pytest.approx(10)
    slipped = result.plans[result.plans["case"] == late["case"]].set_index("option_id")
    assert slipped["opening_year"].to_dict() == {"NEW": 2028, "SAT": 2027}
    with pytest.raises(InputError, match="--kind"):
        slippage_of(None, ["school"])


def test_cli_writes_tables_once_and_refuses_to_overwrite(tiny, tmp_path):
    path = write(tiny, 3)
    runner = CliRunner()
    first = runner.invoke(app, ["slippage", str(path), "--output-root", str(tmp_path)])
    assert first.exit_code == 0, first.output
    folder = tmp_path / "outputs" / "tiny.slippage"
    assert sorted(p.name for p in folder.iterdir()) == [
        ".sufficiency-dataset", "analysis.json", "plans.csv", "slippage.csv",
        "slippage_by_year.csv"]
    again = runner.invoke(app, ["slippage", str(path), "--output-root", str(tmp_path)])
    assert again.exit_code == 3
    assert "--force" in again.output


def profiled(tiny, extra: str):
    """Three years 2026-28, r = 0, 10 pupils a year; NEW2: new_special, lead 2, one module
    of 10 places, £200k spent [0.5, 0.5] in FY 2026 and FY 2027; opens 2028."""
    new = option("NEW2", "S1", kind="new_special", module=10, max_modules=1,
                 capital=200_000, lead=2)
    return run_plan(tiny.write(
        demand=[f"A,ASD,primary,{y},10" for y in range(2026, 2029)], provision=[new],
        toml=run_toml(years=3, extra="\n[capital]\nspend_profile.new_special = [0.5, 0.5]\n"
                      + extra)))


def test_sunk_capital_follows_the_spend_profile(tiny):
    """Planned: 2 × 500k + 200k local + 200k capital = 1,400k (capital 100k in FY 2026 and
    100k in FY 2027). One year late it would open 2029, past the horizon: dropped, its two
    tranches still spent in FY 2026 and FY 2027: 3 × 500k + 200k = 1,700k, +300k, all of
    it in 2028 (the earlier years spend the same tranches both ways)."""
    result = slippage_of(profiled(tiny, ""))
    late = result.summary.iloc[1]
    assert late["sunk_capital"] == pytest.approx(200_000)
    assert late["extra_cost"] == pytest.approx(300_000)
    assert result.by_year["extra_discounted_total"].tolist() == pytest.approx(
        [0, 0, 300_000])


def test_sunk_capital_is_residual_under_annuity(tiny):
    """Annuity, L = 60, r = 0: as planned the 2028 opening serves n = 1 year in the horizon,
    charged 200k / 60 = £3,333.33. Dropped past the horizon it serves only after it: all its
    capital is residual value, sunk £0. Extra cost: 300k independent − 3,333.33 charge
    = £296,666.67."""
    result = slippage_of(profiled(tiny, '\n[appraisal]\nmethod = "annuity"\n'))
    planned, late = result.summary.to_dict("records")
    assert planned["total_cost"] == pytest.approx(1_203_333.33, abs=0.01)
    assert late["sunk_capital"] == 0
    assert late["extra_cost"] == pytest.approx(296_666.67, abs=0.01)
