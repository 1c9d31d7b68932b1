"""The validated dataset: the only input the model sees.

:func:`load_dataset` reads every file of ``inputs/<dataset>/``, runs every check, and either
returns a :class:`Dataset` of clean, typed, sorted tables (all geography in EPSG:27700) or
raises one :class:`InputError` listing every problem found.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from sufficiency.errors import InputError, Issue
from sufficiency.preprocess import checks, committed, costs, geo
from sufficiency.preprocess.calibration import CALIBRATION_FILE, check_calibration
from sufficiency.preprocess.capital import profile_lead_issues
from sufficiency.preprocess.config import RunConfig, load_run_config
from sufficiency.preprocess.readers import ROW, read_csv_table, read_geo_table
from sufficiency.preprocess.vocabulary import INDEPENDENT
from sufficiency.preprocess.workbook import WorkbookSource, is_workbook

AREA_FILES = ("areas.geojson", "areas.gpkg", "areas.shp")
CURRENT_FILE = "current_placements.csv"


@dataclass(frozen=True)
class Dataset:
    """Clean input tables of one planning run, sorted by their identifiers.

    - ``areas``: area_id, name, demand_x, demand_y (m), polygon geometry (EPSG:27700)
    - ``sites``: site_id, name, area_id, point geometry (EPSG:27700)
    - ``demand``: area_id, need, phase, year, pupils
    - ``options``: provision.csv columns; needs and phases as tuples of codes
    - ``travel``: area_id, site_id, minutes, km, travel_source (``travel.csv`` or
      ``straight line``) for every area × site pair known
    - ``costs`` (costs.csv, optional): option_id, kind ('' when the row names the other),
      need, phase ('*' for all), annual_cost_per_place, cost_per_place,
      transport_cost_per_pupil (NaN where the row's kind does not use it), _row
    - ``providers`` (independent.csv, optional): provider_id, name, needs, phases,
      cost_per_place, point geometry (EPSG:27700)
    - ``provider_travel`` (with ``providers``): area_id, provider_id, minutes, km,
      travel_source for every area × provider pair
    """

    config: RunConfig
    areas: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    demand: pd.DataFrame
    options: pd.DataFrame
    travel: pd.DataFrame
    travel_metric: str
    warnings: tuple[str, ...] = field(default_factory=tuple)
    current: pd.DataFrame | None = None  # area_id, need, phase, option_id, pupils at start
    placement_model: str = "v1"  # "v1" (re-place every year) or "sticky" (cohorts)
    costs: pd.DataFrame | None = None  # costs.csv rules; None: contract v1 costs
    providers: gpd.GeoDataFrame | None = None  # independent.csv; None: no providers
    provider_travel: pd.DataFrame | None = None  # area × provider journeys
    # committed.csv and --lock-until locks (preprocess.committed); None: contract v1
    fixed: pd.DataFrame | None = None  # option_id, modules, opening_year, note, source, file
    earlier_plan: pd.DataFrame | None = None  # --from plan.csv: option_id, modules, opening_year
    # calibration.csv (preprocess.calibration): today's placements the report compares the
    # start year with; never used by the model. None: the dataset has none.
    calibration: pd.DataFrame | None = None


def _area_path(folder: Path) -> Path:
    for name in AREA_FILES:
        if (folder / name).is_file():
            return folder / name
    return folder / AREA_FILES[0]


class FolderSource:
    """The folder form of a dataset: one CSV per table (the workbook form: WorkbookSource)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.warnings: list[str] = []

    def label(self, file_name: str) -> str:
        """How messages name the table: its file name."""
        return file_name

    def has(self, file_name: str) -> bool:
        """Whether an optional table is given."""
        return (self.folder / file_name).is_file()

    def read(self, file_name: str) -> pd.DataFrame:
        """The table's text cells with ``_row``."""
        return read_csv_table(self.folder / file_name)

    def areas_path(self) -> Path:
        """areas.geojson, .gpkg or .shp in the folder."""
        return _area_path(self.folder)


def table_source(config: RunConfig) -> FolderSource | WorkbookSource:
    """Where the dataset's tables come from: a folder of CSVs or one .xlsx workbook."""
    if is_workbook(config.inputs_dir):
        return WorkbookSource(config.inputs_dir, config.project)
    return FolderSource(config.inputs_dir)


def _collect(result, issues: list[Issue], warnings: list[str]):
    frame, cells = result
    issues.extend(cells.issues)
    warnings.extend(cells.warnings)
    return frame


def _cross_references(data: dict[str, pd.DataFrame],
                      label=lambda name: name) -> list[Issue]:
    """Every area and site named in one file must exist in the file that defines it."""
    from sufficiency.preprocess.textcells import CellParser

    area_ids = set(data["areas"]["area_id"])
    site_ids = set(data["sites"]["site_id"])
    journey_ends = site_ids | set(data["providers"]["provider_id"] if "providers" in data
                                  else [])
    pairs = [("sites", label("sites.csv"), "area_id", area_ids, "areas"),
             ("demand", label("demand.csv"), "area_id", area_ids, "areas"),
             ("options", label("provision.csv"), "site_id", site_ids, label("sites.csv"))]
    if "travel" in data:
        pairs += [("travel", label("travel.csv"), "area_id", area_ids, "areas"),
                  ("travel", label("travel.csv"), "site_id", journey_ends,
                   label("sites.csv") + (f" or {label('independent.csv')}"
                                         if "providers" in data else ""))]
    issues: list[Issue] = []
    for key, file, column, known, target in pairs:
        frame = data[key]
        cells = CellParser(frame, file)
        cells.references(column, frame[column], known, target)
        issues.extend(cells.issues)
    if "providers" in data:
        issues += costs.check_provider_ids(data["providers"], site_ids,
                                           label(costs.PROVIDERS_FILE))
    return issues


def _read_all(config: RunConfig, source: FolderSource | WorkbookSource
              ) -> tuple[dict[str, pd.DataFrame], list[str]]:
    issues: list[Issue] = []
    warnings: list[str] = list(source.warnings)
    read, label = source.read, source.label
    data: dict[str, pd.DataFrame] = {}
    for key, load in (
        ("areas", lambda: checks.check_areas(read_geo_table(source.areas_path()),
                                             source.areas_path())),
        ("sites", lambda: checks.check_sites(read("sites.csv"), label("sites.csv"))),
        ("demand", lambda: checks.check_demand(read("demand.csv"), label("demand.csv"),
                                               config)),
        ("options", lambda: checks.check_provision(read("provision.csv"),
                                                   label("provision.csv"), config)),
    ):
        try:
            data[key] = _collect(load(), issues, warnings)
        except InputError as exc:
            issues.extend(exc.issues)
    _read_optional(source, data, issues, warnings)
    _read_cost_files(source, data, issues, warnings)
    _read_calibration(config, source, data, issues)
    if issues:
        raise InputError(issues)
    _require_rows(data, label)
    cross = _cross_references(data, label)
    if "costs" in data:
        cost_issues, cost_warnings = costs.check_cost_references(data["costs"], data["options"],
                                                                 label(costs.COSTS_FILE))
        cross += cost_issues
        warnings += cost_warnings
    if "current" in data:
        cross += _current_references(data, config, label)
    if cross:
        raise InputError(cross)
    return data, warnings


def _read_optional(source: FolderSource | WorkbookSource, data: dict[str, pd.DataFrame],
                   issues: list[Issue], warnings: list[str]) -> None:
    """travel.csv, current_placements.csv and committed.csv, when the dataset has them."""
    _read_checked(source, data, issues, warnings, (
        ("travel", "travel.csv", checks.check_travel),
        ("current", CURRENT_FILE, checks.check_current_placements),
        ("committed", committed.COMMITTED_FILE, committed.check_committed)))


def _read_cost_files(source: FolderSource | WorkbookSource, data: dict[str, pd.DataFrame],
                     issues: list[Issue], warnings: list[str]) -> None:
    """costs.csv and independent.csv, when the dataset has them (both optional)."""
    _read_checked(source, data, issues, warnings, (
        ("costs", costs.COSTS_FILE, costs.check_costs),
        ("providers", costs.PROVIDERS_FILE, costs.check_providers)))


def _read_checked(source: FolderSource | WorkbookSource, data: dict[str, pd.DataFrame],
                  issues: list[Issue], warnings: list[str],
                  tables: tuple[tuple[str, str, Callable[..., Any]], ...]) -> None:
    """Each optional (key, file, check) the dataset has: read, checked, problems collected."""
    for key, name, check in tables:
        if source.has(name):
            try:
                data[key] = _collect(check(source.read(name), source.label(name)), issues,
                                     warnings)
            except InputError as exc:
                issues.extend(exc.issues)


def _read_calibration(config: RunConfig, source: FolderSource | WorkbookSource,
                      data: dict[str, pd.DataFrame], issues: list[Issue]) -> None:
    """calibration.csv (a workbook's ``calibration`` sheet), when given: checked like the rest."""
    if source.has(CALIBRATION_FILE):
        try:
            data["calibration"] = check_calibration(source.read(CALIBRATION_FILE),
                                                    source.label(CALIBRATION_FILE),
                                                    config.start_year)
        except InputError as exc:
            issues.extend(exc.issues)


def _current_references(data: dict[str, pd.DataFrame], config: RunConfig,
                        label=lambda name: name) -> list[Issue]:
    """Current placements name known areas and options, within start-year demand."""
    from sufficiency.preprocess.textcells import CellParser

    current = data["current"]
    cells = CellParser(current, label(CURRENT_FILE))
    cells.references("area_id", current["area_id"], set(data["areas"]["area_id"]), "areas")
    local = current[current["option_id"] != INDEPENDENT]
    local_cells = CellParser(local, label(CURRENT_FILE))
    local_cells.references("option_id", local["option_id"], set(data["options"]["option_id"]),
                           label("provision.csv"))
    return cells.issues + local_cells.issues + checks.check_current_within_demand(
        current, data["demand"], config.start_year, label(CURRENT_FILE))


def _placement_model(config: RunConfig, has_current: bool) -> str:
    """The run's choice, else sticky cohorts when current placements are given."""
    chosen = config.placement_rules.model
    return chosen if chosen else ("sticky" if has_current else "v1")


def _require_rows(data: dict[str, pd.DataFrame], label=lambda name: name) -> None:
    files = {"areas": "areas file", "sites": label("sites.csv"), "demand": label("demand.csv"),
             "options": label("provision.csv")}
    empty = [Issue(files[key], None, None, "has no data rows", "add at least one row")
             for key in files if data[key].empty]
    empty += [Issue(label(name), None, None, "has no data rows", "add rows, or delete the file")
              for key, name in (("costs", costs.COSTS_FILE), ("providers", costs.PROVIDERS_FILE),
                                ("calibration", CALIBRATION_FILE))
              if key in data and data[key].empty]
    if "current" in data and data["current"].empty:  # it would switch the run to sticky cohorts
        empty.append(Issue(label(CURRENT_FILE), None, None, "has no data rows",
                           "add the pupils already placed in the start year, or delete the file "
                           "to plan without current placements"))
    if not empty and data["demand"]["pupils"].sum() <= 0:
        empty.append(Issue(label("demand.csv"), None, "pupils", "no pupils in any row",
                           "a plan needs demand: check the file"))
    if empty:
        raise InputError(empty)


def _travel(config: RunConfig, areas: gpd.GeoDataFrame, sites: gpd.GeoDataFrame,
            given: pd.DataFrame | None) -> tuple[pd.DataFrame, str]:
    """Journeys area → site (with their ``travel_source``) and the travel metric, in words.

    travel.csv as given; with ``[transport] fill_missing_travel`` its gaps are filled from
    straight-line distance; without travel.csv every journey is derived.
    """
    t = config.transport
    derived_metric = (f"straight-line km from each area's demand point × circuity "
                      f"{t.circuity:g}, minutes at {t.speed_kmh:g} km/h")
    given_metric = "travel.csv (given journey times and road distances)"
    if given is not None and not t.fill_missing_travel:
        table = given.drop(columns=ROW).assign(travel_source=geo.TRAVEL_GIVEN)
        return table.sort_values(["area_id", "site_id"]).reset_index(drop=True), given_metric
    derived = geo.straight_line_travel(areas.assign(demand_point=geo.demand_points(areas)),
                                       sites, circuity=t.circuity, speed_kmh=t.speed_kmh)
    if given is None:
        return derived.assign(travel_source=geo.TRAVEL_DERIVED), f"derived: {derived_metric}"
    table, filled = geo.complete_travel(given.drop(columns=ROW), derived)
    return table, (f"{given_metric}; {filled} area-site pair(s) absent from it filled with "
                   f"{derived_metric} ([transport] fill_missing_travel = true)")


def _fixed_openings(config: RunConfig, data: dict[str, pd.DataFrame], options: pd.DataFrame,
                    warnings: list[str]) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """committed.csv and the re-plan's locks, checked (:mod:`.committed`, :mod:`.locks`).

    Returns (fixed openings or None, the earlier plan or None); warnings gain the locks skipped.
    """
    from sufficiency.preprocess.locks import read_locks, skipped_warning

    parts = [data["committed"]] if "committed" in data else []
    earlier = None
    if config.replan is not None:
        locks = read_locks(config.replan, config, set(options["option_id"]),
                           data.get("committed"))
        parts.append(locks.fixed)
        earlier = locks.earlier
        warnings += skipped_warning(locks, config)
    fixed = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if fixed.empty:  # no file, a header-only file, or nothing locked in the horizon
        return None, earlier
    fixed = fixed.astype({"modules": "int64", "opening_year": "int64"})
    issues = committed.fixed_opening_issues(fixed, options, config)
    if not issues:
        issues = committed.limit_issues(fixed, options, config)
    if issues:
        raise InputError(issues)
    return fixed.sort_values(["option_id", "opening_year"]).reset_index(drop=True), earlier


def load_dataset(config: RunConfig) -> Dataset:
    """Read and check every input of ``config``; raise :class:`InputError` with all problems."""
    source = table_source(config)
    data, warnings = _read_all(config, source)
    areas = data["areas"].sort_values("area_id").reset_index(drop=True)
    points = geo.demand_points(areas)
    areas = areas.assign(demand_x=points.x.round(3), demand_y=points.y.round(3))
    sites = data["sites"].sort_values("site_id").reset_index(drop=True)
    warnings += checks.check_sites_in_areas(sites, areas, source.label("sites.csv"))
    given = data.get("travel")
    providers = None
    provider_travel = None
    if "providers" in data:
        providers = data["providers"].sort_values("provider_id").reset_index(drop=True)
        to_providers = None
        if given is not None:
            ends = given["site_id"].isin(providers["provider_id"])
            to_providers = given.loc[ends].drop(columns=ROW)
            given = given.loc[~ends]
        provider_travel = costs.provider_travel(config, areas, providers, to_providers)
        providers = providers.drop(columns=ROW)
    travel, metric = _travel(config, areas, sites, given)
    demand = (data["demand"].drop(columns=ROW).astype({"year": "int64"})
              .sort_values(["area_id", "need", "phase", "year"]).reset_index(drop=True))
    options = data["options"].sort_values("option_id").reset_index(drop=True)
    int_columns = ["existing_places", "module_places", "max_modules", "lead_time_years",
                   "earliest_year"]
    options = options.astype(dict.fromkeys(int_columns, "int64"))
    lead_issues = profile_lead_issues(config, options)
    if lead_issues:
        raise InputError(lead_issues)
    fixed, earlier_plan = _fixed_openings(config, data, options, warnings)
    return Dataset(
        config=config,
        areas=areas.drop(columns=ROW),
        sites=sites.drop(columns=ROW),
        demand=demand,
        options=options,
        travel=travel,
        travel_metric=metric,
        warnings=tuple(warnings),
        current=None if "current" not in data else data["current"].drop(columns=ROW)
        .sort_values(["area_id", "need", "phase", "option_id"]).reset_index(drop=True),
        placement_model=_placement_model(config, "current" in data),
        costs=None if "costs" not in data else data["costs"].reset_index(drop=True),
        providers=providers,
        provider_travel=provider_travel,
        fixed=fixed,
        earlier_plan=earlier_plan,
        calibration=data.get("calibration"),
    )


def load(toml_path: str | Path) -> Dataset:
    """Read a run TOML and its dataset in one call."""
    return load_dataset(load_run_config(toml_path))
