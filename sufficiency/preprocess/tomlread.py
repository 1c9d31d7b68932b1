"""Typed reading of parsed TOML, collecting every problem with the key's full name.

One reader serves the run TOML (:mod:`sufficiency.preprocess.config`), its scenarios
(:mod:`sufficiency.preprocess.scenarios`) and the build spec (:mod:`sufficiency.ingest.spec`).
A wrong value becomes an :class:`~sufficiency.errors.Issue` naming the file, the dotted key
and what to write instead; an unknown key gets the closest valid name as a suggestion.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sufficiency.errors import InputError, Issue
from sufficiency.preprocess.vocabulary import NEEDS, PHASES, canonical_code

REQUIRED = object()  # default of a key that must be present
_ABSENT = object()
# The largest number any TOML key takes unless it says otherwise: £10bn, the sanity limit of a
# provision.csv cost cell too. Past it a value is a typo (1e308 would wreck HiGHS's numerics).
MAX_POUNDS = 1e10
PLAIN_YEAR = re.compile(r"[1-9][0-9]*")  # a year key: ASCII digits, no leading zero, no sign


def year_key_problem(key: str) -> tuple[str, str] | None:
    """(message, fix) unless ``key`` is a year written as plain digits (2026, not "02026")."""
    if PLAIN_YEAR.fullmatch(key):
        return None
    if re.fullmatch(r"0+[0-9]*", key):
        plain = key.lstrip("0") or "2026"
        return (f"{key!r} is not a plain year: it has leading zeros",
                f"write {plain}, without leading zeros")
    return (f"{key!r} is not a year", "write the year as plain digits, e.g. 2026")


def read_toml(path: Path) -> dict[str, Any]:
    """The parsed TOML file at ``path``; :class:`InputError` if not UTF-8 or not valid TOML.

    A UTF-8 byte-order mark (Windows Notepad writes one) is dropped.
    """
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise InputError(Issue(path.name, None, None, "the file is not UTF-8 text",
                               "save it as UTF-8")) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(Issue(path.name, None, None, f"not valid TOML ({exc})",
                               "fix the syntax at the line shown")) from None


def _unknown_keys(table: dict[str, Any], allowed: set[str], prefix: str) -> list[tuple[str, str]]:
    """(full key, hint) for each key not in ``allowed``, suggesting the closest valid one."""
    found = []
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
            hint = f"did you mean '{prefix}{close[0]}'?" if close else (
                f"allowed keys here: {', '.join(sorted(allowed))}")
            found.append((prefix + key, hint))
    return found


def _number_problem(key: str, value: Any, *, minimum: float, maximum: float,
                   integer: bool) -> tuple[str, str] | None:
    """(message, fix) when a TOML value is not a number in [minimum, maximum], else None."""
    ok_type = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not ok_type:
        kind = "a whole number" if integer else "a number"
        return f"{value!r} is not {kind}", f"write {key} as {kind}, without quotes"
    if not math.isfinite(value) or not minimum <= value <= maximum:
        shown = (f"{value:.6g}" if isinstance(value, float) and math.isfinite(value)
                 and abs(value) >= 1e9 else repr(value))
        return f"{shown} is out of range", f"use a value between {minimum:g} and {maximum:g}"
    return None


class TomlReader:
    """Collects issues while reading values out of one parsed TOML file.

    Every getter takes the table, the key and the key's dotted ``prefix`` (``"solver."``);
    a getter whose ``default`` is :data:`REQUIRED` reports a missing key. A bad value is
    reported and the default (None when required) returned, so reading goes on.
    """

    def __init__(self, file_label: str):
        """Issues are reported against ``file_label``."""
        self.file = file_label
        self.issues: list[Issue] = []

    def problem(self, key: str, message: str, fix: str) -> None:
        """Record one problem with the dotted key ``key`` (e.g. ``demand.base_year``)."""
        self.issues.append(Issue(self.file, None, key, message, fix, column_label="key"))

    def raise_issues(self) -> None:
        """Raise :class:`InputError` with every problem recorded, if there is any."""
        if self.issues:
            raise InputError(self.issues)

    def check_keys(self, table: dict[str, Any], allowed: set[str], prefix: str) -> None:
        """Report keys that are not in ``allowed``, suggesting the closest one."""
        for full, hint in _unknown_keys(table, allowed, prefix):
            self.problem(full, "unknown key", hint)

    def table(self, parent: dict[str, Any], key: str, prefix: str, allowed: set[str] | None,
              *, required: bool = False, fix: str | None = None) -> dict[str, Any]:
        """A sub-table (``[prefix.key]``, else {}); unknown keys in it are reported."""
        full = prefix + key
        value = parent.get(key, _ABSENT)
        if value is _ABSENT:
            if required:
                self.problem(full, "required section is missing", f"add a [{full}] section")
            return {}
        if not isinstance(value, dict):
            self.problem(full, "must be a table", fix or f"write it as a [{full}] section")
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

    def flag(self, table: dict[str, Any], key: str, prefix: str, default: bool) -> bool:
        """A true/false value (``default`` when absent or not a boolean, with an issue)."""
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.problem(prefix + key, f"{value!r} is not true or false", "write true or false")
            return default
        return value

    def number(self, table: dict[str, Any], key: str, prefix: str, default: Any = REQUIRED, *,
               minimum: float = 0.0, maximum: float = MAX_POUNDS, integer: bool = False,
               missing_fix: str | None = None) -> Any:
        """A number in [minimum, maximum] (whole when ``integer``); at most £10bn by default."""
        if key not in table:
            if default is REQUIRED:
                self.problem(prefix + key, "required key is missing",
                             missing_fix or f"add {key} = <number>")
                return None
            return default
        value = table[key]
        problem = _number_problem(key, value, minimum=minimum, maximum=maximum, integer=integer)
        if problem:
            self.problem(prefix + key, *problem)
            return None if default is REQUIRED else default
        return value

    def number_table(self, table: dict[str, Any], key: str, prefix: str, fix: str, *,
                     minimum: float = 0.0, maximum: float = MAX_POUNDS,
                     names: tuple[str, ...] | None = None) -> dict[str, float]:
        """A ``{name = number}`` table; with ``names``, each name must be one (any case)."""
        sub = self.table(table, key, prefix, None, fix=fix)
        out: dict[str, float] = {}
        for name in sub:
            canonical = str(name) if names is None else canonical_code(str(name), names)
            if canonical is None:
                self.problem(f"{prefix}{key}.{name}", "unknown name",
                             f"use one of {', '.join(names or ())}")
                continue
            value = self.number(sub, name, f"{prefix}{key}.", minimum=minimum, maximum=maximum)
            if value is not None:
                out[canonical] = float(value)
        return out

    def year_numbers(self, table: dict[str, Any], prefix: str,
                     year_problem: Callable[[str], tuple[str, str] | None], *,
                     maximum: float = MAX_POUNDS) -> dict[int, float]:
        """A table keyed by year (``{ 2027 = 120 }``): ``year_problem`` vets each key.

        ``year_problem`` sees every key as written and may say it first (e.g. "2026-27" is a
        financial-year label); a key it passes must still be plain digits without a leading
        zero (:func:`year_key_problem`), so "02026" cannot stand for 2026 and no year is
        given twice.
        """
        out: dict[int, float] = {}
        for key in table:
            problem = year_problem(str(key)) or year_key_problem(str(key))
            if problem:
                self.problem(prefix + str(key), *problem)
                continue
            value = self.number(table, key, prefix, maximum=maximum)
            if value is not None:
                out[int(key)] = float(value)
        return out

    def choice(self, table: dict[str, Any], key: str, prefix: str, default: Any,
               choices: tuple[str, ...], fix: str, *, what: str | None = None) -> Any:
        """One of ``choices`` as written (``default`` when absent or wrong, with an issue)."""
        value = table.get(key, default)
        if value is default or value in choices:
            return value
        self.problem(prefix + key, f"{value!r} is not {what or 'one of ' + ', '.join(choices)}",
                     fix)
        return default

    def text(self, table: dict[str, Any], key: str, prefix: str, default: Any = REQUIRED,
             choices: tuple[str, ...] = ()) -> Any:
        """A string value, trimmed; whole numbers become text (a URN written without quotes)."""
        full = prefix + key
        if key not in table:
            if default is REQUIRED:
                self.problem(full, "required key is missing", f'add {key} = "..."')
                return None
            return default
        value = table[key]
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            self.problem(full, f"{value!r} is not a text value", f'write {key} = "..."')
            return None if default is REQUIRED else default
        if choices and value not in choices:
            self.problem(full, f"{value!r} is not one of {', '.join(choices)}",
                         f'write e.g. {key} = "{choices[0]}"')
            return None if default is REQUIRED else default
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
        """Codes from ``allowed``: a list, a ';'-separated string, or "*" (all); any case."""
        if key not in table:
            return default
        value = table[key]
        parts = value if isinstance(value, list) else str(value).split(";")
        parts = [str(p).strip() for p in parts if str(p).strip()]
        if parts == ["*"]:
            return allowed
        unknown = [p for p in parts if canonical_code(p, allowed) is None]
        if unknown or not parts:
            self.problem(prefix + key, f"unknown code(s) {', '.join(unknown) or '(none)'}",
                         f"use codes from {', '.join(allowed)}, or \"*\"")
            return default
        chosen = {canonical_code(p, allowed) for p in parts}
        return tuple(code for code in allowed if code in chosen)

    def needs(self, table: dict[str, Any], key: str, prefix: str,
              default: tuple[str, ...] = NEEDS) -> tuple[str, ...]:
        """SEN2 need codes (see :data:`sufficiency.preprocess.vocabulary.NEEDS`)."""
        return self.codes(table, key, prefix, NEEDS, default)

    def phases(self, table: dict[str, Any], key: str, prefix: str,
               default: tuple[str, ...] = PHASES) -> tuple[str, ...]:
        """Phases: primary, secondary, post16."""
        return self.codes(table, key, prefix, PHASES, default)
