"""Work on the second core: a job started in a forked child now, its result collected later.

HiGHS runs on one thread (``[solver] threads = 1``, the default), so while it solves, or
while this process writes outputs, the second core is free. A :class:`Forked` job runs
there: the child inherits the whole process (nothing is pickled on the way in) and sends its
result back through a pipe. When the job cannot run there (no ``fork`` on this platform, or
the child failed), :meth:`Forked.result` runs it here, so any error is raised, and
reported, exactly as in a serial run; the result is the same either way. ``bench`` measures
the gain (README, Performance).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import warnings
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Generic, TypeVar

T = TypeVar("T")
FAILED = 1  # the child's exit code when its job raised (the parent then runs the job itself)


def can_fork() -> bool:
    """Whether this platform starts children by fork (Linux, macOS with the fork context)."""
    return "fork" in multiprocessing.get_all_start_methods()


def _run_job(job: Callable[[], T], send: Connection) -> None:
    """The child's body: the job, its result down the pipe, an exit past the parent's handlers.

    Ctrl-C is the parent's to handle (it stops the child), so the child ignores it.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        send.send(job())
    except BaseException:  # noqa: BLE001 - the parent runs the job and reports its error
        os._exit(FAILED)
    os._exit(0)


class Forked(Generic[T]):
    """A job started in a forked child now, its result collected (or the child stopped) later.

    ``wanted=False`` (e.g. HiGHS itself uses several threads) runs the job only when its
    result is asked for, here. ``early``: a thread here takes the result as soon as it is
    sent, so the child ends then. A result larger than the pipe's buffer (64 kB) otherwise
    keeps the child, and its memory, until :meth:`result`: the sufficiency gap's child held
    200 MB (L) to 400 MB (XL) of proportional set size for the whole MIP. Such a job is not
    asked :meth:`ready`.
    """

    def __init__(self, job: Callable[[], T], *, wanted: bool = True, early: bool = False) -> None:
        self._job = job
        self._process: multiprocessing.process.BaseProcess | None = None
        self._receive: Connection | None = None
        self._taker: threading.Thread | None = None  # takes the result early (``early``)
        self._taken: tuple[T] | None = None
        # a daemonic process (a dask worker) may not have children: the job then runs here
        if not (wanted and can_fork()) or multiprocessing.current_process().daemon:
            return
        context = multiprocessing.get_context("fork")
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_run_job, args=(job, send), daemon=True)
        try:
            with warnings.catch_warnings():  # Python ≥ 3.12 warns on fork with threads alive
                warnings.simplefilter("ignore", DeprecationWarning)
                process.start()
        except OSError:  # no memory or process slot for a child: the job runs here
            receive.close()
            return
        finally:
            send.close()  # the child holds the only writer: its end reads as end-of-file here
        self._process, self._receive = process, receive
        if early:
            self._taker = threading.Thread(target=self._take, args=(receive,), daemon=True)
            self._taker.start()

    def _take(self, receive: Connection) -> None:
        """The early taker's body: the child's result, or None when it sent none."""
        try:
            self._taken = (receive.recv(),)
        except (EOFError, OSError):  # the child failed, or was stopped
            self._taken = None

    @property
    def started(self) -> bool:
        """Whether the job is running (or ran) in a child."""
        return self._process is not None

    def result(self) -> T:
        """The job's result: the child's when it finished the job, else the job run here."""
        received = self.from_child()
        return received[0] if received is not None else self._job()

    def ready(self, timeout_s: float = 0.0) -> bool:
        """Whether the child has ended (sent its result or failed), waiting up to ``timeout_s``.

        True when the job does not run in a child: it would run here.
        """
        return self._receive is None or self._receive.poll(timeout_s)

    def from_child(self) -> tuple[T] | None:
        """Wait for the child's result: (result,), or None when it sent none (never run here)."""
        if self._process is None or self._receive is None:
            return None
        try:
            if self._taker is not None:
                self._taker.join()
                return self._taken
            return (self._receive.recv(),)
        except (EOFError, OSError):  # the child failed before sending
            return None
        finally:
            self.stop()

    def stop(self) -> None:
        """End the child now (or collect it when done) and close the pipe; idempotent."""
        if self._process is not None:
            if self._process.is_alive():
                self._process.kill()
            self._process.join()
            self._process = None
        if self._taker is not None:  # the child has ended: its pipe reads as end-of-file
            self._taker.join()
            self._taker = None
        if self._receive is not None:
            self._receive.close()
            self._receive = None
