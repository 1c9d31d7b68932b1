"""The built dataset as file texts: the contract files, README, build log and run TOML.

Everything is rendered to text here, deterministically (sorted rows, fixed number formats,
no dates or machine paths), so that rebuilding from the same sources gives the same bytes.
Writing the texts to disk is the caller's job (:mod:`sufficiency.ingest.build`).
"""

from __future__ import annotations

import io
import json
import os
import re
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd
from shapely.geometry import mapping

from sufficiency.ingest.areas import Areas
from sufficiency.ingest.demand import DemandResult
from sufficiency.ingest.growth import growth_csv
from sufficiency.ingest.log import BuildLog
from sufficiency.ingest.provision import Provision, code_list, provision_table
from sufficiency.ingest.spec import BuildSpec
from sufficiency.preprocess.paths import MARKER, marker_text
from sufficiency.preprocess.vocabulary import NEEDS, PHASES

CRS_MEMBER = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}}
BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Assembled:
    """File name → text of the dataset folder, and the run TOML's text."""

    files: dict[str, str]
    run_toml: str
    scenarios_toml: str | None = None  # [demand.scenarios]: the run with low/central/high


def _coords(value: Any) -> Any:
    """Coordinates as ints where whole (metre grid), else floats rounded to 3 decimals."""
    if isinstance(value, list | tuple):
        return [_coords(v) for v in value]
    number = round(float(value), 3)
    return int(number) if number == int(number) else number


def areas_geojson(areas: gpd.GeoDataFrame, points: pd.DataFrame | None = None) -> str:
    """GeoJSON declaring EPSG:27700, one feature per line: area_id, name (and demand point)."""
    lines = []
    where = points.set_index("area_id") if points is not None else None
    for row in areas.itertuples(index=False):
        geometry = mapping(row.geometry)
        properties = {"area_id": row.area_id, "name": row.name}
        if where is not None:
            properties["demand_easting"] = int(where.loc[row.area_id, "demand_easting"])
            properties["demand_northing"] = int(where.loc[row.area_id, "demand_northing"])
        feature = {"type": "Feature", "properties": properties,
                   "geometry": {"type": geometry["type"],
                                "coordinates": _coords(geometry["coordinates"])}}
        lines.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
    head = json.dumps({"type": "FeatureCollection", "name": "areas", "crs": CRS_MEMBER},
                      separators=(",", ":"))[:-1]
    return head + ',"features":[\n' + ",\n".join(lines) + "\n]}\n"


def csv_text(frame: pd.DataFrame) -> str:
    """CSV with LF line ends, no index, numbers as written by pandas (stable)."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def sites_table(sites: pd.DataFrame) -> pd.DataFrame:
    """sites.csv: id, name, area, easting/northing in whole metres (EPSG:27700)."""
    return pd.DataFrame({"site_id": sites["site_id"], "name": sites["name"],
                         "area_id": sites["area_id"],
                         "easting": sites["easting"].round().astype("int64"),
                         "northing": sites["northing"].round().astype("int64")})


APPRAISAL_NOTE = ("build-dataset's default: capital counted over each asset's life (engine's "
                  "asset lives, assumptions), not in full in the year spent, so the horizon "
                  "does not cut the late plan short (docs/inputs.md); \"none\" = contract v1")


def _toml_value(value: Any) -> str:
    """One TOML value (big whole numbers with `_` separators, as people write them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:_}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}"
                               for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {value!r} to TOML")


def _toml_key(key: str) -> str:
    """A key as TOML needs it: bare when it can be, else quoted (so no key can add a line)."""
    return key if BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)


def _one_line(text: str) -> str:
    """Text for a TOML comment: line breaks and runs of spaces become one space."""
    return " ".join(str(text).split())


def _toml_line(key: str, value: Any, comment: str | None) -> str:
    """One ``key = value`` line, with its source as a comment when known."""
    text = f"{_toml_key(key)} = {_toml_value(value)}"
    return f"{text:<34}# {_one_line(comment)}" if comment else text


def run_toml_text(spec: BuildSpec, inputs: str) -> str:
    """The run TOML: the spec's [run] table, with [run.sources] texts as comments."""
    notes = spec.run_sources
    lines = [_one_line(f"# Run of the {spec.title} worked example. Written by `sufficiency "
                       f"build-dataset {spec.spec_path.name}`:"),
             "# change the spec and rebuild rather than editing "
             "this file. Sources of every figure: the dataset's README.md.", "",
             _toml_line("name", spec.name, None), _toml_line("inputs", inputs, None)]
    tables: list[tuple[tuple[str, ...], dict[str, Any]]] = []
    for key, value in spec.run.items():
        if isinstance(value, dict):
            tables.append(((key,), value))
        else:
            lines.append(_toml_line(key, value, notes.get(key)))
    while tables:
        path, table = tables.pop(0)
        name = ".".join(path)
        lines += ["", "[" + ".".join(_toml_key(part) for part in path) + "]"]
        for key, value in table.items():
            if isinstance(value, dict):
                tables.insert(0, ((*path, key), value))
            else:
                lines.append(_toml_line(key, value, notes.get(f"{name}.{key}")))
    if "appraisal" not in spec.run:  # the spec may say otherwise: [run.appraisal]
        lines += ["", "[appraisal]", _toml_line("method", "annuity", APPRAISAL_NOTE)]
    return "\n".join(lines) + "\n"


def scenarios_toml_text(spec: BuildSpec, inputs: str) -> str:
    """The scenarios run: the run TOML under its own name, plus low / central / high demand."""
    sc = spec.demand.scenarios
    lines = run_toml_text(spec, inputs).splitlines()
    lines = [_toml_line("name", f"{spec.name}-scenarios", None) if line.startswith("name = ")
             else line for line in lines]
    notes = {"low": f"growth {sc.low * 100:+g} points a year on every need and phase "
                    "(spec: demand.scenarios.low)",
             "central": "demand.csv as built",
             "high": f"growth {sc.high * 100:+g} points a year on every need and phase "
                     "(spec: demand.scenarios.high)"}
    for name in ("low", "central", "high"):
        lines += ["", f"[scenarios.{name}]", _toml_line("weight", sc.weights[name], notes[name])]
        if name != "central":
            lines.append(_toml_line("demand_file", f"demand_{name}.csv", None))
    return "\n".join(lines) + "\n"


def _money(value: float) -> str:
    """Whole pounds with thousands separators."""
    return f"£{value:,.0f}"


def _md_table(header: list[str], rows: list[list[Any]]) -> list[str]:
    """A Markdown table (a ``|`` inside a cell becomes ``/``)."""
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c).replace("|", "/") for c in row) + " |" for row in rows]
    return out


def _sources_section(spec: BuildSpec) -> list[str]:
    """README: every source file and the attribution its licence asks for."""
    e, d = spec.establishments, spec.demand
    sources = [("planning areas", spec.areas.boundaries), ("area lookup", spec.areas.lookup),
               ("establishments", e.table), ("establishment links", e.links),
               ("postcode centroids", e.postcodes), ("SEN2 caseload", d.caseload),
               ("SEN2 needs by placement", d.needs_table), ("population projection",
                                                            d.population),
               ("area share table", d.share.table)]
    rows = [[what, f"`{s.label}`", s.attribution or "—"] for what, s in sources if s]
    return ["## Sources and licences", "",
            f"Raw extracts were read from `{spec.sources_text}` (relative to the spec; not "
            "committed). The attribution each licence asks for:", "",
            *_md_table(["used for", "file", "attribution"], rows), ""]


def _areas_section(spec: BuildSpec, areas: Areas) -> list[str]:
    """README: where the planning areas come from and which boundaries each holds."""
    a = spec.areas
    how = (f"dissolved through the lookup `{a.lookup.label}` ({a.lookup_code_column} → "
           f"{a.lookup_area_column})" if a.lookup else "dissolved into the groups the spec "
           "lists (`[[areas.groups]]`)" if a.groups else "each boundary is one planning area")
    where = "; ".join(f"{k} = {', '.join(v)}" for k, v in a.where.items()) or "none"
    lines = ["## Planning areas", "",
             f"{len(areas.frame)} planning areas from {areas.boundary_count} boundaries of "
             f"`{a.boundaries.label}` (code `{a.code_column}`, filter: {where}); {how}. "
             f"Reprojected to British National Grid (EPSG:27700, declared in `areas.geojson`) "
             f"and snapped to a {spec.precision_m:g} m grid. Journeys are measured from each "
             "area's demand point: " + (
                 "the pupil-weighted centre of its mainstream schools (the same weights "
                 "that share the pupils among areas; `demand_easting`, `demand_northing`)."
                 if spec.demand.share.method == "school_headcount"
                 else "its centroid (the engine's default)."), ""]
    members: dict[str, list[str]] = {}
    for code, area in sorted(areas.code_to_area.items()):
        members.setdefault(area, []).append(code)
    if any(len(codes) > 1 for codes in members.values()):
        names = areas.frame.set_index("area_id")["name"]
        lines += _md_table(["area", "name", "boundaries"],
                           [[a, names[a], ", ".join(c)] for a, c in sorted(members.items())])
        lines.append("")
    return lines


def _provision_section(spec: BuildSpec, provision: Provision) -> list[str]:
    """README: existing provision (with its source) and the candidate rules' options."""
    options = provision.options
    names = provision.sites.set_index("site_id")["name"]
    existing = options[options["existing_places"] > 0]
    rows = [[o.option_id, names[o.site_id], o.kind, o.existing_places,
             code_list(o.needs, NEEDS), code_list(o.phases, PHASES),
             f"{o.max_modules} × {o.module_places}" if o.max_modules else "—", o.origin]
            for o in existing.itertuples(index=False)]
    new = options[options["existing_places"] == 0]
    by_origin = new.groupby("origin", sort=True)
    new_rows = [[origin, group["kind"].iloc[0], len(group),
                 ", ".join(f"{names[s]} ({s})" for s in group["site_id"]),
                 code_list(group["needs"].iloc[0], NEEDS),
                 f"{group['max_modules'].iloc[0]} × {group['module_places'].iloc[0]}"]
                for origin, group in by_origin]
    total = int(existing["existing_places"].sum())
    return ["## Provision", "", f"Existing places: {total:,} in {len(existing)} options. "
            "Special schools are the open special schools of the establishment file; "
            "resourced provisions are those the file reports or the spec lists.", "",
            *_md_table(["option", "school", "kind", "places", "needs", "phases",
                        "may add (modules × places)", "from"], rows), "",
            f"Possible new provision: {len(new)} options.", "",
            *_md_table(["rule", "kind", "options", "hosts (URN)", "needs",
                        "modules × places"], new_rows), ""]


def _flat(table: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Dotted keys and values of a nested table, in order."""
    out = []
    for key, value in table.items():
        if isinstance(value, dict):
            out += _flat(value, f"{prefix}{key}.")
        else:
            out.append((f"{prefix}{key}", value))
    return out


def _costs_section(spec: BuildSpec, kinds: set[str]) -> list[str]:
    """README: costs and lead times per kind and rule, and the run settings with sources."""
    rows = [[kind, _money(p.annual_cost_per_commissioned_place),
             _money(p.annual_cost_per_place),
             _money(p.annual_cost_per_commissioned_place + p.annual_cost_per_place),
             _money(p.capital_cost_per_module), _money(p.fixed_capital_cost),
             p.lead_time_years, p.source or "—"] for kind, p in spec.provision.items()
            if kind in kinds]
    rules = [[r.name, r.kind, _money(r.provision.annual_cost_per_commissioned_place),
              _money(r.provision.annual_cost_per_place),
              _money(r.provision.capital_cost_per_module),
              _money(r.provision.fixed_capital_cost), r.provision.lead_time_years,
              r.provision.source or "as its kind"] for r in spec.candidates]
    return ["## Costs and lead times", "",
            "Per kind (`[provision.<kind>]` in the spec, else the builder's defaults from "
            "`shared/domain.md`). A commissioned place is paid filled or empty; a filled "
            "place also pays the per-pupil cost. Money in £ a year per place.", "",
            *_md_table(["kind", "per commissioned place", "per pupil", "filled place",
                        "capital per module", "fixed capital", "lead time (years)",
                        "source"], rows), "",
            "Candidate rules (each may set its own figures):", "",
            *_md_table(["rule", "kind", "per commissioned place", "per pupil",
                        "capital per module", "fixed capital", "lead time", "source"], rules),
            "", f"Run settings (`{spec.run_path.name}`):", "",
            *_md_table(["key", "value", "source"],
                       [[k, v, spec.run_sources.get(k, "—")] for k, v in _flat(spec.run)]), ""]


def _demand_base(spec: BuildSpec, demand: DemandResult) -> list[str]:
    """README: the SEN2 base year by placement and its need × phase split."""
    d = spec.demand
    p = demand.placements
    rows = [[r.placement, f"{r.pupils:g}", f"{r.need_table_pupils:g}",
             "yes" if r.independent else ""] for r in p.itertuples(index=False)]
    base = demand.base.pivot(index="need", columns="phase", values="pupils").reindex(
        index=list(NEEDS), columns=list(PHASES))
    base_rows = [[n, *(f"{base.loc[n, ph]:.2f}" for ph in PHASES),
                  f"{base.loc[n].sum():.2f}"] for n in NEEDS]
    base_rows.append(["total", *(f"{base[ph].sum():.2f}" for ph in PHASES),
                      f"{base.values.sum():.2f}"])
    ages = "; ".join(f"{ph} {lo}–{hi}" for ph, (lo, hi) in d.ages.items())
    return ["## Demand", "",
            f"**Base year**: period {d.base_period} of `{d.caseload.label}` (academic year "
            f"{d.base_year}/{(d.base_year + 1) % 100:02d}, EHC plans active in January), "
            f"authority {', '.join(d.la_codes)}. Specialist placements only:", "",
            *_md_table(["SEN2 placement", "pupils (caseload)", "pupils (needs table)",
                        "independent"], rows), "",
            f"Total {p['pupils'].sum():g} pupils, of whom "
            f"{p.loc[p['independent'], 'pupils'].sum():g} in independent or non-maintained "
            "placements. Each placement's pupils are split by need with its own row of "
            f"`{d.needs_table.label}` and by phase with its age rows (ages {ages}), need and "
            "age taken as independent within a placement. The split keeps every placement's "
            "total and its need totals:", "",
            *_md_table(["need", *PHASES, "total"], base_rows), ""]


def _demand_projection(spec: BuildSpec, demand: DemandResult) -> list[str]:
    """README: area share, population factors, growth, housing and projected totals."""
    d = spec.demand
    share = d.share
    how = {"school_headcount": "the pupils on roll of each area's open mainstream schools"
           + (f" (the {share.headcount_phase} headcount for every phase)"
              if share.headcount_phase else " (each phase by its own headcount)"),
           "table": f"the weights of `{share.table.label if share.table else ''}`",
           "equal": "equal shares"}[share.method]
    lines = [f"**Areas**: each area's share of the authority's pupils is {how}.", ""]
    if not demand.factors.empty:
        f = demand.factors.pivot(index="year", columns="phase", values="factor")
        pop_ages = "; ".join(f"{ph} {lo}–{hi}" for ph, (lo, hi) in d.population_ages.items())
        lines += [f"**Population**: `{d.population.label}`, area {d.population_area}, "
                  f"ages {pop_ages}; factor = population of the year ÷ population of "
                  f"{d.base_year} (mid-year t for academic year t/t+1):", "",
                  *_md_table(["year", *PHASES], [[y, *(f"{f.loc[y, ph]:.4f}" for ph in PHASES)]
                                                 for y in f.index]), ""]
    lines += _growth_lines(demand)
    if d.housing is not None:
        rate = "; ".join(f"{ph} {v:.4%}" for ph, v in demand.specialist_rate.items())
        lines += [f"**Housing**: {len(d.housing.sites)} sites; pupils per home "
                  f"{d.housing.pupil_yield}; specialist rate per child {rate}. "
                  f"{d.housing.source}", ""]
    totals = demand.demand.groupby("year")["pupils"].sum()
    independent = demand.base["independent"].sum()
    lines += ["**Projected pupils** needing a specialist place (all areas):", "",
              *_md_table(["year", "pupils"], [[f"{y}/{(y + 1) % 100:02d}", f"{v:,.1f}"]
                                             for y, v in totals.items()]), "",
              f"Independent placements in the base year: {independent:.0f}. The model places "
              "every pupil each year locally or independently, so these pupils are part of "
              "the demand above. `calibration.csv` holds the base year's pupils by kind of "
              "placement (independent, special, resourced), need and phase: a run compares "
              "its start year with them (outputs/<run>/calibration.csv).", ""]
    return lines + _scenario_lines(spec)


def _growth_lines(demand: DemandResult) -> list[str]:
    """README: the growth rates, as one line when few, else a need × phase table with sources."""
    rates = demand.growth.groupby("rate")
    if len(rates) <= 3 and not demand.growth_notes:
        growth = "; ".join(f"{r:.2%} a year for " + (
            "every need and phase" if len(g) == len(NEEDS) * len(PHASES)
            else ", ".join(f"{n}/{ph}" for n, ph in zip(g["need"], g["phase"], strict=True)))
            for r, g in rates)
        return [f"**Growth** of the rate per child: {growth}."
                + (f" Trend: {demand.trend}." if demand.trend else ""), ""]
    table = demand.growth.pivot(index="need", columns="phase", values="rate").reindex(
        index=list(NEEDS), columns=list(PHASES))
    sources = sorted(set(demand.growth["source"]))
    return ["**Growth** of the rate per child, by need and phase (`growth.csv` gives each "
            "rate's parts and source): (1 + base rate) × phase factor × need factor ÷ mix scale "
            "− 1 (sufficiency.ingest.growth).", "",
            *_md_table(["need", *PHASES], [[n, *(f"{table.loc[n, ph]:.2%}" for ph in PHASES)]
                                          for n in NEEDS]), "",
            "Where the rates come from:", "", *[f"- {s}" for s in sources],
            *[f"- {note}" for note in demand.growth_notes], ""]


def _scenario_lines(spec: BuildSpec) -> list[str]:
    """README: the low and high demand scenarios, when the spec asks for them."""
    sc = spec.demand.scenarios
    if sc is None:
        return []
    return ["**Scenarios** (`[demand.scenarios]`): `demand_low.csv` and `demand_high.csv` are "
            f"projected as `demand.csv` with every growth rate {sc.low * 100:+g} and "
            f"{sc.high * 100:+g} points a year; `{sc.run_path.name}` runs them with "
            f"`sufficiency scenarios` (weights: "
            + ", ".join(f"{k} {v:g}" for k, v in sc.weights.items()) + ").", ""]


def _log_section(log: BuildLog) -> list[str]:
    """README: the build log table and the warnings."""
    table = log.table()
    rows = [[r.stage, f"`{r.file}`", r.action, r.reason, r.rows, r.examples or ""]
            for r in table.itertuples(index=False)]
    lines = ["## Build log", "", "Every source row the builder dropped, changed or could not "
             "match, with its reason (also in `build_log.csv`):", "",
             *_md_table(["stage", "file", "action", "reason", "rows", "examples"], rows), ""]
    if log.warnings:
        lines += ["Warnings:", "", *[f"- {w}" for w in log.warnings], ""]
    return lines


def readme_text(spec: BuildSpec, areas: Areas, provision: Provision, demand: DemandResult,
                log: BuildLog) -> str:
    """The dataset's README: sources, licences, every assumption and the build log."""
    lines = [f"# {spec.title}: planning dataset built from published data", "",
             f"Built by `sufficiency build-dataset {spec.spec_path.name}` (the spec sits next to "
             "this folder) from the councils' own kinds of data: the establishment list, ONS "
             "boundaries, the SEN2 return and population projections. Do not edit these files "
             "by hand; change the spec and rebuild with `--force`.", "",
             "| file | what |", "|---|---|",
             f"| `areas.geojson` | {len(areas.frame)} planning areas, EPSG:27700 |",
             f"| `sites.csv` | {len(provision.sites)} sites (URN = site id), easting/northing |",
             f"| `provision.csv` | {len(provision.options)} options |",
             f"| `demand.csv` | {len(demand.demand):,} rows: area × need × phase × year |",
             "| `base_demand.csv` | the base-year split: need × phase, with the independent "
             "part |", "| `calibration.csv` | the base year's pupils by kind of placement, "
             "need and phase (SEN2), for the start-year check |",
             "| `growth.csv` | growth of the rate per child by need × phase, with its source |",
             *(["| `demand_low.csv`, `demand_high.csv` | the low and high demand scenarios |"]
               if spec.demand.scenarios else []),
             "| `build_log.csv` | every dropped, changed or unmatched source row |", ""]
    lines += _sources_section(spec) + _areas_section(spec, areas)
    lines += _provision_section(spec, provision)
    lines += _costs_section(spec, set(provision.options["kind"]))
    lines += _demand_base(spec, demand) + _demand_projection(spec, demand)
    assumptions = [*spec.notes, *log.assumptions]
    lines += ["## Assumptions", "", *[f"- {a}" for a in assumptions], ""]
    lines += _log_section(log)
    return "\n".join(lines)


def base_table(demand: DemandResult, decimals: int) -> pd.DataFrame:
    """base_demand.csv: the authority's base-year pupils by need and phase."""
    base = demand.base.copy()
    base["pupils"] = base["pupils"].round(decimals)
    base["independent"] = base["independent"].round(decimals)
    return base[(base["pupils"] > 0)].reset_index(drop=True)


def assemble(spec: BuildSpec, areas: Areas, provision: Provision, demand: DemandResult,
             log: BuildLog, dataset_dir: os.PathLike, run_path: os.PathLike) -> Assembled:
    """Every file's text (the run TOML names the dataset relative to its own folder)."""
    inputs = os.path.relpath(dataset_dir, os.path.dirname(run_path)).replace(os.sep, "/")
    files = {
        MARKER: marker_text(f"build-dataset {spec.spec_path.name}"),  # first: see build.py
        "areas.geojson": areas_geojson(areas.frame, demand.points),
        "sites.csv": csv_text(sites_table(provision.sites)),
        "provision.csv": csv_text(provision_table(provision.options)),
        "demand.csv": csv_text(demand.demand),
        "base_demand.csv": csv_text(base_table(demand, spec.demand.decimals)),
        "growth.csv": csv_text(growth_csv(demand.growth)),
    }
    if demand.calibration is not None and not demand.calibration.empty:
        files["calibration.csv"] = csv_text(demand.calibration)
    for name, frame in (demand.scenarios or {}).items():
        files[f"demand_{name}.csv"] = csv_text(frame)
    files["build_log.csv"] = csv_text(log.table())
    files["README.md"] = readme_text(spec, areas, provision, demand, log)
    scenarios = None
    if spec.demand.scenarios is not None:
        there = os.path.relpath(dataset_dir, os.path.dirname(spec.demand.scenarios.run_path))
        scenarios = scenarios_toml_text(spec, there.replace(os.sep, "/"))
    return Assembled(files, run_toml_text(spec, inputs), scenarios)
