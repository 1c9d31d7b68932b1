"""The York worked example: the committed dataset is exactly what the spec builds, and plans."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from sufficiency.ingest.build import build_dataset
from sufficiency.pipeline import run_plan

ROOT = Path(__file__).resolve().parents[2]
DATASET = ROOT / "inputs" / "york"
RUN = ROOT / "models" / "york.toml"
SOURCES = ROOT.parent / "shared" / "data" / "york"
needs_sources = pytest.mark.skipif(
    not SOURCES.is_dir(), reason="the raw York extracts (../shared/data/york, relative to the "
    "repository) are not on this machine; they are not committed, so the rebuild cannot run")
# SEN2 2025, York (E06000014), EHC plans in January 2025 by placement
SEN2_SPECIALIST = {"mainstream_la_maintained_resourced_provision": 15,
                   "mainstream_la_maintained_senunit": 13,
                   "mainstream_academy_resourced_provision": 3,
                   "mainstream_academy_senunit": 13, "special_la_maintained": 192,
                   "special_academy_free": 103, "special_independent": 13,
                   "special_non_maintained": 11}


@needs_sources
def test_rebuild_from_the_raw_extracts_equals_the_committed_dataset(tmp_path):
    result = build_dataset(ROOT / "inputs" / "york.build.toml",
                           dataset_dir=tmp_path / "inputs" / "york",
                           run_path=tmp_path / "models" / "york.toml")
    built = sorted(p.name for p in result.dataset_dir.iterdir())
    assert built == sorted(p.name for p in DATASET.iterdir())
    for name in built:
        assert (result.dataset_dir / name).read_bytes() == (DATASET / name).read_bytes(), name
    assert result.run_path.read_bytes() == RUN.read_bytes()
    scenarios = tmp_path / "models" / "york_scenarios.toml"
    assert scenarios.read_bytes() == (ROOT / "models" / "york_scenarios.toml").read_bytes()


@needs_sources
def test_committed_base_year_matches_the_raw_sen2_file():
    with open(SOURCES / "ehcp_sen2_2025_caseload.csv", encoding="utf-8") as handle:
        row = next(r for r in csv.DictReader(handle) if r["new_la_code"] == "E06000014"
                   and r["time_period"] == "202425" and r["breakdown_topic"] == "All EHC plans")
    assert {k: int(row[k]) for k in SEN2_SPECIALIST} == SEN2_SPECIALIST


def test_base_year_totals_match_sen2_within_rounding():
    base = pd.read_csv(DATASET / "base_demand.csv")
    assert base["pupils"].sum() == pytest.approx(sum(SEN2_SPECIALIST.values()), abs=0.05)  # 363
    assert base["independent"].sum() == pytest.approx(13 + 11, abs=0.05)
    by_need = base.groupby("need")["pupils"].sum()
    # SEN2 needs by placement, summed over the specialist placements above
    assert by_need["ASD"] == pytest.approx(12 + 7 + 2 + 8 + 103 + 67 + 8 + 7, abs=0.05)
    assert by_need["SEMH"] == pytest.approx(0 + 3 + 0 + 2 + 2 + 0 + 4 + 1, abs=0.05)


def test_dataset_is_small_and_york_shaped():
    assert sum(p.stat().st_size for p in DATASET.iterdir()) < 1_000_000
    provision = pd.read_csv(DATASET / "provision.csv", dtype={"site_id": str})
    existing = provision[provision["existing_places"] > 0].set_index("option_id")
    assert existing["existing_places"].to_dict() == {
        "121711_RP": 10, "134727_SPECIAL": 197, "140563_RP": 26, "144709_SPECIAL": 115,
        "144711_RP": 10}
    sites = pd.read_csv(DATASET / "sites.csv", dtype={"site_id": str}).set_index("site_id")
    assert sites.loc["134727", "name"] == "Applefields School"
    assert sites["easting"].between(451_000, 471_200).all()     # inside York's boundary box
    assert sites["northing"].between(442_400, 462_800).all()


def test_york_plans_to_optimality():
    run = run_plan(RUN)
    assert run.optimal.report.status == "optimal"
    assert run.optimal.report.mip_gap <= 1e-4
    assert run.do_nothing is not None and run.savings > 0
    demand = run.dataset.demand
    assert demand[demand["year"] == 2026]["pupils"].sum() == pytest.approx(413.5, abs=0.1)


def test_york_calibration_growth_post16_and_scenarios_are_committed():
    """The SEN2 counts the start year is checked against (24 independent in January 2025),
    growth by need × phase with a source per rate, York's two FE colleges, and a scenarios
    run that loads as it is."""
    from sufficiency.preprocess.config import load_run_config
    from sufficiency.preprocess.dataset import load_dataset
    from sufficiency.preprocess.scenarios import load_scenarios

    calibration = pd.read_csv(DATASET / "calibration.csv")
    by_group = calibration.groupby("group")["pupils"].sum()
    assert by_group["independent"] == pytest.approx(24, abs=0.05)
    assert by_group.sum() == pytest.approx(363, abs=0.1)
    assert set(calibration["year"]) == {2024}
    growth = pd.read_csv(DATASET / "growth.csv")
    assert len(growth) == 36 and growth["rate"].nunique() > 3
    assert growth["source"].str.startswith("trend of the placements").all()
    provision = pd.read_csv(DATASET / "provision.csv", dtype={"site_id": str})
    colleges = provision[provision["kind"] == "fe_college"]
    assert sorted(colleges["site_id"]) == ["130594", "130595"]
    assert set(colleges["phases"]) == {"post16"}
    run = ROOT / "models" / "york_scenarios.toml"
    names = sorted(s.name for s in load_scenarios(load_dataset(load_run_config(run))))
    assert names == ["central", "high", "low"]
