"""Sparse index sets of the model, built once with pandas (never the full cartesian product).

- ``COMMODITIES``: need × phase pairs, merged where the model cannot tell them apart (same
  eligible options, same travel limit and, with costs.csv or independent.csv, the same
  costs; with sticky cohorts, the same retention wherever both had pupils the year
  before); see :func:`commodities`.
- ``CELLS``: demand cells (area, commodity, year) with pupils > 0.
- ``ARCS``: allowed (area, commodity, option): the option serves the commodity, can ever
  have places, and its site is within the commodity's travel limit of the area.
- ``PLACEMENTS``: ARCS × years in which the arc's demand cell has pupils — the
  assignment variables exist only there.
- ``OPEN_SLOTS``: (option, year) in which a module may open: max_modules > 0,
  year ≥ earliest_year, year − lead_time_years ≥ start_year.
- ``CAPACITY_ROWS``: (option, year) pairs that receive pupils, where capacity binds.

Derived once per :class:`ModelSets` (the constraints, objective, start heuristics, cuts and
results all read them):

- ``first_slots``: OPEN_SLOTS of options with a fixed capital cost, or covered by a
  delivery rule (a scheme limit, an exclusive group) (``first`` lives there).
- ``opened_years``: (option, year) from its first open slot on (``opened`` lives there).
- ``begun_years``: (option, year) from its first ``first`` slot on (``begun`` lives there).
- ``over_rows(soft)``: CAPACITY_ROWS of the soft-capacity kinds (``over`` lives there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from sufficiency.errors import InputError, Issue
from sufficiency.preprocess import costs as cost_tables
from sufficiency.preprocess.dataset import CURRENT_FILE, Dataset
from sufficiency.preprocess.placement_rules import SoftCapacity
from sufficiency.preprocess.readers import ROW
from sufficiency.preprocess.schema import EXCLUSIVE_GROUP
from sufficiency.preprocess.vocabulary import INDEPENDENT
from sufficiency.tolerances import (
    MINUTES_LIMIT,
    PUPILS_CURRENT_OVER_CAPACITY,
    RETENTION_MERGE,
)

MAX_LISTED = 20


@dataclass(frozen=True)
class ModelSets:
    """Index sets as tables; row position is the index of the matching model element."""

    years: list[int]
    members: pd.DataFrame  # need, phase, commodity, limit_minutes (one row per need × phase)
    member_demand: pd.DataFrame  # area_id, commodity, year, need, phase, pupils
    cells: pd.DataFrame  # area_id, commodity, year, pupils
    options: pd.DataFrame  # dataset options, row position = option index ``o``
    arcs: pd.DataFrame  # area_id, commodity, option_id, o, site_id, minutes, km
    placements: pd.DataFrame  # cell, o, arc, year, area_id, commodity, option_id, minutes, km
    open_slots: pd.DataFrame  # o, option_id, year, capital_year (+ committed: fixed modules)
    capacity_rows: pd.DataFrame  # o, year
    cohorts: Cohorts | None = None  # sticky placements only
    # costs.csv / independent.csv runs only (None: contract v1, costs from options and config)
    place_costs: pd.DataFrame | None = None  # option_id, need, phase, annual_cost_per_place
    independent_costs: pd.DataFrame | None = None  # area_id, need, phase, cost_per_place, ...
    # [delivery] / exclusive_group runs only: options whose opening a delivery row counts
    scheme_options: np.ndarray | None = field(default=None, compare=False)  # bool per option
    _over_rows: dict[SoftCapacity, pd.DataFrame] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    @property
    def cartesian_size(self) -> int:
        """Assignment variables a dense areas × options × needs × phases × years model needs."""
        counts = [self.member_demand[c].nunique() for c in ("area_id", "need", "phase")]
        return counts[0] * len(self.options) * counts[1] * counts[2] * len(self.years)

    @cached_property
    def arc_place_cost(self) -> np.ndarray | None:
        """Filled-place £ per pupil-year of each arc (costs.csv runs; None in v1).

        Exact per (commodity, option): :func:`commodities` merges only need × phase pairs
        whose every option costs the same.
        """
        if self.place_costs is None:
            return None
        keyed = self.members[["need", "phase", "commodity"]].merge(
            self.place_costs, on=["need", "phase"]).drop_duplicates(["commodity", "option_id"])
        cost = keyed.set_index(["commodity", "option_id"])[cost_tables.LOCAL_COST]
        arcs = pd.MultiIndex.from_frame(self.arcs[["commodity", "option_id"]])
        return np.asarray(cost.reindex(arcs).to_numpy(float), dtype=float)

    @cached_property
    def cell_independent_cost(self) -> np.ndarray | None:
        """Independent fee + transport, £ per pupil-year, of each cell (None in v1).

        Exact per (area, commodity): :func:`commodities` merges only pairs whose independent
        cost is the same in every area.
        """
        if self.independent_costs is None:
            return None
        table = self.independent_costs
        keyed = table.assign(cost=table[cost_tables.FEE] + table[cost_tables.TAXI]).merge(
            self.members[["need", "phase", "commodity"]], on=["need", "phase"])
        cost = keyed.drop_duplicates(["area_id", "commodity"]).set_index(
            ["area_id", "commodity"])["cost"]
        cells = pd.MultiIndex.from_frame(self.cells[["area_id", "commodity"]])
        return np.asarray(cost.reindex(cells).to_numpy(float), dtype=float)

    @cached_property
    def first_slots(self) -> pd.DataFrame:
        """Open slots of options with a fixed capital cost, where a 'first module' binary lives.

        With delivery rules also those of the options they cover (``scheme_options``): a
        scheme limit or an exclusive group counts first openings. Columns: ``slot``
        (index into OPEN_SLOTS), o, option_id, year, capital_year; the row
        position is the index of the ``first`` variable.
        """
        owner = self.open_slots["o"].to_numpy()
        keep = np.asarray(self.options["fixed_capital_cost"].to_numpy()[owner] > 0, dtype=bool)
        if self.scheme_options is not None:
            keep |= self.scheme_options[owner]
        slots = self.open_slots.reset_index(names="slot")
        return slots.loc[keep].reset_index(drop=True)

    @cached_property
    def opened_years(self) -> pd.DataFrame:
        """(o, year) from an option's first open slot to the horizon's end: where ``opened`` lives.

        The row position is the index of the ``opened`` variable (modules open by that year).
        """
        return self._years_from(self.open_slots)

    @cached_property
    def begun_years(self) -> pd.DataFrame:
        """(o, year) from an option's first ``first`` slot to the horizon's end: ``begun``'s rows.

        The row position is the index of the ``begun`` variable (the option has opened by
        that year: the running sum of its ``first`` binaries, named once so that each
        opening link holds one term for it instead of one per earlier year).
        """
        return self._years_from(self.first_slots)

    def _years_from(self, slots: pd.DataFrame) -> pd.DataFrame:
        """(o, year) for each option of ``slots`` from its earliest slot to the horizon's end."""
        first = slots.groupby("o")["year"].min()
        grid = pd.DataFrame({"o": first.index}).merge(pd.DataFrame({"year": self.years}),
                                                      how="cross")
        return grid[grid["year"] >= grid["o"].map(first)].reset_index(drop=True)

    @cached_property
    def _opened_by_key(self) -> pd.Series:
        """Index of the ``opened`` variable, keyed by (o, year)."""
        return self.opened_years.reset_index(names="k").set_index(["o", "year"])["k"]

    @cached_property
    def _begun_by_key(self) -> pd.Series:
        """Index of the ``begun`` variable, keyed by (o, year)."""
        return self.begun_years.reset_index(names="k").set_index(["o", "year"])["k"]

    @staticmethod
    def _index_of(keyed: pd.Series, frame: pd.DataFrame) -> pd.Series:
        """The ``keyed`` index of each (o, year) row of ``frame`` (−1 if none)."""
        keys = pd.MultiIndex.from_arrays([frame["o"], frame["year"]])
        return pd.Series(keyed.reindex(keys).fillna(-1).astype("int64").to_numpy(),
                         index=frame.index)

    def begun_index(self, frame: pd.DataFrame) -> pd.Series:
        """Index of the ``begun`` variable of each (o, year) row of ``frame`` (−1 if none)."""
        return self._index_of(self._begun_by_key, frame)

    def opened_index(self, frame: pd.DataFrame) -> pd.Series:
        """Index of the ``opened`` variable of each (o, year) row of ``frame`` (−1 if none)."""
        return self._index_of(self._opened_by_key, frame)

    def over_rows(self, soft: SoftCapacity) -> pd.DataFrame:
        """(o, year) capacity rows that may go over capacity (soft capacity): ``over`` lives here.

        Computed once per soft-capacity setting (the model reads it four times per build).
        """
        if soft not in self._over_rows:
            self._over_rows[soft] = self._soft_rows(soft)
        return self._over_rows[soft]

    def _soft_rows(self, soft: SoftCapacity) -> pd.DataFrame:
        """Capacity rows of the soft-capacity kinds, numbered by their capacity row."""
        if soft.share <= 0:
            return self.capacity_rows.iloc[:0].reset_index(names="row")
        kinds = self.options["kind"].to_numpy()[self.capacity_rows["o"].to_numpy()]
        rows = self.capacity_rows.reset_index(names="row")
        return rows[np.isin(kinds, soft.kinds)].reset_index(drop=True)

    def soft_share(self, soft: SoftCapacity) -> np.ndarray:
        """Share of its places each option may go over (soft capacity), 0 for the other kinds."""
        kinds = self.options["kind"].to_numpy()
        return np.where(np.isin(kinds, soft.kinds), max(soft.share, 0.0), 0.0)


def eligibility(options: pd.DataFrame) -> pd.DataFrame:
    """(option_id, need, phase) rows: what each option may serve."""
    served = options[["option_id", "needs", "phases"]].explode("needs").explode("phases")
    return served.rename(columns={"needs": "need", "phases": "phase"}).reset_index(drop=True)


def commodities(dataset: Dataset, aggregate: bool, place: pd.DataFrame | None = None,
                independent: pd.DataFrame | None = None,
                retention: pd.DataFrame | None = None) -> pd.DataFrame:
    """Group need × phase pairs that the model cannot tell apart into one commodity.

    Two pairs are interchangeable when exactly the same options may serve them and their
    phases have the same travel limit: in v1 costs depend on the option and the journey
    only. With costs by need and phase (``place``: :func:`~sufficiency.preprocess.costs.
    place_costs`; ``independent``: :func:`~sufficiency.preprocess.costs.independent_costs`)
    the pairs must also cost the same at every option and independently in every area, so
    the cost is part of the key. With sticky cohorts (``retention``: :func:`pair_retention`)
    pairs merge only where :func:`_cohort_groups` finds their cohorts leave at the same
    rate. Merging them is exact (the optimum is unchanged) and shrinks the model;
    placements are split back in proportion to each pair's demand (sticky: cohort by
    cohort, :func:`sufficiency.results.cohort_split`). Without ``aggregate`` every pair
    is its own commodity. Commodities are named after their members, e.g.
    ``ASD+SLCN/primary``.
    """
    pairs = dataset.demand[["need", "phase"]].drop_duplicates().sort_values(["need", "phase"])
    limits = dataset.config.travel_limit_minutes
    pairs = pairs.assign(limit_minutes=pairs["phase"].map(limits))
    served = eligibility(dataset.options).groupby(["need", "phase"])["option_id"].agg(
        lambda ids: ";".join(sorted(ids)))
    keys = pd.MultiIndex.from_frame(pairs[["need", "phase"]])
    pairs["signature"] = served.reindex(keys).fillna("").to_numpy()
    if aggregate:
        pairs["signature"] = pairs["signature"] + "@" + pairs["limit_minutes"].astype(str)
        for table, who, cost in ((place, "option_id", [cost_tables.LOCAL_COST]),
                                 (independent, "area_id", [cost_tables.FEE, cost_tables.TAXI])):
            if table is not None:
                pairs["signature"] = pairs["signature"] + "|" + _cost_key(table, who, cost,
                                                                           keys)
        if retention is not None:
            pairs["signature"] = pairs["signature"] + "~" + _cohort_groups(pairs, retention)
    else:
        pairs["signature"] = pairs["need"] + "/" + pairs["phase"]
    grouped = pairs.groupby("signature")
    names = _distinct(grouped["need"].agg(_joined) + "/" + grouped["phase"].agg(_joined))
    pairs["commodity"] = pairs["signature"].map(names)
    return pairs[["need", "phase", "commodity", "limit_minutes"]].reset_index(drop=True)


def _cost_key(table: pd.DataFrame, who: str, cost: list[str],
              keys: pd.MultiIndex) -> np.ndarray:
    """Per need × phase pair of ``keys``: every ``who`` with its £ per pupil-year, as text."""
    amount = table[cost].sum(axis=1).map("{:.17g}".format)
    text = (table[who].astype(str) + "=" + amount).groupby(
        [table["need"], table["phase"]]).agg(lambda parts: ";".join(sorted(parts)))
    return np.asarray(text.reindex(keys).fillna("").to_numpy(), dtype=object)


def pair_retention(dataset: Dataset) -> pd.DataFrame:
    """ρ of each need × phase pair in each area and year whose year before has pupils.

    ρ = min(1 − 1/phase_years − plan_cease_rate, demand_t / demand_{t−1}), 0 where the
    pair has no pupils in year t (all of them left). Columns: area_id, need, phase, year,
    retention. Sticky runs: :func:`_cohort_groups` and :func:`cell_retention` read it.
    """
    keys = ["area_id", "need", "phase", "year"]
    demand = dataset.demand
    now = demand[demand["pupils"] > 0].groupby(keys, sort=True)["pupils"].sum().reset_index()
    before = now.assign(year=now["year"] + 1).rename(columns={"pupils": "before"})
    linked = before.merge(now, on=keys, how="left").fillna({"pupils": 0.0})
    linked = linked[linked["year"].isin(dataset.config.years)]
    natural = linked["phase"].map(dataset.config.placement_rules.retention).to_numpy(float)
    ratio = linked["pupils"].to_numpy(float) / linked["before"].to_numpy(float)
    return linked.assign(retention=np.minimum(natural, ratio))[[*keys, "retention"]].reset_index(
        drop=True)


def _cohort_groups(pairs: pd.DataFrame, retention: pd.DataFrame) -> pd.Series:
    """Per pair: its cohort group within its signature, as text ('0', '1', ...).

    Merging is exact under sticky cohorts when, in every area and year, the members that
    had pupils the year before keep the same share ρ of them: the merged row x ≥ ρ·x then
    equals the sum of the members' rows, and :func:`sufficiency.results.cohort_split`
    splits any merged plan back to members meeting every member's row. A member
    with a ρ of its own would let the merged model keep pupils a member may lose (or the
    reverse). Pairs join the first group (in need, phase order) whose ρ they match
    (within :data:`~sufficiency.tolerances.RETENTION_MERGE`) wherever both are defined.
    """
    profiles = {key: frame.set_index(["area_id", "year"])["retention"]
                for key, frame in retention.groupby(["need", "phase"], sort=True)}
    empty = pd.Series(dtype=float, index=pd.MultiIndex.from_arrays([[], []]))
    group = pd.Series("0", index=pairs.index)
    for _, rows in pairs.groupby("signature", sort=True):
        known: list[pd.Series] = []
        for position, need, phase in zip(rows.index, rows["need"], rows["phase"], strict=True):
            mine = profiles.get((need, phase), empty)
            k = next((k for k, seen in enumerate(known) if _same_retention(seen, mine)),
                     len(known))
            if k == len(known):
                known.append(mine)
            else:
                known[k] = known[k].combine_first(mine)
            group[position] = str(k)
    return group


def _same_retention(seen: pd.Series, mine: pd.Series) -> bool:
    """Whether two ρ profiles (by area and year) agree wherever both are defined."""
    common = seen.index.intersection(mine.index)
    gap = np.abs(seen.reindex(common).to_numpy(float) - mine.reindex(common).to_numpy(float))
    return bool((gap <= RETENTION_MERGE).all())


def _distinct(names: pd.Series) -> pd.Series:
    """Commodity names, one per signature: a name two groups would share gets ' #2', ' #3'.

    {ASD/secondary, SLCN/post16} and {ASD/post16, SLCN/secondary} are both named
    ``ASD+SLCN/post16+secondary``; they must stay two commodities.
    """
    repeat = names.groupby(names).cumcount()
    suffix = np.where(repeat.to_numpy() > 0, " #" + (repeat + 1).astype(str), "")
    return names + suffix


def _joined(values: pd.Series) -> str:
    """Distinct values, sorted and joined by '+': a commodity's needs, or its phases."""
    return "+".join(sorted(values.unique()))


def demand_by_member(dataset: Dataset, members: pd.DataFrame) -> pd.DataFrame:
    """Demand rows with pupils > 0 and their commodity, in a stable order."""
    demand = dataset.demand[dataset.demand["pupils"] > 0].merge(members[["need", "phase",
                                                                         "commodity"]])
    return demand.sort_values(["area_id", "commodity", "year", "need", "phase"]).reset_index(
        drop=True)[["area_id", "commodity", "year", "need", "phase", "pupils"]]


def demand_cells(member_demand: pd.DataFrame) -> pd.DataFrame:
    """CELLS: pupils per (area, commodity, year), in a stable order."""
    cells = member_demand.groupby(["area_id", "commodity", "year"], sort=True)["pupils"].sum()
    return cells.reset_index()


def candidate_arcs(dataset: Dataset, cells: pd.DataFrame,
                   members: pd.DataFrame) -> pd.DataFrame:
    """(area, commodity, option) where the option serves the commodity's needs and phases.

    Only options that can ever have places; journeys attached from the travel table (NaN
    where the table lacks the pair).
    """
    options = dataset.options
    usable = options[(options["existing_places"] > 0) | (options["max_modules"] > 0)]
    served = eligibility(usable).merge(members, on=["need", "phase"])[
        ["commodity", "option_id"]].drop_duplicates()
    groups = cells[["area_id", "commodity"]].drop_duplicates()
    arcs = groups.merge(served, on="commodity")
    arcs = arcs.merge(usable[["option_id", "site_id"]], on="option_id")
    arcs = arcs.merge(members[["commodity", "limit_minutes"]].drop_duplicates(), on="commodity")
    return arcs.merge(dataset.travel, on=["area_id", "site_id"], how="left")


def _missing_travel(arcs: pd.DataFrame) -> list[Issue]:
    """One issue listing the journeys the arcs need that travel.csv lacks (none: [])."""
    missing = arcs.loc[arcs["minutes"].isna(), ["area_id", "site_id"]].drop_duplicates()
    if missing.empty:
        return []
    listed = ", ".join(f"{a} → {s}" for a, s in missing.head(MAX_LISTED).itertuples(index=False))
    more = f" and {len(missing) - MAX_LISTED} more" if len(missing) > MAX_LISTED else ""
    return [Issue("travel.csv", None, None,
                  f"{len(missing)} journey(s) the model needs are missing: {listed}{more}",
                  "add these area_id, site_id rows; or set [transport] fill_missing_travel = "
                  "true in the run TOML to fill them from straight-line distance; or delete "
                  "travel.csv to derive every journey")]


def allowed_arcs(dataset: Dataset, cells: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """Candidate arcs within the commodity's travel limit; option index ``o`` attached."""
    arcs = candidate_arcs(dataset, cells, members)
    issues = _missing_travel(arcs)
    if issues:
        raise InputError(issues)
    arcs = arcs[arcs["minutes"] <= arcs["limit_minutes"] + MINUTES_LIMIT]
    index = pd.Series(range(len(dataset.options)), index=dataset.options["option_id"])
    arcs = arcs.assign(o=arcs["option_id"].map(index))
    order = ["area_id", "commodity", "o"]
    return arcs.sort_values(order).reset_index(drop=True)[
        ["area_id", "commodity", "option_id", "o", "site_id", "minutes", "km"]]


def placement_index(cells: pd.DataFrame, arcs: pd.DataFrame) -> pd.DataFrame:
    """PLACEMENTS: one row per (cell, arc) with the same (area, commodity)."""
    keyed = cells.reset_index(names="cell")[["cell", "area_id", "commodity", "year"]]
    placed = keyed.merge(arcs.reset_index(names="arc"), on=["area_id", "commodity"])
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
    slots = _with_fixed(dataset, slots.loc[keep, ["o", "option_id", "year", "capital_year"]])
    return slots.sort_values(["o", "year"]).reset_index(drop=True)


def _with_fixed(dataset: Dataset, slots: pd.DataFrame) -> pd.DataFrame:
    """Slots plus each fixed opening's (option, year), its modules in ``committed`` (0: free).

    committed.csv and locks only (v1: the slots as they are). A fixed opening under
    construction (capital year before the start) gets a slot the rules above would not give.
    """
    fixed = dataset.fixed
    if fixed is None:
        return slots
    index = pd.Series(range(len(dataset.options)), index=dataset.options["option_id"])
    o = fixed["option_id"].map(index).to_numpy()
    years = fixed["opening_year"].to_numpy()
    lead = dataset.options["lead_time_years"].to_numpy()
    extra = pd.DataFrame({"o": o, "option_id": fixed["option_id"].to_numpy(), "year": years,
                          "capital_year": years - lead[o],
                          "committed": fixed["modules"].to_numpy()})
    both = pd.concat([slots.assign(committed=0), extra], ignore_index=True)
    return both.drop_duplicates(["o", "year"], keep="last").astype(
        {"o": "int64", "year": "int64", "capital_year": "int64", "committed": "int64"})


def unplaceable_demand(dataset: Dataset, member_demand: pd.DataFrame,
                       arcs: pd.DataFrame) -> list[Issue]:
    """With the independent fallback switched off, every demand row needs a local option."""
    if dataset.config.independent.available:
        return []
    reachable = arcs[["area_id", "commodity"]].drop_duplicates()
    rows = member_demand.merge(reachable, how="left", indicator=True)
    orphan = rows[rows["_merge"] == "left_only"]
    limits = dataset.config.travel_limit_minutes
    return [Issue("demand.csv", None, "area_id",
                  f"no option serves {n} {p} pupils from '{a}' within {limits[p]:g} minutes, "
                  "and independent placement is switched off",
                  "add an eligible option, raise the travel limit, or set "
                  "[independent] available = true")
            for a, n, p in orphan[["area_id", "need", "phase"]].drop_duplicates().itertuples(
                index=False)]


@dataclass(frozen=True)
class Cohorts:
    """Sticky placements: who must stay where from one year to the next.

    - ``carry``: placement i, its predecessor j (same area, commodity, option, year − 1) and
      the retention ρ of i's cell: x[i] ≥ ρ · x[j]
    - ``carry_independent``: cell c, its predecessor cell and ρ: u[c] ≥ ρ · u[prev]
    - ``current``: placement i (start year) and the pupils already there: x[i] ≥ pupils
    - ``current_independent``: cell c (start year) and its pupils already independent
    - ``current_members``: the pupils already placed by need × phase (area_id, commodity,
      need, phase, option_id or ``independent``, pupils; fitted), for the split back

    ρ = min(1 − 1 / phase_years − plan_cease_rate, demand_t / demand_{t−1}): pupils leave
    a phase by age or a plan ceasing; when demand falls faster, more of them leave. A
    merged commodity's ρ is its members' (:func:`_cohort_groups` merges only pairs with
    the same ρ where both had pupils the year before).
    """

    carry: pd.DataFrame
    carry_independent: pd.DataFrame
    current: pd.DataFrame
    current_independent: pd.DataFrame
    current_members: pd.DataFrame


def cell_retention(dataset: Dataset, cells: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """Each cell's predecessor cell (same area and commodity, year − 1) and retention ρ.

    ρ of a cell is the least of its members' that had pupils the year before
    (:func:`pair_retention`; one value when merged by :func:`_cohort_groups`, the pair's
    own otherwise).
    """
    keys = ["area_id", "commodity", "year"]
    keyed = cells.reset_index(names="cell")
    previous = keyed.assign(year=keyed["year"] + 1).rename(
        columns={"cell": "prev", "pupils": "prev_pupils"})
    linked = keyed.merge(previous, on=keys)
    pairs = pair_retention(dataset).merge(members[["need", "phase", "commodity"]])
    least = pairs.groupby(keys)["retention"].min()
    linked["retention"] = least.reindex(pd.MultiIndex.from_frame(linked[keys])).to_numpy(float)
    return linked[["cell", "prev", "retention"]]


def _current_cells(dataset: Dataset, current: pd.DataFrame, cells: pd.DataFrame,
                   members: pd.DataFrame,
                   placements: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Start-year pupils already placed locally (by placement) and independently (by cell)."""
    current = current.merge(members[["need", "phase", "commodity"]])
    current = current.groupby(["area_id", "commodity", "option_id"])["pupils"].sum().reset_index()
    current["year"] = dataset.config.start_year
    independent = current[current["option_id"] == INDEPENDENT].merge(
        cells.reset_index(names="cell"), on=["area_id", "commodity", "year"],
        suffixes=("", "_cell"))[["cell", "pupils"]]
    local = current[current["option_id"] != INDEPENDENT]
    placed = local.merge(placements.reset_index(names="i"),
                         on=["area_id", "commodity", "option_id", "year"], how="left")
    unreachable = placed[placed["i"].isna()]
    if not unreachable.empty:
        raise InputError([Issue("current_placements.csv", None, "option_id",
                                f"{r.pupils:g} {r.commodity} pupils from '{r.area_id}' are at "
                                f"'{r.option_id}', which does not serve them within the travel "
                                "limit", "correct the row, or raise the travel limit")
                          for r in unreachable.itertuples(index=False)])
    return placed.assign(i=placed["i"].astype("int64"))[["i", "pupils"]], independent


def _scaled_down(frame: pd.DataFrame, group: pd.Series, limit: pd.Series) -> pd.DataFrame:
    """``frame``'s pupils scaled down, per value of ``group``, to at most that key's ``limit``."""
    total = frame["pupils"].groupby(group).transform("sum")
    room = group.map(limit).fillna(np.inf)
    factor = np.where(total > room, room / total.where(total > 0, 1.0), 1.0)
    return frame.assign(pupils=frame["pupils"].to_numpy(float) * factor)


def _academic_year(year: int) -> str:
    """An academic year as planners write it: 2026 → 2026/27."""
    return f"{year}/{(year + 1) % 100:02d}"


def _over_capacity_issue(option_id: str, kind: str, year: int, pupils: float, places: float,
                         soft: SoftCapacity) -> Issue:
    """A current placement above an option's places and the soft capacity the run allows."""
    allowed = places * soft.share if kind in soft.kinds else 0.0
    excess = pupils - places
    need = excess / places if places > 0 else np.inf
    if allowed > 0:
        fix = (f"raise [soft_capacity] share to at least {need:.4g} in the run TOML, move "
               "pupils to other rows (or 'independent'), or raise existing_places in "
               "provision.csv")
        soft_text = f", above the {allowed:g} its soft capacity allows"
    else:
        lets = (f"[soft_capacity] share = {need:.4g} with '{kind}' in [soft_capacity] kinds"
                if np.isfinite(need) else "nothing: it has no places to go over")
        fix = ("move pupils to other rows (or 'independent'), raise existing_places in "
               f"provision.csv, or let schools take pupils over their places: {lets}")
        soft_text = " (soft capacity is off for it)"
    return Issue(CURRENT_FILE, None, "pupils",
                 f"'{option_id}' holds {pupils:g} pupils in AY {_academic_year(year)}, "
                 f"{excess:.6g} over its {places:g} existing places{soft_text}", fix)


def fit_current(dataset: Dataset, current: pd.DataFrame) -> pd.DataFrame:
    """Current placements within start-year demand and each option's places, or an error.

    Sums within :data:`~sufficiency.tolerances.PUPILS_CURRENT_OVER_DEMAND` (demand, checked
    on reading) and :data:`~sufficiency.tolerances.PUPILS_CURRENT_OVER_CAPACITY` (places
    plus the soft capacity the run allows) are clipped, so a plan's own placements,
    written rounded to 6 decimals, can be fed back. Pupils beyond that at an option are
    an :class:`InputError` naming the option, the year and the excess; so are independent
    pupils in a run with independent placement switched off.
    """
    config, options = dataset.config, dataset.options
    start = config.start_year
    first = dataset.demand[dataset.demand["year"] == start]
    group = current["area_id"] + "|" + current["need"] + "|" + current["phase"]
    limit = first["pupils"].groupby(first["area_id"] + "|" + first["need"] + "|"
                                    + first["phase"]).sum()
    current = _scaled_down(current, group, limit)
    independent = current[current["option_id"] == INDEPENDENT]
    if not config.independent.available and independent["pupils"].sum() > 0:
        raise InputError([Issue(CURRENT_FILE, None, "option_id",
                                f"{independent['pupils'].sum():g} pupils are placed "
                                "'independent' but the run switches independent placement off",
                                "set [independent] available = true in the run TOML, or place "
                                "those pupils at local options")])
    soft = config.placement_rules.soft_capacity
    by_id = options.set_index("option_id")
    places = by_id["existing_places"].astype(float)
    share = np.where(by_id["kind"].isin(soft.kinds), max(soft.share, 0.0), 0.0)
    room = places * (1.0 + share)
    local = current["option_id"] != INDEPENDENT
    totals = current[local].groupby("option_id")["pupils"].sum()
    over = totals[totals > room.reindex(totals.index) + PUPILS_CURRENT_OVER_CAPACITY]
    if len(over):
        raise InputError([_over_capacity_issue(o, str(by_id.at[o, "kind"]), start,
                                               float(over[o]), float(places[o]), soft)
                          for o in over.index])
    fitted = _scaled_down(current[local], current.loc[local, "option_id"], room)
    return pd.concat([fitted, current[~local]]).sort_index()


def build_cohorts(dataset: Dataset, cells: pd.DataFrame, members: pd.DataFrame,
                  placements: pd.DataFrame) -> Cohorts:
    """The stickiness links of a sticky run (see :class:`Cohorts`)."""
    retention = cell_retention(dataset, cells, members)
    keyed = placements.reset_index(names="i")
    previous = keyed.assign(year=keyed["year"] + 1)[["area_id", "commodity", "o", "year", "i"]]
    carry = keyed.merge(previous.rename(columns={"i": "j"}),
                        on=["area_id", "commodity", "o", "year"])
    carry = carry.merge(retention, on="cell")[["i", "j", "retention"]]
    by_member = pd.DataFrame({column: pd.Series(dtype=object) for column in
                              ("area_id", "commodity", "need", "phase", "option_id")}).assign(
        pupils=pd.Series(dtype=float))
    if dataset.current is None:
        empty = pd.DataFrame({"i": pd.Series(dtype="int64"), "pupils": pd.Series(dtype=float)})
        current, independent = empty, empty.rename(columns={"i": "cell"})
    else:
        fitted = fit_current(dataset, dataset.current)
        current, independent = _current_cells(dataset, fitted, cells, members, placements)
        by_member = fitted.merge(members[["need", "phase", "commodity"]])[by_member.columns]
    return Cohorts(carry.sort_values("i").reset_index(drop=True),
                   retention.sort_values("cell").reset_index(drop=True),
                   current.sort_values("i").reset_index(drop=True),
                   independent.sort_values("cell").reset_index(drop=True),
                   by_member.reset_index(drop=True))


def build_sets(dataset: Dataset) -> ModelSets:
    """All index sets of the model; raises :class:`InputError` for unplannable demand."""
    sticky = dataset.placement_model == "sticky"
    place = cost_tables.place_costs_of(dataset)
    independent = cost_tables.independent_costs_of(dataset)
    # sticky cohorts: pairs merge only where they leave at the same pace (exactness)
    retention = pair_retention(dataset) if sticky else None
    members = commodities(dataset, dataset.config.formulation.aggregate_needs, place,
                          independent, retention)
    member_demand = demand_by_member(dataset, members)
    cells = demand_cells(member_demand)
    arcs = allowed_arcs(dataset, cells, members)
    issues = unplaceable_demand(dataset, member_demand, arcs)
    if issues:
        raise InputError(issues)
    placements = placement_index(cells, arcs)
    capacity_rows = placements[["o", "year"]].drop_duplicates().sort_values(["o", "year"])
    cohorts = build_cohorts(dataset, cells, members, placements) if sticky else None
    return ModelSets(
        years=dataset.config.years,
        members=members,
        member_demand=member_demand,
        cells=cells,
        options=dataset.options.drop(columns=ROW, errors="ignore"),
        arcs=arcs,
        placements=placements,
        open_slots=open_slots(dataset),
        capacity_rows=capacity_rows.reset_index(drop=True),
        cohorts=cohorts,
        place_costs=place,
        independent_costs=independent,
        scheme_options=scheme_options(dataset),
    )


def scheme_options(dataset: Dataset) -> np.ndarray | None:
    """Per option: whether a delivery row counts its opening (None: no such row, v1).

    Scheme limits cover every option (LA-wide) or those of the kinds limited; an
    exclusive group covers its members.
    """
    delivery, options = dataset.config.delivery, dataset.options
    covered = np.array([delivery.covers(k) for k in options["kind"]], dtype=bool)
    if EXCLUSIVE_GROUP in options.columns:
        covered |= (options[EXCLUSIVE_GROUP] != "").to_numpy()
    return covered if covered.any() else None
