"""``[finance]``: the high-needs budget the plan's spend is set against (optional).

    [finance]
    deficit_brought_forward = 12_000_000     # £, cumulative deficit when the path starts
    [finance.high_needs_allocation]          # £ per financial year (2027 = FY 2027-28)
    2027 = 40_000_000
    2028 = 41_000_000
    [finance.other_high_needs_spend]         # £ per FY: high-needs spend outside specialist
    2027 = 22_000_000                        # places (mainstream top-ups, AP, …); absent: £0
    2028 = 23_000_000

Keys are financial years as plain digits, from the FY of the first academic year to the FY
after the last (the financial years the horizon touches); the allocation years must follow
one another; other spend may only be given for a year with an allocation. Money is £ ≥ 0,
at most the reader's maximum. The deficit path itself is a view of a solved run
(:mod:`sufficiency.report.money`); absent, the run has no deficit path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sufficiency.preprocess.tomlread import PLAIN_YEAR, TomlReader, year_key_problem

FINANCE_KEYS = {"high_needs_allocation", "other_high_needs_spend", "deficit_brought_forward"}


@dataclass(frozen=True)
class FinanceSettings:
    """The high-needs allocation and other high-needs spend by FY (£), and the opening deficit."""

    high_needs_allocation: dict[int, float] = field(default_factory=dict)
    other_high_needs_spend: dict[int, float] = field(default_factory=dict)
    deficit_brought_forward: float = 0.0

    @property
    def stated(self) -> bool:
        """Whether the run gives an allocation (a deficit path can be drawn)."""
        return bool(self.high_needs_allocation)


def finance_years(years: list[int]) -> list[int]:
    """Financial years an academic-year horizon touches: FY of its first AY to the one after."""
    return [*years, years[-1] + 1] if years else []


def _year_problem(key: str, allowed: list[int]) -> tuple[str, str] | None:
    """(message, fix) unless ``key`` is a plain year among ``allowed``."""
    if not PLAIN_YEAR.fullmatch(key):
        if re.fullmatch(r"[0-9]+", key):  # leading zeros
            return year_key_problem(key)
        first = re.match(r"[^0-9]*([0-9]{4})", key)
        example = int(first.group(1)) if first else 2027
        return (f"{key!r} is not a year",
                f"write the financial year as its first calendar year, e.g. {example} for "
                f"FY {example}-{(example + 1) % 100:02d}")
    if int(key) not in allowed:
        span = f"{allowed[0]}..{allowed[-1]}" if allowed else "those of the horizon"
        return (f"financial year {key} is outside the horizon",
                f"use years {span} (2027 = FY 2027-28), or extend horizon_years")
    return None


def _money_by_year(reader: TomlReader, table: dict[str, Any], key: str,
                   allowed: list[int]) -> dict[int, float]:
    prefix = f"finance.{key}."
    sub = reader.table(table, key, "finance.", None,
                       fix=f"write it as [finance.{key}] with one line per financial year")
    values = reader.year_numbers(sub, prefix, lambda k: _year_problem(k, allowed))
    return dict(sorted(values.items()))


def read_finance(reader: TomlReader, data: dict[str, Any], years: list[int]) -> FinanceSettings:
    """``[finance]`` checked against the horizon's academic ``years``; absent: no path."""
    if "finance" not in data:
        return FinanceSettings()
    table = reader.table(data, "finance", "", FINANCE_KEYS)
    allowed = finance_years(years)
    if "high_needs_allocation" not in table:
        reader.problem("finance.high_needs_allocation", "required section is missing",
                       "add [finance.high_needs_allocation] with £ per financial year, "
                       "e.g. 2027 = 40_000_000")
    allocation = _money_by_year(reader, table, "high_needs_allocation", allowed)
    other = _money_by_year(reader, table, "other_high_needs_spend", allowed)
    given = sorted(allocation)
    if given and given != list(range(given[0], given[-1] + 1)):
        missing = sorted(set(range(given[0], given[-1] + 1)) - set(given))
        reader.problem("finance.high_needs_allocation",
                       f"financial year(s) {', '.join(map(str, missing))} missing between "
                       f"{given[0]} and {given[-1]}",
                       "give the allocation for every year of the path, one after another")
    for year in sorted(set(other) - set(allocation)):
        reader.problem(f"finance.other_high_needs_spend.{year}",
                       "no high-needs allocation is given for this year",
                       f"add {year} = <£> under [finance.high_needs_allocation], or remove "
                       "this line")
    brought = reader.number(table, "deficit_brought_forward", "finance.", 0.0)
    return FinanceSettings(allocation, other, float(brought))
