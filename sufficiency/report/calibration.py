"""Is the start year right? Do nothing's first-year placements against today's count.

Do nothing in the start year is what the model says happens with no new places: who is
placed independently, in special schools, in resourced provision. The data it is checked
against is, in order, ``current_placements.csv`` (the pupils placed at the start, by option)
or the dataset's ``calibration.csv`` (build-dataset writes it from the SEN2 return it used; a
workbook dataset's ``calibration`` sheet), read and checked with the dataset.
Neither: no table, a note. ``calibration.csv`` in the outputs:

    group, need, phase, model_pupils, data_pupils, difference, data_year, source

one row per group × need × phase with pupils on either side, then each group's total
(need and phase ``all``) and the grand total (group ``all``). Groups are kinds of provision
(:data:`sufficiency.preprocess.calibration.GROUP_KINDS`). A warning is raised when the
independent totals differ by more than :data:`WARN_SHARE` of the data's count and more than
:data:`WARN_PUPILS` pupils.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sufficiency.outcome import RunResult
from sufficiency.preprocess.calibration import CALIBRATION_FILE, GROUPS, group_of_kind
from sufficiency.preprocess.vocabulary import INDEPENDENT, NEEDS, PHASES
from sufficiency.preprocess.workbook import is_workbook, source_name

WARN_SHARE = 0.20  # of the data's independent pupils
WARN_PUPILS = 10.0  # pupils
ALL = "all"
OUTPUT_COLUMNS = ["group", "need", "phase", "model_pupils", "data_pupils", "difference",
                  "data_year", "source"]
CURRENT_SOURCE = "current_placements.csv"
NO_DATA = ("no current_placements.csv or calibration.csv in the dataset, so the start year "
           "is not checked against today's placements (build-dataset writes calibration.csv "
           "from the SEN2 return; a council may write its own)")


@dataclass(frozen=True)
class CalibrationData:
    """Today's placements by group, need and phase, the year counted and where from."""

    table: pd.DataFrame  # group, need, phase, pupils ('*' = every need / phase)
    year: int
    source: str


def current_data(run: RunResult) -> CalibrationData | None:
    """The data to compare with: current placements, else the dataset's calibration.csv."""
    dataset = run.dataset
    config = dataset.config
    if dataset.current is not None:
        kinds = dataset.options.set_index("option_id")["kind"]
        current = dataset.current
        group = current["option_id"].map(lambda o: group_of_kind(
            INDEPENDENT if o == INDEPENDENT else str(kinds.get(o, ""))))
        table = current.assign(group=group).groupby(["group", "need", "phase"],
                                                    as_index=False)["pupils"].sum()
        return CalibrationData(table, config.start_year,
                               table_name(config.inputs_dir, CURRENT_SOURCE))
    given = dataset.calibration
    if given is None:
        return None
    name = table_name(config.inputs_dir, CALIBRATION_FILE)
    heads = dict.fromkeys(s.split(":")[0].strip() for s in given["source"] if s.strip())
    heads.pop(name, None)  # rows without a source column carry the table's own name
    source = name + (f" ({'; '.join(heads)})" if heads else "")
    return CalibrationData(given[["group", "need", "phase", "pupils"]],
                           int(given["year"].iloc[0]), source)


def table_name(inputs: Path, file_name: str) -> str:
    """How the report names a table: "calibration.csv", or a workbook's sheet.

    The label the dataset's checks use, so also the ``source`` of calibration rows without one.
    """
    return source_name(inputs, file_name) if is_workbook(inputs) else file_name


def model_start(run: RunResult) -> pd.DataFrame:
    """Do nothing's placements in the start year by group, need and phase."""
    placements = run.do_nothing.placements
    first = placements[placements["year"] == run.dataset.config.start_year]
    kinds = run.dataset.options.set_index("option_id")["kind"]
    kind = first["option_id"].map(lambda o: INDEPENDENT if o == INDEPENDENT else kinds.get(o))
    return first.assign(group=kind.map(group_of_kind)).groupby(
        ["group", "need", "phase"], as_index=False)["pupils"].sum()


def _order(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in the vocabulary's order: groups, needs, phases, totals last."""
    rank = {"group": [*GROUPS, ALL], "need": [*NEEDS, "*", ALL], "phase": [*PHASES, "*", ALL]}
    keys = {c: frame[c].map({v: i for i, v in enumerate(order)}) for c, order in rank.items()}
    return frame.assign(**{f"_{c}": k for c, k in keys.items()}).sort_values(
        ["_group", "_need", "_phase"], kind="stable").drop(
        columns=["_group", "_need", "_phase"]).reset_index(drop=True)


def calibration_table(run: RunResult) -> pd.DataFrame | None:
    """outputs/<run>/calibration.csv (None: no data to compare with, or no do nothing)."""
    data = current_data(run)
    if data is None or run.do_nothing is None:
        return None
    key = ["group", "need", "phase"]
    model = model_start(run).rename(columns={"pupils": "model_pupils"})
    given = data.table.rename(columns={"pupils": "data_pupils"})
    detail = model.merge(given, on=key, how="outer").fillna(
        {"model_pupils": 0.0, "data_pupils": 0.0})
    detail = detail[(detail["model_pupils"] > 0) | (detail["data_pupils"] > 0)]
    groups = detail.groupby("group", as_index=False)[["model_pupils", "data_pupils"]].sum()
    total = detail[["model_pupils", "data_pupils"]].sum().to_frame().T
    table = pd.concat([detail, groups.assign(need=ALL, phase=ALL),
                       total.assign(group=ALL, need=ALL, phase=ALL)], ignore_index=True)
    table["model_pupils"] = table["model_pupils"].astype(float).round(2)
    table["data_pupils"] = table["data_pupils"].astype(float).round(2)
    table["difference"] = (table["model_pupils"] - table["data_pupils"]).round(2)
    table["data_year"] = data.year
    table["source"] = data.source
    return _order(table[OUTPUT_COLUMNS])


def group_totals(table: pd.DataFrame) -> pd.DataFrame:
    """The table's group totals and grand total (need and phase 'all')."""
    return table[(table["need"] == ALL) & (table["phase"] == ALL)].reset_index(drop=True)


def independent_totals(table: pd.DataFrame) -> tuple[float, float]:
    """(model, data) independent pupils in the table (0 where a side has none)."""
    totals = group_totals(table).set_index("group")
    if INDEPENDENT not in totals.index:
        return 0.0, 0.0
    row = totals.loc[INDEPENDENT]
    return float(row["model_pupils"]), float(row["data_pupils"])


def differs(model: float, data: float) -> bool:
    """More than WARN_SHARE of the data's count apart, and more than WARN_PUPILS pupils."""
    gap = abs(model - data)
    return gap > WARN_SHARE * data and gap > WARN_PUPILS


def _ay(year: int) -> str:
    return f"AY {year}/{(year + 1) % 100:02d}"


def calibration_warning(run: RunResult, table: pd.DataFrame | None = None) -> str | None:
    """A warning when do nothing's start-year independent count is far from the data's."""
    table = calibration_table(run) if table is None else table
    if table is None:
        return None
    model, data = independent_totals(table)
    if not differs(model, data):
        return None
    config = run.dataset.config
    year = int(table["data_year"].iloc[0])
    later = year < config.start_year
    return (f"start year not calibrated: do nothing places {model:,.0f} pupils independently in "
            f"{_ay(config.start_year)}, the data {data:,.0f} in {_ay(year)} "
            f"({table['source'].iloc[0]}), {model - data:+,.0f} (more than "
            f"{WARN_SHARE:.0%} and {WARN_PUPILS:g} pupils apart). "
            + ("Part of the difference is demand growth between the two years; " if later
               else "") + "check the existing places in "
            f"{table_name(config.inputs_dir, 'provision.csv')}, the needs and phases "
            "each option serves, the travel limits and the demand of the start year "
            "(calibration.csv compares them by need and phase)")


def calibration_view(run: RunResult) -> dict[str, Any]:
    """The report section: group totals, the warning and a note (or only a note)."""
    table = calibration_table(run)
    if table is None:
        note = NO_DATA if run.do_nothing is not None or current_data(run) is None else (
            "do nothing cannot place every pupil, so there is no start year to check")
        return {"rows": None, "warning": None, "note": note}
    config = run.dataset.config
    year = int(table["data_year"].iloc[0])
    demand = run.dataset.demand
    first = float(demand.loc[demand["year"] == config.start_year, "pupils"].sum())
    note = (f"Do nothing in {_ay(config.start_year)} (no new places) against the placements "
            f"counted in {_ay(year)}: {table['source'].iloc[0]}. The model's demand in "
            f"{_ay(config.start_year)} is {first:,.1f} pupils. Special includes satellites "
            "(their pupils are on the special school's roll). By need and phase in "
            "calibration.csv.")
    return {"rows": group_totals(table), "warning": calibration_warning(run, table),
            "note": note}
