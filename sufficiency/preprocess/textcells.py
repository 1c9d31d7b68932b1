"""Turn text cells into typed columns, recording an issue for every cell that is wrong.

A :class:`CellParser` wraps one raw table (from :mod:`sufficiency.preprocess.readers`) and converts
its columns one by one; it never drops a row silently: a bad cell becomes an issue that
names the file, line and column, and the run stops before solving.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterator

import pandas as pd

from sufficiency.errors import Issue
from sufficiency.preprocess.readers import ROW, WARNINGS

# A cell starting with one of these is run as a formula by Excel and LibreOffice (pitfall 15).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
SPREADSHEET_ERRORS = ("#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!")
ACADEMIC_YEAR_LABEL = re.compile(r"^(\d{4})\s*[/-]\s*\d{2,4}$")  # "2026/27", "2026-2027"
MAX_ISSUES_PER_FILE = 1000  # problems recorded per file; one more line says there are more
CODE_HINTS = {"NSA": "NSA (no specialist assessment) is a school-census code, never an EHCP "
                     "need: leave these pupils out of the specialist demand",
              "ASC": "autism is SEN2 code ASD"}


def suggestion(value: str, known: list[str] | set[str]) -> str | None:
    """The known identifier ``value`` most likely meant: same apart from case, or a near typo."""
    by_case = {k.lower(): k for k in known}
    if value.lower() in by_case:
        return by_case[value.lower()]
    close = difflib.get_close_matches(value, sorted(known), n=1, cutoff=0.8)
    return close[0] if close else None


class CellParser:
    """Typed access to the columns of one raw text table, collecting issues."""

    def __init__(self, table: pd.DataFrame, file: str, row_label: str = "row"):
        self.table = table
        self.file = file
        self.row_label = row_label
        self.issues: list[Issue] = []
        self.warnings: list[str] = list(table.attrs.get(WARNINGS, []))

    def issue(self, row: int | None, column: str | None, message: str, fix: str) -> None:
        """Record one problem; past :data:`MAX_ISSUES_PER_FILE`, one line says there are more.

        A file whose every cell is wrong would otherwise hold millions of issues in memory,
        and nobody reads past the first screen of them.
        """
        if len(self.issues) < MAX_ISSUES_PER_FILE:
            self.issues.append(Issue(self.file, row, column, message, fix, self.row_label))
        elif len(self.issues) == MAX_ISSUES_PER_FILE:
            self.issues.append(Issue(self.file, None, None, f"more than {MAX_ISSUES_PER_FILE} "
                                     "problems; the rest are not listed",
                                     "fix the problems listed (often one column or one export "
                                     "setting) and validate again"))

    def has_columns(self, required: list[str]) -> bool:
        """Record each missing required column; True when all are there."""
        missing = [c for c in required if c not in self.table.columns]
        found = [str(c) for c in self.table.columns if c != ROW]
        for column in missing:
            near = suggestion(column, set(found))
            fix = (f"rename column '{near}' to '{column}' (names are exact, lower case)" if near
                   else f"add a '{column}' column (columns found: {', '.join(found)})")
            self.issue(None, column, "required column is missing", fix)
        return not missing

    def _cells(self, column: str) -> Iterator[tuple[int, str]]:
        """(row, text) of each cell, lazily; a null cell (None or NaN, from GeoJSON) is ''."""
        return zip(self.table[ROW], map(_text, self.table[column]), strict=True)

    def ids(self, column: str) -> pd.Series:
        """Identifier cells: trimmed (with a warning), never empty, never formula-like."""
        out = []
        trimmed: list[int] = []
        for row, text in self._cells(column):
            clean = text.strip()
            if clean != text:
                trimmed.append(row)
            if not clean:
                self.issue(row, column, "empty identifier", "fill in the identifier")
            elif clean.startswith(FORMULA_STARTS):
                self.issue(row, column, f"{clean!r} starts with {clean[0]!r}, so a spreadsheet "
                           "would run it as a formula", "start the identifier with a letter or "
                           "digit")
            elif any(ch in clean for ch in "\t\r\n"):
                self.issue(row, column, f"{clean!r} holds a tab or line break",
                           "write the identifier on one line, without tabs")
            out.append(clean)
        if trimmed:
            shown = ", ".join(map(str, trimmed[:5])) + (", ..." if len(trimmed) > 5 else "")
            self.warnings.append(f"{self.file}, column '{column}': removed spaces around "
                                 f"{len(trimmed)} identifier(s) ({self.row_label} {shown}); "
                                 "the trimmed identifiers were used")
        return pd.Series(out, index=self.table.index, dtype=object)

    def text(self, column: str) -> pd.Series:
        """Free text (names): trimmed; empty allowed."""
        return pd.Series([t.strip() for _, t in self._cells(column)], index=self.table.index,
                         dtype=object)

    def numbers(self, column: str, *, integer: bool = False, minimum: float = 0.0,
                maximum: float = math.inf, default: float | None = None,
                range_fix: str | None = None) -> pd.Series:
        """Numeric cells: finite, within [minimum, maximum], whole if ``integer``.

        A blank cell takes ``default`` (an error when there is none); ``range_fix`` replaces
        the generic advice for a value out of range.
        """
        out = []
        for row, text in self._cells(column):
            value = self._number(row, column, text.strip(), integer, default)
            if not math.isnan(value) and not minimum <= value <= maximum:
                bound = (f"below the minimum {minimum:g}" if value < minimum
                         else f"above the maximum {maximum:g}")
                self.issue(row, column, f"{text.strip()} is {bound}", range_fix or (
                    f"enter a value of at least {minimum:g}" if value < minimum
                    else f"enter a value of at most {maximum:g}"))
                value = math.nan
            out.append(value)
        return pd.Series(out, index=self.table.index, dtype="float64")

    def _number(self, row: int, column: str, text: str, integer: bool,
                default: float | None) -> float:
        if text == "":
            if default is None:
                self.issue(row, column, "empty cell", "enter a number")
                return math.nan
            return default
        try:
            value = float(text.replace("_", ""))
        except ValueError:
            self.issue(row, column, f"'{text}' is not a number", _number_hint(text))
            return math.nan
        if not math.isfinite(value):
            self.issue(row, column, f"'{text}' is not a finite number",
                       "enter a real number (NaN and infinity are not allowed)")
        elif integer and value != round(value):
            self.issue(row, column, f"'{text}' is not a whole number", "enter a whole number")
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
                           _code_hint([text.strip()], allowed) + f"use one of {', '.join(allowed)}")
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
            if "*" in parts:
                self.issue(row, column, f"'*' (all) is combined with codes in '{text}'",
                           "write '*' alone for all, or list the codes without '*'")
                parts = [p for p in parts if p != "*"]
            unknown = [p for p in parts if p.lower() not in lookup]
            if not parts or unknown:
                what = f"unknown code(s) {', '.join(unknown)}" if unknown else "empty list"
                self.issue(row, column, f"{what} in '{text}'", _code_hint(unknown, allowed)
                           + f"use ';'-separated codes from {', '.join(allowed)}, or '*'")
            codes = {lookup[p.lower()] for p in parts if p.lower() in lookup}
            out.append(tuple(c for c in allowed if c in codes))
        return pd.Series(out, index=self.table.index, dtype=object)

    def unique(self, column: str, values: pd.Series) -> None:
        """Identifiers must be unique, also ignoring case (Excel and Windows ignore case)."""
        first_seen: dict[str, tuple[str, int]] = {}
        for row, value in zip(self.table[ROW], values, strict=True):
            key = value.lower()
            if not key:  # an empty identifier is reported as such by ids()
                continue
            if key in first_seen:
                other, other_row = first_seen[key]
                same = "duplicate" if other == value else f"differs only by case from '{other}'"
                self.issue(row, column, f"'{value}' {same} ({self.row_label} {other_row})",
                           "give every row its own identifier")
            else:
                first_seen[key] = (value, row)

    def references(self, column: str, values: pd.Series, known: set[str], target: str) -> None:
        """Every value must name a row of ``target`` (e.g. an area of areas.geojson).

        A value that differs from a known identifier only by case, or by a small typo, gets
        a "did you mean" hint: identifiers match exactly.
        """
        for row, value in zip(self.table[ROW], values, strict=True):
            if value and value not in known:
                near = suggestion(value, known)
                fix = (f"did you mean '{near}'? identifiers must match exactly, including case"
                       if near else f"add it to {target} or correct the identifier")
                self.issue(row, column, f"'{value}' is not in {target}", fix)


def _text(value: object) -> str:
    """A cell as text: strings as they are, null (None, NaN, pandas NA) as ''."""
    if isinstance(value, str):
        return value
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _number_hint(text: str) -> str:
    """What to do with a cell that is not a plain number, by what it looks like."""
    if text.upper() in SPREADSHEET_ERRORS:
        return "this is a spreadsheet error value: fix the formula in the source sheet"
    year = ACADEMIC_YEAR_LABEL.match(text)
    if year:
        return f"write the academic year as its first calendar year, e.g. {year.group(1)}"
    if any(ch in text for ch in ",£$€ "):
        return "remove thousands separators and currency symbols (write 1200, not £1,200)"
    if text.endswith("%"):
        return "write the plain number without '%'"
    return "enter a plain number"


def _code_hint(unknown: list[str], allowed: tuple[str, ...]) -> str:
    """'did you mean' for near misses, and what NSA or ASC are, before the list of codes."""
    hints = []
    for code in unknown:
        key = code.upper()
        if key in CODE_HINTS and "ASD" in allowed:  # hints about need codes only
            hints.append(CODE_HINTS[key])
            continue
        lookup = {a.lower(): a for a in allowed}
        close = difflib.get_close_matches(code.lower(), list(lookup), n=1, cutoff=0.6)
        if close:
            hints.append(f"did you mean '{lookup[close[0]]}' for '{code}'?")
    return "; ".join(hints) + "; " if hints else ""
