"""What the report's "Analyses" section shows (``templates/analyses.html.j2``).

Built from the tables the analysis commands wrote (:class:`RunAnalyses`, loaded and checked
for freshness by :mod:`sufficiency.report.analyses_in`): the scenario comparison, the
near-optimal alternatives and the slippage stress test, and a note for each analysis left
out as stale. Money is £ present value, as in the tables; plain values, formatted by the
template's filters.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from sufficiency.outcome import RunResult
from sufficiency.report.analysis_tables import RunAnalyses

ROBUST = "robust"  # the robust plan's label in the scenario tables (analyses.robust.ROBUST)
OWN_PLAN = "optimal for {}"  # the label of a scenario's own optimal plan (robust.own_label)
OPTIMAL = "optimal"  # the optimum's label in alternatives.csv
DROPPED = "dropped (past the horizon)"  # slippage plans.csv: openings pushed past the end


def _number(value: object) -> float | None:
    """A table cell as a float; None for blanks and NaN."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _sites(cell: object) -> list[str]:
    """'S1;S2' -> ['S1', 'S2'] (the alternatives table's site lists)."""
    return [s for s in str(cell).split(";") if s] if isinstance(cell, str) else []


def _site_words(site_ids: list[str], names: dict[str, str]) -> str:
    """Sites by name and id, e.g. 'Two (S2), Three (S3)'; '—' for none."""
    if not site_ids:
        return "—"
    return ", ".join(f"{names[s]} ({s})" if s in names else s for s in site_ids)


def _openings(plans: pd.DataFrame, label: str, column: str = "plan") -> list[dict[str, Any]]:
    """The openings of one plan in a plans.csv table, as rows for the template."""
    rows = plans[plans[column] == label] if column in plans else plans.iloc[0:0]
    return [{"option_id": r.option_id, "site_id": r.site_id, "kind": r.kind,
             "places": _number(r.places), "opening_year": _number(r.opening_year),
             "capital_year": _number(r.capital_year), "capital_cost": _number(r.capital_cost)}
            for r in rows.itertuples(index=False)]


def scenarios_view(tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Each scenario's own optimum and the robust plan's cost there; every plan compared."""
    scenarios, regret = tables["scenarios.csv"], tables["regret.csv"]
    comparison = tables["comparison.csv"].set_index("plan")
    robust = regret[regret["plan"] == ROBUST].set_index("scenario")
    rows = []
    for r in scenarios.itertuples(index=False):
        own = OWN_PLAN.format(r.scenario)
        rows.append({"scenario": r.scenario, "weight": _number(r.weight),
                     "central": str(r.central) == "True", "demand": r.demand,
                     "pupil_years": _number(r.pupil_years),
                     "own_optimum": _number(r.own_optimum),
                     "own_places": _number(comparison["places_created"].get(own)),
                     "do_nothing": _number(r.do_nothing),
                     "robust_cost": _number(robust["cost"].get(r.scenario)),
                     "robust_regret": _number(robust["regret"].get(r.scenario))})
    plans = [{"plan": label, "robust": label == ROBUST,
              "expected_cost": _number(c.expected_cost), "worst_cost": _number(c.worst_cost),
              "worst_regret": _number(c.worst_regret), "places": _number(c.places_created),
              "capital": _number(c.capital), "openings": c.openings}
             for label, c in comparison.iterrows()]
    solve = tables["robust.csv"].iloc[0] if not tables["robust.csv"].empty else None
    return {"rows": rows, "plans": plans,
            "objective": None if solve is None else solve["objective"],
            "alpha": None if solve is None else _number(solve["alpha"]),
            "status": None if solve is None else solve["status"],
            "robust_openings": _openings(tables["plans.csv"], ROBUST)}


def alternatives_view(tables: dict[str, pd.DataFrame], names: dict[str, str]) -> dict[str, Any]:
    """Each near-optimal plan: its extra cost and the sites where it differs from the optimum."""
    summary = tables["alternatives.csv"]
    optimal = summary[summary["plan"] == OPTIMAL]
    base = _sites(optimal["sites"].iloc[0]) if not optimal.empty else []
    rows = []
    for r in summary.itertuples(index=False):
        sites = _sites(r.sites)
        rows.append({"plan": r.plan, "optimal": r.plan == OPTIMAL,
                     "total_cost": _number(r.total_cost), "extra_cost": _number(r.extra_cost),
                     "extra_percent": _number(r.extra_percent),
                     "places": _number(r.places_created), "capital": _number(r.capital),
                     "adds": _site_words([s for s in sites if s not in base], names),
                     "drops": _site_words([s for s in base if s not in sites], names),
                     "site_count": len(sites)})
    return {"rows": rows, "alternatives": max(len(rows) - 1, 0)}


def slippage_view(tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Every opening a year late: the extra cost, by case and by year."""
    summary, by_year = tables["slippage.csv"], tables["slippage_by_year.csv"]
    plans = tables["plans.csv"]
    cases = [{"case": r.case, "total_cost": _number(r.total_cost),
              "extra_cost": _number(getattr(r, "extra_cost", None)),
              "independent": _number(r.independent_pupil_years),
              "extra_independent": _number(getattr(r, "extra_independent_pupil_years", None)),
              "sunk_capital": _number(r.sunk_capital), "openings": _number(r.openings)}
             for r in summary.itertuples(index=False)]
    years = [{"year": int(r.year), "planned": _number(r.discounted_total_planned),
              "slipped": _number(r.discounted_total_slipped),
              "extra_cost": _number(r.extra_discounted_total),
              "extra_independent": _number(r.extra_pupils_independent)}
             for r in by_year.itertuples(index=False)]
    return {"cases": cases, "years": years,
            "dropped": len(plans[plans["case"] == DROPPED]) if "case" in plans else 0}


def analyses_context(analyses: RunAnalyses | None, run: RunResult) -> dict[str, Any] | None:
    """The template's ``analyses``: one view per fresh analysis, and the notes; None if none."""
    if analyses is None or not (analyses.any or analyses.notes):
        return None
    names = dict(zip(run.dataset.sites["site_id"], run.dataset.sites["name"], strict=True))
    return {
        "scenarios": None if analyses.scenarios is None else scenarios_view(analyses.scenarios),
        "alternatives": None if analyses.alternatives is None
        else alternatives_view(analyses.alternatives, names),
        "slippage": None if analyses.slippage is None else slippage_view(analyses.slippage),
        "notes": list(analyses.notes),
    }
