"""Memory freed before a HiGHS run is given back to the system (glibc's malloc_trim)."""

from __future__ import annotations

import sys

import pytest

from sufficiency.solve import direct


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_malloc_trim_is_found_on_linux():
    assert direct._TRIM is not None  # noqa: SLF001 - the lookup itself is under test
    direct.release_freed_memory()


def test_release_is_a_no_op_without_malloc_trim(monkeypatch):
    monkeypatch.setattr(direct, "_TRIM", None)
    direct.release_freed_memory()  # macOS, musl: nothing to call, nothing raised
