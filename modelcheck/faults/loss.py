"""`loss [at most K]`: the network drops one message in flight (any message the
delivery mode could lose: with fifo, any queued message)."""
from __future__ import annotations

from .base import NetFault


class Loss(NetFault):
    keyword = "loss"
    verb = "network loses"

    def nets_after(self, network, net):
        return network.lose(net)

    def encode(self, sym, pre, f, has, spent, tag):
        from ..smt.symbolic import AND, FALSE, Inst
        name = self.step_name(tag)
        out = []
        for j in range(len(sym.messages)):
            inst = Inst(f"{name} #{j}", ok=AND(has, sym.in_flight(pre, j)), budgets=dict(spent))
            inst.net = {j: FALSE if sym.mode == "set" else pre.net[j] - 1}
            out.append(inst)
        return out
