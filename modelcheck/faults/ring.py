"""`ring [at most K]`: majorities ring (Jepsen's `partition-majorities-ring`): the
nodes sit on a ring and each keeps only its links to the nodes near it on the
ring, so every node still reaches a majority (itself included) but no two nodes
see the same majority.

Exactly: for n nodes and a ring order, r is the smallest radius with 2r + 1 >= a
majority (n // 2 + 1); the links between nodes more than r apart on the ring are
cut, both ways. With 5 nodes each node reaches itself and its two ring
neighbours. Below 4 nodes every pair is within r: the shape cuts nothing and has
no steps. One step per distinct cut set (rings that cut the same links, such as a
ring and its mirror image, are one step): 3 with 4 nodes, 12 with 5, 15 with 6,
360 with 7, 2,520 with 8. `Step.detail` is the first ring order (from node 0)
that gives it."""
from __future__ import annotations

import itertools

from .base import CutShape, symmetric

MAX_RING_NODES = 8  # 2,520 shapes; 9 nodes would try 20,160 in every state


def radius(n: int) -> int:
    majority = n // 2 + 1
    return majority // 2  # the smallest r with 2r + 1 >= majority


class Ring(CutShape):
    keyword = "ring"
    max_nodes, plural, count = MAX_RING_NODES, "rings", "({n} - 1)!/2 rings"

    def shapes(self, n):
        if n < 4:
            return []
        r = radius(n)
        out, seen = [], set()
        for rest in itertools.permutations(range(1, n)):
            if rest[0] > rest[-1]:  # a mirror image of one already listed
                continue
            order = (0,) + rest
            far = []
            for i in range(n):
                for j in range(i + 1, n):
                    if min(j - i, n - (j - i)) > r:
                        a, b = order[i], order[j]
                        far.append((min(a, b), max(a, b)))
            far.sort()
            key = tuple(far)
            if key in seen:
                continue
            seen.add(key)
            out.append((order, symmetric(far)))
        return out

    def label(self, detail):
        return "ring " + "-".join(map(str, detail))

    def headline(self, d, step):
        order = step.detail
        return (f"fault: majorities ring {' - '.join(d.node(n) for n in order)} "
                "(each node reaches only the nodes near it on the ring: a majority, but no two the same one)")

    def detail_json(self, d, step):
        return {"ring": [d.node(n) for n in step.detail]}

    def note(self, d, step, i):
        return f"{i}. majorities ring {' – '.join(d.node(n) for n in step.detail)}", "note fault"
