"""A first plan from the LP relaxation, handed to HiGHS as its MIP start.

HiGHS's own heuristics find no plan within 0.5 % of the bound in two minutes at scale L
(measured: README "Performance"). Two heuristics start from the LP relaxation instead
(interior point, then crossover for a basis the later LPs start from):

- rounding: round each option's modules open by each year up from a threshold, drop
  modules until every capital budget year is kept, close options until every delivery
  row (schemes per year, modules per site, exclusive groups) is kept, place the pupils
  by LP;
- diving: fix the options the LP has (nearly) decided, most decided first, a batch at a
  time, and solve the LP again after each batch, so the options still open adjust to
  what has been fixed; an option that no longer fits a capital budget is opened a year
  or two later, rounded down or left closed, whichever costs least. Out of its time
  share, it fixes every option left at once, repaired as rounding is when that breaks a
  row (dropping from the options already fixed only when no free one spends there).

Every LP ends by the start's deadline (``seconds``), so a start found beside the MIP
arrives before HiGHS's limit.

The cheapest plan is the start; the pipeline keeps do nothing when that is cheaper. A
heuristic only: HiGHS still proves the optimum, and the plan reported is always HiGHS's.
The relaxation, raised by residual-capacity cuts (:mod:`sufficiency.solve.cuts`), is also a
proven lower bound, kept for when HiGHS stops before its own bound passes it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import pandas as pd

from sufficiency.formulation import FIRST, MODULES, MONEY_SCALE, OPENED, PlanModel
from sufficiency.formulation.constraints import DELIVERY_ROWS
from sufficiency.preprocess.config import RunConfig
from sufficiency.solve.cuts import strengthen
from sufficiency.solve.highs import HighsClock, quiet_highs
from sufficiency.tolerances import ROUNDING

BUDGET_ROWS = "capital_budget"  # the constraint family of the capital budget rows

THRESHOLDS = (0.5, 0.35)  # round a fractional module up from this share (measured at L)
RELAXATION_LIMIT_SHARE = 0.4  # of the run's time limit, at most, for the LP relaxation
DIVE_LIMIT_SHARE = 0.35  # of the time limit for the dive's LPs; then it fixes all that is left
# (0.35 since a late start stops HiGHS: XL gaps 2.37e-3, 1.55e-3, 1.24e-3 against 2.65e-3,
# 2.16e-3, 1.24e-3 at 0.2; README Performance)
DIVE_SHARE_OF_TIME_LEFT = 0.5  # and at most this share of the start's time left, for the rest
CUT_LIMIT_SHARE = 0.1  # of the time limit for the cut rounds that raise the bound (cuts.py)
DIVE_NEAR = 0.02  # an option this close to integral in every year is fixed at once
DIVE_BATCH = 0.1  # share of the still fractional options fixed per dive round
DIVE_DELAYS = (1, 2)  # years an option that does not fit its budget year may open later
AUTO_MIN_NONZEROS = 200_000  # "auto" starts models this large (measured: see wants_start)


@dataclass(frozen=True)
class RoundedStart:
    """A feasible plan: one value per column (model column order) and its cost (£k)."""

    values: np.ndarray
    objective: float
    method: str  # "rounded at 0.5", "rounded at 0.35" or "dive"


@dataclass(frozen=True)
class StartResult:
    """What the start heuristics found, and what they proved.

    ``plan``: the cheapest plan or None; ``bound``: the LP relaxation's optimum raised by
    residual-capacity cuts (£k), a lower bound on the cost of every plan, None if the
    relaxation was not solved; ``highs_seconds``: HiGHS's own seconds on the LPs;
    ``relaxation_seconds``: those on the relaxation alone (interior point and crossover), a
    measure of how long HiGHS's own interior point solve in its root takes (beside).
    """

    plan: RoundedStart | None
    bound: float | None
    highs_seconds: float
    relaxation_seconds: float = 0.0


@dataclass(frozen=True)
class Openings:
    """Integer openings: modules per open slot, first (0/1) per fixed-capital slot."""

    modules: np.ndarray
    first: np.ndarray


def _highs(lp: highspy.HighsLp, options: dict[str, Any], extra: dict[str, Any]) -> highspy.Highs:
    """A quiet highspy instance holding ``lp``, with the run's options and ``extra`` ones."""
    highs = quiet_highs({**options, **extra})
    highs.passModel(lp)
    return highs


def wants_start(setting: str, nonzeros: int) -> bool:
    """Whether to find a start: "on", "off", or "auto": from :data:`AUTO_MIN_NONZEROS` up.

    Measured (README "Performance"): at L (0.5 M nonzeros) and XL the start is the plan
    HiGHS ends with; at M (85 k) HiGHS's own plans are better, and at S (7.6 k) the start
    makes HiGHS's proof slower (solve 1.2 s without, 2.3 s with it).
    """
    return setting == "on" or (setting == "auto" and nonzeros >= AUTO_MIN_NONZEROS)


@dataclass(frozen=True)
class SolvedRelaxation:
    """The LP relaxation solved before the start (links separated: :mod:`.links`).

    ``highs`` holds it and its basis; ``seconds``: HiGHS's seconds on it.
    """

    highs: highspy.Highs
    seconds: float


def solved_relaxation(lp: highspy.HighsLp, options: dict[str, Any],
                      clock: HighsClock) -> highspy.Highs | None:
    """HiGHS holding the solved LP relaxation and its basis, or None if not solved in time.

    Interior point, then crossover (measured at L: 18.6 s without, 20.6 s with it; dual
    simplex from scratch took 37 s), so that every later LP starts from a basis.
    """
    limit = options.get("time_limit", np.inf) * RELAXATION_LIMIT_SHARE  # else no start
    highs = _highs(lp, options, {"solver": "ipm", "run_crossover": "on"})
    clock.run(highs, limit)
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    highs.setOptionValue("solver", "simplex")
    highs.setOptionValue("time_limit", options.get("time_limit", np.inf))
    return highs


def _family(plan_model: PlanModel, values: np.ndarray, family: str) -> np.ndarray:
    """The values of one variable family out of a full column vector."""
    start = plan_model.offsets[family]
    return values[start:start + len(plan_model.variables[family])]


def _open_by_year(plan_model: PlanModel, opened: np.ndarray, threshold: float) -> pd.Series:
    """Modules open by each row of ``sets.opened_years``, rounded up from ``threshold``.

    Never fewer than the year before, never more than the option's maximum.
    """
    grid = plan_model.sets.opened_years
    rounded = pd.Series(np.floor(opened + 1.0 - threshold + ROUNDING))
    max_modules = plan_model.sets.options["max_modules"].to_numpy(float)
    return rounded.groupby(grid["o"]).cummax().clip(upper=max_modules[grid["o"]])


def rounded_openings(plan_model: PlanModel, opened: np.ndarray, threshold: float) -> Openings:
    """Round modules open by each year up from ``threshold``; never fewer than the year before."""
    open_by_year = _open_by_year(plan_model, opened, threshold)
    return _with_first(plan_model, _new_per_slot(plan_model, open_by_year.to_numpy()))


def _new_per_slot(plan_model: PlanModel, open_by_year: np.ndarray) -> np.ndarray:
    """Modules opened in each open slot, from modules open by each (option, year)."""
    grid = plan_model.sets.opened_years.assign(open=open_by_year)
    grid["new"] = grid.groupby("o")["open"].diff().fillna(grid["open"])
    slots = plan_model.sets.open_slots.merge(grid[["o", "year", "new"]], on=["o", "year"],
                                             how="left")
    return slots["new"].fillna(0.0).to_numpy()


def _within_fixed(plan_model: PlanModel, modules: np.ndarray) -> np.ndarray:
    """``modules`` per slot with every fixed opening kept (committed.csv, locks).

    Each fixed slot holds exactly its modules; an option whose fixed capital goes with its
    earliest fixed opening (a ``first`` binary) opens nothing before it; an option's total
    stays within max_modules, dropping its latest free modules first.
    """
    slots = plan_model.sets.open_slots
    if "committed" not in slots.columns:
        return modules
    fixed = slots["committed"].to_numpy(float)
    modules = np.where(fixed > 0, fixed, modules)
    owner, years = slots["o"].to_numpy(), slots["year"].to_numpy()
    earliest = slots[fixed > 0].groupby("o")["year"].min()
    tied = np.isin(owner, plan_model.sets.first_slots["o"].unique())
    modules[tied & (years < pd.Series(owner).map(earliest).fillna(np.inf).to_numpy())] = 0.0
    most = plan_model.sets.options["max_modules"].to_numpy(float)
    total = np.bincount(owner, weights=modules, minlength=len(most))
    for o in np.flatnonzero(total > most + ROUNDING):
        excess = total[o] - most[o]
        for slot in np.flatnonzero((owner == o) & (fixed == 0))[::-1]:
            cut = min(excess, modules[slot])
            modules[slot] -= cut
            excess -= cut
    return modules


def _free_modules(plan_model: PlanModel, modules: np.ndarray) -> np.ndarray:
    """Modules per slot beyond the fixed ones (the only ones a repair may drop)."""
    slots = plan_model.sets.open_slots
    if "committed" not in slots.columns:
        return modules
    return np.asarray(modules - slots["committed"].to_numpy(float), dtype=float)


def _with_first(plan_model: PlanModel, modules: np.ndarray) -> Openings:
    """The fixed capital goes with each option's first module; fixed openings kept."""
    modules = _within_fixed(plan_model, np.asarray(modules, dtype=float).copy())
    slots = plan_model.sets.open_slots
    opening_year = slots[modules > 0].groupby("o")["year"].min()
    firsts = plan_model.sets.first_slots
    first = (firsts["year"].to_numpy() == firsts["o"].map(opening_year).to_numpy())
    return Openings(modules, first.astype(float))


def _budget_terms(plan_model: PlanModel) -> pd.DataFrame:
    """Terms (row: budget year in sorted order, family, index, cash £k) of the budget rows.

    The model's own rows, so the spend profile and construction inflation are followed.
    """
    for block in plan_model.blocks:
        if block.name == BUDGET_ROWS:
            return block.terms
    return pd.DataFrame({"row": np.zeros(0, np.int64), "family": np.zeros(0, object),
                         "index": np.zeros(0, np.int64), "coef": np.zeros(0)})


def _spend_by_year(plan_model: PlanModel, openings: Openings,
                   budget_years: list[int]) -> np.ndarray:
    """Capital cash (£k) spent in each budget year by ``openings``, as the budget rows count."""
    terms = _budget_terms(plan_model)
    index = terms["index"].to_numpy()
    values = np.zeros(len(terms))
    for family, chosen in ((MODULES, openings.modules), (FIRST, openings.first)):
        mask = (terms["family"] == family).to_numpy()
        values[mask] = chosen[index[mask]]
    return np.bincount(terms["row"].to_numpy(), weights=terms["coef"].to_numpy() * values,
                       minlength=len(budget_years))[:len(budget_years)]


def keep_budget(plan_model: PlanModel, openings: Openings, support: np.ndarray,
                budget_gbp: dict[int, float]) -> Openings:
    """Drop modules, least supported by the LP first, until every budget year is kept.

    ``support``: the LP's modules per slot. Dropping a first module moves the fixed
    capital to the option's next module, so the loop checks every year again.
    """
    if not budget_gbp:
        return openings
    years = sorted(budget_gbp)
    limit = np.array([budget_gbp[y] for y in years]) / MONEY_SCALE
    terms = _budget_terms(plan_model)
    slot_terms = terms[terms["family"] == MODULES]
    modules = openings.modules.copy()
    while True:
        over = np.flatnonzero(_spend_by_year(plan_model, openings, years) > limit + ROUNDING)
        if not len(over):
            return openings
        spends = np.zeros(len(modules), dtype=bool)  # slots with a tranche in that year
        spends[slot_terms.loc[slot_terms["row"] == over[0], "index"].to_numpy()] = True
        candidates = np.flatnonzero(spends & (_free_modules(plan_model, modules) > 0))
        if not len(candidates):  # only fixed openings spend that year: nothing to drop
            return openings
        drop = candidates[np.lexsort((-candidates, support[candidates]))[0]]
        modules[drop] -= 1
        openings = _with_first(plan_model, modules.copy())


def keep_delivery(plan_model: PlanModel, openings: Openings,
                  support: np.ndarray) -> Openings:
    """Close options, least supported by the LP first, until every delivery row is kept.

    The rows of :data:`~sufficiency.formulation.constraints.DELIVERY_ROWS` (schemes per
    year, modules per site, exclusive groups) count only modules and first openings, all
    with coefficient +1, so closing an option never breaks one that held, nor a budget
    year: the repair ends. ``support``: the LP's modules per slot.
    """
    blocks = [b for b in plan_model.blocks if b.name in DELIVERY_ROWS]
    if not blocks:
        return openings
    terms = pd.concat([b.terms.assign(block=b.name) for b in blocks], ignore_index=True)
    uppers = {b.name: b.upper for b in blocks}
    sets = plan_model.sets
    owner = {MODULES: sets.open_slots["o"].to_numpy(), FIRST: sets.first_slots["o"].to_numpy()}
    terms = terms.assign(o=[owner[f][i] for f, i in zip(terms["family"], terms["index"],
                                                        strict=True)])
    by_option = pd.Series(support).groupby(sets.open_slots["o"].to_numpy()).sum()
    modules = openings.modules.copy()
    while True:
        chosen = {MODULES: openings.modules, FIRST: openings.first}
        values = np.array([chosen[f][i] for f, i in zip(terms["family"], terms["index"],
                                                        strict=True)])
        activity = terms.assign(value=values * terms["coef"].to_numpy()).groupby(
            ["block", "row"], sort=True)["value"].sum()
        limit = np.array([uppers[b][r] for b, r in activity.index])
        over = activity.index[activity.to_numpy() > limit + ROUNDING]
        if not len(over):
            return openings
        block, row = over[0]
        rows = terms[(terms["block"] == block) & (terms["row"] == row)]
        free = pd.Series(_free_modules(plan_model, modules) > 0).groupby(
            sets.open_slots["o"].to_numpy()).any()
        candidates = np.unique(rows["o"].to_numpy()[values[rows.index] > 0])
        candidates = candidates[free.reindex(candidates, fill_value=False).to_numpy()]
        if not len(candidates):  # the fixed openings alone: nothing a repair may close
            return openings
        weakest = candidates[np.lexsort((-candidates,
                                         by_option.reindex(candidates).to_numpy()))[0]]
        modules[sets.open_slots["o"].to_numpy() == weakest] = 0.0
        openings = _with_first(plan_model, modules.copy())


def solve_with_openings(highs: highspy.Highs, plan_model: PlanModel, lower: np.ndarray,
                        upper: np.ndarray, openings: Openings, options_fixed: np.ndarray,
                        clock: HighsClock) -> tuple[float, np.ndarray] | None:
    """The LP with the openings of ``options_fixed`` (mask over options) fixed, the rest free.

    Returns (cost £k, column values), or None if no plan keeps every row (a budget).
    """
    lower, upper = lower.copy(), upper.copy()
    columns, values = _opening_columns(plan_model, openings, options_fixed)
    lower[columns] = upper[columns] = values
    highs.changeColsBounds(len(lower), np.arange(len(lower), dtype=np.int32), lower, upper)
    clock.run(highs)
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return highs.getInfo().objective_function_value, np.asarray(highs.getSolution().col_value)


def _opening_columns(plan_model: PlanModel, openings: Openings,
                     options: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Modules and first-module columns of the ``options`` in a mask, with their values."""
    sets = plan_model.sets
    columns, values = [], []
    for family, chosen, owner in ((MODULES, openings.modules, sets.open_slots["o"]),
                                  (FIRST, openings.first, sets.first_slots["o"])):
        slots = np.flatnonzero(options[owner.to_numpy()])
        columns.append(plan_model.offsets[family] + slots)
        values.append(chosen[slots])
    return np.concatenate(columns), np.concatenate(values)


def place_pupils(highs: highspy.Highs, plan_model: PlanModel, lower: np.ndarray,
                 upper: np.ndarray, openings: Openings,
                 clock: HighsClock) -> tuple[float, np.ndarray] | None:
    """Solve the LP with every opening fixed: (cost £k, column values), or None."""
    every = np.ones(len(plan_model.sets.options), dtype=bool)
    return solve_with_openings(highs, plan_model, lower, upper, openings, every, clock)


def fractionality(plan_model: PlanModel, values: np.ndarray) -> pd.Series:
    """How far each option's openings are from integral (0 = decided), by option.

    The largest distance over its modules open by each year and its first-module binaries.
    """
    opened = _family(plan_model, values, OPENED)
    first = _family(plan_model, values, FIRST)
    distance = pd.concat([
        pd.Series(np.abs(opened - np.round(opened)),
                  index=plan_model.sets.opened_years["o"].to_numpy()),
        pd.Series(np.abs(first - np.round(first)),
                  index=plan_model.sets.first_slots["o"].to_numpy())])
    return distance.groupby(level=0).max().reindex(
        range(len(plan_model.sets.options)), fill_value=0.0)


def delayed_openings(plan_model: PlanModel, opened: np.ndarray, years: int) -> Openings:
    """The openings rounded at 0.5, each option's whole profile ``years`` later."""
    options = plan_model.sets.opened_years["o"]
    shifted = _open_by_year(plan_model, opened, 0.5).groupby(options).shift(years).fillna(0.0)
    return _with_first(plan_model, _new_per_slot(plan_model, shifted.to_numpy()))


def _fallbacks(plan_model: PlanModel, opened: np.ndarray) -> list[Openings]:
    """Openings to try for options being fixed: rounded, later, fewer, none."""
    closed = _with_first(plan_model, np.zeros(len(plan_model.sets.open_slots)))
    return [rounded_openings(plan_model, opened, 0.5),
            *(delayed_openings(plan_model, opened, years) for years in DIVE_DELAYS),
            rounded_openings(plan_model, opened, 1.0 - ROUNDING), closed]


def _dive_batch(distance: pd.Series, fixed: np.ndarray, out_of_time: bool) -> np.ndarray:
    """Options to fix this round: the nearly decided and the most decided fractional ones.

    Ties go to the lower option index. Every free option once the dive is out of time,
    or when none is fractional (they are fixed as they are).
    """
    free = distance[~fixed]
    fractional = free[free > ROUNDING].sort_values(kind="stable")
    if out_of_time or fractional.empty:
        return free.index.to_numpy()
    count = int(np.ceil(DIVE_BATCH * len(fractional)))
    return np.union1d(free[free <= DIVE_NEAR].index.to_numpy(),
                      fractional.index[:count].to_numpy())


def dive(highs: highspy.Highs, plan_model: PlanModel, lower: np.ndarray, upper: np.ndarray,
         relaxed: np.ndarray, clock: HighsClock, seconds: float,
         budget_gbp: dict[int, float]) -> tuple[float, np.ndarray] | None:
    """Fix options batch by batch, re-solving the LP between batches (see module doc).

    A batch is fixed at its rounded openings. When that breaks a budget, only its most
    decided option is fixed this round, at the cheapest of the :func:`_fallbacks` that
    keeps every row. After ``seconds`` of LPs every free option is in the batch, rounded
    and, if that breaks a row, repaired as the rounding start is (``budget_gbp``: the
    capital budget, £ by year), so the dive ends in one more LP rather than one option per
    round (measured at XL: 140 s of a 204 s dive). Returns (cost £k, column values) with
    integral openings, or None.
    """
    fixed = np.zeros(len(plan_model.sets.options), dtype=bool)
    bounds, values = (lower.copy(), upper.copy()), relaxed
    started = clock.seconds
    solved: tuple[float, np.ndarray] | None = None
    while not fixed.all():
        distance = fractionality(plan_model, values)
        out_of_time = clock.seconds - started > seconds
        batch = _dive_batch(distance, fixed, out_of_time)
        opened = _family(plan_model, values, OPENED)
        solved = _fix(highs, plan_model, bounds, batch,
                      [rounded_openings(plan_model, opened, 0.5)], clock)
        if solved is None and out_of_time:
            solved = _fix(highs, plan_model, bounds, batch,
                          [_repaired(plan_model, opened, budget_gbp, fixed)], clock)
        if solved is None:
            batch = batch[np.argsort(distance.to_numpy()[batch], kind="stable")[:1]]
            solved = _fix(highs, plan_model, bounds, batch, _fallbacks(plan_model, opened),
                          clock)
        if solved is None:
            return None
        fixed[batch] = True
        values = solved[1]
    return solved


def _repaired(plan_model: PlanModel, opened: np.ndarray, budget_gbp: dict[int, float],
              fixed: np.ndarray) -> Openings:
    """Modules open by each year rounded at 0.5, then kept within the budget and delivery.

    ``opened``: the LP's modules open by each year; it is also the support, so options
    the LP has decided keep their modules and the least wanted ones are dropped first.
    ``fixed``: options the dive has fixed (mask), dropped from only when nothing else
    spends there: their bounds stay, so a module dropped from them repairs nothing (seen
    at XL, where a fixed one-module option lost to a free one wanting 1.6 and every
    repaired batch failed).
    """
    support = _new_per_slot(plan_model, opened).copy()
    support[fixed[plan_model.sets.open_slots["o"].to_numpy()]] = np.inf
    openings = keep_budget(plan_model, rounded_openings(plan_model, opened, 0.5), support,
                           budget_gbp)
    return keep_delivery(plan_model, openings, support)


def _fix(highs: highspy.Highs, plan_model: PlanModel, bounds: tuple[np.ndarray, np.ndarray],
         batch: np.ndarray, candidates: list[Openings],
         clock: HighsClock) -> tuple[float, np.ndarray] | None:
    """Fix ``batch``'s options at the cheapest candidate openings that keep every row.

    ``bounds`` (column lower, upper) holds the options fixed so far and is updated in place.
    Returns the LP's (cost £k, column values) with that fixing, or None if none is feasible.
    """
    mask = np.zeros(len(plan_model.sets.options), dtype=bool)
    mask[batch] = True
    best: tuple[float, np.ndarray, Openings] | None = None
    for openings in candidates:
        solved = solve_with_openings(highs, plan_model, *bounds, openings, mask, clock)
        if solved is not None and (best is None or solved[0] < best[0] - ROUNDING):
            best = (*solved, openings)
    if best is None:
        return None
    columns, values = _opening_columns(plan_model, best[2], mask)
    for side in bounds:
        side[columns] = values
    return best[0], best[1]


def rounding_start(plan_model: PlanModel, lp: highspy.HighsLp, options: dict[str, Any],
                   config: RunConfig, seconds: float | None = None,
                   solved: SolvedRelaxation | None = None) -> StartResult:
    """The cheapest plan of rounding and the dive, a proven bound, HiGHS's seconds.

    The dive, then rounding at each of :data:`THRESHOLDS`; the plan is None when none gives
    a feasible one. The bound is the LP relaxation's, raised by residual-capacity
    cuts (:mod:`sufficiency.solve.cuts`) once the plans are found. ``lp``: the model as
    handed to HiGHS with the openings free; ``options``: the run's HiGHS options (threads,
    seed, time limit); ``seconds``: the start's whole time (default: the time limit), which
    no LP runs past; ``solved``: the relaxation, when it was solved before (its seconds are
    not counted again).
    """
    lp.integrality_ = []
    limit = options.get("time_limit", np.inf)
    clock = HighsClock(deadline=time.perf_counter() + (limit if seconds is None else seconds))
    if solved is None:
        highs = solved_relaxation(lp, options, clock)
        relaxation_seconds = clock.seconds
    else:
        highs, relaxation_seconds = solved.highs, solved.seconds
    if highs is None:
        return StartResult(None, None, clock.seconds, relaxation_seconds)
    bound = highs.getInfo().objective_function_value
    relaxation = Relaxation(np.asarray(lp.col_lower_), np.asarray(lp.col_upper_),
                            highs.getBasis(), np.asarray(highs.getSolution().col_value))
    opened = _family(plan_model, relaxation.values, OPENED)
    support = _new_per_slot(plan_model, opened)  # how strongly the LP wants each module
    plans: list[RoundedStart] = []
    dived = dive(highs, plan_model, *relaxation.bounds, relaxation.values, clock,
                 min(limit * DIVE_LIMIT_SHARE, clock.seconds_left() * DIVE_SHARE_OF_TIME_LEFT),
                 config.capital_budget)
    if dived is not None:  # from the relaxation's basis: dive first
        plans.append(RoundedStart(dived[1], dived[0], "dive"))
    for threshold in THRESHOLDS:  # from the dive's last basis: a few pivots (16 s at XL)
        openings = keep_budget(plan_model, rounded_openings(plan_model, opened, threshold),
                               support, config.capital_budget)
        openings = keep_delivery(plan_model, openings, support)  # after: it only closes
        placed = place_pupils(highs, plan_model, *relaxation.bounds, openings, clock)
        if placed is not None:
            plans.append(RoundedStart(placed[1], placed[0], f"rounded at {threshold}"))
    best = min(plans, key=lambda plan: plan.objective, default=None)  # first of equals
    raised = _raised_bound(highs, plan_model, config, relaxation, clock,
                           limit * CUT_LIMIT_SHARE)
    return StartResult(best, bound if raised is None else max(bound, raised), clock.seconds,
                       relaxation_seconds)


@dataclass(frozen=True)
class Relaxation:
    """The solved LP relaxation: column bounds (openings free), basis and column values."""

    lower: np.ndarray
    upper: np.ndarray
    basis: highspy.HighsBasis
    values: np.ndarray

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Column lower and upper bounds of the relaxation."""
        return self.lower, self.upper

    def restore(self, highs: highspy.Highs) -> None:
        """Put ``highs`` back to the relaxation's bounds and basis (a re-solve: no pivots)."""
        highs.changeColsBounds(len(self.lower), np.arange(len(self.lower), dtype=np.int32),
                               self.lower, self.upper)
        highs.setBasis(self.basis)


def _raised_bound(highs: highspy.Highs, plan_model: PlanModel, config: RunConfig,
                  relaxation: Relaxation, clock: HighsClock, seconds: float) -> float | None:
    """The relaxation again (its bounds and basis restored), raised by cut rounds; or None."""
    relaxation.restore(highs)
    clock.run(highs)  # the relaxation's own basis: no pivots
    share = plan_model.sets.soft_share(config.placement_rules.soft_capacity)
    return strengthen(highs, plan_model, share, clock, seconds)
