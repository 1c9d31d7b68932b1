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

from sufficiency.preprocess.schema import KINDS

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


def _share(reader, table: dict, key: str, default: float, prefix: str) -> float:
    return float(reader.number(table, key, default, prefix=prefix, maximum=1.0))


def read_placement_rules(reader, data: dict[str, Any]) -> PlacementRules:
    """Read [placements], [ramp_up.<kind>] and [soft_capacity]; problems go to ``reader``."""
    placements = _sub_table(reader, data, "placements",
                            {"model", "phase_years", "plan_cease_rate"})
    model = placements.get("model")
    if model is not None and model not in MODELS:
        reader.problem("placements.model", f"{model!r} is not one of {', '.join(MODELS)}",
                       'write model = "sticky" or model = "v1"')
        model = None
    years = placements.get("phase_years", {})
    if not isinstance(years, dict):
        reader.problem("placements.phase_years", "must be a table",
                       "write phase_years = { primary = 7, secondary = 5, post16 = 4 }")
        years = {}
    reader.check_keys(years, set(PHASE_YEARS), "placements.phase_years.")
    phase_years = {phase: float(reader.number(years, phase, default, minimum=1.0, maximum=25.0,
                                              prefix="placements.phase_years."))
                   for phase, default in PHASE_YEARS.items()}
    cease = _share(reader, placements, "plan_cease_rate", 0.0, "placements.")
    return PlacementRules(model, phase_years, cease, _read_ramp_up(reader, data),
                          _read_soft_capacity(reader, data))


def _sub_table(reader, data: dict, key: str, allowed: set[str]) -> dict:
    table = data.get(key, {})
    if not isinstance(table, dict):
        reader.problem(key, "must be a table", f"write it as a [{key}] section")
        return {}
    reader.check_keys(table, allowed, f"{key}.")
    return table


def _read_ramp_up(reader, data: dict) -> dict[str, RampUp]:
    table = _sub_table(reader, data, "ramp_up", set(KINDS))
    ramps = {}
    for kind, values in sorted(table.items()):
        prefix = f"ramp_up.{kind}."
        if not isinstance(values, dict):
            reader.problem(f"ramp_up.{kind}", "must be a table",
                           f"write [ramp_up.{kind}] with first_year and second_year")
            continue
        reader.check_keys(values, {"first_year", "second_year"}, prefix)
        ramps[kind] = RampUp(_share(reader, values, "first_year", 1.0, prefix),
                             _share(reader, values, "second_year", 1.0, prefix))
    return ramps


def _read_soft_capacity(reader, data: dict) -> SoftCapacity:
    table = _sub_table(reader, data, "soft_capacity", {"share", "premium_per_pupil", "kinds"})
    default = SoftCapacity()
    kinds = table.get("kinds", list(default.kinds))
    if not isinstance(kinds, list) or any(k not in KINDS for k in kinds):
        reader.problem("soft_capacity.kinds", f"{kinds!r} is not a list of kinds",
                       f"use kinds from {', '.join(KINDS)}")
        kinds = list(default.kinds)
    return SoftCapacity(
        share=_share(reader, table, "share", default.share, "soft_capacity."),
        premium_per_pupil=float(reader.number(table, "premium_per_pupil",
                                              default.premium_per_pupil,
                                              prefix="soft_capacity.")),
        kinds=tuple(kinds))
