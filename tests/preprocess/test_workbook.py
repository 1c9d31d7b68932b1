"""A dataset as one .xlsx workbook: the same text cells and checks as the CSV folder.

Every workbook starts as the template of a valid tiny run (tests/conftest.py), written by
``sufficiency template --from``; bad-input cases then change one thing with openpyxl.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import option
from typer.testing import CliRunner

from sufficiency.cli import app
from sufficiency.errors import InputError
from sufficiency.ingest.workbook_template import write_template
from sufficiency.preprocess import workbook
from sufficiency.preprocess.config import load_run_config
from sufficiency.preprocess.dataset import load, load_dataset
from sufficiency.preprocess.workbook import cell_safe, cell_text
from sufficiency.report.escaping import formula_safe

GOOD = {"demand": ["A,ASD,primary,2026,5", "A,SLD,secondary,2026,2.5"],
        "provision": [option("SP", "S1", existing=10, module=4, max_modules=1, capital=1e5)]}
BOOK = "data.xlsx"


def workbook_run(tiny, **files) -> Path:
    """The tiny run with its dataset as data.xlsx (CSV files removed); the TOML path."""
    toml = tiny.write(**(GOOD | files))
    write_template(tiny.root / BOOK, tiny.root / "data")
    for csv in (tiny.root / "data").glob("*.csv"):
        csv.unlink()
    toml.write_text(toml.read_text().replace('inputs = "data"', f'inputs = "{BOOK}"'))
    return toml


def edit(path: Path, change) -> None:
    """Open the workbook with openpyxl, apply ``change(book)``, save it."""
    book = openpyxl.load_workbook(path)
    change(book)
    book.save(path)


def problems(toml: Path, tiny) -> str:
    """`sufficiency plan` on a bad workbook: exit 2, located problems, nothing written."""
    out_root = tiny.root / "out"
    result = CliRunner().invoke(app, ["plan", str(toml), "--output-root", str(out_root)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "nothing was solved or written" in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("  - ")]
    assert lines and all(" — " in line for line in lines), "every problem says what to do"
    assert not out_root.exists(), "nothing may be written"
    return result.output


# --- cells --------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "number_format", "text"), [
    (None, None, ""), (True, None, "true"), (False, None, "false"),
    (7, None, "7"), (7.0, None, "7"), (-3.0, None, "-3"), (0.1, None, "0.1"),
    (2.5e-7, None, "2.5e-07"), (123, "00000", "00123"), (123.0, "0000", "0123"),
    (123, "0.00", "123"), (2**60 + 0.0, None, "1.152921504606847e+18"),
    (dt.datetime(2026, 9, 1), None, "2026-09-01"),
    (dt.datetime(2026, 9, 1, 8, 30), None, "2026-09-01T08:30:00"),
    (dt.date(2026, 9, 1), None, "2026-09-01"), (dt.time(8, 30), None, "08:30:00"),
    ("0123", None, "0123"), ("'=SUM(A1)", None, "=SUM(A1)"), ("'-5", None, "-5"),
    ("'plain", None, "'plain"), (" S1 ", None, " S1 "),
])
def test_cells_read_as_excel_shows_them(value, number_format, text):
    assert cell_text(value, number_format) == text


@pytest.mark.parametrize("value", ["=1+1", "+44 1234", "-x", "@SUM", "\tx", "plain", "'quoted",
                                   "", "0123"])
def test_formula_safe_text_round_trips(value):
    """The template's apostrophe is report.escaping's, and reading removes it again."""
    assert cell_safe(value) == formula_safe(value)
    assert cell_text(cell_safe(value)) == value


@pytest.mark.parametrize(("xml", "formula"), [
    (b'<c r="A1"><f>1+1</f><v>2</v></c>', True), (b'<x:c r="A1"><x:f t="shared"/></x:c>', True),
    (b'<c r="A1" t="s"><v>0</v></c>', False), (b"<font><fill/></font>", False),
])
def test_formula_scan_finds_formula_elements_only(xml, formula):
    """The byte scan that decides whether a sheet needs the formula-finding pass."""
    assert bool(workbook._FORMULA_TAG.search(xml)) is formula


# --- a workbook dataset --------------------------------------------------------------------

def test_workbook_gives_the_same_dataset_as_the_folder(tiny):
    toml = tiny.write(**GOOD)
    from_csv = load(toml)
    from_book = load(workbook_run(tiny))
    for name in ("demand", "options", "travel"):
        pd.testing.assert_frame_equal(getattr(from_book, name), getattr(from_csv, name))
    pd.testing.assert_frame_equal(from_book.sites.drop(columns="geometry"),
                                  from_csv.sites.drop(columns="geometry"))
    assert from_book.areas.geometry.equals(from_csv.areas.geometry)
    assert from_book.config.inputs_dir == tiny.root / BOOK


def test_ids_typed_as_numbers_keep_text_and_zeros(tiny):
    """A site id typed as a number reads as Excel shows it: 7.0 -> '7', '0123' stays."""
    toml = workbook_run(tiny, sites=["0123,Site one,A,405000,306000",
                                     "7,Site two,A,405000,307000"],
                        provision=[option("SP", "0123", existing=10), option("S7", "7")])

    def retype(book):
        sites, provision = book["sites"], book["provision"]
        sites["A3"].value = 7.0  # a number where the template wrote text
        provision["B3"].value = 7
        sites["D2"].value = 405000.0
        provision["F2"].value = 10.0  # existing_places: an integer stored as a float

    edit(tiny.root / BOOK, retype)
    dataset = load(toml)
    assert list(dataset.sites["site_id"]) == ["0123", "7"]
    options = dataset.options.set_index("option_id")
    assert options.loc["SP", "site_id"] == "0123" and options.loc["S7", "site_id"] == "7"
    assert options.loc["SP", "existing_places"] == 10


def test_formula_cached_values_are_used(tiny):
    """A formula with a saved value is read as its value (here written by hand into the XML)."""
    toml = workbook_run(tiny)
    path = tiny.root / BOOK
    edit(path, lambda book: book["demand"].__setitem__("E2", "=2+3"))  # pupils of row 2
    _set_cached_value(path, "E2", "5")
    assert load(toml).demand["pupils"].tolist() == [5.0, 2.5]


def _set_cached_value(path: Path, cell: str, value: str) -> None:
    """Give formula cell ``cell`` of the demand sheet a cached value, as Excel saves one."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = _sheet_part(parts, "demand")
    xml = parts[sheet].decode()
    start = xml.index(f'<c r="{cell}"')
    end = xml.index("</c>", start)
    formula = xml[start:end]
    parts[sheet] = (xml[:start] + formula.replace("<v></v>", "").replace("<v />", "")
                    + f"<v>{value}</v>" + xml[end:]).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def _sheet_part(parts: dict[str, bytes], title: str) -> str:
    """The zip member holding sheet ``title`` (openpyxl numbers sheets in order)."""
    book = parts["xl/workbook.xml"].decode()
    names = re.findall(r'<sheet [^>]*name="([^"]+)"', book)
    return f"xl/worksheets/sheet{names.index(title) + 1}.xml"


def test_optional_sheets_without_rows_are_absent_and_notes_are_not_read(tiny):
    toml = workbook_run(tiny)
    edit(tiny.root / BOOK, lambda book: book.create_sheet("scratch").append(["=1/0"]))
    dataset = load(toml)
    assert dataset.current is None and dataset.costs is None and dataset.providers is None
    assert dataset.travel_metric.startswith("derived")
    assert any("'scratch'" in w and "not read" in w for w in dataset.warnings)


def test_blank_rows_are_skipped_with_a_warning(tiny):
    toml = workbook_run(tiny)
    edit(tiny.root / BOOK, lambda book: book["demand"].insert_rows(3))
    dataset = load(toml)
    assert len(dataset.demand) == 2
    assert any("sheet 'demand': skipped 1 blank row(s) (row 3)" in w for w in dataset.warnings)


# --- bad input: exit 2, sheet / row / column named, nothing written -------------------------

def test_missing_sheet(tiny):
    toml = workbook_run(tiny)
    edit(tiny.root / BOOK, lambda book: book.remove(book["provision"]))
    output = problems(toml, tiny)
    assert "data.xlsx: sheet 'provision' is missing" in output


def test_missing_column(tiny):
    toml = workbook_run(tiny)
    edit(tiny.root / BOOK, lambda book: book["provision"].delete_cols(8))  # max_modules
    output = problems(toml, tiny)
    assert "data.xlsx, sheet 'provision', column 'max_modules': required column is missing" \
        in output


def test_text_in_a_number_column(tiny):
    toml = workbook_run(tiny)
    edit(tiny.root / BOOK, lambda book: book["demand"].__setitem__("E3", "two"))
    output = problems(toml, tiny)
    assert "data.xlsx, sheet 'demand', row 3, column 'pupils': 'two' is not a number" in output


def test_formula_without_cached_value(tiny):
    """openpyxl saves formulas without values, as a program that never calculates them."""
    toml = workbook_run(tiny)
    edit(tiny.root / BOOK, lambda book: book["demand"].__setitem__("E2", "=2+3"))
    output = problems(toml, tiny)
    assert "data.xlsx, sheet 'demand', row 2, column 'pupils': a formula with no saved value" \
        in output
    assert "open and save it in Excel" in output


def test_excel_error_value(tiny):
    toml = workbook_run(tiny)
    path = tiny.root / BOOK
    edit(path, lambda book: book["demand"].__setitem__("E2", "=1/0"))
    _set_cached_value(path, "E2", "#DIV/0!")
    with zipfile.ZipFile(path) as archive:  # an error's cached value has type "e"
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = _sheet_part(parts, "demand")
    parts[sheet] = parts[sheet].replace(b'<c r="E2"', b'<c r="E2" t="e"')
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    output = problems(toml, tiny)
    assert "sheet 'demand', row 2, column 'pupils': the cell shows the Excel error #DIV/0!" \
        in output


def test_areas_outside_the_project(tiny, tmp_path_factory):
    """An absolute path elsewhere is refused (the project named as on the command line)."""
    toml = workbook_run(tiny)
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "areas.geojson"
    elsewhere.write_bytes((tiny.root / "data" / "areas.geojson").read_bytes())
    edit(tiny.root / BOOK, lambda book: book["settings"].__setitem__("B2", str(elsewhere)))
    with pytest.raises(InputError) as caught:
        load_dataset(load_run_config(toml, project=tiny.root))
    text = str(caught.value)
    assert "data.xlsx, sheet 'settings', row 2, column 'value'" in text
    assert "leads outside the project folder" in text


def test_areas_path_with_dots_outside_the_project(tiny):
    toml = workbook_run(tiny)
    edit(tiny.root / BOOK, lambda book: book["settings"].__setitem__(
        "B2", "../" * 12 + "etc/areas.geojson"))
    output = problems(toml, tiny)
    assert "sheet 'settings', row 2, column 'value'" in output
    assert "leads outside the project folder" in output


def test_no_areas_setting(tiny):
    toml = workbook_run(tiny)
    edit(tiny.root / BOOK, lambda book: book["settings"].__setitem__("B2", None))
    output = problems(toml, tiny)
    assert "sheet 'settings', column 'value': no 'areas' setting" in output


@pytest.mark.parametrize("suffix", [".xls", ".xlsm", ".xlsb"])
def test_other_excel_formats_are_refused(tiny, suffix):
    toml = workbook_run(tiny)
    other = (tiny.root / BOOK).with_suffix(suffix)
    other.write_bytes(b"\xd0\xcf\x11\xe0" + bytes(60))
    toml.write_text(toml.read_text().replace(BOOK, other.name))
    output = problems(toml, tiny)
    assert f"data{suffix}: this is" in output and "save it as 'Excel Workbook (*.xlsx)'" in output


def test_corrupt_zip(tiny):
    toml = workbook_run(tiny)
    path = tiny.root / BOOK
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    output = problems(toml, tiny)
    assert "data.xlsx: not a readable .xlsx workbook" in output


def test_xls_saved_under_an_xlsx_name(tiny):
    toml = workbook_run(tiny)
    (tiny.root / BOOK).write_bytes(b"\xd0\xcf\x11\xe0" + bytes(60))
    assert "old-style Excel workbook (.xls) named .xlsx" in problems(toml, tiny)


def test_zip_bomb_is_refused_before_parsing(tiny, monkeypatch):
    """The sheets' unpacked size bounds the memory; past the limit nothing is parsed."""
    toml = workbook_run(tiny)
    monkeypatch.setattr(workbook, "MAX_READ_MEMORY", 10_000)
    monkeypatch.setattr("openpyxl.load_workbook", lambda *a, **k: pytest.fail("parsed"))
    assert "data.xlsx: its sheets unpack to" in problems(toml, tiny)


def test_unsafe_xml_parser_is_refused(tiny, monkeypatch):
    toml = workbook_run(tiny)
    monkeypatch.setattr("openpyxl.xml.DEFUSEDXML", False)
    assert "cannot be read safely: the defusedxml package is not installed" in \
        problems(toml, tiny)


def test_missing_workbook_is_a_toml_problem(tiny):
    toml = workbook_run(tiny)
    (tiny.root / BOOK).unlink()
    assert "dataset workbook" in problems(toml, tiny)


def test_reports_name_the_sheet_a_figure_came_from(tiny):
    """The report's assumptions cite "data.xlsx, sheet 'demand'", not a CSV that is not there."""
    from sufficiency.report.assumptions import option_assumptions, run_assumptions

    assert workbook.source_name(Path("inputs/example"), "demand.csv") == "example/demand.csv"
    dataset = load(workbook_run(tiny))
    sources = set(run_assumptions(dataset)["source"])
    assert "data.xlsx, sheet 'demand'" in sources
    assert "data.xlsx, sheet 'sites' and the areas file" in sources
    assert option_assumptions(dataset)["source"].tolist() == ["data.xlsx, sheet 'provision', row 2"]
