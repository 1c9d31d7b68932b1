"""Demand scenarios of a run: weighted variants of ``demand.csv`` named in the run TOML.

A contract extension. Each ``[scenarios.<name>]`` table describes one scenario's demand
as the dataset's ``demand.csv`` (or a whole other demand file) times multipliers::

    [scenarios.low]
    weight = 0.25                    # relative; weights are normalised to sum to 1 (default 1)
    demand_multiplier = 0.9          # × every demand row

    [scenarios.central]
    weight = 0.5                     # a scenario with no other key is demand.csv itself

    [scenarios.high]
    weight = 0.25
    growth_per_year = 0.03           # × (1 + g) ** (year − start_year): compound growth
    need_multipliers = { ASD = 1.2 } # × rows of that need (SEN2 code, any case)
    area_multipliers = { NWA = 1.3 } # × rows of that planning area (housing-led uplift)
    year_multipliers = { 2031 = 1.1 }  # × rows of that academic year

    [scenarios.housing]
    demand_file = "demand_housing.csv"  # relative to the dataset folder; same columns and
                                        # checks as demand.csv; multipliers apply on top;
                                        # inside the dataset or project folder

Multipliers multiply together; pupils may become fractional (the model places fractions).
The **central** scenario (the plan a council would make without scenarios) is the one
named ``central``, else the one with the largest weight (the first by name on a tie).
Options, sites, travel and costs are the same in every scenario: only demand differs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from sufficiency.errors import InputError, Issue
from sufficiency.preprocess.checks import check_current_within_demand, check_demand
from sufficiency.preprocess.config import RUN_NAME_PATTERN, RunConfig
from sufficiency.preprocess.dataset import CURRENT_FILE, Dataset
from sufficiency.preprocess.paths import UnusablePath, inside, resolve
from sufficiency.preprocess.readers import ROW, read_csv_table
from sufficiency.preprocess.tomlread import TomlReader, year_key_problem
from sufficiency.preprocess.vocabulary import NEEDS, need_code
from sufficiency.preprocess.workbook import dataset_folder

CENTRAL = "central"
SCENARIO_KEYS = {"weight", "demand_file", "demand_multiplier", "growth_per_year",
                 "need_multipliers", "area_multipliers", "year_multipliers"}
MAX_MULTIPLIER = 100.0


@dataclass(frozen=True)
class ScenarioSpec:
    """One scenario as written in the run TOML, checked (weights not yet normalised)."""

    name: str
    weight: float = 1.0
    demand_file: Path | None = None  # absolute path; None: the dataset's demand.csv
    demand_multiplier: float = 1.0
    growth_per_year: float = 0.0
    need_multipliers: dict[str, float] = field(default_factory=dict)
    area_multipliers: dict[str, float] = field(default_factory=dict)
    year_multipliers: dict[int, float] = field(default_factory=dict)

    def describe(self) -> str:
        """The scenario's demand in one line (for tables)."""
        parts = [f"file {self.demand_file.name}"] if self.demand_file else []
        if self.demand_multiplier != 1.0:
            parts.append(f"× {self.demand_multiplier:g}")
        if self.growth_per_year:
            parts.append(f"growth {self.growth_per_year:+.2%}/year")
        for label, table in (("need", self.need_multipliers), ("area", self.area_multipliers),
                             ("year", self.year_multipliers)):
            parts += [f"{label} {key} × {value:g}" for key, value in table.items()]
        return "; ".join(parts) or "demand.csv as given"


@dataclass(frozen=True)
class Scenario:
    """A checked scenario: its normalised weight and the dataset with its demand."""

    spec: ScenarioSpec
    weight: float
    dataset: Dataset

    @property
    def name(self) -> str:
        """The scenario's name, from the TOML."""
        return self.spec.name


def _multipliers(reader: TomlReader, table: dict[str, Any], key: str,
                 prefix: str) -> dict[str, float]:
    """A ``{key = multiplier}`` inline table, sorted by key; values 0 … 100."""
    values = reader.number_table(table, key, prefix, f"write e.g. {key} = {{ X = 1.1 }}",
                                 maximum=MAX_MULTIPLIER)
    return dict(sorted(values.items()))


def _need_multipliers(reader: TomlReader, table: dict[str, Any],
                      prefix: str) -> dict[str, float]:
    """Need multipliers with their codes checked (any case, stored upper case)."""
    values = _multipliers(reader, table, "need_multipliers", prefix)
    for code in values:
        if need_code(code) is None:
            reader.problem(f"{prefix}need_multipliers.{code}", "is not an SEN2 need code",
                           f"use one of {', '.join(NEEDS)}")
    return {code.upper(): value for code, value in values.items()}


def _year_multipliers(reader: TomlReader, table: dict[str, Any], prefix: str,
                      years: list[int]) -> dict[int, float]:
    """Year multipliers; every key must be an academic year of the horizon."""
    values = _multipliers(reader, table, "year_multipliers", prefix)
    out = {}
    for key, value in values.items():
        if year_key_problem(key) or int(key) not in years:
            reader.problem(f"{prefix}year_multipliers.{key}", "is not a year of the horizon",
                           f"use academic years {years[0]}..{years[-1]}")
        else:
            out[int(key)] = value
    return out


def _demand_file(reader: TomlReader, table: dict[str, Any], prefix: str,
                 config: RunConfig) -> Path | None:
    """The scenario's own demand file, relative to the dataset folder; it must exist.

    It must lie (symbolic links resolved) inside the dataset folder or the project folder:
    a run file from elsewhere may not read, and echo in messages, any other file.
    """
    name = table.get("demand_file")
    if name is None:
        return None
    if not isinstance(name, str) or not name.strip():
        reader.problem(prefix + "demand_file", f"{name!r} is not a file name",
                       'write e.g. demand_file = "demand_high.csv"')
        return None
    try:
        path = resolve(dataset_folder(config.inputs_dir) / name)
    except UnusablePath as exc:
        reader.problem(prefix + "demand_file", f"{name!r} is not a usable path: {exc}",
                       'write a file name, e.g. demand_file = "demand_high.csv"')
        return None
    if not (inside(path, resolve(dataset_folder(config.inputs_dir)))
            or inside(path, config.project)):
        reader.problem(prefix + "demand_file", f"{name!r} leads outside the dataset and "
                       "project folders; it was not read",
                       "put the file in the dataset folder (symbolic links are followed "
                       'before checking) and write e.g. demand_file = "demand_high.csv"')
        return None
    if not path.is_file():
        reader.problem(prefix + "demand_file", f"file {path} does not exist",
                       "the path is relative to the dataset folder named by `inputs`")
        return None
    return path


def _read_spec(reader: TomlReader, config: RunConfig, name: str) -> ScenarioSpec:
    """One ``[scenarios.<name>]`` table, checked key by key."""
    prefix = f"scenarios.{name}."
    if not RUN_NAME_PATTERN.match(name):
        reader.problem(f"scenarios.{name}", "is not a usable scenario name",
                       "use letters, digits, '-', '_' or '.', e.g. [scenarios.high]")
    table = reader.table(config.scenarios, name, "scenarios.", SCENARIO_KEYS)
    return ScenarioSpec(
        name=name,
        weight=float(reader.number(table, "weight", prefix, 1.0, maximum=1e6)),
        demand_file=_demand_file(reader, table, prefix, config),
        demand_multiplier=float(reader.number(table, "demand_multiplier", prefix, 1.0,
                                              maximum=MAX_MULTIPLIER)),
        growth_per_year=float(reader.number(table, "growth_per_year", prefix, 0.0,
                                            minimum=-0.5, maximum=1.0)),
        need_multipliers=_need_multipliers(reader, table, prefix),
        area_multipliers=_multipliers(reader, table, "area_multipliers", prefix),
        year_multipliers=_year_multipliers(reader, table, prefix, config.years),
    )


def parse_scenarios(config: RunConfig) -> list[ScenarioSpec]:
    """The run's ``[scenarios.*]`` tables, checked and sorted by name.

    Raises :class:`InputError` naming every wrong key; a run without scenarios is one too,
    since the scenario commands need them.
    """
    reader = TomlReader(config.toml_path.name)
    if not config.scenarios:
        reader.problem("scenarios", "the run names no scenarios",
                       "add [scenarios.<name>] tables, e.g. [scenarios.high] "
                       "demand_multiplier = 1.2 (see docs/scenarios.md)")
    specs = [_read_spec(reader, config, name) for name in sorted(config.scenarios)]
    if specs and not reader.issues and sum(s.weight for s in specs) <= 0:
        reader.problem("scenarios", "every scenario has weight 0",
                       "give at least one scenario a positive weight")
    reader.raise_issues()
    return specs


def central_name(specs: list[ScenarioSpec]) -> str:
    """The central scenario: the one named ``central``, else the heaviest (first by name)."""
    names = [spec.name for spec in specs]
    if CENTRAL in names:
        return CENTRAL
    heaviest = max(spec.weight for spec in specs)
    return min(spec.name for spec in specs if spec.weight == heaviest)


def _read_demand_file(dataset: Dataset, path: Path) -> pd.DataFrame:
    """A scenario's whole demand file, checked like demand.csv (areas must exist)."""
    label = path.name
    frame, cells = check_demand(read_csv_table(path, label), label, dataset.config)
    issues = list(cells.issues)
    if not issues:
        known = set(dataset.areas["area_id"])
        cells.references("area_id", frame["area_id"], known, "areas")
        issues = cells.issues
    if issues:
        raise InputError(issues)
    return (frame.drop(columns=ROW).astype({"year": "int64"})
            .sort_values(["area_id", "need", "phase", "year"]).reset_index(drop=True))


def _unknown_areas(dataset: Dataset, spec: ScenarioSpec) -> list[Issue]:
    known = set(dataset.areas["area_id"])
    return [Issue(dataset.config.toml_path.name, None,
                  f"scenarios.{spec.name}.area_multipliers.{area}", "names no planning area",
                  "use an area_id of the areas file", column_label="key")
            for area in spec.area_multipliers if area not in known]


def scenario_demand(dataset: Dataset, spec: ScenarioSpec) -> pd.DataFrame:
    """Demand of one scenario: its base file times every multiplier (pupils, 6 decimals)."""
    issues = _unknown_areas(dataset, spec)
    if issues:
        raise InputError(issues)
    demand = dataset.demand if spec.demand_file is None else _read_demand_file(
        dataset, spec.demand_file)
    factor = pd.Series(spec.demand_multiplier, index=demand.index)
    start = dataset.config.start_year
    factor *= (1.0 + spec.growth_per_year) ** (demand["year"] - start)
    factor *= demand["need"].map(spec.need_multipliers).fillna(1.0)
    factor *= demand["area_id"].map(spec.area_multipliers).fillna(1.0)
    factor *= demand["year"].map(spec.year_multipliers).fillna(1.0)
    demand = demand.assign(pupils=(demand["pupils"] * factor).round(6))
    if not math.isfinite(demand["pupils"].sum()) or demand["pupils"].sum() <= 0:
        raise InputError(Issue(dataset.config.toml_path.name, None, f"scenarios.{spec.name}",
                               "leaves no pupils at all", "check its multipliers",
                               column_label="key"))
    _check_current(dataset, spec, demand)
    return demand


def _check_current(dataset: Dataset, spec: ScenarioSpec, demand: pd.DataFrame) -> None:
    """Pupils already placed (current_placements.csv) must fit the scenario's first year."""
    if dataset.current is None:
        return
    over = check_current_within_demand(dataset.current, demand, dataset.config.start_year,
                                       CURRENT_FILE)
    if over:
        raise InputError([Issue(dataset.config.toml_path.name, None, f"scenarios.{spec.name}",
                                f"its first-year demand is below the pupils already placed "
                                f"({issue.message})", "keep the first year's demand at least "
                                "as large, e.g. with year_multipliers", column_label="key")
                          for issue in over])


def load_scenarios(dataset: Dataset) -> list[Scenario]:
    """Every scenario of the run with its normalised weight and its own dataset."""
    specs = parse_scenarios(dataset.config)
    total = sum(spec.weight for spec in specs)
    return [Scenario(spec, spec.weight / total,
                     replace(dataset, demand=scenario_demand(dataset, spec))) for spec in specs]


def scenario_table(scenarios: list[Scenario], base: Dataset) -> pd.DataFrame:
    """One row per scenario: weight, central, total pupil-years against demand.csv, demand."""
    central = central_name([s.spec for s in scenarios])
    base_total = float(base.demand["pupils"].sum())
    rows = [{"scenario": s.name, "weight": round(s.weight, 9), "central": s.name == central,
             "pupil_years": round(float(s.dataset.demand["pupils"].sum()), 6),
             "vs_demand_csv": round(float(s.dataset.demand["pupils"].sum()) / base_total, 6),
             "demand": s.spec.describe()} for s in scenarios]
    return pd.DataFrame(rows)

