"""Helpers of the build tests: a fresh copy of the fabricated Testshire sources per test."""

from __future__ import annotations

import shutil
from pathlib import Path

from sufficiency.ingest.build import BuildResult, build_dataset

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SPEC = "testshire.build.toml"


def copy_fixtures(tmp_path: Path) -> Path:
    """Copy the fixture folder into ``tmp_path``; return the copied spec's path."""
    target = tmp_path / "sources"
    shutil.copytree(FIXTURES, target)
    return target / SPEC


def edit(path: Path, old: str, new: str) -> None:
    """Replace one exact piece of text in a fixture copy (fails loudly when absent)."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def build(spec: Path, tmp_path: Path, **kwargs) -> BuildResult:
    """Build into ``tmp_path/out`` (inputs/<name>/ and models/<name>.toml)."""
    return build_dataset(spec, dataset_dir=tmp_path / "out" / "inputs" / "testshire",
                         run_path=tmp_path / "out" / "models" / "testshire.toml", **kwargs)
