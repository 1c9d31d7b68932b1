"""Results of the analysis commands, as the report and the cabinet paper receive them.

Each table is exactly what its command wrote to ``outputs/<run>.<command>/``; a table is
``None`` when that analysis has not been run for this run (or was left out as stale, with a
note in ``notes``). Loading and the freshness check live in :mod:`sufficiency.report.analyses_in`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class RunAnalyses:
    """Analysis tables of one run; ``None`` where the analysis is absent or stale."""

    scenarios: dict[str, pd.DataFrame] | None = None  # scenarios.csv, comparison.csv, regret.csv…
    alternatives: dict[str, pd.DataFrame] | None = None  # alternatives.csv, plans.csv
    slippage: dict[str, pd.DataFrame] | None = None  # slippage.csv, slippage_by_year.csv, plans.csv
    notes: tuple[str, ...] = field(default_factory=tuple)  # e.g. "slippage left out: stale"

    @property
    def any(self) -> bool:
        """True when at least one analysis is present."""
        return any(t is not None for t in (self.scenarios, self.alternatives, self.slippage))


def read_written_table(path: Path, text_columns: Collection[str]) -> pd.DataFrame:
    """A CSV the product wrote, read back with numbers as numbers.

    ``text_columns`` and ``*_id`` stay text; a column whose every filled cell is a number
    becomes numbers (empty cells NaN); the rest stays text.
    """
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    for column in table.columns:
        if column in text_columns or column.endswith("_id"):
            continue
        values = table[column]
        numbers = pd.to_numeric(values.where(values != ""), errors="coerce")
        if numbers.notna().sum() == (values != "").sum():
            table[column] = numbers
    return table
