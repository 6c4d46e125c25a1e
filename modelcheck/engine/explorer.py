"""Breadth-first exploration with a visited set: the first violation found comes
with a shortest trace.

The explorer sees only the model contract (contract.py: an initial state, an
ordered successor function, the invariants a state breaks, and the optional
capabilities). It stores, per visited state, only its parent; a trace is
rebuilt by walking parents back and re-running `successors` on each state to
recover the step taken (the first successor, in the model's fixed order, that
reaches the child), so the stored graph stays small and traces are deterministic.

There are two searches, one on the model's `State`s and a faster one on packed
states (packed.py); they share the stop rules (stops.py) and the result types
(result.py).
"""
from __future__ import annotations

import time
from struct import error as StructError
from dataclasses import dataclass
from typing import Callable

from . import compact
from . import growth
from . import measures
from . import packed
from . import reduction
from .contract import Explorable, Symmetric, Temporal
from .frontier import SpillingLevel
from .invariants import check_state, packed_invariants, runtime_violation
from .visited import FingerprintSet, disk_dir, fingerprint_budget
from .liveness import FAULT, Graph, Lasso, find_lasso
from .memo import follow
from .model import State, Step, fairness_unit
from .result import Finding, Result, Stats, Violation
from .stops import STOPPING, Stops
from ..lang.values import SpecRuntimeError
from ..limits import Budget


# Result.notes of a run stopped before its search (Ctrl-C, SIGTERM, --timeout)
ANALYSING = ("stopped in the z3 analysis of dead messages, before the search started "
             "(--keep-dead-messages skips that analysis)")


@dataclass
class Options:
    max_states: int | None = None
    max_depth: int | None = None
    timeout: float | None = None
    # Called now and then (every PROGRESS_EVERY new states) with a Progress snapshot;
    # the explorer itself never prints.
    on_progress: Callable[["Progress"], None] | None = None
    # Matrix mode: keep exploring after a violation and report the first (shortest)
    # violation of every invariant, instead of stopping at the first one.
    collect_all: bool = False
    # Keep the whole state graph in Result.graph (`modelcheck graph`); liveness
    # checking records it anyway when the model has properties.
    record_graph: bool = False
    # Symmetry reduction (modelcheck/engine/symmetry.py) for the roles the spec cannot tell
    # apart. Not used while recording a graph (liveness, `graph`): fairness is not
    # preserved by merging renamed states. `verify` turns it on unless --no-symmetry.
    symmetry: bool = False
    # Store 64-bit fingerprints of visited states instead of the states (TLC's
    # approach): far less memory, at a stated probability that two states collide
    # and one is never explored. Off by default (exact).
    fingerprints: bool = False
    # Sleep sets (modelcheck/engine/reduction.py): skip transitions whose target another
    # order of independent steps reaches. Same states, verdicts and counts; fewer
    # transitions. Opt-in (`--prune`): in CPython its bookkeeping costs about what a
    # skipped transition saves (measurements in docs/language.md, "Pruning").
    prune: bool = False
    # The packed fast path (modelcheck/engine/packed.py) where it applies: no pruning and no
    # `record_graph` (temporal properties record their graph on packed states). Same
    # results; False only to compare the two.
    packed: bool = True
    # Stop (stop_reason "memory") when the process's resident memory passes this many
    # bytes; None: no limit of its own. Either way the search also stops before an
    # address-space limit (ulimit -v) is reached (limits.MemoryGuard). The CLI's
    # --memory-limit defaults to a share of the machine's memory.
    memory_limit: int | None = None
    # With fingerprints: the bytes the in-memory fingerprint table may take before its
    # fingerprints go to a sorted file on disk (visited.py). None: a quarter of
    # memory_limit (no bound without one).
    fingerprint_memory: int | None = None
    # The state-saving reductions (modelcheck/prune), applied where sound: leave out
    # cut and heal steps, drop messages z3 proved dead. Off here (a library search
    # explores the model as written); `verify` and `matrix` turn both on unless
    # --keep-partitions / --keep-dead-messages.
    skip_partitions: bool = False
    drop_dead_messages: bool = False
    # Worker processes for the partitioned search (engine/parallel): the same
    # counts, verdicts and traces as one process. 1: the one-process search. Used
    # on the packed fast path; a search that records a graph or prunes runs on one.
    workers: int = 1
    # How the parallel search makes its pool of workers (engine/parallel/local.py's
    # LocalPool by default; a Ray pool for --cluster). None: the default.
    pool_factory: Callable | None = None

    def validate(self, model: Explorable) -> "Plan":
        """These options checked against `model`, once, before the search starts:
        what the search will do. An option that cannot apply is turned off, with a
        note when the user asked for it (--prune); nothing raises. (The bounds come
        checked from the command line, by click's ranges; a bound of 0 seconds is
        no timeout.)"""
        properties = list(model.properties) if isinstance(model, Temporal) else []
        graph = bool(properties) or self.record_graph
        # Both merge states, which a recorded graph must not: fairness is not
        # preserved by merging renamed states, and the graph keeps the states anyway.
        roles = model.symmetric_roles() if self.symmetry and not graph and isinstance(model, Symmetric) else []
        fingerprints = self.fingerprints and not graph
        prune, notes = self.prune, []
        if prune:
            why = _why_no_pruning(model, graph, roles)
            if why is not None:
                prune = False
                notes.append(f"--prune is off: {why}")
        # the packed fast path records a graph for temporal properties, not for `graph`
        # (which draws the model's own States)
        fast = self.packed and packed.applicable(model) and not self.record_graph and not prune
        workers = self.workers
        if workers > 1:
            from .parallel.local import available
            why = None
            if not fast or graph:
                why = "temporal properties are checked on the recorded state graph" if graph else (
                    "pruning runs on one process" if prune else "this model has no packed form")
            elif self.pool_factory is None and not available():
                why = "this platform cannot fork worker processes"
            if why is not None:
                workers = 1
                notes.append(f"--workers is ignored: {why}, in one process")
        return Plan(properties, graph, roles, fingerprints, prune, fast, notes, workers)


@dataclass(frozen=True)
class Plan:
    """What a search does, decided once from its Options and the model (Options.validate)."""

    properties: list  # the temporal properties checked after a complete search
    graph: bool  # record the state graph (liveness, or Options.record_graph)
    symmetric_roles: list[str]  # the roles reduced by symmetry: none without it
    fingerprints: bool  # store fingerprints of states instead of states
    prune: bool  # sleep sets
    packed: bool  # the packed fast path (no pruning, no record_graph, a compiled model)
    notes: list[str]  # options asked for that cannot be honoured, and why (Result.notes)
    workers: int = 1  # worker processes of the partitioned search (1: the one-process search)


PROGRESS_EVERY = 4096


@dataclass
class Progress:
    distinct_states: int
    transitions: int
    depth: int
    frontier: int  # states discovered but not yet expanded
    seconds: float


def explore(model: Explorable, options: Options | None = None) -> Result:
    """Breadth-first search of every reachable state, checking invariants on each
    new state; then, when the model has temporal properties and the search was
    complete, a liveness check of each on the recorded state graph."""
    options = options or Options()
    start = time.monotonic()
    plan = options.validate(model)
    from .. import prune
    try:  # the z3 analysis of dead messages can take seconds: a Ctrl-C then still gets a summary
        model, pruning = prune.apply(model, plan, options, start + options.timeout if options.timeout else None)
    except STOPPING as err:  # Ctrl-C, SIGTERM, memory, or the --timeout
        stats = Stats(seconds=time.monotonic() - start)
        notes = list(plan.notes) + [ANALYSING]
        return Result("incomplete", stats, model.initial, stop_reason=Stops.reason(err),
                      invariants=[i.name for i in model.invariants], notes=notes)
    try:
        if plan.workers > 1:
            from .parallel.search import explore_parallel
            result = explore_parallel(model, options, plan, start, plan.workers, options.pool_factory)
        else:
            if not plan.packed:
                search = _explore_states
            else:  # temporal properties: the graph recorded on packed states
                search = _explore_packed_graph if plan.graph else _explore_packed
            result = search(model, options, plan, start)
    finally:  # the packed searches bound the memo tables by the states they store
        follow(None)
    result.notes.extend(plan.notes)
    prune.finish(pruning, model)
    result.pruning = pruning
    if pruning is not None and (pruning.skipped_faults or model.collector is not None):
        result.searched = model
    return result


def _explore_states(model: Explorable, options: Options, plan: Plan, start: float) -> Result:
    """`explore` on the model's own states: any model, every option."""
    stats = Stats()
    properties = plan.properties
    init = model.initial
    parents: dict[State, State | None] = {init: None}
    collect = options.collect_all
    findings: dict[str, Finding] = {}
    # The graph is recorded only when liveness needs it: ids in BFS order.
    graph = Graph() if plan.graph else None
    index: dict[State, int] = {}
    sym, unreduced = None, None  # unreduced: see _orbits_start
    if plan.symmetric_roles:
        from .symmetry import Symmetry
        sym = Symmetry(model, plan.symmetric_roles)
        init = sym.canon(init)
        parents = {init: None}
        unreduced = _orbits_start(sym)
    canon = sym.canon if sym is not None else None
    # Fingerprint mode (TLC's): the visited set stores a 64-bit hash of each state
    # instead of the state; expanded states are freed. Not while a graph is recorded.
    fpr = hash if plan.fingerprints else None
    if fpr is not None:  # at most 16 bytes a state, parent links on disk (engine/visited.py)
        parents = FingerprintSet(log_dir=disk_dir(), memory=fingerprint_budget(options))
        parents[fpr(init)] = None

    def keyfn(st: State):
        """The key a concrete state is stored under."""
        st = st if canon is None else canon(st)
        return st if fpr is None else fpr(st)

    sleep = None  # the sleep sets, when pruning (below)
    stops = Stops(options, start)
    n_states = None  # set when the visited set was freed to recover from a MemoryError
    expanded = 0  # states whose successors were generated (for the frontier of a stopped search)
    mt = measures.tracker(model)  # None: the spec has no measures
    explored = False  # every reachable state was visited (the measures' ranges are complete)

    def finish(verdict: str, finding: Finding | None = None, **kw) -> Result:
        if sleep is not None:
            stats.pruned_transitions = sleep.skipped
        stats.states_without_symmetry = _if_complete(unreduced, verdict, collect)
        n = len(parents) if n_states is None else n_states
        if n_states is None:  # (after a MemoryError, recorded before the set was freed)
            stats.fingerprints_on_disk = _on_disk(parents)
        if mt is not None:
            kw["measures"] = mt.results(explored, _tracer(model, parents, keyfn, n_states))
        if verdict == "incomplete":
            stats.frontier = max(n - expanded, 0)
            kw["growth"] = _growth(model, recent)
        return _result(verdict, finding, model, stats, start, n, findings, fpr is not None,
                       properties=[p.name for p in properties], graph=graph if options.record_graph else None,
                       symmetric_roles=sym.roles if sym is not None else [], **kw)

    def add_state(t: State, parent) -> None:
        if graph is not None:
            index[t] = len(graph.states)
            graph.states.append(t)
            graph.parent.append(-1 if parent is None else index[parent])

    def record(name: str, finding: Finding) -> None:
        if name not in findings:
            findings[name] = finding

    add_state(init, None)
    for bad in check_state(model, init, collect) + (mt.see(init, _reads(init), keyfn(init)) if mt else []):
        if not collect:
            return finish("violated", Finding(bad))
        record(bad.name or "", Finding(bad))
    level = [init]
    depth = 0
    recent = growth.Recent(init)  # a sample of each of the last levels (Result.growth)
    truncated = None
    # Sleep sets (modelcheck/engine/reduction.py): not while a graph is recorded (liveness
    # needs every edge), with symmetry (renamed states rename the steps too) or time.
    if plan.prune:  # Options.validate turned it off where it cannot work (_why_no_pruning)
        sleep = reduction.SleepSets(model)
    nxt: list[State] = []

    def visit(s: State, sk, tr) -> Result | None:
        """Take one transition from `s` (stored under key `sk`): record the target,
        check it if it is new. Returns the Result when the search must stop."""
        nonlocal unreduced
        stats.transitions += 1
        if tr.error is not None:
            stats.depth = max(stats.depth, depth + 1)
            if "" not in findings:
                finding = _error_finding(model, parents, sk, tr, keyfn)
                if not collect:
                    return finish("violated", finding)
                record("", finding)
            if graph is not None:  # keeps the successor numbering; never part of a cycle
                graph.errors.append((index[s], len(graph.succ[-1])))
                graph.succ[-1].append(index[s])
                graph.unit[-1].append(FAULT)
            return None
        t = tr.state if canon is None else canon(tr.state)
        if fpr is None:
            tk = t
            seen = len(parents)
            parents.setdefault(tk, sk)  # one hash of t instead of two (`in`, then store)
            is_new = len(parents) != seen
        else:
            tk = fpr(t)
            is_new = parents.add(tk, sk)
        if is_new:
            add_state(t, s)
            if unreduced is not None:
                size = sym.orbit_size()  # of t: canon(tr.state) above was the last call
                unreduced = None if size is None else unreduced + size
        if graph is not None:
            graph.succ[-1].append(index[t])
            graph.unit[-1].append(fairness_unit(graph.unit_ids, tr.step))
        if sleep is not None:
            sleep.arrive(tk, is_new)
        if not is_new:
            return None
        bads = check_state(model, t, collect)
        if mt is not None:
            bads += mt.see(t, _reads(t), tk)
        if bads:
            stats.depth = max(stats.depth, depth + 1)
            stop = _record(bads, findings, collect, lambda: _trace(model, parents, tk, keyfn))
            if stop is not None:
                return finish("violated", stop)
        nxt.append(t)
        n = len(parents)
        if n >= stops.check_at:
            if options.on_progress is not None and n % PROGRESS_EVERY == 0:
                options.on_progress(Progress(n, stats.transitions, depth + 1,
                                             len(level) + len(nxt), time.monotonic() - start))
            reason = stops.reached(n)
            if reason is not None:
                stats.depth = depth + 1
                return finish("incomplete", stop_reason=reason)
        return None

    try:
        while level:
            if stops.at_depth_bound(depth):
                truncated = stops.depth_stop((tr.state for s in level for tr in model.successors(s)), keyfn, parents)
                if truncated is not None:
                    break
                # nothing lies beyond the bound: expanding this level finds no new state,
                # but records its edges, which the liveness check needs (fuzz finding)
            nxt = []
            for s in level:
                expanded += 1
                sk = s if fpr is None else fpr(s)
                if graph is not None:
                    graph.succ.append([])
                    graph.unit.append([])
                if sleep is None:
                    for tr in model.successors(s):
                        stop = visit(s, sk, tr)
                        if stop is not None:
                            return stop
                    continue
                for tr in sleep.expand(s, sk, model.successors):
                    stop = visit(s, sk, tr)
                    if stop is not None:
                        return stop
                # The revisit rule: states expanded earlier and reached again with
                # fewer covered steps take those steps now.
                while sleep.pending:
                    tk, keys = sleep.pending.pop()
                    # with fingerprints the state itself is gone: rebuild it from its trace
                    t = tk if fpr is None else _state_at(model, parents, tk, keyfn, canon)
                    stats.revisits += 1
                    sleep.current = None  # their targets get an empty sleep set
                    for tr in model.successors(t):
                        if not tr.error and reduction.key(tr.step) in keys:
                            stop = visit(t, tk, tr)
                            if stop is not None:
                                return stop
            level, depth, reason = _advance(nxt, depth, stats, stops)
            recent.add(depth, level)
            if reason is not None:
                return finish("incomplete", stop_reason=reason)
        if truncated:
            return finish("incomplete", stop_reason=truncated)
        explored = True
        if graph is not None:
            for name, finding in _check_properties(model, graph, properties, collect, stops.budget()):
                if not collect:
                    return finish("violated", finding)
                record(name, finding)
    except MemoryError as err:
        n_states = len(parents)  # free what the search holds, so the summary can be made
        stats.fingerprints_on_disk = _on_disk(parents)
        level = nxt = graph = index = None
        parents.clear()
        return finish("incomplete", stop_reason=Stops.reason(err))
    except STOPPING as err:  # Ctrl-C, SIGTERM; the liveness phase's timeout or memory limit
        return finish("incomplete", stop_reason=Stops.reason(err))
    if findings:
        first = next(iter(findings.values()))
        return finish("violated", first)
    return finish("holds")


def _on_disk(parents) -> int | None:
    """How many fingerprints went to disk (FingerprintSet.disk), None if none did."""
    disk = getattr(parents, "disk", None)
    return len(disk) if disk else None


def _result(verdict: str, finding: Finding | None, model: Explorable, stats: Stats, start: float, n_states: int,
            findings: dict, fingerprints: bool, **kw) -> Result:
    """The Result of a search that stops now (both searches end through this)."""
    stats.distinct_states = n_states
    stats.seconds = time.monotonic() - start
    if finding is not None:
        kw.update(trace=finding.trace, violation=finding.violation, cycle=finding.cycle, trigger=finding.trigger)
    if fingerprints:
        kw["collision_probability"] = min(1.0, n_states ** 2 / 2.0 ** 65)
    return Result(verdict, stats, model.initial, invariants=[i.name for i in model.invariants],
                  findings=findings, **kw)


def _orbits_start(sym) -> int | None:
    """Symmetry's count of the states the search stands for, after the initial state
    (just canonicalised): 1, when no renaming changes the initial state. Then the
    reachable states are closed under renaming (a renamed path is a path), so the sum
    of the orbit sizes of the stored states is exactly the number of states the
    search without symmetry visits. Otherwise (or when an orbit size is not known)
    the count is not given: None."""
    return 1 if sym.orbit_size() == 1 else None


def _if_complete(unreduced: int | None, verdict: str, collect: bool) -> int | None:
    """The unreduced count means "what --no-symmetry would report" only for a search
    that ran to the end: one stopped early stopped at another point of another order."""
    return unreduced if verdict == "holds" or (collect and verdict == "violated") else None


def _why_no_pruning(model: Explorable, graph: bool, symmetric_roles: list[str]) -> str | None:
    """Why sleep sets cannot be used on this run (None: they can)."""
    if graph:
        return "liveness needs every transition of the state graph"
    if not reduction.applicable(model):
        return "a time block's ticks touch every node"
    if symmetric_roles:
        return "symmetry renames steps along with states; --no-symmetry --prune prunes"
    return None


def _explore_packed(model: Explorable, options: Options, plan: Plan, start: float) -> Result:
    """`explore` on packed states (modelcheck/engine/packed.py): the same breadth-first
    search, counts, first violation and trace, several times faster. Used when
    there is no property (no graph) and no pruning. With symmetry,
    every state is stored as its canonical renaming (symmetry.PackedSymmetry)."""
    stats = Stats()
    sym_roles = plan.symmetric_roles
    follow(1)  # the memo tables grow with the visited set, from the first (memo.ROOM)
    try:  # a Ctrl-C while the successor code is generated still gets a summary
        pm = packed.PackedModel(model)
        canon, psym = None, None
        if sym_roles:
            from .symmetry import PackedSymmetry, Symmetry
            psym = PackedSymmetry(pm, Symmetry(model, sym_roles))
            canon = psym.canon
    except (KeyboardInterrupt, MemoryError) as err:
        stats.seconds = time.monotonic() - start
        return Result("incomplete", stats, model.initial, stop_reason=Stops.reason(err),
                      invariants=[i.name for i in model.invariants])
    successors = pm.successors
    fpr = hash if plan.fingerprints else None
    collect = options.collect_all
    findings: dict[str, Finding] = {}
    init = pm.initial if canon is None else canon(pm.initial)
    # With symmetry: how many states the stored ones stand for (see _orbits_start)
    unreduced = None if psym is None else _orbits_start(psym)
    parents: dict | FingerprintSet = {init: None}
    ftable, fcap, disk = None, 1, None  # the fingerprint table's slots, probed inline below
    if fpr is not None:  # at most 16 bytes a state; parent links and large levels on disk
        parents = FingerprintSet(log_dir=disk_dir(), memory=fingerprint_budget(options))
        parents[fpr(init)] = None
        ftable, fcap = parents.table, parents.capacity
    reads = pm.reads  # what invariants and measures read of a state: their memo key
    violations, inv_memo = packed_invariants(model, pm, collect)
    stops = Stops(options, start)
    check_at = stops.check_at  # the state count at which the stop rules are asked next
    progress = options.on_progress
    n_states = None  # set when the visited set was freed to recover from a MemoryError
    mt = measures.tracker(model)  # None: the spec has no measures
    if mt is not None:
        mt.to_state = pm.unpack
    explored = False  # every reachable state was visited (the measures' ranges are complete)
    # Exact mode stores states under compact keys once that pays (compact.py): then
    # `encode` is set, the visited set and the levels hold keys (a parent link is the
    # very object its parent is stored under), and each state is decoded from its key
    # when expanded. Not with measures: they hold keys from before.
    switch = compact.Switch(at_once=psym is not None) if fpr is None and mt is None else None
    codec = compact.Codec(pm.k, len(pm.initial))
    encode, loads, short, ints, at_net, str_prefix = None, codec.decode, codec.short, codec.ints, codec.net, codec.str_prefix
    seen = seen_hits = remember = compute = None  # with symmetry, once keys are compact

    def key(p: tuple):
        """The key a packed (concrete) state is stored under."""
        if canon is not None:
            p = canon(p)
        if fpr is not None:
            return fpr(p)
        return p if encode is None else encode(p)

    def keyfn(st: State):
        return key(pm.pack(st))

    def finish(verdict: str, finding: Finding | None = None, **kw) -> Result:
        stats.states_without_symmetry = _if_complete(unreduced, verdict, collect)
        n = len(parents) if n_states is None else n_states
        if n_states is None:  # (after a MemoryError, recorded before the set was freed)
            stats.fingerprints_on_disk = _on_disk(parents)
        if mt is not None:
            kw["measures"] = mt.results(explored, _tracer(model, parents, keyfn, n_states))
        if verdict == "incomplete":
            stats.frontier = max(n - expanded, 0)
            kw["growth"] = _growth(model, recent, to_state)
        return _result(verdict, finding, model, stats, start, n, findings, fpr is not None,
                       symmetric_roles=sym_roles, **kw)

    def to_state(s) -> State:
        """The State of a level's entry: a packed state, or its compact key."""
        return pm.unpack(s if s.__class__ is tuple else loads(s))

    read0 = pm.reads(init)
    for bad in violations(init, read0) + (mt.see(init, read0, key(init)) if mt else []):
        if not collect:
            return finish("violated", Finding(bad))
        findings.setdefault(bad.name or "", Finding(bad))
    level, depth, transitions, expanded = [init], 0, 0, 0
    recent = growth.Recent(init)  # a sample of each of the last levels (Result.growth)
    try:
        while level:
            if stops.at_depth_bound(depth):
                stats.transitions = transitions
                reason = stops.depth_stop((t for s in level for t in successors(s if encode is None else loads(s))),
                                          key, parents)
                if reason is not None:
                    return finish("incomplete", stop_reason=reason)
                break
            nxt: list | SpillingLevel = [] if fpr is None else SpillingLevel(log_dir=disk_dir())
            for s in (level if fpr is None else _consume(level)):
                expanded += 1
                if fpr is not None:
                    sk = fpr(s)
                elif encode is None:
                    sk = s
                else:  # a compact key
                    sk, s = s, loads(s)
                for t in successors(s):
                    transitions += 1
                    if t is None:  # a run-time error: the Model says which
                        stats.depth = max(stats.depth, depth + 1)
                        if "" not in findings:
                            st = pm.unpack(s)
                            tr = next(tr for tr in model.successors(st) if tr.error is not None)
                            finding = _error_finding(model, parents, sk, tr, keyfn)
                            if not collect:
                                stats.transitions = transitions
                                return finish("violated", finding)
                            findings[""] = finding
                        continue
                    if encode is not None:  # compact keys (exact mode: see compact.py)
                        tk = t[at_net]
                        try:  # Codec.encode's common forms, written out
                            if tk.__class__ is bytes:
                                tk = short(*ints(t)) + tk
                            else:
                                tk = str_prefix + short(*ints(t)) + tk.encode("utf-8", "surrogatepass")
                        except (StructError, AttributeError):  # an id too large, a tuple network
                            tk = encode(t)
                        if tk in parents:
                            continue
                        if canon is not None:  # the successors canonicalised, by key (see below)
                            if tk in seen:
                                seen_hits[0] += 1
                                continue
                            q = compute(t)
                            if q != t:
                                remember(tk, None)
                                t, tk = q, encode(q)
                                if tk in parents:
                                    continue
                        parents[tk] = sk
                    elif fpr is None:
                        if canon is not None:
                            if t in parents:  # a stored representative is its own
                                continue
                            t = canon(t)
                        tk = t
                        if tk in parents:  # most targets were seen before: one lookup
                            continue
                        parents[tk] = sk
                    else:  # FingerprintSet.slot, inlined: a method call costs more than the probe
                        if canon is not None:
                            t = canon(t)
                        tk = fpr(t)
                        h = tk or 1
                        i = h % fcap
                        v = ftable[i]
                        while v != h and v != 0:
                            i += 1
                            if i == fcap:
                                i = 0
                            v = ftable[i]
                        if v or (disk is not None and h in disk):
                            continue
                        if parents.put(i, tk, sk):  # the table grew or went to disk
                            ftable, fcap, disk = parents.table, parents.capacity, parents.disk
                    if unreduced is not None:
                        size = psym.orbit_size()
                        unreduced = None if size is None else unreduced + size
                    read = reads(t)
                    bads = violations(t, read)
                    if mt is not None:
                        bads = bads + mt.see(t, read, tk)
                    if bads:
                        stats.depth = max(stats.depth, depth + 1)
                        stop = _record(bads, findings, collect, lambda: _trace(model, parents, tk, keyfn))
                        if stop is not None:
                            stats.transitions = transitions
                            return finish("violated", stop)
                    nxt.append(t if encode is None else tk)
                    n = len(parents)
                    if n >= check_at:
                        follow(n)
                        if progress is not None and n % PROGRESS_EVERY == 0:
                            progress(Progress(n, transitions, depth + 1, len(level) + len(nxt),
                                              time.monotonic() - start))
                        reason = stops.reached(n)
                        if reason is not None:
                            stats.depth, stats.transitions = depth + 1, transitions
                            return finish("incomplete", stop_reason=reason)
                        check_at = stops.check_at
            level, depth, reason = _advance(nxt, depth, stats, stops)
            nxt = None  # (so that a level converted below frees its tuples)
            if switch is not None and switch.due(len(parents), transitions, level, codec):
                parents, level = compact.convert(codec, parents, level)
                encode = codec.encode
                if psym is not None:  # the search keeps its own memo of canonical forms
                    memo, compute = psym.memo_by_key()
                    seen, seen_hits, remember = memo.table, memo.hits, memo.store
            elif encode is not None and codec.outgrown():  # ids past two bytes
                wider = codec.widened()
                parents, level = compact.convert(wider, parents, level, loads)
                codec, encode, loads, short, str_prefix = wider, wider.encode, wider.decode, wider.short, wider.str_prefix
                if seen is not None:
                    seen.clear()  # (keys of the narrow codec)
            recent.add(depth, level)
            if reason is not None:
                stats.transitions = transitions
                return finish("incomplete", stop_reason=reason)
    except MemoryError as err:
        n_states = len(parents)  # free what the search holds, so the summary can be made
        stats.fingerprints_on_disk = _on_disk(parents)
        level = nxt = inv_memo = violations = None
        parents.clear()
        pm.release()
        stats.transitions = transitions
        return finish("incomplete", stop_reason=Stops.reason(err))
    except STOPPING as err:  # Ctrl-C, SIGTERM
        stats.transitions = transitions
        return finish("incomplete", stop_reason=Stops.reason(err))
    stats.transitions = transitions
    explored = True
    if findings:
        return finish("violated", next(iter(findings.values())))
    return finish("holds")


def _record(bads: list[Violation], findings: dict, collect: bool, trace) -> Finding | None:
    """The invariant violations a new state shows: the Finding that stops the search
    (the first, without collect), else None after recording each not yet found (the
    first found, on the shortest trace, is kept). `trace()` builds the trace to it."""
    for bad in bads:
        name = bad.name or ""
        if name in findings:
            continue
        finding = Finding(bad, trace())
        if not collect:
            return finding
        findings[name] = finding
    return None


def _explore_packed_graph(model: Explorable, options: Options, plan: Plan, start: float) -> Result:
    """`explore` on packed states that records the state graph the temporal properties
    are checked on: the graph `_explore_states` records (the same state ids, edges in
    `Model.successors` order, fairness units numbered in the order their first edge is
    recorded), hence the same counts, verdicts, lassos and traces, at the packed
    engine's speed. Successors come from `PackedModel.labelled`, which gives each
    step's fairness unit with it. No symmetry, fingerprints or pruning: a recorded
    graph must keep every state and edge (Options.validate turns those off)."""
    stats = Stats()
    properties = plan.properties
    follow(1)  # the memo tables grow with the recorded states, from the first (memo.ROOM)
    try:  # a Ctrl-C while the successor code is generated still gets a summary
        pm = packed.PackedModel(model)
        successors = pm.labelled
        successors(pm.initial)  # compiles the labelled successor code now
    except (KeyboardInterrupt, MemoryError) as err:
        stats.seconds = time.monotonic() - start
        return Result("incomplete", stats, model.initial, stop_reason=Stops.reason(err),
                      invariants=[i.name for i in model.invariants])
    collect = options.collect_all
    findings: dict[str, Finding] = {}
    init = pm.initial
    graph = Graph()
    states, parent, succs, units = graph.states, graph.parent, graph.succ, graph.unit
    states.append(init)
    parent.append(-1)
    index: dict[tuple, int] = {init: 0}  # packed state -> its id (BFS discovery order)
    parents = _GraphParents(graph, index)
    umap = graph.unit_ids  # PackedModel's unit number -> the graph's (first edge first)
    reads = pm.reads
    violations, inv_memo = packed_invariants(model, pm, collect)
    stops = Stops(options, start)
    check_at = stops.check_at
    progress = options.on_progress
    n_states = None  # set when the graph was freed to recover from a MemoryError
    mt = measures.tracker(model)
    if mt is not None:
        mt.to_state = pm.unpack
    explored = False

    def keyfn(st: State):
        return pm.pack(st)

    def finish(verdict: str, finding: Finding | None = None, **kw) -> Result:
        n = len(states) if n_states is None else n_states
        if mt is not None:
            kw["measures"] = mt.results(explored, _tracer(model, parents, keyfn, n_states))
        if verdict == "incomplete":
            stats.frontier = max(n - expanded, 0)
            kw["growth"] = _growth(model, recent, pm.unpack)
        return _result(verdict, finding, model, stats, start, n, findings, False,
                       properties=[p.name for p in properties], symmetric_roles=[], **kw)

    read0 = pm.reads(init)
    for bad in violations(init, read0) + (mt.see(init, read0, init) if mt else []):
        if not collect:
            return finish("violated", Finding(bad))
        findings.setdefault(bad.name or "", Finding(bad))
    lo, hi = 0, 1  # the level being expanded: states lo..hi-1 (ids are BFS order)
    depth, transitions, expanded = 0, 0, 0
    recent = growth.Recent(init)
    truncated = None
    try:
        while lo < hi:
            if stops.at_depth_bound(depth):
                stats.transitions = transitions
                truncated = stops.depth_stop((t for i in range(lo, hi) for t, _ in successors(states[i])),
                                             _same, index)
                if truncated is not None:
                    break
                # nothing lies beyond the bound: expanding this level finds no new state,
                # but records its edges, which the liveness check needs
            for s in range(lo, hi):
                expanded += 1
                p = states[s]
                succ, unit = [], []
                succs.append(succ)
                units.append(unit)
                for t, u in successors(p):
                    transitions += 1
                    if t is None:  # a run-time error: the Model says which
                        stats.depth = max(stats.depth, depth + 1)
                        if "" not in findings:
                            tr = next(tr for tr in model.successors(pm.unpack(p)) if tr.error is not None)
                            finding = _error_finding(model, parents, p, tr, keyfn)
                            if not collect:
                                stats.transitions = transitions
                                return finish("violated", finding)
                            findings[""] = finding
                        graph.errors.append((s, len(succ)))  # keeps the numbering; never on a cycle
                        succ.append(s)
                        unit.append(FAULT)
                        continue
                    if u >= 0:
                        uid = umap.get(u)
                        if uid is None:
                            uid = umap[u] = len(umap)
                        u = uid
                    i = index.get(t)
                    if i is not None:
                        succ.append(i)
                        unit.append(u)
                        continue
                    i = index[t] = len(states)
                    states.append(t)
                    parent.append(s)
                    succ.append(i)
                    unit.append(u)
                    read = reads(t)
                    bads = violations(t, read)
                    if mt is not None:
                        bads = bads + mt.see(t, read, t)
                    if bads:
                        stats.depth = max(stats.depth, depth + 1)
                        stop = _record(bads, findings, collect, lambda: _trace(model, parents, t, keyfn))
                        if stop is not None:
                            stats.transitions = transitions
                            return finish("violated", stop)
                    n = i + 1
                    if n >= check_at:
                        follow(n)
                        if progress is not None and n % PROGRESS_EVERY == 0:
                            progress(Progress(n, transitions, depth + 1, n - expanded,
                                              time.monotonic() - start))
                        reason = stops.reached(n)
                        if reason is not None:
                            stats.depth, stats.transitions = depth + 1, transitions
                            return finish("incomplete", stop_reason=reason)
                        check_at = stops.check_at
            lo, hi = hi, len(states)
            level = _LevelView(states, lo, hi)
            level, depth, reason = _advance(level, depth, stats, stops)
            recent.add(depth, level)
            if reason is not None:
                stats.transitions = transitions
                return finish("incomplete", stop_reason=reason)
        stats.transitions = transitions
        if truncated:
            return finish("incomplete", stop_reason=truncated)
        explored = True
        inv_memo = violations = None  # the liveness phase needs the graph only
        if mt is None:  # the measures' witness traces are read through `parents`
            index.clear()
        for name, finding in _check_properties(model, graph, properties, collect, stops.budget(), pm):
            if not collect:
                return finish("violated", finding)
            findings.setdefault(name, finding)
    except MemoryError as err:
        n_states = len(states)  # free what the search holds, so the summary can be made
        graph = index = inv_memo = violations = None
        states.clear()
        succs.clear()
        units.clear()
        pm.release()
        stats.transitions = transitions
        return finish("incomplete", stop_reason=Stops.reason(err))
    except STOPPING as err:  # Ctrl-C, SIGTERM; the liveness phase's timeout or memory limit
        stats.transitions = transitions
        return finish("incomplete", stop_reason=Stops.reason(err))
    if findings:
        return finish("violated", next(iter(findings.values())))
    return finish("holds")


class _GraphParents:
    """`parents[key]`, the key a state was first reached from (None for the initial
    state), read off a graph recorded on packed states, whose keys are the states
    themselves: what `_trace` walks, without a second table of the states."""

    __slots__ = ("graph", "index")

    def __init__(self, graph: Graph, index: dict):
        self.graph, self.index = graph, index

    def __getitem__(self, key):
        p = self.graph.parent[self.index[key]]
        return None if p < 0 else self.graph.states[p]

    def __len__(self) -> int:
        return len(self.graph.states)


class _LevelView:
    """A level of a search whose states are stored in BFS order: states lo..hi-1
    of one list, for growth.Recent (which samples it) and _advance (which tests it)."""

    __slots__ = ("states", "lo", "hi")

    def __init__(self, states: list, lo: int, hi: int):
        self.states, self.lo, self.hi = states, lo, hi

    def __len__(self) -> int:
        return self.hi - self.lo

    def sample(self, step: int) -> list:
        return self.states[self.lo:self.hi:step]


def _same(x):
    return x


def _reads(st: State) -> tuple:
    """What invariants and measures read of a state (Model.violated_invariants' memo key)."""
    return (st.nodes, st.ghosts, st.up, st.time[0] if st.time else None)


def _tracer(model: Explorable, parents, keyfn, n_states):
    """How the measures' witness traces are rebuilt: from the parent links, unless the
    visited set was freed (`n_states` set after a MemoryError): then None."""
    if n_states is not None:
        return None
    return lambda key: _trace(model, parents, key, keyfn)


def _growth(model: Explorable, recent: "growth.Recent", to_state=None) -> list:
    """Result.growth of a search stopped early: what rose at each of its last levels
    (engine/growth.py). Only a hint: a model it cannot read, or any failure, gives none."""
    try:
        return growth.analyse(model, recent.levels(), to_state)
    except Exception:  # noqa: BLE001 - a hint must never cost the summary
        return []


def _advance(nxt: list, depth: int, stats: Stats, stops) -> tuple[list, int, str | None]:
    """Move a search to its next level: (the level, its depth, the reason to stop
    before exploring it or None)."""
    if nxt:
        depth += 1
        stats.depth = depth
    return nxt, depth, stops.after_level(bool(nxt))


def _consume(level: list):
    """A level's states in order, each dropped from the list once taken. With
    fingerprints the visited set does not hold the states, so an expanded state is
    freed at once instead of when its whole level is done."""
    if isinstance(level, SpillingLevel):
        yield from level.consume()
        return
    for i in range(len(level)):
        s = level[i]
        level[i] = None
        yield s


def _check_properties(model: Explorable, graph: Graph, properties: list, collect: bool, budget: Budget | None = None,
                      pm: "packed.PackedModel | None" = None):
    """(name, Finding) for each violated property, in declaration order. Of a
    quantified property's instances, the one with the shortest lasso is reported.
    `budget` stops the phase (StopSearch) at the --timeout or the memory limit.
    `pm`: the graph's states are that PackedModel's packed states."""
    budget = budget or Budget()
    view = _StateView(pm)
    settled = view.evaluate(model.settled, graph, budget, view.links)
    for prop in properties:
        best: Finding | None = None
        for inst in prop.instances:
            try:
                q = view.evaluate(inst.q, graph, budget)
                p = view.evaluate(inst.p, graph, budget) if inst.p is not None else None
            except _PredicateError as err:
                trace = _replay(model, graph, graph.path_to(err.state), view.state)
                v = Violation("runtime_error", prop.name,
                              f"while evaluating property '{prop.name}': {err.error.message}", err.error.span,
                              in_invariant=True, binding=inst.binding)
                best = Finding(v, trace)
                break
            lasso = find_lasso(graph, prop.op, q, settled, p, budget)
            if lasso is None:
                continue
            finding = _lasso_finding(model, graph, prop, inst, lasso, view.state)
            if best is None or finding.length < best.length:
                best = finding
        if best is not None:
            yield prop.name, best


class _PredicateError(Exception):
    def __init__(self, state: int, error: SpecRuntimeError):
        super().__init__(error.message)
        self.state, self.error = state, error


class _StateView:
    """How the liveness phase reads the states of a recorded graph: as they are (any
    hashable states, engine/contract.py), or packed states (`pm`), which are unpacked
    for a predicate only once per distinct part it reads: predicates read what
    invariants read (`reads`), `model.settled` which links are cut and which nodes are
    up (`links`)."""

    def __init__(self, pm: "packed.PackedModel | None"):
        self.state, self.reads, self.links = _same, None, None
        if pm is not None:
            k = pm.k
            self.state = pm.unpack
            self.reads = pm.reads
            self.links = lambda p: (p[k], p[k + 2])

    def evaluate(self, pred, graph: Graph, budget: Budget, reads=None) -> list[bool]:
        """pred on every state of the graph, by id. `reads`: the memo key (what pred
        reads of a packed state); the invariants' by default."""
        out = []
        append, tick = out.append, budget.tick
        reads = reads or self.reads
        if reads is None:  # the states as they are: nothing to share
            for i, st in enumerate(graph.states):
                tick()
                try:
                    append(bool(pred(st)))
                except SpecRuntimeError as err:
                    raise _PredicateError(i, err) from None
            return out
        memo: dict = {}
        to_state = self.state
        for i, p in enumerate(graph.states):
            tick()
            r = reads(p)
            v = memo.get(r)
            if v is None:
                try:
                    v = memo[r] = bool(pred(to_state(p)))
                except SpecRuntimeError as err:
                    raise _PredicateError(i, err) from None
            append(v)
        return out


def _lasso_finding(model: Explorable, graph: Graph, prop, inst, lasso: Lasso, to_state=_same) -> Finding:
    v = Violation("property", prop.name, f"property '{prop.name}' is violated", prop.decl.expr.span,
                  binding=inst.binding)
    stem = _replay(model, graph, lasso.stem, to_state)
    cycle = None if prop.op == "always" else _replay(model, graph, lasso.cycle, to_state)
    return Finding(v, stem, cycle, lasso.trigger)


def _replay(model: Explorable, graph: Graph, edges: list[tuple[int, int]], to_state=_same) -> list[tuple[Step, State]]:
    """Turn (state id, successor index) edges back into the model's steps; `to_state`
    turns a recorded state into the model's State (PackedModel.unpack)."""
    out = []
    cache: dict[int, list] = {}
    for s, k in edges:
        if s not in cache:
            cache[s] = model.successors(to_state(graph.states[s]))
        tr = cache[s][k]
        out.append((tr.step, tr.state))
    return out


def _trace(model: Explorable, parents: dict, last, keyfn) -> list[tuple[Step, State]]:
    """Steps from the initial state to the state stored under key `last`, recovered
    by re-running successors from the real initial state and taking, at each step,
    the first successor (in the model's order) stored under the next key.

    The stored key is the state itself, its representative under symmetry, or its
    fingerprint; either way the trace is concrete and replayable."""
    if isinstance(parents, FingerprintSet):
        chain = parents.chain(last)
    else:
        chain = [last]
        while parents[chain[-1]] is not None:
            chain.append(parents[chain[-1]])
    chain.reverse()
    steps = []
    cur = model.initial
    for b in chain[1:]:
        tr = next(tr for tr in model.successors(cur) if tr.state is not None and keyfn(tr.state) == b)
        steps.append((tr.step, tr.state))
        cur = tr.state
    return steps


def _state_at(model: Explorable, parents: dict, key, keyfn, canon) -> State:
    """The stored state under `key`, rebuilt from its trace (fingerprint mode)."""
    trace = _trace(model, parents, key, keyfn)
    st = trace[-1][1] if trace else model.initial
    return st if canon is None else canon(st)


def _error_finding(model: Explorable, parents, key, tr, keyfn) -> Finding:
    """A step that raised a run-time error, with the concrete trace leading to it."""
    trace = _trace(model, parents, key, keyfn)
    last = trace[-1][1] if trace else model.initial
    if tr.step not in [t.step for t in model.successors(last) if t.error is not None]:
        # a renamed state (symmetry): the same error from the concrete state reached
        tr = next(t for t in model.successors(last) if t.error is not None)
    return Finding(runtime_violation(tr.error), trace + [(tr.step, None)])
