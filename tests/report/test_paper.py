"""The cabinet paper: Word and HTML from one content, figures equal summary.json's, analysis
sections only when the analyses are there, names inert; and the appendix's contents and
truncated long tables."""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from pathlib import Path

import docx
import pandas as pd
import pytest
from conftest import TinyRun, areas_geojson, option, run_toml, square

import sufficiency
from sufficiency.report import cabinet
from sufficiency.report.analysis_tables import RunAnalyses
from sufficiency.report.cabinet import money, places, render_report
from sufficiency.report.paper import (
    MAX_TABLES,
    SECTIONS,
    build_paper,
    render_paper_html,
    write_paper,
)
from sufficiency.report.paper_docx import ZIP_TIME, paper_docx_bytes
from sufficiency.report.static_map import plan_map_png

HYPERLINK = '=HYPERLINK("http://example.invalid","x")'
SCRIPT = "<script>alert(1)</script>"
SITE_NAME = HYPERLINK + SCRIPT
AREA_NAME = "$x^{2}$ <b>Area</b>"  # mathtext and markup: both must stay text
HEADINGS = [f"{k}. {title}" for k, title in enumerate(SECTIONS, start=1)]


def csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def write_run(root: Path) -> Path:
    """12, 18 and 22 pupils; 5 existing places; two options to open at hostile-named sites.

    Local £20k a year, independent £50k: both new options pay for themselves, so the plan
    opens at two sites and the appendix has two "why" rows.
    """
    areas = areas_geojson({"A": square(400_000, 300_000)}).replace('"Area A"',
                                                                   json.dumps(AREA_NAME))
    return TinyRun(root).write(
        toml=run_toml(years=3, rate=0.035, transport_pupil=1_000, transport_km=100,
                      budget={2026: 400_000, 2027: 400_000}),
        areas=areas,
        sites=[f"S1,{csv_cell(SCRIPT)},A,405000,306000",
               f"S2,{csv_cell(SITE_NAME)},A,405000,304000",
               "S3,Third site,A,403000,305000"],
        demand=["A,ASD,primary,2026,12", "A,ASD,primary,2027,18", "A,ASD,primary,2028,22"],
        provision=[option("SP", "S1", existing=5, commissioned=2_000),
                   option("NEW", "S2", kind="resourced", module=10, max_modules=1,
                          capital=200_000, fixed=50_000, commissioned=2_000),
                   option("SAT", "S3", kind="satellite", module=8, max_modules=1,
                          capital=100_000)])


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    """The run planned and written once through the API: (run, output paths)."""
    root = tmp_path_factory.mktemp("paper")
    return sufficiency.plan(write_run(root), output_root=root / "project")


@pytest.fixture(scope="module")
def word(planned):
    _, paths = planned
    return docx.Document(str(paths.folder / "cabinet.docx"))


@pytest.fixture(scope="module")
def page(planned) -> str:
    _, paths = planned
    return (paths.folder / "cabinet.html").read_text(encoding="utf-8")


def docx_text(document) -> str:
    """Every paragraph and table cell of a Word document, one per line."""
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        lines += [c.text for row in table.rows for c in row.cells]
    return "\n".join(lines)


def docx_tables(document) -> list[list[list[str]]]:
    return [[[c.text for c in row.cells] for row in t.rows] for t in document.tables]


def html_tables(text: str) -> list[list[list[str]]]:
    """Each table of an HTML page as rows of unescaped cell text (caption left out)."""
    out = []
    for body in re.findall(r"<table[^>]*>(.*?)</table>", text, re.S):
        rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
        out.append([[html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
                     for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r, re.S)]
                    for r in rows])
    return out


def html_text(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


def test_word_paper_has_the_cabinet_shape(planned, word):
    run, _ = planned
    assert len(run.optimal.plan) >= 2  # the fixture opens at two sites
    headings = [p.text for p in word.paragraphs if p.style.name == "Heading 1"]
    assert headings == HEADINGS
    assert 1 <= len(word.tables) <= MAX_TABLES
    words = len(docx_text(word).split())
    assert 300 < words <= 2_000
    assert len(word.inline_shapes) == 1  # the map


def test_key_figures_equal_summary_json(planned, word, page):
    """Total cost, saving against do nothing, places created and capital, as the paper
    formats them, in both the Word and the HTML paper."""
    _, paths = planned
    summary = json.loads((paths.folder / "summary.json").read_text())
    figures = {"cost": money(summary["objective"]),
               "do nothing": money(summary["baseline_objective"]),
               "saving": money(summary["savings"]),
               "places": places(summary["plan"]["places_created"]),
               "capital": money(summary["plan"]["capital_total"])}
    word_text, page_text = docx_text(word), html_text(page)
    assert f"costs {figures['cost']} (present value)" in word_text
    assert f"saving of {figures['saving']}" in word_text
    assert f"programme of {figures['places']} new specialist places" in word_text
    assert f"capital of {figures['capital']}" in word_text
    for value in figures.values():
        assert value in word_text and value in page_text
    phasing = docx_tables(word)[0]
    plan = pd.read_csv(paths.folder / "plan.csv", keep_default_na=False)
    assert phasing[-1][2] == figures["places"] and phasing[-1][5] == figures["capital"]
    assert [int(r[2]) for r in phasing[1:-1]] == plan["places"].tolist()


def test_html_and_word_say_the_same(word, page):
    assert re.findall(r"<h2>(.*?)</h2>", page) == [html.escape(h) for h in HEADINGS]
    assert html_tables(page) == docx_tables(word)
    for paragraph in word.paragraphs:
        if paragraph.style.name in ("Normal", "List Number", "List Bullet") and paragraph.text:
            assert paragraph.text in html_text(page).replace("  ", " ") or \
                " ".join(paragraph.text.split()) in " ".join(html_text(page).split())


def test_names_are_inert(planned, word, page):
    _, paths = planned
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert "img-src data:" in page and 'src="data:image/png;base64,' in page
    assert not re.search(r'(src|href)="(https?:)?//', page)
    site_cells = [row[0] for row in docx_tables(word)[0][1:-1]]
    assert "'" + SITE_NAME in site_cells  # formula-safe in the table
    assert [row[0] for row in html_tables(page)[0][1:-1]] == site_cells
    png = (paths.folder / "plan_map.png").read_bytes()
    assert png.startswith(b"\x89PNG") and b"Software" not in png and b"matplotlib" not in png


def test_outputs_are_deterministic(planned, tmp_path):
    run, paths = planned
    again = tmp_path / "again"
    again.mkdir()
    write_paper(run, again)
    for name in ("cabinet.docx", "cabinet.html", "plan_map.png"):
        assert (again / name).read_bytes() == (paths.folder / name).read_bytes(), name
    with zipfile.ZipFile(paths.folder / "cabinet.docx") as book:
        assert {info.date_time for info in book.infolist()} == {ZIP_TIME}
    core = docx.Document(str(paths.folder / "cabinet.docx")).core_properties
    assert core.created.year == 2000 and core.author == "sufficiency"


def test_map_draws_names_as_text(tmp_path):
    """A name with $…$ would be mathtext, and a malformed one an error: drawn as text."""
    from sufficiency.pipeline import run_plan

    areas = areas_geojson({"A": square(400_000, 300_000)}).replace('"Area A"',
                                                                   json.dumps("$\\frac{"))
    run = run_plan(TinyRun(tmp_path).write(
        areas=areas, sites=["S1,$x$ school,A,405000,306000"],
        demand=["A,ASD,primary,2026,15"],
        provision=[option("SP", "S1", existing=5, module=10, max_modules=1, capital=1_000)]))
    png = plan_map_png(run)
    assert png.startswith(b"\x89PNG") and png == plan_map_png(run)


# --- analyses: shown only when present (tables built by hand, in the commands' formats) ----


def hand_analyses(run, folder: Path) -> RunAnalyses:
    """Scenarios, alternatives and slippage tables with the columns their commands write."""
    cost = run.optimal.total_cost
    scenarios = {
        "scenarios.csv": pd.DataFrame({
            "scenario": ["high", "central", "low"], "weight": [0.25, 0.5, 0.25],
            "central": [False, True, False], "pupil_years": [60.0, 52.0, 44.0],
            "vs_demand_csv": [1.15, 1.0, 0.85], "demand": ["× 1.15", "demand.csv", "× 0.85"],
            "own_optimum": [cost * 1.2, cost, cost * 0.8], "own_mip_gap": [0.0] * 3,
            "do_nothing": [cost * 1.5, cost * 1.3, cost * 1.1]}),
        "regret.csv": pd.DataFrame({
            "plan": ["robust"] * 3, "scenario": ["central", "high", "low"],
            "weight": [0.5, 0.25, 0.25], "status": ["optimal"] * 3,
            "cost": [cost + 1_000, cost * 1.2 + 4_321, cost * 0.8 + 2_000],
            "best_known": [cost, cost * 1.2, cost * 0.8], "regret": [1_000.0, 4_321.0, 2_000.0],
            "capital": [250_000.0] * 3, "independent_pupil_years": [1.0, 2.0, 0.5]}),
        "comparison.csv": pd.DataFrame({
            "plan": ["robust"], "expected_cost": [cost + 2_000], "worst_cost": [cost * 1.3],
            "cvar": [cost * 1.3], "worst_regret": [4_321.0],
            "expected_independent_pupil_years": [1.0], "places_created": [18],
            "capital": [350_000.0], "openings": ["NEW@2026×1; SAT@2026×1"]})}
    alternatives = {"alternatives.csv": pd.DataFrame({
        "plan": ["optimal", "alternative 1"], "status": ["optimal", "optimal"],
        "total_cost": [cost, cost + 12_345], "extra_cost": [0.0, 12_345.0],
        "extra_percent": [0.0, 0.8], "sites": ["S2;S3", "S1;S3"],
        "sites_not_in_optimal": ["", "S1"], "sites_shared_with_optimal": [2, 1],
        "places_created": [18, 16], "independent_pupil_years": [1.0, 2.0],
        "capital": [350_000.0, 300_000.0], "openings": ["NEW@2026×1", "SP@2026×1"]})}
    slippage = {
        "slippage.csv": pd.DataFrame({
            "case": ["as planned", "slipped"], "total_cost": [cost, cost + 54_321],
            "sunk_capital": [0.0, 0.0], "independent_pupil_years": [1.0, 11.0],
            "openings": [2, 2], "places_created": [18, 18], "plan": ["", ""],
            "extra_cost": [float("nan"), 54_321.0],
            "extra_independent_pupil_years": [float("nan"), 10.0]}),
        "plans.csv": pd.DataFrame({"case": ["as planned", "slipped"]})}
    return RunAnalyses(scenarios=as_read(scenarios, folder),
                       alternatives=as_read(alternatives, folder),
                       slippage=as_read(slippage, folder), notes=("sweep left out: stale",))


def as_read(tables: dict[str, pd.DataFrame], folder: Path) -> dict[str, pd.DataFrame]:
    """The tables as `sufficiency report` reads them back from the analysis folder."""
    from sufficiency.report.analyses_in import read_analysis_table

    for name, table in tables.items():
        table.to_csv(folder / name, index=False)
    return {name: read_analysis_table(folder / name) for name in tables}


def test_analysis_sections_only_when_present(planned, tmp_path):
    run, _ = planned
    plain = build_paper(run)
    text = "\n".join(plain.texts())
    for words in ("Other sites.", "Low, central and high demand.", "Slippage.",
                  "Analyses left out."):
        assert words not in text
    assert "Do nothing." in text and "Demand above forecast." in text
    full = build_paper(run, hand_analyses(run, tmp_path))
    text = "\n".join(full.texts())
    assert len(full.tables()) == len(plain.tables()) + 2 <= MAX_TABLES
    assert full.words() <= 2_000
    assert "would cost £54,321 more (present value)" in text
    assert "10.0 more pupil-years independently" in text
    assert "robust plan costs £4,321 more than the best plan for it" in text
    assert "sweep left out: stale" in text
    scenarios = next(t for t in full.tables() if t.key == "scenarios")
    assert [r[0] for r in scenarios.rows] == ["low", "central", "high"]
    assert scenarios.rows[2][5] == "£4,321"
    alternatives = next(t for t in full.tables() if t.key == "alternatives")
    assert alternatives.rows == (("alternative 1", money(run.optimal.total_cost + 12_345),
                                  "£12,345 (0.8%)", "16", "£300,000", SCRIPT),)
    assert [s.title for s in full.sections] == HEADINGS
    page = render_paper_html(full)
    assert "<script" not in page.lower()
    document = docx.Document(io.BytesIO(paper_docx_bytes(full)))
    assert len(document.tables) == len(full.tables())


def test_real_slippage_tables_render(planned):
    """The slippage command's own tables (not hand-made) fit the Risks section."""
    from sufficiency.analyses.slippage import slippage_of

    run, _ = planned
    tables = slippage_of(run).tables()
    paper = build_paper(run, RunAnalyses(slippage=tables))
    risks = next(s for s in paper.sections if s.title.endswith("Risks"))
    extra = float(tables["slippage.csv"]["extra_cost"].iloc[1])
    assert any(getattr(b, "lead", "") == "Slippage." and money(extra) in b.text
               for b in risks.blocks)


# --- the technical appendix -------------------------------------------------------------


def test_appendix_has_contents_and_links_the_paper(planned):
    _, paths = planned
    report = (paths.folder / "report.html").read_text(encoding="utf-8")
    toc = re.search(r'<nav class="toc" id="toc">(.*?)</nav>', report, re.S).group(1)
    targets = re.findall(r'href="#([^"]+)"', toc)
    assert targets[:3] == ["summary", "money", "charts"] and "assumptions" in targets
    for target in targets:
        assert f'id="{target}"' in report
    assert '<a href="cabinet.html">' in report
    assert '<a href="report.html">' in (paths.folder / "cabinet.html").read_text()
    assert "@page { size: A4" in report


def test_appendix_shows_the_top_rows_of_long_tables(planned, monkeypatch):
    run, _ = planned
    monkeypatch.setattr(cabinet, "APPENDIX_ROWS", 1)
    report = render_report(run)
    why = html_tables(re.search(r'<table id="why-table">.*?</table>', report, re.S).group(0))[0]
    assert len(why) == 2  # header and one opening
    assert re.search(r"\d+ more in plan.xlsx, sheet Plan", report)
    shadow = run.shadow.places
    if int((shadow["value_pv"] > 0).sum()) > 1:
        assert re.search(r"\d+ more in plan.xlsx, sheet Shadow prices", report)


@pytest.mark.parametrize("case", ["nothing opens", "do nothing infeasible"])
def test_edge_runs_still_make_a_paper(tmp_path, case):
    """A plan that opens nothing, and one whose do-nothing plan cannot place every pupil."""
    from sufficiency.pipeline import run_plan

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
    paper = write_paper(run, tmp_path)
    assert [s.title for s in paper.sections] == HEADINGS
    text = "\n".join(paper.texts())
    document = docx.Document(str(tmp_path / "cabinet.docx"))
    assert [p.text for p in document.paragraphs if p.style.name == "Heading 1"] == HEADINGS
    if case == "nothing opens":
        assert "no new places are needed" in text
        assert [t.key for t in paper.tables()] == ["finance"]
    else:
        assert "doing nothing is not possible" in text
        assert "Not possible: the existing places cannot take every pupil" in text


def test_word_holds_text_xml_cannot():
    """A control character in a name (XML 1.0 cannot hold it) becomes U+FFFD, no error."""
    from sufficiency.report.paper import Paper, Paragraph, Section, Table

    paper = Paper("Bell\x07 run", "sub", (Section("s", "1. Purpose", (
        Paragraph("site\x0b name", lead="Lead\x01"),
        Table("t", "Table 1: x", ("Site",), (("a\x1fb",),), (False,))),),))
    document = docx.Document(io.BytesIO(paper_docx_bytes(paper)))
    assert "site\ufffd name" in docx_text(document)
    assert docx_tables(document) == [[["Site"], ["a\ufffdb"]]]


def test_workbook_dataset_is_cited_by_sheet(tmp_path):
    """inputs = "data.xlsx": the paper, appendix and calibration cite "data.xlsx, sheet '…'"
    (the calibration sheet, written by the template from calibration.csv, is read and
    compared), never a "data.xlsx/" folder."""
    from sufficiency.ingest.workbook_template import write_template

    toml = write_run(tmp_path)
    (tmp_path / "data" / "calibration.csv").write_text(
        "group,need,phase,pupils,year,source\nindependent,ASD,primary,3,2025,test count\n")
    write_template(tmp_path / "data.xlsx", tmp_path / "data")
    for csv in (tmp_path / "data").glob("*.csv"):
        csv.unlink()
    toml.write_text(toml.read_text().replace('inputs = "data"', 'inputs = "data.xlsx"'))
    _, paths = sufficiency.plan(toml, output_root=tmp_path / "project")
    text = html_text((paths.folder / "cabinet.html").read_text(encoding="utf-8"))
    assert "council's list (data.xlsx, sheet 'provision')" in text
    assert ("Data: the council's dataset workbook data.xlsx (sheet 'sites', sheet 'demand' "
            "(the forecast), sheet 'provision' (options, costs and timing); the planning-area "
            "boundaries its 'settings' sheet names)") in text
    appendix = html_text((paths.folder / "report.html").read_text(encoding="utf-8"))
    assert "data.xlsx/" not in text and "data.xlsx/" not in appendix
    calibration = pd.read_csv(paths.folder / "calibration.csv")
    assert set(calibration["source"]) == {"data.xlsx, sheet 'calibration' (test count)"}
    assert "data.xlsx, sheet 'calibration' (test count)" in appendix
