"""Property-based tests (hypothesis) on random small datasets.

Each example is a tiny county (1-2 areas, 1-3 sites, 1-3 options, 2-3 years, two needs and
two phases) written to disk and planned to a 1e-9 gap. Every solve is audited
(:func:`sufficiency.audit.audit`: demand placed, capacity, eligibility, journeys, openings,
budget, costs = objective). The properties: the optimum is no worse than doing nothing;
more budget never costs more; another candidate option never costs more; scaling every £
scales the objective; the order of input rows changes nothing.

Bounded for CI: few examples, derandomized (the same examples every run). Set
``SUFFICIENCY_PROPERTY_EXAMPLES=200`` to explore more widely on a workstation.
"""

from __future__ import annotations

import os
import random
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from conftest import TinyRun, areas_geojson, option, run_toml, square
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sufficiency.audit import audit
from sufficiency.formulation import build_model
from sufficiency.formulation.sets import build_sets
from sufficiency.outcome import PlanResult, SolveStatus
from sufficiency.pipeline import run_plan
from sufficiency.preprocess.config import load_run_config
from sufficiency.preprocess.dataset import load_dataset
from sufficiency.results import extract
from sufficiency.solve import make_solver, solve_model

EXAMPLES = int(os.environ.get("SUFFICIENCY_PROPERTY_EXAMPLES", "5"))
BOUNDED = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
YEARS = (2026, 2027, 2028)
NEEDS = ("ASD", "SEMH")
PHASES = ("primary", "secondary")


@dataclass(frozen=True)
class World:
    """A random small dataset and its run settings, written by :meth:`write`."""

    years: int
    areas: dict[str, list]
    sites: list[str]
    demand: list[str]
    options: list[dict]
    economics: dict
    budget: dict[int, float] = field(default_factory=dict)

    def write(self, folder: Path, *, scale: float = 1.0, shuffle: random.Random | None = None,
              extra_option: dict | None = None) -> Path:
        """Write the run; ``scale`` multiplies every £; ``shuffle`` permutes every file's rows."""
        options = [*self.options, *([extra_option] if extra_option else [])]
        rows = [option(**money(o, scale)) for o in options]
        sites, demand, areas = list(self.sites), list(self.demand), list(self.areas.items())
        if shuffle:
            for table in (rows, sites, demand, areas):
                shuffle.shuffle(table)
        economics = {k: v * scale if k in MONEY_KEYS else v for k, v in self.economics.items()}
        toml = run_toml(years=self.years, budget={y: b * scale for y, b in self.budget.items()},
                        **economics)
        return TinyRun(folder).write(toml=toml, areas=areas_geojson(dict(areas)), sites=sites,
                                     demand=demand, provision=rows)


MONEY_KEYS = {"independent", "independent_transport", "transport_pupil", "transport_km"}
OPTION_MONEY = ("capital", "fixed", "cost", "commissioned")


def money(row: dict, scale: float) -> dict:
    """An option's keyword arguments with every £ multiplied by ``scale``."""
    return {k: v * scale if k in OPTION_MONEY else v for k, v in row.items()}


@st.composite
def option_rows(draw, site_ids: list[str], prefix: str = "O") -> list[dict]:
    """1-3 provision options at the given sites: existing places and/or modules to open."""
    count = draw(st.integers(1, 3))
    return [{
        "option_id": f"{prefix}{i}", "site_id": draw(st.sampled_from(site_ids)),
        "needs": draw(st.sampled_from(["*", "ASD", "SEMH", "ASD;SEMH"])),
        "phases": draw(st.sampled_from(["*", "primary", "secondary"])),
        "existing": draw(st.integers(0, 10)), "module": draw(st.integers(1, 10)),
        "max_modules": draw(st.integers(0, 2)),
        "capital": draw(st.integers(0, 6)) * 50_000, "fixed": draw(st.integers(0, 2)) * 50_000,
        "lead": draw(st.integers(0, 1)), "earliest": draw(st.sampled_from(YEARS[:2])),
        "cost": draw(st.integers(15, 30)) * 1_000,
        "commissioned": draw(st.integers(0, 10)) * 1_000,
    } for i in range(count)]


@st.composite
def worlds(draw) -> World:
    """A random small county: every random choice is a plausible input."""
    years = draw(st.integers(2, 3))
    areas = {"A": square(400_000, 300_000)}
    if draw(st.booleans()):
        areas["B"] = square(410_000, 300_000)
    site_ids = [f"S{i}" for i in range(1, draw(st.integers(1, 3)) + 1)]
    sites = [f"{s},Site {s},A,{405_000 + draw(st.integers(-5, 15)) * 1_000},"
             f"{306_000 + draw(st.integers(0, 25)) * 1_000}" for s in site_ids]
    demand = [f"{a},{n},{p},{y},{draw(st.integers(0, 15))}" for a in areas for n in NEEDS
              for p in PHASES for y in YEARS[:years]]
    demand[0] = demand[0].rsplit(",", 1)[0] + f",{draw(st.integers(1, 15))}"  # some demand
    economics = {"rate": draw(st.sampled_from([0.0, 0.035])),
                 "independent": draw(st.integers(40, 60)) * 1_000,
                 "independent_transport": draw(st.integers(0, 12)) * 1_000,
                 "transport_pupil": draw(st.integers(0, 3)) * 1_000,
                 "transport_km": draw(st.integers(0, 400))}
    budget = {2026: draw(st.integers(0, 8)) * 50_000} if draw(st.booleans()) else {}
    return World(years, areas, sites, demand, draw(option_rows(site_ids)), economics, budget)


def optimum(toml: Path) -> PlanResult:
    """The optimal plan of a run, solved and audited (no do-nothing solve: faster)."""
    config = load_run_config(toml)
    dataset = load_dataset(config)
    plan_model = build_model(build_sets(dataset), config)
    report = solve_model(plan_model, make_solver(config.solver))
    assert report.status == SolveStatus.OPTIMAL, report
    result = extract(plan_model, dataset, report, "optimal")
    audit(dataset, result)
    return result


def close(a: float, b: float) -> bool:
    """Equal within a tolerance well above the 1e-9 gap the runs are solved to."""
    return abs(a - b) <= 1e-7 * max(abs(a), abs(b)) + 0.01


def no_more_than(a: float, b: float) -> bool:
    """a ≤ b, within the same tolerance."""
    return a <= b or close(a, b)


@BOUNDED
@given(worlds())
def test_invariants_hold_and_optimal_is_no_worse_than_doing_nothing(world):
    with tempfile.TemporaryDirectory() as folder:
        run = run_plan(world.write(Path(folder)))  # audits both plans on the way
    assert no_more_than(run.optimal.total_cost, run.do_nothing.total_cost)
    assert run.savings == pytest.approx(run.do_nothing.total_cost - run.optimal.total_cost)
    assert not run.do_nothing.plan.shape[0], "do nothing opens nothing"


@BOUNDED
@given(worlds(), st.integers(1, 8))
def test_more_budget_never_costs_more(world, extra_units):
    world = replace(world, budget={2026: world.budget.get(2026, 0)})
    richer = replace(world, budget={2026: world.budget[2026] + extra_units * 50_000})
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        tight, loose = optimum(world.write(Path(a))), optimum(richer.write(Path(b)))
    assert no_more_than(loose.total_cost, tight.total_cost)


@BOUNDED
@given(worlds(), st.data())
def test_another_candidate_option_never_costs_more(world, data):
    """A candidate has no existing places: those would be commissioned (paid) whether used
    or not, so adding *existing* provision may well cost more (hypothesis found this)."""
    site_ids = [row.split(",")[0] for row in world.sites]
    extra = data.draw(option_rows(site_ids, prefix="NEW"))[0]
    extra |= {"existing": 0, "max_modules": max(extra["max_modules"], 1)}
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        without = optimum(world.write(Path(a)))
        more = optimum(world.write(Path(b), extra_option=extra))
    assert no_more_than(more.total_cost, without.total_cost)


@BOUNDED
@given(worlds(), st.sampled_from([0.5, 3.0, 10.0]))
def test_scaling_every_cost_scales_the_objective(world, factor):
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        base = optimum(world.write(Path(a)))
        scaled = optimum(world.write(Path(b), scale=factor))
    assert close(scaled.total_cost, factor * base.total_cost)
    assert close(scaled.report.objective, factor * base.report.objective)


@BOUNDED
@given(worlds(), st.randoms(use_true_random=False))
def test_row_order_changes_nothing(world, rng):
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        ordered = optimum(world.write(Path(a)))
        shuffled = optimum(world.write(Path(b), shuffle=rng))
    assert close(shuffled.total_cost, ordered.total_cost)
    assert shuffled.plan.equals(ordered.plan), "inputs are sorted by id: the same plan"
    assert shuffled.costs_by_year.equals(ordered.costs_by_year)
