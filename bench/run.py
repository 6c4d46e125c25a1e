#!/usr/bin/env python3
"""Benchmark: distinct states, transitions, depth, seconds, states/s and peak memory
for named specs, as a table and as JSON (bench/out/results.json).

    python3 bench/run.py                 # the quick suite (about a minute)
    python3 bench/run.py --suite full    # every example spec, 4- and 5-node elections, Paxos Commit
    python3 bench/run.py --suite prune   # without and with --prune (sleep sets), side by side
    python3 bench/run.py --suite pruning # every example: partitions and dead messages off/on
    python3 bench/run.py --suite efficiency  # memory and speed: vote counting, TwoPhase, Paxos, every example
                                             # (long: its last row, the 5-node vote count, is very large)
    python3 bench/run.py --suite scale   # exact vs --fingerprints, 0.7 to 50 million states (long)
    python3 bench/run.py --suite workers # one process against --workers 2, side by side
    python3 bench/run.py --suite raft    # Raft, broken (Figure 8) and fixed, 1 and 2 workers (about 12 min)
    python3 bench/run.py --suite liveness  # every example with temporal properties, and a 243k-state one
    python3 bench/run.py specs/x.ha ...  # any specs
    python3 bench/run.py "specs/majority_election.ha --no-symmetry --const LOSS=0"   # with options

Symmetry reduction is on by default in `verify`; the rows with `--no-symmetry` measure
the explorer with its reductions off (the states/s target is for those).

Each spec runs in its own `modelcheck verify --format json` process, so the peak
resident memory (from wait4) belongs to that spec alone. bytes_per_state is that
peak over the distinct states; bytes_per_state_net first subtracts the peak of the
same command stopped after its initial state (`--max-states 1`: interpreter,
imports, compiling the spec, its z3 analyses, the workers' start; baseline_mib in
the JSON), so it is what the search itself costs per state: the states, the
frontier and the memo tables. On state spaces of a few thousand states the memo
tables' first entries still dominate it. Numbers are measured, never asserted:
the test suite has no timing assertions.
"""
from __future__ import annotations

import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUITES = {
    "quick": [
        "specs/naive_failover.ha",
        "specs/majority_election.ha --const LOSS=0 --no-symmetry",
        "specs/majority_election.ha --const LOSS=0",
        "specs/majority_election.ha --no-faults --const N=4 --no-symmetry",
        "specs/majority_election.ha --no-faults --const N=4",
        "specs/two_phase_commit_fixed.ha",
    ],
}
# The full suite: the quick one, the 3-node election with every fault (reductions off
# and on), the 5-node election (with symmetry; without it, about a minute), and every
# example spec.
SUITES["full"] = SUITES["quick"] + [
    "specs/majority_election.ha --no-symmetry",
    "specs/majority_election.ha",
    "specs/majority_election.ha --no-faults --const N=5",
] + sorted(str(p.relative_to(ROOT)) for p in (ROOT / "specs").glob("*.ha")
           if p.name not in ("naive_failover.ha", "majority_election.ha", "two_phase_commit_fixed.ha"))

# Without and with sleep-set pruning (--prune) on the specs where it has work to do (the
# slower examples and the ones tests/test_reduction.py leaves out for time).
PRUNE_SPECS = ["specs/majority_election.ha --no-symmetry", "specs/majority_election.ha --const LOSS=0 --no-symmetry",
               "specs/majority_election.ha --no-faults --const N=4 --no-symmetry",
               "specs/majority_election_proof.ha --no-symmetry",
               "specs/stale_read_fixed.ha", "specs/three_phase_commit_fixed.ha", "specs/async_failover_fixed.ha",
               "specs/zk_ack_before_fsync_fixed.ha", "specs/stonith_mutual_fixed.ha",
               "specs/two_phase_commit_fixed.ha", "specs/kafka_hw_truncation_fixed.ha",
               "specs/raft_membership_fixed.ha", "specs/raft_membership_broken.ha", "specs/lease_read_broken.ha"]
SUITES["prune"] = [v for spec in PRUNE_SPECS for v in (spec, spec + " --prune")]

# The state-saving reductions (modelcheck/prune) on every example spec, without symmetry
# so each reduction's own effect shows: both off, each alone, both on (the default).
PRUNING_VARIANTS = [("off", " --keep-partitions --keep-dead-messages"), ("partitions", " --keep-dead-messages"),
                    ("dead", " --keep-partitions"), ("both", "")]
SUITES["pruning"] = [f"{p.relative_to(ROOT)} --no-symmetry{opts}" for p in sorted((ROOT / "specs").glob("*.ha"))
                     for _, opts in PRUNING_VARIANTS]

# Memory and speed on models whose states are costly to store (issue 18): the
# vote-counting election (unordered delivery: networks rarely repeat), Lamport's
# TwoPhase with growing RM (symmetric resource managers), single-decree Paxos, and
# every example spec; compare bytes_per_state_net between rows and runs. The
# 5-node vote count is last: it is very large (without symmetry, over 10^8 states:
# Spin's bitstate search had not finished after 10 minutes), so expect it to take
# long or to stop at the memory limit.
# Scale: exact against fingerprinted memory on models of 1-50 million states (the last
# row, TwoPhase with 10 managers and no symmetry, is about 50 million states: long).
SUITES["scale"] = [
    "bench/promela/vote_count.ha --const N=4 --no-symmetry",
    "bench/promela/vote_count.ha --const N=4 --no-symmetry --fingerprints",
    "bench/models/two_phase.ha --const RM=9 --no-symmetry",
    "bench/models/two_phase.ha --const RM=9 --no-symmetry --fingerprints",
    "bench/models/two_phase.ha --const RM=10 --no-symmetry --fingerprints",
]
# Workers: the same model on one process and on two (--workers 2), side by side, on
# models of 0.5-2.5 million states: a cheap TwoPhase, a vote-counting election whose
# networks rarely repeat, Paxos, and a symmetric run.
SUITES["workers"] = [row + extra for row in (
    "bench/models/two_phase.ha --const RM=8 --no-symmetry",
    "bench/promela/vote_count.ha --const N=4 --no-symmetry",
    "bench/models/paxos.ha --no-symmetry --keep-dead-messages",
    "bench/models/paxos.ha --no-symmetry",
    "bench/models/two_phase.ha --const RM=10",
) for extra in ("", " --workers 2")]
# Raft (3 servers, 4 terms, logs of two entries; issue 17's deep-bug target): the Figure 8
# commitment bug, 23 steps deep, and the fixed model, each within the 10-minute goal.
SUITES["raft"] = ["bench/models/raft_broken.ha", "bench/models/raft.ha",
                  "bench/models/raft_broken.ha --workers 2", "bench/models/raft.ha --workers 2"]
# Temporal properties (the state graph recorded on packed states, then the fair-cycle
# search): every example spec with a `property`, and quorum_register with four replicas
# (243,261 states, 1.4 million edges).
SUITES["liveness"] = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "specs").glob("*.ha"))
                      if "\nproperty " in p.read_text()] + ["specs/quorum_register.ha --const N=4"]
SUITES["efficiency"] = [
    "bench/promela/vote_count.ha --const N=4 --no-symmetry",
    "bench/promela/vote_count.ha --const N=4",
] + [f"bench/models/two_phase.ha --const RM={k}" for k in (6, 8, 10, 12)] + [
    f"bench/models/two_phase.ha --const RM={k} --no-symmetry" for k in (6, 8)] + [
    "bench/models/paxos.ha --no-symmetry",
    "bench/models/paxos.ha",
] + [str(p.relative_to(ROOT)) for p in sorted((ROOT / "specs").glob("*.ha"))] + [
    "bench/promela/vote_count.ha --const N=5",
]


def pruning_table(rows: list[dict]) -> str:
    """The pruning suite side by side: a line per spec, states and seconds per variant."""
    by_spec: dict = {}
    for i, r in enumerate(rows):  # the suite's order: the variants of each spec in turn
        by_spec.setdefault(r["spec"].split()[0], {})[PRUNING_VARIANTS[i % len(PRUNING_VARIANTS)][0]] = r
    head = ("| spec | verdict | states: both off | partitions skipped | dead dropped | both | factor "
            "| seconds: off | both |")
    lines = [head, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for spec, v in by_spec.items():
        if any("error" in v.get(name, {"error": 1}) for name, _ in PRUNING_VARIANTS):
            lines.append(f"| {Path(spec).stem} | error | | | | | | | |")
            continue
        states = [v[name]["distinct_states"] for name, _ in PRUNING_VARIANTS]
        factor = states[0] / max(states[3], 1)
        lines.append(f"| {Path(spec).stem} | {v['both']['verdict']} | " + " | ".join(f"{x:,}" for x in states)
                     + f" | {factor:.1f}x | {v['off']['seconds']:.2f} | {v['both']['seconds']:.2f} |")
    return "\n".join(lines)


# Runs the CLI and reports the process's own peak RSS (KiB on Linux) on stderr at exit.
CHILD = ("import sys, resource, atexit\n"
         "atexit.register(lambda: sys.stderr.write('MAXRSS %d\\nCHILDRSS %d\\n' % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)))\n"
         "sys.argv = ['modelcheck'] + sys.argv[1:]\n"
         "from modelcheck.cli import main\n"
         "main()\n")


def _maxrss_kb(err: str, workers: int = 0) -> int:
    """The run's peak memory: its own, plus with --workers N, N times the largest
    worker process's (their peaks are not reported separately; the shares are even)."""
    def field(name: str) -> int:
        return next((int(line.split()[1]) for line in err.splitlines() if line.startswith(name + " ")), 0)
    return field("MAXRSS") + workers * field("CHILDRSS")


# A run that only starts up: the CLI loads and compiles a trivial spec and stops
# after its initial state (printed once per invocation, for reference).
BASELINE = "specs/naive_failover.ha --max-states 1"


def baseline_kb(spec: str = BASELINE) -> int:
    """Peak RSS (KiB) of `verify` on `spec` stopped after its initial state: what
    that run pays before it stores a state (the last --max-states given wins)."""
    args = shlex.split(spec)
    if "--max-states" not in args:
        args += ["--max-states", "1"]
    proc = subprocess.run([sys.executable, "-c", CHILD, "verify", *args, "--format", "json"],
                          cwd=ROOT, capture_output=True, text=True)
    try:
        workers = len(json.loads(proc.stdout)["stats"].get("workers") or ())
    except (json.JSONDecodeError, KeyError):
        workers = 0
    return _maxrss_kb(proc.stderr, workers)


def run(spec: str, base_kb: int | None = None) -> dict:
    if base_kb is None:  # the spec's own start-up
        base_kb = baseline_kb(spec)
    start = time.monotonic()
    args = shlex.split(spec)  # a spec path, optionally followed by verify options
    proc = subprocess.run([sys.executable, "-c", CHILD, "verify", *args, "--format", "json"],
                          cwd=ROOT, capture_output=True, text=True)
    out, err = proc.stdout, proc.stderr
    wall = time.monotonic() - start
    try:
        doc = json.loads(out)
    except json.JSONDecodeError:
        return {"spec": spec, "error": err.strip() or out.strip()}
    stats = doc["stats"]
    peak_kb = _maxrss_kb(err, len(stats.get("workers") or ()))
    states = max(stats["distinct_states"], 1)
    return {"spec": spec, "verdict": doc["verdict"], "distinct_states": stats["distinct_states"],
            "transitions": stats["transitions"], "pruned_transitions": stats.get("pruned_transitions"),
            "depth": stats["depth"], "seconds": stats["seconds"],
            "wall_seconds": round(wall, 2), "states_per_second": stats["states_per_second"],
            "peak_mib": round(peak_kb / 1024, 1),
            "bytes_per_state": round(peak_kb * 1024 / states),
            "bytes_per_state_net": round((peak_kb - base_kb) * 1024 / states),
            "baseline_mib": round(base_kb / 1024, 1)}


def main(argv: list[str]) -> int:
    if argv[:1] == ["--suite"]:
        if len(argv) < 2 or argv[1] not in SUITES:
            print(f"usage: bench/run.py --suite {'|'.join(SUITES)}", file=sys.stderr)
            return 2
        specs = SUITES[argv[1]]
    else:
        specs = argv or SUITES["quick"]
    cols = ["spec", "verdict", "distinct_states", "transitions", "pruned_transitions", "depth", "seconds",
            "states_per_second",
            "peak_mib", "bytes_per_state", "bytes_per_state_net"]
    base_kb = baseline_kb()  # once per invocation, before the rows
    print(f"baseline (verify {BASELINE}): peak {base_kb / 1024:.1f} MiB", file=sys.stderr, flush=True)
    print(" | ".join(cols), flush=True)
    rows = []
    for spec in specs:  # one row as each finishes: the full suite takes a while
        r = run(spec)
        rows.append(r)
        print(" | ".join(str(r.get(c, r.get("error", ""))) for c in cols), flush=True)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "results.json").write_text(json.dumps(rows, indent=2) + "\n")
    if argv[:2] == ["--suite", "pruning"]:
        table = pruning_table(rows)
        (out / "pruning.md").write_text(table + "\n")
        print("\n" + table)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
