"""Turn text cells into typed columns, recording an issue for every cell that is wrong.

A :class:`CellParser` wraps one raw table (from :mod:`sufficiency.readers`) and converts
its columns one by one; it never drops a row silently: a bad cell becomes an issue that
names the file, line and column, and the run stops before solving.
"""

from __future__ import annotations

import math

import pandas as pd

from sufficiency.errors import Issue
from sufficiency.readers import ROW


class CellParser:
    """Typed access to the columns of one raw text table, collecting issues."""

    def __init__(self, table: pd.DataFrame, file: str, row_label: str = "row"):
        self.table = table
        self.file = file
        self.row_label = row_label
        self.issues: list[Issue] = []
        self.warnings: list[str] = []

    def issue(self, row: int | None, column: str | None, message: str, fix: str) -> None:
        """Record one problem."""
        self.issues.append(Issue(self.file, row, column, message, fix, self.row_label))

    def has_columns(self, required: list[str]) -> bool:
        """Record each missing required column; True when all are there."""
        missing = [c for c in required if c not in self.table.columns]
        for column in missing:
            present = ", ".join(c for c in self.table.columns if c != ROW)
            self.issue(None, column, "required column is missing",
                       f"add a '{column}' column (columns found: {present})")
        return not missing

    def _cells(self, column: str) -> list[tuple[int, str]]:
        values = self.table[column].tolist()
        return list(zip(self.table[ROW].tolist(), ["" if v is None else str(v) for v in values],
                        strict=True))

    def ids(self, column: str) -> pd.Series:
        """Identifier cells: trimmed (with a warning), never empty."""
        out = []
        trimmed = 0
        for row, text in self._cells(column):
            clean = text.strip()
            trimmed += clean != text
            if not clean:
                self.issue(row, column, "empty identifier", "fill in the identifier")
            out.append(clean)
        if trimmed:
            self.warnings.append(f"{self.file}, column '{column}': removed spaces around "
                                 f"{trimmed} identifier(s)")
        return pd.Series(out, index=self.table.index, dtype=object)

    def text(self, column: str) -> pd.Series:
        """Free text (names): trimmed; empty allowed."""
        return pd.Series([t.strip() for _, t in self._cells(column)], index=self.table.index,
                         dtype=object)

    def numbers(self, column: str, *, integer: bool = False, minimum: float = 0.0,
                default: float | None = None) -> pd.Series:
        """Numeric cells: finite, ≥ ``minimum``, whole if ``integer``; blank uses ``default``."""
        out = []
        for row, text in self._cells(column):
            value = self._number(row, column, text.strip(), integer, minimum, default)
            out.append(value)
        return pd.Series(out, index=self.table.index, dtype="float64")

    def _number(self, row: int, column: str, text: str, integer: bool, minimum: float,
                default: float | None) -> float:
        if text == "":
            if default is None:
                self.issue(row, column, "empty cell", "enter a number")
                return math.nan
            return default
        cleaned = text.replace("_", "")
        try:
            value = float(cleaned)
        except ValueError:
            hint = "remove thousands separators and currency symbols" if any(
                ch in text for ch in ",£$€ ") else "enter a plain number"
            self.issue(row, column, f"'{text}' is not a number", hint)
            return math.nan
        if not math.isfinite(value):
            self.issue(row, column, f"'{text}' is not a finite number", "enter a real number")
        elif integer and value != round(value):
            self.issue(row, column, f"'{text}' is not a whole number", "enter a whole number")
        elif value < minimum:
            self.issue(row, column, f"{text} is below the minimum {minimum:g}",
                       f"enter a value of at least {minimum:g}")
        else:
            return value
        return math.nan

    def codes(self, column: str, allowed: tuple[str, ...], *, upper: bool) -> pd.Series:
        """Single code cells matched case-insensitively against ``allowed``."""
        lookup = {code.lower(): code for code in allowed}
        out = []
        for row, text in self._cells(column):
            code = lookup.get(text.strip().lower())
            if code is None:
                self.issue(row, column, f"unknown code '{text}'",
                           f"use one of {', '.join(allowed)}")
            out.append(code or "")
        return pd.Series(out, index=self.table.index, dtype=object)

    def code_lists(self, column: str, allowed: tuple[str, ...]) -> pd.Series:
        """';'-separated code lists, or '*' for all; each code checked; sorted tuples."""
        lookup = {code.lower(): code for code in allowed}
        out = []
        for row, text in self._cells(column):
            parts = [p.strip() for p in text.split(";") if p.strip()]
            if parts == ["*"]:
                out.append(tuple(allowed))
                continue
            unknown = [p for p in parts if p.lower() not in lookup]
            if not parts or unknown:
                what = f"unknown code(s) {', '.join(unknown)}" if unknown else "empty list"
                self.issue(row, column, f"{what} in '{text}'",
                           f"use ';'-separated codes from {', '.join(allowed)}, or '*'")
            codes = {lookup[p.lower()] for p in parts if p.lower() in lookup}
            out.append(tuple(c for c in allowed if c in codes))
        return pd.Series(out, index=self.table.index, dtype=object)

    def unique(self, column: str, values: pd.Series) -> None:
        """Identifiers must be unique, also ignoring case (Excel and Windows ignore case)."""
        first_seen: dict[str, tuple[str, int]] = {}
        for row, value in zip(self.table[ROW], values, strict=True):
            key = value.lower()
            if key in first_seen:
                other, other_row = first_seen[key]
                same = "duplicate" if other == value else f"differs only by case from '{other}'"
                self.issue(row, column, f"'{value}' {same} ({self.row_label} {other_row})",
                           "give every row its own identifier")
            else:
                first_seen[key] = (value, row)

    def references(self, column: str, values: pd.Series, known: set[str], target: str) -> None:
        """Every value must name a row of ``target`` (e.g. an area of areas.geojson)."""
        for row, value in zip(self.table[ROW], values, strict=True):
            if value and value not in known:
                self.issue(row, column, f"'{value}' is not in {target}",
                           f"add it to {target} or correct the identifier")
