"""Growth of the rate per child by need × phase, each rate with the source it comes from.

A council's SEN2 data gives its specialist placements each year (one trend), the ages of its
EHC plans in two Januaries (growth by phase) and its plans by primary need at one point with
the new plans of the last year (growth by need, by proxy). So

    r(n, ph) = (1 + r₀) · f_phase(ph) · f_need(n) / c − 1

with r₀ the default (the placements' trend, or a number the spec sets), and

    f_phase(ph) = (1 + g(ph)) / (1 + g)       g(ph): yearly growth of the plans of the
                                              phase's ages between the two Januaries; g: of
                                              the plans of every age in those tables
    f_need(n)   = (1 + i(n)) / (1 + i)        i(n) = new plans of need n in the year ÷ plans
                                              of need n in the base January; i: every need

and c = Σ base(n, ph) · f_phase · f_need / Σ base(n, ph) over the derived cells, so that the
base year's pupils, taken together, still grow at r₀ in the first year: the factors
redistribute the authority's own trend among needs and phases, they do not add to it (the
age and need tables count every EHC plan, whose mix differs from the specialist placements').
Each factor is 1 where its table is not given; a need with fewer than ``min_plans`` plans
keeps f_need = 1 (too few to tell). The need factor is a **proxy**: a need whose plans are
being issued faster than the rest grows faster, all else equal (plans ceasing by need are not
published). The spec's ``cells``, ``needs`` and ``phases`` set a rate outright, in that order.
"""

from __future__ import annotations

import re

import pandas as pd

from sufficiency.errors import InputError, Issue
from sufficiency.ingest.log import BuildLog
from sufficiency.ingest.sources import (
    authority_rows,
    find_column,
    numbers,
    read_source_csv,
    require_column,
)
from sufficiency.ingest.spec import DemandSpec, GrowthSpec, Source
from sufficiency.preprocess.readers import ROW
from sufficiency.preprocess.vocabulary import NEEDS, PHASES

STAGE = "demand"
GROWTH_COLUMNS = ["need", "phase", "rate", "base_rate", "phase_factor", "need_factor",
                  "mix_scale", "source"]


def age_band(label: str) -> tuple[int, int] | None:
    """An age label as (lowest, highest) age: 'Age 5 to 10' → (5, 10), 'Under 5' → (0, 4)."""
    text = label.strip().lower()
    if match := re.fullmatch(r"under (\d+)", text):
        return 0, int(match.group(1)) - 1
    if match := re.fullmatch(r"(?:age )?(\d+)(?: to (\d+))?", text):
        low = int(match.group(1))
        return low, int(match.group(2) or low)
    if match := re.fullmatch(r"age (\d+) and under", text):
        return 0, int(match.group(1))
    if match := re.fullmatch(r"age (\d+) and over", text):
        return int(match.group(1)), 99
    return None


def phase_of_band(band: tuple[int, int], ages: dict[str, tuple[int, int]]) -> str | None:
    """The phase whose age range holds the whole band (None when it straddles phases)."""
    for phase in PHASES:
        low, high = ages[phase]
        if low <= band[0] and band[1] <= high:
            return phase
    return None


def _la_table(source: Source, codes: tuple[str, ...]) -> pd.DataFrame:
    """The authority's rows of a DfE table (matched on new_la_code or old_la_code)."""
    table = read_source_csv(source)
    mine = authority_rows(table, source.label, codes)
    return table[mine]


def _plans_by_phase(table: pd.DataFrame, label: str, age_column: str, count_column: str,
                    ages: dict[str, tuple[int, int]], log: BuildLog) -> pd.Series:
    """Plans per phase from age rows (bands or single ages); bands across phases are left out."""
    bands = table[age_column].map(age_band)
    phases = bands.map(lambda b: None if b is None else phase_of_band(b, ages))
    counts = numbers(table, count_column, label, missing=0.0)
    straddle = bands.notna() & phases.isna()
    log.count(STAGE, label, "dropped", "age band outside or across the phases' ages (growth "
              "by phase)", int(straddle.sum()), list(table.loc[straddle, age_column]))
    return counts[phases.notna()].groupby(phases[phases.notna()]).sum().reindex(
        list(PHASES), fill_value=0.0)


def _january(period: str) -> int:
    """The academic year whose January a time_period counts: '2022' → 2021, '202425' → 2024."""
    return int(period[:4]) - 1 if len(period) == 4 else int(period[:4])


def phase_factors(spec: DemandSpec, caseload: pd.DataFrame, columns: dict[str, str],
                  log: BuildLog) -> tuple[dict[str, float], str]:
    """f_phase(ph) from the earlier age table against the base period's age rows."""
    g = spec.growth
    if g.phase_ages is None:
        return {ph: 1.0 for ph in PHASES}, ""
    earlier = _la_table(g.phase_ages, spec.la_codes)
    period = require_column(earlier, "time_period", g.phase_ages.label)
    earlier = earlier[earlier[period].str.strip() == g.phase_ages_period]
    age_column = find_column([c for c in earlier.columns if c != ROW], "characteristic_age") \
        or require_column(earlier, "breakdown", g.phase_ages.label)
    count = find_column([c for c in earlier.columns if c != ROW], "Total_ehc") \
        or require_column(earlier, "ehcplans", g.phase_ages.label)
    if earlier.empty or not g.phase_ages_period[:4].isdigit():
        raise InputError(Issue(g.phase_ages.label, None, period, f"no rows for period "
                               f"{g.phase_ages_period}", "check demand.growth.phase_ages_period"))
    then = _plans_by_phase(earlier, g.phase_ages.label, age_column, count, spec.ages, log)
    later_rows = caseload[(caseload[columns["time_period"]].str.strip() == spec.base_period)
                          & caseload[columns["breakdown_topic"]].str.strip().str.lower()
                          .str.startswith("child or young persons age")]
    plans = require_column(later_rows, "ehcplans", spec.caseload.label)
    now = _plans_by_phase(later_rows, spec.caseload.label, columns["breakdown"], plans,
                          spec.ages, log)
    span = spec.base_year - _january(g.phase_ages_period)
    if span <= 0 or then.sum() <= 0:
        raise InputError(Issue(g.phase_ages.label, None, period, "cannot measure growth by "
                               f"phase from {g.phase_ages_period} ({then.sum():g} plans, "
                               f"{span} years before the base year)",
                               "choose an earlier period with plans"))
    overall = (now.sum() / then.sum()) ** (1.0 / span)
    measured = [ph for ph in PHASES if then[ph] > 0 and now[ph] > 0]
    factors = {ph: float((now[ph] / then[ph]) ** (1.0 / span) / overall) if ph in measured
               else 1.0 for ph in PHASES}
    if len(measured) < len(PHASES):
        log.assume("Growth by phase: no EHC plans of " + ", ".join(
            ph for ph in PHASES if ph not in measured) + " ages in one of the two age tables; "
            "that phase grows as all phases do.")
    text = (f"EHC plans by age, {g.phase_ages_period} (`{g.phase_ages.label}`) → "
            f"{spec.base_period} (`{spec.caseload.label}`), {span} years: " + "; ".join(
                f"{ph} {then[ph]:g} → {now[ph]:g}" for ph in PHASES)
            + f"; all {then.sum():g} → {now.sum():g} ({overall - 1:.2%} a year)")
    return factors, text


def need_factors(spec: DemandSpec, log: BuildLog) -> tuple[dict[str, float], str]:
    """f_need(n): new plans of the need ÷ its plans in the base period, against all needs."""
    g = spec.growth
    if g.new_plans is None:
        return {n: 1.0 for n in NEEDS}, ""
    new = _need_row(_la_table(g.new_plans, spec.la_codes), g.new_plans, g.new_plans_period,
                    "demand.growth.new_plans_period")
    stock = _need_row(_la_table(spec.needs_table, spec.la_codes), spec.needs_table,
                      spec.base_period, "demand.base_period")
    inflow_all = new.sum() / stock.sum() if stock.sum() > 0 else 0.0
    factors, parts = {}, []
    for need in NEEDS:
        if stock[need] >= g.min_plans:
            factors[need] = float((1 + new[need] / stock[need]) / (1 + inflow_all))
            parts.append(f"{need} {new[need]:g}/{stock[need]:g}")
        else:
            factors[need] = 1.0
    few = [n for n in NEEDS if stock[n] < g.min_plans]
    if few:
        log.assume(f"Growth by need: {', '.join(few)} have fewer than {g.min_plans:g} plans "
                   f"in {spec.base_period}, too few to tell; they grow as all needs do.")
    text = (f"new plans in {g.new_plans_period} (`{g.new_plans.label}`) ÷ plans in "
            f"{spec.base_period} (`{spec.needs_table.label}`): " + "; ".join(parts)
            + f"; all needs {new.sum():g}/{stock.sum():g} = {inflow_all:.1%}")
    return factors, text


def _need_row(table: pd.DataFrame, source: Source, period: str, key: str) -> pd.Series:
    """Plans by need code from the 'All EHC plans' row of one period."""
    time = require_column(table, "time_period", source.label)
    topic = require_column(table, "breakdown_topic", source.label)
    rows = table[(table[time].str.strip() == period)
                 & table[topic].str.strip().str.lower().str.startswith("all ehc plans")]
    if rows.empty:
        raise InputError(Issue(source.label, None, time, f"no 'All EHC plans' row for "
                               f"period {period}", f"check {key}"))
    return pd.Series({n: numbers(rows, require_column(rows, f"number_{n.lower()}", source.label),
                                 source.label, missing=0.0).iloc[0] for n in NEEDS})


def _set_by(g: GrowthSpec, need: str, phase: str) -> tuple[str, float] | None:
    """The spec key that sets this cell's rate outright (cells, needs, phases), if any."""
    for key, table, name in ((f"cells.{need}.{phase}", g.cells, f"{need}.{phase}"),
                             (f"needs.{need}", g.needs, need),
                             (f"phases.{phase}", g.phases, phase)):
        if name in table:
            return key, table[name]
    return None


def mix_scale(spec: DemandSpec, phase: dict[str, float], need: dict[str, float],
              base: pd.DataFrame | None) -> float:
    """c: the base year's pupils' mean factor over the cells whose rate is derived."""
    if base is None or all(v == 1.0 for v in (*phase.values(), *need.values())):
        return 1.0
    free = base[[_set_by(spec.growth, n, ph) is None
                 for n, ph in zip(base["need"], base["phase"], strict=True)]]
    if free["pupils"].sum() <= 0:
        return 1.0
    weight = free["phase"].map(phase) * free["need"].map(need)
    return float((free["pupils"] * weight).sum() / free["pupils"].sum())


def growth_table(spec: DemandSpec, base_rate: float, base_source: str,
                 phase: dict[str, float], need: dict[str, float],
                 base: pd.DataFrame | None = None) -> pd.DataFrame:
    """r(n, ph) with its parts and source: a cell's, need's or phase's rate, else derived."""
    scale = mix_scale(spec, phase, need, base)
    parts = [text for text, factors in (
        ("phase factor (EHC plans by age, two Januaries)", phase),
        ("need factor (new plans ÷ plans by need: a proxy)", need))
        if any(v != 1.0 for v in factors.values())]
    derived = base_source + "".join(f" × {p}" for p in parts) + (
        f" ÷ mix scale {scale:.4f} (the base year's pupils still grow at the base rate)"
        if scale != 1.0 else "")
    rows = []
    for n in NEEDS:
        for ph in PHASES:
            set_by = _set_by(spec.growth, n, ph)
            if set_by:
                rate, source, pf, nf, c = set_by[1], f"spec: demand.growth.{set_by[0]}", 1.0, \
                    1.0, 1.0
            else:
                pf, nf, c = phase[ph], need[n], scale
                rate = base_rate if pf == nf == c == 1.0 else (
                    (1.0 + base_rate) * pf * nf / c - 1.0)
                source = derived
            rows.append({"need": n, "phase": ph, "rate": rate, "base_rate": base_rate,
                         "phase_factor": pf, "need_factor": nf, "mix_scale": c,
                         "source": source})
    return pd.DataFrame(rows, columns=GROWTH_COLUMNS)


def growth_csv(growth: pd.DataFrame) -> pd.DataFrame:
    """growth.csv: the rates rounded for reading (6 decimals; the projection uses them whole)."""
    out = growth.copy()
    for column in ("rate", "base_rate", "phase_factor", "need_factor", "mix_scale"):
        out[column] = out[column].round(6)
    return out
