"""The value of each opening: the best plan without it, re-solved, against the plan.

An opening here is an option with all its new modules. For each option the optimal plan
opens, the run's own MIP is solved again with every ``modules`` and ``first`` variable of
that option fixed at zero (every other opening free), warm-started from the plan without
that option (its openings fixed, placements re-solved: a feasible start whenever
independent placement is allowed). Then

    value = cost of the best plan without it − the plan's cost     (£, discounted)

The plan is optimal within its gap and the plan without the option is a feasible plan of
the same model, so the value is never below −(the plan's gap in £): a negative value within
that gap is reported as 0, one beyond it is an :class:`~sufficiency.errors.AuditError`.
Each re-solve stops at the run's gap, or once within ``VALUE_PRECISION`` of the value the
start implies, or after ``RESOLVE_SECONDS``: its plan bounds the cost without the option
from above and its bound from below, so the true value lies in [max(0, value −
resolve_gap), value + run_gap] (``value_low``, ``value_high``). A time-limited plan's
placements are re-solved with its openings fixed (a heuristic plan may place pupils at
more than the least cost). When no plan places every pupil without the
option (independent placement switched off), the status says so and the value is empty;
so it is when a re-solve without a start finds no plan in its time (``time_limit_without_plan``).

Per academic year, ``revenue_saving`` = (total − capital) without it − the same with it, and
``capital_cash_extra`` = capital cash with it − without it (the plan without the option may
build something else instead): the inputs of each opening's payback
(:mod:`sufficiency.report.money`). These re-solves are an extra of ``sufficiency report``
and ``sufficiency plan --why``, never of a plain ``plan``.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np
import pandas as pd

from sufficiency.analyses.commitments import new_rows
from sufficiency.analyses.evaluate import fix_openings_to
from sufficiency.audit import audit
from sufficiency.errors import AuditError
from sufficiency.forked import Forked
from sufficiency.formulation import FIRST, MODULES, MONEY_SCALE, PlanModel, build_model
from sufficiency.outcome import (
    CAPITAL_CASH,
    DECISION,
    OPENING_VALUE_COLUMNS,
    OPENING_YEAR_COLUMNS,
    OpeningValues,
    PlanResult,
    Progress,
    RunResult,
    SolveReport,
    SolveStatus,
)
from sufficiency.preprocess.committed import NEW
from sufficiency.preprocess.config import SolverSettings
from sufficiency.results import extract
from sufficiency.solve import Solver, make_solver, solve_model

RESOLVE_SECONDS = 10.0  # at most this long per re-solve (less when the run's limit is lower)
VALUE_PRECISION = 0.1  # a re-solve may stop within this share of the opening's value
INFEASIBLE_WITHOUT = "infeasible_without"
SLACK_POUNDS = 1.0  # £ of rounding allowed beyond the gap before a negative value is an error


def opened_options(plan: pd.DataFrame) -> list[str]:
    """Options the plan opens any module at, sorted."""
    return sorted(plan.loc[plan["modules"] > 0, "option_id"].unique())


def _option_slots(plan_model: PlanModel, option_id: str) -> list:
    """The ``modules`` and ``first`` variables of one option."""
    sets = plan_model.sets
    modules = np.flatnonzero(sets.open_slots["option_id"].to_numpy() == option_id)
    firsts = np.flatnonzero(sets.first_slots["option_id"].to_numpy() == option_id)
    return ([plan_model.variables[MODULES][i] for i in modules]
            + [plan_model.variables[FIRST][i] for i in firsts])


def _start_without(plan_model: PlanModel, solver: Solver, plan: pd.DataFrame,
                   option_id: str) -> float | None:
    """Solve the plan without ``option_id`` (placements re-solved); its cost (£), or None.

    The solution stays loaded in the Pyomo variables, for :meth:`Solver.use_start`; every
    opening is left free.
    """
    kept = plan["option_id"] != option_id
    if DECISION in plan.columns:  # committed.csv, locks: fixed openings stay
        kept |= plan[DECISION] != NEW
    fix_openings_to(plan_model, plan[kept])
    report = solve_model(plan_model, solver)
    plan_model.fix_openings(None)
    return report.objective if report.status.has_plan else None


def _resolve_settings(settings: SolverSettings, tolerance: float) -> SolverSettings:
    """The run's solver settings, stopping once within ``tolerance`` £ (``mip_abs_gap``)."""
    options = dict(settings.options)
    options["mip_abs_gap"] = max(float(options.get("mip_abs_gap", 0.0)),
                                 tolerance / MONEY_SCALE)
    return dataclasses.replace(settings, options=options)


def _revenue(costs: pd.DataFrame) -> pd.Series:
    """Undiscounted revenue (everything but capital) by AY."""
    return (costs["total"] - costs["capital"]).set_axis(costs["year"].to_numpy())


def capital_cash(costs: pd.DataFrame) -> pd.Series:
    """Capital cash by FY: ``capital_cash`` when the run has it, else ``capital``."""
    column = CAPITAL_CASH if CAPITAL_CASH in costs.columns else "capital"
    return costs[column].set_axis(costs["year"].to_numpy())


def _by_year(option_id: str, plan: PlanResult, without: PlanResult) -> pd.DataFrame:
    revenue = _revenue(without.costs_by_year) - _revenue(plan.costs_by_year)
    cash = capital_cash(plan.costs_by_year) - capital_cash(without.costs_by_year)
    return pd.DataFrame({"option_id": option_id, "year": revenue.index.astype("int64"),
                         "revenue_saving": revenue.round(2).to_numpy(),
                         "capital_cash_extra": cash.reindex(revenue.index, fill_value=0.0)
                         .round(2).to_numpy()})


def _gap(report: SolveReport) -> float:
    """£ by which a solve's plan may be above its optimum (0 when none is known)."""
    if report.objective is None or report.bound is None:
        return 0.0
    return max(0.0, report.objective - report.bound)


def _value(option_id: str, cost_without: float, plan_cost: float, run_gap: float) -> float:
    """cost_without − plan_cost, 0 when negative within the plan's gap."""
    value = cost_without - plan_cost
    if value >= 0:
        return value
    if -value <= run_gap + SLACK_POUNDS:
        return 0.0
    raise AuditError(f"the plan without {option_id} costs £{cost_without:,.2f}, less than the "
                     f"optimal plan (£{plan_cost:,.2f}) beyond its gap (£{run_gap:,.2f})")


def _polish(plan_model: PlanModel, solver: Solver, report: SolveReport) -> SolveReport:
    """A time-limited incumbent with its placements re-solved, its openings fixed.

    An incumbent HiGHS found by a heuristic may place pupils at more than the least cost for
    its openings; the LP with those openings fixed never costs more. The MIP's bound stays.
    """
    for var in plan_model.variables[MODULES] + plan_model.variables[FIRST]:
        var.fix(float(np.rint(var.value or 0.0)))
    polished = solve_model(plan_model, solver)
    if not polished.status.has_plan or polished.objective is None:
        raise AuditError("the openings of a time-limited plan without an option could not be "
                         "placed again with the same openings")
    return dataclasses.replace(report, objective=polished.objective)


def _tolerance(start_cost: float | None, plan_cost: float, run_gap: float) -> float:
    """£ within which a re-solve may stop: the run's own gap, or VALUE_PRECISION of the value.

    The plan without the option (placements re-solved) bounds the value from above, so a
    re-solve never has to be finer than a share of that bound.
    """
    if start_cost is None:
        return run_gap
    return max(run_gap, VALUE_PRECISION * max(0.0, start_cost - plan_cost))


def _row(option_id: str, plan: pd.DataFrame, options: pd.DataFrame,
         run_gap: float) -> dict[str, Any]:
    ours = plan[plan["option_id"] == option_id]
    return {"option_id": option_id, "site_id": options.at[option_id, "site_id"],
            "kind": options.at[option_id, "kind"], "modules": int(ours["modules"].sum()),
            "places": int(ours["places"].sum()),
            "capital": round(float(ours["capital_cost"].sum()), 2), "run_gap": round(run_gap, 2)}


@dataclasses.dataclass
class _Resolver:
    """What every re-solve of one run shares: the model, the start's solver, the plan's cost."""

    run: RunResult
    plan_model: PlanModel
    start_solver: Solver
    settings: SolverSettings
    plan_cost: float
    run_gap: float

    @classmethod
    def of(cls, run: RunResult) -> _Resolver:
        config = run.dataset.config
        settings = dataclasses.replace(
            config.solver, time_limit_s=min(config.solver.time_limit_s, RESOLVE_SECONDS))
        report = run.optimal.report
        plan_cost = report.objective if report.objective is not None else run.optimal.total_cost
        return cls(run, build_model(run.sets, config),
                   make_solver(settings, config.formulation.matrix_constraints), settings,
                   plan_cost, max(_gap(report), config.solver.mip_gap * abs(plan_cost)))

    def value_of(self, option_id: str) -> tuple[dict[str, Any], pd.DataFrame | None]:
        """One opening's row of opening_values.csv, and its payback inputs by year (or None)."""
        one = time.perf_counter()
        dataset, optimal = self.run.dataset, self.run.optimal
        report = self._resolve_without(option_id)
        row = _row(option_id, new_rows(optimal.plan), dataset.options.set_index("option_id"),
                   self.run_gap)
        if not report.status.has_plan:  # infeasible, or no plan found in time (no start)
            status = (INFEASIBLE_WITHOUT if report.status == SolveStatus.INFEASIBLE
                      else str(report.status))
            return row | {"status": status, "cost_without": np.nan, "value": np.nan,
                          "value_low": np.nan, "value_high": np.nan, "resolve_gap": np.nan,
                          "resolve_seconds": round(time.perf_counter() - one, 3)}, None
        if report.status == SolveStatus.TIME_LIMIT:
            report = _polish(self.plan_model, self.start_solver, report)
        without = extract(self.plan_model, dataset, report, f"without {option_id}")
        audit(dataset, without)
        cost = float(report.objective if report.objective is not None else without.total_cost)
        value, resolve_gap = _value(option_id, cost, self.plan_cost, self.run_gap), _gap(report)
        return row | {"status": str(report.status), "cost_without": round(cost, 2),
                      "value": round(value, 2),
                      "value_low": round(max(0.0, value - resolve_gap), 2),
                      "value_high": round(value + self.run_gap, 2),
                      "resolve_gap": round(resolve_gap, 2),
                      "resolve_seconds": round(time.perf_counter() - one, 3)}, \
            _by_year(option_id, optimal, without)

    def _resolve_without(self, option_id: str) -> SolveReport:
        """The run's MIP with the option's openings fixed at zero, from the plan without it."""
        plan_model = self.plan_model
        start_cost = _start_without(plan_model, self.start_solver, self.run.optimal.plan,
                                    option_id)
        for var in _option_slots(plan_model, option_id):
            var.fix(float(var.lb or 0))  # its fixed openings (if any) stay
        tolerance = _tolerance(start_cost, self.plan_cost, self.run_gap)
        solver = make_solver(_resolve_settings(self.settings, tolerance),
                             self.run.dataset.config.formulation.matrix_constraints)
        if start_cost is not None:
            solver.use_start(plan_model)
        return solve_model(plan_model, solver)

    def values_of(self, option_ids: list[str], progress: Progress | None = None,
                  numbers: list[int] | None = None, of: int = 0,
                  ) -> list[tuple[dict[str, Any], pd.DataFrame | None]]:
        """:meth:`value_of` each option in turn, saying which (``numbers`` of ``of``)."""
        values = []
        for k, option_id in enumerate(option_ids):
            if progress and numbers:
                progress(f"Re-solving without {option_id} ({numbers[k]} of {of})")
            values.append(self.value_of(option_id))
        return values


def opening_values(run: RunResult, progress: Progress | None = None) -> OpeningValues:
    """Re-solve the run's MIP without each opened option; the value of each opening.

    The re-solves are independent (each HiGHS run starts cleared), so with one HiGHS thread
    every second one runs on the second core (:mod:`sufficiency.forked`); the table is the
    same either way, in the options' order.
    """
    started = time.perf_counter()
    resolver = _Resolver.of(run)
    opened = opened_options(new_rows(run.optimal.plan))  # commitments: analyses.commitments
    theirs = Forked(lambda: resolver.values_of(opened[1::2]),
                    wanted=len(opened) > 1 and run.dataset.config.solver.threads == 1)
    try:
        ours = resolver.values_of(opened[0::2], progress,
                                  list(range(1, len(opened) + 1, 2)), len(opened))
        values = _interleaved(ours, theirs.result())
    finally:
        theirs.stop()
    table = pd.DataFrame([row for row, _ in values], columns=OPENING_VALUE_COLUMNS)
    years = [by_year for _, by_year in values if by_year is not None]
    by_year = (pd.concat(years, ignore_index=True) if years
               else pd.DataFrame(columns=OPENING_YEAR_COLUMNS))
    return OpeningValues(table, by_year, time.perf_counter() - started)


def _interleaved(evens: list[Any], odds: list[Any]) -> list[Any]:
    """evens[0], odds[0], evens[1], … : the two halves back in the options' order."""
    merged = [None] * (len(evens) + len(odds))
    merged[0::2], merged[1::2] = evens, odds
    return merged


def with_opening_values(run: RunResult, progress: Progress | None = None) -> RunResult:
    """``run`` with :attr:`RunResult.openings` filled in by :func:`opening_values`."""
    with run.timer.stage("openings", "Re-solving without each opening (value of each)"):
        values = opening_values(run, progress)
    return dataclasses.replace(run, openings=values)
