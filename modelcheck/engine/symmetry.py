"""Symmetry reduction: nodes of one role are interchangeable unless the spec tells
them apart, so states that differ only by a renaming of such nodes are explored once.

Detection (`symmetric_groups`) is syntactic and conservative. The nodes of a role R
that the spec names with a constant index (`R[0]`, `R[N - 1]`) stay in place; R's
other nodes are interchangeable (when there are at least two) unless the spec can
observe their order or identity beyond equality:
  - an index computed at run time (`R[i]`): any node could be the one named;
  - ordering or arithmetic on node ids (`<`, `<=`, `>`, `>=`, `+`, `-`, ...),
    `min`/`max` over node ids;
  - a `for` loop over a collection of node ids (its iteration order is the id
    order, which a body may observe: last write wins, appends, FIFO send order).
A node id whose role is unknown (type `node`) affects every role. Renamings fix the
named nodes, so the initial state (every node of a role starts alike) is fixed by all
of them, and the spec's steps and invariants commute with them.

`verify` explores packed states and uses `PackedSymmetry` (at the end of this module),
whose representative is canonical. `Symmetry` below works on `State`s: the explorer's
`State` search (Options.packed=False) uses it, and the tests use it as an independent
second implementation, and it provides the renaming of values that both share.

Canonicalisation (`Symmetry.canon`) picks, for each state, a representative among its
renamings: nodes of a symmetric role are sorted by a renaming-invariant key (their own
state with every node id blurred); nodes still tied are tried in every order when that
is cheap (at most 24 orders) and the least resulting state is kept. Any renaming is a
sound representative (an equivalent state); the better the choice, the more states
merge. The renaming is applied everywhere a node id can hide: every variable and ghost
by its type, messages in flight (sender, receiver and fields), cut links, the up/down
and pause status and the clock offsets.

Traces stay concrete: the explorer stores representatives, and rebuilds a trace by
replaying the model from the real initial state, at each step taking the first
successor whose representative is the next one on the path.
"""
from __future__ import annotations

import itertools
import math

from ..faults import KINDS
from ..lang import operators
from ..lang import syntax as S
from ..lang.checker import CheckedSpec
from .model import MEMO_LIMIT
from .packed import NET_MEMO_LIMIT, Interner
from ..lang.types import MapT, NodeT, OptT, SeqT, SetT, TupleT, Type
from ..lang.values import sort_key

MAX_TIE_ORDERS = 24


def symmetric_roles(c: CheckedSpec) -> list[str]:
    """Names of the roles with interchangeable nodes (see symmetric_groups)."""
    return [role for role, _ in symmetric_groups(c)]


def symmetric_groups(c: CheckedSpec) -> list[tuple[str, list[int]]]:
    """Per role, the nodes the spec cannot tell apart (at least two): every node of
    the role but those it names (`Role[0]`, `Role[N - 1]`: a constant index), which
    renamings must leave in place. A role whose nodes are indexed by a computed
    value, ordered, or iterated in id order has none."""
    broken: set[str | None] = set()  # None: every role
    named: dict[str, set[int]] = {}
    trees: list = [c.invariants, c.properties, [g.init for g in c.ghosts]] + [r.decl for r in c.roles]
    for tree in trees:
        for x in S.walk(tree):
            if isinstance(x, S.Index) and isinstance(x.obj, S.Name) and x.obj.ref and x.obj.ref[0] == "role":
                i = _constant(x.index)
                if i is None:
                    broken.add(x.obj.ref[1].name)
                else:
                    named.setdefault(x.obj.ref[1].name, set()).add(i)
            elif (op := operators.lookup(x)) is not None and op.observes_node_order:
                # order or arithmetic on node ids (lang/operators.py)
                for side in operators.operands(x):
                    broken |= _node_roles(side.type)
            elif isinstance(x, S.Call) and x.func in ("min", "max"):
                for a in x.args:
                    broken |= _node_roles(a.type)
            elif isinstance(x, S.For):
                broken |= _node_roles(x.domain.type)
    # A fault kind whose steps do not map onto each other under renaming (a shape
    # tied to node numbers) makes nodes distinguishable: no symmetry at all.
    lines = list(c.faults) + [f for fs in c.scenarios.values() for f in fs]
    if any(f.kind in KINDS and not KINDS[f.kind].renaming_closed for f in lines):
        return []
    if None in broken:
        return []
    out = []
    for r in c.roles:
        if r.count is None or r.name in broken:
            continue
        free = [n for i, n in enumerate(r.node_ids) if i not in named.get(r.name, ())]
        if len(free) >= 2:
            out.append((r.name, free))
    return out


def _constant(e) -> int | None:
    """The value of an index made of integer literals and consts, else None."""
    if isinstance(e, S.IntLit):
        return int(e.value)
    if isinstance(e, S.Name) and e.ref and e.ref[0] == "const":
        return int(e.ref[1])
    if isinstance(e, S.Neg):
        v = _constant(e.operand)
        return None if v is None else -v
    if isinstance(e, S.BinOp) and e.op in ("+", "-", "*"):
        a, b = _constant(e.left), _constant(e.right)
        if a is None or b is None:
            return None
        return a + b if e.op == "+" else a - b if e.op == "-" else a * b
    return None


def _node_roles(t) -> set:
    """The roles whose node ids a value of type t can contain (None: any role)."""
    if t is None:
        return set()
    if isinstance(t, NodeT):
        return {t.role}
    if isinstance(t, OptT):
        return _node_roles(t.inner)
    if isinstance(t, (SetT, SeqT)):
        return _node_roles(t.elem)
    if isinstance(t, MapT):
        return _node_roles(t.key) | _node_roles(t.value)
    if isinstance(t, TupleT):
        out = set()
        for i in t.items:
            out |= _node_roles(i)
        return out
    return set()


def _permuter(t: Type):
    """A function renaming the node ids inside a value of type t, or None if it has none."""
    if isinstance(t, NodeT):
        return lambda v, pi: pi[v]
    if isinstance(t, OptT):
        inner = _permuter(t.inner)
        return None if inner is None else (lambda v, pi: None if v is None else inner(v, pi))
    if isinstance(t, SetT):
        inner = _permuter(t.elem)
        return None if inner is None else (lambda v, pi: frozenset(inner(x, pi) for x in v))
    if isinstance(t, SeqT):
        inner = _permuter(t.elem)
        return None if inner is None else (lambda v, pi: tuple(inner(x, pi) for x in v))
    if isinstance(t, MapT):
        k, val = _permuter(t.key), _permuter(t.value)
        if k is None and val is None:
            return None
        k = k or (lambda x, pi: x)
        val = val or (lambda x, pi: x)
        return lambda v, pi: frozenset((k(a, pi), val(b, pi)) for a, b in v)
    if isinstance(t, TupleT):
        items = [_permuter(i) for i in t.items]
        if all(i is None for i in items):
            return None
        fns = [i or (lambda x, pi: x) for i in items]
        return lambda v, pi: tuple(f(x, pi) for f, x in zip(fns, v))
    return None


class Symmetry:
    def __init__(self, model, roles: list[str]):
        c = model.checked
        self.model = model
        self.roles = roles
        self.groups = [nodes for role, nodes in symmetric_groups(c) if role in roles]
        n = len(c.node_names)
        self.identity = list(range(n))
        self.node_perms = []  # per node: [(var index, permuter)] for vars holding node ids
        for role in c.node_roles:
            self.node_perms.append([(v.index, p) for v in role.vars if (p := _permuter(v.type)) is not None])
        self.ghost_perms = [(g.index, p) for g in c.ghosts if (p := _permuter(g.type)) is not None]
        msgs = sorted(c.messages.values(), key=lambda m: m.index)
        self.msg_perms = [[_permuter(t) or (lambda x, pi: x) for _, t in m.fields] for m in msgs]
        self.blur = [-1] * n  # every node id -> -1: a renaming-invariant view
        self._mkeys: dict = {}  # message -> key of its blurred form
        self._vkeys: dict = {}  # (node, its variables) -> key of their blurred form
        self._nkeys: dict = {}  # node variables -> sort key
        self._renamed: dict = {}  # (message, renaming) -> renamed message
        # renamings of the symmetric roles, and how many of them fix the last state
        # canon() was given (None: not known, too many tie orders were left untried)
        self.group_order = math.prod(math.factorial(len(g)) for g in self.groups)
        self.stabilizer: int | None = 1

    def orbit_size(self) -> int | None:
        """How many states the last canon() result stands for: the renamings of the
        symmetric roles divided by those that leave it unchanged (None: not known)."""
        return None if self.stabilizer is None else self.group_order // self.stabilizer

    # ---- applying a renaming (pi[i]: the new name of node i) ----
    def apply(self, state, pi: list[int]):
        from .model import State
        n = len(pi)
        nodes = [None] * n
        for i in range(n):
            nodes[pi[i]] = self.rename_vars(i, state.nodes[i], pi)
        time = self.rename_time(state.time, pi) if state.time else state.time
        return State(tuple(nodes), self.rename_per_node(state.up, pi), self.rename_net(state.net, pi),
                     self.rename_cut(state.cut, pi), self.rename_ghosts(state.ghosts, pi), state.budgets, time)

    def rename_vars(self, i: int, vals: tuple, pi) -> tuple:
        """Node i's variables with every node id in them renamed."""
        perms = self.node_perms[i]
        if not perms:
            return vals
        vals = list(vals)
        for k, p in perms:
            vals[k] = p(vals[k], pi)
        return tuple(vals)

    def rename_ghosts(self, ghosts: tuple, pi) -> tuple:
        if not self.ghost_perms:
            return ghosts
        g = list(ghosts)
        for k, p in self.ghost_perms:
            g[k] = p(g[k], pi)
        return tuple(g)

    @staticmethod
    def rename_per_node(values: tuple, pi) -> tuple:
        """A tuple with one entry per node (up, clock offsets, pauses), reordered."""
        out = [None] * len(values)
        for i, v in enumerate(values):
            out[pi[i]] = v
        return tuple(out)

    def rename_net(self, net, pi):
        net_model = self.model.network
        return net_model.send(net_model.empty, [self._message(m, pi) for m in net_model.messages(net)])

    @staticmethod
    def rename_cut(cut: frozenset, pi) -> frozenset:
        return frozenset((pi[a], pi[b]) for a, b in cut)

    def rename_time(self, time: tuple, pi) -> tuple:
        now, offsets, paused = time
        return (now, None if offsets is None else self.rename_per_node(offsets, pi), self.rename_per_node(paused, pi))

    def _message(self, m, pi):
        key = (m, tuple(pi))
        out = self._renamed.get(key)
        if out is None:
            fields = self.msg_perms[m[2]]
            payload = tuple(f(x, pi) for f, x in zip(fields, m[3]))
            out = self._renamed[key] = (pi[m[0]], pi[m[1]], m[2], payload) + tuple(m[4:])
        return out

    def _nodes_only(self, state, pi) -> tuple:
        """The renamed nodes' variables alone: enough to rank most tie orders cheaply."""
        nodes = [None] * len(pi)
        for i, vals in enumerate(state.nodes):
            nodes[pi[i]] = self.rename_vars(i, vals, pi)
        nk = self._nkeys
        out = []
        for vals in nodes:
            k = nk.get(vals)
            if k is None:
                k = nk[vals] = sort_key(vals)
            out.append(k)
        return tuple(out)

    # ---- choosing a representative ----
    def canon(self, state):
        keys = self._keys(state)
        tie_groups = []
        pi = list(self.identity)
        for group in self.groups:
            order = sorted(group, key=lambda i: (keys[i], i))
            for pos, old in enumerate(order):
                pi[old] = group[pos]
            # runs of equal keys: their order is still arbitrary
            runs = [list(g) for _, g in itertools.groupby(order, key=lambda i: keys[i])]
            tie_groups += [(group[order.index(r[0]):order.index(r[0]) + len(r)], r) for r in runs if len(r) > 1]
        self.stabilizer = 1  # only renamings within tied runs can fix a state
        if not tie_groups:
            return self.apply(state, pi)
        orders = math.prod(math.factorial(len(r)) for _, r in tie_groups)
        if orders > MAX_TIE_ORDERS:
            self.stabilizer = None
            return self.apply(state, pi)
        # rank every tie order by the renamed nodes' variables (cheap); build whole
        # states only for the orders still tied on that
        ranked = []
        for combo in itertools.product(*[itertools.permutations(r) for _, r in tie_groups]):
            p = list(pi)
            for (slots, _), perm in zip(tie_groups, combo):
                for slot, old in zip(slots, perm):
                    p[old] = slot
            ranked.append((self._nodes_only(state, p), p))
        least = min(k for k, _ in ranked)
        finalists = [p for k, p in ranked if k == least]
        if len(finalists) == 1:
            return self.apply(state, finalists[0])
        best, best_key = None, None
        cands = [self.apply(state, p) for p in finalists]
        for cand in cands:
            k = self._order_key(cand)
            if best_key is None or k < best_key:
                best, best_key = cand, k
        self.stabilizer = sum(1 for c in cands if c == best)
        return best

    def _keys(self, state) -> list:
        """Per node, a key that does not depend on how nodes are named: its status and
        its variables with every node id blurred, plus what it has in flight.
        Keys of node states and messages are memoised: the same few recur everywhere."""
        blur = self.blur
        n = len(state.nodes)
        inbox = [[] for _ in range(n)]
        outbox = [[] for _ in range(n)]
        mkeys = self._mkeys
        for m in self.model.network.messages(state.net):
            bk = mkeys.get(m)
            if bk is None:
                bk = mkeys[m] = sort_key(self._message(m, blur))
            inbox[m[1]].append(bk)
            outbox[m[0]].append(bk)
        vkeys = self._vkeys
        keys = []
        t = state.time
        for i in range(n):
            vals = state.nodes[i]
            vk = vkeys.get((i, vals))
            if vk is None:
                vk = vkeys[(i, vals)] = sort_key(self.rename_vars(i, vals, blur))
            extra = (t[1][i] if t and t[1] is not None else 0, t[2][i] if t else 0)
            cuts = (sum(1 for a, _ in state.cut if a == i), sum(1 for _, b in state.cut if b == i)) if state.cut else ()
            keys.append((state.up[i], extra, vk, tuple(sorted(inbox[i])), tuple(sorted(outbox[i])), cuts))
        return keys

    def _order_key(self, st) -> tuple:
        """A total order on states (to pick the least renaming), from memoised pieces."""
        from ..network import msg_key as _msg_key
        nk = self._nkeys
        nodes = []
        for vals in st.nodes:
            k = nk.get(vals)
            if k is None:
                k = nk[vals] = sort_key(vals)
            nodes.append(k)
        msgs = tuple(_msg_key(m) for m in self.model.network.messages(st.net))
        return (tuple(nodes), st.up, msgs, tuple(sorted(st.cut)), sort_key(st.ghosts) if st.ghosts else (),
                sort_key(st.time) if st.time else ())


# Packed states have few distinct parts, so a whole canonical form is affordable:
# every tie order is tried for roles of up to 5 nodes (5! = 120 orders).
MAX_PACKED_ORDERS = 120


class PackedSymmetry:
    """`Symmetry.canon` for packed states (modelcheck/engine/packed.py), and canonical.

    The representative of a state is the least packed tuple among its renamings
    that sort each symmetric role's nodes by a renaming-invariant key (status, own
    variables with node ids blurred, blurred messages to and from it, cut links at
    it), trying every order of the nodes still tied. That set of candidates is the
    same for every state of an orbit, so its least element is a canonical form:
    renamed states always merge, and the number of states explored is the number of
    orbits (when ties need at most MAX_PACKED_ORDERS orders; beyond that one order
    is taken, which is sound but may leave renamed copies apart).

    Comparing packed tuples compares intern ids, which never change once given, so
    the choice is deterministic. Every renaming of a part (a node's variables, the
    network, the cut, the ghosts) is computed once per permutation and part id and
    then looked up, like the successor work in PackedModel."""

    def __init__(self, pm, sym: Symmetry):
        self.pm, self.sym, self.roles = pm, sym, sym.roles
        self.k = k = pm.k
        self.groups = sym.groups
        self.identity = tuple(range(k))
        # the parts holding node ids: up, network, cut, ghosts, and the time (k + 5) if any
        self.parts = (k, k + 1, k + 2, k + 3) + ((k + 5,) if pm.timed else ())
        self._keys = Interner()  # blurred values and inbox/outbox keys -> comparable ints
        self._node_key: dict = {}  # (node index, node id) -> blurred key
        self._net_key: dict = {}  # net -> per node (inbox key, outbox key)
        self._cut_key: dict = {}  # cut id -> per node (links out, links in)
        self._time_keys: dict = {}  # time id -> per node (clock offset, pause)
        self.no_time = ((0, 0),) * k
        self._perm_ids: dict = {}  # renaming -> small int
        self._perms: list = []
        self._renamed: dict = {}  # (perm id, part, index, id) -> renamed id
        self.group_order = sym.group_order
        self.stabilizer: int | None = 1  # as in Symmetry

    def orbit_size(self) -> int | None:
        """As Symmetry.orbit_size, for the last canon() result."""
        return None if self.stabilizer is None else self.group_order // self.stabilizer

    def canon(self, p: tuple) -> tuple:
        k, pm = self.k, self.pm
        up = pm.up.values[p[k]]
        nk = self._net_key.get(p[k + 1])
        if nk is None:
            nk = self._make_net_key(p[k + 1])
        ck = self._cut_key.get(p[k + 2])
        if ck is None:
            ck = self._make_cut_key(p[k + 2])
        node_key = self._node_key
        tk = self._time_key(p[k + 5]) if pm.timed else self.no_time
        pi = list(self.identity)
        ties = []  # (slots, nodes) for runs of equal keys
        orders = 1
        for group in self.groups:
            keys = {}
            for i in group:
                bk = node_key.get((i, p[i]))
                if bk is None:
                    bk = self._make_node_key(i, p[i])
                keys[i] = (up[i], bk, nk[i], ck[i], tk[i])
            order = sorted(group, key=lambda i: (keys[i], i))
            start = 0
            for pos, old in enumerate(order):
                pi[old] = group[pos]
                if pos + 1 == len(order) or keys[order[pos + 1]] != keys[old]:
                    if pos > start:
                        ties.append((group[start:pos + 1], order[start:pos + 1]))
                        orders *= math.factorial(pos + 1 - start)
                    start = pos + 1
        if not ties or orders > MAX_PACKED_ORDERS:
            self.stabilizer = 1 if not ties else None
            return self.rename(p, tuple(pi))
        best, fixing = None, 0  # the least candidate, and how many renamings give it
        for combo in itertools.product(*[itertools.permutations(nodes) for _, nodes in ties]):
            cand = list(pi)
            for (slots, _), perm in zip(ties, combo):
                for slot, old in zip(slots, perm):
                    cand[old] = slot
            q = self.rename(p, tuple(cand))
            if best is None or q < best:
                best, fixing = q, 1
            elif q == best:
                fixing += 1
        self.stabilizer = fixing
        return best

    def rename(self, p: tuple, pi: tuple) -> tuple:
        """The packed state p with node i renamed to pi[i] everywhere."""
        if pi == self.identity:
            return p
        pid = self._perm_ids.get(pi)
        if pid is None:
            pid = self._perm_ids[pi] = len(self._perms)
            self._perms.append(list(pi))
        k, memo = self.k, self._renamed
        out = list(p)  # budgets name fault lines, not nodes: they stay
        for i in range(k):
            key = (pid, 0, i, p[i])
            r = memo.get(key)
            if r is None:
                r = self._make(key)
            out[pi[i]] = r
        for part in self.parts:
            key = (pid, 1, part, p[part])
            r = memo.get(key)
            if r is None:
                r = self._make(key)
            out[part] = r
        return tuple(out)

    # ---- memo misses ----------------------------------------------------------------

    def _make(self, key: tuple) -> int:
        pid, kind, index, value_id = key
        pi, pm, sym, k = self._perms[pid], self.pm, self.sym, self.k
        if kind == 0:  # node index's variables
            r = pm.nodes.id(sym.rename_vars(index, pm.nodes.values[value_id], pi))
        elif index == k:
            r = pm.up.id(sym.rename_per_node(pm.up.values[value_id], pi))
        elif index == k + 1:
            r = pm.net.id(sym.rename_net(pm.net.values[value_id], pi))
        elif index == k + 2:
            r = pm.cut.id(sym.rename_cut(pm.cut.values[value_id], pi))
        elif index == k + 5:
            r = pm.times.id(sym.rename_time(pm.times.values[value_id], pi))
        else:
            r = pm.ghosts.id(sym.rename_ghosts(pm.ghosts.values[value_id], pi))
        if len(self._renamed) >= MEMO_LIMIT:
            self._renamed.clear()
        self._renamed[key] = r
        return r

    def _time_key(self, t: int) -> tuple:
        """Per node (clock offset, pause ticks left): renaming-invariant keys."""
        r = self._time_keys.get(t)
        if r is None:
            now, offsets, paused = self.pm.times.values[t]
            r = self._time_keys[t] = tuple((offsets[i] if offsets is not None else 0, paused[i])
                                           for i in range(self.k))
        return r

    def _make_node_key(self, i: int, node_id: int) -> int:
        blurred = self.sym.rename_vars(i, self.pm.nodes.values[node_id], self.sym.blur)
        r = self._node_key[(i, node_id)] = self._keys.id(("node", blurred))
        return r

    def _make_net_key(self, net_id: int) -> tuple:
        sym, k = self.sym, self.k
        inbox, outbox = [[] for _ in range(k)], [[] for _ in range(k)]
        for m in self.pm.model.network.messages(self.pm.net.values[net_id]):
            b = self._keys.id(("msg", sym._message(m, sym.blur)))
            inbox[m[1]].append(b)
            outbox[m[0]].append(b)
        ids = self._keys.id
        if len(self._net_key) >= NET_MEMO_LIMIT:  # networks rarely repeat: keep the table small
            self._net_key.clear()
        r = self._net_key[net_id] = tuple((ids(tuple(sorted(a))), ids(tuple(sorted(b))))
                                          for a, b in zip(inbox, outbox))
        return r

    def _make_cut_key(self, cut_id: int) -> tuple:
        links = self.pm.cut.values[cut_id]
        r = self._cut_key[cut_id] = tuple((sum(1 for a, _ in links if a == i), sum(1 for _, b in links if b == i))
                                          for i in range(self.k))
        return r
