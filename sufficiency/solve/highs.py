"""What every HiGHS hand-over shares: checked options, a quiet instance, status and report.

Never raises on a time-limited incumbent (pitfall 3): the status comes from how HiGHS
stopped, the incumbent and the bound. A run file's option names are checked against an
allow-list before HiGHS sees them, values against highspy before solving (pitfall 4), and
threads and the random seed are always set so the same inputs
give the same plan (pitfall 7).
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import highspy
from pyomo.common import dependencies
from pyomo.common.tee import capture_output

from sufficiency.errors import InputError, Issue
from sufficiency.formulation import MONEY_SCALE
from sufficiency.outcome import SolveReport, SolveStatus
from sufficiency.preprocess.config import SolverSettings
from sufficiency.solve.interrupt import run_stoppable
from sufficiency.tolerances import GAP_DENOMINATOR

SOLUTION_FEASIBLE = 2  # HiGHS's primal/dual_solution_status of a feasible solution


def limit_this_run(highs: highspy.Highs, seconds: float) -> None:
    """Let ``highs``'s next run take at most ``seconds`` from now.

    HiGHS checks ``time_limit`` against its run clock, which counts every run of the same
    instance since it was made (1.16; ``clearSolver`` and new bounds keep it): a limit set
    alone would give a re-solve only what the earlier runs left of it.
    """
    highs.setOptionValue("time_limit", highs.getRunTime() + max(seconds, 0.0))


@dataclass
class HighsClock:
    """HiGHS's own seconds over several runs (the benchmark books them as HiGHS's, not ours).

    ``deadline``: a ``time.perf_counter()`` instant no run goes past (the end of a time
    limit shared by several runs); infinite for none.
    """

    seconds: float = 0.0
    deadline: float = math.inf

    def seconds_left(self) -> float:
        """Seconds until the deadline (infinite without one; 0 once past)."""
        return max(0.0, self.deadline - time.perf_counter())

    def run(self, highs: highspy.Highs, seconds: float = math.inf) -> None:
        """Run HiGHS for at most ``seconds`` and until the deadline, adding its seconds.

        Without either, the instance's own ``time_limit`` stands. Ctrl-C or SIGTERM stop
        it (see ``interrupt``).
        """
        seconds = min(seconds, self.seconds_left())
        if math.isfinite(seconds):
            limit_this_run(highs, seconds)
        started = time.perf_counter()
        run_stoppable(highs)
        self.seconds += time.perf_counter() - started


def _own_capture_lock() -> None:
    """In a forked child: a lock of its own for Pyomo's ``capture_output`` (quiet_highs).

    Pyomo turns that lock into a ``multiprocessing.Lock``, one semaphore shared with every
    forked child (:mod:`sufficiency.forked`); a child stopped while it made a quiet HiGHS
    would leave it taken, and the parent's next :func:`quiet_highs` would wait 200 s and fail.
    """
    dependencies.capture_output_lock = threading.Lock()


os.register_at_fork(after_in_child=_own_capture_lock)


def quiet_highs(options: Mapping[str, Any] | None = None) -> highspy.Highs:
    """A highspy instance, made without its banner on standard output, with ``options`` set."""
    with capture_output(capture_fd=True):
        highs = highspy.Highs()
        highs.setOptionValue("output_flag", False)
    for key, value in (options or {}).items():
        highs.setOptionValue(key, value)
    return highs


RESERVED_OPTIONS = ("mip_rel_gap", "presolve", "random_seed", "threads", "time_limit")
# What a run TOML's [solver.options] may set: numerical and algorithmic choices only
# (docs/inputs.md lists them). A run file may come from anywhere, so nothing that names a
# file (HiGHS creates log_file as soon as it is set), writes output, reads input, changes
# the threads or the process (hipo_serial_blas), or stops HiGHS with a status of its own.
ALLOWED_OPTIONS = frozenset({
    # tolerances and gaps
    "primal_feasibility_tolerance", "dual_feasibility_tolerance", "primal_residual_tolerance",
    "dual_residual_tolerance", "optimality_tolerance", "kkt_tolerance",
    "ipm_optimality_tolerance", "pdlp_optimality_tolerance", "start_crossover_tolerance",
    "mip_feasibility_tolerance", "mip_abs_gap",
    # limits
    "simplex_iteration_limit", "simplex_update_limit", "ipm_iteration_limit",
    "pdlp_iteration_limit", "mip_max_nodes", "mip_max_leaves", "mip_max_stall_nodes",
    "mip_max_improving_sols", "mip_max_start_nodes",
    # LP algorithm
    "solver", "run_crossover", "simplex_strategy", "simplex_scale_strategy",
    "simplex_crash_strategy", "simplex_dual_edge_weight_strategy",
    "simplex_primal_edge_weight_strategy", "simplex_dualize_strategy",
    "simplex_permute_strategy", "simplex_price_strategy", "ipx_dualize_strategy",
    "hipo_system", "hipo_ordering", "hipo_factor", "hipo_block_size", "pdlp_scaling_mode",
    "pdlp_ruiz_iterations", "pdlp_restart_strategy", "pdlp_step_size_strategy",
    # MIP: LP solver, search, heuristics, cuts and their pool
    "mip_lp_solver", "mip_ipm_solver", "mip_detect_symmetry", "mip_allow_restart",
    "mip_root_presolve_only", "mip_lifting_for_probing", "mip_pscost_minreliable",
    "mip_heuristic_effort", "mip_heuristic_run_feasibility_jump", "mip_heuristic_run_rins",
    "mip_heuristic_run_rens", "mip_heuristic_run_root_reduced_cost",
    "mip_heuristic_run_zi_round", "mip_heuristic_run_shifting",
    "mip_allow_cut_separation_at_nodes", "mip_lp_age_limit", "mip_pool_age_limit",
    "mip_pool_soft_limit",
    # presolve (on/off is [solver] presolve)
    "presolve_mode", "presolve_reduction_limit", "restart_presolve_reduction_limit",
    "presolve_rule_off", "presolve_substitution_maxfillin", "presolve_remove_slacks",
    "presolve_pivot_threshold",
})


def _option_issue(key: str, message: str, fix: str) -> Issue:
    """A problem with ``[solver.options]`` entry ``key``."""
    return Issue("run TOML", None, f"solver.options.{key}", message, fix, column_label="key")


def _accepts(probe: highspy.Highs, key: str, value: Any) -> bool:
    """Whether HiGHS takes ``value`` for option ``key`` (an allowed name: touches no file)."""
    if not isinstance(value, bool | int | float | str):
        return False  # a TOML table, list or date: no HiGHS option takes one
    try:
        return bool(probe.setOptionValue(key, value) == highspy.HighsStatus.kOk)
    except TypeError:
        return False


def highs_options(settings: SolverSettings) -> dict[str, Any]:
    """HiGHS options of a run: ``[solver]`` and the allowed ``[solver.options]``, checked.

    Names are checked against :data:`RESERVED_OPTIONS` and :data:`ALLOWED_OPTIONS` before
    HiGHS sees any of them (HiGHS acts on some names when they are set), then values
    against highspy itself.
    """
    options: dict[str, Any] = {
        "threads": settings.threads, "random_seed": settings.random_seed,
        "presolve": settings.presolve, "mip_rel_gap": settings.mip_gap,
        "time_limit": settings.time_limit_s, "output_flag": False}
    reserved = sorted(set(settings.options) & set(RESERVED_OPTIONS))
    if reserved:
        raise InputError([_option_issue(key, "is set by the [solver] table itself",
                                        "use [solver] time_limit_s, mip_gap, threads, "
                                        "random_seed or presolve instead")
                          for key in reserved])
    refused = sorted(set(settings.options) - ALLOWED_OPTIONS)
    if refused:
        raise InputError([_option_issue(key, "not an allowed HiGHS option here; allowed: see "
                                        "docs/inputs.md", "[solver.options] takes numerical "
                                        "and algorithmic HiGHS options only")
                          for key in refused])
    options.update(settings.options)
    probe = quiet_highs()
    bad = [key for key, value in options.items() if not _accepts(probe, key, value)]
    if bad:
        raise InputError([_option_issue(key, f"HiGHS does not accept option {key} = "
                                        f"{options[key]!r}", "check the value's type and "
                                        "range in the HiGHS options list") for key in bad])
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
