"""The reference hand-over: Pyomo's own persistent HiGHS interface (slower, walks every row).

Used with ``[formulation] matrix_constraints = false``, and as the reference the direct
hand-over (:mod:`sufficiency.solve.direct`) is tested against.
"""

from __future__ import annotations

import time
from typing import Any

import highspy
from pyomo.common.tee import capture_output
from pyomo.contrib.solver.common.results import TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs

from sufficiency.formulation import PlanModel
from sufficiency.outcome import SolveReport
from sufficiency.preprocess.config import SolverSettings
from sufficiency.solve.highs import highs_options, solve_report, solve_status
from sufficiency.solve.interrupt import run_stoppable

_STOPPED_EARLY = {TerminationCondition.maxTimeLimit, TerminationCondition.iterationLimit,
                  TerminationCondition.interrupted}
_INFEASIBLE = {TerminationCondition.provenInfeasible, TerminationCondition.infeasibleOrUnbounded,
               TerminationCondition.locallyInfeasible}


class _StoppableHighs(Highs):  # type: ignore[misc]  # Pyomo has no types
    """Pyomo's persistent HiGHS interface whose every run Ctrl-C or SIGTERM stops at once."""

    def _solve(self) -> Any:
        """Pyomo's solve, its ``run`` of HiGHS made stoppable (the highspy object exists now)."""
        highs = self._solver_model
        highs.__dict__["run"] = lambda: run_stoppable(highs, lambda: highspy.Highs.run(highs))
        try:
            return super()._solve()
        finally:
            del highs.__dict__["run"]


class PyomoHighs:
    """Pyomo's own persistent HiGHS interface: walks every constraint expression."""

    def __init__(self, settings: SolverSettings):
        """A Pyomo HiGHS solver with the run's checked options; solutions loaded by hand."""
        with capture_output(capture_fd=True):
            self.solver = _StoppableHighs()
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
        status = solve_status(condition == TerminationCondition.convergenceCriteriaSatisfied,
                              condition in _STOPPED_EARLY, condition in _INFEASIBLE, has_solution)
        return solve_report(status, condition.name, results.incumbent_objective,
                            results.objective_bound, plan_model.size["integer_variables"] > 0,
                            highs_seconds, max(wall - highs_seconds, 0.0),
                            ".".join(str(v) for v in self.solver.version()))

    def use_start(self, plan_model: PlanModel) -> None:
        """No MIP start through this interface (kept simple: it is the reference path)."""

    def write_mps(self, path: str) -> None:
        """Write the model HiGHS received."""
        self.solver._solver_model.writeModel(path)  # noqa: SLF001 - no public accessor
