"""One worker of the partitioned breadth-first search: the states it owns, their
parent links, and the expansion of its share of each level.

The search is level-synchronous (engine/parallel/search.py drives it). During a
level each worker expands its frontier in rounds (`step`): a successor it owns
goes straight into its candidates for the next level, one owned by another worker
goes into that worker's next batch (engine/parallel/wire.py). Every candidate
carries its *discovery key*, (rank of its parent in the level, index of the step
among the parent's successors) packed in one int: the order in which the one-process
search would meet it. A state reached several times keeps the least key, so at
the end of the level (`finish_level`, `rank`) the candidates sorted by key, merged
over the workers, are exactly the next level of the one-process search, in its
order, and a state's position there (its *rank*) is the same whatever the number
of workers. Ranks are what parent links, traces, the first violation and the stop
at --max-states are expressed in, so none of them depends on how the states were
shared out.
"""
from __future__ import annotations

from array import array
from bisect import bisect_left
from time import perf_counter
from itertools import repeat
from operator import add
from dataclasses import dataclass

from .. import compact
from ..invariants import packed_invariants
from ..memo import follow
from ..visited import FingerprintSet, disk_dir
from .wire import Inbox, Outbox

# A discovery key is (parent rank << KEY_BITS) | step index.
KEY_BITS = 24
# Successor tuples already handled here (sent to their owner, or offered to this
# worker's own candidates) are remembered, two generations of this many, so a state
# reached again is dropped before its owner is computed or it is sent again.
SEEN_LIMIT = 1 << 17
# With a time limit per round, the states expanded between two looks at the clock
SLICE = 32
# States of a level sampled for the growth hint of a stopped search (engine/growth.py)
SAMPLE = 64
# A worker goes over to compact keys (engine/compact.py) at the end of the first
# level after which it uses more than this share of its memory limit (see
# Worker._go_compact)
COMPACT_AT = 0.5


@dataclass
class LevelIndex:
    """A worker's states at one depth, in rank order (for traces)."""

    ranks: array  # global ranks, ascending
    keys: list  # the visited-set key of each (the packed state, or its fingerprint)
    parents: array  # the rank of each one's parent at the depth before (-1: none)


class Worker:
    def __init__(self, wid: int, n: int, pm, psym, owner, model, fingerprints: bool, collect: bool,
                 tracker=None, guard=None, fingerprint_memory: int | None = None):
        self.wid, self.n = wid, n
        self.pm, self.psym, self.owner, self.model = pm, psym, owner, model
        self.fp, self.collect = fingerprints, collect
        self.canon = psym.canon if psym is not None else None
        # plain: the visited key is the packed state itself, or its compact key once memory
        # runs short (no symmetry, no fingerprints);
        # then one dict holds the stored states (-1) and the candidates (their keys)
        self.plain = not fingerprints and psym is None
        self.visited = (FingerprintSet(parents=False, memory=fingerprint_memory, log_dir=disk_dir()) if fingerprints
                        else {} if self.plain else set())
        self.new: list = []  # plain: the candidates, in the order found
        self.levels: list[LevelIndex] = []
        self.frontier: list = []  # this level's states to expand, in rank order
        self.franks = array("q")  # their ranks
        self.fsucc = array("q")  # how many successors each had (transition counts)
        self.pos = 0  # the next frontier state to expand
        self.prev = (array("q"), array("q"))  # the last expanded level's ranks and successor counts
        self.cand: dict = {}  # key -> (discovery key, packed state, orbit size)
        self.ranked: list = []  # the next level's candidates in key order, once the level is finished
        self.orbits: list | None = None  # under symmetry: the orbit size of each (None: one state each)
        self.level_keys = array("q")  # their discovery keys
        self.err_min = None  # least discovery key of a step that raised a run-time error
        self.transitions = 0  # in the current level
        self.seen, self.seen_old = set(), set()
        self.outboxes = [None if j == wid else Outbox(pm) for j in range(n)]
        self.inboxes = [None if j == wid else Inbox(pm) for j in range(n)]
        # the one-process search's invariant check (each invariant memoised by what it reads)
        self.violations, self.inv_memo = packed_invariants(model, pm, collect)
        self.tracker = tracker  # its memo and evaluation only: extremes are kept per level (_measure)
        if tracker is not None:
            tracker.to_state = pm.unpack
        self.guard = guard
        # This worker's states go over to compact keys once memory runs short
        # (`_go_compact`). Not with measures, as in the one-process search.
        self.compactable = not fingerprints and tracker is None
        self.codec = None
        self.sent = 0  # states handed to other workers
        self.sent_bytes = 0  # the batches' size
        self.received = 0

    # ---- the level's expansion ------------------------------------------------------

    def seed(self) -> int:
        """Take the initial state if this worker owns it; the number of states taken."""
        follow(1)  # the memo tables grow with the states this process stores (memo.ROOM)
        init = self.pm.initial
        if self.canon is not None:
            init = self.canon(init)
        if self.owner(init) != self.wid:
            self.levels.append(LevelIndex(array("q"), array("q") if self.fp else [], array("q")))
            return 0
        tk = hash(init) if self.fp else init
        self._visit(tk)
        self.levels.append(LevelIndex(array("q", [0]), [tk] if not self.fp else array("q", [tk]), array("q", [-1])))
        self.frontier, self.franks, self.fsucc = [init], array("q", [0]), array("q", [0])
        return 1

    def _visit(self, tk) -> None:
        if self.fp:
            self.visited.add(tk, None)
        elif self.plain:
            self.visited[tk] = -1
        else:
            self.visited.add(tk)

    def step(self, batches: list, budget: int, seconds: float | None = None) -> tuple:
        """Take the states other workers sent (`batches`: (sender, bytes)), then expand
        up to `budget` frontier states, and with `seconds` no longer than that (from
        the call: the workers of a round then end it together, whatever their states
        cost). Returns (the batch for each other worker or None, frontier states
        left, candidates, transitions this level, memory exceeded)."""
        started = perf_counter()
        for sender, batch in batches:
            keys, states = self.inboxes[sender].open(batch)
            self.received += len(keys)
            offer = self._offer
            for key, t in zip(keys, states):
                offer(key, t)
        outk = [[] for _ in range(self.n)]
        outs = [[] for _ in range(self.n)]
        end = min(len(self.frontier), self.pos + budget)
        if seconds is None:
            if self.pos < end:
                self._expand(self.pos, end, outk, outs)
                self.pos = end
        else:
            until = started + seconds
            while self.pos < end:
                part = min(end, self.pos + SLICE)
                self._expand(self.pos, part, outk, outs)
                self.pos = part
                if perf_counter() >= until:
                    break
        out = []
        for j in range(self.n):
            if outk[j]:
                self.sent += len(outk[j])
                batch = self.outboxes[j].seal(outk[j], outs[j])
                self.sent_bytes += len(batch)
                out.append(batch)
            else:
                out.append(None)
        if self.pos >= len(self.frontier):
            self.frontier = []
        memory = self.guard is not None and self.guard.exceeded()
        return out, len(self.frontier) - self.pos if self.frontier else 0, self._candidates(), self.transitions, memory

    def _candidates(self) -> int:
        return len(self.new) if self.plain else len(self.cand)

    def _expand(self, start: int, end: int, outk: list, outs: list) -> None:
        """Expand frontier states start..end-1: each successor this worker owns becomes
        (or improves) a candidate, each other one goes into its owner's batch."""
        frontier, franks, fsucc = self.frontier, self.franks, self.fsucc
        successors, owner, wid = self.pm.successors, self.owner.function, self.wid
        plain = self.plain
        known = self.visited  # plain: the state (its key) -> its discovery key, -1 once stored
        new = self.new
        offer = self._offer
        seen, seen_old = self.seen, self.seen_old
        err = self.err_min
        transitions = 0
        encode = decode = None
        if self.codec is not None:
            encode, decode = self.codec.encode, self.codec.decode
        for j in range(start, end):
            s = frontier[j]
            frontier[j] = None
            if decode is not None:
                s = decode(s)
            base = franks[j] << KEY_BITS
            succ = successors(s)
            fsucc[j] = len(succ)
            transitions += len(succ)
            for idx, t in enumerate(succ):
                if t is None:  # a run-time error: the search asks the Model which
                    if err is None or base | idx < err:
                        err = base | idx
                    continue
                tk = t if encode is None else encode(t)
                if plain:  # one lookup: stored (-1) or a candidate (its key)
                    c = known.get(tk)
                    if c is not None:
                        if c > base | idx:
                            known[tk] = base | idx
                        continue
                elif encode is not None and tk in known:  # a stored representative is its own
                    continue
                if tk in seen or tk in seen_old:
                    continue
                o = owner(t)
                if o != wid:
                    outk[o].append(base | idx)
                    outs[o].append(t)
                elif plain:
                    known[tk] = base | idx
                    new.append(tk)
                    continue
                else:
                    offer(base | idx, t)
                seen.add(tk)
                if len(seen) >= SEEN_LIMIT:
                    self.seen_old, seen_old = seen, seen
                    self.seen = seen = set()
        self.err_min = err
        self.transitions += transitions

    def _offer(self, key: int, t: tuple) -> None:
        """A successor this worker owns, reached with discovery key `key`."""
        if self.plain:
            tk = t if self.codec is None else self.codec.encode(t)
            c = self.visited.get(tk)
            if c is None:
                self.visited[tk] = key
                self.new.append(tk)
            elif c > key:
                self.visited[tk] = key
            return
        orbit = 1
        if self.canon is not None:
            t = self.canon(t)
            orbit = self.psym.orbit_size()
        tk = hash(t) if self.fp else t if self.codec is None else self.codec.encode(t)
        if tk in self.visited:
            return
        c = self.cand.get(tk)
        if c is None or key < c[0]:  # tuples, not lists: the garbage collector skips them
            # (with compact keys the level keeps the key itself, the object stored)
            self.cand[tk] = (key, t if self.codec is None else tk, orbit)

    # ---- the end of a level ---------------------------------------------------------

    def finish_level(self) -> tuple:
        """Sort the candidates by discovery key: (their keys as array('q') bytes, the
        least key of a step that raised an error, transitions this level)."""
        if self.plain:  # sorted in place by their keys, no (key, state) pairs built
            known = self.visited
            self.ranked = self.new
            self.ranked.sort(key=known.__getitem__)
            self.level_keys = array("q", map(known.__getitem__, self.ranked))
            self.orbits = None
            self.new = []
        else:
            cands = sorted(self.cand.values(), key=_first)
            self.ranked = [c[1] for c in cands]
            self.orbits = [c[2] for c in cands]
            self.level_keys = array("q", [c[0] for c in cands])
            self.cand = {}
        return self.level_keys.tobytes(), self.err_min, self.transitions

    def rank(self, all_keys: list) -> None:
        """Give each candidate its rank in the merged order of every worker's keys
        (`all_keys`, one array('q') bytes per worker), store them as the next level,
        and make it the frontier."""
        others = []
        for w, b in enumerate(all_keys):
            if w != self.wid and b:
                a = array("q")
                a.frombytes(b)
                others.append(a)
        # a key's rank: its position here plus how many keys of each other worker are
        # below it (the keys of a level are distinct across workers); bisect_left
        # mapped over the keys runs in C
        ranks = range(len(self.level_keys))
        for a in others:
            ranks = map(add, ranks, map(bisect_left, repeat(a), self.level_keys))
        ranks = array("q", ranks)
        if self.fp:
            keys = array("q", map(hash, self.ranked))
            for tk in keys:
                self._visit(tk)
        else:
            keys = self.ranked
            if self.plain:  # _visit, for every key at once
                self.visited.update(zip(keys, repeat(-1)))
            else:
                self.visited.update(keys)
        follow(len(self.visited))  # this process's memo tables grow with what it stores
        self.levels.append(LevelIndex(ranks, keys, array("q", [key >> KEY_BITS for key in self.level_keys])))
        self.prev = (self.franks, self.fsucc)
        self.frontier = self.ranked[:]  # (emptied as it is expanded; the level index keeps `keys`)
        self.franks = ranks
        self.fsucc = array("q", bytes(8 * len(ranks)))
        self.pos = 0
        self.err_min = None
        self.transitions = 0
        if self.codec is None:
            if self.compactable and self._memory_short():
                if self.psym is not None:
                    self.canon = self.psym.memo_by_key()[1]  # (see _go_compact)
                self._go_compact(compact.Codec(self.pm.k, len(self.pm.initial)))
        elif self.codec.outgrown():  # ids past two bytes: the keys again, with four-byte ints
            self._go_compact(self.codec.widened())

    def _memory_short(self) -> bool:
        return self.guard is not None and self.guard.above(COMPACT_AT)

    def _go_compact(self, codec) -> None:
        """Store this worker's states under `codec`'s compact keys from now on (from
        tuples, or from the keys of the codec it had, outgrown).

        A worker's states cost what the one-process search's cost before it goes over
        to compact keys, and more: each worker also remembers the successors it
        handled (`seen`). Under compact keys, the visited set, the level index and
        the levels to check and expand hold one key object per state, and `seen`
        the successors' keys; under symmetry the memo of canonical forms (whose
        forms would no longer be the stored objects) gives way to `seen`. Without
        symmetry the visited set stays one dict of keys, -1 for a stored state and
        the discovery key for a candidate. On Raft with two workers
        that is 819-823 -> 692 bytes a state, but 8% more time (each successor is
        encoded, 1 µs), where the one-process search pays 2%: so a worker goes over
        only once it uses more than COMPACT_AT of its memory limit (checked at the
        end of each level), and a run that would have stopped for memory goes on.
        Batches still carry packed states; results never depend on the keys."""
        encode, decode = codec.encode, None if self.codec is None else self.codec.decode
        # Every stored state is in exactly one level, so the levels are converted one
        # at a time, each state leaving the old visited set as its key enters the
        # new: the old states are freed as the keys are made, and no map of every
        # state to its key stands beside both (that map raised the vote count's
        # peak with two workers from 453.7 to 483.0 MiB where a worker went over late)
        old, self.ranked, self.frontier = self.visited, None, None
        visited: dict | set = {} if self.plain else set()
        for lv in self.levels:
            states, lv.keys = lv.keys, [encode(t if decode is None else decode(t)) for t in lv.keys]
            for t in states:
                old.pop(t, None) if self.plain else old.discard(t)
            del states
            # plain: every state is stored (-1) between levels, none a candidate
            visited.update(dict.fromkeys(lv.keys, -1) if self.plain else lv.keys)
        self.visited = visited
        self.ranked = self.levels[-1].keys  # (rank just made it the last level)
        self.frontier = self.ranked[:]
        self.seen, self.seen_old = set(), set()  # (tuples, or the old codec's keys)
        self.codec = codec

    def check(self, limit: int, depth: int) -> tuple:
        """Check the invariants (and measures) on this level's states of rank below
        `limit`, in rank order. Returns (bad, orbits, measures, sample):
        - bad: [(rank, discovery key, violations)]: the first bad state only, or with
          `collect` the first state of each violated name;
        - orbits: the sum of the orbit sizes of the checked states (None: unknown);
        - measures: per measure, the (rank, value) at which its running minimum and
          maximum improved (see `_measure`);
        - sample: a few of the level's states (model States) with their ranks."""
        ranks, ranked, pm, level_keys, orbit = self.franks, self.ranked, self.pm, self.level_keys, self.orbits
        reads = self.pm.reads
        violations, collect = self.violations, self.collect
        bad, names = [], set()
        orbits = 0
        mt = self.tracker
        lows = highs = None
        if mt is not None:
            lows, highs = [[] for _ in mt.measures], [[] for _ in mt.measures]
        n = bisect_left(ranks, limit)
        decode = None if self.codec is None else self.codec.decode
        for j in range(n):
            t = ranked[j] if decode is None else decode(ranked[j])
            if orbits is not None:
                size = 1 if orbit is None else orbit[j]
                orbits = None if size is None else orbits + size
            read = reads(t)
            bads = violations(t, read)
            if mt is not None:
                bads = bads + self._measure(t, read, ranks[j], lows, highs)
            if bads:
                if not collect:
                    bad.append((ranks[j], level_keys[j], bads))
                    break
                fresh = [b for b in bads if (b.name or "") not in names]
                if fresh:
                    names.update(b.name or "" for b in fresh)
                    bad.append((ranks[j], level_keys[j], fresh))
        step = max(1, len(ranked) // SAMPLE)
        sample = [(ranks[j], pm.unpack(ranked[j] if decode is None else decode(ranked[j])))
                  for j in range(0, len(ranked), step)]
        self.ranked = []
        return bad, orbits, (lows, highs), sample

    def _measure(self, t: tuple, read: tuple, rank: int, lows: list, highs: list) -> list:
        """The measures on state t: record (rank, value) where this worker's running
        minimum or maximum of the level improves (levels are checked in rank order,
        so the last record at or below a rank is the extreme up to that rank, first
        reached there). A run-time error comes back as a violation."""
        values = self.tracker.values(t, read)
        if not isinstance(values, tuple):
            return [values]
        for i, v in enumerate(values):
            lo, hi = lows[i], highs[i]
            if not lo or v < lo[-1][1]:
                lo.append((rank, v))
            if not hi or v > hi[-1][1]:
                hi.append((rank, v))
        return []

    # ---- queries of the search (stops, traces) --------------------------------------

    def count_below(self, key: int) -> int:
        """How many of this level's states have a discovery key below `key`."""
        return bisect_left(self.level_keys, key)

    def key_at(self, rank: int):
        """The discovery key of the state of this level with rank `rank`, None if not here."""
        j = bisect_left(self.franks, rank)
        if j < len(self.franks) and self.franks[j] == rank:
            return self.level_keys[j]
        return None

    def transitions_before(self, parent_rank: int) -> int:
        """The transitions of the last expanded level's states ranked below `parent_rank`."""
        ranks, succ = self.prev
        return sum(succ[:bisect_left(ranks, parent_rank)])

    def parent_of(self, depth: int, rank: int):
        """The parent rank of the state (depth, rank), None if it is not here."""
        lv = self._find(depth, rank)
        return None if lv is None else lv[0].parents[lv[1]]

    def match(self, depth: int, rank: int, states: list):
        """Which of `states` (model States, None for a step that failed) is the state
        (depth, rank) stored here: the index of the first, or None if not here."""
        lv = self._find(depth, rank)
        if lv is None:
            return None
        want = lv[0].keys[lv[1]]
        for i, st in enumerate(states):
            if st is None:
                continue
            p = self.pm.pack(st)
            if self.canon is not None:
                p = self.canon(p)
            if (hash(p) if self.fp else p if self.codec is None else self.codec.encode(p)) == want:
                return i
        raise AssertionError(f"no successor reaches state {rank} at depth {depth}")

    def _find(self, depth: int, rank: int):
        if depth >= len(self.levels):
            return None
        lv = self.levels[depth]
        j = bisect_left(lv.ranks, rank)
        if j < len(lv.ranks) and lv.ranks[j] == rank:
            return lv, j
        return None

    def counts(self) -> tuple:
        """(states stored, candidates, states sent, states received, bytes sent,
        fingerprints on disk)."""
        disk = getattr(self.visited, "disk", None)
        return (len(self.visited) - len(self.new), self._candidates(), self.sent, self.received, self.sent_bytes,
                len(disk) if disk else 0)


def _first(c: list) -> int:
    return c[0]
