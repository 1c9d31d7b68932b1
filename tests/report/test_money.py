"""Money as a council budgets it: AY → FY split, budget lines, payback, the deficit path."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import TinyRun, option, run_toml

import sufficiency
from sufficiency.pipeline import run_plan
from sufficiency.report.money import (
    BEYOND,
    CAPITAL,
    HIGH_NEEDS,
    LINES,
    NO_CAPITAL,
    NOT_COMPUTED,
    TRANSPORT,
    ay_to_fy,
    costs_by_fy,
    deficit_path,
    money_by_ay,
    money_by_fy,
    payback_year,
    programme_payback,
)

YEARS = list(range(2026, 2032))

FINANCE = """
[finance]
deficit_brought_forward = 5_000
[finance.high_needs_allocation]
2026 = 40_000
2027 = 40_000
2028 = 40_000
[finance.other_high_needs_spend]
2027 = 10_000
"""


def write_payback_run(tiny: TinyRun, extra: str = "") -> object:
    """The brief's payback case, solved by hand: 1 ASD primary pupil a year, AY 2026..2031.

    Independent £50k a pupil-year; a 1-place module at S1 costs £100k capital, places £20k,
    opens from AY 2027 (earliest 2027) with a one-year lead, so its capital is FY 2026-27.
    Opening it saves £30k a year in AY 2027..2031 (5 × £30k = £150k > £100k), so the plan
    opens it in 2027. Plan cost: AY 2026 £50k (independent) + 5 × £20k + £100k = £250k; do
    nothing 6 × £50k = £300k (no discounting): value of the opening £50k.
    """
    return tiny.write(toml=run_toml(years=6, extra=extra), demand=[
        f"A,ASD,primary,{y},1" for y in YEARS], provision=[
        option("NEW", "S1", module=1, max_modules=1, capital=100_000, lead=1,
               earliest=2027, cost=20_000)])


def test_one_academic_year_splits_seven_twelfths_and_five_twelfths():
    """£12k of AY 2026/27 revenue: £7k in FY 2026-27 (Sept–March), £5k in FY 2027-28.

    Capital is already by FY: £100k of FY 2026 stays in FY 2026. Totals are kept.
    """
    by_ay = pd.DataFrame({HIGH_NEEDS: [12_000.0], CAPITAL: [100_000.0]},
                         index=pd.Index([2026], name="year"))
    by_fy = ay_to_fy(by_ay, (HIGH_NEEDS,), (CAPITAL,))
    assert by_fy.index.tolist() == [2026, 2027]
    assert by_fy[HIGH_NEEDS].tolist() == pytest.approx([7_000.0, 5_000.0])
    assert by_fy[CAPITAL].tolist() == [100_000.0, 0.0]


def test_two_academic_years_overlap_in_the_middle_financial_year():
    """AY 2026 £12k and AY 2027 £24k: FY 2026 7k; FY 2027 5k + 14k = 19k; FY 2028 10k."""
    by_ay = pd.DataFrame({TRANSPORT: [12_000.0, 24_000.0]}, index=[2026, 2027])
    assert ay_to_fy(by_ay, (TRANSPORT,))[TRANSPORT].tolist() == pytest.approx(
        [7_000.0, 19_000.0, 10_000.0])


def test_payback_by_hand():
    """Capital £100k in FY 2026, savings £30k a year from AY 2027.

    Cumulative savings − capital: 2026 −100k, 2027 −70k, 2028 −40k, 2029 −10k, 2030 +20k:
    paid back in AY 2030/31. With the horizon ending in 2029: beyond it. A second £100k in
    FY 2031 undoes it until 2033 (2031 −50k, 2032 −20k, 2033 +10k).
    """
    saving = pd.Series({y: 30_000.0 for y in range(2027, 2034)})
    capital = pd.Series({2026: 100_000.0})
    assert payback_year(saving, capital, list(range(2026, 2034))) == (2030, "AY 2030/31")
    assert payback_year(saving, capital, list(range(2026, 2030))) == (None, BEYOND)
    again = pd.Series({2026: 100_000.0, 2031: 100_000.0})
    assert payback_year(saving, again, list(range(2026, 2034)))[0] == 2033
    assert payback_year(saving, pd.Series(dtype=float), YEARS) == (None, NO_CAPITAL)


def test_payback_never_before_the_capital_is_spent():
    """Capital in FY 2028 only, nothing saved before: payback is AY 2028/29 at the earliest."""
    saving = pd.Series({2028: 50_000.0, 2029: 50_000.0})
    capital = pd.Series({2028: 40_000.0})
    assert payback_year(saving, capital, [2026, 2027, 2028, 2029])[0] == 2028


def test_programme_payback_of_a_solved_run(tiny):
    """The run of :func:`write_payback_run`: payback AY 2030/31 (see the hand case above)."""
    run = run_plan(write_payback_run(tiny))
    assert run.optimal.plan[["option_id", "opening_year", "capital_year"]].values.tolist() == [
        ["NEW", 2027, 2026]]
    payback = programme_payback(run)
    assert payback["payback_year"] == 2030
    assert payback["payback"]["capital_cash"] == 100_000
    assert payback["payback"]["revenue_saving"] == pytest.approx(150_000)


def test_fy_tables_reconcile_to_the_ay_tables(tiny):
    """Σ FY = Σ AY for every budget line, plan and do nothing; lines add up to the costs.

    Revenue by AY: plan 50k, then 20k a year; do nothing 50k a year. FY 2027-28 holds 5/12
    of AY 2026 and 7/12 of AY 2027: plan 5/12 × 50k + 7/12 × 20k = £32,500.
    """
    run = run_plan(write_payback_run(tiny))
    by_ay, by_fy = money_by_ay(run), money_by_fy(run)
    for column in ("plan", "do_nothing", "saving"):
        ay = by_ay.groupby("budget_line")[column].sum()
        fy = by_fy.groupby("budget_line")[column].sum()
        pd.testing.assert_series_equal(ay, fy, atol=0.05)
    costs = run.optimal.costs_by_year
    lines = by_ay[by_ay["budget_line"].isin([HIGH_NEEDS, TRANSPORT])]
    assert lines["plan"].sum() == pytest.approx((costs["total"] - costs["capital"]).sum())
    assert by_ay.loc[by_ay["budget_line"] == CAPITAL, "plan"].sum() == 100_000
    row = by_fy[(by_fy["financial_year"] == 2027) & (by_fy["budget_line"] == HIGH_NEEDS)]
    assert row["plan"].item() == pytest.approx(32_500.0, abs=0.01)
    assert row["do_nothing"].item() == pytest.approx(50_000.0, abs=0.01)
    assert by_fy.groupby("financial_year")["months_modelled"].first().tolist() == [
        7, 12, 12, 12, 12, 12, 5]
    assert set(by_fy["budget_line"]) == {*LINES, "total"}


def test_costs_by_fy_reconcile_component_by_component(tiny):
    """costs_by_fy.csv: each revenue component's FY sum is its AY sum; capital is its cash.

    FY 2027-28 holds 5/12 of AY 2026/27 and 7/12 of AY 2027/28, component by component.
    """
    run = run_plan(write_payback_run(tiny))
    table = costs_by_fy(run)
    assert set(table["case"]) == {"plan", "do_nothing"}
    for case, result in (("plan", run.optimal), ("do_nothing", run.do_nothing)):
        fy = table[table["case"] == case].set_index("financial_year")
        ay = result.costs_by_year.set_index("year")
        for column in ("placement", "commissioned", "transport", "independent", "capital"):
            assert fy[column].sum() == pytest.approx(ay[column].sum(), abs=0.05), column
        expected = 5 / 12 * ay.at[2026, "independent"] + 7 / 12 * ay.at[2027, "independent"]
        assert fy.at[2027, "independent"] == pytest.approx(expected, abs=0.01)
        assert (fy["total"] - fy[["placement", "commissioned", "transport", "independent",
                                  "capital"]].sum(axis=1)).abs().max() < 0.05
    assert table.loc[table["case"] == "plan", "capital"].sum() == pytest.approx(100_000)


def test_deficit_path_by_hand(tiny):
    """[finance]: allocation £40k in FY 2026..2028, other spend £10k in 2027, £5k b/f.

    FY 2026-27 has only 7 modelled months: no deficit figure. FY 2027-28: plan spend £32,500
    + £10k − £40k = £2,500 (cumulative £7,500); doing nothing £50k + £10k − £40k = £20k
    (£25k). FY 2028-29: plan £20k − £40k = −£20k (−£12,500); doing nothing £10k (£35k).
    """
    run = run_plan(write_payback_run(tiny, FINANCE))
    table = deficit_path(run).set_index("financial_year")
    assert np.isnan(table.at[2026, "plan_in_year_deficit"])
    assert table.at[2027, "plan_in_year_deficit"] == pytest.approx(2_500, abs=0.01)
    assert table.at[2027, "plan_cumulative_deficit"] == pytest.approx(7_500, abs=0.01)
    assert table.at[2027, "do_nothing_cumulative_deficit"] == pytest.approx(25_000, abs=0.01)
    assert table.at[2028, "plan_cumulative_deficit"] == pytest.approx(-12_500, abs=0.01)
    assert table.at[2028, "do_nothing_cumulative_deficit"] == pytest.approx(35_000, abs=0.01)


def test_written_run_has_money_files_payback_and_no_opening_estimate(tiny):
    """A plain `plan` writes money_by_fy.csv, the deficit and payback_year; the report asks
    for `sufficiency report` instead of showing a per-opening value it did not compute."""
    run, paths = sufficiency.plan(write_payback_run(tiny, FINANCE),
                                  output_root=tiny.root / "project")
    folder = paths.folder
    by_fy = pd.read_csv(folder / "money_by_fy.csv")
    assert by_fy.columns.tolist() == ["financial_year", "label", "months_modelled",
                                      "budget_line", "plan", "do_nothing", "saving"]
    assert (folder / "money_by_ay.csv").is_file()
    assert (folder / "high_needs_deficit.csv").is_file()
    assert not (folder / "opening_values.csv").exists()
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["payback_year"] == 2030
    assert summary["opening_values"]["status"] == NOT_COMPUTED
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert 'id="money-by-fy"' in page and 'id="deficit"' in page
    assert "AY 2030/31" in page
    assert "run `sufficiency report`" in page
    assert "saving over the horizon" not in page
