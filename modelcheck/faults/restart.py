"""`restart [Role] [at most K]`: a crashed node comes back up and runs its role's
`on restart` body, if any (with its persistent variables as they were and the
others at their initial values)."""
from __future__ import annotations

from ..engine.state import State, Step, Transition
from .base import FaultKind


class Restart(FaultKind):
    keyword = "restart"
    takes_role = True
    on_lane = True
    lane_mark = "o"
    # What a restart body sends depends on the state: its footprint is not a
    # function of the step's key (engine/reduction.py caches the others).
    footprint_by_key = False

    def successors(self, model, state, f, budgets):
        out = []
        roles = model.checked.node_roles
        for n in model.fault_members(f):
            if not state.up[n]:
                up = state.up[:n] + (True,) + state.up[n + 1:]
                woke = State(state.nodes, up, state.net, state.cut, state.ghosts, budgets, state.time)
                body = model.restart[roles[n].name]
                if body is None:
                    out.append(Transition(Step(self.keyword, n, span=f.span), woke))
                else:
                    label = ("restart", None, (), None, f.span)
                    out.extend(model._execute(woke, n, None, body, {}, None, label, woke.net))
        return out

    def packed(self, g, i, f, ind, b2):
        lines = []
        roles = g.model.checked.node_roles
        for n in g.members(f):
            woke = g.tup(**{"UP": f"flip(UP, {n})", "B": b2})
            if g.model.restart[roles[n].name] is None:
                lines += [f"{ind}if not up[{n}]:", f"{ind}    append({woke})"]
            else:
                lines += [f"{ind}if not up[{n}]:", f"{ind}    restarted({woke}, {n}, append)"]
        return lines

    def encode(self, sym, pre, f, has, spent, tag):
        from ..smt.symbolic import AND, NOT, TRUE, Inst, _Exec
        name = self.step_name(tag)
        c, out = sym.c, []
        for n in sym.fault_members(f):
            if not sym.can_crash[n]:
                continue  # never down: restart is never enabled
            role = c.node_roles[n]
            body = role.decl.restart
            en = AND(has, NOT(pre.up[n]))
            if not body:
                inst = Inst(f"{name} {c.node_names[n]}", ok=en, budgets=dict(spent))
            else:
                x = _Exec(list(pre.nodes[n]), list(pre.ghosts), {}, n, None, en, [], [])
                x.tag = tag
                sym.run(body, x)
                inst = sym._finish(pre, n, x, {}, f"{name} {c.node_names[n]}")
                inst.budgets = dict(spent)
            inst.up[n] = TRUE
            out.append(inst)
        return out

    def footprint(self, fp, state, step):
        # the restart body is not analysed: it may read anything
        writes = (1 << step.node) | fp.ghost_bit
        for m in step.sent:
            writes |= fp.message_bit(m)
        return writes, fp.all_nodes

    def headline(self, d, step):
        return f"fault: {d.node(step.node)} restarts"

    def box_title(self, step):
        return "restarts"
