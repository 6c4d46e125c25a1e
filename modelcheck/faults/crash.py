"""`crash [Role] [at most K]`: an up node stops; its volatile variables are lost.

A crashed node takes no step and receives nothing until a `restart` line brings it
back; its `persistent` variables keep their values, the others return to their
initial values (Model._after_crash). A paused node that crashes is no longer paused.
"""
from __future__ import annotations

from ..engine.state import State, Step, Transition
from .base import FaultKind


class Crash(FaultKind):
    keyword = "crash"
    takes_role = True
    on_lane = True
    lane_mark = "x"

    def successors(self, model, state, f, budgets):
        out = []
        for n in model.fault_members(f):
            if state.up[n]:
                up = state.up[:n] + (False,) + state.up[n + 1:]
                nodes = state.nodes[:n] + (model._after_crash(state.nodes[n], n),) + state.nodes[n + 1:]
                time = state.time
                if time and time[2][n]:  # a crashed node is no longer paused
                    time = (time[0], time[1], time[2][:n] + (0,) + time[2][n + 1:])
                out.append(Transition(Step(self.keyword, n, span=f.span),
                                      State(nodes, up, state.net, state.cut, state.ghosts, budgets, time)))
        return out

    def packed(self, g, i, f, ind, b2):
        lines = []
        for n in g.members(f):
            crashed = {g.names[n]: "c", "UP": f"flip(UP, {n})", "B": b2,
                       "T": f"(unpause(T, {n}) if paused[{n}] else T)"}
            lines += ([f"{ind}if up[{n}]:"]
                      + g.lookup(ind + "    ", "c", "crash_memo", f"({n}, s{n})", f"make_crash({n}, s{n})")
                      + [f"{ind}    append({g.tup(**crashed)})"])
        return lines

    def encode(self, sym, pre, f, has, spent, tag):
        from ..smt.symbolic import AND, FALSE, Inst
        name = self.step_name(tag)
        c, out = sym.c, []
        for n in sym.fault_members(f):
            if not sym.can_crash[n]:
                continue
            role = c.node_roles[n]
            inst = Inst(f"{name} {c.node_names[n]}", ok=AND(has, pre.up[n]), budgets=dict(spent))
            inst.up[n] = FALSE
            for v in role.vars:
                if not v.persistent and pre.nodes[n][v.index] is not sym.init.nodes[n][v.index]:
                    inst.nodes[(n, v.index)] = sym.init.nodes[n][v.index]
            out.append(inst)
        return out

    def footprint(self, fp, state, step):
        return 1 << step.node, 0

    def headline(self, d, step):
        return f"fault: {d.node(step.node)} crashes"

    def box_title(self, step):
        return "crashes"
