"""Fixed openings and re-plans as tables: ``commitments.csv`` and ``changes.csv``.

- ``commitments.csv`` (runs with committed.csv or locks): each fixed opening, its places,
  sunk and remaining capital (:func:`sufficiency.preprocess.committed.commitment_table`),
  and, when ``sufficiency report`` / ``plan --why`` re-solved without it
  (:mod:`sufficiency.analyses.commitments`), its value: objective without − objective with.
- ``changes.csv`` (re-plans, ``plan --lock-until --from``): per option, the earlier plan
  against this one, with a status: ``kept`` (same modules in the same years), ``moved``
  (other years or modules), ``added`` (only now), ``dropped`` (only before) or ``locked``
  (kept by the lock; a locked opening before this run's start year is in existing_places).

Pure views of the run: no solving here. The report shows both (templates/changes.html.j2).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sufficiency.outcome import RunResult
from sufficiency.preprocess.committed import LOCKED, commitment_table

VALUE_COLUMNS = ["value_status", "cost_without", "value", "resolve_gap"]
CHANGE_COLUMNS = ["option_id", "site_id", "kind", "status", "modules_before",
                  "opening_year_before", "openings_before", "modules_now", "opening_year_now",
                  "openings_now", "note"]
KEPT, MOVED, ADDED, DROPPED = "kept", "moved", "added", "dropped"
IN_EXISTING = "opened before the start year: in existing_places"


def commitments_table(run: RunResult) -> pd.DataFrame | None:
    """commitments.csv: fixed openings with sunk and remaining capital (£) and value if known."""
    dataset = run.dataset
    if dataset.fixed is None:
        return None
    table = commitment_table(dataset.fixed, dataset.options, dataset.config)
    if run.commitments is None:
        return table.assign(**dict.fromkeys(VALUE_COLUMNS, np.nan)).assign(
            value_status="not computed (run `sufficiency report` or `plan --why`)")
    values = run.commitments[["option_id", "opening_year", *VALUE_COLUMNS]]
    return table.merge(values, on=["option_id", "opening_year"], how="left")


def _openings(plan: pd.DataFrame) -> pd.DataFrame:
    """Per option: modules in all, first opening year, and every opening as 'year×modules'."""
    if plan.empty:
        return pd.DataFrame(columns=["modules", "opening_year", "openings"])
    rows = plan.sort_values(["option_id", "opening_year"])
    text = rows["opening_year"].astype(str) + "×" + rows["modules"].astype(str)
    return rows.assign(text=text).groupby("option_id").agg(
        modules=("modules", "sum"), opening_year=("opening_year", "min"),
        openings=("text", "; ".join))


def _status(row: pd.Series, locked: set[str]) -> str:
    """The option's status: kept, moved, added, dropped or locked (module doc)."""
    if row["option_id"] in locked:
        return LOCKED
    if pd.isna(row["openings_before"]):
        return ADDED
    if pd.isna(row["openings_now"]):
        return DROPPED
    return KEPT if row["openings_before"] == row["openings_now"] else MOVED


def changes_table(run: RunResult) -> pd.DataFrame | None:
    """changes.csv: the earlier plan (``--from``) against this one, per option.

    None when the run is no re-plan.
    """
    dataset = run.dataset
    earlier, replan = dataset.earlier_plan, dataset.config.replan
    if earlier is None or replan is None:
        return None
    before = _openings(earlier).add_suffix("_before")
    now = _openings(run.optimal.plan).add_suffix("_now")
    both = before.join(now, how="outer").rename_axis("option_id").reset_index()
    locked_rows = earlier[earlier["opening_year"] <= replan.lock_until]
    existing = set(locked_rows.loc[locked_rows["opening_year"] < dataset.config.start_year,
                                   "option_id"])
    both["status"] = [_status(r, set(locked_rows["option_id"])) for _, r in both.iterrows()]
    both["note"] = np.where(both["option_id"].isin(existing), IN_EXISTING, "")
    options = dataset.options.set_index("option_id")
    both["site_id"] = both["option_id"].map(options["site_id"]).fillna("")
    both["kind"] = both["option_id"].map(options["kind"]).fillna("")
    for column in ("modules_before", "modules_now", "opening_year_before",
                   "opening_year_now"):
        both[column] = both[column].astype("Int64")
    return both[CHANGE_COLUMNS].sort_values("option_id").reset_index(drop=True)


def fixed_tables(run: RunResult) -> dict[str, pd.DataFrame]:
    """The output files of this module that the run has (file name → table)."""
    tables = {"commitments.csv": commitments_table(run), "changes.csv": changes_table(run)}
    return {name: table for name, table in tables.items() if table is not None}


def fixed_context(run: RunResult) -> dict[str, object] | None:
    """What templates/changes.html.j2 shows: the two tables (None when the run has neither)."""
    commitments, changes = commitments_table(run), changes_table(run)
    if commitments is None and changes is None:
        return None
    if changes is not None:  # blanks as None, which the template shows as "—"
        changes = changes.astype(object).where(changes.notna(), None)
    replan = run.dataset.config.replan
    return {"commitments": commitments,
            "commitments_valued": run.commitments is not None,
            "changes": changes,
            "lock_until": None if replan is None else replan.lock_until,
            "locked_from": None if replan is None else str(replan.source)}
