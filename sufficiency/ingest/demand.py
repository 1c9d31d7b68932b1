"""Demand from the SEN2 return: base year → need × phase → planning areas → projected years.

For the base year, each specialist placement type p of the SEN2 caseload (e.g. LA
maintained special schools, resourced provision) has a total N_p, a need mix s_p(n) from the
needs-by-placement table and an age mix a_p(ph) from the caseload's age rows. Then

    base(n, ph)           = Σ_p N_p · s_p(n) · a_p(ph)                 (LA total, base year)
    demand(a, n, ph, t)   = base(n, ph) · share(a, ph) · F(ph, t) · (1 + r(n, ph))^(t − base)
                            + homes(a, ≤ t) · yield(ph) · rate(ph) · base(n, ph) / base(ph)

where share(a, ph) is the area's share of the authority's pupils (resident children, the
headcount of its schools, or a given table), F(ph, t) = pop(ph, t) / pop(ph, base) from
the population projection, r(n, ph) the growth of the rate per child, and the last term the
pupils of new homes (homes completed by year t × pupils per home × specialist rate per
child). Independent placements of the base year are the ``independent`` placement types.
r(n, ph) and where each rate comes from: :mod:`sufficiency.ingest.growth`. Low and high
scenarios (``[demand.scenarios]``) add a number of points to every r(n, ph).

The base year's placements by kind of provision (independent, special, resourced), need and
phase are kept as the calibration table the engine compares "do nothing" with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from sufficiency.errors import InputError, Issue
from sufficiency.ingest.areas import Areas
from sufficiency.ingest.establishments import Establishments
from sufficiency.ingest.growth import growth_table, need_factors, phase_factors
from sufficiency.ingest.log import BuildLog
from sufficiency.ingest.sources import (
    authority_rows,
    find_column,
    numbers,
    read_source_csv,
    require_column,
)
from sufficiency.ingest.spec import DemandSpec, ShareSpec, Source
from sufficiency.preprocess import geo
from sufficiency.preprocess.readers import ROW
from sufficiency.preprocess.vocabulary import NEEDS, PHASES
from sufficiency.tolerances import PUPILS_SEN2_AGE_ROWS

STAGE = "demand"
ALL_PLANS = "all ehc plans"
AGE_TOPIC = "child or young persons age"
PLACEMENT_TOPIC = "type of placement"
NEED_COLUMNS = {n: f"number_{n.lower()}" for n in NEEDS}
UNKNOWN_NEED_COLUMN = "number_need_unknown"
# SEN2 caseload column → the 'Type of placement' label of the needs-by-placement table.
DEFAULT_NEED_LABELS = {
    "mainstream_la_maintained_resourced_provision":
        "Mainstream - LA maintained (resourced provision)",
    "mainstream_la_maintained_senunit": "Mainstream - LA maintained (SEN unit)",
    "mainstream_academy_resourced_provision": "Mainstream - academy (resourced provision)",
    "mainstream_academy_senunit": "Mainstream - academy (SEN unit)",
    "mainstream_free_school_resourced_provision":
        "Mainstream - free school (resourced provision)",
    "mainstream_free_school_senunit": "Mainstream - free school (SEN unit)",
    "special_la_maintained": "Special - LA maintained",
    "special_academy_free": "Special - Academy/free schools",
    "special_independent": "Special - independent",
    "special_non_maintained": "Special - non-maintained",
    "ap_pru_la_maintained": "AP/PRU - LA maintained",
    "ap_pru_academy": "AP/PRU - academy",
    "ap_pru_free_school": "AP/PRU - free school",
    "specialist_post_16_institutions": "FE - specialist post-16 institutions",
}


@dataclass(frozen=True)
class DemandResult:
    """The projected demand and every intermediate table, for the README and the tests."""

    demand: pd.DataFrame  # area_id, need, phase, year, pupils
    base: pd.DataFrame  # need, phase, pupils, independent (authority, base year)
    placements: pd.DataFrame  # placement, pupils, independent, need_table_pupils
    shares: pd.DataFrame  # area_id, phase, share
    factors: pd.DataFrame  # phase, year, population, factor
    growth: pd.DataFrame  # need, phase, rate, base_rate, phase_factor, need_factor, source
    housing: pd.DataFrame  # area_id, need, phase, year, pupils
    trend: str  # how the trend rate was found ("" when not used)
    specialist_rate: dict[str, float]
    points: pd.DataFrame | None  # area_id, demand_easting, demand_northing (m) or None
    calibration: pd.DataFrame | None = None  # group, need, phase, pupils, year, source
    scenarios: dict[str, pd.DataFrame] | None = None  # low / high: demand as ``demand``
    growth_notes: tuple[str, ...] = ()  # how the phase and need factors were found


def _la_rows(table: pd.DataFrame, source: Source, codes: tuple[str, ...],
             log: BuildLog) -> tuple[pd.DataFrame, dict[str, str]]:
    """The authority's rows (matched on new_la_code or old_la_code) and the key columns."""
    columns = {key: require_column(table, key, source.label)
               for key in ("time_period", "breakdown_topic", "breakdown")}
    mine = authority_rows(table, source.label, codes)
    log.count(STAGE, source.label, "dropped", "other geography (national, regional, other LAs)",
              int((~mine).sum()))
    return table[mine], columns


def _period_rows(table: pd.DataFrame, columns: dict[str, str], period: str,
                 topic: str) -> pd.DataFrame:
    """Rows of one period whose breakdown topic starts with ``topic`` (lower case)."""
    rows = table[(table[columns["time_period"]].str.strip() == period)
                 & table[columns["breakdown_topic"]].str.strip().str.lower().str.startswith(topic)]
    return rows


def age_of(label: str) -> int | None:
    """A SEN2 age breakdown as a whole age: 'age 7' → 7, 'under 3' → 2, others None."""
    text = label.strip().lower()
    match = re.fullmatch(r"under (\d+)", text)
    if match:
        return int(match.group(1)) - 1
    match = re.fullmatch(r"(?:age )?(\d+)", text)
    return int(match.group(1)) if match else None


def phase_of_age(age: int, ages: dict[str, tuple[int, int]]) -> str | None:
    """The phase whose age range holds ``age``."""
    for phase in PHASES:
        low, high = ages[phase]
        if low <= age <= high:
            return phase
    return None


def _caseload(spec: DemandSpec, log: BuildLog) -> tuple[pd.Series, pd.DataFrame, pd.DataFrame,
                                                        dict[str, str]]:
    """Placement totals N_p, phase shares a_p(ph), the LA rows, and the key columns."""
    source = spec.caseload
    table, columns = _la_rows(read_source_csv(source), source, spec.la_codes, log)
    placement_columns = {p: require_column(table, p, source.label, "demand.placements")
                         for p in spec.placements}
    total_rows = _period_rows(table, columns, spec.base_period, ALL_PLANS)
    if total_rows.empty:
        raise InputError(Issue(source.label, None, columns["time_period"],
                               f"no 'All EHC plans' row for period {spec.base_period}",
                               "check demand.base_period against the file's time_period"))
    totals = pd.Series({p: numbers(total_rows, c, source.label, missing=0.0).iloc[0]
                        for p, c in placement_columns.items()})
    age_rows = _period_rows(table, columns, spec.base_period, AGE_TOPIC)
    used = len(total_rows.iloc[:1]) + len(age_rows)
    log.count(STAGE, source.label, "dropped", "other period or breakdown (not used)",
              len(table) - used)
    return totals, _age_shares(spec, age_rows, columns, placement_columns, totals, log), \
        table, columns


def _age_shares(spec: DemandSpec, rows: pd.DataFrame, columns: dict[str, str],
                placement_columns: dict[str, str], totals: pd.Series,
                log: BuildLog) -> pd.DataFrame:
    """a_p(ph): each placement's pupils by phase from the age rows, as shares."""
    label = spec.caseload.label
    ages = rows[columns["breakdown"]].map(age_of)
    bad = ages.isna()
    log.count(STAGE, label, "unmatched", "age breakdown not read as an age (ignored)",
              int(bad.sum()), list(rows.loc[bad, columns["breakdown"]]))
    rows, ages = rows[~bad], ages[~bad].astype(int)
    phases = ages.map(lambda a: phase_of_age(a, spec.ages))
    counts = pd.DataFrame({p: numbers(rows, c, label, missing=0.0)
                           for p, c in placement_columns.items()})
    outside = phases.isna()
    log.count(STAGE, label, "dropped", "age outside every phase's range (demand.ages)",
              int(outside.sum()), [f"age {a}" for a in ages[outside]])
    by_phase = counts[~outside].groupby(phases[~outside]).sum().reindex(PHASES, fill_value=0.0)
    shares = pd.DataFrame(index=PHASES, columns=list(placement_columns), dtype="float64")
    overall = by_phase.sum(axis=1)
    for p in placement_columns:
        column_total = by_phase[p].sum()
        if column_total > 0:
            shares[p] = by_phase[p] / column_total
            if abs(column_total - totals[p]) > PUPILS_SEN2_AGE_ROWS:
                log.count(STAGE, label, "changed", f"{p}: age rows add up to "
                          f"{column_total:g}, not the total {totals[p]:g}; phase shares "
                          "rescaled to the total", 1)
        else:
            shares[p] = overall / overall.sum() if overall.sum() > 0 else 1.0 / len(PHASES)
            if totals[p] > 0:
                log.assume(f"{p}: no age rows with pupils; its phases follow the other "
                           "placements' ages.")
    return shares


def _need_shares(spec: DemandSpec, totals: pd.Series, log: BuildLog) -> tuple[pd.DataFrame,
                                                                              pd.Series]:
    """s_p(n): each placement's need mix from the needs-by-placement table."""
    source = spec.needs_table
    table, columns = _la_rows(read_source_csv(source), source, spec.la_codes, log)
    need_columns = {n: require_column(table, c, source.label) for n, c in NEED_COLUMNS.items()}
    unknown_column = find_column([c for c in table.columns if c != ROW], UNKNOWN_NEED_COLUMN)
    rows = _period_rows(table, columns, spec.base_period, PLACEMENT_TOPIC)
    everyone = _period_rows(table, columns, spec.base_period, ALL_PLANS)
    used = len(rows) + len(everyone.iloc[:1])
    log.count(STAGE, source.label, "dropped", "other period, breakdown or placement (not used)",
              len(table) - used)
    labels = rows[columns["breakdown"]].str.strip().str.lower()
    shares = pd.DataFrame(index=list(NEEDS), columns=list(spec.placements), dtype="float64")
    table_totals = pd.Series(0.0, index=list(spec.placements))
    for p in spec.placements:
        label = spec.need_labels.get(p, DEFAULT_NEED_LABELS.get(p, p))
        match = rows[labels == label.lower()]
        if match.empty:
            match = everyone.iloc[:1]
            if totals[p] > 0:
                log.assume(f"{p}: no '{label}' row in {source.label}; the need mix of all "
                           "the authority's EHC plans is used.")
        counts, unknown = _need_counts(match, need_columns, unknown_column, source.label)
        table_totals[p] = counts.sum() + unknown if labels.eq(label.lower()).any() else 0.0
        if totals[p] > 0:
            counts = _place_unknown(counts, unknown, spec.unknown_need, p, source.label, log)
        if counts.sum() > 0:
            shares[p] = counts / counts.sum()
        else:
            shares[p] = 1.0 / len(NEEDS)
            if totals[p] > 0:
                log.assume(f"{p}: the needs table has no pupils for it; its {totals[p]:g} "
                           "pupils are spread evenly over the needs.")
    return shares, table_totals


def _need_counts(rows: pd.DataFrame, need_columns: dict[str, str], unknown_column: str | None,
                 label: str) -> tuple[pd.Series, float]:
    """Pupils per need code and with no need recorded, from one needs-table row."""
    counts = pd.Series({n: numbers(rows, c, label, missing=0.0).iloc[0]
                        for n, c in need_columns.items()})
    unknown = numbers(rows, unknown_column, label, missing=0.0).iloc[0] if unknown_column \
        else 0.0
    return counts, float(unknown)


def _place_unknown(counts: pd.Series, unknown: float, rule: str, placement: str,
                   label: str, log: BuildLog) -> pd.Series:
    """Plans with no primary need recorded: spread pro rata, or given one code."""
    if unknown <= 0:
        return counts
    log.count(STAGE, label, "changed", f"primary need not recorded: "
              f"{'spread over the known needs' if rule == 'spread' else 'counted as ' + rule}",
              int(round(unknown)), [placement])
    if rule != "spread" or counts.sum() == 0:
        counts = counts.copy()
        counts[rule if rule != "spread" else "OTH"] += unknown
    return counts


def _base(spec: DemandSpec, totals: pd.Series, ages: pd.DataFrame,
          needs: pd.DataFrame) -> pd.DataFrame:
    """base(n, ph) = Σ_p N_p · s_p(n) · a_p(ph), and the independent part of it."""
    rows = []
    for need in NEEDS:
        for phase in PHASES:
            parts = {p: totals[p] * needs.loc[need, p] * ages.loc[phase, p]
                     for p in spec.placements}
            rows.append({"need": need, "phase": phase, "pupils": sum(parts.values()),
                         "independent": sum(parts[p] for p in spec.independent)})
    return pd.DataFrame(rows)


def _school_points(est: Establishments, areas: Areas) -> pd.DataFrame:
    """Open mainstream schools with a position, and the area each lies in."""
    frame = est.frame[(est.frame["category"] == "mainstream") & est.frame["easting"].notna()
                      & est.frame["northing"].notna()]
    points = gpd.GeoDataFrame(frame, geometry=geo.points_from_bng(frame["easting"],
                                                                  frame["northing"]), crs=geo.BNG)
    joined = gpd.sjoin(points, areas.frame[["area_id", "geometry"]], how="inner",
                       predicate="within")
    return pd.DataFrame(joined[~joined.index.duplicated(keep="first")])


def _school_weights(share: ShareSpec, est: Establishments, areas: Areas) -> pd.DataFrame:
    """Per school and phase: area, position and weight (pupils of the phase on roll)."""
    schools = _school_points(est, areas)
    frames = []
    for phase in PHASES:
        source_phase = share.headcount_phase or phase
        by_year = schools[f"pupils_{source_phase}"]
        in_phase = schools["phases"].map(lambda ph, s=source_phase: s in ph)
        n_phases = schools["phases"].map(lambda ph: max(1, len([p for p in ph if p in PHASES])))
        fallback = (schools["pupils"] / n_phases).where(in_phase, 0.0).fillna(0.0)
        frames.append(pd.DataFrame({"area_id": schools["area_id"], "phase": phase,
                                    "easting": schools["easting"],
                                    "northing": schools["northing"],
                                    "weight": by_year.where(by_year.notna(), fallback)}))
    return pd.concat(frames, ignore_index=True)


def demand_points(share: ShareSpec, est: Establishments, areas: Areas) -> pd.DataFrame | None:
    """A pupil-weighted demand point per area (the centre of its schools' pupils), in metres.

    Only with the school_headcount share: the same weights place the area's pupils. An area
    with no weighted school keeps a point inside its polygon.
    """
    if share.method != "school_headcount":
        return None
    weights = _school_weights(share, est, areas)
    weights = weights[weights["weight"] > 0]
    rows = []
    for area, polygon in zip(areas.frame["area_id"], areas.frame.geometry, strict=True):
        mine = weights[weights["area_id"] == area]
        if mine.empty:
            point = polygon.representative_point()
            x, y = point.x, point.y
        else:
            x = (mine["easting"] * mine["weight"]).sum() / mine["weight"].sum()
            y = (mine["northing"] * mine["weight"]).sum() / mine["weight"].sum()
        rows.append({"area_id": area, "demand_easting": round(x), "demand_northing": round(y)})
    return pd.DataFrame(rows)


def _table_weights(share: ShareSpec, areas: Areas, log: BuildLog) -> pd.DataFrame:
    """Area × phase weights from a given table (boundary codes or area ids)."""
    source = share.table
    table = read_source_csv(source)
    code = require_column(table, share.code_column, source.label, "demand.share.code_column")
    weight = numbers(table, require_column(table, share.weight_column, source.label,
                                           "demand.share.weight_column"), source.label)
    phase_column = require_column(table, share.phase_column, source.label,
                                  "demand.share.phase_column") if share.phase_column else None
    area = table[code].map(areas.area_of)
    unmatched = area.isna()
    log.count(STAGE, source.label, "unmatched", "code is neither a boundary code nor an area "
              "(ignored)", int(unmatched.sum()), list(table.loc[unmatched, code]))
    rows = []
    for i in table.index[~unmatched]:
        phases = PHASES
        if phase_column:
            text = table.loc[i, phase_column].strip().lower()
            if text not in (*PHASES, "*", ""):
                raise InputError(Issue(source.label, int(table.loc[i, ROW]), phase_column,
                                       f"'{text}' is not a phase", "use primary, secondary, "
                                       "post16, or * for all"))
            phases = PHASES if text in ("*", "") else (text,)
        rows += [{"area_id": area[i], "phase": ph, "weight": weight[i]} for ph in phases]
    return pd.DataFrame(rows, columns=["area_id", "phase", "weight"])


def area_shares(share: ShareSpec, est: Establishments, areas: Areas,
                log: BuildLog) -> pd.DataFrame:
    """share(a, ph): each area's share of the authority's pupils of each phase (sums to 1)."""
    if share.method == "school_headcount":
        weights = _school_weights(share, est, areas)
        placed = est.frame["category"].eq("mainstream") & est.frame["easting"].notna()
        outside = int(placed.sum()) - len(_school_points(est, areas))
        log.count(STAGE, est.label, "unmatched", "mainstream school outside every planning "
                  "area: not counted in the area share", outside)
    elif share.method == "table":
        weights = _table_weights(share, areas, log)
    else:
        weights = pd.DataFrame([{"area_id": a, "phase": ph, "weight": 1.0}
                                for a in areas.frame["area_id"] for ph in PHASES])
    grid = pd.MultiIndex.from_product([sorted(areas.frame["area_id"]), PHASES],
                                      names=["area_id", "phase"])
    weights = weights.groupby(["area_id", "phase"])["weight"].sum().reindex(grid, fill_value=0.0)
    out = []
    for phase in PHASES:
        w = weights.xs(phase, level="phase")
        if w.sum() <= 0:
            log.assume(f"No {phase} weight in any area for the area share; {phase} pupils "
                       "are shared equally among the areas.")
            w = pd.Series(1.0, index=w.index)
        out += [{"area_id": a, "phase": phase, "share": v / w.sum()} for a, v in w.items()]
    return pd.DataFrame(out)


def _population(spec: DemandSpec, years: list[int], log: BuildLog) -> pd.DataFrame:
    """pop(ph, t) for the base year and the run's years, from an SNPP-shaped table."""
    source = spec.population
    table = read_source_csv(source)
    area = require_column(table, "AREA_CODE", source.label)
    age_column = require_column(table, "AGE_GROUP", source.label)
    mine = table[area].str.strip().str.lower() == spec.population_area.lower()
    log.count(STAGE, source.label, "dropped", "other area", int((~mine).sum()))
    table = table[mine]
    ages = table[age_column].map(age_of)
    log.count(STAGE, source.label, "dropped", "age group not a single year (e.g. 'All ages')",
              int(ages.isna().sum()))
    table, ages = table[ages.notna()], ages[ages.notna()].astype(int)
    rows = []
    for year in sorted({spec.base_year, *years}):
        column = find_column([c for c in table.columns if c != ROW], str(year))
        if column is None:
            raise InputError(Issue(source.label, 1, str(year), "no column for this year",
                                   "the projection must cover the base year and every year "
                                   "of the run"))
        values = numbers(table, column, source.label)
        for phase in PHASES:
            low, high = spec.population_ages[phase]
            in_phase = ages.between(low, high)
            if not in_phase.any():
                raise InputError(Issue(source.label, None, age_column, f"no ages {low}–{high} "
                                       f"for {phase}", "check demand.population.ages"))
            rows.append({"phase": phase, "year": year, "population": values[in_phase].sum()})
    frame = pd.DataFrame(rows)
    base = frame[frame["year"] == spec.base_year].set_index("phase")["population"]
    frame["factor"] = frame["population"] / frame["phase"].map(base)
    return frame


def _trend(spec: DemandSpec, table: pd.DataFrame, columns: dict[str, str],
           totals: pd.Series) -> tuple[float, str]:
    """Yearly growth of the chosen placements between growth.trend_from and the base period."""
    first = spec.growth.trend_from
    rows = _period_rows(table, columns, first, ALL_PLANS)
    if rows.empty or not first[:4].isdigit():
        raise InputError(Issue(spec.caseload.label, None, columns["time_period"],
                               f"no 'All EHC plans' row for period {first}",
                               "check demand.growth.trend_from"))
    then = sum(numbers(rows, require_column(rows, p, spec.caseload.label), spec.caseload.label,
                       missing=0.0).iloc[0] for p in spec.placements)
    now = float(totals.sum())
    span = spec.base_year - int(first[:4])
    if then <= 0 or span <= 0:
        raise InputError(Issue(spec.caseload.label, None, columns["time_period"],
                               f"cannot measure a trend from {first} ({then:g} pupils)",
                               "choose an earlier period with pupils"))
    rate = (now / then) ** (1.0 / span) - 1.0
    return rate, (f"{then:g} pupils in {first} → {now:g} in {spec.base_period}: "
                  f"{rate:.2%} a year over {span} years")


def growth_rates(spec: DemandSpec, trend_rate: float | None, trend: str = "",
                 phase: dict[str, float] | None = None,
                 need: dict[str, float] | None = None,
                 base: pd.DataFrame | None = None) -> pd.DataFrame:
    """r(n, ph) with its source (:func:`sufficiency.ingest.growth.growth_table`)."""
    g = spec.growth
    if g.default == "trend":
        rate, source = float(trend_rate or 0.0), f"trend of the placements ({trend})"
    else:
        rate, source = float(g.default), "spec: demand.growth.default"
    return growth_table(spec, rate, source, phase or {ph: 1.0 for ph in PHASES},
                        need or {n: 1.0 for n in NEEDS}, base)


def _housing(spec: DemandSpec, areas: Areas, base: pd.DataFrame, factors: pd.DataFrame | None,
             years: list[int], log: BuildLog) -> tuple[pd.DataFrame, dict[str, float]]:
    """Pupils of new homes: cumulative homes × pupils per home × specialist rate, by need mix."""
    columns = ["area_id", "need", "phase", "year", "pupils"]
    housing = spec.housing
    if housing is None:
        return pd.DataFrame(columns=columns), {}
    by_phase = base.groupby("phase")["pupils"].sum()
    if housing.specialist_rate is not None:
        rate = {ph: housing.specialist_rate.get(ph, 0.0) for ph in PHASES}
    elif factors is not None:
        pop = factors[factors["year"] == spec.base_year].set_index("phase")["population"]
        rate = {ph: float(by_phase[ph] / pop[ph]) if pop[ph] > 0 else 0.0 for ph in PHASES}
    else:
        raise InputError(Issue("build spec", None, "demand.housing.specialist_rate",
                               "the rate cannot be derived without a population projection",
                               "give specialist_rate per phase, or demand.population"))
    rows = []
    for site in housing.sites:
        area = areas.area_of(site.area)
        if area is None:
            raise InputError(Issue("build spec", None, f"{site.label}.area",
                                   f"'{site.area}' is not a planning area or boundary code",
                                   "use an area id or a code of the boundary file"))
        for year in years:
            homes = sum(h for y, h in site.homes.items() if y <= year)
            for phase in PHASES:
                pupils = homes * housing.pupil_yield.get(phase, 0.0) * rate[phase]
                mix = base[base["phase"] == phase].set_index("need")["pupils"]
                mix = mix / mix.sum() if mix.sum() > 0 else mix
                rows += [{"area_id": area, "need": n, "phase": phase, "year": year,
                          "pupils": pupils * mix[n]} for n in NEEDS if pupils * mix[n] > 0]
    frame = pd.DataFrame(rows, columns=columns)
    frame = frame.groupby(["area_id", "need", "phase", "year"], as_index=False)["pupils"].sum()
    log.assume("New homes add pupils on top of the population projection: homes completed by "
               "each year × pupils per home × specialist rate per child.")
    return frame, rate


def project(spec: DemandSpec, base: pd.DataFrame, shares: pd.DataFrame,
            factors: pd.DataFrame | None, growth: pd.DataFrame, housing: pd.DataFrame,
            years: list[int]) -> pd.DataFrame:
    """demand(a, n, ph, t) by the formula in the module docstring (unrounded)."""
    frame = base[["need", "phase", "pupils"]].merge(shares, on="phase").merge(
        growth, on=["need", "phase"])
    out = []
    for year in years:
        if factors is None:
            factor = pd.Series(1.0, index=frame.index)
        else:
            f = factors[factors["year"] == year].set_index("phase")["factor"]
            factor = frame["phase"].map(f)
        pupils = frame["pupils"] * frame["share"] * factor * (1.0 + frame["rate"]) ** (
            year - spec.base_year)
        out.append(frame[["area_id", "need", "phase"]].assign(year=year, pupils=pupils))
    demand = pd.concat(out, ignore_index=True)
    if not housing.empty:
        demand = pd.concat([demand, housing], ignore_index=True).groupby(
            ["area_id", "need", "phase", "year"], as_index=False)["pupils"].sum()
    return demand


def build_demand(spec: DemandSpec, est: Establishments, areas: Areas, years: list[int],
                 log: BuildLog) -> DemandResult:
    """Base year, area shares, projection factors and the projected demand table."""
    if spec.base_period[:4].isdigit() and int(spec.base_period[:4]) != spec.base_year:
        raise InputError(Issue("build spec", None, "demand.base_year",
                               f"{spec.base_year} does not match base_period "
                               f"{spec.base_period}", "base_year is the academic year the "
                               "period starts in (202425 → 2024)"))
    totals, ages, table, columns = _caseload(spec, log)
    needs, table_totals = _need_shares(spec, totals, log)
    base = _base(spec, totals, ages, needs)
    shares = area_shares(spec.share, est, areas, log)
    factors = _population(spec, years, log) if spec.population else None
    if factors is None:
        log.assume("No population projection: the child population is held at the base year.")
    trend_rate, trend = _trend(spec, table, columns, totals) if spec.growth.default == "trend" \
        else (None, "")
    phase, phase_text = phase_factors(spec, table, columns, log)
    need, need_text = need_factors(spec, log)
    growth = growth_rates(spec, trend_rate, trend, phase, need, base)
    housing, rate = _housing(spec, areas, base, factors, years, log)
    demand = _rounded(spec, project(spec, base, shares, factors, growth, housing, years))
    scenarios = None if spec.scenarios is None else {
        name: _rounded(spec, project(spec, base, shares, factors,
                                     growth.assign(rate=growth["rate"] + points), housing, years))
        for name, points in (("low", spec.scenarios.low), ("high", spec.scenarios.high))}
    placements = pd.DataFrame({"placement": list(spec.placements),
                               "pupils": [totals[p] for p in spec.placements],
                               "independent": [p in spec.independent for p in spec.placements],
                               "need_table_pupils": [table_totals[p] for p in spec.placements]})
    return DemandResult(demand, base, placements, shares,
                        factors if factors is not None else pd.DataFrame(
                            columns=["phase", "year", "population", "factor"]),
                        growth, housing, trend, rate, demand_points(spec.share, est, areas),
                        calibration_counts(spec, totals, ages, needs), scenarios,
                        tuple(t for t in (phase_text, need_text) if t))


def _rounded(spec: DemandSpec, demand: pd.DataFrame) -> pd.DataFrame:
    """demand.csv's rows: pupils rounded to the spec's decimals, empty rows dropped, sorted."""
    demand = demand.assign(pupils=demand["pupils"].round(spec.decimals))
    demand = demand[demand["pupils"] > 0].sort_values(["area_id", "need", "phase", "year"])
    return demand.reset_index(drop=True)


def placement_group(placement: str, spec: DemandSpec) -> str:
    """The calibration group a SEN2 placement column counts in.

    independent, special, resourced (resourced provision and SEN units), post16 (colleges,
    specialist post-16 institutions) or other.
    """
    name = placement.lower()
    if placement in spec.independent:
        return "independent"
    if "post_16" in name or name.startswith(("general_fe", "fe_")):
        return "post16"
    if "resourced" in name or "senunit" in name:
        return "resourced"
    return "special" if name.startswith("special") else "other"


def calibration_counts(spec: DemandSpec, totals: pd.Series, ages: pd.DataFrame,
                       needs: pd.DataFrame) -> pd.DataFrame:
    """calibration.csv: the base year's pupils by group, need and phase, with their source."""
    rows = []
    for p in spec.placements:
        for need in NEEDS:
            for phase in PHASES:
                rows.append({"group": placement_group(p, spec), "need": need, "phase": phase,
                             "pupils": totals[p] * needs.loc[need, p] * ages.loc[phase, p],
                             "placement": p})
    frame = pd.DataFrame(rows)
    counted = frame[frame["pupils"] > 0]
    used = counted.groupby("group")["placement"].agg(lambda ps: " + ".join(dict.fromkeys(ps)))
    out = frame.groupby(["group", "need", "phase"], as_index=False, sort=False)["pupils"].sum()
    out["pupils"] = out["pupils"].round(spec.decimals)
    out = out[out["pupils"] > 0].reset_index(drop=True)
    january = f"January {spec.base_year + 1}"
    out["year"] = spec.base_year
    out["source"] = out["group"].map(lambda g: f"SEN2 {spec.caseload.label}, "
                                     f"{january}: {used[g]}")
    return out
