"""Stage 3: every line that speaks HiGHS (options, status, backends, starts, cuts, prices).

:mod:`~sufficiency.solve.highs` checks options and maps how HiGHS stopped to a
:class:`~sufficiency.outcome.SolveReport`; :mod:`~sufficiency.solve.direct` hands a matrix
model over in one call (the default); :mod:`~sufficiency.solve.reference` is Pyomo's own
interface, the reference the direct path is tested against.
"""

from __future__ import annotations

from typing import Protocol

from sufficiency.errors import SolveError
from sufficiency.formulation import PlanModel
from sufficiency.outcome import SolveReport, SolveStatus
from sufficiency.preprocess.config import SolverSettings
from sufficiency.solve.direct import DirectHighs
from sufficiency.solve.highs import highs_options
from sufficiency.solve.reference import PyomoHighs

__all__ = ["DirectHighs", "PyomoHighs", "Solver", "highs_options", "make_solver",
           "require_plan", "solve_model"]


class Solver(Protocol):
    """What the pipeline asks of a HiGHS hand-over; MIP starts and duals: :class:`DirectHighs`."""

    def solve(self, plan_model: PlanModel) -> SolveReport:
        """Solve, load the incumbent into the Pyomo variables, and report honestly."""

    def use_start(self, plan_model: PlanModel) -> None:
        """Give the Pyomo variables' current values as the next MIP start (if supported)."""

    def write_mps(self, path: str) -> None:
        """Write the model HiGHS received."""


def make_solver(settings: SolverSettings, matrix_constraints: bool = True) -> Solver:
    """The HiGHS hand-over for the model's constraint form (see :mod:`sufficiency.solve.direct`)."""
    return DirectHighs(settings) if matrix_constraints else PyomoHighs(settings)


def solve_model(plan_model: PlanModel, solver: Solver) -> SolveReport:
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
