"""How pupils move between settings: sticky cohorts, ramp-up and soft capacity (TOML).

A contract extension (docs/inputs.md, "Placements that stay put"):

    [placements]
    model = "sticky"            # or "v1" (re-place everyone every year, the contract's v1);
                                # default: "sticky" when current_placements.csv exists
    phase_years = { primary = 7, secondary = 5, post16 = 4 }   # years a pupil spends in a phase
    plan_cease_rate = 0.0       # share of pupils whose plan ends each year, on top of age-out

    [ramp_up.resourced]         # share of a new module's places usable in its first years
    first_year = 1.0
    second_year = 1.0

    [soft_capacity]             # EHCP-named admissions above a school's places (off by default)
    share = 0.0                 # at most this share of the option's places
    premium_per_pupil = 5000    # £ per pupil-year over capacity, on top of the place cost
    kinds = ["special", "new_special"]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sufficiency.preprocess.tomlread import TomlReader
from sufficiency.preprocess.vocabulary import KINDS

PHASE_YEARS = {"primary": 7.0, "secondary": 5.0, "post16": 4.0}
MODELS = ("v1", "sticky")


@dataclass(frozen=True)
class RampUp:
    """Share of a new module's places usable in its opening year and the year after."""

    first_year: float = 1.0
    second_year: float = 1.0


@dataclass(frozen=True)
class SoftCapacity:
    """Admissions above places: at most ``share`` of places, at a premium (£ per pupil-year)."""

    share: float = 0.0
    premium_per_pupil: float = 5_000.0
    kinds: tuple[str, ...] = ("special", "new_special")


@dataclass(frozen=True)
class PlacementRules:
    """The placement model and its parameters; ``model`` None means 'decide from the data'."""

    model: str | None = None
    phase_years: dict[str, float] = field(default_factory=lambda: dict(PHASE_YEARS))
    plan_cease_rate: float = 0.0
    ramp_up: dict[str, RampUp] = field(default_factory=dict)
    soft_capacity: SoftCapacity = SoftCapacity()

    def retention(self, phase: str) -> float:
        """Share of last year's pupils still in the phase this year (before demand changes)."""
        return max(0.0, 1.0 - 1.0 / self.phase_years[phase] - self.plan_cease_rate)

    def ramp(self, kind: str) -> RampUp:
        """Ramp-up of a kind (no limit unless the run sets one)."""
        return self.ramp_up.get(kind, RampUp())


def _share(reader: TomlReader, table: dict[str, Any], key: str, default: float,
           prefix: str) -> float:
    """A share between 0 and 1."""
    return float(reader.number(table, key, prefix, default, maximum=1.0))


def read_placement_rules(reader: TomlReader, data: dict[str, Any]) -> PlacementRules:
    """Read [placements], [ramp_up.<kind>] and [soft_capacity]; problems go to ``reader``."""
    placements = reader.table(data, "placements", "",
                              {"model", "phase_years", "plan_cease_rate"})
    model = reader.choice(placements, "model", "placements.", None, MODELS,
                          'write model = "sticky" or model = "v1"')
    years = reader.table(placements, "phase_years", "placements.", set(PHASE_YEARS),
                         fix="write phase_years = { primary = 7, secondary = 5, post16 = 4 }")
    phase_years = {phase: float(reader.number(years, phase, "placements.phase_years.", default,
                                              minimum=1.0, maximum=25.0))
                   for phase, default in PHASE_YEARS.items()}
    cease = _share(reader, placements, "plan_cease_rate", 0.0, "placements.")
    return PlacementRules(model, phase_years, cease, _read_ramp_up(reader, data),
                          _read_soft_capacity(reader, data))


def _read_ramp_up(reader: TomlReader, data: dict[str, Any]) -> dict[str, RampUp]:
    """``[ramp_up.<kind>]``: the usable share of a new module's places in its first years."""
    table = reader.table(data, "ramp_up", "", set(KINDS))
    ramps = {}
    for kind in sorted(table):
        prefix = f"ramp_up.{kind}."
        values = reader.table(table, kind, "ramp_up.", {"first_year", "second_year"},
                              fix=f"write [ramp_up.{kind}] with first_year and second_year")
        ramps[kind] = RampUp(_share(reader, values, "first_year", 1.0, prefix),
                             _share(reader, values, "second_year", 1.0, prefix))
    return ramps


def _read_soft_capacity(reader: TomlReader, data: dict[str, Any]) -> SoftCapacity:
    """``[soft_capacity]``: admissions above places, their share, premium and kinds."""
    table = reader.table(data, "soft_capacity", "", {"share", "premium_per_pupil", "kinds"})
    default = SoftCapacity()
    kinds = table.get("kinds", list(default.kinds))
    if not isinstance(kinds, list) or any(k not in KINDS for k in kinds):
        reader.problem("soft_capacity.kinds", f"{kinds!r} is not a list of kinds",
                       f"use kinds from {', '.join(KINDS)}")
        kinds = list(default.kinds)
    return SoftCapacity(
        share=_share(reader, table, "share", default.share, "soft_capacity."),
        premium_per_pupil=float(reader.number(table, "premium_per_pupil", "soft_capacity.",
                                              default.premium_per_pupil)),
        kinds=tuple(kinds))
