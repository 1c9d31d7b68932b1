"""The build log: every source row dropped, changed or left unmatched, counted with its reason.

Why: a council officer must be able to see what the builder did to their data. Each entry
is one (stage, file, action, reason) with a row count and a few examples; the log is
written as ``build_log.csv`` next to the dataset and summarised in its README. Warnings
(e.g. an establishment type the builder does not know) are also printed by the command.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

ACTIONS = ("dropped", "changed", "unmatched", "kept")
MAX_EXAMPLES = 3


@dataclass
class _Entry:
    rows: int = 0
    examples: list[str] = field(default_factory=list)


@dataclass
class BuildLog:
    """Counts of rows per (stage, file, action, reason), plus warnings and assumptions."""

    entries: dict[tuple[str, str, str, str], _Entry] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)

    def count(self, stage: str, file: str, action: str, reason: str, rows: int = 1,
              examples: list[str] | tuple[str, ...] = ()) -> None:
        """Add ``rows`` rows to one entry, with up to three example rows."""
        if action not in ACTIONS:
            raise ValueError(f"unknown build-log action {action!r}")
        if rows <= 0:
            return
        entry = self.entries.setdefault((stage, file, action, reason), _Entry())
        entry.rows += rows
        for example in examples:
            if len(entry.examples) < MAX_EXAMPLES and example not in entry.examples:
                entry.examples.append(example)

    def warn(self, message: str) -> None:
        """A problem the user should look at; the build still completes."""
        if message not in self.warnings:
            self.warnings.append(message)

    def assume(self, text: str) -> None:
        """An assumption the build made; written into the dataset's README."""
        if text not in self.assumptions:
            self.assumptions.append(text)

    def table(self) -> pd.DataFrame:
        """The log as a table, in the order the stages ran."""
        rows = [{"stage": stage, "file": file, "action": action, "reason": reason,
                 "rows": entry.rows, "examples": "; ".join(entry.examples)}
                for (stage, file, action, reason), entry in self.entries.items()]
        return pd.DataFrame(rows, columns=["stage", "file", "action", "reason", "rows",
                                           "examples"])

    def rows_for(self, action: str) -> int:
        """Total rows with one action (e.g. everything dropped)."""
        return sum(e.rows for (_, _, a, _), e in self.entries.items() if a == action)
