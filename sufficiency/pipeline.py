"""One planning run, end to end, with stage timings.

load → validate → sets → build → solve → extract → audit, then the do-nothing plan on
the same model with its openings fixed to zero. Writing is the caller's last step.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sufficiency.audit import audit
from sufficiency.errors import AuditError
from sufficiency.forked import Forked
from sufficiency.formulation import MONEY_SCALE, ModelSets, PlanModel, build_model, build_sets
from sufficiency.outcome import (
    PlanResult,
    Progress,
    RunResult,
    ShadowPrices,
    SolveStatus,
    StageTimer,
)
from sufficiency.preprocess.capital import cash_by_year
from sufficiency.preprocess.config import RunConfig, SolverSettings, load_run_config
from sufficiency.preprocess.dataset import Dataset, load_dataset
from sufficiency.preprocess.locks import Replan
from sufficiency.results import extract
from sufficiency.solve import (
    DirectHighs,
    Solver,
    highs_options,
    make_solver,
    require_plan,
    solve_model,
)
from sufficiency.solve.beside import StartBeside
from sufficiency.solve.gap import sufficiency_gap
from sufficiency.solve.highs import HighsClock
from sufficiency.solve.links import link_rows, separate_links
from sufficiency.solve.rounding import (
    SolvedRelaxation,
    StartResult,
    rounding_start,
    wants_start,
)
from sufficiency.solve.shadow import budget_value_by_resolve, shadow_prices

DO_NOTHING = "do-nothing"
# time_limit_covers = "plan": the work after the MIP (extract, audit, prices, outputs) takes
# 1.5-3 times the work before it (imports, read, build, do nothing), measured at S, M, L
# and XL (README, Performance); HiGHS keeps at least half the limit, whatever that says
AFTER_PER_BEFORE_MIP = 3.0
MIP_KEEPS_AT_LEAST = 0.5
# the start's LPs end this long before HiGHS's limit, so that HiGHS, which waits for the
# start until its own deadline, still receives it (a plan of 3 MB at XL: well under 0.1 s)
START_HANDED_OVER_S = 1.0


def validate_run(toml_path: str | Path, timer: StageTimer | None = None,
                 replan: Replan | None = None) -> tuple[Dataset, ModelSets]:
    """Read and check a run and its dataset, and build the model's sets (no solving).

    ``replan``: lock an earlier plan's openings (``plan --lock-until --from``).
    """
    timer = timer or StageTimer()
    with timer.stage("read_validate", "Reading and validating inputs"):
        config: RunConfig = load_run_config(toml_path)
        if replan is not None:
            config = dataclasses.replace(config, replan=replan)
        dataset = load_dataset(config)
        sets = build_sets(dataset)
        highs_options(config.solver)
    return dataset, sets


def _solve_and_check(plan_model: PlanModel, dataset: Dataset, solver: Solver, label: str,
                     timer: StageTimer, stage: str) -> PlanResult | None:
    with timer.stage(stage, f"Solving the {label} plan with HiGHS"):
        report = solve_model(plan_model, solver)
    timer.move(stage, "hand_over", report.hand_over_seconds)
    if report.status == SolveStatus.INFEASIBLE and label == DO_NOTHING:
        return None  # only possible with independent placement switched off
    if report.status == SolveStatus.INFEASIBLE:
        from sufficiency.solve.diagnose import explain_infeasible

        explain_infeasible(dataset, plan_model.sets)
    require_plan(report, f"the {label} plan")
    with timer.stage(f"{stage}_extract", f"Extracting and auditing the {label} plan"):
        result = extract(plan_model, dataset, report, label)
        audit(dataset, result)
    return result


def _start_from_rounding(plan_model: PlanModel, dataset: Dataset, solver: Solver,
                         do_nothing: PlanResult | None, timer: StageTimer) -> StartBeside | None:
    """Give HiGHS a start from the LP relaxation (if cheaper than do nothing) and its bound.

    The start is rounded or dived from the relaxation (:mod:`sufficiency.solve.rounding`).
    With one HiGHS thread it is found on the second core during the MIP
    (:mod:`sufficiency.solve.beside`; returned, to book HiGHS's wait for it). Otherwise it
    is found first, its seconds charged to the MIP's time limit, so the run keeps the
    planner's limit; when that leaves HiGHS inside its root LP (scale XL), the relaxation,
    raised by residual-capacity cuts, is the bound. With opening links and
    ``separate_links``, the relaxation is solved here first, adding only the links it needs;
    HiGHS's MIP keeps only those (:mod:`sufficiency.solve.links`).
    """
    settings = dataset.config.solver
    if (not isinstance(solver, DirectHighs)
            or not wants_start(settings.rounding_start, plan_model.size["nonzeros"])):
        return None
    lp_solver: DirectHighs = solver  # the narrowed type, for the closure
    links = link_rows(plan_model)
    relaxation = (_relaxation_with_needed_links(plan_model, lp_solver, links, timer)
                  if settings.separate_links and links.size else None)
    seconds = lp_solver.next_run_seconds() - START_HANDED_OVER_S  # ends before HiGHS

    def find_start() -> StartResult:
        return rounding_start(plan_model, lp_solver.lp(plan_model), lp_solver.options,
                              dataset.config, seconds, relaxation)

    if settings.threads == 1 and settings.start_beside:
        beside = StartBeside(find_start)
        if beside.started:
            relaxation = None  # the child has its copy; HiGHS gets this one's memory here
            solver.start_beside(beside)
            return beside
    started = time.perf_counter()
    with timer.stage("start", "Rounding and diving from the LP relaxation to a first plan"):
        found = find_start()
    timer.move("start", "start_highs", found.highs_seconds)
    solver.charge(time.perf_counter() - started)
    if found.bound is not None:
        solver.know_bound(found.bound)
    plan = found.plan
    if plan is not None and (do_nothing is None
                             or plan.objective * MONEY_SCALE < do_nothing.report.objective - 1.0):
        solver.set_start(plan.values)
    return None


def _relaxation_with_needed_links(plan_model: PlanModel, solver: DirectHighs,
                                  links: np.ndarray, timer: StageTimer,
                                  ) -> SolvedRelaxation | None:
    """The relaxation with only the opening links it needs; the rest switched off in HiGHS.

    Its seconds are charged to the MIP (:mod:`sufficiency.solve.links`); None (every link
    kept) when it is not solved within the start's share of the limit.
    """
    started = time.perf_counter()
    with timer.stage("start_links", "Solving the LP relaxation, adding the links it needs"):
        clock = HighsClock(deadline=started + solver.next_run_seconds())
        separated = separate_links(solver.lp(plan_model), links, solver.options, clock)
    solver.charge(time.perf_counter() - started)
    if separated is not None:
        solver.switch_off_rows(plan_model, np.setdiff1d(links, separated.needed))
        return separated.relaxation
    return None


def _charge_the_rest_of_the_plan(solver: Solver, settings: SolverSettings,
                                 timer: StageTimer) -> None:
    """With ``time_limit_covers = "plan"``: keep the whole command within the time limit.

    HiGHS's MIP is charged the seconds since the command started and an estimate of the
    work after it (:data:`AFTER_PER_BEFORE_MIP` times the work before), so the outputs are
    written about when the limit ends; it keeps :data:`MIP_KEEPS_AT_LEAST` of the limit.
    """
    if settings.time_limit_covers == "plan" and isinstance(solver, DirectHighs):
        solver.charge(plan_charge_s(timer.seconds_since_start(), settings.time_limit_s))


def plan_charge_s(before_mip_s: float, time_limit_s: float) -> float:
    """Seconds off the MIP's limit when the limit covers the plan: the work before and after.

    After is estimated as :data:`AFTER_PER_BEFORE_MIP` times before; the charge is at most
    (1 − :data:`MIP_KEEPS_AT_LEAST`) of the limit.
    """
    return min(before_mip_s * (1.0 + AFTER_PER_BEFORE_MIP),
               time_limit_s * (1.0 - MIP_KEEPS_AT_LEAST))


def check_no_worse_than_do_nothing(optimal: PlanResult, do_nothing: PlanResult) -> None:
    """Do nothing is a feasible plan, so the optimum may not cost more (beyond its gap)."""
    slack = (optimal.report.mip_gap or 0.0) * abs(optimal.total_cost) + 1.0
    if optimal.total_cost > do_nothing.total_cost + slack:
        raise AuditError(f"the optimal plan costs £{optimal.total_cost:,.2f}, more than doing "
                         f"nothing (£{do_nothing.total_cost:,.2f}) beyond its gap")


def run_plan(toml_path: str | Path, progress: Progress | None = None,
             mps_path: Path | None = None, *, replan_budget: bool = False,
             replan: Replan | None = None, started_at: float | None = None) -> RunResult:
    """Plan one run: do nothing, then the optimal plan started from it; both audited.

    ``mps_path``: also write the model HiGHS received, as MPS (for the benchmark).
    ``replan_budget``: also re-plan with £1m more in each binding budget year (an extra of
    ``sufficiency report`` and ``plan --why``; one MIP per binding year).
    ``replan``: the earlier plan's openings to lock (:mod:`sufficiency.preprocess.locks`).
    ``started_at``: when the command began (``time.time()``; default now), the origin of a
    ``time_limit_covers = "plan"`` limit.
    """
    timer = StageTimer(progress=progress)
    if started_at is not None:
        timer.started_at = started_at
    dataset, sets = validate_run(toml_path, timer, replan)
    return plan_dataset(dataset, sets, timer, mps_path, gap=True, replan_budget=replan_budget)


def plan_dataset(dataset: Dataset, sets: ModelSets, timer: StageTimer | None = None,
                 mps_path: Path | None = None, *, gap: bool = False,
                 replan_budget: bool = False) -> RunResult:
    """Plan an already validated dataset, as :func:`run_plan` does after reading it.

    Scenarios and sweeps call this with a modified dataset (other demand, other settings),
    without the sufficiency gap (``gap``: :mod:`sufficiency.solve.gap`, one LP).
    """
    timer = timer or StageTimer()
    with timer.stage("build", "Building the model"):
        plan_model = build_model(sets, dataset.config)
        solver = make_solver(dataset.config.solver,
                             dataset.config.formulation.matrix_constraints)
    plan_model.fix_openings(0)
    do_nothing = _solve_and_check(plan_model, dataset, solver, DO_NOTHING, timer, "baseline")
    plan_model.fix_openings(None)
    gap_job = _gap_beside(plan_model, dataset) if gap else None
    try:
        optimal, shadow = _optimal_and_prices(plan_model, dataset, solver, do_nothing, timer,
                                              mps_path)
        if (replan_budget and shadow is not None and not shadow.budget.empty
                and dataset.config.solver.price_budget):
            with timer.stage("budget_value",
                             "Re-planning with £1m more in each binding budget year"):
                shadow.budget["value_per_million_replanned_pv"] = budget_value_by_resolve(
                    plan_model, solver, dataset.config, shadow.budget, optimal.report.objective)
        gap_table = None
        if gap_job is not None:
            with timer.stage("gap", "The sufficiency gap (every option open, no budget: one LP)"):
                gap_table = gap_job.result()
    finally:
        if gap_job is not None:
            gap_job.stop()
    return RunResult(dataset, sets, plan_model.size, optimal, do_nothing, timer, shadow,
                     gap=gap_table)


def _gap_beside(plan_model: PlanModel, dataset: Dataset) -> Forked[pd.DataFrame | None]:
    """The sufficiency gap's LP, started on the second core while HiGHS plans on one.

    It does not depend on the plan (every option open), so it runs during the MIP; with
    more than one HiGHS thread the core is taken, and the LP runs after the MIP instead.
    """
    options = highs_options(dataset.config.solver)
    return Forked(lambda: sufficiency_gap(plan_model, options),
                  wanted=dataset.config.solver.threads == 1, early=True)


def _optimal_and_prices(plan_model: PlanModel, dataset: Dataset, solver: Solver,
                        do_nothing: PlanResult | None, timer: StageTimer,
                        mps_path: Path | None) -> tuple[PlanResult, ShadowPrices | None]:
    """The optimal plan (started from do nothing, or a rounded start), checked and priced."""
    if do_nothing is not None:
        solver.use_start(plan_model)
    _charge_the_rest_of_the_plan(solver, dataset.config.solver, timer)
    beside = _start_from_rounding(plan_model, dataset, solver, do_nothing, timer)
    optimal = _solve_and_check(plan_model, dataset, solver, "optimal", timer, "solve")
    if beside is not None:
        timer.move("solve", "start_wait", beside.waited_s)
    if mps_path is not None:
        with timer.stage("write_mps", "Writing the model as MPS (benchmark only)"):
            solver.write_mps(str(mps_path))
    if do_nothing is not None:
        check_no_worse_than_do_nothing(optimal, do_nothing)
    with timer.stage("shadow", "Pricing places and budget (LP duals, openings fixed)"):
        shadow = shadow_prices(plan_model, dataset.config,
                               cash_by_year(optimal.plan, dataset.config), solver)
    return optimal, shadow
