"""`one_way [at most K]`: one directed link a -> b is cut (b stops hearing a; a
still hears b). One step per directed link not cut yet."""
from __future__ import annotations

from .base import CutShape


class OneWay(CutShape):
    keyword = "one_way"

    def shapes(self, n):
        return [((a, b), ((a, b),)) for a in range(n) for b in range(n) if a != b]

    def label(self, detail):
        return f"{detail}"

    def headline(self, d, step):
        a, b = step.detail
        return f"fault: link {d.node(a)} -> {d.node(b)} cut ({d.node(b)} stops hearing {d.node(a)})"

    def detail_json(self, d, step):
        a, b = step.detail
        return {"link": [d.node(a), d.node(b)]}

    def note(self, d, step, i):
        a, b = step.detail
        return f"{i}. link {d.node(a)} → {d.node(b)} cut", "note fault"
