"""Costs by need and phase (``costs.csv``) and independent providers (``independent.csv``).

Both files are optional; without them a run means exactly what contract v1 says (one
``annual_cost_per_place`` per option, one flat ``[independent]`` fee and transport).

``costs.csv`` prices a filled place by option or provision kind × need × phase (``*`` for
every need or phase), and independent placements by need × phase (kind ``independent``).
For an option serving need n in phase p the filled-place cost is the first that applies of

1. the option's own row: (n, p), then (n, ``*``), then (``*``, p), then (``*``, ``*``);
2. its kind's row, in the same order;
3. its ``annual_cost_per_place`` in provision.csv.

``independent.csv`` lists independent providers (location, needs, phases, annual fee). An
area's independent pupils of need n, phase p go to the eligible provider with the lowest
fee + transport (``cost_per_pupil`` + ``cost_per_km`` × km, as for local places; ties: the
first provider_id); without an eligible provider, the kind ``independent`` rows of
costs.csv apply (same order as above), then the flat ``[independent]`` figures.

The resolved tables (:func:`place_costs`, :func:`independent_costs`) are computed from the
dataset each time they are asked for, so a sweep that changes ``[independent]``,
``[transport]`` or provision.csv's costs moves the fallbacks with it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from sufficiency.errors import Issue
from sufficiency.outcome import PROVIDER
from sufficiency.preprocess import geo
from sufficiency.preprocess.checks import pair_given
from sufficiency.preprocess.config import RunConfig
from sufficiency.preprocess.readers import ROW
from sufficiency.preprocess.schema import COSTS_COLUMNS, PROVIDER_COLUMNS, required_columns
from sufficiency.preprocess.textcells import CellParser, suggestion
from sufficiency.preprocess.vocabulary import INDEPENDENT, KINDS, NEEDS, PHASES

if TYPE_CHECKING:  # the dataset module imports this one
    from sufficiency.preprocess.dataset import Dataset

COSTS_FILE = "costs.csv"
PROVIDERS_FILE = "independent.csv"
ALL = "*"
COST_KINDS = (*KINDS, INDEPENDENT)
LOCAL_COST = "annual_cost_per_place"
FEE, TAXI = "cost_per_place", "transport_cost_per_pupil"
MAX_POUNDS = 1e10  # £ in one cost cell (as provision.csv)
# Within a level, the most specific row wins: (exact need, exact phase), lowest first.
SPECIFICITY = ((False, False), (False, True), (True, False), (True, True))
FLAT_SOURCE = "[independent]"
PROVISION_SOURCE = "provision.csv"
RULE_COLUMNS = ["option_id", "kind", "need", "phase", LOCAL_COST, FEE, TAXI, ROW]


# --- costs.csv ---------------------------------------------------------------------------

def _codes_or_all(cells: CellParser, column: str, allowed: tuple[str, ...]) -> pd.Series:
    """A need or phase cell: a code of ``allowed`` (any case) or '*'."""
    lookup = {code.lower(): code for code in allowed}
    out = []
    for row, text in zip(cells.table[ROW], cells.text(column), strict=True):
        code = ALL if text == ALL else lookup.get(text.lower())
        if code is None:
            near = suggestion(text, set(allowed)) if text else None
            hint = f"did you mean '{near}'? " if near else ""
            cells.issue(row, column, f"unknown code '{text}'" if text else "empty cell",
                        f"{hint}use one of {', '.join(allowed)}, or '*' for all")
        out.append(code or "")
    return pd.Series(out, index=cells.table.index, dtype=object)


def _kinds(cells: CellParser) -> pd.Series:
    """Kind cells: empty, or a provision kind or ``independent`` (any case)."""
    out = []
    for row, text in zip(cells.table[ROW], cells.text("kind"), strict=True):
        code = {k.lower(): k for k in COST_KINDS}.get(text.lower(), "") if text else ""
        if text and not code:
            near = suggestion(text, set(COST_KINDS))
            cells.issue(row, "kind", f"unknown kind '{text}'",
                        (f"did you mean '{near}'? " if near else "")
                        + f"use one of {', '.join(COST_KINDS)}, or leave it empty on an "
                        "option's row")
        out.append(code)
    return pd.Series(out, index=cells.table.index, dtype=object)


def check_costs(raw: pd.DataFrame, file: str = COSTS_FILE) -> tuple[pd.DataFrame, CellParser]:
    """costs.csv: who (option or kind), need, phase, and the £ that kind of row needs."""
    cells = CellParser(raw, file)
    if not cells.has_columns(required_columns(COSTS_COLUMNS)):  # need, phase
        return pd.DataFrame(columns=RULE_COLUMNS), cells
    columns = set(raw.columns)
    if not {"option_id", "kind"} & columns:
        cells.issue(None, "option_id", "neither an 'option_id' nor a 'kind' column",
                    "add 'option_id' (a provision.csv option) and/or 'kind' (special, "
                    "resourced, satellite, new_special, independent)")
        return pd.DataFrame(columns=RULE_COLUMNS), cells
    blank = pd.Series("", index=raw.index, dtype=object)
    frame = pd.DataFrame({
        "option_id": cells.text("option_id") if "option_id" in columns else blank,
        "kind": _kinds(cells) if "kind" in columns else blank,
        "need": _codes_or_all(cells, "need", NEEDS),
        "phase": _codes_or_all(cells, "phase", PHASES),
        ROW: raw[ROW],
    })
    for column in (LOCAL_COST, FEE, TAXI):
        frame[column] = (cells.numbers(column, maximum=MAX_POUNDS, default=math.nan)
                         if column in columns else math.nan)
    raw_kind = cells.text("kind") if "kind" in columns else blank
    _check_who(frame, raw_kind, cells)
    _check_amounts(frame, columns, cells)
    _check_repeats(frame, cells)
    return frame[RULE_COLUMNS], cells


def _check_who(frame: pd.DataFrame, raw_kind: pd.Series, cells: CellParser) -> None:
    """Each row prices one option or one kind, never both or neither."""
    for row, option, text in zip(frame[ROW], frame["option_id"], raw_kind, strict=True):
        if option.lower() == INDEPENDENT:
            cells.issue(row, "option_id", f"'{option}' is not an option",
                        "price independent placements with kind = independent and an empty "
                        "option_id")
        elif option and text:
            cells.issue(row, "kind", f"the row names option '{option}' and kind '{text}'",
                        "leave kind empty on an option's row (provision.csv gives its kind), "
                        "or option_id empty on a kind's row")
        elif not option and not text:
            cells.issue(row, "option_id", "the row names neither an option nor a kind",
                        "fill in option_id (a provision.csv option) or kind")


def _check_amounts(frame: pd.DataFrame, columns: set[str], cells: CellParser) -> None:
    """Each row gives the £ its kind of row needs, and none of the other kind's columns.

    Option and provision-kind rows: annual_cost_per_place; kind independent rows:
    cost_per_place and transport_cost_per_pupil.
    """
    independent = frame["kind"] == INDEPENDENT
    local = ~independent & ((frame["option_id"] != "") | (frame["kind"] != ""))
    wanted = ((LOCAL_COST, local, "the £ per pupil-year of a filled place"),
              (FEE, independent, "the independent fee, £ per pupil-year"),
              (TAXI, independent, "the transport to an independent placement, £ per pupil-year"))
    for column, rows, what in wanted:
        if rows.any() and column not in columns:
            cells.issue(None, column, "required column is missing",
                        f"add a '{column}' column: {what}")
            continue
        for row in frame.loc[rows & frame[column].isna() & _blank(cells, column), ROW]:
            cells.issue(row, column, "empty cell", f"enter {what}")
    for column, rows, other in ((LOCAL_COST, independent, "option and provision-kind"),
                                (FEE, local, "kind = independent"),
                                (TAXI, local, "kind = independent")):
        for row in frame.loc[rows & frame[column].notna(), ROW]:
            cells.issue(row, column, f"this column is for {other} rows only",
                        "clear the cell, or move the figure to a row of that kind")


def _blank(cells: CellParser, column: str) -> pd.Series:
    """True where the cell is empty (False where the column is absent)."""
    if column not in cells.table.columns:
        return pd.Series(False, index=cells.table.index)
    return cells.text(column) == ""


def _check_repeats(frame: pd.DataFrame, cells: CellParser) -> None:
    """One row per (option or kind, need, phase): two would be at the same precedence."""
    first: dict[tuple[str, ...], int] = {}
    columns = [frame[c] for c in ("option_id", "kind", "need", "phase", ROW)]
    for option, kind, need, phase, line in zip(*columns, strict=True):
        if bool(option) == bool(kind) or not need or not phase:
            continue  # already reported: which row this is cannot be told
        key = (option.lower(), kind, need, phase)
        if key in first:
            who = f"option '{option}'" if option else f"kind '{kind}'"
            cells.issue(line, None, f"repeats {who}, need '{need}', phase '{phase}' of row "
                        f"{first[key]} (the same precedence level)",
                        "give each combination once: delete or change one of the rows")
        else:
            first[key] = line


def check_cost_references(costs: pd.DataFrame, options: pd.DataFrame,
                          file: str = COSTS_FILE) -> tuple[list[Issue], list[str]]:
    """Option rows name provision.csv options; rows an option cannot use are said (warning)."""
    rows = costs[costs["option_id"] != ""]
    cells = CellParser(rows, file)
    cells.references("option_id", rows["option_id"], set(options["option_id"]),
                     "provision.csv")
    served = options.set_index("option_id")
    warnings = []
    known = rows[rows["option_id"].isin(served.index)]
    for option_id, need, phase, line in zip(known["option_id"], known["need"], known["phase"],
                                            known[ROW], strict=True):
        option = served.loc[option_id]
        unused = []
        if need not in (ALL, "") and need not in option["needs"]:
            unused.append(f"need {need}")
        if phase not in (ALL, "") and phase not in option["phases"]:
            unused.append(f"phase {phase}")
        if unused:
            warnings.append(f"{file}, row {line}: option '{option_id}' does not serve "
                            f"{' or '.join(unused)}; the row has no effect")
    return cells.issues, warnings


# --- independent.csv ---------------------------------------------------------------------

def check_providers(raw: pd.DataFrame, file: str = PROVIDERS_FILE
                    ) -> tuple[gpd.GeoDataFrame, CellParser]:
    """Independent providers: id, name, needs, phases, fee ≥ 0, a location in Great Britain."""
    cells = CellParser(raw, file)
    if not cells.has_columns(required_columns(PROVIDER_COLUMNS)):
        return gpd.GeoDataFrame(), cells
    provider_id = cells.ids("provider_id")
    cells.unique("provider_id", provider_id)
    for row in raw.loc[provider_id.str.lower() == INDEPENDENT, ROW]:
        cells.issue(row, "provider_id", f"'{INDEPENDENT}' is reserved for the option_id of "
                    "independent placements", "rename the provider")
    frame = pd.DataFrame({
        "provider_id": provider_id,
        "name": cells.text("name"),
        "needs": cells.code_lists("needs", NEEDS),
        "phases": cells.code_lists("phases", PHASES),
        FEE: cells.numbers(FEE, maximum=MAX_POUNDS),
        ROW: raw[ROW],
    })
    return gpd.GeoDataFrame(frame, geometry=_provider_points(raw, cells), crs=geo.BNG), cells


def _provider_points(raw: pd.DataFrame, cells: CellParser) -> gpd.GeoSeries:
    """easting/northing where a row gives them, else lat/lon; both checked to lie in GB."""
    bng_given, wgs_given = pair_given(raw, "easting", "northing"), pair_given(raw, "lat", "lon")
    first = "easting" if "easting" in raw.columns else "lat"
    for row in raw.loc[~bng_given & ~wgs_given, ROW]:
        cells.issue(row, first, "the provider has no location",
                    "give 'easting' and 'northing' (EPSG:27700) or 'lat' and 'lon' (WGS84)")
    nan = pd.Series(math.nan, index=raw.index)
    east = cells.numbers("easting", minimum=-1e9, default=math.nan) if bng_given.any() else nan
    north = cells.numbers("northing", minimum=-1e9, default=math.nan) if bng_given.any() else nan
    lat = cells.numbers("lat", minimum=-1e9, default=math.nan) if wgs_given.any() else nan
    lon = cells.numbers("lon", minimum=-1e9, default=math.nan) if wgs_given.any() else nan
    bad_bng = bng_given & east.notna() & north.notna() & ~geo.within_gb_metres(east, north)
    bad_wgs = ~bng_given & wgs_given & lat.notna() & lon.notna() & ~geo.within_gb_degrees(lon,
                                                                                         lat)
    for row, e, n in zip(raw.loc[bad_bng, ROW], east[bad_bng], north[bad_bng], strict=True):
        cells.issue(row, "easting", f"({e:g}, {n:g}) is outside Great Britain",
                    "give the provider's British National Grid point (EPSG:27700 metres), or "
                    "its lat/lon")
    for row, la, lo in zip(raw.loc[bad_wgs, ROW], lat[bad_wgs], lon[bad_wgs], strict=True):
        cells.issue(row, "lat", f"(lat {la:g}, lon {lo:g}) is outside Great Britain",
                    "check the values (WGS84 degrees; lat about 50-61, lon about -8 to 2)")
    bng = geo.points_from_bng(east.fillna(0.0), north.fillna(0.0))
    wgs = geo.points_from_lonlat(lon.fillna(0.0), lat.fillna(52.0))
    return gpd.GeoSeries(np.where(bng_given, bng.to_numpy(), wgs.to_numpy()), index=raw.index,
                         crs=geo.BNG)


def check_provider_ids(providers: gpd.GeoDataFrame, site_ids: set[str],
                       file: str = PROVIDERS_FILE) -> list[Issue]:
    """A provider id may not also be a site id: travel.csv rows name one or the other."""
    cells = CellParser(providers, file)
    for row, provider in zip(providers[ROW], providers["provider_id"], strict=True):
        if provider in site_ids:
            cells.issue(row, "provider_id", f"'{provider}' is also a site_id in sites.csv",
                        "give the provider its own id (travel.csv rows name a site or a "
                        "provider)")
    return cells.issues


def provider_travel(config: RunConfig, areas: gpd.GeoDataFrame, providers: gpd.GeoDataFrame,
                    given: pd.DataFrame | None) -> pd.DataFrame:
    """Journeys area → provider: travel.csv where it gives the pair, else straight line.

    Straight line: km from the area's demand point × circuity, minutes at ``speed_kmh``, as
    for sites. Columns: area_id, provider_id, minutes, km, travel_source.
    """
    t = config.transport
    points = areas.assign(demand_point=geo.demand_points(areas))
    derived = geo.straight_line_travel(points, providers.rename(columns={"provider_id":
                                                                         "site_id"}),
                                       circuity=t.circuity, speed_kmh=t.speed_kmh)
    if given is None or given.empty:
        table = derived.assign(travel_source=geo.TRAVEL_DERIVED)
    else:
        table, _ = geo.complete_travel(given, derived)
    return table.rename(columns={"site_id": "provider_id"})[
        ["area_id", "provider_id", "minutes", "km", "travel_source"]].reset_index(drop=True)


# --- resolved costs ----------------------------------------------------------------------

def _apply_rules(table: pd.DataFrame, rules: pd.DataFrame, who: str,
                 values: list[str]) -> pd.DataFrame:
    """Overwrite ``values`` (and cost_source) of ``table`` rows matched by ``rules``.

    Rules of one level (``who`` = option_id or kind; ``None``: need × phase only) are applied
    from the least specific to the most, so the most specific matching row wins.
    """
    if who:
        rules = rules[rules[who] != ""]
    for exact_need, exact_phase in SPECIFICITY:
        level = rules[((rules["need"] != ALL) == exact_need)
                      & ((rules["phase"] != ALL) == exact_phase)]
        if level.empty:
            continue
        keys = [who] if who else []
        keys += ["need"] * exact_need + ["phase"] * exact_phase
        if keys:
            hit = table[keys].merge(level[[*keys, *values, ROW]], on=keys, how="left")
        else:  # one row for every need and phase: it matches every row of the table
            hit = pd.DataFrame({c: [level[c].iloc[0]] * len(table) for c in [*values, ROW]})
        found = hit[ROW].notna().to_numpy()
        for value in values:
            table.loc[found, value] = hit.loc[found, value].to_numpy()
        table.loc[found, "cost_source"] = [f"{COSTS_FILE} row {int(r)}"
                                           for r in hit.loc[found, ROW]]
    return table


def place_costs(options: pd.DataFrame, costs: pd.DataFrame | None) -> pd.DataFrame | None:
    """Filled-place £ per pupil-year of every (option, need, phase) it serves; None in v1.

    Columns: option_id, need, phase, annual_cost_per_place, cost_source (``provision.csv``
    or ``costs.csv row N``), in option, need, phase order.
    """
    if costs is None:
        return None
    served = options[["option_id", "kind", "needs", "phases", LOCAL_COST]].explode(
        "needs").explode("phases").rename(columns={"needs": "need", "phases": "phase"})
    table = served.reset_index(drop=True).assign(cost_source=PROVISION_SOURCE)
    table[LOCAL_COST] = table[LOCAL_COST].astype(float)
    local = costs[costs["kind"] != INDEPENDENT]
    table = _apply_rules(table, local, "kind", [LOCAL_COST])
    table = _apply_rules(table, local, "option_id", [LOCAL_COST])
    return table[["option_id", "need", "phase", LOCAL_COST, "cost_source"]].sort_values(
        ["option_id", "need", "phase"]).reset_index(drop=True)


def has_cost_files(costs: pd.DataFrame | None, providers: gpd.GeoDataFrame | None) -> bool:
    """Whether a run prices anything beyond contract v1 (costs.csv or independent.csv)."""
    return costs is not None or providers is not None


def independent_costs(config: RunConfig, demand: pd.DataFrame, costs: pd.DataFrame | None,
                      providers: gpd.GeoDataFrame | None,
                      journeys: pd.DataFrame | None) -> pd.DataFrame | None:
    """Independent £ per pupil-year of every demand group (area, need, phase); None in v1.

    Columns: area_id, need, phase, cost_per_place (fee), transport_cost_per_pupil,
    cost_source (``independent.csv``, ``costs.csv row N`` or ``[independent]``); with
    independent.csv also provider_id ('' without an eligible provider), minutes and km of
    the provider's journey (NaN without one).
    """
    if not has_cost_files(costs, providers):
        return None
    i, t = config.independent, config.transport
    table = demand[["area_id", "need", "phase"]].drop_duplicates().sort_values(
        ["area_id", "need", "phase"]).reset_index(drop=True)
    table = table.assign(**{FEE: float(i.cost_per_place), TAXI: float(i.transport_cost_per_pupil),
                            "cost_source": FLAT_SOURCE})
    if costs is not None:
        table = _apply_rules(table, costs[costs["kind"] == INDEPENDENT], "", [FEE, TAXI])
    if providers is None or journeys is None:
        return table
    eligible = pd.DataFrame(providers[["provider_id", "needs", "phases", FEE]]).explode(
        "needs").explode("phases").rename(columns={"needs": "need", "phases": "phase",
                                                   FEE: "fee"})
    offers = table[["area_id", "need", "phase"]].merge(eligible, on=["need", "phase"]).merge(
        journeys[["area_id", "provider_id", "minutes", "km"]], on=["area_id", "provider_id"])
    offers["taxi"] = t.cost_per_pupil + t.cost_per_km * offers["km"]
    offers["total"] = offers["fee"] + offers["taxi"]
    keys = ["area_id", "need", "phase"]
    best = offers.sort_values([*keys, "total", "provider_id"], kind="stable").drop_duplicates(
        keys)
    hit = table[keys].merge(best, on=keys, how="left")
    found = hit["provider_id"].notna().to_numpy()
    table.loc[found, FEE] = hit.loc[found, "fee"].to_numpy(float)
    table.loc[found, TAXI] = hit.loc[found, "taxi"].to_numpy(float)
    table.loc[found, "cost_source"] = PROVIDERS_FILE
    table[PROVIDER] = hit["provider_id"].fillna("").to_numpy(object)
    table["minutes"] = hit["minutes"].to_numpy(float)
    table["km"] = hit["km"].to_numpy(float)
    return table


def unit_costs(config: RunConfig, options: pd.DataFrame, placements: pd.DataFrame,
               place: pd.DataFrame | None, independent: pd.DataFrame | None) -> pd.DataFrame:
    """£ per pupil-year of each placement row: ``place`` and ``transport``, by the inputs.

    Local rows: the filled-place cost of (option, need, phase) and cost_per_pupil +
    cost_per_km × km. Independent rows: the group's fee and its transport. ``place`` and
    ``independent`` are :func:`place_costs` and :func:`independent_costs` (None in v1: the
    option's provision.csv figure and the flat ``[independent]`` figures).
    """
    t, i = config.transport, config.independent
    is_independent = (placements["option_id"] == INDEPENDENT).to_numpy()
    keys = ["option_id", "need", "phase"]
    if place is None:
        local = placements["option_id"].map(options.set_index("option_id")[LOCAL_COST])
    else:
        local = placements[keys].merge(place[[*keys, LOCAL_COST]], on=keys, how="left")[
            LOCAL_COST].set_axis(placements.index)
    transport = t.cost_per_pupil + t.cost_per_km * placements["km"]
    if independent is None:
        fee = pd.Series(float(i.cost_per_place), index=placements.index)
        taxi = pd.Series(float(i.transport_cost_per_pupil), index=placements.index)
    else:
        group = ["area_id", "need", "phase"]
        found = placements[group].merge(independent[[*group, FEE, TAXI]], on=group, how="left")
        fee, taxi = (found[c].set_axis(placements.index) for c in (FEE, TAXI))
    return pd.DataFrame({"place": np.where(is_independent, fee, local.astype(float)),
                         "transport": np.where(is_independent, taxi, transport)},
                        index=placements.index)


def place_costs_of(dataset: Dataset) -> pd.DataFrame | None:
    """:func:`place_costs` of a dataset (None without costs.csv)."""
    return place_costs(dataset.options, dataset.costs)


def independent_costs_of(dataset: Dataset) -> pd.DataFrame | None:
    """:func:`independent_costs` of a dataset (None without costs.csv or independent.csv)."""
    return independent_costs(dataset.config, dataset.demand, dataset.costs, dataset.providers,
                             dataset.provider_travel)


def unit_costs_of(dataset: Dataset, placements: pd.DataFrame) -> pd.DataFrame:
    """:func:`unit_costs` of placement rows (placements.csv columns) of a dataset's plan."""
    return unit_costs(dataset.config, dataset.options, placements, place_costs_of(dataset),
                      independent_costs_of(dataset))
