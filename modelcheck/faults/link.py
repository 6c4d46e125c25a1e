"""`link [at most K]`: one symmetric link a <-> b is cut, both ways; a and b each
still reach every other node (a partial partition: the two nodes can no longer
talk, yet both see the rest of the cluster, and a third node sees both).

One step per unordered pair {a, b} whose two directed links are not both cut
already: n(n-1)/2 shapes."""
from __future__ import annotations

from .base import PairCut


class Link(PairCut):
    keyword = "link"
    arrow, html_arrow, json_key = "<->", "↔", "pair"
    tail = " (they stop hearing each other; both still reach the others)"

    def shapes(self, n):
        return [((a, b), ((a, b), (b, a))) for a in range(n) for b in range(a + 1, n)]

    def label(self, detail):
        return f"{detail[0]}<->{detail[1]}"
