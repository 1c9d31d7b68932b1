r"""Near-optimal alternatives: plans within ε % of the optimum that open other sites.

Modelling to generate alternatives (MGA), in its classic Hop-Skip-Jump form: the cabinet
can choose between good plans on grounds the model does not see. After the optimal plan
(cost C*, £), each alternative solves the plan model (one copy, composed as in
:mod:`sufficiency.formulation.composed`) with a site indicator and three kinds of extra rows:

    z_s ∈ {0, 1}         site s opens something (every site with an expandable option)
    opened[o, T] − max_modules_o · z_{site(o)} ≤ 0      z_s = 1 if any module opens at s
    z_s − Σ_{o at s} opened[o, T] ≤ 0                   z_s = 0 if none does
    cost(v) ≤ (1 + ε/100) · C*                          within ε % of the optimum
    Σ_{s ∈ S_j} (1 − z_s) + Σ_{s ∉ S_j} z_s ≥ 1   ∀ earlier plans j   (a new set of sites)

    min Σ_s w_s z_s + λ · cost(v) / C*,   w_s = 1 if s opened in any earlier plan, else 0

T is the last year, so opened[o, T] counts every module of option o. The cost term breaks
ties between equally distant plans in favour of the cheaper; with λ = 0.5 its whole range
over feasible plans (ε + gap)·λ is below 1, so it never buys a reused site. Every
alternative is then verified the normal way: its openings fixed, placements re-solved and
audited (:func:`sufficiency.analyses.evaluate.evaluate_plan`); its cost must be within ε and its
set of sites new. The search stops early when no further distinct plan is within ε.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyomo.core as pyo  # not pyomo.environ: its solver plugins cost 0.2 s of import

from sufficiency.analyses.evaluate import (
    describe_openings,
    evaluate_plan,
    independent_pupil_years,
    opened_sites,
)
from sufficiency.errors import AuditError, InputError, Issue
from sufficiency.formulation import (
    FIRST,
    MODULES,
    MONEY_SCALE,
    OPENED,
    ComposedModel,
    PlanModel,
    build_model,
    dense_rows,
    sparse_rows,
)
from sufficiency.outcome import PLAN_COLUMNS, PlanResult, RunResult, SolveStatus
from sufficiency.pipeline import run_plan
from sufficiency.preprocess.config import SolverSettings
from sufficiency.results import extract_plan
from sufficiency.solve import DirectHighs
from sufficiency.tolerances import ALTERNATIVE_COST_ABS, ALTERNATIVE_COST_REL, GAP_DENOMINATOR

TIE_BREAK = 0.5  # λ: weight of cost / C* in the objective (see the module docstring)


@dataclass
class MgaModel:
    """The composed alternatives model: the plan model's columns, site indicators, costs."""

    composed: ComposedModel
    template: PlanModel
    offsets: dict[str, int]  # first column of each plan-model family
    sites: list[str]  # site of each z column, in order
    z_start: int
    cost: np.ndarray  # the plan model's cost (£k) over all columns
    optimum_k: float  # C* in £k


def _last_opened(template: PlanModel) -> pd.DataFrame:
    """(k, o, site_id, max_modules): the ``opened`` variable of each option in the last year."""
    sets = template.sets
    grid = sets.opened_years.reset_index(names="k")
    last = grid[grid["year"] == sets.years[-1]].reset_index(drop=True)
    return last.assign(site_id=sets.options["site_id"].to_numpy()[last["o"]],
                       max_modules=sets.options["max_modules"].to_numpy(float)[last["o"]])


def _site_links(model: MgaModel, last: pd.DataFrame) -> None:
    """z_s = 1 exactly when some module opens at site s (rows of the module docstring)."""
    opened = model.offsets[OPENED] + last["k"].to_numpy()
    z = model.z_start + last["site_id"].map({s: i for i, s in enumerate(model.sites)}).to_numpy()
    n = len(last)
    rows = np.concatenate([np.arange(n), np.arange(n)])
    upper_link = sparse_rows(rows, np.concatenate([opened, z]),
                             np.concatenate([np.ones(n), -last["max_modules"].to_numpy()]),
                             n, -np.inf, 0.0)
    model.composed.add_rows("site_opens_if_used", upper_link)
    site_row = z - model.z_start
    lower_link = sparse_rows(np.concatenate([np.arange(len(model.sites)), site_row]),
                             np.concatenate([model.z_start + np.arange(len(model.sites)), opened]),
                             np.concatenate([np.ones(len(model.sites)), -np.ones(n)]),
                             len(model.sites), -np.inf, 0.0)
    model.composed.add_rows("site_closed_if_unused", lower_link)


def build_mga_model(template: PlanModel, optimum: float, epsilon: float) -> MgaModel:
    """The plan model with site indicators and the cost budget (1 + ε/100) · C*."""
    composed = ComposedModel(pyo.ConcreteModel(name="sufficiency_alternatives"))
    offsets = {family: composed.copy_variables(family, template.variables[family])
               for family in template.offsets}
    last = _last_opened(template)
    sites = sorted(last["site_id"].unique())
    z_start = composed.add_variables("site_opens", len(sites), domain=pyo.Binary)
    cost = np.zeros(len(composed.columns))
    cost[:z_start] = template.objective_vector()
    model = MgaModel(composed, template, offsets, sites, z_start, cost, optimum / MONEY_SCALE)
    for block in template.blocks:
        composed.add_block(block.name, block, offsets)
    _site_links(model, last)
    budget = (1.0 + epsilon / 100.0) * model.optimum_k - template.costs.constant
    composed.add_rows("within_epsilon", dense_rows([cost], [-np.inf], [budget]))
    return model


def add_new_sites_cut(model: MgaModel, index: int, sites: frozenset[str]) -> None:
    """Σ_{s ∈ S} (1 − z_s) + Σ_{s ∉ S} z_s ≥ 1: the next plan opens another set of sites."""
    inside = np.array([s in sites for s in model.sites])
    row = np.zeros(len(model.composed.columns))
    row[model.z_start:model.z_start + len(model.sites)] = np.where(inside, -1.0, 1.0)
    model.composed.add_rows(f"new_sites_{index}",
                            dense_rows([row], [1.0 - inside.sum()], [np.inf]))


def set_distance_objective(model: MgaModel, used: set[str]) -> None:
    """Objective: Σ_{s used before} z_s + λ · cost / C* (Hop-Skip-Jump weights)."""
    cost = TIE_BREAK * model.cost / max(model.optimum_k, GAP_DENOMINATOR)
    weights = np.array([1.0 if s in used else 0.0 for s in model.sites])
    cost[model.z_start:model.z_start + len(model.sites)] = weights
    model.composed.cost = cost
    model.composed.constant = 0.0


def distance_settings(settings: SolverSettings, epsilon: float) -> SolverSettings:
    """Solver settings that prove the distance optimal, not the cost tie-break.

    The distance is a whole number and the tie-break spans at most λ (ε + gap) < 1, so an
    incumbent within 1 − λ (ε + gap) of the bound has the least distance: HiGHS may stop
    there (``mip_abs_gap``, with a margin) instead of proving the cheapest such plan.
    """
    gap = 0.9 * (1.0 - TIE_BREAK * (epsilon / 100.0 + settings.mip_gap))
    options = dict(settings.options)
    options["mip_abs_gap"] = min(gap, options.get("mip_abs_gap", gap))
    return replace(settings, options=options)


def solve_alternative(model: MgaModel, dataset, epsilon: float) -> tuple[str, pd.DataFrame | None]:
    """Solve the current alternatives model; its status and openings (None without a plan)."""
    settings = distance_settings(dataset.config.solver, epsilon)
    report = DirectHighs(settings).solve(model.composed)
    if report.status not in (SolveStatus.OPTIMAL, SolveStatus.TIME_LIMIT):
        return report.status, None
    for family in (MODULES, FIRST):
        variables = model.template.variables[family]
        values = model.composed.values(model.offsets[family], len(variables))
        for var, value in zip(variables, values, strict=True):
            var.set_value(float(value), skip_validation=True)
    return report.status, extract_plan(model.template, dataset)


def verify(result: PlanResult, optimum: float, epsilon: float,
           earlier: list[frozenset[str]]) -> None:
    """An alternative must cost at most (1 + ε/100) · C* and open a new set of sites."""
    bound = (1.0 + epsilon / 100.0) * optimum
    if result.total_cost > bound * (1.0 + ALTERNATIVE_COST_REL) + ALTERNATIVE_COST_ABS:
        raise AuditError(f"{result.label} costs £{result.total_cost:,.2f}, above the ε bound "
                         f"£{bound:,.2f}")
    if opened_sites(result.plan) in earlier:
        raise AuditError(f"{result.label} opens the same sites as an earlier plan")


@dataclass(frozen=True)
class Alternatives:
    """The optimal plan and up to k near-optimal alternatives, as tables (money in £)."""

    summary: pd.DataFrame  # one row per plan: cost, extra over the optimum, sites
    plans: pd.DataFrame  # every plan's openings (plan label + plan.csv columns)
    stopped: str  # why the search ended

    def tables(self) -> dict[str, pd.DataFrame]:
        """File name → table, for writing."""
        return {"alternatives.csv": self.summary, "plans.csv": self.plans}


def _summary_row(label: str, status: str, result: PlanResult, optimal: PlanResult) -> dict:
    sites, base = opened_sites(result.plan), opened_sites(optimal.plan)
    extra = result.total_cost - optimal.total_cost
    return {"plan": label, "status": status, "total_cost": round(result.total_cost, 2),
            "extra_cost": round(extra, 2),
            "extra_percent": round(100.0 * extra / optimal.total_cost, 6),
            "sites": ";".join(sorted(sites)),
            "sites_not_in_optimal": ";".join(sorted(sites - base)),
            "sites_shared_with_optimal": len(sites & base),
            "places_created": int(result.plan["places"].sum()),
            "independent_pupil_years": round(independent_pupil_years(result), 6),
            "capital": round(float(result.plan["capital_cost"].sum()), 2),
            "openings": describe_openings(result.plan)}


def check_options(k: int, epsilon: float) -> None:
    """Refuse a ``k`` outside 1–20 or an ``epsilon`` (%) outside (0, 100], naming the option."""
    issues = []
    if not 1 <= k <= 20:
        issues.append(Issue("command line", None, "--k", f"{k} is out of range", "ask for 1 to 20 "
                            "alternatives", column_label="option"))
    if not 0.0 < epsilon <= 100.0:
        issues.append(Issue("command line", None, "--epsilon", f"{epsilon:g} is out of range",
                            "give a percentage above 0 and at most 100, e.g. 2",
                            column_label="option"))
    if issues:
        raise InputError(issues)


def alternatives_of(run: RunResult, k: int = 3, epsilon: float = 2.0) -> Alternatives:
    """Up to ``k`` plans within ``epsilon`` % of ``run``'s optimum, each opening new sites."""
    check_options(k, epsilon)
    dataset, optimal = run.dataset, run.optimal
    template = build_model(run.sets, dataset.config)
    model = build_mga_model(template, optimal.total_cost, epsilon)
    earlier, used = [opened_sites(optimal.plan)], set(opened_sites(optimal.plan))
    rows = [_summary_row("optimal", optimal.report.status, optimal, optimal)]
    plans = [optimal.plan.assign(plan="optimal")]
    stopped = f"found all {k} alternatives asked for"
    for i in range(1, k + 1):
        add_new_sites_cut(model, i, earlier[-1])
        set_distance_objective(model, used)
        status, plan = solve_alternative(model, dataset, epsilon)
        if plan is None:
            stopped = (f"no further plan with other sites within {epsilon:g} % of the optimum"
                       if status != SolveStatus.NO_PLAN_IN_TIME else
                       f"alternative {i}: the time limit was reached before any plan was found")
            break
        label = f"alternative {i}"
        result = evaluate_plan(dataset, run.sets, plan, label)
        if result is None:
            raise AuditError(f"{label} cannot place every pupil once its openings are fixed")
        verify(result, optimal.total_cost, epsilon, earlier)
        rows.append(_summary_row(label, status, result, optimal))
        plans.append(result.plan.assign(plan=label))
        earlier.append(opened_sites(result.plan))
        used |= earlier[-1]
    table = pd.concat(plans, ignore_index=True)[["plan", *PLAN_COLUMNS]]
    return Alternatives(pd.DataFrame(rows), table, stopped)


def alternatives(toml_path: str | Path, k: int = 3, epsilon: float = 2.0) -> Alternatives:
    """Plan the run, then find up to ``k`` alternatives within ``epsilon`` % (module doc)."""
    check_options(k, epsilon)
    return alternatives_of(run_plan(toml_path), k, epsilon)
