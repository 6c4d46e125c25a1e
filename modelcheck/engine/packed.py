"""Packed states: the explorer's fast path (Spin's COLLAPSE idea, in Python).

A `State` is a tree of tuples: hashing it for the visited set walks every node's
variables and every message in flight, and building a successor copies the parts
that changed. But a state is made of few distinct parts: 265,125 states of the
3-node majority election share a few hundred distinct node-local variable tuples,
networks and fault budgets. So each part is interned once to a small integer, and
a state becomes a flat tuple of those integers:

    (node_0, ..., node_{k-1}, up, net, cut, ghosts, budgets)

(the network is the one part kept as a value, the bytes of its messages' ids: see
NetCodec)

Hashing that is cheap, it takes a fraction of the memory, and every piece of work a
step does is a function of a few of those integers, so it is computed once per
distinct argument and then looked up: what node n's code does given its own
variables and the message (Model.compute_outcomes), which messages each node can
receive given the network and the cut links, the network after a send, after a
loss, the cut after a partition, the budgets after a fault.

The successors come out in exactly the order of `Model.successors`, so the search,
its counts, the violation it finds first and its trace are the same as on `State`s
(tests/test_packed.py compares the two on every example spec and on random specs).
With a `time` block the state has one more part, the time (true time, clock offsets,
remaining pause ticks): a node's outcomes depend on it only when its code reads a
clock; a tick (messages age, pauses count down) is memoised by network and time.
Traces are always rebuilt from `State`s (explorer._trace with `pack` as the key).
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from operator import itemgetter

from ..network import msg_key
from .memo import ROOM, STORED, AdaptiveMemo
from .model import MEMO_LIMIT, Model, State, fairness_unit
from .state import Step

# Memo tables keyed by a network hold at most this many entries: networks repeat
# least of all parts, so a larger table costs memory and hits little more.
NET_MEMO_LIMIT = 1 << 17
# the types a variable's value is a container of (a seq or tuple, a set, a map):
# what PackedModel._node_id shares between node values
CONTAINERS = (tuple, frozenset)
# Plans (PackedModel._make_plan) held at once, within the memo room (memo.ROOM). Paxos
# builds 30,513 plans in all, TwoPhase (RM=8) 6,882, the vote count 1,660; Raft
# (raft_broken.ha) 71,580 (about 275 bytes each), and its time goes to symmetry, not
# to successors: all of them cost it 14 MB more peak (301 against 287 MB) for no
# measurable speed.
PLAN_LIMIT = 1 << 15
# When the plan table fills and is emptied, the plans built since the last time
# must have been looked up at least this many times each (counted as k lookups a
# state stored meanwhile), or plans are turned off for the rest of the run: the
# general lines compute the same successors. Raft's plans reach 9-11 there, and
# turning them off saves it about 20 bytes a state at no cost in time; the vote
# count, TwoPhase, Paxos and the elections never fill the table.
MIN_REUSE = 16

# bytes((i,)) for every one-byte message id: removing one copy of a message from a
# network is b.replace(ONE_BYTE[i], b"", 1), one C call
ONE_BYTE = [bytes((i,)) for i in range(256)]
# The largest message id a network held as a str can name (one character per id)
STR_IDS = 0x110000


class NetCodec:
    """Networks in packed states: their messages' ids in one flat object, not an
    interned id.

    A network is the part of a state that repeats least: where every state holds a
    different combination of messages in flight (a vote-counting election), an
    interned id per network kept every network ever built, and each one's memo
    entries, for the whole run (about 1.5 KB per state). As a flat value, a network
    lives exactly as long as the states and memo entries that hold it; equal
    networks are equal values, and both forms below cache their hash.

    The form, chosen by the largest id in the network, so that every network has
    exactly one: `bytes` when every id is below 256 (one byte per id), else a `str`
    with one character per id (`chr(id)`: CPython stores it with two bytes per
    character while the ids stay below 65,536, four above), else, past the last
    character (more than a million distinct messages), a tuple of the ids. The
    first two are sequences of one element per message, so the fast paths below
    (delivering one copy, sending, dropping dead messages, a node's share) are one
    C call each on either; Raft-sized models, with a few hundred to a few thousand
    distinct messages, keep them. (An escape byte followed by four bytes per long
    id, before, sent every such network through a decode and an encode in Python.)

    The order of the ids: for a mode whose network is a sorted bag (the mode's
    `sorted_bag` fact: unordered, set) the ids ascend, so sending is a sort of
    small ints, and only the deliveries are put in the mode's order (`msg_key`);
    for any other mode (fifo) the ids follow `mode.messages`.

    Same interface as an Interner: `id(net)` gives the flat form, `values[b]` the
    network (decoded through a bounded cache)."""

    __slots__ = ("mode", "msgs", "_cache", "values", "_rank", "_sorted", "_by_key", "_dest", "_link", "others",
                 "wide", "bag", "consumes")

    CACHE = 1 << 16

    def __init__(self, mode, msgs: Interner, k: int = 0):
        self.mode, self.msgs = mode, msgs
        self._cache: dict = {}
        self.values = self  # net.values[b], as with an Interner
        # per message id, an int whose order is the mode's order of a bag (msg_key's):
        # sorting a network's ids by it compares ints, not msg_key's nested tuples
        self._rank: list = []
        self._sorted: list = []  # every msg_key so far, ascending (where a new one goes)
        self._by_key: list = []  # the message ids in that order
        self._dest: list = []  # per message id, the node it goes to
        self._link: list = []  # per message id, its (from, to) link
        # per node n of k: the one-byte ids of the messages to other nodes, so that
        # b.translate(None, others[n]) is n's share of a bytes network (one C call)
        self.others: list[bytes] = [b""] * k
        # the same for a str network (ids past 255): s.translate(wide[n]) is n's share,
        # a table mapping every id of a message to another node to None (deleted)
        self.wide: list[dict] = [{} for _ in range(k)]
        if isinstance(msgs, Messages):  # (a plain Interner: grown on first use instead)
            msgs.on_new = self._grown
        self.bag, self.consumes = mode.sorted_bag, mode.consumes

    def id(self, net: tuple):
        mid = self.msgs.id
        ids = [mid(m) for m in self.mode.messages(net)]
        if self.bag:
            ids.sort()
        return self._encode(ids)

    @staticmethod
    def _encode(ids: list[int]):
        """The one form of the network holding these ids, in this order."""
        if not ids:
            return b""
        top = max(ids)
        if top < 256:
            return bytes(ids)
        if top < STR_IDS:
            return "".join(map(chr, ids))
        return tuple(ids)

    @staticmethod
    def narrowed(s: str):
        """A str network after messages left it: bytes if its ids now all fit in one."""
        return s.encode("latin-1") if not s or max(s) < "\u0100" else s

    @staticmethod
    def ids(b) -> list[int]:
        """The message ids in b, in order."""
        if b.__class__ is str:
            return list(map(ord, b))
        return list(b)

    def __getitem__(self, b) -> tuple:
        net = self._cache.get(b)
        if net is None:
            if len(self._cache) >= self.CACHE:
                self._cache.clear()
            ids = self.ids(b)
            if self.bag:
                ids.sort(key=self._grown().__getitem__)
            values = self.msgs.values
            net = self._cache[b] = self.mode.from_messages([values[i] for i in ids])
        return net

    # the gap left between consecutive ranks when they are (re)numbered: a message
    # that sorts between two others takes the middle of their gap, so ranks are
    # renumbered only after about 20 messages in a row fell into the same gap
    RANK_GAP = 1 << 20

    def _grown(self) -> list:
        """The rank of every message id so far (a list indexed by id: see `_rank`);
        the destination and link lists grow with it."""
        rank, values = self._rank, self.msgs.values
        while len(rank) < len(values):
            m = values[len(rank)]
            key = msg_key(m)
            j = bisect_left(self._sorted, key)
            by_key, gap = self._by_key, self.RANK_GAP
            lo = rank[by_key[j - 1]] if j else -gap
            hi = rank[by_key[j]] if j < len(by_key) else (lo + 2 * gap)
            self._sorted.insert(j, key)
            by_key.insert(j, len(rank))
            rank.append((lo + hi) // 2)
            if hi - lo < 2:  # the gap is used up: number every message again
                for r, i in enumerate(by_key):
                    rank[i] = r * gap
            self._dest.append(m[1])
            self._link.append((m[0], m[1]))
            i = len(rank) - 1
            others = self.others
            for n, wide in enumerate(self.wide):
                if n != m[1]:
                    wide[i] = None
                    if i < 256:
                        others[n] += ONE_BYTE[i]
        return rank

    def _without_one(self, b) -> list | None:
        """(message id, b without one copy of it) per distinct id in b, in the mode's
        order; None unless the mode is a sorted bag and b one of the two sequence
        forms (then the caller goes through the mode's values)."""
        cls = b.__class__
        if not self.bag or (cls is not bytes and cls is not str):
            return None
        rank = self._rank if len(self._rank) == len(self.msgs.values) else self._grown()
        if cls is bytes:
            ordered = sorted(set(b), key=rank.__getitem__)
            if not self.consumes:
                return [(i, b) for i in ordered]
            one = ONE_BYTE
            return [(i, b.replace(one[i], b"", 1)) for i in ordered]
        ordered = sorted(map(ord, set(b)), key=rank.__getitem__)
        if not self.consumes:
            return [(i, b) for i in ordered]
        out = []
        for i in ordered:
            a = b.replace(chr(i), "", 1)
            out.append((i, a if i < 256 else self.narrowed(a)))
        return out

    def inboxes(self, b, k: int, cut_links) -> list[list] | None:
        """Per node, the ids of the messages in network b it can take, each once, in
        the mode's order, leaving out messages on a cut link; None where this fast
        form does not apply (not a sorted bag, or ids past the last character), and
        then the caller goes through `deliveries`. One sort of ints (`_rank`) and one
        pass; the network after each delivery is left to the generated code, which
        needs it only for the deliveries a handler takes (`without`)."""
        cls = b.__class__
        if not self.bag or (cls is not bytes and cls is not str):
            return None
        rank = self._rank if len(self._rank) == len(self.msgs.values) else self._grown()
        ordered = sorted(set(b) if cls is bytes else map(ord, set(b)), key=rank.__getitem__)
        dest = self._dest
        boxes: list[list] = [[] for _ in range(k)]
        if cut_links:
            link = self._link
            for i in ordered:
                if link[i] not in cut_links:
                    boxes[dest[i]].append(i)
        else:
            for i in ordered:
                boxes[dest[i]].append(i)
        return boxes

    def without(self, b, i: int):
        """Network b (a sorted bag) with one copy of message id i taken out, in its
        one form (the generated code does bytes itself)."""
        if b.__class__ is bytes:
            return b.replace(ONE_BYTE[i], b"", 1)
        if b.__class__ is str:
            a = b.replace(chr(i), "", 1)
            return a if i < 256 else self.narrowed(a)
        ids = list(b)
        ids.remove(i)
        return self._encode(ids)

    def deliveries(self, b) -> list[tuple]:
        """`mode.deliverable` on the flat form: (message id, network after) per
        distinct message, in the mode's order."""
        pairs = self._without_one(b)
        if pairs is not None:
            return pairs
        mid = self.msgs.id
        return [(mid(m), self.id(after)) for m, after in self.mode.deliverable(self[b])]

    def send(self, b, ids):
        """`mode.send` on the flat form: the network after the messages with these
        ids (a list, or bytes when every id is below 256: see `sendable`) are sent.
        A sorted bag stays a sort of ids; another mode goes through its values."""
        if self.bag:
            if type(ids) is bytes and b.__class__ is bytes:
                return bytes(sorted(b + ids if self.consumes else set(b).union(ids)))
            have = self.ids(b)
            return self._encode(sorted(have + list(ids) if self.consumes else set(have).union(ids)))
        values = self.msgs.values
        return self.id(self.mode.send(self[b], [values[i] for i in ids]))

    @staticmethod
    def sendable(ids: list[int]):
        """Message ids to send, as bytes when they all fit in one (the fast path)."""
        return bytes(ids) if not ids or max(ids) < 256 else ids


class Interner:
    """Values to dense integer ids and back."""

    __slots__ = ("ids", "values")

    def __init__(self) -> None:
        self.ids: dict = {}
        self.values: list = []

    def id(self, value) -> int:
        i = self.ids.get(value)
        if i is None:
            i = self.ids[value] = len(self.values)
            self.values.append(value)
        return i


class Messages(Interner):
    """The message interner: it tells the network codec of each new message at once
    (`on_new`), so the tables the codec keeps per message id, which the generated
    code reads without checking, cover every id a network can hold."""

    __slots__ = ("on_new",)

    def __init__(self) -> None:
        super().__init__()
        self.on_new = None

    def id(self, value) -> int:
        i = self.ids.get(value)
        if i is None:
            i = self.ids[value] = len(self.values)
            self.values.append(value)
            if self.on_new is not None:
                self.on_new()
        return i


def applicable(model) -> bool:
    """Real compiled models (not the test doubles of the explorer's tests)."""
    return isinstance(model, Model)


class PackedModel:
    """`Model.successors` over packed states (see `successors` below)."""

    def __init__(self, model: Model):
        self.model = model
        self.k = model.n_nodes
        self.nodes, self.up = Interner(), Interner()
        self.cut, self.ghosts, self.budgets = Interner(), Interner(), Interner()
        self.timed = model.time is not None  # then a state has a last part: the time
        # sends on bytes in the generated code: a sorted bag whose messages are not
        # stamped with ages (Model._stamp)
        self.bag_send = model.network.sorted_bag
        self.times = Interner()
        self.overdue: set = set()  # ids of messages that must be delivered before time passes
        self.msgs, self.sent = Messages(), Interner()
        self.net = NetCodec(model.network, self.msgs, self.k)  # a network is bytes, not an id (see NetCodec)
        self.empty_cut = self.cut.id(frozenset())
        roles = model.checked.node_roles
        # per role, per variable: each container value's one object (see _node_id)
        by_role: dict = {}
        self._var_share = [by_role.setdefault(r.name, [AdaptiveMemo(MEMO_LIMIT) for _ in r.vars])
                           for r in roles]
        self.uses_ghosts = [model._role_uses_ghosts[r.name] for r in roles]
        self.reads_global = [model._role_reads_global[r.name] for r in roles]
        # memo tables, keyed by ids (emptied when they reach MEMO_LIMIT entries)
        # (n, msg id or -1, node id, ghosts id?, (nodes, up)?) -> outcomes; stores only
        # while keys repeat (AdaptiveMemo): a model that keeps the whole cluster in one
        # node (raft_membership: 53,370 states, as many keys, not one hit) kept an
        # entry per state, 560 bytes each
        self._outs_memo = AdaptiveMemo(MEMO_LIMIT)
        self._outs = self._outs_memo.table
        # (net, cut) -> per node: (msg id, ..., -1) for a sorted bag or where delivery
        # keeps the message (the generated code takes the network after), else
        # ((msg id, net after), ..., (-1, net)); stores only while networks repeat
        # (see AdaptiveMemo)
        self.ids_only = model.network.sorted_bag or not model.network.consumes
        self._inbox_memo = AdaptiveMemo(NET_MEMO_LIMIT)
        self._inbox = self._inbox_memo.table
        # cut id -> {a node's share of a bytes network: its (msg id, ..., -1)} (see
        # _generate: a sorted bag's deliveries, per node)
        self._boxes: dict = {}
        self._send: dict = {}  # (net, sent id) -> net
        # (n, box, node id, ghosts id?, (nodes, up)?) -> node n's plan: what each of its
        # deliveries and actions does to a bytes network (see _plan_lines)
        self._plans: dict = {}
        self._lplans: dict = {}  # the same for `labelled`, each entry with its unit last
        self.use_plans = [True]  # read once per state by the generated code (see MIN_REUSE)
        self._plans_since = 0  # STORED when the plan table was last emptied
        # With dead messages dropped (modelcheck/prune/dead.py): the collector's tables
        # for the plans (use_dead_plans), and how many of the last successors'
        # networks the plans collected already (done[0])
        self.dead_plans = None
        self.done = [0]
        self._namespace = None  # the generated successors' globals (see _compile)
        self._entries: dict = {}  # a plan's entries, kept once (plans of one node share most)
        self._sent_ids: dict = {}  # sent id -> its messages' ids, stamped (Model._stamp)
        self._sent_bytes: dict = {}  # sent id -> its ids as bytes, where all fit in one byte
        self._sent_chars: dict = {}  # sent id -> its ids as a str (NetCodec's long form)
        self._crash: dict = {}  # (n, node id) -> node id
        self._flip: dict = {}  # (up, n) -> up with n flipped
        self._spend: dict = {}  # (budgets, slot) -> budgets
        self._cuts: dict = {}  # (fault index, cut) -> cuts after
        self._nets: dict = {}  # (fault index, net) -> nets after
        self._restart: dict = {}  # like _outs, for a restart body
        self._tick: dict = {}  # (net, time) -> (net, time) after a tick
        self._pause: dict = {}  # (time, n, longest) -> times with n paused for 1, 2, ..., longest ticks
        self._labelled = None  # compiled on first use (see `labelled`)
        self._louts_memo = AdaptiveMemo(MEMO_LIMIT)  # like _outs, each outcome with its fairness unit
        self._louts = self._louts_memo.table
        self.unit_ids: dict = {}  # fairness_key -> unit number (see `labelled`)
        # reads(p): what invariants, measures and predicates read of packed state p,
        # their memo key: the nodes' variables, up, the ghosts and the time. One C
        # call giving one flat tuple (a nested one cost 50 bytes more per memo entry).
        self.reads = itemgetter(*range(self.k + 1), self.k + 3, *((self.k + 5,) if self.timed else ()))
        self.initial = self.pack(model.initial)
        self.source = self._generate()
        # successors(p): the packed successors of p in `Model.successors` order, None
        # in place of a step that raised a run-time error (the explorer then asks the
        # Model for the error itself).
        self.successors = self._compile(self.source)
        if model.collector is not None:  # dead messages dropped (modelcheck/prune/dead.py)
            self.successors = model.collector.packed(self.successors, self)

    def release(self) -> None:
        """Empty the memo tables (they rebuild on demand): after a MemoryError the
        search frees what it can before it reports."""
        for table in (self._outs, self._plans, self._lplans, self._entries, self._louts, self._inbox, self._boxes, self._send, self._sent_ids, self._sent_bytes,
                      self._sent_chars, self._crash, self._flip, self._spend, self._cuts, self._nets,
                      self._restart, self._tick, self._pause):
            table.clear()

    # ---- packing ------------------------------------------------------------------

    def pack(self, s: State) -> tuple:
        nid = self.nodes.id
        return tuple(nid(v) for v in s.nodes) + (
            self.up.id(s.up), self.net.id(s.net), self.cut.id(s.cut), self.ghosts.id(s.ghosts),
            self.budgets.id(s.budgets)) + ((self.times.id(s.time),) if self.timed else ())

    def unpack(self, p: tuple) -> State:
        k, nodes = self.k, self.nodes.values
        return State(tuple(nodes[i] for i in p[:k]), self.up.values[p[k]], self.net.values[p[k + 1]],
                     self.cut.values[p[k + 2]], self.ghosts.values[p[k + 3]], self.budgets.values[p[k + 4]],
                     self.times.values[p[k + 5]] if self.timed else ())

    # ---- successors ---------------------------------------------------------------

    def _generate(self, labelled: bool = False) -> str:
        """Python source of `successors(p)` for this model's node count, roles and
        fault lines: the state is unpacked into locals and every successor is one
        tuple display, the cheapest way CPython has to build a tuple.

        `labelled`: the source of `labelled(p)` instead (see `labelled`), whose
        items are (successor or None, fairness unit), from the same templates.

        Safe by construction: the text holds only the fixed templates below and
        integers computed here (node numbers, fault indexes, budget slots, flags);
        nothing from the spec's text reaches it."""
        k, timed = self.k, self.timed
        within = self.model.within
        names = [f"s{n}" for n in range(k)]
        fields = names + ["UP", "NET", "CUT", "G", "B"] + (["T"] if timed else [])

        def tup(**repl) -> str:
            return "(" + ", ".join(repl.get(f, f) for f in fields) + ",)"

        lines = ["def successors(p):",
                 f"    {', '.join(fields)}, = p",
                 "    out = []",
                 "    append = out.append"]
        # A sorted bag on bytes: where the whole network's inbox memo misses, each
        # node's deliveries come from its share of the network (NetCodec.others, one
        # C call), memoised by that share, which repeats far more often than whole
        # networks do (a vote count: 497 shares for 701,056 networks). The whole
        # network's memo comes first: where networks repeat (TwoPhase, Paxos) one
        # lookup beats one per node. Other forms and modes: make_inbox.
        shares = self.net.bag and within is None
        lines += ["    inbox = inbox_memo.get((NET, CUT))",
                  "    if inbox is None:"]
        if shares:
            # a str network (ids past 255) the same way, its shares one str.translate
            # each (NetCodec.wide); a share's box memo key is the share itself (a
            # str share never equals a bytes one, and both give the same box)
            lines += ["        cls = NET.__class__",
                      "        if cls is bytes or cls is str:",
                      "            boxes = box_memo.get(CUT)",
                      "            if boxes is None:",
                      "                boxes = new_boxes(CUT)"]
            for n in range(k):
                lines += [f"            share = NET.translate(None, others[{n}]) if cls is bytes else NET.translate(wide[{n}])",
                          f"            b{n} = boxes.get(share)",
                          f"            if b{n} is None:",
                          f"                b{n} = make_box(share, CUT)"]
            lines += [f"            inbox = store_inbox((NET, CUT), ({''.join(f'b{n}, ' for n in range(k))}))",
                      "        else:",
                      "            inbox = make_inbox(NET, CUT)"]
        else:
            lines.append("        inbox = make_inbox(NET, CUT)")
        lines += ["    else:",
                  "        inbox_hits[0] += 1"]
        lines.append("    up = up_values[UP]")
        # a mode that keeps what it delivers (a message set): every delivery leaves
        # NET as it is, so the inbox holds message ids alone (see _make_inbox)
        keeps = not self.net.consumes
        # a sorted bag that consumes: the inbox holds ids too, and the network after a
        # delivery is taken here, one C call on bytes (see NetCodec.inboxes)
        takes = self.ids_only and not keeps
        # a sorted bag (consuming or a set): on a bytes network each node's deliveries
        # follow one memoised plan (see _plan_lines), labelled successors too (from
        # their own table); timed models take the general lines
        plans = self.ids_only and self.bag_send and not timed and within is None
        # dead messages dropped: the plans drop them too, where every message to a node
        # is in its box (no cut link), and the collector skips those successors
        dead = plans and self.model.collector is not None
        if keeps:
            lines.append("    after = NET")
        if takes or plans:
            lines.append("    flat = NET.__class__ is bytes")
            if dead:  # the plans collect only where no link is cut (see _plan_lines)
                lines += [f"    planned = flat and CUT == {int(self.empty_cut)} and use_plans[0]",
                          "    ok = True"]
            elif plans:
                lines.append("    planned = flat and use_plans[0]")
        if timed:  # the first step with clock skew chooses the clocks; paused nodes wait
            lines += ["    now, offsets, paused = time_values[T]",
                      "    if offsets is None:",
                      "        return [(c, -1) for c in clock_choices(p)]" if labelled else
                      "        return clock_choices(p)"]
            if within is not None:
                lines.append("    due = False")
        for n in range(k):
            gk = "G" if self.uses_ghosts[n] else "None"
            glob = f", p[:{k + 1}]" + (", T" if timed else "") if self.reads_global[n] else ""
            g_after = "(G if g2 is None else g2)" if self.uses_ghosts[n] else "G"
            succ = tup(**{names[n]: "node", "NET": "nn", "G": g_after})
            memo, make, unit = ("louts_memo", "make_loutcomes", ", u") if labelled else ("outs_memo", "make_outcomes", "")
            hits = "louts_hits" if labelled else "outs_hits"
            lines.append(f"    if up[{n}]{f' and not paused[{n}]' if timed else ''}:")
            lines.append(f"        box = inbox[{n}]")
            ind = ""
            if plans:
                lines += self._plan_lines(n, f"({n}, box, s{n}, {gk}{glob})", succ, dead, labelled)
                ind = "    "
            per_msg = [f"        for {'msg' if self.ids_only else 'msg, after'} in box:"]
            if takes:
                per_msg += ["            if msg < 0:",
                          "                after = NET",
                          "            elif flat:",
                          "                after = NET.replace(one_byte[msg], b'', 1)",
                          "            else:",
                          "                after = without(NET, msg)"]
            per_msg += [
                      f"            key = ({n}, msg, s{n}, {gk}{glob})",
                      f"            outs = {memo}.get(key)",
                      "            if outs is None:",
                      f"                outs = {make}(key, p, {n}, msg)",
                      "            else:",
                      f"                {hits}[0] += 1"]
            if within is not None:  # a message due now that can be delivered stops time
                per_msg += ["            if outs and msg in overdue:",
                          "                due = True"]
            per_msg += [
                      f"            for node, g2, sent{unit} in outs:",
                      "                if node is None:",
                      f"                    append({'(None, -1)' if labelled else 'None'})",
                      "                    continue",
                      "                if sent is None:",
                      "                    nn = after"] + self._send_lines() + [
                      f"                append({f'({succ}, u)' if labelled else succ})"]
            lines += [ind + line for line in per_msg]
        if dead:  # the successors so far went through the plans' collection (or none did)
            lines.append("    done[0] = len(out) if planned and ok else 0")
        if timed:
            lines += [f"    if now < {int(self.model.time.max)}{' and not due' if within is not None else ''}:",
                      "        nt = tick_memo.get((NET, T))",
                      "        if nt is None:",
                      "            nt = make_tick(NET, T)",
                      f"        append({'(' if labelled else ''}{tup(NET='nt[0]', T='nt[1]')}{', TICK)' if labelled else ''})"]
        g = Generator(self.model, names, tup)
        if labelled:  # every step from here on is an environment step: the fault unit
            lines += ["    def append(t):",
                      "        out.append((t, -1))"]
        for i, f in enumerate(self.model.faults):
            slot = self.model.budget_slot.get(i)
            ind = "    "
            b2 = "B"
            if slot is not None:
                lines += [f"    if budget_values[B][{slot}] > 0:",
                          f"        B2 = spend_memo.get((B, {slot}))",
                          "        if B2 is None:",
                          f"            B2 = make_spend(B, {slot})"]
                ind, b2 = "        ", "B2"
            lines += self.model.fault_kinds[i].packed(g, i, f, ind, b2)
        lines.append("    return out")
        return "\n".join(lines) + "\n"

    def _plan_lines(self, n: int, key: str, succ: str, dead: bool, labelled: bool) -> list[str]:
        """The generated lines for node n's deliveries and actions on a bytes network
        (a sorted bag: unordered or a set): one memo lookup by (n, box, node, ...) gives the
        node's plan (_make_plan), and each of its entries is a network edit and a
        tuple display. The general lines look up the outcomes per message and then
        tell a send's kind apart per successor; a plan has done both once for
        every state where the node has these variables and these messages waiting
        (a vote count: 701,056 states, a few thousand plans). Ends with the `else:`
        that the general lines (a str network) follow.

        `dead`: dead messages are dropped (modelcheck/prune/dead.py); each entry also
        has `dr`, the bytes of the node's own messages and sends to itself that its
        new variables make dead, deleted with one translate, and `wl`, the (id,
        receiver) of its sends to other nodes that a rule covers, looked up against
        their receivers' variables (not part of the plan's key).

        `labelled`: for `labelled` (no dead messages there), from its own table, each
        entry ending with the step's fairness unit."""
        memo, make, unit = ("lplan_memo", "make_lplan", ", u") if labelled else ("plan_memo", "make_plan", "")
        merge = "after + sb" if self.net.consumes else "set(after).union(sb)"
        collect = ["                if dr:",
                   "                    nn = nn.translate(None, dr)",
                   "                if wl:",
                   "                    for i, d in wl:",
                   "                        if dead_of[i, p[d]]:",
                   "                            nn = nn.replace(one_byte[i], b'')"] if dead else []
        return ["        if planned:",
                f"            pk = {key}",
                f"            plan = {memo}.get(pk)",
                "            if plan is None:",
                f"                plan = {make}(pk, p, {n})",
                f"            for rm, node, g2, x, sb{', dr, wl' if dead else ''}{unit} in plan:",
                "                after = NET.replace(rm, b'', 1) if rm else NET",
                "                if sb:",
                "                    if x is None:",
                f"                        nn = bytes(sorted({merge}))",
                "                    else:"] + self._insert_one("after", "x", "sb") + [
                "                elif x is None:",
                "                    if node is None:",
                f"                        append({'(None, -1)' if labelled else 'None'})",
                "                        continue",
                "                    nn = after",
                "                else:",
                "                    nn = send_memo.get((after, x))",
                "                    if nn is None:",
                "                        nn = make_send((after, x))"] + (
                ["                    ok = False  # not collected here: the collector takes this state"] if dead else []) + collect + [
                f"                append({f'({succ}, u)' if labelled else succ})",
                "        else:"]

    def _send_lines(self) -> list[str]:
        """The generated lines that set `nn`, the network after `sent` is sent into
        `after`. For a sorted bag whose ids all fit in a byte, the send is a sort
        of a few bytes, done right there (a memo lookup costs as much and networks
        rarely repeat), and the same on one character per id once an id passes 255
        (NetCodec's str form); otherwise through the send memo."""
        memo = ["                    nn = send_memo.get((after, sent))",
                "                    if nn is None:",
                "                        nn = make_send((after, sent))"]
        if not self.bag_send:
            return ["                else:"] + memo
        merge = "after + sb" if self.net.consumes else "set(after).union(sb)"
        # a str result holds a long id (after's, or one sent), so it is the one form
        wide = "a + sc" if self.net.consumes else "set(a).union(sc)"
        return (["                elif after.__class__ is bytes and sent in sent_bytes:",
                 "                    sb = sent_bytes[sent]",
                 "                    if len(sb) == 1:"] + self._insert_one("after", "sb[0]", "sb") +
                ["                    else:",
                 f"                        nn = bytes(sorted({merge}))",
                 "                elif sent in sent_chars and after.__class__ is not tuple:",
                 "                    sc = sent_chars[sent]",
                 "                    a = after if after.__class__ is str else after.decode('latin-1')",
                 "                    if len(sc) == 1:"] + self._insert_one("a", "sc", "sc") +
                ["                    else:",
                 f"                        nn = ''.join(sorted({wide}))",
                 "                else:"] + memo)

    def _insert_one(self, net: str, item: str, one: str) -> list[str]:
        """The generated lines that set `nn` to sorted sequence `net` with the one
        message `one` (element `item`) sent into it: inserted where bisect puts it,
        about half the cost of sorting the whole network again (a reply: most
        sends); a set keeps one copy."""
        if self.net.consumes:
            return [f"                        i = bisect_right({net}, {item})",
                    f"                        nn = {net}[:i] + {one} + {net}[i:]"]
        return [f"                        i = bisect_left({net}, {item})",
                f"                        nn = {net} if i < len({net}) and {net}[i] == {item} "
                f"else {net}[:i] + {one} + {net}[i:]"]

    def labelled(self, p: tuple) -> list[tuple]:
        """The successors of p as (successor or None, fairness unit) pairs, in the
        same order as `successors` and `Model.successors`: what a search that records
        the state graph for liveness needs (explorer._explore_packed_graph). A unit is
        the number `unit_ids` gives a step's model.fairness_key, -1 (liveness.FAULT)
        for an environment step or one that raised a run-time error.

        Compiled on first use, from the same templates as `successors`; not with the
        dead-message collector, which temporal properties never run with."""
        if self._labelled is None:
            if self.model.collector is not None:
                raise ValueError("labelled successors do not drop dead messages")
            self._labelled = self._compile(self._generate(labelled=True))
        return self._labelled(p)

    def _unit(self, step) -> int:
        return fairness_unit(self.unit_ids, step)

    def _compile(self, source: str):
        namespace = {
            "__builtins__": {}, "inbox_memo": self._inbox, "make_inbox": self._make_inbox,
            "up_values": self.up.values, "outs_memo": self._outs, "make_outcomes": self._make_outcomes,
            "outs_hits": self._outs_memo.hits, "louts_hits": self._louts_memo.hits,
            "send_memo": self._send, "make_send": self._make_send, "sent_bytes": self._sent_bytes,
            "sent_chars": self._sent_chars, "inbox_hits": self._inbox_memo.hits, "sorted": sorted,
            "bytes": bytes, "str": str, "tuple": tuple, "set": set, "len": len, "bisect_left": bisect_left,
            "bisect_right": bisect_right, "budget_values": self.budgets.values,
            "spend_memo": self._spend, "make_spend": self._make_spend, "crash_memo": self._crash,
            "make_crash": self._make_crash, "flip": self._flipped, "restarted": self._restarted,
            "cuts_memo": self._cuts, "make_cuts": self._make_cuts, "nets_memo": self._nets,
            "make_nets": self._make_nets, "time_values": self.times.values, "clock_choices": self._clock_choices,
            "overdue": self.overdue, "tick_memo": self._tick, "make_tick": self._make_tick,
            "unpause": self._unpaused, "pause_memo": self._pause, "make_pause": self._make_pause,
            "louts_memo": self._louts, "make_loutcomes": self._make_loutcomes,
            "plan_memo": self._plans, "make_plan": self._make_plan,
            "lplan_memo": self._lplans, "make_lplan": self._make_lplan, "done": self.done, "one_byte": ONE_BYTE,
            "use_plans": self.use_plans,
            "without": self.net.without, "others": self.net.others, "wide": self.net.wide, "box_memo": self._boxes,
            "new_boxes": self._new_boxes, "make_box": self._make_box, "store_inbox": self._inbox_memo.store,
        }
        if self.timed:
            namespace["TICK"] = self._unit(Step("tick"))
        exec(compile(source, "<packed successors>", "exec"), namespace)  # noqa: S102 - see _generate
        if self._namespace is None:  # the successors' own (see use_dead_plans)
            self._namespace = namespace
        return namespace["successors"]

    def _flipped(self, up_id: int, n: int) -> int:
        key = (up_id, n)
        r = self._flip.get(key)
        if r is None:
            up = self.up.values[up_id]
            r = self._flip[key] = self.up.id(up[:n] + (not up[n],) + up[n + 1:])
        return r

    def _restarted(self, woke: tuple, n: int, append) -> None:
        """A restart body's outcomes, applied to the woken state. Memoised by all
        the body could read (every node, up, the ghosts): the role's flags
        describe its handlers and actions only. Restarts are rare steps."""
        k = self.k
        g = woke[k + 3]
        key = (n, woke[:k + 1], g) + woke[k + 5:]  # the time, if any: a body may read a clock
        outs = self._restart.get(key)
        if outs is None:
            m = self.model
            state = self.unpack(woke)
            label = ("restart", None, (), None, None)
            trs = m._execute(state, n, None, m.restart[m.checked.node_roles[n].name], {}, None, label, state.net)
            outs = self._memo(self._restart, key, [
                (None, None, None) if tr.state is None else
                (self._node_id(n, tr.state.nodes[n]), self.ghosts.id(tr.state.ghosts),
                 self.sent.id(tr.step.sent) if tr.step.sent else None) for tr in trs])
        net = woke[k + 1]
        for node, g2, sent in outs:
            if node is None:
                append(None)
                continue
            new_net = net if sent is None else self._sent_net(net, sent)
            append(woke[:n] + (node,) + woke[n + 1:k + 1] + (new_net, woke[k + 2], g2, woke[k + 4]) + woke[k + 5:])

    # ---- memo misses ----------------------------------------------------------------

    @staticmethod
    def _memo(table: dict, key, value, limit: int = MEMO_LIMIT):
        if len(table) >= limit:
            table.clear()
        table[key] = value
        return value

    def _sent_net(self, net: int, sent: int) -> int:
        """The network after a send (the generated code inlines this lookup)."""
        r = self._send.get((net, sent))
        return self._make_send((net, sent)) if r is None else r

    def use_dead_plans(self, dead_plans) -> None:
        """Let the plans drop dead messages (prune/dead.py's DeadPlans, given by
        Collector.packed): their entries are built with it, and the generated
        successors look the sends to other nodes up in its table (`dead_of`)."""
        self.dead_plans = dead_plans
        self._namespace["dead_of"] = dead_plans.of

    def _make_lplan(self, key: tuple, p: tuple, n: int) -> tuple:
        """_make_plan for `labelled`: each entry ends with its step's fairness unit."""
        return self._make_plan(key, p, n, True)

    def _make_plan(self, key: tuple, p: tuple, n: int, labelled: bool = False) -> tuple:
        """Node n's plan (see _plan_lines) for key (n, box, node id, ...): per outcome
        of each message in its box (its actions last), in the general lines' order,
        (rm, node, g2, x, sb):
        - rm: the message's byte, taken out of the network (b'' for an action, and
          in a set, which keeps what it delivers);
        - node, g2: the node's values and the ghosts after (node None: a run-time
          error, appended as None);
        - x, sb: what is sent: sb the ids' bytes, x the one id when there is one
          (inserted where bisect puts it) or None (the network sorted again); sb
          empty and x None when nothing is sent; sb empty and x the sent id when
          the ids do not fit in bytes (the send memo then);
        - with dead messages dropped, dr and wl (see _plan_lines, DeadPlans).
        Entries (and their dr, wl) are kept once: the plans of one node share most."""
        box, rest = key[1], key[2:]
        memo = self._louts_memo if labelled else self._outs_memo
        outs_memo, entries, consumes, ents = memo.table, [], self.net.consumes, self._entries
        dead = None if labelled else self.dead_plans
        for msg in box:
            okey = (n, msg) + rest  # the general lines' outcome key
            outs = outs_memo.get(okey)
            if outs is None:
                outs = (self._make_loutcomes if labelled else self._make_outcomes)(okey, p, n, msg)
            else:
                memo.hits[0] += 1
            rm = ONE_BYTE[msg] if msg >= 0 and consumes else b""
            for out in outs:
                node, g2, sent = out[:3]  # (all None for a run-time error)
                ids = b"" if sent is None else self._sendable(sent)
                if ids.__class__ is not bytes:  # ids past one byte: the send memo; the collector
                    entry = (rm, node, g2, sent, b"") + ((b"", ()) if dead else ())
                else:
                    entry = (rm, node, g2, ids[0] if len(ids) == 1 else None, ids)
                    if dead is not None:
                        entry += (b"", ()) if node is None else \
                            tuple(ents.setdefault(x, x) for x in dead.collect(n, box, node, ids))
                if labelled:
                    entry += (out[3],)
                entries.append(ents.setdefault(entry, entry))
        plans = self._lplans if labelled else self._plans
        if len(plans) >= min(PLAN_LIMIT, ROOM[0]):
            if self.k * (STORED[0] - self._plans_since) < MIN_REUSE * len(plans):  # they do not pay
                self.use_plans[0] = False
                self._lplans.clear()
            self._plans_since = STORED[0]
            plans.clear()
            ents.clear()
        plan = tuple(entries)
        if self.use_plans[0]:
            plans[key] = plan
        return plan

    def _make_outcomes(self, key: tuple, p: tuple, n: int, msg: int) -> tuple:
        return self._outs_memo.store(key, self._outcomes(p, n, msg, False))

    def _make_loutcomes(self, key: tuple, p: tuple, n: int, msg: int) -> tuple:
        """_make_outcomes for `labelled`: each outcome also carries its unit."""
        return self._louts_memo.store(key, self._outcomes(p, n, msg, True))

    def _outcomes(self, p: tuple, n: int, msg: int, labelled: bool) -> tuple:
        """Node n's outcomes of taking message msg (-1: its actions) in p, as
        (node values id, ghosts id, sent id), all None for a run-time error; with
        `labelled`, each followed by the step's unit (-1 for an error)."""
        state = self.unpack(p)
        message = None if msg < 0 else self.msgs.values[msg]
        outs = []
        for step, values, ghosts, sent, error in self.model.compute_outcomes(state, n, message):
            if error is not None:
                out = (None, None, None)
            else:
                out = (self._node_id(n, values), None if ghosts is None else self.ghosts.id(ghosts),
                       self.sent.id(sent) if sent else None)
            if labelled:
                out += (-1 if error is not None else self._unit(step),)
            outs.append(out)
        return tuple(outs)

    def _node_id(self, n: int, values: tuple) -> int:
        """The id of node n's variables `values`. A new one is stored with each
        container variable (a seq, set, map or tuple) replaced by the object already
        held for an equal value of that variable, where one is (per role and
        variable: a declared type, so True never stands for 1). A step builds new
        containers for what it writes, and the same value is built again on many
        paths: raft_membership keeps its cluster in one node, and its 49,114 node
        values held 296,379 container objects for 2,703 distinct variable values.
        Stores only while values repeat (AdaptiveMemo)."""
        i = self.nodes.ids.get(values)
        if i is not None:
            return i
        shares = self._var_share[n]
        out = list(values)
        for j, x in enumerate(values):
            if x.__class__ in CONTAINERS:
                memo = shares[j]
                y = memo.table.get(x)
                if y is None:
                    memo.store(x, x)
                else:
                    memo.hits[0] += 1
                    out[j] = y
        return self.nodes.id(tuple(out))

    def _make_inbox(self, net, cut: int) -> list:
        cut_links = self.cut.values[cut]
        within = self.model.within
        ids_only = self.ids_only
        boxes = self.net.inboxes(net, self.k, cut_links) if within is None else None
        if boxes is None:
            boxes = [[] for _ in range(self.k)]
            msgs = self.msgs.values
            for i, after in self.net.deliveries(net):
                m = msgs[i]
                if (m[0], m[1]) not in cut_links:
                    if within is not None and m[4] >= within:
                        self.overdue.add(i)
                    boxes[m[1]].append(i if ids_only else (i, after))
        # each node's actions come last, on the network as it is (message id -1)
        if ids_only:  # the ids alone (the generated code takes the network after)
            inbox = [(*box, -1) for box in boxes]
        else:
            tail = (-1, net)
            inbox = [(*box, tail) for box in boxes]
        return self._inbox_memo.store((net, cut), inbox)

    def _new_boxes(self, cut: int) -> dict:
        boxes = self._boxes[cut] = {}
        return boxes

    def _make_box(self, share, cut: int) -> tuple:
        """A node's deliveries from `share`, the messages to it in a bytes or str network:
        their ids in the mode's order, each once, then -1 for its actions."""
        boxes = self._boxes[cut]
        if len(boxes) >= NET_MEMO_LIMIT:
            boxes.clear()
        if not share:
            box = (-1,)
        else:
            first = share[0] if share.__class__ is bytes else ord(share[0])
            box = (*self.net.inboxes(share, self.k, self.cut.values[cut])[self.net._dest[first]], -1)
        boxes[share] = box
        return box

    def _make_send(self, key: tuple):
        net, sent = key
        return self._memo(self._send, key, self.net.send(net, self._sendable(sent)), NET_MEMO_LIMIT)

    def _sendable(self, sent: int):
        """The ids of sent id `sent`'s messages, stamped (Model._stamp), in the form
        NetCodec.send takes; a bag's are also kept as bytes or as a str, which the
        generated code sends itself."""
        ids = self._sent_ids.get(sent)
        if ids is None:
            mid = self.msgs.id
            ids = self._sent_ids[sent] = self.net.sendable(
                [mid(m) for m in self.model._stamp(list(self.sent.values[sent]))])
            if self.net.bag:
                if type(ids) is bytes:
                    self._sent_bytes[sent] = ids
                if max(ids, default=0) < STR_IDS:
                    self._sent_chars[sent] = "".join(map(chr, ids))
        return ids

    def _make_crash(self, n: int, node: int) -> int:
        after = self.model._after_crash(self.nodes.values[node], n)
        return self._memo(self._crash, (n, node), self._node_id(n, after))

    def _make_spend(self, b: int, slot: int) -> int:
        budgets = list(self.budgets.values[b])
        budgets[slot] -= 1
        return self._memo(self._spend, (b, slot), self.budgets.id(tuple(budgets)))

    def _make_cuts(self, i: int, cut: int) -> tuple:
        after = self.model.fault_kinds[i].cuts_after(self.k, self.cut.values[cut])
        return self._memo(self._cuts, (i, cut), tuple(self.cut.id(c) for c in after))

    # ---- time ---------------------------------------------------------------------

    def _clock_choices(self, p: tuple) -> list:
        return [self.pack(tr.state) for tr in self.model._clock_choices(self.unpack(p))]

    def _make_tick(self, net: int, t: int) -> tuple:
        m = self.model
        now, offsets, paused = self.times.values[t]
        after = m.network.age(self.net.values[net], m.within) if m.within is not None else self.net.values[net]
        time = (now + 1, offsets, tuple(x - 1 if x else 0 for x in paused))
        return self._memo(self._tick, (net, t), (self.net.id(after), self.times.id(time)), NET_MEMO_LIMIT)

    def _unpaused(self, t: int, n: int) -> int:
        """The time with node n no longer paused (a crashed node is not paused)."""
        now, offsets, paused = self.times.values[t]
        return self.times.id((now, offsets, paused[:n] + (0,) + paused[n + 1:]))

    def _make_pause(self, t: int, n: int, longest: int) -> tuple:
        """The times with node n paused for 1, 2, ..., longest ticks."""
        now, offsets, paused = self.times.values[t]
        return self._memo(self._pause, (t, n, longest), tuple(
            self.times.id((now, offsets, paused[:n] + (d,) + paused[n + 1:])) for d in range(1, longest + 1)))

    def _make_nets(self, i: int, net: int) -> tuple:
        after = self.model.fault_kinds[i].nets_after(self.model.network, self.net.values[net])
        return self._memo(self._nets, (i, net), tuple(self.net.id(a) for _, a in after), NET_MEMO_LIMIT)


class Generator:
    """What a fault kind's `packed` hook may use to write its lines of the
    generated `successors(p)` (modelcheck/faults/base.py): the state's local names,
    a successor tuple with some parts replaced, and the shared lines of the cut and
    network families (memoised per fault line and part)."""

    def __init__(self, model: Model, names: list[str], tup):
        self.model = model
        self.names = names  # s0, s1, ...: each node's variables id
        self.tup = tup  # tup(NET="nt", B="B2"): the successor tuple with those parts replaced

    def members(self, f) -> list[int]:
        return self.model.fault_members(f)

    def lookup(self, ind: str, var: str, memo: str, key: str, make: str) -> list[str]:
        """`var = memo[key]`, computed by `make(...)` on a miss (`make` is the call's
        text with its arguments)."""
        return [f"{ind}{var} = {memo}.get({key})",
                f"{ind}if {var} is None:",
                f"{ind}    {var} = {make}"]

    def cut_lines(self, i: int, ind: str, b2: str) -> list[str]:
        """A step per cut the line's kind allows from CUT (kind.cuts_after)."""
        return self._each(ind, "cuts", "cuts_memo", "make_cuts", int(i), "CUT", b2)

    def net_lines(self, i: int, ind: str, b2: str) -> list[str]:
        """A step per network the line's kind allows from NET (kind.nets_after)."""
        return self._each(ind, "nets", "nets_memo", "make_nets", int(i), "NET", b2)

    def _each(self, ind: str, var: str, memo: str, make: str, i: int, part: str, b2: str) -> list[str]:
        return self.lookup(ind, var, memo, f"({i}, {part})", f"{make}({i}, {part})") + [
            f"{ind}for c in {var}:",
            f"{ind}    append({self.tup(**{part: 'c', 'B': b2})})"]
