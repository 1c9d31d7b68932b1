"""Explain an infeasible run in terms a planner can act on.

A run can only be infeasible when independent placement is switched off: then some demand
has too few reachable places even if every option opened as early as it may.
"""

from __future__ import annotations

import pandas as pd

from sufficiency.errors import SolveError
from sufficiency.formulation.sets import ModelSets
from sufficiency.preprocess.dataset import Dataset

MAX_LISTED = 10


def most_places(sets: ModelSets) -> pd.DataFrame:
    """Places each option could have in each year if every module opened at the first chance."""
    options = sets.options.reset_index(names="o")
    first_open = sets.open_slots.groupby("o")["year"].min()
    grid = options[["o", "option_id", "existing_places", "module_places", "max_modules"]].merge(
        pd.DataFrame({"year": sets.years}), how="cross")
    opened = grid["o"].map(first_open)
    can_add = opened.notna() & (grid["year"] >= opened)
    grid["places"] = grid["existing_places"] + can_add * grid["module_places"] * grid[
        "max_modules"]
    return grid[["o", "option_id", "year", "places"]]


def shortfalls(dataset: Dataset, sets: ModelSets) -> pd.DataFrame:
    """(area, commodity, year) demand above all the places its arcs could ever reach."""
    reach = sets.placements[["cell", "o", "year"]].merge(most_places(sets), on=["o", "year"])
    reachable = reach.groupby("cell")["places"].sum().reindex(range(len(sets.cells)),
                                                              fill_value=0)
    cells = sets.cells.assign(reachable_places=reachable.to_numpy())
    return cells[cells["pupils"] > cells["reachable_places"]]


def _academic_year(year: int) -> str:
    """An academic year as planners write it: 2026 → 2026/27."""
    return f"{year}/{(year + 1) % 100:02d}"


def explain_infeasible(dataset: Dataset, sets: ModelSets) -> None:
    """Raise :class:`SolveError` naming the demand that cannot be placed, and what to change."""
    short = shortfalls(dataset, sets).head(MAX_LISTED)
    lines = [f"{area} {commodity} AY {_academic_year(year)}: "
             f"{pupils:g} pupils, at most {places:g} places within reach"
             for area, commodity, year, pupils, places in zip(
                 short["area_id"], short["commodity"], short["year"].astype(int).tolist(),
                 short["pupils"], short["reachable_places"], strict=True)]
    if not lines:
        lines = ["no single demand group exceeds the places within its reach, so the places "
                 "are contested between groups or the capital budget cannot open enough"]
    raise SolveError(
        "no plan places every pupil locally and independent placement is switched off:\n  - "
        + "\n  - ".join(lines)
        + "\nAllow independent placement ([independent] available = true) to see the unmet "
        "demand, add or enlarge options, raise the travel limits, or raise the capital budget.")
