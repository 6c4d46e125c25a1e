"""A simulated Ray cluster on this machine: what going across machines costs.

    python3 bench/cluster.py               # 4 nodes, the default models
    python3 bench/cluster.py --nodes 2     # fewer nodes
    python3 bench/cluster.py bench/models/two_phase.ha --const RM=7 --no-symmetry

Starts a Ray cluster of N nodes on loopback (ray.cluster_utils.Cluster: each node its
own raylet and object store, one CPU each, as N one-core machines would be), runs each
model with one process, with `--workers 2` (forked, this machine) and with
`--cluster --workers N`, and prints side by side: seconds, and for the cluster the
per-worker states, the states and bytes handed between workers, the rounds (one round
trip to every worker each) and the start-up. On a 2-core machine N > 2 nodes share two
cores, so the cluster's seconds say nothing of speed; the counts and bytes are what a
real cluster would move, and docs/language.md ("Workers across machines") derives
from them what a cluster of machines should reach. Needs `pip install '.[distributed]'`.
"""
from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MODELS = [
    "bench/models/two_phase.ha --const RM=7 --no-symmetry",
    "bench/promela/vote_count.ha --const N=3 --no-symmetry",
    "bench/models/paxos.ha --no-symmetry",
]


def _args(line: str) -> tuple[str, dict]:
    words = shlex.split(line)
    kw: dict = {"consts": {}}
    i = 1
    while i < len(words):
        w = words[i]
        if w == "--const":
            name, value = words[i + 1].split("=")
            kw["consts"][name] = int(value)
            i += 1
        elif w == "--no-symmetry":
            kw["symmetry"] = False
        elif w == "--keep-dead-messages":
            kw["keep_dead_messages"] = True
        else:
            raise SystemExit(f"bench/cluster.py: option {w} is not supported here")
        i += 1
    return words[0], kw


def main(argv: list[str]) -> int:
    nodes = 4
    if argv[:1] == ["--nodes"]:
        nodes, argv = int(argv[1]), argv[2:]
    models = [" ".join(argv)] if argv else MODELS
    import ray
    from ray.cluster_utils import Cluster

    from modelcheck import api
    from modelcheck.engine.parallel import search

    rounds = [0]
    step = search._Search._rounds

    def counting(self, *a):  # the rounds of every level: one round trip each
        call_all = self.pool.call_all

        def counted(method, args):
            rounds[0] += method == "step"
            return call_all(method, args)
        self.pool.call_all = counted
        try:
            return step(self, *a)
        finally:
            self.pool.call_all = call_all
    search._Search._rounds = counting

    t0 = time.monotonic()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    for _ in range(nodes - 1):
        cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    print(f"cluster: {nodes} nodes of 1 CPU on loopback, started in {time.monotonic() - t0:.1f} s", flush=True)
    try:
        for line in models:
            path, kw = _args(line)
            one = api.verify(path, **kw)
            two = api.verify(path, workers=2, **kw)
            rounds[0] = 0
            t = time.monotonic()
            many = api.verify(path, workers=nodes, cluster=cluster.address, **kw)
            wall = time.monotonic() - t
            s = many.stats
            assert (s.distinct_states, s.transitions, many.verdict) == \
                (one.stats.distinct_states, one.stats.transitions, one.verdict), line
            sent = sum(w[2] for w in s.workers)
            size = sum(w[4] for w in s.workers)
            print(f"\n{line}: {s.distinct_states:,} states, {s.transitions:,} transitions, depth {s.depth}, "
                  f"{one.verdict}")
            print(f"  1 process: {one.stats.seconds:.2f} s; --workers 2 (fork): {two.stats.seconds:.2f} s; "
                  f"--cluster, {nodes} workers: {s.seconds:.2f} s (with start-up: {wall:.2f} s)")
            for w, (states, _, out, into, nbytes) in enumerate(s.workers):
                print(f"  worker {w}: owns {states:,} states; handed out {out:,} states ({nbytes / 2**20:.1f} MiB), "
                      f"took in {into:,}")
            print(f"  handed between workers: {sent:,} states ({sent / max(s.distinct_states, 1):.2f} per state), "
                  f"{size / 2**20:.1f} MiB ({size / max(sent, 1):.0f} bytes per state handed); "
                  f"{rounds[0]:,} rounds over {s.depth} levels")
    finally:
        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
