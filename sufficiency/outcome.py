"""What a run produced, as Pyomo-free holders every view can import: status, plans, timings.

Nothing here imports pyomo, highspy or the formulation; reports, the audit and the
analyses read these types only. The contract's output column names live here too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # type names only: the views never import the model's modules
    from sufficiency.formulation.sets import ModelSets
    from sufficiency.preprocess.dataset import Dataset

Progress = Callable[[str], None]

PLAN_COLUMNS = ["option_id", "site_id", "kind", "modules", "places", "opening_year",
                "capital_year", "capital_cost"]
PLACEMENT_COLUMNS = ["year", "area_id", "need", "phase", "option_id", "pupils", "minutes", "km"]
PROVIDER = "provider_id"  # placements.csv's extra column, with independent.csv only
COST_COLUMNS = ["year", "placement", "commissioned", "transport", "independent", "capital",
                "total", "discounted_total"]
# Only when [appraisal] method = "annuity" (RESIDUAL, plan.csv) or that or a [capital] rule
# (CAPITAL_CASH, costs_by_year.csv) is on: v1 runs keep the contract's columns exactly.
RESIDUAL = "residual_value"  # £, discounted: capital whose service falls after the horizon
CAPITAL_CASH = "capital_cash"  # £, nominal: capital cash spent in the (financial) year
DECISION = "decision"  # plan.csv, with committed.csv or locks only: new, committed, locked


def plan_columns(plan: pd.DataFrame) -> list[str]:
    """plan.csv's columns: the contract's, then ``residual_value`` and ``decision`` if present."""
    return [*PLAN_COLUMNS, *(c for c in (RESIDUAL, DECISION) if c in plan.columns)]

METHOD = ("duals of the linear programme solved with every integer decision (modules opened, "
          "first module) fixed at its optimal value")
PLACE_COLUMNS = ["option_id", "site_id", "kind", "year", "value_pv", "value_in_year"]
BUDGET_COLUMNS = ["capital_year", "budget", "spent", "headroom", "value_per_million_pv",
                  "value_per_million_replanned_pv"]


def placement_columns(placements: pd.DataFrame) -> list[str]:
    """placements.csv's columns: the contract's, then ``provider_id`` when the run has one."""
    return [*PLACEMENT_COLUMNS, PROVIDER] if PROVIDER in placements.columns else PLACEMENT_COLUMNS


class SolveStatus(StrEnum):
    """How a solve ended, as ``summary.json`` writes it."""

    OPTIMAL = "optimal"  # within the run's mip_gap
    TIME_LIMIT = "time_limit"  # stopped early with a plan; the gap says how good
    NO_PLAN_IN_TIME = "time_limit_without_plan"  # stopped early before any plan
    INFEASIBLE = "infeasible"
    ERROR = "error"

    @property
    def has_plan(self) -> bool:
        """Whether a solve that ended this way returned a usable plan."""
        return self in (SolveStatus.OPTIMAL, SolveStatus.TIME_LIMIT)


GAP_NO_OPTION = "no option within the travel limit"  # gap.csv reasons (solve.gap)
GAP_ALL_FULL = "every option within reach is full"


@dataclass(frozen=True)
class SolveReport:
    """What the solver achieved: status, objective and bound (£), gap, timings (s)."""

    status: SolveStatus
    termination: str
    objective: float | None
    bound: float | None
    mip_gap: float | None
    solve_seconds: float
    hand_over_seconds: float
    solver: str


@dataclass(frozen=True)
class PlanResult:
    """One solved plan (the optimum, or do nothing) as tidy tables.

    - ``plan``: one row per opening (contract columns)
    - ``placements``: pupils by year, area, need, phase and option (or ``independent``)
    - ``capacity``: option_id, year, places, pupils, empty_places for every option and year
    - ``costs_by_year``: £ by component, total and discounted total per year
    """

    label: str
    report: SolveReport
    plan: pd.DataFrame
    placements: pd.DataFrame
    capacity: pd.DataFrame
    costs_by_year: pd.DataFrame

    @property
    def total_cost(self) -> float:
        """Discounted total over the horizon (£), recomputed from the tables."""
        return float(self.costs_by_year["discounted_total"].sum())


@dataclass(frozen=True)
class ShadowPrices:
    """Value of one more place by (option, AY) and of £1m more budget by FY, in £.

    - ``places``: option_id, site_id, kind, year (AY), value_pv (£, discounted to the first
      year), value_in_year (£ of that year): one row per capacity row of the model
    - ``budget``: capital_year (FY), budget, spent, headroom (£, nominal),
      value_per_million_pv (£, discounted; the LP dual, £0 by construction) and
      value_per_million_replanned_pv (£, discounted; the MIP re-solved with £1m more that
      year): one row per budget year
    - ``lp_objective``: £, the LP's discounted total (equals the plan's cost)
    """

    places: pd.DataFrame
    budget: pd.DataFrame
    lp_objective: float
    method: str = METHOD


@dataclass
class StageTimer:
    """Wall and CPU seconds of each named stage, in the order they ran."""

    wall: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    progress: Progress | None = None
    started_at: float = field(default_factory=time.time)  # epoch s: the command's start

    def seconds_since_start(self) -> float:
        """Wall seconds since the command (or this timer) started."""
        return time.time() - self.started_at

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


OPENING_VALUE_COLUMNS = ["option_id", "site_id", "kind", "modules", "places", "capital",
                         "status", "cost_without", "value", "value_low", "value_high",
                         "run_gap", "resolve_gap", "resolve_seconds"]
OPENING_YEAR_COLUMNS = ["option_id", "year", "revenue_saving", "capital_cash_extra"]


@dataclass(frozen=True)
class OpeningValues:
    """The value of each opened option, from re-solving the plan without it (£).

    - ``table``: one row per option the plan opens (OPENING_VALUE_COLUMNS): ``status``
      (``optimal``, ``time_limit`` or ``infeasible_without``), ``cost_without`` (£, discounted,
      the best plan with the option's modules fixed at zero), ``value`` = cost_without − the
      plan's cost (£, discounted, never below 0: a negative within the gap is 0),
      ``run_gap`` / ``resolve_gap`` (£ each solve may be above its optimum), so the true
      value lies in [``value_low``, ``value_high``] = [max(0, value − resolve_gap),
      value + run_gap]
    - ``by_year``: option_id, year, revenue_saving (£ of that AY: revenue without − with it),
      capital_cash_extra (£ of that FY: capital cash with − without it)
    """

    table: pd.DataFrame
    by_year: pd.DataFrame
    seconds: float


@dataclass(frozen=True)
class RunResult:
    """Everything a run produced: the dataset, the optimal plan, do nothing, sizes, timings."""

    dataset: Dataset
    sets: ModelSets
    model_size: dict[str, int]
    optimal: PlanResult
    do_nothing: PlanResult | None  # None: doing nothing cannot place every pupil
    timer: StageTimer
    shadow: ShadowPrices | None = None  # LP duals with the openings fixed (None: unavailable)
    openings: OpeningValues | None = None  # re-solves without each opening (report, --why)
    gap: pd.DataFrame | None = None  # gap.csv: independent even with every option open
    commitments: pd.DataFrame | None = None  # value of each fixed opening (report, --why)

    @property
    def baseline(self) -> PlanResult | None:
        """Do nothing, by its earlier name (kept for one release: the README used it)."""
        return self.do_nothing

    @property
    def savings(self) -> float | None:
        """Discounted £ saved against do nothing (None when do nothing is infeasible)."""
        if self.do_nothing is None:
            return None
        return self.do_nothing.total_cost - self.optimal.total_cost
