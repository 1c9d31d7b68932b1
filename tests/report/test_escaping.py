"""Text cells that a spreadsheet would evaluate get a leading apostrophe; numbers never."""

from __future__ import annotations

import pandas as pd

from sufficiency.report.escaping import formula_safe, formula_safe_frame


def test_each_formula_start_is_neutralised_and_plain_text_is_not():
    for text in ("=1+1", "+1", "-1+A1", "@SUM(A1)", "\tcmd", "\rx", "\nx"):
        assert formula_safe(text) == "'" + text
    for text in ("York", "a=b", "", "1-2"):
        assert formula_safe(text) == text


def test_a_frame_keeps_its_numbers_and_missing_values():
    frame = pd.DataFrame({"name": ["=x", "ok", None], "pupils": [-1.5, 2.0, 3.0]})
    safe = formula_safe_frame(frame)
    assert safe["name"].tolist()[:2] == ["'=x", "ok"] and pd.isna(safe["name"].iloc[2])
    assert safe["pupils"].tolist() == [-1.5, 2.0, 3.0]
    assert frame["name"].iloc[0] == "=x", "the caller's frame is left alone"
