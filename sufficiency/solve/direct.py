"""Hand a matrix model to HiGHS in one call, and load the answer back.

A :class:`~sufficiency.formulation.MatrixModel` (the plan model, or a model composed from
its blocks) holds its constraints as CSR row blocks over its Pyomo columns
(:func:`sufficiency.formulation.matrix.block_csr`); this module passes those same arrays,
the Pyomo variables' current bounds, domains and fixings, and the cost vector to highspy
in one ``passModel``. Pyomo's own HiGHS interface (:mod:`sufficiency.solve.reference`)
would instead walk every row's expression in Python (measured: 6 s of 9 s at scale L).
Re-solving after fixing variables (do nothing) only updates column bounds. The result is
cross-checked against Pyomo's own interface in the tests.
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import highspy
import numpy as np
from pyomo.core.base.var import VarData

from sufficiency.formulation import MatrixModel
from sufficiency.outcome import SolveReport
from sufficiency.preprocess.config import SolverSettings
from sufficiency.solve.blocks import solve_by_blocks, solve_lp, split_rows
from sufficiency.solve.highs import (
    SOLUTION_FEASIBLE,
    highs_options,
    limit_this_run,
    quiet_highs,
    solve_report,
    solve_status,
)
from sufficiency.solve.interrupt import run_stoppable
from sufficiency.tolerances import OBJECTIVE_AGREEMENT_REL

if TYPE_CHECKING:
    from sufficiency.solve.beside import StartBeside
    from sufficiency.solve.rounding import StartResult

MIN_RUN_SECONDS = 1.0  # a run charged its whole time limit still gets this long
# HiGHS's termination when the start came too late for its root to end within the limit
STOPPED_LATE = ("Time limit reached: stopped when the start arrived, with too little time left "
                "for HiGHS's root to end")
_OPTIMAL = {highspy.HighsModelStatus.kOptimal}
_STOPPED = {highspy.HighsModelStatus.kTimeLimit, highspy.HighsModelStatus.kIterationLimit,
            highspy.HighsModelStatus.kSolutionLimit, highspy.HighsModelStatus.kInterrupt}
_INFEASIBLE = {highspy.HighsModelStatus.kInfeasible,
               highspy.HighsModelStatus.kUnboundedOrInfeasible}


def _malloc_trim() -> Callable[[int], int] | None:
    """The C library's ``malloc_trim`` (glibc), or None where it has none (macOS, musl)."""
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return None
    return trim


_TRIM = _malloc_trim()


def release_freed_memory() -> None:
    """Give memory freed since the last HiGHS run back to the system, before the next one.

    glibc keeps freed blocks in the free lists of the thread that freed them (the model
    copies handed over here, the start's LPs); HiGHS runs in a thread of its own, so it
    cannot reuse them and its peak comes on top. Measured at L: 100 MB less before the MIP,
    about 50 MB off the plan command's peak; ~0.1 s per 500 MB given back. Only RSS changes.
    """
    if _TRIM is not None:
        _TRIM(0)


def column_bounds(columns: list[VarData]) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of the Pyomo variables now (a fixed variable: its value)."""
    lower = np.empty(len(columns))
    upper = np.empty(len(columns))
    for j, var in enumerate(columns):
        if var.fixed:
            lower[j] = upper[j] = var.value
        else:
            lb, ub = var.bounds
            lower[j] = -highspy.kHighsInf if lb is None else lb
            upper[j] = highspy.kHighsInf if ub is None else ub
    return lower, upper


def highs_lp(model: MatrixModel) -> highspy.HighsLp:
    """The whole model as a highspy LP/MIP: row-wise matrix, bounds, costs, integrality.

    ``model.cost`` (model money units per column) and ``model.constant`` make the
    objective; bounds, fixings and integrality come from the Pyomo variables.
    """
    csrs, columns = model.rows, model.columns
    row_starts = np.cumsum([0] + [len(c.data) for c in csrs[:-1]])
    lp = highspy.HighsLp()
    lp.num_col_ = len(columns)
    lp.num_row_ = sum(len(c.lower) for c in csrs)
    lp.col_cost_ = np.asarray(model.cost, dtype=float)
    lp.offset_ = float(model.constant)
    lp.col_lower_, lp.col_upper_ = column_bounds(columns)
    lp.row_lower_ = np.concatenate([np.where(np.isfinite(c.lower), c.lower, -highspy.kHighsInf)
                                    for c in csrs])
    lp.row_upper_ = np.concatenate([np.where(np.isfinite(c.upper), c.upper, highspy.kHighsInf)
                                    for c in csrs])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.concatenate([c.indptr[:-1] + s for c, s in zip(csrs, row_starts,
                                                                            strict=True)]
                                         + [np.array([sum(len(c.data) for c in csrs)])])
    lp.a_matrix_.index_ = np.concatenate([c.indices for c in csrs])
    lp.a_matrix_.value_ = np.concatenate([c.data for c in csrs])
    integer = [var.is_integer() for var in columns]
    lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                       for i in integer]
    return lp


def best_known(objective: float | None, bound: float | None, known_bound: float | None,
               arrived: StartResult | None) -> tuple[float | None, float | None,
                                                    np.ndarray | None]:
    """A stopped run's objective and bound (£k), with what was proven beside HiGHS.

    ``known_bound``: a bound given before the run; ``arrived``: the start found beside it
    (:mod:`sufficiency.solve.beside`), whose plan (returned, else None) replaces HiGHS's
    when cheaper. The bound is the best proven, never above the plan's cost.
    """
    plan = None
    if arrived is not None and arrived.plan is not None and (
            objective is None or arrived.plan.objective < objective):
        objective, plan = arrived.plan.objective, arrived.plan.values
    bounds = [proven for proven in (bound, known_bound,
                                    arrived.bound if arrived is not None else None)
              if proven is not None]
    if objective is not None and bounds:
        bound = min(objective, max(bounds))
    return objective, bound, plan


class DirectHighs:
    """A persistent highspy solver for one matrix model (plan or composed) at a time."""

    def __init__(self, settings: SolverSettings):
        """A solver with the run's checked options; no model handed over yet."""
        self.options = highs_options(settings)
        self.highs: highspy.Highs | None = None
        self.model_id: int | None = None
        self._start: np.ndarray | None = None  # MIP start given to HiGHS just before it runs
        self._charged_seconds = 0.0  # taken off the next run's time limit
        self._known_bound: float | None = None  # £k, proven lower bound for the next run
        self._beside: StartBeside | None = None  # a start found during the next run
        self._arrived: StartResult | None = None  # what that start found, once it ran
        self._stopped_late = False  # the last run was stopped when that start came late
        self.discarded_starts = 0  # starts HiGHS misread, whose runs were repeated without
        self._cost = np.zeros(0)  # objective of the model handed over (£k per column), and
        self._offset = 0.0  # its constant: only bounds change after the hand-over

    @property
    def loaded(self) -> highspy.Highs:
        """The highspy instance holding the model handed over."""
        if self.highs is None:
            raise RuntimeError("no model has been handed to HiGHS yet")
        return self.highs

    def _load(self, model: MatrixModel) -> None:
        """A fresh highspy instance with the run's options, holding ``model``."""
        self.highs = self._new_highs()
        lp = self.lp(model)
        self.highs.passModel(lp)
        self._cost, self._offset = np.array(lp.col_cost_, dtype=float), float(lp.offset_)
        self.model_id = id(model)

    def lp(self, model: MatrixModel) -> highspy.HighsLp:
        """The highspy model handed over for ``model``."""
        return highs_lp(model)

    def _sync(self, model: MatrixModel) -> None:
        """Hand ``model`` over (first time) or update HiGHS's column bounds to it."""
        if self.model_id != id(model):
            self._load(model)
        else:
            self._update_bounds(model)

    def _update_bounds(self, model: MatrixModel) -> None:
        """Set HiGHS's column bounds to the Pyomo variables' bounds and fixings now."""
        lower, upper = column_bounds(model.columns)
        self.loaded.changeColsBounds(len(lower), np.arange(len(lower), dtype=np.int32),
                                    lower, upper)

    def solve(self, model: MatrixModel) -> SolveReport:
        """Solve, load the incumbent into the Pyomo variables, and report honestly."""
        started = time.perf_counter()
        self._sync(model)
        hand_over = time.perf_counter() - started
        solve_started = time.perf_counter()
        self.run()
        solve_seconds = time.perf_counter() - solve_started
        highs = self.loaded
        status = highs.getModelStatus()
        info = highs.getInfo()
        has_solution = info.primal_solution_status == SOLUTION_FEASIBLE
        if has_solution:
            self._load_values(model, highs.getSolution().col_value)
        integer = model.size["integer_variables"] > 0 and info.mip_node_count >= 0
        objective = info.objective_function_value if has_solution else None
        bound = info.mip_dual_bound if integer else None
        if status in _STOPPED:
            objective, bound, plan = best_known(objective, bound, self._known_bound,
                                                self._arrived)
            if plan is not None:
                self._load_values(model, plan)
            has_solution = objective is not None
        self._known_bound = self._arrived = None
        termination = STOPPED_LATE if self._stopped_late else highs.modelStatusToString(status)
        return solve_report(
            solve_status(status in _OPTIMAL, status in _STOPPED, status in _INFEASIBLE,
                         has_solution),
            termination, objective, bound,
            integer, solve_seconds, hand_over, highs.version())

    @staticmethod
    def _load_values(model: MatrixModel, values: Sequence[float] | np.ndarray) -> None:
        """Set the Pyomo variables to a plan's values, one per column in column order."""
        for var, value in zip(model.columns, values, strict=True):
            var.set_value(value, skip_validation=True)

    def use_start(self, model: MatrixModel) -> None:
        """Give the Pyomo variables' current values (e.g. do nothing) as the next MIP start.

        Do nothing is always feasible when independent placement is allowed, so a
        time-limited solve always has an incumbent at least as good as doing nothing.
        """
        values = np.array([var.value or 0.0 for var in model.columns])
        self._sync(model)
        self.set_start(values)

    def set_start(self, values: np.ndarray) -> None:
        """Give ``values`` (one per column) as the next run's MIP start; bounds are left alone."""
        self._start = values

    def switch_off_rows(self, model: MatrixModel, rows: np.ndarray) -> None:
        """Free ``rows`` of ``model`` in HiGHS (valid inequalities the MIP does without).

        Their bounds become infinite, so HiGHS's presolve drops them and every row keeps its
        number; they stay off for every later run of this instance (:mod:`.links`).
        """
        self._sync(model)
        count = len(rows)
        self.loaded.changeRowsBounds(  # type: ignore[attr-defined]  # not in its stubs
            count, np.asarray(rows, dtype=np.int32), np.full(count, -highspy.kHighsInf),
            np.full(count, highspy.kHighsInf))

    def start_beside(self, beside: StartBeside) -> None:
        """Hand HiGHS ``beside``'s start during the next run; compare plans at its end.

        See :mod:`sufficiency.solve.beside`: HiGHS waits for it after its root LP; when HiGHS
        stops at its limit earlier, the start's plan and bound count where they are better.
        """
        self._beside = beside

    def charge(self, seconds: float) -> None:
        """Take ``seconds`` spent on the next run's behalf (its start) off its time limit.

        So the run as a whole keeps the limit the planner set.
        """
        self._charged_seconds += seconds

    def next_run_seconds(self) -> float:
        """The next run's time limit (seconds): the run TOML's, less what is charged so far."""
        return max(float(self.options["time_limit"]) - self._charged_seconds, MIN_RUN_SECONDS)

    def know_bound(self, bound: float) -> None:
        """A proven lower bound (£k) on the next run's optimum, e.g. its LP relaxation.

        Reported when HiGHS stops with a weaker bound of its own, as it does when the
        time limit falls inside its root LP.
        """
        self._known_bound = bound

    def run(self, time_limit_s: float | None = None) -> None:
        """Run HiGHS on its model as it stands, from a cleared state, with the pending start.

        ``time_limit_s``: this run's limit (default: the run TOML's), less the charge.
        Every run starts with :meth:`highspy.Highs.clearSolver`: HiGHS otherwise takes the
        previous run's solution as a MIP start (``Highs::callSolveMip`` keeps a valid
        ``solution_`` as a "user solution"). The only state carried is the start given
        through :meth:`set_start`, handed over last: HiGHS silently drops a solution it
        was given when any bound changes afterwards. A start is checked after the run
        (:meth:`_start_was_misread`) and, when HiGHS misread it, the run is repeated
        without it.
        """
        limit = self.options["time_limit"]
        charged, self._charged_seconds = self._charged_seconds, 0.0
        this_run = (limit if time_limit_s is None else time_limit_s) - charged
        start, self._start = self._start, None
        beside, self._beside = self._beside, None
        started = time.perf_counter()
        try:
            self._run_cleared(this_run, start, beside)
            if (start is not None or beside is not None) and self._start_was_misread():
                self.discarded_starts += 1
                left = this_run - (time.perf_counter() - started)
                self._run_cleared(left, None, None)
        except BaseException as error:
            if beside is not None:
                beside.at_end()  # its child stopped
            # Ctrl-C, SIGTERM: HiGHS may still be stopping in its thread; leave it be
            if not isinstance(error, KeyboardInterrupt):
                self.loaded.setOptionValue("time_limit", limit)
            raise
        self._stopped_late = False
        if beside is not None:
            status = self.loaded.getModelStatus()
            self._arrived = beside.at_end(wait=status in _STOPPED)
            self._stopped_late = beside.late and status == highspy.HighsModelStatus.kInterrupt
        self.loaded.setOptionValue("time_limit", limit)

    def _run_cleared(self, time_limit_s: float, start: np.ndarray | None,
                     beside: StartBeside | None) -> None:
        """One HiGHS run from a cleared solver state: no solution or basis of earlier runs."""
        highs = self.loaded
        highs.clearSolver()
        time_limit_s = max(time_limit_s, MIN_RUN_SECONDS)
        limit_this_run(highs, time_limit_s)
        if start is not None:
            highs.setSolution(len(start), np.arange(len(start), dtype=np.int32), start)
        release_freed_memory()
        if beside is None:
            run_stoppable(highs)  # Ctrl-C and SIGTERM stop it at once, then raise
            return
        beside.begin(time_limit_s)
        highs.cbMipUserSolution += beside.offer
        highs.cbMipInterrupt += beside.stop_if_late
        try:
            run_stoppable(highs)
        finally:
            highs.cbMipUserSolution -= beside.offer
            highs.cbMipInterrupt -= beside.stop_if_late

    def _start_was_misread(self) -> bool:
        """Whether HiGHS's objective disagrees with the cost of the columns it returned.

        HiGHS 1.16 maps a MIP start into its presolved space and takes the start's
        objective there; when presolve made reductions the start does not satisfy (a
        dual reduction keeps only *some* optimum), that objective is wrong. Measured on
        OR-Library cap71: the do-nothing start (£582,680k) was read as £115.42k, below
        the true optimum (£932.62k), so HiGHS pruned every node and returned the start
        labelled optimal. The returned columns then cost more than the objective stated.
        """
        highs = self.loaded
        if highs.getInfo().primal_solution_status != SOLUTION_FEASIBLE:
            return False
        values = np.asarray(highs.getSolution().col_value)
        recomputed = float(np.dot(self._cost, values)) + self._offset
        stated = highs.getInfo().objective_function_value
        return abs(recomputed - stated) > OBJECTIVE_AGREEMENT_REL * max(1.0, abs(recomputed))

    def write_mps(self, path: str) -> None:
        """Write the model HiGHS received."""
        self.loaded.writeModel(path)

    def solve_lp_duals(self, model: MatrixModel, column_block: np.ndarray | None = None,
                       ) -> tuple[float, np.ndarray] | None:
        """Solve the model as an LP at its variables' current bounds; return (objective, duals).

        Integer variables are relaxed to continuous, so fix them first (their bounds then
        pin them). The LP runs in fresh highspy instances with the run's options, leaving
        this solver's own model untouched. The objective is in £k; ``row_dual[r]`` is
        d(objective £k) / d(bound of row r), rows in the order of ``model.rows``.
        ``column_block``: a label per column (its year); when no row's free columns carry
        two labels, each block is solved as an LP of its own
        (:mod:`sufficiency.solve.blocks`), about half of them on the second core when HiGHS
        runs on one thread. None when HiGHS proves no optimal LP with a dual solution.
        """
        lp = self.lp(model)
        lp.integrality_ = []
        split = None if column_block is None else split_rows(lp, column_block)
        if column_block is not None and split is not None:
            solved = solve_by_blocks(lp, column_block, split, self._new_highs,
                                     beside=self.options["threads"] == 1)
        else:
            solved = solve_lp(lp, self._new_highs)
        return None if solved is None else (solved.objective, solved.row_dual)

    def _new_highs(self) -> highspy.Highs:
        """A quiet highspy instance with this run's options."""
        return quiet_highs(self.options)
