"""Costs by need and phase (costs.csv) and independent providers (independent.csv), hand-solved.

The world of tests/conftest.py: area A, demand point (405000, 305000); S1 is 1 km north of
it. One year (2026), no discounting; transport costs nothing unless a test says otherwise.
Each solve also passes the pipeline's audit (costs = objective, the cheapest provider).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import option, run_toml

from sufficiency.outcome import PLACEMENT_COLUMNS, PROVIDER
from sufficiency.pipeline import run_plan

COSTS_HEADER = "option_id,kind,need,phase,annual_cost_per_place"
INDEPENDENT_COSTS_HEADER = ("option_id,kind,need,phase,annual_cost_per_place,cost_per_place,"
                            "transport_cost_per_pupil")
PROVIDERS_HEADER = "provider_id,name,needs,phases,cost_per_place,easting,northing"
NO_AGGREGATION = "\n[formulation]\naggregate_needs = false\n"


def write_files(tiny, *, costs: list[str] | None = None, providers: list[str] | None = None,
                costs_header: str = COSTS_HEADER, **files) -> Path:
    """A tiny run with costs.csv and/or independent.csv beside the contract files."""
    toml = tiny.write(**files)
    data = tiny.root / "data"
    if costs is not None:
        (data / "costs.csv").write_text("\n".join([costs_header, *costs]) + "\n")
    if providers is not None:
        (data / "independent.csv").write_text("\n".join([PROVIDERS_HEADER, *providers]) + "\n")
    return toml


def pupils_at(run) -> dict[tuple[str, str], float]:
    table = run.optimal.placements.groupby(["need", "option_id"])["pupils"].sum()
    return {key: value for key, value in table.items() if value > 1e-9}


@pytest.mark.parametrize("lever", ["", NO_AGGREGATION], ids=["aggregated", "per-need"])
def test_need_specific_cost_changes_the_choice_of_option(tiny, lever):
    """R1 (resourced, £20k) and SP (special, £25k) have 10 places each; 5 ASD + 5 SEMH.

    Without costs.csv: all 10 at R1, 10 × 20k = £200k.
    costs.csv makes an SEMH place at R1 cost £40k: SEMH goes to SP (25k < 40k), ASD stays:
    5 × 20k + 5 × 25k = £225k.
    """
    files = dict(demand=["A,ASD,primary,2026,5", "A,SEMH,primary,2026,5"],
                 provision=[option("R1", "S1", kind="resourced", existing=10, cost=20_000),
                            option("SP", "S1", existing=10, cost=25_000)],
                 toml=run_toml() + lever)
    before = run_plan(write_files(tiny, **files))
    assert before.optimal.total_cost == pytest.approx(200_000)
    assert pupils_at(before) == pytest.approx({("ASD", "R1"): 5, ("SEMH", "R1"): 5})
    after = run_plan(write_files(tiny, costs=["R1,,SEMH,primary,40000"], **files))
    assert after.optimal.total_cost == pytest.approx(225_000)
    assert pupils_at(after) == pytest.approx({("ASD", "R1"): 5, ("SEMH", "SP"): 5})
    costs = after.optimal.costs_by_year.iloc[0]
    assert costs["placement"] == pytest.approx(225_000)


def test_precedence_option_over_kind_exact_over_star_costs_over_provision(tiny):
    """SP (special, £10k in provision.csv) serves all; RP (resourced, HI only, £9k).

    costs.csv rows (row: who, need, phase, £):
        2: kind special  * *           11,000
        3: kind special  * secondary   12,000
        4: kind special  ASD *         13,000
        5: option SP     SEMH *        14,000
        6: option SP     * post16      15,000
    One pupil of each group, each placed at SP except HI (RP £9k < SP's kind row £11k):
        ASD primary     kind (ASD, *)                          13,000
        ASD secondary   kind (ASD, *) beats kind (*, secondary) 13,000
        SEMH primary    option (SEMH, *)                        14,000
        SEMH secondary  option (SEMH, *) beats kind (*, secondary) 14,000
        MLD post16      option (*, post16)                      15,000
        VI primary      kind (*, *)                             11,000
        HI primary      RP: no row for resourced, provision.csv  9,000
    total £89,000.
    """
    demand = [f"A,{need},{phase},2026,1" for need, phase in (
        ("ASD", "primary"), ("ASD", "secondary"), ("SEMH", "primary"),
        ("SEMH", "secondary"), ("MLD", "post16"), ("VI", "primary"), ("HI", "primary"))]
    run = run_plan(write_files(
        tiny, demand=demand,
        provision=[option("SP", "S1", existing=100, cost=10_000),
                   option("RP", "S1", kind="resourced", needs="HI", existing=1, cost=9_000)],
        costs=[",special,*,*,11000", ",special,*,secondary,12000", ",special,ASD,*,13000",
               "SP,,SEMH,*,14000", "SP,,*,post16,15000"]))
    assert run.optimal.total_cost == pytest.approx(89_000)
    placed = run.optimal.placements.set_index(["need", "phase"])["option_id"]
    assert placed[("HI", "primary")] == "RP"
    assert run.optimal.costs_by_year.iloc[0]["placement"] == pytest.approx(89_000)


def test_independent_precedence_provider_then_costs_rows_then_flat(tiny):
    """No local place for ASD, SEMH or SLD (R1 takes PD only); transport costs nothing.

    ASD: provider P1 (fee £30k) beats costs.csv's cheaper ASD row (£20k + £1k)  30,000
    SEMH: no provider; costs.csv row (SEMH, *): £40k + £5k                        45,000
    SLD: no provider, no row: [independent] £50k + £0                             50,000
    total £125,000; the independent column of costs_by_year is all of it.
    """
    run = run_plan(write_files(
        tiny, demand=["A,ASD,primary,2026,1", "A,SEMH,primary,2026,1", "A,SLD,primary,2026,1"],
        provision=[option("R1", "S1", kind="resourced", needs="PD", existing=5)],
        costs_header=INDEPENDENT_COSTS_HEADER,
        costs=[",independent,ASD,primary,,20000,1000", ",independent,SEMH,*,,40000,5000"],
        providers=["P1,Provider one,ASD,*,30000,405000,306000"]))
    assert run.optimal.total_cost == pytest.approx(125_000)
    assert run.optimal.costs_by_year.iloc[0]["independent"] == pytest.approx(125_000)
    providers = run.optimal.placements.set_index("need")[PROVIDER]
    assert providers.to_dict() == {"ASD": "P1", "SEMH": "", "SLD": ""}


def test_cheapest_eligible_provider_not_the_nearest_and_its_journey_over_the_limit(tiny):
    """4 ASD and 1 MLD primary pupils, no local place; £1,000 + £100 per km, circuity 1, 30 km/h.

    NEAR (10 km north): 20 min; fee £60k + 1,000 + 10 × 100 = £62,000
    FAR  (60 km north): 120 min; fee £40k + 1,000 + 60 × 100 = £47,000  ← cheapest
    SEMHONLY (0.5 km): £1k, but takes SEMH only: not eligible.
    MLD: no provider: flat [independent] £50,000 + 0.
    Objective: 4 × 47,000 + 50,000 = £238,000. The FAR journey (120 min) is over the
    primary limit (45 min): 4 pupils over it, 240 pupil-km, £28,000 of independent transport.
    """
    from sufficiency.report import transport

    run = run_plan(write_files(
        tiny, demand=["A,ASD,primary,2026,4", "A,MLD,primary,2026,1"],
        provision=[option("R1", "S1", kind="resourced", needs="PD", existing=5)],
        toml=run_toml(transport_pupil=1_000, transport_km=100),
        providers=["NEAR,Near school,ASD,*,60000,405000,315000",
                   "FAR,Far school,ASD,primary,40000,405000,365000",
                   "SEMHONLY,Next door,SEMH,*,1000,405000,305500"]))
    assert run.optimal.total_cost == pytest.approx(238_000)
    rows = run.optimal.placements.set_index("need")
    assert rows.loc["ASD", PROVIDER] == "FAR"
    assert rows.loc["ASD", "km"] == pytest.approx(60.0)
    assert rows.loc["ASD", "minutes"] == pytest.approx(120.0)
    assert rows.loc["MLD", PROVIDER] == "" and pd.isna(rows.loc["MLD", "km"])
    total = transport.year_totals(run.dataset, run.optimal).iloc[0]
    assert total["pupils_independent_over_limit"] == pytest.approx(4)
    assert total["pupils_over_limit"] == pytest.approx(0)  # local journeys only, as in v1
    assert total["pupils_independent_no_provider"] == pytest.approx(1)
    assert total["independent_pupil_km"] == pytest.approx(240)
    assert total["independent_mean_minutes"] == pytest.approx(120)
    assert total["transport_cost_independent"] == pytest.approx(28_000)


def test_travel_csv_gives_a_provider_journey(tiny):
    """travel.csv names provider FAR: 30 km, 40 min instead of the straight line's 60 km.

    FAR: 40,000 + 1,000 + 30 × 100 = £44,000 a pupil; 4 pupils: £176,000, within the limit.
    """
    toml = write_files(
        tiny, demand=["A,ASD,primary,2026,4"],
        provision=[option("R1", "S1", kind="resourced", needs="PD", existing=5)],
        toml=run_toml(transport_pupil=1_000, transport_km=100),
        travel=["A,S1,2,1", "A,FAR,40,30"],
        providers=["FAR,Far school,ASD,primary,40000,405000,365000"])
    run = run_plan(toml)
    assert run.optimal.total_cost == pytest.approx(176_000)
    row = run.optimal.placements.iloc[0]
    assert (row["km"], row["minutes"]) == pytest.approx((30.0, 40.0))


@pytest.mark.parametrize("lever", ["", NO_AGGREGATION], ids=["aggregated", "per-need"])
def test_aggregation_never_merges_needs_with_different_costs(tiny, lever):
    """ASD and SLCN primary are served by the same options (R1, SP) within the same limit.

    v1 would merge them into one commodity; costs.csv makes SLCN cost £40k at R1, so they
    must stay apart. R1 (£20k) and SP (£25k) have 10 places each; 6 ASD + 6 SLCN pupils:
    ASD 6 × 20k at R1 + SLCN 6 × 25k at SP = £270,000 (merged, the model would put 10 at R1
    at £20k and 2 at SP: £250,000, which is wrong).
    """
    run = run_plan(write_files(
        tiny, demand=["A,ASD,primary,2026,6", "A,SLCN,primary,2026,6"],
        provision=[option("R1", "S1", kind="resourced", existing=10, cost=20_000),
                   option("SP", "S1", existing=10, cost=25_000)],
        costs=["R1,,SLCN,primary,40000"], toml=run_toml() + lever))
    assert run.optimal.total_cost == pytest.approx(270_000)
    assert set(run.sets.members["commodity"]) == {"ASD/primary", "SLCN/primary"}
    assert pupils_at(run) == pytest.approx({("ASD", "R1"): 6, ("SLCN", "SP"): 6})


def test_aggregation_still_merges_needs_that_cost_the_same(tiny):
    """A costs.csv row equal to the provision figure changes nothing: ASD and SLCN merge.

    12 pupils, R1 (£20k) 10 places, SP (£25k): 10 × 20k + 2 × 25k = £250,000.
    """
    run = run_plan(write_files(
        tiny, demand=["A,ASD,primary,2026,6", "A,SLCN,primary,2026,6"],
        provision=[option("R1", "S1", kind="resourced", existing=10, cost=20_000),
                   option("SP", "S1", existing=10, cost=25_000)],
        costs=["R1,,SLCN,primary,20000"]))
    assert run.optimal.total_cost == pytest.approx(250_000)
    assert set(run.sets.members["commodity"]) == {"ASD+SLCN/primary"}


@pytest.mark.parametrize("lever", ["", NO_AGGREGATION], ids=["aggregated", "per-need"])
def test_aggregation_never_merges_needs_with_different_independent_costs(tiny, lever):
    """No local place; provider P1 takes ASD only (£30k, transport free); SLCN goes flat £50k.

    6 × 30,000 + 6 × 50,000 = £480,000; the two needs stay separate commodities.
    """
    run = run_plan(write_files(
        tiny, demand=["A,ASD,primary,2026,6", "A,SLCN,primary,2026,6"],
        provision=[option("R1", "S1", kind="resourced", needs="PD", existing=5)],
        providers=["P1,Provider one,ASD,*,30000,405000,306000"], toml=run_toml() + lever))
    assert run.optimal.total_cost == pytest.approx(480_000)
    assert set(run.sets.members["commodity"]) == {"ASD/primary", "SLCN/primary"}


def test_v1_run_keeps_the_contract_columns(tiny):
    """Without the new files placements have exactly the contract's columns (no provider)."""
    run = run_plan(write_files(tiny, demand=["A,ASD,primary,2026,15"],
                               provision=[option("SP", "S1", existing=10)]))
    assert list(run.optimal.placements.columns) == PLACEMENT_COLUMNS
    assert run.sets.place_costs is None and run.sets.independent_costs is None
    assert run.optimal.total_cost == pytest.approx(10 * 20_000 + 5 * 50_000)


def test_groups_whose_names_would_clash_stay_apart(tiny):
    """SP (£10k, 100 places) serves all; costs.csv: ASD secondary and SLCN post16 £30k.

    Two commodities form, {ASD/secondary, SLCN/post16} at £30k and {ASD/post16,
    SLCN/secondary} at £10k, both named after ASD+SLCN and post16+secondary: the second
    is told apart by a suffix. One pupil each: 2 × 30,000 + 2 × 10,000 = £80,000.
    """
    run = run_plan(write_files(
        tiny, demand=["A,ASD,secondary,2026,1", "A,SLCN,post16,2026,1",
                      "A,ASD,post16,2026,1", "A,SLCN,secondary,2026,1"],
        provision=[option("SP", "S1", existing=100, cost=10_000)],
        costs=["SP,,ASD,secondary,30000", "SP,,SLCN,post16,30000"]))
    assert run.optimal.total_cost == pytest.approx(80_000)
    assert sorted(set(run.sets.members["commodity"])) == [
        "ASD+SLCN/post16+secondary", "ASD+SLCN/post16+secondary #2"]
