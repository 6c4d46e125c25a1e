"""Liveness on hand-built graphs (modelcheck.engine.liveness), with known answers.

Graphs are written as {state: [(target, unit), ...]} where unit is a fairness
unit name, or None for a fault step. `settled` marks states allowed on a cycle.
"""
from __future__ import annotations

import random

import networkx as nx
import pytest

from modelcheck.engine.liveness import FAULT, Graph, find_lasso, sccs


def make(edges: dict[int, list[tuple[int, str | None]]]) -> Graph:
    """A Graph with BFS ids: the dict's states must be listed in BFS order from 0."""
    g = Graph()
    n = 1 + max([s for s in edges] + [t for out in edges.values() for t, _ in out])
    units: dict[str, int] = {}
    g.states = list(range(n))
    g.parent = [-1] * n
    g.succ = [[t for t, _ in edges.get(s, [])] for s in range(n)]
    g.unit = [[FAULT if u is None else units.setdefault(u, len(units)) for _, u in edges.get(s, [])]
              for s in range(n)]
    # BFS parents
    seen = {0}
    queue = [0]
    for s in queue:
        for t in g.succ[s]:
            if t not in seen:
                seen.add(t)
                g.parent[t] = s
                queue.append(t)
    g.unit_ids = units
    return g


def states_of(g: Graph, lasso) -> tuple[list[int], list[int]]:
    stem = [0] + [g.succ[s][k] for s, k in lasso.stem]
    cycle = [g.succ[s][k] for s, k in lasso.cycle]
    return stem, cycle


ALL = None


def run(edges, op, good, settled=ALL, p=None):
    g = make(edges)
    n = len(g)
    q = [s in good for s in range(n)]
    st = [True] * n if settled is ALL else [s in settled for s in range(n)]
    pp = [s in p for s in range(n)] if p is not None else None
    return g, find_lasso(g, op, q, st, pp)


# ---- eventually -----------------------------------------------------------------------

def test_eventually_holds_when_every_path_reaches_p():
    _, lasso = run({0: [(1, "a")], 1: [(2, "b")], 2: [(2, "c")]}, "eventually", good={2})
    assert lasso is None


def test_eventually_violated_by_a_fair_cycle_avoiding_p():
    # 0 <-> 1 forever (units a, b), or 1 -> 2 (unit c) where P holds. Unit c is
    # enabled only in state 1, so the cycle 0,1,0,1 is fair (c is disabled in 0).
    g, lasso = run({0: [(1, "a")], 1: [(0, "b"), (2, "c")], 2: []}, "eventually", good={2})
    assert lasso is not None
    stem, cycle = states_of(g, lasso)
    assert stem == [0] and cycle == [1, 0]


def test_weak_fairness_forces_a_continuously_enabled_step():
    # In 0 and 1, unit "go" is enabled and leads to P; the 0 <-> 1 cycle never
    # takes it, so it is unfair: the property holds under weak fairness.
    edges = {0: [(1, "spin"), (2, "go")], 1: [(0, "spin"), (2, "go")], 2: []}
    _, lasso = run(edges, "eventually", good={2})
    assert lasso is None


def test_without_fairness_the_same_graph_would_fail():
    # The self-loop "spin" in 0 alone, with "go" enabled in 0: unfair, holds.
    _, lasso = run({0: [(0, "spin"), (1, "go")], 1: []}, "eventually", good={1})
    assert lasso is None
    # If "go" is a different unit in each state but only enabled in one of them,
    # the cycle is fair: 0 -> 1 -> 0 where go0 is enabled only in 0, go1 only in 1.
    g, lasso = run({0: [(1, "spin"), (2, "go0")], 1: [(0, "spin"), (2, "go1")], 2: []}, "eventually", good={2})
    assert lasso is not None


def test_faults_are_not_fair_and_not_on_cycles():
    # The only way round is a fault edge: faults eventually stop, so no cycle;
    # state 1 has a non-fault step to P, which weak fairness forces.
    edges = {0: [(1, "a")], 1: [(0, None), (2, "b")], 2: []}
    _, lasso = run(edges, "eventually", good={2})
    assert lasso is None


def test_a_fault_in_the_stem_can_lead_to_a_deadlock():
    # 0 -fault-> 1, where nothing is enabled: the system stutters in 1 for ever.
    g, lasso = run({0: [(1, None), (2, "a")], 1: [], 2: []}, "eventually", good={2})
    assert lasso is not None
    stem, cycle = states_of(g, lasso)
    assert stem == [0, 1] and cycle == []


def test_only_faults_enabled_counts_as_deadlock():
    g, lasso = run({0: [(1, "a")], 1: [(1, None)]}, "eventually", good=set())
    stem, cycle = states_of(g, lasso)
    assert stem == [0, 1] and cycle == []


def test_eventually_p_true_initially():
    _, lasso = run({0: [(0, "a")]}, "eventually", good={0})
    assert lasso is None


def test_eventually_stem_stays_in_not_p():
    # P holds in 1: a cycle 2 <-> 3 reachable only through 1 does not violate
    # `eventually P` (P already happened).
    edges = {0: [(1, "a")], 1: [(2, "b")], 2: [(3, "c")], 3: [(2, "d")]}
    _, lasso = run(edges, "eventually", good={1})
    assert lasso is None
    # ... but it does violate `always eventually P`
    g, lasso = run(edges, "always_eventually", good={1})
    stem, cycle = states_of(g, lasso)
    assert stem == [0, 1, 2] and cycle == [3, 2]


def test_settled_states_restrict_the_cycle():
    # The bad cycle runs only through state 1, which is not settled (a link is
    # still cut there): with `eventually heal` the property holds.
    edges = {0: [(1, None), (2, "a")], 1: [(1, "spin")], 2: []}
    _, lasso = run(edges, "eventually", good={2})
    assert lasso is not None
    _, lasso = run(edges, "eventually", good={2}, settled={0, 2})
    assert lasso is None


# ---- leads_to -------------------------------------------------------------------------

def test_leads_to_holds_when_the_answer_stays_enabled():
    # "answer" is enabled in 1 and 2, so the 1 <-> 2 loop is unfair: it must be taken
    edges = {0: [(1, "req")], 1: [(2, "x"), (3, "answer")], 2: [(1, "y"), (3, "answer")], 3: []}
    _, lasso = run(edges, "leads_to", good={3}, p={1})
    assert lasso is None


def test_leads_to_violated():
    # "answer" is disabled in 2, so the 1, 2, 1, 2 ... loop is fair and never answers
    edges = {0: [(1, "req")], 1: [(2, "x"), (3, "answer")], 2: [(1, "y")], 3: []}
    g, lasso = run(edges, "leads_to", good={3}, p={1})
    assert lasso is not None


def test_leads_to_trigger_and_stem():
    edges = {0: [(1, "a")], 1: [(2, "req")], 2: [(3, "b")], 3: [(3, "idle")]}
    g, lasso = run(edges, "leads_to", good=set(), p={2})
    stem, cycle = states_of(g, lasso)
    assert lasso.trigger == 2 and stem == [0, 1, 2, 3] and cycle == [3]


def test_always():
    g, lasso = run({0: [(1, "a"), (2, "b")], 1: [(3, "c")], 2: [], 3: []}, "always", good={0, 1, 2})
    stem, cycle = states_of(g, lasso)
    assert stem == [0, 1, 3] and lasso.cycle == []


# ---- the cycle printed is itself fair ----------------------------------------------

def fair(g: Graph, entry: int, cycle: list[tuple[int, int]]) -> bool:
    if not cycle:
        return all(u == FAULT for u in g.unit[entry])
    visited = [entry] + [g.succ[s][k] for s, k in cycle]
    assert visited[-1] == entry
    enabled = set.intersection(*({u for u in g.unit[s] if u != FAULT} for s in visited))
    taken = {g.unit[s][k] for s, k in cycle}
    return enabled <= taken and all(g.unit[s][k] != FAULT for s, k in cycle)


def random_graph(rng: random.Random, n: int) -> dict:
    edges = {}
    for s in range(n):
        out = []
        for _ in range(rng.randint(0, 3)):
            out.append((rng.randrange(n), rng.choice(["a", "b", "c", "d", None])))
        edges[s] = out
    # make every state reachable from 0 in BFS order: a spanning chain
    for s in range(1, n):
        edges[s - 1].append((s, "chain"))
    return edges


@pytest.mark.parametrize("seed", range(60))
def test_random_graphs_lassos_are_fair_and_really_violate(seed):
    rng = random.Random(seed)
    edges = random_graph(rng, rng.randint(2, 9))
    n = len(edges)
    good = {s for s in range(n) if rng.random() < 0.3}
    for op in ("eventually", "always_eventually"):
        g, lasso = run(edges, op, good=good)
        if lasso is None:
            continue
        stem, cycle = states_of(g, lasso)
        entry = stem[-1]
        assert fair(g, entry, lasso.cycle)
        assert all(s not in good for s in [entry] + cycle)
        if op == "eventually":
            assert all(s not in good for s in stem)


@pytest.mark.parametrize("seed", range(40))
def test_sccs_agree_with_networkx(seed):
    rng = random.Random(seed)
    edges = random_graph(rng, rng.randint(1, 12))
    g = make(edges)
    region = [rng.random() < 0.8 for _ in range(len(g))]
    ours = sorted(tuple(c) for c in sccs(g, region))
    nxg = nx.DiGraph()
    nxg.add_nodes_from(s for s in range(len(g)) if region[s])
    for s in range(len(g)):
        for t, u in zip(g.succ[s], g.unit[s]):
            if u != FAULT and region[s] and region[t]:
                nxg.add_edge(s, t)
    theirs = sorted(tuple(sorted(c)) for c in nx.strongly_connected_components(nxg))
    assert ours == theirs


def _reach(g: Graph, starts, allowed) -> set[int]:
    reach = {s for s in starts if allowed(s)}
    stack = list(reach)
    while stack:
        s = stack.pop()
        for t in g.succ[s]:
            if t not in reach and allowed(t):
                reach.add(t)
                stack.append(t)
    return reach


def brute_force_eventually(g: Graph, good: set[int]) -> bool:
    """Violated iff some set of not-good states reachable via not-good paths from 0 is
    a fair closed walk: enumerate SCC-closed subsets by brute force (tiny graphs)."""
    return _fair_subset_in(g, _reach(g, [0], lambda s: s not in good))


def brute_force_always_eventually(g: Graph, good: set[int]) -> bool:
    reachable = _reach(g, [0], lambda s: True)
    return _fair_subset_in(g, {s for s in reachable if s not in good})


def brute_force_leads_to(g: Graph, p: set[int], good: set[int]) -> bool:
    reachable = _reach(g, [0], lambda s: True)
    for t in sorted(reachable):
        if t in p and t not in good and _fair_subset_in(g, _reach(g, [t], lambda s: s not in good)):
            return True
    return False


def _fair_subset_in(g: Graph, reach: set[int]) -> bool:
    from itertools import combinations

    for s in reach:  # deadlock
        if all(u == FAULT for u in g.unit[s]):
            return True
    cands = sorted(reach)
    for r in range(1, len(cands) + 1):
        for subset in combinations(cands, r):
            sub = set(subset)
            h = nx.DiGraph()
            h.add_nodes_from(sub)
            taken = set()
            for s in sub:
                for t, u in zip(g.succ[s], g.unit[s]):
                    if u != FAULT and t in sub:
                        h.add_edge(s, t)
                        taken.add(u)
            if h.number_of_edges() == 0 or not nx.is_strongly_connected(h):
                continue
            enabled = set.intersection(*({u for u in g.unit[s] if u != FAULT} for s in sub))
            if enabled <= taken:
                return True
    return False


@pytest.mark.parametrize("seed", range(80))
def test_eventually_agrees_with_brute_force(seed):
    rng = random.Random(1000 + seed)
    edges = random_graph(rng, rng.randint(2, 7))
    n = len(edges)
    good = {s for s in range(n) if rng.random() < 0.35}
    g, lasso = run(edges, "eventually", good=good)
    assert (lasso is not None) == brute_force_eventually(g, good)


@pytest.mark.parametrize("seed", range(80))
def test_always_eventually_and_leads_to_agree_with_brute_force(seed):
    rng = random.Random(5000 + seed)
    edges = random_graph(rng, rng.randint(2, 7))
    n = len(edges)
    good = {s for s in range(n) if rng.random() < 0.35}
    p = {s for s in range(n) if rng.random() < 0.4}
    g, lasso = run(edges, "always_eventually", good=good)
    assert (lasso is not None) == brute_force_always_eventually(g, good)
    g, lasso = run(edges, "leads_to", good=good, p=p)
    assert (lasso is not None) == brute_force_leads_to(g, p, good)
    if lasso is not None:
        stem, cycle = states_of(g, lasso)
        assert stem[lasso.trigger] in p
        assert all(s not in good for s in stem[lasso.trigger:] + cycle)
        assert fair(g, stem[-1], lasso.cycle)
