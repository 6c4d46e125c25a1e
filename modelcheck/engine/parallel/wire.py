"""How workers agree on states although each interns values in its own order.

A packed state (engine/packed.py) is a tuple of intern ids plus the bytes of its
network's message ids, and every worker process hands out those ids in the order
it meets values, so the same state has different packed forms in two workers.
Two things cross a process boundary, and neither may depend on that order:

- **who owns a state** (`Owner`): a worker keeps the states whose *value* hash
  maps to it. The hash is a sum of per-part terms (a node's variables, a message
  in flight, the fault budgets), each computed once per intern id from the value
  itself (`stable_hash`, independent of the hash seed), so every worker computes
  the same owner for the same state. Under symmetry the terms are taken on the
  values with every node id blurred and summed without regard to position, so
  every renaming of a state has the same owner, which alone canonicalises it.
- **the state itself** (`Outbox`, `Inbox`): a batch carries the sender's packed
  tuples as they are, plus the values of every intern id the sender gave out
  since its last batch to that receiver; the receiver keeps, per sender and per
  intern table, a list from the sender's ids to its own, so a handed-over state
  costs a few list lookups (and, for a network, a sort of a few small ints), not
  a rebuild from values. Values cross once per sender and receiver, states as
  tuples of small ints.
"""
from __future__ import annotations

import pickle

from ..stable import MASK, mix as _mix, stable_hash

# The intern tables of a PackedModel that a packed state refers to (the network's
# bytes refer to `msgs`), in the order an Outbox sends their new values.
TABLES = ("nodes", "up", "cut", "ghosts", "budgets", "times", "msgs")


class Owner:
    """The worker that owns a packed state, out of `n` (see the module docstring).

    `sym`: the search's symmetry (engine/symmetry.Symmetry) or None; with it, the
    owner is the same for every renaming of a state."""

    def __init__(self, pm, sym, n: int):
        self.pm, self.sym, self.n = pm, sym, n
        self.k = pm.k
        self._node: dict = {}  # (index, node id) -> term
        self._up: dict = {}  # up id -> term
        self._budget: dict = {}  # budgets id -> term
        self._msg: list = []  # message id -> term
        if sym is not None:
            group = {}
            for g, members in enumerate(sym.groups):
                for i in members:
                    group[i] = g
            # a node's place in the hash: its group when symmetric, else its index
            self._place = [("g", group[i]) if i in group else ("n", i) for i in range(self.k)]
        else:
            self._place = [("n", i) for i in range(self.k)]

    def __call__(self, p: tuple) -> int:
        if self.n == 1:
            return 0
        k, node = self.k, self._node
        h = 0
        for i in range(k):
            t = node.get((i, p[i]))
            if t is None:
                t = self._node_term(i, p[i])
            h += t
        t = self._up.get(p[k])
        if t is None:
            t = self._up_term(p[k])
        h += t
        t = self._budget.get(p[k + 4])
        if t is None:
            t = self._budget[p[k + 4]] = stable_hash(self.pm.budgets.values[p[k + 4]])
        h += t
        net = p[k + 1]
        msg = self._msg
        if len(msg) < len(self.pm.msgs.values):
            self._grow_msgs()
        h += sum(map(msg.__getitem__, net if 255 not in net else self.pm.net.ids(net)))
        return (_mix(h & MASK) >> 16) % self.n

    def _value(self, i: int, vals):
        sym = self.sym
        return vals if sym is None else sym.rename_vars(i, vals, sym.blur)

    def _node_term(self, i: int, node_id: int) -> int:
        t = self._node[(i, node_id)] = stable_hash((self._place[i], self._value(i, self.pm.nodes.values[node_id])))
        return t

    def _up_term(self, up_id: int) -> int:
        up = self.pm.up.values[up_id]
        # how many nodes of each place are up: the same for every renaming
        counts: dict = {}
        for i, u in enumerate(up):
            counts[(self._place[i], bool(u))] = counts.get((self._place[i], bool(u)), 0) + 1
        t = self._up[up_id] = stable_hash(tuple(sorted(counts.items())))
        return t

    def _grow_msgs(self) -> None:
        values, msg, sym = self.pm.msgs.values, self._msg, self.sym
        while len(msg) < len(values):
            m = values[len(msg)]
            msg.append(stable_hash(m if sym is None else sym._message(m, sym.blur)))


class Outbox:
    """Batches from one worker to one other (see the module docstring): the packed
    states as the sender has them, and the values of the ids the receiver has not
    been told yet."""

    def __init__(self, pm):
        self.pm = pm
        self.told = dict.fromkeys(TABLES, 0)  # per table: how many of its ids the receiver knows

    def seal(self, keys: list, states: list) -> bytes:
        pm, told, new = self.pm, self.told, {}
        for name in TABLES:
            values = _table(pm, name).values
            if len(values) > told[name]:
                new[name] = values[told[name]:]
                told[name] = len(values)
        return pickle.dumps((new, keys, states), protocol=pickle.HIGHEST_PROTOCOL)


class Inbox:
    """The receiving end of one sender's Outbox: its ids mapped to this worker's."""

    def __init__(self, pm):
        self.pm = pm
        self.k, self.timed = pm.k, pm.timed
        self.maps = {name: [] for name in TABLES}

    def open(self, batch: bytes) -> tuple[list, list]:
        """(keys, states) of a batch, the states in this worker's ids."""
        new, keys, states = pickle.loads(batch)
        pm = self.pm
        for name, values in new.items():
            ids = _table(pm, name).id
            self.maps[name].extend(ids(v) for v in values)
        return keys, [self._translate(p) for p in states]

    def _translate(self, p: tuple) -> tuple:
        k, maps = self.k, self.maps
        nodes = maps["nodes"].__getitem__
        out = tuple(map(nodes, p[:k]))
        net = p[k + 1]
        mids = maps["msgs"]
        codec = self.pm.net
        if codec.bag and 255 not in net:
            ids = [mids[i] for i in net]
            ids.sort()
            net2 = bytes(ids) if not ids or ids[-1] < 255 else codec._encode(ids)
        else:
            ids = [mids[i] for i in codec.ids(net)]
            if codec.bag:
                ids.sort()
            net2 = codec._encode(ids)
        out += (maps["up"][p[k]], net2, maps["cut"][p[k + 2]], maps["ghosts"][p[k + 3]], maps["budgets"][p[k + 4]])
        if self.timed:
            out += (maps["times"][p[k + 5]],)
        return out


def _table(pm, name: str):
    return getattr(pm, name)
