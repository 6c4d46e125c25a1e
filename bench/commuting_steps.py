#!/usr/bin/env python3
"""How often do two enabled steps of the same node commute? Sleep-set pruning
(`--prune`) counts such pairs as dependent; a z3 proof of commutation would let it skip
more transitions (docs/language.md, "Pruning"). This measures the potential on a
sample of 2,000 reachable states, by taking both orders concretely.

    python3 bench/commuting_steps.py specs/majority_election.ha LOSS=0
"""
from __future__ import annotations

import collections
import itertools
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from conftest import pipeline  # noqa: E402


def reachable(model) -> list:
    seen, queue = {model.initial}, [model.initial]
    for s in queue:
        for tr in model.successors(s):
            if tr.state is not None and tr.state not in seen:
                seen.add(tr.state)
                queue.append(tr.state)
    return queue


def label(step) -> tuple:
    return (step.kind, step.node, step.name, step.params, step.message)


def after(model, state, lab) -> frozenset:
    return frozenset(tr.state for tr in model.successors(state) if tr.state is not None and label(tr.step) == lab)


def main(spec: str, consts: dict[str, int]) -> None:
    model = pipeline(Path(spec).read_text(), consts)
    states = reachable(model)
    random.seed(1)
    sample = random.sample(states, min(2000, len(states)))
    pairs = commuting = 0
    for s in sample:
        by_node = collections.defaultdict(set)
        for tr in model.successors(s):
            if tr.state is not None and tr.step.kind in ("deliver", "action"):
                by_node[tr.step.node].add(label(tr.step))
        for labels in by_node.values():
            for a, b in itertools.combinations(sorted(labels, key=repr), 2):
                pairs += 1
                ab = frozenset(x for t in after(model, s, a) for x in after(model, t, b))
                ba = frozenset(x for t in after(model, s, b) for x in after(model, t, a))
                commuting += bool(ab) and ab == ba
    print(f"{spec} {consts}: {len(states):,} states, {len(sample):,} sampled; pairs of enabled steps of one node: "
          f"{pairs:,}, commuting: {commuting:,} ({100 * commuting / max(pairs, 1):.0f}%)")


if __name__ == "__main__":
    main(sys.argv[1], {k: int(v) for k, v in (kv.split("=") for kv in sys.argv[2:])})
