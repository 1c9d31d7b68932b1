"""The figures a cabinet report cites, as tidy tables computed from a run's result tables.

Shared by the HTML report (:mod:`sufficiency.report.cabinet`) and the workbook
(:mod:`sufficiency.report.excel`) so both show the same numbers. Nothing is re-solved:
every figure is a sum or a difference of the result tables (`costs_by_year`, `plan`,
`capacity`) and the run's inputs.

Years: costs, places and pupils are by academic year (AY, September); capital is by
financial year (FY, April) of the same number, as in the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sufficiency.outcome import RunResult
from sufficiency.preprocess.capital import cash_by_year
from sufficiency.report.assumptions import option_assumptions, run_assumptions
from sufficiency.report.money import opening_values, split_costs
from sufficiency.report.transport import independent_transport_by_year
from sufficiency.report.why import why_openings

PHASING_COLUMNS = ["option_id", "site_id", "site_name", "kind", "needs", "phases", "modules",
                   "places", "opening_year", "capital_year", "capital_cost"]
YEAR_COLUMNS = ["year", "revenue", "transport", "capital", "total", "discounted_total",
                "do_nothing_total", "do_nothing_discounted_total", "saving",
                "saving_discounted", "independent_pupils", "do_nothing_independent_pupils",
                "independent_avoided"]


@dataclass(frozen=True)
class CabinetFigures:
    """Everything the report and the workbook show, as tables (£, places, pupils)."""

    headline: dict[str, Any]
    places_by_kind: pd.DataFrame  # kind × opening AY: new places
    places_over_time: pd.DataFrame  # kind × AY: places open (existing + new)
    capital_by_year: pd.DataFrame  # capital_year (FY), capital, budget, headroom
    by_year: pd.DataFrame  # YEAR_COLUMNS
    phasing: pd.DataFrame  # PHASING_COLUMNS
    why: pd.DataFrame  # why_openings + place_value: mean shadow value of a place (£/year)
    assumptions: pd.DataFrame
    options: pd.DataFrame
    # report.money.opening_values: the value of each opening (re-solved), computed once for
    # the appendix, the workbook and the paper; None when the run has no re-solves
    opening_values: pd.DataFrame | None = None


def by_year(run: RunResult) -> pd.DataFrame:
    """Cost by AY for the plan, do nothing, and the saving (do nothing − plan)."""
    ind = run.dataset.config.independent
    plan = split_costs(run.optimal.costs_by_year, ind.cost_per_place,
                       ind.transport_cost_per_pupil,
                       independent_transport_by_year(run.dataset, run.optimal))
    plan["independent_pupils"] = run.optimal.costs_by_year["pupils_independent"].to_numpy()
    if run.do_nothing is None:
        missing = [c for c in YEAR_COLUMNS if c not in plan.columns]
        return plan.assign(**dict.fromkeys(missing, np.nan))[YEAR_COLUMNS]
    do_nothing = run.do_nothing.costs_by_year
    plan["do_nothing_total"] = do_nothing["total"].to_numpy()
    plan["do_nothing_discounted_total"] = do_nothing["discounted_total"].to_numpy()
    plan["saving"] = plan["do_nothing_total"] - plan["total"]
    plan["saving_discounted"] = plan["do_nothing_discounted_total"] - plan["discounted_total"]
    plan["do_nothing_independent_pupils"] = do_nothing["pupils_independent"].to_numpy()
    plan["independent_avoided"] = (plan["do_nothing_independent_pupils"]
                                   - plan["independent_pupils"])
    money = [c for c in YEAR_COLUMNS if "pupils" not in c and c not in ("year",
                                                                        "independent_avoided")]
    plan[money] = plan[money].round(2)
    return plan[YEAR_COLUMNS]


def capital_by_year(run: RunResult) -> pd.DataFrame:
    """Capital cash spent by FY against the budget (NaN budget: no limit that year).

    Cash as the budget rows count it: each tranche of a spend profile in its own FY, with
    construction inflation ([capital]); v1: the whole capital in its capital year.
    """
    config = run.dataset.config
    spent = cash_by_year(run.optimal.plan, config)
    years = config.years
    budget = pd.Series([config.capital_budget.get(y, np.nan) for y in years], index=years)
    capital = spent.reindex(years, fill_value=0.0)
    return pd.DataFrame({"capital_year": years, "capital": capital.to_numpy(),
                         "budget": budget.to_numpy(),
                         "headroom": (budget - capital).to_numpy()})


def places_by_kind(run: RunResult) -> pd.DataFrame:
    """New places by kind (rows) and opening AY (columns), every AY of the horizon."""
    years = run.dataset.config.years
    table = run.optimal.plan.pivot_table(index="kind", columns="opening_year", values="places",
                                         aggfunc="sum", fill_value=0)
    return table.reindex(columns=years, fill_value=0).astype("int64")


def places_over_time(run: RunResult) -> pd.DataFrame:
    """Places open (existing + new) by kind (rows) and AY (columns), optimal plan."""
    kinds = run.optimal.capacity.merge(run.dataset.options[["option_id", "kind"]],
                                       on="option_id")
    table = kinds.pivot_table(index="kind", columns="year", values="places", aggfunc="sum",
                              fill_value=0)
    return table.reindex(columns=run.dataset.config.years, fill_value=0)


def phasing(run: RunResult) -> pd.DataFrame:
    """The plan's openings with site names and what each option serves."""
    options = run.dataset.options.set_index("option_id")
    sites = run.dataset.sites.set_index("site_id")["name"]
    plan = run.optimal.plan.copy()
    plan["site_name"] = plan["site_id"].map(sites)
    plan["needs"] = plan["option_id"].map(options["needs"]).map(";".join)
    plan["phases"] = plan["option_id"].map(options["phases"]).map(";".join)
    return plan[PHASING_COLUMNS].reset_index(drop=True)


def headline(run: RunResult, years: pd.DataFrame) -> dict[str, Any]:
    """The one-line figures: status, costs, savings, capital, places, independent pupils."""
    optimal, do_nothing = run.optimal, run.do_nothing
    report = optimal.report
    do_nothing_cost = None if do_nothing is None else do_nothing.total_cost
    return {
        "run": run.dataset.config.name,
        "status": report.status,
        "mip_gap": report.mip_gap,
        "objective": optimal.total_cost,
        "baseline_objective": do_nothing_cost,
        "savings": run.savings,
        "savings_share": None if not do_nothing_cost else run.savings / do_nothing_cost,
        "savings_undiscounted": None if do_nothing is None else float(years["saving"].sum()),
        "capital_total": float(cash_by_year(optimal.plan, run.dataset.config).sum())
        if run.dataset.config.capital.on else float(optimal.plan["capital_cost"].sum()),
        "places_created": int(optimal.plan["places"].sum()),
        "openings": len(optimal.plan),
        "options_opened": int(optimal.plan["option_id"].nunique()),
        "independent_pupil_years": float(years["independent_pupils"].sum()),
        "do_nothing_independent_pupil_years": None if do_nothing is None
        else float(years["do_nothing_independent_pupils"].sum()),
        "independent_avoided": None if do_nothing is None
        else float(years["independent_avoided"].sum()),
    }


def why_with_place_values(run: RunResult) -> pd.DataFrame:
    """Why each opening, with the mean value of one more place there (£ per place-year).

    The mean is over the AYs in which the option has a capacity row in the model; NaN when
    shadow prices are unavailable.
    """
    why = why_openings(run.dataset, run.optimal, run.do_nothing)
    if run.shadow is None or run.shadow.places.empty:
        return why.assign(place_value=np.nan)
    mean = run.shadow.places.groupby("option_id")["value_in_year"].mean().round(2)
    return why.assign(place_value=why["option_id"].map(mean))


def cabinet_figures(run: RunResult) -> CabinetFigures:
    """Every table of the cabinet report and the workbook, from the run's results."""
    years = by_year(run)
    return CabinetFigures(
        headline=headline(run, years),
        places_by_kind=places_by_kind(run),
        places_over_time=places_over_time(run),
        capital_by_year=capital_by_year(run),
        by_year=years,
        phasing=phasing(run),
        why=why_with_place_values(run),
        assumptions=run_assumptions(run.dataset),
        options=option_assumptions(run.dataset),
        opening_values=opening_values(run),
    )
