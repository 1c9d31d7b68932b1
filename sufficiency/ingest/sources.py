"""Reading the councils' source tables: any encoding, forgiving column names, located errors.

Source files are not ours: GIAS downloads are Windows-1252, DfE statistics write ``x`` for a
suppressed cell, and column names come as ``TypeOfEstablishment (name)`` in one file and
``type_of_establishment`` in another. Everything here keeps the spreadsheet line number of
each row so that a bad cell is reported by file, row and column.
"""

from __future__ import annotations

import csv
import io
import math
import re

import pandas as pd

from sufficiency.errors import InputError, Issue
from sufficiency.ingest.spec import Source
from sufficiency.preprocess.readers import MAX_INPUT_BYTES, ROW

# Cells that mean "no value" in DfE / ONS tables: blank, NA, x (suppressed), z (not
# applicable), c (confidential), ':' (not available), '.' and '..'.
MISSING_TOKENS = frozenset({"", "na", "n/a", "x", "z", "c", ":", ".", "..", "null", "none"})
_SUFFIX = re.compile(r"\s*\((name|code)\)\s*$", re.IGNORECASE)


def read_source_csv(source: Source) -> pd.DataFrame:
    """All cells as text, with ``_row`` = spreadsheet line number (header = 1)."""
    path = source.path
    if not path.is_file():
        raise InputError(Issue(source.label, None, None, "source file is missing",
                               f"put it in {path.parent}"))
    if path.stat().st_size > MAX_INPUT_BYTES:
        raise InputError(Issue(source.label, None, None, "the file is too large to be a "
                               "source extract", "filter it to the authority first"))
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig" if source.encoding == "utf-8" else source.encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(Issue(source.label, line, None, f"the file is not {source.encoding} "
                               "text", 'GIAS downloads are Windows-1252: set encoding = '
                               '"cp1252" in the spec')) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [name.strip() for name in next(reader, [])]
    if not header:
        raise InputError(Issue(source.label, None, None, "the file is empty",
                               "export the table again with its header"))
    rows, lines = [], []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            raise InputError(Issue(source.label, reader.line_num, None,
                                   f"{len(cells)} cells where the header has {len(header)}",
                                   "check for an unquoted comma or a cut-off line"))
        rows.append(cells)
        lines.append(reader.line_num)
    table = pd.DataFrame(rows, columns=_unique_header(header), dtype=object)
    table[ROW] = pd.Series(lines, dtype="int64")
    return table


def _unique_header(header: list[str]) -> list[str]:
    """Keep repeated header names apart (the first one wins when a column is looked up)."""
    seen: dict[str, int] = {}
    out = []
    for name in header:
        count = seen.get(name, 0)
        seen[name] = count + 1
        out.append(name if count == 0 else f"{name}#{count + 1}")
    return out


def normalise(name: str) -> str:
    """A column name compared ignoring case, spacing and a '(name)'/'(code)' suffix."""
    return re.sub(r"\s+", " ", _SUFFIX.sub("", name)).strip().lower()


def find_column(columns: list[str], wanted: str) -> str | None:
    """The file's column for ``wanted``: exact (any case) first, then ignoring the suffix.

    ``TypeOfEstablishment`` finds ``TypeOfEstablishment (name)`` (a '(name)' column is
    preferred to a '(code)' one), and ``LA (code)`` finds ``la (code)``.
    """
    exact = {c.strip().lower(): c for c in columns}
    if wanted.strip().lower() in exact:
        return exact[wanted.strip().lower()]
    if not _SUFFIX.search(wanted):
        for suffix in (" (name)", " (code)"):
            if (wanted.strip() + suffix).lower() in exact:
                return exact[(wanted.strip() + suffix).lower()]
    target = normalise(wanted)
    matches = [c for c in columns if normalise(c) == target]
    return matches[0] if matches else None


def require_column(table: pd.DataFrame, wanted: str, label: str, where: str = "") -> str:
    """Like :func:`find_column`, but a missing column is an error naming the file."""
    columns = [c for c in table.columns if c != ROW]
    found = find_column(columns, wanted)
    if found is None:
        import difflib

        close = difflib.get_close_matches(wanted, columns, n=3, cutoff=0.5)
        hint = (f"closest: {', '.join(close)}" if close
                else f"columns found: {', '.join(columns[:12])}")
        context = f" (named by {where} in the spec)" if where else ""
        raise InputError(Issue(label, 1, wanted, f"column not found{context}",
                               f"correct the column name in the spec; {hint}"))
    return found


def parse_number(text: str) -> float | None:
    """A number from a source cell; None for a missing-value token; raises ValueError."""
    clean = text.strip()
    if clean.lower() in MISSING_TOKENS:
        return None
    value = float(clean.replace(",", "").replace("_", ""))
    if not math.isfinite(value):
        raise ValueError(clean)
    return value


def numbers(table: pd.DataFrame, column: str, label: str, *, minimum: float = 0.0,
            missing: float | None = None) -> pd.Series:
    """A numeric column; missing tokens become ``missing``; a bad cell names file, row, column."""
    out = []
    for row, text in zip(table[ROW], table[column], strict=True):
        try:
            value = parse_number(str(text))
        except ValueError:
            raise InputError(Issue(label, int(row), column, f"'{text}' is not a number",
                                   "fix the cell, or leave it blank if unknown")) from None
        if value is not None and value < minimum:
            raise InputError(Issue(label, int(row), column, f"{value:g} is below {minimum:g}",
                                   "check the cell")) from None
        out.append(missing if value is None else value)
    return pd.Series(out, index=table.index, dtype="float64")


def filter_where(table: pd.DataFrame, where: dict[str, tuple[str, ...]], label: str,
                 spec_key: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows whose cells match every ``where`` condition (case-insensitive), and the rest."""
    keep = pd.Series(True, index=table.index)
    for wanted, values in where.items():
        column = require_column(table, wanted, label, f"{spec_key}.where")
        allowed = {v.strip().lower() for v in values}
        keep &= table[column].astype(str).str.strip().str.lower().isin(allowed)
    return table[keep], table[~keep]


def authority_rows(table: pd.DataFrame, label: str, codes: tuple[str, ...]) -> pd.Series:
    """True on the authority's rows of a DfE table (new_la_code or old_la_code in ``codes``).

    Raises when the table has neither code column or no row of the authority.
    """
    present = [c for c in table.columns if c != ROW]
    code_columns = [c for c in (find_column(present, "new_la_code"),
                                find_column(present, "old_la_code")) if c]
    if not code_columns:
        raise InputError(Issue(label, 1, "new_la_code", "column not found",
                               "the SEN2 files carry new_la_code / old_la_code"))
    wanted = {c.lower() for c in codes}
    mine = pd.Series(False, index=table.index)
    for column in code_columns:
        mine |= table[column].str.strip().str.lower().isin(wanted)
    if not mine.any():
        raise InputError(Issue(label, None, code_columns[0],
                               f"no rows for the authority ({', '.join(codes)})",
                               "check authority.gss_code / dfe_code"))
    return mine
