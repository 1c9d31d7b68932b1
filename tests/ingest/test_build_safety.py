"""A build spec from elsewhere is untrusted: it writes only inside its project folder, and
replaces only what a build wrote (a marked dataset folder, a run TOML with the builder's
header line). Every refusal is an input error naming the spec key; nothing is deleted.

The fixture spec is copied to ``tmp_path/sources/testshire.build.toml``, so its project
folder is ``tmp_path``; by default it writes ``sources/testshire/`` and
``models/testshire.toml``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from buildkit import copy_fixtures, edit
from typer.testing import CliRunner

from sufficiency.cli import app
from sufficiency.errors import InputError
from sufficiency.ingest.build import build_dataset
from sufficiency.ingest.spec import load_spec
from sufficiency.preprocess.paths import MARKER

ROOT = Path(__file__).resolve().parents[2]
YORK_SOURCES = ROOT.parent / "shared" / "data" / "york"


def with_build_keys(spec: Path, text: str) -> Path:
    """Add ``text`` (lines of [build] keys) to the copied spec's [build] table."""
    edit(spec, 'sources = "."\n', f'sources = "."\n{text}\n')
    return spec


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (relative name → bytes), not following links."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.is_symlink()}


def refused(spec: Path, *fragments: str, force: bool = True) -> str:
    """Build through the command line; it must stop with exit code 2 naming ``fragments``."""
    result = CliRunner().invoke(app, ["build-dataset", str(spec), *(["--force"] * force)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "nothing was solved or written" in result.output
    for fragment in fragments:
        assert fragment in result.output, f"{fragment!r} not in:\n{result.output}"
    return result.output


def test_dataset_dot_is_the_spec_folder_and_is_refused(tmp_path):
    spec = with_build_keys(copy_fixtures(tmp_path), 'dataset = "."')
    (spec.parent / "unrelated.txt").write_text("keep me\n")
    before = snapshot(tmp_path)
    refused(spec, "key 'build.dataset'", "holds the spec", "a rebuild replaces the whole")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(("dataset", "says"), [
    ("..", "is the project folder itself"),
    ("../..", "leads outside the project folder"),
    ("../../elsewhere", "leads outside the project folder"),
    ("/tmp/sufficiency-test-elsewhere", "leads outside the project folder"),
])
def test_dataset_outside_the_project_folder_is_refused(tmp_path, dataset, says):
    spec = with_build_keys(copy_fixtures(tmp_path), f'dataset = "{dataset}"')
    refused(spec, "key 'build.dataset'", says, "write inside the project folder")
    assert not Path("/tmp/sufficiency-test-elsewhere").exists()
    assert not (tmp_path.parent / "elsewhere").exists()


def test_run_toml_outside_the_project_folder_is_refused(tmp_path):
    spec = with_build_keys(copy_fixtures(tmp_path), 'run_toml = "../../evil.toml"')
    refused(spec, "key 'build.run_toml'", "leads outside the project folder")
    assert not (tmp_path.parent / "evil.toml").exists()


def test_force_never_replaces_an_unmarked_folder(tmp_path):
    """A folder the builder did not write (no marker) survives --force untouched."""
    spec = copy_fixtures(tmp_path)
    folder = spec.parent / "testshire"
    folder.mkdir()
    (folder / "council-notes.docx").write_text("years of work\n")
    (folder / "sites.csv").write_text("hand-made\n")
    before = snapshot(tmp_path)
    refused(spec, "key 'build.dataset'", f"was not written by build-dataset (it has no {MARKER}",
            "nothing was replaced or deleted", "move the existing one away")
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "models" / "testshire.toml").exists()


def test_force_replaces_a_marked_folder_and_the_builders_run_toml(tmp_path):
    spec = copy_fixtures(tmp_path)
    first = build_dataset(spec)
    (first.dataset_dir / "sites.csv").write_text("edited\n")
    again = build_dataset(spec, force=True)
    assert (again.dataset_dir / "sites.csv").read_text().startswith("site_id,")
    assert (again.dataset_dir / MARKER).is_file()
    leftovers = [p.name for p in first.dataset_dir.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == [], "no staging or old folder is left behind"
    (again.dataset_dir / MARKER).unlink()  # the owner takes the folder over
    refused(spec, "key 'build.dataset'", "was not written by build-dataset")
    assert (again.dataset_dir / "sites.csv").is_file()


def test_run_toml_over_an_unrelated_file_is_refused(tmp_path):
    spec = copy_fixtures(tmp_path)
    unrelated = tmp_path / "models" / "testshire.toml"
    unrelated.parent.mkdir()
    unrelated.write_text('name = "mine"\n# a hand-written run\n')
    refused(spec, "key 'build.run_toml'", "was not written by build-dataset",
            "its first line is not the builder's header")
    assert unrelated.read_text() == 'name = "mine"\n# a hand-written run\n'
    assert not (spec.parent / "testshire").exists(), "refused before anything was written"


def test_run_toml_over_the_spec_itself_is_refused(tmp_path):
    spec = with_build_keys(copy_fixtures(tmp_path), 'run_toml = "testshire.build.toml"')
    text = spec.read_bytes()
    refused(spec, "key 'build.run_toml'", "was not written by build-dataset")
    assert spec.read_bytes() == text


def test_run_toml_that_could_not_read_the_dataset_is_refused(tmp_path):
    """A run reads only inside the parent of its own folder (its project folder)."""
    spec = with_build_keys(copy_fixtures(tmp_path), 'run_toml = "deep/er/run.toml"')
    with pytest.raises(InputError, match="key 'build.run_toml': the run it writes could not "
                                         "read the dataset"):
        load_spec(spec)


def test_nul_byte_in_a_path_is_an_input_error(tmp_path):
    spec = with_build_keys(copy_fixtures(tmp_path), r'dataset = "te\u0000st"')
    refused(spec, "key 'build.dataset'", "is not a usable path: it contains a NUL byte")


def test_nul_byte_in_the_spec_path_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="not a usable path: it contains a NUL byte"):
        load_spec(str(tmp_path / "a\0b.build.toml"))


def test_symlink_escape_is_refused(tmp_path):
    """``link/..`` is the parent of the link's target, not the spec's folder."""
    spec = copy_fixtures(tmp_path)
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "victim").mkdir()
    (outside / "victim" / "precious.txt").write_text("keep\n")
    (spec.parent / "link").symlink_to(outside / "deep")
    (spec.parent / "escape").symlink_to(outside / "victim")
    try:
        for dataset in ("link/../victim", "escape"):
            edit(spec, "[build]\n", f'[build]\ndataset = "{dataset}"\n')
            refused(spec, "key 'build.dataset'", "leads outside the project folder")
            edit(spec, f'[build]\ndataset = "{dataset}"\n', "[build]\n")
        assert (outside / "victim" / "precious.txt").read_text() == "keep\n"
        assert sorted(p.name for p in outside.iterdir()) == ["deep", "victim"]
    finally:
        shutil.rmtree(outside)


def test_symlink_loop_is_an_input_error(tmp_path):
    spec = with_build_keys(copy_fixtures(tmp_path), 'dataset = "loop/data"')
    (spec.parent / "loop").symlink_to(spec.parent / "loop")
    refused(spec, "key 'build.dataset'", "loop of symbolic links")


def test_run_table_may_not_set_name_or_inputs(tmp_path):
    spec = copy_fixtures(tmp_path)
    edit(spec, "[run]\n", '[run]\ninputs = "/etc"\n')
    with pytest.raises(InputError, match="key 'run.inputs': is set by the builder"):
        load_spec(spec)


def test_odd_run_keys_and_notes_stay_on_their_own_line(tmp_path):
    """A [run.sources] note or a quoted key with a line break cannot add TOML lines."""
    spec = copy_fixtures(tmp_path)
    edit(spec, "[run.solver]\n", '[run.sources]\nstart_year = "a\\ninputs = \\"/etc\\""\n\n'
                                 '[run.solver]\n')
    edit(spec, "[run.solver]\n", '[run.solver]\noptions = { "x\\n[evil]" = 1 }\n')
    result = build_dataset(spec)
    text = result.run_path.read_text()
    assert "\n[evil]" not in text and '\ninputs = "/etc"' not in text
    assert '"x\\n[evil]" = 1' in text


def test_project_folder_given_on_the_command_line(tmp_path):
    """A spec two folders down writes to the project's inputs/ only with --project."""
    spec = copy_fixtures(tmp_path / "specs")  # tmp/specs/sources/testshire.build.toml
    with_build_keys(spec, 'dataset = "../../inputs/testshire"\n'
                          'run_toml = "../../models/testshire.toml"')
    refused(spec, "key 'build.dataset'", "leads outside the project folder", force=False)
    result = CliRunner().invoke(app, ["build-dataset", str(spec), "--project", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "inputs" / "testshire" / MARKER).is_file()
    assert (tmp_path / "models" / "testshire.toml").is_file()


@pytest.mark.skipif(not YORK_SOURCES.is_dir(), reason="the raw York extracts are not here")
def test_readme_rebuild_command_replaces_the_committed_york_build(tmp_path):
    """`sufficiency build-dataset inputs/york.build.toml --force` in a copy of the repository:
    the committed dataset carries the marker, so it is replaced, with the same bytes."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "inputs" / "york", repo / "inputs" / "york")
    shutil.copy(ROOT / "inputs" / "york.build.toml", repo / "inputs" / "york.build.toml")
    (repo / "models").mkdir()
    shutil.copy(ROOT / "models" / "york.toml", repo / "models" / "york.toml")
    shutil.copy(ROOT / "models" / "york_scenarios.toml", repo / "models" / "york_scenarios.toml")
    (tmp_path / "shared" / "data").mkdir(parents=True)  # ../../shared/data/york from inputs/
    (tmp_path / "shared" / "data" / "york").symlink_to(YORK_SOURCES)
    before = snapshot(repo)
    result = CliRunner().invoke(app, ["build-dataset", str(repo / "inputs" / "york.build.toml"),
                                      "--force"])
    assert result.exit_code == 0, result.output
    assert snapshot(repo) == before
