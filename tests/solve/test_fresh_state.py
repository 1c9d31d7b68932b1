"""Every re-solve gives the optimum a fresh HiGHS object gives (issue: stale HiGHS state).

HiGHS keeps a run's solution and, on the next ``run()``, takes it as a MIP start; with
presolve on, HiGHS 1.16 can misread a start's objective and return it labelled optimal.
These tests plan OR-Library's cap71 (published optimum £932,615.75) and small random
instances along every path that re-solves, and compare each optimum with the optimum of
a new HiGHS object given the same model with no start and presolve off.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from orlib import DATA, write_cap_run
from test_oracle import random_instance

from sufficiency.analyses.evaluate import fix_openings_to
from sufficiency.analyses.slippage import later_lead_times, slip_plan, slippage_of
from sufficiency.analyses.sweep import sweep_task
from sufficiency.formulation import build_model
from sufficiency.formulation.sets import build_sets
from sufficiency.outcome import SolveStatus
from sufficiency.pipeline import plan_dataset, run_plan
from sufficiency.preprocess.config import load_run_config
from sufficiency.preprocess.dataset import load_dataset
from sufficiency.solve.direct import DirectHighs

CAP71_OPTIMUM = 932_615.75  # Beasley, OR-Library "capopt"
REL = 1e-6


def fresh_optimum(dataset, plan_model) -> float:
    """£ optimum of ``plan_model`` as it stands, from a new HiGHS object: no start, no presolve."""
    settings = replace(dataset.config.solver, presolve="off")
    report = DirectHighs(settings).solve(plan_model)
    assert report.status == SolveStatus.OPTIMAL
    return report.objective


def assert_same(found: float, reference: float) -> None:
    assert found == pytest.approx(reference, rel=REL, abs=0.01)  # outputs round to pence


@pytest.mark.parametrize("extra", ["", "[formulation]\nmatrix_constraints = false\n"])
def test_cap71_default_settings_reach_the_published_optimum(tmp_path, extra):
    toml = write_cap_run(DATA / "cap71.txt", tmp_path, extra=extra)
    run = run_plan(toml)
    assert run.optimal.report.status == SolveStatus.OPTIMAL
    assert run.optimal.report.objective == pytest.approx(CAP71_OPTIMUM, rel=REL)
    assert run.optimal.total_cost == pytest.approx(CAP71_OPTIMUM, rel=REL)


def cap71_model(tmp_path):
    dataset = load_dataset(load_run_config(write_cap_run(DATA / "cap71.txt", tmp_path)))
    return dataset, build_model(build_sets(dataset), dataset.config)


def test_a_second_run_on_one_object_ignores_the_first_runs_solution(tmp_path):
    """Do nothing, then the plan, on one object, no start given: the fresh optimum."""
    dataset, plan_model = cap71_model(tmp_path)
    solver = DirectHighs(dataset.config.solver)
    plan_model.fix_openings(0)
    solver.solve(plan_model)
    plan_model.fix_openings(None)
    report = solver.solve(plan_model)
    assert report.objective == pytest.approx(CAP71_OPTIMUM, rel=REL)
    assert solver.discarded_starts == 0


def test_every_run_on_one_object_gets_its_whole_time_limit(tmp_path, monkeypatch):
    """HiGHS counts its time limit over every run of an object: each run is given its own."""
    import sufficiency.solve.direct as direct

    seconds_given = []

    def recording(highs, *args):
        seconds_given.append((highs.getOptionValue("time_limit")[1] - highs.getRunTime(),
                              highs.getRunTime()))
        return run_stoppable(highs, *args)

    run_stoppable = direct.run_stoppable
    monkeypatch.setattr(direct, "run_stoppable", recording)
    dataset, plan_model = cap71_model(tmp_path)
    solver = DirectHighs(dataset.config.solver)
    plan_model.fix_openings(0)
    solver.solve(plan_model)
    plan_model.fix_openings(None)
    solver.charge(2.0)
    solver.solve(plan_model)
    (first, before_first), (second, before_second) = seconds_given
    assert before_first == 0.0 and before_second > 0.0
    limit = dataset.config.solver.time_limit_s
    assert first == pytest.approx(limit, abs=1e-9)
    assert second == pytest.approx(limit - 2.0, abs=1e-9)


def test_a_start_highs_misreads_is_discarded_and_the_run_repeated(tmp_path):
    """HiGHS 1.16 reads the do-nothing start of cap71 as £115.42k in its presolved space."""
    dataset, plan_model = cap71_model(tmp_path)
    plan_model.fix_openings(0)
    DirectHighs(dataset.config.solver).solve(plan_model)
    plan_model.fix_openings(None)
    solver = DirectHighs(dataset.config.solver)
    solver.use_start(plan_model)
    report = solver.solve(plan_model)
    assert report.status == SolveStatus.OPTIMAL
    assert report.objective == pytest.approx(CAP71_OPTIMUM, rel=REL)
    assert solver.discarded_starts == 1


SEEDS = range(6)
STARTS = ["", "rounding_start = true\n", "rounding_start = true\nstart_beside = false\n"]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("start", STARTS, ids=["no-rounding-start", "rounding-start-beside",
                                             "rounding-start-first"])
def test_plan_and_do_nothing_match_a_fresh_solve(tiny, seed, start):
    run = run_plan(random_instance(tiny, seed, start))
    dataset = run.dataset
    plan_model = build_model(run.sets, dataset.config)
    assert_same(run.optimal.report.objective, fresh_optimum(dataset, plan_model))
    plan_model.fix_openings(0)
    assert_same(run.do_nothing.report.objective, fresh_optimum(dataset, plan_model))


@pytest.mark.parametrize("seed", [s for s in SEEDS if s % 2])
def test_budget_replans_match_fresh_solves_with_the_larger_budget(tiny, seed):
    run = run_plan(random_instance(tiny, seed), replan_budget=True)
    budget = run.shadow.budget
    for year, value in zip(budget["capital_year"], budget["value_per_million_replanned_pv"],
                           strict=True):
        config = run.dataset.config
        more = replace(config, capital_budget={**config.capital_budget,
                                               year: config.capital_budget[year] + 1e6})
        dataset = replace(run.dataset, config=more)
        fresh = fresh_optimum(dataset, build_model(build_sets(dataset), more))
        expected = max(0.0, run.optimal.report.objective - fresh)
        assert value == pytest.approx(round(expected, 2), abs=max(1.0, REL * fresh))


@pytest.mark.parametrize("seed", SEEDS)
def test_sweep_values_match_fresh_solves(tiny, seed):
    toml = random_instance(tiny, seed)
    row = sweep_task(str(toml), "independent.cost_per_place", 30_000)
    config = load_run_config(toml)
    config = replace(config, independent=replace(config.independent, cost_per_place=30_000))
    dataset = replace(load_dataset(config), config=config)
    fresh = fresh_optimum(dataset, build_model(build_sets(dataset), config))
    assert_same(row["objective"], fresh)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_scenarios_plan_matches_a_fresh_solve(tiny, seed):
    """Scenarios plan a modified dataset through plan_dataset (here: 20 % more demand)."""
    dataset = load_dataset(load_run_config(random_instance(tiny, seed)))
    demand = dataset.demand.assign(pupils=dataset.demand["pupils"] * 1.2)
    dataset = replace(dataset, demand=demand)
    sets = build_sets(dataset)
    run = plan_dataset(dataset, sets)
    assert_same(run.optimal.report.objective, fresh_optimum(dataset, build_model(sets,
                                                                               dataset.config)))


@pytest.mark.parametrize("seed", SEEDS)
def test_slippage_matches_a_fresh_solve(tiny, seed):
    run = run_plan(random_instance(tiny, seed))
    result = slippage_of(run)
    dataset = run.dataset
    slipped = slip_plan(run.optimal.plan, dataset.config.end_year)
    late = later_lead_times(dataset, slipped.slipped_options)
    plan_model = build_model(build_sets(late), late.config)
    fix_openings_to(plan_model, slipped.plan)
    slipped_row = result.summary.iloc[1]
    assert_same(slipped_row["total_cost"] - slipped_row["sunk_capital"],
                fresh_optimum(late, plan_model))
