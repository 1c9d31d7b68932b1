"""Read input files without judging them: text cells, source line numbers, raw geometry.

Every table comes back with a ``_row`` column holding the line number a spreadsheet would
show (header = 1), so that later checks can point at the exact cell.
"""

from __future__ import annotations

import csv
import io
import json
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd

from sufficiency.errors import InputError, Issue

ROW = "_row"
WARNINGS = "warnings"  # DataFrame.attrs key: harmless fixes the reader made (said, not silent)
MAX_INPUT_BYTES = 200 * 1024 * 1024  # far beyond any planning dataset; refuse rather than swap


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


def _check_size(path: Path) -> None:
    """Refuse a file far beyond any planning dataset before anything reads it whole."""
    size = path.stat().st_size
    if size > MAX_INPUT_BYTES:
        raise InputError(Issue(path.name, None, None,
                               f"the file is {size / 1e6:,.0f} MB, far beyond any planning dataset "
                               f"(the limit is {MAX_INPUT_BYTES / 1e6:,.0f} MB)",
                               "check it is the right file; aggregate or split it below the "
                               "limit"))


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


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(Issue(path.name, line, None,
                               "the file is not UTF-8 text (Windows-1252 '£' or 'é'?)",
                               SAVE_AS_CSV)) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise InputError(Issue(path.name, line, None, "the file contains NUL bytes, so it is not "
                               "plain text", SAVE_AS_CSV))
    return text


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
    _check_csv_kind(path, label)
    reader = csv.reader(io.StringIO(_decode(path), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(Issue(label, None, None, "the file is empty",
                               "add a header line and data rows")) from None
    header = [name.strip() for name in header]
    _check_header(header, label)
    rows, lines, blank = [], [], []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            blank.append(reader.line_num)
            continue
        if len(cells) != len(header):
            raise InputError(Issue(label, reader.line_num, None,
                                   f"{len(cells)} cells where the header has {len(header)}",
                                   "check for an unquoted comma or a missing cell"))
        rows.append(cells)
        lines.append(reader.line_num)
    table = pd.DataFrame(rows, columns=header, dtype=object)
    table[ROW] = pd.Series(lines, dtype="int64")
    if blank:
        shown = ", ".join(str(line) for line in blank[:5]) + (", ..." if len(blank) > 5 else "")
        table.attrs[WARNINGS] = [f"{label}: skipped {len(blank)} blank line(s) (row {shown})"]
    return table


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
    _check_size(path)
    _check_geo_kind(path, label)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises many types for unreadable files
        raise InputError(_geojson_problem(path, label) or Issue(
            label, None, None, f"cannot be read as geographic data ({exc})", SAVE_AS_GEO)) from None
    if frame.empty:
        raise InputError(Issue(label, None, None, "the file has no features",
                               "add the planning areas, one polygon feature each"))
    frame = frame.reset_index(drop=True)
    frame[ROW] = range(1, len(frame) + 1)
    return frame


def declared_crs(path: Path) -> bool:
    """Whether a GeoJSON file names its CRS (GeoJSON without one means WGS84 by the RFC)."""
    if path.suffix.lower() not in (".geojson", ".json"):
        return True
    head = _head(path).decode("utf-8", errors="replace")
    return '"crs"' in head


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
