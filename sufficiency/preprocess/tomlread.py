"""Typed reading of a parsed TOML table, collecting every problem with the key's full name.

Why a separate reader from :mod:`sufficiency.preprocess.config`: the build spec has many more tables
and list-of-table sections; this keeps each section's reader short. Unknown keys get the
closest valid name as a suggestion, as in the run TOML.
"""

from __future__ import annotations

import math
from typing import Any

from sufficiency.errors import Issue
from sufficiency.preprocess.config import PHASES, number_problem, unknown_keys
from sufficiency.preprocess.schema import NEEDS

MISSING = object()


class SpecReader:
    """Collects issues while reading values out of one spec file."""

    def __init__(self, file_label: str):
        """Issues are reported against ``file_label``."""
        self.file = file_label
        self.issues: list[Issue] = []

    def problem(self, key: str, message: str, fix: str) -> None:
        """Record one problem with the spec key ``key`` (dotted, e.g. ``demand.base_year``)."""
        self.issues.append(Issue(self.file, None, key, message, fix, column_label="key"))

    def table(self, parent: dict[str, Any], key: str, prefix: str, allowed: set[str] | None,
              *, required: bool = False) -> dict[str, Any]:
        """A sub-table (``[prefix.key]``); unknown keys inside it are reported."""
        full = prefix + key
        value = parent.get(key, MISSING)
        if value is MISSING:
            if required:
                self.problem(full, "required section is missing", f"add a [{full}] section")
            return {}
        if not isinstance(value, dict):
            self.problem(full, "must be a table", f"write it as a [{full}] section")
            return {}
        if allowed is not None:
            self.check_keys(value, allowed, full + ".")
        return value

    def tables(self, parent: dict[str, Any], key: str, prefix: str,
               allowed: set[str]) -> list[tuple[str, dict[str, Any]]]:
        """An array of tables (``[[key]]``) as (label, table) pairs, e.g. ``resourced[0]``."""
        value = parent.get(key, [])
        full = prefix + key
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.problem(full, "must be a list of tables", f"write each entry as [[{full}]]")
            return []
        out = []
        for i, entry in enumerate(value):
            label = f"{full}[{i}]"
            self.check_keys(entry, allowed, label + ".")
            out.append((label, entry))
        return out

    def check_keys(self, table: dict[str, Any], allowed: set[str], prefix: str) -> None:
        """Report keys that are not in ``allowed``, suggesting the closest one."""
        for full, hint in unknown_keys(table, allowed, prefix):
            self.problem(full, "unknown key", hint)

    def text(self, table: dict[str, Any], key: str, prefix: str, default: Any = MISSING,
             choices: tuple[str, ...] = ()) -> Any:
        """A string value (required when ``default`` is not given)."""
        full = prefix + key
        if key not in table:
            if default is MISSING:
                self.problem(full, "required key is missing", f'add {key} = "..."')
                return None
            return default
        value = table[key]
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # a URN or code written without quotes
        if not isinstance(value, str) or not value.strip():
            self.problem(full, f"{value!r} is not a text value", f'write {key} = "..."')
            return None if default is MISSING else default
        if choices and value not in choices:
            self.problem(full, f"{value!r} is not one of {', '.join(choices)}",
                         f'write e.g. {key} = "{choices[0]}"')
            return None if default is MISSING else default
        return value.strip()

    def texts(self, table: dict[str, Any], key: str, prefix: str,
              default: tuple[str, ...] = ()) -> tuple[str, ...]:
        """A list of strings (a single string is a list of one); numbers become text."""
        if key not in table:
            return default
        value = table[key]
        items = value if isinstance(value, list) else [value]
        out = []
        for item in items:
            if isinstance(item, bool) or not isinstance(item, str | int):
                self.problem(prefix + key, f"{item!r} is not a text value",
                             f'write {key} = ["...", "..."]')
                continue
            out.append(str(item).strip())
        return tuple(out)

    def number(self, table: dict[str, Any], key: str, prefix: str, default: Any = MISSING, *,
               minimum: float = 0.0, maximum: float = math.inf, integer: bool = False) -> Any:
        """A number in [minimum, maximum] (whole when ``integer``)."""
        full = prefix + key
        if key not in table:
            if default is MISSING:
                self.problem(full, "required key is missing", f"add {key} = <number>")
                return None
            return default
        value = table[key]
        problem = number_problem(key, value, minimum=minimum, maximum=maximum, integer=integer)
        if problem:
            self.problem(full, *problem)
            return None if default is MISSING else default
        return value

    def age_range(self, table: dict[str, Any], key: str, prefix: str,
                  default: tuple[int, int]) -> tuple[int, int]:
        """A ``[first, last]`` pair of ages in years, first ≤ last."""
        if key not in table:
            return default
        value = table[key]
        if (not isinstance(value, list) or len(value) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
                or not 0 <= value[0] <= value[1] <= 120):
            self.problem(prefix + key, f"{value!r} is not an age range",
                         f"write {key} = [first age, last age], e.g. [11, 15]")
            return default
        return int(value[0]), int(value[1])

    def codes(self, table: dict[str, Any], key: str, prefix: str, allowed: tuple[str, ...],
              default: tuple[str, ...]) -> tuple[str, ...]:
        """Need or phase codes: a list, a ';'-separated string, or "*" (all); any case."""
        if key not in table:
            return default
        value = table[key]
        parts = value if isinstance(value, list) else str(value).split(";")
        parts = [str(p).strip() for p in parts if str(p).strip()]
        if parts == ["*"]:
            return allowed
        lookup = {code.lower(): code for code in allowed}
        unknown = [p for p in parts if p.lower() not in lookup]
        if unknown or not parts:
            self.problem(prefix + key, f"unknown code(s) {', '.join(unknown) or '(none)'}",
                         f"use codes from {', '.join(allowed)}, or \"*\"")
            return default
        chosen = {lookup[p.lower()] for p in parts}
        return tuple(code for code in allowed if code in chosen)

    def needs(self, table: dict[str, Any], key: str, prefix: str,
              default: tuple[str, ...] = NEEDS) -> tuple[str, ...]:
        """SEN2 need codes (see :data:`sufficiency.preprocess.schema.NEEDS`)."""
        return self.codes(table, key, prefix, NEEDS, default)

    def phases(self, table: dict[str, Any], key: str, prefix: str,
               default: tuple[str, ...] = PHASES) -> tuple[str, ...]:
        """Phases: primary, secondary, post16."""
        return self.codes(table, key, prefix, PHASES, default)

    def rates(self, table: dict[str, Any], key: str, prefix: str,
              allowed: tuple[str, ...] | None) -> dict[str, float]:
        """A table of named rates (e.g. growth per need), each between -1 and 1."""
        sub = table.get(key, {})
        if not isinstance(sub, dict):
            self.problem(prefix + key, "must be a table", f"write {key} = {{ NAME = 0.05 }}")
            return {}
        out: dict[str, float] = {}
        lookup = {a.lower(): a for a in allowed} if allowed else None
        for name in sub:
            label = f"{prefix}{key}.{name}"
            canonical = name if lookup is None else lookup.get(str(name).lower())
            if canonical is None:
                self.problem(label, "unknown name", f"use one of {', '.join(allowed or ())}")
                continue
            rate = self.number(sub, name, f"{prefix}{key}.", minimum=-1.0, maximum=1.0)
            if rate is not None:
                out[canonical] = float(rate)
        return out
