"""What every HiGHS hand-over shares: checked options, a quiet instance, status and report.

Never raises on a time-limited incumbent (pitfall 3): the status comes from how HiGHS
stopped, the incumbent and the bound. Option names are checked against highspy before
solving (pitfall 4), and threads and the random seed are always set so the same inputs
give the same plan (pitfall 7).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import highspy
from pyomo.common.tee import capture_output

from sufficiency.errors import InputError, Issue
from sufficiency.formulation import MONEY_SCALE
from sufficiency.outcome import SolveReport, SolveStatus
from sufficiency.preprocess.config import SolverSettings
from sufficiency.solve.interrupt import run_stoppable
from sufficiency.tolerances import GAP_DENOMINATOR

SOLUTION_FEASIBLE = 2  # HiGHS's primal/dual_solution_status of a feasible solution


@dataclass
class HighsClock:
    """HiGHS's own seconds over several runs (the benchmark books them as HiGHS's, not ours)."""

    seconds: float = 0.0

    def run(self, highs: highspy.Highs) -> None:
        """Run HiGHS, adding its seconds; Ctrl-C or SIGTERM stop it (see ``interrupt``)."""
        started = time.perf_counter()
        run_stoppable(highs)
        self.seconds += time.perf_counter() - started


def quiet_highs() -> highspy.Highs:
    """A highspy instance, made without its banner on standard output."""
    with capture_output(capture_fd=True):
        highs = highspy.Highs()
        highs.setOptionValue("output_flag", False)
    return highs


def highs_options(settings: SolverSettings) -> dict[str, Any]:
    """HiGHS options of a run, checked by name and value against highspy itself."""
    options: dict[str, Any] = {
        "threads": settings.threads, "random_seed": settings.random_seed,
        "presolve": settings.presolve, "mip_rel_gap": settings.mip_gap,
        "time_limit": settings.time_limit_s, "output_flag": False}
    reserved = sorted(set(settings.options) & set(options) | set(settings.options) & {
        "mip_rel_gap", "time_limit", "threads", "random_seed", "presolve"})
    if reserved:
        raise InputError([Issue("run TOML", None, f"solver.options.{key}",
                                "is set by the [solver] table itself",
                                "use [solver] time_limit_s, mip_gap, threads, random_seed or "
                                "presolve instead", column_label="key") for key in reserved])
    options.update(settings.options)
    probe = quiet_highs()
    bad = [key for key, value in options.items()
           if probe.setOptionValue(key, value) != highspy.HighsStatus.kOk]
    if bad:
        raise InputError([Issue("run TOML", None, f"solver.options.{key}",
                                f"HiGHS does not accept option {key} = {options[key]!r}",
                                "check the name and type against the HiGHS options list",
                                column_label="key")
                          for key in bad])
    return options


def _gap(objective: float | None, bound: float | None) -> float | None:
    """Relative gap between the incumbent and the bound; None when either is unknown."""
    if objective is None or bound is None:
        return None
    return abs(objective - bound) / max(abs(objective), GAP_DENOMINATOR)


def solve_status(optimal: bool, stopped_early: bool, infeasible: bool,
                 has_solution: bool) -> SolveStatus:
    """The status a run is reported with, from how HiGHS stopped and whether it has a plan."""
    if optimal and has_solution:
        return SolveStatus.OPTIMAL
    if stopped_early:
        return SolveStatus.TIME_LIMIT if has_solution else SolveStatus.NO_PLAN_IN_TIME
    return SolveStatus.INFEASIBLE if infeasible else SolveStatus.ERROR


def solve_report(status: SolveStatus, termination: str, objective_k: float | None,
                 bound_k: float | None, integer: bool, solve_seconds: float,
                 hand_over_seconds: float, version: str) -> SolveReport:
    """A report in £ from values in the model's money unit (£k)."""
    objective = None if objective_k is None else objective_k * MONEY_SCALE
    # HiGHS reports ±inf when it stopped before proving any bound: unknown, not infinite
    bound = None if bound_k is None or not math.isfinite(bound_k) else bound_k * MONEY_SCALE
    if status == SolveStatus.OPTIMAL and (not integer or bound is None):
        bound = objective  # an LP solved to optimality proves its own bound
    return SolveReport(status=status, termination=termination, objective=objective, bound=bound,
                       mip_gap=_gap(objective, bound) if status.has_plan else None,
                       solve_seconds=solve_seconds, hand_over_seconds=hand_over_seconds,
                       solver=f"HiGHS {version}")
