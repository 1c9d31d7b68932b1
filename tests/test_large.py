"""Large inputs: ten times the example plans, with its memory reported; a 1 GB file is refused.

The 10× dataset is the embedded example copied ten times side by side, 90 km apart (beyond
every travel limit), with ten times its budget: ten independent counties in one model
(10× the example's variables, rows and nonzeros). Doing nothing is an LP solved to
optimality, so its cost must be exactly ten times the example's. The optimal plan is solved
to a 1 % gap to keep the test short (about 10-20 s); the plan is within that gap of ten
times the example's optimum.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from conftest import option
from shapely import affinity

from sufficiency.errors import InputError
from sufficiency.pipeline import validate_run
from sufficiency.preprocess.readers import MAX_INPUT_BYTES

ROOT = Path(__file__).resolve().parents[1]
COPIES = 10
SPACING_M = 90_000  # between copies: far beyond a 75-minute journey at 30 km/h
PEAK_MEMORY_LIMIT_MB = 2_000  # the README's budget at scale L; the 10× example needs far less


def replicate_example(dest: Path, copies: int = COPIES) -> Path:
    """Write ``copies`` shifted copies of the example as one run; return its TOML path."""
    source, data = ROOT / "inputs" / "example", dest / "inputs" / "example10"
    data.mkdir(parents=True)
    areas = gpd.read_file(source / "areas.geojson")
    tables = {name: pd.read_csv(source / f"{name}.csv", dtype=str, keep_default_na=False)
              for name in ("sites", "demand", "provision")}
    copied: dict[str, list] = {name: [] for name in ("areas", *tables)}
    for k in range(copies):
        # two rows of five, the second south of the example: every copy stays on land (the
        # Great Britain check refuses a row north-east of it, in the North Sea)
        dx, dy, tag = (k % 5 - 2) * SPACING_M, -(k // 5) * SPACING_M, f"_{k}"
        copied["areas"].append(areas.assign(
            area_id=areas["area_id"] + tag,
            geometry=areas.geometry.apply(affinity.translate, xoff=dx, yoff=dy)))
        sites = tables["sites"]
        copied["sites"].append(sites.assign(
            site_id=sites["site_id"] + tag, area_id=sites["area_id"] + tag,
            easting=(sites["easting"].astype(float) + dx).map("{:g}".format),
            northing=(sites["northing"].astype(float) + dy).map("{:g}".format)))
        copied["demand"].append(tables["demand"].assign(area_id=tables["demand"]["area_id"] + tag))
        provision = tables["provision"]
        copied["provision"].append(provision.assign(option_id=provision["option_id"] + tag,
                                                    site_id=provision["site_id"] + tag))
    gpd.GeoDataFrame(pd.concat(copied["areas"]), crs=areas.crs).to_file(
        data / "areas.geojson", driver="GeoJSON")
    for name in tables:
        pd.concat(copied[name]).to_csv(data / f"{name}.csv", index=False)
    toml = (ROOT / "models" / "example.toml").read_text()
    toml = toml.replace('name = "example"', 'name = "example10"').replace(
        '"../inputs/example"', '"../inputs/example10"')
    toml = re.sub(r"^(20\d\d) = ([\d_]+)", lambda m: f"{m[1]} = {int(m[2]) * copies}", toml,
                  flags=re.MULTILINE)
    toml = re.sub(r"^mip_gap = .*$", "mip_gap = 0.01", toml, flags=re.MULTILINE)
    (dest / "models").mkdir()
    (dest / "models" / "example10.toml").write_text(toml)
    return dest / "models" / "example10.toml"


MEASURE = """
    import json, resource, sys
    from sufficiency.pipeline import run_plan
    run = run_plan(sys.argv[1])
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB
    one = run_plan(sys.argv[2])
    print(json.dumps({"peak_mb": peak_mb, "size": run.model_size,
                      "status": run.optimal.report.status, "gap": run.optimal.report.mip_gap,
                      "optimal": run.optimal.total_cost, "baseline": run.do_nothing.total_cost,
                      "one_optimal": one.optimal.total_cost,
                      "one_baseline": one.do_nothing.total_cost,
                      "one_size": one.model_size,
                      "stages": {k: round(v, 2) for k, v in run.timer.wall.items()}}))
"""


def test_ten_times_the_example_plans_with_memory_reported(tmp_path, record_property):
    """Peak memory of the whole plan, measured in a fresh process (ru_maxrss)."""
    toml = replicate_example(tmp_path)
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(MEASURE), str(toml),
                           str(ROOT / "models" / "example.toml")], capture_output=True,
                          text=True, timeout=600, env=os.environ | {"PYTHONWARNINGS": "ignore"})
    assert done.returncode == 0, done.stderr
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    record_property("peak_memory_mb", round(measured["peak_mb"]))
    record_property("stage_seconds", measured["stages"])
    print(f"\n10x example: {measured['size']}, peak memory {measured['peak_mb']:.0f} MB, "
          f"status {measured['status']} (gap {measured['gap']:.3%}), stages {measured['stages']}")
    assert measured["size"]["variables"] == COPIES * measured["one_size"]["variables"]
    assert measured["size"]["nonzeros"] == COPIES * measured["one_size"]["nonzeros"]
    assert measured["status"] in ("optimal", "time_limit")
    assert 0 < measured["peak_mb"] < PEAK_MEMORY_LIMIT_MB
    assert measured["baseline"] == pytest.approx(COPIES * measured["one_baseline"], rel=1e-9)
    assert measured["optimal"] == pytest.approx(COPIES * measured["one_optimal"],
                                                rel=measured["gap"] + 2e-4)


def sparse_file(path: Path, header: bytes, size: int = 1024**3) -> None:
    """A file of ``size`` bytes that takes no disk space (its tail reads as NUL bytes)."""
    with path.open("wb") as handle:
        handle.write(header)
        handle.truncate(size)


@pytest.mark.parametrize("name", ["demand.csv", "areas.geojson"])
def test_a_gigabyte_file_is_refused_unread(tiny, monkeypatch, name):
    toml = tiny.write(demand=["A,ASD,primary,2026,5"], provision=[option("SP", "S1",
                                                                          existing=10)])
    big = tiny.root / "data" / name
    sparse_file(big, b"area_id,need,phase,year,pupils\n" if name.endswith(".csv") else b"{")
    assert big.stat().st_size > MAX_INPUT_BYTES
    touched = []
    for reader in ("read_bytes", "read_text"):
        real = getattr(Path, reader)

        def guarded(self, *args, _real=real, **kwargs):
            if self == big:
                touched.append(self)
                raise AssertionError("the oversized file was read")
            return _real(self, *args, **kwargs)
        monkeypatch.setattr(Path, reader, guarded)
    real_read_file = gpd.read_file

    def read_file(path, *args, **kwargs):
        if Path(path) == big:
            touched.append(path)
            raise AssertionError("the oversized file was read")
        return real_read_file(path, *args, **kwargs)
    monkeypatch.setattr(gpd, "read_file", read_file)
    with pytest.raises(InputError, match=f"{name}: the file is 1,074 MB, far beyond any "
                                         "planning dataset") as error:
        validate_run(toml)
    assert not touched
    assert "check it is the right file" in str(error.value)
