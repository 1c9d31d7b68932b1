"""Solve a built model with HiGHS (through Pyomo's persistent highspy interface).

Never raises on a time-limited incumbent (pitfall 3): the status comes from the
termination condition, the incumbent and the bound. Option names are checked against
highspy before solving (pitfall 4), and threads and the random seed are always set so the
same inputs give the same plan (pitfall 7).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import highspy
from pyomo.common.tee import capture_output
from pyomo.contrib.solver.common.results import TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs

from sufficiency.config import SolverSettings
from sufficiency.errors import InputError, Issue, SolveError
from sufficiency.formulation import MONEY_SCALE, PlanModel

OPTIMAL, TIME_LIMIT, INFEASIBLE, ERROR = "optimal", "time_limit", "infeasible", "error"
_STOPPED_EARLY = {TerminationCondition.maxTimeLimit, TerminationCondition.iterationLimit,
                  TerminationCondition.interrupted}
_INFEASIBLE = {TerminationCondition.provenInfeasible, TerminationCondition.infeasibleOrUnbounded,
               TerminationCondition.locallyInfeasible}


@dataclass(frozen=True)
class SolveReport:
    """What the solver achieved: status, objective and bound (£), gap, timings."""

    status: str
    termination: str
    objective: float | None
    bound: float | None
    mip_gap: float | None
    solve_seconds: float
    hand_over_seconds: float
    solver: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "status": self.status, "termination": self.termination,
            "objective": self.objective, "bound": self.bound, "mip_gap": self.mip_gap,
            "solve_seconds": round(self.solve_seconds, 3),
            "hand_over_seconds": round(self.hand_over_seconds, 3), "solver": self.solver,
        }


def quiet_highs() -> highspy.Highs:
    """A highspy instance, made without its banner on standard output."""
    with capture_output(capture_fd=True):
        highs = highspy.Highs()
        highs.setOptionValue("output_flag", False)
    return highs


def highs_options(settings: SolverSettings) -> dict[str, Any]:
    """HiGHS options of a run, checked by name and value against highspy itself."""
    options = {"threads": settings.threads, "random_seed": settings.random_seed,
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


def make_solver(settings: SolverSettings) -> Highs:
    """A persistent HiGHS solver set up never to raise on non-optimal results."""
    with capture_output(capture_fd=True):
        solver = Highs()
    solver.config.load_solutions = False
    solver.config.raise_exception_on_nonoptimal_result = False
    solver.config.solver_options.update(
        {k: v for k, v in highs_options(settings).items() if k != "time_limit"})
    solver.config.time_limit = settings.time_limit_s
    return solver


def _gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None:
        return None
    return abs(objective - bound) / max(abs(objective), 1e-9)


def solve_model(plan_model: PlanModel, solver: Highs) -> SolveReport:
    """Solve, load the incumbent into the Pyomo variables, and report honestly."""
    started = time.perf_counter()
    results = solver.solve(plan_model.model)
    wall = time.perf_counter() - started
    highs_seconds = float(getattr(results.timing_info, "highs_time", wall) or wall)
    condition = results.termination_condition
    has_solution = results.incumbent_objective is not None
    if has_solution:
        results.solution_loader.load_vars()
    objective = results.incumbent_objective * MONEY_SCALE if has_solution else None
    bound = results.objective_bound * MONEY_SCALE if results.objective_bound is not None else None
    if condition == TerminationCondition.convergenceCriteriaSatisfied and has_solution:
        status = OPTIMAL
    elif condition in _STOPPED_EARLY and has_solution:
        status = TIME_LIMIT
    elif condition in _INFEASIBLE:
        status = INFEASIBLE
    else:
        status = ERROR
    gap = 0.0 if status == OPTIMAL and plan_model.size["integer_variables"] == 0 else _gap(
        objective, bound)
    if status == OPTIMAL and gap is None:
        gap = 0.0
    return SolveReport(status=status, termination=condition.name, objective=objective,
                       bound=bound, mip_gap=gap, solve_seconds=highs_seconds,
                       hand_over_seconds=max(wall - highs_seconds, 0.0),
                       solver="HiGHS " + ".".join(str(v) for v in solver.version()))


def require_plan(report: SolveReport, what: str) -> None:
    """Raise :class:`SolveError` when a solve gave no usable plan."""
    if report.status in (OPTIMAL, TIME_LIMIT):
        return
    if report.termination == TerminationCondition.maxTimeLimit.name:
        raise SolveError(f"{what}: the time limit was reached before any plan was found; "
                         "raise [solver] time_limit_s in the run TOML")
    raise SolveError(f"{what}: HiGHS ended with '{report.termination}' and no usable plan")
