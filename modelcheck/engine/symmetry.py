"""Symmetry reduction: nodes of one role are interchangeable unless the spec tells
them apart, so states that differ only by a renaming of such nodes are explored once.

Detection (`symmetric_groups`) is syntactic and conservative. The nodes of a role R
that the spec names with a constant index (`R[0]`, `R[N - 1]`) stay in place; R's
other nodes are interchangeable (when there are at least two) unless the spec can
observe their order or identity beyond equality:
  - an index computed at run time (`R[i]`): any node could be the one named;
  - ordering or arithmetic on node ids (`<`, `<=`, `>`, `>=`, `+`, `-`, ...),
    `min`/`max` over node ids, `index(n)` (a node's number within its role);
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
state with every node id blurred); nodes still tied are told apart by partition
refinement and individualisation (engine/refine.py), and the least resulting state is
kept. That choice is the same for every renaming of a state, so renamed states always
merge: one state is stored per orbit. The renaming is applied everywhere a node id can hide: every variable and ghost
by its type, messages in flight (sender, receiver and fields), cut links, the up/down
and pause status and the clock offsets.

Traces stay concrete: the explorer stores representatives, and rebuilds a trace by
replaying the model from the real initial state, at each step taking the first
successor whose representative is the next one on the path.
"""
from __future__ import annotations

import math
from bisect import bisect_left

from . import refine
from ..faults import KINDS
from ..lang import operators
from ..lang import syntax as S
from ..lang.checker import CheckedSpec
from .model import MEMO_LIMIT
from .memo import AdaptiveMemo
from .packed import NET_MEMO_LIMIT
from ..lang.types import MapT, NodeT, OptT, SeqT, SetT, TupleT, Type
from ..lang.values import sort_key

# PackedSymmetry's renaming memo packs (renaming, index, value id) into one int, the
# id in the low ID_BITS: an intern table's ids stay far below 2**40 (each id is a
# Python object of its own, 28 bytes or more)
ID_BITS = 40
ID_MASK = (1 << ID_BITS) - 1


class _Recorder:
    """Passed as the renaming to a permuter: records the node ids it renames."""

    __slots__ = ("seen",)

    def __init__(self):
        self.seen: list = []

    def __getitem__(self, v):
        self.seen.append(v)
        return -1


def _message_edges(m, bk, refs) -> list:
    """A message's edges for refine.canonical: from its sender to its receiver
    (label 1), and from its receiver (2) and its sender (3) to each node its
    fields name; `bk` is the message with node ids blurred, `refs` those nodes."""
    out = [(m[0], (1, bk), m[1])]
    for j in refs:
        out.append((m[1], (2, bk), j))
        out.append((m[0], (3, bk), j))
    return out


def value_key(v):
    """`sort_key`, except that a bool orders as the int it equals: an intern table
    (engine/packed.py) takes False and 0 for one value and keeps whichever it met
    first, so an order that told them apart would depend on the process. Between
    values of one type the order is sort_key's. Both canonicalisers, Symmetry on
    States and PackedSymmetry on packed states, order nodes and renamings by it, so
    they pick the same representative."""
    if v is True or v is False:
        return (2, int(v))
    if isinstance(v, tuple):
        return (3, tuple(value_key(x) for x in v))
    if isinstance(v, frozenset):
        return (4, tuple(sorted(value_key(x) for x in v)))
    return sort_key(v)


def _local_ranks(objs: list) -> list[int]:
    """Each object's rank among the distinct values of `objs` (equal objects, equal
    ranks; order kept). Objects are told apart by identity first, so keys shared by
    many states are neither hashed nor compared item by item more than needed."""
    uniq = list({id(o): o for o in objs}.values())
    uniq.sort()
    rank: dict = {}
    r, prev = -1, _NOTHING
    for o in uniq:
        if prev is _NOTHING or o != prev:
            r += 1
        rank[id(o)] = r
        prev = o
    return [rank[id(o)] for o in objs]


_NOTHING = object()


def _interchangeable(ties: list, fixes) -> int:
    """When the nodes the cheap keys leave tied are interchangeable in the state:
    the number of renamings that fix it (the product of the tied classes' sizes,
    factorial), else 0. `ties`: the pairs of nodes adjacent in their group's
    order with equal keys; `fixes(u, v)`: swapping u and v leaves the state as it is.

    If every transposition within each tied class fixes the state, then any order of
    the tied nodes gives the same renamed state, so the order by keys alone is
    canonical: another state of the orbit has the same keys, renamed, and its order
    by keys differs only within tied classes, which are automorphisms. Those
    classes' permutations are then every renaming that fixes the state (a renaming
    that fixes it preserves keys). A quarter of the tied states of Paxos are of this
    kind, and this check costs a few renamings, not refine.canonical's search."""
    count, run, first, last = 1, 1, None, None
    for a, b in ties:
        if a != last:  # a new tied class starts at a (pairs of one class are consecutive)
            count *= math.factorial(run)
            first, run = a, 1
        if not fixes(first, b):
            return 0
        run += 1
        last = b
    return count * math.factorial(run)


def _swap(identity, u: int, v: int) -> tuple:
    pi = list(identity)
    pi[u], pi[v] = v, u
    return tuple(pi)


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
    trees: list = [c.invariants, c.properties, c.measures, [g.init for g in c.ghosts]] + [r.decl for r in c.roles]
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
            elif isinstance(x, S.Call) and x.func in ("min", "max", "index"):
                # the least or greatest node id; a node's number within its role
                for a in x.args:
                    broken |= _node_roles(a.type)
            elif isinstance(x, S.For):
                broken |= _node_roles(x.domain.type)
    # Client operations (modelcheck/consistency): a register's monitor records its
    # clients by node id and is not renamed, so clients are told apart; node ids held
    # as keys or values of a register would be renamed in the state but not in the
    # monitor, so their roles are too.
    for reg in c.registers:
        broken |= set(reg.clients)
        for t in (reg.key, reg.value):
            if t is not None:
                broken |= _node_roles(t)
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
        self._nkeys: dict = {}  # node variables and messages -> value_key
        self._renamed: dict = {}  # (message, renaming) -> renamed message
        # renamings of the symmetric roles, and how many of them fix the last state
        # canon() was given (refine.canonical counts them exactly)
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
            out = self._renamed[key] = self.rename_message(m, pi)
        return out

    def rename_message(self, m, pi) -> tuple:
        """Message m with node i renamed to pi[i], not memoised (PackedSymmetry keeps
        its own memo, by message id and renaming id: memoised here as well, each
        renaming of a message was held twice, the second time under a key holding
        the whole renaming)."""
        payload = tuple(f(x, pi) for f, x in zip(self.msg_perms[m[2]], m[3]))
        return (pi[m[0]], pi[m[1]], m[2], payload) + tuple(m[4:])

    # ---- choosing a representative ----
    def canon(self, state):
        """The least renaming (by `_order_key`) among the leaves of refine.canonical:
        the same for every renaming of `state`, so the number of states explored is
        the number of orbits."""
        keys = self._keys(state)
        pi = list(self.identity)
        ties = []
        for group in self.groups:
            order = sorted(group, key=lambda i: (keys[i], i))
            for pos, old in enumerate(order):
                pi[old] = group[pos]
            ties += [(x, y) for x, y in zip(order, order[1:]) if keys[x] == keys[y]]
        self.stabilizer = 1
        if not ties:  # every node told apart by its own key: one renaming
            return self.apply(state, pi)
        stabilizer = _interchangeable(ties, lambda u, v: self.apply(state, _swap(self.identity, u, v)) == state)
        if stabilizer:  # the tied nodes are interchangeable: the order by keys is canonical
            self.stabilizer = stabilizer
            return self.apply(state, pi)
        marks = self.ghost_marks(state.ghosts)
        keyed = {i: (keys[i], marks.get(i, ())) for g in self.groups for i in g}
        edges = self.edges(state.nodes, self.model.network.messages(state.net), state.cut,
                           self._mkeys.__getitem__)  # each message's blurred key, made by _keys

        def leaf(p):
            st = self.apply(state, list(p))
            return self._order_key(st), st

        def fixes(u, v):
            return self.apply(state, _swap(self.identity, u, v)) == state

        _, best, self.stabilizer = refine.canonical(len(pi), self.groups, keyed, edges, leaf, fixes)
        return best

    # ---- who refers to whom (refine.canonical's edges) ----
    def var_refs(self, i: int, vals: tuple) -> list[tuple[tuple, int]]:
        """(label, node) for every node id in node i's variables: label (0, variable)."""
        out = []
        for idx, perm in self.node_perms[i]:
            rec = _Recorder()
            perm(vals[idx], rec)
            out += [((0, idx), j) for j in rec.seen]
        return out

    def message_refs(self, m) -> list[int]:
        """The node ids in a message's fields."""
        rec = _Recorder()
        for f, x in zip(self.msg_perms[m[2]], m[3]):
            f(x, rec)
        return rec.seen

    def ghost_marks(self, ghosts: tuple) -> dict:
        """Per node id, the sorted indexes of the ghost variables that hold it (with
        repetition): a renaming-invariant mark."""
        marks: dict = {}
        for idx, perm in self.ghost_perms:
            rec = _Recorder()
            perm(ghosts[idx], rec)
            for j in rec.seen:
                marks.setdefault(j, []).append(idx)
        return {j: tuple(sorted(v)) for j, v in marks.items()}

    def edges(self, nodes, messages, cut, blurred) -> list:
        """(a, label, b) for: a's variables hold b; a message from a to b; a message
        to a (label 2) or from a (label 3) names b; the link a -> b is cut."""
        out = [(i, label, j) for i, vals in enumerate(nodes) for label, j in self.var_refs(i, vals)]
        for m in messages:
            out += _message_edges(m, blurred(m), self.message_refs(m))
        out += [(a, (4,), b) for a, b in cut]
        return out

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
                bk = mkeys[m] = value_key(self._message(m, blur))
            inbox[m[1]].append(bk)
            outbox[m[0]].append(bk)
        vkeys = self._vkeys
        keys = []
        t = state.time
        for i in range(n):
            vals = state.nodes[i]
            vk = vkeys.get((i, vals))
            if vk is None:
                vk = vkeys[(i, vals)] = value_key(self.rename_vars(i, vals, blur))
            extra = (t[1][i] if t and t[1] is not None else 0, t[2][i] if t else 0)
            cuts = (sum(1 for a, _ in state.cut if a == i), sum(1 for _, b in state.cut if b == i)) if state.cut else ()
            keys.append((state.up[i], extra, vk, tuple(sorted(inbox[i])), tuple(sorted(outbox[i])), cuts))
        return keys

    def _order_key(self, st) -> tuple:
        """A total order on states (to pick the least renaming), from memoised pieces."""
        nk = self._nkeys  # value -> value_key (node variables and messages)
        out = []
        for vals in list(st.nodes) + list(self.model.network.messages(st.net)):
            k = nk.get(vals)
            if k is None:
                k = nk[vals] = value_key(vals)
            out.append(k)
        n = len(st.nodes)
        nodes, msgs = out[:n], tuple(out[n:])
        return (tuple(nodes), st.up, msgs, tuple(sorted(st.cut)), value_key(st.ghosts) if st.ghosts else (),
                value_key(st.time) if st.time else ())


class PackedSymmetry:
    """`Symmetry.canon` for packed states (modelcheck/engine/packed.py), and canonical.

    Each symmetric role's nodes are sorted by a renaming-invariant key (status, own
    variables with node ids blurred, blurred messages to and from it, cut links at
    it). When that leaves no tie (most states), that order is the representative.
    Otherwise refine.canonical takes over: partition refinement by who refers to
    whom, individualisation of the nodes still tied, and the least packed tuple
    over the leaves, which is the same for every state of an orbit: the number of
    states explored is the number of orbits, at any number of nodes.

    Comparing packed tuples compares intern ids (and networks' ids), which never
    change once given, so the choice is deterministic. Leaves are compared by their
    value key first, so two networks of different forms (bytes and str) are never
    compared. Every renaming of a part (a node's variables, the network, the cut,
    the ghosts) is computed once per permutation and part and then looked up, like
    the successor work in PackedModel."""

    def __init__(self, pm, sym: Symmetry):
        self.pm, self.sym, self.roles = pm, sym, sym.roles
        self.k = k = pm.k
        self.groups = sym.groups
        self.identity = tuple(range(k))
        # the parts holding node ids: up, network, cut, ghosts, and the time (k + 5) if any
        self.parts = (k, k + 1, k + 2, k + 3) + ((k + 5,) if pm.timed else ())
        # blurred values and inbox/outbox keys -> comparable keys made from the values
        # (value_key), not intern ids, so that the order of nodes and the least renaming
        # are the same in every process: a parallel search's workers, each with its own
        # intern ids, store the representative one process stores, which is also the
        # one Symmetry.canon stores
        self._part_key: dict = {}  # (part index, id) -> value_key of the part but the nodes (_value_key)
        self._msg_vk: dict = {}  # message -> its value_key (shared by every network's key)
        self._node_vk: dict = {}  # node id -> value_key of its variables
        self._msg_bk: dict = {}  # message id -> value_key of the message with node ids blurred
        # one object per distinct key, so comparing two equal keys stops at `is`
        # (tuples compare their items by identity first) instead of walking them
        self._key_objects: dict = {}
        self._node_key: dict = {}  # (node index, node id) -> blurred key
        # Tables keyed by a network store only while networks repeat (AdaptiveMemo):
        # on Paxos 90% of lookups hit, on a vote count 3-5%, and there they held
        # about 200 bytes a state.
        self._net_key_memo = AdaptiveMemo(NET_MEMO_LIMIT)
        self._net_key: dict = self._net_key_memo.table  # net -> per node, its inbox key and outbox key (flat)
        self._cut_key: dict = {}  # cut id -> per node (links out, links in)
        self._time_keys: dict = {}  # time id -> per node (clock offset, pause)
        # refine.search's graph, kept per part of a state with labels as ints
        # (label rank * k, see refine's docstring): a label's rank among every label
        # met so far, numbered again (and these tables emptied) when a new one comes
        self._label_list: list = []  # every label so far, ascending
        self._label_lk: dict = {}  # label -> its rank * k
        self._label_epoch = 0  # how many times labels were numbered again
        self._node_adj: dict = {}  # (node index, node id) -> ((label, other node), ...) of its variables
        self._net_adj_memo = AdaptiveMemo(NET_MEMO_LIMIT)
        self._net_adj: dict = self._net_adj_memo.table  # net -> per node its edges out, then per node in
        self._msg_adj: dict = {}  # message id -> per edge (a, (label * k, b), k + b, (label * k, a))
        self._ghost_marks: dict = {}  # ghosts id -> Symmetry.ghost_marks
        self._mid_renamed: dict = {}  # (perm id, message id) -> message id
        self._net_renamed_memo = AdaptiveMemo(NET_MEMO_LIMIT)
        self._net_renamed: dict = self._net_renamed_memo.table  # (perm id, net) -> net
        self.no_time = ((0, 0),) * k
        self._perm_ids: dict = {}  # renaming -> small int
        # (u, v, holders) -> (the swap's perm id, the (node, its place) pairs swap_fixes checks)
        self._swaps: dict = {}
        self._holds: dict = {}  # (node index, node id) -> whether its variables hold a node id (holders)
        self._perms: list = []
        # (perm id * slots + index) << ID_BITS | id -> renamed id: index a node's (its
        # variables) or a part's (up, cut, ghosts, time). One int, not a 4-tuple: 32
        # bytes a key where the tuple took 80, and cheaper to hash (TwoPhase with 12
        # resource managers: 55,016 entries, 3,924,492 lookups)
        self._renamed: dict = {}
        self._slots = k + 6  # every index a packed state has
        self._bases: list = []  # per perm id, per index: the key's high bits
        self.group_order = sym.group_order
        self.stabilizer: int | None = 1  # as in Symmetry
        self._canon_memo = AdaptiveMemo(NET_MEMO_LIMIT)  # packed state -> (canonical form, stabilizer)
        # _make_net_key's fast path: per node, the one-byte message ids to it and from
        # it (as interned so far), the bytes of every other id, and a key per id bytes
        self._sub_ids = 0
        self._sub_keep = [(set(), set()) for _ in range(k)]
        self._sub_delete: list = [(bytes(range(256)),) * 2] * k  # no id interned yet: every byte
        self._sub_key: dict = {}
        # the same for a str network (ids past 255, one character each): per node, a
        # str.translate table deleting every id not from it (the one deleting every id
        # not to it is the network codec's, NetCodec.wide, which the deliveries use)
        self._wide_ids = 0
        self._wide_out: list = [{} for _ in range(k)]
        self._canon_table = self._canon_memo.table

    def orbit_size(self) -> int | None:
        """As Symmetry.orbit_size, for the last canon() result."""
        return None if self.stabilizer is None else self.group_order // self.stabilizer

    def canon(self, p: tuple) -> tuple:
        """The canonical renaming of packed state p (see the class docstring), and
        self.stabilizer set for it. Memoised by p while that pays (a fifth to a
        quarter of the successors canonicalised are states met before, on Paxos, the
        elections and TwoPhase; a lookup costs a fraction of a microsecond, a canonical
        form tens)."""
        hit = self._canon_table.get(p)
        if hit is not None:
            self._canon_memo.hits[0] += 1
            if len(hit) == 2:  # (canonical form, stabilizer): a packed state has 6 parts or more
                self.stabilizer = hit[1]
                return hit[0]
            self.stabilizer = 1
            return hit
        q = self._canon(p)
        # most states are fixed by no renaming but the identity: stored alone, without
        # a pair around it (56 bytes less an entry)
        self._canon_memo.store(p, q if self.stabilizer == 1 else (q, self.stabilizer))
        return q

    def memo_by_key(self) -> tuple:
        """For a search that stores states under compact keys (compact.py): (memo,
        compute). `compute(p)` is canon(p) without the memo; the search keeps its
        own, `memo` (with the same bound and hit rule), of the compact keys of the
        successors it canonicalised.

        In a search every canonical form computed is stored at once unless stored
        before, so a successor met again needs only "canonicalised before", not its
        form: the keys alone do (a compact key is about 64 bytes where the memo held
        the successor's tuple and its form's, which kept stored states' tuples alive
        beside their keys). This memo's entries go, to free them."""
        self._canon_memo.table.clear()
        return AdaptiveMemo(self._canon_memo.limit), self._canon

    def _canon(self, p: tuple) -> tuple:
        k, pm = self.k, self.pm
        up = pm.up.values[p[k]]
        nk = self._net_key.get(p[k + 1])
        if nk is None:
            nk = self._make_net_key(p[k + 1])
        else:
            self._net_key_memo.hits[0] += 1
        ck = self._cut_key.get(p[k + 2])
        if ck is None:
            ck = self._make_cut_key(p[k + 2])
        node_key = self._node_key
        tk = self._time_key(p[k + 5]) if pm.timed else self.no_time
        pi = list(self.identity)
        keys = {}
        ties = []  # (a, b): b follows a in its group's order with an equal key
        for group in self.groups:
            for i in group:
                bk = node_key.get((i, p[i]))
                if bk is None:
                    bk = self._make_node_key(i, p[i])
                keys[i] = (up[i], tk[i], bk, nk[2 * i], nk[2 * i + 1], ck[i])  # Symmetry._keys' order
            order = sorted(group, key=lambda i: (keys[i], i))
            for pos, old in enumerate(order):
                pi[old] = group[pos]
                if pos and keys[order[pos - 1]] == keys[old]:
                    ties.append((order[pos - 1], old))
        self.stabilizer = 1
        if not ties:  # every node told apart by its own key: one renaming
            return self.rename(p, tuple(pi))
        holders = self.holders(p)
        stabilizer = _interchangeable(ties, lambda u, v: self.swap_fixes(p, u, v, holders))
        if stabilizer:
            self.stabilizer = stabilizer
            return self.rename(p, tuple(pi))
        return self._search(p, keys, holders)

    def _search(self, p: tuple, keys: dict, holders: tuple) -> tuple:
        """refine.search on a state whose keys leave ties: who refers to whom, from
        tables kept per part (a node's variables, the network, the cut)."""
        k, sym = self.k, self.sym
        marks = self._ghost_marks.get(p[k + 3])
        if marks is None:
            marks = self._ghost_marks[p[k + 3]] = sym.ghost_marks(self.pm.ghosts.values[p[k + 3]])
        ranks: dict = {}
        for g in self.groups:  # refinement only compares keys: their ranks in a group will do
            ranks.update(zip(g, _local_ranks([(keys[i], marks.get(i, ())) for i in g])))
        colours = refine.initial_colours(k, self.groups, ranks)
        while True:
            epoch = self._label_epoch
            out, into = self._graph(p)
            if self._label_epoch == epoch:  # no label numbered again while it was built
                break
        rename = self.rename
        value_key = self._value_key

        def leaf(pi):
            q = rename(p, pi)
            return value_key(q), q

        def fixes(u, v):
            return self.swap_fixes(p, u, v, holders)

        _, best, self.stabilizer = refine.search(k, self.groups, colours, out, into, leaf, fixes)
        return best

    def _graph(self, p: tuple) -> tuple:
        """Per node, its edges out and its edges in, (label * k, other node) each."""
        k = self.k
        net_adj = self._net_adj.get(p[k + 1])
        if net_adj is None:
            net_adj = self._make_net_adj(p[k + 1])
        else:
            self._net_adj_memo.hits[0] += 1
        out = [list(a) for a in net_adj[:k]]
        into = [list(a) for a in net_adj[k:]]
        node_adj = self._node_adj
        for i in range(k):
            adj = node_adj.get((i, p[i]))
            if adj is None:
                adj = self._make_node_adj(i, p[i])
            if adj:
                out[i] += adj
                for lk, j in adj:
                    into[j].append((lk, i))
        cut = self.pm.cut.values[p[k + 2]]
        if cut:
            lk = self._lk((4,))
            for a, b in cut:
                out[a].append((lk, b))
                into[b].append((lk, a))
        return out, into

    def _lk(self, label) -> int:
        """A label's rank among the labels met so far, times k. A new label is put in
        its place and every label numbered again; the tables holding ranks are
        emptied then (new labels stop coming early: a few hundred in all)."""
        r = self._label_lk.get(label)
        if r is None:
            labels = self._label_list
            labels.insert(bisect_left(labels, label), label)
            k = self.k
            self._label_lk = {x: i * k for i, x in enumerate(labels)}
            self._label_epoch += 1
            self._node_adj.clear()
            self._msg_adj.clear()
            self._net_adj.clear()
            r = self._label_lk[label]
        return r

    def _ranked(self, edges: list) -> list:
        """(a, label * k, b) per edge (a, label, b), all from one numbering: built again
        if a label met on the way numbered them anew (every table holding ranks is
        emptied then, and only what this returns is stored after)."""
        lk = self._lk
        while True:
            epoch = self._label_epoch
            out = [(a, lk(label), b) for a, label, b in edges]
            if self._label_epoch == epoch:
                return out

    def _make_node_adj(self, i: int, node_id: int) -> tuple:
        """Node i's variables' edges: (label * k, the node they hold), label (0, variable)."""
        refs = self.sym.var_refs(i, self.pm.nodes.values[node_id])
        adj = tuple((lk, j) for _, lk, j in self._ranked([(i, label, j) for label, j in refs]))
        if len(self._node_adj) >= MEMO_LIMIT:
            self._node_adj.clear()
        self._node_adj[(i, node_id)] = adj
        return adj

    def _make_net_adj(self, net) -> tuple:
        k, msgs = self.k, self.pm.msgs.values
        memo = self._msg_adj
        while True:  # (again if labels were numbered anew on the way: see _ranked)
            epoch = self._label_epoch
            out: list = [[] for _ in range(2 * k)]
            for i in self.pm.net.ids(net):  # every copy: a copy is an edge
                edges = memo.get(i)
                if edges is None:
                    m = msgs[i]
                    edges = tuple((a, (lk, b), k + b, (lk, a)) for a, lk, b in self._ranked(
                        _message_edges(m, self._blurred(i), self.sym.message_refs(m))))
                    if len(memo) >= MEMO_LIMIT:
                        memo.clear()
                    memo[i] = edges
                for a, out_edge, kb, in_edge in edges:  # pairs shared by every network holding the message
                    out[a].append(out_edge)
                    out[kb].append(in_edge)
            if self._label_epoch == epoch:  # a node's edges, one object per distinct tuple of them
                return self._net_adj_memo.store(net, tuple(map(self._shared, map(tuple, out))))

    def _value_key(self, q: tuple) -> tuple:
        """A packed state's order among the leaves of refine.canonical: Symmetry's
        `_order_key` of its value (built from memoised parts), then the packed tuple
        itself, which only a bool met as an int could make matter."""
        memo, k, pm = self._part_key, self.k, self.pm
        # the nodes' keys are built each time, not memoised by q[:k]: only leaves ask
        # (Paxos: 29,568 calls in 480,482 transitions), and a third of the node
        # tuples were new, which kept 270 bytes an entry (most of this memo)
        nodes = tuple(map(self._node_value_key, q[:k]))
        out = [nodes, pm.up.values[q[k]]]
        for i in self.parts[1:]:
            key = (i, q[i])
            r = memo.get(key)
            if r is None:
                if len(memo) >= NET_MEMO_LIMIT:
                    memo.clear()
                r = memo[key] = self._part_value_key(i, q[i])
            out.append(r)
        if not pm.timed:
            out.append(())
        return tuple(out), q

    def _shared(self, key):
        if len(self._key_objects) >= MEMO_LIMIT:
            self._key_objects.clear()
        return self._key_objects.setdefault(key, key)

    def _node_value_key(self, x: int):
        r = self._node_vk.get(x)
        if r is None:
            r = self._node_vk[x] = value_key(self.pm.nodes.values[x])
        return r

    def _part_value_key(self, i: int, x):
        pm, k = self.pm, self.k
        if i == k + 1:  # one shared key per message: a network's key is a tuple of pointers
            keys, out = self._msg_vk, []
            for m in pm.model.network.messages(pm.net.values[x]):
                r = keys.get(m)
                if r is None:
                    if len(keys) >= MEMO_LIMIT:
                        keys.clear()
                    r = keys[m] = value_key(m)
                out.append(r)
            return tuple(out)
        if i == k + 2:
            return tuple(sorted(pm.cut.values[x]))
        value = (pm.ghosts if i == k + 3 else pm.times).values[x]
        return value_key(value) if value else ()

    def swap_fixes(self, p: tuple, u: int, v: int, holders: tuple) -> bool:
        """Whether swapping nodes u and v leaves packed state p as it is: the same as
        rename(p, swap) == p, part by part from u's and v's own, stopping at the first
        part that differs (refine's pruning asks this of every pair of tied nodes
        it meets, and most pairs differ early). `holders` (from `holders(p)`, once
        per state): the nodes whose variables hold a node id; the others are the
        same under every renaming and are not looked at."""
        key = (u, v, holders)
        sw = self._swaps.get(key)
        if sw is None:
            if len(self._swaps) >= MEMO_LIMIT:
                self._swaps.clear()
            sw = self._swaps[key] = (self._perm_id(_swap(self.identity, u, v)),
                                     ((u, v), (v, u)) + tuple((i, i) for i in holders if i != u and i != v))
        pid, order = sw
        memo, base = self._renamed, self._bases[pid]
        for i, j in order:  # node i's variables, renamed, go to node j
            key = base[i] + p[i]
            r = memo.get(key)
            if r is None:
                r = self._make(key)
            if r != p[j]:
                return False
        net = self.k + 1
        for part in self.parts:
            x = p[part]
            r = self._renamed_part(pid, part, x) if part == net else memo.get(base[part] + x)
            if r is None:
                r = self._make(base[part] + x)
            if r != x:
                return False
        return True

    def holders(self, p: tuple) -> tuple:
        """The nodes of packed state p whose variables hold a node id: the only ones a
        renaming can change (TwoPhase: the manager alone, where swap_fixes looked
        at all twelve resource managers for every pair it was asked about)."""
        memo, out = self._holds, []
        for i in range(self.k):
            h = memo.get((i, p[i]))
            if h is None:
                if len(memo) >= MEMO_LIMIT:
                    memo.clear()
                h = memo[(i, p[i])] = bool(self.sym.var_refs(i, self.pm.nodes.values[p[i]]))
            if h:
                out.append(i)
        return tuple(out)

    def rename(self, p: tuple, pi: tuple) -> tuple:
        """The packed state p with node i renamed to pi[i] everywhere."""
        if pi == self.identity:
            return p
        pid = self._perm_id(pi)
        k, memo, base = self.k, self._renamed, self._bases[pid]
        out = list(p)  # budgets name fault lines, not nodes: they stay
        for i in range(k):
            key = base[i] + p[i]
            r = memo.get(key)
            if r is None:
                r = self._make(key)
            out[pi[i]] = r
        for part in self.parts:
            out[part] = self._renamed_part(pid, part, p[part])
        return tuple(out)

    def _perm_id(self, pi: tuple) -> int:
        """A renaming's small int (the renaming memos' keys hold it)."""
        pid = self._perm_ids.get(pi)
        if pid is None:
            pid = self._perm_ids[pi] = len(self._perms)
            self._perms.append(list(pi))
            self._bases.append([(pid * self._slots + i) << ID_BITS for i in range(self._slots)])
        return pid

    def _renamed_part(self, pid: int, part: int, x):
        """Part `part` (up, network, cut, ghosts, time) of a state, value x, renamed."""
        if part == self.k + 1:  # networks rarely repeat: their own, smaller table
            key = (pid, x)
            r = self._net_renamed.get(key)
            if r is None:
                return self._net_renamed_memo.store(key, self._rename_net(pid, x))
            self._net_renamed_memo.hits[0] += 1
            return r
        key = self._bases[pid][part] + x
        r = self._renamed.get(key)
        return self._make(key) if r is None else r

    # ---- memo misses ----------------------------------------------------------------

    def _make(self, key: int) -> int:
        pid, index = divmod(key >> ID_BITS, self._slots)
        value_id = key & ID_MASK
        pi, pm, sym, k = self._perms[pid], self.pm, self.sym, self.k
        if index < k:  # node index's variables
            r = pm.nodes.id(sym.rename_vars(index, pm.nodes.values[value_id], pi))
        elif index == k:
            r = pm.up.id(sym.rename_per_node(pm.up.values[value_id], pi))
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

    def _rename_net(self, pid: int, net):
        """A network renamed: message by message on ids when the mode keeps a sorted
        bag (packed.NetCodec), else through the network's value."""
        pm, codec = self.pm, self.pm.net
        if not codec.bag:
            return codec.id(self.sym.rename_net(codec.values[net], self._perms[pid]))
        memo, msgs = self._mid_renamed, pm.msgs
        ids = []
        for i in codec.ids(net):
            r = memo.get((pid, i))
            if r is None:
                if len(memo) >= MEMO_LIMIT:
                    memo.clear()
                r = memo[(pid, i)] = msgs.id(self.sym.rename_message(msgs.values[i], self._perms[pid]))
            ids.append(r)
        if not codec.consumes:
            ids = set(ids)
        return codec._encode(sorted(ids))

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
        r = self._node_key[(i, node_id)] = self._shared(value_key(blurred))
        return r

    def _make_net_key(self, net_id) -> tuple:
        """Per node, the sorted blurred keys of the messages to it, then of those from
        it, in one flat tuple (node i's at 2i and 2i + 1: no pair per node to store).

        Networks rarely repeat, but what one node has in flight does: with one byte
        per message id, the ids to (from) node i are net.translate(None, delete),
        `delete` holding every other id, one C call; the key of those bytes is looked
        up (the same keys as the general path below, which networks with longer ids take)."""
        if net_id.__class__ is str:
            return self._make_wide_net_key(net_id)
        if net_id.__class__ is not bytes:
            return self._make_net_key_slow(net_id)
        if self._sub_ids < len(self.pm.msgs.values):
            self._grow_sub()
        sub, make, dels = self._sub_key, self._make_sub_key, self._sub_delete
        out = []
        for d_in, d_out in dels:
            a = net_id.translate(None, d_in)
            ka = sub.get(a)
            if ka is None:
                ka = make(a)
            b = net_id.translate(None, d_out)
            kb = sub.get(b)
            if kb is None:
                kb = make(b)
            out += (ka, kb)
        return self._net_key_memo.store(net_id, tuple(out))

    def _grow_sub(self) -> None:
        """Take the message ids interned since last time into the per-node delete sets."""
        msgs = self.pm.msgs.values
        before, self._sub_ids = self._sub_ids, len(msgs)
        if before >= 256:  # only ids below 256 are bytes of a network
            return
        for i in range(before, min(len(msgs), 256)):
            m = msgs[i]
            self._sub_keep[m[1]][0].add(i)
            self._sub_keep[m[0]][1].add(i)
        self._sub_delete = [(bytes(x for x in range(256) if x not in a), bytes(x for x in range(256) if x not in b))
                            for a, b in self._sub_keep]

    def _blurred(self, i: int):
        """The value_key of message id i with every node id blurred (one shared object per key)."""
        b = self._msg_bk.get(i)
        if b is None:
            sym = self.sym
            b = self._msg_bk[i] = self._shared(value_key(sym.rename_message(self.pm.msgs.values[i], sym.blur)))
        return b

    def _make_sub_key(self, ids: bytes) -> tuple:
        if len(self._sub_key) >= MEMO_LIMIT:
            self._sub_key.clear()
        r = self._sub_key[ids] = tuple(sorted(map(self._blurred, ids)))
        return r

    def _make_wide_net_key(self, net_id: str) -> tuple:
        """_make_net_key on a str network: the same per-node shares, each one
        str.translate, their keys shared through the same table (a str share never
        equals a bytes one), so the memoised network keys hold shared tuples rather
        than two new sorted tuples per node each."""
        msgs = self.pm.msgs.values
        if self._wide_ids < len(msgs):
            for i in range(self._wide_ids, len(msgs)):
                src = msgs[i][0]
                for d, d_out in enumerate(self._wide_out):
                    if d != src:
                        d_out[i] = None
            self._wide_ids = len(msgs)
        sub = self._sub_key
        out = []
        for d_in, d_out in zip(self.pm.net.wide, self._wide_out):
            a = net_id.translate(d_in)
            ka = sub.get(a)
            if ka is None:
                ka = self._make_wide_sub_key(a)
            b = net_id.translate(d_out)
            kb = sub.get(b)
            if kb is None:
                kb = self._make_wide_sub_key(b)
            out += (ka, kb)
        return self._net_key_memo.store(net_id, tuple(out))

    def _make_wide_sub_key(self, ids: str) -> tuple:
        if len(self._sub_key) >= MEMO_LIMIT:
            self._sub_key.clear()
        r = self._sub_key[ids] = tuple(sorted(map(self._blurred, map(ord, ids))))
        return r

    def _make_net_key_slow(self, net_id) -> tuple:
        k, msgs = self.k, self.pm.msgs.values
        inbox, outbox = [[] for _ in range(k)], [[] for _ in range(k)]
        for i in self.pm.net.ids(net_id):
            b = self._blurred(i)
            src, to = msgs[i][0], msgs[i][1]
            inbox[to].append(b)
            outbox[src].append(b)
        return self._net_key_memo.store(net_id, tuple(key for a, b in zip(inbox, outbox)
                                                      for key in (tuple(sorted(a)), tuple(sorted(b)))))

    def _make_cut_key(self, cut_id: int) -> tuple:
        links = self.pm.cut.values[cut_id]
        r = self._cut_key[cut_id] = tuple((sum(1 for a, _ in links if a == i), sum(1 for _, b in links if b == i))
                                          for i in range(self.k))
        return r
