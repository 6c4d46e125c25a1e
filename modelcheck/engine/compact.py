"""Compact keys for the exact visited set: each stored state as one bytes object,
where that pays.

In exact mode the packed search's visited set maps every stored state to its parent.
Kept as the packed state itself, a stored state costs its tuple (40 bytes and 8 a
part: 104 for Raft's eight parts) and its network's own object (33 bytes of header
for a `bytes` network, 74 for a `str` one, see packed.NetCodec), besides the dict's
entry. As one `marshal` record of the tuple it costs one bytes object, about 80
bytes for Raft's states.

That alone saves nothing while something else keeps the tuples alive, and under
symmetry the canonical-form memo did: it mapped each successor's tuple to its form's
tuple, the very one stored. So with compact keys the search keeps its own memo of
the successors it canonicalised, by their compact keys, and no forms
(symmetry.PackedSymmetry.memo_by_key): in a search every form computed is stored at
once, so a successor met again needs only "canonicalised before".

Version 2 of the format writes no back-references, so equal states give equal bytes
whatever objects hold their parts (version 3 on refers back to an object met before,
by identity); the record holds only ints, bytes, str and tuples, so `loads` gives an
equal tuple back. The keys never leave the process and are never read from a file.

A key costs a C call per transition, a few tenths of a microsecond. A transition of
the vote count without symmetry costs about 1.5 µs, so compact keys would cost that
model a fifth of its run; one of Raft's, or of any model canonicalised under symmetry,
costs 10-30 µs, where they cost a few percent. So the search measures what its
transitions cost and decides once (`Switch`): it starts with tuples; once WARM states
are stored it times the next WINDOW transitions; at MICROSECONDS or more a
transition, the visited set is converted at the end of that level (`convert`) and
the search goes on under bytes keys. The choice changes no count, verdict or trace:
the same states are stored in the same order, under other keys (tests/test_compact.py
forces it on every example spec and compares)."""
from __future__ import annotations

import marshal
import time

# one record per state: dumps(p, VERSION), and decode gives p back (the search's hot
# loop calls dumps itself: a Python function around it would cost as much again)
VERSION = 2
dumps = marshal.dumps
decode = marshal.loads
# A key that is kept is first copied: keep((key, b"")), a bytes object of its exact
# size. marshal builds its record in a buffer of over a kilobyte and then shrinks
# it in place, so each kept record would pin a block of the C heap with a hole
# behind it too small for the next record's buffer: on Raft that cost 160 MB more
# than the tuples it replaced (445 against 285 MB at the end of the run).
keep = b"".join


def encode(p: tuple) -> bytes:
    """The compact key of packed state p, as kept."""
    return keep((dumps(p, VERSION), b""))


# The switch's rule (see the module docstring)
WARM = 4096  # stored states before timing starts (the memo tables are cold before)
WINDOW = 50_000  # transitions timed
MICROSECONDS = 8.0  # a transition at least this costly: compact keys cost it about 5% or less


class Switch:
    """Whether a search should go over to compact keys: asked at the end of each
    level (`due`), it answers True once, when the transitions timed cost enough, and
    False before and ever after."""

    __slots__ = ("since", "decided", "cost")

    def __init__(self):
        self.since: tuple | None = None  # (seconds, transitions) when timing began
        self.decided = False
        self.cost: float | None = None  # µs a transition, once measured

    def due(self, stored: int, transitions: int) -> bool:
        if self.decided:
            return False
        now = time.perf_counter()
        if self.since is None:
            if stored >= WARM:
                self.since = (now, transitions)
            return False
        t0, n0 = self.since
        if transitions - n0 < WINDOW:
            return False
        self.decided = True
        self.cost = (now - t0) * 1e6 / (transitions - n0)
        return self.cost >= MICROSECONDS


def convert(parents: dict, level: list) -> tuple[dict, list]:
    """The visited set (state -> parent state, or None) and a level of states, under
    compact keys: each parent link, and each key of the level, is the very bytes
    object its state is stored under."""
    keys = {p: encode(p) for p in parents}
    return {keys[p]: (None if q is None else keys[q]) for p, q in parents.items()}, [keys[p] for p in level]
