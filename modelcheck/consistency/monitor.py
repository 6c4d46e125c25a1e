"""Incremental consistency checks of one register's history, kept in the state.

Why incremental: a history grows with every operation, and storing it in the state
would make every interleaving of operations a different state. Each check keeps
instead only what decides every possible extension of the history, and it is
updated by each invocation and completion:

- linearizable: the set of configurations a linearization of the history so far
  can be in (Wing & Gong, Lowe; as Porcupine and Knossos search it, here made
  incremental along the search). A configuration is the register's value and the
  pending operations already linearized (a read with the value it returned there).
  A completion keeps the configurations in which the operation can take effect with
  the result it returned; none left: the history cannot be linearized. A map is
  checked key by key (linearizability is local, Herlihy & Wing).
- sequentially_consistent: the same search without real time: configurations are
  the map's value and, per client, its operations not yet placed in the order.
- read_your_writes, monotonic_reads: per client and key, the last value written or
  read, and the order of versions the history forces (transitively closed); a
  forced cycle, or a version forced before the initial value, is a violation.
- monotonic_writes, writes_follow_reads (Terry et al. 1994): the guarantee orders
  versions of a key (a client's writes as it made them; a client's write after the
  versions it read before), and no client may read a version after one it read
  earlier that the guarantee orders after it ("all processes observe w1 before w2").
  Kept: the forced order, and per client and key only the latest versions it read
  (those no other read version is ordered after) and, for monotonic_writes, its
  last write. A failed check collapses to one state: nothing can repair it.

Configuration sets are stored canonically: only the configurations no other
configuration of the set can reach by linearizing more operations (the rest are
implied), so equal futures are equal states. All values are tuples, frozensets,
ints, bools and None: hashable, and ordered by values.sort_key like spec values.
"""
from __future__ import annotations

from dataclasses import dataclass

WRITE, READ = 0, 1
KIND_NAMES = ("write", "read")

# Checks an invariant may name, with the part of the monitor state each keeps.
CHECKS = ("linearizable", "sequentially_consistent", "read_your_writes", "monotonic_reads",
          "monotonic_writes", "writes_follow_reads")
# Checks that name a write by its value (a value may be written to a key once).
SESSION = ("read_your_writes", "monotonic_reads", "monotonic_writes", "writes_follow_reads")


class Misuse(Exception):
    """An operation used against the rules (a second invocation while one is
    pending, a completion with nothing pending): a run-time spec error."""


@dataclass(frozen=True)
class RegisterMonitor:
    """The checks of one `register` declaration. State layout (a tuple):
    (pending, lin, sc, ryw, mr, mw, wfr, written); a part is None when no invariant needs it.
      pending: sorted ((client, kind, key index, written value or None), ...)
      lin:     per key index, a frozenset of (value, frozenset((client, observed)))
      sc:      (ok, frozenset of (values per key, ((client, queue), ...)))
               queue: ((kind, key index, value, done), ...)
      ryw/mr:  (ok, frozenset of forced (a, b) version pairs, ((client, key index), value) pairs)
      mw/wfr:  (ok, forced pairs, ((client, key index), frozenset of latest values read) pairs,
               ((client, key index), last value written) pairs (always () for wfr))
      written: frozenset of (key index, value) written so far (session checks name a
               write by its value, so a value may be written once)."""

    name: str
    keyed: bool  # a map (register NAME[K]) rather than a single register
    keys: tuple  # the key domain, in order ((None,) for a single register)
    init: object
    checks: frozenset

    def key_index(self, key) -> int:
        return self.keys.index(key) if self.keyed else 0

    def initial(self) -> tuple:
        n, c = len(self.keys), self.checks
        lin = tuple(frozenset({(self.init, frozenset())}) for _ in range(n)) if "linearizable" in c else None
        sc = (True, frozenset({((self.init,) * n, ())})) if "sequentially_consistent" in c else None
        ryw = (True, frozenset(), ()) if "read_your_writes" in c else None
        mr = (True, frozenset(), ()) if "monotonic_reads" in c else None
        mw = _OBSERVED_OK if "monotonic_writes" in c else None
        wfr = _OBSERVED_OK if "writes_follow_reads" in c else None
        written = frozenset() if any(x in c for x in SESSION) else None
        return ((), lin, sc, ryw, mr, mw, wfr, written)

    def holds(self, state: tuple, check: str) -> bool:
        pending, lin, sc, ryw, mr, mw, wfr, written = state
        if check == "linearizable":
            return all(lin)
        part = {"sequentially_consistent": sc, "read_your_writes": ryw, "monotonic_reads": mr,
                "monotonic_writes": mw, "writes_follow_reads": wfr}[check]
        return part[0]

    # ---- events -----------------------------------------------------------------

    def invoke(self, state: tuple, client: int, kind: int, ki: int, value) -> tuple:
        pending, lin, sc, ryw, mr, mw, wfr, written = state
        for op in pending:
            if op[0] == client:
                raise Misuse(f"a {KIND_NAMES[op[1]]} on '{self.name}' is still pending on this node "
                             f"(a client has one operation at a time)")
        if kind == WRITE and written is not None:
            if value == self.init or (ki, value) in written:
                raise Misuse(f"value {value!r} is written to '{self.name}'{self._key_text(ki)} a second time "
                             "(or is its initial value): session checks name a write by its value")
            written = written | {(ki, value)}
        pending = tuple(sorted(pending + ((client, kind, ki, value),), key=_client))
        if sc is not None:
            op = (kind, ki, value if kind == WRITE else None, False)
            sc = (sc[0], _sc_roots({(vals, _append(queues, client, op)) for vals, queues in sc[1]}))
        if kind == WRITE:
            # the session order of writes is known at invocation: the client's
            # previous operations have completed
            if mw is not None:
                mw = _observed_write(mw, client, ki, value, after_own_write=True)
            if wfr is not None:
                wfr = _observed_write(wfr, client, ki, value, after_own_write=False)
        return (pending, lin, sc, ryw, mr, mw, wfr, written)

    def complete(self, state: tuple, client: int, kind: int, result) -> tuple:
        pending, lin, sc, ryw, mr, mw, wfr, written = state
        mine = [op for op in pending if op[0] == client]
        if not mine:
            raise Misuse(f"complete {self.name}.{KIND_NAMES[kind]} with no operation of this node pending")
        _, pkind, ki, value = mine[0]
        if pkind != kind:
            raise Misuse(f"complete {self.name}.{KIND_NAMES[kind]}, but the pending operation of this node "
                         f"is a {KIND_NAMES[pkind]}")
        pending = tuple(op for op in pending if op[0] != client)
        observed = result if kind == READ else None
        if lin is not None:
            ops = [(c, k, v) for c, k, i, v in pending + (mine[0],) if i == ki]
            done = (client, observed)
            configs = _lin_closure(lin[ki], ops)[0]
            kept = {(v, L - {done}) for v, L in configs if done in L}
            rest = [op for op in ops if op[0] != client]
            lin = lin[:ki] + (_lin_roots(kept, rest),) + lin[ki + 1:]
        if sc is not None:
            sc = _sc_complete(sc, client, result if kind == READ else None)
        if ryw is not None:
            ryw = _session(ryw, client, kind, ki, value if kind == WRITE else result, self.init, own_writes=True)
        if mr is not None:
            mr = _session(mr, client, kind, ki, value if kind == WRITE else result, self.init, own_writes=False)
        if kind == READ:
            if mw is not None:
                mw = _observed_read(mw, client, ki, result)
            if wfr is not None:
                wfr = _observed_read(wfr, client, ki, result)
        return (pending, lin, sc, ryw, mr, mw, wfr, written)

    def _key_text(self, ki: int) -> str:
        return f"[{self.keys[ki]!r}]" if self.keyed else ""


def _client(op):
    return op[0]  # a client has at most one pending operation


# ---- linearizability ----------------------------------------------------------------

def _lin_closure(configs, ops) -> tuple[set, set]:
    """Every configuration reachable by linearizing pending operations `ops`
    ((client, kind, value), ...), and those reached by at least one step."""
    seen, below = set(configs), set()
    stack = list(configs)
    while stack:
        value, lin = stack.pop()
        taken = {c for c, _ in lin}
        for client, kind, v in ops:
            if client in taken:
                continue
            nxt = (v, lin | {(client, None)}) if kind == WRITE else (value, lin | {(client, value)})
            below.add(nxt)
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen, below


def _lin_roots(configs: set, ops) -> frozenset:
    """The configurations of `configs` that no other one reaches (the canonical form)."""
    return frozenset(configs - _lin_closure(configs, ops)[1])


# ---- sequential consistency -------------------------------------------------------

def _append(queues: tuple, client: int, op: tuple) -> tuple:
    d = dict(queues)
    d[client] = d.get(client, ()) + (op,)
    return tuple(sorted(d.items()))


def _sc_steps(config):
    """Configurations one placement away: the head of some client's queue takes effect."""
    vals, queues = config
    for i, (client, q) in enumerate(queues):
        kind, ki, v, done = q[0]
        if kind == WRITE:
            nvals = vals[:ki] + (v,) + vals[ki + 1:]
        elif done and vals[ki] == v:
            nvals = vals
        else:
            continue
        rest = queues[:i] + (((client, q[1:]),) if len(q) > 1 else ()) + queues[i + 1:]
        yield (nvals, rest)


def _sc_closure(configs) -> tuple[set, set]:
    seen, below = set(configs), set()
    stack = list(configs)
    while stack:
        for nxt in _sc_steps(stack.pop()):
            below.add(nxt)
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen, below


def _sc_roots(configs: set) -> frozenset:
    return frozenset(configs - _sc_closure(configs)[1])


def _sc_complete(sc: tuple, client: int, result) -> tuple:
    """The client's pending operation (the last of its queue, unless a write already
    placed) is done; the history so far is sequentially consistent when some order
    places every completed operation."""
    ok, roots = sc
    new = set()
    for vals, queues in roots:
        d = dict(queues)
        q = d.get(client, ())
        if q and not q[-1][3]:
            kind, ki, v, _ = q[-1]
            d[client] = q[:-1] + ((kind, ki, result if kind == READ else v, True),)
        new.add((vals, tuple(sorted(d.items()))))
    closure, below = _sc_closure(new)
    now_ok = any(all(not op[3] for _, q in queues for op in q) for _, queues in closure)
    return (ok and now_ok, frozenset(new - below))


# ---- session guarantees -------------------------------------------------------------

def _session(part: tuple, client: int, kind: int, ki: int, value, init, own_writes: bool) -> tuple:
    """read_your_writes (own_writes): a read returns the client's last write to the key
    or a version ordered after it; monotonic_reads: a read returns the client's last
    read version or one after it. Versions are (key index, value); every version is
    after the initial value; the forced order must stay acyclic."""
    ok, order, last = part
    d = dict(last)
    if own_writes:
        if kind == WRITE:
            d[(client, ki)] = value
            return (ok, order, tuple(sorted(d.items())))
        before = d.get((client, ki))
    else:
        if kind == WRITE:
            return part
        before = d.get((client, ki))
        d[(client, ki)] = value
    if before is not None and before != value:
        a, b = (ki, before), (ki, value)
        if value == init or (b, a) in order:
            ok = False
        else:
            preds = {x for x, y in order if y == a} | {a}
            succs = {y for x, y in order if x == b} | {b}
            order = order | {(x, y) for x in preds for y in succs}
    return (ok, order, tuple(sorted(d.items())))


# ---- monotonic writes, writes follow reads ----------------------------------------------

_OBSERVED_OK = (True, frozenset(), (), ())
_OBSERVED_FAILED = (False, frozenset(), (), ())  # one state for every failed history


def _observed_write(part: tuple, client: int, ki: int, value, after_own_write: bool) -> tuple:
    """Client `client` invokes a write of `value` to key `ki`: the guarantee orders it
    after the client's previous write to the key (monotonic_writes) or after the
    versions of the key the client read before (writes_follow_reads). A forced cycle
    means no order of versions exists: a violation."""
    ok, order, reads, last = part
    if not ok:
        return part
    w = (ki, value)
    if after_own_write:
        d = dict(last)
        before = {(ki, d[(client, ki)])} if (client, ki) in d else set()
        d[(client, ki)] = value
        last = tuple(sorted(d.items()))
    else:
        before = {(ki, v) for v in dict(reads).get((client, ki), ())}
    if not before:
        return (ok, order, reads, last)
    preds = before | {x for x, y in order if y in before}
    succs = {w} | {y for x, y in order if x == w}
    if preds & succs:
        return _OBSERVED_FAILED
    return (ok, order | {(x, y) for x in preds for y in succs}, reads, last)


def _observed_read(part: tuple, client: int, ki: int, value) -> tuple:
    """Client `client` read `value` of key `ki`: a violation if the order forced so far
    puts it before a version this client read earlier. Kept per client and key: only
    the read versions no other one is ordered after (the order only grows, so a
    dropped version stays below a kept one)."""
    ok, order, reads, last = part
    if not ok:
        return part
    d = dict(reads)
    seen = d.get((client, ki), frozenset())
    v = (ki, value)
    if any((v, (ki, s)) in order for s in seen):
        return _OBSERVED_FAILED
    d[(client, ki)] = frozenset({s for s in seen if ((ki, s), v) not in order} | {value})
    return (ok, order, tuple(sorted(d.items())), last)
