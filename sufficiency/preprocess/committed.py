"""Openings already decided: ``committed.csv`` (approved schemes) and locks from an earlier plan.

``committed.csv`` (optional dataset file; absent = contract v1):

    option_id,modules,opening_year,note
    R_NORTH,1,2027,approved by cabinet 2025-11

Every row, and every locked row of an earlier plan (:mod:`sufficiency.preprocess.locks`),
is a *fixed opening*: ``modules`` new modules of ``option_id`` open in ``opening_year``
(academic year), in the plan and in do nothing alike ("do nothing" means nothing new).

Rules (docs/inputs.md, "Committed schemes and re-plans"):

- the option exists in provision.csv; modules ≥ 1, and an option's fixed openings together
  stay within its ``max_modules``; one row per option and year;
- the opening year lies in the horizon (before the start year the places exist already:
  they belong in ``existing_places``);
- a fixed opening is *under construction* when its capital year (opening year −
  ``lead_time_years``) is before the start year; the lead time and ``earliest_year`` then
  do not apply (the scheme is being built). Otherwise it must open no earlier than
  ``earliest_year``, as any new module;
- its capital is split by the kind's spend profile (``[capital]``; else all in the capital
  year): tranches spent before the start year are *sunk* (in neither the objective nor the
  budgets), the rest counts in both. The option's ``fixed_capital_cost`` goes with its
  earliest fixed opening, and the plan opens no new module at that option before it;
- fixed openings count towards the delivery limits and the capital budget; when they alone
  break one, that is an input error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sufficiency.errors import Issue
from sufficiency.preprocess.capital import spend_table
from sufficiency.preprocess.readers import ROW
from sufficiency.preprocess.schema import COMMITTED_COLUMNS, EXCLUSIVE_GROUP, required_columns
from sufficiency.preprocess.textcells import CellParser
from sufficiency.tolerances import CAPITAL_AUDIT_ABS

if TYPE_CHECKING:
    from sufficiency.preprocess.config import RunConfig

COMMITTED_FILE = "committed.csv"
COMMITTED, LOCKED, NEW = "committed", "locked", "new"  # plan.csv ``decision`` values
DECISION = "decision"
FIXED_COLUMNS = ["option_id", "modules", "opening_year", "note", "source", "file", ROW]
YEAR_RANGE = (1900, 2200)  # a cell outside this is a typo (the horizon check says more)


def check_committed(raw: pd.DataFrame, file: str = COMMITTED_FILE) -> tuple[pd.DataFrame,
                                                                              CellParser]:
    """committed.csv's cells: option ids, whole modules ≥ 1, years; one row per option × year."""
    cells = CellParser(raw, file)
    if not cells.has_columns(required_columns(COMMITTED_COLUMNS)):
        return pd.DataFrame(columns=FIXED_COLUMNS), cells
    frame = pd.DataFrame({
        "option_id": cells.ids("option_id"),
        "modules": cells.numbers("modules", integer=True, minimum=1, maximum=10_000,
                                 range_fix="a commitment opens at least 1 module: enter a "
                                           "whole number ≥ 1, or delete the row"),
        "opening_year": cells.numbers("opening_year", integer=True, minimum=YEAR_RANGE[0],
                                      maximum=YEAR_RANGE[1],
                                      range_fix="enter the academic year it opens, e.g. 2027"),
        "note": cells.text("note") if "note" in raw.columns else "",
        "source": COMMITTED,
        "file": file,
        ROW: raw[ROW],
    })
    _flag_repeats(frame, cells)
    return frame[FIXED_COLUMNS], cells


def _flag_repeats(frame: pd.DataFrame, cells: CellParser) -> None:
    """One row per option and opening year (a repeat would be counted twice)."""
    key = ["option_id", "opening_year"]
    first_row = frame.drop_duplicates(key).set_index(key)[ROW]
    for _, row in frame[frame.duplicated(key)].iterrows():
        earlier = first_row.get((row["option_id"], row["opening_year"]))
        cells.issue(int(row[ROW]), "option_id",
                    f"repeats option {row['option_id']!r} opening in {row['opening_year']:g} "
                    f"(row {earlier})", "give each option and year once: add the modules "
                    "together in one row")


def _issue(fixed: pd.Series, column: str, message: str, fix: str) -> Issue:
    """An issue located at a fixed opening's own file and row."""
    return Issue(str(fixed["file"]), int(fixed[ROW]), column, message, fix)


def fixed_opening_issues(fixed: pd.DataFrame, options: pd.DataFrame,
                         config: RunConfig) -> list[Issue]:
    """Every rule of the module doc each fixed opening breaks, at its file and row."""
    known = set(options["option_id"])
    issues = []
    found = fixed[fixed["option_id"].isin(known)]
    for _, row in fixed[~fixed["option_id"].isin(known)].iterrows():
        issues.append(_issue(row, "option_id", f"option {row['option_id']!r} is not in "
                             "provision.csv", "add the option to provision.csv, or correct "
                             "the option_id"))
    by_id = options.set_index("option_id")
    for _, row in found.iterrows():
        issues += _timing_issues(row, by_id.loc[row["option_id"]], config)
    issues += _max_module_issues(found, by_id)
    return issues


def _timing_issues(row: pd.Series, option: pd.Series, config: RunConfig) -> list[Issue]:
    """Opening year in the horizon; not before earliest_year unless under construction."""
    year, start = int(row["opening_year"]), config.start_year
    if year < start:
        return [_issue(row, "opening_year", f"opens in {year}, before the start year {start}: "
                       "its places exist already", f"add its {int(row['modules'])} module(s) "
                       f"to existing_places of {row['option_id']!r} in provision.csv and "
                       "delete this row")]
    if year > config.end_year:
        return [_issue(row, "opening_year", f"opens in {year}, after the horizon's last year "
                       f"{config.end_year}", "delete the row, or lengthen horizon_years")]
    capital_year = year - int(option["lead_time_years"])
    if capital_year >= start and year < int(option["earliest_year"]):
        return [_issue(row, "opening_year", f"opens in {year}, before earliest_year "
                       f"{int(option['earliest_year'])} of {row['option_id']!r}, and its "
                       f"capital year {capital_year} (opening − lead_time_years) is not before "
                       f"the start year {start}, so it is not under construction",
                       f"open it in {int(option['earliest_year'])} or later, or correct "
                       "earliest_year / lead_time_years in provision.csv")]
    return []


def _max_module_issues(found: pd.DataFrame, by_id: pd.DataFrame) -> list[Issue]:
    """An option's fixed openings together within its max_modules (at its last row)."""
    issues = []
    for option_id, rows in found.groupby("option_id"):
        most = int(by_id.at[option_id, "max_modules"])
        total = int(rows["modules"].sum())
        if total > most:
            listed = ", ".join(f"{r['file']} row {r[ROW]}" for _, r in rows.iterrows())
            issues.append(_issue(rows.iloc[-1], "modules", f"{total} fixed module(s) at "
                                 f"{option_id!r} ({listed}), but its max_modules is {most}",
                                 "reduce the modules, or raise max_modules in provision.csv"))
    return issues


def as_plan(fixed: pd.DataFrame, options: pd.DataFrame) -> pd.DataFrame:
    """Fixed openings as plan.csv rows, for the capital arithmetic of :mod:`.capital`.

    Capital year = opening − lead time; the fixed cost goes with each option's earliest one.
    """
    rows = fixed.merge(options, on="option_id", suffixes=("", "_option"))
    rows = rows.sort_values(["option_id", "opening_year"]).reset_index(drop=True)
    first = ~rows.duplicated("option_id")
    modules = rows["modules"].astype("int64")
    return pd.DataFrame({
        "option_id": rows["option_id"], "site_id": rows["site_id"], "kind": rows["kind"],
        "modules": modules, "places": modules * rows["module_places"].astype("int64"),
        "opening_year": rows["opening_year"].astype("int64"),
        "capital_year": (rows["opening_year"] - rows["lead_time_years"]).astype("int64"),
        "capital_cost": modules * rows["capital_cost_per_module"]
        + first * rows["fixed_capital_cost"],
        "source": rows["source"], "note": rows["note"], "file": rows["file"], ROW: rows[ROW]})


def limit_issues(fixed: pd.DataFrame, options: pd.DataFrame, config: RunConfig) -> list[Issue]:
    """Fixed openings alone must keep every delivery limit and capital budget year."""
    plan = as_plan(fixed, options)
    where = "; ".join(f"{f} row {r}" for f, r in plan[["file", ROW]].itertuples(index=False))
    issues = [Issue(str(plan["file"].iloc[0]), None, column, message,
                    f"{fix} (fixed openings: {where})")
              for column, message, fix in _delivery_breaks(plan, options, config)
              + _budget_breaks(plan, config)]
    return issues


def _delivery_breaks(plan: pd.DataFrame, options: pd.DataFrame,
                     config: RunConfig) -> list[tuple[str, str, str]]:
    """(column, message, fix) for each delivery limit the fixed openings alone break."""
    delivery, out = config.delivery, []
    schemes = plan.groupby("option_id").agg(year=("opening_year", "min"), kind=("kind", "first"))
    scopes = [("max_new_schemes_per_year", schemes, delivery.schemes_per_year)] + [
        (f"max_new_schemes_per_year_by_kind.{k}", schemes[schemes["kind"] == k], most)
        for k, most in delivery.schemes_per_year_by_kind.items()]
    for key, chosen, most in scopes:
        counts = chosen.groupby("year").size()
        for year, count in counts[counts > (most or np.inf)].items():
            out.append(("opening_year", f"{count} fixed schemes open in {year}, but [delivery] "
                        f"{key} is {most}", f"raise {key} in the run TOML, or move a scheme"))
    most_site = delivery.modules_per_site
    per_site = plan.groupby("site_id")["modules"].sum()
    for site, count in per_site[per_site > (most_site or np.inf)].items():
        out.append(("modules", f"{count} fixed new modules at site {site!r}, but [delivery] "
                    f"max_new_modules_per_site is {most_site}", "raise the limit in the run "
                    "TOML, or reduce the modules"))
    if EXCLUSIVE_GROUP in options.columns:
        group = plan["option_id"].map(options.set_index("option_id")[EXCLUSIVE_GROUP])
        opened = plan.assign(group=group)[group != ""].groupby("group")["option_id"].nunique()
        for name, count in opened[opened > 1].items():
            out.append(("option_id", f"{count} options of exclusive_group {name!r} have fixed "
                        "openings, but at most one of a group may open", "keep one of them, "
                        "or change exclusive_group in provision.csv"))
    return out


def _budget_breaks(plan: pd.DataFrame, config: RunConfig) -> list[tuple[str, str, str]]:
    """(column, message, fix) for each budget year the fixed openings' cash alone exceeds."""
    if not config.capital_budget:
        return []
    table = spend_table(plan, config)
    cash = table.groupby("spend_year")["cash"].sum()
    return [("opening_year", f"the fixed openings spend £{cash[y]:,.0f} of capital in {y}, "
             f"more than its capital_budget £{b:,.0f}", f"raise capital_budget {y} in the run "
             "TOML, or move a fixed opening")
            for y, b in sorted(config.capital_budget.items())
            if cash.get(y, 0.0) > b + CAPITAL_AUDIT_ABS]


COMMITMENT_COLUMNS = ["option_id", "site_id", "kind", "source", "modules", "places",
                      "opening_year", "capital_year", "capital_cost", "sunk_capital",
                      "remaining_capital", "remaining_capital_pv", "note"]


def commitment_table(fixed: pd.DataFrame, options: pd.DataFrame,
                     config: RunConfig) -> pd.DataFrame:
    """commitments.csv without its values: each fixed opening and its capital (£).

    ``sunk_capital``: spent before the start year (start-year prices), in neither the
    objective nor the budgets; ``remaining_capital``: the rest; ``remaining_capital_pv``:
    what the objective charges for it (discounted; under annuity only the service within
    the horizon).
    """
    plan = as_plan(fixed, options)
    table = spend_table(plan, config)
    sunk = table["spend_year"] < config.start_year
    by = table.assign(sunk=np.where(sunk, table["amount"], 0.0),
                      remaining=np.where(sunk, 0.0, table["amount"])).groupby("opening")
    plan = plan.assign(sunk_capital=by["sunk"].sum().round(2).to_numpy(),
                       remaining_capital=by["remaining"].sum().round(2).to_numpy(),
                       remaining_capital_pv=by["charged"].sum().round(2).to_numpy())
    return plan.sort_values(["opening_year", "option_id"])[COMMITMENT_COLUMNS].reset_index(
        drop=True)
