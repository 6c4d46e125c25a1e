"""`bridge [at most K]`: the nodes split into two sides that cannot reach each
other, except through one bridge node that still reaches everyone (Jepsen's
`bridge` nemesis; the shape behind many split-brain reports: each side sees a
majority once the bridge is counted).

One step per bridge node b and split of the other nodes into two non-empty sides
(every link between the sides is cut, both ways; no link of b is cut): with n
nodes, n * (2^(n-2) - 1) shapes, none below 3 nodes. The last other node is
always on the second side, so each split is listed once."""
from __future__ import annotations

from .base import CutShape, symmetric
from .partition import bipartitions

MAX_BRIDGE_NODES = 16


class Bridge(CutShape):
    keyword = "bridge"
    max_nodes, plural, count = MAX_BRIDGE_NODES, "bridges", "{n} * (2^{n2} - 1) bridges"

    def shapes(self, n):
        out = []
        for b in range(n):
            rest = [x for x in range(n) if x != b]
            for side_a, side_b in bipartitions(len(rest)):
                a = tuple(rest[i] for i in side_a)
                c = tuple(rest[i] for i in side_b)
                out.append(((b, a, c), symmetric((x, y) for x in a for y in c)))
        return out

    def label(self, detail):
        b, a, c = detail
        return f"{a}|{b}|{c}"

    def headline(self, d, step):
        b, a, c = step.detail
        return (f"fault: network partition {d.nodes(a)} | {d.nodes(c)} bridged by {d.node(b)} "
                f"({d.node(b)} still reaches both sides)")

    def detail_json(self, d, step):
        b, a, c = step.detail
        return {"bridge": d.node(b), "sides": [[d.node(n) for n in a], [d.node(n) for n in c]]}

    def note(self, d, step, i):
        b, a, c = step.detail
        return f"{i}. partition {d.nodes(a)} | {d.nodes(c)}, bridged by {d.node(b)}", "note fault"
