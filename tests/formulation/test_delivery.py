"""Delivery limits ([delivery], provision.csv exclusive_group), hand-solved.

One area A; sites S1 (1 km north of its centroid) and S2 (2 km north): both within every
travel limit. No discounting, no transport cost, independent £50k per pupil-year. Every
case is solved with and without the LP rounding start (which must keep every delivery row,
or HiGHS drops it), through the pipeline's audit (which recounts each limit).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import PROVISION_HEADER, option, run_toml

from sufficiency.errors import InputError
from sufficiency.formulation import build_model
from sufficiency.formulation.sets import build_sets
from sufficiency.pipeline import run_plan
from sufficiency.preprocess.config import load_run_config
from sufficiency.preprocess.dataset import load_dataset
from sufficiency.report.summary import build_summary, delivery_note
from sufficiency.solve.rounding import Openings, keep_delivery

SITES = ["S1,Site one,A,405000,306000", "S2,Site two,A,405000,307000"]


@pytest.fixture(params=["from do nothing", "rounding start"])
def plan(request, tiny):
    """Write and plan a tiny run (``delivery``: TOML lines appended; ``groups``: a
    provision.csv exclusive_group per row)."""
    def run(*, years, demand, provision, delivery="", groups=None):
        start = "rounding_start = true\n" if request.param == "rounding start" else ""
        toml = run_toml(years=years).replace("[solver]\n", "[solver]\n" + start) + delivery
        path = tiny.write(toml=toml, sites=SITES, demand=demand, provision=provision)
        if groups is not None:
            rows = [f"{row},{group}" for row, group in zip(provision, groups, strict=True)]
            (path.parent / "data" / "provision.csv").write_text(
                "\n".join([PROVISION_HEADER + ",exclusive_group", *rows]) + "\n")
        return run_plan(path)
    return run


def first_openings(run) -> dict[str, int]:
    return run.optimal.plan.groupby("option_id")["opening_year"].min().to_dict()


TWO_UNITS = [option("R1", "S1", kind="resourced", module=10, max_modules=1, capital=10_000,
                    cost=20_000),
             option("R2", "S2", kind="resourced", module=10, max_modules=1, capital=10_000,
                    cost=21_000)]


def test_one_scheme_a_year_defers_the_second_opening(plan):
    """20 pupils in 2026 and 2027; R1 (£20k a place) and R2 (£21k), 10 places each.

    No limit: both open in 2026: 2 × (200k + 210k) + capital 20k = £840k.
    One scheme a year: R1 in 2026 (10 × 20k + 10 × 50k = 700k; R2 first would be 710k),
    R2 in 2027 (200k + 210k = 410k), capital 20k: £1,130k.
    """
    demand = ["A,ASD,primary,2026,20", "A,ASD,primary,2027,20"]
    free = plan(years=2, demand=demand, provision=TWO_UNITS)
    assert free.optimal.total_cost == pytest.approx(840_000)
    limited = plan(years=2, demand=demand, provision=TWO_UNITS,
                   delivery="\n[delivery]\nmax_new_schemes_per_year = 1\n")
    assert limited.optimal.total_cost == pytest.approx(1_130_000)
    assert first_openings(limited) == {"R1": 2026, "R2": 2027}
    binding = build_summary(limited)["binding_delivery_limits"]
    assert binding == [{"limit": "max_new_schemes_per_year", "scope": "2026", "used": 1,
                        "allowed": 1},
                       {"limit": "max_new_schemes_per_year", "scope": "2027", "used": 1,
                        "allowed": 1}]
    assert "max_new_schemes_per_year (2026: 1 of 1)" in delivery_note(limited)
    assert "binding_delivery_limits" not in build_summary(free)  # v1: no new key


def test_per_kind_limit_counts_only_its_kind(plan):
    """30 pupils in 2026 and 2027; R1, R2 resourced (£20k, £21k), SAT satellite (£22k).

    One resourced scheme a year: 2026 opens R1 and SAT (200k + 220k + 10 × 50k = 920k),
    2027 adds R2 (200k + 210k + 220k = 630k), capital 30k: £1,580k (no limit: 2 × 630k
    + 30k = £1,290k).
    """
    provision = [*TWO_UNITS, option("SAT", "S2", kind="satellite", module=10, max_modules=1,
                                    capital=10_000, cost=22_000)]
    limited = plan(years=2, demand=["A,ASD,primary,2026,30", "A,ASD,primary,2027,30"],
                   provision=provision,
                   delivery="\n[delivery.max_new_schemes_per_year_by_kind]\nresourced = 1\n")
    assert limited.optimal.total_cost == pytest.approx(1_580_000)
    assert first_openings(limited) == {"R1": 2026, "R2": 2027, "SAT": 2026}


def test_modules_per_site_caps_all_options_of_the_site(plan):
    """40 pupils in 2026; at S1 SP (£20k) and SAT (£22k), 10-place modules, 2 each, £10k.

    No cap: 4 modules, 400k + 440k + 40k = £880k. At most 3 new modules at S1: SP 2 and
    SAT 1, 10 pupils independent: 400k + 220k + 500k + 30k = £1,150k.
    """
    provision = [option("SP", "S1", module=10, max_modules=2, capital=10_000),
                 option("SAT", "S1", kind="satellite", module=10, max_modules=2,
                        capital=10_000, cost=22_000)]
    demand = ["A,ASD,primary,2026,40"]
    assert plan(years=1, demand=demand, provision=provision).optimal.total_cost == (
        pytest.approx(880_000))
    capped = plan(years=1, demand=demand, provision=provision,
                  delivery="\n[delivery]\nmax_new_modules_per_site = 3\n")
    assert capped.optimal.total_cost == pytest.approx(1_150_000)
    assert capped.optimal.plan.set_index("option_id")["modules"].to_dict() == {"SP": 2,
                                                                              "SAT": 1}


def test_exclusive_options_open_the_cheaper_one_only(plan):
    """20 pupils in 2026; A1 at S1 (£20k) and A2 at S2 (£21k) are alternatives (group g).

    Both: 200k + 210k + 20k capital = £430k. One of the group: A1, 200k + 10 × 50k + 10k
    = £710k (A2 would be 720k).
    """
    provision = [option("A1", "S1", module=10, max_modules=1, capital=10_000),
                 option("A2", "S2", module=10, max_modules=1, capital=10_000, cost=21_000)]
    demand = ["A,ASD,primary,2026,20"]
    run = plan(years=1, demand=demand, provision=provision, groups=["g", "g"])
    assert run.optimal.total_cost == pytest.approx(710_000)
    assert run.optimal.plan["option_id"].tolist() == ["A1"]
    assert build_summary(run)["binding_delivery_limits"] == [
        {"limit": "exclusive_group", "scope": "g", "used": 1, "allowed": 1}]
    both = plan(years=1, demand=demand, provision=provision, groups=["", ""])
    assert both.optimal.total_cost == pytest.approx(430_000)


def test_v1_model_has_no_delivery_rows_and_no_extra_binaries(tiny):
    """Without [delivery] or exclusive_group: first binaries only where a fixed cost is."""
    path = tiny.write(toml=run_toml(), sites=SITES, demand=["A,ASD,primary,2026,20"],
                      provision=TWO_UNITS)
    config = load_run_config(path)
    plan_model = build_model(build_sets(load_dataset(config)), config)
    assert len(plan_model.sets.first_slots) == 0
    assert not {"schemes_per_year", "modules_per_site", "exclusive_groups"} & {
        b.name for b in plan_model.blocks}


def test_repair_closes_the_least_supported_option(tiny):
    """Both units rounded open in 2026 with one scheme a year allowed: the LP supported
    R1 with 0.9 of a module and R2 with 0.6, so R2 is closed."""
    path = tiny.write(toml=run_toml() + "\n[delivery]\nmax_new_schemes_per_year = 1\n",
                      sites=SITES, demand=["A,ASD,primary,2026,20"], provision=TWO_UNITS)
    config = load_run_config(path)
    plan_model = build_model(build_sets(load_dataset(config)), config)
    both = Openings(np.array([1.0, 1.0]), np.array([1.0, 1.0]))
    kept = keep_delivery(plan_model, both, np.array([0.9, 0.6]))
    assert kept.modules.tolist() == [1.0, 0.0]
    assert kept.first.tolist() == [1.0, 0.0]


@pytest.mark.parametrize("lines, key", [
    ("max_new_schemes_per_year = 0", "delivery.max_new_schemes_per_year"),
    ("max_new_schemes_per_year = 1.5", "delivery.max_new_schemes_per_year"),
    ("max_new_modules_per_site = -2", "delivery.max_new_modules_per_site"),
    ("max_new_modules_per_site = \"4\"", "delivery.max_new_modules_per_site"),
    ("max_new_schemes_per_year_by_kind = { resourced = 0 }",
     "delivery.max_new_schemes_per_year_by_kind.resourced"),
    ("max_new_schemes_per_year_by_kind = { unit = 2 }",
     "delivery.max_new_schemes_per_year_by_kind.unit"),
    ("max_new_scheme_per_year = 2", "delivery.max_new_scheme_per_year"),
])
def test_bad_limits_name_the_key(tiny, lines, key):
    path = tiny.write(toml=run_toml() + f"\n[delivery]\n{lines}\n", sites=SITES,
                      demand=["A,ASD,primary,2026,20"], provision=TWO_UNITS)
    with pytest.raises(InputError) as caught:
        load_run_config(path)
    assert [issue.column for issue in caught.value.issues] == [key]


def test_a_group_of_one_option_is_a_warning(tiny):
    path = tiny.write(toml=run_toml(), sites=SITES, demand=["A,ASD,primary,2026,20"],
                      provision=TWO_UNITS)
    (path.parent / "data" / "provision.csv").write_text("\n".join(
        [PROVISION_HEADER + ",exclusive_group", TWO_UNITS[0] + ",solo", TWO_UNITS[1] + ","])
        + "\n")
    dataset = load_dataset(load_run_config(path))
    assert any("group 'solo' has only this option" in w for w in dataset.warnings)
    assert json.dumps(list(dataset.warnings))  # plain strings


def test_rounding_start_keeps_the_scheme_limit(tiny):
    """The LP start of the first case: a plan exists and costs no less than the limited
    optimum £1,130k (without the limit £840k would be possible), so it keeps the row."""
    from sufficiency.formulation import MONEY_SCALE
    from sufficiency.solve.direct import highs_lp
    from sufficiency.solve.highs import highs_options
    from sufficiency.solve.rounding import rounding_start

    path = tiny.write(toml=run_toml(years=2) + "\n[delivery]\nmax_new_schemes_per_year = 1\n",
                      sites=SITES, demand=["A,ASD,primary,2026,20", "A,ASD,primary,2027,20"],
                      provision=TWO_UNITS)
    config = load_run_config(path)
    plan_model = build_model(build_sets(load_dataset(config)), config)
    found = rounding_start(plan_model, highs_lp(plan_model), highs_options(config.solver),
                           config)
    assert found.plan is not None
    assert found.plan.objective * MONEY_SCALE >= 1_130_000 - 1e-3
