"""The bad-input catalogue: one small generated dataset per mistake a planner can make.

Every case starts from the same valid tiny run (one 10 km square area "A", one site "S1",
one option "SP" with 10 places, 5 ASD primary pupils in 2026; see tests/conftest.py) and
breaks one thing: a keyword override of :meth:`TinyRun.write` (``files``) and/or a
``mutate(data_folder, toml_path)`` step for what needs bytes on disk. ``expect`` holds the
fragments the error must show: where (file, row or feature, column or key), what is wrong,
and the fix after the dash.

``WARNED`` are the harmless, unambiguous slips the engine fixes itself: it says so in a
warning and goes on.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from conftest import PROVISION_HEADER, areas_geojson, option, run_toml, square

Mutation = Callable[[Path, Path], None]


@dataclass(frozen=True)
class Case:
    """One bad input: how to make it and what the user must be told."""

    id: str
    expect: tuple[str, ...]
    files: dict = field(default_factory=dict)
    mutate: Mutation | None = None


def write_bytes(name: str, data: bytes) -> Mutation:
    """Replace a dataset file's bytes."""
    def mutate(folder: Path, toml: Path) -> None:
        (folder / name).write_bytes(data)
    return mutate


def edit_toml(old: str, new: str) -> Mutation:
    """Replace text in the run TOML."""
    def mutate(folder: Path, toml: Path) -> None:
        text = toml.read_text()
        assert old in text, old
        toml.write_text(text.replace(old, new))
    return mutate


def edit_areas(change: Callable[[dict], None]) -> Mutation:
    """Change the areas GeoJSON document in place."""
    def mutate(folder: Path, toml: Path) -> None:
        doc = json.loads((folder / "areas.geojson").read_text())
        change(doc)
        (folder / "areas.geojson").write_text(json.dumps(doc))
    return mutate


def _xlsx_named_csv(folder: Path, toml: Path) -> None:
    with zipfile.ZipFile(folder / "provision.csv", "w") as book:
        book.writestr("[Content_Types].xml", "<Types/>")
        book.writestr("xl/workbook.xml", "<workbook/>")


def _gpkg_that_is_csv(folder: Path, toml: Path) -> None:
    (folder / "areas.geojson").unlink()
    (folder / "areas.gpkg").write_text("area_id,name\nA,Area A\n")


def _sparse_gigabyte(folder: Path, toml: Path) -> None:
    """A 1 GB demand.csv that takes no disk space: it must be refused unread."""
    with (folder / "demand.csv").open("wb") as handle:
        handle.write(b"area_id,need,phase,year,pupils\n")
        handle.truncate(1024**3)


def _header_only(folder: Path, toml: Path) -> None:
    for name in ("sites.csv", "demand.csv", "provision.csv"):
        path = folder / name
        path.write_text(path.read_text().splitlines()[0] + "\n")


def _header_only_current(folder: Path, toml: Path) -> None:
    (folder / "current_placements.csv").write_text("area_id,need,phase,option_id,pupils\n")


def as_workbook(change: Callable[[object], None]) -> Mutation:
    """The dataset as data.xlsx (written by `sufficiency template --from`), then ``change(book)``.

    The CSVs are deleted and the run TOML names the workbook; areas.geojson stays beside it.
    """
    def mutate(folder: Path, toml: Path) -> None:
        import openpyxl

        from sufficiency.ingest.workbook_template import write_template

        book_path = folder.parent / "data.xlsx"
        write_template(book_path, folder)
        for csv in folder.glob("*.csv"):
            csv.unlink()
        toml.write_text(toml.read_text().replace('inputs = "data"', 'inputs = "data.xlsx"'))
        book = openpyxl.load_workbook(book_path)
        change(book)
        book.save(book_path)
    return mutate


def _set_cell(sheet: str, cell: str, value: object) -> Callable[[object], None]:
    """A workbook change: one cell of one sheet (openpyxl saves a formula without a value)."""
    def change(book) -> None:
        book[sheet][cell] = value
    return change


def _null_area_id(doc: dict) -> None:
    doc["features"][0]["properties"]["area_id"] = None


def _null_area_name(doc: dict) -> None:
    doc["features"][0]["properties"]["name"] = None


def _crs_after_the_features(doc: dict) -> None:
    """The "crs" member last, after 8 KB of features (it used to be looked for in 4 KB)."""
    doc["features"][0]["properties"]["note"] = "x" * 8192
    doc["crs"] = doc.pop("crs")


def _no_features(doc: dict) -> None:
    doc["features"] = []


def _null_geometry(doc: dict) -> None:
    doc["features"][0]["geometry"] = None


def _point_geometry(doc: dict) -> None:
    doc["features"][0]["geometry"] = {"type": "Point", "coordinates": [405000, 305000]}


def _half_a_demand_point(doc: dict) -> None:
    doc["features"][0]["properties"].update(demand_easting=405000, demand_northing=None)


def _demand_point_in_degrees(doc: dict) -> None:
    doc["features"][0]["properties"].update(demand_easting=-1.5, demand_northing=52.3)


def _inputs_through_link(link: str, target: Callable[[Path], Path], inputs: str) -> Mutation:
    """Add a symbolic link ``link`` → ``target(run folder)`` beside the run TOML, and point
    ``inputs`` at ``inputs``. The run's project folder is the run folder's parent."""
    def mutate(folder: Path, toml: Path) -> None:
        (toml.parent / link).symlink_to(target(toml.parent))
        edit_toml('inputs = "data"', f'inputs = "{inputs}"')(folder, toml)
    return mutate


DEMAND_HEADER = "area_id,need,phase,year,pupils\n"
BOWTIE = [[400000, 300000], [410000, 310000], [410000, 300000], [400000, 310000],
          [400000, 300000]]
DEGREES_RING = [[-1.6, 52.2], [-1.5, 52.2], [-1.5, 52.3], [-1.6, 52.3], [-1.6, 52.2]]
UNCLOSED_RING = square(400000, 300000)[:-1]
WGS_SITES = "site_id,name,area_id,lat,lon"
CALAIS_BNG = (671_000, 124_000)  # Calais in EPSG:27700 metres: in the old GB rectangle
NO_INDEPENDENT = run_toml().replace("transport_cost_per_pupil = 0",
                                    "transport_cost_per_pupil = 0\navailable = false")

CASES: list[Case] = [
    # --- what the file is: encoding, format, size -----------------------------------------
    Case("utf16-csv", ("demand.csv: this is not CSV text", "UTF-16", "save it as 'CSV UTF-8"),
         mutate=write_bytes("demand.csv", (DEMAND_HEADER + "A,ASD,primary,2026,5\n")
                            .encode("utf-16"))),
    Case("windows-1252-csv", ("sites.csv, line 2: the file is not UTF-8 text",
                              "save it as 'CSV UTF-8"),
         mutate=write_bytes("sites.csv", "site_id,name,area_id,easting,northing\n"
                            "S1,Café £,A,405000,306000\n".encode("cp1252"))),
    Case("nul-bytes", ("demand.csv, line 2: the file contains NUL bytes", "CSV UTF-8"),
         mutate=write_bytes("demand.csv", DEMAND_HEADER.encode() + b"A,ASD,primary,2026,5\x00\n")),
    Case("xlsx-renamed-csv", ("provision.csv: this is not CSV text", "Excel workbook",
                              "save it as 'CSV UTF-8"), mutate=_xlsx_named_csv),
    Case("json-renamed-csv", ("demand.csv: this is not CSV text", "JSON"),
         mutate=write_bytes("demand.csv", b'{"area_id": "A"}\n')),
    Case("html-page-as-csv", ("sites.csv: this is not CSV text", "HTML"),
         mutate=write_bytes("sites.csv", b"<!DOCTYPE html><html><body>Sign in</body></html>")),
    Case("csv-renamed-geojson", ("areas.geojson: this is not a .geojson file", "CSV",
                                 "export the areas again as GeoJSON"),
         mutate=write_bytes("areas.geojson", b"area_id,name\nA,Area A\n")),
    Case("csv-renamed-gpkg", ("areas.gpkg: this is not a .gpkg file", "CSV"),
         mutate=_gpkg_that_is_csv),
    Case("broken-json", ("areas.geojson, line 1: not valid JSON", "fix the syntax"),
         mutate=write_bytes("areas.geojson", b'{"type": "FeatureCollection", "features": [}')),
    Case("semicolon-separated", ("demand.csv, row 1: the columns are separated by ';'",
                                 "CSV UTF-8 (comma delimited)"),
         mutate=write_bytes("demand.csv", b"area_id;need;phase;year;pupils\n"
                                          b"A;ASD;primary;2026;5\n")),
    Case("file-of-a-gigabyte", ("demand.csv: the file is 1,074 MB, far beyond any planning "
                                "dataset", "check it is the right file"),
         mutate=_sparse_gigabyte),
    Case("zero-byte-file", ("demand.csv: the file is empty", "add a header line"),
         mutate=write_bytes("demand.csv", b"")),
    Case("empty-dataset", ("sites.csv: has no data rows", "demand.csv: has no data rows",
                           "provision.csv: has no data rows", "add at least one row"),
         mutate=_header_only),
    Case("areas-without-features", ("areas.geojson: the file has no features",
                                    "add the planning areas"), mutate=edit_areas(_no_features)),
    Case("current-placements-header-only", ("current_placements.csv: has no data rows",
                                            "or delete the file"),
         mutate=_header_only_current),
    Case("missing-file", ("demand.csv: required file is missing", "add demand.csv"),
         mutate=lambda folder, toml: (folder / "demand.csv").unlink()),
    # --- header and row shape -------------------------------------------------------------
    Case("column-name-in-wrong-case", ("demand.csv, column 'pupils': required column is missing",
                                       "rename column 'Pupils' to 'pupils'"),
         mutate=write_bytes("demand.csv", b"area_id,need,phase,year,Pupils\n"
                                          b"A,ASD,primary,2026,5\n")),
    Case("missing-column", ("demand.csv, column 'pupils': required column is missing",
                            "columns found: area_id, need, phase, year"),
         mutate=write_bytes("demand.csv", b"area_id,need,phase,year\nA,ASD,primary,2026\n")),
    Case("repeated-header", ("demand.csv, row 1, column 'year': column appears more than once",
                             "delete or rename"),
         mutate=write_bytes("demand.csv", b"area_id,need,phase,year,year,pupils\n"
                                          b"A,ASD,primary,2026,2026,5\n")),
    Case("row-with-extra-cell", ("demand.csv, row 2: 6 cells where the header has 5",
                                 "unquoted comma"),
         files={"demand": ["A,ASD,primary,2026,5,extra"]}),
    Case("error-after-a-multi-line-cell", ("sites.csv, row 3, column 'easting'",
                                           "'east' is not a number"),
         files={"sites": ['S1,"Site one\n(main building)",A,405000,306000',
                          "S2,Site two,A,east,306000"]}),
    # --- numbers --------------------------------------------------------------------------
    Case("thousands-separator", ("provision.csv, row 2, column 'capital_cost_per_module'",
                                 "'800,000' is not a number", "remove thousands separators"),
         files={"provision": [option("NEW", "S1", module=8, max_modules=1, capital=1)
                              .replace(",8,1,1,", ',8,1,"800,000",')]}),
    Case("currency-symbol", ("demand.csv, row 2, column 'pupils'", "'£5' is not a number",
                             "currency symbols"), files={"demand": ["A,ASD,primary,2026,£5"]}),
    Case("spreadsheet-error-value", ("demand.csv, row 2, column 'pupils'", "'#REF!'",
                                     "fix the formula in the source sheet"),
         files={"demand": ["A,ASD,primary,2026,#REF!"]}),
    Case("empty-number", ("demand.csv, row 2, column 'pupils': empty cell", "enter a number"),
         files={"demand": ["A,ASD,primary,2026,"]}),
    Case("negative-module-count", ("provision.csv, row 2, column 'max_modules'",
                                   "-1 is below the minimum 0", "at least 0"),
         files={"provision": [option("SP", "S1", existing=10, module=8, max_modules=-1)]}),
    Case("nan-module-places", ("provision.csv, row 2, column 'module_places'",
                               "'nan' is not a finite number", "NaN and infinity"),
         files={"provision": [option("SP", "S1", existing=10).replace(",10,0,0,", ",10,nan,0,")]}),
    Case("infinite-module-count", ("provision.csv, row 2, column 'max_modules'",
                                   "'inf' is not a finite number"),
         files={"provision": [option("SP", "S1", existing=10).replace(",10,0,0,", ",10,8,inf,")]}),
    Case("fractional-module-count", ("provision.csv, row 2, column 'max_modules'",
                                     "'1.5' is not a whole number", "enter a whole number"),
         files={"provision": [option("SP", "S1", existing=10).replace(",10,0,0,", ",10,8,1.5,")]}),
    Case("implausible-earliest-year", ("provision.csv, row 2, column 'earliest_year'",
                                       "26 is below the minimum 1990", "four digits"),
         files={"provision": [option("SP", "S1", existing=10, earliest=26)]}),
    Case("academic-year-label", ("demand.csv, row 2, column 'year'", "'2026/27' is not a number",
                                 "e.g. 2026"), files={"demand": ["A,ASD,primary,2026/27,5"]}),
    # --- identifiers ----------------------------------------------------------------------
    Case("duplicate-id", ("sites.csv, row 3, column 'site_id'", "'S1' duplicate (row 2)",
                          "give every row its own identifier"),
         files={"sites": ["S1,One,A,405000,306000", "S1,Two,A,405000,307000"]}),
    Case("ids-differing-only-by-case", ("provision.csv, row 3, column 'option_id'",
                                        "'sp' differs only by case from 'SP' (row 2)"),
         files={"provision": [option("SP", "S1", existing=10), option("sp", "S1", existing=5)]}),
    Case("formula-like-id", ("provision.csv, row 2, column 'option_id'", "starts with '='",
                             "start the identifier with a letter or digit"),
         files={"provision": [option("=HYPERLINK(1)", "S1", existing=10)]}),
    Case("empty-id", ("demand.csv, row 2, column 'area_id': empty identifier", "fill in"),
         files={"demand": [",ASD,primary,2026,5"]}),
    Case("null-area-id", ("areas.geojson, feature 1, column 'area_id': empty identifier",
                          "fill in the identifier"), mutate=edit_areas(_null_area_id)),
    Case("reserved-id", ("provision.csv, row 2, column 'option_id'", "reserved",
                         "rename the option"),
         files={"provision": [option("Independent", "S1", existing=10)]}),
    # --- codes ----------------------------------------------------------------------------
    Case("unknown-need-code", ("demand.csv, row 2, column 'need': unknown code 'ASC'",
                               "autism is SEN2 code ASD"),
         files={"demand": ["A,ASC,primary,2026,5"]}),
    Case("misspelt-phase", ("demand.csv, row 2, column 'phase': unknown code 'post-16'",
                            "did you mean 'post16'"), files={"demand": ["A,ASD,post-16,2026,5"]}),
    Case("unknown-kind", ("provision.csv, row 2, column 'kind': unknown code 'academy'",
                          "use one of special"),
         files={"provision": [option("SP", "S1", kind="academy", existing=10)]}),
    Case("needs-list-with-unknown-code", ("provision.csv, row 2, column 'needs'",
                                          "unknown code(s) NSA", "school-census code"),
         files={"provision": [option("SP", "S1", needs="ASD;NSA", existing=10)]}),
    Case("star-mixed-with-codes", ("provision.csv, row 2, column 'phases'",
                                   "'*' (all) is combined with codes", "write '*' alone"),
         files={"provision": [option("SP", "S1", phases="*;primary", existing=10)]}),
    Case("empty-needs-list", ("provision.csv, row 2, column 'needs': empty list",
                              "';'-separated codes"),
         files={"provision": [option("SP", "S1", needs=";", existing=10)]}),
    # --- years and the horizon ------------------------------------------------------------
    Case("demand-year-outside-horizon", ("demand.csv, row 2, column 'year'",
                                         "2031 is outside the horizon 2026..2026",
                                         "change start_year / horizon_years"),
         files={"demand": ["A,ASD,primary,2031,5"]}),
    Case("repeated-demand-row", ("demand.csv, row 3",
                                 "repeats an (area_id, need, phase, year)",
                                 "add the pupils together"),
         files={"demand": ["A,ASD,primary,2026,5", "A,asd,primary,2026,2"]}),
    Case("lead-time-longer-than-horizon", ("provision.csv, row 2, column 'lead_time_years'",
                                           "first possible opening year 2029",
                                           "shorten the lead time"),
         files={"provision": [option("NEW", "S1", module=10, max_modules=1, lead=3)]}),
    Case("budget-year-outside-horizon", ("run.toml, key 'capital_budget.2040'",
                                         "outside the horizon", "use years 2026..2026"),
         files={"toml": run_toml(budget={2040: 1_000_000})}),
    Case("budget-year-written-as-label", ("run.toml, key 'capital_budget.2026-27'",
                                          "is not a year", "e.g. 2026 for FY 2026-27"),
         files={"toml": run_toml().replace("[capital_budget]\n",
                                           '[capital_budget]\n"2026-27" = 1_000_000\n')}),
    Case("budget-year-with-a-leading-zero", ("run.toml, key 'capital_budget.02026'",
                                             "has leading zeros", "write 2026"),
         files={"toml": run_toml(budget={2026: 1_000_000}).replace(
             "[capital_budget]\n", '[capital_budget]\n"02026" = 0\n')}),
    Case("budget-year-with-a-superscript", ("run.toml, key 'capital_budget.2026²'",
                                            "is not a year", "e.g. 2026 for FY 2026-27"),
         files={"toml": run_toml().replace("[capital_budget]\n",
                                           '[capital_budget]\n"2026²" = 1_000_000\n')}),
    Case("budget-beyond-the-sanity-limit", ("run.toml, key 'capital_budget.2026'",
                                            "1e+11 is out of range", "between 0 and 1e+10"),
         files={"toml": run_toml(budget={2026: 1e11})}),
    # --- [finance]: the high-needs allocation -------------------------------------------
    Case("finance-year-outside-horizon",
         ("run.toml, key 'finance.high_needs_allocation.2040'",
          "financial year 2040 is outside the horizon", "use years 2026..2027"),
         files={"toml": run_toml(extra="\n[finance.high_needs_allocation]\n2040 = 1_000\n")}),
    Case("finance-year-written-as-label",
         ("run.toml, key 'finance.high_needs_allocation.2026-27'", "is not a year",
          "e.g. 2026 for FY 2026-27"),
         files={"toml": run_toml(
             extra='\n[finance.high_needs_allocation]\n"2026-27" = 1_000\n')}),
    Case("finance-negative-allocation",
         ("run.toml, key 'finance.high_needs_allocation.2026'", "-5 is out of range",
          "between 0 and 1e+10"),
         files={"toml": run_toml(extra="\n[finance.high_needs_allocation]\n2026 = -5\n")}),
    Case("finance-beyond-the-sanity-limit",
         ("run.toml, key 'finance.other_high_needs_spend.2026'", "1e+11 is out of range",
          "between 0 and 1e+10"),
         files={"toml": run_toml(extra="\n[finance.high_needs_allocation]\n2026 = 1\n"
                                       "[finance.other_high_needs_spend]\n2026 = 1e11\n")}),
    Case("finance-other-spend-without-allocation",
         ("run.toml, key 'finance.other_high_needs_spend.2027'",
          "no high-needs allocation is given for this year",
          "add 2027 = <£> under [finance.high_needs_allocation]"),
         files={"toml": run_toml(extra="\n[finance.high_needs_allocation]\n2026 = 1\n"
                                       "[finance.other_high_needs_spend]\n2027 = 1\n")}),
    Case("finance-allocation-missing",
         ("run.toml, key 'finance.high_needs_allocation'", "required section is missing",
          "add [finance.high_needs_allocation]"),
         files={"toml": run_toml(extra="\n[finance]\ndeficit_brought_forward = 1\n")}),
    Case("finance-unknown-key",
         ("run.toml, key 'finance.allocation'", "unknown key"),
         files={"toml": run_toml(extra="\n[finance]\nallocation = 1\n")}),
    # --- delivery limits ------------------------------------------------------------------
    Case("delivery-limit-zero", ("run.toml, key 'delivery.max_new_schemes_per_year'",
                                 "0 is out of range", "between 1 and 10000"),
         files={"toml": run_toml(extra="\n[delivery]\nmax_new_schemes_per_year = 0\n")}),
    Case("delivery-limit-not-whole", ("run.toml, key 'delivery.max_new_modules_per_site'",
                                      "2.5 is not a whole number", "without quotes"),
         files={"toml": run_toml(extra="\n[delivery]\nmax_new_modules_per_site = 2.5\n")}),
    Case("delivery-limit-unknown-kind",
         ("run.toml, key 'delivery.max_new_schemes_per_year_by_kind.unit'", "unknown kind",
          "use one of special, resourced"),
         files={"toml": run_toml(extra="\n[delivery.max_new_schemes_per_year_by_kind]\n"
                                       "unit = 2\n")}),
    # --- geography ------------------------------------------------------------------------
    Case("lat-lon-swapped", ("sites.csv, row 2, column 'lat'", "lat and lon look swapped"),
         files={"sites_header": WGS_SITES, "sites": ["S1,One,A,-1.5,52.3"]}),
    Case("site-outside-great-britain", ("sites.csv, row 2, column 'lat'",
                                        "(lat 48.85, lon 2.35) is outside Great Britain"),
         files={"sites_header": WGS_SITES, "sites": ["S1,Paris,A,48.85,2.35"]}),
    Case("site-in-dublin", ("sites.csv, row 2, column 'lat'",
                            "(lat 53.35, lon -6.26) is outside Great Britain", "check the value"),
         files={"sites_header": WGS_SITES, "sites": ["S1,Dublin,A,53.35,-6.26"]}),
    Case("area-in-calais", ("areas.geojson, feature 1, column 'geometry'",
                            "the area lies outside Great Britain", "check the CRS"),
         files={"areas": areas_geojson({"A": square(*CALAIS_BNG)})}),
    Case("site-easting-northing-in-degrees", ("sites.csv, row 2, column 'easting'",
                                              "is not a British National Grid point",
                                              "look like degrees"),
         files={"sites": ["S1,One,A,-1.5,52.3"]}),
    Case("easting-northing-with-wgs84-crs", ("areas.geojson, column 'geometry'",
                                             "declares the geographic CRS",
                                             "declare EPSG:27700"),
         files={"areas": areas_geojson({"A": square(400000, 300000)}, crs="OGC:1.3:CRS84")}),
    Case("degrees-with-national-grid-crs", ("areas.geojson, column 'geometry'",
                                            "coordinates look like degrees",
                                            "declare EPSG:4326"),
         files={"areas": areas_geojson({"A": DEGREES_RING})}),
    Case("metres-without-crs", ("areas.geojson, column 'geometry'", "declares no CRS",
                                "urn:ogc:def:crs:EPSG::27700"),
         files={"areas": areas_geojson({"A": square(400000, 300000)}, crs=None)}),
    Case("self-intersecting-polygon", ("areas.geojson, feature 1, column 'geometry'",
                                       "invalid polygon (Self-intersection", "Fix geometries"),
         files={"areas": areas_geojson({"A": BOWTIE})}),
    Case("unclosed-polygon-ring", ("areas.geojson, feature 1, column 'geometry'",
                                   "ring is not closed", "close every ring"),
         files={"areas": areas_geojson({"A": UNCLOSED_RING})}),
    Case("empty-geometry", ("areas.geojson, feature 1, column 'geometry': empty geometry",
                            "draw the area's boundary"), mutate=edit_areas(_null_geometry)),
    Case("point-instead-of-polygon", ("areas.geojson, feature 1, column 'geometry'",
                                      "Point is not a polygon"),
         mutate=edit_areas(_point_geometry)),
    Case("demand-point-in-degrees", ("areas.geojson, feature 1, column 'demand_easting'",
                                     "not a British National Grid point", "degrees"),
         mutate=edit_areas(_demand_point_in_degrees)),
    # --- references between files ---------------------------------------------------------
    Case("site-in-unknown-area", ("sites.csv, row 2, column 'area_id'", "'Q' is not in areas",
                                  "add it to areas or correct the identifier"),
         files={"sites": ["S1,One,Q,405000,306000"]}),
    Case("reference-differing-by-case", ("demand.csv, row 2, column 'area_id'",
                                         "'a' is not in areas", "did you mean 'A'?"),
         files={"demand": ["a,ASD,primary,2026,5"]}),
    Case("option-at-unknown-site", ("provision.csv, row 2, column 'site_id'",
                                    "'S2' is not in sites.csv", "add it to sites.csv"),
         files={"provision": [option("SP", "S2", existing=10)]}),
    Case("reference-with-a-typo", ("provision.csv, row 2, column 'site_id'",
                                   "'SITE_ONF' is not in sites.csv", "did you mean 'SITE_ONE'?"),
         files={"sites": ["SITE_ONE,One,A,405000,306000"],
                "provision": [option("SP", "SITE_ONF", existing=10)]}),
    Case("travel-pair-missing", ("travel.csv", "A → S2"),
         files={"sites": ["S1,One,A,405000,306000", "S2,Two,A,405000,307000"],
                "provision": [option("SP", "S1", existing=10), option("SP2", "S2", existing=5)],
                "travel": ["A,S1,10,5"]}),
    Case("no-option-and-no-independent", ("demand.csv", "no option serves SEMH primary pupils",
                                          "independent placement is switched off"),
         files={"toml": NO_INDEPENDENT, "demand": ["A,SEMH,primary,2026,5"],
                "provision": [option("SP", "S1", needs="ASD", existing=10)]}),
    # --- the run file ---------------------------------------------------------------------
    Case("misspelt-key", ("run.toml, key 'discount_rat': unknown key",
                          "did you mean 'discount_rate'?"),
         files={"toml": run_toml().replace("discount_rate", "discount_rat")}),
    Case("misspelt-nested-key", ("run.toml, key 'solver.time_limit': unknown key",
                                 "did you mean 'solver.time_limit_s'?"),
         mutate=edit_toml("time_limit_s", "time_limit")),
    Case("misspelt-section", ("run.toml, key 'capital_budgets': unknown key",
                              "did you mean 'capital_budget'?"),
         mutate=edit_toml("[capital_budget]", "[capital_budgets]")),
    Case("quoted-number", ("run.toml, key 'start_year'", "'2026' is not a whole number",
                           "without quotes"), mutate=edit_toml("start_year = 2026",
                                                               'start_year = "2026"')),
    Case("inputs-escape-project-folder", ("run.toml, key 'inputs'",
                                          "leads outside the project folder",
                                          "keep the dataset inside the project folder"),
         mutate=edit_toml('inputs = "data"', 'inputs = "../../etc"')),
    Case("inputs-absolute-outside-project", ("run.toml, key 'inputs'", "'/etc' leads outside "
                                             "the project folder", "keep the dataset inside"),
         mutate=edit_toml('inputs = "data"', 'inputs = "/etc"')),
    Case("inputs-nul-byte", ("run.toml, key 'inputs'", "is not a usable path: it contains a "
                             "NUL byte", "plain path"),
         mutate=edit_toml('inputs = "data"', 'inputs = "da\\u0000ta"')),
    Case("inputs-symlink-escape", ("run.toml, key 'inputs'", "'up' leads outside the project "
                                   "folder", "symbolic links are followed before checking"),
         mutate=_inputs_through_link("up", lambda run: run.parent.parent, "up")),
    Case("inputs-dotdot-after-symlink", ("run.toml, key 'inputs'", "'deep/../data' leads "
                                         "outside the project folder"),
         mutate=_inputs_through_link("deep", lambda run: run.parent.parent, "deep/../data")),
    Case("inputs-symlink-loop", ("run.toml, key 'inputs'", "is not a usable path: it leads "
                                 "into a loop of symbolic links"),
         mutate=_inputs_through_link("loop", lambda run: run / "loop", "loop/data")),
    Case("run-file-not-toml", ("run.toml: not valid TOML", "fix the syntax"),
         mutate=edit_toml("[solver]", "[solver")),
    Case("absurd-cost-per-place", ("run.toml, key 'independent.cost_per_place'",
                                   "1e+308 is out of range", "between 0 and 1e+10"),
         files={"toml": run_toml(independent=1e308)}),
    Case("run-name-ending-in-a-newline", ("run.toml, key 'name'", "is not a usable run name",
                                          "use letters, digits"),
         mutate=edit_toml('name = "tiny"', 'name = "tiny\\n"')),
    # --- capital over the asset's life, capital as spent ([appraisal], [capital]) ---------
    Case("appraisal-unknown-method", ("run.toml, key 'appraisal.method'",
                                      "'straight_line' is not one of none, annuity",
                                      'write method = "annuity"'),
         files={"toml": run_toml(extra='[appraisal]\nmethod = "straight_line"\n')}),
    Case("appraisal-without-method", ("run.toml, key 'appraisal.method'",
                                      "required key is missing", 'add method = "annuity"'),
         files={"toml": run_toml(extra="[appraisal.asset_life_years]\nspecial = 40\n")}),
    Case("asset-life-zero", ("run.toml, key 'appraisal.asset_life_years.special'",
                             "0 is out of range", "between 1 and 200"),
         files={"toml": run_toml(extra='[appraisal]\nmethod = "annuity"\n'
                                       "[appraisal.asset_life_years]\nspecial = 0\n")}),
    Case("asset-life-not-whole", ("run.toml, key 'appraisal.asset_life_years.resourced'",
                                  "20.5 is not a whole number"),
         files={"toml": run_toml(extra='[appraisal]\nmethod = "annuity"\n'
                                       "[appraisal.asset_life_years]\nresourced = 20.5\n")}),
    Case("asset-life-unknown-kind", ("run.toml, key 'appraisal.asset_life_years.academy'",
                                     "unknown key", "allowed keys here"),
         files={"toml": run_toml(extra='[appraisal]\nmethod = "annuity"\n'
                                       "[appraisal.asset_life_years]\nacademy = 60\n")}),
    Case("spend-profile-not-adding-to-one", ("run.toml, key 'capital.spend_profile.special'",
                                             "the shares add up to 0.9, not 1",
                                             "shares ≥ 0 adding up to 1"),
         files={"toml": run_toml(extra="[capital]\nspend_profile.special = [0.5, 0.4]\n")}),
    Case("spend-profile-negative-share", ("run.toml, key 'capital.spend_profile.special'",
                                          "negative or non-finite share"),
         files={"toml": run_toml(extra="[capital]\nspend_profile.special = [1.5, -0.5]\n")}),
    Case("spend-profile-unknown-kind", ("run.toml, key 'capital.spend_profile.academy'",
                                        "unknown key"),
         files={"toml": run_toml(extra="[capital]\nspend_profile.academy = [1.0]\n")}),
    Case("spend-profile-longer-than-lead", ("run.toml, key 'capital.spend_profile.new_special'",
                                            "2 shares, but option 'NEW'",
                                            "lead_time_years 1",
                                            "give at most 1 share(s) for new_special"),
         files={"toml": run_toml(years=2, extra="[capital]\n"
                                          "spend_profile.new_special = [0.5, 0.5]\n"),
                "provision": [option("SP", "S1", existing=10),
                              option("NEW", "S1", kind="new_special", module=10,
                                     max_modules=1, capital=100_000, lead=1)]}),
    Case("construction-inflation-out-of-range", ("run.toml, key 'capital.construction_inflation'",
                                                 "2 is out of range", "between -0.5 and 1"),
         files={"toml": run_toml(extra="[capital]\nconstruction_inflation = 2\n")}),
    # --- a dataset workbook (inputs = "data.xlsx"): sheet, row and column named -------------
    Case("workbook-missing-sheet", ("data.xlsx: sheet 'provision' is missing",
                                    "add a sheet named 'provision'"),
         mutate=as_workbook(lambda book: book.remove(book["provision"]))),
    Case("workbook-text-in-a-number-cell", ("data.xlsx, sheet 'demand', row 2, column 'pupils'",
                                            "'five' is not a number", "enter a plain number"),
         mutate=as_workbook(_set_cell("demand", "E2", "five"))),
    Case("workbook-formula-without-cached-value",
         ("data.xlsx, sheet 'demand', row 2, column 'pupils'", "a formula with no saved value",
          "open and save it in Excel"),
         mutate=as_workbook(_set_cell("demand", "E2", "=2+3"))),
]

# Harmless, unambiguous slips: fixed, said in a warning, and the run goes on.
WARNED: list[Case] = [
    Case("spaces-around-ids", ("demand.csv, column 'area_id': removed spaces around 1 "
                               "identifier(s) (row 2)",),
         files={"demand": ["A  ,ASD,primary,2026,5"],
                "provision": [option(" SP", "S1", existing=10)]}),
    Case("area-with-half-a-demand-point", ("areas.geojson, feature 1: only one of "
                                           "demand_easting / demand_northing",),
         mutate=edit_areas(_half_a_demand_point)),
    Case("exclusive-group-of-one", ("provision.csv, row 2, column exclusive_group: group "
                                    "'solo' has only this option",),
         mutate=write_bytes("provision.csv", (PROVISION_HEADER + ",exclusive_group\n"
                                              + option("SP", "S1", existing=10)
                                              + ",solo\n").encode())),
    Case("blank-lines", ("demand.csv: skipped 2 blank line(s) (row 2, 4)",),
         mutate=write_bytes("demand.csv", DEMAND_HEADER.encode() + b"\nA,ASD,primary,2026,5\n"
                            b",,,,\nA,SEMH,primary,2026,1\n")),
]

# Accepted silently: not mistakes at all.
ACCEPTED: list[Case] = [
    Case("utf8-byte-order-mark", (), mutate=write_bytes(
        "demand.csv", b"\xef\xbb\xbf" + DEMAND_HEADER.encode() + b"A,ASD,primary,2026,5\n")),
    Case("need-code-in-any-case", (), files={"demand": ["A,SpLD,Primary,2026,5"]}),
    Case("area-name-null", (), mutate=edit_areas(_null_area_name)),
    Case("crs-member-after-the-features", (), mutate=edit_areas(_crs_after_the_features)),
    Case("run-toml-with-byte-order-mark", (), mutate=lambda folder, toml: toml.write_bytes(
        b"\xef\xbb\xbf" + toml.read_bytes())),
]

assert len(CASES) >= 30 and len({c.id for c in CASES + WARNED + ACCEPTED}) == len(
    CASES + WARNED + ACCEPTED)
