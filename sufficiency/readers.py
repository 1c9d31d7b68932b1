"""Read input files without judging them: text cells, source line numbers, raw geometry.

Every table comes back with a ``_row`` column holding the line number a spreadsheet would
show (header = 1), so that later checks can point at the exact cell.
"""

from __future__ import annotations

import csv
import io
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd

from sufficiency.errors import InputError, Issue

ROW = "_row"
MAX_INPUT_BYTES = 200 * 1024 * 1024  # far beyond any planning dataset; refuse rather than swap


def _check_size(path: Path) -> None:
    size = path.stat().st_size
    if size > MAX_INPUT_BYTES:
        raise InputError(Issue(path.name, None, None,
                               f"the file is {size / 1e6:,.0f} MB, far beyond any planning dataset",
                               f"split or aggregate it below {MAX_INPUT_BYTES / 1e6:,.0f} MB"))


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(Issue(path.name, line, None, "the file is not UTF-8 text",
                               "save it as 'CSV UTF-8' from your spreadsheet program")) from None


def read_csv_table(path: Path, label: str | None = None) -> pd.DataFrame:
    """Read a CSV as text cells (ids keep their zeros, 'NA' stays 'NA'), keeping line numbers.

    Blank lines are skipped; header names are trimmed; a repeated header is an error (pandas
    would silently rename it).
    """
    label = label or path.name
    if not path.is_file():
        raise InputError(Issue(label, None, None, "required file is missing",
                               f"add {label} to the dataset folder {path.parent}"))
    _check_size(path)
    reader = csv.reader(io.StringIO(_decode(path), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(Issue(label, None, None, "the file is empty",
                               "add a header line and data rows")) from None
    header = [name.strip() for name in header]
    seen = [name for i, name in enumerate(header) if name in header[:i]]
    if seen:
        raise InputError(Issue(label, 1, seen[0], "column appears more than once",
                               "delete or rename the repeated column"))
    rows, lines = [], []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            raise InputError(Issue(label, reader.line_num, None,
                                   f"{len(cells)} cells where the header has {len(header)}",
                                   "check for an unquoted comma or a missing cell"))
        rows.append(cells)
        lines.append(reader.line_num)
    table = pd.DataFrame(rows, columns=header, dtype=object)
    table[ROW] = pd.Series(lines, dtype="int64")
    return table


def read_geo_table(path: Path, label: str | None = None) -> gpd.GeoDataFrame:
    """Read a GeoJSON / GeoPackage / Shapefile as it is; ``_row`` holds the feature number."""
    label = label or path.name
    if not path.is_file():
        raise InputError(Issue(label, None, None, "required file is missing",
                               f"add {label} to the dataset folder {path.parent}"))
    _check_size(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises many types for unreadable files
        raise InputError(Issue(label, None, None, f"cannot be read as geographic data ({exc})",
                               "export it again as GeoJSON or GeoPackage")) from None
    frame = frame.reset_index(drop=True)
    frame[ROW] = range(1, len(frame) + 1)
    return frame


def declared_crs(path: Path) -> bool:
    """Whether a GeoJSON file names its CRS (GeoJSON without one means WGS84 by the RFC)."""
    if path.suffix.lower() not in (".geojson", ".json"):
        return True
    head = path.read_bytes()[:4096].decode("utf-8", errors="replace")
    return '"crs"' in head
