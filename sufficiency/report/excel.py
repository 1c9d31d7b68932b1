"""The run as an Excel workbook (``outputs/<run>/plan.xlsx``), written with XlsxWriter.

Sheets: Summary, Plan, Placements, Costs, Money by FY, Money by AY, High-needs deficit (with
[finance] only), Transport (only when the run wrote a transport table), Shadow prices,
Assumptions. Each sheet is one table with a frozen, bold header,
column widths set, £ and places number formats. XlsxWriter builds the file in memory: at
scale L (28 k placements) 3× faster than openpyxl's write-only mode.

Safety (pitfall 15): no cell from the data ever becomes a formula. Every text cell is
written with ``write_string`` (the workbook also turns off XlsxWriter's guessing of
formulas, URLs and numbers in strings), and text beginning with ``= + - @``, tab, CR or LF
is prefixed with an apostrophe (the OWASP advice for spreadsheet exports), so it stays inert
even if the sheet is saved as CSV and opened again. Characters Excel cannot store are
replaced by �.

Determinism (pitfall 17): the document's created time is fixed, and XlsxWriter stamps every
zip entry with the same date in memory, so the same run gives byte-identical workbooks.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xlsxwriter

from sufficiency.outcome import METHOD, RunResult, placement_columns
from sufficiency.report import money as money_views
from sufficiency.report.assumptions import fy_label, option_assumptions_long
from sufficiency.report.changes import fixed_tables
from sufficiency.report.escaping import formula_safe
from sufficiency.report.figures import CabinetFigures, cabinet_figures
from sufficiency.report.style import ay_label
from sufficiency.report.why import CAPITAL_METHOD

GBP, GBP_PENCE = '"£"#,##0', '"£"#,##0.00'
PLACES, PUPILS, ONE_DP, PERCENT, YEAR = "#,##0", "#,##0.00", "#,##0.0", "0.00%", "0"
ILLEGAL_CHARACTERS = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")  # not in XML 1.0
MAX_TEXT = 32_767  # characters Excel keeps in one cell
FIXED_TIME = dt.datetime(2000, 1, 1)
MAX_ROWS = 1_048_575  # Excel's row limit, less the header
MIN_WIDTH, MAX_WIDTH, WIDTH_SAMPLE = 8, 60, 2000
WORKBOOK_OPTIONS = {"in_memory": True, "strings_to_formulas": False,
                    "strings_to_urls": False, "strings_to_numbers": False}


def safe_text(value: str) -> str:
    """Text that a spreadsheet shows as written: never a formula, never an illegal char."""
    value = ILLEGAL_CHARACTERS.sub("\ufffd", value)
    return formula_safe(value)[:MAX_TEXT]


@dataclass
class Sheet:
    """One table for one sheet: columns as headers, a number format per column or per row."""

    title: str
    frame: pd.DataFrame
    headers: dict[str, str] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)
    row_formats: tuple[str, list[str | None]] | None = None  # (column, format of each row)


def _plain(value: object) -> object:
    """A Python scalar a cell can store, or None for missing."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


class _Formats:
    """The workbook's cell formats, one object per number format (XlsxWriter wants few)."""

    def __init__(self, workbook: xlsxwriter.Workbook):
        self.workbook = workbook
        self.cache: dict[str | None, object] = {None: None}
        self.bold = workbook.add_format({"bold": True})

    def number(self, number_format: str | None) -> object:
        """The format object showing numbers as ``number_format`` (None: general)."""
        if number_format not in self.cache:
            self.cache[number_format] = self.workbook.add_format({"num_format": number_format})
        return self.cache[number_format]


def _write_cell(ws, row: int, column: int, value: object, number_format: object) -> None:
    """One cell: numbers with their format, text always a string cell (escaped)."""
    value = _plain(value)
    if value is None:
        return
    if isinstance(value, bool):
        value = "yes" if value else "no"
    if isinstance(value, int | float):
        ws.write_number(row, column, value, number_format)
    else:
        ws.write_string(row, column, safe_text(str(value)))


def _display_width(value: object, number_format: str | None) -> int:
    """Rough characters a value needs on screen."""
    value = _plain(value)
    if value is None:
        return 0
    if isinstance(value, int | float) and not isinstance(value, bool):
        return len(f"{value:,.2f}") + (1 if number_format and "£" in number_format else 0)
    return len(str(value)) + 1


def _widths(sheet: Sheet, headers: list[str]) -> list[float]:
    sample = sheet.frame.head(WIDTH_SAMPLE)
    widths = []
    for column, header in zip(sheet.frame.columns, headers, strict=True):
        fmt = sheet.formats.get(column)
        longest = max((_display_width(v, fmt) for v in sample[column]), default=0)
        widths.append(float(min(MAX_WIDTH, max(MIN_WIDTH, len(header) + 2, longest + 2))))
    return widths


def write_sheet(workbook: xlsxwriter.Workbook, formats: _Formats, sheet: Sheet) -> None:
    """Add one sheet: bold frozen header, widths, formats, escaped text."""
    ws = workbook.add_worksheet(sheet.title)
    columns = list(sheet.frame.columns)
    headers = [sheet.headers.get(c, c) for c in columns]
    for k, width in enumerate(_widths(sheet, headers)):
        ws.set_column(k, k, width)
    ws.freeze_panes(1, 0)
    for k, header in enumerate(headers):
        ws.write_string(0, k, safe_text(header), formats.bold)
    column_formats = [formats.number(sheet.formats.get(c)) for c in columns]
    per_row = None
    if sheet.row_formats is not None:
        per_row = (columns.index(sheet.row_formats[0]), sheet.row_formats[1])
    frame = sheet.frame if len(sheet.frame) <= MAX_ROWS else sheet.frame.head(MAX_ROWS - 1)
    for r, values in enumerate(frame.itertuples(index=False, name=None), start=1):
        row_formats = column_formats
        if per_row is not None:
            row_formats = list(column_formats)
            row_formats[per_row[0]] = formats.number(per_row[1][r - 1])
        for k, (value, number_format) in enumerate(zip(values, row_formats, strict=True)):
            _write_cell(ws, r, k, value, number_format)
    if len(sheet.frame) > MAX_ROWS:
        ws.write_string(len(frame) + 1, 0,
                        f"… {len(sheet.frame) - len(frame)} more rows: see the CSV file")


def _summary_rows(run: RunResult, figures: CabinetFigures) -> list[tuple[str, object, str, str]]:
    """(item, value, unit, number format) for the Summary sheet."""
    h = figures.headline
    config = run.dataset.config
    rows = [
        ("run", h["run"], "", None),
        ("status", h["status"], "", None),
        ("gap proven", h["mip_gap"], "of the plan's cost", "0.0000%"),
        ("solver", run.optimal.report.solver, "", None),
        ("money", f"real-terms £; present values discounted to {ay_label(config.start_year)}"
                  f" at {config.discount_rate:.2%} a year", "", None),
        ("years", "costs, places and pupils by academic year (AY, from September); capital "
                  "and budgets by financial year (FY, from April)", "", None),
        ("cost of the plan", h["objective"], "£, present value", GBP),
        ("cost of doing nothing", h["baseline_objective"], "£, present value", GBP),
        ("saving against doing nothing", h["savings"], "£, present value", GBP),
        ("saving as a share of doing nothing", h["savings_share"], "", PERCENT),
        ("saving, not discounted", h["savings_undiscounted"], "£", GBP),
        ("capital", h["capital_total"], "£, nominal", GBP),
        ("new places", h["places_created"], "places", PLACES),
        ("openings", h["openings"], "openings (option × year)", PLACES),
        ("independent placements, plan", h["independent_pupil_years"], "pupil-years", PUPILS),
        ("independent placements, doing nothing", h["do_nothing_independent_pupil_years"],
         "pupil-years", PUPILS),
        ("independent placements avoided", h["independent_avoided"], "pupil-years", PUPILS),
    ]
    for r in figures.capital_by_year.itertuples():
        budget = "no limit" if math.isnan(r.budget) else r.budget
        rows.append((f"capital spent, {fy_label(r.capital_year)}", r.capital, "£, nominal", GBP))
        rows.append((f"capital budget, {fy_label(r.capital_year)}", budget, "£, nominal", GBP))
    for r in figures.by_year.itertuples():
        rows.append((f"saving, {ay_label(r.year)}", r.saving, "£, that year", GBP))
    payback = money_views.programme_payback(run)
    rows.append(("payback of the programme", payback["payback_year"]
                 if payback["payback_year"] is not None else payback["payback"]["status"],
                 "academic year: " + payback["payback"]["rule"], YEAR))
    rows += [("annualised capital (Plan sheet)", CAPITAL_METHOD, "", None),
             ("shadow prices", METHOD, "", None)]
    return rows


def summary_sheet(run: RunResult, figures: CabinetFigures) -> Sheet:
    """Headline figures, capital against budget by FY and saving by AY, as item/value rows."""
    rows = _summary_rows(run, figures)
    frame = pd.DataFrame([r[:3] for r in rows], columns=["item", "value", "unit"])
    return Sheet("Summary", frame, row_formats=("value", [r[3] for r in rows]))


def plan_sheet(figures: CabinetFigures, run: RunResult) -> Sheet:
    """The phasing, each line with its option's why figures and value (when re-solved)."""
    why = money_views.why_view(run, figures.why, figures.opening_values).drop(
        columns=["site_id", "kind", "new_places", "capital"])
    frame = figures.phasing.merge(why, on="option_id", how="left")
    money = ["capital_cost", "placement", "commissioned", "transport", "capital_per_pupil_year",
             "cost_per_pupil_year", "alternative_per_pupil_year", "value", "value_low",
             "value_high", "run_gap", "resolve_gap", "place_value"]
    headers = {"opening_year": "opening year (AY)", "capital_year": "capital year (FY)",
               "capital_cost": "capital (£)", "added_pupil_years": "option: added pupil-years",
               "new_place_years": "option: new place-years",
               "placement": "option: placement £ per pupil-year",
               "commissioned": "option: commissioned £ per pupil-year",
               "transport": "option: transport £ per pupil-year",
               "capital_per_pupil_year": "option: capital £ per pupil-year",
               "cost_per_pupil_year": "option: cost £ per pupil-year",
               "alternative_per_pupil_year": "option: alternative £ per pupil-year",
               "value": "option: value of the opening (£ PV, plan re-solved without it)",
               "value_low": "option: value at least (£ PV)",
               "value_high": "option: value at most (£ PV)",
               "run_gap": "option: run's gap (£)", "resolve_gap": "option: re-solve's gap (£)",
               "value_status": "option: re-solve",
               "payback_year": "option: payback (AY)", "payback": "option: payback",
               "alternative": "option: alternative is",
               "independent_share": "option: share of the alternative independent",
               "place_value": "option: one more place saves (£ a year, mean)"}
    formats = dict.fromkeys(money, GBP) | {
        "modules": PLACES, "places": PLACES, "opening_year": YEAR, "capital_year": YEAR,
        "added_pupil_years": PUPILS, "new_place_years": PLACES, "independent_share": PERCENT,
        "payback_year": YEAR}
    return Sheet("Plan", frame, headers, formats)


def money_sheets(run: RunResult) -> Iterable[Sheet]:
    """Money by FY and budget line (then by AY), and the high-needs deficit ([finance])."""
    by_fy = money_views.money_by_fy(run).assign(
        budget_line=lambda f: f["budget_line"].map(money_views.LINE_LABELS))
    formats = dict.fromkeys(["plan", "do_nothing", "saving"], GBP) | {
        "financial_year": YEAR, "academic_year": YEAR}
    headers = {"financial_year": "financial year", "academic_year": "academic year",
               "label": "year", "months_modelled": "months of revenue modelled",
               "budget_line": "budget line", "plan": "plan (£)",
               "do_nothing": "doing nothing (£)", "saving": "saving (£)"}
    yield Sheet("Money by FY", by_fy, headers, formats)
    by_ay = money_views.money_by_ay(run).assign(
        budget_line=lambda f: f["budget_line"].map(money_views.LINE_LABELS))
    yield Sheet("Money by AY", by_ay, headers, formats)
    deficit = money_views.deficit_path(run)
    if deficit is not None:
        yield Sheet("High-needs deficit", deficit,
                    {"financial_year": "financial year", "label": "year"},
                    dict.fromkeys([c for c in deficit.columns if c not in (
                        "financial_year", "label", "months_modelled")], GBP)
                    | {"financial_year": YEAR})


def placements_sheet(run: RunResult) -> Sheet:
    """Every placement of the optimal plan."""
    frame = run.optimal.placements[placement_columns(run.optimal.placements)]
    return Sheet("Placements", frame, {"year": "year (AY)", "minutes": "minutes (one way)",
                                       "km": "km (one way)"},
                 {"year": YEAR, "pupils": PUPILS, "minutes": ONE_DP, "km": ONE_DP})


def costs_sheet(run: RunResult) -> Sheet:
    """Cost by AY and component: the plan, doing nothing, and the saving."""
    parts = [run.optimal.costs_by_year.assign(plan="optimal")]
    if run.do_nothing is not None:
        base = run.do_nothing.costs_by_year
        parts.append(base.assign(plan="do nothing"))
        saving = base.set_index("year").sub(run.optimal.costs_by_year.set_index("year"))
        parts.append(saving.round(2).reset_index().assign(plan="saving (do nothing − optimal)"))
    frame = pd.concat(parts, ignore_index=True)
    columns = ["plan", *[c for c in frame.columns if c != "plan"]]
    money = [c for c in columns if c not in ("plan", "year", "pupils_local",
                                             "pupils_independent")]
    headers = {"year": "year (AY; capital: FY)", "discounted_total": "present value",
               "pupils_local": "pupils placed locally",
               "pupils_independent": "pupils placed independently"}
    formats = dict.fromkeys(money, GBP) | {"year": YEAR, "pupils_local": PUPILS,
                                           "pupils_independent": PUPILS}
    return Sheet("Costs", frame[columns], headers, formats)


def transport_sheet(table: pd.DataFrame) -> Sheet:
    """The run's transport table as written, with formats guessed from column names."""
    formats = {}
    for column in table.columns:
        name = column.lower()
        if "cost" in name or "£" in name:
            formats[column] = GBP
        elif "minutes" in name or "km" in name:
            formats[column] = ONE_DP
        elif "pupil" in name:
            formats[column] = PUPILS
        elif "year" in name:
            formats[column] = YEAR
    return Sheet("Transport", table, formats=formats)


def shadow_sheet(run: RunResult) -> Sheet:
    """Value of £1m more budget by FY, then of one more place by option and AY."""
    columns = ["measure", "option_id", "site_id", "kind", "year", "year_label", "budget",
               "spent", "headroom", "value_in_year", "value_pv"]
    if run.shadow is None:
        frame = pd.DataFrame([{"measure": "not available: the LP with the openings fixed did "
                                          "not solve to optimality"}], columns=columns)
        return Sheet("Shadow prices", frame)
    budget = run.shadow.budget.rename(columns={"capital_year": "year",
                                               "value_per_million_replanned_pv": "value_pv"})
    budget = budget.assign(measure="£1m more capital budget (plan re-solved)",
                           year_label=budget["year"].map(fy_label))
    places = run.shadow.places.assign(measure="one more place",
                                      year_label=run.shadow.places["year"].map(ay_label))
    frame = pd.concat([budget, places], ignore_index=True).reindex(columns=columns)
    headers = {"year_label": "year", "year": "year (FY for budget, AY for places)",
               "value_in_year": "saves (£ that year)", "value_pv": "saves (£ present value)"}
    formats = dict.fromkeys(["budget", "spent", "headroom", "value_in_year", "value_pv"],
                            GBP) | {"year": YEAR}
    return Sheet("Shadow prices", frame, headers, formats)


def assumptions_sheet(run: RunResult, figures: CabinetFigures) -> Sheet:
    """Every rate, cost, limit and budget (run TOML), then every option's (provision.csv)."""
    frame = pd.concat([figures.assumptions, option_assumptions_long(run.dataset)],
                      ignore_index=True)
    formats = []
    for unit, value in zip(frame["unit"], frame["value"], strict=True):
        if not isinstance(_plain(value), int | float):
            formats.append(None)
        elif str(unit).startswith("£"):
            formats.append(GBP if float(value).is_integer() else GBP_PENCE)
        elif unit == "per year, real":
            formats.append(PERCENT)
        elif unit == "academic year" or str(unit).startswith("academic year ("):
            formats.append(YEAR)
        else:
            formats.append(None)
    return Sheet("Assumptions", frame, row_formats=("value", formats))


def sheets(run: RunResult, figures: CabinetFigures,
           transport: pd.DataFrame | None) -> Iterable[Sheet]:
    """The workbook's sheets, in order."""
    yield summary_sheet(run, figures)
    yield plan_sheet(figures, run)
    yield placements_sheet(run)
    yield costs_sheet(run)
    yield from money_sheets(run)
    if transport is not None:
        yield transport_sheet(transport)
    yield shadow_sheet(run)
    yield from fixed_sheets(run)
    yield assumptions_sheet(run, figures)


def fixed_sheets(run: RunResult) -> Iterable[Sheet]:
    """Commitments (committed.csv, locks) and changes since the last plan, when the run has them."""
    titles = {"commitments.csv": "Commitments", "changes.csv": "Changes"}
    for name, table in fixed_tables(run).items():
        formats = {c: GBP for c in table.columns if "capital" in c or c in (
            "value", "cost_without", "resolve_gap")} | {
            c: YEAR for c in table.columns if c.startswith("opening_year") or c == "capital_year"}
        yield Sheet(titles[name], table, formats=formats)


def workbook_bytes(run: RunResult, figures: CabinetFigures | None = None,
                   transport: pd.DataFrame | None = None) -> bytes:
    """plan.xlsx as bytes: the same run always gives the same bytes."""
    figures = figures or cabinet_figures(run)
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS)
    workbook.set_properties({"author": "sufficiency", "created": FIXED_TIME,
                             "title": f"{run.dataset.config.name}: optimal phasing"})
    formats = _Formats(workbook)
    for sheet in sheets(run, figures, transport):
        write_sheet(workbook, formats, sheet)
    workbook.close()
    return buffer.getvalue()
