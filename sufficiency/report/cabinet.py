"""The technical appendix (``outputs/<run>/report.html``) and, beside it, the workbook.

The cabinet paper itself (``cabinet.docx`` / ``cabinet.html``, :mod:`sufficiency.report.paper`)
links to this appendix and is linked from it. The appendix opens with a table of contents;
long tables show their top :data:`APPENDIX_ROWS` rows and say where the rest is in plan.xlsx;
print CSS sets A4 pages on which every table wraps to the page width. The HTML comes from a
jinja2 template (``templates/report.html.j2``) rendered with autoescaping on, so names from
the inputs can never become markup; charts are inline SVG from
:mod:`sufficiency.report.charts`; the page loads nothing (a Content-Security-Policy forbids
scripts and remote requests) and links to the run's map at ``../../maps/<run>.html``. The
output is a pure function of the run: no timestamps, no re-solving (shadow prices come with
the run, from :mod:`sufficiency.solve.shadow`).
"""

from __future__ import annotations

import math
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from urllib.parse import quote

import jinja2
import pandas as pd
from markupsafe import Markup

from sufficiency.outcome import RunResult
from sufficiency.preprocess.workbook import source_name
from sufficiency.report import charts, transport
from sufficiency.report import money as money_views
from sufficiency.report.analyses_view import analyses_context
from sufficiency.report.analysis_tables import RunAnalyses, read_written_table
from sufficiency.report.assumptions import fy_label
from sufficiency.report.calibration import calibration_view
from sufficiency.report.changes import fixed_context
from sufficiency.report.figures import CabinetFigures, cabinet_figures
from sufficiency.report.style import KIND_COLOURS, KIND_LABELS, OTHER_COLOUR, ay_label
from sufficiency.report.summary import delivery_note, gap_findings, horizon_warning
from sufficiency.report.why import CAPITAL_METHOD

REPORT_FILE, WORKBOOK_FILE, TRANSPORT_FILE = "report.html", "plan.xlsx", "transport.csv"
APPENDIX_ROWS = 10  # rows of a long table the appendix shows; plan.xlsx holds them all
PAPER_HTML = "cabinet.html"  # the cabinet paper (sufficiency.report.paper), linked both ways
COMPONENT_COLOURS = {"placement": "#1b9e77", "commissioned": "#66a61e", "transport": "#7570b3",
                     "independent": "#d95f02", "capital": "#e6ab02"}
MISSING = "—"


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def money(value: object, decimals: int = 0) -> str:
    """£ with thousands separators; a minus sign before the £ for negative amounts."""
    if _missing(value):
        return MISSING
    amount = round(float(value), decimals) + 0.0
    text = f"£{abs(amount):,.{decimals}f}"
    return f"−{text}" if amount < 0 else text


def money_m(value: float) -> str:
    """£ in millions for chart axes: 12500000 -> '£12.5m'."""
    return f"£{value / 1e6:,.1f}m"


def places(value: object) -> str:
    """Whole places with thousands separators."""
    return MISSING if _missing(value) else f"{round(float(value)):,}"


def pupils(value: object) -> str:
    """Pupils or pupil-years to one decimal (placements may be fractional)."""
    return MISSING if _missing(value) else f"{float(value) + 0.0:,.1f}"


def pct(value: object, decimals: int = 1) -> str:
    """A fraction as a percentage."""
    return MISSING if _missing(value) else f"{float(value):.{decimals}%}"


def plain_value(value: object) -> str:
    """An assumption's value: numbers with separators, text as it is."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return MISSING if value is None else str(value)
    if _missing(value):
        return MISSING
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,g}"


def kind_label(kind: str) -> str:
    """Words for a provision kind code."""
    return KIND_LABELS.get(kind, kind)


def package_version() -> str:
    """The installed sufficiency version ('unknown' in a bare source tree)."""
    try:
        return version("sufficiency")
    except PackageNotFoundError:
        return "unknown"


def jinja_environment() -> jinja2.Environment:
    """jinja2 with autoescaping on for every template (pitfall 16) and strict undefined."""
    env = jinja2.Environment(loader=jinja2.PackageLoader("sufficiency.report", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True)
    env.filters.update(money=money, places=places, pupils=pupils, pct=pct, value=plain_value,
                       ay=lambda y: MISSING if _missing(y) else ay_label(int(y)),
                       fy=lambda y: MISSING if _missing(y) else fy_label(int(y)))
    env.globals["kind_label"] = kind_label
    return env


def build_charts(run: RunResult, figures: CabinetFigures) -> dict[str, Markup]:
    """The three charts: cost by year and component, places by kind, independent pupils."""
    years = run.dataset.config.years
    labels = [f"{y}/{(y + 1) % 100:02d}" for y in years]
    components = list(COMPONENT_COLOURS)
    groups = [("P", {c: run.optimal.costs_by_year[c].tolist() for c in components})]
    if run.do_nothing is not None:
        groups.append(("D", {c: run.do_nothing.costs_by_year[c].tolist() for c in components}))
    costs = charts.stacked_bars("Cost by academic year and component (£, not discounted)",
                                labels, groups, COMPONENT_COLOURS, money_m,
                                {"P": "the plan", "D": "doing nothing"})
    over_time = figures.places_over_time
    places_chart = charts.lines(
        "Places open by kind (existing and new), optimal plan", labels,
        {kind_label(k): over_time.loc[k].tolist() for k in over_time.index},
        {kind_label(k): KIND_COLOURS.get(k, OTHER_COLOUR) for k in over_time.index},
        lambda v: f"{v:,.0f}")
    independent = {"the plan": figures.by_year["independent_pupils"].tolist()}
    if run.do_nothing is not None:
        independent["doing nothing"] = figures.by_year["do_nothing_independent_pupils"].tolist()
    independent_chart = charts.lines(
        "Pupils in independent placements by academic year", labels, independent,
        {"the plan": "#1b9e77", "doing nothing": "#d95f02"}, lambda v: f"{v:,.0f}")
    return {"costs": costs, "places": places_chart, "independent": independent_chart}


def _shadow_places(run: RunResult) -> tuple[pd.DataFrame, int]:
    """The most valuable places (value > 0), at most APPENDIX_ROWS, and how many there are."""
    if run.shadow is None:
        return pd.DataFrame(), 0
    table = run.shadow.places[run.shadow.places["value_pv"] > 0]
    top = table.sort_values(["value_pv", "option_id", "year"], ascending=[False, True, True])
    return top.head(APPENDIX_ROWS), len(table)


def occupancy_by_year(run: RunResult) -> pd.DataFrame:
    """Places, pupils, empty (commissioned, paid for) and over-capacity places by AY."""
    capacity = run.optimal.capacity
    columns = [c for c in ("places", "pupils", "empty_places", "over_capacity")
               if c in capacity.columns]
    return capacity.groupby("year", as_index=False)[columns].sum()


def journeys_by_year(run: RunResult) -> pd.DataFrame | None:
    """Local and independent journeys by AY, plan and do nothing (independent.csv only)."""
    dataset = run.dataset
    if dataset.providers is None:
        return None
    plan = transport.year_totals(dataset, run.optimal)
    table = plan[["year", "pupils_local", "mean_minutes", "independent_mean_minutes",
                  "pupils_independent_over_limit", "pupils_independent_no_provider"]].copy()
    table["independent_with_provider"] = (plan["pupils_independent"]
                                          - plan["pupils_independent_no_provider"])
    if run.do_nothing is None:
        return table.assign(do_nothing_mean_minutes=math.nan,
                            do_nothing_independent_over_limit=math.nan)
    before = transport.year_totals(dataset, run.do_nothing)
    return table.assign(
        do_nothing_mean_minutes=before["mean_minutes"].to_numpy(float),
        do_nothing_independent_over_limit=before["pupils_independent_over_limit"].to_numpy(
            float))


def contents(context: dict) -> list[tuple[str, str]]:
    """The appendix's table of contents: (section id, heading) of each section the page shows.

    In page order; the included templates' sections (changes.html.j2, analyses.html.j2) are
    listed when their context is present.
    """
    toc = [("summary", "Summary"), ("money", "Money as the council budgets it"),
           ("charts", "Charts"), ("phasing", "Phasing: what opens where and when"),
           ("why", "Why each opening"), ("shadow", "Shadow prices")]
    if context["gap"]:
        toc.append(("gap", "The sufficiency gap"))
    toc.append(("assumptions", "Assumptions"))
    fixed = context.get("fixed") or {}
    if fixed.get("commitments") is not None:
        toc.append(("commitments", "Committed schemes"))
    if fixed.get("changes") is not None:
        toc.append(("changes", "Changes since the last plan"))
    if context.get("analyses"):
        toc.append(("analyses", "Analyses"))
    toc.append(("calibration", "The start year against today's placements"))
    return toc


def report_context(run: RunResult, figures: CabinetFigures,
                   analyses: RunAnalyses | None = None) -> dict:
    """Everything the template shows (``analyses``: the run's fresh analyses, if any)."""
    config = run.dataset.config
    shadow_places, shadow_rows = _shadow_places(run)
    why = money_views.why_view(run, figures.why, figures.opening_values)
    context = {
        "paper_href": PAPER_HTML,
        "why_rows": len(why),
        "h": figures.headline,
        "years": {"first_ay": ay_label(config.start_year), "last_ay": ay_label(config.end_year),
                  "first_fy": fy_label(config.start_year), "last_fy": fy_label(config.end_year),
                  "first_fy_short": fy_label(config.start_year)[3:]},
        "discount_rate": config.discount_rate,
        "map_href": f"../../maps/{quote(config.name)}.html",
        "places_by_kind": figures.places_by_kind,
        "capital_by_year": figures.capital_by_year,
        "by_year": figures.by_year,
        "charts": build_charts(run, figures),
        "phasing": figures.phasing,
        "occupancy": occupancy_by_year(run),
        "journeys": journeys_by_year(run),
        "why": why.head(APPENDIX_ROWS),
        "why_computed": run.openings is not None,
        "why_not_computed": money_views.NOT_COMPUTED,
        "money_fy": money_views.money_fy_wide(run),
        "payback": money_views.programme_payback(run),
        "deficit": money_views.deficit_path(run),
        "capital_method": CAPITAL_METHOD,
        "horizon_warning": horizon_warning(run),
        "delivery_note": delivery_note(run),
        "gap": gap_findings(run),
        "annuity": config.appraisal.annuity,
        "shadow": run.shadow,
        "shadow_places": shadow_places,
        "shadow_rows": shadow_rows,
        "shadow_top": min(shadow_rows, APPENDIX_ROWS),
        "assumptions": figures.assumptions,
        "options": figures.options,
        "provision_file": source_name(config.inputs_dir, "provision.csv"),
        "travel_metric": run.dataset.travel_metric,
        "solver": run.optimal.report.solver,
        "version": package_version(),
        "analyses": analyses_context(analyses, run),  # templates/analyses.html.j2
        "fixed": fixed_context(run),  # templates/changes.html.j2: commitments, re-plans
        "calibration": calibration_view(run),  # templates/calibration.html.j2
    }
    return context | {"toc": contents(context)}


def render_report(run: RunResult, figures: CabinetFigures | None = None,
                  analyses: RunAnalyses | None = None) -> str:
    """The cabinet report of ``run`` as one self-contained HTML page."""
    figures = figures or cabinet_figures(run)
    template = jinja_environment().get_template("report.html.j2")
    return template.render(report_context(run, figures, analyses))


def read_transport_table(path: Path) -> pd.DataFrame | None:
    """The run's transport table if one was written beside the other outputs, else None."""
    if not path.is_file():
        return None
    return read_written_table(path, ("need", "phase", "name"))


def write_reports(run: RunResult, folder: Path, *, analyses: RunAnalyses | None = None) -> None:
    """report.html and plan.xlsx into ``folder`` (the staging folder)."""
    from sufficiency.report.excel import workbook_bytes

    figures = cabinet_figures(run)
    (folder / REPORT_FILE).write_text(render_report(run, figures, analyses), encoding="utf-8")
    transport = read_transport_table(folder / TRANSPORT_FILE)
    (folder / WORKBOOK_FILE).write_bytes(workbook_bytes(run, figures, transport))
