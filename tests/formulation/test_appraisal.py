"""Capital over the asset's life ([appraisal]) and as really spent ([capital]), by hand.

Every run here passes the pipeline's audit, which now also checks the cash and economic
views of capital against each other (see tests/test_audit.py for the identities failing).
"""

from __future__ import annotations

import pytest
from conftest import option, run_toml

from sufficiency.outcome import CAPITAL_CASH, COST_COLUMNS, PLAN_COLUMNS, RESIDUAL
from sufficiency.pipeline import run_plan

ANNUITY = '\n[appraisal]\nmethod = "annuity"\n'
NONE = '\n[appraisal]\nmethod = "none"\n'
LEVERS = {"matrix": "", "pyomo-expressions": "\n[formulation]\nmatrix_constraints = false\n"}


def last_year_run(tiny, extra: str):
    """Two years, r = 0; 10 pupils in 2027 only; RP (resourced, life 20) may open in 2027."""
    return run_plan(tiny.write(
        toml=run_toml(years=2, extra=extra), demand=["A,ASD,primary,2027,10"],
        provision=[option("RP", "S1", kind="resourced", module=10, max_modules=1,
                          capital=600_000, earliest=2027)]))


def test_a_last_year_opening_is_chosen_only_under_annuity(tiny):
    """Opening RP in the last year, 2027 (lead 0, so capital year 2027 too), r = 0.

    v1: capital counts in full: 600k + 10 × 20k = 800k > 10 × 50k = 500k independent:
    nothing opens, cost £500k.
    Annuity, L = 20: n = min(20, 2027 − 2027 + 1) = 1 year of service in the horizon, so
    600k · 1 / 20 = 30k is charged: 30k + 200k = £230k < 500k: RP opens. Its residual
    value is 600k − 30k = £570k; costs_by_year charges A = 600k / ä_20 = 600k / 20 = 30k
    in 2027, and capital_cash shows the £600k spent in 2027.
    """
    v1 = last_year_run(tiny, "")
    assert v1.optimal.plan.empty
    assert v1.optimal.total_cost == pytest.approx(500_000)
    annuity = last_year_run(tiny, ANNUITY)
    assert annuity.optimal.total_cost == pytest.approx(230_000)
    plan = annuity.optimal.plan
    assert plan[["option_id", "opening_year", "capital_year"]].values.tolist() == [
        ["RP", 2027, 2027]]
    assert plan[RESIDUAL].tolist() == [570_000.0]
    costs = annuity.optimal.costs_by_year.set_index("year")
    assert costs["capital"].to_dict() == {2026: 0.0, 2027: 30_000.0}
    assert costs[CAPITAL_CASH].to_dict() == {2026: 0.0, 2027: 600_000.0}


def test_without_the_tables_the_outputs_keep_the_contract_columns(tiny):
    """No [appraisal] / [capital], or both written with their v1 values: the same columns
    and numbers (method "none", a profile of [1.0], inflation 0)."""
    plain = last_year_run(tiny, "")
    explicit = last_year_run(tiny, NONE + "\n[capital]\nspend_profile.resourced = [1.0]\n"
                                          "construction_inflation = 0.0\n")
    for run in (plain, explicit):
        assert list(run.optimal.plan.columns) == PLAN_COLUMNS
        assert list(run.optimal.costs_by_year.columns[:len(COST_COLUMNS)]) == COST_COLUMNS
        assert CAPITAL_CASH not in run.optimal.costs_by_year.columns
    assert plain.optimal.costs_by_year.equals(explicit.optimal.costs_by_year)


def penny_run(tiny, extra: str = ANNUITY):
    """Five years 2026-30, r = 0.035; 10 pupils a year; RP: one resourced module of 10
    places, £1,000,000, lead 1, earliest 2028 (so y = 2028, c = 2027, T = 2030)."""
    return run_plan(tiny.write(
        toml=run_toml(years=5, rate=0.035, extra=extra),
        demand=[f"A,ASD,primary,{y},10" for y in range(2026, 2031)],
        provision=[option("RP", "S1", kind="resourced", module=10, max_modules=1,
                          capital=1_000_000, lead=1, earliest=2028)]))


def test_residual_and_annuity_on_one_module_to_the_penny(tiny):
    """r = 0.035, L = 20 (resourced), y = 2028, c = 2027, K = £1,000,000, T = 2030.

    n = min(20, 2030 − 2028 + 1) = 3; δ_c = 1.035^−1 = 0.966183574879.
    Charged: δ_c · K · (1 − 1.035^−3) / (1 − 1.035^−20) = £190,460.09.
    Residual: δ_c · K − that = 966,183.57 − 190,460.09 = £775,723.48.
    ä_20 = Σ_{j<20} 1.035^−j = 14.7098374175; A = K · 1.035^(2028−2027) / ä_20
    = £70,361.08 a year in 2028, 2029, 2030 (3 years of its 20 in the horizon);
    Σ δ_t A = 70,361.08 · (1.035^−2 + 1.035^−3 + 1.035^−4) = £190,460.09, the charge.
    Whole objective: independent 2026-27 500k · (1 + 1.035^−1) = £983,091.79; local
    2028-30 200k · (1.035^−2 + 1.035^−3 + 1.035^−4) = £541,379.13; + 190,460.09
    = £1,714,931.01.
    """
    run = penny_run(tiny)
    plan = run.optimal.plan
    assert plan[["opening_year", "capital_year", "capital_cost"]].values.tolist() == [
        [2028, 2027, 1_000_000]]
    assert plan[RESIDUAL].tolist() == [775_723.48]
    costs = run.optimal.costs_by_year.set_index("year")
    assert costs["capital"].to_dict() == {2026: 0.0, 2027: 0.0, 2028: 70_361.08,
                                          2029: 70_361.08, 2030: 70_361.08}
    assert costs[CAPITAL_CASH].to_dict() == {2026: 0.0, 2027: 1_000_000.0, 2028: 0.0,
                                             2029: 0.0, 2030: 0.0}
    delta = {y: 1.035 ** -(y - 2026) for y in costs.index}
    charged = sum(costs.loc[y, "capital"] * delta[y] for y in costs.index)
    assert charged == pytest.approx(190_460.09, abs=0.015)  # 3 charges rounded to 1p
    assert run.optimal.total_cost == pytest.approx(1_714_931.01, abs=0.02)
    assert run.optimal.report.objective == pytest.approx(1_714_931.01, abs=0.02)


def test_audit_identities_hold(tiny):
    """Σ δ_t · capital_cash − Σ residual = Σ δ_t · capital (no inflation), and the
    economic view adds up to the solver's objective: 966,183.57 − 775,723.48 = 190,460.09.
    """
    run = penny_run(tiny)
    costs = run.optimal.costs_by_year.set_index("year")
    delta = costs.index.map(lambda y: 1.035 ** -(y - 2026))
    cash_pv = float((costs[CAPITAL_CASH] * delta).sum())
    economic = float((costs["capital"] * delta).sum())
    assert cash_pv == pytest.approx(966_183.57, abs=0.01)
    assert cash_pv - run.optimal.plan[RESIDUAL].sum() == pytest.approx(economic, abs=0.02)
    assert costs["discounted_total"].sum() == pytest.approx(run.optimal.report.objective,
                                                            abs=0.05)


def test_v1_counts_the_whole_capital(tiny):
    """The same run without [appraisal]: capital δ_c · K = £966,183.57 in the objective
    (opening still pays: 983,091.79 + 541,379.13 + 966,183.57 = £2,490,654.49 against
    doing nothing 500k · Σ_{t<5} 1.035^−t = £2,336,539.60 — so it does not open:
    the horizon cuts the school's value; do nothing is the plan)."""
    run = penny_run(tiny, "")
    assert run.optimal.plan.empty
    assert run.optimal.total_cost == pytest.approx(2_336_539.60, abs=0.01)


def budget_run(tiny, extra: str, lever: str = ""):
    """Five years 2026-30, r = 0; 10 pupils a year; NEW (new_special, lead 2): one module
    of 10 places, £200k; places £20k, independent £50k. Budget 2026 £200k, 2027 £80k,
    2028 £200k (2029, 2030 unlimited)."""
    return run_plan(tiny.write(
        toml=run_toml(years=5, budget={2026: 200_000, 2027: 80_000, 2028: 200_000},
                      extra=extra + lever),
        demand=[f"A,ASD,primary,{y},10" for y in range(2026, 2031)],
        provision=[option("NEW", "S1", kind="new_special", module=10, max_modules=1,
                          capital=200_000, lead=2)]))


@pytest.mark.parametrize("lever", sorted(LEVERS))
def test_a_spend_profile_makes_a_budget_bind_and_the_plan_shifts(tiny, lever):
    """v1: all capital in c = y − 2. Opening 2028 spends £200k in FY 2026 (= its budget):
    2 × 500k independent + 3 × 200k local + 200k = £1,800k (2029: £2,100k; nothing:
    £2,500k).
    Profile [0.5, 0.5]: £100k in c and £100k in c + 1. Opening 2028 or 2029 needs £100k
    in FY 2027 > £80k: the budget binds. Opening 2030 spends £100k in FY 2028 and £100k in
    FY 2029: 4 × 500k + 200k + 200k = £2,400k. The capital column shows each tranche in
    its own year.
    """
    v1 = budget_run(tiny, "", LEVERS[lever])
    assert v1.optimal.total_cost == pytest.approx(1_800_000)
    assert v1.optimal.plan["opening_year"].tolist() == [2028]
    shifted = budget_run(tiny, "\n[capital]\nspend_profile.new_special = [0.5, 0.5]\n",
                         LEVERS[lever])
    assert shifted.optimal.total_cost == pytest.approx(2_400_000)
    assert shifted.optimal.plan[["opening_year", "capital_year"]].values.tolist() == [
        [2030, 2028]]
    costs = shifted.optimal.costs_by_year.set_index("year")
    assert costs["capital"].to_dict() == {2026: 0, 2027: 0, 2028: 100_000, 2029: 100_000,
                                          2030: 0}
    assert costs[CAPITAL_CASH].to_dict() == costs["capital"].to_dict()
    budget = shifted.shadow.budget.set_index("capital_year")
    assert budget["spent"].to_dict() == {2026: 0, 2027: 0, 2028: 100_000}


def test_construction_inflation_limits_cash_only(tiny):
    """Inflation 25 %: the 2030 opening's tranches cost 100k · 1.25² = £156,250 in FY 2028
    (≤ £200k) and 100k · 1.25³ = £195,312.50 in FY 2029 (no budget): same plan and same
    objective, £2,400k, in real start-year prices; capital_cash shows the cash."""
    run = budget_run(tiny, "\n[capital]\nspend_profile.new_special = [0.5, 0.5]\n"
                           "construction_inflation = 0.25\n")
    assert run.optimal.total_cost == pytest.approx(2_400_000)
    costs = run.optimal.costs_by_year.set_index("year")
    assert costs[CAPITAL_CASH].to_dict() == {2026: 0, 2027: 0, 2028: 156_250, 2029: 195_312.5,
                                             2030: 0}
    assert costs["capital"].sum() == pytest.approx(200_000)


def test_inflation_makes_the_budget_bind(tiny):
    """Inflation 50 %: opening 2030's first tranche costs 100k · 1.5² = £225k > £200k in FY
    2028, so nothing can open (2028, 2029 are blocked by FY 2027 as above): £2,500k."""
    run = budget_run(tiny, "\n[capital]\nspend_profile.new_special = [0.5, 0.5]\n"
                           "construction_inflation = 0.5\n")
    assert run.optimal.plan.empty
    assert run.optimal.total_cost == pytest.approx(2_500_000)
