"""Reading input files: spreadsheet row numbers, null GeoJSON properties, "crs", memory.

Each bad input's message is in the catalogue (tests/catalogue/); these are the readers' own
rules, checked on the tables they return.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tracemalloc

import pytest
from conftest import TinyRun, areas_geojson, option, square

from sufficiency import forked
from sufficiency.errors import InputError
from sufficiency.preprocess import readers
from sufficiency.preprocess.checks import check_areas
from sufficiency.preprocess.dataset import load


def test_row_is_the_spreadsheet_row_after_a_multi_line_cell(tmp_path):
    """A quoted cell with line breaks is one row, as a spreadsheet shows it; blank rows count."""
    path = tmp_path / "sites.csv"
    path.write_text('site_id,name\nS1,"Site one\nmain building\nnorth wing"\n\nS2,Two\n')
    table = readers.read_csv_table(path)
    assert table[readers.ROW].tolist() == [2, 4]
    assert table["name"].tolist() == ["Site one\nmain building\nnorth wing", "Two"]
    assert table.attrs[readers.WARNINGS] == ["sites.csv: skipped 1 blank line(s) (row 3)"]


def test_wrong_cell_count_names_the_spreadsheet_row(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text('site_id,name\nS1,"One\ntwo"\nS2,Two,extra\n')
    with pytest.raises(InputError) as raised:
        readers.read_csv_table(path)
    assert str(raised.value.issues[0]) == ("sites.csv, row 3: 3 cells where the header has 2 — "
                                           "check for an unquoted comma or a missing cell")


def test_utf8_problem_names_the_file_line(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_bytes(b'site_id,name\nS1,"One\ntwo"\nS2,Caf\xe9\n')
    with pytest.raises(InputError) as raised:
        readers.read_csv_table(path)
    assert str(raised.value.issues[0]).startswith("sites.csv, line 4: the file is not UTF-8")


def test_cells_are_text_and_repeated_texts_are_shared(tmp_path):
    path = tmp_path / "demand.csv"
    path.write_text("area_id,year\n007,2026\n007,2026\n")
    table = readers.read_csv_table(path)
    assert table["area_id"].tolist() == ["007", "007"]
    assert table["year"].iloc[0] is table["year"].iloc[1]


def test_file_needing_too_much_memory_is_refused_unparsed(tmp_path, monkeypatch):
    path = tmp_path / "demand.csv"
    path.write_text("area_id,need,phase,year,pupils\n" + "A,ASD,primary,2026,5\n" * 1000)
    monkeypatch.setattr(readers, "MAX_READ_MEMORY", 100_000)
    monkeypatch.setattr(readers.csv, "reader", lambda *a, **k: pytest.fail("parsed"))
    with pytest.raises(InputError) as raised:
        readers.read_csv_table(path)
    text = str(raised.value.issues[0])
    assert text.startswith("demand.csv: reading it would need about 0.0 GB of memory")
    assert "(the limit is 0.0 GB)" in text


@pytest.mark.parametrize("kind", ["distinct short texts", "repeated codes"])
def test_memory_estimate_bounds_the_measured_peak(tmp_path, kind):
    """The estimate is an upper bound of what reading takes, and that is at most ~12x the file.

    Distinct short texts are the worst case per byte (a Python string each); planning tables,
    whose codes, years and ids repeat, take about 3x.
    """
    path = tmp_path / "travel.csv"
    if kind == "distinct short texts":
        rows = (f"{i},{i + 7},{i * 3 % 997},{i * 5 % 1009}\n" for i in range(20_000))
    else:
        rows = (f"E{i // 300:08d},S{i % 300:04d},{i % 90},{i % 60}\n" for i in range(20_000))
    path.write_text("area_id,site_id,minutes,km\n" + "".join(rows))
    size = path.stat().st_size
    estimate = readers.csv_memory_estimate(size, readers._scan(path, path.name))
    tracemalloc.start()
    try:
        table = readers.read_csv_table(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(table) == 20_000
    assert peak <= estimate
    assert peak <= (12 if kind == "distinct short texts" else 4) * size


def test_geo_memory_estimate_refuses_a_large_geojson(tiny, monkeypatch):
    tiny.write(demand=["A,ASD,primary,2026,5"], provision=[option("SP", "S1", existing=10)])
    monkeypatch.setattr(readers, "MAX_READ_MEMORY", 1_000)
    with pytest.raises(InputError, match="reading it would need about"):
        readers.read_geo_table(tiny.root / "data" / "areas.geojson")


def features(*properties: dict) -> str:
    """A GeoJSON of 10 km squares side by side, with the given properties."""
    doc = json.loads(areas_geojson({str(i): square(400_000 + 10_000 * i, 300_000)
                                    for i in range(len(properties))}))
    for feature, props in zip(doc["features"], properties, strict=True):
        feature["properties"] = props
    return json.dumps(doc)


def test_null_numeric_area_id_is_one_clear_problem(tmp_path):
    """Numbers with a null come from GDAL as floats: ids stay '1', the null is one issue."""
    path = tmp_path / "areas.geojson"
    path.write_text(features({"area_id": 1, "name": "One"}, {"area_id": None, "name": "Two"},
                             {"name": "Three"}))
    raw = readers.read_geo_table(path)
    assert raw["area_id"].tolist() == ["1", None, None]
    frame, cells = check_areas(raw, path)
    assert [str(issue) for issue in cells.issues] == [
        "areas.geojson, feature 2, column 'area_id': empty identifier — fill in the identifier",
        "areas.geojson, feature 3, column 'area_id': empty identifier — fill in the identifier"]


def test_null_or_blank_area_name_is_the_area_id(tiny):
    """Not 'nan' in transport.csv, the workbook and the map: the id is a name a planner knows."""
    areas = features({"area_id": "A", "name": None}, {"area_id": "B", "name": " "},
                     {"area_id": "C"}, {"area_id": "D", "name": "Dee"})
    dataset = load(tiny.write(demand=["A,ASD,primary,2026,5"],
                              provision=[option("SP", "S1", existing=10)], areas=areas))
    assert dataset.areas.set_index("area_id")["name"].to_dict() == {
        "A": "A", "B": "B", "C": "C", "D": "Dee"}
    assert not dataset.warnings


def test_crs_member_is_found_anywhere_in_the_document(tmp_path):
    doc = json.loads(areas_geojson({"A": square(400_000, 300_000)}))
    doc["features"][0]["properties"]["note"] = "x" * 10_000
    doc["crs"] = doc.pop("crs")  # now after 10 KB of features
    path = tmp_path / "areas.geojson"
    path.write_text(json.dumps(doc))
    assert readers.declared_crs(path)
    del doc["crs"]
    path.write_text(json.dumps(doc))
    assert not readers.declared_crs(path)


def test_areas_are_read_without_gdal_in_this_process(tmp_path, monkeypatch):
    """GDAL (pyogrio, 29 MB resident) reads the areas in a forked child: the planning
    process never loads it. Without fork it reads them itself, to the same frame."""
    toml = TinyRun(tmp_path).write(demand=["A,ASD,primary,2026,4"],
                                   provision=[option("SP", "S1", existing=5)])
    code = ("import sys; from sufficiency.pipeline import validate_run; "
            f"validate_run({str(toml)!r}); print('pyogrio' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.split()[-1] == "False"
    areas = next(toml.parent.rglob("areas.geojson"))
    in_child = readers.read_geo_table(areas)
    monkeypatch.setattr(forked, "can_fork", lambda: False)
    here = readers.read_geo_table(areas)
    assert in_child.to_wkt().equals(here.to_wkt())
    assert in_child.crs == here.crs
