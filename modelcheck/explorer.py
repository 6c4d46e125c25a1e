"""Breadth-first exploration with a visited set: the first violation found comes
with a shortest trace.

The explorer sees only the `Model` contract (an initial state and an ordered
successor function). It stores, per visited state, only its parent; a trace is
rebuilt by walking parents back and re-running `successors` on each state to
recover the step taken (the first successor, in the model's fixed order, that
reaches the child), so the stored graph stays small and traces are deterministic.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from .model import Model, State, Step
from .values import SpecRuntimeError


@dataclass
class Options:
    max_states: int | None = None
    max_depth: int | None = None
    timeout: float | None = None
    # Called now and then (every PROGRESS_EVERY new states) with a Progress snapshot;
    # the explorer itself never prints.
    on_progress: Callable[["Progress"], None] | None = None


PROGRESS_EVERY = 4096


@dataclass
class Progress:
    distinct_states: int
    transitions: int
    depth: int
    frontier: int  # states discovered but not yet expanded
    seconds: float


@dataclass
class Violation:
    kind: str  # "invariant" | "assert" | "runtime_error"
    name: str | None  # the invariant's name, for kind "invariant"
    message: str
    span: object  # where in the spec: the invariant, assert or failing expression
    in_invariant: bool = False  # a runtime error raised while evaluating an invariant


@dataclass
class Stats:
    distinct_states: int = 0
    transitions: int = 0
    depth: int = 0
    seconds: float = 0.0

    @property
    def states_per_second(self) -> float:
        return self.distinct_states / self.seconds if self.seconds > 0 else float(self.distinct_states)


@dataclass
class Result:
    verdict: str  # "holds" | "violated" | "incomplete"
    stats: Stats
    initial: State
    trace: list[tuple[Step, State | None]] = field(default_factory=list)
    violation: Violation | None = None
    stop_reason: str | None = None  # for "incomplete": max-states, max-depth, timeout, interrupted
    invariants: list[str] = field(default_factory=list)


def explore(model: Model, options: Options | None = None) -> Result:
    options = options or Options()
    start = time.monotonic()
    stats = Stats()
    init = model.initial
    parents: dict[State, State | None] = {init: None}
    invariant_names = [i.name for i in model.invariants]

    def finish(verdict: str, **kw) -> Result:
        stats.distinct_states = len(parents)
        stats.seconds = time.monotonic() - start
        return Result(verdict, stats, init, invariants=invariant_names, **kw)

    bad = _check(model, init)
    if bad is not None:
        return finish("violated", violation=bad)
    level = [init]
    depth = 0
    deadline = start + options.timeout if options.timeout else None
    truncated = None
    try:
        while level:
            if options.max_depth is not None and depth >= options.max_depth:
                if any(tr.state is None or tr.state not in parents for s in level for tr in model.successors(s)):
                    truncated = "max-depth"
                break
            nxt: list[State] = []
            for s in level:
                for tr in model.successors(s):
                    stats.transitions += 1
                    if tr.error is not None:
                        stats.depth = depth + 1
                        return finish("violated", trace=_trace(model, parents, s) + [(tr.step, None)],
                                      violation=_runtime(tr.error))
                    t = tr.state
                    seen = len(parents)
                    parents.setdefault(t, s)  # one hash of t instead of two (`in`, then store)
                    if len(parents) == seen:
                        continue
                    bad = _check(model, t)
                    if bad is not None:
                        stats.depth = depth + 1
                        return finish("violated", trace=_trace(model, parents, t), violation=bad)
                    nxt.append(t)
                    if options.on_progress is not None and len(parents) % PROGRESS_EVERY == 0:
                        options.on_progress(Progress(len(parents), stats.transitions, depth + 1,
                                                     len(level) + len(nxt), time.monotonic() - start))
                    if options.max_states is not None and len(parents) >= options.max_states:
                        stats.depth = depth + 1
                        return finish("incomplete", stop_reason="max-states")
                    if deadline is not None and len(parents) % 512 == 0 and time.monotonic() > deadline:
                        stats.depth = depth + 1
                        return finish("incomplete", stop_reason="timeout")
            if nxt:
                depth += 1
                stats.depth = depth
            level = nxt
            if deadline is not None and time.monotonic() > deadline and level:
                return finish("incomplete", stop_reason="timeout")
    except KeyboardInterrupt:
        return finish("incomplete", stop_reason="interrupted")
    if truncated:
        return finish("incomplete", stop_reason=truncated)
    return finish("holds")


def _check(model: Model, state: State) -> Violation | None:
    found = model.violated_invariant(state)
    if found is None:
        return None
    inv, err = found
    if err is not None:
        return Violation("runtime_error", inv.name, f"while evaluating invariant '{inv.name}': {err.message}",
                         err.span, in_invariant=True)
    return Violation("invariant", inv.name, f"invariant '{inv.name}' is violated", inv.decl.expr.span)


def _runtime(err: SpecRuntimeError) -> Violation:
    return Violation(err.kind, None, err.message, err.span)


def _trace(model: Model, parents: dict[State, State | None], last: State) -> list[tuple[Step, State]]:
    """Steps from the initial state to `last`, recovered by re-running successors."""
    chain = [last]
    while parents[chain[-1]] is not None:
        chain.append(parents[chain[-1]])
    chain.reverse()
    steps = []
    for a, b in zip(chain, chain[1:]):
        step = next(tr.step for tr in model.successors(a) if tr.state == b)
        steps.append((step, b))
    return steps

