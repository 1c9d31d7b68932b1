"""A forked child stopped while it holds Pyomo's capture_output lock leaves the parent free."""

from __future__ import annotations

import time

from pyomo.common import dependencies

from sufficiency.forked import Forked
from sufficiency.solve.highs import quiet_highs


def test_a_child_stopped_holding_the_capture_lock_does_not_block_the_parent(tmp_path):
    """quiet_highs takes Pyomo's capture_output lock, which Pyomo makes one semaphore shared
    with every forked child: a gap-LP child stopped inside it (the plan failed) used to
    leave every later quiet_highs of the parent waiting 200 s, then failing."""
    dependencies.multiprocessing.Lock  # noqa: B018 - Pyomo now makes its lock process-shared
    assert "multiprocessing" in type(dependencies.capture_output_lock).__module__
    inside = tmp_path / "inside"

    def hold_the_lock() -> None:
        dependencies.capture_output_lock.acquire()
        inside.write_text("yes")
        time.sleep(60)

    job = Forked(hold_the_lock)
    deadline = time.perf_counter() + 30
    while not inside.exists() and time.perf_counter() < deadline:
        time.sleep(0.05)
    assert inside.exists()
    job.stop()  # killed while it holds the lock
    assert dependencies.capture_output_lock.acquire(timeout=5)
    dependencies.capture_output_lock.release()
    quiet_highs()
