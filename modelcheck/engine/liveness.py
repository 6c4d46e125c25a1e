"""Liveness on the reachable state graph: find a fair lasso that breaks a property.

A property is checked by looking for a counterexample behaviour of the form
stem + cycle repeated forever (a lasso), under the assumptions
docs/language.md ("Liveness") state:

- Weak fairness of every non-fault step. Steps are grouped into *fairness units*
  (a node's delivery of one message value, or a node's action with one choice
  of parameters); a cycle is fair when every unit that is enabled in every state
  of the cycle is taken somewhere on the cycle.
- Faults eventually stop: the cycle takes no fault step (crash, restart,
  partition, one_way, heal, loss, duplicate). The stem may take any.
- `eventually heal` / `eventually restart` in the faults block: the cycle's
  states must have every link intact / the named nodes up (`settled`).
- A state where no non-fault step is enabled stutters forever: a lasso whose
  cycle is empty.

Why whole strongly connected components suffice: if an SCC (of the subgraph
where the property's predicate is false, using non-fault edges) is fair as a
whole, a closed walk through all of it is a fair cycle; if it is not, some unit
is enabled in all its states and taken on none of its edges, and then no cycle
inside it can be fair either. So per SCC one set test decides, and
`_fair_cycle` then builds a short fair closed walk to print.

Everything here works on integer state ids and plain lists, so it can be tested
on hand-built graphs (tests/test_liveness.py) and cross-checked against networkx
(engine/nxgraph.py, tests/test_nxgraph.py), which it outruns (see `sccs`).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

FAULT = -1  # the unit of a fault edge


@dataclass
class Graph:
    """The reachable state graph, recorded by the explorer during BFS.

    State ids are BFS discovery order (0 is the initial state), so `parent`
    gives shortest paths. `succ[s][k]` is the target of the k-th transition of
    `model.successors(state s)`, and `unit[s][k]` its fairness unit (FAULT for
    fault steps); keeping the model's order lets a path of (state, k) edges be
    replayed into exact steps.
    """

    states: list = field(default_factory=list)
    parent: list[int] = field(default_factory=list)
    succ: list[list[int]] = field(default_factory=list)
    unit: list[list[int]] = field(default_factory=list)
    unit_ids: dict = field(default_factory=dict)
    # (state id, k) of the steps that fail with a run-time error (a failed assert, a
    # value out of its range): recorded in succ/unit as FAULT self-loops, so they
    # keep the successor numbering and are never part of a cycle; `modelcheck graph`
    # draws them as edges to an error node.
    errors: list[tuple[int, int]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.states)

    def path_to(self, s: int) -> list[tuple[int, int]]:
        """The BFS-shortest path from the initial state to s, as (state, k) edges."""
        edges = []
        while self.parent[s] >= 0:
            p = self.parent[s]
            edges.append((p, self.succ[p].index(s)))
            s = p
        edges.reverse()
        return edges


@dataclass
class Lasso:
    stem: list[tuple[int, int]]  # edges (state id, successor index) from the initial state
    cycle: list[tuple[int, int]]  # edges from the stem's last state back to it; [] = stutters there
    trigger: int | None = None  # leads_to: number of stem steps after which P holds


def find_lasso(g: Graph, op: str, q: list[bool], settled: list[bool], p: list[bool] | None = None,
               budget=None) -> Lasso | None:
    """A fair lasso violating the property, or None when it holds.

    op is "eventually" (q = P), "always_eventually" (q = P), "leads_to" (p = P,
    q = Q) or "always" (q = P; the counterexample is a finite path, cycle []).
    `budget` (limits.Budget), when given, is ticked along the linear-time passes
    and stops them (StopSearch) at the deadline or the memory limit.
    """
    n = len(g)
    tick = budget.tick if budget is not None else _no_tick
    if op == "always":
        for s in range(n):  # ids are in BFS order: the first bad one is nearest
            if not q[s]:
                return Lasso(g.path_to(s), [])
        return None
    if op == "eventually":
        if q[0]:
            return None
        # the stem must stay where P is false: search from the start inside not-P
        dist_parent = _bfs(g, [0], lambda t: not q[t], tick)
        region = [s in dist_parent and not q[s] and settled[s] for s in range(n)]
        fair = _fair_states(g, region, tick)
        entry = _nearest(dist_parent, fair)
        if entry is None:
            return None
        stem = _path(dist_parent, entry)
        return Lasso(stem, _fair_cycle(g, entry, fair[entry]))
    region = [not q[s] and settled[s] for s in range(n)]
    fair = _fair_states(g, region, tick)
    if not fair:
        return None
    if op == "always_eventually":
        entry = min(fair)  # lowest id = BFS-nearest
        return Lasso(g.path_to(entry), _fair_cycle(g, entry, fair[entry]))
    assert op == "leads_to" and p is not None
    # states where Q is false and from which a fair not-Q cycle can be reached
    doomed = _backward(g, set(fair), lambda s: not q[s], tick)
    triggers = [s for s in range(n) if p[s] and s in doomed]
    if not triggers:
        return None
    t = min(triggers)
    to_cycle = _bfs(g, [t], lambda s: not q[s], tick)
    entry = _nearest(to_cycle, fair)
    stem = g.path_to(t)
    trigger = len(stem)
    stem += _path(to_cycle, entry)
    return Lasso(stem, _fair_cycle(g, entry, fair[entry]), trigger)


# ---- strongly connected components --------------------------------------------------

def _no_tick() -> None:
    pass


# Hand-written, not networkx (the project's graph library, which `modelcheck graph` uses:
# engine/nxgraph.py), because it wins on the graphs a `verify` records. Measured with
# bench/graph_algorithms.py, one run, same 2-core machine, ms, every state in the region
# (a temporary property `always eventually false`); networkx = building its DiGraph from
# these lists + nx.strongly_connected_components:
#   graph                                      states     edges    hand   networkx
#   specs/naive_failover.ha                        78       280     0.1   0.2 + 0.1
#   specs/two_phase_commit_fixed.ha            12,140    58,009    27.8   73.1 + 34.1
#   specs/majority_election.ha --const LOSS=0  30,420   201,864    92.4   298.7 + 122.1
#   specs/majority_election.ha                265,125 1,895,154  1409.7  3054.3 + 2105.3
#   synthetic (3 random successors + chain)   500,000 2,000,000  4327.5  6957.8 + 3350.9
# networkx is 2.4-4.6x slower, and slower even without building its graph. The BFS
# stems (_bfs, Graph.path_to) stay hand-written for the same reason: 4-59x. The two give
# the same components and stems (tests/test_nxgraph.py).
def sccs(g: Graph, region: list[bool], tick=_no_tick) -> list[list[int]]:
    """Tarjan's algorithm, iterative, over the states in `region` and the non-fault
    edges between them. Deterministic: states and edges in id/successor order.

    States are numbered 0..len(g)-1, so the index, low-link and on-stack marks are
    flat lists indexed by state (index -1: not visited), not dicts."""
    n = len(g)
    index: list[int] = [-1] * n
    low: list[int] = [0] * n
    on_stack = bytearray(n)
    stack: list[int] = []
    out: list[list[int]] = []
    counter = 0
    for root in range(n):
        if not region[root] or index[root] >= 0:
            continue
        work = [(root, 0)]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = 1
        while work:
            tick()
            v, k = work[-1]
            succ, unit = g.succ[v], g.unit[v]
            while k < len(succ):
                w = succ[k]
                if unit[k] != FAULT and region[w]:
                    if index[w] < 0:
                        break
                    if on_stack[w] and index[w] < low[v]:
                        low[v] = index[w]
                k += 1
            if k < len(succ):
                w = succ[k]
                work[-1] = (v, k + 1)
                index[w] = low[w] = counter
                counter += 1
                stack.append(w)
                on_stack[w] = 1
                work.append((w, 0))
                continue
            work.pop()
            if work:
                u = work[-1][0]
                if low[v] < low[u]:
                    low[u] = low[v]
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack[w] = 0
                    comp.append(w)
                    if w == v:
                        break
                out.append(sorted(comp))
    return out


def _enabled(g: Graph, s: int) -> set[int]:
    return {u for u in g.unit[s] if u != FAULT}


def _fair_states(g: Graph, region: list[bool], tick=_no_tick) -> dict[int, frozenset]:
    """Every state of a fair SCC inside region, mapped to its SCC (as a frozenset).

    A single state with no non-fault step enabled counts: it stutters forever."""
    fair: dict[int, frozenset] = {}
    for comp in sccs(g, region, tick):
        members = frozenset(comp)
        taken: set[int] = set()
        internal = False
        for s in comp:
            for t, u in zip(g.succ[s], g.unit[s]):
                if u != FAULT and t in members:
                    internal = True
                    taken.add(u)
        if not internal:
            if len(comp) == 1 and not _enabled(g, comp[0]):
                fair[comp[0]] = members
            continue
        always_enabled = set.intersection(*(_enabled(g, s) for s in comp))
        if always_enabled <= taken:
            for s in comp:
                fair[s] = members
    return fair


def _fair_cycle(g: Graph, entry: int, comp: frozenset) -> list[tuple[int, int]]:
    """A short fair closed walk from entry through comp (greedy; [] = stutter).

    Start with the empty walk at entry; while some unit is enabled in every state
    of the (closed) walk and taken on none of its edges, extend the walk to the
    nearest state where that unit is disabled or to the nearest edge taking it.
    Each extension settles one unit for good (more states and edges only help),
    and the SCC is fair, so such a state or edge always exists.
    """
    if not _enabled(g, entry):
        return []
    walk: list[tuple[int, int]] = []
    cur = entry
    while True:
        closed = []
        if walk:
            closed = walk + ([] if cur == entry else _inside_path(g, comp, cur, lambda s: s == entry))
        visited = [entry] + [g.succ[s][k] for s, k in closed]
        taken = {g.unit[s][k] for s, k in closed}
        pending = set.intersection(*(_enabled(g, s) for s in visited)) - taken
        if closed and not pending:
            return closed
        # `walk` ends at cur, so u is enabled at cur; settle u inside `walk` itself
        # (not only on the way back), so each round settles one more unit for good
        u = min(pending)
        extension = None
        for path, end in _inside_bfs(g, comp, cur):
            if u not in _enabled(g, end):
                extension = path
                break
            k = next((k for k, (t, uu) in enumerate(zip(g.succ[end], g.unit[end])) if uu == u and t in comp), None)
            if k is not None:
                extension = path + [(end, k)]
                break
        assert extension, "an unfair SCC reached _fair_cycle"
        walk += extension
        s, k = walk[-1]
        cur = g.succ[s][k]


# ---- searches -------------------------------------------------------------------------

def _bfs(g: Graph, starts: list[int], allowed, tick=_no_tick) -> dict[int, tuple[int, int] | None]:
    """BFS over every edge (faults too) through allowed states: state -> (pred, k)."""
    seen: dict[int, tuple[int, int] | None] = {}
    queue = deque()
    for s in starts:
        if allowed(s):
            seen[s] = None
            queue.append(s)
    while queue:
        tick()
        s = queue.popleft()
        for k, t in enumerate(g.succ[s]):
            if t not in seen and allowed(t):
                seen[t] = (s, k)
                queue.append(t)
    return seen


def _nearest(seen: dict, targets: dict) -> int | None:
    """The first state of `seen` (BFS order) that is in targets."""
    for s in seen:
        if s in targets:
            return s
    return None


def _path(seen: dict, end: int) -> list[tuple[int, int]]:
    edges = []
    while seen[end] is not None:
        s, k = seen[end]
        edges.append((s, k))
        end = s
    edges.reverse()
    return edges


def _backward(g: Graph, targets: set[int], allowed, tick=_no_tick) -> set[int]:
    """States in allowed from which targets can be reached through allowed states."""
    preds: dict[int, list[int]] = {}
    for s in range(len(g)):
        tick()
        if allowed(s):
            for t in g.succ[s]:
                preds.setdefault(t, []).append(s)
    seen = set(targets)
    queue = deque(targets)
    while queue:
        t = queue.popleft()
        for s in preds.get(t, ()):
            if s not in seen:
                seen.add(s)
                queue.append(s)
    return seen


def _inside_bfs(g: Graph, comp: frozenset, start: int):
    """(path, state) pairs in BFS order from start over non-fault edges inside comp."""
    seen = {start: None}
    queue = deque([start])
    while queue:
        s = queue.popleft()
        yield _path(seen, s), s
        for k, (t, u) in enumerate(zip(g.succ[s], g.unit[s])):
            if u != FAULT and t in comp and t not in seen:
                seen[t] = (s, k)
                queue.append(t)


def _inside_path(g: Graph, comp: frozenset, start: int, goal) -> list[tuple[int, int]]:
    """A shortest non-empty path inside comp from start to a state satisfying goal."""
    for k, (t, u) in enumerate(zip(g.succ[start], g.unit[start])):
        if u != FAULT and t in comp and goal(t):
            return [(start, k)]
    for path, s in _inside_bfs(g, comp, start):
        if s == start:
            continue
        if goal(s):
            return path
    raise AssertionError("no path inside an SCC")
