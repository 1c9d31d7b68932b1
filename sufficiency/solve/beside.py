"""The LP rounding/dive start, found on the second core while HiGHS's MIP runs on the first.

Found first, the start took up to 70 % of the time limit before HiGHS began (44–62 s of
120 s at scale L; 287 of 300 s at XL), and HiGHS kept only the rest. Here
:func:`~sufficiency.solve.rounding.rounding_start` runs in a forked child
(:class:`~sufficiency.forked.Forked`) while HiGHS presolves and solves its root LP with the
whole limit. HiGHS asks for a plan from outside at fixed points of its MIP
(``kCallbackMipUserSolution``); at the first ask after its root LP (:data:`ASK_AFTER_ROOT_LP`)
it waits for the start and is handed its plan. Waiting at a fixed point keeps the plan a
function of the inputs alone, whichever core was faster. A MIP that ends before that ask
(proved at the root) never sees the start. A MIP that stops at its time limit before it
(at XL, inside its root LP) is compared at the end: the start's plan, and its bound (the
relaxation raised by cuts), are taken where they are better than HiGHS's. Every LP of the
start ends a second before HiGHS's limit (``rounding_start``'s ``seconds``), so that a
start is never lost to the clock: at XL HiGHS's root LP, slowed by the start beside it,
ends at about the limit, and the start's plan is the run's (measured: README Performance).

HiGHS 1.16 does not stop at its time limit inside one piece of its root: after its fifth
round of cuts it waits for an interior point solve of the whole model (its "analytic
centre", no time limit of its own; 59 s at XL). When the start arrives with less time left
than its own relaxation (an interior point solve of the same model) took, that solve could
not end in time either, so HiGHS is stopped at its next interrupt check (only with the
start's plan in hand)
(:meth:`StartBeside.stop_if_late`) with the start's plan and the better of the two bounds:
at XL HiGHS had run 50-65 s past its limit (README Performance).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from highspy.highs import HighsCallbackEvent

from sufficiency.forked import Forked
from sufficiency.solve.rounding import StartResult

# HiGHS 1.16 asks after its setup, again before its root LP, then after every round of root
# cuts and before every dive: its third ask is the first with the root LP solved
ASK_AFTER_ROOT_LP = 3


class StartBeside:
    """The start heuristics running in a forked child, handed to HiGHS at its third ask."""

    def __init__(self, find_start: Callable[[], StartResult]) -> None:
        """Start ``find_start`` in a child now (see :attr:`started` for whether it could)."""
        self._forked = Forked(find_start)
        self._found: StartResult | None = None
        self._arrived = False
        self._asks = 0
        self._deadline = math.inf  # perf_counter seconds: the end of HiGHS's time limit
        self.waited_s = 0.0  # how long HiGHS waited for the start at its ask
        self.late = False  # the start came with too little time left for HiGHS's root

    @property
    def started(self) -> bool:
        """Whether the start runs in a child (no fork, or no room for a child: it does not)."""
        return self._forked.started

    def begin(self, time_limit_s: float) -> None:
        """HiGHS starts now with ``time_limit_s``: it never waits for the start beyond that."""
        self._asks = 0
        self._deadline = time.perf_counter() + time_limit_s
        self.late = False

    def offer(self, event: HighsCallbackEvent) -> None:
        """HiGHS asks for a plan: at its ask after the root LP, wait for the start and hand it."""
        self._asks += 1
        if self._asks != ASK_AFTER_ROOT_LP:
            return
        waiting_from = time.perf_counter()
        found = self._receive(max(0.0, self._deadline - waiting_from))
        arrived_at = time.perf_counter()
        self.waited_s += arrived_at - waiting_from
        if found is None or found.plan is None:
            return  # nothing to end the run with: HiGHS goes on
        if event.data_in is not None:
            event.data_in.setSolution(found.plan.values)
        self.late = found.relaxation_seconds > self._deadline - arrived_at

    def stop_if_late(self, event: HighsCallbackEvent) -> None:
        """HiGHS's interrupt check: stop once the start came too late for its root to end."""
        if self.late:
            event.interrupt()

    def at_end(self, wait: bool = False) -> StartResult | None:
        """After the MIP: the start if it has arrived, and the child stopped.

        ``wait``: HiGHS stopped early (a node or time limit), so wait for the start until
        HiGHS's own deadline; its plan or bound may be better.
        """
        found = self._receive(max(0.0, self._deadline - time.perf_counter()) if wait else 0.0)
        self._forked.stop()
        return found

    def _receive(self, timeout_s: float) -> StartResult | None:
        """The start, waiting up to ``timeout_s`` for it; None if not there or the child failed."""
        if not self._arrived and self._forked.ready(timeout_s):
            received = self._forked.from_child()
            self._found = received[0] if received is not None else None
            self._arrived = True
        return self._found
