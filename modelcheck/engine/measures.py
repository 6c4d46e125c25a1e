"""Measures: the range of an int expression over the reachable states, each end with
a shortest witness trace (docs/language.md, "Measures").

A measure turns a degradation into a number the search computes ("how far behind
can a replica be", "how many nodes believe they lead at once"). Both searches hand
every new state to a `Tracker`, which evaluates the measures on it (the same state
the invariants are checked on: the canonical one under symmetry) and keeps, per
measure, the lowest and the highest value with the visited-set key of the first
state that reached it. Only a strictly better value replaces an extreme, and the
searches are breadth-first, so that state is the first at the least depth: its
trace, rebuilt from the parent links once the search is over (`results`), is a
shortest one. Nothing is stored per state, and a spec without measures gets no
tracker at all (the searches test for None).

Measures read what invariants read (node variables, ghosts, which nodes are up,
the time), so values are memoised by those parts, as invariants are, and every
reduction that keeps invariant verdicts (symmetry, dropped partitions, dead
messages) keeps the set of values a measure takes and the least depth at which
each is reached. A run-time error while evaluating a measure is reported like one
in an invariant: a violation ending in that state.
"""
from __future__ import annotations

from .memo import AdaptiveMemo
from .result import Extreme, MeasureResult, Violation
from ..lang.values import SpecRuntimeError

# As the invariants' memo (model.INV_MEMO_LIMIT): keyed by the same parts of a state.
MEMO_LIMIT = 1 << 17


class Tracker:
    """The running minimum and maximum of every measure of a model (module docstring)."""

    def __init__(self, measures: list):
        self.measures = measures
        self.lo: list = [None] * len(measures)  # (value, key) per measure
        self.hi: list = [None] * len(measures)
        self.memo = AdaptiveMemo(MEMO_LIMIT)
        self.to_state = None  # the packed search sets its unpack: states are unpacked only on a memo miss

    def see(self, state, read, key) -> list[Violation]:
        """Evaluate the measures on `state`, stored under `key`; `read` is the part of
        it measures read (the memo key). Returns a run-time error as a violation
        (at most one), else []."""
        values = self.values(state, read)
        if isinstance(values, Violation):
            return [values]
        lo, hi = self.lo, self.hi
        for i, v in enumerate(values):
            if lo[i] is None or v < lo[i][0]:
                lo[i] = (v, key)
            if hi[i] is None or v > hi[i][0]:
                hi[i] = (v, key)
        return []

    def values(self, state, read):
        """The measures' values on `state` (a tuple), or the Violation of a run-time
        error, memoised by `read`; the tracker's extremes are left alone (the
        parallel search's workers keep their own, engine/parallel/worker.py)."""
        memo = self.memo
        values = memo.table.get(read)
        if values is None:
            return memo.store(read, self._evaluate(state if self.to_state is None else self.to_state(state)))
        memo.hits[0] += 1
        return values

    def _evaluate(self, state):
        out = []
        for m in self.measures:
            try:
                out.append(m.value(state))
            except SpecRuntimeError as err:
                return Violation("runtime_error", m.name, f"while evaluating measure '{m.name}': {err.message}",
                                 err.span, in_invariant=True)
        return tuple(out)

    def results(self, complete: bool, trace_of) -> list[MeasureResult]:
        """The measures' ranges; `trace_of(key)` rebuilds the trace to a stored state,
        or is None when the visited set is gone."""
        out = []
        for m, lo, hi in zip(self.measures, self.lo, self.hi):
            ends = []
            for end in (lo, hi):
                if end is None:
                    ends.append(None)
                    continue
                ends.append(Extreme(end[0], trace_of(end[1]) if trace_of is not None else None))
            out.append(MeasureResult(m.name, ends[0], ends[1], complete))
        return out


def tracker(model) -> Tracker | None:
    """A Tracker for `model`'s measures, or None when it has none (any explorable
    model may have a `measures` list; models that do not have none)."""
    measures = getattr(model, "measures", None)
    return Tracker(measures) if measures else None
