"""The run TOML (`models/<run>.toml`) read into frozen, typed settings.

Unknown keys are rejected with a suggestion; every value is checked for type and range;
paths are resolved against the TOML's own folder and must stay inside the project folder
(:func:`sufficiency.preprocess.paths.project_folder`). Defaults are the contract's example
values (documented in docs/inputs.md), so a run only has to state what differs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sufficiency.errors import InputError, Issue
from sufficiency.preprocess.capital import (
    Appraisal,
    CapitalRules,
    read_appraisal,
    read_capital_rules,
)
from sufficiency.preprocess.delivery import DeliveryLimits, read_delivery
from sufficiency.preprocess.finance import FinanceSettings, read_finance
from sufficiency.preprocess.locks import Replan
from sufficiency.preprocess.map_settings import MapSettings, read_map
from sufficiency.preprocess.paths import UnusablePath, inside, project_folder, resolve
from sufficiency.preprocess.placement_rules import PlacementRules, read_placement_rules
from sufficiency.preprocess.tomlread import PLAIN_YEAR, TomlReader, read_toml, year_key_problem
from sufficiency.preprocess.vocabulary import PHASES
from sufficiency.preprocess.workbook import WORKBOOK_SUFFIX, is_workbook

STRONG_LINKS = ("none", "area", "placement")
# \Z, not $: "$" also matches before a final newline, and a name ending in one is no file name.
RUN_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}\Z")


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
    start_beside: bool = True  # find that start on the second core while HiGHS runs
    separate_links: bool = True  # the MIP gets only the opening links the relaxation needs
    time_limit_covers: str = "solve"  # solve: HiGHS's limit per solve | plan: the whole plan


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
    appraisal: Appraisal = Appraisal()  # [appraisal]: capital over the asset's life
    capital: CapitalRules = CapitalRules()  # [capital]: spend profiles, construction inflation
    finance: FinanceSettings = FinanceSettings()  # [finance]: high-needs allocation by FY
    delivery: DeliveryLimits = DeliveryLimits()  # [delivery]: schemes per year, modules per site
    map: MapSettings = MapSettings()  # [map]: optional basemap tiles for the plan map
    project_dir: Path | None = None  # where the run may read (None: the TOML's default)
    replan: Replan | None = None  # plan --lock-until --from: the earlier plan's locks

    @property
    def project(self) -> Path:
        """The project folder: every file the run reads lies inside it (docs/inputs.md)."""
        return self.project_dir or project_folder(self.toml_path)

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


# Allowed keys: top level, then each table.
_TOP_KEYS = {
    "name", "inputs", "start_year", "horizon_years", "discount_rate",
    "independent", "transport", "travel_limit_minutes", "capital_budget", "solver",
    "formulation", "placements", "ramp_up", "soft_capacity", "scenarios", "appraisal",
    "capital", "delivery", "finance", "map",
}
_TABLE_KEYS = {
    "independent": {"cost_per_place", "transport_cost_per_pupil", "available"},
    "transport": {"cost_per_pupil", "cost_per_km", "speed_kmh", "circuity",
                  "fill_missing_travel"},
    "travel_limit_minutes": set(PHASES),
    "solver": {"time_limit_s", "mip_gap", "threads", "random_seed", "presolve", "options",
               "price_budget", "rounding_start", "start_beside", "separate_links",
               "time_limit_covers"},
    "formulation": {"strong_links", "matrix_constraints", "aggregate_needs"},
}
PRESOLVE = ("on", "off", "choose")
ROUNDING_START = ("auto", "on", "off")
TIME_LIMIT_COVERS = ("solve", "plan")


def _section(reader: TomlReader, data: dict[str, Any], key: str) -> dict[str, Any]:
    """A top-level table of the run TOML, its keys checked when the table has a fixed set."""
    return reader.table(data, key, "", _TABLE_KEYS.get(key))


def _read_independent(reader: TomlReader, data: dict[str, Any]) -> IndependentSettings:
    """``[independent]``: the fallback's costs and whether it may be used."""
    t, p = _section(reader, data, "independent"), "independent."
    d = IndependentSettings()
    available = reader.flag(t, "available", p, d.available)
    return IndependentSettings(
        cost_per_place=reader.number(t, "cost_per_place", p, d.cost_per_place),
        transport_cost_per_pupil=reader.number(t, "transport_cost_per_pupil", p,
                                               d.transport_cost_per_pupil),
        available=available,
    )


def _read_transport(reader: TomlReader, data: dict[str, Any]) -> TransportSettings:
    """``[transport]``: journey costs, speed and circuity, and how travel.csv gaps are filled."""
    t, p = _section(reader, data, "transport"), "transport."
    d = TransportSettings()
    fill = reader.flag(t, "fill_missing_travel", p, d.fill_missing_travel)
    return TransportSettings(
        cost_per_pupil=reader.number(t, "cost_per_pupil", p, d.cost_per_pupil),
        cost_per_km=reader.number(t, "cost_per_km", p, d.cost_per_km),
        speed_kmh=reader.number(t, "speed_kmh", p, d.speed_kmh, minimum=1.0, maximum=200.0),
        circuity=reader.number(t, "circuity", p, d.circuity, minimum=1.0, maximum=5.0),
        fill_missing_travel=fill,
    )


def _read_limits(reader: TomlReader, data: dict[str, Any]) -> dict[str, float]:
    """``[travel_limit_minutes]``: the longest journey allowed, per phase."""
    t, p = _section(reader, data, "travel_limit_minutes"), "travel_limit_minutes."
    defaults = RunConfig.__dataclass_fields__["travel_limit_minutes"].default_factory()
    return {phase: float(reader.number(t, phase, p, defaults[phase], minimum=1.0,
                                       maximum=600.0))
            for phase in PHASES}


def _budget_year_problem(key: str, years: list[int]) -> tuple[str, str] | None:
    """(message, fix) when a ``[capital_budget]`` key is not a year of the horizon."""
    if not PLAIN_YEAR.fullmatch(key):
        if re.fullmatch(r"[0-9]+", key):  # leading zeros
            return year_key_problem(key)
        first = re.match(r"[^0-9]*([0-9]{4})", key)
        example = first.group(1) if first else "2026"
        return (f"{key!r} is not a year",
                f"write the financial year as its first calendar year, e.g. {example} "
                f"for FY {example}-{(int(example) + 1) % 100:02d}")
    if int(key) not in years:
        span = f"{years[0]}..{years[-1]}" if years else "the horizon"
        return (f"year {key!r} is outside the horizon",
                f"use years {span} (financial years: 2026 = FY 2026-27), or extend "
                "horizon_years")
    return None


def _read_budget(reader: TomlReader, data: dict[str, Any], years: list[int]) -> dict[int, float]:
    """``[capital_budget]``: £ of capital per financial year of the horizon."""
    t = _section(reader, data, "capital_budget")
    budget = reader.year_numbers(t, "capital_budget.", lambda key: _budget_year_problem(key, years))
    return dict(sorted(budget.items()))


def _read_formulation(reader: TomlReader, data: dict[str, Any]) -> FormulationSettings:
    """``[formulation]``: levers that change how the model is written, not its optimum."""
    t, p = _section(reader, data, "formulation"), "formulation."
    links = reader.choice(t, "strong_links", p, FormulationSettings.strong_links, STRONG_LINKS,
                          'write e.g. strong_links = "area"')
    flags = {key: reader.flag(t, key, p, getattr(FormulationSettings, key))
             for key in ("matrix_constraints", "aggregate_needs")}
    return FormulationSettings(strong_links=links, **flags)


def _read_solver(reader: TomlReader, data: dict[str, Any]) -> SolverSettings:
    """``[solver]``: HiGHS's limits, seed, presolve, raw options and the start heuristic."""
    t, p = _section(reader, data, "solver"), "solver."
    d = SolverSettings()
    presolve = reader.choice(t, "presolve", p, d.presolve, PRESOLVE, 'write "on" or "off"',
                             what="on/off/choose")
    options = reader.table(t, "options", p, None, fix="write it as [solver.options]")
    return SolverSettings(
        time_limit_s=float(reader.number(t, "time_limit_s", p, d.time_limit_s, minimum=0.1,
                                         maximum=7 * 86_400)),
        mip_gap=float(reader.number(t, "mip_gap", p, d.mip_gap, maximum=1.0)),
        threads=reader.number(t, "threads", p, d.threads, minimum=1, maximum=64, integer=True),
        random_seed=reader.number(t, "random_seed", p, d.random_seed, maximum=2**31 - 1,
                                  integer=True),
        presolve=presolve,
        options=dict(sorted(options.items())),
        price_budget=reader.flag(t, "price_budget", p, d.price_budget),
        rounding_start=_rounding_start(reader, t, d.rounding_start, p),
        start_beside=reader.flag(t, "start_beside", p, d.start_beside),
        separate_links=reader.flag(t, "separate_links", p, d.separate_links),
        time_limit_covers=reader.choice(t, "time_limit_covers", p, d.time_limit_covers,
                                        TIME_LIMIT_COVERS, 'write "solve" or "plan"',
                                        what="solve/plan"),
    )


def _rounding_start(reader: TomlReader, table: dict[str, Any], default: str, prefix: str) -> str:
    """``[solver] rounding_start``: "auto", or true / false (also written "on" / "off")."""
    value = table.get("rounding_start", default)
    if isinstance(value, bool):
        return "on" if value else "off"
    if value not in ROUNDING_START:
        reader.problem(prefix + "rounding_start", f"{value!r} is not true, false or \"auto\"",
                       'write rounding_start = "auto" (or true, false)')
        return default
    return value


def _read_identity(reader: TomlReader, data: dict[str, Any], toml_path: Path,
                   project: Path) -> tuple[str, Path]:
    """The run's name and its dataset folder (which must lie inside the project folder)."""
    name = data.get("name")
    if not isinstance(name, str) or not RUN_NAME_PATTERN.fullmatch(name):
        reader.problem("name", f"{name!r} is not a usable run name",
                       "use letters, digits, '-', '_' or '.', e.g. name = \"example\"")
        name = "invalid"
    inputs = data.get("inputs")
    if not isinstance(inputs, str) or not inputs.strip():
        reader.problem("inputs", "required key is missing or not a path",
                       'add inputs = "../inputs/<dataset>" (relative to this TOML)')
        return name, toml_path.parent
    try:
        inputs_dir = resolve(toml_path.parent / inputs)
    except UnusablePath as exc:
        reader.problem("inputs", f"{inputs!r} is not a usable path: {exc}",
                       'write the dataset folder as a plain path, e.g. inputs = "../inputs/york"')
        return name, toml_path.parent
    if not inside(inputs_dir, project):
        reader.problem("inputs", f"{inputs!r} leads outside the project folder {project}",
                       "keep the dataset inside the project folder (the parent of the TOML's "
                       "folder; symbolic links are followed before checking), e.g. "
                       "inputs = \"../inputs/<dataset>\"")
    elif is_workbook(inputs_dir):  # one .xlsx (preprocess.workbook); other formats refused there
        if inputs_dir.suffix.lower() == WORKBOOK_SUFFIX and not inputs_dir.is_file():
            reader.problem("inputs", f"dataset workbook {inputs_dir} does not exist",
                           "check the path; it is relative to the TOML file")
    elif not inputs_dir.is_dir():
        reader.problem("inputs", f"dataset folder {inputs_dir} does not exist",
                       "check the path; it is relative to the TOML file")
    return name, inputs_dir


def _required_int(reader: TomlReader, data: dict[str, Any], key: str, low: int,
                  high: int) -> int | None:
    """A required whole number at the top level of the run TOML (None when missing or wrong)."""
    return reader.number(data, key, "", minimum=low, maximum=high, integer=True,
                         missing_fix=f"add `{key} = ...` to the TOML")


def parse_run_config(toml_path: Path, data: dict[str, Any], *,
                     project: Path | None = None) -> RunConfig:
    """Check the parsed TOML ``data`` and turn it into a :class:`RunConfig`.

    ``project`` is a project folder named on the command line; by default it is the parent
    of the TOML's folder (:func:`~sufficiency.preprocess.paths.project_folder`).
    """
    reader = TomlReader(toml_path.name)
    reader.check_keys(data, _TOP_KEYS, "")
    project_dir = project_folder(toml_path, project)
    name, inputs_dir = _read_identity(reader, data, toml_path, project_dir)
    start = _required_int(reader, data, "start_year", 2000, 2100)
    horizon = _required_int(reader, data, "horizon_years", 1, 50)
    years = list(range(start, start + horizon)) if start and horizon else []
    config = RunConfig(
        name=name,
        toml_path=toml_path,
        inputs_dir=inputs_dir,
        start_year=start or 0,
        horizon_years=horizon or 0,
        discount_rate=float(reader.number(data, "discount_rate", "", 0.035, maximum=1.0)),
        independent=_read_independent(reader, data),
        transport=_read_transport(reader, data),
        travel_limit_minutes=_read_limits(reader, data),
        capital_budget=_read_budget(reader, data, years),
        solver=_read_solver(reader, data),
        formulation=_read_formulation(reader, data),
        placement_rules=read_placement_rules(reader, data),
        scenarios=_section(reader, data, "scenarios"),
        project_dir=project_dir,
        appraisal=read_appraisal(reader, data),
        capital=read_capital_rules(reader, data),
        finance=read_finance(reader, data, years),
        delivery=read_delivery(reader, data),
        map=read_map(reader, data),
    )
    reader.raise_issues()
    return config


def load_run_config(toml_path: str | Path, *, project: str | Path | None = None) -> RunConfig:
    """Read and check a run TOML; raise :class:`InputError` naming the key and the fix.

    ``project``: the project folder, when named on the command line (default: the parent of
    the TOML's folder).
    """
    try:
        path = resolve(toml_path)
        project_dir = None if project is None else resolve(project)
    except UnusablePath as exc:
        raise InputError(Issue(repr(str(toml_path)), None, None, f"not a usable path: {exc}",
                               "give the path of a models/<run>.toml file")) from None
    if not path.is_file():
        raise InputError(Issue(str(toml_path), None, None, "run file not found",
                               "give the path of a models/<run>.toml file"))
    if project_dir is not None and not project_dir.is_dir():
        raise InputError(Issue(str(project), None, None, "project folder not found",
                               "name an existing folder holding the run and its dataset"))
    return parse_run_config(path, read_toml(path), project=project_dir)
