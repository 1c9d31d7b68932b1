"""The run TOML (`models/<run>.toml`) read into frozen, typed settings.

Unknown keys are rejected with a suggestion; every value is checked for type and range;
paths are resolved against the TOML's own folder. Defaults are the contract's example
values (documented in docs/inputs.md), so a run only has to state what differs.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sufficiency.errors import InputError, Issue
from sufficiency.preprocess.placement_rules import PlacementRules, read_placement_rules

PHASES = ("primary", "secondary", "post16")
STRONG_LINKS = ("none", "area", "placement")
RUN_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")


@dataclass(frozen=True)
class IndependentSettings:
    """The always-available fallback: independent / out-of-area placement (£ per pupil-year)."""

    cost_per_place: float = 54_000.0
    transport_cost_per_pupil: float = 12_000.0
    available: bool = True


@dataclass(frozen=True)
class TransportSettings:
    """Home-to-school transport of local placements (£ per pupil-year; km one way)."""

    cost_per_pupil: float = 3_000.0
    cost_per_km: float = 350.0
    speed_kmh: float = 30.0
    circuity: float = 1.3
    fill_missing_travel: bool = False  # travel.csv gaps: error (False) or straight-line (True)


@dataclass(frozen=True)
class SolverSettings:
    """HiGHS settings: time limit (s), relative MIP gap, and what makes runs repeatable."""

    time_limit_s: float = 300.0
    mip_gap: float = 1e-4
    threads: int = 1
    random_seed: int = 0
    presolve: str = "on"
    options: dict[str, Any] = field(default_factory=dict)
    price_budget: bool = True  # re-plan with £1m more per binding budget year (report)
    rounding_start: str = "auto"  # MIP start from the LP relaxation: auto | on | off


@dataclass(frozen=True)
class FormulationSettings:
    """Levers that change how the model is written, never what it means (same optimum)."""

    strong_links: str = "area"  # none | area | placement: x linked to "opened by year t"
    matrix_constraints: bool = True
    aggregate_needs: bool = True


@dataclass(frozen=True)
class RunConfig:
    """One planning run: where its data is, its horizon, costs, limits and solver settings."""

    name: str
    toml_path: Path
    inputs_dir: Path
    start_year: int
    horizon_years: int
    discount_rate: float = 0.035
    independent: IndependentSettings = IndependentSettings()
    transport: TransportSettings = TransportSettings()
    travel_limit_minutes: dict[str, float] = field(
        default_factory=lambda: {"primary": 45.0, "secondary": 75.0, "post16": 75.0}
    )
    capital_budget: dict[int, float] = field(default_factory=dict)
    solver: SolverSettings = SolverSettings()
    formulation: FormulationSettings = FormulationSettings()
    placement_rules: PlacementRules = PlacementRules()
    scenarios: dict = field(default_factory=dict)  # raw [scenarios.*]: preprocess.scenarios

    @property
    def years(self) -> list[int]:
        """Academic years of the horizon (2026 means AY 2026/27)."""
        return list(range(self.start_year, self.start_year + self.horizon_years))

    @property
    def end_year(self) -> int:
        """Last academic year of the horizon."""
        return self.start_year + self.horizon_years - 1

    def discount_factor(self, year: int) -> float:
        """Weight of a £ spent in ``year``: 1 / (1 + r) ** (year - start_year)."""
        return 1.0 / (1.0 + self.discount_rate) ** (year - self.start_year)


# Allowed keys: top level, then each table. Values: (type, minimum, maximum) for numbers.
_TOP_KEYS = {
    "name", "inputs", "start_year", "horizon_years", "discount_rate",
    "independent", "transport", "travel_limit_minutes", "capital_budget", "solver",
    "formulation", "placements", "ramp_up", "soft_capacity", "scenarios",
}
_TABLE_KEYS = {
    "independent": {"cost_per_place", "transport_cost_per_pupil", "available"},
    "transport": {"cost_per_pupil", "cost_per_km", "speed_kmh", "circuity",
                  "fill_missing_travel"},
    "travel_limit_minutes": set(PHASES),
    "solver": {"time_limit_s", "mip_gap", "threads", "random_seed", "presolve", "options",
               "price_budget", "rounding_start"},
    "formulation": {"strong_links", "matrix_constraints", "aggregate_needs"},
}


def unknown_keys(table: dict[str, Any], allowed: set[str], prefix: str) -> list[tuple[str, str]]:
    """(full key, hint) for each key not in ``allowed``, suggesting the closest valid one."""
    found = []
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
            hint = f"did you mean '{prefix}{close[0]}'?" if close else (
                f"allowed keys here: {', '.join(sorted(allowed))}")
            found.append((prefix + key, hint))
    return found


def number_problem(key: str, value: Any, *, minimum: float, maximum: float,
                   integer: bool) -> tuple[str, str] | None:
    """(message, fix) when a TOML value is not a number in [minimum, maximum], else None."""
    ok_type = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not ok_type:
        kind = "a whole number" if integer else "a number"
        return f"{value!r} is not {kind}", f"write {key} as {kind}, without quotes"
    if not math.isfinite(value) or not minimum <= value <= maximum:
        return f"{value!r} is out of range", f"use a value between {minimum:g} and {maximum:g}"
    return None


class _TomlReader:
    """Collects issues while reading values out of the parsed TOML."""

    def __init__(self, file_label: str, data: dict[str, Any]):
        self.file = file_label
        self.data = data
        self.issues: list[Issue] = []

    def problem(self, key: str, message: str, fix: str) -> None:
        self.issues.append(Issue(self.file, None, key, message, fix, column_label="key"))

    def check_keys(self, table: dict[str, Any], allowed: set[str], prefix: str) -> None:
        for full, hint in unknown_keys(table, allowed, prefix):
            self.problem(full, "unknown key", hint)

    def flag(self, table: dict[str, Any], key: str, default: bool, prefix: str = "") -> bool:
        """A true/false value (``default`` when absent or not a boolean, with an issue)."""
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.problem(prefix + key, f"{value!r} is not true or false", "write true or false")
            return default
        return value

    def number(self, table: dict[str, Any], key: str, default: float | None, *, prefix: str = "",
               minimum: float = 0.0, maximum: float = math.inf, integer: bool = False) -> Any:
        full = prefix + key
        if key not in table:
            if default is None:
                self.problem(full, "required key is missing", f"add `{key} = ...` to the TOML")
            return default
        value = table[key]
        problem = number_problem(key, value, minimum=minimum, maximum=maximum, integer=integer)
        if problem:
            self.problem(full, *problem)
            return default
        return value


def _table(reader: _TomlReader, key: str) -> dict[str, Any]:
    value = reader.data.get(key, {})
    if not isinstance(value, dict):
        reader.problem(key, "must be a table", f"write it as a [{key}] section")
        return {}
    if key in _TABLE_KEYS:
        reader.check_keys(value, _TABLE_KEYS[key], f"{key}.")
    return value


def _read_independent(reader: _TomlReader) -> IndependentSettings:
    t, p = _table(reader, "independent"), "independent."
    default = IndependentSettings()
    available = reader.flag(t, "available", default.available, p)
    return IndependentSettings(
        cost_per_place=reader.number(t, "cost_per_place", default.cost_per_place, prefix=p),
        transport_cost_per_pupil=reader.number(
            t, "transport_cost_per_pupil", default.transport_cost_per_pupil, prefix=p),
        available=available,
    )


def _read_transport(reader: _TomlReader) -> TransportSettings:
    t, p = _table(reader, "transport"), "transport."
    d = TransportSettings()
    fill = reader.flag(t, "fill_missing_travel", d.fill_missing_travel, p)
    return TransportSettings(
        cost_per_pupil=reader.number(t, "cost_per_pupil", d.cost_per_pupil, prefix=p),
        cost_per_km=reader.number(t, "cost_per_km", d.cost_per_km, prefix=p),
        speed_kmh=reader.number(t, "speed_kmh", d.speed_kmh, prefix=p, minimum=1.0, maximum=200.0),
        circuity=reader.number(t, "circuity", d.circuity, prefix=p, minimum=1.0, maximum=5.0),
        fill_missing_travel=fill,
    )


def _read_limits(reader: _TomlReader) -> dict[str, float]:
    t, p = _table(reader, "travel_limit_minutes"), "travel_limit_minutes."
    defaults = RunConfig.__dataclass_fields__["travel_limit_minutes"].default_factory()
    return {
        phase: float(reader.number(t, phase, defaults[phase], prefix=p, minimum=1.0, maximum=600.0))
        for phase in PHASES
    }


def _read_budget(reader: _TomlReader, years: list[int]) -> dict[int, float]:
    t = _table(reader, "capital_budget")
    budget: dict[int, float] = {}
    for key in t:
        label = f"capital_budget.{key}"
        span = f"{years[0]}..{years[-1]}" if years else "the horizon"
        if not str(key).isdigit():
            first = re.match(r"\D*(\d{4})", str(key))
            example = first.group(1) if first else "2026"
            reader.problem(label, f"{key!r} is not a year",
                           f"write the financial year as its first calendar year, e.g. {example} "
                           f"for FY {example}-{(int(example) + 1) % 100:02d}")
            continue
        if int(key) not in years:
            reader.problem(label, f"year {key!r} is outside the horizon",
                           f"use years {span} (financial years: 2026 = FY 2026-27), or extend "
                           "horizon_years")
            continue
        value = reader.number(t, key, None, prefix="capital_budget.")
        if value is not None:
            budget[int(key)] = float(value)
    return dict(sorted(budget.items()))


def _read_formulation(reader: _TomlReader) -> FormulationSettings:
    t = _table(reader, "formulation")
    values = {}
    links = t.get("strong_links", FormulationSettings.strong_links)
    if links not in STRONG_LINKS:
        reader.problem("formulation.strong_links", f"{links!r} is not one of "
                       f"{', '.join(STRONG_LINKS)}", 'write e.g. strong_links = "area"')
        links = FormulationSettings.strong_links
    values["strong_links"] = links
    for key in ("matrix_constraints", "aggregate_needs"):
        values[key] = reader.flag(t, key, getattr(FormulationSettings, key), "formulation.")
    return FormulationSettings(**values)


def _read_solver(reader: _TomlReader) -> SolverSettings:
    t, p = _table(reader, "solver"), "solver."
    d = SolverSettings()
    presolve = t.get("presolve", d.presolve)
    if presolve not in ("on", "off", "choose"):
        reader.problem(p + "presolve", f"{presolve!r} is not on/off/choose", 'write "on" or "off"')
        presolve = d.presolve
    options = t.get("options", {})
    if not isinstance(options, dict):
        reader.problem(p + "options", "must be a table", "write it as [solver.options]")
        options = {}
    return SolverSettings(
        time_limit_s=float(reader.number(t, "time_limit_s", d.time_limit_s, prefix=p,
                                         minimum=0.1, maximum=7 * 86_400)),
        mip_gap=float(reader.number(t, "mip_gap", d.mip_gap, prefix=p, maximum=1.0)),
        threads=reader.number(t, "threads", d.threads, prefix=p, minimum=1, maximum=64,
                              integer=True),
        random_seed=reader.number(t, "random_seed", d.random_seed, prefix=p, maximum=2**31 - 1,
                                  integer=True),
        presolve=presolve,
        options=dict(sorted(options.items())),
        price_budget=reader.flag(t, "price_budget", d.price_budget, p),
        rounding_start=_rounding_start(reader, t, d.rounding_start, p),
    )


ROUNDING_START = ("auto", "on", "off")


def _rounding_start(reader: _TomlReader, table: dict[str, Any], default: str, prefix: str) -> str:
    """``[solver] rounding_start``: "auto", or true / false (also written "on" / "off")."""
    value = table.get("rounding_start", default)
    if isinstance(value, bool):
        return "on" if value else "off"
    if value not in ROUNDING_START:
        reader.problem(prefix + "rounding_start", f"{value!r} is not true, false or \"auto\"",
                       'write rounding_start = "auto" (or true, false)')
        return default
    return value


def _read_identity(reader: _TomlReader, toml_path: Path) -> tuple[str, Path]:
    name = reader.data.get("name")
    if not isinstance(name, str) or not RUN_NAME_PATTERN.match(name):
        reader.problem("name", f"{name!r} is not a usable run name",
                       "use letters, digits, '-', '_' or '.', e.g. name = \"example\"")
        name = "invalid"
    inputs = reader.data.get("inputs")
    if not isinstance(inputs, str) or not inputs.strip():
        reader.problem("inputs", "required key is missing or not a path",
                       'add inputs = "../inputs/<dataset>" (relative to this TOML)')
        return name, toml_path.parent
    inputs_dir = (toml_path.parent / inputs).resolve()
    project = project_folder(toml_path)
    if not Path(os.path.normpath(toml_path.parent.resolve() / inputs)).is_relative_to(project):
        reader.problem("inputs", f"{inputs!r} leads outside the project folder {project}",
                       "keep the dataset inside the project folder (the folder holding models/, "
                       "or the TOML's own folder), e.g. inputs = \"../inputs/<dataset>\"")
    elif not inputs_dir.is_dir():
        reader.problem("inputs", f"dataset folder {inputs_dir} does not exist",
                       "check the path; it is relative to the TOML file")
    return name, inputs_dir


def project_folder(toml_path: Path) -> Path:
    """The folder a run may read from: the parent of the TOML's ``models/`` folder, else its own.

    A path in the TOML may not lead outside it; symbolic links inside it are followed (they
    are the owner's choice).
    """
    folder = toml_path.parent.resolve()
    return folder.parent if folder.name == "models" else folder


def parse_run_config(toml_path: Path, data: dict[str, Any]) -> RunConfig:
    """Check the parsed TOML ``data`` and turn it into a :class:`RunConfig`."""
    reader = _TomlReader(toml_path.name, data)
    reader.check_keys(data, _TOP_KEYS, "")
    name, inputs_dir = _read_identity(reader, toml_path)
    start = reader.number(data, "start_year", None, minimum=2000, maximum=2100, integer=True)
    horizon = reader.number(data, "horizon_years", None, minimum=1, maximum=50, integer=True)
    years = list(range(start, start + horizon)) if start and horizon else []
    config = RunConfig(
        name=name,
        toml_path=toml_path,
        inputs_dir=inputs_dir,
        start_year=start or 0,
        horizon_years=horizon or 0,
        discount_rate=float(reader.number(data, "discount_rate", 0.035, maximum=1.0)),
        independent=_read_independent(reader),
        transport=_read_transport(reader),
        travel_limit_minutes=_read_limits(reader),
        capital_budget=_read_budget(reader, years),
        solver=_read_solver(reader),
        formulation=_read_formulation(reader),
        placement_rules=read_placement_rules(reader, data),
        scenarios=_table(reader, "scenarios"),
    )
    if reader.issues:
        raise InputError(reader.issues)
    return config


def load_run_config(toml_path: str | Path) -> RunConfig:
    """Read and check a run TOML; raise :class:`InputError` naming the key and the fix."""
    path = Path(toml_path).resolve()
    if not path.is_file():
        raise InputError(Issue(str(toml_path), None, None, "run file not found",
                               "give the path of a models/<run>.toml file"))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError(Issue(path.name, None, None, "the file is not UTF-8 text",
                               "save it as UTF-8")) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(Issue(path.name, None, None, f"not valid TOML ({exc})",
                               "fix the syntax at the line shown")) from None
    return parse_run_config(path, data)
