"""`link [at most K]`: one symmetric link a <-> b is cut, both ways; a and b each
still reach every other node (a partial partition: the two nodes can no longer
talk, yet both see the rest of the cluster, and a third node sees both).

One step per unordered pair {a, b} whose two directed links are not both cut
already: n(n-1)/2 shapes."""
from __future__ import annotations

from .base import CutShape


class Link(CutShape):
    keyword = "link"

    def shapes(self, n):
        return [((a, b), ((a, b), (b, a))) for a in range(n) for b in range(a + 1, n)]

    def label(self, detail):
        return f"{detail[0]}<->{detail[1]}"

    def headline(self, d, step):
        a, b = step.detail
        return (f"fault: link {d.node(a)} <-> {d.node(b)} cut (they stop hearing each other; "
                "both still reach the others)")

    def detail_json(self, d, step):
        a, b = step.detail
        return {"pair": [d.node(a), d.node(b)]}

    def note(self, d, step, i):
        a, b = step.detail
        return f"{i}. link {d.node(a)} ↔ {d.node(b)} cut", "note fault"
