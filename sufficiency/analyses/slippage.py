"""Slippage stress test: the optimal plan's openings one year late, placements re-solved.

Capital schemes slip. Every opening of the optimal plan (or only those of the kinds asked
for, e.g. ``new_special``) opens one academic year later than planned, and the placements
are re-solved and audited with those openings fixed (:mod:`sufficiency.analyses.evaluate`). What
follows is the extra cost and the extra independent placements.

- **Capital year unchanged**: the capital is spent as programmed (the budget is committed),
  only the places arrive late. The model ties capital year = opening year − lead time, so a
  slipped option is evaluated with its lead time one year longer: the same capital in the
  same financial year (each tranche of a ``[capital]`` spend profile in its own year),
  every capital budget still met.
- **Openings pushed past the horizon are dropped**: their places never arrive in the
  horizon, but their capital is still spent; it is added to the slipped cost (discounted
  in the year of each tranche) and reported as ``sunk_capital``. Under ``[appraisal]
  method = "annuity"`` it is counted as the objective counts capital: an asset opening
  after the horizon serves only after it, so all its capital is residual value and its
  sunk capital is £0 (the cost of the slip is then the pupils placed elsewhere).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from sufficiency.analyses.evaluate import describe_openings, evaluate_plan, independent_pupil_years
from sufficiency.errors import InputError, Issue, SolveError
from sufficiency.formulation.sets import build_sets
from sufficiency.outcome import PLAN_COLUMNS, PlanResult, RunResult
from sufficiency.pipeline import run_plan
from sufficiency.preprocess.capital import spend_table
from sufficiency.preprocess.dataset import Dataset
from sufficiency.preprocess.vocabulary import KINDS


@dataclass(frozen=True)
class SlippedPlan:
    """The optimal plan with the chosen openings one year late, and the openings lost."""

    plan: pd.DataFrame  # plan.csv rows, opening_year + 1 for the slipped options
    dropped: pd.DataFrame  # rows pushed past the last year (capital still spent)
    slipped_options: list[str]


def slip_plan(plan: pd.DataFrame, end_year: int, kinds: list[str] | None = None) -> SlippedPlan:
    """Openings of ``kinds`` (all if None) one year later; those past ``end_year`` dropped."""
    late = plan["kind"].isin(kinds) if kinds else pd.Series(True, index=plan.index)
    if "decision" in plan.columns:  # committed.csv, locks: fixed openings do not slip here
        late &= plan["decision"] == "new"
    shifted = plan.assign(opening_year=plan["opening_year"] + late.astype("int64"))
    past = shifted["opening_year"] > end_year
    slipped = sorted(plan.loc[late, "option_id"].unique())
    return SlippedPlan(shifted[~past].reset_index(drop=True), shifted[past].reset_index(drop=True),
                       slipped)


def later_lead_times(dataset: Dataset, option_ids: list[str]) -> Dataset:
    """The dataset with one more lead-time year for ``option_ids`` (capital stays put)."""
    options = dataset.options.copy()
    late = options["option_id"].isin(option_ids)
    options.loc[late, "lead_time_years"] = options.loc[late, "lead_time_years"] + 1
    return replace(dataset, options=options)


def sunk_capital_by_year(dropped: pd.DataFrame, dataset: Dataset) -> pd.Series:
    """Discounted capital (£) per financial year of openings pushed past the horizon."""
    config = dataset.config
    if config.capital.on or config.appraisal.annuity:
        charged = spend_table(dropped, config).groupby("spend_year")["charged"].sum()
        return pd.Series({int(y): float(c) for y, c in charged.items()}, dtype=float)
    spent = dropped.groupby("capital_year")["capital_cost"].sum()
    return pd.Series({int(y): float(c) * config.discount_factor(int(y)) for y, c in spent.items()},
                     dtype=float)


def _case_row(case: str, result: PlanResult, plan: pd.DataFrame, sunk: float,
              reference: PlanResult | None) -> dict:
    cost = result.total_cost + sunk
    indep = independent_pupil_years(result)
    row = {"case": case, "total_cost": round(cost, 2), "sunk_capital": round(sunk, 2),
           "independent_pupil_years": round(indep, 6), "openings": len(plan),
           "places_created": int(plan["places"].sum()), "plan": describe_openings(plan)}
    if reference is not None:
        row["extra_cost"] = round(cost - reference.total_cost, 2)
        row["extra_independent_pupil_years"] = round(
            indep - independent_pupil_years(reference), 6)
    return row


def _by_year(planned: PlanResult, late: PlanResult, sunk: pd.Series) -> pd.DataFrame:
    """Per year: independent pupils and discounted cost (sunk capital included), both ways."""
    columns = ["year", "pupils_independent", "discounted_total"]
    table = planned.costs_by_year[columns].merge(late.costs_by_year[columns], on="year",
                                                 suffixes=("_planned", "_slipped"))
    table["discounted_total_slipped"] = (table["discounted_total_slipped"]
                                         + table["year"].map(sunk).fillna(0.0)).round(2)
    table["extra_pupils_independent"] = (table["pupils_independent_slipped"]
                                         - table["pupils_independent_planned"]).round(6)
    table["extra_discounted_total"] = (table["discounted_total_slipped"]
                                       - table["discounted_total_planned"]).round(2)
    return table


@dataclass(frozen=True)
class SlippageResult:
    """Tables of the stress test (money in £, discounted; pupils in pupil-years)."""

    summary: pd.DataFrame  # as planned vs slipped: cost, independent pupils, extras
    by_year: pd.DataFrame  # year by year, planned and slipped
    plans: pd.DataFrame  # the planned and slipped openings, and those dropped

    def tables(self) -> dict[str, pd.DataFrame]:
        """File name → table, for writing."""
        return {"slippage.csv": self.summary, "slippage_by_year.csv": self.by_year,
                "plans.csv": self.plans}


def check_kinds(kinds: list[str] | None) -> None:
    """Refuse a ``--kind`` that is not a provision kind, naming each one."""
    unknown = [k for k in kinds or [] if k not in KINDS]
    if unknown:
        raise InputError([Issue("command line", None, "--kind", f"{k!r} is not a kind",
                                f"use one of {', '.join(KINDS)}", column_label="option")
                          for k in unknown])


def slippage_of(run: RunResult, kinds: list[str] | None = None) -> SlippageResult:
    """Stress a solved run: its openings (of ``kinds``) one year late, re-solved and audited."""
    check_kinds(kinds)
    dataset = run.dataset
    slipped = slip_plan(run.optimal.plan, dataset.config.end_year, kinds)
    late_data = later_lead_times(dataset, slipped.slipped_options)
    late = evaluate_plan(late_data, build_sets(late_data), slipped.plan, "slipped")
    if late is None:
        raise SolveError("the slipped plan cannot place every pupil locally, and independent "
                         "placement is switched off: the slip is not survivable")
    sunk = sunk_capital_by_year(slipped.dropped, dataset)
    label = "slipped" if not kinds else f"slipped ({', '.join(kinds)})"
    summary = pd.DataFrame([_case_row("as planned", run.optimal, run.optimal.plan, 0.0, None),
                            _case_row(label, late, slipped.plan, float(sunk.sum()),
                                      run.optimal)])
    plans = pd.concat([run.optimal.plan.assign(case="as planned"),
                       slipped.plan.assign(case=label),
                       slipped.dropped.assign(case="dropped (past the horizon)")],
                      ignore_index=True)[["case", *PLAN_COLUMNS]]
    return SlippageResult(summary, _by_year(run.optimal, late, sunk), plans)


def slippage(toml_path: str | Path, kinds: list[str] | None = None) -> SlippageResult:
    """Plan the run, then stress its openings one year late (see the module docstring)."""
    check_kinds(kinds)
    return slippage_of(run_plan(toml_path), kinds)
