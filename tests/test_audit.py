"""The audit fails loudly on a plan that breaks an invariant, or on numerical garbage."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from conftest import option, run_toml

from sufficiency.audit import audit
from sufficiency.errors import AuditError
from sufficiency.pipeline import run_plan


@pytest.fixture
def solved(tiny):
    """15 pupils, 10 existing places: 10 local, 5 independent."""
    run = run_plan(tiny.write(toml=run_toml(), demand=["A,ASD,primary,2026,15"],
                              provision=[option("SP", "S1", existing=10)]))
    return run.dataset, run.optimal


def test_a_correct_plan_passes(solved):
    dataset, result = solved
    audit(dataset, result)


def test_nan_in_a_table_is_numerical_trouble(solved):
    dataset, result = solved
    costs = result.costs_by_year.assign(placement=np.nan)
    with pytest.raises(AuditError, match="numerical trouble: costs_by_year holds NaN") as error:
        audit(dataset, replace(result, costs_by_year=costs))
    assert 'presolve = "off"' in str(error.value)


def test_over_capacity_fails_loudly(solved):
    dataset, result = solved
    placements = result.placements.copy()
    local = placements["option_id"] == "SP"
    placements.loc[local, "pupils"] += 5
    placements.loc[~local, "pupils"] -= 5
    with pytest.raises(AuditError, match="option SP in 2026: 15 pupils in 10"):
        audit(dataset, replace(result, placements=placements))



@pytest.mark.parametrize(("rows", "excess", "passes"), [(40, 1.2e-5, True), (40, 1e-3, False)])
def test_rounded_rows_are_allowed_their_rounding(solved, rows, excess, passes):
    """SP's 10 pupils written as 40 rows rounded to 6 decimals may sum to 10.000012 (York at
    MSOA level: 207 rows, 1.2e-5 over); beyond half a millionth a row it is over capacity."""
    dataset, result = solved
    sp = result.placements[result.placements["option_id"] == "SP"]
    split = sp.loc[sp.index.repeat(rows)].assign(pupils=10 / rows)
    split.iloc[0, split.columns.get_loc("pupils")] += excess
    placements = pd.concat([result.placements[result.placements["option_id"] != "SP"],
                            split], ignore_index=True)
    placements = placements.assign(pupils=placements["pupils"].round(6))
    checked = replace(result, placements=placements)
    if passes:
        audit(dataset, checked)  # demand (15) is off by the same rounding: allowed too
    else:
        with pytest.raises(AuditError, match="option SP in 2026"):
            audit(dataset, checked)

@pytest.fixture
def appraised(tiny):
    """One resourced module (£1m, lead 1, opens 2028) under annuity.

    Five years, r = 0.035, 10 pupils a year: the module opens 2028; its capital (FY 2027)
    is £966,183.57 discounted, £190,460.09 charged, residual £775,723.48
    (tests/formulation/test_appraisal.py works it out).
    """
    run = run_plan(tiny.write(
        toml=run_toml(years=5, rate=0.035, extra='\n[appraisal]\nmethod = "annuity"\n'),
        demand=[f"A,ASD,primary,{y},10" for y in range(2026, 2031)],
        provision=[option("RP", "S1", kind="resourced", module=10, max_modules=1,
                          capital=1_000_000, lead=1, earliest=2028)]))
    return run.dataset, run.optimal


def test_appraised_plan_passes(appraised):
    audit(*appraised)


def test_residual_that_breaks_the_cash_identity_fails(appraised):
    """Σ δ_t · cash − Σ residual must equal the objective's capital: £100 more residual
    breaks it."""
    dataset, result = appraised
    plan = result.plan.assign(residual_value=result.plan["residual_value"] + 100)
    with pytest.raises(AuditError, match="residual value .* ≠ the objective's capital"):
        audit(dataset, replace(result, plan=plan))


def test_capital_charges_off_the_closed_form_fail(appraised):
    """The yearly charges discounted must equal δ_c · K · a (and add up to the objective)."""
    dataset, result = appraised
    costs = result.costs_by_year.copy()
    costs.loc[costs["year"] == 2030, "capital"] += 1_000
    with pytest.raises(AuditError, match="discounted capital charges .* ≠ the closed form"):
        audit(dataset, replace(result, costs_by_year=costs))


def test_cash_in_the_wrong_year_fails(appraised):
    dataset, result = appraised
    costs = result.costs_by_year.copy()
    costs["capital_cash"] = costs["capital_cash"].shift(1, fill_value=0.0)
    with pytest.raises(AuditError, match="capital_cash 0.00 in 2027 ≠ the openings' cash"):
        audit(dataset, replace(result, costs_by_year=costs))


def test_budget_is_checked_in_cash_by_the_spend_profile(tiny):
    """new_special, lead 2, £200k spent [0.5, 0.5]; budget FY 2027 £150k. The optimum
    opens 2028 (£100k in FY 2026 and FY 2027). With the budget cut to £80k after solving,
    the audit sees £100k in FY 2027 over it, though the capital year is FY 2026."""
    run = run_plan(tiny.write(
        toml=run_toml(years=3, budget={2027: 150_000},
                      extra="\n[capital]\nspend_profile.new_special = [0.5, 0.5]\n"),
        demand=[f"A,ASD,primary,{y},10" for y in range(2026, 2029)],
        provision=[option("NEW", "S1", kind="new_special", module=10, max_modules=1,
                          capital=200_000, lead=2)]))
    assert run.optimal.plan[["opening_year", "capital_year"]].values.tolist() == [[2028, 2026]]
    config = replace(run.dataset.config, capital_budget={2027: 80_000})
    with pytest.raises(AuditError, match="capital 100,000 in 2027 exceeds the budget 80,000"):
        audit(replace(run.dataset, config=config), run.optimal)
