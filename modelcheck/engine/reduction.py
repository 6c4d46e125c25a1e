"""Sleep sets: skip transitions whose result another explored order already covers.

When two steps are independent (they touch disjoint parts of the state, so either
order gives the same state and neither enables or disables the other), exploring
`s -a-> -b->` and `s -b-> -a->` reaches the same state twice. A sleep set (Godefroid,
"Partial-Order Methods for the Verification of Concurrent Systems", 1996, ch. 5)
remembers at each state the steps already covered by a sibling order and does not
take them again. With state caching and the revisit rule below, every reachable
state is still visited, so invariants see exactly the states they see without the
reduction: verdicts and state counts are unchanged, only transitions are saved.

Independence is decided from each step's *footprint* in the state it is taken
from, which the language makes exact and cheap: node code reads and writes only its
own node's variables (plus ghosts, or everything for roles whose generated code
reads other nodes, liveness or clocks — known at compile time, see
Model._reads_global), consumes at most the message it handles, and adds the
messages it sends. Faults touch what they change: a crash its node, a loss its
message's link, a partition the links it cuts, a budgeted fault its budget.

Why not ample sets (states saved, not only transitions)? Their condition C1 needs
a set of steps at s such that no step outside it that depends on it can happen
first. Here any node can send to any other node at any time, and a delivery to
node n depends on every other step of n, so a node's steps are never such a set
except in trivial models. See docs/language.md, "Pruning".

The revisit rule: a state reached again with a smaller sleep set keeps the
intersection; if it was already expanded, the steps that are no longer covered
are taken from it then (with an empty sleep set for their targets, which is
always sound). Such late targets may be found after their BFS level, so with
pruning a counterexample is always real and replayable but could in principle be
longer than the shortest; `Stats.revisits` counts the revisits (a handful on a few
example specs, and the counterexample lengths there are unchanged: tests/test_reduction.py).
"""
from __future__ import annotations

import itertools

from ..lang import syntax as S
from ..faults import KINDS
from .model import Model, State, Step, ghosts_named, records_operations

EMPTY_SET: frozenset = frozenset()


# A footprint is (writes, reads): two bitmasks over one bit space, so independence
# is two integer ANDs. Bits, for n nodes:
#   node i                     i           (its variables and up/down status)
#   ghosts                     n
#   messages                   n+1 .. n+n*n: with fifo delivery one bit per link
#                              (a, b) at n+1 + a*n+b, since a queue's order makes every
#                              two operations on it conflict; with set and unordered
#                              delivery one of MSG_BITS bits per message value (a
#                              bit chosen by its hash: two messages sharing a bit are merely
#                              treated as dependent). Taking, losing, duplicating or
#                              sending a message all count as writes.
#   cut status of link (a, b)  then one bit per link
#   "the cut set"              then one bit (every cut or heal writes it: they may
#                              enable or disable each other)
#   budget of fault line j     then one bit per budgeted fault line
Footprint = tuple  # (writes: int, reads: int)
MSG_BITS = 256


def independent(a: Footprint, b: Footprint) -> bool:
    return not (a[0] & (b[0] | b[1]) or b[0] & a[1])


def key(step: Step) -> tuple:
    """A transition's identity across states: the same key in a successor state is
    the same step with the same effect when it is independent of the step taken.

    The source span tells apart two handlers of one message kind, and two fault lines
    of one kind (`crash at most 1` and `crash A at most 1` spend different budgets).
    Spans live as long as the model, so their ids are stable within a run (and only
    compared, never ordered)."""
    return (step.kind, step.node, step.name, step.params, step.message, step.chosen, step.detail, id(step.span))


class Footprints:
    """Computes footprints (and keys) of one model's steps."""

    CACHE_LIMIT = 1_000_000

    def __init__(self, model: Model):
        n = self.n = model.n_nodes
        self.all_nodes = (1 << n) - 1
        self.ghost_bit = 1 << n
        self.net0 = n + 1
        self.fifo = model.network.ordered  # a queue's order makes its operations conflict
        self.cut0 = self.net0 + (n * n if self.fifo else MSG_BITS)
        self.cut_set_bit = 1 << (self.cut0 + n * n)
        budget0 = self.cut0 + n * n + 1
        roles = model.checked.node_roles
        self.reads_global = [model._role_reads_global[r.name] for r in roles]
        # A role's steps conflict on ghosts only if they touch a ghost whose updates
        # do not commute (see commuting_ghosts).
        commuting = commuting_ghosts(model.checked)
        # a client operation updates its register's monitor, a ghost that never commutes
        self.uses_ghosts = [bool(ghosts_named(r.decl.handlers + r.decl.actions) - commuting)
                            or records_operations(r.decl.handlers + r.decl.actions) for r in roles]
        # fault line (by its span) -> its budget bit
        self.budget = {id(f.span): 1 << (budget0 + model.budget_slot[i])
                       for i, f in enumerate(model.faults) if i in model.budget_slot}
        # Node steps are memoised by the model (Model._outcomes), so the same Step
        # object recurs in many states: its key and footprint are computed once.
        self._cache: dict[int, tuple] = {}
        self._faults: dict[tuple, Footprint] = {}  # key -> footprint of faults and restarts

    def _link(self, base: int, a: int, b: int) -> int:
        return 1 << (base + a * self.n + b)

    def _msg(self, m: tuple) -> int:
        """The bit of message `m` in flight (see the bit layout above)."""
        if self.fifo:
            return self._link(self.net0, m[0], m[1])
        return 1 << (self.net0 + _stable_hash(m[:4]) % MSG_BITS)

    def of(self, state: State, step: Step) -> tuple[tuple, Footprint]:
        """(key, footprint) of `step` taken from `state`."""
        hit = self._cache.get(id(step))
        if hit is not None and hit[0] is step:
            return hit[1], hit[2]
        kind, n = step.kind, step.node
        if kind in ("deliver", "action"):
            bit = 1 << n
            writes, reads = bit, self.all_nodes if self.reads_global[n] else bit
            if self.uses_ghosts[n]:
                writes |= self.ghost_bit
            msg = step.message
            if msg is not None:
                writes |= self._msg(msg)
                reads |= self._link(self.cut0, msg[0], msg[1])
            for m in step.sent:
                writes |= self._msg(m)
            k = key(step)
            if len(self._cache) >= self.CACHE_LIMIT:
                self._cache.clear()
            self._cache[id(step)] = (step, k, (writes, reads))
            return k, (writes, reads)
        k = key(step)
        fault = KINDS.get(kind)
        if fault is not None and not fault.footprint_by_key:  # e.g. what a restart sends
            return k, self._fault(state, step)
        fp = self._faults.get(k)
        if fp is None:
            fp = self._faults[k] = self._fault(state, step)
        return k, fp

    def _fault(self, state: State, step: Step) -> Footprint:
        """An environment step's footprint: its kind says what it touches
        (modelcheck/faults), plus its line's budget. Time steps and anything else
        depend on everything."""
        fault = KINDS.get(step.kind)
        if fault is None:
            return -1, -1
        writes, reads = fault.footprint(self, state, step)
        return writes | self.budget.get(id(step.span), 0), reads

    # ---- the bit layout, for fault kinds' footprint hooks ---------------------------

    def link_bit(self, a: int, b: int) -> int:
        """The bit of link a -> b's cut status."""
        return self._link(self.cut0, a, b)

    def message_bit(self, m: tuple) -> int:
        """The bit of message m in flight."""
        return self._msg(m)


def _stable_hash(v) -> int:
    """A hash of a value that is equal for equal values and the same in every run.
    Values are ints, bools, None and tuples/frozensets of them; only None needs care
    (before Python 3.12 its hash is its address)."""
    if v is None:
        return 0x5F3759DF
    if isinstance(v, tuple):
        return hash(tuple(_stable_hash(x) for x in v))
    if isinstance(v, frozenset):
        return hash(frozenset(_stable_hash(x) for x in v))
    return hash(v)


def commuting_ghosts(checked) -> set[str]:
    """Ghost variables whose updates all commute with each other, so two steps that
    update them are still independent: every update in the spec is `g |= e` (set
    union) with `e` naming no ghost, or every update is `g = c` with one and the same
    literal `c`, and g is never read by node code. (Node code may read ghosts only
    inside ghost updates, E302, so that is the only place to look.)"""
    forms: dict[str, set] = {g.name: set() for g in checked.ghosts}
    bad: set[str] = set()
    targets: set[int] = set()  # the Name nodes that are assigned (not read) by a whole-ghost update
    code = [[r.decl.handlers, r.decl.actions, r.decl.restart] for r in checked.roles]
    for x in S.walk(code):  # an Assign comes before the names inside it
        if isinstance(x, S.Assign) and _is_ghost(x.target):
            g = x.target.id
            targets.add(id(x.target))
            if x.op == "|=" and not ghosts_named(x.value):
                forms[g].add("union")
            elif x.op == "=" and isinstance(x.value, (S.BoolLit, S.IntLit)):
                forms[g].add(("set", type(x.value).__name__, x.value.value))
            else:
                bad.add(g)
        elif _is_ghost(x) and id(x) not in targets:
            bad.add(x.id)  # read, or written through an index
    return {g for g, f in forms.items() if g not in bad and len(f) <= 1}


def _is_ghost(x) -> bool:
    return isinstance(x, S.Name) and bool(x.ref) and x.ref[0] == "ghost"


def applicable(model: Model) -> bool:
    """Sleep sets need exact footprints; with a time block, ticks and clocks touch
    every node, so they are left off (they would save nothing)."""
    return hasattr(model, "checked") and model.time is None


class SleepSets:
    """The sleep set of every visited state, and the explorer's side of the algorithm.

    A sleep set is a frozenset of (key, footprint) pairs: footprints do not change
    along independent steps, so the one computed where the step was taken stays
    valid. Equal sleep sets are stored once (most are one of a few small sets).
    """

    def __init__(self, model: Model):
        self.footprints = Footprints(model)
        self.waiting: dict[State, frozenset] = {}  # discovered, not yet expanded -> sleep set
        self.done: dict[State, frozenset] = {}  # expanded with a non-empty sleep set -> it
        self.pending: list[tuple[State, set]] = []  # (expanded state, keys to take again)
        self.skipped = 0
        self._interned: dict[frozenset, frozenset] = {}

    def expand(self, s: State, sk, successors):
        """The transitions of `s` (stored under key `sk`: the state or its
        fingerprint) to take, from `successors(s, skip)`: those not in its sleep set.
        The explorer calls `arrive` for each before the next one."""
        asleep = self.asleep = self.waiting.pop(sk, EMPTY_SET)
        self.taken = []
        fp_of = self.footprints.of
        skip = None
        keys: set = set()
        if asleep:
            self.done[sk] = asleep  # only a state with a sleep set can need the revisit rule
            keys = {k for k, _ in asleep}

            def skip(step: Step) -> bool:
                if fp_of(s, step)[0] in keys:
                    self.skipped += 1
                    return True
                return False
        for tr in successors(s, skip):
            if tr.error is not None:
                self.current = None
                yield tr
                continue
            k, fp = fp_of(s, tr.step)
            if k in keys:  # a fault step (node steps were skipped already)
                self.skipped += 1
                continue
            self.current = (k, fp)
            yield tr
            self.taken.append(self.current)

    def _child(self) -> frozenset:
        """The sleep set of the current transition's target: the covered steps of its
        source and the steps taken before it there, that are independent of it."""
        fp = self.current[1]
        child = [x for x in itertools.chain(self.asleep, self.taken) if independent(x[1], fp)]
        if not child:
            return EMPTY_SET
        fs = frozenset(child)
        return self._interned.setdefault(fs, fs)

    def arrive(self, t, is_new: bool) -> None:
        """The current transition reached `t` (a state's key): it keeps the steps covered on every way
        in. (Computed only when needed: most targets are old states without a sleep set.)"""
        if is_new:
            if self.current is not None:
                child = self._child()
                if child:
                    self.waiting[t] = child
            return
        table = self.waiting
        old = table.get(t)
        if old is None:
            table = self.done
            old = table.get(t)
            if old is None:
                return
        child = self._child() if self.current is not None else EMPTY_SET
        kept = old & child
        if len(kept) == len(old):
            return
        if kept:
            table[t] = self._interned.setdefault(kept, kept)
        else:
            del table[t]
        if table is self.done:
            self.pending.append((t, {k for k, _ in old} - {k for k, _ in kept}))
