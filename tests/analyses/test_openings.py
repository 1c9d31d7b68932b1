"""The value of each opening: the MIP re-solved without it, against hand-solved instances."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import NoSecondCore, TinyRun, option, run_toml

import sufficiency
from sufficiency.analyses.openings import INFEASIBLE_WITHOUT, _value, opening_values
from sufficiency.errors import AuditError
from sufficiency.pipeline import run_plan
from sufficiency.report.cabinet import render_report
from sufficiency.report.money import INFEASIBLE_WITHOUT as INFEASIBLE_WORDS
from sufficiency.report.money import NO_EXTRA_CAPITAL


def write_two_options(tiny: TinyRun):
    """20 ASD primary pupils in AY 2026/27 (one year, no discounting, no transport cost).

    Independent £50k a pupil; local places £20k, so each local place saves £30k before
    capital. A1: one 10-place module for £100k; B1: up to two 10-place modules, £150k each.

    - the plan: A1 + one B1 module: 20 × £20k + £100k + £150k = £650k
    - without A1, the best plan is two B1 modules: 20 × £20k + £300k = £700k: A1 is worth
      £50k (the plan minus A1 with placements re-solved, £850k, would say £200k)
    - without B1: A1 + 10 independent: 10 × £20k + £100k + 10 × £50k = £800k: worth £150k
    """
    return tiny.write(demand=["A,ASD,primary,2026,20"], provision=[
        option("A1", "S1", module=10, max_modules=1, capital=100_000),
        option("B1", "S1", module=10, max_modules=2, capital=150_000)])


def test_value_of_each_opening_equals_the_hand_re_solve(tiny):
    run = run_plan(write_two_options(tiny))
    assert run.optimal.total_cost == pytest.approx(650_000)
    values = opening_values(run)
    table = values.table.set_index("option_id")
    assert table.at["A1", "cost_without"] == pytest.approx(700_000)
    assert table.at["A1", "value"] == pytest.approx(50_000)
    assert table.at["B1", "cost_without"] == pytest.approx(800_000)
    assert table.at["B1", "value"] == pytest.approx(150_000)
    assert (table["status"] == "optimal").all()
    assert (table["value"] >= 0).all()
    assert (table["value_low"] <= table["value"]).all()
    assert (table["value"] <= table["value_high"]).all()
    assert table.at["A1", "value_high"] == pytest.approx(50_000, abs=1.0)  # gap 1e-9
    by_year = values.by_year.set_index("option_id")
    # without B1: revenue 10 × £20k + 10 × £50k = £700k against £400k; capital £100k vs £250k
    assert by_year.at["B1", "revenue_saving"] == pytest.approx(300_000)
    assert by_year.at["B1", "capital_cash_extra"] == pytest.approx(150_000)
    # without A1: the same revenue, and £50k less capital: nothing to pay back
    assert by_year.at["A1", "revenue_saving"] == pytest.approx(0, abs=0.01)
    assert by_year.at["A1", "capital_cash_extra"] == pytest.approx(-50_000)


def test_report_shows_the_values_and_paybacks(tiny):
    """`plan --why` (as `report`): opening_values.csv, the values in the report."""
    _, paths = sufficiency.plan(write_two_options(tiny), output_root=tiny.root / "project",
                                why=True)
    written = pd.read_csv(paths.folder / "opening_values.csv").set_index("option_id")
    assert written.at["A1", "value"] == pytest.approx(50_000)
    assert written.at["B1", "payback_year"] == 2026
    assert written.at["A1", "payback"] == NO_EXTRA_CAPITAL
    summary = json.loads((paths.folder / "summary.json").read_text())
    assert summary["opening_values"]["status"] == "computed"
    page = (paths.folder / "report.html").read_text(encoding="utf-8")
    assert "£150,000" in page and "£50,000" in page
    assert "run `sufficiency report`" not in page


def test_value_is_never_negative_beyond_the_gap():
    """A re-solve cheaper than the plan within the plan's gap is 0; beyond it, an error."""
    assert _value("X", 1_000.0, 900.0, 0.0) == 100.0
    assert _value("X", 990.0, 1_000.0, 20.0) == 0.0
    with pytest.raises(AuditError, match="less than the optimal plan"):
        _value("X", 900.0, 1_000.0, 20.0)


def test_infeasible_without_the_opening(tiny):
    """Independent placement off: 15 pupils, 5 existing places, NEW adds 10 (£100k).

    The plan must open NEW; without it no plan places every pupil, so its value is empty
    and the report says why (do nothing is infeasible too).
    """
    toml = run_toml().replace("transport_cost_per_pupil = 0",
                              "transport_cost_per_pupil = 0\navailable = false")
    run = run_plan(tiny.write(toml=toml, demand=["A,ASD,primary,2026,15"], provision=[
        option("SP", "S1", existing=5),
        option("NEW", "S1", module=10, max_modules=1, capital=100_000)]))
    values = opening_values(run)
    row = values.table.set_index("option_id").loc["NEW"]
    assert row["status"] == INFEASIBLE_WITHOUT
    assert np.isnan(row["value"])
    assert values.by_year.empty
    import dataclasses

    page = render_report(dataclasses.replace(run, openings=values))
    assert INFEASIBLE_WORDS in page


def test_the_second_core_gives_the_same_values_in_the_same_order(tiny, monkeypatch):
    """A1 (1st) is re-solved here, B1 (2nd) in the forked child: the table equals the serial
    one, row for row, apart from the seconds each re-solve took."""
    from sufficiency.analyses import openings

    run = run_plan(write_two_options(tiny))
    forked = opening_values(run)

    monkeypatch.setattr(openings, "Forked", NoSecondCore)
    serial = opening_values(run)
    assert list(forked.table["option_id"]) == ["A1", "B1"]
    pd.testing.assert_frame_equal(forked.table.drop(columns="resolve_seconds"),
                                  serial.table.drop(columns="resolve_seconds"))
    pd.testing.assert_frame_equal(forked.by_year, serial.by_year)
