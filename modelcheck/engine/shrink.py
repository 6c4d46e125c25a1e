"""Shrinking a counterexample that random walks found (`simulate`), hypothesis-style.

A random walk that breaks an invariant is usually far longer than it needs to be:
it wanders before it stumbles on the bad interleaving. Cutting the loops out of the
walk (simulate._cut_loops) removes returns to a state already visited, not detours
through new states. Shrinking removes those too: it proposes shorter variants of
the trace (a stretch of steps dropped, delta debugging's halving chunks down to one
step; two neighbouring steps swapped, which can make a later step droppable), replays
each from the initial state, and keeps a variant when every step in it is still
enabled where it is taken and it still ends in the *same* violation (the same
invariant, or the same run-time error), cut at the first state that violates. It
stops at a fixed point, or after MAX_REPLAYS replays.

The result is a local minimum: no single stretch can be dropped. It is not proved
shortest; `verify` proves that by exhausting the state space.

A step is replayed by what was *chosen* (its kind, node, handler or action,
parameters, delivered message, `any` choices, fault detail), not by what it did: after
an earlier step is dropped, the same action may send other messages, which is fine.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from .invariants import check_state, runtime_violation

# Replays one shrink may spend (each replays at most the trace's length in steps),
# and seconds (a long trace of a big model replays slowly)
MAX_REPLAYS = 20_000
MAX_SECONDS = 10.0


def step_key(step) -> tuple:
    """What a step chose: equal for the 'same' step taken from another state."""
    return (step.kind, step.node, step.name, step.params, step.message, step.chosen, step.detail)


def same_violation(a, b) -> bool:
    return (a.kind, a.name) == (b.kind, b.name) and (a.kind != "runtime_error" or a.message == b.message)


@dataclass
class Shrunk:
    trace: list  # [(Step, State | None)], as Result.trace
    violation: object
    replays: int  # variants replayed
    original: int  # the steps before shrinking
    complete: bool = True  # False: stopped by the replay or time budget, or Ctrl-C


def replay(model, keys: list):
    """Replay steps (by step_key) from the initial state: (trace, violation) at the
    first violating state or failing step, or None if a step is not enabled or
    nothing is violated at the end."""
    state, trace = model.initial, []
    for key in keys:
        tr = next((t for t in model.successors(state) if step_key(t.step) == key), None)
        if tr is None:
            return None
        trace.append((tr.step, tr.state))
        if tr.error is not None:
            return trace, runtime_violation(tr.error)
        bad = check_state(model, tr.state, False)
        if bad:
            return trace, bad[0]
        state = tr.state
    return None


def shrink(model, trace: list, violation, max_replays: int = MAX_REPLAYS, deadline: float | None = None) -> Shrunk:
    """The shortest variant of `trace` found by dropping and swapping steps (see the
    module docstring), within `max_replays` replays and until `deadline` (a
    time.monotonic() value; default MAX_SECONDS from now). A KeyboardInterrupt stops
    it with the best variant so far."""
    out = Shrunk(list(trace), violation, 0, len(trace))
    keys = [step_key(s) for s, _ in trace]
    deadline = time.monotonic() + MAX_SECONDS if deadline is None else deadline

    def attempt(cand: list) -> bool:
        if out.replays >= max_replays or (out.replays % 16 == 0 and time.monotonic() > deadline):
            raise _Spent
        out.replays += 1
        r = replay(model, cand)
        if r is None or not same_violation(r[1], violation) or len(r[0]) >= len(out.trace):
            return False
        out.trace, out.violation = r
        keys[:] = [step_key(s) for s, _ in r[0]]
        return True

    try:
        while True:
            _drop_chunks(keys, attempt)
            if not _swap_then_drop(keys, attempt):
                break
    except (_Spent, KeyboardInterrupt):
        out.complete = False
    return out


class _Spent(Exception):
    """MAX_REPLAYS reached."""


def _drop_chunks(keys: list, attempt) -> None:
    """Drop stretches of halving length, from each position, until none can go."""
    size = max(len(keys) // 2, 1)
    while size >= 1:
        i = 0
        while i + size <= len(keys):
            if not attempt(keys[:i] + keys[i + size:]):
                i += 1
        size //= 2


def _swap_then_drop(keys: list, attempt) -> bool:
    """Swap two neighbouring steps where that lets some single step be dropped;
    whether a shorter variant was found."""
    for i in range(len(keys) - 1):
        swapped = keys[:i] + [keys[i + 1], keys[i]] + keys[i + 2:]
        for j in range(len(swapped)):
            if j in (i, i + 1):
                continue
            if attempt(swapped[:j] + swapped[j + 1:]):
                return True
    return False
