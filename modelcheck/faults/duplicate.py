"""`duplicate at most K`: the network delivers one message in flight twice (a copy
joins the network). Needs a bound: unbounded duplication makes the state space
infinite. Under `delivery set` a copy is the same message, so it has no steps."""
from __future__ import annotations

from .base import NetFault


class Duplicate(NetFault):
    keyword = "duplicate"
    verb = "network duplicates"
    needs_bound = True
    noun = "duplication"

    def nets_after(self, network, net):
        return network.duplicate(net)

    def encode(self, sym, pre, f, has, spent, tag):
        from ..smt.symbolic import AND, Inst
        name = self.step_name(tag)
        out = []
        if sym.mode == "unordered":
            for j in range(len(sym.messages)):
                inst = Inst(f"{name} #{j}", ok=AND(has, sym.in_flight(pre, j)), budgets=dict(spent))
                inst.net = {j: pre.net[j] + 1}
                out.append(inst)
        return out
