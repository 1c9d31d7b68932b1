r"""One build plan for every demand scenario (two-stage), and the regret table.

The openings (``modules``, ``first``, ``opened``) are decided once; each scenario k (weight
w_k, Σ w_k = 1, see :mod:`sufficiency.preprocess.scenarios`) gets its own placements (``x_k``,
``u_k``). Options, years and open slots do not depend on demand, so the opening families
are the same in every scenario's plan model and are shared; every constraint family of the
plan model is kept for each scenario at its own column offsets
(:mod:`sufficiency.formulation.composed`). With cost_k the plan model's objective (£, discounted,
constant included) on scenario k's demand:

    expected   min Σ_k w_k cost_k
    regret     min R         s.t.  cost_k − R ≤ opt_k                       ∀ k
    cvar       min η + Σ_k w_k z_k / (1 − α)
                             s.t.  cost_k − η − z_k ≤ 0,  z_k ≥ 0          ∀ k

opt_k is scenario k's own optimum (solved first, within its gap). CVaR_α is the expected
cost over the worst (1 − α) share of the weight (α = 0: the expected cost; α → 1: the
worst case). The regret and CVaR objectives leave the placements of scenarios that do not
bind free, so every plan is then **evaluated**: its openings fixed in each scenario's own
model and the placements re-solved and audited
(:func:`sufficiency.analyses.evaluate.evaluate_plan`).
The regret table holds every plan (the robust one and each scenario's own optimum, the
central one among them) in every scenario; regret = cost − the best cost known for the
scenario (its own optimum or a cheaper evaluated plan).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyomo.core as pyo  # not pyomo.environ: its solver plugins cost 0.2 s of import

from sufficiency.analyses.distributed import Backend, run_tasks
from sufficiency.analyses.evaluate import describe_openings, evaluate_plan, independent_pupil_years
from sufficiency.errors import InputError, Issue
from sufficiency.formulation import (
    FIRST,
    MODULES,
    MONEY_SCALE,
    OPENINGS,
    ComposedModel,
    ModelSets,
    PlanModel,
    RowBlock,
    build_model,
    build_sets,
    dense_rows,
)
from sufficiency.outcome import PLAN_COLUMNS, SolveReport
from sufficiency.pipeline import plan_dataset
from sufficiency.preprocess.config import load_run_config
from sufficiency.preprocess.dataset import load_dataset
from sufficiency.preprocess.scenarios import (
    Scenario,
    central_name,
    load_scenarios,
    scenario_table,
)
from sufficiency.results import extract_plan
from sufficiency.solve import DirectHighs, highs_options, require_plan

OBJECTIVES = ("expected", "regret", "cvar")
ROBUST = "robust"


def own_label(name: str) -> str:
    """Label of the plan optimised for scenario ``name`` alone."""
    return f"optimal for {name}"


@dataclass
class ScenarioModel:
    """One scenario with its sets and its own (unsolved) plan model, the template to compose."""

    scenario: Scenario
    sets: ModelSets
    template: PlanModel


def scenario_models(scenarios: list[Scenario]) -> list[ScenarioModel]:
    """Sets and plan model of every scenario; their opening families must coincide."""
    models = []
    for scenario in scenarios:
        sets = build_sets(scenario.dataset)
        models.append(ScenarioModel(scenario, sets, build_model(sets, scenario.dataset.config)))
    reference = models[0]
    for other in models[1:]:
        if not other.sets.open_slots.equals(reference.sets.open_slots):
            raise ValueError(f"scenario {other.scenario.name} has other open slots than "
                             f"{reference.scenario.name}: openings cannot be shared")
    return models


def _family_costs(template: PlanModel) -> dict[str, np.ndarray]:
    """The plan model's objective coefficients (£k) split by variable family."""
    vector = template.objective_vector()
    return {family: vector[start:start + len(template.variables[family])]
            for family, start in template.offsets.items()}


def _scenario_columns(composed: ComposedModel, models: list[ScenarioModel]) -> list[dict]:
    """Columns of every scenario: the opening families once, the rest once per scenario."""
    first = models[0].template
    shared = {family: composed.copy_variables(family, first.variables[family])
              for family in OPENINGS if family in first.offsets}
    offsets = []
    for k, model in enumerate(models):
        own = {family: composed.copy_variables(f"s{k}_{family}", model.template.variables[family])
               for family in model.template.offsets if family not in shared}
        offsets.append({**shared, **own})
    return offsets


def _scenario_rows(composed: ComposedModel, models: list[ScenarioModel],
                   offsets: list[dict]) -> None:
    """Every constraint family per scenario; families of openings alone only once."""
    reference = {block.name: block for block in models[0].template.blocks}
    for k, model in enumerate(models):
        for block in model.template.blocks:
            families = set(block.terms["family"].unique())
            if families <= set(OPENINGS) and k > 0:
                _same_rows(block, reference.get(block.name), model.scenario.name)
                continue  # scenario 0's rows already say it (options do not depend on demand)
            composed.add_block(f"s{k}_{block.name}", block, offsets[k])


def _same_rows(block: RowBlock, reference: RowBlock | None, scenario: str) -> None:
    """A block of opening rows must be the same in every scenario, or it cannot be shared."""
    same = (reference is not None and block.terms.equals(reference.terms)
            and np.array_equal(block.lower, reference.lower)
            and np.array_equal(block.upper, reference.upper))
    if not same:
        raise ValueError(f"rows '{block.name}' of scenario {scenario} differ from the first "
                         "scenario's: the openings cannot be shared")


def _cost_vector(composed: ComposedModel, model: ScenarioModel, offsets: dict) -> np.ndarray:
    """cost_k over all columns (£k, without the constant)."""
    vector = np.zeros(len(composed.columns))
    for family, costs in _family_costs(model.template).items():
        vector[offsets[family]:offsets[family] + len(costs)] = costs
    return vector


def _objective(composed: ComposedModel, costs: list[np.ndarray], constants: list[float],
               weights: np.ndarray, objective: str, alpha: float,
               optima: list[float] | None, extra: int) -> None:
    """Set the objective and add the regret / CVaR rows (columns from ``extra``)."""
    n = len(costs)
    if objective == "expected":
        composed.cost = np.sum([w * c for w, c in zip(weights, costs, strict=True)], axis=0)
        composed.constant = float(np.dot(weights, constants))
        return
    rows = [c.copy() for c in costs]
    for k, row in enumerate(rows):
        row[extra] = -1.0  # R (regret) or η (CVaR)
        if objective == "cvar":
            row[extra + 1 + k] = -1.0  # z_k
    cost = np.zeros(len(composed.columns))
    cost[extra] = 1.0
    if objective == "regret":
        upper = np.array(optima) / MONEY_SCALE - np.array(constants)
    else:
        cost[extra + 1:extra + 1 + n] = weights / (1.0 - alpha)
        upper = -np.array(constants)
    composed.cost = cost
    composed.add_rows(f"{objective}_rows", dense_rows(rows, np.full(n, -np.inf), upper))


@dataclass
class RobustModel:
    """The composed two-stage model and where its opening columns are."""

    composed: ComposedModel
    openings: dict[str, int]  # first column of each shared opening family
    template: PlanModel  # scenario 0's plan model, used to read the openings back


def build_robust_model(models: list[ScenarioModel], objective: str = "expected",
                       alpha: float = 0.9, optima: list[float] | None = None) -> RobustModel:
    """The two-stage model of the module docstring; ``optima`` (£) are needed for regret."""
    composed = ComposedModel(pyo.ConcreteModel(name="sufficiency_scenarios"))
    offsets = _scenario_columns(composed, models)
    extra = len(composed.columns)
    if objective in ("regret", "cvar"):
        composed.add_variables("eta" if objective == "cvar" else "regret", 1)
    if objective == "cvar":
        composed.add_variables("excess", len(models), domain=pyo.NonNegativeReals)
    costs = [_cost_vector(composed, m, o) for m, o in zip(models, offsets, strict=True)]
    weights = np.array([m.scenario.weight for m in models])
    constants = [m.template.costs.constant for m in models]
    _scenario_rows(composed, models, offsets)
    _objective(composed, costs, constants, weights, objective, alpha, optima, extra)
    return RobustModel(composed, {f: offsets[0][f] for f in OPENINGS if f in offsets[0]},
                       models[0].template)


def solve_robust(models: list[ScenarioModel], objective: str, alpha: float,
                 optima: list[float] | None) -> tuple[pd.DataFrame, SolveReport, dict]:
    """Build and solve the two-stage model; the robust openings (plan.csv rows), report, size."""
    robust = build_robust_model(models, objective, alpha, optima)
    config = models[0].scenario.dataset.config
    report = DirectHighs(config.solver).solve(robust.composed)
    require_plan(report, f"the robust ({objective}) plan")
    for family in (MODULES, FIRST):
        variables = robust.template.variables[family]
        values = robust.composed.values(robust.openings[family], len(variables))
        for var, value in zip(variables, values, strict=True):
            var.set_value(float(value), skip_validation=True)
    plan = extract_plan(robust.template, models[0].scenario.dataset)
    return plan, report, robust.composed.size


def own_optimum_task(scenario: Scenario, sets: ModelSets) -> dict:
    """``scenario`` planned alone (do nothing, then optimal; audited), as a picklable row."""
    run = plan_dataset(scenario.dataset, sets)
    return {"scenario": scenario.name, "status": run.optimal.report.status,
            "own_optimum": run.optimal.total_cost, "own_mip_gap": run.optimal.report.mip_gap,
            "do_nothing": None if run.do_nothing is None else run.do_nothing.total_cost,
            "plan": run.optimal.plan}


def evaluation_task(scenario: Scenario, sets: ModelSets, plan: pd.DataFrame) -> dict:
    """``plan``'s openings in ``scenario``, placements re-solved and audited."""
    result = evaluate_plan(scenario.dataset, sets, plan, f"evaluated in {scenario.name}")
    if result is None:
        return {"status": "infeasible", "cost": np.nan, "capital": np.nan,
                "independent_pupil_years": np.nan}
    return {"status": result.report.status, "cost": result.total_cost,
            "capital": float(result.costs_by_year["capital"].sum()),
            "independent_pupil_years": round(independent_pupil_years(result), 6)}


def evaluate_plans(plans: dict[str, pd.DataFrame], models: list[ScenarioModel],
                   backend: Backend | None) -> pd.DataFrame:
    """Every plan in every scenario; plans with the same openings are evaluated once."""
    unique: dict[str, pd.DataFrame] = {}
    for plan in plans.values():
        unique.setdefault(describe_openings(plan), plan)
    keys = list(unique)
    tasks = [(m.scenario, m.sets, unique[key]) for key in keys for m in models]
    labels = [f"{key} in {m.scenario.name}" for key in keys for m in models]
    results = run_tasks(evaluation_task, tasks, labels, backend, title="plans × scenarios")
    by_key = {(key, m.scenario.name): row for (key, m), row in zip(
        [(key, m) for key in keys for m in models], results, strict=True)}
    return pd.DataFrame([{"plan": label, "scenario": m.scenario.name,
                          **by_key[(describe_openings(plan), m.scenario.name)]}
                         for label, plan in plans.items() for m in models])


def cvar(costs: np.ndarray, weights: np.ndarray, alpha: float) -> float:
    """CVaR_α of a discrete cost distribution: mean cost of the worst (1 − α) of the weight."""
    if np.isnan(costs).any():
        return float("nan")
    values = [eta + np.dot(weights, np.maximum(costs - eta, 0.0)) / (1.0 - alpha)
              for eta in costs]
    return float(min(values))


def regret_table(evaluations: pd.DataFrame, own: pd.DataFrame, weights: dict[str, float],
                 order: list[str]) -> pd.DataFrame:
    """Cost of every plan in every scenario, the best cost known there, and the regret."""
    table = evaluations.assign(weight=evaluations["scenario"].map(weights))
    best = pd.concat([table.groupby("scenario")["cost"].min(),
                      own.set_index("scenario")["own_optimum"]], axis=1).min(axis=1)
    table["best_known"] = table["scenario"].map(best)
    table["regret"] = (table["cost"] - table["best_known"]).clip(lower=0.0)
    table["plan"] = pd.Categorical(table["plan"], categories=order, ordered=True)
    table = table.sort_values(["plan", "scenario"]).reset_index(drop=True)
    table["plan"] = table["plan"].astype(str)
    columns = ["plan", "scenario", "weight", "status", "cost", "best_known", "regret",
               "capital", "independent_pupil_years"]
    return table[columns].round({"cost": 2, "best_known": 2, "regret": 2, "capital": 2})


def comparison_table(regret: pd.DataFrame, plans: dict[str, pd.DataFrame],
                     alpha: float) -> pd.DataFrame:
    """Per plan: expected, worst and CVaR cost, worst regret, independent pupils, openings."""
    rows = []
    for label, plan in plans.items():
        mine = regret[regret["plan"] == label]
        weights, costs = mine["weight"].to_numpy(), mine["cost"].to_numpy(float)
        rows.append({
            "plan": label,
            "expected_cost": round(float(np.dot(weights, costs)), 2),
            "worst_cost": round(float(costs.max()), 2),
            "cvar": round(cvar(costs, weights, alpha), 2),
            "worst_regret": round(float(mine["regret"].max(skipna=False)), 2),
            "expected_independent_pupil_years": round(float(np.dot(
                weights, mine["independent_pupil_years"].to_numpy(float))), 6),
            "places_created": int(plan["places"].sum()),
            "capital": round(float(plan["capital_cost"].sum()), 2),
            "openings": describe_openings(plan),
        })
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class ScenarioAnalysis:
    """Tables of a scenario analysis (all money in £, discounted)."""

    scenarios: pd.DataFrame  # scenario, weight, central, pupil_years, own optimum, do nothing
    plans: pd.DataFrame  # plan label + plan.csv columns: every plan's openings
    regret: pd.DataFrame  # plan × scenario: cost, best known, regret
    comparison: pd.DataFrame  # per plan: expected / worst / CVaR cost, worst regret
    robust: pd.DataFrame  # the two-stage solve: objective kind, alpha, status, value, size

    def tables(self) -> dict[str, pd.DataFrame]:
        """File name → table, for writing."""
        return {"scenarios.csv": self.scenarios, "plans.csv": self.plans,
                "regret.csv": self.regret, "comparison.csv": self.comparison,
                "robust.csv": self.robust}


def check_objective(objective: str, alpha: float) -> None:
    """Refuse an unknown robust objective or a CVaR level outside [0, 1), naming the option."""
    issues = []
    if objective not in OBJECTIVES:
        issues.append(Issue("command line", None, "--objective", f"{objective!r} is unknown",
                            f"use one of {', '.join(OBJECTIVES)}", column_label="option"))
    if not 0.0 <= alpha < 1.0:
        issues.append(Issue("command line", None, "--alpha", f"{alpha:g} is out of range",
                            "use a value from 0 up to (not including) 1, e.g. 0.9",
                            column_label="option"))
    if issues:
        raise InputError(issues)


def _robust_row(objective: str, alpha: float, report: SolveReport, size: dict,
                central: str) -> pd.DataFrame:
    return pd.DataFrame([{"objective": objective, "alpha": alpha if objective == "cvar" else None,
                          "central_scenario": central, "status": report.status,
                          "value": report.objective, "bound": report.bound,
                          "mip_gap": report.mip_gap, **size}])


def analyse_scenarios(toml_path: str | Path, objective: str = "expected", alpha: float = 0.9,
                      backend: Backend | None = None) -> ScenarioAnalysis:
    """Own optimum of every scenario, the robust plan, and every plan in every scenario."""
    check_objective(objective, alpha)
    config = load_run_config(toml_path)
    dataset = load_dataset(config)
    highs_options(config.solver)
    scenarios = load_scenarios(dataset)
    models = scenario_models(scenarios)
    rows = run_tasks(own_optimum_task, [(m.scenario, m.sets) for m in models],
                     [m.scenario.name for m in models], backend, title="scenario optima")
    own = pd.DataFrame([{k: v for k, v in row.items() if k != "plan"} for row in rows])
    robust_plan, report, size = solve_robust(models, objective, alpha,
                                             own["own_optimum"].tolist())
    plans = {ROBUST: robust_plan, **{own_label(row["scenario"]): row["plan"] for row in rows}}
    evaluations = evaluate_plans(plans, models, backend)
    regret = regret_table(evaluations, own, {s.name: s.weight for s in scenarios}, list(plans))
    table = scenario_table(scenarios, dataset).merge(
        own[["scenario", "own_optimum", "own_mip_gap", "do_nothing"]], on="scenario")
    all_plans = pd.concat([p[PLAN_COLUMNS].assign(plan=label) for label, p in plans.items()],
                          ignore_index=True)[["plan", *PLAN_COLUMNS]]
    central = central_name([s.spec for s in scenarios])
    return ScenarioAnalysis(table.round({"own_optimum": 2, "do_nothing": 2}), all_plans, regret,
                            comparison_table(regret, plans, alpha),
                            _robust_row(objective, alpha, report, size, central))
