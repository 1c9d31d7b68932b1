"""The cabinet paper's content: sections of paragraphs, lists, tables and one map, as plain data.

One source of text, two renderers (:mod:`sufficiency.report.paper_docx` for Word,
``templates/paper.html.j2`` for HTML), so the two never disagree. The paper takes the shape
of an English council cabinet report (:data:`SECTIONS`), at most about 2,000 words and
:data:`MAX_TABLES` tables. Every figure comes from the run's own tables: the headline
figures of :mod:`sufficiency.report.figures` (those of summary.json and report.html), the
budget views of :mod:`sufficiency.report.money`, the transport summary and the assumptions;
nothing is re-solved. Sections on scenarios, near-optimal alternatives and slippage appear
only when :class:`~sufficiency.report.analysis_tables.RunAnalyses` holds their tables.
Text from the inputs (site and area names) is kept as written here and escaped by each
renderer; table cells are also made formula-safe, as tables are pasted into spreadsheets.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pandas as pd

from sufficiency.outcome import RESIDUAL, RunResult
from sufficiency.preprocess.dataset import Dataset
from sufficiency.preprocess.vocabulary import INDEPENDENT
from sufficiency.preprocess.workbook import SETTINGS_SHEET, is_workbook, source_name
from sufficiency.report import money as money_views
from sufficiency.report.analysis_tables import RunAnalyses
from sufficiency.report.assumptions import fy_label
from sufficiency.report.cabinet import (
    MISSING,
    REPORT_FILE,
    WORKBOOK_FILE,
    jinja_environment,
    kind_label,
    money,
    package_version,
    pct,
    places,
    plain_value,
    pupils,
)
from sufficiency.report.escaping import formula_safe
from sufficiency.report.figures import CabinetFigures, cabinet_figures
from sufficiency.report.style import ay_label
from sufficiency.report.summary import delivery_note, gap_findings, horizon_warning
from sufficiency.report.summary import time_limit_warning as solve_warning
from sufficiency.report.transport import transport_summary

PAPER_DOCX, PAPER_HTML, MAP_PNG = "cabinet.docx", "cabinet.html", "plan_map.png"
SECTIONS = ("Purpose", "Recommendations", "Reasons", "Alternatives considered",
            "Financial implications", "Risks", "Transport and equalities implications",
            "Assumptions and data sources")
MAX_TABLES = 5
ALTERNATIVES_SHOWN = 3  # near-optimal plans in the alternatives table
ASSUMPTION_GROUPS = ("horizon", "costs", "limits", "capital")  # run_assumptions rows cited
PROVEN_EXACT = 5e-6  # a relative gap below this shows as "proven", with no percentage
BUDGET_SPENT = 1.0  # £ of headroom at or below which a year's capital budget is spent in full


@dataclass(frozen=True)
class Paragraph:
    """A paragraph; ``lead`` (if any) is shown in bold before the text."""

    text: str
    lead: str = ""
    kind: ClassVar[str] = "paragraph"


@dataclass(frozen=True)
class Items:
    """A bulleted or numbered list."""

    items: tuple[str, ...]
    numbered: bool = False
    kind: ClassVar[str] = "items"


@dataclass(frozen=True)
class Table:
    """A table of text cells; ``numeric`` columns align right; a ``total`` last row is bold."""

    key: str  # the HTML id
    caption: str  # "Table n: …"
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]
    total: bool = False
    note: str = ""
    kind: ClassVar[str] = "table"


@dataclass(frozen=True)
class Figure:
    """A PNG figure with its caption and alternative text."""

    key: str
    caption: str
    png: bytes
    alt: str
    kind: ClassVar[str] = "figure"


Block = Paragraph | Items | Table | Figure


@dataclass(frozen=True)
class Section:
    """One headed section of the paper (``key``: its HTML id)."""

    key: str
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Paper:
    """The whole paper: title, a one-line subtitle, and its sections in order."""

    title: str
    subtitle: str
    sections: tuple[Section, ...]
    appendix: str = REPORT_FILE
    workbook: str = WORKBOOK_FILE

    @property
    def closing(self) -> str:
        """The last line: where the technical appendix and the workbook are."""
        return (f"Technical appendix: {self.appendix} (every table, with its notes). Workbook: "
                f"{self.workbook} (every figure and placement).")

    def tables(self) -> list[Table]:
        """Every table, in order."""
        return [b for s in self.sections for b in s.blocks if isinstance(b, Table)]

    def texts(self) -> list[str]:
        """Every piece of text a reader sees, in order (for counting words)."""
        out = [self.title, self.subtitle, self.closing]
        for section in self.sections:
            out.append(section.title)
            for block in section.blocks:
                out.extend(block_texts(block))
        return out

    def words(self) -> int:
        """Words in the paper (tables and captions included)."""
        return sum(len(text.split()) for text in self.texts())


def block_texts(block: Block) -> list[str]:
    """The visible text of one block."""
    if isinstance(block, Paragraph):
        return [block.lead, block.text]
    if isinstance(block, Items):
        return list(block.items)
    if isinstance(block, Table):
        return [block.caption, *block.header, *(c for r in block.rows for c in r), block.note]
    return [block.caption]


def count(n: int, noun: str, plural: str | None = None) -> str:
    """'1 site', '3 sites' (``plural`` where it is not ``noun`` + s)."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def cell(text: object) -> str:
    """A table cell from the inputs: text as written, never read as a formula."""
    return formula_safe(str(text))


def section_key(title: str) -> str:
    """The HTML id of a section: its title in lower case, words joined by hyphens."""
    return "-".join(title.lower().replace(",", "").split())


@dataclass(frozen=True)
class Facts:
    """The run's tables the sections cite, each computed once."""

    run: RunResult
    figures: CabinetFigures
    analyses: RunAnalyses
    money_fy: pd.DataFrame  # money_views.money_fy_wide
    payback: dict
    transport: dict  # transport_summary
    map_png: bytes | None

    @property
    def h(self) -> dict:
        """The headline figures (summary.json's)."""
        return self.figures.headline

    def site_name(self, site_id: str) -> str:
        """A site's name from sites.csv (its id if unknown)."""
        names = self.run.dataset.sites.set_index("site_id")["name"]
        return str(names.get(site_id, site_id))


class _Numbers:
    """Numbers tables "Table 1", "Table 2", … in the order the paper shows them."""

    def __init__(self) -> None:
        self.count = 0

    def caption(self, text: str) -> str:
        """The next table's caption."""
        self.count += 1
        return f"Table {self.count}: {text}"


# --- 1. Purpose -----------------------------------------------------------------------


def _span(years: pd.Series, label=ay_label) -> str:
    """'AY 2027/28' or 'AY 2027/28 to AY 2030/31' for the years in ``years``."""
    first, last = int(years.min()), int(years.max())
    return label(first) if first == last else f"{label(first)} to {label(last)}"


def purpose(f: Facts) -> tuple[Block, ...]:
    """What the paper asks for, and how the programme was chosen."""
    config, plan = f.run.dataset.config, f.run.optimal.plan
    period = f"{ay_label(config.start_year)} to {ay_label(config.end_year)}"
    if plan.empty:
        ask = ("This report sets out the sufficiency of specialist places for children and "
               "young people with special educational needs and disabilities (SEND) from "
               f"{period}. It finds that no new places are needed: the existing places, with "
               "independent placements, are the least-cost way to meet forecast demand.")
    else:
        ask = ("This report asks Cabinet to agree a programme of "
               f"{places(f.h['places_created'])} new specialist places for children and young "
               "people with special educational needs and disabilities (SEND), opening "
               f"{_span(plan['opening_year'])}, and capital of {money(f.h['capital_total'])} "
               f"in {_span(plan['capital_year'], fy_label)}.")
    options = f.run.dataset.options
    candidates = int((options["max_modules"] > 0).sum())
    listed = count(candidates, "candidate option")
    how = (f"The programme was chosen by optimisation. Of the {listed}"
           f" in the council's list ({source_name(config.inputs_dir, 'provision.csv')}), it is the "
           "combination and timing that places every pupil forecast, by need and phase, in "
           f"{count(len(f.run.dataset.areas), 'planning area')} from {period} at the lowest "
           "total cost "
           "to the high-needs block, home-to-school transport and capital, within the capital "
           "budget of each year.")
    blocks = [Paragraph(ask), Paragraph(how + " " + _proof(f))]
    return tuple(blocks)


def _proof(f: Facts) -> str:
    """How sure the optimum is: proven within the gap, or the time-limit warning."""
    warning = solve_warning(f.run.optimal)
    if warning:  # "time-limited: the … plan is the best HiGHS found …"
        return f"Caution: the solve was {warning}."
    gap = f.h["mip_gap"]
    within = "" if gap is None or gap < PROVEN_EXACT else f" to within {pct(gap, 3)}"
    return f"It is proven the least-cost plan{within}."


# --- 2. Recommendations ---------------------------------------------------------------


def recommendations(f: Facts, numbers: _Numbers) -> tuple[Block, ...]:
    """The decisions asked for, the phasing table and the map."""
    plan = f.run.optimal.plan
    if plan.empty:
        items = ["Note that no new specialist places are recommended over the period.",
                 "Note the risks in the Risks section, and review this assessment when the "
                 "demand forecast is next updated."]
        return (Items(tuple(items), numbered=True),)
    sites = plan["site_id"].nunique()
    table = phasing_table(f, numbers)
    items = [f"Approve the phasing in {_ref(table)}: {places(f.h['places_created'])} new "
             f"places in {count(f.h['openings'], 'opening')} at {count(sites, 'site')}.",
             f"Approve capital of {money(f.h['capital_total'])} for inclusion in the capital "
             "programme, by financial year as set out under Financial implications.",
             _savings_recommendation(f),
             "Note the risks, and the transport and equalities implications, set out below."]
    blocks: list[Block] = [Items(tuple(items), numbered=True), table]
    if f.map_png is not None:
        blocks.append(Figure("plan-map", "Figure 1: planning areas and the sites of new places "
                             "(circles sized by new places, coloured by kind)", f.map_png,
                             "Map of the planning areas with the sites of new places marked"))
    return tuple(blocks)


def _ref(table: Table) -> str:
    """'Table n' of a table's caption."""
    return table.caption.split(":")[0]


def _savings_recommendation(f: Facts) -> str:
    """Note the saving against doing nothing and the payback."""
    if f.run.do_nothing is None:
        return ("Note that doing nothing is not possible: existing places cannot take every "
                "pupil and independent placement is not allowed in this assessment.")
    return (f"Note the saving of {money(f.h['savings'])} against doing nothing (present "
            f"value, {pct(f.h['savings_share'])} of its cost; "
            f"{money(f.h['savings_undiscounted'])} in cash over the period), and payback "
            f"{_payback_words(f)}.")


def _payback_words(f: Facts) -> str:
    """'in AY 2030/31' or the payback status ('beyond the horizon', …)."""
    year = f.payback["payback_year"]
    return f"in {ay_label(int(year))}" if year is not None else f.payback["payback"]["status"]


def phasing_table(f: Facts, numbers: _Numbers) -> Table:
    """Site, kind, places, opening AY, capital FY and capital of every opening, with a total."""
    phasing = f.figures.phasing
    rows = [(cell(r.site_name), kind_label(r.kind), places(r.places), ay_label(r.opening_year),
             fy_label(r.capital_year), money(r.capital_cost)) for r in phasing.itertuples()]
    rows.append(("Total", "", places(phasing["places"].sum()), "", "",
                 money(phasing["capital_cost"].sum())))
    note = ""
    if f.run.dataset.config.capital.on:
        note = ("Capital at today's prices, in the year its spending starts; the cash spent "
                "each year, with construction inflation, is under Financial implications.")
    return Table("phasing", numbers.caption("recommended phasing of new places"),
                 ("Site", "Kind", "Places", "Opens", "Capital from", "Capital"),
                 tuple(rows), (False, False, True, False, False, True), total=True, note=note)


# --- 3. Reasons -----------------------------------------------------------------------


def reasons(f: Facts) -> tuple[Block, ...]:
    """Why: demand against existing places, the cost of doing nothing, why each opening."""
    blocks = [Paragraph(_demand_text(f))]
    if f.run.do_nothing is not None:
        blocks.append(Paragraph(
            f"Over the period the programme costs {money(f.h['objective'])} (present value), "
            f"against {money(f.h['baseline_objective'])} doing nothing: a saving of "
            f"{money(f.h['savings'])} ({pct(f.h['savings_share'])}). It avoids "
            f"{pupils(f.h['independent_avoided'])} pupil-years of independent placement."))
    blocks.append(Paragraph(_value_text(f)))
    gap = gap_findings(f.run)
    if gap:
        areas = ", ".join(str(a["area_id"]) for a in gap["areas"])
        blocks.append(Paragraph(
            f"Even with every candidate option built, {places(gap['last_year'])} pupils would "
            f"still be placed independently in {gap['last_ay']}; a new site is needed first "
            f"in {areas} (gap.csv)."))
    for note in (horizon_warning(f.run), delivery_note(f.run)):
        if note:
            blocks.append(Paragraph(note + "."))
    return tuple(blocks)


def _demand_text(f: Facts) -> str:
    """Demand first and last year, existing places, and independent pupils doing nothing."""
    config, dataset = f.run.dataset.config, f.run.dataset
    demand = dataset.demand.groupby("year")["pupils"].sum()
    first, last = config.start_year, config.end_year
    existing = int(dataset.options["existing_places"].sum())
    text = (f"Forecast demand for specialist places is {pupils(demand.get(first, 0.0))} "
            f"pupils in {ay_label(first)} and {pupils(demand.get(last, 0.0))} in "
            f"{ay_label(last)}, against {places(existing)} existing places.")
    years = f.figures.by_year.set_index("year")
    if f.run.do_nothing is None:
        return text
    return (text + f" Doing nothing, {pupils(years.at[last, 'do_nothing_independent_pupils'])} "
            f"pupils would be in independent placements in {ay_label(last)}; with the "
            f"programme, {pupils(years.at[last, 'independent_pupils'])}. An independent place "
            f"costs {money(config.independent.cost_per_place)} a year, plus transport.")


def _value_text(f: Facts) -> str:
    """Why each opening: the value of each (re-solved) when computed, else the rule."""
    rule = ("Every candidate option was considered in every year; an option opens only where "
            "it makes the whole plan cheaper.")
    values = f.figures.opening_values  # computed once, with the appendix's figures
    if values is None or f.run.optimal.plan.empty:
        return rule
    known = values[values["status"] != "infeasible_without"].dropna(subset=["value"])
    if known.empty:
        return rule
    best = known.sort_values(["value", "option_id"], ascending=[False, True]).iloc[0]
    return (rule + " Re-planning without each opening in turn, the most valuable is "
            f"{best['option_id']} at "
            f"{f.site_name(best['site_id'])} ({money(best['value'])}, present value). The "
            "technical appendix gives the value of each.")


# --- 4. Alternatives considered -------------------------------------------------------


def alternatives(f: Facts, numbers: _Numbers) -> tuple[Block, ...]:
    """Do nothing always; near-optimal plans and the demand range when they were run."""
    blocks: list[Block] = [Paragraph(_do_nothing_text(f), lead="Do nothing.")]
    if f.analyses.alternatives is not None:
        blocks += alternatives_blocks(f, numbers)
    if f.analyses.scenarios is not None:
        blocks += scenario_blocks(f, numbers)
    return tuple(blocks)


def _do_nothing_text(f: Facts) -> str:
    if f.run.do_nothing is None:
        return ("Not possible: the existing places cannot take every pupil, and independent "
                "placement is not allowed in this assessment.")
    return (f"Rejected. It would cost {money(f.h['baseline_objective'])} (present value), "
            f"{money(f.h['savings'])} more than the programme, with "
            f"{pupils(f.h['do_nothing_independent_pupil_years'])} pupil-years in independent "
            f"placements against {pupils(f.h['independent_pupil_years'])}.")


def alternatives_blocks(f: Facts, numbers: _Numbers) -> list[Block]:
    """The best near-optimal plans (alternatives.csv): cost, places, capital, other sites."""
    table = f.analyses.alternatives["alternatives.csv"]
    others = table[table["plan"] != "optimal"].sort_values(
        ["total_cost", "plan"], kind="stable").head(ALTERNATIVES_SHOWN)  # the cheapest first
    if others.empty:
        return [Paragraph("No plan opening other sites came within the margin searched.",
                          lead="Other sites.")]
    rows = tuple((cell(r.plan), money(r.total_cost), f"{money(r.extra_cost)} "
                  f"({float(r.extra_percent):.1f}%)", places(r.places_created), money(r.capital),
                  cell(_site_names(f, r.sites_not_in_optimal))) for r in others.itertuples())
    found = count(len(table) - 1, "plan")
    text = (f"{found} opening other sites {'was' if len(table) == 2 else 'were'} found close to "
            f"the recommended plan's cost (Table {numbers.count + 1}). They are rejected on "
            "cost, but are real choices if a recommended site cannot go ahead.")
    return [Paragraph(text, lead="Other sites."),
            Table("alternatives", numbers.caption("near-optimal alternatives (present value)"),
                  ("Plan", "Cost", "More than recommended", "New places", "Capital",
                   "Sites not in the recommended plan"), rows,
                  (False, True, True, True, True, False))]


def _site_names(f: Facts, ids: object) -> str:
    """'Name one; Name two' for a ';'-separated list of site ids (— for none)."""
    if not isinstance(ids, str) or not ids:
        return MISSING
    return "; ".join(f.site_name(s) for s in ids.split(";"))


def scenario_blocks(f: Facts, numbers: _Numbers) -> list[Block]:
    """Low / central / high demand: each scenario's best cost and the robust plan's regret."""
    tables = f.analyses.scenarios
    scenarios = tables["scenarios.csv"].sort_values(["pupil_years", "scenario"])
    regret = tables["regret.csv"]
    robust = regret[regret["plan"] == "robust"].set_index("scenario")
    rows = []
    for r in scenarios.itertuples():
        mine = robust.loc[r.scenario] if r.scenario in robust.index else None
        central = str(r.central) == "True" and r.scenario != "central"  # bool, or read as text
        rows.append((cell(r.scenario) + (" (central)" if central else ""),
                     pupils(r.pupil_years), pct(r.vs_demand_csv, 0), money(r.own_optimum),
                     money(None if mine is None else mine["cost"]),
                     money(None if mine is None else mine["regret"])))
    text = (f"The plan was tested against {count(len(scenarios), 'demand scenario')} (Table "
            f"{numbers.count + 1}), and one robust plan chosen for all of them"
            f"{_robust_words(tables)}. Regret is what the robust plan costs above the best "
            "plan for that scenario alone.")
    return [Paragraph(text, lead="Low, central and high demand."),
            Table("scenarios", numbers.caption("demand scenarios (present value)"),
                  ("Scenario", "Demand, pupil-years", "Of forecast", "Best plan for it",
                   "Robust plan", "Regret"), tuple(rows),
                  (False, True, True, True, True, True))]


def _robust_words(tables: dict[str, pd.DataFrame]) -> str:
    """': it opens …' from comparison.csv's robust row, when there is one."""
    comparison = tables.get("comparison.csv")
    if comparison is None:
        return ""
    row = comparison[comparison["plan"] == "robust"]
    if row.empty:
        return ""
    r = row.iloc[0]
    return (f": it creates {places(r['places_created'])} places for {money(r['capital'])} "
            f"of capital, with an expected cost of {money(r['expected_cost'])}")


# --- 5. Financial implications --------------------------------------------------------


def finance(f: Facts, numbers: _Numbers) -> tuple[Block, ...]:
    """Capital by FY against the budget, revenue savings by FY and budget line, payback."""
    table = finance_table(f, numbers)
    wide = f.money_fy
    first, last = int(wide["financial_year"].min()), int(wide["financial_year"].max())
    text = (f"{_ref(table)} shows cash by financial year, not discounted. Capital totals "
            f"{money(wide['capital_programme_plan'].sum())}, within the capital budget of every "
            "year.")
    if f.run.do_nothing is not None:
        text += (f" Revenue savings against doing nothing from {fy_label(first)} to "
                 f"{fy_label(last)} are {money(wide['high_needs_block_saving'].sum())} to the "
                 "high-needs block (Dedicated Schools Grant) and "
                 f"{money(wide['home_to_school_transport_saving'].sum())} to home-to-school "
                 f"transport. Payback: {_payback_words(f)}.")
    blocks: list[Block] = [Paragraph(text), table]
    blocks += [Paragraph(t) for t in (_independent_text(f), _residual_text(f), _deficit_text(f),
                                      _discount_text(f)) if t]
    return tuple(blocks)


def finance_table(f: Facts, numbers: _Numbers) -> Table:
    """By FY: capital spent and budget, high-needs and transport savings, net saving."""
    budget = f.run.dataset.config.capital_budget
    years = set(f.run.dataset.config.years)
    wide = f.money_fy
    rows = []
    for r in wide.itertuples():
        year = int(r.financial_year)
        limit = money(budget[year]) if year in budget else "no limit" if year in years \
            else MISSING
        rows.append((fy_label(year), money(r.capital_programme_plan), limit,
                     money(r.high_needs_block_saving), money(r.home_to_school_transport_saving),
                     money(r.total_saving)))
    rows.append(("Total", money(wide["capital_programme_plan"].sum()), "",
                 money(wide["high_needs_block_saving"].sum()),
                 money(wide["home_to_school_transport_saving"].sum()),
                 money(wide["total_saving"].sum())))
    note = ("Savings are against doing nothing; net saving = revenue savings − capital. The "
            "first and last financial years hold only the months the period covers.")
    return Table("finance", numbers.caption("capital and savings by financial year (£, cash)"),
                 ("Financial year", "Capital", "Capital budget", "High-needs saving",
                  "Transport saving", "Net saving"), tuple(rows),
                 (False, True, True, True, True, True), total=True, note=note)


def _independent_text(f: Facts) -> str | None:
    """Independent placement spend in the last whole FY, plan against do nothing (costs_by_fy)."""
    if f.run.do_nothing is None:
        return None
    costs = money_views.costs_by_fy(f.run)
    whole = f.money_fy.loc[f.money_fy["months_modelled"] == 12, "financial_year"]
    if whole.empty:
        return None
    year = int(whole.max())
    at = costs[costs["financial_year"] == year].set_index("case")["independent"]
    return (f"Independent placements (fees and transport) cost {money(at['plan'])} in "
            f"{fy_label(year)} with the programme, against {money(at['do_nothing'])} doing "
            "nothing.")


def _residual_text(f: Facts) -> str | None:
    """The residual value of the capital ([appraisal] annuity), when the plan has one."""
    plan = f.run.optimal.plan
    if RESIDUAL not in plan.columns or plan.empty:
        return None
    end = ay_label(f.run.dataset.config.end_year)
    return (f"Capital is charged over each asset's life: {money(plan[RESIDUAL].sum())} "
            f"(present value) of it serves after {end} and is not charged to this programme.")


def _deficit_text(f: Facts) -> str | None:
    """The cumulative high-needs deficit at the last whole FY, plan against do nothing."""
    deficit = money_views.deficit_path(f.run)
    if deficit is None:
        return None
    whole = deficit[deficit["months_modelled"] == 12]
    if whole.empty:
        return None
    r = whole.iloc[-1]
    return (f"The cumulative high-needs deficit at the end of {fy_label(int(r['financial_year']))}"
            f" is {money(r['plan_cumulative_deficit'])} with the programme, against "
            f"{money(r['do_nothing_cumulative_deficit'])} doing nothing.")


def _discount_text(f: Facts) -> str:
    config = f.run.dataset.config
    return (f"Present values are in today's prices, discounted to {ay_label(config.start_year)} "
            f"at {pct(config.discount_rate)} a year.")


# --- 6. Risks -------------------------------------------------------------------------


def risks(f: Facts) -> tuple[Block, ...]:
    """Slippage (when run), demand above forecast, a budget spent in full, delivery limits."""
    blocks: list[Block] = []
    if f.analyses.slippage is not None:
        blocks.append(Paragraph(_slippage_text(f.analyses.slippage), lead="Slippage."))
    blocks.append(Paragraph(_demand_risk_text(f), lead="Demand above forecast."))
    spent = f.figures.capital_by_year
    full = spent[spent["budget"].notna() & (spent["headroom"] <= BUDGET_SPENT)
                 & (spent["capital"] > 0)]
    if not full.empty:
        years = ", ".join(fy_label(int(y)) for y in full["capital_year"])
        blocks.append(Paragraph(f"The capital budget is spent in full in {years}: a cost "
                                "overrun there needs more capital or a later opening.",
                                lead="Capital."))
    return tuple(blocks)


def _slippage_text(tables: dict[str, pd.DataFrame]) -> str:
    """The cost of every opening a year late (slippage.csv, plans.csv)."""
    summary = tables["slippage.csv"]
    late = summary[summary["case"] != "as planned"]
    if late.empty:
        return "The slippage test has no slipped case."
    r = late.iloc[0]
    text = (f"If every opening were a year late, with the capital spent as programmed, the "
            f"programme would cost {money(r['extra_cost'])} more (present value) and place "
            f"{pupils(r['extra_independent_pupil_years'])} more pupil-years independently.")
    plans = tables.get("plans.csv")
    if plans is not None:
        dropped = int((plans["case"] == "dropped (past the horizon)").sum())
        if dropped:
            text += (f" {count(dropped, 'opening')} would fall beyond the "
                     f"period, with {money(r['sunk_capital'])} of capital spent.")
    return text


def _demand_risk_text(f: Facts) -> str:
    """Empty places left in the last year; the highest scenario when scenarios were run."""
    config = f.run.dataset.config
    last = config.end_year
    capacity = f.run.optimal.capacity
    empty = float(capacity.loc[capacity["year"] == last, "empty_places"].sum()) \
        if "empty_places" in capacity.columns else 0.0
    left = "no local place" if empty < 0.05 else f"{pupils(empty)} local places"
    text = (f"In {ay_label(last)} the programme leaves {left} empty; "
            "pupils beyond the forecast who find no local place would be placed independently "
            f"at about {money(config.independent.cost_per_place)} a year each, plus transport.")
    if f.analyses.scenarios is None:
        return text
    scenarios = f.analyses.scenarios["scenarios.csv"]
    high = scenarios.sort_values(["pupil_years", "scenario"]).iloc[-1]
    regret = f.analyses.scenarios["regret.csv"]
    mine = regret[(regret["plan"] == "robust") & (regret["scenario"] == high["scenario"])]
    if mine.empty:
        return text
    return text + (f" In the highest scenario ({high['scenario']}, "
                   f"{pct(high['vs_demand_csv'], 0)} of forecast demand) the robust plan costs "
                   f"{money(mine.iloc[0]['regret'])} more than the best plan for it.")


# --- 7. Transport and equalities ------------------------------------------------------


def transport_section(f: Facts) -> tuple[Block, ...]:
    """Journeys and pupils over the limit (transport summary); who is affected, by need."""
    return (Paragraph(_journeys_text(f)), Paragraph(_equalities_text(f)))


def _minutes(value: object) -> str:
    return MISSING if value is None else f"{float(value):.0f} minutes"


def _journeys_text(f: Facts) -> str:
    """Mean and longest journeys, transport £ and pupils over the limit, plan and do nothing."""
    summary = f.transport
    plan = summary["plan"]["horizon"]
    limits = ", ".join(f"{phase} {minutes:g}" for phase, minutes in
                       summary["limits_minutes"].items())
    text = (f"Pupils placed locally travel {_minutes(plan['mean_minutes'])} one way on average "
            f"(longest {_minutes(plan['max_minutes'])})")
    before = summary["do_nothing"]
    if before is not None:
        base = before["horizon"]
        text += (f", against {_minutes(base['mean_minutes'])} (longest "
                 f"{_minutes(base['max_minutes'])}) doing nothing. Transport costs "
                 f"{money(plan['transport_cost'])} over the period against "
                 f"{money(base['transport_cost'])}")
    over = float(plan["pupil_years_over_limit"] or 0.0)
    text += (f". {'No pupil' if over <= 0 else pupils(over) + ' pupil-years'} placed locally "
             f"travel{'s' if over <= 0 else ''} beyond the limit for their phase ({limits} "
             f"minutes one way). Journeys: {summary['travel_metric']}.")
    if "pupil_years_independent_over_limit" in plan:
        text += (f" Pupils in independent placements travelling beyond that limit: "
                 f"{pupils(plan['pupil_years_independent_over_limit'])} pupil-years")
        if before is not None:
            text += (f", against "
                     f"{pupils(before['horizon']['pupil_years_independent_over_limit'])} doing "
                     "nothing")
        text += "."
    return text


def _equalities_text(f: Facts) -> str:
    """The duty, and the independent placements avoided by need (placements tables)."""
    text = ("Every pupil in this assessment has special educational needs, and many are "
            "disabled within the meaning of the Equality Act 2010, so the public sector "
            "equality duty applies to each scheme.")
    if f.run.do_nothing is None:
        return text
    avoided = (_independent_by_need(f.run.do_nothing.placements)
               .sub(_independent_by_need(f.run.optimal.placements), fill_value=0.0))
    avoided = avoided[avoided.abs() >= 0.05].sort_values(ascending=False, kind="stable")
    if avoided.empty:
        return text
    parts = ", ".join(f"{cell(need)} {pupils(v)}" for need, v in avoided.items())
    return text + (" The programme places more of these pupils near home: independent "
                   f"placements avoided over the period, in pupil-years by need: {parts}.")


def _independent_by_need(placements: pd.DataFrame) -> pd.Series:
    independent = placements[placements["option_id"] == INDEPENDENT]
    return independent.groupby("need")["pupils"].sum()


# --- 8. Assumptions and data sources --------------------------------------------------


def assumptions(f: Facts) -> tuple[Block, ...]:
    """The main assumptions with their sources, the data files, and where the rest is."""
    table = f.figures.assumptions
    chosen = table[table["group"].isin(ASSUMPTION_GROUPS)]
    items = tuple(assumption_text(r.item, r.value, r.unit, r.source)
                  for r in chosen.itertuples())
    config = f.run.dataset.config
    sources = (f"Data: the council's dataset {dataset_files(f.run.dataset)}. Every figure in "
               f"this paper comes from the run's own tables in outputs/{config.name}/ "
               "(summary.json, plan.csv, money_by_fy.csv, transport.csv). The technical appendix "
               f"({REPORT_FILE}) and the workbook ({WORKBOOK_FILE}) give every assumption with "
               f"its source. Made by sufficiency {package_version()}; solver "
               f"{f.run.optimal.report.solver}.")
    blocks: list[Block] = [Items(items), Paragraph(sources)]
    if f.analyses.notes:
        blocks.append(Paragraph("; ".join(f.analyses.notes) + ".", lead="Analyses left out."))
    return tuple(blocks)


def dataset_files(dataset: Dataset) -> str:
    """The dataset and the tables it gave: "example/ (… sites.csv, …)" or a workbook's sheets."""
    inputs = dataset.config.inputs_dir
    optional = {"travel.csv": dataset.travel_metric.startswith("travel.csv"),
                "costs.csv": dataset.costs is not None,
                "independent.csv": dataset.providers is not None}
    tables = [("sites.csv", ""), ("demand.csv", " (the forecast)"),
              ("provision.csv", " (options, costs and timing)"),
              *((name, "") for name, given in optional.items() if given)]
    if not is_workbook(inputs):
        files = ["planning-area boundaries", *(name + note for name, note in tables)]
        return f"{inputs.name}/ ({', '.join(files)})"
    sheets = ", ".join(f"sheet '{Path(name).stem}'{note}" for name, note in tables)
    return (f"workbook {inputs.name} ({sheets}; the planning-area boundaries its "
            f"'{SETTINGS_SHEET}' sheet names)")


def assumption_text(item: str, value: object, unit: str, source: str) -> str:
    """'independent placement fee: £54,000 per pupil-year (run.toml: …)'."""
    if isinstance(value, float | int) and not isinstance(value, bool):
        if unit.startswith("£"):
            shown, unit = money(value, 0 if float(value).is_integer() else 2), unit[1:].strip()
        elif unit == "per year, real" or unit.startswith("per year ("):
            shown = pct(value)
        elif unit.startswith("academic year"):
            shown, unit = ay_label(int(value)), ""
        else:
            shown = plain_value(value)
    else:
        shown = plain_value(value)
    return " ".join(p for p in (f"{item}: {shown}", unit, f"({source})") if p)


# --- the paper ------------------------------------------------------------------------


def build_paper(run: RunResult, analyses: RunAnalyses | None = None,
                figures: CabinetFigures | None = None, map_png: bytes | None = None) -> Paper:
    """The cabinet paper of ``run`` (with ``analyses`` where present), as plain data."""
    figures = figures or cabinet_figures(run)
    facts = Facts(run, figures, analyses or RunAnalyses(), money_views.money_fy_wide(run),
                  money_views.programme_payback(run), transport_summary(run), map_png)
    numbers = _Numbers()
    built = [purpose(facts), recommendations(facts, numbers), reasons(facts),
             alternatives(facts, numbers), finance(facts, numbers), risks(facts),
             transport_section(facts), assumptions(facts)]
    sections = tuple(Section(section_key(title), f"{k}. {title}", blocks)
                     for k, (title, blocks) in enumerate(zip(SECTIONS, built, strict=True),
                                                         start=1))
    config = run.dataset.config
    return Paper(f"{config.name}: sufficiency of specialist SEND places",
                 f"Cabinet report · {ay_label(config.start_year)} to "
                 f"{ay_label(config.end_year)} · money in today's prices (£)", sections)


def render_paper_html(paper: Paper) -> str:
    """cabinet.html: the paper's text as one self-contained page (autoescaped jinja2)."""
    env = jinja_environment()
    env.filters["b64"] = lambda data: base64.b64encode(data).decode("ascii")
    return env.get_template("paper.html.j2").render(paper=paper)


def write_paper(run: RunResult, folder: Path, analyses: RunAnalyses | None = None) -> Paper:
    """cabinet.docx and cabinet.html into ``folder`` (the run's staging folder).

    The map figure is ``folder``'s plan_map.png when already drawn (report.outputs draws it
    beside the other outputs), else drawn and written here.
    """
    from sufficiency.report.paper_docx import paper_docx_bytes
    from sufficiency.report.static_map import plan_map_png

    drawn = folder / MAP_PNG
    if drawn.exists():
        png = drawn.read_bytes()
    else:
        png = plan_map_png(run)
        drawn.write_bytes(png)
    paper = build_paper(run, analyses, map_png=png)
    (folder / PAPER_DOCX).write_bytes(paper_docx_bytes(paper))
    (folder / PAPER_HTML).write_text(render_paper_html(paper), encoding="utf-8")
    return paper
