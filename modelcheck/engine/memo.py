"""Memo tables that store only while they pay.

The engines memoise what they compute per part of a state (a node's outcomes per
message, a network's deliveries, the invariants per node variables). Where those
parts rarely repeat, a table costs its inserts and its memory, and memory then
follows the table instead of the visited set. `AdaptiveMemo` measures its own hit
rate and stops storing when it is low.
"""
from __future__ import annotations


# How many entries a memo may hold beside its own limit: set by the packed searches
# from the states they have stored (`follow`, every few hundred states; a parallel
# worker at each level), so that memory follows the visited set (a symmetric search
# of 30,000 states no longer fills tables of 131,072 canonical forms). `explore`
# lifts it when the search ends. ROOM[0] is read by every AdaptiveMemo of the
# process: it only decides when a table is emptied, never what is computed.
ROOM = [1 << 62]
ROOM_PER_STATE = 2
MIN_ROOM = 1 << 15
# The states the search has stored, as last given to `follow` (what a table that
# judges its own reuse counts it against: packed.PackedModel's plans)
STORED = [0]


def follow(states: int) -> None:
    """Let each memo hold ROOM_PER_STATE entries per state the search has stored
    (at least MIN_ROOM: a tighter bound early in a search empties the tables so
    often that Raft's canonical forms were computed again, 10-20% slower);
    `follow(None)` lifts the bound (a search not counting)."""
    ROOM[0] = 1 << 62 if states is None else max(MIN_ROOM, states * ROOM_PER_STATE)
    if states is not None:
        STORED[0] = states


class AdaptiveMemo:
    """A memo table that stores only while it pays.

    Where networks rarely repeat (a vote-counting election: 96% of states have a
    network no earlier state had), a table keyed by a network costs its inserts
    and its memory, and saves almost nothing. The generated code counts hits
    (`hits[0]`), `store` counts misses. The table is judged every `window`
    misses: if at least one lookup in MIN_HIT_RATE hit, it keeps its entries and
    the next window is twice as long (up to `limit` entries, where it is emptied
    as the engines' plain memos are); if not, it is emptied and stops storing.
    The first window is short (FIRST_WINDOW), so a table that does not pay never
    grows large. While off, it tries again after `limit` misses, so a model whose
    parts start repeating later gets its table back. A memo never changes what
    is computed, only when."""

    __slots__ = ("table", "limit", "hits", "misses", "storing", "window")

    MIN_HIT_RATE = 20  # keep storing if hits * 20 >= lookups (5%)
    FIRST_WINDOW = 1 << 12

    def __init__(self, limit: int):
        self.table: dict = {}
        self.limit = limit
        self.hits = [0]  # a list: the generated code increments hits[0]
        self.misses = 0
        self.storing = True
        self.window = min(self.FIRST_WINDOW, limit)

    def store(self, key, value):
        self.misses += 1
        if self.storing:
            if self.misses >= self.window:
                self._judge()
            if self.storing:
                if len(self.table) >= min(self.limit, ROOM[0]):
                    self.table.clear()
                self.table[key] = value
        elif self.misses >= self.limit:
            self.storing, self.hits[0], self.misses = True, 0, 0
        return value

    def _judge(self) -> None:
        hits = self.hits[0]
        self.storing = hits * self.MIN_HIT_RATE >= hits + self.misses
        self.hits[0] = self.misses = 0
        if self.storing:
            self.window = min(self.window * 2, self.limit)
        else:
            self.table.clear()
            self.window = min(self.FIRST_WINDOW, self.limit)
