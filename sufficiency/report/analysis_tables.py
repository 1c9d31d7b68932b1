"""Results of the analysis commands, as the report and the cabinet paper receive them.

Each table is exactly what its command wrote to ``outputs/<run>.<command>/``; a table is
``None`` when that analysis has not been run for this run (or was left out as stale, with a
note in ``notes``). Loading and the freshness check live in :mod:`sufficiency.report.analyses_in`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class RunAnalyses:
    """Analysis tables of one run; ``None`` where the analysis is absent or stale."""

    scenarios: dict[str, pd.DataFrame] | None = None  # scenarios.csv, comparison.csv, regret.csv…
    alternatives: dict[str, pd.DataFrame] | None = None  # alternatives.csv, plans.csv
    slippage: dict[str, pd.DataFrame] | None = None  # slippage.csv, slippage_by_year.csv, plans.csv
    notes: tuple[str, ...] = field(default_factory=tuple)  # e.g. "slippage left out: stale"

    @property
    def any(self) -> bool:
        """True when at least one analysis is present."""
        return any(t is not None for t in (self.scenarios, self.alternatives, self.slippage))
