"""Honest solver outcomes: a stopped solve with a plan says so and its gap; without one, an error.

HiGHS proves these tiny instances in milliseconds, so a time limit cannot be provoked
reliably by time. Stopping rules that HiGHS reports like a time limit ("Solution limit
reached") do it deterministically: ``mip_max_improving_sols = 1`` stops at the first
improving plan, before the bound meets it; ``mip_max_nodes = 0`` stops before any plan.
"""

from __future__ import annotations

import json

import pytest
from conftest import option, run_toml
from typer.testing import CliRunner

from sufficiency.cli import app
from sufficiency.errors import SolveError
from sufficiency.outcome import SolveReport, SolveStatus
from sufficiency.solve import require_plan

DEMAND = ["A,ASD,primary,2026,15", "A,ASD,primary,2027,17"]
# Two expandable options whose LP relaxation is fractional: the root bound is below the optimum.
PROVISION = [option("NEW", "S1", module=10, max_modules=2, capital=100_000),
             option("N2", "S1", module=7, max_modules=3, capital=90_000, fixed=30_000)]
# The rounded LP start and the opening links make HiGHS's first plan optimal here: off.
STOP_AT_FIRST_PLAN = ('rounding_start = false\n[formulation]\nstrong_links = "none"\n'
                      "[solver.options]\nmip_max_improving_sols = 1\n")
STOP_BEFORE_ANY_PLAN = "rounding_start = false\n[solver.options]\nmip_max_nodes = 0\n"


def plan_cli(toml, root):
    return CliRunner().invoke(app, ["plan", str(toml), "--output-root", str(root)])


def test_stopped_solve_with_a_plan_is_time_limited_with_its_gap(tiny):
    toml = tiny.write(toml=run_toml(years=2, extra=STOP_AT_FIRST_PLAN), demand=DEMAND,
                      provision=PROVISION)
    result = plan_cli(toml, tiny.root / "out")
    assert result.exit_code == 0, result.output
    summary = json.loads((tiny.root / "out/outputs/tiny/summary.json").read_text())
    assert summary["status"] == SolveStatus.TIME_LIMIT
    assert summary["termination"] == "Solution limit reached"
    gap = summary["mip_gap"]
    assert 0 < gap < 1
    assert summary["gap_pounds"] == pytest.approx(gap * summary["plan"]["solver_objective"],
                                                  rel=1e-6)
    assert summary["plan"]["bound"] < summary["plan"]["solver_objective"]
    assert summary["warning"].startswith("time-limited: the optimal plan")
    assert f"within {gap:.4%}" in summary["warning"]
    assert summary["warning"] in summary["warnings"]
    assert f"time_limit (gap {gap:.4%})" in result.output
    assert "warning: time-limited" in result.output
    # the plan is still audited and no worse than doing nothing
    assert summary["objective"] <= summary["baseline_objective"]


def test_optimal_run_has_no_status_warning(tiny):
    toml = tiny.write(toml=run_toml(years=2), demand=DEMAND, provision=PROVISION)
    assert plan_cli(toml, tiny.root / "out").exit_code == 0
    summary = json.loads((tiny.root / "out/outputs/tiny/summary.json").read_text())
    assert summary["status"] == "optimal" and summary["warning"] is None
    assert not any(w.startswith("time-limited") for w in summary["warnings"])


def test_stopped_solve_without_a_plan_is_a_clear_error(tiny):
    """No independent placement and too few places: do nothing is infeasible, so there is no
    warm start either (the rounding start is off), and HiGHS stops before it finds any plan."""
    toml = run_toml(years=2, extra=STOP_BEFORE_ANY_PLAN).replace(
        "transport_cost_per_pupil = 0", "transport_cost_per_pupil = 0\navailable = false")
    result = plan_cli(tiny.write(toml=toml, demand=DEMAND, provision=PROVISION),
                      tiny.root / "out")
    assert result.exit_code == 4, result.output
    assert "error: the optimal plan:" in result.output
    assert "before any plan was found" in result.output and "time_limit_s" in result.output
    assert "Traceback" not in result.output
    assert not (tiny.root / "out").exists(), "nothing written"


def test_start_is_used_and_an_unproven_bound_is_unknown_not_infinite(tiny):
    """HiGHS stopped before any node (mip_max_nodes = 0) still has the MIP start it was
    given (do nothing here, the rounding start being off): the run is time-limited with
    that plan, and the gap is unknown because no bound was proven."""
    toml = tiny.write(toml=run_toml(years=2, extra=STOP_BEFORE_ANY_PLAN),
                      demand=DEMAND, provision=PROVISION)
    result = plan_cli(toml, tiny.root / "out")
    assert result.exit_code == 0, result.output
    summary = json.loads((tiny.root / "out/outputs/tiny/summary.json").read_text())
    assert summary["status"] == SolveStatus.TIME_LIMIT
    assert summary["mip_gap"] is None and summary["gap_pounds"] is None
    assert "how far it is from the best possible plan is unknown" in summary["warning"]
    assert summary["objective"] <= summary["baseline_objective"]


def test_a_stop_before_any_node_reports_the_relaxation_as_bound(tiny):
    """With the start from the LP relaxation, a stop before any node still proves a bound:
    the relaxation's optimum, no more than the true optimum (solved without the stop)."""
    stopped = tiny.write(toml=run_toml(years=2, extra="rounding_start = true\n"
                                                     "[solver.options]\nmip_max_nodes = 0\n"),
                         demand=DEMAND, provision=PROVISION)
    assert plan_cli(stopped, tiny.root / "out").exit_code == 0
    summary = json.loads((tiny.root / "out/outputs/tiny/summary.json").read_text())
    solved = tiny.write(toml=run_toml(years=2), demand=DEMAND, provision=PROVISION)
    assert plan_cli(solved, tiny.root / "solved").exit_code == 0
    optimum = json.loads((tiny.root / "solved/outputs/tiny/summary.json").read_text())
    assert optimum["status"] == SolveStatus.OPTIMAL
    assert summary["status"] == SolveStatus.TIME_LIMIT
    bound = summary["objective"] - summary["gap_pounds"]
    assert bound <= optimum["objective"] + 1e-6 <= summary["objective"] + 2e-6
    assert summary["mip_gap"] == pytest.approx(summary["gap_pounds"] / summary["objective"])


def report(status: str, termination: str) -> SolveReport:
    return SolveReport(status=status, termination=termination, objective=None, bound=None,
                       mip_gap=None, solve_seconds=1.0, hand_over_seconds=0.0, solver="HiGHS")


@pytest.mark.parametrize(("status", "termination", "message"), [
    (SolveStatus.NO_PLAN_IN_TIME, "Time limit reached", "before any plan was found"),
    (SolveStatus.ERROR, "Unknown", "HiGHS ended with 'Unknown' and no usable plan"),
])
def test_no_usable_plan_raises(status, termination, message):
    with pytest.raises(SolveError, match=message):
        require_plan(report(status, termination), "the optimal plan")


def test_time_spent_on_the_start_is_charged_to_the_next_run_only(tiny, monkeypatch):
    """A charge lowers the next run's HiGHS time limit (never below MIN_RUN_SECONDS); the
    run after it has the planner's limit again, or the limit it was given."""
    from sufficiency.formulation import build_model
    from sufficiency.formulation.sets import build_sets
    from sufficiency.preprocess.config import load_run_config
    from sufficiency.preprocess.dataset import load_dataset
    from sufficiency.solve.direct import MIN_RUN_SECONDS, DirectHighs

    toml = tiny.write(toml=run_toml(years=2), demand=DEMAND, provision=PROVISION)
    config = load_run_config(toml)
    solver = DirectHighs(config.solver)
    solver.solve(build_model(build_sets(load_dataset(config)), config))
    limits = []
    highs = solver.highs  # its time limit counts every run so far: the seconds this run has
    monkeypatch.setattr(highs, "run", lambda: limits.append(
        highs.getOptionValue("time_limit")[1] - highs.getRunTime()))
    solver.charge(20.0)
    solver.run()
    solver.charge(500.0)
    solver.run()
    solver.run()
    solver.run(30.0)  # a run with its own limit (the budget re-plans)
    assert limits == pytest.approx([40.0, MIN_RUN_SECONDS, 60.0, 30.0], abs=1e-9)
    assert solver.highs.getOptionValue("time_limit")[1] == 60.0
