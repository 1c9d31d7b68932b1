"""Hand-solved instances, one per rule of the model. Each docstring shows the arithmetic.

Every solve here also passes through the pipeline's audit (demand placed, capacity,
eligibility, journeys, openings, budget, costs = objective) and the optimal ≤ do-nothing
check, so each test asserts the invariants as well as its optimum.
"""

from __future__ import annotations

import pytest
from conftest import option, run_toml

from sufficiency.pipeline import run_plan

LEVERS = {
    "default": "",
    "no-links": '\n[formulation]\nstrong_links = "none"\n',  # default: "area"
    "placement-links": '\n[formulation]\nstrong_links = "placement"\n',
    "no-aggregation": "\n[formulation]\naggregate_needs = false\n",
    "rounding-start": "",  # see SOLVER_LEVERS
    "pyomo-expressions": "\n[formulation]\nmatrix_constraints = false\n",
    "placement-links-pyomo-expressions": '\n[formulation]\nstrong_links = "placement"\n'
                                         "matrix_constraints = false\n",
}

# keys of the [solver] table; tiny models start from do nothing unless rounding_start = true
SOLVER_LEVERS = {"rounding-start": "rounding_start = true\n"}


@pytest.fixture(params=sorted(LEVERS))
def solve(request, tiny):
    """Solve a tiny run with each formulation lever and hand-over path in turn.

    Each must give the same optimum: the levers change how the model is written, not what
    it means, and Pyomo's own HiGHS interface checks the direct matrix hand-over.
    """
    def run(toml=None, **kwargs):
        toml = (toml or run_toml()).replace(
            "[solver]\n", "[solver]\n" + SOLVER_LEVERS.get(request.param, ""))
        return run_plan(tiny.write(toml=toml + LEVERS[request.param], **kwargs))
    return run


def openings(run) -> list[tuple]:
    plan = run.optimal.plan
    return list(plan[["option_id", "modules", "opening_year", "capital_year"]].itertuples(
        index=False, name=None))


def test_capacity_sends_the_rest_independent(solve):
    """10 places at £20k, 15 pupils: 10 × 20k + 5 × 50k (independent) = £450k."""
    run = solve(demand=["A,ASD,primary,2026,15"],
                provision=[option("SP", "S1", existing=10)])
    assert run.optimal.total_cost == pytest.approx(450_000)
    assert run.do_nothing.total_cost == pytest.approx(450_000)
    placed = run.optimal.placements.groupby("option_id")["pupils"].sum()
    assert placed.to_dict() == pytest.approx({"SP": 10, "independent": 5})


def test_lead_time_delays_opening_until_capital_can_be_spent(solve):
    """Lead 2 from 2026: first opening 2028 (capital in 2026).

    2026-27 independent 2 × 10 × 50k = 1,000k; 2028-29 local 2 × 10 × 20k = 400k;
    capital 100k → £1,500k. Do nothing: 4 × 500k = £2,000k.
    """
    run = solve(toml=run_toml(years=4),
                demand=[f"A,ASD,primary,{y},10" for y in range(2026, 2030)],
                provision=[option("NEW", "S1", module=10, max_modules=1, capital=100_000,
                                  lead=2)])
    assert run.optimal.total_cost == pytest.approx(1_500_000)
    assert openings(run) == [("NEW", 1, 2028, 2026)]
    assert run.do_nothing.total_cost == pytest.approx(2_000_000)


def test_earliest_year_is_respected(solve):
    """No lead time but earliest_year 2028: same £1,500k, capital now spent in 2028."""
    run = solve(toml=run_toml(years=4),
                demand=[f"A,ASD,primary,{y},10" for y in range(2026, 2030)],
                provision=[option("NEW", "S1", module=10, max_modules=1, capital=100_000,
                                  earliest=2028)])
    assert run.optimal.total_cost == pytest.approx(1_500_000)
    assert openings(run) == [("NEW", 1, 2028, 2028)]


@pytest.mark.parametrize(("fixed", "modules", "cost"), [
    # 2 modules: 150k + 2 × 50k + 10 × 20k + 2 × 50k = 550k (1 module: 650k; none: 600k)
    (150_000, 2, 550_000),
    # fixed 400k: 2 modules 800k, 1 module 900k, none 12 × 50k = 600k → open nothing
    (400_000, 0, 600_000),
])
def test_max_modules_and_fixed_capital_paid_once(solve, fixed, modules, cost):
    """Modules of 5 places (£50k each, at most 2) plus a fixed cost once; 12 pupils."""
    run = solve(demand=["A,ASD,primary,2026,12"],
                provision=[option("NEW", "S1", module=5, max_modules=2, capital=50_000,
                                  fixed=fixed)])
    assert run.optimal.total_cost == pytest.approx(cost)
    assert int(run.optimal.plan["modules"].sum()) == modules
    if modules:
        assert run.optimal.plan["capital_cost"].sum() == pytest.approx(fixed + 50_000 * modules)


def test_fixed_capital_stays_with_the_first_module(solve):
    """The fixed cost cannot be paid in an earlier, roomier budget year.

    Budget 2026 = 300k, 2027 = 100k. The option (fixed 250k, module 100k) is worth opening
    only from 2027 (demand appears then). Paying fixed in 2026 and the module in 2027 would
    fit the budget but is not the contract's meaning, so nothing can open:
    cost = 10 × 50k = £500k.
    """
    run = solve(toml=run_toml(years=2, budget={2026: 300_000, 2027: 100_000}),
                demand=["A,ASD,primary,2027,10"],
                provision=[option("NEW", "S1", module=10, max_modules=1, capital=100_000,
                                  fixed=250_000)])
    assert run.optimal.total_cost == pytest.approx(500_000)
    assert run.optimal.plan.empty


def test_travel_limit_per_phase(solve):
    """Near site 10 km (20 min) at £30k; far site 30 km (60 min) at £15k.

    Primary (limit 45) must use the near site: 5 × 30k; secondary (75) uses the far, cheaper
    one: 5 × 15k. Total £225k.
    """
    run = solve(sites=["NEAR,Near school,A,405000,315000", "FAR,Far school,A,405000,335000"],
                demand=["A,ASD,primary,2026,5", "A,ASD,secondary,2026,5"],
                provision=[option("N", "NEAR", existing=10, cost=30_000),
                           option("F", "FAR", existing=10, cost=15_000)])
    assert run.optimal.total_cost == pytest.approx(225_000)
    placed = run.optimal.placements.set_index(["phase", "option_id"])["pupils"]
    assert placed.to_dict() == {("primary", "N"): 5, ("secondary", "F"): 5}
    assert run.optimal.placements["minutes"].tolist() == pytest.approx([20.0, 60.0])


def test_eligibility_by_need_and_phase(solve):
    """An ASD-only, primary-only unit: SEMH and secondary pupils go independent.

    5 ASD primary × 20k + (5 SEMH primary + 5 ASD secondary) × 50k = £600k.
    """
    run = solve(demand=["A,ASD,primary,2026,5", "A,SEMH,primary,2026,5",
                              "A,asd,secondary,2026,5"],
                provision=[option("RP", "S1", kind="resourced", needs="ASD", phases="primary",
                                  existing=20)])
    assert run.optimal.total_cost == pytest.approx(600_000)
    local = run.optimal.placements.query("option_id == 'RP'")
    assert local[["need", "phase"]].drop_duplicates().values.tolist() == [["ASD", "primary"]]


def test_capital_budget_phases_openings(solve):
    """Two 10-place options, £300k each; 20 pupils a year 2026-28; budget £300k a year.

    Unconstrained: both in 2026 (600k + 3 × 410k = 1,830k). With the budget, A (£20k a
    place) in 2026 and B (£21k) in 2027: 600k + 2026 (10 × 20k + 10 × 50k) + 2 × (10 × 20k
    + 10 × 21k) = £2,120k (B first: £2,130k; B never: 300k + 3 × 700k = £2,400k).
    """
    toml = run_toml(years=3, budget={2026: 300_000, 2027: 300_000})
    run = solve(toml=toml, demand=[f"A,ASD,primary,{y},20" for y in (2026, 2027, 2028)],
                provision=[option("A1", "S1", module=10, max_modules=1, capital=300_000),
                           option("B1", "S1", module=10, max_modules=1, capital=300_000,
                                  cost=21_000)])
    assert run.optimal.total_cost == pytest.approx(2_120_000)
    assert openings(run) == [("A1", 1, 2026, 2026), ("B1", 1, 2027, 2027)]


def test_discounting_defers_capital(solve):
    """r = 10 %: demand only in 2027. Opening in 2027 costs (100k + 10 × 20k) / 1.1
    = £272,727.27; opening in 2026 would cost 100k + 200k / 1.1 = £281,818; do nothing
    10 × 50k / 1.1 = £454,545.45.
    """
    run = solve(toml=run_toml(years=2, rate=0.10), demand=["A,ASD,primary,2027,10"],
                provision=[option("NEW", "S1", module=10, max_modules=1, capital=100_000)])
    assert run.optimal.total_cost == pytest.approx(300_000 / 1.1)
    assert openings(run) == [("NEW", 1, 2027, 2027)]
    assert run.do_nothing.total_cost == pytest.approx(500_000 / 1.1)


def test_commissioned_places_cost_filled_or_not(solve):
    """10 existing places commissioned at £10k (+£5k when filled); a 10-place module likewise.

    15 pupils: existing 10 × 10k + 10 × 5k = 150k; module 10 × 10k + 5 × 5k = 125k (< 5
    independent × 50k = 250k) → £275k, with 5 empty places.
    """
    run = solve(demand=["A,ASD,primary,2026,15"],
                provision=[option("SP", "S1", existing=10, cost=5_000, commissioned=10_000),
                           option("EXP", "S1", module=10, max_modules=1, cost=5_000,
                                  commissioned=10_000)])
    assert run.optimal.total_cost == pytest.approx(275_000)
    assert run.optimal.capacity["empty_places"].sum() == pytest.approx(5)
    assert run.optimal.costs_by_year["commissioned"].iloc[0] == pytest.approx(200_000)


def test_transport_cost_per_pupil_and_km(solve):
    """Site 10 km away, circuity 1.3 → 13 road km; £3,000 + £350 × 13 = £7,550 per pupil.

    2 pupils: 2 × (20k + 7,550) = £55,100; independent adds £12k transport: 2 × 62k.
    """
    toml = run_toml(transport_pupil=3_000, transport_km=350, circuity=1.3,
                    independent_transport=12_000)
    run = solve(toml=toml, sites=["S1,Site one,A,405000,315000"],
                demand=["A,ASD,primary,2026,2"], provision=[option("SP", "S1", existing=5)])
    assert run.optimal.total_cost == pytest.approx(55_100)
    assert run.optimal.costs_by_year["transport"].iloc[0] == pytest.approx(15_100)
    assert run.optimal.placements["km"].iloc[0] == pytest.approx(13.0)


def test_without_independent_fallback_do_nothing_is_reported_infeasible(solve):
    """No independent placement: 15 pupils need the 10-place module; do nothing cannot work.

    Plan: 5 existing + 10 new places at £20k = £300k + capital £100k = £400k.
    """
    toml = run_toml().replace("transport_cost_per_pupil = 0",
                              "transport_cost_per_pupil = 0\navailable = false")
    run = solve(toml=toml, demand=["A,ASD,primary,2026,15"],
                provision=[option("SP", "S1", existing=5),
                           option("NEW", "S1", module=10, max_modules=1, capital=100_000)])
    assert run.optimal.total_cost == pytest.approx(400_000)
    assert run.do_nothing is None and run.savings is None


def test_infeasible_plan_names_the_unplaceable_demand(solve):
    """No independent placement and too few places even with every module open."""
    from sufficiency.errors import SolveError

    toml = run_toml().replace("transport_cost_per_pupil = 0",
                              "transport_cost_per_pupil = 0\navailable = false")
    with pytest.raises(SolveError, match=r"A ASD/primary AY 2026/27: 30 pupils, at most 15"):
        solve(toml=toml, demand=["A,ASD,primary,2026,30"],
              provision=[option("SP", "S1", existing=5),
                         option("NEW", "S1", module=10, max_modules=1, capital=100_000)])
