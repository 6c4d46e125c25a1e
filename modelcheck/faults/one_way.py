"""`one_way [at most K]`: one directed link a -> b is cut (b stops hearing a; a
still hears b). One step per directed link not cut yet."""
from __future__ import annotations

from .base import PairCut


class OneWay(PairCut):
    keyword = "one_way"
    tail = " ({b} stops hearing {a})"

    def shapes(self, n):
        return [((a, b), ((a, b),)) for a in range(n) for b in range(n) if a != b]
