"""Compact keys for the exact visited set: each stored state as one bytes object,
where that pays.

In exact mode the packed search's visited set maps every stored state to its parent.
Kept as the packed state itself, a stored state costs its tuple (40 bytes and 8 a
part: 104 for Raft's eight parts) and its network's own object (33 bytes of header
for a `bytes` network, 74 for a `str` one, see packed.NetCodec), besides the dict's
entry. As one bytes object it costs 33 bytes of header and its record.

The record (`Codec`), in its common form: every part but the network as a two-byte
int (the first signed, so below 32,768), then the network's bytes, to the end. A
Raft state is a record of about 25 bytes, a 64-byte object; `marshal` wrote the
same state in about 55 (five bytes an int, a length per part), a 96-byte object:
32 bytes a stored state less, 14 MB on Raft's 453,627 states. Any other state (a
`str` or tuple network, a larger id) starts with bytes the common form cannot
start with, then says its form. The record depends only on the state's values, so
equal states give equal keys, and `decode` gives the tuple back. The keys never
leave the process and are never read from a file.

That alone saves nothing while something else keeps the tuples alive, and under
symmetry the canonical-form memo did: it mapped each successor's tuple to its form's
tuple, the very one stored. So with compact keys the search keeps its own memo of
the successors it canonicalised, by their compact keys, and no forms
(symmetry.PackedSymmetry.memo_by_key): in a search every form computed is stored at
once, so a successor met again needs only "canonicalised before".

A key costs a few C calls per transition and a decode per expanded state, about
1.3 µs a transition in all on this 2-core machine. A transition of the vote count
without symmetry costs about 2 µs, Paxos's without symmetry 4.5, so compact keys
would cost those models a third of their run or more; one of raft_membership's
costs 80-90 µs, and one of any model canonicalised under symmetry tens, where they
cost a few percent. So the
search measures what its transitions cost and decides once (`Switch`): it starts
with tuples; once WARM states are stored it times the next WINDOW transitions and
then what keys cost on a sample of the level; at RATIO times the keys' cost or more
a transition, the visited set is converted at the end of that level (`convert`) and
the search goes on under bytes keys. A search under symmetry
goes over at the end of its first level, untimed (AT_ONCE). The choice changes no
count, verdict or trace: the same states are stored in the same order, under other
keys (tests/test_compact.py forces it on every example spec and compares). A
parallel worker goes over only when its memory runs short (engine/parallel/worker.py,
Worker._go_compact): it encodes every successor, which costs it more of its run."""
from __future__ import annotations

import marshal
import time
from operator import itemgetter
from struct import Struct
from struct import error as StructError

# The common form's ints: the first signed (so that its last byte, below 0x80, tells
# the common form from the others), the rest unsigned; two bytes each, and four once
# some id outgrows two (the search then converts its keys: `Codec.widened`)
NARROW = ("h", "H")
WIDER = ("i", "I")
# A record not in the common form starts with MARK bytes up to where the common
# form's first int has its last byte, then a form byte (0x80 or more, where the
# common form has less): its network's form (NetCodec: bytes, str, or a tuple of
# ids past the last character), plus LONG when its other parts are written in four
# bytes each (some id past the common form's)
MARK = 0xFF
BYTES, STR, TUPLE, LONG = 0x80, 0x81, 0x82, 0x04


class Codec:
    """The compact keys of one packed model's states (packed.PackedModel: the nodes,
    up, the network at index k + 1, then the cut, the ghosts, the budgets and the
    time if any). The search's hot loop writes out the two forms most states take,
    `short(*ints(p)) + p[net]` for a bytes network and `str_prefix + short(*ints(p))
    + p[net].encode("utf-8", "surrogatepass")` for a str one, and calls `encode`
    when `short` raises (an id too large for it) or for a tuple network: a Python
    call per transition would cost as much as the record.

    A state with an id too large for the common form is kept in the long form, and
    counted (`longs[0]`): a search that sees any at the end of a level goes over to
    the codec with four-byte ints (`widened`, `convert`), so that the states of a
    large model do not each take the long way."""

    __slots__ = ("net", "ints", "short", "str_prefix", "wide", "longs", "encode", "decode", "_short", "_long",
                 "_order", "_flag", "_parts")

    def __init__(self, k: int, parts: int, wide: bool = False):
        self.net, self._parts, self.wide = k + 1, parts, wide
        others = [i for i in range(parts) if i != self.net]
        self.ints = itemgetter(*others)  # the parts besides the network, one C call
        first, rest = WIDER if wide else NARROW
        self._short = Struct(f"<{first}{len(others) - 1}{rest}")
        self._long = Struct(f"<{len(others)}I")
        self._flag = Struct(f"<{first}").size - 1  # where the first int's last byte is
        self.short = self._short.pack
        self.str_prefix = bytes((MARK,) * self._flag + (STR,))
        self.longs = [0]
        # (ints..., network) -> the packed state's order
        self._order = itemgetter(*range(self.net), len(others), *range(self.net, len(others)))
        self.encode = self._encoder()
        self.decode = self._decoder()

    def outgrown(self) -> bool:
        """Whether some state had an id too large for the common form (then the
        search goes over to `widened`, at the end of its level)."""
        return self.longs[0] > 0 and not self.wide

    def widened(self) -> Codec:
        """The codec with four-byte ints, for a search that met larger ids."""
        return Codec(self.net - 1, self._parts, wide=True)

    def _encoder(self):
        """`encode(p)`: the key of packed state p (a closure over the codec's parts:
        a parallel worker encodes every successor)."""
        ints, short, long, at, str_prefix = self.ints, self.short, self._long.pack, self.net, self.str_prefix
        marks, longs = bytes((MARK,) * self._flag), self.longs

        def encode(p: tuple) -> bytes:
            net = p[at]
            try:  # the two common forms first (struct raises for an id too large)
                if net.__class__ is bytes:
                    return short(*ints(p)) + net
                if net.__class__ is str:
                    return str_prefix + short(*ints(p)) + net.encode("utf-8", "surrogatepass")
            except StructError:
                pass
            v = ints(p)
            if net.__class__ is bytes:
                form, tail = BYTES, net
            elif net.__class__ is str:  # ids up to 0x10ffff; one in the surrogates' range is still an id
                form, tail = STR, net.encode("utf-8", "surrogatepass")
            else:
                form, tail = TUPLE, marshal.dumps(net, 2)
            try:
                return marks + bytes((form,)) + short(*v) + tail
            except StructError:  # (ids are never negative)
                longs[0] += 1
                return marks + bytes((form | LONG,)) + long(*v) + tail
        return encode

    def _decoder(self):
        """`decode(key)`: the packed state stored under `key` (a closure over the
        codec's parts: the search decodes every state it expands)."""
        order, short, long = self._order, self._short.unpack_from, self._long.unpack_from
        size, long_size, flag = self._short.size, self._long.size, self._flag
        tails = {BYTES: bytes, STR: lambda b: b.decode("utf-8", "surrogatepass"), TUPLE: marshal.loads}

        def decode(key: bytes) -> tuple:
            form = key[flag]
            if form < 0x80:  # the common form
                return order(short(key) + (key[size:],))
            at = flag + 1
            if form & LONG:
                return order(long(key, at) + (tails[form & ~LONG](key[at + long_size:]),))
            return order(short(key, at) + (tails[form](key[at + size:]),))
        return decode


# The switch's rule (see the module docstring)
WARM = 4096  # stored states before timing starts (the memo tables are cold before)
WINDOW = 50_000  # transitions timed
# A transition that costs at least RATIO times what its keys would cost goes over;
# SAMPLE states of the level are timed for the keys' cost. Measured here, timed from
# WARM states: a key costs a transition 0.9-1.3 µs (decoding included; whole runs
# agree: Paxos without symmetry took 29 s on compact keys, 20.5 on tuples), Paxos's
# transitions 5.7-6.6 times that (they stay on tuples), the vote count's 2.4-2.6,
# Raft's without symmetry 12-14 and raft_membership's 80 (they go over). The rule
# this replaced, a transition of 12 µs or more, made the same choices on this
# machine, but Paxos would have gone over on one 1.4 times slower
RATIO = 10.0
SAMPLE = 2048
# A search under symmetry goes over at the end of its first level, untimed: its
# transitions always cost that much (a canonical form is tens of µs), and before
# WARM states its canonical-form memo held each successor's tuple and its form's, a
# new tuple per call however often the form was met (TwoPhase with 12 resource
# managers, 2,288 states: 19,789 entries, about 6 MB)
AT_ONCE = True


class Switch:
    """Whether a search should go over to compact keys: asked at the end of each
    level (`due`), it answers True once, when the transitions timed cost enough
    beside what a key costs on the same machine, and False before and ever after."""

    __slots__ = ("since", "decided", "cost", "key_cost", "at_once")

    def __init__(self, at_once: bool = False):
        self.since: tuple | None = None  # (seconds, transitions) when timing began
        self.decided = False
        self.cost: float | None = None  # µs a transition, once measured
        self.key_cost: float | None = None  # µs a transition would spend on keys (see due)
        self.at_once = at_once and AT_ONCE  # a search under symmetry: see AT_ONCE

    def due(self, stored: int, transitions: int, sample: list, codec: Codec) -> bool:
        """`sample`: states of the level just finished (tuples), and `codec` the keys
        they would go under: encoding them and decoding the keys back, timed here,
        is what a transition would pay (a key for every successor, a decode for every
        state expanded), so the rule compares two costs measured on this machine at
        the same moment, not one cost with a constant (a machine or a load that
        slows everything down leaves their ratio as it is)."""
        if self.decided:
            return False
        if self.at_once:
            self.decided = True
            return True
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
        if not sample:  # the search has ended: nothing left to convert for
            return False
        self.key_cost = _key_cost(sample[:SAMPLE], codec, stored / max(transitions, 1))
        return self.cost >= RATIO * self.key_cost


def _key_cost(sample: list, codec: Codec, expanded_per_transition: float) -> float:
    """µs a transition would spend on compact keys: encoding a successor, and a share
    of decoding a state when it is expanded, timed on `sample` (not empty)."""
    encode, decode = codec.encode, codec.decode
    t0 = time.perf_counter()
    keys = [encode(s) for s in sample]
    t1 = time.perf_counter()
    for k in keys:
        decode(k)
    t2 = time.perf_counter()
    return ((t1 - t0) + (t2 - t1) * expanded_per_transition) * 1e6 / len(sample)


def convert(codec: Codec, parents: dict, level: list, decode=None) -> tuple[dict, list]:
    """The visited set (state -> parent state, or None) and a level of states, under
    `codec`'s keys: each parent link, and each key of the level, is the very bytes
    object its state is stored under. `decode`: the states are keys of another
    codec (a search going over to wider ints), decoded with it."""
    encode = codec.encode
    keys = {p: encode(p if decode is None else decode(p)) for p in parents}  # one object a state
    return {keys[p]: (None if q is None else keys[q]) for p, q in parents.items()}, [keys[p] for p in level]
