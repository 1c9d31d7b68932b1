"""Run independent tasks (sweep values, scenario solves) serially or on ``dask.distributed``.

Every task is a plain top-level function of picklable arguments (a TOML path, names,
numbers, small tables) that loads what it needs itself, so the same function runs here or
on any worker. Three places to run, chosen by :class:`Backend`:

- serially in this process (``serial=True``, the API's default, and ``--serial``);
- a ``LocalCluster`` started for the call: ``n_workers`` processes of one thread each
  (HiGHS runs one thread per solve, so runs repeat exactly), shut down afterwards;
- an existing cluster, ``scheduler="tcp://host:port"`` (workers must have this package
  installed).

Results come back in the order the tasks were given, whatever order they finished in;
callers sort their tables by their own keys, so serial and distributed runs give the
same table.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sufficiency.errors import InputError, Issue

STOP_WORKER_SECONDS = 0.5  # an interrupted worker's time to close before it is killed


@dataclass(frozen=True)
class Backend:
    """Where independent tasks run: here, a LocalCluster, or the cluster at ``scheduler``."""

    serial: bool = True
    scheduler: str | None = None  # tcp://host:port of a running dask scheduler
    n_workers: int = 2
    threads_per_worker: int = 1
    show_progress: bool = False  # a progress bar on standard error

    @property
    def description(self) -> str:
        """Where the tasks ran, in words (for summaries)."""
        if self.serial:
            return "serial (this process)"
        if self.scheduler:
            return f"dask cluster at {self.scheduler}"
        return (f"dask LocalCluster ({self.n_workers} worker processes × "
                f"{self.threads_per_worker} thread)")


@contextlib.contextmanager
def dask_client(backend: Backend) -> Iterator[Any]:
    """A ``distributed.Client`` for ``backend``; a LocalCluster started here is shut down."""
    from distributed import Client, LocalCluster

    if backend.scheduler:
        try:
            client = Client(backend.scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise InputError(Issue("command line", None, "--scheduler",
                                   f"cannot reach a Dask scheduler at {backend.scheduler} "
                                   f"({exc})", "start one with `dask scheduler` and workers "
                                   "with `dask worker <address>`, or leave --scheduler out",
                                   column_label="option")) from None
        with client:
            yield client
        return
    # dashboard on a free port (":0"): a fixed one clashes with any other cluster running
    with LocalCluster(n_workers=backend.n_workers, threads_per_worker=backend.threads_per_worker,
                      processes=True, dashboard_address=":0", silence_logs=logging.ERROR
                      ) as cluster, Client(cluster) as client:
        try:
            yield client
        except KeyboardInterrupt:  # Ctrl-C, SIGTERM: stop the workers now, not in 4 s
            _stop_workers(cluster)
            raise


def _stop_workers(cluster: Any) -> None:
    """Stop a LocalCluster's worker processes at once (a task inside HiGHS cannot stop).

    Every nanny closes, killing its worker after :data:`STOP_WORKER_SECONDS` (its default
    is 4 s, and a nanny whose worker is merely killed starts a new one); the cluster's
    own close then finds them closed. Tasks write nothing (results come back to this
    process), so nothing is left half written.
    """
    import asyncio

    async def close_all() -> None:
        await asyncio.gather(*(nanny.close(timeout=STOP_WORKER_SECONDS)
                               for nanny in list(cluster.workers.values())),
                             return_exceptions=True)

    with contextlib.suppress(Exception):
        cluster.sync(close_all)


class TaskBar:
    """Counts finished tasks on a rich progress bar on standard error (silent if not shown)."""

    def __init__(self, total: int, title: str, show: bool):
        self.title = title
        self.progress = None
        if show:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

            self.progress = Progress("[progress.description]{task.description}", BarColumn(),
                                     MofNCompleteColumn(), TimeElapsedColumn(),
                                     console=Console(stderr=True))
            self.task_id = self.progress.add_task(title, total=total)

    def __enter__(self) -> TaskBar:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            self.progress.stop()

    def done(self, label: str) -> None:
        """One more task finished."""
        if self.progress is not None:
            self.progress.update(self.task_id, advance=1, description=f"{self.title}: {label}")


def run_serial(func: Callable, tasks: Sequence[tuple], labels: Sequence[str], *,
               title: str = "tasks", show_progress: bool = False) -> list:
    """Run ``func(*args)`` for every task here, in order."""
    results = []
    with TaskBar(len(tasks), title, show_progress) as bar:
        for args, label in zip(tasks, labels, strict=True):
            results.append(func(*args))
            bar.done(label)
    return results


def run_on_dask(func: Callable, tasks: Sequence[tuple], labels: Sequence[str],
                backend: Backend, *, title: str = "tasks") -> list:
    """Submit every task to the backend's cluster; gather results in the tasks' order."""
    from distributed import as_completed

    with dask_client(backend) as client:
        futures = [client.submit(func, *args, pure=False) for args in tasks]
        label_of = {future.key: label for future, label in zip(futures, labels, strict=True)}
        try:
            with TaskBar(len(tasks), title, backend.show_progress) as bar:
                for future in as_completed(futures):
                    bar.done(label_of[future.key])
            return client.gather(futures)
        except KeyboardInterrupt:  # Ctrl-C, SIGTERM: a cluster of its own keeps no tasks
            with contextlib.suppress(Exception):
                client.cancel(futures)
            raise


def run_tasks(func: Callable, tasks: Sequence[tuple], labels: Sequence[str],
              backend: Backend | None = None, *, title: str = "tasks") -> list:
    """Run independent tasks where ``backend`` says; results in the order of ``tasks``."""
    backend = backend or Backend()
    if backend.serial or len(tasks) == 0:
        return run_serial(func, tasks, labels, title=title, show_progress=backend.show_progress)
    return run_on_dask(func, tasks, labels, backend, title=title)
