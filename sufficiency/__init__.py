"""sufficiency: optimal phasing of specialist SEND school places (Pyomo + HiGHS).

>>> import sufficiency
>>> run, paths = sufficiency.plan("models/example.toml", force=True)
>>> run.optimal.plan            # openings: option, places, opening year, capital
>>> run.optimal.costs_by_year   # £ by component and year
"""

from sufficiency.api import plan
from sufficiency.pipeline import run_plan, validate_run

__all__ = ["plan", "run_plan", "validate_run"]
