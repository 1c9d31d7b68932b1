"""Sensitivity sweeps: one input parameter over several values, each an independent run.

A parameter is a dotted key, as in the run TOML:

- ``discount_rate``
- ``independent.cost_per_place``, ``independent.transport_cost_per_pupil`` (£ per pupil-year)
- ``transport.cost_per_pupil``, ``transport.cost_per_km``, ``transport.speed_kmh``,
  ``transport.circuity``
- ``travel_limit_minutes.primary`` (``.secondary``, ``.post16``), minutes
- ``capital_budget.<year>``: that financial year's budget (£), set even if the run has none
- ``capital_budget.scale``: a factor on every budget year the run lists
- ``provision.<column>`` or ``provision.<column>.<kind>``: a factor on a cost column of
  provision.csv (``annual_cost_per_place``, ``annual_cost_per_commissioned_place``,
  ``capital_cost_per_module``, ``fixed_capital_cost``), for every option or one kind

For each value the run is read again, the parameter replaced (``dataclasses.replace`` on
the :class:`~sufficiency.preprocess.config.RunConfig`, or the options table for
``provision.*``), and
planned like ``sufficiency plan`` does (do nothing, optimal, audit). Each value is an
independent task (:mod:`sufficiency.analyses.distributed`); the table is sorted by value, so serial
and distributed sweeps give the same table. A value whose run fails gets a row with its
status and message instead of stopping the sweep.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import fields, is_dataclass, replace
from pathlib import Path

import pandas as pd

from sufficiency.analyses.distributed import Backend, run_tasks
from sufficiency.analyses.evaluate import describe_openings, independent_pupil_years
from sufficiency.errors import InputError, Issue, SufficiencyError
from sufficiency.formulation.sets import build_sets
from sufficiency.outcome import RunResult
from sufficiency.pipeline import plan_dataset
from sufficiency.preprocess.config import RunConfig, load_run_config
from sufficiency.preprocess.dataset import Dataset, load_dataset
from sufficiency.preprocess.vocabulary import KINDS, PHASES
from sufficiency.solve.highs import highs_options

COST_COLUMNS = ("annual_cost_per_place", "annual_cost_per_commissioned_place",
                "capital_cost_per_module", "fixed_capital_cost")
RANGES = {"discount_rate": (0.0, 1.0), "transport.speed_kmh": (1.0, 200.0),
          "transport.circuity": (1.0, 5.0),
          **{f"travel_limit_minutes.{p}": (1.0, 600.0) for p in PHASES}}
NUMBER_SECTIONS = ("independent", "transport")
SCALE = "scale"


def _section_keys(config: RunConfig) -> list[str]:
    """Numeric dataclass fields of the TOML sections that a sweep may change."""
    keys = []
    for section in NUMBER_SECTIONS:
        value = getattr(config, section)
        keys += [f"{section}.{f.name}" for f in fields(value)
                 if isinstance(getattr(value, f.name), int | float)
                 and not isinstance(getattr(value, f.name), bool)]
    return keys


def known_parameters(config: RunConfig) -> list[str]:
    """Every key a sweep accepts for this run (``<year>`` and ``<kind>`` spelled out)."""
    keys = ["discount_rate", *_section_keys(config)]
    keys += [f"travel_limit_minutes.{p}" for p in PHASES]
    keys += [f"capital_budget.{y}" for y in config.years] + [f"capital_budget.{SCALE}"]
    keys += [f"provision.{c}" for c in COST_COLUMNS]
    keys += [f"provision.{c}.{k}" for c in COST_COLUMNS for k in KINDS]
    return keys


def _issue(option: str, message: str, fix: str) -> Issue:
    return Issue("command line", None, option, message, fix, column_label="option")


def check_parameter(config: RunConfig, key: str, values: list[float]) -> None:
    """Raise :class:`InputError` for an unknown key or a value out of its range."""
    known = known_parameters(config)
    if key not in known:
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        raise InputError(_issue("--parameter", f"{key!r} is not a parameter a sweep can change",
                                f"did you mean '{close[0]}'?" if close else
                                "see docs/scenarios.md, section 4, for the keys"))
    if key == f"capital_budget.{SCALE}" and not config.capital_budget:
        raise InputError(_issue("--parameter", "the run has no [capital_budget] to scale",
                                "sweep a year instead, e.g. capital_budget.2027"))
    low, high = RANGES.get(key, (0.0, math.inf))
    bad = [v for v in values if not (math.isfinite(v) and low <= v <= high)]
    if bad:
        raise InputError(_issue("--values", f"{', '.join(f'{v:g}' for v in bad)} out of range "
                                f"for {key}", f"use values from {low:g} to {high:g}"))


def parse_values(text: str) -> list[float]:
    """``"v1,v2,…"`` → distinct numbers in the order given (underscores allowed)."""
    values = []
    for item in (part.strip() for part in text.split(",")):
        try:
            values.append(float(item.replace("_", "")))
        except ValueError:
            raise InputError(_issue("--values", f"{item!r} is not a number",
                                    "give numbers separated by commas, e.g. 40000,54000,70000"
                                    )) from None
    if not values or len(set(values)) != len(values):
        raise InputError(_issue("--values", "values are missing or repeated",
                                "give each value once, separated by commas"))
    return values


def with_config_value(config: RunConfig, key: str, value: float) -> RunConfig:
    """``config`` with the parameter ``key`` set to ``value`` (``provision.*``: unchanged)."""
    section, _, name = key.partition(".")
    if section == "provision":
        return config
    if not name:
        return replace(config, **{section: value})
    current = getattr(config, section)
    if is_dataclass(current):
        return replace(config, **{section: replace(current, **{name: value})})
    if section == "capital_budget" and name == SCALE:
        return replace(config, capital_budget={y: b * value for y, b in current.items()})
    if section == "capital_budget":
        return replace(config, capital_budget=dict(sorted({**current, int(name): value}.items())))
    return replace(config, **{section: {**current, name: value}})


def with_provision_factor(dataset: Dataset, key: str, factor: float) -> Dataset:
    """The dataset with a provision cost column × ``factor`` (one kind or all), if ``key`` asks."""
    section, _, rest = key.partition(".")
    if section != "provision":
        return dataset
    column, _, kind = rest.partition(".")
    options = dataset.options.copy()
    rows = options["kind"] == kind if kind else pd.Series(True, index=options.index)
    options.loc[rows, column] = options.loc[rows, column] * factor
    return replace(dataset, options=options)


def sweep_row(key: str, value: float, run: RunResult) -> dict:
    """One sweep value's figures: status, cost, savings, places by kind, openings."""
    optimal, plan = run.optimal, run.optimal.plan
    by_kind = plan.groupby("kind")["places"].sum()
    return {"parameter": key, "value": value, "status": optimal.report.status,
            "objective": round(optimal.total_cost, 2), "mip_gap": optimal.report.mip_gap,
            "do_nothing": None if run.do_nothing is None else round(run.do_nothing.total_cost, 2),
            "savings": None if run.savings is None else round(run.savings, 2),
            "capital": round(float(plan["capital_cost"].sum()), 2),
            "independent_pupil_years": round(independent_pupil_years(optimal), 6),
            "places_created": int(plan["places"].sum()),
            **{f"places_{kind}": int(by_kind.get(kind, 0)) for kind in KINDS},
            "openings": len(plan), "plan": describe_openings(plan), "message": ""}


def sweep_task(toml_path: str, key: str, value: float) -> dict:
    """Plan the run with ``key`` = ``value``; a failure becomes a row with its message."""
    try:
        config = with_config_value(load_run_config(toml_path), key, value)
        highs_options(config.solver)
        dataset = with_provision_factor(load_dataset(config), key, value)
        return sweep_row(key, value, plan_dataset(dataset, build_sets(dataset)))
    except SufficiencyError as exc:
        return {"parameter": key, "value": value, "status": f"failed (exit {exc.exit_code})",
                "message": str(exc)}


def sweep(toml_path: str | Path, key: str, values: list[float],
          backend: Backend | None = None) -> pd.DataFrame:
    """One row per value of ``key`` (see the module docstring), sorted by value."""
    toml = str(Path(toml_path).resolve())
    config = load_run_config(toml)
    check_parameter(config, key, values)
    rows = run_tasks(sweep_task, [(toml, key, float(v)) for v in values],
                     [f"{key} = {v:g}" for v in values], backend, title=f"sweep {key}")
    table = pd.DataFrame(rows)
    return table.sort_values("value", kind="stable").reset_index(drop=True)
