"""The sufficiency gap (gap.csv): independent pupils with every option open at its maximum.

Area A holds site S1 (1 km from its centroid); area B lies 100 km east (200 minutes at
30 km/h: beyond every travel limit), so no option reaches B's pupils.
"""

from __future__ import annotations

import pytest
from conftest import areas_geojson, option, run_toml, square

from sufficiency.outcome import GAP_ALL_FULL, GAP_NO_OPTION
from sufficiency.pipeline import run_plan
from sufficiency.report.summary import gap_findings

AREAS = areas_geojson({"A": square(400_000, 300_000), "B": square(500_000, 300_000)})
SP = option("SP", "S1", existing=5, module=10, max_modules=1, capital=10_000_000)


def gap_of(tiny, demand, toml=None):
    run = run_plan(tiny.write(areas=AREAS, demand=demand, provision=[SP],
                              toml=toml or run_toml(years=2)))
    return run, [tuple(r) for r in run.gap.itertuples(index=False)]


def test_only_the_group_no_option_reaches_has_a_gap(tiny):
    """A: 12 pupils a year, B: 3. The module costs £10m, so the plan opens nothing and A
    sends 7 pupils independent; with SP at its maximum (5 + 10 = 15 places from 2026)
    A's 12 all fit: no gap row for A. B's 3 stay independent in both years."""
    run, rows = gap_of(tiny, ["A,ASD,primary,2026,12", "A,ASD,primary,2027,12",
                              "B,ASD,primary,2026,3", "B,ASD,primary,2027,3"])
    assert run.optimal.plan.empty
    assert rows == [("B", "ASD", "primary", 2026, 3.0, GAP_NO_OPTION),
                    ("B", "ASD", "primary", 2027, 3.0, GAP_NO_OPTION)]
    findings = gap_findings(run)
    assert findings["unreached"] == ["B · ASD · primary"]
    assert findings["areas"][0]["area_id"] == "B"
    assert findings["last_year"] == 3.0


def test_budget_and_delivery_limits_do_not_shrink_what_can_be_built(tiny):
    """A: 20 pupils; a zero budget and one scheme a year change the plan, not the gap:
    15 places at most, so 5 of A's pupils stay independent, all within reach but full."""
    toml = (run_toml(years=1, budget={2026: 0})
            + "\n[delivery]\nmax_new_schemes_per_year = 1\n")
    _, rows = gap_of(tiny, ["A,ASD,primary,2026,20"], toml)
    assert rows == [("A", "ASD", "primary", 2026, pytest.approx(5.0), GAP_ALL_FULL)]


def test_no_gap_gives_a_header_only_table(tiny):
    run, rows = gap_of(tiny, ["A,ASD,primary,2026,15"], run_toml(years=1))
    assert rows == []
    assert list(run.gap.columns) == ["area_id", "need", "phase", "year", "pupils", "reason"]
    assert gap_findings(run) is None
