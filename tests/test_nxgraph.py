"""The two graph paths agree: the hand-written liveness code (engine/liveness.py, used
by `verify`) and networkx (engine/nxgraph.py, used by `graph`) give the same strongly
connected components, the same BFS-shortest stems and, with either SCC code under the
liveness check, the same lassos: on random graphs and on the specs' state graphs."""
from __future__ import annotations

import random

import pytest

from conftest import ROOT
from test_liveness import make, random_graph

from modelcheck.engine import liveness, nxgraph
from modelcheck.engine.explorer import Options, explore
from modelcheck.engine.liveness import FAULT, _bfs, find_lasso, sccs
from modelcheck.engine.model import build
from modelcheck.lang.checker import check
from modelcheck.lang.diagnostics import Source
from modelcheck.lang.parser import parse

# small enough for the test suite; each with faults, so fault edges are left out of the SCCs
SPECS = ["specs/naive_failover.ha", "specs/async_failover_broken.ha", "specs/stonith_mutual_broken.ha",
         "specs/two_phase_commit_broken.ha"]


def agree(g, region) -> None:
    """Same SCCs; from state 0 the same BFS order, parents and stems."""
    assert sorted(sccs(g, region)) == nxgraph.sccs(g, region)
    dg = nxgraph.digraph(g)
    parents = nxgraph.bfs_parents(dg)
    seen = _bfs(g, [0], lambda s: True)
    assert list(parents) == list(seen)
    assert all(parents[s] == (None if seen[s] is None else seen[s][0]) for s in seen)
    for s in seen:  # g.parent: make()'s BFS tree, or the explorer's
        assert nxgraph.stem(dg, parents, s) == g.path_to(s)


def lassos_agree(g, op, q, settled, p=None) -> None:
    """find_lasso gives the same answer with networkx's SCCs under it."""
    ours = find_lasso(g, op, q, settled, p)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(liveness, "sccs", lambda g, region, tick=None: nxgraph.sccs(g, region))
        theirs = find_lasso(g, op, q, settled, p)
    assert (ours is None) == (theirs is None)
    if ours is not None:
        assert (ours.stem, ours.cycle, ours.trigger) == (theirs.stem, theirs.cycle, theirs.trigger)


@pytest.mark.parametrize("seed", range(60))
def test_random_graphs(seed):
    rng = random.Random(seed)
    g = make(random_graph(rng, rng.randint(1, 14)))
    n = len(g)
    agree(g, [rng.random() < 0.8 for _ in range(n)])
    q = [rng.random() < 0.3 for _ in range(n)]
    settled = [rng.random() < 0.9 for _ in range(n)]
    for op in ("eventually", "always_eventually", "leads_to"):
        lassos_agree(g, op, q, settled, [rng.random() < 0.5 for _ in range(n)] if op == "leads_to" else None)


def spec_graph(path: str):
    """The liveness state graph of a spec: explore with a temporary property, whose
    region (`always eventually false`) is every settled state."""
    text = (ROOT / path).read_text() + "\nproperty nx_tmp: always eventually false\n"
    source = Source(path, text)
    checked = check(parse(source), {})
    model = build(checked, source, property_names=["nx_tmp"])
    result = explore(model, Options(record_graph=True))
    return result, model


@pytest.mark.parametrize("spec", SPECS)
def test_spec_graphs(spec):
    result, model = spec_graph(spec)
    g = result.graph
    assert result.verdict == "violated" and result.violation.name == "nx_tmp"
    rng = random.Random(spec)
    n = len(g)
    assert n > 10 and any(u == FAULT for units in g.unit for u in units)
    agree(g, [True] * n)
    agree(g, [rng.random() < 0.7 for _ in range(n)])
    settled = [model.settled(s) for s in g.states]
    for _ in range(3):
        q = [rng.random() < 0.2 for _ in range(n)]
        p = [rng.random() < 0.3 for _ in range(n)]
        for op in ("eventually", "always_eventually", "leads_to"):
            lassos_agree(g, op, q, settled, p if op == "leads_to" else None)


def test_components_and_condensation():
    # 0 -> {1, 2} cycle -> 3 (stuck); 4 alone, reached by a fault and leaving to 3
    g = make({0: [(1, "a")], 1: [(2, "b"), (3, "c")], 2: [(1, "d"), (4, None)], 4: [(3, "e")]})
    comps, terminal = nxgraph.components(nxgraph.digraph(g))
    assert comps == [[0], [1, 2], [3], [4]] and terminal == [False, False, True, False]
    assert nxgraph.sccs(g, [True] * 5) == [[0], [1, 2], [3], [4]]


def test_graph_components_only_adds_boxes():
    from conftest import run_cli

    for fmt in ("dot", "mermaid"):
        plain = run_cli("graph", "specs/naive_failover.ha", "--format", fmt)
        boxed = run_cli("graph", "specs/naive_failover.ha", "--format", fmt, "--components")
        assert plain.returncode == boxed.returncode == 0, boxed.stderr
        added = [line for line in boxed.stdout.splitlines() if line not in plain.stdout.splitlines()]
        assert [line for line in boxed.stdout.splitlines() if line not in added] == plain.stdout.splitlines()
        if fmt == "dot":
            assert added == [
                '  subgraph cluster_c0 { label="C0: 3 states"; style="dashed"; color="blue"; s1; s4; s10; }',
                '  subgraph cluster_c1 { label="C1: 3 states"; style="dashed"; color="blue"; s13; s22; s34; }',
                '  subgraph cluster_c2 { label="C2: 3 states"; style="dashed"; color="blue"; s15; s24; s36; }',
                '  subgraph cluster_c3 { label="C3: 3 states"; style="dashed"; color="blue"; s39; s52; s64; }']
        else:
            assert added[:5] == ['    subgraph c0["C0: 3 states"]', "        s1", "        s4", "        s10", "    end"]
        assert boxed.stderr.splitlines()[-1] == ("70 strongly connected components (4 of more than one state, "
                                                 "boxed); terminal, no step leaves them: s77")
