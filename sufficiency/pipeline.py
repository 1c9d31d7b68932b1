"""One planning run, end to end, with stage timings.

load → validate → sets → build → solve → extract → audit, then the do-nothing baseline on
the same model with its openings fixed to zero. Writing is the caller's last step.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sufficiency.audit import audit
from sufficiency.config import RunConfig, load_run_config
from sufficiency.dataset import Dataset, load_dataset
from sufficiency.errors import AuditError
from sufficiency.formulation import MONEY_SCALE, PlanModel, build_model
from sufficiency.results import PlanResult, extract
from sufficiency.rounding import rounding_start, wants_start
from sufficiency.sets import ModelSets, build_sets
from sufficiency.shadow import ShadowPrices, budget_value_by_resolve, shadow_prices
from sufficiency.solve import (
    INFEASIBLE,
    highs_options,
    make_solver,
    require_plan,
    solve_model,
)

Progress = Callable[[str], None]
DO_NOTHING = "do-nothing"


@dataclass
class StageTimer:
    """Wall and CPU seconds of each named stage, in the order they ran."""

    wall: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    progress: Progress | None = None

    def move(self, source: str, target: str, seconds: float) -> None:
        """Book ``seconds`` of wall time measured in ``source`` to ``target`` instead."""
        self.wall[source] -= seconds
        self.wall[target] = self.wall.get(target, 0.0) + seconds

    @contextmanager
    def stage(self, name: str, message: str) -> Iterator[None]:
        """Time one stage and announce it."""
        if self.progress:
            self.progress(message)
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.wall[name] = self.wall.get(name, 0.0) + time.perf_counter() - wall
            self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - cpu


@dataclass(frozen=True)
class RunResult:
    """Everything a run produced: the dataset, the optimal plan, do nothing, sizes, timings."""

    dataset: Dataset
    sets: ModelSets
    model_size: dict[str, int]
    optimal: PlanResult
    baseline: PlanResult | None  # None: doing nothing cannot place every pupil
    timer: StageTimer
    shadow: ShadowPrices | None = None  # LP duals with the openings fixed (None: unavailable)

    @property
    def savings(self) -> float | None:
        """Discounted £ saved against do nothing (None when do nothing is infeasible)."""
        if self.baseline is None:
            return None
        return self.baseline.total_cost - self.optimal.total_cost


def validate_run(toml_path: str | Path, timer: StageTimer | None = None) -> tuple[Dataset,
                                                                                   ModelSets]:
    """Read and check a run and its dataset, and build the model's sets (no solving)."""
    timer = timer or StageTimer()
    with timer.stage("read_validate", "Reading and validating inputs"):
        config: RunConfig = load_run_config(toml_path)
        dataset = load_dataset(config)
        sets = build_sets(dataset)
        highs_options(config.solver)
    return dataset, sets


def _solve_and_check(plan_model: PlanModel, dataset: Dataset, solver, label: str,
                     timer: StageTimer, stage: str) -> PlanResult | None:
    with timer.stage(stage, f"Solving the {label} plan with HiGHS"):
        report = solve_model(plan_model, solver)
    timer.move(stage, "hand_over", report.hand_over_seconds)
    if report.status == INFEASIBLE and label == DO_NOTHING:
        return None  # only possible with independent placement switched off
    if report.status == INFEASIBLE:
        from sufficiency.diagnose import explain_infeasible

        explain_infeasible(dataset, plan_model.sets)
    require_plan(report, f"the {label} plan")
    with timer.stage(f"{stage}_extract", f"Extracting and auditing the {label} plan"):
        result = extract(plan_model, dataset, report, label)
        audit(dataset, result)
    return result


def _start_from_rounding(plan_model: PlanModel, dataset: Dataset, solver,
                         baseline: PlanResult | None, timer: StageTimer) -> None:
    """Give HiGHS a start from the LP relaxation (if cheaper than do nothing) and its bound.

    The start is rounded or dived from the relaxation (:mod:`sufficiency.rounding`). Its
    seconds are charged to the MIP's time limit, so the run keeps the planner's limit;
    when that leaves HiGHS inside its root LP (scale XL), the relaxation, raised by
    residual-capacity cuts, is the bound.
    """
    settings = dataset.config.solver
    if (not hasattr(solver, "set_start")
            or not wants_start(settings.rounding_start, plan_model.size["nonzeros"])):
        return
    started = time.perf_counter()
    with timer.stage("start", "Rounding and diving from the LP relaxation to a first plan"):
        found = rounding_start(plan_model, solver.lp(plan_model), solver.options,
                               dataset.config)
    timer.move("start", "start_highs", found.highs_seconds)
    solver.charge(time.perf_counter() - started)
    if found.bound is not None:
        solver.know_bound(found.bound)
    plan = found.plan
    if plan is not None and (baseline is None
                             or plan.objective * MONEY_SCALE < baseline.report.objective - 1.0):
        solver.set_start(plan.values)


def check_no_worse_than_baseline(optimal: PlanResult, baseline: PlanResult) -> None:
    """Do nothing is a feasible plan, so the optimum may not cost more (beyond its gap)."""
    slack = (optimal.report.mip_gap or 0.0) * abs(optimal.total_cost) + 1.0
    if optimal.total_cost > baseline.total_cost + slack:
        raise AuditError(f"the optimal plan costs £{optimal.total_cost:,.2f}, more than doing "
                         f"nothing (£{baseline.total_cost:,.2f}) beyond its gap")


def run_plan(toml_path: str | Path, progress: Progress | None = None,
             mps_path: Path | None = None) -> RunResult:
    """Plan one run: do nothing, then the optimal plan started from it; both audited.

    ``mps_path``: also write the model HiGHS received, as MPS (for the benchmark).
    """
    timer = StageTimer(progress=progress)
    dataset, sets = validate_run(toml_path, timer)
    return plan_dataset(dataset, sets, timer, mps_path)


def plan_dataset(dataset: Dataset, sets: ModelSets, timer: StageTimer | None = None,
                 mps_path: Path | None = None) -> RunResult:
    """Plan an already validated dataset, as :func:`run_plan` does after reading it.

    Scenarios and sweeps call this with a modified dataset (other demand, other settings).
    """
    timer = timer or StageTimer()
    with timer.stage("build", "Building the model"):
        plan_model = build_model(sets, dataset.config)
        solver = make_solver(dataset.config.solver,
                             dataset.config.formulation.matrix_constraints)
    plan_model.fix_openings(0)
    baseline = _solve_and_check(plan_model, dataset, solver, DO_NOTHING, timer, "baseline")
    plan_model.fix_openings(None)
    if baseline is not None:
        solver.use_start(plan_model)
    _start_from_rounding(plan_model, dataset, solver, baseline, timer)
    optimal = _solve_and_check(plan_model, dataset, solver, "optimal", timer, "solve")
    if mps_path is not None:
        with timer.stage("write_mps", "Writing the model as MPS (benchmark only)"):
            solver.write_mps(str(mps_path))
    if baseline is not None:
        check_no_worse_than_baseline(optimal, baseline)
    with timer.stage("shadow", "Pricing places and budget (LP duals, openings fixed)"):
        shadow = shadow_prices(plan_model, dataset.config,
                               optimal.plan.groupby("capital_year")["capital_cost"].sum(), solver)
    if shadow is not None and not shadow.budget.empty and dataset.config.solver.price_budget:
        with timer.stage("budget_value", "Re-planning with £1m more in each binding budget year"):
            shadow.budget["value_per_million_replanned_pv"] = budget_value_by_resolve(
                plan_model, solver, dataset.config, shadow.budget, optimal.report.objective)
    return RunResult(dataset, sets, plan_model.size, optimal, baseline, timer, shadow)
