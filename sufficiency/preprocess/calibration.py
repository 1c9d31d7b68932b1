"""``calibration.csv`` (optional, an extension): the placements a council counts today.

build-dataset writes it from the SEN2 return it used (the base year's pupils by group, need
and phase); a council may write its own (a workbook dataset: a ``calibration`` sheet). It is
read and checked with the rest of the dataset (:mod:`sufficiency.preprocess.dataset`), so
``validate`` refuses a bad one as ``plan`` does. A run compares the start year of "do
nothing" with it (:mod:`sufficiency.report.calibration`). It changes nothing in the model.

| column | meaning |
|---|---|
| ``group`` | independent, special (with satellites), resourced, post16 or other |
| ``need`` | SEN2 need code, or ``*`` (every need together) |
| ``phase`` | primary, secondary, post16, or ``*`` |
| ``pupils`` | pupils placed, ≥ 0 |
| ``year`` | optional: the academic year counted (2024 = AY 2024/25); default the start year |
| ``source`` | optional: where the count comes from |
"""

from __future__ import annotations

import pandas as pd

from sufficiency.errors import InputError
from sufficiency.preprocess.readers import ROW
from sufficiency.preprocess.schema import CALIBRATION_COLUMNS, required_columns
from sufficiency.preprocess.textcells import CellParser
from sufficiency.preprocess.vocabulary import INDEPENDENT, NEEDS, PHASES

CALIBRATION_FILE = "calibration.csv"
ALL = "*"
# Calibration groups: what SEN2 (and a council) counts, and the kinds each group holds.
# Satellite pupils are on their special school's roll, so SEN2 counts them as special.
GROUP_KINDS = {"special": ("special", "new_special", "satellite"),
               "resourced": ("resourced",),
               "post16": ("fe_college", "specialist_post16")}
OTHER = "other"  # a placement the model has no kind for (e.g. AP/PRU in a council's count)
GROUPS = (INDEPENDENT, *GROUP_KINDS, OTHER)
COLUMNS = ["group", "need", "phase", "pupils", "year", "source"]


def group_of_kind(kind: str) -> str:
    """The calibration group of a provision kind (or of ``independent``)."""
    return next((g for g, kinds in GROUP_KINDS.items() if kind in kinds), INDEPENDENT
                if kind == INDEPENDENT else OTHER)


def check_calibration(raw: pd.DataFrame, file: str, start_year: int) -> pd.DataFrame:
    """The checked table (COLUMNS); raise :class:`InputError` naming every bad cell."""
    cells = CellParser(raw, file)
    if not cells.has_columns(required_columns(CALIBRATION_COLUMNS)):
        raise InputError(cells.issues)
    frame = pd.DataFrame({
        "group": cells.codes("group", GROUPS, upper=False),
        "need": cells.codes("need", (*NEEDS, ALL), upper=True),
        "phase": cells.codes("phase", (*PHASES, ALL), upper=False),
        "pupils": cells.numbers("pupils", maximum=1_000_000),
        "year": cells.numbers("year", integer=True, minimum=1990, maximum=2100)
        if "year" in raw.columns else float(start_year),
        "source": cells.text("source") if "source" in raw.columns else file,
        ROW: raw[ROW],
    })
    key = ["group", "need", "phase"]
    for row in frame.loc[frame.duplicated(key), ROW]:
        cells.issue(row, None, "repeats a (group, need, phase) of an earlier row",
                    "give each combination once (add the pupils together)")
    if frame["year"].nunique() > 1:
        cells.issue(int(frame[ROW].iloc[0]), "year", "the rows count different years",
                    "give one year's placements (the latest you have)")
    if cells.issues:
        raise InputError(cells.issues)
    return frame[COLUMNS].assign(year=frame["year"].astype(int))
