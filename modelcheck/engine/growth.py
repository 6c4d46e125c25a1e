"""What keeps growing when a search stops early: the hint an INCOMPLETE result gives
the author of a model that may be infinite (docs/language.md, "Keeping models small").

A breadth-first search goes level by level: the states first reached at depth 0,
1, ..., d. In a model whose network grows without end
(an action that can always send another message), the states new at depth d are
the ones with more messages in flight than any before them, so the largest number
of messages of one kind in one state climbs level after level; a variable that
keeps taking new values climbs the same way. The explorer keeps a sample of each of its
last levels (`Recent`: at most SAMPLE states of each, evenly spaced); when it stops
early, `analyse` reads them (within a time budget) and reports
each message kind, and each variable (its value for integers, its size for sets,
seqs and maps), whose largest value rose at every one of the last RISES levels,
once the search is FIRST_DEPTH levels deep (any model's first levels fill up).
Message counts are only looked at when delivery consumes (`unordered`, `fifo`): a
message set is bounded by the possible messages.

It is an observation about the levels explored, not a proof: the smt lint's W107
(`modelcheck check`) says when a step can send without bound.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from ..lang.types import IntT, MapT, SeqT, SetT

SAMPLE = 400  # states read per level
WINDOW = 6  # complete levels looked at, the last one included
RISES = 4  # the largest value must rise at each of the last RISES levels
SECONDS = 1.0  # time budget of the whole analysis
# Every model's first levels fill up (nodes start sending, counters start counting):
# nothing is reported before the search has gone this deep
FIRST_DEPTH = 2 * RISES


@dataclass
class Growing:
    """One thing still growing when the search stopped."""

    kind: str  # "messages" (in flight, of one kind), "value" (an integer variable), "size" (a collection)
    name: str  # the message kind, or Role.var / ghost name
    largest: int  # the largest count / value / size seen at `depth`
    depth: int
    history: list[tuple[int, int]] = field(default_factory=list)  # (depth, largest) per level, oldest first

    def text(self) -> str:
        if self.kind == "messages":
            return (f"messages in flight keep growing: up to {self.largest:,} {self.name} in one state at depth "
                    f"{self.depth}" + self._was())
        if self.kind == "value":
            return f"{self.name} keeps taking new values: up to {self.largest:,} at depth {self.depth}" + self._was()
        return (f"{self.name} keeps growing: up to {self.largest:,} element{'s' if self.largest != 1 else ''} at "
                f"depth {self.depth}" + self._was())

    def _was(self) -> str:
        if len(self.history) < 2:
            return ""
        d, v = self.history[0]
        return f" ({v:,} at depth {d})"

    def json(self) -> dict:
        return {"kind": self.kind, "name": self.name, "largest": self.largest, "depth": self.depth,
                "history": [{"depth": d, "largest": v} for d, v in self.history]}


class Recent:
    """A sample of each of a search's last WINDOW levels, taken when the level is
    complete (before any of its states is expanded or freed): at most SAMPLE states,
    evenly spaced, so keeping them costs nothing next to the search."""

    def __init__(self, initial):
        self._levels: deque = deque([(0, [initial])], maxlen=WINDOW)

    def add(self, depth: int, level: list) -> None:
        if level and (not self._levels or self._levels[-1][0] != depth):
            step = max(1, len(level) // SAMPLE)
            # a level spilled to disk (engine/frontier.py) keeps its own sample
            sample = getattr(level, "sample", None)
            self._levels.append((depth, sample(step) if sample is not None else level[::step]))

    def levels(self) -> list[tuple[int, list]]:
        return list(self._levels)


def analyse(model, levels: list[tuple[int, list]], to_state=None, seconds: float = SECONDS) -> list[Growing]:
    """What rose at every one of the last RISES levels of `levels` ((depth, states),
    complete levels, in depth order). `to_state` turns a stored key into the model's
    State (packed states), identity by default. Needs a compiled `engine.model.Model`
    (its spec's names and its network); anything else gives no hint."""
    checked = getattr(model, "checked", None)
    network = getattr(model, "network", None)
    if checked is None or network is None or len(levels) < RISES + 1 or levels[-1][0] < FIRST_DEPTH:
        return []
    # a message set holds each distinct message once: its size is bounded by the kinds'
    # payloads, so only a consuming network (a multiset, queues) can grow for ever
    count_messages = getattr(network, "consumes", True)
    deadline = time.monotonic() + seconds
    kinds = sorted(checked.messages.values(), key=lambda m: m.index)
    roles = checked.node_roles
    series: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for depth, states in levels:
        top: dict[tuple[str, str], int] = {}
        for s in states:
            if time.monotonic() > deadline:
                return []
            st = to_state(s) if to_state is not None else s
            counts: dict[int, int] = {}
            for m in network.messages(st.net) if count_messages else ():
                counts[m[2]] = counts.get(m[2], 0) + 1
            for k, n in counts.items():
                key = ("messages", kinds[k].name)
                if n > top.get(key, -1):
                    top[key] = n
            for n, role in enumerate(roles):
                vals = st.nodes[n]
                for v in role.vars:
                    _measure(top, f"{role.name}.{v.name}", v.type, vals[v.index])
            for g in checked.ghosts:
                _measure(top, f"ghost {g.name}", g.type, st.ghosts[g.index])
        for key, v in top.items():
            series.setdefault(key, []).append((depth, v))
    last = levels[-1][0]
    out = []
    for (kind, name), hist in series.items():
        tail = hist[-(RISES + 1):]
        if len(tail) < RISES + 1 or tail[-1][0] != last or tail[0][0] != last - RISES:
            continue
        if all(b[1] > a[1] for a, b in zip(tail, tail[1:])):
            out.append(Growing(kind, name, tail[-1][1], last, tail))
    order = {"messages": 0, "value": 1, "size": 2}
    out.sort(key=lambda g: (order[g.kind], -g.largest, g.name))
    return out


def _measure(top: dict, name: str, t, value) -> None:
    """Keep the largest value of an integer variable, or size of a set, seq or map,
    seen in this level (other types, and `none`, are not measured)."""
    if isinstance(t, IntT) and isinstance(value, int) and not isinstance(value, bool):
        key, n = ("value", name), value
    elif isinstance(t, (SetT, SeqT, MapT)) and hasattr(value, "__len__"):
        key, n = ("size", name), len(value)
    else:
        return
    if n > top.get(key, -10**18):
        top[key] = n
