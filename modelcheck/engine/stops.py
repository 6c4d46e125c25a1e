"""The rules that stop a breadth-first search before it is complete, written once
for both of the explorer's searches (on `State`s and on packed states).

Each rule gives the search's stop reason, the `Result.stop_reason`:

- "max-states": the visited set holds Options.max_states states (checked after
  every new state);
- "max-depth": the next level lies beyond Options.max_depth and holds a state not
  seen yet (checked when a level starts);
- "timeout": Options.timeout has passed (checked every POLL_EVERY new states and
  at the end of each level);
- "memory": the process passed Options.memory_limit or nears its address-space
  limit (limits.MemoryGuard, every POLL_EVERY new states), or Python ran out of
  memory (MemoryError);
- "interrupted": Ctrl-C or SIGTERM (KeyboardInterrupt, see limits.py);
- "worker-lost" (the parallel search only): a worker process ended without
  answering, or its machine left the Ray cluster (engine/parallel/search.py).

The liveness phase after the search has no level or state count to stop at: it
uses `budget()` and stops by limits.StopSearch.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from ..limits import Budget, MemoryGuard, StopSearch

if TYPE_CHECKING:
    from .explorer import Options

# New states between two reads of the clock and of the memory use (3 µs each)
POLL_EVERY = 512


class Stops:
    """The stop rules of one search, from its options and start time.

    The search's innermost loop only compares its state count with `check_at`
    (the next count at which a rule can fire) and calls `reached` there."""

    def __init__(self, options: Options, start: float):
        self.max_states = options.max_states
        self.max_depth = options.max_depth
        self.deadline = start + options.timeout if options.timeout else None  # time.monotonic() value
        self.guard = MemoryGuard(options.memory_limit)
        self.check_at = self._next(1)  # the initial state is stored first

    def _next(self, n: int) -> int:
        """The first state count after `n` at which `reached` has something to check."""
        at = (n // POLL_EVERY + 1) * POLL_EVERY
        return at if self.max_states is None else min(at, max(self.max_states, n + 1))

    def reached(self, n: int) -> str | None:
        """Called when the visited set has grown to `n` states, once n >= check_at
        (it grows one state at a time, so n == check_at): the stop reason, or None
        (and `check_at` moves on). The state bound is tested before the clock and
        the memory, so a run stopped by it does not depend on the machine."""
        self.check_at = self._next(n)
        if self.max_states is not None and n >= self.max_states:
            return "max-states"
        if n % POLL_EVERY == 0:
            if self.deadline is not None and time.monotonic() > self.deadline:
                return "timeout"
            if self.guard.exceeded():
                return "memory"
        return None

    def at_depth_bound(self, depth: int) -> bool:
        """Whether the level about to be expanded (its states `depth` steps from the
        initial state) lies at Options.max_depth: its successors would lie beyond."""
        return self.max_depth is not None and depth >= self.max_depth

    @staticmethod
    def depth_stop(targets: Iterable, key: Callable, seen) -> str | None:
        """At the depth bound: "max-depth" when the bound cuts something off, that is
        when one of `targets`, the successors of the level's states, is not stored
        under its `key` in `seen` yet (a target None, a step that raised a run-time
        error, is a finding beyond the bound). None: nothing new lies beyond, and the
        search is complete."""
        return "max-depth" if any(t is None or key(t) not in seen for t in targets) else None

    def after_level(self, more: bool) -> str | None:
        """At the end of a level: "timeout" when time is up and `more` states wait."""
        if self.deadline is not None and time.monotonic() > self.deadline and more:
            return "timeout"
        return None

    def budget(self) -> Budget:
        """The deadline and memory guard for the liveness phase (limits.Budget)."""
        return Budget(self.deadline, self.guard)

    @staticmethod
    def reason(err: BaseException) -> str:
        """The stop reason for an exception that ends a search (see STOPPING)."""
        if isinstance(err, KeyboardInterrupt):
            return "interrupted"
        if isinstance(err, StopSearch):
            return err.reason
        assert isinstance(err, MemoryError), err
        return "memory"


# The exceptions that stop a search with a summary (Stops.reason) instead of failing
STOPPING = (KeyboardInterrupt, StopSearch, MemoryError)
