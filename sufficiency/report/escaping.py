"""Text that spreadsheets show as written: no cell of a CSV or workbook becomes a formula.

Excel and LibreOffice evaluate a cell that begins with ``= + - @``, a tab or a line break
(OWASP "CSV injection"), in ``.xlsx`` files and in ``.csv`` files alike. Such text gets a
leading apostrophe, which both show as nothing and which stops the evaluation.
"""

from __future__ import annotations

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def formula_safe(value: str) -> str:
    """``value`` with a leading apostrophe when a spreadsheet would read it as a formula."""
    return "'" + value if value.startswith(FORMULA_START) else value


def formula_safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell made formula-safe (numbers are left alone)."""
    text_columns = [c for c in frame.columns
                    if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])]
    if not text_columns:
        return frame
    safe = frame.copy()
    for column in text_columns:
        safe[column] = safe[column].map(lambda v: formula_safe(v) if isinstance(v, str) else v)
    return safe
