"""Sites and provision options from the classified establishments and the spec's rules.

- open special schools → existing ``special`` provision (places from capacity or headcount);
- schools reporting a resourced provision or SEN unit, and the spec's ``[[resourced]]``
  list → existing ``resourced`` provision;
- open mainstream schools matching a ``[[candidates]]`` rule → a possible new resourced
  provision or satellite (no places yet);
- each ``[[new_school]]`` → a site with a possible ``new_special`` option;
- each ``[[post16]]`` → a site with an ``fe_college`` or ``specialist_post16`` option (post16
  only; its existing places, if any, and the modules it may add).

The URN is the site id; an option id is ``<URN>_<SUFFIX>``. Every site is placed in the
planning area that contains it (or the nearest one within ``areas.nearest_within_m``).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from sufficiency.errors import InputError, Issue
from sufficiency.ingest.areas import Areas
from sufficiency.ingest.establishments import Establishments, read_postcodes, sen_needs
from sufficiency.ingest.log import BuildLog
from sufficiency.ingest.spec import BuildSpec, GivenProvision, ProvisionDefaults
from sufficiency.preprocess import geo
from sufficiency.preprocess.vocabulary import NEEDS, PHASES

STAGE = "provision"
OPTION_COLUMNS = ["option_id", "site_id", "kind", "needs", "phases", "existing_places",
                  "module_places", "max_modules", "capital_cost_per_module",
                  "fixed_capital_cost", "lead_time_years", "earliest_year",
                  "annual_cost_per_place", "annual_cost_per_commissioned_place"]


@dataclass(frozen=True)
class Provision:
    """sites (site_id, name, area_id, easting, northing) and options (provision.csv + origin)."""

    sites: pd.DataFrame
    options: pd.DataFrame


def _option(option_id: str, site_id: str, kind: str, needs: tuple[str, ...],
            phases: tuple[str, ...], existing: int, p: ProvisionDefaults, start_year: int,
            origin: str, *, module_places: int | None = None,
            max_modules: int | None = None) -> dict:
    """One provision.csv row (plus where it came from, for the README)."""
    lead = int(p.lead_time_years)
    return {
        "option_id": option_id, "site_id": site_id, "kind": kind, "needs": needs,
        "phases": phases, "existing_places": int(existing),
        "module_places": int(module_places if module_places is not None else p.module_places),
        "max_modules": int(max_modules if max_modules is not None else p.max_modules),
        "capital_cost_per_module": p.capital_cost_per_module,
        "fixed_capital_cost": p.fixed_capital_cost, "lead_time_years": lead,
        "earliest_year": int(p.earliest_year or start_year + lead),
        "annual_cost_per_place": p.annual_cost_per_place,
        "annual_cost_per_commissioned_place": p.annual_cost_per_commissioned_place,
        "origin": origin,
    }


def _places(row, places_from: str, capacity: str, on_roll: str, label: str,
            log: BuildLog, what: str) -> float:
    """Places from capacity or headcount as the spec says, falling back to the other."""
    first, second = (capacity, on_roll) if places_from == "capacity" else (on_roll, capacity)
    value = getattr(row, first)
    if pd.notna(value) and value > 0:
        return float(value)
    other = getattr(row, second)
    if pd.notna(other) and other > 0:
        log.count(STAGE, label, "changed", f"{what}: no {first.replace('_', ' ')}, "
                  f"{second.replace('_', ' ')} used as places", 1, [f"URN {row.urn}"])
        return float(other)
    return 0.0


def _given_by_urn(entries: tuple[GivenProvision, ...], pool: pd.DataFrame, what: str,
                  spec_file: str) -> dict[str, GivenProvision]:
    """Spec entries keyed by URN; each must name an open school of the right category."""
    known = set(pool["urn"])
    issues = [Issue(spec_file, None, f"{e.label}.urn", f"URN {e.urn} is not an open {what} "
                    "in the establishment file (after links and filters)",
                    "check the URN, the where filter and the establishment's type")
              for e in entries if e.urn not in known]
    if issues:
        raise InputError(issues)
    return {e.urn: e for e in entries}


def _special(spec: BuildSpec, est: Establishments, log: BuildLog) -> list[dict]:
    """Existing special provision: every open special school with places."""
    frame = est.frame[est.frame["category"] == "special"]
    given = _given_by_urn(spec.special, frame, "special school", spec.spec_path.name)
    p = spec.provision["special"]
    rows = []
    for row in frame.itertuples(index=False):
        entry = given.get(row.urn)
        places = entry.places if entry and entry.places is not None else _places(
            row, spec.establishments.places_from, "capacity", "pupils", est.label, log,
            "special school")
        if entry and entry.places is not None:
            log.count(STAGE, est.label, "changed", "special school places given in the spec "
                      "([[special]] places)", 1, [f"URN {row.urn}"])
        if places <= 0:
            log.count(STAGE, est.label, "dropped", "special school with no places (no capacity "
                      "or headcount)", 1, [f"URN {row.urn}"])
            log.warn(f"special school {row.name} (URN {row.urn}) has no capacity or headcount; "
                     f"give places in a [[special]] entry")
            continue
        sen, _ = sen_needs(row.sen_texts)
        needs = (entry.needs if entry and entry.needs else None) or sen or p.needs
        phases = (entry.phases if entry and entry.phases else None) or row.phases or p.phases
        origin = f"open special school in {est.label}" + (f"; {entry.source}" if entry and
                                                           entry.source else "")
        rows.append(_option(f"{row.urn}_SPECIAL", row.urn, "special", needs, phases,
                            round(places), p, spec.start_year, origin,
                            module_places=entry.module_places if entry else None,
                            max_modules=entry.max_modules if entry else None))
    return rows


def _flagged_resourced(spec: BuildSpec, est: Establishments, log: BuildLog,
                       given: dict[str, GivenProvision]) -> list[dict]:
    """Resourced provisions and SEN units the establishment file itself reports."""
    p = spec.provision["resourced"]
    rows = []
    for row in est.frame.itertuples(index=False):
        kinds = []
        text = row.rp_type.lower()
        if "resourced" in text or (not text and pd.notna(row.rp_capacity) and row.rp_capacity > 0):
            kinds.append(("RP", "rp_capacity", "rp_on_roll", "resourced provision"))
        if "unit" in text or (not text and pd.notna(row.unit_capacity) and row.unit_capacity > 0):
            kinds.append(("UNIT", "unit_capacity", "unit_on_roll", "SEN unit"))
        for suffix, capacity, on_roll, what in kinds:
            if suffix == "RP" and row.urn in given:
                log.count(STAGE, est.label, "changed", "resourced provision replaced by the "
                          "spec's [[resourced]] entry", 1, [f"URN {row.urn}"])
                continue
            places = _places(row, spec.establishments.places_from, capacity, on_roll,
                             est.label, log, what)
            if places <= 0:
                log.count(STAGE, est.label, "unmatched", f"{what} reported with no places", 1,
                          [f"URN {row.urn}"])
                continue
            sen, unknown = sen_needs(row.sen_texts)
            log.count(STAGE, est.label, "changed", "unreadable SEN provision type ignored",
                      len(unknown), unknown)
            rows.append(_option(f"{row.urn}_{suffix}", row.urn, "resourced", sen or p.needs,
                                row.phases or p.phases, round(places), p, spec.start_year,
                                f"{what} reported in {est.label}", max_modules=0))
    return rows


def _given_resourced(spec: BuildSpec, est: Establishments,
                     given: dict[str, GivenProvision]) -> list[dict]:
    """Existing resourced provision listed in the spec's ``[[resourced]]`` entries."""
    p = spec.provision["resourced"]
    frame = est.frame.set_index("urn")
    rows = []
    for urn, entry in given.items():
        school = frame.loc[urn]
        sen, _ = sen_needs(school["sen_texts"])
        rows.append(_option(f"{urn}_RP", urn, "resourced", entry.needs or sen or p.needs,
                            entry.phases or school["phases"] or p.phases, int(entry.places), p,
                            spec.start_year, entry.source or "given in the spec",
                            module_places=entry.module_places,
                            max_modules=entry.max_modules if entry.max_modules is not None
                            else 0))
    return rows


def _hosts(spec: BuildSpec, est: Establishments) -> list[dict]:
    """Candidate new resourced provisions and satellites at open mainstream schools."""
    mainstream = est.frame[est.frame["category"] == "mainstream"]
    spec_file = spec.spec_path.name
    rows = []
    for rule in spec.candidates:
        named = set(rule.urns) | set(rule.include_urns)
        missing = sorted(named - set(mainstream["urn"]))
        if missing:
            raise InputError(Issue(spec_file, None, f"{rule.label}.urns", f"URN {missing[0]} "
                                   "is not an open mainstream school in the establishment file",
                                   "check the URN and the school's type"))
        phase_match = mainstream["phases"].map(lambda ph, r=rule: bool(set(ph) &
                                                                        set(r.host_phases)))
        size = mainstream["pupils"].between(rule.min_pupils, rule.max_pupils) | (
            mainstream["pupils"].isna() & (rule.min_pupils <= 0))
        match = phase_match & size & ~mainstream["urn"].isin(rule.exclude_urns)
        if rule.urns:
            match = mainstream["urn"].isin(rule.urns)
        match |= mainstream["urn"].isin(rule.include_urns)
        for row in mainstream[match].itertuples(index=False):
            phases = rule.phases or tuple(ph for ph in row.phases if ph in rule.host_phases) \
                or rule.host_phases
            rows.append(_option(f"{row.urn}_{rule.name}", row.urn, rule.kind, rule.needs,
                                phases, 0, rule.provision, spec.start_year,
                                f"candidate host: rule '{rule.name}'"))
    return rows


def _site_rows(est: Establishments, options: list[dict]) -> pd.DataFrame:
    """Sites of the options at schools: URN, name and position."""
    frame = est.frame.set_index("urn")
    urns = sorted({o["site_id"] for o in options} & set(frame.index))
    return pd.DataFrame({"site_id": urns, "name": frame.loc[urns, "name"].tolist(),
                         "easting": frame.loc[urns, "easting"].tolist(),
                         "northing": frame.loc[urns, "northing"].tolist()})


SUFFIX = {"new_special": "NEW", "fe_college": "FE", "specialist_post16": "SPI"}


def _new_schools(spec: BuildSpec) -> tuple[list[dict], pd.DataFrame]:
    """A site and its option for each [[new_school]] and [[post16]] of the spec."""
    rows, sites = [], []
    postcodes = None
    for school in (*spec.new_schools, *spec.post16):
        easting, northing = school.easting, school.northing
        if easting is None or northing is None:
            if spec.establishments.postcodes is None:
                raise InputError(Issue(spec.spec_path.name, None, f"{school.label}.postcode",
                                       "no postcode table to place the new-school site",
                                       "give easting/northing, or establishments.postcodes"))
            postcodes = postcodes if postcodes is not None else read_postcodes(
                spec.establishments.postcodes, spec.establishments.postcode_columns)
            key = (school.postcode or "").upper().replace(" ", "")
            if key not in postcodes.index:
                raise InputError(Issue(spec.spec_path.name, None, f"{school.label}.postcode",
                                       f"postcode {school.postcode} is not in "
                                       f"{spec.establishments.postcodes.label}",
                                       "check it, or give easting/northing"))
            easting, northing = postcodes.loc[key, ["easting", "northing"]]
        p = school.provision
        rows.append(_option(f"{school.site_id}_{SUFFIX[school.kind]}", school.site_id,
                            school.kind, p.needs, p.phases, school.existing_places, p,
                            spec.start_year, p.source or (
                                "new-school site named in the spec" if school.kind ==
                                "new_special" else f"{school.kind} site named in the spec")))
        sites.append({"site_id": school.site_id, "name": school.name, "easting": easting,
                      "northing": northing})
    return rows, pd.DataFrame(sites, columns=["site_id", "name", "easting", "northing"])


def _place_sites(sites: pd.DataFrame, areas: Areas, within_m: float, label: str,
                 log: BuildLog) -> pd.DataFrame:
    """Each site's planning area: the one containing it, else the nearest within ``within_m``."""
    unplaced = sites["easting"].isna() | sites["northing"].isna()
    log.count(STAGE, label, "unmatched", "no position (no coordinates, postcode not found): "
              "site and its options left out", int(unplaced.sum()),
              [f"{n} (URN {s})" for s, n in zip(sites.loc[unplaced, "site_id"],
                                                 sites.loc[unplaced, "name"], strict=True)])
    for site, name in zip(sites.loc[unplaced, "site_id"], sites.loc[unplaced, "name"],
                          strict=True):
        log.warn(f"{name} (URN {site}) has no position and was left out")
    sites = sites[~unplaced].reset_index(drop=True)
    points = gpd.GeoDataFrame(sites, geometry=geo.points_from_bng(sites["easting"],
                                                                  sites["northing"]),
                              crs=geo.BNG)
    polygons = areas.frame[["area_id", "geometry"]]
    joined = gpd.sjoin(points, polygons, how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    area = joined["area_id"].copy()
    for i in area[area.isna()].index:
        distances = polygons.geometry.distance(points.geometry.iloc[i])
        nearest = distances.idxmin()
        if distances[nearest] <= within_m:
            area[i] = polygons.loc[nearest, "area_id"]
            log.count(STAGE, label, "changed", f"site outside every area: put in the nearest "
                      f"area (within {within_m:g} m)", 1,
                      [f"URN {sites.loc[i, 'site_id']}: {distances[nearest]:.0f} m"])
    outside = area.isna()
    log.count(STAGE, label, "dropped", "site outside the planning areas: site and its options "
              "left out", int(outside.sum()), list(sites.loc[outside, "site_id"]))
    return sites.assign(area_id=area.values)[~outside.values].reset_index(drop=True)


def build_provision(spec: BuildSpec, est: Establishments, areas: Areas,
                    log: BuildLog) -> Provision:
    """All options and the sites they need (see the module docstring)."""
    mainstream = est.frame[est.frame["category"] == "mainstream"]
    given = _given_by_urn(spec.resourced, mainstream, "mainstream school",
                          spec.spec_path.name)
    options = (_special(spec, est, log) + _flagged_resourced(spec, est, log, given)
               + _given_resourced(spec, est, given) + _hosts(spec, est))
    new_options, new_sites = _new_schools(spec)
    sites = pd.concat([_site_rows(est, options), new_sites], ignore_index=True)
    unused = mainstream[~mainstream["urn"].isin(sites["site_id"])]
    log.count(STAGE, est.label, "kept", "open mainstream school that is not a site (no "
              "provision and no candidate rule matched)", len(unused))
    sites = _place_sites(sites, areas, spec.areas.nearest_within_m, est.label, log)
    options = pd.DataFrame(options + new_options)
    options = options[options["site_id"].isin(sites["site_id"])]
    _check_unique(options, spec)
    options = options.sort_values("option_id", kind="stable").reset_index(drop=True)
    sites = sites.sort_values("site_id", kind="stable").reset_index(drop=True)
    return Provision(sites, options)


def _check_unique(options: pd.DataFrame, spec: BuildSpec) -> None:
    """Two rules must not make the same option id (ids ignore case in the engine)."""
    repeated = options["option_id"].str.lower().duplicated(keep=False)
    if repeated.any():
        raise InputError(Issue(spec.spec_path.name, None, "candidates",
                               f"option id {options.loc[repeated, 'option_id'].iloc[0]} would "
                               "be made twice", "give the rules different names"))


def code_list(codes: tuple[str, ...], everything: tuple[str, ...]) -> str:
    """';'-joined codes, or '*' when the list is every code."""
    return "*" if tuple(codes) == tuple(everything) else ";".join(codes)


def provision_table(options: pd.DataFrame) -> pd.DataFrame:
    """provision.csv: the contract columns, needs and phases as text."""
    table = options[OPTION_COLUMNS].copy()
    table["needs"] = table["needs"].map(lambda c: code_list(c, NEEDS))
    table["phases"] = table["phases"].map(lambda c: code_list(c, PHASES))
    return table
