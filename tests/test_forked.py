"""A job on the second core: its result from a forked child, or run here when it cannot be."""

from __future__ import annotations

import multiprocessing
import os
import time

import numpy as np
import pandas as pd
import pytest

from sufficiency import forked
from sufficiency.forked import Forked


def test_the_result_comes_from_the_child():
    job = Forked(lambda: (os.getpid(), pd.DataFrame({"pupils": [1.5, 2.0]})))
    assert job.started
    pid, table = job.result()
    assert pid != os.getpid()  # computed in the child, sent back whole
    pd.testing.assert_frame_equal(table, pd.DataFrame({"pupils": [1.5, 2.0]}))


def test_a_job_that_fails_in_the_child_runs_here_and_raises_here(tmp_path):
    calls = tmp_path / "calls.txt"

    def fails() -> None:
        with calls.open("a") as out:
            out.write(f"{os.getpid()}\n")
        raise RuntimeError("no")

    job = Forked(fails)
    with pytest.raises(RuntimeError, match="no"):
        job.result()
    pids = calls.read_text().split()
    assert len(pids) == 2 and pids[1] == str(os.getpid())  # the child's try, then ours
    assert forked.FAILED == 1


def test_a_result_that_cannot_be_sent_is_computed_here():
    job = Forked(lambda: (lambda: "a closure cannot be pickled"))
    assert job.result()() == "a closure cannot be pickled"


def test_without_fork_the_job_runs_here_only_when_asked(monkeypatch, tmp_path):
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    target = tmp_path / "later.txt"
    job = Forked(lambda: target.write_text("x"))
    assert not job.started and not target.exists()
    assert job.result() == 1 and target.read_text() == "x"


def test_not_wanted_runs_here():
    job = Forked(os.getpid, wanted=False)
    assert not job.started and job.result() == os.getpid()


def test_stop_ends_a_running_child_at_once():
    job = Forked(lambda: time.sleep(60))
    started = time.perf_counter()
    job.stop()
    job.stop()  # idempotent
    assert time.perf_counter() - started < 10


def test_a_daemonic_process_runs_the_job_itself(monkeypatch):
    """dask's worker processes are daemonic, and those may not have children."""
    monkeypatch.setattr(multiprocessing.current_process(), "daemon", True, raising=False)
    job = Forked(os.getpid)
    assert not job.started and job.result() == os.getpid()


def test_a_child_that_cannot_be_started_leaves_the_job_here(monkeypatch):
    def no_fork(self) -> None:
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(multiprocessing.get_context("fork").Process, "start", no_fork)
    job = Forked(os.getpid)
    assert not job.started and job.result() == os.getpid()


def test_ready_says_when_the_child_has_ended_and_from_child_never_runs_the_job_here():
    def slow() -> int:
        time.sleep(0.5)
        return os.getpid()

    job = Forked(slow)
    assert not job.ready(0.0)
    assert job.ready(10.0)
    received = job.from_child()
    assert received is not None and received[0] != os.getpid()

    def fails() -> None:
        raise RuntimeError("no")

    failed = Forked(fails)
    assert failed.ready(10.0)
    assert failed.from_child() is None  # no result, and the job was not run here


def test_an_early_job_ends_its_child_before_its_large_result_is_asked_for():
    """A result larger than the pipe's buffer no longer keeps the child waiting."""
    job = Forked(lambda: (os.getpid(), np.arange(1_000_000.0)), early=True)
    child = job._process
    assert child is not None
    child.join(timeout=30)
    assert not child.is_alive()  # ended after sending, before anyone asked
    pid, values = job.result()
    assert pid != os.getpid() and values.sum() == np.arange(1_000_000.0).sum()


def test_an_early_job_that_fails_runs_here_and_one_stopped_ends_at_once(tmp_path):
    def fails() -> None:
        raise RuntimeError("no")

    with pytest.raises(RuntimeError, match="no"):
        Forked(fails, early=True).result()
    job = Forked(lambda: time.sleep(60), early=True)
    started = time.perf_counter()
    job.stop()
    assert time.perf_counter() - started < 10
