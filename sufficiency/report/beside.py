"""One writing job on the second core while this process writes the rest.

The job runs in a forked child (it inherits the solved run; nothing is pickled) and writes
its files into the staging folder. The parent asks :meth:`Beside.done` before it needs them:
``False`` means the job did not finish (no ``fork`` on this platform, or the child failed),
and the parent then does the job itself, so any error is raised, and reported, exactly as
in a serial run. HiGHS has finished before the outputs are written, so the second core is
free; ``bench`` measures the gain (README, Performance).
"""

from __future__ import annotations

import multiprocessing
import os
import warnings
from collections.abc import Callable

FAILED = 1  # the child's exit code when its job raised (the parent then redoes the job)


def _run_job(job: Callable[[], None]) -> None:
    """The child's body: the job, then an exit that skips the parent's cleanup handlers."""
    try:
        job()
    except BaseException:  # noqa: BLE001 - the parent redoes the job and reports its error
        os._exit(FAILED)
    os._exit(0)


class Beside:
    """A job started in a forked child now, waited for (or stopped) later."""

    def __init__(self, job: Callable[[], None]) -> None:
        self._process: multiprocessing.process.BaseProcess | None = None
        if "fork" not in multiprocessing.get_all_start_methods():
            return
        with warnings.catch_warnings():  # Python ≥ 3.12 warns on fork with threads alive
            warnings.simplefilter("ignore", DeprecationWarning)
            self._process = multiprocessing.get_context("fork").Process(
                target=_run_job, args=(job,), daemon=True)
            self._process.start()

    def done(self) -> bool:
        """Wait for the child; True when it finished the job, False when the caller must."""
        if self._process is None:
            return False
        self._process.join()
        return self._process.exitcode == 0

    def stop(self) -> None:
        """End the child at once (the parent failed or was interrupted); idempotent."""
        if self._process is not None and self._process.is_alive():
            self._process.kill()
            self._process.join()
