"""The establishment list (GIAS "edubasealldata" or any school table) read and classified.

Each row becomes one establishment with a URN, a category (special, mainstream,
alternative, independent, independent_special, other) from its type, the phases it
teaches, its places and pupils, any resourced provision or SEN unit it reports, the needs
that provision is for, and a position (given, or geocoded from its postcode). Rows outside
the authority, closed, superseded or of a type that is not a school for this plan are
dropped and counted in the build log; an unknown type is reported as a warning, never
dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sufficiency.errors import InputError, Issue
from sufficiency.ingest.log import BuildLog
from sufficiency.ingest.sources import (
    filter_where,
    find_column,
    numbers,
    read_source_csv,
    require_column,
)
from sufficiency.ingest.spec import ESTABLISHMENT_FIELDS, EstablishmentSpec, Source
from sufficiency.preprocess.readers import ROW
from sufficiency.preprocess.vocabulary import NEEDS, PHASES

STAGE = "establishments"
REQUIRED = ("urn", "name", "type")
MULTI = ("sen", "pupils_primary", "pupils_secondary", "pupils_post16")
# Default column names of the GIAS "edubasealldata" download; '(name)' / '(code)' suffixes
# are matched automatically (TypeOfEstablishment finds "TypeOfEstablishment (name)").
GIAS_COLUMNS: dict[str, tuple[str, ...]] = {
    "urn": ("URN",), "name": ("EstablishmentName",), "type": ("TypeOfEstablishment",),
    "phase": ("PhaseOfEducation",), "status": ("EstablishmentStatus",),
    "easting": ("Easting",), "northing": ("Northing",), "postcode": ("Postcode",),
    "capacity": ("SchoolCapacity",), "pupils": ("NumberOfPupils",),
    "age_low": ("StatutoryLowAge",), "age_high": ("StatutoryHighAge",),
    "rp_type": ("TypeOfResourcedProvision",), "rp_on_roll": ("ResourcedProvisionOnRoll",),
    "rp_capacity": ("ResourcedProvisionCapacity",), "unit_on_roll": ("SenUnitOnRoll",),
    "unit_capacity": ("SenUnitCapacity",), "sen": tuple(f"SEN{i}" for i in range(1, 14)),
}
OPEN_STATUSES = ("open", "open, but proposed to close")
# Ages taught in each phase (age at 31 August), to read a statutory age range.
SCHOOL_AGES = {"primary": (4, 10), "secondary": (11, 15), "post16": (16, 18)}

# GIAS TypeOfEstablishment (name), lower case → category. Extend in [establishments.types].
TYPE_CATEGORIES: dict[str, str] = {
    **dict.fromkeys((
        "community special school", "foundation special school", "academy special converter",
        "academy special sponsor led", "free schools special"), "special"),
    **dict.fromkeys((
        "community school", "voluntary aided school", "voluntary controlled school",
        "foundation school", "academy converter", "academy sponsor led", "free schools",
        "university technical college", "studio schools", "city technology college",
        "academy 16-19 converter", "academy 16 to 19 sponsor led", "free schools 16 to 19"),
        "mainstream"),
    **dict.fromkeys((
        "pupil referral unit", "academy alternative provision converter",
        "academy alternative provision sponsor led", "free schools alternative provision"),
        "alternative"),
    "other independent school": "independent",
    **dict.fromkeys(("other independent special school", "non-maintained special school"),
                    "independent_special"),
    **dict.fromkeys((
        "local authority nursery school", "further education", "sixth form centres",
        "special post 16 institution", "higher education institutions", "welsh establishment",
        "secure units", "service children's education", "offshore schools",
        "british schools overseas", "institution funded by other government department",
        "miscellaneous", "online provider", "children's centre",
        "children's centre linked site"), "other"),
}
CATEGORY_REASONS = {
    "alternative": "alternative provision: outside the specialist placements planned",
    "independent": "independent mainstream school: not a host for state provision",
    "independent_special": "independent / non-maintained special school: it is the "
                           "independent fallback, not local provision",
    "other": "not a school this plan places pupils in (nursery, FE, other)",
}
# SEN provision codes in GIAS SEN1..SEN13 (name), e.g. "ASD - Autistic Spectrum Disorder".
SEN_ALIASES = {"BESD": "SEMH", "SPLD": "SPLD", "MSI": "MSI", "OTH": "OTH"}


@dataclass(frozen=True)
class Establishments:
    """Classified establishments (one row per open school kept) and what was resolved."""

    frame: pd.DataFrame
    label: str
    columns: dict[str, list[str]]  # canonical → source columns actually used


def _resolve_columns(spec: EstablishmentSpec, table: pd.DataFrame) -> dict[str, list[str]]:
    """Canonical field → source column(s): GIAS defaults (when present) overridden by the spec."""
    label = spec.table.label
    present = [c for c in table.columns if c != ROW]
    resolved: dict[str, list[str]] = {}
    if spec.layout == "gias":
        for key, names in GIAS_COLUMNS.items():
            found = [find_column(present, n) for n in names]
            if any(found):
                resolved[key] = [f for f in found if f]
    for key, names in spec.columns.items():
        resolved[key] = [require_column(table, n, label, f"establishments.columns.{key}")
                         for n in names]
    for key in REQUIRED:
        if key not in resolved:
            raise InputError(Issue(label, 1, GIAS_COLUMNS[key][0], "column not found",
                                   f"map it in the spec: [establishments.columns] {key} = "
                                   '"<column name>"'))
    unknown = set(resolved) - set(ESTABLISHMENT_FIELDS)
    if unknown:
        raise InputError(Issue(label, None, sorted(unknown)[0], "not a field the builder reads",
                               f"use one of {', '.join(ESTABLISHMENT_FIELDS)}"))
    return resolved


def _text(table: pd.DataFrame, columns: dict[str, list[str]], key: str) -> pd.Series:
    """A text field (empty when the table does not have it)."""
    if key not in columns:
        return pd.Series("", index=table.index, dtype=object)
    return table[columns[key][0]].astype(str).str.strip()


def _number(table: pd.DataFrame, columns: dict[str, list[str]], key: str,
            label: str) -> pd.Series:
    """A numeric field (several source columns are added up); NaN where unknown."""
    if key not in columns:
        return pd.Series(float("nan"), index=table.index)
    parts = [numbers(table, c, label, minimum=-1e9) for c in columns[key]]
    total = parts[0]
    for part in parts[1:]:
        total = total.add(part, fill_value=0.0)
    return total


def _successors(source: Source) -> dict[str, tuple[str, str]]:
    """URN → (final successor URN, its name) from a GIAS links file."""
    table = read_source_csv(source)
    urn = require_column(table, "URN", source.label)
    link = require_column(table, "LinkURN", source.label)
    kind = require_column(table, "LinkType", source.label)
    name_column = find_column([c for c in table.columns if c != ROW], "LinkName")
    names = table[name_column] if name_column else pd.Series("", index=table.index)
    step = {}
    for u, v, t, n in zip(table[urn], table[link], table[kind], names, strict=True):
        if str(t).strip().lower().startswith("successor") and u.strip() and v.strip():
            step.setdefault(u.strip(), (v.strip(), str(n).strip()))
    final = {}
    for start in step:
        current, name, seen = start, "", {start}
        while current in step and step[current][0] not in seen:
            current, name = step[current]
            seen.add(current)
        final[start] = (current, name)
    return final


def _apply_links(frame: pd.DataFrame, spec: EstablishmentSpec, log: BuildLog) -> pd.DataFrame:
    """Old URNs (before an academy conversion or re-registration) → their current URN."""
    if spec.links is None:
        return frame
    successors = _successors(spec.links)
    label = spec.table.label
    has_successor = frame["urn"].isin(successors)
    new_urn = frame["urn"].map(lambda u: successors.get(u, (u, ""))[0])
    in_file = has_successor & new_urn.isin(set(frame.loc[~has_successor, "urn"]))
    log.count(STAGE, label, "dropped", "superseded: its successor URN is also in the file",
              int(in_file.sum()), [f"URN {u} → {n}" for u, n in
                                   zip(frame.loc[in_file, "urn"], new_urn[in_file], strict=True)])
    replace = has_successor & ~in_file
    log.count(STAGE, label, "changed", f"URN replaced by its successor from {spec.links.label} "
              "(academy conversion or re-registration)", int(replace.sum()),
              [f"URN {u} → {n}" for u, n in zip(frame.loc[replace, "urn"], new_urn[replace],
                                                  strict=True)])
    frame = frame[~in_file].copy()
    replace = replace[~in_file]
    successor_name = frame["urn"].map(lambda u: successors.get(u, ("", ""))[1])
    frame.loc[replace & (successor_name != ""), "name"] = successor_name
    frame.loc[replace, "urn"] = new_urn[~in_file][replace]
    return frame


def _categories(frame: pd.DataFrame, spec: EstablishmentSpec, log: BuildLog) -> pd.Series:
    """Each row's category from its type; unknown types are warned about and dropped."""
    table = dict(TYPE_CATEGORIES)
    for category, names in spec.types.items():
        table.update({n.strip().lower(): category for n in names})
    category = frame["type"].str.lower().map(table).fillna("unknown")
    label = spec.table.label
    for type_name, group in frame[category == "unknown"].groupby("type", sort=True):
        log.count(STAGE, label, "dropped", f"unknown establishment type '{type_name}'",
                  len(group), [f"URN {u} (row {r})" for u, r in zip(group["urn"], group[ROW],
                                                                    strict=True)])
        log.warn(f"{label}: {len(group)} establishment(s) of unknown type '{type_name}' were "
                 "left out; add the type to [establishments.types] (special, mainstream, "
                 "alternative, independent, independent_special or other)")
    return category


def phases_from_text(text: str) -> tuple[str, ...]:
    """Phases named by a GIAS PhaseOfEducation or census phase text ('State-funded primary')."""
    t = text.lower()
    if "all-through" in t or "all through" in t:
        return ("primary", "secondary")
    if "middle deemed" in t:
        return ("primary",) if "primary" in t else ("secondary",)
    found = [ph for ph, word in (("primary", "primary"), ("secondary", "secondary"))
             if word in t]
    if "16 plus" in t or "16-19" in t or "16 to 19" in t:
        found.append("post16")
    return tuple(found)


def _phases(frame: pd.DataFrame, min_share: float) -> pd.Series:
    """Phases taught: year-group headcounts, else the statutory age range, else the phase text."""
    by_year = frame[[f"pupils_{ph}" for ph in PHASES]]
    total = by_year.sum(axis=1, min_count=1)
    out = []
    for i, row in enumerate(frame.itertuples(index=False)):
        if pd.notna(total.iloc[i]) and total.iloc[i] > 0:
            share = by_year.iloc[i] / total.iloc[i]
            out.append(tuple(ph for ph in PHASES if share[f"pupils_{ph}"] >= min_share))
        elif pd.notna(row.age_low) and pd.notna(row.age_high) and row.age_high > row.age_low:
            out.append(tuple(ph for ph in PHASES if SCHOOL_AGES[ph][0] <= row.age_high - 1
                             and SCHOOL_AGES[ph][1] >= row.age_low))
        else:
            out.append(phases_from_text(row.phase))
    return pd.Series(out, index=frame.index, dtype=object)


def sen_needs(texts: list[str]) -> tuple[tuple[str, ...], list[str]]:
    """Need codes from GIAS SEN provision cells ('ASD - Autistic…'); and the unreadable ones."""
    lookup = {n.lower(): n for n in NEEDS} | {k.lower(): v for k, v in SEN_ALIASES.items()}
    found, unknown = set(), []
    for text in texts:
        code = text.split(" - ")[0].strip().lower()
        if not code or code in ("not applicable", "nan"):
            continue
        if code in lookup:
            found.add(lookup[code])
        else:
            unknown.append(text)
    return tuple(n for n in NEEDS if n in found), unknown


def _positions(frame: pd.DataFrame, spec: EstablishmentSpec, log: BuildLog) -> pd.DataFrame:
    """Fill missing easting/northing from the postcode table; count what stays unplaced."""
    label = spec.table.label
    missing = frame["easting"].isna() | frame["northing"].isna() | (frame["easting"] <= 0)
    if spec.postcodes is None or not missing.any():
        return frame
    table = read_postcodes(spec.postcodes, spec.postcode_columns)
    key = frame.loc[missing, "postcode"].str.upper().str.replace(" ", "", regex=False)
    found = key.isin(table.index)
    frame.loc[found[found].index, "easting"] = key[found].map(table["easting"]).values
    frame.loc[found[found].index, "northing"] = key[found].map(table["northing"]).values
    log.count(STAGE, label, "changed", f"position geocoded from its postcode "
              f"({spec.postcodes.label})", int(found.sum()))
    return frame


def read_postcodes(source: Source, names: dict[str, str]) -> pd.DataFrame:
    """Postcode centroids (ONSPD-like), indexed by the postcode without spaces."""
    table = read_source_csv(source)
    present = [c for c in table.columns if c != ROW]

    def pick(key: str, candidates: tuple[str, ...]) -> str:
        """The spec's column, else the first ONSPD-style name present."""
        if key in names:
            return require_column(table, names[key], source.label,
                                  f"establishments.postcode_columns.{key}")
        for candidate in candidates:
            if find_column(present, candidate):
                return find_column(present, candidate)
        return require_column(table, candidates[-1], source.label)

    pcd = pick("postcode", ("pcds", "pcd", "postcode"))
    east = pick("easting", ("oseast1m", "easting"))
    north = pick("northing", ("osnrth1m", "northing"))
    out = pd.DataFrame({"postcode": table[pcd].str.upper().str.replace(" ", "", regex=False),
                        "easting": numbers(table, east, source.label, minimum=-1e9),
                        "northing": numbers(table, north, source.label, minimum=-1e9)})
    out = out.dropna().drop_duplicates("postcode")
    return out.set_index("postcode")


def _typed(table: pd.DataFrame, columns: dict[str, list[str]], label: str) -> pd.DataFrame:
    """The canonical fields of every row, as text and numbers."""
    frame = pd.DataFrame({key: _text(table, columns, key) for key in
                          ("urn", "name", "type", "phase", "status", "postcode", "rp_type")})
    for key in ("easting", "northing", "capacity", "pupils", "age_low", "age_high",
                "rp_on_roll", "rp_capacity", "unit_on_roll", "unit_capacity",
                "pupils_primary", "pupils_secondary", "pupils_post16"):
        frame[key] = _number(table, columns, key, label)
    sen_cells = [table[c].astype(str).tolist() for c in columns.get("sen", [])]
    frame["sen_texts"] = [list(cells) for cells in zip(*sen_cells, strict=True)] if sen_cells \
        else [[] for _ in range(len(table))]
    frame[ROW] = table[ROW]
    for row, urn in zip(frame[ROW], frame["urn"], strict=True):
        if not urn:
            raise InputError(Issue(label, int(row), columns["urn"][0], "empty URN",
                                   "every establishment needs its URN"))
    return frame


def read_establishments(spec: EstablishmentSpec, log: BuildLog) -> Establishments:
    """Read, filter and classify the establishment table (see the module docstring)."""
    label = spec.table.label
    table = read_source_csv(spec.table)
    columns = _resolve_columns(spec, table)
    table, outside = filter_where(table, spec.where, label, "establishments")
    log.count(STAGE, label, "dropped", "outside the authority (establishments.where)",
              len(outside))
    frame = _typed(table, columns, label)
    repeated = frame["urn"].duplicated()
    if repeated.any():
        row = int(frame.loc[repeated, ROW].iloc[0])
        urn = frame.loc[repeated, "urn"].iloc[0]
        raise InputError(Issue(label, row, columns["urn"][0], f"URN {urn} appears twice",
                               "keep one row per establishment"))
    frame = _apply_links(frame, spec, log)
    if "status" in columns:
        is_open = frame["status"].str.lower().isin(OPEN_STATUSES)
        for status, group in frame[~is_open].groupby("status", sort=True):
            log.count(STAGE, label, "dropped", f"status '{status or '(blank)'}'", len(group),
                      [f"URN {u}" for u in group["urn"]])
        frame = frame[is_open]
    frame = frame.assign(category=_categories(frame, spec, log))
    for category, reason in CATEGORY_REASONS.items():
        group = frame[frame["category"] == category]
        log.count(STAGE, label, "dropped", reason, len(group),
                  [f"{n} (URN {u})" for n, u in zip(group["name"], group["urn"], strict=True)])
    frame = frame[frame["category"].isin(("special", "mainstream"))].copy()
    frame["phases"] = _phases(frame, spec.min_phase_share)
    frame = _positions(frame, spec, log)
    frame = frame.sort_values("urn", kind="stable").reset_index(drop=True)
    return Establishments(frame, label, columns)
