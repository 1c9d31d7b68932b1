"""sufficiency: optimal phasing of specialist SEND school places (Pyomo + HiGHS).

>>> import sufficiency
>>> run, paths = sufficiency.plan("models/example.toml", force=True)
>>> run.optimal.plan            # openings: option, places, opening year, capital
>>> run.optimal.costs_by_year   # £ by component and year

The names below load on first use (PEP 562), so a command such as ``sufficiency --help``
or ``validate`` does not pay for the solver, the map and the report libraries.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sufficiency.api import plan
    from sufficiency.pipeline import run_plan, validate_run

__all__ = ["plan", "run_plan", "validate_run"]
_HOMES = {"plan": "sufficiency.api", "run_plan": "sufficiency.pipeline",
          "validate_run": "sufficiency.pipeline"}


def __getattr__(name: str) -> Any:
    """Import ``plan``, ``run_plan`` and ``validate_run`` from their modules when first used."""
    if name not in _HOMES:
        raise AttributeError(f"module 'sufficiency' has no attribute {name!r}")
    return getattr(import_module(_HOMES[name]), name)
