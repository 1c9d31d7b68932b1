"""Sparse index sets of the model, built once with pandas (never the full cartesian product).

- ``CELLS``: demand cells (area, need, phase, year) with pupils > 0.
- ``ARCS``: allowed (area, option, need, phase): the option serves the need and phase, can
  ever have places, and its site is within the phase's travel limit of the area.
- ``PLACEMENTS``: ARCS × years in which the arc's demand cell has pupils — the
  assignment variables exist only there.
- ``OPEN_SLOTS``: (option, year) in which a module may open: max_modules > 0,
  year ≥ earliest_year, year − lead_time_years ≥ start_year.
- ``CAPACITY_ROWS``: (option, year) pairs that receive pupils, where capacity binds.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sufficiency.dataset import Dataset
from sufficiency.errors import InputError, Issue
from sufficiency.readers import ROW

MAX_LISTED = 20


@dataclass(frozen=True)
class ModelSets:
    """Index sets as tables; row position is the index of the matching model element."""

    years: list[int]
    cells: pd.DataFrame  # area_id, need, phase, year, pupils
    options: pd.DataFrame  # dataset options, row position = option index ``o``
    arcs: pd.DataFrame  # area_id, need, phase, option_id, o, site_id, minutes, km
    placements: pd.DataFrame  # cell, o, arc, year, area_id, need, phase, option_id, minutes, km
    open_slots: pd.DataFrame  # o, option_id, year, capital_year
    capacity_rows: pd.DataFrame  # o, year

    @property
    def cartesian_size(self) -> int:
        """Assignment variables a dense areas × options × needs × phases × years model needs."""
        counts = [self.cells[c].nunique() for c in ("area_id", "need", "phase")]
        return counts[0] * len(self.options) * counts[1] * counts[2] * len(self.years)


def eligibility(options: pd.DataFrame) -> pd.DataFrame:
    """(option_id, need, phase) rows: what each option may serve."""
    served = options[["option_id", "needs", "phases"]].explode("needs").explode("phases")
    return served.rename(columns={"needs": "need", "phases": "phase"}).reset_index(drop=True)


def demand_cells(dataset: Dataset) -> pd.DataFrame:
    """Demand rows with pupils > 0, in a stable order."""
    cells = dataset.demand[dataset.demand["pupils"] > 0]
    return cells.sort_values(["area_id", "need", "phase", "year"]).reset_index(drop=True)


def candidate_arcs(dataset: Dataset, cells: pd.DataFrame) -> pd.DataFrame:
    """(area, need, phase, option) where the option serves the need and phase.

    Only options that can ever have places; journeys attached from the travel table (NaN
    where the table lacks the pair).
    """
    options = dataset.options
    usable = options[(options["existing_places"] > 0) | (options["max_modules"] > 0)]
    groups = cells[["area_id", "need", "phase"]].drop_duplicates()
    arcs = groups.merge(eligibility(usable), on=["need", "phase"])
    arcs = arcs.merge(usable[["option_id", "site_id"]], on="option_id")
    return arcs.merge(dataset.travel, on=["area_id", "site_id"], how="left")


def _missing_travel(arcs: pd.DataFrame) -> list[Issue]:
    missing = arcs.loc[arcs["minutes"].isna(), ["area_id", "site_id"]].drop_duplicates()
    if missing.empty:
        return []
    listed = ", ".join(f"{a} → {s}" for a, s in missing.head(MAX_LISTED).itertuples(index=False))
    more = f" and {len(missing) - MAX_LISTED} more" if len(missing) > MAX_LISTED else ""
    return [Issue("travel.csv", None, None,
                  f"{len(missing)} journey(s) the model needs are missing: {listed}{more}",
                  "add these area_id, site_id rows, or delete travel.csv to derive all "
                  "journeys from straight-line distance")]


def allowed_arcs(dataset: Dataset, cells: pd.DataFrame) -> pd.DataFrame:
    """Candidate arcs within the phase's travel limit; option index ``o`` attached."""
    arcs = candidate_arcs(dataset, cells)
    issues = _missing_travel(arcs)
    if issues:
        raise InputError(issues)
    limits = arcs["phase"].map(dataset.config.travel_limit_minutes)
    arcs = arcs[arcs["minutes"] <= limits + 1e-9]
    index = pd.Series(range(len(dataset.options)), index=dataset.options["option_id"])
    arcs = arcs.assign(o=arcs["option_id"].map(index))
    order = ["area_id", "need", "phase", "o"]
    return arcs.sort_values(order).reset_index(drop=True)[
        ["area_id", "need", "phase", "option_id", "o", "site_id", "minutes", "km"]]


def placement_index(cells: pd.DataFrame, arcs: pd.DataFrame) -> pd.DataFrame:
    """PLACEMENTS: one row per (cell, arc) with the same (area, need, phase)."""
    keyed = cells.reset_index(names="cell")[["cell", "area_id", "need", "phase", "year"]]
    placed = keyed.merge(arcs.reset_index(names="arc"), on=["area_id", "need", "phase"])
    return placed.sort_values(["cell", "o"]).reset_index(drop=True)


def open_slots(dataset: Dataset) -> pd.DataFrame:
    """OPEN_SLOTS: the (option, year) pairs in which a module may open."""
    config = dataset.config
    options = dataset.options.reset_index(names="o")
    options = options[options["max_modules"] > 0]
    slots = options[["o", "option_id", "earliest_year", "lead_time_years"]].merge(
        pd.DataFrame({"year": config.years}), how="cross")
    slots["capital_year"] = slots["year"] - slots["lead_time_years"]
    keep = (slots["year"] >= slots["earliest_year"]) & (slots["capital_year"] >= config.start_year)
    return slots.loc[keep, ["o", "option_id", "year", "capital_year"]].sort_values(
        ["o", "year"]).reset_index(drop=True)


def unplaceable_demand(dataset: Dataset, cells: pd.DataFrame,
                       arcs: pd.DataFrame) -> list[Issue]:
    """With the independent fallback switched off, every demand row needs a local option."""
    if dataset.config.independent.available:
        return []
    reachable = arcs[["area_id", "need", "phase"]].drop_duplicates()
    rows = dataset.demand.merge(reachable, how="left", indicator=True)
    orphan = rows[(rows["_merge"] == "left_only") & (rows["pupils"] > 0)]
    limits = dataset.config.travel_limit_minutes
    return [Issue("demand.csv", None, "area_id",
                  f"no option serves {n} {p} pupils from '{a}' within {limits[p]:g} minutes, "
                  "and independent placement is switched off",
                  "add an eligible option, raise the travel limit, or set "
                  "[independent] available = true")
            for a, n, p in orphan[["area_id", "need", "phase"]].drop_duplicates().itertuples(
                index=False)]


def build_sets(dataset: Dataset) -> ModelSets:
    """All index sets of the model; raises :class:`InputError` for unplannable demand."""
    cells = demand_cells(dataset)
    arcs = allowed_arcs(dataset, cells)
    issues = unplaceable_demand(dataset, cells, arcs)
    if issues:
        raise InputError(issues)
    placements = placement_index(cells, arcs)
    capacity_rows = placements[["o", "year"]].drop_duplicates().sort_values(["o", "year"])
    return ModelSets(
        years=dataset.config.years,
        cells=cells,
        options=dataset.options.drop(columns=ROW, errors="ignore"),
        arcs=arcs,
        placements=placements,
        open_slots=open_slots(dataset),
        capacity_rows=capacity_rows.reset_index(drop=True),
    )
