"""`heal [at most K]`: every cut link is restored at once (enabled while some link
is cut). `Step.detail` lists the links it restores."""
from __future__ import annotations

from ..engine.state import State, Step, Transition
from .base import FaultKind


class Heal(FaultKind):
    keyword = "heal"
    only_delays = True  # it only releases messages that cut links held back

    def successors(self, model, state, f, budgets):
        if not state.cut:
            return []
        return [Transition(Step(self.keyword, detail=tuple(sorted(state.cut)), span=f.span),
                           State(state.nodes, state.up, state.net, frozenset(), state.ghosts, budgets, state.time))]

    def cuts_after(self, n: int, cut: frozenset) -> list[frozenset]:
        return [frozenset()] if cut else []

    def packed(self, g, i, f, ind, b2):
        return g.cut_lines(i, ind, b2)

    def encode(self, sym, pre, f, has, spent, tag):
        from ..smt.symbolic import AND, FALSE, OR, Inst
        name = self.step_name(tag)
        inst = Inst(name, ok=AND(has, OR(*[pre.cut[k] for k in sym.links])), budgets=dict(spent))
        inst.cut = {k: FALSE for k in sym.links}
        return [inst]

    def footprint(self, fp, state, step):
        writes = fp.cut_set_bit
        for a, b in state.cut:
            writes |= fp.link_bit(a, b)
        return writes, 0

    def headline(self, d, step):
        return "fault: network heals (all links restored)"

    def note(self, d, step, i):
        return f"{i}. network heals (all links restored)", "note heal"
