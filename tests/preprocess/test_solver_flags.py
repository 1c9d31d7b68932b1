"""The [solver] table's true/false settings: read as written, defaults kept, others refused."""

from __future__ import annotations

import pytest
from conftest import option, run_toml

from sufficiency.errors import InputError
from sufficiency.preprocess.config import load_run_config

FLAGS = ("start_beside", "separate_links")  # both default to true


def run_with(tiny, solver_line: str):
    return tiny.write(toml=run_toml().replace("[solver]\n", "[solver]\n" + solver_line),
                      demand=["A,ASD,primary,2026,20"], provision=[option("A", "S1")])


@pytest.mark.parametrize("flag", FLAGS)
@pytest.mark.parametrize(("written", "read"), [("", True), ("{} = false\n", False)])
def test_a_solver_flag_is_read_as_written(tiny, flag, written, read):
    toml = run_with(tiny, written.format(flag))
    assert getattr(load_run_config(toml).solver, flag) is read


@pytest.mark.parametrize("flag", FLAGS)
def test_a_solver_flag_refuses_other_values(tiny, flag):
    with pytest.raises(InputError, match=f"solver.{flag}"):
        load_run_config(run_with(tiny, f'{flag} = "yes"\n'))
