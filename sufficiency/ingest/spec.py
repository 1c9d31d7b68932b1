"""The build spec (`inputs/<name>.build.toml`) read into frozen, typed settings.

A spec names the source files a council already holds (establishments, boundaries, the
SEN2 return, population projections) and the rules that turn them into a contract dataset.
Unknown keys are rejected with a suggestion; paths are resolved against the spec's folder
(``build.sources`` for source files). The dataset folder and the run TOML it writes must lie
inside the project folder (:func:`sufficiency.preprocess.paths.project_folder`), and the
dataset folder may not hold the spec. docs/build-dataset.md describes every key.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sufficiency.errors import InputError, Issue
from sufficiency.preprocess.config import parse_run_config
from sufficiency.preprocess.paths import UnusablePath, inside, project_folder, resolve
from sufficiency.preprocess.tomlread import REQUIRED, TomlReader, read_toml
from sufficiency.preprocess.vocabulary import KINDS, NEEDS, PHASES, POST16_KINDS

PLACES_FROM = ("capacity", "pupils")
SHARE_METHODS = ("school_headcount", "table", "equal")
CANDIDATE_KINDS = ("resourced", "satellite")
SEN2_AGES = {"primary": (0, 10), "secondary": (11, 15), "post16": (16, 25)}
POPULATION_AGES = {"primary": (4, 10), "secondary": (11, 15), "post16": (16, 18)}
# What the builder reads from an establishment table (docs/build-dataset.md describes each).
ESTABLISHMENT_FIELDS = (
    "urn", "name", "type", "phase", "status", "easting", "northing", "postcode", "capacity",
    "pupils", "pupils_primary", "pupils_secondary", "pupils_post16", "age_low", "age_high",
    "rp_type", "rp_on_roll", "rp_capacity", "unit_on_roll", "unit_capacity", "sen")


@dataclass(frozen=True)
class ProvisionDefaults:
    """Needs, phases, module sizes, costs (£) and timing of one kind of provision."""

    needs: tuple[str, ...] = NEEDS
    phases: tuple[str, ...] = PHASES
    module_places: int = 8
    max_modules: int = 0
    capital_cost_per_module: float = 0.0
    fixed_capital_cost: float = 0.0
    lead_time_years: int = 1
    earliest_year: int | None = None  # None: start_year + lead_time_years
    annual_cost_per_place: float = 0.0
    annual_cost_per_commissioned_place: float = 0.0
    source: str = ""


# Defaults of each kind, from ../shared/domain.md (the primer) where it gives a figure; the
# capital costs have no seed figure and repeat the embedded example's assumptions.
KIND_DEFAULTS: dict[str, ProvisionDefaults] = {
    "special": ProvisionDefaults(
        module_places=12, max_modules=0, capital_cost_per_module=900_000, lead_time_years=1,
        annual_cost_per_place=12_000, annual_cost_per_commissioned_place=10_000,
        source="primer: special place £22k (York) – £27k (Warwickshire), place funding £10k; "
               "expansion 1–2 years; capital £0.9m per 12 places is an assumption"),
    "resourced": ProvisionDefaults(
        module_places=8, max_modules=1, capital_cost_per_module=350_000,
        fixed_capital_cost=150_000, lead_time_years=2, annual_cost_per_place=2_000,
        annual_cost_per_commissioned_place=10_000,
        source="primer: RP place £12k (York) – £18k (Warwickshire), place funding £10k; "
               "~2 years to set up; capital is an assumption"),
    "satellite": ProvisionDefaults(
        module_places=8, max_modules=1, capital_cost_per_module=150_000,
        fixed_capital_cost=50_000, lead_time_years=1, annual_cost_per_place=12_000,
        annual_cost_per_commissioned_place=10_000,
        source="primer: close to special-school cost; ~1 year when space exists; capital is "
               "an assumption"),
    "new_special": ProvisionDefaults(
        module_places=50, max_modules=3, capital_cost_per_module=2_500_000,
        fixed_capital_cost=9_000_000, lead_time_years=3, annual_cost_per_place=12_000,
        annual_cost_per_commissioned_place=10_000,
        source="primer: 100–200 places, 3–4+ years, cost as a special school; capital is an "
               "assumption"),
    "fe_college": ProvisionDefaults(
        phases=("post16",), module_places=12, max_modules=2, capital_cost_per_module=300_000,
        fixed_capital_cost=100_000, lead_time_years=1, annual_cost_per_place=6_000,
        annual_cost_per_commissioned_place=6_000,
        source="DfE high-needs funding for FE (not in the seeds): element 2 £6,000 per "
               "place, paid filled or empty; top-up £6,000 a student and the capital of a "
               "12-place fit-out are assumptions"),
    "specialist_post16": ProvisionDefaults(
        phases=("post16",), module_places=20, max_modules=2, capital_cost_per_module=1_500_000,
        fixed_capital_cost=2_000_000, lead_time_years=2, annual_cost_per_place=16_000,
        annual_cost_per_commissioned_place=19_000,
        source="DfE high-needs funding for specialist post-16 institutions (not in the "
               "seeds): place funding £19,000 (elements 1 + 2); top-up £16,000 a student and "
               "the capital are assumptions"),
}


@dataclass(frozen=True)
class Source:
    """One source file: its path, how it is cited, and the licence line it asks for."""

    path: Path
    label: str  # the name shown in messages and the README (file name)
    attribution: str = ""
    encoding: str = "utf-8"


@dataclass(frozen=True)
class AreaSpec:
    """Planning areas from boundaries, optionally dissolved through a lookup."""

    boundaries: Source
    code_column: str
    name_column: str | None
    where: dict[str, tuple[str, ...]]
    lookup: Source | None = None
    lookup_code_column: str = ""
    lookup_area_column: str = "area_id"
    lookup_name_column: str = "name"
    nearest_within_m: float = 1_000.0
    groups: tuple[tuple[str, str, str, tuple[str, ...]], ...] = ()  # (key, area_id, name, codes)


@dataclass(frozen=True)
class EstablishmentSpec:
    """The establishment list, its column mapping and how rows become sites."""

    table: Source
    layout: str  # gias | custom
    columns: dict[str, tuple[str, ...]]  # canonical → source column(s), as written
    where: dict[str, tuple[str, ...]]
    places_from: str
    types: dict[str, tuple[str, ...]]  # extra type names per category
    links: Source | None = None
    postcodes: Source | None = None
    postcode_columns: dict[str, str] = field(default_factory=dict)
    min_phase_share: float = 0.05


@dataclass(frozen=True)
class GivenProvision:
    """Provision named in the spec at a school: a special-school designation or a known RP."""

    label: str  # spec key, e.g. "resourced[0]"
    urn: str
    needs: tuple[str, ...] | None
    phases: tuple[str, ...] | None
    places: int | None
    module_places: int | None
    max_modules: int | None
    source: str
    name: str = ""


@dataclass(frozen=True)
class CandidateRule:
    """Which open mainstream schools may host a new resourced provision or satellite."""

    label: str
    name: str  # used as the option-id suffix: <URN>_<name>
    kind: str
    host_phases: tuple[str, ...]
    min_pupils: float
    max_pupils: float
    urns: tuple[str, ...]  # only these (empty: all that match)
    include_urns: tuple[str, ...]  # always, if open mainstream
    exclude_urns: tuple[str, ...]
    needs: tuple[str, ...]
    phases: tuple[str, ...] | None  # None: the host's phases within host_phases
    provision: ProvisionDefaults


@dataclass(frozen=True)
class NewSchool:
    """A named site where a new special school could be built."""

    label: str
    site_id: str
    name: str
    easting: float | None
    northing: float | None
    postcode: str | None
    provision: ProvisionDefaults
    kind: str = "new_special"  # [[post16]]: fe_college or specialist_post16
    existing_places: int = 0


@dataclass(frozen=True)
class ShareSpec:
    """How the authority's pupils are shared among planning areas."""

    method: str
    headcount_phase: str | None = None  # school_headcount: use this phase's headcount for all
    table: Source | None = None
    code_column: str = ""
    weight_column: str = ""
    phase_column: str | None = None


@dataclass(frozen=True)
class GrowthSpec:
    """Annual growth of the rate per child, per need and phase (fractions per year).

    The default ("trend" or a number) is scaled per phase by the age breakdowns
    (``phase_ages``: an earlier SEN2 age table against the base period's) and per need by
    new plans against the stock (``new_plans``), when given; ``needs``, ``phases`` and
    ``cells`` set rates outright.
    """

    default: float | str  # a number, or "trend"
    trend_from: str | None
    needs: dict[str, float]
    phases: dict[str, float]
    cells: dict[str, float]  # "NEED.phase"
    phase_ages: Source | None = None  # SEN2 age caseload of an earlier January
    phase_ages_period: str = ""  # its time_period (e.g. "2022": January 2022)
    new_plans: Source | None = None  # SEN2 new plans by primary need
    new_plans_period: str = ""  # its time_period (e.g. "2024": calendar 2024)
    min_plans: float = 20.0  # a need with fewer plans in the base period keeps factor 1


@dataclass(frozen=True)
class ScenarioSpec:
    """Low and high demand: every growth rate moved by a number of points (fractions)."""

    low: float
    high: float
    weights: dict[str, float]  # low, central, high
    run_path: Path


@dataclass(frozen=True)
class HousingSite:
    """Homes completed in one area, by academic year."""

    label: str
    area: str
    homes: dict[int, float]
    source: str


@dataclass(frozen=True)
class HousingSpec:
    """Extra pupils from new homes: homes × pupil yield × specialist rate."""

    pupil_yield: dict[str, float]
    specialist_rate: dict[str, float] | None  # None: derived from the base year
    sites: tuple[HousingSite, ...]
    source: str


@dataclass(frozen=True)
class DemandSpec:
    """The SEN2 base year, its split to need × phase, the area share and the projection."""

    caseload: Source
    needs_table: Source
    la_codes: tuple[str, ...]
    base_period: str
    base_year: int
    placements: tuple[str, ...]
    independent: tuple[str, ...]
    need_labels: dict[str, str]
    unknown_need: str  # "spread" or a need code
    ages: dict[str, tuple[int, int]]
    share: ShareSpec
    population: Source | None
    population_area: str
    population_ages: dict[str, tuple[int, int]]
    growth: GrowthSpec
    housing: HousingSpec | None
    decimals: int = 2
    scenarios: ScenarioSpec | None = None


@dataclass(frozen=True)
class BuildSpec:
    """A whole build: where everything comes from and where the dataset and run go."""

    spec_path: Path
    name: str
    title: str
    authority: str
    dataset_dir: Path
    run_path: Path
    sources_dir: Path
    sources_text: str  # build.sources as written (for the README; independent of the machine)
    precision_m: float
    areas: AreaSpec
    establishments: EstablishmentSpec
    provision: dict[str, ProvisionDefaults]
    special: tuple[GivenProvision, ...]
    resourced: tuple[GivenProvision, ...]
    candidates: tuple[CandidateRule, ...]
    new_schools: tuple[NewSchool, ...]
    demand: DemandSpec
    run: dict[str, Any]
    run_sources: dict[str, str]
    notes: tuple[str, ...]
    post16: tuple[NewSchool, ...] = ()

    @property
    def start_year(self) -> int:
        """First academic year of the run."""
        return int(self.run["start_year"])

    @property
    def years(self) -> list[int]:
        """Academic years of the run's horizon."""
        return list(range(self.start_year, self.start_year + int(self.run["horizon_years"])))


_TOP = {"build", "authority", "areas", "establishments", "provision", "special", "resourced",
        "candidates", "new_school", "post16", "demand", "run"}
_BUILD = {"name", "title", "dataset", "run_toml", "sources", "coordinate_precision_m", "notes"}
_PROVISION_KEYS = {"needs", "phases", "module_places", "max_modules", "capital_cost_per_module",
                   "fixed_capital_cost", "lead_time_years", "earliest_year",
                   "annual_cost_per_place", "annual_cost_per_commissioned_place", "source"}


class _Spec:
    """Reads the sections of one parsed spec, resolving paths against the spec folder."""

    def __init__(self, path: Path, data: dict[str, Any], project: Path | None = None):
        """Start reading; source paths resolve against the spec folder until [build] is read."""
        self.path = path
        self.data = data
        self.r = TomlReader(path.name)
        self.sources_dir = path.parent
        self.project = project_folder(path, project)

    def path_at(self, base: Path, text: str, key: str) -> Path | None:
        """``base / text`` resolved; None (with an issue at ``key``) for a NUL or a loop."""
        try:
            return resolve(base / text)
        except UnusablePath as exc:
            self.r.problem(key, f"{text!r} is not a usable path: {exc}",
                           "write a plain path relative to the spec")
            return None

    def output(self, table: dict[str, Any], key: str, default: str,
               prefix: str = "build.") -> Path | None:
        """``build.dataset`` / ``build.run_toml``: inside the project folder, not it."""
        text = self.r.text(table, key, prefix, default)
        path = self.path_at(self.path.parent, text, prefix + key) if text else None
        if path is None or (path != self.project and inside(path, self.project)):
            return path
        where = "is the project folder itself" if path == self.project else (
            "leads outside the project folder")
        self.r.problem(prefix + key, f"{text!r} {where} {self.project}",
                       "write inside the project folder (the parent of the spec's folder; "
                       f'symbolic links are followed before checking), e.g. {key} = "{default}"')
        return None

    def source(self, table: dict[str, Any], key: str, prefix: str, *, required: bool = True,
               attribution_key: str | None = None, encoding: str = "utf-8") -> Source | None:
        """A source file named in the spec; it must exist in the sources folder."""
        name = self.r.text(table, key, prefix, REQUIRED if required else None)
        if name is None:
            return None
        path = self.path_at(self.sources_dir, name, prefix + key)
        if path is None:
            return None
        if not path.is_file():
            self.r.problem(prefix + key, f"source file {path} does not exist",
                           "check the name; it is relative to build.sources")
        attribution = self.r.text(table, attribution_key, prefix, "") if attribution_key else ""
        return Source(path, Path(name).name, attribution, encoding)

    def where(self, table: dict[str, Any], prefix: str) -> dict[str, tuple[str, ...]]:
        """``where = { column = value | [values] }``: keep rows whose cell is a listed value."""
        sub = self.r.table(table, "where", prefix, None, fix='write where = { column = "value" }')
        return {column: self.r.texts(sub, column, prefix + "where.") for column in sub}

    def provision_defaults(self, table: dict[str, Any], prefix: str,
                           base: ProvisionDefaults) -> ProvisionDefaults:
        """Provision keys of ``table`` over ``base`` (kind defaults or the spec's kind table)."""
        r = self.r
        earliest = r.number(table, "earliest_year", prefix, base.earliest_year, minimum=2000,
                            maximum=2100, integer=True)
        return ProvisionDefaults(
            needs=r.needs(table, "needs", prefix, base.needs),
            phases=r.phases(table, "phases", prefix, base.phases),
            module_places=r.number(table, "module_places", prefix, base.module_places,
                                   integer=True, maximum=10_000),
            max_modules=r.number(table, "max_modules", prefix, base.max_modules, integer=True,
                                 maximum=100),
            capital_cost_per_module=float(r.number(table, "capital_cost_per_module", prefix,
                                                   base.capital_cost_per_module)),
            fixed_capital_cost=float(r.number(table, "fixed_capital_cost", prefix,
                                              base.fixed_capital_cost)),
            lead_time_years=r.number(table, "lead_time_years", prefix, base.lead_time_years,
                                     integer=True, maximum=20),
            earliest_year=earliest,
            annual_cost_per_place=float(r.number(table, "annual_cost_per_place", prefix,
                                                 base.annual_cost_per_place)),
            annual_cost_per_commissioned_place=float(r.number(
                table, "annual_cost_per_commissioned_place", prefix,
                base.annual_cost_per_commissioned_place)),
            source=r.text(table, "source", prefix, base.source),
        )


def _read_build(s: _Spec) -> dict[str, Any]:
    """``[build]``: name, output locations, source folder, notes."""
    r = s.r
    t = r.table(s.data, "build", "", _BUILD, required=True)
    name = r.text(t, "name", "build.") or "invalid"
    folder = s.path.parent
    sources_text = r.text(t, "sources", "build.", ".")
    sources = s.path_at(folder, sources_text, "build.sources") if sources_text else None
    if sources is not None and not sources.is_dir():
        r.problem("build.sources", f"source folder {sources} does not exist",
                  "point it at the folder holding the raw extracts (relative to the spec)")
    s.sources_dir = sources or folder
    dataset = s.output(t, "dataset", name)
    run_path = s.output(t, "run_toml", f"../models/{name}.toml")
    if dataset is not None:
        _check_dataset_folder(s, dataset, sources, run_path)
    return {
        "name": name,
        "title": r.text(t, "title", "build.", name),
        "dataset_dir": dataset or folder / "invalid",
        "run_path": run_path or folder / "invalid.toml",
        "precision_m": float(r.number(t, "coordinate_precision_m", "build.", 1.0,
                                      minimum=0.001, maximum=100.0)),
        "notes": r.texts(t, "notes", "build."),
        "sources_text": sources_text,
    }


def _check_dataset_folder(s: _Spec, dataset: Path, sources: Path | None,
                          run_path: Path | None) -> None:
    """The dataset folder is replaced whole by a rebuild: it may hold no spec or source."""
    holds = "the spec" if inside(s.path, dataset) else (
        "the source folder" if sources is not None and inside(sources, dataset) else None)
    if holds:
        s.r.problem("build.dataset", f"the folder {dataset} holds {holds}, and a rebuild "
                    "replaces the whole dataset folder",
                    'name a folder of its own, e.g. dataset = "<name>" (inputs/<name>/)')
    elif run_path is not None and not inside(dataset, project_folder(run_path)):
        s.r.problem("build.run_toml", f"the run it writes could not read the dataset "
                    f"{dataset}: a run reads only inside the parent of its own folder",
                    'put the run next to the datasets\' folder, e.g. run_toml = '
                    '"../models/<name>.toml"')


def _read_areas(s: _Spec) -> AreaSpec:
    """``[areas]``: boundary file, code and name columns, lookup or groups."""
    r, p = s.r, "areas."
    t = r.table(s.data, "areas", "", {
        "file", "code_column", "name_column", "where", "lookup", "lookup_code_column",
        "lookup_area_column", "lookup_name_column", "attribution", "nearest_within_m",
        "groups"}, required=True)
    code = r.text(t, "code_column", p) or ""
    groups = tuple((label, r.text(g, "area_id", label + ".") or "",
                    r.text(g, "name", label + ".", ""), r.texts(g, "codes", label + "."))
                   for label, g in r.tables(t, "groups", p, {"area_id", "name", "codes"}))
    if groups and "lookup" in t:
        r.problem(p + "groups", "give either a lookup file or groups, not both",
                  "delete one of them")
    return AreaSpec(
        boundaries=s.source(t, "file", p, attribution_key="attribution"),
        code_column=code,
        name_column=r.text(t, "name_column", p, None),
        where=s.where(t, p),
        lookup=s.source(t, "lookup", p, required=False),
        lookup_code_column=r.text(t, "lookup_code_column", p, code),
        lookup_area_column=r.text(t, "lookup_area_column", p, "area_id"),
        lookup_name_column=r.text(t, "lookup_name_column", p, "name"),
        nearest_within_m=float(r.number(t, "nearest_within_m", p, 1_000.0)),
        groups=groups,
    )


_CATEGORIES = ("special", "mainstream", "alternative", "independent", "independent_special",
               "other")


def _read_establishments(s: _Spec) -> EstablishmentSpec:
    """``[establishments]``: the school table, its columns, filters, links, postcodes."""
    r, p = s.r, "establishments."
    t = r.table(s.data, "establishments", "", {
        "file", "layout", "encoding", "columns", "where", "places_from", "types", "links",
        "postcodes", "postcode_columns", "min_phase_share", "attribution",
        "links_attribution", "postcodes_attribution"}, required=True)
    encoding = r.text(t, "encoding", p, "utf-8", ("utf-8", "latin-1", "cp1252"))
    columns_table = r.table(t, "columns", p, set(ESTABLISHMENT_FIELDS))
    columns = {key: r.texts(columns_table, key, p + "columns.") for key in columns_table}
    types_table = r.table(t, "types", p, set(_CATEGORIES))
    postcode_table = r.table(t, "postcode_columns", p, {"postcode", "easting", "northing"})
    return EstablishmentSpec(
        table=s.source(t, "file", p, attribution_key="attribution", encoding=encoding),
        layout=r.text(t, "layout", p, "gias", ("gias", "custom")),
        columns=columns,
        where=s.where(t, p),
        places_from=r.text(t, "places_from", p, "capacity", PLACES_FROM),
        types={cat: r.texts(types_table, cat, p + "types.") for cat in types_table},
        links=s.source(t, "links", p, required=False, attribution_key="links_attribution"),
        postcodes=s.source(t, "postcodes", p, required=False,
                           attribution_key="postcodes_attribution"),
        postcode_columns={k: r.text(postcode_table, k, p + "postcode_columns.")
                          for k in postcode_table},
        min_phase_share=float(r.number(t, "min_phase_share", p, 0.05, maximum=1.0)),
    )


def _read_kinds(s: _Spec) -> dict[str, ProvisionDefaults]:
    """``[provision.<kind>]``: needs, modules, costs and timing per kind, over the defaults."""
    t = s.r.table(s.data, "provision", "", set(KINDS))
    out = {}
    for kind in KINDS:
        sub = s.r.table(t, kind, "provision.", _PROVISION_KEYS)
        out[kind] = s.provision_defaults(sub, f"provision.{kind}.", KIND_DEFAULTS[kind])
        if kind in POST16_KINDS and out[kind].phases != ("post16",):
            s.r.problem(f"provision.{kind}.phases", f"a {kind} serves post16 only",
                        'write phases = ["post16"], or leave phases out')
    return out


def _read_given(s: _Spec, key: str) -> tuple[GivenProvision, ...]:
    """``[[special]]`` or ``[[resourced]]`` entries: provision named by URN."""
    r = s.r
    out = []
    for label, t in r.tables(s.data, key, "", {"urn", "name", "needs", "phases", "places",
                                               "module_places", "max_modules", "source"}):
        p = label + "."
        needs = r.needs(t, "needs", p) if "needs" in t else None
        phases = r.phases(t, "phases", p) if "phases" in t else None
        out.append(GivenProvision(
            label=label, urn=r.text(t, "urn", p) or "", needs=needs, phases=phases,
            places=r.number(t, "places", p, None if key == "special" else REQUIRED,
                            integer=True, maximum=10_000),
            module_places=r.number(t, "module_places", p, None, integer=True, minimum=1),
            max_modules=r.number(t, "max_modules", p, None, integer=True, maximum=100),
            source=r.text(t, "source", p, ""), name=r.text(t, "name", p, "")))
    return tuple(out)


def _read_candidates(s: _Spec, kinds: dict[str, ProvisionDefaults]) -> tuple[CandidateRule, ...]:
    """``[[candidates]]``: rules choosing host schools for new provision."""
    r = s.r
    allowed = {"name", "kind", "host_phases", "min_pupils", "max_pupils", "urns",
               "include_urns", "exclude_urns"} | _PROVISION_KEYS
    out = []
    for label, t in r.tables(s.data, "candidates", "", allowed):
        p = label + "."
        kind = r.text(t, "kind", p, "resourced", CANDIDATE_KINDS) or "resourced"
        provision = s.provision_defaults(t, p, kinds[kind])
        out.append(CandidateRule(
            label=label, name=r.text(t, "name", p) or "", kind=kind,
            host_phases=r.phases(t, "host_phases", p),
            min_pupils=float(r.number(t, "min_pupils", p, 0.0)),
            max_pupils=float(r.number(t, "max_pupils", p, float("inf"))),
            urns=r.texts(t, "urns", p), include_urns=r.texts(t, "include_urns", p),
            exclude_urns=r.texts(t, "exclude_urns", p),
            needs=provision.needs,
            phases=r.phases(t, "phases", p) if "phases" in t else None,
            provision=provision))
    names = [c.name.lower() for c in out]
    for c in out:
        if names.count(c.name.lower()) > 1:
            r.problem(c.label + ".name", f"'{c.name}' is used by two rules",
                      "give each rule its own name (it becomes the option-id suffix)")
    return tuple(out)


def _read_new_schools(s: _Spec, kinds: dict[str, ProvisionDefaults],
                      key: str = "new_school") -> tuple[NewSchool, ...]:
    """``[[new_school]]`` sites for a new special school; ``[[post16]]`` colleges and SPIs.

    A ``[[post16]]`` entry names its ``kind`` (fe_college, specialist_post16) and any places
    it has (``existing_places``).
    """
    r = s.r
    allowed = {"site_id", "name", "easting", "northing", "postcode"} | _PROVISION_KEYS
    if key == "post16":
        allowed |= {"kind", "existing_places"}
    out = []
    for label, t in r.tables(s.data, key, "", allowed):
        p = label + "."
        kind = "new_special" if key != "post16" else (
            r.text(t, "kind", p, REQUIRED, POST16_KINDS) or POST16_KINDS[0])
        easting = r.number(t, "easting", p, None, minimum=-100_000, maximum=800_000)
        northing = r.number(t, "northing", p, None, minimum=-100_000, maximum=1_400_000)
        postcode = r.text(t, "postcode", p, None)
        if (easting is None or northing is None) and postcode is None:
            r.problem(p + "easting", "the new-school site has no position",
                      "give easting and northing (EPSG:27700), or a postcode")
        provision = s.provision_defaults(t, p, kinds[kind])
        if kind in POST16_KINDS and provision.phases != ("post16",):
            r.problem(p + "phases", f"a {kind} serves post16 only",
                      'write phases = ["post16"], or leave phases out')
        out.append(NewSchool(label=label, site_id=r.text(t, "site_id", p) or "",
                             name=r.text(t, "name", p, ""), easting=easting, northing=northing,
                             postcode=postcode, provision=provision, kind=kind,
                             existing_places=r.number(t, "existing_places", p, 0, integer=True,
                                                      maximum=10_000)))
    return tuple(out)


def _read_share(s: _Spec, t: dict[str, Any]) -> ShareSpec:
    """``[demand.share]``: how pupils are shared among the areas."""
    r, p = s.r, "demand.share."
    sub = r.table(t, "share", "demand.", {"method", "headcount_phase", "file", "code_column",
                                          "weight_column", "phase_column"}, required=True)
    method = r.text(sub, "method", p, REQUIRED, SHARE_METHODS) or "equal"
    headcount = r.text(sub, "headcount_phase", p, None, PHASES)
    if method != "table":
        return ShareSpec(method, headcount_phase=headcount)
    return ShareSpec(method, table=s.source(sub, "file", p),
                     code_column=r.text(sub, "code_column", p) or "",
                     weight_column=r.text(sub, "weight_column", p) or "",
                     phase_column=r.text(sub, "phase_column", p, None))


def _read_growth(s: _Spec, t: dict[str, Any]) -> GrowthSpec:
    """``[demand.growth]``: default rate (or "trend") and overrides."""
    r, p = s.r, "demand.growth."
    sub = r.table(t, "growth", "demand.", {"default", "trend_from", "needs", "phases", "cells",
                                           "phase_ages", "phase_ages_period", "new_plans",
                                           "new_plans_period", "min_plans"})
    default = sub.get("default", 0.0)
    if default != "trend":
        default = float(r.number(sub, "default", p, 0.0, minimum=-1.0, maximum=1.0))
    trend_from = r.text(sub, "trend_from", p, None)
    if default == "trend" and trend_from is None:
        r.problem(p + "trend_from", "default = \"trend\" needs the first period of the trend",
                  'add trend_from = "201819" (a time_period of the caseload file)')
    cells = _rates(r, sub, "cells", p, tuple(f"{n}.{ph}" for n in NEEDS for ph in PHASES))
    sources = {}
    for key in ("phase_ages", "new_plans"):
        sources[key] = s.source(sub, key, p, required=False)
        if sources[key] is not None and f"{key}_period" not in sub:
            r.problem(f"{p}{key}_period", f"{key} needs the time_period to read",
                      f'add {key}_period = "2022" (a time_period of {sources[key].label})')
    return GrowthSpec(default, trend_from, _rates(r, sub, "needs", p, NEEDS),
                      _rates(r, sub, "phases", p, PHASES), cells,
                      phase_ages=sources["phase_ages"],
                      phase_ages_period=r.text(sub, "phase_ages_period", p, ""),
                      new_plans=sources["new_plans"],
                      new_plans_period=r.text(sub, "new_plans_period", p, ""),
                      min_plans=float(r.number(sub, "min_plans", p, 20.0, maximum=1e6)))


SCENARIO_NAMES = ("low", "central", "high")


def _read_scenarios(s: _Spec, t: dict[str, Any]) -> ScenarioSpec | None:
    """``[demand.scenarios]``: low and high growth (points added to every rate), weights."""
    r, p = s.r, "demand.scenarios."
    if "scenarios" not in t:
        return None
    sub = r.table(t, "scenarios", "demand.", {"low", "high", "weights", "run_toml"})
    low = float(r.number(sub, "low", p, REQUIRED, minimum=-1.0, maximum=0.0) or 0.0)
    high = float(r.number(sub, "high", p, REQUIRED, minimum=0.0, maximum=1.0) or 0.0)
    weights = r.number_table(sub, "weights", p, "write weights = { low = 0.25, central = 0.5, "
                             "high = 0.25 }", maximum=1e6, names=SCENARIO_NAMES)
    weights = {name: weights.get(name, 1.0) for name in SCENARIO_NAMES}
    if sum(weights.values()) <= 0:
        r.problem(p + "weights", "the weights add up to 0", "give at least one weight > 0")
    name = s.data.get("build", {}).get("name", "run")
    path = s.output(sub, "run_toml", f"../models/{name}_scenarios.toml", p)
    return ScenarioSpec(low, high, weights, path or s.path.parent / "invalid.toml")


def _rates(r: TomlReader, table: dict[str, Any], key: str, prefix: str,
           names: tuple[str, ...]) -> dict[str, float]:
    """A table of named rates (e.g. growth per need), each between -1 and 1."""
    return r.number_table(table, key, prefix, f"write {key} = {{ NAME = 0.05 }}",
                          minimum=-1.0, maximum=1.0, names=names)


def _read_housing(s: _Spec, t: dict[str, Any]) -> HousingSpec | None:
    """``[demand.housing]``: pupil yields, specialist rate and homes by area and year."""
    r, p = s.r, "demand.housing."
    if "housing" not in t:
        return None
    sub = r.table(t, "housing", "demand.", {"pupil_yield", "specialist_rate", "sites",
                                            "source"})
    pupil_yield = _rates(r, sub, "pupil_yield", p, PHASES)
    rate = None if sub.get("specialist_rate", "derived") == "derived" else _rates(
        r, sub, "specialist_rate", p, PHASES)
    sites = []
    for label, site in r.tables(sub, "sites", p, {"area", "homes", "source"}):
        homes_table = r.table(site, "homes", label + ".", None,
                              fix="write homes = { 2027 = 120 }")
        homes = r.year_numbers(homes_table, f"{label}.homes.", _academic_year_problem,
                               maximum=1e6)
        sites.append(HousingSite(label, r.text(site, "area", label + ".") or "", homes,
                                 r.text(site, "source", label + ".", "")))
    return HousingSpec(pupil_yield, rate, tuple(sites), r.text(sub, "source", p, ""))


def _academic_year_problem(key: str) -> tuple[str, str] | None:
    """(message, fix) when a ``homes`` key is not written as an academic year."""
    return None if key.isdigit() else ("not an academic year", "use e.g. 2027")


def _read_demand(s: _Spec, authority: dict[str, str]) -> DemandSpec:
    """``[demand]``: SEN2 files, base period, placements, ages, share and projection."""
    r, p = s.r, "demand."
    t = r.table(s.data, "demand", "", {
        "caseload", "needs", "base_period", "base_year", "placements", "independent",
        "need_labels", "unknown_need", "ages", "share", "population", "growth", "housing",
        "attribution", "decimals", "scenarios"}, required=True)
    ages_table = r.table(t, "ages", p, set(PHASES))
    pop = r.table(t, "population", p, {"file", "area_code", "ages", "attribution"})
    pop_ages = r.table(pop, "ages", p + "population.", set(PHASES))
    placements = r.texts(t, "placements", p)
    if not placements:
        r.problem(p + "placements", "no placement columns given",
                  'list the SEN2 caseload columns that count as specialist placements')
    independent = r.texts(t, "independent", p)
    for column in independent:
        if column not in placements:
            r.problem(p + "independent", f"'{column}' is not one of demand.placements",
                      "independent placements must also be listed in placements")
    labels = r.table(t, "need_labels", p, None)
    unknown = r.text(t, "unknown_need", p, "spread", ("spread", *NEEDS))
    return DemandSpec(
        caseload=s.source(t, "caseload", p, attribution_key="attribution"),
        needs_table=s.source(t, "needs", p, attribution_key="attribution"),
        la_codes=tuple(c for c in (authority.get("gss_code"), authority.get("dfe_code")) if c),
        base_period=r.text(t, "base_period", p) or "",
        base_year=r.number(t, "base_year", p, minimum=2000, maximum=2100, integer=True) or 0,
        placements=placements, independent=independent,
        need_labels={k: r.text(labels, k, p + "need_labels.") or "" for k in labels},
        unknown_need=unknown,
        ages={ph: r.age_range(ages_table, ph, p + "ages.", SEN2_AGES[ph]) for ph in PHASES},
        share=_read_share(s, t),
        population=s.source(pop, "file", p + "population.", required=False,
                            attribution_key="attribution") if pop else None,
        population_area=r.text(pop, "area_code", p + "population.",
                               authority.get("gss_code", "")),
        population_ages={ph: r.age_range(pop_ages, ph, p + "population.ages.",
                                         POPULATION_AGES[ph]) for ph in PHASES},
        growth=_read_growth(s, t),
        housing=_read_housing(s, t),
        decimals=r.number(t, "decimals", p, 2, integer=True, minimum=0, maximum=6),
        scenarios=_read_scenarios(s, t),
    )


def _read_authority(s: _Spec) -> dict[str, str]:
    """``[authority]``: name and codes (GSS and DfE number) used to find its rows."""
    r, p = s.r, "authority."
    t = r.table(s.data, "authority", "", {"name", "gss_code", "dfe_code"}, required=True)
    out = {"name": r.text(t, "name", p) or ""}
    for key in ("gss_code", "dfe_code"):
        value = r.text(t, key, p, None)
        if value:
            out[key] = value
    if len(out) == 1:
        r.problem(p + "gss_code", "the authority has no code",
                  'give gss_code = "E06000014" and/or dfe_code = "816"')
    return out


def _read_run(s: _Spec, build: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The run TOML's settings; checked by the engine's own run reader before anything runs."""
    t = s.r.table(s.data, "run", "", None, required=True)
    run = {k: v for k, v in t.items() if k != "sources"}
    for key in ("name", "inputs"):
        if key in run:
            s.r.problem(f"run.{key}", "is set by the builder (from build.name and "
                        "build.dataset)", f"delete run.{key}")
            del run[key]
    for key in _unwritable(run, "run."):
        s.r.problem(key, "a date or time cannot be written to the run TOML",
                    "write the value as a number or text")
    sources = t.get("sources", {})
    if not isinstance(sources, dict) or not all(isinstance(v, str) for v in sources.values()):
        s.r.problem("run.sources", "must be a table of texts",
                    'write [run.sources] "independent.cost_per_place" = "where it comes from"')
        sources = {}
    probe = {"name": build["name"], "inputs": ".", **run}
    try:
        parse_run_config(s.path, probe)
    except InputError as exc:
        for issue in exc.issues:
            s.r.problem(f"run.{issue.column}" if issue.column else "run", issue.message,
                        issue.fix)
    return run, dict(sources)


def _unwritable(value: Any, key: str) -> list[str]:
    """Dotted keys of the TOML dates and times in ``value`` (a run table has no use for them)."""
    if isinstance(value, dict):
        return [k for name, v in value.items() for k in _unwritable(v, f"{key}{name}.")]
    if isinstance(value, list):
        return [k for v in value for k in _unwritable(v, key)]
    return [key.rstrip(".")] if isinstance(value, datetime.date | datetime.time) else []


def parse_spec(path: Path, data: dict[str, Any], *, project: Path | None = None) -> BuildSpec:
    """Check the parsed spec ``data`` and turn it into a :class:`BuildSpec`.

    ``project``: the project folder, when named on the command line (default: the parent of
    the spec's folder).
    """
    s = _Spec(path, data, project)
    s.r.check_keys(data, _TOP, "")
    build = _read_build(s)
    authority = _read_authority(s)
    kinds = _read_kinds(s)
    run, run_sources = _read_run(s, build)
    spec = BuildSpec(
        spec_path=path, name=build["name"], title=build["title"],
        authority=authority.get("name", ""), dataset_dir=build["dataset_dir"],
        run_path=build["run_path"], sources_dir=s.sources_dir,
        sources_text=build["sources_text"],
        precision_m=build["precision_m"], areas=_read_areas(s),
        establishments=_read_establishments(s), provision=kinds,
        special=_read_given(s, "special"), resourced=_read_given(s, "resourced"),
        candidates=_read_candidates(s, kinds), new_schools=_read_new_schools(s, kinds),
        demand=_read_demand(s, authority), run=run, run_sources=run_sources,
        notes=build["notes"], post16=_read_new_schools(s, kinds, "post16"))
    s.r.raise_issues()
    return spec


def load_spec(path: str | Path, *, project: str | Path | None = None) -> BuildSpec:
    """Read and check a build spec; raise :class:`InputError` naming the key and the fix."""
    try:
        spec_path = resolve(path)
        project_dir = None if project is None else resolve(project)
    except UnusablePath as exc:
        raise InputError(Issue(repr(str(path)), None, None, f"not a usable path: {exc}",
                               "give the path of an inputs/<name>.build.toml file")) from None
    if not spec_path.is_file():
        raise InputError(Issue(str(path), None, None, "build spec not found",
                               "give the path of an inputs/<name>.build.toml file"))
    if project_dir is not None and not project_dir.is_dir():
        raise InputError(Issue(str(project), None, None, "project folder not found",
                               "name an existing folder holding the spec's outputs"))
    return parse_spec(spec_path, read_toml(spec_path), project=project_dir)
