"""Brute force: on small random instances the MIP optimum equals the best of all openings.

Every combination of openings is fixed in turn and the remaining placement LP solved; the
cheapest is the true optimum. The MIP must match it with presolve on and off (HiGHS MIP
presolve has shipped wrong answers: pitfall 2).
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
from conftest import option, run_toml

from sufficiency.formulation import FIRST, MODULES, build_model
from sufficiency.formulation.sets import build_sets
from sufficiency.pipeline import run_plan
from sufficiency.preprocess.config import load_run_config
from sufficiency.preprocess.dataset import load_dataset
from sufficiency.solve import make_solver, solve_model

YEARS = (2026, 2027, 2028)


def random_instance(tiny, seed: int, extra: str = ""):
    """Three sites, two needs, two phases, three years; a budget in odd seeds; ``extra`` TOML."""
    rng = np.random.default_rng(seed)
    sites = ["S1,One,A,405000,306000", "S2,Two,A,405000,318000", "S3,Three,A,405000,330000"]
    demand = [f"A,{need},{phase},{year},{int(rng.integers(0, 14))}"
              for need in ("ASD", "SEMH") for phase in ("primary", "secondary") for year in YEARS]
    provision = [
        option("SP", "S1", existing=int(rng.integers(4, 12)), cost=int(rng.integers(18, 26)) * 1000,
               commissioned=int(rng.integers(0, 10)) * 1000),
        option("RP", "S2", kind="resourced", needs="ASD", phases="primary", module=8,
               max_modules=1, capital=int(rng.integers(1, 6)) * 100_000,
               fixed=int(rng.integers(0, 3)) * 100_000, lead=1, cost=15_000,
               commissioned=10_000),
        option("EXP", "S3", needs="SEMH;ASD", module=6, max_modules=2,
               capital=int(rng.integers(1, 4)) * 100_000, cost=20_000),
    ]
    budget = {2026: float(rng.integers(2, 6)) * 100_000} if seed % 2 else None
    toml = run_toml(years=len(YEARS), rate=0.035, transport_pupil=3000, transport_km=350,
                    circuity=1.3, budget=budget, extra=extra)
    return tiny.write(sites=sites, demand=demand, provision=provision, toml=toml)


def openings_per_option(sets):
    """For each option: every feasible schedule as {slot: modules} (all modules ≤ max)."""
    schedules = []
    for o, slots in sets.open_slots.reset_index(names="slot").groupby("o"):
        max_mod = int(sets.options["max_modules"].iloc[o])
        slot_ids = slots["slot"].tolist()
        options = [dict(zip(slot_ids, counts, strict=True))
                   for counts in itertools.product(range(max_mod + 1), repeat=len(slot_ids))
                   if sum(counts) <= max_mod]
        schedules.append(options)
    return schedules


def fix_schedule(plan_model, schedule: dict[int, int]) -> None:
    firsts = plan_model.sets.first_slots
    for slot, var in enumerate(plan_model.variables[MODULES]):
        var.fix(schedule.get(slot, 0))
    opened = plan_model.sets.open_slots.assign(m=[schedule.get(s, 0) for s in
                                                 range(len(plan_model.sets.open_slots))])
    first_year = opened[opened["m"] > 0].groupby("o")["year"].min()
    for f, row in firsts.iterrows():
        plan_model.variables[FIRST][f].fix(int(first_year.get(row["o"], -1) == row["year"]))


def brute_force(toml, aggregate: bool = True) -> float:
    """The cheapest LP over every schedule; ``aggregate`` False: every need × phase apart."""
    config = load_run_config(toml)
    config = replace(config, formulation=replace(config.formulation, aggregate_needs=aggregate))
    dataset = load_dataset(config)
    plan_model = build_model(build_sets(dataset), config)
    solver = make_solver(config.solver)
    best = np.inf
    for combo in itertools.product(*openings_per_option(plan_model.sets)):
        schedule = {k: v for part in combo for k, v in part.items()}
        fix_schedule(plan_model, schedule)
        report = solve_model(plan_model, solver)
        if report.status == "optimal":
            best = min(best, report.objective)
    return best


def mip_optimum(toml, presolve: str) -> float:
    config = load_run_config(toml)
    config = replace(config, solver=replace(config.solver, presolve=presolve))
    plan_model = build_model(build_sets(load_dataset(config)), config)
    report = solve_model(plan_model, make_solver(config.solver))
    assert report.status == "optimal"
    return report.objective


@pytest.mark.parametrize("seed", range(6))
def test_mip_matches_brute_force(tiny, seed):
    toml = random_instance(tiny, seed)
    expected = brute_force(toml)
    for presolve in ("on", "off"):
        assert mip_optimum(toml, presolve) == pytest.approx(expected, rel=1e-7)


def _keeps_delivery(sets, schedule: dict[int, int], schemes_per_year: int,
                    modules_per_site: int) -> bool:
    """Counted by hand from the schedule: schemes opening each year, new modules per site."""
    slots = sets.open_slots.assign(m=[schedule.get(s, 0) for s in range(len(sets.open_slots))])
    slots = slots[slots["m"] > 0]
    first_years = slots.groupby("o")["year"].min()
    sites = sets.options["site_id"].to_numpy()[slots["o"].to_numpy()]
    return (max(first_years.value_counts().tolist(), default=0) <= schemes_per_year
            and max(slots["m"].groupby(sites).sum().tolist(), default=0) <= modules_per_site)


@pytest.mark.parametrize("seed", range(4))
def test_mip_matches_brute_force_with_delivery_limits(tiny, seed):
    """One scheme a year and one new module per site: RP and EXP cannot open in the same
    year, EXP opens one module at most. The oracle enumerates every schedule of the model
    without the limits, keeps those the hand count allows, and takes the cheapest LP."""
    toml = random_instance(tiny, seed)
    toml.write_text(toml.read_text() + "\n[delivery]\nmax_new_schemes_per_year = 1\n"
                    "max_new_modules_per_site = 1\n")
    config = load_run_config(toml)
    free = replace(config, delivery=type(config.delivery)())
    plan_model = build_model(build_sets(load_dataset(free)), free)
    solver = make_solver(free.solver)
    best = np.inf
    for combo in itertools.product(*openings_per_option(plan_model.sets)):
        schedule = {k: v for part in combo for k, v in part.items()}
        if not _keeps_delivery(plan_model.sets, schedule, 1, 1):
            continue
        fix_schedule(plan_model, schedule)
        report = solve_model(plan_model, solver)
        if report.status == "optimal":
            best = min(best, report.objective)
    for presolve in ("on", "off"):
        assert mip_optimum(toml, presolve) == pytest.approx(best, rel=1e-7)


STICKY = '\n[placements]\nmodel = "sticky"\n\n[ramp_up.resourced]\nfirst_year = 0.5\n'


@pytest.mark.parametrize("seed", range(4))
def test_mip_matches_brute_force_with_sticky_cohorts(tiny, seed):
    """Sticky cohorts and ramp-up (the cohort rows, x ≥ ρ·x of the year before, couple the
    years); odd seeds also start from pupils already placed at SP and independently. The
    brute force keeps every need × phase apart: the needs' random demand leaves at rates of
    their own, which the MIP's model may not merge."""
    toml = random_instance(tiny, seed, extra=STICKY)
    if seed % 2:
        (toml.parent / "data" / "current_placements.csv").write_text(
            "area_id,need,phase,option_id,pupils\nA,ASD,primary,SP,1.5\n"
            "A,SEMH,secondary,independent,1\n")
    assert load_dataset(load_run_config(toml)).placement_model == "sticky"
    expected = brute_force(toml, aggregate=False)
    for presolve in ("on", "off"):
        assert mip_optimum(toml, presolve) == pytest.approx(expected, rel=1e-7)


def merging_instance(tiny, seed: int):
    """:func:`random_instance` under sticky cohorts, with secondary demand that lets ASD and
    SEMH secondary (same options, same limit) merge: both keep the same share each year.

    Seeds 0, 1: both grow (ρ = 4/5 for both); 2: SEMH starts in 2027 (no ρ of its own);
    3: both halve in 2027 (ρ = 1/2), then grow. Odd seeds start from pupils already
    placed (ASD at SP, SEMH independent, ASD primary at SP).
    """
    toml = random_instance(tiny, seed, extra=STICKY)
    rng = np.random.default_rng(100 + seed)
    rows = []
    for need in ("ASD", "SEMH"):
        first = int(rng.integers(2, 12))
        steps = [first, first + int(rng.integers(0, 4))]
        if seed == 3:
            steps = [2 * first, first]
        steps.append(steps[-1] + int(rng.integers(0, 4)))
        if seed == 2 and need == "SEMH":
            steps[0] = 0
        rows += [f"A,{need},secondary,{year},{pupils}"
                 for year, pupils in zip(YEARS, steps, strict=True)]
    demand = tiny.root / "data" / "demand.csv"
    kept = [line for line in demand.read_text().splitlines() if ",secondary," not in line]
    demand.write_text("\n".join([*kept, *rows]) + "\n")
    if seed % 2:
        (tiny.root / "data" / "current_placements.csv").write_text(
            "area_id,need,phase,option_id,pupils\nA,ASD,primary,SP,1.5\n"
            "A,ASD,secondary,SP,1.5\nA,SEMH,secondary,independent,1\n")
    return toml


@pytest.mark.parametrize("seed", range(4))
def test_merged_sticky_cohorts_match_the_unmerged_brute_force(tiny, seed):
    """Merging ASD and SEMH secondary under sticky cohorts keeps the optimum: the MIP of the
    merged model (presolve on and off) equals the brute force over the unmerged one, and
    the plan split back to needs passes the audit (every need's own cohort rows)."""
    toml = merging_instance(tiny, seed)
    dataset = load_dataset(load_run_config(toml))
    merged = build_sets(dataset).members
    assert merged.loc[merged["phase"] == "secondary", "commodity"].nunique() == 1
    expected = brute_force(toml, aggregate=False)
    for presolve in ("on", "off"):
        assert mip_optimum(toml, presolve) == pytest.approx(expected, rel=1e-7)
    run = run_plan(toml)  # audited: demand, capacity and each need's sticky rows
    assert run.optimal.total_cost == pytest.approx(expected, rel=1e-7)


@pytest.mark.parametrize("seed", range(4))
def test_mip_matches_brute_force_with_commitments(tiny, seed):
    """committed.csv: RP (lead 1) opening in 2027 (even seeds: capital year 2026) or in 2026
    (odd seeds, with the 2026 budget: capital year 2025, under construction, sunk, in no
    budget) and one EXP module in 2028. The oracle
    enumerates every schedule, keeps those that hold each committed slot at its modules,
    and takes the cheapest LP (its costs from the model's own coefficients)."""
    toml = random_instance(tiny, seed)
    rp_year = 2027 if seed % 2 == 0 else 2026
    (toml.parent / "data" / "committed.csv").write_text(
        f"option_id,modules,opening_year\nRP,1,{rp_year}\nEXP,1,2028\n")
    config = load_run_config(toml)
    plan_model = build_model(build_sets(load_dataset(config)), config)
    committed = plan_model.sets.open_slots["committed"].to_numpy()
    solver = make_solver(config.solver)
    best = np.inf
    for combo in itertools.product(*openings_per_option(plan_model.sets)):
        schedule = {k: v for part in combo for k, v in part.items()}
        if any(schedule.get(s, 0) != m for s, m in enumerate(committed) if m > 0):
            continue
        fix_schedule(plan_model, schedule)
        report = solve_model(plan_model, solver)
        if report.status == "optimal":
            best = min(best, report.objective)
    assert np.isfinite(best)
    for presolve in ("on", "off"):
        assert mip_optimum(toml, presolve) == pytest.approx(best, rel=1e-7)
