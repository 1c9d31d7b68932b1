"""Ctrl-C and SIGTERM stop a running HiGHS solve within a second, not when it ends.

Python runs a signal handler in the main thread, between Python instructions; HiGHS's
``run`` is one long C++ call, so Ctrl-C used to take effect when the solve ended (42 s
later in a 45 s run). HiGHS's interrupt callbacks alone do not fix that: HiGHS consults
them only now and then in its MIP, never inside a sub-MIP or the MIP's own LP solves
(measured at scale M: one 18.7 s sub-MIP without a single call).

So :func:`run_stoppable`, called for every ``run`` in :mod:`sufficiency.solve` from the
main thread, runs HiGHS in a thread of its own (HiGHS releases the GIL) and waits for it
in Python, where Ctrl-C raises :class:`KeyboardInterrupt` and the command line's SIGTERM
handler :class:`~sufficiency.errors.Terminated` at once. It then asks HiGHS to stop
(simplex, interior point and MIP interrupt callbacks, subscribed only now, which sets a
flag HiGHS reads: subscribed for the whole run they cost 8 % of an interior point solve,
measured at M), waits up to
:data:`GRACE_SECONDS` for it, and re-raises, so every cleanup path (staged outputs, the run
lock) runs. A HiGHS still busy after that (inside a sub-MIP) is left to stop at its next
check or its time limit; :func:`solves_left_running` tells the command line to end the
process without waiting for it (the interpreter's shutdown would abort under it). The plan
is unchanged: same options, model and thread count (the example's plan.csv is identical).

Elsewhere (Dask worker threads) no signal can arrive, so HiGHS runs where it is called;
an interrupted sweep stops its LocalCluster's worker processes
(:mod:`sufficiency.analyses.distributed`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import highspy
from highspy.highs import HighsCallback, HighsCallbackEvent

GRACE_SECONDS = 0.5  # how long an interrupted solve gets to stop before it is left behind
_left_running: list[threading.Event] = []  # the "done" of each solve left running


def _interrupt(event: HighsCallbackEvent) -> None:
    """HiGHS's interrupt callback, subscribed once a stop is wanted: stop."""
    event.interrupt()


class _Solve:
    """One ``run`` of a HiGHS in a thread of its own, and the means to stop it."""

    def __init__(self, highs: highspy.Highs, run: Callable[[], object]):
        self.highs, self.run = highs, run
        self.done = threading.Event()
        self.failure: list[BaseException] = []
        self.lock = threading.Lock()  # running and subscribed change together
        self.running, self.subscribed = True, False
        self.thread = threading.Thread(target=self._target, name="HiGHS", daemon=True)

    def _callbacks(self) -> tuple[HighsCallback, ...]:
        """HiGHS's interrupt callbacks: simplex, interior point and MIP."""
        return self.highs.cbSimplexInterrupt, self.highs.cbIpmInterrupt, self.highs.cbMipInterrupt

    def _target(self) -> None:
        """The solve thread: run, then drop the callbacks a stop subscribed."""
        try:
            self.run()
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            self.failure.append(exc)
        finally:
            with self.lock:
                self.running = False
                if self.subscribed:
                    for callback in self._callbacks():
                        callback.unsubscribe(_interrupt)
            self.done.set()

    def stop(self) -> None:
        """Ask HiGHS to stop at its next interrupt check (it only sets HiGHS's flags)."""
        with self.lock:
            if self.running and not self.subscribed:
                for callback in self._callbacks():
                    callback.subscribe(_interrupt)
                self.subscribed = True


def run_stoppable(highs: highspy.Highs, run: Callable[[], object] | None = None) -> None:
    """``highs.run()``; a Ctrl-C or SIGTERM meanwhile stops it and is raised at once.

    ``run``: what runs ``highs`` instead of ``highs.run`` (Pyomo's own call, for instance).
    The wait is on an event, not ``Thread.join``: a join that Ctrl-C interrupts can mark a
    thread that is still running as ended (Python 3.11).
    """
    run = run or highs.run
    if threading.current_thread() is not threading.main_thread():
        run()  # no signal is delivered here
        return
    solve = _Solve(highs, run)
    solve.thread.start()
    try:
        while not solve.done.wait(1.0):  # interruptible: the signal's handler raises here
            pass
    except BaseException:
        try:
            solve.stop()
            solve.done.wait(GRACE_SECONDS)
        finally:
            if not solve.done.is_set():
                _left_running.append(solve.done)
        raise
    solve.thread.join()  # done: only the thread's own ending is left
    if solve.failure:
        raise solve.failure[0]


def solves_left_running() -> bool:
    """Whether an interrupted HiGHS is still running in its thread (see module doc)."""
    _left_running[:] = [done for done in _left_running if not done.is_set()]
    return bool(_left_running)
