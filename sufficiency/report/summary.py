"""The headline figures of a run (``summary.json``): status, costs, savings, what was built."""

from __future__ import annotations

import math
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from sufficiency.audit import delivery_use
from sufficiency.outcome import (
    CAPITAL_CASH,
    GAP_NO_OPTION,
    RESIDUAL,
    PlanResult,
    RunResult,
    SolveStatus,
)
from sufficiency.preprocess.capital import cash_by_year
from sufficiency.preprocess.fingerprint import run_fingerprint
from sufficiency.preprocess.vocabulary import INDEPENDENT
from sufficiency.report.calibration import calibration_warning
from sufficiency.report.money import payback_summary
from sufficiency.report.transport import transport_summary, transport_warnings
from sufficiency.tolerances import CAPITAL_AUDIT_ABS, PUPILS_AUDIT


def _money(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


def _package_version() -> str:
    try:
        return version("sufficiency")
    except PackageNotFoundError:  # running from a source tree without installation
        return "unknown"


def plan_figures(result: PlanResult) -> dict[str, Any]:
    """Cost, pupils and openings of one plan, for comparisons."""
    costs = result.costs_by_year
    indep = result.placements[result.placements["option_id"] == INDEPENDENT]
    return {
        "status": result.report.status,
        "objective": _money(result.total_cost),
        "solver_objective": _money(result.report.objective),
        "bound": _money(result.report.bound),
        "mip_gap": None if result.report.mip_gap is None else round(result.report.mip_gap, 8),
        "undiscounted_total": _money(costs["total"].sum()),
        "capital_total": _money(costs["capital"].sum()),
        "independent_pupil_years": round(float(indep["pupils"].sum()), 4),
        "places_created": int(result.plan["places"].sum()),
        "openings": len(result.plan),
    } | capital_figures(result)


def capital_figures(result: PlanResult) -> dict[str, Any]:
    """Cash capital and residual value totals, only where [capital] / [appraisal] adds them."""
    figures: dict[str, Any] = {}
    if CAPITAL_CASH in result.costs_by_year.columns:
        figures["capital_cash_total"] = _money(result.costs_by_year[CAPITAL_CASH].sum())
    if RESIDUAL in result.plan.columns:
        figures["residual_value_total"] = _money(result.plan[RESIDUAL].sum())
    return figures


def capital_settings(run: RunResult) -> dict[str, Any]:
    """The run's [appraisal] and [capital] rules, when either differs from v1 (else {})."""
    config = run.dataset.config
    if not (config.appraisal.annuity or config.capital.on):
        return {}
    appraisal = config.appraisal
    return {"capital_rules": {
        "appraisal": appraisal.method,
        "asset_life_years": dict(appraisal.asset_life_years) if appraisal.annuity else None,
        "spend_profile": {k: list(v) for k, v in sorted(config.capital.spend_profile.items())},
        "construction_inflation": config.capital.construction_inflation,
        "meaning": "capital_total: what the objective charges (annuity: the yearly charges "
                   "for the years of service within the horizon, real £); capital_cash_total: "
                   "cash spent (nominal £, what the budget limits); residual_value_total: "
                   "discounted capital whose service falls after the horizon"}}


def binding_delivery_limits(run: RunResult) -> list[dict[str, Any]]:
    """Delivery limits the plan uses in full: limit (key), scope (year, site, group), used."""
    use = delivery_use(run.dataset, run.optimal.plan)
    binding = use[use["used"] >= use["allowed"]]
    return [{"limit": r.limit, "scope": r.scope, "used": int(r.used), "allowed": int(r.allowed)}
            for r in binding.itertuples(index=False)]


def delivery_note(run: RunResult) -> str | None:
    """One sentence naming the delivery limits the plan uses in full (None: none binds)."""
    binding = binding_delivery_limits(run)
    if not binding:
        return None
    parts = [f"{b['limit']} ({b['scope']}: {b['used']} of {b['allowed']})" for b in binding]
    return ("Delivery limits the plan uses in full (binding: without them it might open more "
            "or sooner): " + "; ".join(parts) + ". Their cost shows against a run without "
            "the [delivery] limit or exclusive_group")


GAP_AREAS_SHOWN = 3  # areas named as needing a new site
GAP_GROUPS_SHOWN = 20  # groups with no option in reach named in the report


def gap_findings(run: RunResult) -> dict[str, Any] | None:
    """The report's view of gap.csv (None: not computed, or no gap at all).

    ``last_year``: pupils still independent in the horizon's last year with every option
    open; ``unreached``: area · need · phase groups no option serves within the travel
    limit; ``areas``: the areas with the largest gap (pupil-years), where a new site is
    needed, with their last-year pupils.
    """
    gap = run.gap
    if gap is None or gap.empty:
        return None
    last = run.dataset.config.end_year
    unreached = gap[gap["reason"] == GAP_NO_OPTION][["area_id", "need", "phase"]]
    groups = [f"{a} · {n} · {p}" for a, n, p in unreached.drop_duplicates().itertuples(
        index=False)]
    by_area = gap.groupby("area_id")["pupils"].sum().sort_values(ascending=False, kind="stable")
    in_last = gap[gap["year"] == last].groupby("area_id")["pupils"].sum()
    areas = [{"area_id": a, "pupil_years": round(float(v), 1),
              "last_year": round(float(in_last.get(a, 0.0)), 1)}
             for a, v in by_area.head(GAP_AREAS_SHOWN).items()]
    return {"last_year": round(float(gap.loc[gap["year"] == last, "pupils"].sum()), 1),
            "last_ay": _ay(last), "unreached": groups[:GAP_GROUPS_SHOWN],
            "unreached_more": max(0, len(groups) - GAP_GROUPS_SHOWN), "areas": areas}


def delivery_figures(run: RunResult) -> dict[str, Any]:
    """``binding_delivery_limits`` when the run has a [delivery] limit or an exclusive group."""
    if delivery_use(run.dataset, run.optimal.plan).empty:
        return {}
    return {"binding_delivery_limits": binding_delivery_limits(run)}


HORIZON = "the horizon is shaping the late plan"


def _ay(year: int) -> str:
    return f"AY {year}/{(year + 1) % 100:02d}"


def horizon_warning(run: RunResult) -> str | None:
    """A run without [appraisal] whose late years look cut short by the horizon, else None.

    Both must hold: in each of the last third of the years the plan spends no capital (or,
    where a budget is given, leaves some of it unspent), and more pupils are independent in
    the last year than in the first. Capital spent late counts in full under v1, although
    its places serve only the years left, so the model stops building before the end.
    """
    config = run.dataset.config
    years = config.years
    if config.appraisal.stated or len(years) < 2:
        return None
    late = years[-math.ceil(len(years) / 3):]
    cash = cash_by_year(run.optimal.plan, config)
    spent = [float(cash.get(y, 0.0)) for y in late]
    budget = [config.capital_budget.get(y) for y in late]
    if not all(s <= CAPITAL_AUDIT_ABS if b is None else s < b - CAPITAL_AUDIT_ABS
               for s, b in zip(spent, budget, strict=True)):
        return None
    independent = run.optimal.costs_by_year["pupils_independent"]
    first, last = float(independent.iloc[0]), float(independent.iloc[-1])
    if last <= first + PUPILS_AUDIT:
        return None
    what = ("spends no capital" if all(s <= CAPITAL_AUDIT_ABS for s in spent)
            else "leaves capital budget unspent in every year")
    return (f"{HORIZON}: in its last {len(late)} years ({_ay(late[0])} to {_ay(late[-1])}) "
            f"the plan {what}, yet {last:,.0f} pupils are placed independently in "
            f"{_ay(years[-1])} against {first:,.0f} in {_ay(years[0])}. Without [appraisal], "
            "capital spent late counts in full although its places serve only the years "
            "left in the horizon. Add [appraisal] method = \"annuity\" to the run TOML to "
            "charge only the years of service within the horizon (docs/inputs.md), or write "
            "method = \"none\" there to keep the contract's v1 and silence this warning")


def places_by_kind_and_year(result: PlanResult) -> dict[str, dict[str, int]]:
    """New places by kind and opening year: {kind: {year: places}}."""
    table = result.plan.groupby(["kind", "opening_year"])["places"].sum()
    out: dict[str, dict[str, int]] = {}
    for (kind, year), places in table.items():
        out.setdefault(kind, {})[str(year)] = int(places)
    return out


def time_limit_warning(result: PlanResult) -> str | None:
    """What a reader must know about a plan not proven optimal: how far it may be from it."""
    report = result.report
    if report.status != SolveStatus.TIME_LIMIT:
        return None
    if report.mip_gap is None or report.bound is None or report.objective is None:
        within = "how far it is from the best possible plan is unknown"
    else:
        within = (f"it is within {report.mip_gap:.4%} (£{report.objective - report.bound:,.0f}) "
                  "of the best possible plan")
    return (f"time-limited: the {result.label} plan is the best HiGHS found before it stopped "
            f"({report.termination}); {within}. Raise [solver] time_limit_s for a proven "
            "optimum")


def solve_warnings(run: RunResult) -> list[str]:
    """Time-limit warnings of the optimal and the do-nothing solves."""
    plans = [run.optimal] + ([run.do_nothing] if run.do_nothing is not None else [])
    return [w for w in map(time_limit_warning, plans) if w]


def build_summary(run: RunResult) -> dict[str, Any]:
    """summary.json: the contract's fields first, then what a planner also needs."""
    optimal, do_nothing = run.optimal, run.do_nothing
    config = run.dataset.config
    savings = run.savings
    do_nothing_cost = None if do_nothing is None else do_nothing.total_cost
    report = optimal.report
    return {
        "run": config.name,
        "status": report.status,
        "warning": time_limit_warning(optimal),
        "objective": _money(optimal.total_cost),
        "mip_gap": None if report.mip_gap is None else round(report.mip_gap, 8),
        "solve_seconds": round(report.solve_seconds, 3),
        "baseline_objective": _money(do_nothing_cost),
        "baseline_status": "infeasible: existing places cannot take every pupil and independent "
                           "placement is switched off" if do_nothing is None
                           else do_nothing.report.status,
        "savings": _money(savings),
        "savings_share": round(savings / do_nothing_cost, 6) if do_nothing_cost else None,
        "gap_pounds": None if report.bound is None or report.objective is None
        else _money(report.objective - report.bound),
        "termination": report.termination,
        "money": "£, real terms; objective and savings discounted to AY "
                 f"{config.start_year}/{(config.start_year + 1) % 100:02d} at "
                 f"{config.discount_rate:.2%} a year",
        "years": {"first": config.start_year, "last": config.end_year,
                  "meaning": "academic years (2026 = AY 2026/27); capital years are financial "
                             "years (2026 = FY 2026-27)"},
        "travel_metric": run.dataset.travel_metric,
        "plan": plan_figures(optimal),
        "do_nothing": None if do_nothing is None else plan_figures(do_nothing),
        "places_created_by_kind_and_year": places_by_kind_and_year(optimal),
        "transport": transport_summary(run),
        "model_size": run.model_size | {"cartesian_assignment_variables":
                                        run.sets.cartesian_size},
        "warnings": [*solve_warnings(run), *run.dataset.warnings, *transport_warnings(run),
                     *filter(None, [horizon_warning(run), calibration_warning(run)])],
        "solver": report.solver,
        "solver_settings": {"time_limit_s": config.solver.time_limit_s,
                            "mip_gap": config.solver.mip_gap, "threads": config.solver.threads,
                            "random_seed": config.solver.random_seed},
        "sufficiency_version": _package_version(),
        "fingerprint": run_fingerprint(config),  # inputs + settings; analyses carry the same
    } | capital_settings(run) | delivery_figures(run) | payback_summary(run)
