"""Explain an infeasible run in terms a planner can act on, by its real cause.

With independent placement switched off, some demand may have too few reachable places
even if every option opened as early as it may. With it on, every pupil can always be
placed, so the cause is elsewhere: pupils already placed (current_placements.csv) above an
option's places (validation clips only round-off), or fixed openings (committed schemes,
locks) or delivery limits that the capital budget or each other cannot keep.
"""

from __future__ import annotations

import pandas as pd

from sufficiency.errors import SolveError
from sufficiency.formulation.sets import ModelSets
from sufficiency.preprocess.dataset import Dataset
from sufficiency.tolerances import PUPILS_CURRENT_OVER_CAPACITY

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


def current_over_places(dataset: Dataset, sets: ModelSets) -> list[str]:
    """Options whose pupils already placed exceed their places and allowed soft capacity."""
    if sets.cohorts is None or sets.cohorts.current.empty:
        return []
    current = sets.cohorts.current
    soft = dataset.config.placement_rules.soft_capacity
    o = sets.placements["o"].to_numpy()[current["i"].to_numpy()]
    held = pd.Series(current["pupils"].to_numpy(float)).groupby(o).sum()
    places = sets.options["existing_places"].to_numpy(float)[held.index]
    room = places * (1.0 + sets.soft_share(soft)[held.index])
    excess = held - room
    over = excess[excess > PUPILS_CURRENT_OVER_CAPACITY]
    year = _academic_year(dataset.config.start_year)
    ids = sets.options["option_id"].to_numpy()
    return [f"current_placements.csv puts {pupils:g} pupils at '{ids[option]}' in AY {year}: "
            f"{extra:.6g} more than its places and the soft capacity the run allows "
            "([soft_capacity] share)"
            for option, pupils, extra in zip(over.index.to_numpy(dtype=int),
                                             held[over.index].to_numpy(float),
                                             over.to_numpy(float), strict=True)]


def explain_infeasible(dataset: Dataset, sets: ModelSets) -> None:
    """Raise :class:`SolveError` naming the real cause and what to change."""
    current = current_over_places(dataset, sets)
    if dataset.config.independent.available:
        causes = current or [
            "every pupil can be placed (independent placement is allowed), so the rules "
            "that fix or limit openings conflict: fixed openings (committed.csv, "
            "--lock-until) spending more than a year's capital budget, or delivery limits "
            "([delivery], exclusive_group) that those openings break"]
        raise SolveError("no plan keeps every rule of the run:\n  - " + "\n  - ".join(causes)
                         + "\nCorrect the rows named, or relax the budget or limits named.")
    if current:
        raise SolveError("no plan keeps every rule of the run:\n  - " + "\n  - ".join(current)
                         + "\nMove those pupils, raise existing_places, or allow soft capacity.")
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
