"""The value of each fixed opening (committed.csv, locks): the best plan without it, re-solved.

For each fixed opening the run's dataset is taken without that row (so its slot is free,
or gone when it could not open as a new module), the model is built again and solved,
warm-started from the plan without it (the plan's other openings fixed, placements
re-solved). Then

    value = cost of the best plan without it − the plan's cost     (£, discounted)

Sunk capital is in neither cost. A positive value: the commitment saves that much against
the best plan that could be made without it; a negative one: it costs that much more
(the optimum would not choose it). Each re-solve stops at the run's gap or after
``RESOLVE_SECONDS``; ``resolve_gap`` (£) says how far its cost may be above the optimum.
An extra of ``sufficiency report`` and ``plan --why``, as the value of each opening.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pandas as pd

from sufficiency.analyses.evaluate import fix_openings_to
from sufficiency.audit import audit
from sufficiency.formulation import build_model, build_sets
from sufficiency.outcome import DECISION, Progress, RunResult, SolveStatus
from sufficiency.preprocess.committed import NEW
from sufficiency.preprocess.dataset import Dataset
from sufficiency.results import extract
from sufficiency.solve import make_solver, solve_model

RESOLVE_SECONDS = 10.0  # at most this long per re-solve (less when the run's limit is lower)
VALUE_COLUMNS = ["option_id", "opening_year", "value_status", "cost_without", "value",
                 "resolve_gap", "resolve_seconds"]


def _without(dataset: Dataset, index: int) -> Dataset:
    """The dataset with one fixed opening (row ``index`` of ``dataset.fixed``) taken out."""
    assert dataset.fixed is not None
    rest = dataset.fixed.drop(index=index).reset_index(drop=True)
    return dataclasses.replace(dataset, fixed=None if rest.empty else rest)


def _start_plan(plan: pd.DataFrame, fixed_row: pd.Series) -> pd.DataFrame:
    """The plan's openings without the fixed one (a feasible start when independents exist)."""
    same = ((plan["option_id"] == fixed_row["option_id"])
            & (plan["opening_year"] == fixed_row["opening_year"]))
    return plan[~same]


def _resolve(run: RunResult, index: int) -> dict[str, object]:
    """One re-solve without fixed opening ``index``: its status, cost and value (£)."""
    dataset, optimal = run.dataset, run.optimal
    assert dataset.fixed is not None
    row = dataset.fixed.iloc[index]
    started = time.perf_counter()
    without = _without(dataset, index)
    config = without.config
    settings = dataclasses.replace(
        config.solver, time_limit_s=min(config.solver.time_limit_s, RESOLVE_SECONDS))
    plan_model = build_model(build_sets(without), config)
    solver = make_solver(settings, config.formulation.matrix_constraints)
    try:
        fix_openings_to(plan_model, _start_plan(optimal.plan, row))
        started_from = solve_model(plan_model, solver)
        plan_model.fix_openings(None)
        if started_from.status.has_plan:
            solver.use_start(plan_model)
    except ValueError:  # a plan row without a slot in this model: solve without a start
        plan_model.fix_openings(None)
    report = solve_model(plan_model, solver)
    out: dict[str, object] = {"option_id": row["option_id"],
                              "opening_year": int(row["opening_year"])}
    if not report.status.has_plan or report.objective is None:
        status = "infeasible_without" if report.status == SolveStatus.INFEASIBLE else str(
            report.status)
        return out | {"value_status": status, "cost_without": np.nan, "value": np.nan,
                      "resolve_gap": np.nan,
                      "resolve_seconds": round(time.perf_counter() - started, 3)}
    audit(without, extract(plan_model, without, report, f"without {row['option_id']}"))
    plan_cost = float(optimal.report.objective if optimal.report.objective is not None
                      else optimal.total_cost)
    gap = max(0.0, report.objective - report.bound) if report.bound is not None else 0.0
    return out | {"value_status": str(report.status),
                  "cost_without": round(report.objective, 2),
                  "value": round(report.objective - plan_cost, 2),
                  "resolve_gap": round(gap, 2),
                  "resolve_seconds": round(time.perf_counter() - started, 3)}


def commitment_values(run: RunResult, progress: Progress | None = None) -> pd.DataFrame:
    """VALUE_COLUMNS for each fixed opening of the run (no rows when it has none)."""
    fixed = run.dataset.fixed
    if fixed is None:
        return pd.DataFrame(columns=VALUE_COLUMNS)
    rows = []
    for k in range(len(fixed)):
        if progress:
            progress(f"Re-solving without fixed opening {fixed.iloc[k]['option_id']} "
                     f"({k + 1} of {len(fixed)})")
        rows.append(_resolve(run, k))
    return pd.DataFrame(rows, columns=VALUE_COLUMNS)


def with_commitment_values(run: RunResult, progress: Progress | None = None) -> RunResult:
    """``run`` with :attr:`RunResult.commitments` filled in (unchanged without commitments)."""
    if run.dataset.fixed is None:
        return run
    with run.timer.stage("commitments", "Re-solving without each commitment (value of each)"):
        values = commitment_values(run, progress)
    return dataclasses.replace(run, commitments=values)


def new_rows(plan: pd.DataFrame) -> pd.DataFrame:
    """The plan's openings decided by this run (all of them without commitments or locks)."""
    return plan if DECISION not in plan.columns else plan[plan[DECISION] == NEW]
