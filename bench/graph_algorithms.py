#!/usr/bin/env python3
"""Hand-written graph code (engine/liveness.py) against networkx (engine/nxgraph.py),
side by side on the same graphs, in one process on one machine.

    python3 bench/graph_algorithms.py            # the specs below and a synthetic graph
    python3 bench/graph_algorithms.py --states 200000

Why: the liveness check keeps its own Tarjan and BFS only where they beat networkx;
this script is how the numbers quoted in liveness.sccs were measured. Each spec gets
a temporary property (`always eventually false`: with no `eventually heal`, every
state lies in the region the SCCs are computed over, the liveness check's worst
case) so that `explore` records its liveness state graph. The synthetic graph is a
random graph of the given size with 3 successors a state and a chain through every
state (one giant component, like a spec's graph with faults that heal).

Timed, best of --repeat runs, milliseconds:
  SCCs  liveness.sccs vs networkx: building the DiGraph (nxgraph.digraph: networkx
        needs one, the recorded graph is lists) + nx.strongly_connected_components
  stems liveness._bfs from state 0 over every edge vs networkx: building the
        DiGraph + nxgraph.bfs_parents (nx.bfs_predecessors)
Both must give the same components and the same BFS parents (checked here too).
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import networkx as nx  # noqa: E402

from modelcheck.engine import nxgraph  # noqa: E402
from modelcheck.engine.explorer import Options, explore  # noqa: E402
from modelcheck.engine.liveness import FAULT, Graph, _bfs, sccs  # noqa: E402
from modelcheck.engine.model import build  # noqa: E402
from modelcheck.lang.checker import check  # noqa: E402
from modelcheck.lang.diagnostics import Source  # noqa: E402
from modelcheck.lang.parser import parse  # noqa: E402

SPECS = ["specs/naive_failover.ha", "specs/majority_election.ha --const LOSS=0",
         "specs/two_phase_commit_fixed.ha", "specs/majority_election.ha"]


def spec_graph(arg: str) -> Graph:
    path, *rest = arg.split()
    consts = dict(x.split("=") for x in rest[1::2]) if rest else {}
    text = (ROOT / path).read_text() + "\nproperty bench_tmp: always eventually false\n"
    source = Source(path, text)
    checked = check(parse(source), {k: int(v) for k, v in consts.items()})
    model = build(checked, source, property_names=["bench_tmp"])
    return explore(model, Options(record_graph=True)).graph


def synthetic(n: int, seed: int = 1) -> Graph:
    rng = random.Random(seed)
    g = Graph()
    g.states = list(range(n))
    g.parent = [-1] * n
    g.succ = [[rng.randrange(n) for _ in range(3)] + [(s + 1) % n] for s in range(n)]
    g.unit = [[rng.choice((FAULT, 0, 1, 2)) for _ in range(3)] + [3] for s in range(n)]
    return g


def best(fn, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def row(name: str, g: Graph, repeat: int) -> None:
    region = [True] * len(g)
    t_hand, ours = best(lambda: sccs(g, region), repeat)
    t_build, dg = best(lambda: nxgraph.digraph(g, region, faults=False), repeat)
    t_alg, _ = best(lambda: list(nx.strongly_connected_components(dg)), repeat)
    assert sorted(ours) == nxgraph.sccs(g, region), name
    b_hand, seen = best(lambda: _bfs(g, [0], lambda s: True), repeat)
    b_build, dg = best(lambda: nxgraph.digraph(g), repeat)
    b_alg, parents = best(lambda: nxgraph.bfs_parents(dg), repeat)
    assert list(seen) == list(parents) and all((seen[s] or (None,))[0] == parents[s] for s in seen), name
    edges = sum(len(x) for x in g.succ)
    ms = 1000
    print(f"{name:42} {len(g):>9,} {edges:>10,} | SCCs {t_hand * ms:8.1f} {t_build * ms:8.1f} + {t_alg * ms:8.1f}"
          f" x{(t_build + t_alg) / t_hand:4.1f} | stems {b_hand * ms:8.1f} {b_build * ms:8.1f} + {b_alg * ms:8.1f}"
          f" x{(b_build + b_alg) / b_hand:4.1f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--states", type=int, default=500_000, help="size of the synthetic graph")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("specs", nargs="*", default=SPECS)
    args = ap.parse_args()
    print(f"{'graph':42} {'states':>9} {'edges':>10} | ms:      hand nx: build + algorithm  nx/hand |"
          " ms:       hand nx: build + algorithm  nx/hand")
    for spec in args.specs:
        row(spec, spec_graph(spec), args.repeat)
    row(f"synthetic, {args.states:,} states", synthetic(args.states), args.repeat)


if __name__ == "__main__":
    main()
