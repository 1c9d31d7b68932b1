"""What a given set of openings costs: fix them, re-solve the placements, audit.

Scenarios (a plan in another scenario's demand), slippage (openings a year late) and
alternatives (each near-optimal plan) all ask the same question, answered here the
normal way: the run's own model with every ``modules`` and ``first`` variable fixed to the
plan, solved by HiGHS, extracted and audited like any plan (:mod:`sufficiency.audit`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sufficiency.audit import audit
from sufficiency.formulation import FIRST, MODULES, ModelSets, PlanModel, build_model
from sufficiency.outcome import PlanResult, SolveStatus
from sufficiency.preprocess.dataset import Dataset
from sufficiency.preprocess.vocabulary import INDEPENDENT
from sufficiency.results import extract
from sufficiency.solve import make_solver, require_plan, solve_model

OPENING_COLUMNS = ["option_id", "opening_year", "modules"]


def opening_values(sets: ModelSets, plan: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Values of ``modules`` (per open slot) and ``first`` (per fixed-cost slot) for ``plan``.

    ``plan`` has one row per opening (option_id, opening_year, modules), as ``plan.csv``.
    The fixed capital is paid in each option's first opening year.
    """
    slots = sets.open_slots.reset_index(names="slot")
    keyed = plan[OPENING_COLUMNS].merge(slots, how="left", left_on=["option_id", "opening_year"],
                                        right_on=["option_id", "year"])
    missing = keyed[keyed["slot"].isna()]
    if not missing.empty:
        listed = ", ".join(f"{o} in {y}" for o, y in missing[["option_id", "opening_year"]]
                           .itertuples(index=False))
        raise ValueError(f"no open slot for {listed}: the plan does not fit this model")
    modules = np.zeros(len(slots))
    np.add.at(modules, keyed["slot"].astype("int64").to_numpy(), keyed["modules"].to_numpy(float))
    opening = plan[plan["modules"] > 0].groupby("option_id")["opening_year"].min()
    firsts = sets.first_slots
    first = (firsts["year"].to_numpy() == firsts["option_id"].map(opening).to_numpy()
             ).astype(float)
    return modules, first


def fix_openings_to(plan_model: PlanModel, plan: pd.DataFrame) -> None:
    """Fix every opening decision of ``plan_model`` to the openings of ``plan``."""
    modules, first = opening_values(plan_model.sets, plan)
    for var, value in zip(plan_model.variables[MODULES], modules, strict=True):
        var.fix(float(value))
    for var, value in zip(plan_model.variables[FIRST], first, strict=True):
        var.fix(float(value))


def evaluate_plan(dataset: Dataset, sets: ModelSets, plan: pd.DataFrame,
                  label: str) -> PlanResult | None:
    """The audited result of ``plan``'s openings with the placements re-solved.

    None when those openings cannot place every pupil (only possible with independent
    placement switched off).
    """
    config = dataset.config
    plan_model = build_model(sets, config)
    fix_openings_to(plan_model, plan)
    solver = make_solver(config.solver, config.formulation.matrix_constraints)
    report = solve_model(plan_model, solver)
    if report.status == SolveStatus.INFEASIBLE:
        return None
    require_plan(report, f"the {label} plan")
    result = extract(plan_model, dataset, report, label)
    audit(dataset, result)
    return result


def independent_pupil_years(result: PlanResult) -> float:
    """Pupil-years placed independently over the horizon."""
    placements = result.placements
    return float(placements.loc[placements["option_id"] == INDEPENDENT, "pupils"].sum())


def describe_openings(plan: pd.DataFrame) -> str:
    """A plan's openings in one deterministic line: ``OPTION@2027×2; …`` (— for none)."""
    if plan.empty:
        return "—"
    rows = plan.sort_values(["option_id", "opening_year"])
    return "; ".join(f"{o}@{y}×{m}" for o, y, m in rows[OPENING_COLUMNS].itertuples(index=False))


def opened_sites(plan: pd.DataFrame) -> frozenset[str]:
    """Sites at which the plan opens any module."""
    return frozenset(plan.loc[plan["modules"] > 0, "site_id"])
