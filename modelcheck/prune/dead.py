"""Dropping dead messages while exploring: the rules smt/dead.py proved, applied to
every state the search reaches.

A message in flight is dropped as soon as its rule's condition holds for it (on its
fields, its sender and its receiver's variables): z3 proved that from then on every
delivery of it is a no-op and the condition stays true, so the state without it
has the same futures. Both searches call `Collector`: `state` on `State`s (the
model's successors, the initial state, trace rebuilding) and `packed` around the
packed engine's generated successor function, so both reach the same states and
traces rebuild exactly.
"""
from __future__ import annotations

from ..engine.compiler import Ctx
from ..engine.model import MEMO_LIMIT
from ..engine.state import State
from ..lang.values import SpecRuntimeError


# The packed collector's tables (keyed by a network) hold at most this many entries.
# Measured on bench/models/paxos.ha --no-symmetry (668,351 states), CPU s / peak RSS,
# before the same-network shortcut in `packed`: 1 << 15: 36.2 s / 327 MB; 1 << 17:
# 29.3 s / 418 MB; 1 << 20: 28.0 s / 625 MB. With it, 1 << 15: 31 s / 340 MB; the
# memory the larger tables cost would break the 400 bytes a state this aims for.
TABLE_LIMIT = 1 << 15


class _DeadTable(dict):
    """key -> what `compute(*key)` gives, computed on a miss (dict.__missing__: a
    hit is one C-level lookup in the collector's loops), and emptied at `limit`
    entries."""

    def __init__(self, compute, limit: int = MEMO_LIMIT):
        super().__init__()
        self.compute, self.limit = compute, limit

    def __missing__(self, key):
        if len(self) >= self.limit:
            self.clear()
        d = self[key] = self.compute(*key)
        return d


class DeadPlans:
    """What a packed plan (packed.PackedModel._make_plan) needs to drop dead messages
    itself: for one outcome of node n's step (its new variables' id, the bytes of
    the ids it sends), `collect` gives (dr, wl): the bytes of n's own covered
    messages (those in its box, which with no cut link is every message to it, and
    those it sends itself) that the new variables make dead, and the (id,
    receiver) of its covered sends to other nodes, whose deadness depends on
    those receivers' variables and is looked up per state (`of`, shared with the
    collector)."""

    def __init__(self, watch: list, grow, msgs: list, dead_of):
        self.watch, self.grow, self.msgs, self.of = watch, grow, msgs, dead_of

    def collect(self, n: int, box: tuple, node: int, ids: bytes) -> tuple:
        watch, of = self.watch, self.of
        if len(watch) < len(self.msgs):
            self.grow()
        own = {i for i in box if i >= 0 and watch[i] == n}.union(i for i in ids if watch[i] == n)
        dr = bytes(sorted(i for i in own if of[i, node]))
        wl = tuple(dict.fromkeys((i, watch[i]) for i in ids if watch[i] >= 0 and watch[i] != n))
        return dr, wl


class Collector:
    """The compiled dead-message rules of one model (see the module docstring)."""

    def __init__(self, model, rules: list):
        self.network = model.network
        self.order = list(rules)
        roles = model.checked.node_roles
        by_role = {}
        for r in rules:
            conds = tuple(tuple((model.compiler.expr(lit.atom), lit.positive) for lit in conj)
                          for conj in r.conditions)
            by_role[(r.role, r.kind)] = (conds, tuple(r.names.items()), r)
        # (kind, dst) -> the rule for messages of that kind to that node
        self.rules = {(kind, n): rule for n, role in enumerate(roles)
                      for (name, kind), rule in by_role.items() if name == role.name}
        self._dead: dict = {}  # (message, receiver's variables) -> dead?
        self._watch: dict = {}  # net -> its messages that have a rule (distinct)
        self._without: dict = {}  # (net, dead messages) -> net
        self.fired: set = set()  # the rules that dropped a message (reports list these)

    def dead(self, m: tuple, values: tuple) -> bool:
        """Whether message m is dead given its receiver's variables `values`."""
        key = (m, values)
        d = self._dead.get(key)
        if d is None:
            if len(self._dead) >= MEMO_LIMIT:
                self._dead.clear()
            d = self._dead[key] = self._evaluate(m, values)
        return d

    def _evaluate(self, m: tuple, values: tuple) -> bool:
        conds, names, rule = self.rules[(m[2], m[1])]
        payload = m[3]
        env = {name: (m[0] if i == -1 else payload[i]) for name, i in names}
        ctx = Ctx(vars=values, env=env, self_id=m[1], sender=m[0])
        for conj in conds:
            try:
                if all(bool(f(ctx)) == positive for f, positive in conj):
                    self.fired.add(rule)
                    return True
            except SpecRuntimeError:
                continue  # a condition that raises is not known to hold
        return False

    def watched(self, net: tuple) -> tuple:
        """The distinct messages of `net` that some rule covers."""
        w = self._watch.get(net)
        if w is None:
            rules = self.rules
            if len(self._watch) >= MEMO_LIMIT:
                self._watch.clear()
            w = self._watch[net] = tuple(dict.fromkeys(
                m for m in self.network.messages(net) if (m[2], m[1]) in rules))
        return w

    def net(self, net: tuple, nodes: tuple) -> tuple:
        """`net` without its dead messages (the same object when none is dead)."""
        watched = self.watched(net)
        if not watched:
            return net
        dead = tuple(m for m in watched if self.dead(m, nodes[m[1]]))
        if not dead:
            return net
        key = (net, dead)
        out = self._without.get(key)
        if out is None:
            if len(self._without) >= MEMO_LIMIT:
                self._without.clear()
            out = self._without[key] = self.network.without(net, set(dead))
        return out

    def fired_rules(self) -> list[str]:
        """The rules that dropped at least one message, in the analysis' order."""
        seen = {id(r) for r in self.fired}
        return [r.describe() for r in self.order if id(r) in seen]

    def state(self, s: State) -> State:
        net = self.net(s.net, s.nodes)
        return s if net is s.net else s._replace(net=net)

    def transitions(self, out: list) -> list:
        """Model.successors' transitions with dead messages dropped from each target."""
        for t in out:
            s = t.state
            if s is not None:
                net = self.net(s.net, s.nodes)
                if net is not s.net:
                    t.state = s._replace(net=net)
        return out

    def packed(self, successors, pm):
        """The packed engine's successor function `successors` with dead messages
        dropped (`pm` the PackedModel). Works on the network's bytes (message ids,
        packed.NetCodec): per message id, whether a rule covers it and who receives
        it; per (message id, receiver's variables id), whether it is dead. Only the
        networks that lose a message are decoded or rebuilt, and every table here
        is keyed by small ints or bounded, so memory follows the visited set."""
        k = pm.k
        codec, msgs, nodes_of = pm.net, pm.msgs.values, pm.nodes.values
        rules = self.rules
        watch: list = []  # per message id: its receiver if a rule covers it, else -1
        watched: dict = {}  # network -> covered(network), for the table path
        # (message id, receiver's variables id) -> dead? (computed on a miss)
        dead_of = _DeadTable(lambda i, v: self.dead(msgs[i], nodes_of[v]))
        memo: dict = {}  # (network, its receivers' variables ids) -> network after
        # (a node's covered message ids in a network, the node's variables id) -> the
        # ids among them that are dead: what one receiver's step does to its messages
        dead_at = _DeadTable(lambda ids, v: tuple(i for i in ids if dead_of[i, v]), TABLE_LIMIT)

        # per node d: the bytes of every one-byte id that is not a covered message to
        # d, so n.translate(None, others[d]) is d's covered messages in n (one C call)
        others: list = [bytes(range(256))] * k
        nones = [None] * k
        nodes = range(k)

        def grow() -> None:
            before = len(watch)
            while len(watch) < len(msgs):
                m = msgs[len(watch)]
                watch.append(m[1] if (m[2], m[1]) in rules else -1)
            if before < 256:
                small_ids = range(min(len(watch), 256))
                others[:] = [bytes(i for i in range(256) if i not in small_ids or watch[i] != d) for d in nodes]

        def covered(n) -> tuple:
            """(the receivers whose variables decide, ((message id, receiver), ...))"""
            if len(watch) < len(msgs):
                grow()
            ids = set(n) if n.__class__ is bytes else set(codec.ids(n))
            w = tuple(sorted((i, watch[i]) for i in ids if watch[i] >= 0))
            if len(watched) >= TABLE_LIMIT:
                watched.clear()
            watched[n] = r = (tuple(sorted({d for _, d in w})), w)
            return r

        def dropped(n, dead: list):
            cls = n.__class__  # (the flat forms of packed.NetCodec)
            if cls is bytes:  # one byte per message: delete every copy at once
                return n.translate(None, bytes(dead))
            if cls is str:  # one character per message: the same, then maybe one byte again
                return codec.narrowed(n.translate(dict.fromkeys(dead)))
            return codec.id(self.network.without(codec[n], {msgs[i] for i in dead}))

        def after(n, q: tuple, w: tuple):
            dead = [i for i, d in w if dead_of[i, q[d]]]
            return dropped(n, dead) if dead else n

        # A stored state holds no dead message (its network went through `collected`),
        # and whether a message is dead depends only on it and its receiver's
        # variables. So in a successor only two kinds of message can be dead: those
        # addressed to a node whose variables the step changed, and those the step
        # sent (in n, not in the parent's network). Only those are looked at. The
        # initial state is the one stored state that did not go through `collected`;
        # if it holds a dead message, this shortcut is off and every successor's
        # network goes through the tables.
        init = pm.initial
        clean = after(init[k + 1], init, covered(init[k + 1])[1]) is init[k + 1]
        # The generated code's plans (packed.PackedModel._plan_lines) drop dead
        # messages themselves, by the same two kinds, for the successors of the nodes'
        # steps: done[0] says how many come first in `out`. That too assumes a clean
        # parent; without one, every successor goes through the tables below.
        done = pm.done
        pm.use_dead_plans(DeadPlans(watch, grow, msgs, dead_of))

        def collected(p):
            out = successors(p)
            start = done[0] if clean else 0
            if start == len(out):
                return out
            pn = p[k + 1]
            if clean:
                if len(watch) < len(msgs):
                    grow()
                small = pn.__class__ is bytes
                if small:  # per node, its covered messages in pn (no table: cheaper than one)
                    by_dst = [(d, b) for d, b in zip(nodes, map(pn.translate, nones, others)) if b]
                    pids = None  # set(pn), made if a successor's network has a long id
                else:  # ids past one byte: decoded, grouped by receiver
                    pids = set(codec.ids(pn))
                    by: dict = {}
                    for i in pids:
                        d = watch[i]
                        if d >= 0:
                            by.setdefault(d, []).append(i)
                    by_dst = [(d, tuple(ids)) for d, ids in by.items()]
            for j in range(start, len(out)):
                q = out[j]
                if q is None:
                    continue
                n = q[k + 1]
                if clean:
                    # which of pn's covered messages n still holds (None: all), and the
                    # ids n holds that pn does not (the step's sends)
                    if n == pn:
                        members, sent = None, b""
                    elif small and n.__class__ is bytes:  # one byte per id in both: one C call
                        members, sent = n, n.translate(None, pn)
                    else:  # ids past one byte: decoded
                        members = set(codec.ids(n))
                        if pids is None:
                            pids = set(pn)
                        sent = members.difference(pids)
                    dead = []  # (plain loops: a comprehension is a function call per successor)
                    for d, ids in by_dst:
                        v = q[d]
                        if v != p[d]:
                            for i in dead_at[ids, v]:
                                if members is None or i in members:
                                    dead.append(i)
                    if sent:
                        if len(watch) < len(msgs):
                            grow()
                        for i in sent:
                            d = watch[i]
                            if d >= 0 and dead_of[i, q[d]]:
                                dead.append(i)
                    if dead:
                        out[j] = q[:k + 1] + (dropped(n, dead),) + q[k + 2:]
                    continue
                c = watched.get(n)
                if c is None:
                    c = covered(n)
                dsts, w = c
                if not w:
                    continue
                key = (n, *[q[d] for d in dsts])  # the net and its receivers' variables
                a = memo.get(key)
                if a is None:
                    if len(memo) >= TABLE_LIMIT:
                        memo.clear()
                    a = memo[key] = after(n, q, w)
                if a is not n:
                    out[j] = q[:k + 1] + (a,) + q[k + 2:]
            return out
        return collected
