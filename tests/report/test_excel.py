"""plan.xlsx: reads back with the result tables' numbers, no formulas, and the same bytes."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import TinyRun, areas_geojson, option, run_toml, square

import sufficiency
from sufficiency.report.cabinet import read_transport_table
from sufficiency.report.escaping import FORMULA_START
from sufficiency.report.excel import safe_text, workbook_bytes

SHEETS = ["Summary", "Plan", "Placements", "Costs", "Money by FY", "Money by AY",
          "Shadow prices", "Assumptions"]
SITE_NAME = '=HYPERLINK("http://example.invalid","x")<script>alert(1)</script>'
AREA_NAME = "@SUM(1)"
HOSTILE = [SITE_NAME, AREA_NAME, "+1", "-1", "\tx", "\rx", "\nx", "plain"]


def csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def write_run(root: Path) -> Path:
    """Two years, 12 and 14 pupils; 5 existing places; one 10-place module to open."""
    areas = areas_geojson({"A": square(400_000, 300_000)}).replace('"Area A"',
                                                                   json.dumps(AREA_NAME))
    return TinyRun(root).write(
        toml=run_toml(years=2, budget={2026: 300_000}, transport_pupil=1_000),
        areas=areas,
        sites=["S1,Old school,A,405000,306000", f"S2,{csv_cell(SITE_NAME)},A,405000,304000"],
        demand=["A,ASD,primary,2026,12", "A,ASD,primary,2027,14"],
        provision=[option("SP", "S1", existing=5),
                   option("NEW", "S2", module=10, max_modules=1, capital=200_000)])


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    root = tmp_path_factory.mktemp("excel")
    return sufficiency.plan(write_run(root), output_root=root / "project")


@pytest.fixture(scope="module")
def book(planned):
    _, paths = planned
    return openpyxl.load_workbook(paths.folder / "plan.xlsx")


def frame(sheet) -> pd.DataFrame:
    rows = list(sheet.iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


def test_sheets_in_order_with_frozen_headers_and_widths(book, planned):
    _, paths = planned
    transport = (paths.folder / "transport.csv").is_file()
    expected = SHEETS[:6] + (["Transport"] if transport else []) + SHEETS[6:]
    assert book.sheetnames == expected
    for sheet in book:
        assert sheet.freeze_panes == "A2"
        assert sheet["A1"].font.b
        assert all(sheet.column_dimensions[c].width >= 8 for c in ("A", "B"))


def test_transport_sheet_only_with_a_transport_table(planned):
    run, _ = planned
    without = openpyxl.load_workbook(io.BytesIO(workbook_bytes(run)))
    assert "Transport" not in without.sheetnames
    table = pd.DataFrame({"area_id": ["A"], "year": [2026], "transport_cost": [1234.5]})
    with_table = openpyxl.load_workbook(io.BytesIO(workbook_bytes(run, transport=table)))
    sheet = with_table["Transport"]
    assert [c.value for c in sheet[1]] == ["area_id", "year", "transport_cost"]
    assert sheet["C2"].value == 1234.5 and "£" in sheet["C2"].number_format


def test_numbers_read_back_equal_the_result_tables(book, planned):
    run, paths = planned
    plan_csv = pd.read_csv(paths.folder / "plan.csv")
    plan = frame(book["Plan"])
    assert plan["option_id"].tolist() == plan_csv["option_id"].tolist() == ["NEW"]
    assert plan["places"].tolist() == plan_csv["places"].tolist()
    assert plan["capital (£)"].tolist() == plan_csv["capital_cost"].tolist()
    assert plan["opening year (AY)"].tolist() == plan_csv["opening_year"].tolist()
    assert "£" in book["Plan"]["K2"].number_format  # capital (£)
    costs = frame(book["Costs"])
    optimal = costs[costs["plan"] == "optimal"]
    assert optimal["total"].tolist() == run.optimal.costs_by_year["total"].tolist()
    saving = costs[costs["plan"].str.startswith("saving")]
    assert saving["present value"].sum() == pytest.approx(run.savings, abs=0.05)
    placements = frame(book["Placements"])
    assert len(placements) == len(run.optimal.placements)
    assert placements["pupils"].sum() == pytest.approx(run.optimal.placements["pupils"].sum())
    shadow = frame(book["Shadow prices"])
    places = shadow[shadow["measure"] == "one more place"]
    assert places["saves (£ present value)"].tolist() == run.shadow.places["value_pv"].tolist()
    summary = frame(book["Summary"]).set_index("item")["value"]
    assert summary["saving against doing nothing"] == pytest.approx(run.savings, abs=0.01)
    assert summary["new places"] == run.optimal.plan["places"].sum()
    assert summary["capital budget, FY 2026-27"] == 300_000
    assert summary["capital budget, FY 2027-28"] == "no limit"


def test_no_cell_is_a_formula_and_hostile_names_are_inert(book):
    texts = []
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(FORMULA_START), cell.value
                    texts.append(cell.value)
    assert "'" + SITE_NAME in texts  # Plan: site_name, escaped
    if "Transport" in book.sheetnames:
        assert "'" + AREA_NAME in texts


def test_escaping_rule():
    for text in HOSTILE:
        escaped = safe_text(text)
        assert not escaped.startswith(FORMULA_START)
        assert escaped in (text, "'" + text)
    assert safe_text("a\x01b") == "a\ufffdb"  # a character Excel cannot store
    assert safe_text("=" + "x" * 40_000) == "'=" + "x" * 32_765  # Excel keeps 32,767


def test_same_run_same_bytes(planned):
    run, paths = planned
    data = workbook_bytes(run)
    assert workbook_bytes(run) == data
    core = zipfile.ZipFile(io.BytesIO(data)).read("docProps/core.xml").decode()
    assert "2000-01-01T00:00:00Z" in core
    transport = read_transport_table(paths.folder / "transport.csv")
    assert workbook_bytes(run, transport=transport) == (paths.folder / "plan.xlsx").read_bytes()
