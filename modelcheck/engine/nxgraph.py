"""The recorded state graph (liveness.Graph) as a networkx DiGraph, and the analyses on it.

Why this module: networkx is the project's graph library. `modelcheck graph` uses it
for the graphs it draws (at most a few thousand states): strongly connected
components, their condensation, and the BFS-shortest stem to a state. The liveness
check keeps its hand-written Tarjan and searches in liveness.py, which beat
networkx on the large graphs a `verify` records (the numbers are in liveness.sccs);
both paths give the same components and the same stems, which the tests check on
random graphs and on the specs' graphs (tests/test_nxgraph.py).

A DiGraph has at most one edge a pair of states: an edge keeps `k`, the index of
the first step from s to t (the step a trace shows, as Graph.path_to picks it).
Nodes and edges are added in id and successor order, so networkx's traversals
visit them in the same order as the hand-written BFS.
"""
from __future__ import annotations

import networkx as nx

from .liveness import FAULT, Graph


def digraph(g: Graph, region: list[bool] | None = None, faults: bool = True) -> nx.DiGraph:
    """States (all, or those in `region`) and the edges between them.

    faults=False leaves out fault steps (the edges a liveness cycle may take); the
    failing steps (Graph.errors, recorded as fault self-loops) are always left out."""
    dg = nx.DiGraph()
    n = len(g)
    inside = (lambda s: True) if region is None else (lambda s: region[s])
    dg.add_nodes_from(s for s in range(n) if inside(s))
    failing = set(g.errors)
    for s in range(n):
        if not inside(s):
            continue
        adj = dg._adj[s]
        for k, (t, u) in enumerate(zip(g.succ[s], g.unit[s])):
            if t in adj or not inside(t) or (not faults and u == FAULT) or (s, k) in failing:
                continue
            dg.add_edge(s, t, k=k)
    return dg


def sccs(g: Graph, region: list[bool]) -> list[list[int]]:
    """liveness.sccs computed by networkx: the strongly connected components of the
    states in `region` over non-fault edges, each sorted, ordered by smallest state."""
    comps = nx.strongly_connected_components(digraph(g, region, faults=False))
    return sorted((sorted(c) for c in comps), key=lambda c: c[0])


def components(dg: nx.DiGraph) -> tuple[list[list[int]], list[bool]]:
    """The strongly connected components of a drawn graph, ordered by smallest state,
    and for each whether it is terminal (no edge leaves it in the condensation: the
    runs that enter it stay in it forever)."""
    comps = sorted((sorted(c) for c in nx.strongly_connected_components(dg)), key=lambda c: c[0])
    cond = nx.condensation(dg, scc=[set(c) for c in comps])  # node i is comps[i]
    return comps, [cond.out_degree(i) == 0 for i in range(len(comps))]


def bfs_parents(dg: nx.DiGraph, start: int = 0) -> dict[int, int | None]:
    """Each state reachable from start -> its BFS parent (None for start), in BFS order."""
    parents: dict[int, int | None] = {start: None}
    parents.update(nx.bfs_predecessors(dg, start))
    return parents


def stem(dg: nx.DiGraph, parents: dict[int, int | None], end: int) -> list[tuple[int, int]]:
    """The BFS-shortest path from the start of `parents` to end, as (state, k) edges:
    the same path as Graph.path_to when parents come from state 0 over every edge."""
    edges = []
    while parents[end] is not None:
        s = parents[end]
        edges.append((s, dg.edges[s, end]["k"]))
        end = s
    edges.reverse()
    return edges
