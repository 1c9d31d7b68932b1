"""The report, workbook, summary and CLI under [appraisal] / [capital], and the horizon warning."""

from __future__ import annotations

import pytest
from conftest import option, run_toml
from typer.testing import CliRunner

from sufficiency.cli import app
from sufficiency.pipeline import run_plan
from sufficiency.report.cabinet import render_report
from sufficiency.report.excel import _summary_rows
from sufficiency.report.figures import cabinet_figures, capital_by_year
from sufficiency.report.summary import HORIZON, build_summary, horizon_warning

RISING = ["A,ASD,primary,2026,5", "A,ASD,primary,2027,5", "A,ASD,primary,2028,15"]


def rising_run(tiny, extra: str = "", demand=None, budget=None):
    """Three years; 10 existing places, nothing can be built: 2028 (the last third, one
    year) spends no capital, and independent pupils rise from 0 (2026) to 5 (2028)."""
    return tiny.write(toml=run_toml(years=3, budget=budget, extra=extra),
                      demand=demand or RISING, provision=[option("SP", "S1", existing=10)])


def test_horizon_warning_in_summary_report_and_cli(tiny):
    toml = rising_run(tiny)
    run = run_plan(toml)
    warning = horizon_warning(run)
    assert warning is not None and warning.startswith(HORIZON)
    assert "spends no capital" in warning and "5 pupils are placed independently in AY " \
        "2028/29 against 0 in AY 2026/27" in warning
    assert warning in build_summary(run)["warnings"]
    assert HORIZON in render_report(run)
    result = CliRunner().invoke(app, ["plan", str(toml), "--output-root",
                                      str(tiny.root / "out")])
    assert result.exit_code == 0, result.output
    assert f"warning: {HORIZON}" in result.output


@pytest.mark.parametrize(("budget", "warned"), [(1_000_000, True), (0, False)])
def test_budget_headroom_counts_as_unused(tiny, budget, warned):
    """A budget in FY 2028: £1m unspent is headroom (warned); a budget of £0 has none, so
    the budget, not the horizon, shapes the late plan (no warning)."""
    run = run_plan(rising_run(tiny, budget={2028: budget}))
    assert (horizon_warning(run) is not None) is warned


@pytest.mark.parametrize("case", ["appraisal stated", "independent not rising"])
def test_no_horizon_warning(tiny, case):
    if case == "appraisal stated":  # method = "none" is a choice: v1, warning silenced
        toml = rising_run(tiny, extra='\n[appraisal]\nmethod = "none"\n')
    else:
        toml = rising_run(tiny, demand=["A,ASD,primary,2026,15", "A,ASD,primary,2028,15"])
    run = run_plan(toml)
    assert horizon_warning(run) is None
    assert HORIZON not in render_report(run)


def profile_run(tiny, extra: str = ""):
    """Five years, r = 0; NEW (new_special, lead 2, £200k spent [0.5, 0.5]); budget FY 2027
    £80k: NEW opens 2030, spending £100k in FY 2028 and £100k in FY 2029
    (tests/formulation/test_appraisal.py)."""
    return run_plan(tiny.write(
        toml=run_toml(years=5, budget={2026: 200_000, 2027: 80_000, 2028: 200_000},
                      extra="\n[capital]\nspend_profile.new_special = [0.5, 0.5]\n" + extra),
        demand=[f"A,ASD,primary,{y},10" for y in range(2026, 2031)],
        provision=[option("NEW", "S1", kind="new_special", module=10, max_modules=1,
                          capital=200_000, lead=2)]))


def test_report_and_workbook_show_capital_by_fy_as_spent(tiny):
    run = profile_run(tiny)
    table = capital_by_year(run).set_index("capital_year")
    assert table["capital"].to_dict() == {2026: 0, 2027: 0, 2028: 100_000, 2029: 100_000,
                                          2030: 0}
    assert table.loc[2028, "headroom"] == 100_000
    rows = {item: value for item, value, _, _ in _summary_rows(run, cabinet_figures(run))}
    assert rows["capital spent, FY 2028-29"] == 100_000
    assert rows["capital spent, FY 2029-30"] == 100_000
    summary = build_summary(run)
    assert summary["plan"]["capital_cash_total"] == 200_000
    assert summary["capital_rules"]["spend_profile"] == {"new_special": [0.5, 0.5]}
    assert 'id="appraisal-note"' not in render_report(run)


def test_annuity_is_explained_in_the_report_and_summary(tiny):
    run = profile_run(tiny, '\n[appraisal]\nmethod = "annuity"\n')
    assert 'id="appraisal-note"' in render_report(run)
    summary = build_summary(run)
    assert summary["plan"]["residual_value_total"] == pytest.approx(
        float(run.optimal.plan["residual_value"].sum()))
    assert summary["capital_rules"]["asset_life_years"]["new_special"] == 60


def test_v1_summary_has_no_capital_rules(tiny):
    run = run_plan(rising_run(tiny, extra='\n[appraisal]\nmethod = "none"\n'))
    summary = build_summary(run)
    assert "capital_rules" not in summary
    assert "capital_cash_total" not in summary["plan"]
    assert "residual_value_total" not in summary["plan"]
