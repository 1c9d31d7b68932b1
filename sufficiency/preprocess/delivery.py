"""``[delivery]``: how much a council can deliver, as optional limits on the plan.

```toml
[delivery]
max_new_schemes_per_year = 3          # schemes opening per academic year, LA-wide
max_new_modules_per_site = 4          # new modules per site over the horizon, all its options
[delivery.max_new_schemes_per_year_by_kind]
resourced = 2                         # schemes of one kind opening per academic year
```

A *scheme* is an option opening its first new module (whether or not it has existing
places); a later module at an option already opened in the plan is an expansion. Existing
places never count. Every limit is a whole number ≥ 1; absent, there is no limit (contract
v1). Mutually exclusive options are a provision.csv column (``exclusive_group``), not a key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sufficiency.preprocess.tomlread import TomlReader
from sufficiency.preprocess.vocabulary import KINDS

KEYS = {"max_new_schemes_per_year", "max_new_schemes_per_year_by_kind",
        "max_new_modules_per_site"}
MOST = 10_000  # a limit above this is a typo, not a limit


@dataclass(frozen=True)
class DeliveryLimits:
    """The run's delivery limits (None / empty: no limit)."""

    schemes_per_year: int | None = None
    schemes_per_year_by_kind: dict[str, int] = field(default_factory=dict)
    modules_per_site: int | None = None

    @property
    def schemes_limited(self) -> bool:
        """Whether any limit counts schemes (so options need a first-opening binary)."""
        return self.schemes_per_year is not None or bool(self.schemes_per_year_by_kind)

    def covers(self, kind: str) -> bool:
        """Whether a scheme of ``kind`` is counted by a limit."""
        return self.schemes_per_year is not None or kind in self.schemes_per_year_by_kind


def read_delivery(reader: TomlReader, data: dict[str, Any]) -> DeliveryLimits:
    """``[delivery]``: whole-number limits ≥ 1, kinds from the vocabulary."""
    t, p = reader.table(data, "delivery", "", KEYS), "delivery."
    limit = {"minimum": 1, "maximum": MOST, "integer": True}
    by_kind: dict[str, int] = {}
    sub = reader.table(t, "max_new_schemes_per_year_by_kind", p, None,
                       fix="write it as [delivery.max_new_schemes_per_year_by_kind]")
    prefix = p + "max_new_schemes_per_year_by_kind."
    for kind in sub:
        if kind not in KINDS:
            reader.problem(prefix + str(kind), "unknown kind", f"use one of {', '.join(KINDS)}")
            continue
        value = reader.number(sub, kind, prefix, None, **limit)
        if value is not None:
            by_kind[kind] = int(value)
    return DeliveryLimits(
        schemes_per_year=reader.number(t, "max_new_schemes_per_year", p, None, **limit),
        schemes_per_year_by_kind=dict(sorted(by_kind.items())),
        modules_per_site=reader.number(t, "max_new_modules_per_site", p, None, **limit),
    )
