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

from ..stable import stable_hash

_GOLDEN = 0x9E3779B1
# A term is TERM_BITS wide, so that a state's sum of a few dozen terms stays one
# digit of a CPython int (below 2**30: additions on the fast path, no allocation
# of a long integer per term) and the owner costs a third of what 64-bit terms did.
TERM_BITS = 24


def _term(value) -> int:
    return stable_hash(value) >> (64 - TERM_BITS)

# The intern tables of a PackedModel that a packed state refers to (the network's
# bytes refer to `msgs`), in the order an Outbox sends their new values.
TABLES = ("nodes", "up", "cut", "ghosts", "budgets", "times", "msgs")


class Owner:
    """The worker that owns a packed state, out of `n` (see the module docstring).

    `sym`: the search's symmetry (engine/symmetry.Symmetry) or None; with it, the
    owner is the same for every renaming of a state."""

    def __init__(self, pm, sym, n: int, parts: tuple | None = None):
        self.pm, self.sym, self.n = pm, sym, n
        self.k = pm.k
        # hash only these nodes' variables (choose_parts: successors mostly stay with
        # their parent's owner); None: the whole state
        self.parts = parts
        # the terms, in lists indexed by intern id (None: not computed yet), so that a
        # state's hash is a few C-level sums over `map`s (see __call__)
        self._nodes: list[list] = [[] for _ in range(self.k)]  # per node index: node id -> term
        self._ups: list = []  # up id -> term
        self._budgets: list = []  # budgets id -> term
        self._msg: list = []  # message id -> term
        # the chosen nodes' term lists (the same list objects: _pad extends in place)
        self._chosen = [self._nodes[i] for i in parts] if parts is not None else []
        if sym is not None:
            group = {}
            for g, members in enumerate(sym.groups):
                for i in members:
                    group[i] = g
            # a node's place in the hash: its group when symmetric, else its index
            self._place = [("g", group[i]) if i in group else ("n", i) for i in range(self.k)]
        else:
            self._place = [("n", i) for i in range(self.k)]

        self.function = self._generate()

    def __call__(self, p: tuple) -> int:
        return self.function(p)

    def _generate(self):
        """The owner of a packed state as one generated function (the worker calls it
        for every successor it has not met: a sum of list lookups written out costs
        a third of a generic loop over the parts). Its text holds only slot numbers."""
        if self.n == 1:
            return lambda p: 0
        k = self.k
        if self.parts is not None:
            terms = [f"T{j}[p[{int(i)}]]" for j, i in enumerate(self.parts)]
            env = {f"T{j}": t for j, t in enumerate(self._chosen)}
        else:
            terms = [f"T{i}[p[{i}]]" for i in range(k)] + [f"U[p[{k}]]", f"B[p[{k + 4}]]", "sum(map(M.__getitem__, net))"]
            env = {f"T{i}": t for i, t in enumerate(self._nodes)}
            env.update(U=self._ups, B=self._budgets, M=self._msg)
        lines = ["def owner(p):"]
        if self.parts is None:
            lines += [f"    net = p[{k + 1}]",
                      "    if net.__class__ is not bytes:",
                      "        net = ids(net)"]
        lines += ["    try:",
                  f"        h = {' + '.join(['0'] + terms)}",  # 0 + None raises, as a term not computed must
                  "    except (TypeError, IndexError):  # a term not computed yet (None, or past its list)",
                  "        fill(p)",
                  "        return owner(p)",
                  # multiplicative hashing: the product's middle bits mix every bit of h
                  f"    return ((h * {_GOLDEN}) >> {TERM_BITS}) % {int(self.n)}"]
        env.update({"__builtins__": {}, "sum": sum, "map": map, "TypeError": TypeError, "IndexError": IndexError,
                    "fill": self._fill, "ids": self.pm.net.ids, "bytes": bytes})
        exec(compile("\n".join(lines), "<owner>", "exec"), env)  # noqa: S102 - generated from slot numbers only
        return env["owner"]

    def _fill(self, p: tuple) -> None:
        pm, k = self.pm, self.k
        for i in range(k):
            _pad(self._nodes[i], p[i])
            if self._nodes[i][p[i]] is None:
                self._nodes[i][p[i]] = _term((self._place[i], self._value(i, pm.nodes.values[p[i]])))
        _pad(self._ups, p[k])
        if self._ups[p[k]] is None:
            self._ups[p[k]] = self._up_term(p[k])
        _pad(self._budgets, p[k + 4])
        if self._budgets[p[k + 4]] is None:
            self._budgets[p[k + 4]] = _term(pm.budgets.values[p[k + 4]])
        self._grow_msgs()

    def _value(self, i: int, vals):
        sym = self.sym
        return vals if sym is None else sym.rename_vars(i, vals, sym.blur)

    def _up_term(self, up_id: int) -> int:
        up = self.pm.up.values[up_id]
        # how many nodes of each place are up: the same for every renaming
        counts: dict = {}
        for i, u in enumerate(up):
            counts[(self._place[i], bool(u))] = counts.get((self._place[i], bool(u)), 0) + 1
        return _term(tuple(sorted(counts.items())))

    def _grow_msgs(self) -> None:
        values, msg, sym = self.pm.msgs.values, self._msg, self.sym
        while len(msg) < len(values):
            m = values[len(msg)]
            msg.append(_term(m if sym is None else sym._message(m, sym.blur)))


def model_signature(pm) -> int:
    """A hash of a packed model's shape and initial state, the same in every process:
    a worker that built the model itself (on a Ray cluster) checks that it got the
    search's model (same spec, same modelcheck), since their states must agree."""
    p, k = pm.initial, pm.k
    parts = (k, len(p), [pm.nodes.values[i] for i in p[:k]], pm.up.values[p[k]],
             [pm.msgs.values[i] for i in pm.net.ids(p[k + 1])], pm.budgets.values[p[k + 4]])
    return stable_hash(parts)


# choose_parts: how much of the state space it samples, and how even a share of the
# sampled states each worker must get under a candidate partition
SAMPLE_STATES = 3000
FAIR_SHARE = 1.1
MIN_VALUES = 32  # per worker: distinct values the chosen nodes take in the sample


def choose_parts(pm, sym, n: int) -> tuple | None:
    """The nodes whose variables decide a state's owner, or None for the whole state.

    Hashing the whole state sends (n-1)/n of all successors to another worker: every
    step changes some part. Hashing only a node that most steps leave alone (a
    coordinator, a leader) keeps a step's successor with the worker that expanded
    it, so less crosses between processes: Lerda and Sisto's partition by one
    process's local state in distributed Spin. The choice is made on a sample (the
    first SAMPLE_STATES states, breadth first): among single nodes and pairs, the one
    that the fewest sampled steps change, provided the sampled states spread over
    the workers within FAIR_SHARE of an even share; else every node (not the
    network), if as fair; else the whole state. Under symmetry only nodes outside
    the symmetric groups qualify as single nodes and pairs (their hash is the same
    for every renaming). Which worker owns a state never changes a result."""
    if n == 1:
        return None
    grouped = {i for g in (sym.groups if sym is not None else ()) for i in g}
    nodes = [i for i in range(pm.k) if i not in grouped]
    states, edges = [pm.initial], []
    seen = {pm.initial}
    j = 0
    while j < len(states) and len(states) < SAMPLE_STATES:
        s = states[j]
        j += 1
        for t in pm.successors(s):
            if t is None:
                continue
            edges.append((s, t))
            if t not in seen:
                seen.add(t)
                states.append(t)
    if len(states) < 10 * n or not edges:
        return None
    candidates = [(i,) for i in nodes] + [(a, b) for x, a in enumerate(nodes) for b in nodes[x + 1:]]
    best, best_changed = None, None
    for parts in candidates:
        changed = sum(1 for s, t in edges if any(s[i] != t[i] for i in parts)) / len(edges)
        if best_changed is not None and changed >= best_changed:
            continue
        if len({tuple(st[i] for i in parts) for st in states}) < MIN_VALUES * n:
            continue  # too few values to spread deeper levels evenly
        if _fair(pm, sym, n, parts, states):
            best, best_changed = parts, changed
    if best_changed is not None and best_changed < 0.75:
        return best
    # No node keeps successors local: hash every node's variables but not the
    # network (summing a term per message in flight is most of the cost of a hash),
    # if that spreads the states as evenly. Under symmetry the sum over whole groups
    # is the same for every renaming.
    every = tuple(range(pm.k))
    if len({st[:pm.k] for st in states}) >= MIN_VALUES * n and _fair(pm, sym, n, every, states):
        return every
    return None


def _fair(pm, sym, n: int, parts: tuple, states: list) -> bool:
    """Whether hashing `parts` gives each of n workers at most FAIR_SHARE of an even
    share of `states`."""
    owner = Owner(pm, sym, n, parts)
    shares = [0] * n
    for s in states:
        shares[owner(s)] += 1
    return max(shares) <= FAIR_SHARE * len(states) / n


def _pad(terms: list, i: int) -> None:
    if len(terms) <= i:
        terms.extend([None] * (i + 1 - len(terms)))


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
    """The receiving end of one sender's Outbox: its ids mapped to this worker's.

    A batch is translated a part at a time, not a state at a time: each part's ids
    go through one `map` over the whole column (C calls), a part whose ids the two
    workers gave out in the same order is not touched at all, and a bytes network
    goes through one `bytes.translate`. Tuples are rebuilt with one `zip`."""

    def __init__(self, pm):
        self.pm = pm
        self.k, self.timed = pm.k, pm.timed
        self.maps = {name: [] for name in TABLES}
        # per table: how many of the sender's first ids are this worker's same ids
        self.same = dict.fromkeys(TABLES, 0)
        # the message map of one-byte ids as a bytes.translate table, and whether it
        # keeps their order (then a sorted bag stays sorted); None: an id maps past 255
        self._bytes_map: bytes | None = bytes(256)
        self._mapped = 0  # how many ids the table maps (the rest are never met)
        self._monotone = True

    def open(self, batch: bytes) -> tuple[list, list]:
        """(keys, states) of a batch, the states in this worker's ids."""
        new, keys, states = pickle.loads(batch)
        pm = self.pm
        for name, values in new.items():
            ids = _table(pm, name).id
            m = self.maps[name]
            m.extend(map(ids, values))
            same = self.same[name]
            while same < len(m) and m[same] == same:
                same += 1
            self.same[name] = same
            if name == "msgs":
                self._grow_bytes_map()
        if not states:
            return keys, []
        k, maps, same = self.k, self.maps, self.same
        cols = list(zip(*states))
        nodes = maps["nodes"]
        n_same = same["nodes"]
        for i in range(k):
            c = cols[i]
            if max(c) >= n_same:
                cols[i] = map(nodes.__getitem__, c)
        for j, name in ((k, "up"), (k + 2, "cut"), (k + 3, "ghosts"), (k + 4, "budgets")) + (
                ((k + 5, "times"),) if self.timed else ()):
            c = cols[j]
            if max(c) >= same[name]:
                cols[j] = map(maps[name].__getitem__, c)
        cols[k + 1] = self._nets(cols[k + 1])
        return keys, list(zip(*cols))

    def _grow_bytes_map(self) -> None:
        mids = self.maps["msgs"]
        top = min(len(mids), 256)
        if self._bytes_map is None or self._mapped >= top:
            return
        head = mids[:top]
        if max(head) >= 256:
            self._bytes_map = None
            return
        self._monotone = all(a < b for a, b in zip(head, head[1:]))
        self._bytes_map = bytes(head) + bytes(256 - top)
        self._mapped = top

    def _nets(self, col: tuple):
        codec = self.pm.net
        same = self.same["msgs"]
        table, sort = self._bytes_map, codec.bag and not self._monotone
        out = []
        append = out.append
        for net in col:
            if net.__class__ is bytes:
                if not net or max(net) < same:
                    append(net)
                    continue
                if table is not None:
                    net = net.translate(table)
                    append(bytes(sorted(net)) if sort else net)
                    continue
            mids = self.maps["msgs"]
            ids = [mids[i] for i in codec.ids(net)]
            if codec.bag:
                ids.sort()
            append(codec._encode(ids))
        return out


def _table(pm, name: str):
    return getattr(pm, name)
