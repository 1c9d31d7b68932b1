"""`sufficiency template OUT.xlsx [--from inputs/<dataset>]`: a documented dataset workbook.

The workbook is what :mod:`sufficiency.preprocess.workbook` reads: a ``notes`` sheet (what
each sheet is, its units, where the areas file goes), a ``settings`` sheet naming the areas
file, and one sheet per table with the contract's columns. Each header cell carries a
comment (meaning and unit, from :mod:`sufficiency.preprocess.schema`); need, phase and kind
columns get drop-down lists (:mod:`sufficiency.preprocess.vocabulary`); id and text columns
are formatted as text so Excel keeps leading zeros. With ``--from`` the sheets hold that
dataset folder's rows: numbers as numbers, every text cell formula-safe
(:func:`~sufficiency.preprocess.workbook.cell_safe`, undone on reading). The file is written
whole (a temporary file beside it, then renamed), and an existing file only with ``force``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import math
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import xlsxwriter

from sufficiency.errors import InputError, Issue, OutputExistsError
from sufficiency.preprocess.calibration import GROUPS
from sufficiency.preprocess.dataset import AREA_FILES
from sufficiency.preprocess.paths import UnusablePath, resolve
from sufficiency.preprocess.readers import ROW, read_csv_table
from sufficiency.preprocess.schema import (
    CALIBRATION_COLUMNS,
    COMMITTED_COLUMNS,
    COSTS_COLUMNS,
    CURRENT_COLUMNS,
    DEMAND_COLUMNS,
    PROVIDER_COLUMNS,
    PROVISION_COLUMNS,
    SITE_COLUMNS,
    TRAVEL_COLUMNS,
    Column,
)
from sufficiency.preprocess.vocabulary import INDEPENDENT, KINDS, NEEDS, PHASES
from sufficiency.preprocess.workbook import (
    AREAS_SETTING,
    NOTES_SHEET,
    SETTINGS_SHEET,
    WORKBOOK_SUFFIX,
    cell_safe,
)

FIXED_TIME = dt.datetime(2000, 1, 1)  # the document's "created" time: same inputs, same bytes
OPTIONS = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
           "strings_to_numbers": False}
MAX_ROWS = 1_048_575  # Excel's rows, less the header
VALIDATION_ROWS = 10_000  # rows below the header that get the drop-down lists
NUMERIC = ("int", "number")



@dataclass(frozen=True)
class TableSheet:
    """One dataset table as a sheet: its name, the folder form's file, columns, meaning."""

    name: str
    columns: tuple[Column, ...]
    required: bool
    meaning: str

    @property
    def file_name(self) -> str:
        """The folder form's CSV name."""
        return f"{self.name}.csv"


TABLES = (
    TableSheet("sites", SITE_COLUMNS, True, "places where provision exists or could be "
               "created; give lat/lon (WGS84) or easting/northing (EPSG:27700) on each row"),
    TableSheet("demand", DEMAND_COLUMNS, True, "pupils resident in each area who need a "
               "specialist place, by need, phase and academic year"),
    TableSheet("provision", PROVISION_COLUMNS, True, "one row per existing or possible "
               "provision at a site; needs and phases are ';'-separated lists or '*' for all"),
    TableSheet("travel", TRAVEL_COLUMNS, False, "one-way journeys area → site; leave empty to "
               "derive them from straight-line distance"),
    TableSheet("current_placements", CURRENT_COLUMNS, False, "pupils already placed in the "
               "start year; rows switch the run to sticky cohorts"),
    TableSheet("costs", COSTS_COLUMNS, False, "costs by need and phase, per option or per kind "
               "(each row fills option_id or kind)"),
    TableSheet("independent", PROVIDER_COLUMNS, False, "named independent providers, their "
               "fees and locations"),
    TableSheet("committed", COMMITTED_COLUMNS, False, "approved schemes that open whatever the "
               "plan says"),
    TableSheet("calibration", CALIBRATION_COLUMNS, False, "today's placements by group, need "
               "and phase; the report compares the start year with them (changes no plan)"),
)
DROP_DOWNS = {  # (sheet, column): allowed values
    ("demand", "need"): NEEDS, ("demand", "phase"): PHASES,
    ("provision", "kind"): KINDS,
    ("current_placements", "need"): NEEDS, ("current_placements", "phase"): PHASES,
    ("costs", "need"): (*NEEDS, "*"), ("costs", "phase"): (*PHASES, "*"),
    ("costs", "kind"): (*KINDS, INDEPENDENT),
    ("calibration", "group"): GROUPS, ("calibration", "need"): (*NEEDS, "*"),
    ("calibration", "phase"): (*PHASES, "*"),
}


def write_template(out: str | Path, source: str | Path | None = None, *,
                   force: bool = False) -> Path:
    """Write the dataset workbook ``out`` (filled from the folder ``source``); its path."""
    target = _target(Path(out), force)
    folder = _source_folder(source)
    tables = {t.name: read_csv_table(folder / t.file_name, t.file_name)
              for t in TABLES if folder is not None and (folder / t.file_name).is_file()}
    areas = _areas_value(folder, target)
    _write_atomically(target, workbook_bytes(tables, areas))
    return target


def _target(out: Path, force: bool) -> Path:
    """OUT checked: an .xlsx in an existing folder, not over a file unless ``force``."""
    label = str(out)
    if out.suffix.lower() != WORKBOOK_SUFFIX:
        raise InputError(Issue(label, None, None, "the template must be an .xlsx file",
                               "name it e.g. inputs/mydata.xlsx"))
    try:
        target = resolve(out)
    except UnusablePath as exc:
        raise InputError(Issue(label, None, None, f"not a usable path: {exc}",
                               "give a plain file path")) from None
    if not target.parent.is_dir():
        raise InputError(Issue(label, None, None, f"folder {target.parent} does not exist",
                               "create the folder first, or write the workbook elsewhere"))
    if target.is_dir():
        raise InputError(Issue(label, None, None, "is a folder", "give a file name ending "
                               ".xlsx"))
    if out.exists() and not force:
        raise OutputExistsError(f"{out} exists; rerun with --force to replace it, or choose "
                                "another name")
    return target


def _source_folder(source: str | Path | None) -> Path | None:
    """The dataset folder named by ``--from`` (a folder of CSVs), checked."""
    if source is None:
        return None
    try:
        folder = resolve(source)
    except UnusablePath as exc:
        raise InputError(Issue(str(source), None, None, f"not a usable path: {exc}",
                               "give a dataset folder, e.g. inputs/example")) from None
    if not folder.is_dir():
        raise InputError(Issue(str(source), None, None, "not a dataset folder",
                               "give a folder of CSVs, e.g. --from inputs/example"))
    return folder


def _areas_value(folder: Path | None, target: Path) -> str:
    """The settings sheet's areas path: the dataset's areas file, relative to the workbook."""
    if folder is None:
        return ""
    found = next((folder / name for name in AREA_FILES if (folder / name).is_file()), None)
    if found is None:
        return ""
    try:
        return Path(os.path.relpath(found, target.parent)).as_posix()
    except ValueError:  # another drive (Windows): no relative path exists
        return found.as_posix()


def _write_atomically(target: Path, data: bytes) -> None:
    """The whole file, or nothing: a temporary file beside ``target``, then a rename."""
    temporary = target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        with temporary.open("xb") as handle:  # the user's umask applies, as for any new file
            handle.write(data)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def workbook_bytes(tables: dict[str, pd.DataFrame], areas: str) -> bytes:
    """The template workbook: notes, settings, then one sheet per table (``tables``' rows)."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, OPTIONS)
    book.set_properties({"author": "sufficiency", "created": FIXED_TIME,
                         "title": "sufficiency dataset"})
    formats = {"head": book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1}),
               "text": book.add_format({"num_format": "@"}),
               "wrap": book.add_format({"text_wrap": True, "valign": "top"}),
               "title": book.add_format({"bold": True, "font_size": 14})}
    _notes_sheet(book, formats)
    _settings_sheet(book, formats, areas)
    for table in TABLES:
        _table_sheet(book, formats, table, tables.get(table.name))
    book.close()
    return buffer.getvalue()


def _notes_sheet(book, formats) -> None:
    """What the workbook is and how each sheet is read; never read back."""
    sheet = book.add_worksheet(NOTES_SHEET)
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 1, 110, formats["wrap"])
    sheet.write_string(0, 0, "sufficiency dataset workbook", formats["title"])
    lines = [
        ("how to use", "Name this workbook in the run TOML: inputs = \"../inputs/<name>.xlsx\". "
         "Each sheet below is one table of the dataset folder form (sheet name = the CSV's "
         "name without .csv); row 1 holds the column names; hover over a column name for its "
         "meaning and unit. Required sheets: sites, demand, provision. An optional sheet with "
         "no data rows counts as absent. This notes sheet is never read."),
        ("areas", "The planning areas are a GeoJSON (or GeoPackage) file, not a sheet. Put it "
         "inside the project folder (e.g. beside this workbook) and give its path, relative to "
         "this workbook, in the settings sheet (setting 'areas'). Its features need area_id "
         "and name, polygon geometry, and a declared CRS (GeoJSON without one is WGS84)."),
        ("cells", "Identifiers are text (type 0123 to keep the zero); numbers are plain numbers "
         "(no £ or thousands separators). Formulas are allowed: their saved values are read, "
         "so save the workbook in Excel after editing. Years are academic years: 2026 means "
         "AY 2026/27."),
        ("codes", f"needs: {', '.join(NEEDS)}. phases: {', '.join(PHASES)}. kinds: "
         f"{', '.join(KINDS)}. Lists (needs, phases in provision) are ';'-separated, or '*' "
         "for all."),
    ]
    lines += [(t.name, f"{'required' if t.required else 'optional'}: {t.meaning}. Columns: "
               + "; ".join(_column_note(c) for c in t.columns)) for t in TABLES]
    for row, (name, text) in enumerate(lines, start=2):
        sheet.write_string(row, 0, name, formats["head"])
        sheet.write_string(row, 1, text)


def _column_note(column: Column) -> str:
    """'name (unit, optional)' for the notes sheet."""
    details = [d for d in (column.unit, "" if column.required else "optional") if d]
    return column.name + (f" ({', '.join(details)})" if details else "")


def _settings_sheet(book, formats, areas: str) -> None:
    """The settings sheet (setting, value, meaning): the areas file, relative to the workbook."""
    sheet = book.add_worksheet(SETTINGS_SHEET)
    for col, (name, width) in enumerate((("setting", 14), ("value", 40), ("meaning", 80))):
        sheet.write_string(0, col, name, formats["head"])
        sheet.set_column(col, col, width, formats["text"] if col < 2 else None)
    sheet.write_string(1, 0, AREAS_SETTING)
    if areas:
        sheet.write_string(1, 1, cell_safe(areas))
    sheet.write_string(1, 2, "the areas GeoJSON or GeoPackage, relative to this workbook's "
                       "folder; it must lie inside the project folder")
    sheet.freeze_panes(1, 0)


def _table_sheet(book, formats, table: TableSheet, rows: pd.DataFrame | None) -> None:
    """One table: commented headers, text-formatted id columns, drop-downs, the rows."""
    sheet = book.add_worksheet(table.name)
    known = {c.name: c for c in table.columns}
    header = ([c for c in rows.columns if c != ROW] if rows is not None
              else [c.name for c in table.columns])
    if rows is not None and len(rows) > MAX_ROWS:
        raise InputError(Issue(table.file_name, None, None, f"{len(rows):,} rows do not fit "
                               "in one Excel sheet", "keep this dataset as CSV files"))
    for col, name in enumerate(header):
        column = known.get(name)
        numeric = column is not None and column.kind in NUMERIC
        sheet.set_column(col, col, max(12, len(name) + 2), None if numeric else formats["text"])
        sheet.write_string(0, col, cell_safe(name), formats["head"])
        if column is not None:
            sheet.write_comment(0, col, _comment(column), {"x_scale": 2, "y_scale": 1.2})
        allowed = DROP_DOWNS.get((table.name, name))
        if allowed:
            sheet.data_validation(1, col, VALIDATION_ROWS, col, {
                "validate": "list", "source": list(allowed), "ignore_blank": True,
                "error_title": name, "error_message": f"use one of {', '.join(allowed)}"})
        if rows is not None:
            _write_column(sheet, col, rows[name], numeric)
    sheet.freeze_panes(1, 0)


def _comment(column: Column) -> str:
    """A header cell's comment: meaning, unit, and whether it may be left out."""
    unit = f" Unit: {column.unit}." if column.unit else ""
    need = "" if column.required else " Optional column."
    return f"{column.name}: {column.meaning}.{unit}{need}"


def _write_column(sheet, col: int, cells: pd.Series, numeric: bool) -> None:
    """A column's cells: numbers as numbers in numeric columns, everything else as text."""
    for row, text in enumerate(cells, start=1):
        if not text:
            continue
        value = _number(text) if numeric else None
        if value is None:
            sheet.write_string(row, col, cell_safe(text))
        else:
            sheet.write_number(row, col, value)


def _number(text: str) -> float | None:
    """The finite number a CSV cell holds, or None (then it is written as text, as given)."""
    try:
        value = float(text.strip().replace("_", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) else None
