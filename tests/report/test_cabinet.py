"""The cabinet report: its numbers are the result tables', names cannot inject markup, and
each opening's "why" adds up by hand."""

from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import TinyRun, areas_geojson, option, run_toml, square

import sufficiency
from sufficiency.report.assumptions import fy_label, run_assumptions
from sufficiency.report.cabinet import money, render_report
from sufficiency.report.why import why_openings

HYPERLINK = '=HYPERLINK("http://example.invalid","x")'
SCRIPT = "<script>alert(1)</script>"
SITE_NAME = HYPERLINK + SCRIPT
AREA_NAME = "@SUM(1)"


def csv_cell(text: str) -> str:
    """A CSV cell holding ``text`` exactly (quoted, quotes doubled)."""
    return '"' + text.replace('"', '""') + '"'


def write_run(root: Path) -> Path:
    """Three years of 12, 14 and 16 pupils; 5 existing places; one 10-place module to open.

    Site and area names are a script tag and spreadsheet formulas: all must come out inert.
    Costs: local £20k, independent £50k, transport £1k + £100 per km.
    """
    areas = areas_geojson({"A": square(400_000, 300_000)}).replace('"Area A"',
                                                                   json.dumps(AREA_NAME))
    return TinyRun(root).write(
        toml=run_toml(years=3, rate=0.035, transport_pupil=1_000, transport_km=100,
                      budget={2026: 300_000, 2027: 300_000}),
        areas=areas,
        sites=[f"S1,{csv_cell(SCRIPT)},A,405000,306000",
               f"S2,{csv_cell(SITE_NAME)},A,405000,304000"],
        demand=["A,ASD,primary,2026,12", "A,ASD,primary,2027,14", "A,ASD,primary,2028,16"],
        provision=[option("SP", "S1", existing=5, commissioned=2_000),
                   option("NEW", "S2", kind="resourced", module=10, max_modules=1,
                          capital=200_000, fixed=50_000, commissioned=2_000)])


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    """The run planned and written once: (run, output paths)."""
    root = tmp_path_factory.mktemp("cabinet")
    return sufficiency.plan(write_run(root), output_root=root / "project")


def table(page: str, table_id: str) -> list[list[str]]:
    """The text of every cell of the HTML table with ``table_id``, row by row."""
    body = re.search(rf'<table id="{table_id}">(.*?)</table>', page, re.S).group(1)
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [[html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
             for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)] for row in rows]


def pounds(text: str) -> float:
    """'£1,234' or '−£1,234' as a number."""
    sign = -1 if text.startswith("−") else 1
    return sign * float(text.lstrip("−").lstrip("£").replace(",", ""))


def test_report_numbers_equal_the_result_tables(planned):
    run, paths = planned
    page = (paths.folder / "report.html").read_text(encoding="utf-8")
    summary = json.loads((paths.folder / "summary.json").read_text())
    costs = pd.read_csv(paths.folder / "costs_by_year.csv")
    base = pd.read_csv(paths.folder / "baseline_costs_by_year.csv")
    plan = pd.read_csv(paths.folder / "plan.csv", keep_default_na=False)
    rows = table(page, "cost-by-year")
    header, body, total = rows[0], rows[1:-1], rows[-1]
    column = {name: k for k, name in enumerate(header)}
    assert [r[0] for r in body] == ["AY 2026/27", "AY 2027/28", "AY 2028/29"]
    for r, plan_row, base_row in zip(body, costs.itertuples(), base.itertuples(), strict=True):
        assert pounds(r[column["plan total"]]) == pytest.approx(plan_row.total, abs=0.5)
        assert pounds(r[column["do nothing"]]) == pytest.approx(base_row.total, abs=0.5)
        assert pounds(r[column["capital (FY)"]]) == pytest.approx(plan_row.capital, abs=0.5)
        parts = sum(pounds(r[column[c]]) for c in ("revenue", "transport", "capital (FY)"))
        assert parts == pytest.approx(plan_row.total, abs=1.5)
    independent = table(page, "independent-by-year")[1:-1]
    assert [float(r[1].replace(",", "")) for r in independent] == pytest.approx(
        costs["pupils_independent"].tolist(), abs=0.05)
    assert [float(r[2].replace(",", "")) for r in independent] == pytest.approx(
        base["pupils_independent"].tolist(), abs=0.05)
    assert pounds(total[column["saving, present value"]]) == pytest.approx(summary["savings"],
                                                                          abs=0.5)
    phasing = table(page, "phasing-table")[1:]
    assert [(r[1], int(r[6]), r[7], r[8], pounds(r[9])) for r in phasing] == [
        (p.option_id, p.places, f"AY {p.opening_year}/{(p.opening_year + 1) % 100:02d}",
         fy_label(p.capital_year), p.capital_cost) for p in plan.itertuples()]
    capital = {r[0]: pounds(r[1]) for r in table(page, "capital-by-year")[1:-1]}
    assert capital == {fy_label(y): float(plan.loc[plan["capital_year"] == y,
                                                    "capital_cost"].sum())
                       for y in (2026, 2027, 2028)}
    places = table(page, "places-by-kind")
    assert int(places[-1][-1]) == summary["plan"]["places_created"] == int(plan["places"].sum())
    assert f"{money(summary['savings'])}</b>" in page


def test_names_from_the_inputs_are_inert(planned):
    run, paths = planned
    page = (paths.folder / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    sites = [row[0] for row in table(page, "phasing-table")[1:]]
    assert sites == [f"{SITE_NAME} (S2)"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r'(src|href)="(https?:)?//', page)


def test_report_links_the_map_and_is_deterministic(planned):
    run, paths = planned
    page = (paths.folder / "report.html").read_text(encoding="utf-8")
    href = re.search(r'<a href="([^"]+)">open the map', page).group(1)
    assert href == "../../maps/tiny.html"
    assert (paths.folder / href).resolve() == paths.map_file.resolve()
    assert paths.map_file.is_file()
    assert render_report(run) == page


def test_report_states_how_shadow_prices_are_made(planned):
    run, paths = planned
    page = (paths.folder / "report.html").read_text(encoding="utf-8")
    assert "duals of the linear programme solved with every integer decision" in page
    budget = table(page, "shadow-budget")[1:]
    assert [r[0] for r in budget] == ["FY 2026-27", "FY 2027-28"]
    assert "<svg" in page and page.count("<svg") == 3
    # a plain plan leaves the budget re-plans to `sufficiency report`, and says so
    assert run.shadow.budget["value_per_million_replanned_pv"].isna().all()
    assert 'id="replans-not-run"' in page


def test_why_each_opening_by_hand(planned):
    """The new option opens 10 places in AY 2026/27 for £250k (module + fixed cost).

    Added pupil-years = its pupils (it has none doing nothing); cost per added pupil-year =
    £20k place + £2k × 30 new place-years / added + transport £1k + £100 × km + £250k /
    added; the alternative for every one of them is independent placement at £50k.
    """
    run, _ = planned
    why = why_openings(run.dataset, run.optimal, run.do_nothing)
    assert why["option_id"].tolist() == ["NEW"]
    row = why.iloc[0]
    placed = run.optimal.placements
    at_new = placed[placed["option_id"] == "NEW"]
    before = run.do_nothing.placements
    added = at_new["pupils"].sum() - before[before["option_id"] == "NEW"]["pupils"].sum()
    km = float(at_new["km"].iloc[0])
    assert row["added_pupil_years"] == pytest.approx(added)
    assert row["new_place_years"] == 30
    assert row["placement"] == 20_000
    assert row["commissioned"] == pytest.approx(2_000 * 30 / added, abs=0.01)
    assert row["transport"] == pytest.approx(1_000 + 100 * km, abs=0.01)
    assert row["capital_per_pupil_year"] == pytest.approx(250_000 / added, abs=0.01)
    assert row["alternative_per_pupil_year"] == 50_000
    assert row["alternative"] == "independent"
    assert row["saving"] == pytest.approx(row["saving_per_pupil_year"] * added, abs=0.5)


def test_assumptions_name_their_source(planned):
    run, _ = planned
    table_ = run_assumptions(run.dataset).set_index("item")
    assert table_.loc["independent placement fee", "value"] == 50_000
    assert table_.loc["independent placement fee", "source"] == (
        "run.toml: independent.cost_per_place")
    assert table_.loc["independent placement allowed", "source"].endswith("engine default")
    assert table_.loc["FY 2026-27", "value"] == 300_000
    assert table_.loc["FY 2028-29", "value"] == "no limit"


@pytest.mark.parametrize("case", ["nothing opens", "do nothing infeasible"])
def test_edge_runs_still_report(tmp_path, case):
    """A plan that opens nothing, and one whose do-nothing plan cannot place every pupil."""
    from sufficiency.pipeline import run_plan
    from sufficiency.report.excel import workbook_bytes

    if case == "nothing opens":
        toml = run_toml()
        provision = [option("SP", "S1", existing=20),
                     option("NEW", "S1", module=10, max_modules=1, capital=100_000)]
    else:
        toml = run_toml().replace("transport_cost_per_pupil = 0",
                                  "transport_cost_per_pupil = 0\navailable = false")
        provision = [option("SP", "S1", existing=5),
                     option("NEW", "S1", module=10, max_modules=1, capital=100_000)]
    run = run_plan(TinyRun(tmp_path).write(toml=toml, demand=["A,ASD,primary,2026,15"],
                                           provision=provision))
    page = render_report(run)
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(run)))
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True)}
    if case == "nothing opens":
        assert "The plan opens nothing" in page
        assert summary["new places"] == 0
    else:
        assert run.do_nothing is None
        assert "do nothing cannot place every pupil" in page
        assert summary["cost of doing nothing"] is None
        assert why_openings(run.dataset, run.optimal, None)["alternative"].tolist() == [
            "not available"]


def test_charts_are_well_formed_svg_with_escaped_labels():
    import xml.etree.ElementTree as ET

    from sufficiency.report import charts

    hostile = '<b onclick="x">&</b>'
    svgs = [charts.lines("t", ["2026/27", "2027/28"], {hostile: [1.0, 2.5]}, {hostile: "#000"},
                         str),
            charts.stacked_bars("t", ["2026/27"], [("P", {hostile: [3.0]})], {hostile: "#000"},
                                str, {"P": hostile})]
    for svg in svgs:
        root = ET.fromstring(str(svg))
        assert root.tag.endswith("svg")
        assert "<b" not in str(svg) and "&lt;b onclick=&#34;x&#34;&gt;&amp;&lt;/b&gt;" in str(svg)
