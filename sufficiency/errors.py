"""Errors raised at users: every problem names the file, the row, the column and a fix."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    """One problem in the inputs, located as precisely as the input allows.

    ``row`` is the 1-based line number in the file as a spreadsheet shows it (the header is
    line 1, so the first data row is 2); ``None`` when the problem is about the whole file. For a
    geographic file the row is the feature number (``row_label="feature"``).
    """

    file: str
    row: int | None
    column: str | None
    message: str
    fix: str = ""
    row_label: str = "row"
    column_label: str = "column"

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", {self.row_label} {self.row}"
        if self.column:
            where += f", {self.column_label} '{self.column}'"
        text = f"{where}: {self.message}"
        return f"{text} — {self.fix}" if self.fix else text


class SufficiencyError(Exception):
    """Base class of every error the product reports to a user without a traceback."""

    exit_code = 1


class InputError(SufficiencyError):
    """The inputs cannot be planned on; carries every issue found, not just the first."""

    exit_code = 2

    def __init__(self, issues: list[Issue] | Issue):
        self.issues = [issues] if isinstance(issues, Issue) else list(issues)
        super().__init__(self.render())

    def render(self, limit: int = 50) -> str:
        """All issues, one per line (at most ``limit``, then a count of the rest)."""
        lines = [str(issue) for issue in self.issues[:limit]]
        if len(self.issues) > limit:
            lines.append(f"... and {len(self.issues) - limit} more problems")
        noun = "problem" if len(self.issues) == 1 else "problems"
        head = f"{len(self.issues)} input {noun} found; nothing was solved or written:"
        return "\n".join([head, *(f"  - {line}" for line in lines)])


class OutputExistsError(SufficiencyError):
    """A run would overwrite an earlier run's outputs without ``--force``."""

    exit_code = 3


class SolveError(SufficiencyError):
    """The solver returned no usable plan (infeasible, no incumbent, numerical trouble)."""

    exit_code = 4


class AuditError(SufficiencyError):
    """A solved plan broke one of the model's invariants when rechecked independently."""

    exit_code = 5


class Terminated(KeyboardInterrupt):
    """SIGTERM (a service stop, ``kill``): ends a run as Ctrl-C does, with exit code 143.

    A :class:`KeyboardInterrupt`, so every path that cleans up after Ctrl-C (staged outputs,
    the run lock) cleans up after it too.
    """

    exit_code = 143  # 128 + SIGTERM, as shells report it


def raise_terminated(signum: int, frame: object) -> None:
    """A SIGTERM handler: raise :class:`Terminated` where the program is."""
    raise Terminated(f"signal {signum}")
