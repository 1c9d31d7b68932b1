"""Tests of the synthetic dataset generator: contract shape, sizes, geography, determinism."""

from __future__ import annotations

import tomllib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

from sufficiency.cli import app
from sufficiency.ingest.synth import PHASES, SCALES, write_synthetic
from sufficiency.preprocess.paths import MARKER

FILES = ("areas.geojson", "sites.csv", "demand.csv", "provision.csv")
PROVISION_COLUMNS = [
    "option_id", "site_id", "kind", "needs", "phases", "existing_places", "module_places",
    "max_modules", "capital_cost_per_module", "fixed_capital_cost", "lead_time_years",
    "earliest_year", "annual_cost_per_place", "annual_cost_per_commissioned_place",
]


class Run:
    """A written synthetic run, read back the way a user's tools would read it."""

    def __init__(self, toml: Path) -> None:
        self.toml = toml
        self.config = tomllib.loads(toml.read_text(encoding="utf-8"))
        self.folder = toml.parent / self.config["inputs"]
        self.areas = gpd.read_file(self.folder / "areas.geojson")
        self.sites = pd.read_csv(self.folder / "sites.csv")
        self.demand = pd.read_csv(self.folder / "demand.csv")
        self.provision = pd.read_csv(self.folder / "provision.csv", keep_default_na=False)

    def years(self) -> list[int]:
        start = self.config["start_year"]
        return list(range(start, start + self.config["horizon_years"]))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    out = tmp_path_factory.mktemp("synth")
    return {scale: Run(write_synthetic(out, scale, seed=0)) for scale in ("S", "M")}


def _bytes(toml: Path) -> dict[str, bytes]:
    folder = toml.with_suffix("")
    files = {name: (folder / name).read_bytes() for name in FILES}
    return {toml.name: toml.read_bytes(), **files}


def test_names_and_layout(tmp_path: Path) -> None:
    toml = write_synthetic(tmp_path, "S", seed=3)
    assert toml == tmp_path / "synth-S-s3.toml"
    assert sorted(p.name for p in (tmp_path / "synth-S-s3").iterdir()) == sorted(
        (*FILES, MARKER))
    assert (tmp_path / "synth-S-s3" / MARKER).read_text().startswith(
        "This folder was written by `sufficiency synth`")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["synth-S-s3", "synth-S-s3.toml"]


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    first = _bytes(write_synthetic(tmp_path / "a", "S", seed=7))
    second = _bytes(write_synthetic(tmp_path / "b", "S", seed=7))
    assert first == second


def test_different_seeds_differ(tmp_path: Path) -> None:
    one = _bytes(write_synthetic(tmp_path, "S", seed=1))
    two = _bytes(write_synthetic(tmp_path, "S", seed=2))
    for name in FILES:
        assert one[name] != two[name], name


@pytest.mark.parametrize("scale", ["S", "M"])
def test_counts_match_scale(runs: dict[str, Run], scale: str) -> None:
    run, spec = runs[scale], SCALES[scale]
    assert len(run.areas) == spec.areas
    assert len(run.sites) == spec.sites
    assert sorted(run.demand["need"].unique()) == sorted(spec.need_codes)
    assert sorted(run.demand["phase"].unique()) == sorted(PHASES)[: spec.phases]
    assert run.config["horizon_years"] == spec.years
    assert sorted(run.demand["year"].unique()) == run.years()


@pytest.mark.parametrize("scale", ["S", "M"])
def test_contract_columns(runs: dict[str, Run], scale: str) -> None:
    run = runs[scale]
    assert list(run.areas.columns) == ["area_id", "name", "geometry"]
    assert list(run.sites.columns) == ["site_id", "name", "area_id", "easting", "northing"]
    assert list(run.demand.columns) == ["area_id", "need", "phase", "year", "pupils"]
    assert list(run.provision.columns) == PROVISION_COLUMNS
    numeric = run.provision[PROVISION_COLUMNS[5:]]
    assert all(pd.api.types.is_integer_dtype(t) for t in numeric.dtypes)
    assert (numeric >= 0).all().all()


@pytest.mark.parametrize("scale", ["S", "M"])
def test_ids_unique_and_references_valid(runs: dict[str, Run], scale: str) -> None:
    run, spec = runs[scale], SCALES[scale]
    assert run.areas["area_id"].is_unique
    assert run.sites["site_id"].is_unique
    assert run.provision["option_id"].is_unique
    assert set(run.sites["area_id"]) <= set(run.areas["area_id"])
    assert set(run.provision["site_id"]) <= set(run.sites["site_id"])
    assert set(run.demand["area_id"]) <= set(run.areas["area_id"])
    assert not run.demand.duplicated(["area_id", "need", "phase", "year"]).any()
    for cell in run.provision["needs"]:
        assert cell == "*" or set(cell.split(";")) <= set(spec.need_codes), cell
    for cell in run.provision["phases"]:
        assert set(cell.split(";")) <= set(PHASES), cell


@pytest.mark.parametrize("scale", ["S", "M"])
def test_every_site_strictly_inside_its_area(runs: dict[str, Run], scale: str) -> None:
    run = runs[scale]
    area_of = dict(zip(run.areas["area_id"], run.areas.geometry, strict=True))
    for site in run.sites.itertuples(index=False):
        point = shapely.Point(site.easting, site.northing)
        assert area_of[site.area_id].contains(point), site.site_id
        others = [a for a, g in area_of.items() if a != site.area_id and g.intersects(point)]
        assert not others, site.site_id


@pytest.mark.parametrize("scale", ["S", "M"])
def test_areas_tile_the_region(runs: dict[str, Run], scale: str) -> None:
    geoms = runs[scale].areas.geometry
    assert all(g.is_valid and g.geom_type == "Polygon" for g in geoms)
    union = shapely.union_all(geoms.values)
    minx, miny, maxx, maxy = union.bounds
    assert union.area == pytest.approx((maxx - minx) * (maxy - miny), abs=1.0)  # no gaps
    assert geoms.area.sum() == pytest.approx(union.area, abs=1.0)  # no overlaps


def test_geojson_declares_british_national_grid(runs: dict[str, Run]) -> None:
    run = runs["S"]
    assert run.areas.crs.to_epsg() == 27700
    assert "EPSG::27700" in (run.folder / "areas.geojson").read_text(encoding="utf-8")


def test_region_grows_with_scale(runs: dict[str, Run]) -> None:
    km2 = {s: float(r.areas.geometry.area.sum()) / 1e6 for s, r in runs.items()}
    assert km2["M"] == pytest.approx(3000, rel=0.01)  # a county of ~60 x 50 km
    assert km2["M"] / km2["S"] == pytest.approx(100 / 25, rel=0.05)  # constant site density


def test_toml_layout_and_values(runs: dict[str, Run]) -> None:
    small, medium = runs["S"].config, runs["M"].config
    assert small["name"] == small["inputs"] == "synth-S-s0"
    assert small["start_year"] == 2026 and small["discount_rate"] == 0.035
    assert small["independent"] == {"cost_per_place": 54000, "transport_cost_per_pupil": 12000}
    assert small["transport"] == {
        "cost_per_pupil": 3000, "cost_per_km": 350, "speed_kmh": 30, "circuity": 1.3,
    }
    assert small["travel_limit_minutes"] == {"primary": 45, "secondary": 75, "post16": 75}
    assert small["solver"] == {"time_limit_s": 60, "mip_gap": 0.0001,
                                   "time_limit_covers": "plan"}
    assert small["appraisal"] == {"method": "annuity"}
    assert "capital_budget" not in small
    budget = medium["capital_budget"]
    assert list(budget) == [str(y) for y in runs["M"].years()]
    assert all(isinstance(v, int) and v > 0 for v in budget.values())
    assert budget["2026"] < budget[str(2026 + 7)]  # tight early years


@pytest.mark.parametrize("scale", ["S", "M"])
def test_demand_exceeds_capacity_and_grows(runs: dict[str, Run], scale: str) -> None:
    run = runs[scale]
    assert pd.api.types.is_integer_dtype(run.demand["pupils"])
    assert (run.demand["pupils"] > 0).all()
    by_year = run.demand.groupby("year")["pupils"].sum()
    capacity = run.provision["existing_places"].sum()
    assert 1.29 <= by_year.iloc[0] / capacity <= 1.51
    assert by_year.is_monotonic_increasing and by_year.iloc[-1] > by_year.iloc[0]
    share = run.demand.groupby("phase")["pupils"].sum() / run.demand["pupils"].sum()
    assert 0.2 <= share["post16"] <= 0.4


def test_demand_concentrated_in_towns(runs: dict[str, Run]) -> None:
    run = runs["M"]
    first = run.demand[run.demand["year"] == 2026]
    per_area = first.groupby("area_id")["pupils"].sum()
    km2 = run.areas.set_index("area_id").geometry.area / 1e6
    density = (per_area / km2).dropna()
    assert density.max() > 5 * density.median()


def test_provision_kinds_and_rules(runs: dict[str, Run]) -> None:
    prov = runs["M"].provision
    kinds = prov["kind"].value_counts()
    assert kinds["special"] == 9 and kinds["new_special"] == 2 and kinds["resourced"] == 89
    assert 10 <= kinds["satellite"] <= 50
    assert (prov["earliest_year"] >= 2026).all()
    new = prov[prov["kind"] == "new_special"]
    assert (new["module_places"] == 50).all() and (new["earliest_year"] == 2028).all()
    special = prov[prov["kind"] == "special"]
    assert special["existing_places"].between(60, 200).all()
    assert "*" in set(special["needs"])  # some school serves every need


@pytest.mark.parametrize("scale", ["S", "M"])
def test_travel_limits_bite(runs: dict[str, Run], scale: str) -> None:
    run = runs[scale]
    points = run.areas.geometry.representative_point()
    dx = points.x.to_numpy()[:, None] - run.sites["easting"].to_numpy()[None, :]
    dy = points.y.to_numpy()[:, None] - run.sites["northing"].to_numpy()[None, :]
    minutes = np.hypot(dx, dy) / 1000 * 1.3 / 30 * 60
    reachable = minutes <= run.config["travel_limit_minutes"]["primary"]
    assert reachable.any(axis=1).all()  # every area reaches some site
    assert not reachable.all()  # but not every area reaches every site


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    toml = write_synthetic(tmp_path, "S", seed=0)
    before = _bytes(toml)
    with pytest.raises(FileExistsError):
        write_synthetic(tmp_path, "S", seed=0)
    toml.unlink()
    with pytest.raises(FileExistsError):  # the folder alone is enough to refuse
        write_synthetic(tmp_path, "S", seed=0)
    assert write_synthetic(tmp_path, "S", seed=0, overwrite=True) == toml
    assert _bytes(toml) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["synth-S-s0", "synth-S-s0.toml"]


def test_overwrite_never_replaces_what_synth_did_not_write(tmp_path: Path) -> None:
    """--overwrite replaces a marked folder and synth's own TOML, never anything else."""
    folder, toml = tmp_path / "synth-S-s0", tmp_path / "synth-S-s0.toml"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep\n")
    with pytest.raises(FileExistsError, match=f"was not written by sufficiency .*{MARKER}"):
        write_synthetic(tmp_path, "S", seed=0, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["synth-S-s0"]
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]
    folder.rename(tmp_path / "mine")
    toml.write_text('name = "mine"\n')
    with pytest.raises(FileExistsError, match="was not written by synth"):
        write_synthetic(tmp_path, "S", seed=0, overwrite=True)
    assert toml.read_text() == 'name = "mine"\n' and not folder.exists()


def test_overwrite_refused_on_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "synth-S-s1").mkdir()
    (tmp_path / "synth-S-s1" / "notes.txt").write_text("keep\n")
    result = CliRunner().invoke(app, ["synth", str(tmp_path), "--overwrite"])
    assert result.exit_code == 2 and "was not written by sufficiency" in result.output
    assert (tmp_path / "synth-S-s1" / "notes.txt").read_text() == "keep\n"


@pytest.mark.parametrize("scale", ["XS", "", "county"])
def test_unknown_scale_raises(tmp_path: Path, scale: str) -> None:
    with pytest.raises(ValueError, match="unknown scale"):
        write_synthetic(tmp_path, scale)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("seed", [-1, 1.5, True])
def test_bad_seed_raises(tmp_path: Path, seed: object) -> None:
    with pytest.raises(ValueError, match="seed"):
        write_synthetic(tmp_path, "S", seed=seed)  # type: ignore[arg-type]


def test_scales_table() -> None:
    table = {s: (v.areas, v.sites, v.needs, v.phases, v.years, v.capital_budget)
             for s, v in SCALES.items()}
    assert table == {
        "S": (8, 25, 6, 3, 5, False),
        "M": (30, 100, 8, 3, 8, True),
        "L": (120, 250, 10, 3, 10, False),
        "XL": (300, 400, 12, 3, 10, True),
    }
    assert SCALES["XL"].need_codes[-1] == "OTH"


def test_sticky_run_validates_with_cohorts_and_ramp_up(tmp_path: Path) -> None:
    """`synth --sticky`: same data as without, a run TOML with sticky cohorts and ramp-up."""
    from sufficiency.pipeline import validate_run

    result = CliRunner().invoke(app, ["synth", str(tmp_path), "--scale", "S", "--seed", "2",
                                      "--sticky"])
    assert result.exit_code == 0, result.output
    toml = tmp_path / "synth-S-s2-sticky.toml"
    config = tomllib.loads(toml.read_text(encoding="utf-8"))
    assert config["name"] == config["inputs"] == "synth-S-s2-sticky"
    assert config["placements"] == {"model": "sticky"}
    assert config["ramp_up"] == {"resourced": {"first_year": 0.5}}
    plain = write_synthetic(tmp_path, "S", seed=2)
    assert "placements" not in tomllib.loads(plain.read_text(encoding="utf-8"))
    for name in FILES:  # the same data, beside the v1 run
        assert (toml.with_suffix("") / name).read_bytes() == \
            (plain.with_suffix("") / name).read_bytes()
    dataset, _ = validate_run(toml)
    assert dataset.placement_model == "sticky"
    assert dataset.config.placement_rules.ramp("resourced").first_year == 0.5


def test_v1_run_has_no_appraisal_and_the_same_data(tmp_path: Path) -> None:
    """`synth --v1`: the contract's own capital counting (no [appraisal]), same data."""
    result = CliRunner().invoke(app, ["synth", str(tmp_path), "--scale", "S", "--seed", "2",
                                      "--v1"])
    assert result.exit_code == 0, result.output
    toml = tmp_path / "synth-S-s2-v1.toml"
    config = tomllib.loads(toml.read_text(encoding="utf-8"))
    assert config["name"] == config["inputs"] == "synth-S-s2-v1"
    assert "appraisal" not in config
    annuity = write_synthetic(tmp_path, "S", seed=2)
    assert tomllib.loads(annuity.read_text(encoding="utf-8"))["appraisal"] == {
        "method": "annuity"}
    for name in FILES:
        assert (toml.with_suffix("") / name).read_bytes() == \
            (annuity.with_suffix("") / name).read_bytes()
