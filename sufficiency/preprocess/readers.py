"""Read input files without judging them: text cells, source line numbers, raw geometry.

Every table comes back with a ``_row`` column holding the line number a spreadsheet would
show (header = 1), so that later checks can point at the exact cell.
"""

from __future__ import annotations

import codecs
import csv
import json
import warnings
from array import array
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from sufficiency.errors import InputError, Issue
from sufficiency.forked import Forked

ROW = "_row"
WARNINGS = "warnings"  # DataFrame.attrs key: harmless fixes the reader made (said, not silent)
MAX_INPUT_BYTES = 200 * 1024 * 1024  # far beyond any planning dataset; refuse rather than swap
# Memory: a file is refused before it is parsed when reading it would need more than
# MAX_READ_MEMORY. A CSV's estimate is CSV_BYTES_PER_BYTE × its bytes + CSV_BYTES_PER_CELL × its
# cells (a cell that is not shared costs a Python string, up to 64 bytes with its text, and two
# pointers); a GeoJSON's is GEO_BYTES_PER_BYTE × its bytes. Measured peaks (50 MB files, see
# docs/inputs.md): CSV 2.6-2.9x the file for planning tables whose codes, years and ids repeat,
# 7.3x with unique 6-decimal numbers, 8.6-10.1x when every cell is a distinct short text;
# GeoJSON 1.9x through GDAL and 7.6x through the json module (used to find "crs" or a bad ring).
MAX_READ_MEMORY = 1_000_000_000
CSV_BYTES_PER_BYTE = 2.0
CSV_BYTES_PER_CELL = 80.0
GEO_BYTES_PER_BYTE = 8.0
_CHUNK = 1 << 20
_DISTINCT_TEXTS = 1 << 18  # cell texts shared when repeated; past this many, new ones are not


SAVE_AS_CSV = "open it in your spreadsheet program and save it as 'CSV UTF-8 (comma delimited)'"
SAVE_AS_GEO = "export the areas again as GeoJSON (or GeoPackage), e.g. from QGIS"
# Leading bytes of file formats people save by mistake under a .csv or .geojson name.
_SIGNATURES = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip archive"),
    (b"\xd0\xcf\x11\xe0", "an old-style Excel workbook (.xls)"),
    (b"SQLite format 3\x00", "a GeoPackage or another SQLite database"),
    (b"%PDF", "a PDF document"),
    (b"\x00\x00\x27\x0a", "a shapefile (.shp)"),
    (b"\xff\xfe", "UTF-16 text (Excel's 'Unicode Text')"),
    (b"\xfe\xff", "UTF-16 text (Excel's 'Unicode Text')"),
)
_GEO_SIGNATURES = {".gpkg": b"SQLite format 3\x00", ".shp": b"\x00\x00\x27\x0a"}


def _check_size(path: Path) -> int:
    """Refuse a file far beyond any planning dataset before anything reads it; its size."""
    size = path.stat().st_size
    if size > MAX_INPUT_BYTES:
        raise InputError(Issue(path.name, None, None,
                               f"the file is {size / 1e6:,.0f} MB, far beyond any planning dataset "
                               f"(the limit is {MAX_INPUT_BYTES / 1e6:,.0f} MB)",
                               "check it is the right file; aggregate or split it below the "
                               "limit"))
    return size


def _head(path: Path, size: int = 4096) -> bytes:
    """The first ``size`` bytes of a file (never the whole file)."""
    with path.open("rb") as handle:
        return handle.read(size)


def _looks_like(head: bytes) -> str | None:
    """What a file is by its first bytes, when it is a known binary or foreign format."""
    for signature, what in _SIGNATURES:
        if head.startswith(signature):
            return what
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<?xml")):
        return "an HTML or XML page (perhaps a download that failed)"
    if text.startswith((b"{", b"[")):
        return "JSON (GeoJSON?)"
    return None


def _check_csv_kind(path: Path, label: str) -> None:
    """A .csv must be text: say what it is when it is a workbook, JSON, HTML or UTF-16."""
    what = _looks_like(_head(path))
    if what:
        raise InputError(Issue(label, None, None, f"this is not CSV text: it looks like {what}",
                               SAVE_AS_CSV))


def _check_geo_kind(path: Path, label: str) -> None:
    """A GeoJSON must start with '{'; a GeoPackage or shapefile with its own signature."""
    head = _head(path)
    suffix = path.suffix.lower()
    if suffix in _GEO_SIGNATURES:
        ok = head.startswith(_GEO_SIGNATURES[suffix])
    else:
        ok = head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")
    if not ok:
        what = _looks_like(head) or ("CSV or other text" if head and b"\x00" not in head
                                      else "empty or binary data")
        raise InputError(Issue(label, None, None,
                               f"this is not a {suffix} file: it looks like {what}", SAVE_AS_GEO))


def _scan(path: Path, label: str) -> int:
    """Check, a chunk at a time, that the file is UTF-8 without NUL bytes; its cell count.

    Nothing is held but one chunk, so a file is judged before any of it is parsed. The count
    (separators + line breaks, so commas inside quotes count too) errs high, as the memory
    estimate should.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = cells = 0
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(_CHUNK)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                line = lines + exc.object[: exc.start].count(b"\n") + 1
                raise InputError(Issue(label, line, None,
                                       "the file is not UTF-8 text (Windows-1252 '£' or 'é'?)",
                                       SAVE_AS_CSV, row_label="line")) from None
            if not chunk:
                break
            if b"\x00" in chunk:
                line = lines + chunk[: chunk.index(b"\x00")].count(b"\n") + 1
                raise InputError(Issue(label, line, None, "the file contains NUL bytes, so it is "
                                       "not plain text", SAVE_AS_CSV, row_label="line"))
            newlines = chunk.count(b"\n")
            lines += newlines
            cells += newlines + chunk.count(b",")
    return cells + 1


def csv_memory_estimate(size: int, cells: int) -> int:
    """Bytes of memory reading a CSV of ``size`` bytes and ``cells`` cells may take at peak.

    Each cell costs at most one Python string (its text plus :data:`CSV_BYTES_PER_CELL` of
    object and pointer overhead); the text itself is counted :data:`CSV_BYTES_PER_BYTE` times.
    """
    return int(size * CSV_BYTES_PER_BYTE + cells * CSV_BYTES_PER_CELL)


def _check_memory(label: str, need: int) -> None:
    """Refuse a file whose reading would need more than :data:`MAX_READ_MEMORY` bytes."""
    if need > MAX_READ_MEMORY:
        raise InputError(Issue(label, None, None,
                               f"reading it would need about {need / 1e9:,.1f} GB of memory "
                               f"(the limit is {MAX_READ_MEMORY / 1e9:,.1f} GB)",
                               "check it is the right file; aggregate or split it, or leave out "
                               "columns the engine does not use"))


def read_csv_table(path: Path, label: str | None = None) -> pd.DataFrame:
    """Read a CSV as text cells (ids keep their zeros, 'NA' stays 'NA'), keeping row numbers.

    ``_row`` is the row a spreadsheet shows (header = 1; a cell with a line break inside quotes
    is still one row; blank rows count). Blank rows are skipped with a warning; header names
    are trimmed; a repeated header is an error (pandas would silently rename it). The file is
    streamed, each distinct cell text held once, and refused before parsing when its memory
    estimate (:func:`csv_memory_estimate`) is over :data:`MAX_READ_MEMORY`.
    """
    label = label or path.name
    if not path.is_file():
        raise InputError(Issue(label, None, None, "required file is missing",
                               f"add {label} to the dataset folder {path.parent}"))
    size = _check_size(path)
    _check_csv_kind(path, label)
    _check_memory(label, csv_memory_estimate(size, _scan(path, label)))
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise InputError(Issue(label, None, None, "the file is empty",
                                   "add a header line and data rows"))
        header = [name.strip() for name in header]
        _check_header(header, label)
        flat, rows, blank = _read_rows(reader, header, label)
    table = _frame(header, flat, len(rows))
    table[ROW] = np.array(rows, dtype=np.int64)
    if blank:
        shown = ", ".join(str(line) for line in blank[:5]) + (", ..." if len(blank) > 5 else "")
        table.attrs[WARNINGS] = [f"{label}: skipped {len(blank)} blank line(s) (row {shown})"]
    return table


def _read_rows(reader, header: list[str], label: str) -> tuple[list[str], array, list[int]]:
    """All cells in one flat list (each distinct text held once), their rows, the blank rows."""
    width = len(header)
    flat: list[str] = []
    rows = array("q")
    blank: list[int] = []
    texts: dict[str, str] = {}
    shared = texts.setdefault
    row = 1
    for cells in reader:
        row += 1
        if not "".join(cells).strip():
            blank.append(row)
            continue
        if len(cells) != width:
            raise InputError(Issue(label, row, None,
                                   f"{len(cells)} cells where the header has {width}",
                                   "check for an unquoted comma or a missing cell"))
        if len(texts) < _DISTINCT_TEXTS:
            flat.extend(map(shared, cells, cells))
        else:
            flat.extend(map(texts.get, cells, cells))
        rows.append(row)
    return flat, rows, blank


def _frame(header: list[str], flat: list[str], length: int) -> pd.DataFrame:
    """The cells as one object block; ``flat`` is emptied once copied."""
    block = np.array(flat, dtype=object) if flat else np.empty(0, dtype=object)
    flat.clear()
    return pd.DataFrame(block.reshape(length, len(header)), columns=header, copy=False)


def _check_header(header: list[str], label: str) -> None:
    """One header name per column: not repeated, and separated by commas."""
    if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        sep = "';'" if ";" in header[0] else "tabs"
        raise InputError(Issue(label, 1, None, f"the columns are separated by {sep}, not commas",
                               SAVE_AS_CSV))
    seen = [name for i, name in enumerate(header) if name in header[:i]]
    if seen:
        raise InputError(Issue(label, 1, seen[0], "column appears more than once",
                               "delete or rename the repeated column"))


def read_geo_table(path: Path, label: str | None = None) -> gpd.GeoDataFrame:
    """Read a GeoJSON / GeoPackage / Shapefile as it is; ``_row`` holds the feature number."""
    label = label or path.name
    if not path.is_file():
        raise InputError(Issue(label, None, None, "required file is missing",
                               f"add {label} to the dataset folder {path.parent}"))
    _check_memory(label, int(_check_size(path) * GEO_BYTES_PER_BYTE))
    _check_geo_kind(path, label)
    # GDAL (29 MB resident) is loaded in a short-lived child, so the planning process does
    # not hold it through the MIP; where the child cannot run, it is read here
    frame = Forked(lambda: _read_with_gdal(path, label)).result()
    if frame.empty:
        raise InputError(Issue(label, None, None, "the file has no features",
                               "add the planning areas, one polygon feature each"))
    frame = _whole_numbers_as_text(frame.reset_index(drop=True))
    frame[ROW] = range(1, len(frame) + 1)
    return frame


def _read_with_gdal(path: Path, label: str) -> gpd.GeoDataFrame:
    """The file through GDAL (pyogrio), or an InputError saying why it cannot be read."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return gpd.read_file(path)
    except Exception as exc:  # pyogrio raises many types for unreadable files
        raise InputError(_geojson_problem(path, label) or Issue(
            label, None, None, f"cannot be read as geographic data ({exc})", SAVE_AS_GEO)) from None


def _whole_numbers_as_text(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Integer properties that a null turned into floats (1 → 1.0) back to their text ('1').

    GDAL reads a whole-number property with a null in it as a float column, so area_id 1
    would become '1.0' and match nothing; a null stays None (an empty cell).
    """
    for column in frame.columns:
        values = frame[column]
        if column == "geometry" or not pd.api.types.is_float_dtype(values):
            continue
        given = values.dropna()
        if given.empty or not ((given == given.round()) & (given.abs() < 2**53)).all():
            continue
        frame[column] = pd.Series([None if pd.isna(v) else str(int(v)) for v in values],
                                  index=frame.index, dtype=object)
    return frame


def declared_crs(path: Path) -> bool:
    """Whether a GeoJSON file names its CRS (GeoJSON without one means WGS84 by the RFC).

    The document is parsed (the "crs" member may come anywhere, after megabytes of features);
    a file that is not a JSON object declares nothing.
    """
    if path.suffix.lower() not in (".geojson", ".json"):
        return True
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(doc, dict) and doc.get("crs") is not None


def _geojson_problem(path: Path, label: str) -> Issue | None:
    """Locate why GDAL refused a GeoJSON: a JSON syntax error, or the feature with a bad ring."""
    if path.suffix.lower() not in (".geojson", ".json"):
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        return Issue(label, None, None, "the file is not UTF-8 text", SAVE_AS_GEO)
    except json.JSONDecodeError as exc:
        return Issue(label, exc.lineno, None, f"not valid JSON ({exc.msg}, character {exc.colno})",
                     "fix the syntax, or " + SAVE_AS_GEO, row_label="line")
    features = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(features, list):
        return Issue(label, None, None, "not a GeoJSON FeatureCollection (no 'features' list)",
                     SAVE_AS_GEO)
    for number, feature in enumerate(features, start=1):
        problem = _ring_problem(feature.get("geometry") if isinstance(feature, dict) else None)
        if problem:
            return Issue(label, number, "geometry", problem,
                         "close every ring (last point = first point) with at least 4 points, "
                         "or redraw the area", row_label="feature")
    return None


def _ring_problem(geometry: object) -> str | None:
    """Why a GeoJSON polygon's rings cannot be read (unclosed, too few points), if they cannot."""
    if not isinstance(geometry, dict):
        return None
    coordinates = geometry.get("coordinates")
    kind = geometry.get("type")
    polygons = [coordinates] if kind == "Polygon" else coordinates if kind == "MultiPolygon" else []
    for polygon in polygons or []:
        for ring in polygon or []:
            if not isinstance(ring, list) or len(ring) < 4:
                return "a polygon ring has fewer than 4 points"
            if ring[0] != ring[-1]:
                return "a polygon ring is not closed (its last point differs from its first)"
    return None
