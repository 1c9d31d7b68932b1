"""A dataset as one Excel workbook: a sheet per table, read into the CSV reader's text cells.

``inputs = "../inputs/example.xlsx"`` in a run TOML names a workbook instead of a folder. Each
table of the folder form is a sheet named as the CSV without ``.csv`` (``demand``,
``provision``, ...); the ``settings`` sheet (columns ``setting``, ``value``) names the areas
file (``areas``: a GeoJSON or GeoPackage path relative to the workbook, inside the project
folder); a ``notes`` sheet is documentation and is never read. Every sheet becomes the same
text-cell DataFrame with a ``_row`` column (the row Excel shows) that
:func:`~sufficiency.preprocess.readers.read_csv_table` returns, so the CSV checks apply
unchanged and their messages read "example.xlsx, sheet 'provision', row 7, column ...".

Cells become text as Excel shows them: whole numbers without ".0" (with the zeros of a
"0000" number format), other numbers in their shortest exact form, dates as ISO text,
booleans as true/false, empty cells as "". Formulas give their cached values; a formula
without one, or a cell showing an Excel error, is refused. A leading apostrophe that
:func:`cell_safe` (the same rule as ``report.escaping.formula_safe``) put before a text
starting with ``= + - @`` is removed again, so a written value reads back as it was.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Iterator
from itertools import zip_longest
from pathlib import Path

import pandas as pd

from sufficiency.errors import InputError, Issue
from sufficiency.preprocess.paths import UnusablePath, inside, resolve
from sufficiency.preprocess.readers import MAX_INPUT_BYTES, MAX_READ_MEMORY, ROW, WARNINGS

WORKBOOK_SUFFIX = ".xlsx"
OTHER_EXCEL = {  # suffix: what it is (refused with a fix)
    ".xls": "an old-style Excel workbook (.xls)",
    ".xlsm": "a macro-enabled Excel workbook (.xlsm)",
    ".xlsb": "a binary Excel workbook (.xlsb)",
}
SAVE_AS_XLSX = ("open it in Excel and save it as 'Excel Workbook (*.xlsx)', then name the "
                ".xlsx file in the run TOML")
SETTINGS_SHEET = "settings"
NOTES_SHEET = "notes"
AREAS_SETTING = "areas"
SETTINGS = {AREAS_SETTING: "areas file (GeoJSON or GeoPackage), relative to the workbook"}
# Sheets read as tables: the folder form's CSV names without ".csv".
TABLE_SHEETS = ("sites", "demand", "provision", "travel", "current_placements", "costs",
                "independent", "committed", "calibration")
REQUIRED_SHEETS = ("sites", "demand", "provision")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")  # as report.escaping (a layer above)
# Memory at peak per byte of unpacked workbook XML: a cell takes at least ~20 bytes of XML
# (<c r="A1"><v>1</v></c>) and up to ~80 bytes as a text cell (readers.CSV_BYTES_PER_CELL).
# Measured (a demand sheet of unique ids and 6-decimal numbers): 3.2x at 200,000 rows (51 MB
# unpacked), 5.8x at 20,000 rows (openpyxl's own import included); 6 errs high.
XLSX_BYTES_PER_BYTE = 6.0
MAX_CELL_ISSUES = 50  # formula and error cells listed per sheet
_ZERO_PAD = re.compile(r"0+")
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")  # <f>, <x:f ...>, <f/>


def is_workbook(path: Path) -> bool:
    """Whether ``inputs`` names an Excel file (a workbook to read, or one to refuse clearly)."""
    return path.suffix.lower() in (WORKBOOK_SUFFIX, *OTHER_EXCEL)


def dataset_folder(inputs: Path) -> Path:
    """The folder a dataset's other files are relative to: the workbook's, or the folder."""
    return inputs.parent if is_workbook(inputs) else inputs


def source_name(inputs: Path, file_name: str) -> str:
    """Where a table came from, for reports: "example/provision.csv" or a workbook's sheet."""
    if is_workbook(inputs):
        return sheet_label(inputs.name, Path(file_name).stem)
    return f"{inputs.name}/{file_name}"


def sheet_label(book: str, sheet: str) -> str:
    """How messages name a sheet: "example.xlsx, sheet 'provision'"."""
    return f"{book}, sheet '{sheet}'"


def cell_safe(value: str) -> str:
    """``value`` with a leading apostrophe when a spreadsheet would run it as a formula.

    The rule of ``sufficiency.report.escaping.formula_safe`` (which this layer may not
    import); :func:`cell_text` removes the apostrophe again on reading.
    """
    return "'" + value if value.startswith(FORMULA_START) else value


def cell_text(value: object, number_format: str | None = None) -> str:
    """A cell's value as the text the CSV reader would give for what Excel shows."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return _padded(str(value), number_format)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**53:
            return _padded(str(int(value)), number_format)
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    text = str(value)
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_START) else text


def _padded(digits: str, number_format: str | None) -> str:
    """A whole number with the leading zeros a "000000" number format shows."""
    if number_format and _ZERO_PAD.fullmatch(number_format) and not digits.startswith("-"):
        return digits.zfill(len(number_format))
    return digits


def check_workbook_file(path: Path, label: str) -> None:
    """Refuse what cannot be read safely: another Excel format, too big, not a zip, a bomb."""
    suffix = path.suffix.lower()
    if suffix in OTHER_EXCEL:
        raise InputError(Issue(label, None, None, f"this is {OTHER_EXCEL[suffix]}; only .xlsx "
                               "workbooks are read", SAVE_AS_XLSX))
    if not path.is_file():
        raise InputError(Issue(label, None, None, "workbook not found",
                               "check the `inputs` path; it is relative to the TOML file"))
    size = path.stat().st_size
    if size > MAX_INPUT_BYTES:
        raise InputError(Issue(label, None, None, f"the file is {size / 1e6:,.0f} MB, far beyond "
                               f"any planning dataset (the limit is {MAX_INPUT_BYTES / 1e6:,.0f} "
                               "MB)", "check it is the right file"))
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(Issue(label, None, None, "this is an old-style Excel workbook (.xls) "
                               "named .xlsx", SAVE_AS_XLSX))
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise InputError(Issue(label, None, None, "not a readable .xlsx workbook (the file is "
                               "not a complete zip archive: damaged, or not a workbook)",
                               "open it in Excel and save it again as .xlsx, or copy it again "
                               "from its source")) from None
    need = int(unpacked * XLSX_BYTES_PER_BYTE)
    if need > MAX_READ_MEMORY:
        raise InputError(Issue(label, None, None, f"its sheets unpack to {unpacked / 1e6:,.0f} "
                               f"MB; reading them would need about {need / 1e9:,.1f} GB of "
                               f"memory (the limit is {MAX_READ_MEMORY / 1e9:,.1f} GB)",
                               "check it is the right file; delete sheets and columns the "
                               "engine does not read"))


def _require_defusedxml(label: str) -> None:
    """Refuse to read when openpyxl would parse without defusedxml (it uses it if installed)."""
    from openpyxl.xml import DEFUSEDXML

    if not DEFUSEDXML:
        raise InputError(Issue(label, None, None, "cannot be read safely: the defusedxml "
                               "package is not installed", "install sufficiency's "
                               "dependencies again (pip install defusedxml)"))


class WorkbookSource:
    """A dataset workbook read once: its tables as text cells, its settings and warnings."""

    def __init__(self, path: Path, project: Path):
        """Read the table sheets and settings of ``path``; its areas must lie in ``project``."""
        self.path = path
        self.project = project
        self.book = path.name
        self.warnings: list[str] = []
        self.sheets = read_workbook_sheets(path, (*TABLE_SHEETS, SETTINGS_SHEET), self.warnings)

    def label(self, file_name: str) -> str:
        """The label messages use for the table ``file_name`` (e.g. "demand.csv")."""
        return sheet_label(self.book, Path(file_name).stem)

    def has(self, file_name: str) -> bool:
        """Whether an optional table is given: its sheet exists and has data rows."""
        sheet = self.sheets.get(Path(file_name).stem)
        return sheet is not None and not sheet.empty

    def read(self, file_name: str) -> pd.DataFrame:
        """The table's text cells with ``_row``; a clear error when its sheet is missing."""
        name = Path(file_name).stem
        if name not in self.sheets:
            found = ", ".join(f"'{s}'" for s in self.sheets) or "none"
            raise InputError(Issue(self.book, None, None, f"sheet '{name}' is missing "
                                   f"(table sheets found: {found})",
                                   f"add a sheet named '{name}' with the columns of {file_name} "
                                   "(docs/inputs.md), or write one with `sufficiency template`"))
        return self.sheets[name]

    def areas_path(self) -> Path:
        """The areas file the settings sheet names, resolved and inside the project folder."""
        label = sheet_label(self.book, SETTINGS_SHEET)
        settings = self.sheets.get(SETTINGS_SHEET)
        fix = (f"add a '{SETTINGS_SHEET}' sheet with columns 'setting' and 'value' and a row "
               f"'{AREAS_SETTING}' giving the areas GeoJSON or GeoPackage, relative to the "
               "workbook (e.g. example/areas.geojson)")
        if settings is None:
            raise InputError(Issue(self.book, None, None, f"no '{SETTINGS_SHEET}' sheet, so "
                                   "no areas file is named", fix))
        row, text = _setting(settings, label, AREAS_SETTING, fix)
        try:
            path = resolve(self.path.parent / text)
        except UnusablePath as exc:
            raise InputError(Issue(label, row, "value", f"'{text}' is not a usable path: {exc}",
                                   "write a plain path relative to the workbook")) from None
        if not inside(path, self.project):
            raise InputError(Issue(label, row, "value", f"'{text}' leads outside the project "
                                   f"folder {self.project}; it was not read",
                                   "keep the areas file inside the project folder (symbolic "
                                   "links are followed before checking), e.g. beside the "
                                   "workbook"))
        if not path.is_file():
            raise InputError(Issue(label, row, "value", f"areas file {path} does not exist",
                                   "check the path; it is relative to the workbook's folder"))
        return path


def _setting(settings: pd.DataFrame, label: str, key: str, fix: str) -> tuple[int, str]:
    """(row, value) of one setting of the settings sheet; unknown settings are errors."""
    missing = [c for c in ("setting", "value") if c not in settings.columns]
    if missing:
        raise InputError(Issue(label, None, missing[0], "required column is missing", fix))
    issues: list[Issue] = []
    found: tuple[int, str] | None = None
    for row, name, value in zip(settings[ROW], settings["setting"], settings["value"],
                                strict=True):
        name = name.strip().lower()
        if name == key and value.strip():
            found = (int(row), value.strip())
        elif name not in SETTINGS:
            issues.append(Issue(label, int(row), "setting", f"unknown setting '{name}'",
                                f"the settings are: {', '.join(SETTINGS)}"))
    if found is None:
        issues.append(Issue(label, None, "value", f"no '{key}' setting with a value", fix))
    if issues or found is None:
        raise InputError(issues)
    return found


def read_workbook_sheets(path: Path, wanted: tuple[str, ...],
                         warnings: list[str]) -> dict[str, pd.DataFrame]:
    """The ``wanted`` sheets of an .xlsx (names matched ignoring case) as text-cell tables.

    Read twice in step, streaming (read-only): once for cached values, once to see which
    cells are formulas, so a formula without a cached value is refused. ``warnings`` gets
    the sheets that were not read.
    """
    from openpyxl import load_workbook

    label = path.name
    check_workbook_file(path, label)
    _require_defusedxml(label)
    try:
        values = load_workbook(path, read_only=True, data_only=True)
        formulas = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for broken files
        raise InputError(Issue(label, None, None, f"cannot be read as an .xlsx workbook ({exc})",
                               "open it in Excel and save it again as .xlsx")) from None
    try:
        return _read_sheets(values, formulas, label, wanted, warnings)
    finally:
        values.close()
        formulas.close()


def _read_sheets(values, formulas, label: str, wanted: tuple[str, ...],
                 warnings: list[str]) -> dict[str, pd.DataFrame]:
    """Each wanted sheet read; every sheet's problems collected before raising."""
    tables: dict[str, pd.DataFrame] = {}
    issues: list[Issue] = []
    ignored = []
    for title in values.sheetnames:
        name = title.strip().lower()
        if name not in wanted:
            if name != NOTES_SHEET:
                ignored.append(title)
            continue
        if name in tables:
            issues.append(Issue(label, None, None, f"two sheets are named '{name}'",
                                "keep one sheet per table"))
            continue
        sheet_values, sheet_formulas = values[title], formulas[title]
        sheet_values.reset_dimensions()  # a stale size in the file would cut rows or columns
        sheet_formulas.reset_dimensions()
        try:
            tables[name] = _read_sheet(sheet_values, sheet_formulas, sheet_label(label, name))
        except InputError as exc:
            issues.extend(exc.issues)
    if issues:
        raise InputError(issues)
    if ignored:
        warnings.append(f"{label}: sheet(s) {', '.join(repr(s) for s in ignored)} are not "
                        f"dataset tables and were not read (tables: {', '.join(wanted)}; "
                        f"'{NOTES_SHEET}' is for notes)")
    return tables


def _read_sheet(values, formulas, label: str) -> pd.DataFrame:
    """One sheet: header in row 1, cells as text, blank rows skipped, ``_row`` = Excel's row."""
    rows = _text_rows(values, formulas, label)
    first = next(rows, None)
    header = [name.strip() for name in first[1]] if first else []
    while header and not header[-1]:
        header.pop()
    if not header:
        return pd.DataFrame({ROW: pd.Series([], dtype="int64")})
    _check_header(header, label)
    width = len(header)
    cells: list[list[str]] = []
    numbers: list[int] = []
    blank: list[int] = []
    for number, texts in rows:
        if not any(t.strip() for t in texts):
            blank.append(number)
            continue
        extra = [i for i, t in enumerate(texts[width:], start=width) if t.strip()]
        if extra:
            raise InputError(Issue(label, number, _letter(extra[0] + 1), "a value in a column "
                                   "without a header", "give the column a header in row 1, or "
                                   "clear the cell"))
        cells.append(texts[:width] + [""] * (width - len(texts)))
        numbers.append(number)
    table = pd.DataFrame(cells, columns=header, dtype=object)
    table[ROW] = pd.Series(numbers, dtype="int64")
    inner = [n for n in blank if numbers and n < numbers[-1]]  # blank rows at the end are unseen
    if inner:
        shown = ", ".join(map(str, inner[:5])) + (", ..." if len(inner) > 5 else "")
        table.attrs[WARNINGS] = [f"{label}: skipped {len(inner)} blank row(s) (row {shown})"]
    return table


def _has_formulas(sheet) -> bool:
    """Whether a sheet's XML holds any formula element (a byte scan, far faster than parsing).

    When it holds none the second, formula-finding pass is skipped; when the sheet's part
    cannot be found (openpyxl internals changed) the pass is made.
    """
    try:
        source = sheet.parent._archive.open(sheet._worksheet_path)
    except (AttributeError, KeyError):
        return True
    tail = b""
    with source:
        while chunk := source.read(1 << 20):
            if _FORMULA_TAG.search(tail + chunk):
                return True
            tail = chunk[-64:]
    return False


def _row_pairs(values, formulas) -> Iterator[tuple[tuple, tuple]]:
    """(cached-value cells, formula-pass cells) of each row; no formula pass when none."""
    if not _has_formulas(values):
        return ((cells, ()) for cells in values.iter_rows())
    return zip_longest(values.iter_rows(), formulas.iter_rows(), fillvalue=())


def _text_rows(values, formulas, label: str) -> Iterator[tuple[int, list[str]]]:
    """(Excel row, cell texts) of every row; formula cells without cached values refused."""
    issues: list[Issue] = []
    header: list[str] = []
    for number, (cells, formula_cells) in enumerate(_row_pairs(values, formulas), start=1):
        texts = []
        for column, cell in enumerate(cells, start=1):
            is_formula = (column <= len(formula_cells)
                          and formula_cells[column - 1].data_type == "f")
            problem = _cell_problem(cell, is_formula)
            if problem and len(issues) < MAX_CELL_ISSUES:
                name = header[column - 1] if column <= len(header) and header[column - 1] \
                    else _letter(column)
                issues.append(Issue(label, number, name, *problem))
            texts.append(_cell_value_text(cell))
        if number == 1:
            header = [t.strip() for t in texts]
        if not issues:
            yield number, texts
    if issues:
        raise InputError(issues)


def _cell_problem(cell, is_formula: bool) -> tuple[str, str] | None:
    """(message, fix) for a formula without a cached value or a cell showing an Excel error."""
    if cell.data_type == "e":
        return (f"the cell shows the Excel error {cell.value}",
                "correct the formula or type the value")
    if is_formula and cell.value is None and cell.data_type != "str":
        return ("a formula with no saved value (the workbook was written by a program that "
                "did not calculate it)", "open and save it in Excel (or LibreOffice), so its "
                "values are stored, or type the values")
    return None


def _cell_value_text(cell) -> str:
    """The text of one read-only cell (its number format only matters for whole numbers)."""
    value = cell.value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return cell_text(value, cell.number_format)
    return cell_text(value)


def _letter(column: int) -> str:
    """Excel's letters for a 1-based column number ("A", "AB")."""
    from openpyxl.utils import get_column_letter

    return get_column_letter(column)


def _check_header(header: list[str], label: str) -> None:
    """Every column named once; a header cell left empty among named ones is an error."""
    for index, name in enumerate(header):
        if not name:
            raise InputError(Issue(label, 1, _letter(index + 1), "a column has no header",
                                   "write the column's name in row 1, or delete the column"))
        if name in header[:index]:
            raise InputError(Issue(label, 1, name, "column appears more than once",
                                   "delete or rename the repeated column"))
