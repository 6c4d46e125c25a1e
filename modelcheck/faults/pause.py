"""`pause [Role] [at most K] for D`: an up node stops for 1..D ticks (a GC pause,
SIGSTOP, a VM migration): it takes no step and receives nothing meanwhile, and its
clock keeps running. Needs a `time` block."""
from __future__ import annotations

from ..lang import syntax as S
from ..engine.state import State, Step, Transition
from .base import FaultKind

MAX_PAUSE = 1000  # ticks: each length is a transition; time itself is at most 1000


class Pause(FaultKind):
    keyword = "pause"
    takes_role = True
    on_lane = True

    def check(self, checker, decl, info):
        if checker.time is None:
            checker.error("E213", "'pause' needs a time block", decl.span,
                          "a pause lasts some ticks: declare time { max M } (see docs/language.md, Time)")
        duration = checker.const_int(decl.duration, "a pause length")
        if duration is not None and not 1 <= duration <= MAX_PAUSE:
            checker.error("E206", f"a pause lasts at least 1 tick and at most {MAX_PAUSE}, not {S.int_text(duration)}",
                          decl.duration.span, "time itself is bounded by 'max' (at most 1000)")
            duration = None
        info.duration = duration

    def summary(self, f):
        return super().summary(f) + f" for {f.duration}"

    def successors(self, model, state, f, budgets):
        out = []
        now, offsets, paused = state.time
        for n in model.fault_members(f):
            if state.up[n] and not paused[n]:
                for d in range(1, f.duration + 1):
                    time = (now, offsets, paused[:n] + (d,) + paused[n + 1:])
                    out.append(Transition(Step(self.keyword, n, detail=d, span=f.span),
                                          State(state.nodes, state.up, state.net, state.cut, state.ghosts,
                                                budgets, time)))
        return out

    def packed(self, g, i, f, ind, b2):
        lines = []
        for n in g.members(f):
            key = f"(T, {n}, {int(f.duration)})"
            lines += ([f"{ind}if up[{n}] and not paused[{n}]:"]
                      + g.lookup(ind + "    ", "pts", "pause_memo", key, f"make_pause{key}")
                      + [f"{ind}    for t2 in pts:", f"{ind}        append({g.tup(T='t2', B=b2)})"])
        return lines

    def encode(self, sym, pre, f, has, spent, tag):
        from ..smt.symbolic import Unsupported
        raise Unsupported("a time block (bounded time, clocks, delivery bounds)", f.span)

    def footprint(self, fp, state, step):
        return -1, -1  # time steps depend on everything

    def headline(self, d, step):
        ticks = step.detail
        return (f"fault: {d.node(step.node)} pauses for {ticks} tick{'s' if ticks != 1 else ''} "
                "(GC, SIGSTOP: it takes no step and receives nothing)")

    def detail_json(self, d, step):
        return {"ticks": step.detail}

    def lane_word(self, step) -> str:
        return f"PAUSE for {step.detail} ticks"

    def box_title(self, step):
        return f"paused {step.detail} tick{'s' if step.detail != 1 else ''}"
