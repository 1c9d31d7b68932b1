"""Money as a council budgets it: budget lines, financial years, payback and the deficit path.

The model's years are academic years (AY 2026/27 runs September 2026 – August 2027); a
council budgets by financial year (FY 2026-27 runs April 2026 – March 2027). Rules:

- **Budget lines.** High-needs block (DSG): filled places (with any over-capacity premium),
  commissioned places and independent placement fees. Home-to-school transport (the
  council's general fund): journeys to local places and taxis to independent placements.
  Capital programme: capital *cash* (``capital_cash`` when the run has it, else
  ``capital``), by the FY it is spent in. High-needs + transport = the cost tables'
  ``total − capital``, so nothing is left out.
- **AY → FY.** An AY's revenue falls 7/12 in the FY of its September (September – March)
  and 5/12 in the next FY (April – August): AY 2026/27 → 7/12 FY 2026-27, 5/12 FY 2027-28.
  Capital is already by FY (the model's capital year is a FY). FY tables run from the FY of
  the first AY to the FY after the last; the first holds 7 modelled months of revenue and
  the last 5 (``months_modelled``), so Σ FY = Σ AY for every line. FY tables are
  undiscounted cash (£ real for revenue; capital as spent).
- **Payback.** With S(t) the cumulative revenue saving (high-needs + transport, do nothing −
  plan) to the end of AY t and K(t) the cumulative capital cash to the end of FY t (FY t
  ends in March, within AY t): the payback year is the first AY, from the first FY in
  which capital is spent, from which S ≥ K holds in every remaining year of the horizon
  (a later tranche of capital can undo an earlier payback); "beyond the horizon" when
  S < K in the last year; none when no capital is spent. For one opening, S and K are the
  differences between the best plan without it and the plan
  (:mod:`sufficiency.analyses.openings`): its revenue saving, and the capital cash the plan
  spends beyond the plan without it.
- **Deficit path** (``[finance]``): in-year deficit = specialist high-needs spend (the
  high-needs line) + other high-needs spend − allocation, for every FY with an allocation
  that the horizon covers in full (12 modelled months); the cumulative deficit adds them up
  from ``deficit_brought_forward``. A FY the horizon covers only in part has no deficit
  figure: its other months are not modelled.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sufficiency.outcome import CAPITAL_CASH, PlanResult, RunResult
from sufficiency.report.assumptions import fy_label
from sufficiency.report.style import ay_label
from sufficiency.report.transport import independent_transport_by_year

AUTUMN_SHARE = 7 / 12  # September – March: the FY of the AY's September
SUMMER_SHARE = 5 / 12  # April – August: the next FY
HIGH_NEEDS, TRANSPORT, CAPITAL = "high_needs_block", "home_to_school_transport", "capital_programme"
LINES = (HIGH_NEEDS, TRANSPORT, CAPITAL)
REVENUE_LINES = (HIGH_NEEDS, TRANSPORT)
TOTAL = "total"
LINE_LABELS = {HIGH_NEEDS: "High-needs block (places, commissioned places, independent fees)",
               TRANSPORT: "Home-to-school transport (local journeys, independent taxis)",
               CAPITAL: "Capital programme (cash)", TOTAL: "All three"}
NO_CAPITAL, BEYOND = "no capital spent", "beyond the horizon"
NO_EXTRA_CAPITAL = "no extra capital: the plan without it spends as much or more"
INFEASIBLE_WITHOUT = "no plan places every pupil without it"
NOT_COMPUTED = ("not computed: run `sufficiency report` (or `sufficiency plan --why`) for the "
                "value and payback of each opening")
PAYBACK_RULE = ("first academic year, from the first capital spent, from which cumulative "
                "undiscounted revenue savings against doing nothing (high-needs block + "
                "transport) cover the cumulative capital cash spent (capital of FY t counts "
                "by AY t) in every remaining year of the horizon")
PAYBACK_SLACK = 1.0  # £ of rounding allowed in S ≥ K
MONEY_FY_FILE, MONEY_AY_FILE = "money_by_fy.csv", "money_by_ay.csv"
COSTS_FY_FILE = "costs_by_fy.csv"
REVENUE_COMPONENTS = ("placement", "commissioned", "transport", "independent")
DEFICIT_FILE, OPENINGS_FILE = "high_needs_deficit.csv", "opening_values.csv"


def split_costs(costs: pd.DataFrame, fee: float, taxi: float,
                taxi_by_year: pd.Series | None = None) -> pd.DataFrame:
    """year, revenue, transport, capital, total: independent cost split into fee and taxi.

    Transport = local journeys + taxis to independent placements; revenue = everything else
    that is not capital (places, commissioned places, independent fees, any other running
    cost component), so revenue + transport + capital = total. The taxis are the flat
    share taxi / (fee + taxi) of the independent cost, or ``taxi_by_year`` (£ per year)
    where costs vary by need, phase or provider (costs.csv, independent.csv).
    """
    if taxi_by_year is not None:
        transport = costs["transport"] + taxi_by_year.reindex(costs["year"]).to_numpy(float)
    else:
        share = fee / (fee + taxi) if fee + taxi > 0 else 1.0
        transport = costs["transport"] + costs["independent"] * (1.0 - share)
    return pd.DataFrame({
        "year": costs["year"].astype("int64"),
        "revenue": costs["total"] - transport - costs["capital"],
        "transport": transport,
        "capital": costs["capital"],
        "total": costs["total"],
        "discounted_total": costs["discounted_total"],
    })


def capital_cash(costs: pd.DataFrame) -> pd.Series:
    """Capital cash by FY (£): ``capital_cash`` when the run has it, else ``capital``."""
    column = CAPITAL_CASH if CAPITAL_CASH in costs.columns else "capital"
    return costs[column].set_axis(costs["year"].astype("int64").to_numpy()).astype(float)


def lines_by_ay(run: RunResult, result: PlanResult) -> pd.DataFrame:
    """£ by budget line (columns LINES) and AY (index); capital in the FY of that number."""
    ind = run.dataset.config.independent
    split = split_costs(result.costs_by_year, ind.cost_per_place, ind.transport_cost_per_pupil,
                        independent_transport_by_year(run.dataset, result))
    years = split["year"].to_numpy()
    return pd.DataFrame({HIGH_NEEDS: split["revenue"].to_numpy(float),
                         TRANSPORT: split["transport"].to_numpy(float),
                         CAPITAL: capital_cash(result.costs_by_year).reindex(years)
                         .fillna(0.0).to_numpy()}, index=pd.Index(years, name="year"))


def fy_months(years: list[int]) -> pd.Series:
    """Months of revenue the horizon models in each FY it touches (7, 12, …, 12, 5)."""
    fys = [*years, years[-1] + 1]
    months = [7 if fy == years[0] else 5 if fy == years[-1] + 1 else 12 for fy in fys]
    return pd.Series(months, index=pd.Index(fys, name="year"))


def ay_to_fy(by_ay: pd.DataFrame, revenue: tuple[str, ...], capital: tuple[str, ...] = ()
             ) -> pd.DataFrame:
    """An AY-indexed money table by FY: revenue columns split 7/12 + 5/12, capital as it is.

    The index runs from the FY of the first AY to the FY after the last; every column keeps
    its total (Σ FY = Σ AY).
    """
    years = [int(y) for y in by_ay.index]
    fys = [*years, years[-1] + 1]
    out = pd.DataFrame(index=pd.Index(fys, name="year"))
    for column in revenue:
        values = by_ay[column].astype(float)
        autumn = (values * AUTUMN_SHARE).reindex(fys, fill_value=0.0)
        summer = (values * SUMMER_SHARE).set_axis([y + 1 for y in years]).reindex(
            fys, fill_value=0.0)
        out[column] = autumn + summer
    for column in capital:
        out[column] = by_ay[column].astype(float).reindex(fys, fill_value=0.0)
    return out


def lines_by_fy(run: RunResult, result: PlanResult) -> pd.DataFrame:
    """£ by budget line and FY (undiscounted cash)."""
    return ay_to_fy(lines_by_ay(run, result), REVENUE_LINES, (CAPITAL,))


def _long(plan: pd.DataFrame, do_nothing: pd.DataFrame | None, year_column: str,
          label) -> pd.DataFrame:
    """One row per year and budget line (and their total): plan, do nothing, saving."""
    plan = plan.assign(**{TOTAL: plan[list(LINES)].sum(axis=1)})
    if do_nothing is not None:
        do_nothing = do_nothing.assign(**{TOTAL: do_nothing[list(LINES)].sum(axis=1)})
    rows = []
    for year in plan.index:
        for line in (*LINES, TOTAL):
            ours = float(plan.at[year, line])
            theirs = np.nan if do_nothing is None else float(do_nothing.at[year, line])
            rows.append({year_column: int(year), "label": label(int(year)), "budget_line": line,
                         "plan": round(ours, 2), "do_nothing": round(theirs, 2),
                         "saving": round(theirs - ours, 2)})
    return pd.DataFrame(rows)


def money_by_ay(run: RunResult) -> pd.DataFrame:
    """money_by_ay.csv: academic_year, label, budget_line, plan, do_nothing, saving (£)."""
    base = None if run.do_nothing is None else lines_by_ay(run, run.do_nothing)
    return _long(lines_by_ay(run, run.optimal), base, "academic_year", ay_label)


def money_by_fy(run: RunResult) -> pd.DataFrame:
    """money_by_fy.csv: by FY and budget line, plan, do nothing and saving (£, cash).

    Columns: financial_year, label, months_modelled, budget_line, plan, do_nothing, saving.
    """
    base = None if run.do_nothing is None else lines_by_fy(run, run.do_nothing)
    table = _long(lines_by_fy(run, run.optimal), base, "financial_year", fy_label)
    months = fy_months(run.dataset.config.years)
    table.insert(2, "months_modelled", table["financial_year"].map(months).astype("int64"))
    return table


def costs_fy(result: PlanResult, case: str) -> pd.DataFrame:
    """costs_by_year.csv's components by FY (£, undiscounted cash) for one plan.

    Revenue components split 7/12 into the FY of the AY's September and 5/12 into the next;
    capital is its cash by FY (``capital_cash`` when the run has one). Each column keeps its
    AY total.
    """
    by_ay = result.costs_by_year.set_index(result.costs_by_year["year"].astype("int64"))
    table = by_ay[list(REVENUE_COMPONENTS)].astype(float).assign(
        capital=capital_cash(result.costs_by_year).reindex(by_ay.index).fillna(0.0))
    fy = ay_to_fy(table, REVENUE_COMPONENTS, ("capital",))
    fy[TOTAL] = fy[[*REVENUE_COMPONENTS, "capital"]].sum(axis=1)
    fy = fy.round(2).rename_axis("financial_year").reset_index()
    fy.insert(0, "case", case)
    fy.insert(2, "label", fy["financial_year"].map(fy_label))
    return fy


def costs_by_fy(run: RunResult) -> pd.DataFrame:
    """costs_by_fy.csv: the plan's and do nothing's cost components by FY (£, cash)."""
    cases = [costs_fy(run.optimal, "plan")]
    if run.do_nothing is not None:
        cases.append(costs_fy(run.do_nothing, "do_nothing"))
    return pd.concat(cases, ignore_index=True)


def payback_year(saving: pd.Series, capital: pd.Series, years: list[int]
                 ) -> tuple[int | None, str]:
    """(AY, words): the payback rule (module docstring) for ``saving`` and ``capital``.

    ``saving``: revenue saving by AY; ``capital``: capital cash by FY (£). The AY is None
    when nothing is paid back within the horizon, or no capital is spent.
    """
    saved = saving.reindex(years, fill_value=0.0).astype(float).cumsum()
    spent = capital.reindex(years, fill_value=0.0).astype(float).cumsum()
    if float(spent.max()) <= PAYBACK_SLACK:
        return None, NO_CAPITAL
    short = (saved - spent) < -PAYBACK_SLACK
    if bool(short.iloc[-1]):
        return None, BEYOND
    first_spend = int(spent.index[spent > PAYBACK_SLACK][0])
    late = [int(y) for y, s in short.items() if s]
    year = max(first_spend, late[-1] + 1) if late else first_spend
    return year, ay_label(year)


def programme_payback(run: RunResult) -> dict[str, object]:
    """The plan's payback against doing nothing: year (AY), words, the rule."""
    if run.do_nothing is None:
        return {"payback_year": None, "payback": {
            "status": "not available: doing nothing cannot place every pupil",
            "rule": PAYBACK_RULE}}
    plan, base = lines_by_ay(run, run.optimal), lines_by_ay(run, run.do_nothing)
    saving = base[list(REVENUE_LINES)].sum(axis=1) - plan[list(REVENUE_LINES)].sum(axis=1)
    year, words = payback_year(saving, plan[CAPITAL] - base[CAPITAL],
                               run.dataset.config.years)
    return {"payback_year": year, "payback": {"status": words, "rule": PAYBACK_RULE,
                                              "capital_cash": round(float(plan[CAPITAL].sum()),
                                                                    2),
                                              "revenue_saving": round(float(saving.sum()), 2)}}


def opening_values(run: RunResult) -> pd.DataFrame | None:
    """The value of each opening (re-solved) with its payback; None when not computed."""
    if run.openings is None:
        return None
    table = run.openings.table.copy()
    by_year, years = run.openings.by_year, run.dataset.config.years
    paybacks = []
    for option_id, status in zip(table["option_id"], table["status"], strict=True):
        if status == "infeasible_without":
            paybacks.append((None, INFEASIBLE_WITHOUT))
            continue
        rows = by_year[by_year["option_id"] == option_id].set_index("year")
        if rows.empty:  # the re-solve found no plan in its time
            paybacks.append((None, f"not computed: the re-solve ended {status}"))
            continue
        year, words = payback_year(rows["revenue_saving"], rows["capital_cash_extra"], years)
        paybacks.append((year, NO_EXTRA_CAPITAL if words == NO_CAPITAL else words))
    table["payback_year"] = pd.array([p[0] for p in paybacks], dtype="Int64")
    table["payback"] = [p[1] for p in paybacks]
    return table


def deficit_path(run: RunResult) -> pd.DataFrame | None:
    """The high-needs deficit by FY with and without the plan ([finance]); None without it."""
    finance = run.dataset.config.finance
    if not finance.stated:
        return None
    years = run.dataset.config.years
    months = fy_months(years)
    plan = lines_by_fy(run, run.optimal)[HIGH_NEEDS]
    base = None if run.do_nothing is None else lines_by_fy(run, run.do_nothing)[HIGH_NEEDS]
    rows = []
    totals = {"plan": finance.deficit_brought_forward,
              "do_nothing": finance.deficit_brought_forward}
    for fy, allocation in sorted(finance.high_needs_allocation.items()):
        other = finance.other_high_needs_spend.get(fy, 0.0)
        row: dict[str, object] = {"financial_year": fy, "label": fy_label(fy),
                                  "months_modelled": int(months.get(fy, 0)),
                                  "allocation": allocation, "other_spend": other}
        for name, spend in (("plan", plan), ("do_nothing", base)):
            if spend is None or row["months_modelled"] != 12:
                row |= {f"{name}_spend": np.nan, f"{name}_in_year_deficit": np.nan,
                        f"{name}_cumulative_deficit": np.nan}
                continue
            total = float(spend.get(fy, 0.0)) + other
            totals[name] += total - allocation
            row |= {f"{name}_spend": round(total, 2),
                    f"{name}_in_year_deficit": round(total - allocation, 2),
                    f"{name}_cumulative_deficit": round(totals[name], 2)}
        rows.append(row)
    return pd.DataFrame(rows)


def money_tables(run: RunResult) -> dict[str, pd.DataFrame]:
    """The CSV files of this module: by AY, by FY, and the deficit and opening values if any."""
    tables = {MONEY_AY_FILE: money_by_ay(run), MONEY_FY_FILE: money_by_fy(run),
              COSTS_FY_FILE: costs_by_fy(run)}
    deficit = deficit_path(run)
    if deficit is not None:
        tables[DEFICIT_FILE] = deficit
    openings = opening_values(run)
    if openings is not None:
        tables[OPENINGS_FILE] = openings
    return tables


def payback_summary(run: RunResult) -> dict[str, object]:
    """summary.json's ``payback_year`` and ``payback``, and the opening values' headline."""
    figures = programme_payback(run)
    openings = opening_values(run)
    figures["opening_values"] = (
        {"status": NOT_COMPUTED} if openings is None else
        {"status": "computed", "seconds": round(run.openings.seconds, 1),
         "openings": len(openings),
         "infeasible_without": int((openings["status"] == "infeasible_without").sum()),
         "time_limited": int((openings["status"] == "time_limit").sum())})
    return figures


def money_fy_wide(run: RunResult) -> pd.DataFrame:
    """The report's FY table: one row per FY, ``<line>_plan`` / ``_do_nothing`` / ``_saving``.

    For every budget line and their total, after ``financial_year`` and ``months_modelled``.
    """
    long = money_by_fy(run)
    wide = long.pivot(index=["financial_year", "months_modelled"], columns="budget_line",
                      values=["plan", "do_nothing", "saving"])
    wide.columns = [f"{line}_{what}" for what, line in wide.columns]
    return wide.reset_index()


WHY_ESTIMATES = ["saving_per_pupil_year", "saving"]  # why.py's estimate: not shown in views


def why_view(run: RunResult, why: pd.DataFrame,
             values: pd.DataFrame | None = None) -> pd.DataFrame:
    """Why each opening as the report and workbook show it, with the re-solved value if any.

    The cost-per-pupil-year comparison (:mod:`sufficiency.report.why`), and the value of the
    opening from the re-solves when they were computed.

    Columns added: ``value``, ``value_low``, ``value_high`` (£, discounted), ``run_gap``,
    ``resolve_gap`` (£),
    ``value_status`` and ``payback_year`` / ``payback``; without re-solves ``value`` is
    empty and ``value_status`` says how to get it (never the estimate, which can be < 0).
    ``values``: :func:`opening_values` of the run when already computed.
    """
    view = why.drop(columns=[c for c in WHY_ESTIMATES if c in why.columns])
    values = opening_values(run) if values is None else values
    if values is None:
        return view.assign(value=np.nan, value_low=np.nan, value_high=np.nan,
                           run_gap=np.nan, resolve_gap=np.nan,
                           value_status=NOT_COMPUTED,
                           payback_year=pd.array([None] * len(view), dtype="Int64"),
                           payback=NOT_COMPUTED)
    values = values.rename(columns={"status": "value_status"})[
        ["option_id", "value", "value_low", "value_high", "run_gap", "resolve_gap",
         "value_status", "payback_year", "payback"]]
    view = view.merge(values, on="option_id", how="left")
    fixed = view["value_status"].isna()  # committed or locked only: valued as a commitment
    view.loc[fixed, ["value_status", "payback"]] = "fixed opening (see Committed schemes)"
    return view.sort_values(["value", "option_id"], ascending=[False, True],
                            na_position="last").reset_index(drop=True)
