"""Rolling re-plans: ``sufficiency plan RUN --lock-until YEAR --from outputs/<earlier run>``.

The earlier plan is the ``plan.csv`` of a folder the product wrote (its marker file,
:func:`~sufficiency.preprocess.paths.written_by_sufficiency`). It is recognised by its
option ids, not by a hash of the data: a re-plan has new demand. Its rows with
``opening_year`` ≤ YEAR are *locked*:

- a locked opening in this run's horizon becomes a fixed opening, exactly as a row of
  committed.csv (:mod:`sufficiency.preprocess.committed`: sunk capital, limits, do nothing);
- a locked opening before this run's start year has opened: its places are taken to be in
  this dataset's ``existing_places`` and it is skipped (listed in a warning), so they are
  never counted twice;
- a locked opening that committed.csv also holds (same option and year) is the commitment.

YEAR must lie in this run's horizon. Every locked option id must be in provision.csv.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from sufficiency.errors import InputError, Issue
from sufficiency.preprocess.committed import FIXED_COLUMNS, LOCKED
from sufficiency.preprocess.paths import MARKER, UnusablePath, first_line, resolve
from sufficiency.preprocess.readers import ROW, read_csv_table
from sufficiency.preprocess.textcells import CellParser

if TYPE_CHECKING:
    from sufficiency.preprocess.config import RunConfig

PLAN_FILE = "plan.csv"
PLAN_MARKER = "`sufficiency plan "  # what the marker of a plan's folder says (report/outputs.py)
EARLIER_COLUMNS = ["option_id", "modules", "opening_year", ROW]


@dataclass(frozen=True)
class Replan:
    """A re-plan's request: lock the openings of ``source``/plan.csv up to ``lock_until``."""

    lock_until: int
    source: Path


@dataclass(frozen=True)
class Locks:
    """What a re-plan takes from the earlier plan.

    ``earlier``: every row of its plan.csv (option_id, modules, opening_year, _row);
    ``fixed``: the locked openings in this horizon (FIXED_COLUMNS); ``skipped``: the
    locked openings before the start year (taken to be in existing_places).
    """

    earlier: pd.DataFrame
    fixed: pd.DataFrame
    skipped: pd.DataFrame


def plan_file(source: Path) -> Path:
    """``source``/plan.csv, when ``source`` is a plan folder the product wrote; else InputError."""
    try:
        folder = resolve(source)
    except UnusablePath as exc:
        raise InputError(Issue(repr(str(source)), None, None, f"not a usable path: {exc}",
                               "give --from the folder of an earlier plan, e.g. "
                               "outputs/<run>")) from None
    if not folder.is_dir():
        raise InputError(Issue(str(source), None, None, "--from folder not found",
                               "give --from the folder of an earlier plan, e.g. outputs/<run>"))
    if PLAN_MARKER not in first_line(folder / MARKER):
        raise InputError(Issue(str(source), None, None, "is not a plan written by sufficiency "
                               f"(no {MARKER} file of `sufficiency plan`)",
                               "give --from the outputs/<run> folder of an earlier "
                               "`sufficiency plan`"))
    path = folder / PLAN_FILE
    if not path.is_file():
        raise InputError(Issue(str(source), None, None, f"holds no {PLAN_FILE}",
                               "give --from the outputs/<run> folder of an earlier plan"))
    return path


def read_earlier_plan(source: Path) -> pd.DataFrame:
    """The earlier plan's openings (option_id, modules, opening_year, _row); InputError if bad."""
    path = plan_file(source)
    label = f"{source}/{PLAN_FILE}"
    raw = read_csv_table(path, label)
    cells = CellParser(raw, label)
    if not cells.has_columns(["option_id", "modules", "opening_year"]):
        raise InputError(cells.issues)
    frame = pd.DataFrame({
        "option_id": cells.ids("option_id"),
        "modules": cells.numbers("modules", integer=True, minimum=1),
        "opening_year": cells.numbers("opening_year", integer=True, minimum=1900,
                                      maximum=2200),
        ROW: raw[ROW]})
    if cells.issues:
        raise InputError(cells.issues)
    return frame.astype({"modules": "int64", "opening_year": "int64"})[EARLIER_COLUMNS]


def read_locks(replan: Replan, config: RunConfig, option_ids: set[str],
               committed: pd.DataFrame | None) -> Locks:
    """The locks of ``replan`` (see the module doc); InputError naming plan.csv's row."""
    label = f"{replan.source}/{PLAN_FILE}"
    if not config.start_year <= replan.lock_until <= config.end_year:
        raise InputError(Issue("--lock-until", None, None, f"{replan.lock_until} is outside "
                               f"the horizon {config.start_year}–{config.end_year}",
                               "give an academic year of this run's horizon"))
    earlier = read_earlier_plan(replan.source)
    locked = earlier[earlier["opening_year"] <= replan.lock_until]
    unknown = locked[~locked["option_id"].isin(option_ids)]
    if not unknown.empty:
        raise InputError([Issue(label, int(r[ROW]), "option_id", f"locked option "
                                f"{r['option_id']!r} is not in this dataset's provision.csv",
                                "add the option to provision.csv, or plan without --lock-until "
                                "(the earlier plan is matched by its option ids)")
                          for _, r in unknown.iterrows()])
    skipped = locked[locked["opening_year"] < config.start_year]
    kept = locked[locked["opening_year"] >= config.start_year]
    if committed is not None and not committed.empty:
        both = kept.merge(committed[["option_id", "opening_year"]], how="left", indicator=True)
        kept = kept[(both["_merge"] == "left_only").to_numpy()]
    fixed = kept.assign(note=f"locked from {label}", source=LOCKED, file=label)
    return Locks(earlier, fixed[FIXED_COLUMNS].reset_index(drop=True),
                 skipped.reset_index(drop=True))


def skipped_warning(locks: Locks, config: RunConfig) -> list[str]:
    """A note listing the locked openings taken to be in existing_places (none: [])."""
    if locks.skipped.empty:
        return []
    listed = ", ".join(f"{o} ({m} module(s), {y})" for o, m, y in locks.skipped[
        ["option_id", "modules", "opening_year"]].itertuples(index=False))
    return [f"locked openings before the start year {config.start_year} are taken to be in "
            f"provision.csv's existing_places and are not opened again: {listed}"]
