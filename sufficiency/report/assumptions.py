"""Every cost, rate, limit and budget a run used, with the input file and key it came from.

Two tidy tables: :func:`run_assumptions` (the run TOML's values, whether set there or left
at the engine's default, and what the dataset's demand and travel files contribute) and
:func:`option_assumptions` (each provision option's costs and limits, with its line in
``provision.csv``). Reports and the workbook show them as they are; nothing is recomputed.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd

from sufficiency.preprocess.config import RunConfig
from sufficiency.preprocess.dataset import Dataset
from sufficiency.preprocess.readers import ROW
from sufficiency.preprocess.vocabulary import INDEPENDENT
from sufficiency.preprocess.workbook import is_workbook, source_name
from sufficiency.report.style import ay_label

ASSUMPTION_COLUMNS = ["group", "item", "value", "unit", "source"]
OPTION_COLUMNS = ["option_id", "site_id", "kind", "needs", "phases", "existing_places",
                  "module_places", "max_modules", "capital_cost_per_module",
                  "fixed_capital_cost", "lead_time_years", "earliest_year",
                  "annual_cost_per_place", "annual_cost_per_commissioned_place"]
OPTION_UNITS = {"existing_places": "places", "module_places": "places per module",
                "max_modules": "modules", "capital_cost_per_module": "£",
                "fixed_capital_cost": "£", "lead_time_years": "years",
                "earliest_year": "academic year", "annual_cost_per_place": "£ per pupil-year",
                "annual_cost_per_commissioned_place": "£ per place-year"}

# Why the post-16 kinds' default lives differ (sufficiency.preprocess.capital.ASSET_LIFE_YEARS).
LIFE_NOTES = {"fe_college": "; high-needs places fitted out in a college's own buildings, "
                            "as a resourced unit",
              "specialist_post16": "; a specialist post-16 institution's own building, as a "
                                   "special-school block"}


def fy_label(year: int) -> str:
    """Label a financial year starting in April: 2026 -> 'FY 2026-27'."""
    return f"FY {year}-{(year + 1) % 100:02d}"


def _toml_keys(path: Path) -> set[str]:
    """Dotted keys set in the run TOML (empty if it cannot be read again)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return set()
    keys: set[str] = set()

    def walk(table: dict, prefix: str) -> None:
        for key, value in table.items():
            if isinstance(value, dict):
                walk(value, f"{prefix}{key}.")
            keys.add(f"{prefix}{key}")

    walk(data, "")
    return keys


class _Rows:
    """Collects assumption rows, citing the TOML key or the engine's default."""

    def __init__(self, config: RunConfig):
        self.file = config.toml_path.name
        self.given = _toml_keys(config.toml_path)
        self.rows: list[dict] = []

    def toml(self, group: str, item: str, value: object, unit: str, key: str) -> None:
        """A value from the run TOML (or its default when the key is absent)."""
        where = f"{self.file}: {key}" if key in self.given else (
            f"{self.file}: {key} not set, engine default")
        self.add(group, item, value, unit, where)

    def add(self, group: str, item: str, value: object, unit: str, source: str) -> None:
        """A row with an explicit source."""
        self.rows.append({"group": group, "item": item, "value": value, "unit": unit,
                          "source": source})


def _horizon(rows: _Rows, config: RunConfig) -> None:
    rows.toml("horizon", "first planning year", config.start_year,
              f"academic year ({ay_label(config.start_year)})", "start_year")
    rows.toml("horizon", "years planned", config.horizon_years,
              f"years (to {ay_label(config.end_year)})", "horizon_years")
    rows.toml("horizon", "discount rate", config.discount_rate, "per year, real",
              "discount_rate")


def _unit_costs(rows: _Rows, config: RunConfig) -> None:
    ind, t = config.independent, config.transport
    rows.toml("costs", "independent placement fee", ind.cost_per_place, "£ per pupil-year",
              "independent.cost_per_place")
    rows.toml("costs", "transport to an independent placement", ind.transport_cost_per_pupil,
              "£ per pupil-year", "independent.transport_cost_per_pupil")
    rows.toml("costs", "independent placement allowed", "yes" if ind.available else "no",
              "", "independent.available")
    rows.toml("costs", "transport, fixed part per local pupil", t.cost_per_pupil,
              "£ per pupil-year", "transport.cost_per_pupil")
    rows.toml("costs", "transport, per km of one-way road distance", t.cost_per_km,
              "£ per pupil-year per km", "transport.cost_per_km")


def _cost_files(rows: _Rows, dataset: Dataset) -> None:
    """costs.csv's rows and independent.csv's providers, each with its line (when given)."""
    inputs = dataset.config.inputs_dir
    if dataset.costs is not None:
        for rule in dataset.costs.to_dict("records"):
            who = (f"option {rule['option_id']}" if rule["option_id"]
                   else f"kind {rule['kind']}")
            where = f"{source_name(inputs, 'costs.csv')}, row {int(rule[ROW])}"
            item = f"{who}, need {rule['need']}, phase {rule['phase']}"
            if rule["kind"] == INDEPENDENT:
                rows.add("costs by need and phase", f"{item}: independent fee",
                         rule["cost_per_place"], "£ per pupil-year", where)
                rows.add("costs by need and phase", f"{item}: independent transport",
                         rule["transport_cost_per_pupil"], "£ per pupil-year", where)
            else:
                rows.add("costs by need and phase", f"{item}: filled place",
                         rule["annual_cost_per_place"], "£ per pupil-year", where)
    if dataset.providers is not None:
        for provider in dataset.providers.to_dict("records"):
            rows.add("independent providers",
                     f"{provider['name']} ({provider['provider_id']}): needs "
                     f"{';'.join(provider['needs'])}, phases {';'.join(provider['phases'])}",
                     provider["cost_per_place"], "£ per pupil-year (fee; transport by journey)",
                     source_name(inputs, "independent.csv"))


def _travel(rows: _Rows, dataset: Dataset) -> None:
    config = dataset.config
    for phase, minutes in config.travel_limit_minutes.items():
        rows.toml("limits", f"longest journey, {phase}", minutes, "minutes one way",
                  f"travel_limit_minutes.{phase}")
    given = dataset.travel_metric.startswith("travel.csv")  # a travel table was given
    rows.add("limits", "journeys", dataset.travel_metric, "",
             source_name(config.inputs_dir, "travel.csv") if given
             else f"{config.inputs_dir.name}/ areas and sites.csv"
             if not is_workbook(config.inputs_dir)
             else f"{source_name(config.inputs_dir, 'sites.csv')} and the areas file")
    if not given:
        t = config.transport
        rows.toml("limits", "speed for derived journey times", t.speed_kmh, "km/h",
                  "transport.speed_kmh")
        rows.toml("limits", "road km per straight-line km", t.circuity, "ratio",
                  "transport.circuity")


def _budget(rows: _Rows, config: RunConfig) -> None:
    for year in config.years:
        amount = config.capital_budget.get(year)
        if amount is None:
            rows.add("capital budget", fy_label(year), "no limit", "£, nominal",
                     f"{rows.file}: capital_budget.{year} not set")
        else:
            rows.toml("capital budget", fy_label(year), amount, "£, nominal",
                      f"capital_budget.{year}")


def _capital_rules(rows: _Rows, config: RunConfig) -> None:
    """[appraisal] and [capital], when either differs from the contract's v1 (else no rows)."""
    appraisal, capital = config.appraisal, config.capital
    if not (appraisal.annuity or capital.on):
        return
    rows.toml("capital", "how capital is counted", "over each asset's life (annuity)"
              if appraisal.annuity else "in full when spent (v1)", "", "appraisal.method")
    if appraisal.annuity:
        for kind, life in appraisal.asset_life_years.items():
            rows.toml("capital", f"asset life, {kind}", life,
                      "years (assumption: a typical accounting life"
                      + LIFE_NOTES.get(kind, "") + ")", f"appraisal.asset_life_years.{kind}")
    for kind, shares in sorted(capital.spend_profile.items()):
        rows.toml("capital", f"capital spent by year, {kind}",
                  ", ".join(f"{share:.0%}" for share in shares),
                  "shares in FY c, c + 1, … (c = opening − lead time)",
                  f"capital.spend_profile.{kind}")
    rows.toml("capital", "construction inflation", capital.construction_inflation,
              "per year (cash for the budget; the plan's cost stays in real terms)",
              "capital.construction_inflation")


def _solver(rows: _Rows, config: RunConfig) -> None:
    rows.toml("solver", "time limit", config.solver.time_limit_s, "seconds",
              "solver.time_limit_s")
    rows.toml("solver", "optimality gap accepted", config.solver.mip_gap, "relative",
              "solver.mip_gap")


def _demand(rows: _Rows, dataset: Dataset) -> None:
    source = source_name(dataset.config.inputs_dir, "demand.csv")
    by_year = dataset.demand.groupby("year")["pupils"].sum()
    for year in dataset.config.years:
        rows.add("demand", f"pupils needing a specialist place, {ay_label(year)}",
                 round(float(by_year.get(year, 0.0)), 4), "pupils", source)


def run_assumptions(dataset: Dataset) -> pd.DataFrame:
    """group, item, value, unit, source: the run's rates, costs, limits, budgets and demand."""
    config = dataset.config
    rows = _Rows(config)
    _horizon(rows, config)
    _unit_costs(rows, config)
    _cost_files(rows, dataset)
    _travel(rows, dataset)
    _budget(rows, config)
    _capital_rules(rows, config)
    _demand(rows, dataset)
    _solver(rows, config)
    return pd.DataFrame(rows.rows, columns=ASSUMPTION_COLUMNS)


def option_assumptions(dataset: Dataset) -> pd.DataFrame:
    """Each provision option's places, costs and timing, with its line in provision.csv."""
    options = dataset.options
    table = options[OPTION_COLUMNS].copy()
    table["needs"] = options["needs"].map(";".join)
    table["phases"] = options["phases"].map(";".join)
    file = source_name(dataset.config.inputs_dir, "provision.csv")
    if ROW in options:
        table["source"] = [f"{file}, row {int(r)}" for r in options[ROW]]
    else:
        table["source"] = file
    return table.reset_index(drop=True)


def option_assumptions_long(dataset: Dataset) -> pd.DataFrame:
    """The option table as assumption rows (group = option), for one sheet of the workbook."""
    wide = option_assumptions(dataset)
    rows = [{"group": f"provision option {row['option_id']}", "item": column,
             "value": row[column], "unit": OPTION_UNITS.get(column, ""),
             "source": row["source"]}
            for row in wide.to_dict("records") for column in OPTION_COLUMNS[1:]]
    return pd.DataFrame(rows, columns=ASSUMPTION_COLUMNS)
