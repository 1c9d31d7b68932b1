"""Solve a built model with HiGHS (through Pyomo's persistent highspy interface).

Never raises on a time-limited incumbent (pitfall 3): the status comes from the
termination condition, the incumbent and the bound. Option names are checked against
highspy before solving (pitfall 4), and threads and the random seed are always set so the
same inputs give the same plan (pitfall 7).
"""

from __future__ import annotations

import math
import time
from typing import Any

import highspy
from pyomo.common.tee import capture_output
from pyomo.contrib.solver.common.results import TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs

from sufficiency.errors import InputError, Issue, SolveError
from sufficiency.formulation import MONEY_SCALE, PlanModel
from sufficiency.outcome import SolveReport, SolveStatus
from sufficiency.preprocess.config import SolverSettings

SOLUTION_FEASIBLE = 2  # HiGHS's primal/dual_solution_status of a feasible solution
_STOPPED_EARLY = {TerminationCondition.maxTimeLimit, TerminationCondition.iterationLimit,
                  TerminationCondition.interrupted}
_INFEASIBLE = {TerminationCondition.provenInfeasible, TerminationCondition.infeasibleOrUnbounded,
               TerminationCondition.locallyInfeasible}


def timed_run(highs: highspy.Highs, clock: list[float]) -> None:
    """Run HiGHS, adding its seconds to ``clock[0]`` (the benchmark books them as HiGHS's)."""
    started = time.perf_counter()
    highs.run()
    clock[0] += time.perf_counter() - started


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


def _gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None:
        return None
    return abs(objective - bound) / max(abs(objective), 1e-9)


def _status(optimal: bool, stopped_early: bool, infeasible: bool,
            has_solution: bool) -> SolveStatus:
    if optimal and has_solution:
        return SolveStatus.OPTIMAL
    if stopped_early:
        return SolveStatus.TIME_LIMIT if has_solution else SolveStatus.NO_PLAN_IN_TIME
    return SolveStatus.INFEASIBLE if infeasible else SolveStatus.ERROR


def _report(status: SolveStatus, termination: str, objective_k: float | None, bound_k: float | None,
            integer: bool, solve_seconds: float, hand_over_seconds: float,
            version: str) -> SolveReport:
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


class PyomoHighs:
    """Pyomo's own persistent HiGHS interface: walks every constraint expression (slower).

    Used with ``[formulation] matrix_constraints = false``, and as the reference the direct
    hand-over is tested against.
    """

    def __init__(self, settings: SolverSettings):
        with capture_output(capture_fd=True):
            self.solver = Highs()
        self.solver.config.load_solutions = False
        self.solver.config.raise_exception_on_nonoptimal_result = False
        self.solver.config.solver_options.update(
            {k: v for k, v in highs_options(settings).items() if k != "time_limit"})
        self.solver.config.time_limit = settings.time_limit_s

    def solve(self, plan_model: PlanModel) -> SolveReport:
        """Solve, load the incumbent into the Pyomo variables, and report honestly."""
        started = time.perf_counter()
        if self.solver._solver_model is not None:  # noqa: SLF001 - no public accessor
            # a run's solution would be the next run's MIP start (see DirectHighs.run)
            self.solver._solver_model.clearSolver()  # noqa: SLF001
        results = self.solver.solve(plan_model.model)
        wall = time.perf_counter() - started
        highs_seconds = float(getattr(results.timing_info, "highs_time", wall) or wall)
        condition = results.termination_condition
        has_solution = results.incumbent_objective is not None
        if has_solution:
            results.solution_loader.load_vars()
        status = _status(condition == TerminationCondition.convergenceCriteriaSatisfied,
                         condition in _STOPPED_EARLY, condition in _INFEASIBLE, has_solution)
        return _report(status, condition.name, results.incumbent_objective,
                       results.objective_bound, plan_model.size["integer_variables"] > 0,
                       highs_seconds, max(wall - highs_seconds, 0.0),
                       ".".join(str(v) for v in self.solver.version()))

    def use_start(self, plan_model: PlanModel) -> None:
        """No MIP start through this interface (kept simple: it is the reference path)."""

    def write_mps(self, path: str) -> None:
        """Write the model HiGHS received."""
        self.solver._solver_model.writeModel(path)  # noqa: SLF001 - no public accessor


def make_solver(settings: SolverSettings, matrix_constraints: bool = True):
    """The HiGHS hand-over for the model's constraint form (see :mod:`sufficiency.solve.direct`)."""
    if matrix_constraints:
        from sufficiency.solve.direct import DirectHighs

        return DirectHighs(settings)
    return PyomoHighs(settings)


def solve_model(plan_model: PlanModel, solver) -> SolveReport:
    """Solve ``plan_model`` with ``solver``; values are loaded into the Pyomo variables."""
    return solver.solve(plan_model)


def require_plan(report: SolveReport, what: str) -> None:
    """Raise :class:`SolveError` when a solve gave no usable plan."""
    if report.status in (SolveStatus.OPTIMAL, SolveStatus.TIME_LIMIT):
        return
    if report.status == SolveStatus.NO_PLAN_IN_TIME:
        raise SolveError(f"{what}: HiGHS stopped ({report.termination}) before any plan was "
                         "found; raise [solver] time_limit_s (or the limit set in "
                         "[solver.options]) in the run TOML")
    raise SolveError(f"{what}: HiGHS ended with '{report.termination}' and no usable plan")
