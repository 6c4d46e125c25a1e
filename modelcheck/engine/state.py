"""The transition system's data: a global `State`, a `Step` (what happened, in the
spec's terms) and a `Transition` (a step and the state it leads to).

Kept apart from model.py, which builds them, so that the fault kinds
(modelcheck/faults) can build states without importing the model, which imports
them.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple


class State(NamedTuple):
    """One global state. Every field is immutable and hashable."""

    nodes: tuple  # per node: tuple of its variable values, in declaration order
    up: tuple  # per node: True while up
    net: object  # messages in flight, in the delivery mode's canonical form
    cut: frozenset  # cut directed links (src, dst)
    ghosts: tuple  # ghost variable values
    budgets: tuple  # remaining budget of each bounded fault line, in faults-block order
    # With a time block: (now, clock offsets per node or None before the `clocks`
    # step, remaining pause ticks per node); () without one.
    time: tuple


# State(...) without the Python-level __new__ of a NamedTuple (the explorer builds
# millions): new_state((nodes, up, net, cut, ghosts, budgets, time)).
new_state = functools.partial(tuple.__new__, State)


@dataclass(slots=True)
class Step:
    """What happened in one transition, in the spec's own terms."""

    # deliver | action | a fault kind's keyword (modelcheck/faults) | tick (time
    # passes) | clocks (the clock offsets are chosen, first step with skew)
    kind: str
    node: int | None = None
    name: str | None = None  # the handler's message kind, or the action's name
    params: tuple = ()  # action parameters: ((name, value, type), ...)
    message: tuple | None = None  # delivered / lost / duplicated message (src, dst, kind, payload)
    sent: tuple = ()  # messages sent by the step
    chosen: tuple = ()  # `let x = any S` choices: ((name, value, type), ...)
    detail: tuple | None = None  # what the kind records: partition sides, a cut link, a ring...
    span: object = None  # source span of the handler/action/fault, for reports
    # client operations the step invoked or completed (modelcheck/consistency/history.py):
    # ((what, register index, client node, kind, key, value), ...), what "invoke" | "complete"
    ops: tuple = ()


@dataclass(slots=True)
class Transition:
    step: Step
    state: State | None  # None when the step raised `error`
    error: object = None  # a lang.values.SpecRuntimeError
